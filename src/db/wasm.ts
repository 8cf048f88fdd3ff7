import v8 from 'node:v8';

// PGlite is PostgreSQL compiled to WebAssembly. V8 compiles each function with its baseline compiler
// (Liftoff) when first called and recompiles the busy ones with its optimising compiler (TurboFan) in
// the background. For a command that runs a second or two, those recompilations cost more CPU than
// they save: measured on a demo vault, `cradle incidents`, `trace`, `report` and `verify` used about
// half the CPU with baseline code only. Long runs on an embedded database (the demo, `watch`, bulk
// imports) gain from the optimised code and keep the default. Imports nothing heavy: the CLI's
// entry point calls it before anything else loads.

let chosen = false;

/** Compile PGlite's WebAssembly with the baseline compiler only. Call before the first database opens. */
export function wasmBaselineOnly(): void {
  if (chosen) return;
  chosen = true;
  v8.setFlagsFromString('--liftoff-only');
}
