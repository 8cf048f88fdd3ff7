// What the CLI's entry point decides before the program is built: which command runs, and whether it
// is one of the long ones, and whether it will open an embedded database. Imports nothing.

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
 * Commands that keep PostgreSQL busy for many seconds on an embedded database (or serve for hours,
 * as `watch` and `ingest sms --follow` do): they keep V8's optimising WebAssembly compiler. Every
 * other command is over in a second or two.
 */
const LONG_RUNNING = ['demo', 'watch', 'logs import', 'realism', 'target profile', 'seed', 'rotate', 'canaries advance', 'ingest sms'];

export function longRunning(words: readonly string[]): boolean {
  const [cmd, sub] = words;
  return LONG_RUNNING.includes(cmd ?? '') || LONG_RUNNING.includes(`${cmd} ${sub}`);
}

/** Commands that open no embedded database, whatever the vault. */
const NO_DATABASE = ['completion', 'help'];

/**
 * Whether the command will likely open an embedded database, so that PGlite's WebAssembly is worth
 * compiling at once, on V8's background threads, while the CLI's modules load (src/db/wasm.ts). Not
 * for help or the version, nor where the vault is a server (--vault, $CRADLE_VAULT, else the config
 * file's "vault", which `configVault` reads). A wrong guess costs a background compile, nothing else.
 */
export function opensEmbedded(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  configVault: (file: string) => string | undefined,
  isServer: (location: string) => boolean,
): boolean {
  const words = commandWords(args);
  if (words.length === 0 || NO_DATABASE.includes(words[0])) return false;
  const before = args.indexOf('--');
  const options = before < 0 ? args : args.slice(0, before);
  if (options.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-V')) return false;
  const value = (name: string): string | undefined => {
    for (let i = 0; i < options.length; i++) {
      if (options[i] === name) return options[i + 1];
      if (options[i].startsWith(`${name}=`)) return options[i].slice(name.length + 1);
    }
    return undefined;
  };
  const vault = value('--vault') ?? (env.CRADLE_VAULT || undefined) ?? configVault(value('--config') ?? (env.CRADLE_CONFIG || undefined) ?? 'cradle.config.json');
  return vault === undefined || !isServer(vault);
}
