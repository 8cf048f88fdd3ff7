import { tz, TZDate } from '@date-fns/tz';
import { format as formatDate } from 'date-fns/format';
import { parse as parseDate } from 'date-fns/parse';
import { UserError } from '../lib/errors.js';
import { isTimeZone } from '../lib/zone-name.js';

// Timestamps as access logs write them. A time with Z or an offset is that instant; a wall-clock time
// without one is read in the hospital's zone (TZDate applies that zone's DST rules on that date);
// 10 or 13 digits are epoch seconds or milliseconds. The forms hospital systems write are detected per
// value: 2026-12-01 07:00:06(.123), 2026/12/01 07:00:06, 2026.12.01 07:00, 2026年12月1日 07时00分(06秒).
// Anything else is refused rather than guessed, unless --time-format (a date-fns pattern) says how to read it.

/** Year first, - / or . between the date's parts (the same one twice), month and day of one or two digits. */
const ISO = /^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** 2026年12月1日 07时00分, with 06秒, or with 07:00:06 after the date; 時 and 点 for 时. */
const CJK = /^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*(\d{1,2})\s*[时時点點:]\s*(\d{1,2})\s*(?:分|:)?\s*(?:(\d{1,2})\s*秒?)?$/;

/** What accepted timestamps look like, for reject reasons. */
export const TIMESTAMP_HINT = 'write ISO 8601, YYYY-MM-DD or YYYY/MM/DD HH:MM[:SS] or YYYY年M月D日 HH时MM分[SS秒] local time, or epoch seconds/milliseconds; or give --time-format';

/** Throws a UserError unless the zone is an IANA zone this Node knows. */
export function checkTimeZone(timeZone: string): void {
  if (!isTimeZone(timeZone)) throw new UserError(`"${timeZone}" is not an IANA time zone (e.g. Asia/Shanghai, America/New_York, UTC)`);
}

/** Instants the vault stores: PostgreSQL has no year 0, and a JavaScript date prints years past 9999 with a sign. */
const EARLIEST_MS = Date.parse('0001-01-01T00:00:00Z');
const LATEST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** The instant a log timestamp names (between the years 1 and 9999 UTC), or null when it is not one. */
export function parseTimestamp(text: string, timeZone: string): Date | null {
  const at = instantOf(text, timeZone);
  return at && at.getTime() >= EARLIEST_MS && at.getTime() <= LATEST_MS ? at : null;
}

/** Date.UTC, with years 0–99 as themselves (Date.UTC takes them as 1900–1999). */
function utc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  if (y >= 100) return Date.UTC(y, mo, d, h, mi, s, ms);
  return new Date(Date.UTC(2000, 0, 1, h, mi, s, ms)).setUTCFullYear(y, mo, d);
}

function instantOf(text: string, timeZone: string): Date | null {
  const t = text.trim();
  if (/^\d{10}$/.test(t)) return new Date(Number(t) * 1000);
  if (/^\d{13}$/.test(t)) return new Date(Number(t));
  if (/^\d{10}\.\d{1,6}$/.test(t)) return new Date(Math.floor(Number(t) * 1000));
  const m = ISO.exec(t);
  if (m) {
    const [y, mo, d, h, mi, s] = [1, 3, 4, 5, 6, 7].map((i) => Number(m[i] ?? 0));
    const ms = m[8] ? Math.floor(Number(`0.${m[8]}`) * 1000) : 0;
    if (!validParts(y, mo, d, h, mi, s)) return null;
    return m[9] ? withOffset([y, mo, d, h, mi, s, ms], m[9]) : inZone([y, mo, d, h, mi, s, ms], timeZone);
  }
  const c = CJK.exec(t);
  if (!c) return null;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(c[i] ?? 0));
  return validParts(y, mo, d, h, mi, s) ? inZone([y, mo, d, h, mi, s, 0], timeZone) : null;
}

/** The log's forms of a timestamp, named for messages; the forms detected by default. */
export type TimeForm = 'iso' | 'slash' | 'dot' | 'cjk' | 'epoch-s' | 'epoch-ms';

/** Which detected form a timestamp is written in (null: none), for tests and messages. */
export function timeFormOf(text: string): TimeForm | null {
  const t = text.trim();
  if (/^\d{10}(\.\d{1,6})?$/.test(t)) return 'epoch-s';
  if (/^\d{13}$/.test(t)) return 'epoch-ms';
  const m = ISO.exec(t);
  if (m) return m[2] === '/' ? 'slash' : m[2] === '.' ? 'dot' : 'iso';
  return CJK.test(t) ? 'cjk' : null;
}

/** Throws a UserError unless the date-fns pattern can both write and read a time. */
export function checkTimeFormat(pattern: string): void {
  // date-fns reads Y as the week-numbering year and D as the day of the year (and warns on the console): refused here.
  if (/[YD]/.test(pattern.replace(/'[^']*'/g, ''))) {
    throw new UserError(`--time-format ${JSON.stringify(pattern)}: in date-fns patterns Y is the week-numbering year and D the day of the year; write yyyy for the year and dd for the day, e.g. yyyy-MM-dd HH:mm:ss`);
  }
  try {
    const sample = new Date(Date.UTC(2026, 11, 1, 7, 0, 6));
    const back = parseDate(formatDate(sample, pattern), pattern, new Date(0));
    if (Number.isNaN(back.getTime())) throw new RangeError('it does not read back what it writes');
  } catch (err) {
    throw new UserError(`--time-format ${JSON.stringify(pattern)}: not a date-fns pattern this can read (${err instanceof Error ? err.message.split('\n')[0].slice(0, 160) : String(err)}); e.g. dd/MM/yyyy HH:mm:ss, see https://date-fns.org/docs/parse`);
  }
}

/**
 * How a log's timestamps are read: with a date-fns pattern first (wall-clock time in the zone unless
 * the pattern has an offset), then as parseTimestamp reads them.
 */
export function timeReader(timeZone: string, timeFormat?: string): (text: string) => Date | null {
  if (!timeFormat) return (text) => parseTimestamp(text, timeZone);
  const reference = new TZDate(2000, 0, 1, timeZone);
  const context = { in: tz(timeZone) };
  return (text) => {
    const ms = parseDate(text.trim(), timeFormat, reference, context).getTime();
    if (ms >= EARLIEST_MS && ms <= LATEST_MS) return new Date(ms);
    return parseTimestamp(text, timeZone);
  };
}

/** Offset in minutes east of UTC for Z, +08, +0800, +08:00; null when out of range. */
export function offsetMinutes(offset: string): number | null {
  if (/^z$/i.test(offset)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(offset);
  if (!m) return null;
  const [hours, minutes] = [Number(m[2]), Number(m[3] ?? 0)];
  if (hours > 23 || minutes > 59) return null;
  return (m[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

type Parts = [number, number, number, number, number, number, number];

function validParts(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  // 31 February would roll over into March: refuse it.
  return new Date(utc(y, mo - 1, d)).getUTCDate() === d;
}

function withOffset([y, mo, d, h, mi, s, ms]: Parts, offset: string): Date | null {
  const minutes = offsetMinutes(offset);
  if (minutes === null) return null;
  return new Date(utc(y, mo - 1, d, h, mi, s, ms) - minutes * 60_000);
}

/**
 * Zone offsets by wall-clock hour, or by minute in an hour with a transition: TZDate costs ~7 µs, and a
 * log's timestamps share few hours. Offsets change only on a minute boundary, at most once an hour.
 */
const offsets = new Map<string, number | Map<number, number>>();
const MAX_CACHED_OFFSETS = 10_000;

const zoneOffset = (y: number, mo: number, d: number, h: number, mi: number, timeZone: string) =>
  new TZDate(y, mo - 1, d, h, mi, 0, 0, timeZone).getTime() - Date.UTC(y, mo - 1, d, h, mi);

function inZone([y, mo, d, h, mi, s, ms]: Parts, timeZone: string): Date | null {
  const key = `${timeZone} ${y}-${mo}-${d} ${h}`;
  let hour = offsets.get(key);
  if (hour === undefined) {
    const [first, last] = [zoneOffset(y, mo, d, h, 0, timeZone), zoneOffset(y, mo, d, h, 59, timeZone)];
    if (offsets.size >= MAX_CACHED_OFFSETS) offsets.clear();
    offsets.set(key, (hour = first === last ? first : new Map()));
  }
  let offset: number | undefined;
  if (typeof hour === 'number') offset = hour;
  else if ((offset = hour.get(mi)) === undefined) hour.set(mi, (offset = zoneOffset(y, mo, d, h, mi, timeZone)));
  if (Number.isNaN(offset)) return null;
  return new Date(utc(y, mo - 1, d, h, mi, s, ms) + offset);
}

const PG_LOG_TIME = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?) ([A-Za-z]+|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * A csvlog log_time: "2026-11-03 08:15:02.123 UTC", "… +08", "… -0330". PostgreSQL prints log_timezone's
 * abbreviation, which is ambiguous in general (CST is China and Central US), so only UTC/GMT and numeric
 * offsets are trusted; any other abbreviation is read as wall-clock time in the hospital's zone.
 */
export function parsePgLogTime(text: string, timeZone: string): Date | null {
  const m = PG_LOG_TIME.exec(text.trim());
  if (!m) return null;
  const zone = m[2].toUpperCase();
  if (zone === 'UTC' || zone === 'GMT' || zone === 'UCT' || zone === 'Z') return parseTimestamp(`${m[1]}Z`, timeZone);
  if (/^[+-]/.test(zone)) return parseTimestamp(`${m[1]}${zone}`, timeZone);
  return parseTimestamp(m[1], timeZone);
}
