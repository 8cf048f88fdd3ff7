import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { COMMAND_GROUPS } from '../../src/cli/main.js';
import { buildProgram } from '../../src/cli/program.js';
import { baseProgram } from '../../src/cli/program-base.js';
import { commandWords, longRunning, opensEmbedded } from '../../src/cli/startup.js';
import { PACKAGE_ROOT } from '../../src/lib/paths.js';

// The entry point's look at the arguments before the program is built: which command, and whether it
// keeps V8's optimising WebAssembly compiler (src/db/wasm.ts).

describe('commandWords', () => {
  it('finds the command and subcommand past the global options and their values', () => {
    expect(commandWords(['incidents'])).toEqual(['incidents']);
    expect(commandWords(['--vault', '/v', 'logs', 'import', 'a.csv'])).toEqual(['logs', 'import']);
    expect(commandWords(['--vault=/v', '--hospital', 'h', 'canaries', 'list', '--json'])).toEqual(['canaries', 'list']);
    expect(commandWords(['--version'])).toEqual([]);
    expect(commandWords(['--', 'demo'])).toEqual([]);
  });
});

describe('longRunning', () => {
  it('names the commands that keep PostgreSQL busy for long', () => {
    expect(longRunning(['demo'])).toBe(true);
    expect(longRunning(['watch'])).toBe(true);
    expect(longRunning(['logs', 'import'])).toBe(true);
    expect(longRunning(['logs', 'list'])).toBe(false);
    expect(longRunning(['incidents'])).toBe(false);
    expect(longRunning(['canaries', 'list'])).toBe(false);
    expect(longRunning([])).toBe(false);
  });
});

describe('opensEmbedded', () => {
  const configs: Record<string, string> = { 'cradle.config.json': '.cradle', 'server.json': 'postgres://u@db/vault' };
  const configVault = (file: string) => configs[file];
  const isServer = (location: string) => /^postgres(ql)?:\/\/|^\s*\w+\s*=/.test(location);
  const opens = (args: string[], env: NodeJS.ProcessEnv = {}) => opensEmbedded(args, env, configVault, isServer);

  it("guesses from --vault, $CRADLE_VAULT, then the config's vault whether PGlite will run", () => {
    expect(opens(['incidents'])).toBe(true);
    expect(opens(['--config', 'server.json', 'incidents'])).toBe(false);
    expect(opens(['incidents'], { CRADLE_CONFIG: 'server.json' })).toBe(false);
    expect(opens(['--vault', 'postgres://u@db/v', 'hits'])).toBe(false);
    expect(opens(['hits', '--vault=host=db dbname=v'])).toBe(false);
    expect(opens(['hits'], { CRADLE_VAULT: 'service=vault' })).toBe(false);
    expect(opens(['--config', 'server.json', '--vault', 'here', 'hits'])).toBe(true);
    expect(opens(['--config', 'missing.json', 'init'])).toBe(true); // init makes an embedded vault
  });

  it('not for help, the version or completion', () => {
    for (const args of [[], ['--version'], ['-V'], ['--help'], ['incidents', '--help'], ['pool', 'list', '-h'], ['help', 'pool'], ['completion', 'bash']]) expect(opens(args)).toBe(false);
    expect(opens(['scan', '--', '--help'])).toBe(true);
  });
});

// `cradle --version`, `--help` and `<command> --help` load the program's definitions and nothing else:
// no database driver, no date, CSV or schema library (each command's action loads its own modules).
// Checked on the compiled CLI the binary runs (dist/, built by the test set-up): the static imports
// from the entry point, followed through cradle's own files.
describe("the program's definitions", () => {
  function staticImports(...entries: string[]): { files: string[]; packages: string[] } {
    const files = new Set<string>();
    const packages = new Set<string>();
    const todo = [...entries];
    while (todo.length) {
      const file = todo.pop()!;
      if (files.has(file)) continue;
      files.add(file);
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\s+(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
        const spec = m[1];
        if (spec.startsWith('.')) todo.push(path.resolve(path.dirname(file), spec));
        else if (!spec.startsWith('node:')) packages.add(spec);
      }
    }
    return { files: [...files], packages: [...packages].sort() };
  }

  it('import only commander from the entry point', () => {
    // The entry point imports the program's definitions (main.js) once it has started PGlite's compile.
    const entry = path.join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'run.js');
    expect(fs.readFileSync(entry, 'utf8')).toMatch(/^const \{ main \} = await import\('\.\/main\.js'\);$/m);
    const { files, packages } = staticImports(entry, path.join(path.dirname(entry), 'main.js'));
    expect(packages).toEqual(['commander']);
    const rel = files.map((f) => path.relative(path.join(PACKAGE_ROOT, 'dist', 'src'), f));
    expect(rel.filter((f) => /^(db\/(open|index)|vault|config\/index|targetdb\/mapping|workflows)/.test(f))).toEqual([]);
  });
});

// A command line that names a top-level command loads and registers that command's group only
// (src/cli/main.ts): the table must cover every command and alias, and each group must give the same
// commands, options and subcommands as the whole program (completion and help use the whole program).
describe('the command groups', () => {
  const shape = (cmd: Command): unknown => ({
    name: cmd.name(),
    aliases: cmd.aliases(),
    options: cmd.options.map((o) => o.flags),
    commands: cmd.commands.map(shape),
  });

  it('place every top-level command and alias in the group that defines it', async () => {
    const whole = buildProgram();
    const words = whole.commands.flatMap((c) => [c.name(), ...c.aliases()]).filter((w) => w !== 'completion');
    expect(Object.keys(COMMAND_GROUPS).sort()).toEqual([...words].sort());
    for (const word of words) {
      const program = baseProgram();
      (await COMMAND_GROUPS[word]())(program);
      const defined = whole.commands.find((c) => c.name() === word || c.aliases().includes(word))!;
      expect(program.commands.map(shape)).toContainEqual(shape(defined));
      for (const c of program.commands) expect(shape(c)).toEqual(shape(whole.commands.find((w) => w.name() === c.name())!));
    }
  });
});
