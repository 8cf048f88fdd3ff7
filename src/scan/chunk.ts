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

  constructor(private readonly matcher: CanaryMatcher, signatures: readonly CanarySignature[], private readonly names: boolean) {
    const prefilter = names ? null : new BytePrefilter(signatures);
    this.prefilter = prefilter?.usable ? prefilter : null;
  }

  match(bytes: Uint8Array, encoding: TextEncoding, ctx: Omit<RecordContext, 'names'>): ChunkResult {
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
    const weak: WeakTally = new Map();
    const result: ChunkResult = { lines, matched: 0, matches: [], weak: [] };
    for (const c of candidates) {
      let end = buf.indexOf(0x0a, c.at);
      if (end < 0) end = buf.length;
      if (end > c.start && buf[end - 1] === 13) end--;
      const from = end - c.start <= MAX_RECORD ? c.start : Math.max(c.start, c.at - (MAX_RECORD >> 1));
      const to = Math.min(end, from + MAX_RECORD);
      result.matched++;
      const text = gb ? gb.decode(buf.subarray(from, to)) : buf.toString('utf8', from, to);
      for (const m of matchRecord(this.matcher, text, context, weak)) result.matches.push({ ...m, line: c.line });
    }
    result.weak = [...weak].map(([id, w]) => [id, w.confidence, w.matches]);
    return result;
  }
}

/** Whether some line of a GB18030 chunk is UTF-8 instead (valid UTF-8 with non-ASCII characters, as decodeLines reads it). */
function hasUtf8Line(bytes: Uint8Array): boolean {
  if (isAscii(bytes)) return false;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let start = 0; start < buf.length;) {
    const nl = buf.indexOf(0x0a, start);
    const end = nl < 0 ? buf.length : nl;
    const piece = buf.subarray(start, end);
    if (isUtf8(piece) && !isAscii(piece)) return true;
    if (nl < 0) break;
    start = end + 1;
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
