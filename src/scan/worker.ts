import { parentPort } from 'node:worker_threads';
import { ChunkMatcher } from './chunk.js';
import { CanaryMatcher } from '../lib/match/matcher.js';
import type { ChunkTask, WorkerSetup } from './workers.js';

// A scan worker thread: builds its own matcher once, then decodes and matches the chunks it is sent.

let matcher: ChunkMatcher | null = null;
parentPort!.on('message', (task: ChunkTask | WorkerSetup) => {
  if ('signatures' in task) { // the first message
    matcher = new ChunkMatcher(new CanaryMatcher(task.signatures), task.signatures, task.names);
    return;
  }
  // The bytes go back with the answer, to be read into again: dropped here, each chunk's buffer
  // (external to the heap) lived until a collection, tens of MiB a thread.
  const give = task.bytes.buffer instanceof ArrayBuffer ? [task.bytes.buffer] : [];
  try {
    parentPort!.postMessage({ id: task.id, result: matcher!.match(task.bytes, task.encoding, { header: task.header, delimiter: task.delimiter }), bytes: task.bytes }, give);
  } catch (err) {
    parentPort!.postMessage({ id: task.id, error: err instanceof Error ? err.message : String(err), bytes: task.bytes }, give);
  }
});
