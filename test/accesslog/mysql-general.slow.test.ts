import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type mysql from 'mysql2/promise';
import { importAccessLog, type ImportAccessOptions } from '../../src/accesslog/import.js';
import { EARLY_TIME_WARNING, UNKNOWN_ACCOUNT_WARNING } from '../../src/accesslog/formats/mysql-general.js';
import { migrate, openDatabase, type Database } from '../../src/db/index.js';
import { demoPopulation, randomMobile } from '../../src/demo/setup.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import { copyFamilies, loadMapping, recordKeyColumn, type Mapping } from '../../src/targetdb/index.js';
import * as vault from '../../src/vault/index.js';
import type { HospitalConfig } from '../../src/config/index.js';
import { newDatabase, scratchDir, type TestLocation } from '../helpers/db.js';
import { hospitalConfig } from '../helpers/hospital.js';
import { describeWith, MARIADBD } from '../helpers/needs.js';
import { startPrivateMariadb, type PrivateMariadb } from '../helpers/private-mariadb.js';

// Tripwires end to end from MariaDB's general query log: a private mariadbd (never the machine's server:
// the general log is a global setting) started with --general-log=1, the pinyin HIS fixture as the
// target, staff accounts reading canary and real records through mysql2 (literal SQL, a statement over
// several lines, a server-side prepared statement), the log rotated as logrotate would, and both files
// imported with --format mysql-general.

const STAFF = ['nurse42', 'nurse07', 'clerk03'];
/** Wait into the next second: MariaDB writes a time on an entry only when the second changed. */
const nextSecond = () => new Promise((r) => setTimeout(r, 1050 - (Date.now() % 1000)));

describeWith(MARIADBD)('tripwires from a real MariaDB general query log', () => {
  let dir: string;
  let server: PrivateMariadb | null = null;
  let hospital: HospitalConfig;
  let mapping: Mapping;
  let target: Database;
  let vaultLoc: TestLocation;
  let vaultDb: Database;
  let canaries: { id: string; record: string }[];
  let realKeys: string[];
  let logFile: string;
  let startedAt: Date;

  const options = (): ImportAccessOptions => ({
    hospital: hospital.name,
    format: 'mysql-general',
    timeZone: hospital.timeZone,
    recordKey: recordKeyColumn(mapping)!,
    alertChannels: ['email'],
  });

  async function as<T>(user: string, fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
    const c = await server!.connect(user, 'pw', 'his');
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  }

  /** Rename the log and have the server open a new one, as logrotate's postrotate does. */
  async function rotate(to: string): Promise<void> {
    fs.renameSync(logFile, to);
    const root = await server!.connect();
    await root.query('FLUSH GENERAL LOGS');
    await root.end();
  }

  beforeAll(async () => {
    dir = scratchDir('mysql-general');
    logFile = path.join(dir, 'general.log');
    server = await startPrivateMariadb(dir, ['--general-log=1', `--general-log-file=${logFile}`]);

    // The hospital: the pinyin HIS schema, a population, staff accounts.
    const admin = await server.connect('root', undefined, undefined, { multipleStatements: true });
    await admin.query(`CREATE DATABASE his CHARACTER SET utf8mb4; USE his; ${fs.readFileSync(path.join(FIXTURES_DIR, 'mysql-his', 'schema.sql'), 'utf8')}`);
    for (const u of STAFF) await admin.query(`CREATE USER '${u}'@'%' IDENTIFIED BY 'pw'; GRANT SELECT, UPDATE ON his.* TO '${u}'@'%'`);
    await admin.end();
    hospital = hospitalConfig('mysql-his', `mysql://root@127.0.0.1:${server.port}/his`);
    mapping = loadMapping(hospital.mappingFile);
    target = await openDatabase(hospital.target, { role: 'target' });
    const rng = createRandom('mysql-general:population');
    await target.transaction((tx) => copyFamilies(tx, mapping, demoPopulation(rng, 40, new Date()), hospital.timeZone, () => rng.int(0, 9)));

    vaultLoc = await newDatabase('pglite', 'vault', 'vault');
    vaultDb = await openDatabase(vaultLoc.location);
    await migrate(vaultDb);
    await vault.ensureHospital(vaultDb, hospital.name, hospital.locale);
    const trapRng = createRandom('mysql-general:traps');
    const numbers = new Set<string>();
    while (numbers.size < 20) numbers.add(randomMobile(trapRng));
    await vault.addTrapNumbers(vaultDb, [...numbers].map((e164) => ({ e164, region: 'CN' })), { hospital: null, burnInUntil: null });
    await vault.addTrapDomain(vaultDb, 'trap.example.org', null);
    const now = new Date('2026-11-02T00:00:00Z');
    await plantCanaries(vaultDb, target, { hospital, mapping, count: 4, channels: [hospital.seedChannel], now, isoWeek: '2026-W45', ...birthWindow(now), seed: 'mysql-general' });
    canaries = (await vault.listCanaries(vaultDb, { hospital: hospital.name })).map((c) => ({ id: c.id, record: String(c.target_keys!.xse.XSEID) }));
    const { rows } = await target.query<{ XSEID: number }>(`SELECT XSEID FROM XSE_JBXX WHERE XSEID NOT IN (${canaries.map((c) => c.record).join(',')}) ORDER BY XSEID`);
    realKeys = rows.map((r) => String(r.XSEID));
    await target.close();
    // The setup's statements (root's inserts) go to a file of their own, not imported.
    await rotate(path.join(dir, 'setup.log'));

    // A shift on the wards. nurse07 logs in now and reads only after the rotation below.
    startedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const early = await server.connect('nurse07', 'pw', 'his');
    const [a, b, c, d] = canaries;
    await as('nurse42', async (db) => {
      await db.query(`SELECT * FROM \`XSE_JBXX\` WHERE \`XSEID\` = ${a.record}`);
      // A client-side prepared statement (mysql2's query with values): the server gets literal SQL, over three lines.
      await db.query('SELECT x.XSEXM, m.BRXM, m.LXDH\nFROM XSE_JBXX x JOIN ZY_BRXX m ON m.BRID = x.BRID\nWHERE x.XSEID = ?', [d.record]);
      // A server-side prepared statement: the general log writes Execute with the values filled in.
      await db.execute('SELECT * FROM XSE_JBXX WHERE XSEID = ?', [b.record]);
    });
    await nextSecond();
    await as('clerk03', async (db) => {
      await db.query(`SELECT XSEID, XSEXM FROM XSE_JBXX WHERE XB = '1'`);
      await db.query(`SELECT * FROM XSE_JBXX WHERE XSEID IN (${c.record}, ${realKeys[1]})`);
      await db.query(`SELECT * FROM XSE_JBXX WHERE XSEID = '${realKeys[0]}' AND XSEXM <> 'O\\'Brien 王'`);
    });
    await rotate(path.join(dir, 'general.log.1'));
    // Connected before the file it writes to: its Connect line is in the rotated file.
    await early.query(`SELECT * FROM XSE_JBXX WHERE XSEID = ${c.record}`);
    await early.end();
    await nextSecond();
    await as('nurse42', (db) => db.query(`SELECT * FROM XSE_JBXX WHERE XSEID = ${realKeys[2]}`));
  }, 120_000);

  afterAll(async () => {
    await target?.close().catch(() => undefined);
    await vaultDb?.close();
    await vaultLoc?.cleanup();
    await server?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("writes MariaDB's form: header, yymmdd h:mm:ss or two tabs, thread id, command, statements over lines", () => {
    const text = fs.readFileSync(path.join(dir, 'general.log.1'), 'utf8');
    expect(text).toMatch(/^\/usr\/sbin\/mariadbd, Version: .* started with:\nTcp port: \d+ +Unix socket: .*\nTime\s+Id\s+Command\s+Argument\n/);
    expect(text).toMatch(/^\d{6} [ \d]\d:\d{2}:\d{2}\t +\d+ Connect\tclerk03@localhost on his using TCP\/IP$/m);
    expect(text).toMatch(/^\t\t +\d+ Query\tSELECT \* FROM XSE_JBXX WHERE XSEID IN \(\d+, \d+\)$/m);
    expect(text).toMatch(/^\t\t +\d+ Quit\t$/m);
    expect(text).toMatch(/^(?:\d{6} [ \d]\d:\d{2}:\d{2}|\t)\t +\d+ Execute\tSELECT \* FROM XSE_JBXX WHERE XSEID = '\d+'$/m);
    expect(text).toContain(`\tSELECT x.XSEXM, m.BRXM, m.LXDH\nFROM XSE_JBXX x JOIN ZY_BRXX m ON m.BRID = x.BRID\nWHERE x.XSEID = '${canaries[3].record}'\n`);
  });

  it('turns single-record reads of canaries into tripwires and a list naming one into an exposure, across a rotation', async () => {
    const [a, b, c, d] = canaries;
    const first = await importAccessLog(vaultDb, path.join(dir, 'general.log.1'), options());
    expect(first).toMatchObject({ alreadyImported: false, rejected: 0, tripwires: 4, alerts: 3 });
    // The file may start within the second of the setup's last entry: those entries have no time of their own.
    expect(first.warnings.map((w) => w.message)).toEqual(first.warnings.length ? [EARLY_TIME_WARNING] : []);
    const second = await importAccessLog(vaultDb, logFile, options());
    expect(second).toMatchObject({ rejected: 0, added: 2, tripwires: 1, alerts: 1 });
    expect(second.warnings.find((w) => w.message === UNKNOWN_ACCOUNT_WARNING)).toMatchObject({ lines: 1 });
    const wires = await vault.listTripwires(vaultDb, { hospital: hospital.name });
    expect(wires.map((w) => [w.account, w.canary_id, w.scope, w.action]).sort()).toEqual(
      [
        ['nurse42', a.id, 'single', 'select'],
        ['nurse42', d.id, 'single', 'select'],
        ['nurse42', b.id, 'single', 'select'],
        ['clerk03', c.id, 'bulk', 'select'],
        ['unknown', c.id, 'single', 'select'],
      ].sort(),
    );
    for (const w of wires) {
      // The server names a client by its host name where it resolves (127.0.0.1 is localhost): no address then.
      expect(w.ip).toBeNull();
      expect(w.at.getTime()).toBeGreaterThanOrEqual(startedAt.getTime());
      expect(w.at.getTime()).toBeLessThanOrEqual(Date.now());
    }
    const exposures = await vault.exposuresOfCanaries(vaultDb, canaries.map((k) => k.id));
    expect(exposures.filter((e) => e.channel.startsWith('account:')).map((e) => `${e.canary_id} ${e.channel}`).sort()).toEqual(
      [`${a.id} account:nurse42`, `${d.id} account:nurse42`, `${b.id} account:nurse42`, `${c.id} account:clerk03`, `${c.id} account:unknown`].sort(),
    );
    // Six statements in the first file (the Prepare, mysql2's SET/SHOW and the connections are read and skipped).
    expect(first.added).toBe(6);
  });
});
