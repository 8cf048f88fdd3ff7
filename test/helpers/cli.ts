import { spawn } from 'node:child_process';
import path from 'node:path';
import { closeLingering } from '../../src/db/index.js';
import { PACKAGE_ROOT } from '../../src/lib/paths.js';

// Two ways to run Cradle's CLI in a given directory:
//  - cradle(): the real `cradle` binary (bin/cradle, a Node process of its own), as a user would;
//  - cradleInProcess(): the same program (src/cli/main.ts's main) inside the test's process, its
//    stdout, stderr and exit code captured: no Node start-up, no module loading, no fresh PGlite
//    WebAssembly compile per run (about 1.5 CPU-seconds a run saved). For tests of arguments, help,
//    exit codes, messages and command behaviour; what only a process of its own shows (the lock file
//    naming its command line, a signal, stdin, the launcher) stays with cradle().

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string>;
}

/** The variables that would point the CLI at another vault, target or config: unset unless given. */
const LOCATION_VARIABLES = ['CRADLE_VAULT', 'CRADLE_TARGET_URL', 'CRADLE_CONFIG'];

export async function cradle(args: string[], options: CliOptions & { input?: string }): Promise<CliResult> {
  await closeLingering(); // the binary opens the databases itself
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, ...options.env };
    for (const key of LOCATION_VARIABLES) if (!options.env?.[key]) delete env[key];
    const child = spawn(process.execPath, [path.join(PACKAGE_ROOT, 'bin', 'cradle'), ...args], {
      cwd: options.cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

type Write = typeof process.stdout.write;

/** A write that appends to `sink` instead of the stream (callback and all, as a stream would). */
function capture(sink: string[]): Write {
  return ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void) => {
    sink.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = typeof encoding === 'function' ? encoding : cb;
    if (done) process.nextTick(done);
    return true;
  }) as Write;
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `cradle <args>` in this process, as bin/cradle would run it in its own: in `cwd`, with
 * process.argv as the binary's, the location variables unset unless `env` gives them, its output and
 * exit code captured; the process's pid is the test's (lock files name it). Runs are
 * queued (the working directory, environment and standard streams are the process's).
 */
export function cradleInProcess(args: string[], options: CliOptions): Promise<CliResult> {
  const run = async (): Promise<CliResult> => {
    const { main } = await import('../../src/cli/main.js');
    const argv = [process.execPath, path.join(PACKAGE_ROOT, 'bin', 'cradle'), ...args];
    const saved = { argv: process.argv, cwd: process.cwd(), env: { ...process.env }, exitCode: process.exitCode, out: process.stdout.write, err: process.stderr.write, tty: [process.stdout.isTTY, process.stderr.isTTY] };
    for (const key of LOCATION_VARIABLES) if (!options.env?.[key]) delete process.env[key];
    Object.assign(process.env, options.env);
    const stdout: string[] = [];
    const stderr: string[] = [];
    process.exitCode = undefined;
    process.argv = argv; // reports and the lock file name the command line from it
    process.chdir(options.cwd);
    process.stdout.write = capture(stdout);
    process.stderr.write = capture(stderr);
    // Pipes, as for the binary (a terminal would get progress lines).
    process.stdout.isTTY = false;
    process.stderr.isTTY = false;
    try {
      const code = await main(argv);
      return { code, stdout: stdout.join(''), stderr: stderr.join('') };
    } finally {
      process.stdout.write = saved.out;
      process.stderr.write = saved.err;
      [process.stdout.isTTY, process.stderr.isTTY] = saved.tty as [true, true];
      process.chdir(saved.cwd);
      process.argv = saved.argv;
      process.exitCode = saved.exitCode;
      for (const key of Object.keys(process.env)) if (!(key in saved.env)) delete process.env[key];
      Object.assign(process.env, saved.env);
    }
  };
  const result = queue.then(run);
  queue = result.catch(() => undefined);
  return result;
}

export function json<T = unknown>(result: CliResult): T {
  if (result.code !== 0) throw new Error(`cradle exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
