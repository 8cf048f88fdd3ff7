import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { freePort } from './cluster.js';

// A private mariadbd for the tests that must change server settings (an audit plugin, the general
// query log): its own datadir under `dir`, its own port on 127.0.0.1 and socket, never the machine's
// server. Root logs in without a password over TCP.

export interface PrivateMariadb {
  port: number;
  /** The server's error log. */
  errorLog: string;
  connect(user?: string, password?: string, database?: string, more?: mysql.ConnectionOptions): Promise<mysql.Connection>;
  stop(): Promise<void>;
}

/** Start one with these settings besides the datadir, port and socket (`--general-log=1`, `--plugin-load-add=…`); `tz` its TZ. */
export async function startPrivateMariadb(dir: string, settings: readonly string[], tz = 'Asia/Shanghai'): Promise<PrivateMariadb> {
  // A Unix socket path must stay under 108 bytes.
  const sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cradle-mdb-'));
  const dataDir = path.join(dir, 'data');
  const errorLog = path.join(dir, 'mariadbd.err');
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  execFileSync('/usr/bin/mariadb-install-db', ['--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...asRoot], { stdio: 'pipe', timeout: 60_000 });
  const port = await freePort();
  const args = [
    '--no-defaults',
    ...asRoot,
    `--datadir=${dataDir}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${path.join(sockDir, 'mysqld.sock')}`,
    `--pid-file=${path.join(sockDir, 'mysqld.pid')}`,
    '--skip-log-bin',
    '--innodb-buffer-pool-size=16M',
    '--innodb-log-file-size=8M',
    ...settings,
  ];
  // The hospital's server runs in the hospital's zone: its logs write its local time.
  const server: ChildProcess = spawn('/usr/sbin/mariadbd', args, { stdio: ['ignore', 'ignore', fs.openSync(errorLog, 'w')], env: { ...process.env, TZ: tz } });
  const connect = (user = 'root', password?: string, database?: string, more: mysql.ConnectionOptions = {}) => mysql.createConnection({ host: '127.0.0.1', port, user, password, database, ...more });
  const stop = async () => {
    if (server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000).unref())]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    fs.rmSync(sockDir, { recursive: true, force: true });
  };
  // Up when it says so: a plain connection may need the settings under test (TLS) to get in.
  const deadline = Date.now() + 30_000;
  const log = () => (fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : '');
  while (!log().includes('ready for connections')) {
    if (Date.now() > deadline || server.exitCode !== null) {
      await stop();
      throw new Error(`private mariadbd did not start:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, errorLog, connect, stop };
}
