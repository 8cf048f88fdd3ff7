import fs from 'node:fs';
import { customAlphabet } from 'nanoid';
import type { Database } from '../db/index.js';
import * as vault from '../vault/index.js';
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import { ChunkMatcher, matchDeferred, matchRecord, tally, type ChunkResult, type FoundMatch, type WeakTally } from './chunk.js';
import { CHUNKED_FORMATS, scanChunked } from './chunked.js';
import { readRecords, resolveFormat, type FileFacts, type ScanRecord, type ScanWarning } from './files.js';
import { CanaryMatcher } from '../lib/match/matcher.js';
import { signatureOf } from '../lib/match/signature.js';
import { hashOnThread, inThread, startWorkers, type HashThread, type WorkerPool } from './workers.js';

// `cradle scan`: read seized files, find canaries however they were reformatted, and record the incident
// with the files' hashes and every match: the evidence. Which channel leaked them is the trace model's
// answer, computed from that evidence (src/workflows/scan-and-trace.ts, `cradle trace`), never stored.

const incidentId = customAlphabet('0123456789abcdefghjkmnpqrstvwxyz', 10);

export { CONFIDENT, WEAK } from './chunk.js';
/** Confident matches kept in detail; past this they are counted only. */
export const MAX_KEPT = 100_000;
/** Files at least this big are matched on worker threads. */
export const PARALLEL_FROM = 16 << 20;

export interface ScanOptions {
  /** Look for canaries' names in every record, also those without a canary phone or e-mail (slower). */
  names?: boolean;
  /**
   * Worker threads for CSV/TSV/JSONL/SQL/text files. Default: one per core for files of
   * `parallelFrom` bytes or more, the calling thread for smaller ones; 1: always the calling thread.
   */
  threads?: number;
  /** Smallest file matched on worker threads (default PARALLEL_FROM). */
  parallelFrom?: number;
  /** Threads started before the vault was open (startScan, with the same files and options). */
  start?: ScanStart;
}

/** Canaries the worker threads' heaps are sized for when started before the vault says how many. */
export const WORKER_ROOM = 20_000;

/** The scan's work that needs no vault, started at once: worker threads, the large files' hashes. */
export interface ScanStart {
  /** The files read in chunks on worker threads. */
  readonly parallel: ReadonlySet<string>;
  workers: WorkerPool | null;
  readonly hashes: HashThread | null;
  /** Ends the threads; runScan does it when it is done. */
  close(): Promise<void>;
}

function threadsOf(options: ScanOptions): number {
  return Math.max(1, options.threads ?? os.availableParallelism());
}

/** Whether `file` is read in chunks on worker threads; false for what cannot be (stdin, XLSX, a missing file). */
function onThreads(file: string, options: ScanOptions): boolean {
  if (file === '-' || threadsOf(options) === 1) return false;
  try {
    if (!CHUNKED_FORMATS.has(resolveFormat(file, () => undefined))) return false;
    return options.threads !== undefined || fs.statSync(file).size >= (options.parallelFrom ?? PARALLEL_FROM);
  } catch {
    return false;
  }
}

/**
 * Starts what a scan of `files` can do before the vault is open: the worker threads boot and load
 * their code, and the large files are hashed on a thread of their own, while the vault opens on this
 * one (about a second that used the second core for nothing). Pass it to runScan as `start`.
 */
export function startScan(files: readonly string[], options: ScanOptions = {}): ScanStart {
  const parallel = new Set(files.filter((f) => onThreads(f, options)));
  let closed: Promise<void> | undefined;
  const start: ScanStart = {
    parallel,
    workers: parallel.size ? startWorkers(threadsOf(options), WORKER_ROOM) : null,
    hashes: parallel.size ? hashOnThread([...parallel]) : null,
    close: () => (closed ??= Promise.all([start.workers?.close(), start.hashes?.close()]).then(() => undefined)),
  };
  return start;
}

/** `line`: for a text file, the 1-based line of the file the match is on (the one `place` names). */
export type ScanMatch = vault.ScanMatchRecord & { line?: number };

export interface ScanResult {
  incidentId: string | null;
  files: (FileFacts & { records: number; warnings: ScanWarning[] })[];
  /** Confident matches, with their place. */
  matches: ScanMatch[];
  /** Canaries found confidently, with how many places. */
  canaries: { id: string; confidence: number; matches: number }[];
  /** Canaries with weak evidence only (names, unconfirmed masked phones): counted, not attributed. */
  weak: { id: string; confidence: number; matches: number }[];
}

function placeOf(r: ScanRecord): string {
  return r.sheet !== undefined ? `sheet ${r.sheet} row ${r.row}` : `line ${r.line}`;
}

/**
 * A full collection of this thread's heap, now. Why: after a large file V8 has not yet collected the
 * matcher and the chunks' results (its old generation may grow to about three times what was live at
 * its last collection, which came before the matcher was built): 50-60 MiB at 10,000 canaries, dead
 * but resident while PGlite records the incident and the JSON is written, the scan's peak of memory.
 * `global.gc` exists only with --expose-gc; the flag set now gives it to a new context (as
 * jest-leak-detector does), and is unset again. One collection: 50-250 ms on the 1 GiB dump.
 */
export function collectGarbage(): void {
  let gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('typeof gc === "function" ? gc : undefined') as (() => void) | undefined;
    v8.setFlagsFromString('--no-expose-gc');
  }
  gc?.(); // without it (a runtime that does not give it) only the peak is higher
}

export async function runScan(vaultDb: Database, files: readonly string[], onProgress?: (file: string, records: number, fraction?: number) => void, options: ScanOptions = {}): Promise<ScanResult> {
  // Started before the canaries are read, so that the threads boot meanwhile.
  const start = options.start ?? startScan(files, options);
  try {
    return await scanWith(vaultDb, files, start, onProgress, options);
  } finally {
    await start.close();
  }
}

async function scanWith(vaultDb: Database, files: readonly string[], start: ScanStart, onProgress: ((file: string, records: number, fraction?: number) => void) | undefined, options: ScanOptions): Promise<ScanResult> {
  const signatures = (await vault.allCanaryFamilies(vaultDb)).map((c) => signatureOf(c.id, c.family));
  const names = options.names ?? false;
  let inThreadMatcher: CanaryMatcher | null = null; // built when a file is matched on this thread
  const matcher = () => (inThreadMatcher ??= new CanaryMatcher(signatures));
  let chunkMatcher: ChunkMatcher | null = null;
  const result: ScanResult = { incidentId: null, files: [], matches: [], canaries: [], weak: [] };
  const confident: WeakTally = new Map();
  const weak: WeakTally = new Map();
  if (start.workers) {
    if (signatures.length > start.workers.room) { // more canaries than the heaps were sized for
      await start.workers.close();
      start.workers = startWorkers(threadsOf(options), signatures.length);
    }
    start.workers.configure({ signatures, names });
  }
  const keep = (file: string, place: string, m: FoundMatch, line: number | undefined) => {
    tally(confident, m.canaryId, m.confidence);
    if (result.matches.length >= MAX_KEPT) return;
    // A chunk's match carries its line within the chunk: replaced by the file's.
    const kept: ScanMatch = { ...m, file, place, line };
    if (line === undefined) delete kept.line;
    result.matches.push(kept);
  };
  // With worker threads, this thread builds the full matcher once, in slices while the threads run
  // the byte pass, and matches the lines they name; their chunks wait for it in file order.
  const waiting: { file: string; firstLine: number; chunk: ChunkResult }[] = [];
  const drain = () => {
    while (waiting.length && (inThreadMatcher || !waiting[0].chunk.deferred)) {
      const { file, firstLine, chunk } = waiting.shift()!;
      if (chunk.deferred) matchDeferred(inThreadMatcher!, chunk, names);
      for (const m of chunk.matches) keep(file, `line ${firstLine + m.line}`, m, firstLine + m.line);
      for (const [id, confidence, n] of chunk.weak) tally(weak, id, confidence, n);
    }
  };
  const building = start.workers && !names // with --names the threads match every line themselves
    ? CanaryMatcher.built(signatures).then((m) => {
      inThreadMatcher ??= m;
      drain();
    })
    : null;
  building?.catch(() => undefined); // awaited below
  for (const file of files) {
    const facts: FileFacts = { file: file === '-' ? 'stdin' : file, bytes: 0, sha256: '', format: '', encoding: '' };
    const warnings: ScanWarning[] = [];
    const warn = (w: ScanWarning) => warnings.push(w);
    let records = 0;
    const size = file === '-' ? 0 : fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    const fraction = () => (size > 0 ? facts.bytes / size : undefined);
    try {
      const format = resolveFormat(file, warn);
      facts.format = format;
      let chunked = false;
      if (file !== '-' && CHUNKED_FORMATS.has(format)) {
        const parallel = start.parallel.has(file) && start.workers !== null;
        if (!parallel) await building;
        const engine = parallel ? start.workers! : inThread((chunkMatcher ??= new ChunkMatcher(matcher(), signatures, names)));
        chunked = await scanChunked(file, format, facts, warn, {
          engine,
          hash: parallel ? start.hashes?.hash(file) : undefined,
          inFlight: parallel ? 2 * threadsOf(options) : 1,
          onChunk: (chunk, firstLine) => {
            waiting.push({ file: facts.file, firstLine, chunk });
            drain();
            records += chunk.lines;
            onProgress?.(facts.file, records, fraction());
          },
        });
      }
      if (!chunked) {
        await building; // not a second matcher beside the one being built
        for await (const record of readRecords(file, facts, warn, format)) {
          records++;
          if (records % 50_000 === 0) onProgress?.(facts.file, records, fraction());
          for (const m of matchRecord(matcher(), record.text, { names, header: record.header, delimiter: record.delimiter }, weak)) keep(facts.file, placeOf(record), m, record.line);
        }
      }
    } catch (err) {
      // An unreadable file is a warning; the scan goes on with the rest.
      warn({ file, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, skipped: true });
    }
    result.files.push({ ...facts, records, warnings });
  }
  await building;
  drain();
  // The matcher is not needed to record the incident (PGlite's peak of memory, with many matches).
  inThreadMatcher = chunkMatcher = null;
  await start.close(); // before the incident is recorded: the threads' memory and cores are free
  if (start.parallel.size) collectGarbage();

  const ranked = (m: typeof weak) => [...m.entries()].map(([id, b]) => ({ id, ...b })).sort((a, b) => b.confidence - a.confidence || a.id.localeCompare(b.id));
  result.canaries = ranked(confident);
  result.weak = ranked(weak).filter((w) => !confident.has(w.id));

  if (result.matches.length) {
    result.incidentId = incidentId();
    // The title and summary hold evidence only: a ranking stored here would go stale as the vault learns
    // more (exports, access logs), and `cradle trace` computes it afresh.
    const title = `scan of ${files.length} file(s): ${result.canaries.length} canaries found`;
    await vaultDb.transaction((tx) =>
      vault.recordScanIncident(
        tx,
        result.incidentId!,
        title,
        { canaries: result.canaries, weak: result.weak.length },
        result.files.map((f) => ({ file: f.file, sha256: f.sha256, bytes: f.bytes, format: f.format, encoding: f.encoding, records: f.records, warnings: f.warnings })),
        result.matches,
      ),
    );
  }
  return result;
}
