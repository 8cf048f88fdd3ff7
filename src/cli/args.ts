import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { checkTimeFormat, logEncodingArg, parseActionsOption, parseMapOption } from '../accesslog/parse.js';
import { parseChannel, type ChannelRef } from '../domain/index.js';
import type { AccessField } from '../domain/access.js';
import { parseCdrMap } from '../ingest/index.js';
import { errorMessage } from '../lib/errors.js';

// Option parsers: each turns the text into the option's typed value. A bad value is bad usage
// (exit 2), reported by commander with the option's name and the parser's reason.

/** Runs `parse`, its error becoming the bad value's reason. */
function reasonOf<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new InvalidArgumentError(errorMessage(err));
  }
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

/** The k of a hospital profile: a whole number of at least 2 (k = 1 would keep single patients' values). */
export function kArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 2) {
    throw new InvalidArgumentError("expected a whole number of at least 2: a value is kept only when k real families share it, and k = 1 would keep single patients' values");
  }
  return n;
}

/** A TCP port; 0 asks for any free one. */
export function portArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65535) throw new InvalidArgumentError('expected a port number, 0 to 65535');
  return n;
}

export function isoWeekArg(value: string): string {
  if (!/^\d{4}-W\d{2}$/.test(value)) throw new InvalidArgumentError('expected an ISO week such as 2026-W48');
  return value;
}

/** A calendar day written yyyy-mm-dd. */
export function dateArg(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) throw new InvalidArgumentError('expected a date such as 2026-11-01');
  return value;
}

/** A moment written in ISO 8601 with its offset: 2026-12-07T08:00:00+08:00 or 2026-12-07T00:00:00Z. */
export function instantArg(value: string): Date {
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(t)) {
    throw new InvalidArgumentError('expected a time with its offset, such as 2026-12-07T08:00:00+08:00');
  }
  return new Date(t);
}

/** One of the `allowed` words, typed as their union. */
export function oneOf<T extends string>(...allowed: readonly T[]): (value: string) => T {
  return (value) => {
    const found = allowed.find((a) => a === value);
    if (found === undefined) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}`);
    return found;
  };
}

/** A repeatable option's values, in order. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function channelList(value: string, previous: ChannelRef[] = []): ChannelRef[] {
  return [...previous, reasonOf(() => parseChannel(value))];
}

/** An export:<recipient> channel; other kinds are bad usage. */
export function exportChannel(value: string): ChannelRef {
  const channel = reasonOf(() => parseChannel(value));
  if (channel.kind !== 'export') throw new InvalidArgumentError('a file for a recipient goes to an export:<recipient> channel');
  return channel;
}

/** --map column=field, repeatable. */
export function columnMap(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq < 1) throw new InvalidArgumentError('write --map column=field, e.g. --map 联系电话=mother.phone');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** `cradle ingest cdr --map src=Caller,dst=Called,…`: the CDR fields' columns. */
export function cdrMap(value: string): Record<string, string> {
  return reasonOf(() => parseCdrMap(value));
}

/** `cradle logs import --map ts=event_time,…`: the access-log fields' columns or keys. */
export function accessMap(value: string): Partial<Record<AccessField, string>> {
  return reasonOf(() => parseMapOption(value));
}

/** An access log's text encoding: utf-8, gb18030 (gbk), utf-16le, utf-16be, or another iconv-lite knows. */
export function encodingArg(value: string): string {
  return reasonOf(() => logEncodingArg(value));
}

/** A date-fns pattern that can read timestamps, e.g. dd/MM/yyyy HH:mm:ss. */
export function timeFormatArg(value: string): string {
  return reasonOf(() => {
    checkTimeFormat(value);
    return value;
  });
}

/** Action words: 查看=view,打印=print,列表=list. */
export function actionsArg(value: string): Record<string, string> {
  return reasonOf(() => parseActionsOption(value));
}

/** A share from 0 to 1, such as 0.1. */
export function shareArg(value: string): number {
  const n = Number(value);
  if (!/^\s*\d*\.?\d+\s*$/.test(value) || !(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a share from 0 to 1, such as 0.1 (a tenth of the lines)');
  return n;
}

/** A two-letter country code, upper-cased. */
export function regionArg(value: string): string {
  if (!/^[A-Za-z]{2}$/.test(value)) throw new InvalidArgumentError('expected a two-letter country code such as CN');
  return value.toUpperCase();
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

/**
 * The format of a report written to `out`, when --format is not given: the file's extension (htm
 * and markdown as html and md), else HTML for a file and JSON for standard output.
 */
export function reportFormatOf<T extends string>(formats: readonly T[], out: string | undefined): T {
  const ext = out ? path.extname(out).slice(1).toLowerCase() : '';
  const named = ext === 'htm' ? 'html' : ext === 'markdown' ? 'md' : ext;
  const format = formats.find((f) => f === named) ?? formats.find((f) => f === (out ? 'html' : 'json'));
  if (format === undefined) throw new Error(`report formats lack ${out ? 'html' : 'json'}`);
  return format;
}

/** An ROC AUC threshold, a number from 0.5 to 1. */
export function aucArg(value: string): number {
  const n = Number(value);
  if (!/^\d*\.?\d+$/.test(value.trim()) || !(n >= 0.5 && n <= 1)) throw new InvalidArgumentError('expected an ROC AUC between 0.5 and 1, such as 0.6');
  return n;
}

/** A whole number, 0 allowed. */
export function countArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number, 0 or more');
  return n;
}
