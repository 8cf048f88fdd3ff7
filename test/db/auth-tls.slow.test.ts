import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import pg from 'pg';
import { openDatabase } from '../../src/db/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { scratchDir } from '../helpers/db.js';
import { asPostgres, freePort, ownByPostgres, PG_BIN } from '../helpers/cluster.js';
import { describeWith, type Need } from '../helpers/needs.js';

// Passwords and TLS for real: the machine's server trusts 127.0.0.1, so a password there is never
// asked for. This test starts a private PostgreSQL 15 cluster (initdb + pg_ctl) that takes only TLS
// with SCRAM passwords from 127.0.0.1, with a certificate for "localhost" signed by a CA made here;
// the vault and the target roles have different passwords, both from one .pgpass (PGPASSFILE).

const PG_SERVER: Need = {
  what: 'PostgreSQL 15 server binaries and openssl',
  present: ['initdb', 'pg_ctl'].every((f) => fs.existsSync(path.join(PG_BIN, f))) && fs.existsSync('/usr/bin/openssl'),
  install: 'install postgresql-15 and openssl (apt-get install postgresql-15 openssl)',
};

const VAULT_PW = 'vault pw';
const SEED_PW = String.raw`seed:pw\x`;

describeWith(PG_SERVER)('passwords from .pgpass and every sslmode against a server that checks them', () => {
  let dir: string;
  let dataDir: string;
  let port = 0;
  let started = false;
  let ca: string;
  let pgpass: string;
  const saved = { ...process.env };

  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  /** The error message of opening `location`, or null when it opens. */
  const failure = async (location: string, role = 'target'): Promise<string | null> =>
    openDatabase(location, { role, warn: () => undefined }).then(
      async (db) => {
        await db.close();
        return null;
      },
      (err: Error) => err.message,
    );

  beforeAll(async () => {
    dir = scratchDir('auth-tls');
    dataDir = path.join(dir, 'data');
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Cradle test CA', '-keyout', 'ca.key', '-out', 'ca.crt']);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr']);
    fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.crt']);
    fs.chmodSync(path.join(dir, 'server.key'), 0o600);
    ca = path.join(dir, 'ca.crt');
    ownByPostgres(dir, path.join(dir, 'server.key'));
    asPostgres('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    fs.writeFileSync(path.join(dataDir, 'pg_hba.conf'), 'local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n');
    port = await freePort();
    const settings = [`-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', '-c ssl=on', `-c ssl_cert_file=${path.join(dir, 'server.crt')}`, `-c ssl_key_file=${path.join(dir, 'server.key')}`, '-c fsync=off'];
    asPostgres('pg_ctl', ['-D', dataDir, '-l', path.join(dir, 'pg_ctl.log'), '-o', settings.join(' '), '-w', 'start']);
    started = true;
    const admin = new pg.Client({ host: dir, port, user: 'postgres', database: 'postgres' });
    await admin.connect();
    await admin.query(`CREATE ROLE cradle_vault LOGIN PASSWORD '${VAULT_PW}'`);
    await admin.query(`CREATE ROLE cradle_seed LOGIN PASSWORD '${SEED_PW}'`);
    await admin.query('CREATE DATABASE vault OWNER cradle_vault');
    await admin.query('CREATE DATABASE his OWNER cradle_seed');
    await admin.end();
    pgpass = path.join(dir, 'pgpass');
    const esc = (s: string) => s.replace(/[\\:]/g, (c) => `\\${c}`);
    fs.writeFileSync(pgpass, `# vault, then target\nlocalhost:${port}:vault:cradle_vault:${esc(VAULT_PW)}\n127.0.0.1:${port}:his:cradle_seed:${esc(SEED_PW)}\n*:${port}:his:cradle_seed:${esc(SEED_PW)}\n`, { mode: 0o600 });
    Object.assign(process.env, { PGPASSFILE: pgpass, PGPASSWORD: '', PGSERVICE: '', PGSSLMODE: '', PGSSLROOTCERT: '' });
  }, 60_000);

  afterAll(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    if (started) asPostgres('pg_ctl', ['-D', dataDir, '-m', 'immediate', 'stop']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('connects the vault and the target with their own passwords from one .pgpass, over verified TLS', async () => {
    const cwd = path.join(dir, 'cwd');
    fs.mkdirSync(cwd);
    // The host name is checked against the certificate; hostaddr says where to connect.
    const vault = `host=localhost hostaddr=127.0.0.1 port=${port} dbname=vault user=cradle_vault sslmode=verify-full sslrootcert=${ca}`;
    const target = `postgres://cradle_seed@127.0.0.1:${port}/his?sslmode=verify-ca&sslrootcert=${encodeURIComponent(ca)}`;
    const init = json<{ migrationsApplied: string[]; notes: string[] }>(await cradleInProcess(['init', '--vault', vault, '--target', target, '--json'], { cwd }));
    expect(init.migrationsApplied.length).toBeGreaterThan(0);
    expect(init.notes).toEqual([]);
    const db = await openDatabase(target, { role: 'target' });
    try {
      const { rows } = await db.query<{ user: string; ssl: boolean }>('SELECT current_user AS user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      expect(rows).toEqual([{ user: 'cradle_seed', ssl: true }]);
    } finally {
      await db.close();
    }
  });

  it('says why authentication failed, without the password', async () => {
    const wrong = await failure(`host=127.0.0.1 port=${port} dbname=his user=cradle_seed password='not-it-42' sslmode=require`);
    expect(wrong).toBe(
      `cannot connect to target host=127.0.0.1 port=${port} dbname=his user=cradle_seed password=*** sslmode=require: authentication failed: password authentication failed for user "cradle_seed" ` +
        `(the password from the connection string; Cradle reads ~/.pgpass or PGPASSFILE, PGPASSWORD, a service file or the location itself) (host 127.0.0.1:${port}, database his, user cradle_seed)`,
    );
    // No .pgpass line for this database: no password at all.
    const none = await failure(`host=127.0.0.1 port=${port} dbname=postgres user=cradle_seed sslmode=require`);
    expect(none).toMatch(/authentication failed: the server asks for a password and none was found \(put it in ~\/\.pgpass/);
    // The same line, but the file readable by others: not used, as libpq does.
    fs.chmodSync(pgpass, 0o644);
    try {
      const warnings: string[] = [];
      const open = await openDatabase(`host=127.0.0.1 port=${port} dbname=his user=cradle_seed sslmode=require`, { role: 'target', warn: (m) => warnings.push(m) }).catch((e: Error) => e.message);
      expect(open).toMatch(/none was found/);
      expect(warnings[0]).toMatch(/has group or world access/);
    } finally {
      fs.chmodSync(pgpass, 0o600);
    }
  });

  it('does what each sslmode says', async () => {
    const at = (mode: string, host = '127.0.0.1') => `host=${host} hostaddr=127.0.0.1 port=${port} dbname=his user=cradle_seed sslmode=${mode} sslrootcert=${ca}`;
    const plain = `host=127.0.0.1 port=${port} dbname=his user=cradle_seed`;
    // The server takes TLS only: disable is refused by pg_hba.conf, allow retries with TLS.
    expect(await failure(`${plain} sslmode=disable`)).toMatch(/: authentication refused: no pg_hba\.conf entry for host "127\.0\.0\.1", user "cradle_seed", database "his", no encryption \(host 127\.0\.0\.1:\d+/);
    expect(await failure(`${plain} sslmode=allow`)).toBeNull();
    expect(await failure(`${plain} sslmode=prefer`)).toBeNull();
    expect(await failure(`${plain} sslmode=require`)).toBeNull();
    // The certificate is for localhost: verify-ca does not look at the name, verify-full does.
    expect(await failure(at('verify-ca'))).toBeNull();
    expect(await failure(at('verify-full', 'localhost'))).toBeNull();
    expect(await failure(at('verify-full'))).toMatch(/: TLS failure \(sslmode=verify-full\): .*(IP: 127\.0\.0\.1|altnames).* \(host 127\.0\.0\.1:\d+, database his, user cradle_seed\)$/);
    // A CA that did not sign it: refused even by require, which checks the chain when given a root certificate.
    const other = path.join(dir, 'other-ca.crt');
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Another CA', '-keyout', 'other-ca.key', '-out', other]);
    expect(await failure(`${plain} sslmode=require sslrootcert=${other}`)).toMatch(/: TLS failure \(sslmode=require\): /);
  });
});
