import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import tar from 'tar-stream';
import { openDatabase, type Database } from '../../src/db/index.js';
import { PACKAGE_ROOT } from '../../src/lib/paths.js';
import { triagePending } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { cradleInProcess, type CliResult } from '../helpers/cli.js';
import { closeLingering } from '../../src/db/index.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';
import { DAY, PLANTED, seedAndExport } from '../helpers/leak.js';

// Secrets never leave: a leak scenario's report, audit and evidence bundle made through the CLI
// (in-process, with the binary's command line: test/helpers/cli.ts; the lock file is held by the real
// binary, `cradle watch`) with the vault (on a server) and the target given as URLs holding a distinctive password, raw and
// percent-encoded, then every artefact grepped for it: the files written, the bundle unpacked, every
// row of the vault (the ledger included), the lock file while held, and everything printed.

const PASSWORD = 'S3cr#t/pa?ss@word';
const ENCODED = encodeURIComponent(PASSWORD); // S3cr%23t%2Fpa%3Fss%40word
// Any of these in an artefact is (part of) the password: as given, encoded, or cut at a # / ? @.
const NEEDLES = [PASSWORD, ENCODED, 'S3cr', 'pa?ss', 'ss@word', 'pa%3fss', 'ss%40word', '%23t%2f'];

function leaked(text: string): string[] {
  const lower = text.toLowerCase();
  return NEEDLES.filter((n) => (n === 'S3cr' ? text.includes(n) : lower.includes(n.toLowerCase())));
}

/** A server URL with the password put in, raw (as a user would paste it) or percent-encoded. */
function withPassword(location: string, password: string): string {
  const url = new URL(location);
  return `${url.protocol}//${url.username || 'postgres'}:${password}@${url.host}${url.pathname}${url.search}`;
}

const TARGET_RAW = `postgresql://cradle_seed:${PASSWORD}@his.invalid:5432/his`;
const TARGET_ENCODED = `postgres://cradle_seed:${ENCODED}@his.invalid:5432/his?sslmode=disable`;

async function untar(file: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      files.set(entry.header.name, Buffer.concat(chunks));
    }
  })();
  Readable.from(fs.readFileSync(file)).pipe(createGunzip()).pipe(extract);
  await done;
  return files;
}

/** Every row of every table of the vault, as text. */
async function vaultRows(db: Database): Promise<string[]> {
  const { rows: tables } = await db.query<{ s: string; t: string }>(
    `SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
  );
  const out: string[] = [];
  for (const { s, t } of tables) {
    const { rows } = await db.query<{ row: string }>(`SELECT x::text AS row FROM "${s}"."${t}" x`);
    out.push(...rows.map((r) => `${s}.${t}: ${r.row}`));
  }
  return out;
}

describe.each(BACKENDS)('no password in any artefact on %s', (backend) => {
  let h: TestHospital;
  let incidentId: string;
  let vaultRaw: string;
  let vaultEncoded: string;
  const cwd = scratchDir('secrets');
  const printed: { args: string[]; result: CliResult }[] = [];

  async function run(args: string[]): Promise<CliResult> {
    const result = await cradleInProcess(args, { cwd });
    printed.push({ args, result });
    return result;
  }

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 200, trapNumbers: 40 });
    const { photo } = await seedAndExport(h, cwd, 'secrets');
    const first = new Date(PLANTED.getTime() + 9 * DAY);
    for (const [i, c] of photo.canaries.slice(0, 2).entries()) {
      await vault.recordContact(h.vault, {
        source: 'generic', providerId: `SM${i}`, kind: 'sms', from: '+8613311110000', to: c.family.mother.phone!, occurredAt: new Date(first.getTime() + i * DAY),
        body: `${c.family.mother.name.full}您好，宝宝写真免费拍摄`, raw: Buffer.from(`sms ${i}`),
      });
    }
    const { hits } = await triagePending(h.vault);
    incidentId = hits[0].incidentId!;
    // On a server the vault URL carries the password (the test server trusts local connections, so
    // it is sent nowhere, but it is in the command line); an embedded vault is a directory.
    vaultRaw = backend === 'postgres' ? withPassword(h.vaultLocation, PASSWORD) : h.vaultLocation;
    vaultEncoded = backend === 'postgres' ? withPassword(h.vaultLocation, ENCODED) : h.vaultLocation;
    await h.vault.close(); // the binary opens the vault itself (an embedded one takes a lock)
  });
  afterAll(async () => {
    if (!h) return;
    h.vault = await openDatabase(h.vaultLocation);
    await h.close();
  });

  it('reports, audit, evidence bundle, vault rows and output hold no password', async () => {
    const ok = async (args: string[]) => {
      const res = await run(args);
      expect({ args, code: res.code, stderr: res.stderr }).toEqual({ args, code: 0, stderr: '' });
      return res;
    };
    await ok(['--vault', vaultRaw, '--target', TARGET_RAW, 'report', incidentId, '--out', 'report.html']);
    await ok(['--vault', vaultEncoded, '--target', TARGET_ENCODED, 'report', incidentId, '--format', 'md', '--out', 'report.md']);
    await ok(['--target', TARGET_RAW, '--vault', vaultRaw, 'report', incidentId, '--format', 'json']);
    await ok(['--vault', vaultRaw, '--target', TARGET_RAW, 'audit', '--from', '2026-10-26', '--to', '2026-11-30', '--out', 'audit.html']);
    await ok(['--vault', vaultEncoded, `--target=${TARGET_RAW}`, 'audit', '--from', '2026-10-26', '--to', '2026-11-30', '--format', 'json', '--out', 'audit.json']);
    await ok(['--vault', vaultRaw, '--target', TARGET_ENCODED, 'evidence', 'export', incidentId, '--out', 'bundle.tar.gz']);
    await ok(['--vault', vaultRaw, '--target', TARGET_RAW, 'hits']);
    await ok(['--vault', vaultRaw, 'incidents', incidentId]);
    await ok(['--vault', vaultEncoded, 'verify']);

    // The report and audit name the command, redacted.
    const html = fs.readFileSync(path.join(cwd, 'report.html'), 'utf8');
    expect(html).toContain('cradle_seed:***@his.invalid');
    const audit = JSON.parse(fs.readFileSync(path.join(cwd, 'audit.json'), 'utf8')) as { command: string };
    expect(audit.command).toContain(`'--target=postgresql://cradle_seed:***@his.invalid:5432/his'`);

    const artefacts: [string, string][] = [];
    for (const name of fs.readdirSync(cwd)) {
      if (name.endsWith('.csv')) continue; // the scenario's export files, written before any command ran
      artefacts.push([name, fs.readFileSync(path.join(cwd, name)).toString('latin1')]);
    }
    const bundle = await untar(path.join(cwd, 'bundle.tar.gz'));
    expect([...bundle.keys()].some((k) => k.endsWith('/README.txt'))).toBe(true);
    for (const [name, data] of bundle) artefacts.push([`bundle.tar.gz:${name}`, data.toString('utf8')]);
    const readme = [...bundle].find(([k]) => k.endsWith('/README.txt'))![1].toString();
    expect(readme).toMatch(/Command: +cradle --vault \S+ --target 'postgres:\/\/cradle_seed:\*\*\*@his\.invalid:5432\/his\?sslmode=disable' evidence export/);
    for (const { args, result } of printed) artefacts.push([`output of ${args.slice(-3).join(' ')}`, result.stdout + result.stderr]);
    const db = await openDatabase(h.vaultLocation);
    try {
      const rows = await vaultRows(db);
      expect(rows.filter((r) => r.startsWith('public.ledger'))).not.toHaveLength(0);
      artefacts.push(['vault rows', rows.join('\n')]);
    } finally {
      await db.close();
    }
    const found = artefacts.map(([name, text]) => [name, leaked(text)] as const).filter(([, l]) => l.length);
    expect(found).toEqual([]);
  });

  // Backend-independent: once.
  const once = backend === BACKENDS[0] ? it : it.skip;
  once('connection and usage errors name the location redacted', async () => {
    const bad = (args: string[]) => run(args);
    const refused = await bad(['--vault', `postgres://cradle:${PASSWORD}@127.0.0.1:1/vault`, 'hits']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^cradle: cannot connect to vault postgres:\/\/cradle:\*\*\*@127\.0\.0\.1:1\/vault: .*\n$/);
    const encoded = await bad(['--vault', `postgresql://cradle:${ENCODED}@127.0.0.1:1/vault`, 'hits']);
    expect(encoded.stderr).toMatch(/^cradle: cannot connect to vault postgresql:\/\/cradle:\*\*\*@127\.0\.0\.1:1\/vault: /);
    const invalid = await bad(['--vault', `postgres://cradle:${PASSWORD}@[::1/vault`, 'hits']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^cradle: vault postgres:\/\/cradle:\*\*\*@.* is not a valid URL[^;]*; .*percent-encoded \(# as %23, .*\)\n$/);
    const mysql = await bad(['--vault', `mysql://root:${PASSWORD}@127.0.0.1:3306/vault`, 'hits']);
    expect(mysql.code).toBe(1);
    expect(mysql.stderr).toContain('mysql://root:***@127.0.0.1:3306/vault');
    const conninfo = await bad(['--vault', `host=127.0.0.1 password='${PASSWORD}'`, 'hits']);
    expect(conninfo.stderr).toContain(`host=127.0.0.1 password=***`);
    const usage = await bad([`postgres://cradle:${PASSWORD}@h/db`, 'hits']);
    expect(usage.code).toBe(2);
    for (const res of [refused, encoded, invalid, mysql, conninfo, usage]) {
      expect(leaked(res.stdout + res.stderr)).toEqual([]);
      expect(res.stderr).not.toMatch(/unexpected error/);
    }
  });

  if (backend === 'pglite') {
    it('the lock file of a vault in use is private and holds the command redacted, as does the in-use message', async () => {
      await closeLingering();
      const watch = spawn(process.execPath, [path.join(PACKAGE_ROOT, 'bin', 'cradle'), '--vault', h.vaultLocation, '--target', TARGET_RAW, 'watch', '--host', '127.0.0.1', '--port', '0'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      watch.stderr.on('data', (d) => (err += d));
      const exited = new Promise<number | null>((resolve) => watch.once('exit', resolve));
      try {
        await new Promise<void>((resolve, reject) => {
          watch.stdout.on('data', (d) => {
            out += d;
            if (out.includes('listening on')) resolve();
          });
          void exited.then((code) => reject(new Error(`watch exited ${code}: ${err}`)));
        });
        const lockFile = path.join(h.vaultLocation, 'cradle.lock');
        expect(fs.statSync(lockFile).mode & 0o777).toBe(0o600);
        const lock = fs.readFileSync(lockFile, 'utf8');
        expect(JSON.parse(lock)).toMatchObject({ pid: watch.pid });
        expect(lock).toContain('cradle_seed:***@his.invalid');
        expect(leaked(lock)).toEqual([]);
        const busy = await run(['--vault', h.vaultLocation, 'hits']);
        expect(busy.code).toBe(1);
        expect(busy.stderr).toMatch(new RegExp(`^cradle: .* is in use by process ${watch.pid} .*cradle_seed:\\*\\*\\*@his\\.invalid.*\\n$`));
        expect(leaked(busy.stderr)).toEqual([]);
      } finally {
        watch.kill('SIGTERM');
        await exited;
      }
      expect(leaked(out + err)).toEqual([]);
    });
  }
});
