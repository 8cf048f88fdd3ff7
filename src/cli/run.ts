import fs from 'node:fs';
import { isServerLocation } from '../db/conninfo.js';
import { precompilePGlite, wasmBaselineOnly } from '../db/wasm.js';
import { commandWords, longRunning, opensEmbedded } from './startup.js';

// Entry point for bin/cradle: exit with the command's code once output is flushed.
// A reader that stops early (`cradle --help | head`) closes the pipe: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

// Before any embedded database opens: a short command runs PGlite on baseline code, and PGlite's
// WebAssembly compiles while the rest of the CLI loads (src/db/wasm.ts).
const args = process.argv.slice(2);
if (!longRunning(commandWords(args))) wasmBaselineOnly();
if (opensEmbedded(args, process.env, configVault, isServerLocation)) precompilePGlite();

/** The "vault" of a config file, read without checking anything else (the command reads it properly). */
function configVault(file: string): string | undefined {
  try {
    const vault = (JSON.parse(fs.readFileSync(file, 'utf8')) as { vault?: unknown }).vault;
    return typeof vault === 'string' ? vault : undefined;
  } catch {
    return undefined;
  }
}

// Loaded after the compile has started: the program's definitions take a while to load themselves.
const { main } = await import('./main.js');
main(process.argv).then((code) => {
  process.exitCode = code;
});
