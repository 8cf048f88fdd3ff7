import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import pg from 'pg';
import { importAccessLog, type ImportAccessOptions } from '../../src/accesslog/import.js';
import { closeLingering, migrate, openDatabase, type Database } from '../../src/db/index.js';
import { demoPopulation, randomMobile } from '../../src/demo/setup.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { FIXTURES_DIR, SQL_DIR } from '../../src/lib/paths.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import { copyFamilies, loadMapping, type Mapping } from '../../src/targetdb/index.js';
import * as vault from '../../src/vault/index.js';
import type { HospitalConfig } from '../../src/config/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { newDatabase, scratchDir, type TestLocation } from '../helpers/db.js';
import { count, hospitalConfig } from '../helpers/hospital.js';
import { describeWith, PGAUDIT } from '../helpers/needs.js';
import { asPostgres, freePort, ownByPostgres } from '../helpers/cluster.js';

// Tripwires end to end on a real PostgreSQL 15 server with pgaudit's object audit: a private cluster
// (initdb + pg_ctl, never the machine's own server), staff accounts reading canary and real records
// through node-postgres, the server's csvlog imported into the vault.

const STAFF = ['nurse42', 'nurse07', 'clerk03'];
/** AUDIT entries the staff statements below write: the join logs one per relation. */
const STAFF_AUDIT_ENTRIES = 8;

const staffLines = (csv: string) => csv.split('\n').filter((l) => /^[^,]*,"(nurse42|nurse07|clerk03)",.*"AUDIT: /.test(l));

describeWith(PGAUDIT)('tripwires from a real pgaudit csvlog', () => {
  let dir: string;
  let dataDir: string;
  let port = 0;
  let started = false;
  let url: string;
  let hospital: HospitalConfig;
  let mapping: Mapping;
  let target: Database;
  let vaultLoc: TestLocation;
  let vaultDb: Database;
  /** A copy of the vault as it was right after planting, for the CLI's own import. */
  let cliVault: string;
  let canaries: { id: string; record: string }[];
  let realKeys: string[];
  let logFile: string;
  let startedAt: Date;

  const options = (): ImportAccessOptions => ({
    hospital: hospital.name,
    format: 'pgaudit',
    timeZone: 'UTC',
    recordKey: { alias: 'birth', table: 'births', column: 'birth_id' },
    alertChannels: ['email'],
  });

  async function as<T>(role: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const c = new pg.Client({ host: '127.0.0.1', port, user: role, database: 'postgres', application_name: 'his' });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  }

  beforeAll(async () => {
    dir = scratchDir('pgaudit');
    dataDir = path.join(dir, 'data');
    ownByPostgres(dir);
    asPostgres('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    port = await freePort();
    const settings = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c shared_preload_libraries=pgaudit',
      '-c logging_collector=on',
      '-c log_destination=csvlog',
      `-c log_directory=${path.join(dir, 'log')}`,
      '-c log_filename=postgresql',
      '-c pgaudit.log_parameter=on',
      '-c pgaudit.role=auditor',
      '-c fsync=off',
    ];
    asPostgres('pg_ctl', ['-D', dataDir, '-l', path.join(dir, 'pg_ctl.log'), '-o', settings.join(' '), '-w', 'start']);
    started = true;
    logFile = path.join(dir, 'log', 'postgresql.csv');
    url = `postgres://postgres@127.0.0.1:${port}/postgres`;

    // The hospital: the reference schema under object audit, a population, staff accounts.
    hospital = hospitalConfig('reference', url);
    mapping = loadMapping(hospital.mappingFile);
    target = await openDatabase(url);
    await target.exec(fs.readFileSync(path.join(SQL_DIR, 'targetdb', 'reference.sql'), 'utf8'));
    await target.exec(`CREATE EXTENSION pgaudit; CREATE ROLE auditor NOLOGIN; GRANT SELECT, UPDATE ON births, families TO auditor;`);
    for (const role of STAFF) await target.exec(`CREATE ROLE ${role} LOGIN; GRANT SELECT, UPDATE ON births, families TO ${role};`);
    const rng = createRandom('pgaudit:population');
    await target.transaction((tx) => copyFamilies(tx, mapping, demoPopulation(rng, 40, new Date()), hospital.timeZone, () => rng.int(0, 9)));

    vaultLoc = await newDatabase('pglite', 'vault', 'vault');
    vaultDb = await openDatabase(vaultLoc.location);
    await migrate(vaultDb);
    await vault.ensureHospital(vaultDb, hospital.name, hospital.locale);
    const trapRng = createRandom('pgaudit:traps');
    const numbers = new Set<string>();
    while (numbers.size < 20) numbers.add(randomMobile(trapRng));
    await vault.addTrapNumbers(vaultDb, [...numbers].map((e164) => ({ e164, region: 'CN' })), { hospital: null, burnInUntil: null });
    await vault.addTrapDomain(vaultDb, 'trap.example.org', null);

    const now = new Date('2026-11-02T00:00:00Z');
    await plantCanaries(vaultDb, target, { hospital, mapping, count: 4, channels: [hospital.seedChannel], now, isoWeek: '2026-W45', ...birthWindow(now), seed: 'pgaudit' });
    canaries = (await vault.listCanaries(vaultDb, { hospital: hospital.name })).map((c) => ({ id: c.id, record: String(c.target_keys!.birth.birth_id) }));
    const { rows } = await target.query<{ birth_id: string }>(`SELECT birth_id::text FROM births WHERE birth_id <> ALL($1::bigint[]) ORDER BY birth_id`, [canaries.map((k) => k.record)]);
    realKeys = rows.map((r) => r.birth_id);
    await vaultDb.close();
    cliVault = scratchDir('pgaudit-cli-vault');
    await closeLingering(vaultLoc.location);
    fs.cpSync(vaultLoc.location, cliVault, { recursive: true });
    vaultDb = await openDatabase(vaultLoc.location);

    // A shift on the wards.
    startedAt = new Date();
    const [a, b, c, d] = canaries;
    await as('nurse42', async (db) => {
      await db.query('SELECT * FROM births WHERE birth_id = $1', [a.record]);
      await db.query('SELECT b.baby_name, f.mother_name, f.mother_phone FROM births b JOIN families f USING (family_id) WHERE b.birth_id = $1', [d.record]);
    });
    await as('nurse07', async (db) => {
      await db.query(`SELECT * FROM births WHERE birth_id = ${realKeys[0]}`);
      await db.query('UPDATE births SET discharged_at = now() WHERE birth_id = $1', [c.record]);
    });
    await as('clerk03', async (db) => {
      await db.query(`SELECT birth_id, baby_name FROM births WHERE ward = 'NICU'`);
      await db.query(`SELECT * FROM births WHERE birth_id IN (${b.record}, ${realKeys[1]})`);
      await db.query('SELECT birth_id, baby_name FROM births WHERE birth_id = ANY($1::bigint[])', [[realKeys[2], realKeys[3]]]);
    });
    // The logging collector writes asynchronously: wait for every staff entry.
    const deadline = Date.now() + 10_000;
    while (staffLines(fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '').length < STAFF_AUDIT_ENTRIES) {
      if (Date.now() > deadline) throw new Error(`csvlog ${logFile} has not got ${STAFF_AUDIT_ENTRIES} staff AUDIT entries after 10 s:\n${fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '(missing)'}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    fs.copyFileSync(logFile, path.join(dir, 'audit.csv'));
  });

  afterAll(async () => {
    await target?.close();
    await vaultDb?.close();
    await vaultLoc?.cleanup();
    if (started) asPostgres('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
    for (const d of [dir, cliVault]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('writes the staff statements as pgaudit OBJECT entries with their bound parameters', () => {
    const lines = staffLines(fs.readFileSync(path.join(dir, 'audit.csv'), 'utf8'));
    expect(lines).toHaveLength(STAFF_AUDIT_ENTRIES);
    expect(lines[0]).toContain(`"AUDIT: OBJECT,1,1,READ,SELECT,TABLE,public.births,SELECT * FROM births WHERE birth_id = $1,${canaries[0].record}"`);
  });

  it('turns single-record reads and writes of canaries into alerted tripwires, a list naming one into an exposure', async () => {
    const [a, b, c, d] = canaries;
    const file = path.join(dir, 'audit.csv');
    const res = await importAccessLog(vaultDb, file, options());
    expect(res).toMatchObject({ alreadyImported: false, rejected: 0, tripwires: 4, alerts: 3 });

    const wires = await vault.listTripwires(vaultDb, { hospital: hospital.name });
    expect(wires.map((w) => [w.account, w.canary_id, w.scope, w.action]).sort()).toEqual(
      [
        ['nurse42', a.id, 'single', 'select'],
        ['nurse42', d.id, 'single', 'select'],
        ['nurse07', c.id, 'single', 'update'],
        ['clerk03', b.id, 'bulk', 'select'],
      ].sort(),
    );
    for (const w of wires) {
      expect(w).toMatchObject({ system: 'his', ip: '127.0.0.1', path: file });
      expect(w.at.getTime()).toBeGreaterThanOrEqual(startedAt.getTime() - 1000);
      expect(w.at.getTime()).toBeLessThanOrEqual(Date.now());
    }

    const outbox = await vaultDb.query<{ channel: string; payload: { type: string; account: string; canary: string; action: string } }>(
      `SELECT channel, payload FROM alert_outbox WHERE tripwire_id IS NOT NULL`,
    );
    expect(outbox.rows.map((r) => [r.channel, r.payload.type, r.payload.account, r.payload.canary, r.payload.action]).sort()).toEqual(
      [
        ['email', 'tripwire', 'nurse42', a.id, 'select'],
        ['email', 'tripwire', 'nurse42', d.id, 'select'],
        ['email', 'tripwire', 'nurse07', c.id, 'update'],
      ].sort(),
    );

    const exposures = await vault.exposuresOfCanaries(vaultDb, canaries.map((k) => k.id));
    expect(exposures.filter((e) => e.channel.startsWith('account:')).map((e) => `${e.canary_id} ${e.channel}`).sort()).toEqual(
      [`${a.id} account:nurse42`, `${d.id} account:nurse42`, `${c.id} account:nurse07`, `${b.id} account:clerk03`].sort(),
    );

    // Every staff statement is one event (the join's second entry is the same statement); the real
    // records and the ward list are events without a tripwire: a list that names no key cannot trip one.
    // Keys come from literals, `IN (…)` and bound parameters, an array parameter included.
    const events = await vaultDb.query<{ account: string; scope: string; records: string[]; tripwires: number }>(
      `SELECT e.account, e.scope, e.records, (SELECT count(*)::int FROM tripwires t WHERE t.import_id = e.import_id AND t.line = e.line) AS tripwires
         FROM access_events e WHERE e.account <> 'postgres' ORDER BY e.line`,
    );
    expect(events.rows).toEqual([
      { account: 'nurse42', scope: 'single', records: [a.record], tripwires: 1 },
      { account: 'nurse42', scope: 'single', records: [d.record], tripwires: 1 },
      { account: 'nurse07', scope: 'single', records: [realKeys[0]], tripwires: 0 },
      { account: 'nurse07', scope: 'single', records: [c.record], tripwires: 1 },
      { account: 'clerk03', scope: 'bulk', records: [], tripwires: 0 },
      { account: 'clerk03', scope: 'bulk', records: [b.record, realKeys[1]], tripwires: 1 },
      { account: 'clerk03', scope: 'bulk', records: [realKeys[2], realKeys[3]], tripwires: 0 },
    ]);
    // The seeding account's own statements (foreign-key checks while planting) trip nothing.
    expect(wires.some((w) => w.account === 'postgres')).toBe(false);
  });

  it('adds nothing when the log comes again: the same file, a copy, or an overlapping excerpt', async () => {
    const totals = async () => Promise.all(['access_events', 'tripwires', 'exposures', 'alert_outbox'].map((t) => count(vaultDb, `SELECT 1 FROM ${t}`)));
    const before = await totals();
    const file = path.join(dir, 'audit.csv');
    const again = await importAccessLog(vaultDb, file, options());
    expect(again).toMatchObject({ alreadyImported: true, tripwires: 0, alerts: 0 });
    // A copy under another name is the same file by its digest.
    const copy = path.join(dir, 'audit-copy.csv');
    fs.copyFileSync(file, copy);
    expect(await importAccessLog(vaultDb, copy, options())).toMatchObject({ alreadyImported: true, tripwires: 0, alerts: 0 });
    // A different file holding the same entries (the server's startup messages cut off): every event is already in the vault.
    const excerpt = path.join(dir, 'audit-excerpt.csv');
    fs.writeFileSync(excerpt, fs.readFileSync(file, 'utf8').split('\n').filter((l) => !/^[^,]*,,/.test(l)).join('\n'));
    const res = await importAccessLog(vaultDb, excerpt, options());
    expect(res).toMatchObject({ alreadyImported: false, added: 0, rejected: 0, tripwires: 0, alerts: 0 });
    expect(res.duplicates).toBeGreaterThanOrEqual(STAFF_AUDIT_ENTRIES - 1);
    expect(await totals()).toEqual(before);
  });

  it('imports the same csvlog through the cradle CLI', async () => {
    const cwd = scratchDir('pgaudit-cli');
    try {
      fs.writeFileSync(
        path.join(cwd, 'cradle.config.json'),
        JSON.stringify({
          vault: cliVault,
          alerts: { email: { host: '127.0.0.1', port: 2525, from: 'cradle@h.example', to: ['sec@h.example'] } },
          hospitals: {
            [hospital.name]: { displayName: hospital.displayName, target: url, mapping: path.join(FIXTURES_DIR, 'mappings', 'reference.json'), wards: hospital.wards, districts: ['鼓楼区'] },
          },
        }),
      );
      const res = json<{ lines: number; added: number; rejected: number; tripwires: number; alerts: number }>(
        await cradleInProcess(['logs', 'import', path.join(dir, 'audit.csv'), '--format', 'pgaudit', '--time-zone', 'UTC', '--json'], { cwd }),
      );
      expect(res).toMatchObject({ rejected: 0, tripwires: 4, alerts: 3 });
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
});
