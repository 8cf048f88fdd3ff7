import { isAscii, isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import { StringDecoder } from 'node:string_decoder';
import { looksUtf16le } from '../lib/encoding.js';
import { UserError } from '../lib/errors.js';

// The text encoding of an access log: UTF-8 (with or without a BOM), UTF-16 LE or BE (with a BOM, or
// told by its NULs), and GB18030 (GBK, GB2312) from Chinese hospital systems when the bytes are not
// UTF-8; or any encoding iconv-lite knows, given with --encoding. Pure: detection works on bytes.

const require = createRequire(import.meta.url);
const iconv = () => require('iconv-lite') as typeof import('iconv-lite');

/** An encoding's canonical name: utf-8, utf-16le, utf-16be, gb18030, or what iconv-lite calls it. */
export type LogEncoding = string;

/** The canonical name of an encoding given by a user (utf8, UTF-8, GBK, gb2312, UTF-16LE…); a UserError when unknown. */
export function logEncodingArg(name: string): LogEncoding {
  const n = name.trim().toLowerCase().replace(/_/g, '-');
  if (n === 'utf8' || n === 'utf-8') return 'utf-8';
  if (n === 'utf16le' || n === 'utf-16le') return 'utf-16le';
  if (n === 'utf16be' || n === 'utf-16be') return 'utf-16be';
  if (n === 'gb18030' || n === 'gbk' || n === 'gb2312' || n === 'cp936') return 'gb18030';
  if (/^utf-?32/.test(n)) throw new UserError(`--encoding ${name}: UTF-32 is not read; convert the log to UTF-8, e.g. iconv -f UTF-32 -t UTF-8`);
  if (!iconv().encodingExists(n)) throw new UserError(`--encoding ${name}: not an encoding iconv-lite knows (e.g. utf-8, gb18030, gbk, utf-16le, utf-16be, big5, shift_jis, latin1)`);
  return n;
}

/** How an encoding is named in messages: UTF-8, GB18030, UTF-16LE… */
export function encodingLabel(encoding: LogEncoding): string {
  return encoding.toUpperCase();
}

/**
 * UTF-16BE without a byte-order mark: the mirror of looksUtf16le, a NUL in most even bytes (ASCII) and
 * in almost no odd ones.
 */
export function looksUtf16be(sample: Uint8Array): boolean {
  return looksUtf16le(sample.subarray(1));
}

/**
 * The encoding of a log from its first bytes (`complete`: the sample is the whole file, so a character
 * cut at its end is an error, not the start of the next chunk): a byte-order mark says it; NULs say
 * UTF-16; bytes that are not UTF-8 say GB18030. A UserError for UTF-32, which no log tool we know writes.
 */
export function textEncodingOf(sample: Buffer, source: string, complete = false): LogEncoding {
  if ((sample[0] === 0xff && sample[1] === 0xfe && sample[2] === 0 && sample[3] === 0) || (sample[0] === 0 && sample[1] === 0 && sample[2] === 0xfe && sample[3] === 0xff)) {
    throw new UserError(`${source}: the log is UTF-32 (its byte-order mark says so); convert it to UTF-8, e.g. iconv -f UTF-32 -t UTF-8`);
  }
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) return 'utf-8';
  if (sample[0] === 0xfe && sample[1] === 0xff) return 'utf-16be';
  if ((sample[0] === 0xff && sample[1] === 0xfe) || looksUtf16le(sample)) return 'utf-16le';
  if (looksUtf16be(sample)) return 'utf-16be';
  const sniffer = new Utf8OrGb();
  sniffer.write(sample);
  return sniffer.result ?? sniffer.end(complete);
}

/** Bytes from the first non-ASCII byte of a log that decide between UTF-8 and GB18030. */
const DECIDING_BYTES = 64 * 1024;

/**
 * UTF-8 or GB18030, told by the first DECIDING_BYTES from a log's first non-ASCII byte, fed chunk by
 * chunk: a GBK log shows it in its first Chinese word, while a UTF-8 log with one stray bad byte deep
 * inside stays UTF-8 (that line's character is replaced, as before).
 */
export class Utf8OrGb {
  private check = new Utf8Check();
  /** Bytes checked since the first non-ASCII byte; -1 before it. */
  private checked = -1;
  result: 'utf-8' | 'gb18030' | null = null;

  write(chunk: Buffer): void {
    if (this.result) return;
    let from = 0;
    if (this.checked < 0) {
      if (isAscii(chunk)) return;
      while (chunk[from] < 0x80) from++;
      this.checked = 0;
    }
    const window = chunk.subarray(from, from + DECIDING_BYTES - this.checked);
    if (!this.check.write(window)) this.result = 'gb18030';
    else if ((this.checked += window.length) >= DECIDING_BYTES) this.result = 'utf-8';
  }

  /** The encoding at the end of the bytes (`complete`: a character cut at their end is not UTF-8). */
  end(complete: boolean): 'utf-8' | 'gb18030' {
    return (this.result ??= this.checked < 0 || !complete || this.check.end() ? 'utf-8' : 'gb18030');
  }
}

/**
 * Whether bytes fed chunk by chunk are UTF-8: a character cut at a chunk's end is held for the next one.
 * ASCII and UTF-8 chunks are checked by Node's SIMD isAscii/isUtf8: the check costs next to nothing.
 */
export class Utf8Check {
  private held: Buffer = Buffer.alloc(0);

  /** False once the bytes so far cannot be UTF-8. */
  write(chunk: Buffer): boolean {
    const data = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    if (isAscii(data)) {
      this.held = Buffer.alloc(0);
      return true;
    }
    // The last character's lead byte, if the chunk cuts it: held back for the next chunk.
    let cut = data.length;
    for (let i = data.length - 1; i >= Math.max(0, data.length - 3); i--) {
      const b = data[i];
      if ((b & 0xc0) === 0x80) continue;
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      if (data.length - i < need) cut = i;
      break;
    }
    this.held = Buffer.from(data.subarray(cut));
    return isUtf8(data.subarray(0, cut));
  }

  /** False when the bytes ended inside a character. */
  end(): boolean {
    return this.held.length === 0;
  }
}

export interface Decoder {
  write(b: Buffer): string;
  end(): string;
}

/** A streaming decoder; a byte-order mark is dropped (by the line reader for UTF-8); a cut character is held for the next chunk. */
export function decoderOf(encoding: LogEncoding): Decoder {
  if (encoding === 'utf-8') return new StringDecoder('utf8');
  if (encoding === 'utf-16le' || encoding === 'utf-16be') {
    const d = new TextDecoder(encoding);
    return { write: (b) => d.decode(b, { stream: true }), end: () => d.decode() };
  }
  const d = iconv().getDecoder(encoding);
  return { write: (b) => d.write(b), end: () => d.end() ?? '' };
}
