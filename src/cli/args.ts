import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { logEncodingArg } from '../accesslog/encoding.js';
import { parseChannel, type ChannelRef } from '../domain/index.js';
import { isTimeZone } from '../lib/zone-name.js';
import { ACCESS_FIELDS, type AccessField } from '../domain/access.js';
import { CDR_FIELDS, parseCdrMap } from '../ingest/cdr-map.js';
import { errorMessage } from '../lib/errors.js';
import { FIELDS } from '../targetdb/fields.js';

// Option parsers: each turns the text into the option's typed value. A bad value is bad usage
// (exit 2), reported by commander with the option's name and the parser's reason.
// They load nothing heavy: every command's definition (and so --help) loads this file. A reading
// that needs a heavy module (date-fns) runs just before the action instead: readBeforeAction.

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

/** A whole number of at least 0. */
export function wholeNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number of at least 0');
  return n;
}

/** Trap numbers a canary holds: from 1 to 2 (the mother's, and the father's). */
export function numbersPerCanaryArg(value: string): number {
  const n = Number(value);
  if (!/^\s*\d*\.?\d+\s*$/.test(value) || !(n >= 1 && n <= 2)) throw new InvalidArgumentError('expected a number from 1 to 2, such as 1.7');
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

// --map, on export, watermark, logs import and ingest cdr alike: field=column pairs ("this field is
// in that column": ts=event_time, mother.phone=联系电话), comma-separated, and repeatable. The field
// comes first because the fields are the command's fixed vocabulary and each is mapped once.
// export and watermark used to take column=field: a pair whose right side is a field name and left
// side is not is read that way, with a warning; a pair whose sides are both field names is refused.

/** One --map pair, read: `reversed` when it was written column=field, the old order. */
export interface MapPair {
  field: string;
  column: string;
  reversed: boolean;
}

/** The pairs of one --map value, given the command's field names; throws on a pair it cannot read. */
export function parseMapPairs(text: string, fields: readonly string[], example: string): MapPair[] {
  const parts = text.split(',').map((p) => p.trim());
  if (!parts.some(Boolean)) throw new InvalidArgumentError(`--map is empty; write field=column pairs, e.g. ${example}`);
  const known = (name: string) => fields.includes(name);
  return parts.map((part) => {
    if (!part) throw new InvalidArgumentError(`--map "${text}" has an empty pair; separate field=column pairs with single commas`);
    const eq = part.indexOf('=');
    const left = part.slice(0, Math.max(eq, 0)).trim();
    const right = part.slice(eq + 1).trim();
    if (eq < 1 || !left || !right) throw new InvalidArgumentError(`"${part}": write field=column, e.g. ${example}`);
    if (known(left) && (left === right || !known(right))) return { field: left, column: right, reversed: false };
    if (known(right) && !known(left)) return { field: right, column: left, reversed: true };
    if (known(left)) {
      throw new InvalidArgumentError(`"${part}": ${left} and ${right} are both field names, so which one is the column is unclear (--map is field=column; export and watermark used to take column=field)`);
    }
    throw new InvalidArgumentError(`"${part}": "${left}" is not a field (write field=column; fields: ${fields.join(', ')})`);
  });
}

/** Pairs as field → column, after those of earlier --map options; a field mapped twice is refused; old-order pairs warned about on stderr. */
function mapOption(value: string, previous: Readonly<Record<string, string | undefined>>, fields: readonly string[], example: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const [field, column] of Object.entries(previous)) if (column !== undefined) map[field] = column;
  for (const pair of parseMapPairs(value, fields, example)) {
    if (map[pair.field] !== undefined) throw new InvalidArgumentError(`"${pair.reversed ? `${pair.column}=${pair.field}` : `${pair.field}=${pair.column}`}": ${pair.field} is mapped twice`);
    if (pair.reversed) {
      process.stderr.write(`cradle: warning: --map ${pair.column}=${pair.field} is the old column=field order; write --map ${pair.field}=${pair.column}\n`);
    }
    map[pair.field] = pair.column;
  }
  return map;
}

/** `cradle export|watermark --map mother.phone=联系电话`: family field → the file's column. */
export function familyMap(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const map = mapOption(value, previous, Object.keys(FIELDS), 'mother.phone=联系电话');
  const columns = Object.values(map);
  const twice = columns.find((c, i) => columns.indexOf(c) !== i);
  if (twice !== undefined) throw new InvalidArgumentError(`column "${twice}" is given two fields; a column holds one`);
  return map;
}

/** A field → column map turned round, column → field, as the export and watermark code takes it. */
export function columnFields(map: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(map ?? {}).map(([field, column]) => [column, field]));
}

/** `cradle ingest cdr --map src=Caller,dst=Called,…`: the CDR fields' columns (src, dst and start checked by checkCdrMap). */
export function cdrMap(value: string, previous: Record<string, string> = {}): Record<string, string> {
  return mapOption(value, previous, CDR_FIELDS, 'src=Caller');
}

/** The whole CDR map, typed, once every --map is read: src, dst and start required. */
export function checkCdrMap(map: Record<string, string>): ReturnType<typeof parseCdrMap> {
  return reasonOf(() => parseCdrMap(Object.entries(map).map(([f, c]) => `${f}=${c}`).join(',')));
}

/** `cradle logs import --map ts=event_time,…`: the access-log fields' columns or keys. */
export function accessMap(value: string, previous: Partial<Record<AccessField, string>> = {}): Partial<Record<AccessField, string>> {
  // mapOption has checked every name against ACCESS_FIELDS.
  return mapOption(value, previous, ACCESS_FIELDS, 'ts=event_time') as Partial<Record<AccessField, string>>;
}

/** An access log's text encoding: utf-8, gb18030 (gbk), utf-16le, utf-16be, or another iconv-lite knows. */
export function encodingArg(value: string): string {
  return reasonOf(() => logEncodingArg(value));
}

/**
 * The option `name` of `cmd` (its attribute name, e.g. timeFormat), read by `read` just before the
 * action, when the modules `read` needs are loaded; a bad value is reported as commander reports one
 * (exit 2). Its parser, if any, keeps the text as given.
 */
export function readBeforeAction<T>(cmd: Command, name: string, read: (text: string) => Promise<T>): Command {
  return cmd.hook('preAction', async () => {
    const text: unknown = cmd.getOptionValue(name);
    if (typeof text !== 'string') return;
    try {
      cmd.setOptionValue(name, await read(text));
    } catch (err) {
      const flags = cmd.options.find((o) => o.attributeName() === name)?.flags ?? name;
      cmd.error(`error: option '${flags}' argument '${text}' is invalid. ${errorMessage(err)}`, { code: 'commander.invalidArgument' });
    }
  });
}

/** A date-fns pattern that can read timestamps, e.g. dd/MM/yyyy HH:mm:ss (for readBeforeAction). */
export async function timeFormatArg(value: string): Promise<string> {
  const { checkTimeFormat } = await import('../accesslog/time.js');
  checkTimeFormat(value);
  return value;
}

/** Action words: 查看=view,打印=print,列表=list (for readBeforeAction). */
export async function actionsArg(value: string): Promise<Record<string, string>> {
  const { parseActionsOption } = await import('../accesslog/fields.js');
  return parseActionsOption(value);
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
  if (!isTimeZone(value)) throw new InvalidArgumentError(`unknown time zone "${value}" (write an IANA name such as Asia/Shanghai, or UTC)`);
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
