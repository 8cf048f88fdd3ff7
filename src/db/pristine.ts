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

/**
 * An empty in-memory cluster as PGlite dumps it, cached beside the pristine directory: an in-memory
 * PGlite starts from it in about a second instead of running initdb (several CPU-seconds). `make`
 * runs initdb in memory and dumps the result; it is called when there is no cached dump (or it cannot
 * be read), and what it returns is cached when the cache can be written.
 */
export async function memoryTemplate(make: () => Promise<Blob>): Promise<Blob | null> {
  let file: string | null = null;
  try {
    file = path.join(cacheDir(), `pglite-${pgliteVersion()}.memory.tar`);
    if (fs.existsSync(file)) return new Blob([new Uint8Array(fs.readFileSync(file))]);
    // The pristine directory, when there is one, as the tar PGlite loads.
    const pristine = path.join(cacheDir(), `pglite-${pgliteVersion()}`);
    if (fs.existsSync(path.join(pristine, 'PG_VERSION'))) return new Blob([new Uint8Array(tarOf(pristine))]);
  } catch {
    file = null;
  }
  const blob = await make();
  if (file) {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, Buffer.from(await blob.arrayBuffer()));
      fs.renameSync(tmp, file);
    } catch {
      // No cache: the next one runs initdb again.
    }
  }
  return blob;
}

/** A directory as a ustar archive, its entries named from the root ("/PG_VERSION", "/base/1/112"), as PGlite dumps a cluster. */
function tarOf(dir: string): Buffer {
  const parts: Buffer[] = [];
  const header = (name: string, size: number, type: '0' | '5', mode: number) => {
    const h = Buffer.alloc(512);
    const field = (at: number, length: number, value: string) => h.write(value, at, Math.min(length, Buffer.byteLength(value)), 'latin1');
    const octal = (at: number, length: number, n: number) => field(at, length, `${n.toString(8).padStart(length - 1, '0')}\0`);
    if (name.length > 100) {
      const cut = name.lastIndexOf('/', name.length - 101 < 0 ? 0 : 155);
      field(345, 155, name.slice(0, cut));
      field(0, 100, name.slice(cut + 1));
    } else field(0, 100, name);
    octal(100, 8, mode);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, size);
    octal(136, 12, 0);
    field(156, 1, type);
    field(257, 6, 'ustar\0');
    field(263, 2, '00');
    field(148, 8, '        ');
    let sum = 0;
    for (const b of h) sum += b;
    field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    parts.push(h);
  };
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const name = `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        header(name, 0, '5', 0o700);
        walk(name);
      } else if (entry.isFile()) {
        const data = fs.readFileSync(path.join(dir, name));
        header(name, data.length, '0', 0o600);
        parts.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
      }
    }
  };
  walk('');
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
