import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

// A new embedded database starts as a copy of a pristine one. PGlite's initdb costs several CPU-seconds
// (two WebAssembly instances, the catalogs bootstrapped in WebAssembly); `cradle demo` creates two
// databases and `cradle init` one. The pristine cluster is made once per PGlite version in the cache
// directory ($CRADLE_CACHE_DIR, else $XDG_CACHE_HOME/cradle, else ~/.cache/cradle) and copied, which
// takes milliseconds. A copy is what initdb would have written: the same catalogs, shut down cleanly.
// Where the cache cannot be written, the directory is made by initdb in place, as before.

const require = createRequire(import.meta.url);

/** The installed PGlite's version: a pristine cluster is only reused by the PGlite that made it. */
function pgliteVersion(): string {
  const entry = require.resolve('@electric-sql/pglite');
  const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CRADLE_CACHE_DIR) return path.resolve(env.CRADLE_CACHE_DIR);
  return path.join(env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache'), 'cradle');
}

/**
 * Fill the empty directory `dir` (it may hold the lock file) with a pristine PostgreSQL cluster, made
 * by `initdb` (which opens and closes PGlite on a new directory) the first time. False when no copy
 * could be made: the caller then lets PGlite run initdb in `dir` itself.
 */
export async function copyPristine(dir: string, initdb: (dir: string) => Promise<void>): Promise<boolean> {
  let made: string | null = null;
  try {
    const template = path.join(cacheDir(), `pglite-${pgliteVersion()}`);
    if (!fs.existsSync(path.join(template, 'PG_VERSION'))) {
      fs.mkdirSync(path.dirname(template), { recursive: true });
      made = `${template}.${process.pid}.tmp`;
      fs.rmSync(made, { recursive: true, force: true });
      await initdb(made);
      try {
        fs.renameSync(made, template); // atomic: a half-made template is never seen
        made = null;
      } catch {
        // Another process put its template there first (or the cache cannot take it): copy ours.
      }
    }
    const source = made ?? template;
    try {
      fs.cpSync(source, dir, { recursive: true });
    } catch (err) {
      // Nothing half-copied is left for initdb to trip over.
      for (const entry of fs.readdirSync(source)) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
      throw err;
    }
    return true;
  } catch {
    return false;
  } finally {
    if (made) fs.rmSync(made, { recursive: true, force: true });
  }
}
