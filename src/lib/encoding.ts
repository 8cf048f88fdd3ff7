import { isAscii } from 'node:buffer';
import { createRequire } from 'node:module';

// Text encodings of the files hospitals and brokers pass around: UTF-8 (with or without BOM),
// UTF-16LE with BOM, and GBK/GB18030 from Chinese office software. iconv-lite is required on first use.

const require = createRequire(import.meta.url);

export type TextEncoding = 'utf-8' | 'gb18030' | 'utf-16le';

/**
 * The encoding of a file from its first bytes: a BOM says it; otherwise its first line with
 * non-ASCII bytes does: UTF-8 if it decodes strictly as UTF-8, else GB18030 (files pasted together
 * from two systems are read as they start; the scan decodes each line as what it is). Unless
 * `complete` (the sample is the whole file), a character cut at the end of the sample is allowed.
 */
export function detectEncoding(sample: Buffer, complete = false): { encoding: TextEncoding; bom: number } {
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) return { encoding: 'utf-8', bom: 3 };
  if (sample[0] === 0xff && sample[1] === 0xfe) return { encoding: 'utf-16le', bom: 2 };
  if (looksUtf16le(sample)) return { encoding: 'utf-16le', bom: 0 };
  for (let start = 0; start < sample.length;) {
    const nl = sample.indexOf(0x0a, start);
    const line = sample.subarray(start, nl < 0 ? sample.length : nl);
    if (!isAscii(line)) {
      try {
        // stream: a character cut at the end of the sample is held back, not an error.
        new TextDecoder('utf-8', { fatal: true }).decode(line, { stream: nl < 0 && !complete });
        return { encoding: 'utf-8', bom: 0 };
      } catch {
        return { encoding: 'gb18030', bom: 0 };
      }
    }
    if (nl < 0) break;
    start = nl + 1;
  }
  return { encoding: 'utf-8', bom: 0 };
}

/**
 * UTF-16LE without a byte-order mark, as some Windows tools write it: text of mostly ASCII or CJK
 * has a NUL in most odd bytes (ASCII) or none at all in even ones, unlike binary data.
 */
export function looksUtf16le(sample: Uint8Array): boolean {
  const pairs = Math.min(sample.length, 4096) >> 1;
  if (pairs < 8) return false;
  let oddNul = 0, evenNul = 0;
  for (let i = 0; i < pairs; i++) {
    if (sample[2 * i] === 0) evenNul++;
    if (sample[2 * i + 1] === 0) oddNul++;
  }
  return oddNul / pairs > 0.3 && evenNul / pairs < 0.02;
}

/** A streaming decoder: `write` chunks as they come, `end` for what a cut character left. */
export function decoderFor(encoding: TextEncoding): { write(b: Buffer): string; end(): string } {
  if (encoding === 'gb18030') {
    const iconv = require('iconv-lite') as typeof import('iconv-lite');
    const d = iconv.getDecoder('gb18030');
    return { write: (b) => d.write(b), end: () => d.end() ?? '' };
  }
  const d = new TextDecoder(encoding, { fatal: false });
  return { write: (b) => d.decode(b, { stream: true }), end: () => d.decode() };
}

/** A whole buffer of complete characters as text (a chunk cut at line ends). */
export function decodeWhole(bytes: Uint8Array, encoding: TextEncoding): string {
  if (encoding === 'utf-8') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return new TextDecoder(encoding).decode(bytes);
}
