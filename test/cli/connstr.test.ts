import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { openDatabase } from '../../src/db/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { newDatabase, scratchDir, SERVER_URL, type TestLocation } from '../helpers/db.js';

// Connection settings as psql users write them, through the CLI: a libpq connection string and a
// service of a pg_service.conf with the password in a .pgpass file, both written here and pointed to
// by PGSERVICEFILE and PGPASSFILE. The server part needs CRADLE_TEST_DATABASE_URL.

describe('locations that are not databases Cradle opens', () => {
  let cwd: string;
  beforeAll(() => {
    cwd = scratchDir('connstr');
  });
  afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

  it('refuses them by name, redacted, and init leaves nothing behind', async () => {
    const mysql = await cradleInProcess(['init', '--vault', 'mysql://root:hunter22@127.0.0.1:3306/his'], { cwd });
    expect(mysql.code).toBe(1);
    expect(mysql.stderr).toMatch(/^cradle: vault mysql:\/\/root:\*\*\*@127\.0\.0\.1:3306\/his: the vault is PostgreSQL or embedded, never MySQL\/MariaDB; give a postgres:\/\/ URL, a libpq connection string/);
    const conninfo = await cradleInProcess(['init', '--vault', "host=nosuch.invalid dbname=y password='hunter22'", '--target', 'service=his'], { cwd });
    expect(conninfo.code).toBe(1);
    expect(conninfo.stderr).toMatch(/^cradle: cannot connect to vault host=nosuch\.invalid dbname=y password=\*\*\*: host name nosuch\.invalid not found \(host nosuch\.invalid:5432, database y, user \S+\)\n$/);
    const hostPort = await cradleInProcess(['init', '--vault', 'db.example.org:5432/cradle'], { cwd });
    expect(hostPort.stderr).toMatch(/vault db\.example\.org:5432\/cradle looks like a server address, not a directory/);
    const missing = await cradleInProcess(['--vault', 'nowhere', 'hits'], { cwd });
    expect(missing.stderr).toMatch(/vault nowhere does not exist; .*a postgres:\/\/ URL, a libpq connection string \(host=… dbname=… user=…\), service=<name>/);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });
});

const onServer = SERVER_URL ? describe : describe.skip;

onServer('a vault and a target by connection string and service, passwords from .pgpass', () => {
  let dir: string;
  let vaultDb: TestLocation;
  let targetDb: TestLocation;
  let env: Record<string, string>;
  const server = new URL(SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  const host = server.hostname;
  const port = server.port || '5432';
  const role = `cradle_pw_${process.pid}`;
  const dbName = (loc: TestLocation) => new URL(loc.location).pathname.slice(1);
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: SERVER_URL });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    dir = scratchDir('connstr');
    vaultDb = await newDatabase('postgres', 'connstr_vault');
    targetDb = await newDatabase('postgres', 'connstr_target');
    await admin(`DROP ROLE IF EXISTS ${role}`);
    await admin(`CREATE ROLE ${role} LOGIN PASSWORD 'target pw: ok'`);
    const services = path.join(dir, 'pg_service.conf');
    fs.writeFileSync(services, `[cradle_vault]\nhost=${host}\nport=${port}\ndbname=${dbName(vaultDb)}\nuser=${server.username || 'postgres'}\nsslmode=prefer\n\n[his]\nhost=${host}\nport=${port}\ndbname=${dbName(targetDb)}\nuser=${role}\n`);
    const pgpass = path.join(dir, 'pgpass');
    fs.writeFileSync(pgpass, `${host}:${port}:${dbName(vaultDb)}:*:vault-secret\n${host}:${port}:*:${role}:target pw\\: ok\n`, { mode: 0o600 });
    env = { PGSERVICEFILE: services, PGPASSFILE: pgpass, PGSYSCONFDIR: dir, PGPASSWORD: '', PGSERVICE: '' };
  });

  afterAll(async () => {
    await vaultDb?.cleanup();
    await targetDb?.cleanup();
    await admin(`DROP ROLE IF EXISTS ${role}`);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('init takes a service, writes no password, and later commands connect from the config', async () => {
    const cwd = path.join(dir, 'hospital');
    fs.mkdirSync(cwd);
    const init = json<{ vault: string; notes: string[]; migrationsApplied: string[] }>(
      await cradleInProcess(['init', '--vault', 'service=cradle_vault', '--target', 'service=his', '--json'], { cwd, env }),
    );
    expect(init.vault).toBe('service=cradle_vault');
    expect(init.notes).toEqual([]);
    expect(init.migrationsApplied.length).toBeGreaterThan(0);
    const config = JSON.parse(fs.readFileSync(path.join(cwd, 'cradle.config.json'), 'utf8')) as { vault: string; hospitals: Record<string, { target: string }> };
    expect(config.vault).toBe('service=cradle_vault');
    expect(config.hospitals.main.target).toBe('service=his');
    const hits = await cradleInProcess(['hits', '--json'], { cwd, env });
    expect(hits.code).toBe(0);
  });

  it('init with a password in the string uses it, and writes where it goes instead', async () => {
    const cwd = path.join(dir, 'with-password');
    fs.mkdirSync(cwd);
    const location = `host=${host} port=${port} dbname=${dbName(vaultDb)} user=postgres password='vault secret' sslmode=disable`;
    const init = json<{ vault: string; notes: string[] }>(await cradleInProcess(['init', '--vault', location, '--json'], { cwd, env }));
    expect(init.vault).not.toContain('vault secret');
    expect(init.notes).toEqual([
      `the vault's password was not written to cradle.config.json; put it in ~/.pgpass as ${host}:${port}:${dbName(vaultDb)}:postgres:<password> (chmod 600 ~/.pgpass), or in PGPASSWORD, or in a pg_service.conf service`,
    ]);
    const written = fs.readFileSync(path.join(cwd, 'cradle.config.json'), 'utf8');
    expect(written).not.toContain('secret');
    expect(JSON.parse(written).vault).toBe(`host=${host} port=${port} dbname=${dbName(vaultDb)} user=postgres sslmode=disable`);
  });

  it('connects as the role the service names, with its own password from the password file', async () => {
    const warnings: string[] = [];
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const target = await openDatabase('service=his', { role: 'target', warn: (m) => warnings.push(m) });
      try {
        const { rows } = await target.query<{ user: string; db: string }>('SELECT current_user AS user, current_database() AS db');
        expect(rows).toEqual([{ user: role, db: dbName(targetDb) }]);
      } finally {
        await target.close();
      }
      // A wrong password: refused where the server checks passwords; under pg_hba trust (this machine's
      // 127.0.0.1) the password is never asked for, and the connection is made all the same.
      const wrong = await openDatabase(`service=his password=wrong`, { role: 'target' }).then(
        async (db) => {
          await db.close();
          return null;
        },
        (err: Error) => err.message,
      );
      if (wrong !== null) expect(wrong).toMatch(new RegExp(`^cannot connect to target service=his password=\\*\\*\\*: authentication failed: .*\\(host ${host}:${port}, database ${dbName(targetDb)}, user ${role}\\)$`));
      // A password file others can read is not used, with a warning.
      fs.chmodSync(env.PGPASSFILE, 0o644);
      const open = await openDatabase('service=cradle_vault', { role: 'vault', warn: (m) => warnings.push(m) });
      await open.close();
      expect(warnings).toEqual([`password file ${env.PGPASSFILE} has group or world access; permissions should be u=rw (0600) or less (chmod 600 ${env.PGPASSFILE}); it is not used`]);
    } finally {
      fs.chmodSync(env.PGPASSFILE, 0o600);
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });

  it('says which store, host and why when a connection fails', async () => {
    const refused = await cradleInProcess(['--vault', `host=${host} port=1 dbname=x user=u`, 'hits'], { cwd: dir, env });
    expect(refused.stderr).toBe(`cradle: cannot connect to vault host=${host} port=1 dbname=x user=u: connection refused; is PostgreSQL running there and listening on that port? (host ${host}:1, database x, user u)\n`);
    const noDb = await cradleInProcess(['--vault', `postgres://postgres:hunter22@${host}:${port}/cradle_no_such_db`, 'hits'], { cwd: dir, env });
    expect(noDb.stderr).toBe(`cradle: cannot connect to vault postgres://postgres:***@${host}:${port}/cradle_no_such_db: no such database: database "cradle_no_such_db" does not exist (host ${host}:${port}, database cradle_no_such_db, user postgres)\n`);
  });
});
