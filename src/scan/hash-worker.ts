import crypto from 'node:crypto';
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

// A thread that hashes the files it is given, one after another, and posts each file's size and
// SHA-256 (the evidence of what was scanned) while the scan's other threads match it.

const buf = Buffer.allocUnsafe(1 << 20);
for (const file of (workerData as { files: string[] }).files) {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const hash = crypto.createHash('sha256');
      let bytes = 0;
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, bytes);
        if (n === 0) break;
        hash.update(buf.subarray(0, n));
        bytes += n;
      }
      parentPort!.postMessage({ file, bytes, sha256: hash.digest('hex') });
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    parentPort!.postMessage({ file, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
  }
}
