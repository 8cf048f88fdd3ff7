import { Command, CommanderError } from 'commander';
import { UserError } from '../lib/errors.js';
import { OutFileError } from '../lib/out-file.js';
import { escapeControls } from '../lib/control.js';
import { redact } from '../lib/redact.js';
import { CRADLE_VERSION } from '../lib/version.js';
import { registerCanaries } from './canaries.js';
import { registerDemo } from './demo.js';
import { registerExports } from './exports.js';
import { registerScan } from './scan.js';
import { registerWatermark } from './watermark.js';
import { registerInit } from './init.js';
import { registerAlerts } from './alerts.js';
import { registerHits } from './hits.js';
import { registerIngest } from './ingest.js';
import { registerLogs } from './logs.js';
import { registerTrace } from './trace.js';
import { registerReport } from './report.js';
import { registerVerify } from './verify.js';
import { registerAudit } from './audit.js';
import { registerEvidence } from './evidence.js';
import { registerPool } from './pool.js';
import { registerRealism } from './realism.js';
import { registerSeed } from './seed.js';
import { registerTarget } from './target.js';
import { registerWatch } from './watch.js';
import { registerCompletion } from './completion.js';

// Exit codes: 0 ok, 1 failure, 2 bad usage. User errors are one line each, never a stack trace.
// Every error line is redacted (a URL in it may hold a password) and has its control characters
// escaped (it may quote a hostile log line or file name). A UserError's newlines are its intended
// line breaks (a list of problems): each line is printed as its own `cradle: ` line. An unexpected
// error is always one line.

/** An error text as printed lines: secrets hidden, controls escaped, split where `keepLines` allows. */
export function errorLines(message: string, keepLines: boolean): string[] {
  const text = redact(message);
  return (keepLines ? text.split('\n') : [text]).map(escapeControls);
}

export function buildProgram(): Command {
  const program = new Command('cradle')
    .version(CRADLE_VERSION, '-V, --version')
    .description('Plant canary newborn families, watch their trap numbers, and trace where leaked records came from.')
    .option('--config <file>', 'configuration file (default: ./cradle.config.json, or $CRADLE_CONFIG)')
    .option('--vault <dir|url>', "Cradle's own database: a directory (embedded), a postgres:// URL, a libpq connection string or service=NAME (default: $CRADLE_VAULT, else the config's)")
    .option('--target <dir|url>', "the hospital's database: as --vault, or mysql://user@host:3306/db (default: $CRADLE_TARGET_URL, else the config's)")
    .option('--hospital <name>', 'which hospital of the config to work on')
    .showSuggestionAfterError()
    // Commander quotes the arguments it rejects, which may be a URL with a password or raw controls.
    .configureOutput({ outputError: (text, write) => write(`${errorLines(text.replace(/\n$/, ''), true).join('\n')}\n`) })
    .exitOverride()
    .addHelpText('after', '\nStart here (in a clone of the repository: npx cradle …):\n  cradle demo                     # a demo hospital with canaries planted, in ./cradle-demo\n  cd cradle-demo && cradle canaries list');
  registerInit(program);
  registerTarget(program);
  registerPool(program);
  registerSeed(program);
  registerCanaries(program);
  registerExports(program);
  registerWatermark(program);
  registerScan(program);
  registerWatch(program);
  registerIngest(program);
  registerHits(program);
  registerLogs(program);
  registerTrace(program);
  registerReport(program);
  registerVerify(program);
  registerAudit(program);
  registerRealism(program);
  registerEvidence(program);
  registerAlerts(program);
  registerDemo(program);
  registerCompletion(program);
  for (const cmd of program.commands) applyExitOverride(cmd);
  return program;
}

function applyExitOverride(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) applyExitOverride(sub);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
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
