import { commandWords, longRunning } from '../../src/cli/startup.js';

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
