import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import v8 from 'node:v8';

// PGlite is PostgreSQL compiled to WebAssembly. V8 compiles each function with its baseline compiler
// (Liftoff) when first called and recompiles the busy ones with its optimising compiler (TurboFan) in
// the background. For a command that runs a second or two, those recompilations cost more CPU than
// they save: measured on a demo vault, `cradle incidents`, `trace`, `report` and `verify` used about
// half the CPU with baseline code only. Long runs on an embedded database (the demo, `watch`, bulk
// imports) gain from the optimised code and keep the default. Imports nothing heavy: the CLI's
// entry point calls it before anything else loads.
//
// The entry point also starts compiling PGlite's 9 MB of WebAssembly at once when the command will
// likely open an embedded database (src/cli/startup.ts): the compile runs on V8's background threads
// while the main thread loads the CLI's modules and reads the config (about 0.1 s), instead of after.

let chosen = false;

/** Compile PGlite's WebAssembly with the baseline compiler only. Call before the first database opens. */
export function wasmBaselineOnly(): void {
  if (chosen) return;
  chosen = true;
  v8.setFlagsFromString('--liftoff-only');
}

let compiled: Promise<WebAssembly.Module | undefined> | null = null;

/** Start reading and compiling PGlite's WebAssembly now (once per process), without waiting for it. */
export function precompilePGlite(): void {
  compiled ??= (async () => {
    try {
      const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
      return await WebAssembly.compile(await fs.promises.readFile(path.join(path.dirname(entry), 'pglite.wasm')));
    } catch {
      return undefined; // PGlite finds and compiles its file itself
    }
  })();
}

/** PGlite's compiled WebAssembly (its compile started now if not yet), or undefined if it could not be made. */
export function pgliteModule(): Promise<WebAssembly.Module | undefined> {
  precompilePGlite();
  return compiled!;
}
