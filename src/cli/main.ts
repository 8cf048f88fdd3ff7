import { CommanderError, type Command } from 'commander';
import { UserError } from '../lib/errors.js';
import { OutFileError } from '../lib/out-file.js';
import { redact } from '../lib/redact.js';
import { baseProgram, errorLines, finishProgram } from './program-base.js';
import { commandWords } from './startup.js';

export { errorLines };

// Exit codes: 0 ok, 1 failure, 2 bad usage. User errors are one line each, never a stack trace.
// Every error line is redacted (a URL in it may hold a password) and has its control characters
// escaped (it may quote a hostile log line or file name). A UserError's newlines are its intended
// line breaks (a list of problems): each line is printed as its own `cradle: ` line. An unexpected
// error is always one line.

type Register = (program: Command) => void;

/**
 * The command group (file) of each top-level command and alias: a command line naming one of these
 * loads and registers that group only, not all twenty (their modules take about 20 ms to load). Help,
 * completion and anything else get the whole program (program.ts); test/cli/startup.test.ts checks
 * this table against it.
 */
export const COMMAND_GROUPS: Record<string, () => Promise<Register>> = {
  init: () => import('./init.js').then((m) => m.registerInit),
  target: () => import('./target.js').then((m) => m.registerTarget),
  pool: () => import('./pool.js').then((m) => m.registerPool),
  seed: () => import('./seed.js').then((m) => m.registerSeed),
  rotate: () => import('./seed.js').then((m) => m.registerSeed),
  canaries: () => import('./canaries.js').then((m) => m.registerCanaries),
  export: () => import('./exports.js').then((m) => m.registerExports),
  exports: () => import('./exports.js').then((m) => m.registerExports),
  watermark: () => import('./watermark.js').then((m) => m.registerWatermark),
  scan: () => import('./scan.js').then((m) => m.registerScan),
  watch: () => import('./watch.js').then((m) => m.registerWatch),
  ingest: () => import('./ingest.js').then((m) => m.registerIngest),
  triage: () => import('./hits.js').then((m) => m.registerHits),
  hits: () => import('./hits.js').then((m) => m.registerHits),
  incidents: () => import('./hits.js').then((m) => m.registerHits),
  contact: () => import('./hits.js').then((m) => m.registerHits),
  logs: () => import('./logs.js').then((m) => m.registerLogs),
  tripwires: () => import('./logs.js').then((m) => m.registerLogs),
  trace: () => import('./trace.js').then((m) => m.registerTrace),
  report: () => import('./report.js').then((m) => m.registerReport),
  verify: () => import('./verify.js').then((m) => m.registerVerify),
  audit: () => import('./audit.js').then((m) => m.registerAudit),
  realism: () => import('./realism.js').then((m) => m.registerRealism),
  evidence: () => import('./evidence.js').then((m) => m.registerEvidence),
  alerts: () => import('./alerts.js').then((m) => m.registerAlerts),
  demo: () => import('./demo.js').then((m) => m.registerDemo),
};

/** The program for this command line: its command's group only where the table knows it. */
async function programFor(argv: readonly string[]): Promise<Command> {
  const args = argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) return finishProgram(baseProgram());
  const [word] = commandWords(args);
  const group = word !== undefined && Object.hasOwn(COMMAND_GROUPS, word) ? COMMAND_GROUPS[word] : undefined;
  if (!group) return (await import('./program.js')).buildProgram();
  const program = baseProgram();
  (await group())(program);
  return finishProgram(program);
}

export async function main(argv: string[]): Promise<number> {
  try {
    const program = await programFor(argv);
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed the message (or the help/version text).
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UserError || err instanceof OutFileError) {
      for (const line of errorLines(err.message, true)) process.stderr.write(`cradle: ${line}\n`);
      return 1;
    }
    const e = err as Error;
    process.stderr.write(`cradle: unexpected error: ${errorLines(String(e.message), false)[0]}\n`);
    if (process.env.CRADLE_DEBUG) process.stderr.write(`${redact(String(e.stack))}\n`);
    else process.stderr.write('cradle: set CRADLE_DEBUG=1 to see the stack trace, and please report it\n');
    return 1;
  }
}
