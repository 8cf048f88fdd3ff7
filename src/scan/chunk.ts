import { isAscii, isUtf8 } from 'node:buffer';
import { decodeWhole, type TextEncoding } from '../lib/encoding.js';
import { cellIndexAt, MAX_RECORD } from './files.js';
import type { CanaryMatcher } from '../lib/match/matcher.js';
import { BytePrefilter } from '../lib/match/prefilter.js';
import type { CanarySignature, MatchKind } from '../lib/match/types.js';

// Matching records, and whole chunks of lines, against the canaries: the part of `cradle scan` that
// runs on worker threads for large files. Pure: text in, matches out.
//
// Fast mode (the default) first finds the lines that may hold a canary phone or e-mail (in UTF-8 on
// the bytes, with BytePrefilter; otherwise with CanaryMatcher.candidates on the text) and runs the
// full matcher only on those; every confident match has a phone or e-mail. Names alone (a list
// without phones or e-mails) are looked for in every record only with `names`.

/**
 * Matches at or above CONFIDENT (a trap phone or e-mail, or a masked phone confirmed by a name) are
 * evidence of a source and are kept one by one. Weaker ones (names alone, an unconfirmed masked phone)
 * are common by chance in any population, so they are only counted per canary.
 */
export const CONFIDENT = 0.85;
export const WEAK = 0.3;
const OVERLAP = 256;
const NAME_KINDS: ReadonlySet<MatchKind> = new Set(['name', 'name-pinyin', 'masked-name']);

export interface RecordContext {
  /** Cells are separated by this in the record (CSV/TSV lines, spreadsheet rows joined by tabs). */
  delimiter?: string;
  header?: string[];
  /** Look for names in every record, not only in those with a canary phone or e-mail. */
  names: boolean;
}

/** One confident match in a record; the caller adds the file and the place. */
export interface FoundMatch {
  canaryId: string;
  column: string | null;
  kinds: MatchKind[];
  matched: string;
  confidence: number;
  reason: string;
}

/** Weak evidence per canary: best confidence and how many records. */
export type WeakTally = Map<string, { confidence: number; matches: number }>;

export function tally(into: WeakTally, id: string, confidence: number, matches = 1): void {
  const b = into.get(id);
  if (!b) into.set(id, { confidence, matches });
  else {
    b.confidence = Math.max(b.confidence, confidence);
    b.matches += matches;
  }
}

function columnOf(text: string, offset: number, ctx: RecordContext): string | null {
  if (!ctx.delimiter) return null;
  const index = cellIndexAt(text, offset, ctx.delimiter);
  return ctx.header?.[index] || `column ${index + 1}`;
}

/** The canaries in one record: confident ones returned, weak ones counted into `weak`. */
export function matchRecord(matcher: CanaryMatcher, text: string, ctx: RecordContext, weak: WeakTally, checked = false): FoundMatch[] {
  if (!checked && !ctx.names && matcher.candidates(text).length === 0) return [];
  const found: FoundMatch[] = [];
  for (const m of matcher.matchRecord(text)) {
    if (m.confidence < CONFIDENT) {
      if (m.confidence >= WEAK) tally(weak, m.canaryId, m.confidence);
      continue;
    }
    // The strings kept are copied: a slice of the record would keep the whole decoded chunk alive.
    found.push({
      canaryId: m.canaryId,
      // The column of the evidence that decides (the phone or e-mail, not a name beside it).
      column: columnOf(text, (m.hits.find((h) => !NAME_KINDS.has(h.kind)) ?? m.hits[0]).start, ctx),
      kinds: [...new Set(m.hits.map((h) => h.kind))],
      matched: structuredClone(m.hits.map((h) => h.matched).join(' / ')),
      confidence: m.confidence,
      reason: structuredClone(m.reason),
    });
  }
  return found;
}

export interface ChunkResult {
  /** Line ends ('\n') in the chunk: the next chunk's first line is this many lines further on. */
  lines: number;
  /** Lines looked at with the full matcher. */
  matched: number;
  /** `line` counts from 0 at the chunk's first line. */
  matches: (FoundMatch & { line: number })[];
  weak: [string, number, number][];
  /** The first line (from 0) in the other of UTF-8 and GB18030 than the file was read as. */
  otherEncoding?: { line: number; encoding: TextEncoding };
  /**
   * Read by a thread without the full matcher (`deferred`): the lines (or windows of long ones) its
   * byte pass named, decoded, for the caller to match with matchDeferred; `matches` and `weak` are
   * then empty until it does.
   */
  deferred?: { header?: string[]; delimiter?: string; records: { line: number; text: string }[] };
}

/** Matches a chunk's deferred records (ChunkResult.deferred) with the full matcher, into its matches and weak tally. */
export function matchDeferred(matcher: CanaryMatcher, result: ChunkResult, names: boolean): void {
  if (!result.deferred) return;
  const { header, delimiter, records } = result.deferred;
  const weak: WeakTally = new Map(result.weak.map(([id, confidence, matches]) => [id, { confidence, matches }]));
  for (const r of records) for (const m of matchRecord(matcher, r.text, { header, delimiter, names }, weak)) result.matches.push({ ...m, line: r.line });
  result.weak = [...weak].map(([id, w]) => [id, w.confidence, w.matches]);
  delete result.deferred;
}

/** The end of the line that starts at `start` (the '\n', or the text's end), and the end without a '\r'. */
function lineEnd(text: string, start: number): [number, number] {
  const nl = text.indexOf('\n', start);
  const end = nl < 0 ? text.length : nl;
  return [end, end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end];
}

/**
 * All matches in a chunk of whole lines (a line longer than MAX_RECORD is looked at in a window of
 * that size around each candidate, or in overlapping pieces with `names`).
 */
export function matchChunk(matcher: CanaryMatcher, text: string, ctx: RecordContext): ChunkResult {
  const weak: WeakTally = new Map();
  const result: ChunkResult = { lines: 0, matched: 0, matches: [], weak: [] };
  let line = 0; // the line that starts at `lineStart`
  let lineStart = 0;
  const advanceTo = (start: number) => {
    // Count the line ends between the current line and the one starting at `start`.
    for (let nl = text.indexOf('\n', lineStart); nl >= 0 && nl < start; nl = text.indexOf('\n', nl + 1)) line++;
    lineStart = start;
  };
  const record = (start: number, end: number, checked: boolean) => {
    result.matched++;
    for (const m of matchRecord(matcher, text.slice(start, end), ctx, weak, checked)) result.matches.push({ ...m, line });
  };

  if (ctx.names) {
    for (let start = 0; start < text.length;) {
      const [next, end] = lineEnd(text, start);
      advanceTo(start);
      for (let p = start; p < end; p += MAX_RECORD - OVERLAP) {
        record(p, Math.min(end, p + MAX_RECORD), true);
        if (p + MAX_RECORD >= end) break;
      }
      start = next + 1;
    }
  } else {
    let done = -1; // the start of the last line matched
    let windowEnd = -1; // in a line longer than MAX_RECORD, where the last window ended
    for (const at of matcher.candidates(text)) {
      const start = text.lastIndexOf('\n', at - 1) + 1;
      const [, end] = lineEnd(text, at);
      if (end - start <= MAX_RECORD) {
        if (start === done) continue;
        advanceTo(start);
        record(start, end, true);
        done = start;
      } else if (at >= windowEnd) {
        advanceTo(start);
        const from = Math.max(start, at - (MAX_RECORD >> 1));
        const to = Math.min(end, from + MAX_RECORD);
        record(from, to, true);
        windowEnd = to - OVERLAP;
      }
    }
  }
  advanceTo(text.length);
  result.lines = line;
  result.weak = [...weak].map(([id, w]) => [id, w.confidence, w.matches]);
  return result;
}

/** Matches chunks of whole lines in the fastest way their encoding allows. */
export class ChunkMatcher {
  private readonly prefilter: BytePrefilter | null;
  private full: CanaryMatcher | null;

  /**
   * `matcher`: the full matcher, or how to build it when first needed (a worker thread whose chunks
   * all take the byte pass with `defer` never does).
   */
  constructor(matcher: CanaryMatcher | (() => CanaryMatcher), signatures: readonly CanarySignature[], private readonly names: boolean) {
    const prefilter = names ? null : new BytePrefilter(signatures);
    this.prefilter = prefilter?.usable ? prefilter : null;
    this.full = typeof matcher === 'function' ? null : matcher;
    this.build = typeof matcher === 'function' ? matcher : () => matcher;
  }

  private readonly build: () => CanaryMatcher;
  private get matcher(): CanaryMatcher {
    return (this.full ??= this.build());
  }

  /**
   * `defer`: the lines the byte pass names are decoded but left to the caller to match
   * (ChunkResult.deferred, matchDeferred); chunks that cannot take the byte pass are matched here.
   */
  match(bytes: Uint8Array, encoding: TextEncoding, ctx: Omit<RecordContext, 'names'>, defer = false): ChunkResult {
    const context = { ...ctx, names: this.names };
    if (encoding === 'utf-16le') return matchChunk(this.matcher, decodeWhole(bytes, encoding), context);
    // The byte pass reads UTF-8, and GB18030 when no line of the chunk is UTF-8 (files pasted
    // together from two systems take the slow way, line by line).
    const fast = encoding === 'utf-8' ? isUtf8(bytes) : !hasUtf8Line(bytes);
    if (!fast) {
      const { text, otherEncoding } = decodeLines(bytes, encoding);
      return { ...matchChunk(this.matcher, text, context), ...(otherEncoding ? { otherEncoding } : {}) };
    }
    if (!this.prefilter) return matchChunk(this.matcher, decodeWhole(bytes, encoding), context);
    // Only the lines the byte pass names are decoded; the text pass then drops its false alarms.
    const { lines, candidates } = this.prefilter.scan(bytes, MAX_RECORD >> 1, encoding);
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const gb = encoding === 'gb18030' ? new TextDecoder('gb18030') : null;
    const records: { line: number; text: string }[] = [];
    for (const c of candidates) {
      let end = buf.indexOf(0x0a, c.at);
      if (end < 0) end = buf.length;
      if (end > c.start && buf[end - 1] === 13) end--;
      const from = end - c.start <= MAX_RECORD ? c.start : Math.max(c.start, c.at - (MAX_RECORD >> 1));
      const to = Math.min(end, from + MAX_RECORD);
      records.push({ line: c.line, text: gb ? gb.decode(buf.subarray(from, to)) : buf.toString('utf8', from, to) });
    }
    const result: ChunkResult = { lines, matched: records.length, matches: [], weak: [], deferred: { header: ctx.header, delimiter: ctx.delimiter, records } };
    if (!defer) matchDeferred(this.matcher, result, this.names);
    return result;
  }
}

/**
 * Whether some line of a GB18030 chunk is UTF-8 instead (valid UTF-8 with non-ASCII characters, as
 * decodeLines reads it). Each line is read only up to its first byte that cannot be UTF-8 (in GBK
 * text, within its first characters), then passed to its end by memchr; a line with none is checked
 * whole. A subarray and an isUtf8 call a line cost as much as the byte pre-filter's whole pass.
 */
export function hasUtf8Line(bytes: Uint8Array): boolean {
  if (isAscii(bytes)) return false;
  const n = bytes.length;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, n);
  for (let start = 0; start < n;) {
    let i = start;
    let bad = false;
    let nonAscii = false;
    while (i < n) {
      const b = bytes[i];
      if (b < 0x80) {
        if (b === 0x0a) break;
        i++;
        continue;
      }
      nonAscii = true;
      // A lead byte and as many continuation bytes as it needs (looser than UTF-8's rules: what
      // passes here is checked by isUtf8 below, what fails cannot be UTF-8).
      const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
      if (need === 0 || i + need >= n) {
        bad = true;
        break;
      }
      let k = 1;
      while (k <= need && (bytes[i + k] & 0xc0) === 0x80) k++;
      if (k <= need) {
        bad = true;
        break;
      }
      i += k;
    }
    if (bad) {
      const nl = buf.indexOf(0x0a, i);
      if (nl < 0) return false;
      start = nl + 1;
      continue;
    }
    if (nonAscii && isUtf8(bytes.subarray(start, i))) return true;
    start = i + 1;
  }
  return false;
}

/**
 * Lines of a UTF-8 or GB18030 file each decoded as what it is: a line that is valid UTF-8 with
 * non-ASCII characters is UTF-8 (GBK text almost never is), any other GB18030. Files pasted
 * together from two systems mix them; the first line in the other encoding is reported.
 */
function decodeLines(bytes: Uint8Array, encoding: 'utf-8' | 'gb18030'): { text: string; otherEncoding?: { line: number; encoding: TextEncoding } } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const gb = new TextDecoder('gb18030');
  const parts: string[] = [];
  let otherEncoding: { line: number; encoding: TextEncoding } | undefined;
  for (let start = 0, line = 0; start < buf.length; line++) {
    const nl = buf.indexOf(0x0a, start);
    const end = nl < 0 ? buf.length : nl;
    const piece = buf.subarray(start, end);
    const utf8 = isUtf8(piece);
    const ascii = utf8 && isAscii(piece);
    const as: TextEncoding = ascii ? encoding : utf8 ? 'utf-8' : 'gb18030';
    if (as !== encoding) otherEncoding ??= { line, encoding: as };
    parts.push(as === 'utf-8' ? piece.toString('utf8') : gb.decode(piece));
    start = end + 1;
    if (nl < 0) break;
  }
  if (buf[buf.length - 1] === 0x0a) parts.push(''); // the chunk's last line end
  return { text: parts.join('\n'), otherEncoding };
}
