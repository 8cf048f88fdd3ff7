import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type mysql from 'mysql2/promise';
import { importAccessLog, type ImportAccessOptions } from '../../src/accesslog/import.js';
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
import { describeWith, MARIADB_PLUGIN_DIR, SERVER_AUDIT } from '../helpers/needs.js';
import { startPrivateMariadb, type PrivateMariadb } from '../helpers/private-mariadb.js';

// Tripwires end to end from MariaDB's own audit: a private mariadbd (its own datadir, port and socket,
// never the machine's server) with server_audit loaded, the pinyin HIS fixture as the target, staff
// accounts reading canary and real newborn records through mysql2 (literal SQL and prepared statements),
// the plugin's log imported with --format mariadb-audit.

const STAFF = ['nurse42', 'nurse07', 'clerk03'];

describeWith(SERVER_AUDIT)('tripwires from a real MariaDB server_audit log', () => {
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
    format: 'mariadb-audit',
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

  beforeAll(async () => {
    dir = scratchDir('mariadb-audit');
    logFile = path.join(dir, 'server_audit.log');
    server = await startPrivateMariadb(dir, [
      `--plugin-dir=${MARIADB_PLUGIN_DIR}`,
      '--plugin-load-add=server_audit.so',
      '--server-audit-logging=ON',
      '--server-audit-events=CONNECT,QUERY_DML,TABLE',
      '--server-audit-output-type=file',
      `--server-audit-file-path=${logFile}`,
      '--server-audit-excl-users=root',
    ]);

    // The hospital: the pinyin HIS schema, a population, staff accounts.
    const admin = await server.connect('root', undefined, undefined, { multipleStatements: true });
    await admin.query(`CREATE DATABASE his CHARACTER SET utf8mb4; USE his; ${fs.readFileSync(path.join(FIXTURES_DIR, 'mysql-his', 'schema.sql'), 'utf8')}`);
    for (const u of STAFF) await admin.query(`CREATE USER '${u}'@'%' IDENTIFIED BY 'pw'; GRANT SELECT, UPDATE ON his.* TO '${u}'@'%'`);
    await admin.end();
    hospital = hospitalConfig('mysql-his', `mysql://root@127.0.0.1:${server.port}/his`);
    mapping = loadMapping(hospital.mappingFile);
    target = await openDatabase(hospital.target, { role: 'target' });
    const rng = createRandom('mariadb-audit:population');
    await target.transaction((tx) => copyFamilies(tx, mapping, demoPopulation(rng, 40, new Date()), hospital.timeZone, () => rng.int(0, 9)));

    vaultLoc = await newDatabase('pglite', 'vault', 'vault');
    vaultDb = await openDatabase(vaultLoc.location);
    await migrate(vaultDb);
    await vault.ensureHospital(vaultDb, hospital.name, hospital.locale);
    const trapRng = createRandom('mariadb-audit:traps');
    const numbers = new Set<string>();
    while (numbers.size < 20) numbers.add(randomMobile(trapRng));
    await vault.addTrapNumbers(vaultDb, [...numbers].map((e164) => ({ e164, region: 'CN' })), { hospital: null, burnInUntil: null });
    await vault.addTrapDomain(vaultDb, 'trap.example.org', null);
    const now = new Date('2026-11-02T00:00:00Z');
    await plantCanaries(vaultDb, target, { hospital, mapping, count: 4, channels: [hospital.seedChannel], now, isoWeek: '2026-W45', ...birthWindow(now), seed: 'mariadb-audit' });
    canaries = (await vault.listCanaries(vaultDb, { hospital: hospital.name })).map((c) => ({ id: c.id, record: String(c.target_keys!.xse.XSEID) }));
    const { rows } = await target.query<{ XSEID: number }>(`SELECT XSEID FROM XSE_JBXX WHERE XSEID NOT IN (${canaries.map((c) => c.record).join(',')}) ORDER BY XSEID`);
    realKeys = rows.map((r) => String(r.XSEID));

    // A shift on the wards.
    startedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const [a, b, c, d] = canaries;
    await as('nurse42', async (db) => {
      await db.query(`SELECT * FROM \`XSE_JBXX\` WHERE \`XSEID\` = ${a.record}`);
      // A client-side prepared statement (mysql2's query with values, Connector/J's default): the server gets literal SQL.
      await db.query('SELECT x.XSEXM, m.BRXM, m.LXDH\nFROM XSE_JBXX x JOIN ZY_BRXX m ON m.BRID = x.BRID\nWHERE x.XSEID = ?', [d.record]);
      // A server-side prepared statement: server_audit logs its text with `?`, never the values.
      await db.execute('SELECT * FROM XSE_JBXX WHERE XSEID = ?', [a.record]);
    });
    await as('nurse07', async (db) => {
      await db.query(`SELECT * FROM XSE_JBXX WHERE XSEID = '${realKeys[0]}' AND XSEXM <> 'O\\'Brien 王'`);
      await db.query(`UPDATE XSE_JBXX SET TZ = TZ WHERE XSEID = ${c.record}`);
      await db.query('SELECT * FROM XSE_JBXX WHERE XSEID = 0 AND nonsense = 1').catch(() => undefined);
    });
    await as('clerk03', async (db) => {
      await db.query(`SELECT XSEID, XSEXM FROM XSE_JBXX WHERE XB = '1'`);
      await db.query(`SELECT * FROM XSE_JBXX WHERE XSEID IN (${b.record}, ${realKeys[1]})`);
    });
    await target.close();
    // server_audit writes through a buffer: rotating it now flushes it (server_audit_file_rotate_now).
    const flush = await server.connect();
    await flush.query('SET GLOBAL server_audit_logging = OFF');
    await flush.end();
  }, 120_000);

  afterAll(async () => {
    await target?.close().catch(() => undefined);
    await vaultDb?.close();
    await vaultLoc?.cleanup();
    await server?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('logs the staff statements as QUERY events with backquotes, escaped quotes and newlines', () => {
    const text = fs.readFileSync(logFile, 'utf8');
    expect(text).toMatch(/,nurse42,localhost,\d+,\d+,QUERY,his,'SELECT \* FROM `XSE_JBXX` WHERE `XSEID` = \d+',0$/m);
    expect(text).toMatch(/,nurse42,localhost,\d+,\d+,QUERY,his,'SELECT \* FROM XSE_JBXX WHERE XSEID = \?',0$/m);
    expect(text).toContain(`\\nWHERE x.XSEID = \\'${canaries[3].record}\\'',0`);
    expect(text).toContain(`XSEXM <> \\'O\\\\\\'Brien 王\\'`);
  });

  it('turns single-record reads and writes of canaries into tripwires, a list naming one into an exposure', async () => {
    const [a, b, c, d] = canaries;
    const res = await importAccessLog(vaultDb, logFile, options());
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
      // server_audit names a client by its host name where it resolves (127.0.0.1 is localhost): no address then.
      expect(w).toMatchObject({ ip: null, path: logFile });
      expect(w.at.getTime()).toBeGreaterThanOrEqual(startedAt.getTime());
      expect(w.at.getTime()).toBeLessThanOrEqual(Date.now());
    }
    const exposures = await vault.exposuresOfCanaries(vaultDb, canaries.map((k) => k.id));
    expect(exposures.filter((e) => e.channel.startsWith('account:')).map((e) => `${e.canary_id} ${e.channel}`).sort()).toEqual(
      [`${a.id} account:nurse42`, `${d.id} account:nurse42`, `${c.id} account:nurse07`, `${b.id} account:clerk03`].sort(),
    );
    // The real record's open, the ward list and the server-side prepared statement (no values in the log)
    // are events without a tripwire; the statement the server refused is no event.
    expect(res.added).toBe(8);
  });
});
