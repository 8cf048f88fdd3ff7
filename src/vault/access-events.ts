import type { AccessRow } from '../domain/access.js';

// The stored form of an access event, written and read here only (sql/vault/008_access_blocks.sql
// unpacks it in SQL for the access_events view). An event is its fields joined by U+001F: epoch ms,
// account, action, scope, records (joined by U+001E), system, ip; a block holds one event a line as
// "line U+001F event". The text is also the event's identity: the same event in two files has the same
// text, so it is stored once. Written two ways, the same bytes either way: as a string (eventText, for
// rows of the general reader) and straight into a buffer from byte ranges of the log (writeEventBytes,
// for the CSV fast path, which makes no strings of its fields).

const FIELD = '\x1f';
const UNIT = '\x1e';
const FIELD_BYTE = 0x1f;
const UNIT_BYTE = 0x1e;
// eslint-disable-next-line no-control-regex -- control characters are what these look for
const CONTROL = /[\x00-\x1f]/;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x1f]/g;

/** A field with its control characters as spaces, as blocks store it (a U+001F or newline would split the block). */
export const cleaned = (v: string) => (CONTROL.test(v) ? v.replace(CONTROLS, ' ') : v);

/**
 * An event as a block stores it, without its line number. `clean`: replace control characters inside
 * fields; a caller that checked the whole line for them passes false.
 */
export function eventText(atMs: number, account: string, action: string, scope: 'single' | 'bulk', records: readonly string[], system: string | null, ip: string | null, clean = true): string {
  if (clean) {
    account = cleaned(account);
    action = cleaned(action);
    records = records.map(cleaned);
    system = system === null ? null : cleaned(system);
    ip = ip === null ? null : cleaned(ip);
  }
  const list = records.length === 1 ? records[0] : records.join(UNIT);
  return atMs + FIELD + account + FIELD + action + FIELD + scope + FIELD + list + FIELD + (system ?? '') + FIELD + (ip ?? '');
}

export function accessRowText(row: AccessRow): string {
  return eventText(row.at.getTime(), row.account, row.action, row.scope, row.records, row.system, row.ip);
}

/** The time of an event text (its first field). */
export const eventTextTime = (text: string) => Number(text.slice(0, text.indexOf(FIELD)));

/** The events of a block's text (its "line U+001F event" lines), without their line numbers. */
export function blockEventTexts(events: string): string[] {
  return events.split('\n').map((line) => line.slice(line.indexOf(FIELD) + 1));
}

/** Write a block line's start, its line number and the separator before the event; the offset after it. */
export function writeBlockLineStart(buf: Buffer, at: number, line: number): number {
  const end = writeDigits(buf, at, line);
  buf[end] = FIELD_BYTE;
  return end + 1;
}

/**
 * An event as byte ranges [start, end) of `src`, the fields already trimmed and free of control
 * characters and quotes (the CSV fast path reads only such lines so); action and scope as text.
 * One object, refilled for each line: no garbage per event.
 */
export interface EventRanges {
  src: Buffer;
  atMs: number;
  accountStart: number;
  accountEnd: number;
  /** Lower case ASCII. */
  action: string;
  scope: 'single' | 'bulk';
  /** Distinct record keys, in order: keys of them. */
  keys: number;
  keyStart: Int32Array;
  keyEnd: Int32Array;
  systemStart: number;
  systemEnd: number;
  ipStart: number;
  ipEnd: number;
}

/** Bytes writeEventBytes may write beyond the line's own bytes: the time's digits and the separators. */
export const EVENT_BYTES_EXTRA = 64;

/** Write the event as eventText would write it, at `o` (room for the line's bytes and EVENT_BYTES_EXTRA); the offset after it. */
export function writeEventBytes(out: Buffer, o: number, e: EventRanges): number {
  const src = e.src;
  o = writeDigits(out, o, e.atMs);
  out[o++] = FIELD_BYTE;
  o = copyBytes(src, e.accountStart, e.accountEnd, out, o);
  out[o++] = FIELD_BYTE;
  o = writeAscii(e.action, out, o);
  out[o++] = FIELD_BYTE;
  o = writeAscii(e.scope, out, o);
  out[o++] = FIELD_BYTE;
  for (let k = 0; k < e.keys; k++) {
    if (k) out[o++] = UNIT_BYTE;
    o = copyBytes(src, e.keyStart[k], e.keyEnd[k], out, o);
  }
  out[o++] = FIELD_BYTE;
  o = copyBytes(src, e.systemStart, e.systemEnd, out, o);
  out[o++] = FIELD_BYTE;
  return copyBytes(src, e.ipStart, e.ipEnd, out, o);
}

/** A byte loop: for a field of a few bytes it is faster than Buffer.copy's call into C++. */
function copyBytes(src: Buffer, a: number, b: number, out: Buffer, o: number): number {
  while (a < b) out[o++] = src[a++];
  return o;
}

function writeAscii(text: string, out: Buffer, o: number): number {
  for (let i = 0; i < text.length; i++) out[o++] = text.charCodeAt(i);
  return o;
}

/** Write an integer's decimal digits at `at` (a minus first when negative: times before 1970); the offset after them. */
export function writeDigits(buf: Buffer, at: number, n: number): number {
  if (n < 0) {
    buf[at] = 0x2d;
    return writeDigits(buf, at + 1, -n);
  }
  // Epoch milliseconds pass 2^31: written as two parts of int32 arithmetic, which is much faster.
  if (n >= 1e9) {
    const high = Math.floor(n / 1e9);
    at = writeDigits(buf, at, high);
    let low = n - high * 1e9;
    for (let i = at + 8; i >= at; i--) {
      const q = (low / 10) | 0;
      buf[i] = 48 + low - q * 10;
      low = q;
    }
    return at + 9;
  }
  let digits = 1;
  for (let m = n | 0; m >= 10; m = (m / 10) | 0) digits++;
  for (let i = at + digits - 1, m = n | 0; i >= at; i--) {
    const q = (m / 10) | 0;
    buf[i] = 48 + m - q * 10;
    m = q;
  }
  return at + digits;
}
