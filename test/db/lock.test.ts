import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { lingerEmbedded, openDatabase } from '../../src/db/index.js';
import { PACKAGE_ROOT } from '../../src/lib/paths.js';
import { embeddedCopy } from '../helpers/db.js';

// A second process must not open an embedded database another process has open (PGlite would corrupt it),
// and a lock left by a killed process must not block forever.

function holdOpen(dir: string) {
  const script = `
    const { openDatabase } = await import(${JSON.stringify(path.join(PACKAGE_ROOT, 'dist/src/db/index.js'))});
    const db = await openDatabase(${JSON.stringify(dir)});
    process.stdout.write('open\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise<typeof child>((resolve, reject) => {
    child.stdout.on('data', (d) => String(d).includes('open') && resolve(child));
    child.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
  });
}

// This file tests the lock itself: every open here is a real one.
lingerEmbedded(false);

describe('embedded database lock', () => {
  it('refuses a second process, naming the holder, and takes over a stale lock', async () => {
    const dir = embeddedCopy('lock');
    const child = await holdOpen(dir);
    try {
      await expect(openDatabase(dir)).rejects.toThrow(new RegExp(`in use by process ${child.pid}`));
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    // The killed holder left its lock file behind; it is stale and must be taken over.
    expect(fs.existsSync(path.join(dir, 'cradle.lock'))).toBe(true);
    const db = await openDatabase(dir);
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await expect(openDatabase(dir)).rejects.toThrow(/in use by process/);
    await db.close();
    expect(fs.existsSync(path.join(dir, 'cradle.lock'))).toBe(false);
  });

  it('says clearly when an embedded database does not exist', async () => {
    await expect(openDatabase(path.join(PACKAGE_ROOT, '.test-tmp', 'missing-dir'), { role: 'vault' })).rejects.toThrow(/vault .* does not exist; create it with `cradle init`/);
  });
});
