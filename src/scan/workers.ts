import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TextEncoding } from '../lib/encoding.js';
import { PACKAGE_ROOT } from '../lib/paths.js';
import type { ChunkMatcher, ChunkResult } from './chunk.js';
import type { CanarySignature } from '../lib/match/types.js';

// Where chunks of a large file are matched: on worker threads (one per core) or, for small files,
// on the calling thread. Both run the same matchChunk.

export interface WorkerSetup {
  signatures: CanarySignature[];
  names: boolean;
}

export interface ChunkTask {
  id: number;
  bytes: Uint8Array;
  encoding: TextEncoding;
  header?: string[];
  delimiter?: string;
}

export interface ChunkEngine {
  /** Match one chunk; `bytes` may be handed over to another thread and must not be used after. */
  match(task: Omit<ChunkTask, 'id'>): Promise<ChunkResult>;
  close(): Promise<void>;
}

/** On the calling thread: no start-up cost, one core. */
export function inThread(matcher: ChunkMatcher): ChunkEngine {
  return {
    match: async (t) => matcher.match(t.bytes, t.encoding, { header: t.header, delimiter: t.delimiter }),
    close: async () => undefined,
  };
}

/** The compiled worker script: next to this module when running from dist/, in dist/ when running from src/ (tests). */
function workerScript(): string {
  const here = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.js');
  return fs.existsSync(here) ? here : path.join(PACKAGE_ROOT, 'dist', 'src', 'scan', 'worker.js');
}

const YOUNG_MB = 4;
/** Room for the matcher's indexes (about 4 KB a canary) and a few chunks in decoding. */
function oldGenerationMb(canaries: number): number {
  return Math.ceil(64 + (canaries * 6) / 1024);
}

/** `count` worker threads; each chunk goes to the one with the fewest chunks waiting. */
export function onWorkers(setup: WorkerSetup, count: number): ChunkEngine {
  const script = workerScript();
  const pending = new Map<number, { resolve: (r: ChunkResult) => void; reject: (e: Error) => void; worker: number }>();
  const load = new Array<number>(count).fill(0);
  let failure: Error | null = null;
  const fail = (err: Error) => {
    failure ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const workers = Array.from({ length: count }, (_, w) => {
    // A small young generation and an old one sized for the matcher keep each thread's garbage (decoded
    // chunks) collected early: memory stays flat however big the file.
    // The signatures go in a message, not workerData, so that they can be collected once indexed.
    const worker = new Worker(script, { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB, maxOldGenerationSizeMb: oldGenerationMb(setup.signatures.length) } });
    worker.postMessage(setup);
    worker.on('message', (m: { id: number; result?: ChunkResult; error?: string }) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      load[w]--;
      if (m.error !== undefined) p.reject(new Error(`scan worker: ${m.error}`));
      else p.resolve(m.result!);
    });
    worker.on('error', (err) => fail(new Error(`scan worker failed: ${err.message}`)));
    worker.on('exit', (code) => {
      if (code !== 0 && !closing) fail(new Error(`scan worker exited with code ${code}`));
    });
    return worker;
  });
  let next = 0;
  let closing = false;
  return {
    match(t) {
      if (failure) return Promise.reject(failure);
      const id = next++;
      const w = load.indexOf(Math.min(...load));
      load[w]++;
      return new Promise<ChunkResult>((resolve, reject) => {
        pending.set(id, { resolve, reject, worker: w });
        const task: ChunkTask = { id, ...t };
        // A buffer bigger than Node's pool is the chunk's own: hand it over instead of copying it.
        const buffer = t.bytes.buffer;
        workers[w].postMessage(task, buffer instanceof ArrayBuffer && buffer.byteLength > Buffer.poolSize ? [buffer] : []);
      });
    },
    async close() {
      closing = true;
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
