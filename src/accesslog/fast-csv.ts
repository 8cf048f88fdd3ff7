import fs from 'node:fs';
import * as vault from '../vault/index.js';
import type { AccessField, AccessScope, ParseOptions } from '../domain/access.js';
import { addParsed, type Batch } from './batch.js';
import { classifyAction, convert, reject, rowReading } from './fields.js';
import type { FileDigest } from './file-digest.js';
import { csvRow, splitCsv, type CsvHeader } from './formats/csv.js';
import { MAX_LINE_CHARS, MAX_REJECT_TEXT, TOO_LONG_REASON } from './lines.js';

// The fast path of a CSV import: a UTF-8 log without a quote or a lone CR read line by line from its
// bytes, without the general reader's strings and objects. A printable ASCII line of the header's width
// with ts, user and action present and a timestamp that parses (nearly every line of a real log) is
// written into the block from its bytes (src/vault/access-events.ts writeEventBytes). Every other line
// (a reject, a name in another script, a tab) goes to the general reader's validator (formats/csv.ts
// csvRow), so the two readers store the same events and the same rejects
// (test/accesslog/fast-path-equal.test.ts holds them to it).

/** Whether a log can be read on the fast path: a UTF-8 CSV log without quotes or lone CRs, its header on line 1. */
export function fastCsvFits(format: string, digest: FileDigest, encoding: string, header: CsvHeader | null): header is CsvHeader {
  return format === 'csv' && encoding === 'utf-8' && !digest.quoted && !digest.loneCr && header !== null && header.line === 1;
}

/** Hashes used as Map and Set keys are cut to 30 bits: a small integer, not a number object per lookup. */
const SMI = 0x3fffffff;

/**
 * Bits of a record key's hash in the canaries' bit table: about 128 bits per canary (a key that is not a
 * canary's is looked up by its text once in 128), from 8 KB to 2 MB. Sized to the canaries, the table stays
 * in the processor's cache: a 2 MB table cost a cache miss per key read, a tenth of the byte path.
 */
function canaryBitCount(canaries: number): number {
  return Math.min(24, Math.max(16, Math.ceil(Math.log2(Math.max(canaries, 1) * 128))));
}

/** What a byte of a line is to the byte path: 0 printable ASCII, COMMA, or OTHER (a control, a quote, non-ASCII: the general reader's). */
const COMMA = 1;
const OTHER = 2;
const BYTE_KIND = new Uint8Array(256).map((_, c) => (c === 0x2c ? COMMA : c < 0x20 || c > 0x7e || c === 0x22 ? OTHER : 0));

/** FNV-1a of bytes [start, end), cut to SMI: the key of an action's or a record key's bytes. */
export function byteHash(data: Buffer, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ data[i], 0x01000193);
  return hash & SMI;
}

/** The UTF-16 length of UTF-8 bytes (a 4-byte character is two units), without decoding them. */
function utf16Units(data: Buffer, start: number, end: number): number {
  let units = 0;
  for (let i = start; i < end; i++) {
    const b = data[i];
    if ((b & 0xc0) !== 0x80) units += b >= 0xf0 ? 2 : 1;
  }
  return units;
}

/** The start of a too-long line as the general reader keeps it: its first MAX_REJECT_TEXT characters. */
function tooLongStart(data: Buffer, from: number): string {
  return data.toString('utf8', from, from + 4 * MAX_REJECT_TEXT).slice(0, MAX_REJECT_TEXT);
}

export interface FastCsvSink {
  /** The batch lines go into now (a new one after each flush). */
  batch(): Batch;
  /** After each line (header and skipped lines not counted): a promise when the caller must be waited for (a flush). */
  lineDone(line: number): Promise<void> | void;
  /** Bytes read from the file, for progress. */
  read(bytes: number): void;
}

/** Read the log's lines after `skipTo` (a resumed import's committed lines) into the sink's batches. */
export async function readFastCsv(file: string, header: CsvHeader, options: ParseOptions, canaryOf: ReadonlyMap<string, string>, skipTo: number, sink: FastCsvSink): Promise<void> {
  const reader = fastCsvLineReader(header, options, canaryOf);
  let line = 0;
  let data = Buffer.allocUnsafe(1 << 20);
  let carried = 0;
  // A line over MAX_LINE_CHARS is a reject, as in the general reader: its start is kept, the rest
  // dropped as read. Its length is counted in UTF-16 code units, as the general reader counts it,
  // and only once it has more bytes than the limit (never fewer units than bytes before that).
  let skipping: string | null = null;
  let counted = 0;
  let countedUnits = 0;
  const tooLong = (line: number, start: string) => addParsed(sink.batch(), reject(line, TOO_LONG_REASON, start), canaryOf);
  const handle = await fs.promises.open(file, 'r');
  try {
    for (;;) {
      const { bytesRead } = await handle.read(data, carried, data.length - carried, null);
      if (bytesRead === 0) break;
      sink.read(bytesRead);
      const length = carried + bytesRead;
      let from = 0;
      for (let nl = data.indexOf(0x0a, from); nl >= 0 && nl < length; nl = data.indexOf(0x0a, from)) {
        line++;
        if (line > 1 && line > skipTo) {
          const end = nl > from && data[nl - 1] === 0x0d ? nl - 1 : nl;
          // Only the line carried over from earlier reads (from 0) has units counted already.
          if (skipping === null && end - from > MAX_LINE_CHARS && (from === 0 ? countedUnits + utf16Units(data, counted, end) : utf16Units(data, from, end)) > MAX_LINE_CHARS) {
            skipping = tooLongStart(data, from);
          }
          if (skipping !== null) tooLong(line, skipping);
          else reader(data, from, end, line, sink.batch());
          const waiting = sink.lineDone(line);
          if (waiting) await waiting;
        }
        skipping = null;
        from = nl + 1;
      }
      // The last line's start moves to the front; a line longer than the buffer grows it.
      carried = length - from;
      if (from > 0) counted = countedUnits = 0;
      if (skipping !== null) carried = 0;
      else if (carried > MAX_LINE_CHARS) {
        countedUnits += utf16Units(data, from + counted, length);
        counted = carried;
        if (countedUnits > MAX_LINE_CHARS) {
          skipping = tooLongStart(data, from);
          carried = counted = countedUnits = 0;
        }
      }
      if (carried === data.length) {
        const grown = Buffer.allocUnsafe(data.length * 2);
        data.copy(grown, 0, 0, carried);
        data = grown;
      } else data.copy(data, 0, from, length);
    }
  } finally {
    await handle.close();
  }
  if (skipping !== null && ++line > 1 && line > skipTo) {
    tooLong(line, skipping);
    await sink.lineDone(line);
  } else if (carried && ++line > 1 && line > skipTo) {
    reader(data, 0, data[carried - 1] === 0x0d ? carried - 1 : carried, line, sink.batch());
    await sink.lineDone(line);
  }
}

type LineReader = (data: Buffer, start: number, end: number, line: number, batch: Batch) => void;

/** A reader of one line's bytes [start, end) (its line end left out) into a batch: an event or a reject. */
export function fastCsvLineReader(header: CsvHeader, options: ParseOptions, canaryOf: ReadonlyMap<string, string>): LineReader {
  const index: Record<AccessField, number> = header.index;
  const width = header.width;
  const reading = rowReading(options);
  // The byte path keeps the instant of the last minute read, and of the last hour whose minutes are all
  // 60 s apart (no change of the zone's offset in it, all of it between the years 1 and 9999): only other
  // hours are parsed (not with --time-format, whose pattern may put the minute anywhere). A log has a new
  // minute every few rows; parsing each cost ~3 µs and its strings.
  const timeOf = (ts: string) => reading.time(ts)?.getTime() ?? null;
  const minutes = !options.timeFormat;

  /** A line the byte path does not store itself, read as the general reader reads it. */
  const readText = (text: string, line: number, batch: Batch): void => {
    if (!text.trim()) return;
    addParsed(batch, convert(line, text, () => csvRow(splitCsv(text, 'row'), header, reading)), canaryOf);
  };
  const fallback = (data: Buffer, start: number, end: number, line: number, batch: Batch) => readText(data.toString('utf8', start, end), line, batch);

  const starts = new Int32Array(width);
  const ends = new Int32Array(width);
  // The minute's 16 bytes (`2026-12-01 07:08`) as four words, compared four bytes at a time (0: no minute
  // yet, as NUL bytes never come this far).
  let minute0 = 0;
  let minute1 = 0;
  let minute2 = 0;
  let minute3 = 0;
  let minuteMs = NaN;
  let view: DataView = new DataView(new ArrayBuffer(0));
  let viewed: Buffer | null = null;
  /** The hour's bytes up to its minute (`2026-12-01 07:`) and the instant of its minute 00, or NaN. */
  const hour = Buffer.alloc(14);
  let hourMs = NaN;
  const digit = (c: number) => c >= 0x30 && c <= 0x39;
  /** A timestamp of the form's 19 bytes with its minute at 14-15 (00-59) after a colon, as `2026-12-01 07:08:09`. */
  const minuteAt14 = (data: Buffer, ta: number) => data[ta + 13] === 0x3a && data[ta + 14] >= 0x30 && data[ta + 14] <= 0x35 && digit(data[ta + 15]);
  /** Lower-case action and its scope for one record or for none or several, by the bytes of the action as written. */
  const actions = new Map<number, { written: Buffer; action: string; one: AccessScope; other: AccessScope }[]>();
  const scopes = (data: Buffer, a: number, b: number) => {
    const hash = byteHash(data, a, b);
    const known = actions.get(hash);
    if (known) {
      for (const k of known) {
        let same = k.written.length === b - a;
        for (let i = 0; same && i < k.written.length; i++) same = k.written[i] === data[a + i];
        if (same) return k;
      }
    }
    const action = data.toString('latin1', a, b).toLowerCase();
    const entry = { written: Buffer.from(data.subarray(a, b)), action, one: classifyAction(action, 1, reading.actions), other: classifyAction(action, 0, reading.actions) };
    actions.set(hash, [...(known ?? []), entry]);
    return entry;
  };
  const trimStart = (data: Buffer, a: number, b: number) => {
    while (a < b && data[a] === 0x20) a++;
    return a;
  };
  const trimEnd = (data: Buffer, a: number, b: number) => {
    while (b > a && data[b - 1] === 0x20) b--;
    return b;
  };
  const grown = (a: Int32Array) => {
    const b = new Int32Array(a.length * 2);
    b.set(a);
    return b;
  };
  // The event being written, refilled for each line; its record keys with a hash each, so that most
  // keys are never made into strings.
  const event: vault.EventRanges = {
    src: Buffer.alloc(0),
    atMs: 0,
    accountStart: 0,
    accountEnd: 0,
    action: '',
    scope: 'bulk',
    keys: 0,
    keyStart: new Int32Array(16),
    keyEnd: new Int32Array(16),
    systemStart: 0,
    systemEnd: 0,
    ipStart: 0,
    ipEnd: 0,
  };
  let keyHash = new Int32Array(16);
  // A bit per hash (its low bits) of the canaries' keys: one load per key read, where a Set of numbers
  // cost a hash lookup; a set bit only says to look the key up by its text.
  const canaryMask = (1 << canaryBitCount(canaryOf.size)) - 1;
  const canaryBits = new Uint8Array((canaryMask + 1) >>> 3);
  for (const key of canaryOf.keys()) {
    const bytes = Buffer.from(key, 'latin1');
    const h = byteHash(bytes, 0, bytes.length) & canaryMask;
    canaryBits[h >>> 3] |= 1 << (h & 7);
  }
  const [tsAt, userAt, actionAt, recordAt, systemAt, ipAt] = [index.ts, index.user, index.action, index.record, index.system, index.ip];

  return (data, start, end, line, batch) => {
    let field = 0;
    starts[0] = start;
    for (let i = start; i < end; i++) {
      const c = data[i];
      const kind = BYTE_KIND[c];
      if (kind === 0) continue;
      if (kind === COMMA) {
        if (field + 1 === width) return fallback(data, start, end, line, batch);
        ends[field++] = i;
        starts[field] = i + 1;
      } else return fallback(data, start, end, line, batch);
    }
    ends[field] = end;
    if (field + 1 !== width) return fallback(data, start, end, line, batch);
    const ta = trimStart(data, starts[tsAt], ends[tsAt]);
    const tb = trimEnd(data, ta, ends[tsAt]);
    const ua = trimStart(data, starts[userAt], ends[userAt]);
    const ub = trimEnd(data, ua, ends[userAt]);
    const aa = trimStart(data, starts[actionAt], ends[actionAt]);
    const ab = trimEnd(data, aa, ends[actionAt]);
    if (ta === tb || ua === ub || aa === ab) return fallback(data, start, end, line, batch);
    let atMs: number | null = null;
    const secondsAt = ta + 17;
    const form = minutes && tb - ta === 19 && data[ta + 16] === 0x3a && data[secondsAt] >= 0x30 && data[secondsAt] <= 0x35 && data[secondsAt + 1] >= 0x30 && data[secondsAt + 1] <= 0x39;
    const seconds = form ? (data[secondsAt] - 0x30) * 10 + data[secondsAt + 1] - 0x30 : 0;
    let word0 = 0;
    let word1 = 0;
    let word2 = 0;
    let word3 = 0;
    if (form) {
      if (data !== viewed) {
        view = new DataView(data.buffer, data.byteOffset, data.byteLength);
        viewed = data;
      }
      word0 = view.getInt32(ta, true);
      word1 = view.getInt32(ta + 4, true);
      word2 = view.getInt32(ta + 8, true);
      word3 = view.getInt32(ta + 12, true);
    }
    if (form && word0 === minute0 && word1 === minute1 && word2 === minute2 && word3 === minute3) atMs = minuteMs + seconds * 1000;
    else {
      const inHour = form && minuteAt14(data, ta);
      const ofMinute = inHour ? ((data[ta + 14] - 0x30) * 10 + data[ta + 15] - 0x30) * 60_000 : 0;
      let sameHour = inHour;
      for (let i = 0; sameHour && i < 14; i++) sameHour = hour[i] === data[ta + i];
      if (sameHour && !Number.isNaN(hourMs)) atMs = hourMs + ofMinute + seconds * 1000;
      else {
        const text = data.toString('latin1', ta, tb);
        atMs = timeOf(text);
        if (atMs === null) return fallback(data, start, end, line, batch);
        if (inHour && !sameHour) {
          // The hour is kept when its first and last seconds are 3,599 s apart and this time sits between them as its digits say.
          const [first, last] = [timeOf(`${text.slice(0, 14)}00:00`), timeOf(`${text.slice(0, 14)}59:59`)];
          const uniform = first !== null && last !== null && last - first === 3_599_000 && atMs === first + ofMinute + seconds * 1000;
          data.copy(hour, 0, ta, ta + 14);
          hourMs = uniform ? first : NaN;
        }
      }
      if (form) {
        minute0 = word0;
        minute1 = word1;
        minute2 = word2;
        minute3 = word3;
        minuteMs = atMs - seconds * 1000;
      }
    }
    const { action, one, other } = scopes(data, aa, ab);
    const ra = recordAt >= 0 ? starts[recordAt] : 0;
    const rb = recordAt >= 0 ? ends[recordAt] : 0;
    // Record keys, split on ; or |, trimmed, each once: where they are, and which name canaries.
    let keys = 0;
    let canaries: string[] | null = null;
    for (let ka = ra; ka <= rb; ) {
      let kb = ka;
      while (kb < rb && data[kb] !== 0x3b && data[kb] !== 0x7c) kb++;
      const next = kb + 1;
      const a = trimStart(data, ka, kb);
      const b = trimEnd(data, a, kb);
      ka = next;
      if (a === b) continue;
      const hash = byteHash(data, a, b);
      let seen = false;
      for (let k = 0; k < keys && !seen; k++) seen = keyHash[k] === hash && event.keyEnd[k] - event.keyStart[k] === b - a && data.compare(data, event.keyStart[k], event.keyEnd[k], a, b) === 0;
      if (seen) continue;
      if (keys === event.keyStart.length) [event.keyStart, event.keyEnd, keyHash] = [grown(event.keyStart), grown(event.keyEnd), grown(keyHash)];
      event.keyStart[keys] = a;
      event.keyEnd[keys] = b;
      keyHash[keys] = hash;
      keys++;
      const bit = hash & canaryMask;
      if (canaryBits[bit >>> 3] & (1 << (bit & 7))) {
        const canary = canaryOf.get(data.toString('latin1', a, b));
        if (canary !== undefined) (canaries ??= []).push(canary);
      }
    }
    const scope = keys === 1 ? one : other;
    const sa = systemAt >= 0 ? trimStart(data, starts[systemAt], ends[systemAt]) : 0;
    const sb = systemAt >= 0 ? trimEnd(data, sa, ends[systemAt]) : 0;
    const ia = ipAt >= 0 ? trimStart(data, starts[ipAt], ends[ipAt]) : 0;
    const ib = ipAt >= 0 ? trimEnd(data, ia, ends[ipAt]) : 0;

    event.src = data;
    event.atMs = atMs;
    event.accountStart = ua;
    event.accountEnd = ub;
    event.action = action;
    event.scope = scope;
    event.keys = keys;
    event.systemStart = sa;
    event.systemEnd = sb;
    event.ipStart = ia;
    event.ipEnd = ib;
    const block = batch.block;
    block.beginRow(line);
    block.reserve(end - start + vault.EVENT_BYTES_EXTRA);
    batch.valid++;
    if (block.commitRow(atMs, vault.writeEventBytes(block.buf, block.end, event)) && canaries) {
      const text = (a: number, b: number) => (b > a ? data.toString('latin1', a, b) : null);
      batch.accesses.push({ line, at: new Date(atMs), account: data.toString('latin1', ua, ub), action, scope, system: text(sa, sb), ip: text(ia, ib), canaries });
    }
  };
}
