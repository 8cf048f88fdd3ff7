import { InvalidArgumentError } from 'commander';
import { parseChannel, type ChannelRef } from '../domain/index.js';

// Option parsers: a bad value is bad usage (exit 2), reported by commander with the option's name.

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

export function isoWeekArg(value: string): string {
  if (!/^\d{4}-W\d{2}$/.test(value)) throw new InvalidArgumentError('expected an ISO week such as 2026-W48');
  return value;
}

export function oneOf(...allowed: string[]): (value: string) => string {
  return (value) => {
    if (!allowed.includes(value)) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}`);
    return value;
  };
}

export function channelList(value: string, previous: ChannelRef[] = []): ChannelRef[] {
  try {
    return [...previous, parseChannel(value)];
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** An export:<recipient> channel; other kinds are bad usage. */
export function exportChannel(value: string): ChannelRef {
  let channel: ChannelRef;
  try {
    channel = parseChannel(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  if (channel.kind !== 'export') throw new InvalidArgumentError('a file for a recipient goes to an export:<recipient> channel');
  return channel;
}

/** --map column=field, repeatable. */
export function columnMap(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq < 1) throw new InvalidArgumentError('write --map column=field, e.g. --map 联系电话=mother.phone');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** An IANA time zone this Node knows. */
export function timeZoneArg(value: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
  } catch {
    throw new InvalidArgumentError(`unknown time zone "${value}" (write an IANA name such as Asia/Shanghai, or UTC)`);
  }
  return value;
}
