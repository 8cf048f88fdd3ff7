import crypto from 'node:crypto';
import fs from 'node:fs';
import { decodeWhole, detectEncoding } from '../lib/encoding.js';
import type { ChunkResult } from './chunk.js';
import { crOnlyLines, crToLf, headerOf, looksBinary, type FileFacts, type ScanWarning } from './files.js';
import type { ChunkEngine, FileHash, Matched } from './workers.js';

// Reading a line-oriented file (CSV, TSV, JSON Lines, SQL dump, text) in chunks of whole lines that
// are matched in parallel, results taken back in file order. Memory is flat in the file size: at
// most `inFlight` chunks are read ahead, into buffers that come back with their results and are
// read into again (at most `inFlight` + 1 of them). Splitting at '\n' bytes is safe in UTF-8 and GB18030 (no
// multi-byte character contains 0x0a); UTF-16 files go the record-by-record way.

export const CHUNK_BYTES = 2 << 20;
const OVERLAP = 256;
/** A chunk buffer's size: a chunk and the start of a line carried over from the one before. */
const BUFFER_BYTES = CHUNK_BYTES + (64 << 10);

/** Line-oriented formats this reader handles (pretty-printed JSON needs its objects regrouped). */
export const CHUNKED_FORMATS = new Set(['csv', 'tsv', 'jsonl', 'sql', 'txt', 'text']);

export interface ChunkedOptions {
  engine: ChunkEngine;
  inFlight: number;
  /** Each chunk's result, in file order, with the 1-based line of its first line. */
  onChunk: (result: ChunkResult, firstLine: number) => void;
  /** The file's hash computed on another thread (hashOnThread); without it the reads here are hashed. */
  hash?: Promise<FileHash | { error: string }>;
  /** Called with each chunk buffer allocated (tests count them). */
  onBuffer?: (buffer: ArrayBuffer) => void;
}

/**
 * Read and match `file`. Returns false, having read nothing, when the file must be read record by
 * record instead (UTF-16). `facts` is complete when it returns.
 */
export async function scanChunked(file: string, format: string, facts: FileFacts, warn: (w: ScanWarning) => void, opts: ChunkedOptions): Promise<boolean> {
  const fd = await fs.promises.open(file, 'r');
  try {
    const sample = Buffer.alloc(65536);
    const { bytesRead: sampled } = await fd.read(sample, 0, sample.length, 0);
    const head = sample.subarray(0, sampled);
    // Lines ended by CR alone are read with LF line ends (same bytes otherwise), after hashing.
    const crOnly = crOnlyLines(head);
    if (crOnly) crToLf(head);
    const { encoding, bom } = detectEncoding(head, sampled < sample.length);
    if (encoding === 'utf-16le') return false; // read record by record, which warns if it has no BOM
    if (looksBinary(head)) {
      warn({ file, message: 'binary data (NUL and control bytes), not a text file: skipped; for a spreadsheet give it the .xlsx extension', skipped: true });
      facts.encoding = 'binary';
      if (!opts.hash || !(await hashedBeside(opts.hash, facts, null, file, warn))) await hashRest(fd, facts);
      return true;
    }
    facts.encoding = encoding;

    const hash = opts.hash ? null : crypto.createHash('sha256');
    const queue: { result: Promise<Matched>; longLine: boolean; unended: boolean }[] = [];
    // Buffers given back with their chunk's result, read into again: a buffer a chunk, left to the
    // collector, piled up on the worker threads (tens of MiB each) before it was freed.
    const spare: ArrayBuffer[] = [];
    let nextLine = 1;
    let warnedLong = false;
    let warnedMixed = false;
    const takeOldest = async () => {
      const { result: pending, longLine, unended } = queue.shift()!;
      const { result, bytes } = await pending;
      if (bytes?.buffer instanceof ArrayBuffer) spare.push(bytes.buffer);
      // The file's last line without a line end is a line too (a one-line file of 0 records looked empty).
      if (unended) result.lines++;
      if (longLine && !warnedLong) {
        warn({ file, where: `line ${nextLine}`, message: `line longer than ${CHUNK_BYTES} bytes: scanned in overlapping pieces` });
        warnedLong = true;
      }
      if (result.otherEncoding && !warnedMixed) {
        const { line, encoding: other } = result.otherEncoding;
        warn({ file, where: `line ${nextLine + line}`, message: `text in ${other} among ${encoding} lines (two files pasted together?): each line decoded as what it is` });
        warnedMixed = true;
      }
      opts.onChunk(result, nextLine);
      nextLine += result.lines;
    };
    let tabular: { delimiter: string; header: string[] } | undefined;
    let carry = Buffer.alloc(0);
    let position = 0;
    for (;;) {
      let free = spare.pop();
      if (!free || free.byteLength < carry.length + CHUNK_BYTES) { // a carried line too long for it: dropped
        free = new ArrayBuffer(Math.max(BUFFER_BYTES, carry.length + CHUNK_BYTES));
        opts.onBuffer?.(free);
      }
      const buf = Buffer.from(free);
      carry.copy(buf);
      const { bytesRead } = await fd.read(buf, carry.length, CHUNK_BYTES, position);
      hash?.update(buf.subarray(carry.length, carry.length + bytesRead));
      if (crOnly) crToLf(buf.subarray(carry.length, carry.length + bytesRead));
      let start = position === 0 ? carry.length + bom : 0;
      position += bytesRead;
      const data = buf.subarray(0, carry.length + bytesRead);
      if (position === bytesRead && (format === 'csv' || format === 'tsv')) {
        const nl = data.indexOf(0x0a, start);
        tabular = headerOf(decodeWhole(data.subarray(start, Math.min(nl < 0 ? data.length : nl, start + 65536)), encoding).replace(/\r$/, ''));
        // The header is line 1 and is matched like any line; it rarely holds a canary.
      }
      let end: number;
      let longLine = false;
      if (bytesRead === 0) end = data.length;
      else {
        const nl = data.lastIndexOf(0x0a);
        if (nl >= start) end = nl + 1;
        else if (data.length - start >= CHUNK_BYTES) {
          // A line longer than a chunk: matched in pieces that overlap, so nothing is cut in two.
          end = data.length;
          longLine = true;
        } else end = start; // keep reading this line
      }
      const tail = end < data.length ? Buffer.from(data.subarray(end)) : end > start && bytesRead > 0 && data[end - 1] !== 0x0a ? Buffer.from(data.subarray(end - OVERLAP)) : Buffer.alloc(0);
      if (end > start) {
        if (queue.length >= opts.inFlight) await takeOldest();
        queue.push({ result: opts.engine.match({ bytes: data.subarray(start, end), encoding, header: tabular?.header, delimiter: tabular?.delimiter }), longLine, unended: bytesRead === 0 && data[end - 1] !== 0x0a });
        start = end;
      } else spare.push(free); // nothing sent: read into again
      carry = tail;
      if (bytesRead === 0) break;
    }
    while (queue.length) await takeOldest();
    if (hash) {
      facts.bytes = position;
      facts.sha256 = hash.digest('hex');
    } else if (!(await hashedBeside(opts.hash!, facts, position, file, warn))) await hashRest(fd, facts);
    return true;
  } finally {
    await fd.close();
  }
}

/**
 * The hash from the other thread into `facts`; false when it could not read the file (then it is
 * hashed here). `scanned`: the bytes the scan read, which the hash should have read too.
 */
async function hashedBeside(pending: Promise<FileHash | { error: string }>, facts: FileFacts, scanned: number | null, file: string, warn: (w: ScanWarning) => void): Promise<boolean> {
  const h = await pending;
  if ('error' in h) return false;
  facts.bytes = scanned ?? h.bytes;
  facts.sha256 = h.sha256;
  if (scanned !== null && scanned !== h.bytes) warn({ file, message: `the file changed while it was read (${scanned} bytes scanned, ${h.bytes} hashed): its hash is not of the bytes scanned` });
  return true;
}

async function hashRest(fd: fs.promises.FileHandle, facts: FileFacts): Promise<void> {
  const hash = crypto.createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  let position = 0;
  for (;;) {
    const { bytesRead } = await fd.read(buf, 0, buf.length, position);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    position += bytesRead;
  }
  facts.bytes = position;
  facts.sha256 = hash.digest('hex');
}
