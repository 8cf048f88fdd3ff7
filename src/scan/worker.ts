import { parentPort } from 'node:worker_threads';
import { decodeWhole } from '../encoding.js';
import { matchChunk } from './chunk.js';
import { CanaryMatcher } from './matcher.js';
import type { ChunkTask, WorkerSetup } from './workers.js';

// A scan worker thread: builds its own matcher once, then decodes and matches the chunks it is sent.

let matcher: CanaryMatcher | null = null;
let names = false;
parentPort!.on('message', (task: ChunkTask | WorkerSetup) => {
  if ('signatures' in task) { // the first message
    matcher = new CanaryMatcher(task.signatures);
    names = task.names;
    return;
  }
  try {
    const text = decodeWhole(task.bytes, task.encoding);
    parentPort!.postMessage({ id: task.id, result: matchChunk(matcher!, text, { names, header: task.header, delimiter: task.delimiter }) });
  } catch (err) {
    parentPort!.postMessage({ id: task.id, error: err instanceof Error ? err.message : String(err) });
  }
});
