import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './cluster.js';

// A private mariadbd for a test: its own datadir, port and socket, never the machine's server. The
// caller adds the settings under test (a plugin, TLS); root connects over TCP without a password.

export interface PrivateMariadb {
  port: number;
  dir: string;
  /** The server's error log, for a failure's message. */
  log: () => string;
  stop: () => Promise<void>;
}

export async function startPrivateMariadb(dir: string, settings: string[], env: NodeJS.ProcessEnv = {}): Promise<PrivateMariadb> {
  // A Unix socket path must stay under 108 bytes.
  const sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cradle-mdb-'));
  const dataDir = path.join(dir, 'data');
  const errFile = path.join(dir, 'mariadbd.err');
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  execFileSync('/usr/bin/mariadb-install-db', ['--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...asRoot], { stdio: 'pipe', timeout: 60_000 });
  const port = await freePort();
  const args = [
    '--no-defaults', ...asRoot, `--datadir=${dataDir}`, `--port=${port}`, '--bind-address=127.0.0.1',
    `--socket=${path.join(sockDir, 'mysqld.sock')}`, `--pid-file=${path.join(sockDir, 'mysqld.pid')}`,
    '--skip-log-bin', '--innodb-buffer-pool-size=16M', '--innodb-log-file-size=8M', ...settings,
  ];
  const server: ChildProcess = spawn('/usr/sbin/mariadbd', args, { stdio: ['ignore', 'ignore', fs.openSync(errFile, 'w')], env: { ...process.env, ...env } });
  const log = () => (fs.existsSync(errFile) ? fs.readFileSync(errFile, 'utf8') : '');
  const stop = async () => {
    if (server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000).unref())]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    fs.rmSync(sockDir, { recursive: true, force: true });
  };
  // Up when it says so: a connection would need the settings under test (TLS) to get in.
  const deadline = Date.now() + 30_000;
  while (!log().includes('ready for connections')) {
    if (Date.now() > deadline || server.exitCode !== null) {
      await stop();
      throw new Error(`private mariadbd did not start:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, dir, log, stop };
}
