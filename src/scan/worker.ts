import { parentPort } from 'node:worker_threads';
import { ChunkMatcher } from './chunk.js';
import { CanaryMatcher } from '../lib/match/matcher.js';
import type { ChunkTask, WorkerSetup } from './workers.js';

// A scan worker thread: runs the byte pre-filter over the chunks it is sent and sends back the lines
// it names, decoded, for the main thread to match (it builds the full matcher once for all threads).
// Chunks the byte pass cannot read (UTF-16, lines in two encodings, --names) are matched here, with
// a full matcher built when the first of them comes.

let matcher: ChunkMatcher | null = null;
parentPort!.on('message', (task: ChunkTask | WorkerSetup) => {
  if ('signatures' in task) { // the first message
    const { signatures } = task;
    matcher = new ChunkMatcher(() => new CanaryMatcher(signatures), signatures, task.names);
    return;
  }
  // The bytes go back with the answer, to be read into again: dropped here, each chunk's buffer
  // (external to the heap) lived until a collection, tens of MiB a thread.
  const give = task.bytes.buffer instanceof ArrayBuffer ? [task.bytes.buffer] : [];
  try {
    parentPort!.postMessage({ id: task.id, result: matcher!.match(task.bytes, task.encoding, { header: task.header, delimiter: task.delimiter }, true), bytes: task.bytes }, give);
  } catch (err) {
    parentPort!.postMessage({ id: task.id, error: err instanceof Error ? err.message : String(err), bytes: task.bytes }, give);
  }
});
