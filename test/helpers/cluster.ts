import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

// A private PostgreSQL 15 cluster for a test (initdb + pg_ctl), never the machine's own server.

export const PG_BIN = '/usr/lib/postgresql/15/bin';

/** initdb and pg_ctl refuse to run as root: run them as the postgres OS user then. */
export function asPostgres(bin: string, args: string[]): string {
  const cmd = process.getuid?.() === 0 ? (['runuser', ['-u', 'postgres', '--', path.join(PG_BIN, bin), ...args]] as const) : ([path.join(PG_BIN, bin), args] as const);
  return execFileSync(cmd[0], cmd[1], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 30_000 });
}

/** Give `files` to the postgres OS user when the test runs as root (the cluster runs as postgres). */
export function ownByPostgres(...files: string[]): void {
  if (process.getuid?.() !== 0) return;
  const [uid, gid] = ['-u', '-g'].map((f) => Number(execFileSync('id', [f, 'postgres'], { encoding: 'utf8' }).trim()));
  for (const file of files) fs.chownSync(file, uid, gid);
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
