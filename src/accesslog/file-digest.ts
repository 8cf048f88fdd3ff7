import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { UserError } from '../lib/errors.js';
import { textEncodingOf, Utf8OrGb, type LogEncoding } from './encoding.js';

export interface FileDigest {
  sha256: string;
  size: number;
  /** A double quote anywhere. */
  quoted: boolean;
  /**
   * The encoding the file's bytes say: UTF-16 by a byte-order mark or its NULs, else UTF-8 or GB18030
   * as its first non-ASCII bytes say (src/accesslog/encoding.ts).
   */
  encoding: LogEncoding;
  /** A CR ends a line alone somewhere. */
  loneCr: boolean;
}

/**
 * The file's sha256 and size, and what decides whether a CSV log can take the fast path
 * (src/accesslog/fast-csv.ts): a quote, an encoding other than UTF-8 or a lone CR sends it to the general reader, which
 * frames quoted records, decodes other encodings and ends lines at a lone CR. One read of the file.
 */
export async function fileDigest(file: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let size = 0;
  let quoted = false;
  let encoding: LogEncoding = 'utf-8';
  const sniffer = new Utf8OrGb();
  let loneCr = false;
  /** The previous chunk ended with a CR. */
  let crLast = false;
  try {
    const handle = await fs.promises.open(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      for (let n; (n = (await handle.read(buf, 0, buf.length, null)).bytesRead) > 0; ) {
        const chunk = buf.subarray(0, n);
        if (size === 0) encoding = textEncodingOf(chunk, file, n < buf.length);
        if (encoding !== 'utf-16le' && encoding !== 'utf-16be') sniffer.write(chunk);
        hash.update(chunk);
        size += n;
        quoted ||= chunk.includes(0x22);
        if (!loneCr) {
          if (crLast && chunk[0] !== 0x0a) loneCr = true;
          for (let cr = chunk.indexOf(0x0d); cr !== -1 && !loneCr; cr = chunk.indexOf(0x0d, cr + 1)) loneCr = cr + 1 < n && chunk[cr + 1] !== 0x0a;
          crLast = chunk[n - 1] === 0x0d;
        }
      }
      loneCr ||= crLast;
      if (encoding !== 'utf-16le' && encoding !== 'utf-16be') encoding = sniffer.end(true);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { sha256: hash.digest('hex'), size, quoted, encoding, loneCr };
}
