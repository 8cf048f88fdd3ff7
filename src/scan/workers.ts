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

/**
 * A chunk's result, and its bytes given back to be read into again. From worker threads the lines
 * their byte pass named may be left to match (`result.deferred`, matchDeferred).
 */
export interface Matched {
  result: ChunkResult;
  /** The task's bytes (the same view), or null if they could not be given back. */
  bytes: Uint8Array | null;
}

export interface ChunkEngine {
  /**
   * Match one chunk; `bytes` may be handed over to another thread and must not be used until they
   * are given back with the result.
   */
  match(task: Omit<ChunkTask, 'id'>): Promise<Matched>;
  close(): Promise<void>;
}

/** On the calling thread: no start-up cost, one core. */
export function inThread(matcher: ChunkMatcher): ChunkEngine {
  return {
    match: async (t) => ({ result: matcher.match(t.bytes, t.encoding, { header: t.header, delimiter: t.delimiter }), bytes: t.bytes }),
    close: async () => undefined,
  };
}

/** A compiled worker script: next to this module when running from dist/, in dist/ when running from src/ (tests). */
function workerScript(name: string): string {
  const here = path.join(path.dirname(fileURLToPath(import.meta.url)), name);
  return fs.existsSync(here) ? here : path.join(PACKAGE_ROOT, 'dist', 'src', 'scan', name);
}

const YOUNG_MB = 4;
/** Room for the matcher's indexes (about 4 KB a canary) and a few chunks in decoding. */
function oldGenerationMb(canaries: number): number {
  return Math.ceil(64 + (canaries * 6) / 1024);
}

/** Worker threads started before the canaries are known: given them once with `configure`. */
export interface WorkerPool extends ChunkEngine {
  /** How many canaries the threads' heaps were sized for. */
  readonly room: number;
  /** The canaries to match, sent once, before the first chunk. */
  configure(setup: WorkerSetup): void;
}

/**
 * `count` worker threads with heaps for `room` canaries, started at once: they boot and load the
 * matcher's code while the caller opens the vault, and build the matcher when `configure`d. Each
 * chunk goes to the one with the fewest chunks waiting.
 */
export function startWorkers(count: number, room: number): WorkerPool {
  const script = workerScript('worker.js');
  let configured = false;
  const pending = new Map<number, { resolve: (r: Matched) => void; reject: (e: Error) => void; worker: number }>();
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
    const worker = new Worker(script, { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB, maxOldGenerationSizeMb: oldGenerationMb(room) } });
    worker.on('message', (m: { id: number; result?: ChunkResult; bytes?: Uint8Array; error?: string }) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      load[w]--;
      if (m.error !== undefined) p.reject(new Error(`scan worker: ${m.error}`));
      else p.resolve({ result: m.result!, bytes: m.bytes ?? null });
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
    room,
    configure(setup) {
      if (configured) throw new Error('scan workers: configured twice');
      if (setup.signatures.length > room) throw new Error(`scan workers: ${setup.signatures.length} canaries for heaps sized for ${room}`);
      configured = true;
      for (const w of workers) w.postMessage(setup);
    },
    match(t) {
      if (failure) return Promise.reject(failure);
      if (!configured) return Promise.reject(new Error('scan workers: a chunk before the canaries'));
      const id = next++;
      const w = load.indexOf(Math.min(...load));
      load[w]++;
      return new Promise<Matched>((resolve, reject) => {
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

export interface FileHash {
  bytes: number;
  sha256: string;
}

/** Hashes of files computed one after another on a thread of their own. */
export interface HashThread {
  /** The file's size and SHA-256, or the error that stopped its reading. */
  hash(file: string): Promise<FileHash | { error: string }>;
  close(): Promise<void>;
}

/**
 * SHA-256 of `files` on a thread of its own, started at once: a large file is mostly hashed while
 * the vault opens, on the core that is otherwise idle then, instead of beside the matching threads.
 */
export function hashOnThread(files: readonly string[]): HashThread {
  const worker = new Worker(workerScript('hash-worker.js'), { workerData: { files }, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB, maxOldGenerationSizeMb: 32 } });
  const results = new Map<string, { promise: Promise<FileHash | { error: string }>; resolve: (r: FileHash | { error: string }) => void }>();
  for (const file of files) {
    let resolve!: (r: FileHash | { error: string }) => void;
    const promise = new Promise<FileHash | { error: string }>((r) => (resolve = r));
    results.set(file, { promise, resolve });
  }
  const settleAll = (error: string) => {
    for (const r of results.values()) r.resolve({ error });
  };
  worker.on('message', (m: { file: string } & (FileHash | { error: string })) => {
    const { file, ...r } = m;
    results.get(file)?.resolve(r);
  });
  worker.on('error', (err) => settleAll(`hash thread failed: ${err.message}`));
  worker.on('exit', () => settleAll('hash thread stopped'));
  return {
    hash: (file) => results.get(file)?.promise ?? Promise.resolve({ error: 'not hashed' }),
    close: async () => {
      await worker.terminate();
    },
  };
}
