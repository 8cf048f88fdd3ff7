import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../lib/errors.js';
import { commandLine, redact } from '../lib/redact.js';

// PGlite has no lock between processes and corrupts a directory opened twice, so an embedded
// database takes this exclusive lock file first. A lock whose process is gone is stale and taken over.
// The file names the holder's command line (redacted: a --target URL may hold a password) and is
// readable by its owner only.

export interface LockInfo {
  pid: number;
  host: string;
  since: string;
  command: string;
}

export interface DirectoryLock {
  readonly file: string;
  release(): void;
}

const LOCK_NAME = 'cradle.lock';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockInfo | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
  } catch {
    return null;
  }
}

export function lockDirectory(dir: string): DirectoryLock {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_NAME);
  const info: LockInfo = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), command: commandLine(process.argv.slice(1)) };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(info), { flag: 'wx', mode: 0o600 });
      return makeLock(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readLock(file);
    const stale = holder === null
      ? lockAgeMs(file) > 10_000 // unreadable for 10 s: a writer died between create and write
      : holder.host === os.hostname() && !processAlive(holder.pid);
    if (stale) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (holder === null) continue;
    throw new UserError(
      `${dir} is in use by process ${holder.pid} on ${holder.host} since ${holder.since} (${redact(String(holder.command))}); ` +
        `wait for it to finish, or stop it, then try again`,
    );
  }
  throw new UserError(`could not take the lock ${file}; remove it if no cradle process is running`);
}

function lockAgeMs(file: string): number {
  try {
    return Date.now() - fs.statSync(file).mtimeMs;
  } catch {
    return Infinity;
  }
}

const held = new Set<string>();
process.on('exit', () => {
  for (const file of held) fs.rmSync(file, { force: true });
});

function makeLock(file: string): DirectoryLock {
  held.add(file);
  return {
    file,
    release() {
      if (!held.delete(file)) return;
      const holder = readLock(file);
      if (holder?.pid === process.pid) fs.rmSync(file, { force: true });
    },
  };
}
