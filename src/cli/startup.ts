// What the CLI's entry point decides before the program is built: which command runs, and whether it
// is one of the long ones. Imports nothing.

/** The program's options that take a value (`--vault x` or `--vault=x`), skipped to find the command. */
const GLOBAL_VALUE_OPTIONS = new Set(['--config', '--vault', '--target', '--hospital']);

/** The command and its subcommand as written (`['logs', 'import']`), from the arguments after the script. */
export function commandWords(args: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < args.length && words.length < 2; i++) {
    const a = args[i];
    if (a === '--') break;
    if (a.startsWith('-')) {
      if (words.length === 0 && GLOBAL_VALUE_OPTIONS.has(a)) i++;
      continue;
    }
    words.push(a);
  }
  return words;
}

/**
 * Commands that keep PostgreSQL busy for many seconds on an embedded database (or serve for hours):
 * they keep V8's optimising WebAssembly compiler. Every other command is over in a second or two.
 */
const LONG_RUNNING = ['demo', 'watch', 'logs import', 'realism', 'target profile', 'seed', 'rotate', 'canaries advance'];

export function longRunning(words: readonly string[]): boolean {
  const [cmd, sub] = words;
  return LONG_RUNNING.includes(cmd ?? '') || LONG_RUNNING.includes(`${cmd} ${sub}`);
}
