import { wasmBaselineOnly } from '../db/wasm.js';
import { main } from './main.js';
import { commandWords, longRunning } from './startup.js';

// Entry point for bin/cradle: exit with the command's code once output is flushed.
// A reader that stops early (`cradle --help | head`) closes the pipe: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

// Before any embedded database opens: a short command runs PGlite on baseline code (src/db/wasm.ts).
if (!longRunning(commandWords(process.argv.slice(2)))) wasmBaselineOnly();

main(process.argv).then((code) => {
  process.exitCode = code;
});
