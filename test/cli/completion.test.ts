import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from '@jest/globals';
import { bashCompletion, completionNodes, zshCompletion } from '../../src/cli/completion.js';
import { buildProgram } from '../../src/cli/program.js';
import { cradleInProcess } from '../helpers/cli.js';
import { scratchDir } from '../helpers/db.js';
import { itWith, ZSH } from '../helpers/needs.js';

// `cradle completion bash|zsh` is generated from the program itself: every command of the tree must
// complete, with its subcommands and its options, in a real bash (and zsh where installed), driven
// the way the shell drives a completion function.

interface Expected {
  /** The words after `cradle`, e.g. ["pool", "add"]. */
  words: string[];
  subcommands: string[];
  options: string[];
}

function commandTree(program: Command): Expected[] {
  const found: Expected[] = [];
  const walk = (cmd: Command, words: string[]) => {
    const options = cmd.options.map((o) => o.long).filter((l): l is string => Boolean(l));
    found.push({ words, subcommands: cmd.commands.map((c) => c.name()), options });
    for (const sub of cmd.commands) walk(sub, [...words, sub.name()]);
  };
  walk(program, []);
  return found;
}

const program = buildProgram();
const tree = commandTree(program);
const dir = scratchDir('completion');

/** One shell run: each query is the words of a command line, the last one being completed. */
function complete(shell: 'bash' | 'zsh', queries: string[][]): string[][] {
  const script = path.join(dir, `cradle.${shell}`);
  fs.writeFileSync(script, shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
  const quote = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;
  const driver =
    shell === 'bash'
      ? [
          `source ${quote(script)}`,
          't() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _cradle; printf "%s " "${COMPREPLY[@]}"; printf "\\n"; }',
        ]
      : [
          // Outside the completion system: its builtins replaced by functions that print what they were given.
          'compdef() { :; }',
          `source ${quote(script)}`,
          'compadd() { [[ $1 == -- ]] && shift; printf "%s " "$@"; }',
          '_describe() { local e; for e in "${(@P)4}"; do printf "%s " "${e%%:*}"; done; }',
          '_files() { printf "<files> "; }',
          't() { words=("$@"); CURRENT=$#; PREFIX=${words[CURRENT]}; _cradle; printf "\\n"; }',
        ];
  const lines = [...driver, ...queries.map((q) => `t cradle ${q.map(quote).join(' ')}`)];
  const out = execFileSync(shell, shell === 'zsh' ? ['-f', '-c', lines.join('\n')] : ['-c', lines.join('\n')], { encoding: 'utf8' });
  return out.split('\n').slice(0, queries.length).map((l) => l.trim().split(/\s+/).filter(Boolean));
}

describe('cradle completion', () => {
  it('walks the whole command tree', () => {
    const nodes = completionNodes(program);
    expect(nodes.map((n) => n.path)).toEqual(tree.map((t) => ['cradle', ...t.words].join(' ')));
    expect(tree.length).toBeGreaterThan(30);
    expect(nodes.find((n) => n.path === 'cradle completion')?.argChoices).toEqual(['bash', 'zsh']);
  });

  it.each(['bash', 'zsh'] as const)('prints the %s script, and refuses another shell', async (shell) => {
    const run = await cradleInProcess(['completion', shell], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
    const fish = await cradleInProcess(['completion', 'fish'], { cwd: dir });
    expect(fish.code).toBe(2);
    expect(fish.stderr).toMatch(/Allowed choices are bash, zsh/);
  });

  const checkShell = (shell: 'bash' | 'zsh') => () => {
    // For every command: its subcommands after it, its own and the global options after a dash.
    const queries = tree.flatMap((t) => [[...t.words, ''], [...t.words, '-']]);
    const answers = complete(shell, queries);
    const wrong: string[] = [];
    const globals = tree[0].options.filter((o) => o !== '--version');
    tree.forEach((t, i) => {
      const [next, dash] = [answers[2 * i], answers[2 * i + 1]];
      const line = ['cradle', ...t.words].join(' ');
      if (t.subcommands.length > 0 && next.join(' ') !== t.subcommands.join(' ')) wrong.push(`${line} <tab>: ${next.join(' ')}`);
      const options = [...t.options, ...(t.words.length > 0 ? globals : []), '--help'];
      const missing = options.filter((o) => !dash.includes(o));
      if (missing.length > 0) wrong.push(`${line} -<tab>: missing ${missing.join(' ')}`);
    });
    expect(wrong).toEqual([]);
    // Every command name is offered somewhere.
    const offered = new Set(answers.flat());
    expect(tree.filter((t) => t.words.length > 0 && !offered.has(t.words[t.words.length - 1])).map((t) => t.words.join(' '))).toEqual([]);

    // An option's value is skipped when finding the command; after a value-taking option, files.
    const [afterValue, prefix, choice, fileArg, optionValue] = complete(shell, [
      ['--vault', 'pool', 'pool', ''],
      ['pool', 'add-'],
      ['completion', ''],
      ['trace', ''],
      ['pool', 'add', '--file', ''],
    ]);
    expect(afterValue).toEqual(['add', 'add-domain', 'plan', 'list']);
    expect(prefix).toEqual(shell === 'bash' ? ['add-domain'] : ['add', 'add-domain', 'plan', 'list']); // zsh filters by PREFIX itself
    expect(choice).toEqual(['bash', 'zsh']);
    // bash leaves file names to `complete -o default`; zsh calls _files.
    expect(fileArg).toEqual(shell === 'bash' ? [] : ['<files>']);
    expect(optionValue).toEqual(shell === 'bash' ? [] : ['<files>']);
  };

  it('completes every command and option in bash', checkShell('bash'));
  itWith(ZSH)('completes every command and option in zsh', checkShell('zsh'));

  it('registers itself for cradle in bash', () => {
    const script = path.join(dir, 'register.bash');
    fs.writeFileSync(script, bashCompletion(program));
    expect(execFileSync('bash', ['-c', `source '${script}' && complete -p cradle`], { encoding: 'utf8' }).trim()).toBe('complete -o default -F _cradle cradle');
  });
});
