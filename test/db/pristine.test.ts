import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cacheDir, copyPristine } from '../../src/db/pristine.js';

// A new embedded database is a copy of a pristine cluster made once in the cache directory. PGlite's
// initdb is stood in for by a function that writes a marker file: what is tested is where the
// template goes, that it is made once, and that a cache that cannot be written changes nothing.

describe('copyPristine', () => {
  let tmp: string;
  const saved = process.env.CRADLE_CACHE_DIR;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cradle-pristine-'));
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.CRADLE_CACHE_DIR;
    else process.env.CRADLE_CACHE_DIR = saved;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const fakeInitdb = (calls: string[]) => async (dir: string) => {
    calls.push(dir);
    fs.mkdirSync(path.join(dir, 'base'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'PG_VERSION'), '18\n');
    fs.writeFileSync(path.join(dir, 'base', 'catalog'), 'pristine');
  };

  it('makes the template once in the cache directory and copies it into each new directory', async () => {
    process.env.CRADLE_CACHE_DIR = path.join(tmp, 'cache');
    const calls: string[] = [];
    for (const name of ['a', 'b']) {
      const dir = path.join(tmp, name);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'cradle.lock'), '{}'); // the lock is taken before the copy
      expect(await copyPristine(dir, fakeInitdb(calls))).toBe(true);
      expect(fs.readFileSync(path.join(dir, 'base', 'catalog'), 'utf8')).toBe('pristine');
      expect(fs.existsSync(path.join(dir, 'cradle.lock'))).toBe(true);
    }
    expect(calls).toHaveLength(1);
    const entries = fs.readdirSync(path.join(tmp, 'cache'));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/^pglite-\d+\.\d+\.\d+/);
  });

  it('leaves the directory as it was when the cache cannot be written', async () => {
    fs.writeFileSync(path.join(tmp, 'not-a-dir'), '');
    process.env.CRADLE_CACHE_DIR = path.join(tmp, 'not-a-dir', 'cache');
    const dir = path.join(tmp, 'db');
    fs.mkdirSync(dir);
    expect(await copyPristine(dir, fakeInitdb([]))).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('uses $CRADLE_CACHE_DIR, else $XDG_CACHE_HOME/cradle, else ~/.cache/cradle', () => {
    expect(cacheDir({ CRADLE_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x' })).toBe('/c');
    expect(cacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/cradle');
    expect(cacheDir({})).toBe(path.join(os.homedir(), '.cache', 'cradle'));
  });
});
