import { Command } from 'commander';
import { escapeControls } from '../lib/control.js';
import { redact } from '../lib/redact.js';
import { CRADLE_VERSION } from '../lib/version.js';

// The program without its commands: its name, version, global options, error output and footer. Each
// command group (one file each) registers its commands on it: all of them for help and tests
// (program.ts), only the one a command line names when it runs (main.ts).

/** An error text as printed lines: secrets hidden, controls escaped, split where `keepLines` allows. */
export function errorLines(message: string, keepLines: boolean): string[] {
  const text = redact(message);
  return (keepLines ? text.split('\n') : [text]).map(escapeControls);
}

/** The program with its global options and no commands yet. */
export function baseProgram(): Command {
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
  return program;
}

/** After the commands are registered: every command reports errors to main() instead of exiting. */
export function finishProgram(program: Command): Command {
  for (const cmd of program.commands) applyExitOverride(cmd);
  return program;
}

function applyExitOverride(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) applyExitOverride(sub);
}
