import { decoderOf, textEncodingOf, type Decoder, type LogEncoding } from './encoding.js';

export { textEncodingOf } from './encoding.js';

// The lines of a log as text: decoded (UTF-8, UTF-16, GB18030 or as given), numbered from 1, ended at LF, CR LF or a lone
// CR, a line over MAX_LINE_CHARS cut to its start. Every format reads its log through these.

export type Input = NodeJS.ReadableStream | AsyncIterable<Buffer | string>;

export interface Line {
  line: number;
  /** The line without its line end; when tooLong, only its first MAX_REJECT_TEXT characters. */
  text: string;
  /** Longer than MAX_LINE_CHARS: a reject, never parsed. */
  tooLong?: boolean;
}

/** Longest text a reject keeps of its line. */
export const MAX_REJECT_TEXT = 500;

/**
 * Longest line read, in characters. A longer line is a reject (its start kept for the reject's text) and
 * reading resumes after its line end, so one line without a line end cannot hold the whole file in memory.
 * No access-log record comes near it; the largest FHIR AuditEvents are a few hundred KB.
 */
export const MAX_LINE_CHARS = 16 * 1024 * 1024;

/** A too-long line's reason. */
export const TOO_LONG_REASON = `line: longer than ${MAX_LINE_CHARS / 1024 / 1024} MiB (${MAX_LINE_CHARS} characters); skipped to its line end`;

/**
 * Lines with their 1-based numbers, decoded as decodeInput says; a BOM is dropped. A line ends at LF, CR
 * LF or a lone CR (old Mac tools and some log shippers write CR alone: read as one line, such a log
 * would be read as nothing). Linear however long a line is: a line's pieces are kept in a list and
 * only each new chunk is searched for a line end.
 */
export async function* readLines(input: Input, source: string, encoding?: LogEncoding): AsyncGenerator<Line> {
  let pieces: string[] = [];
  let length = 0;
  /** The line being read is over MAX_LINE_CHARS: only its start is kept. */
  let tooLong = false;
  /** The last chunk ended with a CR: an LF opening the next one belongs to it. */
  let afterCr = false;
  let n = 0;
  const take = (tail: string): Line => {
    n++;
    let text = pieces.length ? pieces.join('') + tail : tail;
    pieces = [];
    length = 0;
    if (n === 1 && text.startsWith('\uFEFF')) text = text.slice(1);
    if (!tooLong) return { line: n, text };
    tooLong = false;
    return { line: n, text: text.slice(0, MAX_REJECT_TEXT), tooLong: true };
  };
  const keep = (piece: string) => {
    if (tooLong) return;
    if (length + piece.length <= MAX_LINE_CHARS) {
      if (piece) pieces.push(piece);
      length += piece.length;
      return;
    }
    // Over the limit: the start is enough for a reject; the rest of the line is dropped as it comes.
    pieces = [(pieces.join('') + piece).slice(0, MAX_REJECT_TEXT)];
    tooLong = true;
  };
  for await (const chunk of decodeInput(input, source, encoding)) {
    let start = afterCr && chunk.charCodeAt(0) === 0x0a ? 1 : 0;
    if (chunk.length) afterCr = false;
    // Next LF and CR from `start`, each searched again only once passed: one scan of the chunk per character.
    let lf = chunk.indexOf('\n', start);
    let cr = chunk.indexOf('\r', start);
    while (lf !== -1 || cr !== -1) {
      const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      keep(chunk.slice(start, end));
      yield take('');
      start = end + 1;
      if (end === cr) {
        if (chunk.charCodeAt(start) === 0x0a) start++;
        else if (start === chunk.length) afterCr = true;
      }
      if (lf !== -1 && lf < start) lf = chunk.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = chunk.indexOf('\r', start);
    }
    if (start < chunk.length) keep(chunk.slice(start));
  }
  if (length || tooLong) yield take('');
}

/** Bytes read before choosing the encoding: enough pairs for looksUtf16le to tell. */
const SNIFF_BYTES = 4096;

/**
 * The input as text, in the encoding given, else the one its first bytes say (src/accesslog/encoding.ts:
 * UTF-8, UTF-16 told by a byte-order mark or its NULs, GB18030 when the bytes are not UTF-8). UTF-32
 * is refused rather than read as garbage.
 */
async function* decodeInput(input: Input, source: string, encoding?: LogEncoding): AsyncGenerator<string> {
  const held: Buffer[] = [];
  let heldBytes = 0;
  let decoder: Decoder | undefined = encoding ? decoderOf(encoding) : undefined;
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    if (typeof chunk === 'string') yield chunk;
    else if (decoder) yield decoder.write(chunk);
    else {
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes < SNIFF_BYTES) continue;
      const sample = Buffer.concat(held.splice(0));
      decoder = decoderOf(textEncodingOf(sample, source));
      yield decoder.write(sample);
    }
  }
  if (!decoder && held.length) {
    const sample = Buffer.concat(held);
    decoder = decoderOf(textEncodingOf(sample, source, true));
    yield decoder.write(sample);
  }
  if (decoder) yield decoder.end();
}
