import { createRequire } from 'node:module';

// Text encodings of the files hospitals and brokers pass around: UTF-8 (with or without BOM),
// UTF-16LE with BOM, and GBK/GB18030 from Chinese office software. iconv-lite is required on first use.

const require = createRequire(import.meta.url);

export type TextEncoding = 'utf-8' | 'gb18030' | 'utf-16le';

/**
 * The encoding of a file from its first bytes: a BOM says it; otherwise UTF-8 if the sample decodes
 * strictly as UTF-8, else GB18030. Unless `complete` (the sample is the whole file), a character cut
 * at the end of the sample is allowed.
 */
export function detectEncoding(sample: Buffer, complete = false): { encoding: TextEncoding; bom: number } {
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) return { encoding: 'utf-8', bom: 3 };
  if (sample[0] === 0xff && sample[1] === 0xfe) return { encoding: 'utf-16le', bom: 2 };
  try {
    // stream: a character cut at the end of the sample is held back, not an error.
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: !complete });
    return { encoding: 'utf-8', bom: 0 };
  } catch {
    return { encoding: 'gb18030', bom: 0 };
  }
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
