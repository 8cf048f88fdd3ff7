import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { dialectOf, openDatabase, readOnly, type Database } from '../../src/db/index.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { demoPopulation } from '../../src/demo/setup.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { mysqlReadOnly } from '../../src/db/dialects/mysql-readonly.js';
import { checkTarget, findTakenPhones, insertFamilies, loadMapping, nextKeys, readFamilyRows } from '../../src/targetdb/index.js';
import { describeMariadb, mariadbUnreachable, newMariadbDatabase } from '../helpers/mariadb.js';
import type { TestLocation } from '../helpers/db.js';

// The target layer on the machine's MariaDB, one database for the file: the dialect's catalog, the
// character-set check, AUTO_INCREMENT keys, numbered keys under FOR UPDATE, all-or-nothing inserts
// and the read-only guard with the server behind it.

const describeOnMariadb = describeMariadb(await mariadbUnreachable());
const mapping = loadMapping(path.join(FIXTURES_DIR, 'mappings', 'mysql-his.json'));
const TZ = 'Asia/Shanghai';

describeOnMariadb('the MySQL dialect on MariaDB', () => {
  let loc: TestLocation;
  let db: Database;
  const rng = createRandom('mysql-target');
  const families = (n: number) => [...demoPopulation(rng, n, new Date())].map((f) => ({ ...f, mother: { ...f.mother, phone: f.mother.phone ?? '+8613912345678' } }));

  beforeAll(async () => {
    loc = await newMariadbDatabase('target', fs.readFileSync(path.join(FIXTURES_DIR, 'mysql-his', 'schema.sql'), 'utf8'));
    db = await openDatabase(loc.location, { role: 'target' });
  });
  afterAll(async () => {
    await db?.close();
    await loc?.cleanup();
  });

  it('reads the catalog in PostgreSQL words, with charsets and AUTO_INCREMENT', async () => {
    const cols = await readOnly(db, (tx) => dialectOf(tx).columns(tx, [{ schema: 'public', table: 'XSE_JBXX' }]));
    expect(cols.map((c) => [c.column, c.dataType, c.generated, c.charset])).toEqual([
      ['XSEID', 'bigint', true, null],
      ['BRID', 'integer', false, null],
      ['XSEXM', 'character varying', false, 'gbk'],
      ['XB', 'character', false, 'gbk'],
      ['CSRQ', 'timestamp without time zone', false, null],
      ['TZ', 'integer', false, null],
      ['FMFS', 'character varying', false, 'gbk'],
    ]);
    expect(dialectOf(db).unstorable('gbk', '张伟䶮𬌗')).toEqual(['𬌗']);
    expect(dialectOf(db).unstorable('latin1', 'abc张')).toEqual(['张']);
  });

  it('casts text to a column type as the column reads back (realism compares drafted values with stored ones)', async () => {
    const cast = (values: (string | null)[], dataType: string, nativeType: string) => readOnly(db, (tx) => dialectOf(tx).castValues(tx, values, { dataType, nativeType }));
    expect(await cast(['2026-11-01 08:00:00', null, '2026-11-02T09:30:05'], 'timestamp without time zone', 'datetime')).toEqual(['2026-11-01 08:00:00', null, '2026-11-02 09:30:05']);
    expect(await cast(['3.5', '12'], 'numeric', 'decimal(5,2)')).toEqual(['3.50', '12.00']);
    expect(await cast(['7', '-2'], 'integer', 'int(11)')).toEqual([7, -2]);
    expect(await cast(['王小明', ''], 'character varying', 'varchar(32)')).toEqual(['王小明', '']);
    expect(await cast(['2026-11-01'], 'date', 'date')).toEqual(['2026-11-01']);
    expect(await cast(['x'], 'json', 'json')).toBeNull();
    expect(await cast([], 'integer', 'int')).toEqual([]);
  });

  it('inserts families with AUTO_INCREMENT keys in order, and rolls back all of them on a failure', async () => {
    const batch = families(3);
    const keys = await db.transaction((tx) => insertFamilies(tx, mapping, batch, TZ, () => rng.int(0, 9)));
    expect(keys.map((k) => Number(k.mq.BRID))).toEqual([1, 2, 3]);
    expect(keys.map((k) => k.mq.ZYH)).toEqual([expect.stringMatching(/0001$/), expect.stringMatching(/0002$/), expect.stringMatching(/0003$/)]);
    const rows = await readOnly(db, (tx) => readFamilyRows(tx, mapping, { keyIn: { alias: 'xse', column: 'XSEID', values: keys.map((k) => k.xse.XSEID) } }));
    expect(rows.map((r) => [r['mq.BRXM'], r['xse.BRID']])).toEqual(batch.map((f, i) => [f.mother.name.full, i + 1]));
    expect(await readOnly(db, (tx) => findTakenPhones(tx, mapping, [batch[0].mother.phone!, '+8613900000000']))).toEqual(new Set([batch[0].mother.phone]));
    // A baby name gbk cannot store fails the second table: the mothers of the batch go too.
    const bad = families(2);
    bad[1] = { ...bad[1], baby: { ...bad[1].baby, name: { ...bad[1].baby.name, full: '王𬌗' } } };
    await expect(db.transaction((tx) => insertFamilies(tx, mapping, bad, TZ, () => rng.int(0, 9)))).rejects.toThrow(/Incorrect string value/);
    const { rows: n } = await db.query<{ n: number }>('SELECT count(*) AS n FROM ZY_BRXX');
    expect(Number(n[0].n)).toBe(3);
    // Numbered keys continue from the largest committed one.
    const next = await db.transaction((tx) => nextKeys(tx, mapping.inserts[0], 2, new Date(), TZ));
    expect(next.get('ZYH')).toEqual([expect.stringMatching(/0004$/), expect.stringMatching(/0005$/)]);
  });

  it('target check: the gbk table holds every name character; a latin1 column is an error', async () => {
    expect((await readOnly(db, (tx) => checkTarget(tx, mapping, { locale: 'zh-CN' }))).filter((p) => p.level === 'error')).toEqual([]);
    await db.exec('ALTER TABLE XSE_JBXX ADD COLUMN MQXM VARCHAR(32) CHARACTER SET latin1 NULL');
    try {
      const withLatin1 = { ...mapping, inserts: mapping.inserts.map((s, i) => (i === 1 ? { ...s, columns: [...s.columns, { column: 'MQXM', value: mapping.inserts[0].columns.find((c) => c.column === 'BRXM')!.value }] } : s)) };
      const problems = await readOnly(db, (tx) => checkTarget(tx, withLatin1, { locale: 'zh-CN' }));
      expect(problems).toContainEqual({ level: 'error', where: 'public.XSE_JBXX.MQXM', message: 'character set latin1 cannot hold Chinese text (mother.name); convert the column to utf8mb4' });
    } finally {
      await db.exec('ALTER TABLE XSE_JBXX DROP COLUMN MQXM');
    }
  });

  it('read-only: refused texts never reach the server; the server refuses a write all the same', async () => {
    const refused = (sql: string) => readOnly(db, (tx) => tx.query(sql));
    await expect(refused('SELECT 1; DELETE FROM ZY_BRXX')).rejects.toThrow(/more than one statement/);
    await expect(refused('/*!50000 DELETE FROM ZY_BRXX */')).rejects.toThrow(/versioned comment/);
    await expect(refused("SELECT load_file('/etc/passwd')")).rejects.toThrow(/load_file\(\) is refused/);
    await expect(refused('SELECT * FROM ZY_BRXX FOR UPDATE')).rejects.toThrow(/locking reads/);
    await expect(refused('SELECT GET_LOCK(`x`, 1)')).rejects.toThrow(/get_lock\(\) is refused/);
    expect((await readOnly(db, (tx) => tx.query<{ n: number }>('SELECT count(*) AS n FROM ZY_BRXX WHERE BRXM <> ?', ['#']))).rows[0].n).toBe(3);
    // Past the text check (the backend handle itself): the READ ONLY transaction stops the write.
    await expect(db.rolledBackTransaction(['START TRANSACTION READ ONLY'], (tx) => tx.query('DELETE FROM ZY_BRXX'))).rejects.toThrow(/READ ONLY transaction/);
    const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM ZY_BRXX');
    expect(Number(rows[0].n)).toBe(3);
  });

  it('read-only: a server whose sql_mode ends strings elsewhere (NO_BACKSLASH_ESCAPES, ANSI_QUOTES) reads the text as the check did', async () => {
    // The check takes everything up to '# ' for one string (a backslash escapes the quote) and the rest
    // for a comment; such a server would end the string at the backslash and run sleep().
    for (const q of ["'", '"']) {
      const sql = `SELECT ${q}a\\${q}, sleep(0) AS f, ${q}# ${q} AS z`;
      expect(() => mysqlReadOnly.check(sql)).not.toThrow();
      // As Cradle's read-only session runs it on a server configured so: its setup after the server's modes.
      const rows = await db.rolledBackTransaction(["SET SESSION sql_mode = 'ANSI,NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES'", ...mysqlReadOnly.setup], async (tx) => (await tx.query<Record<string, unknown>>(sql)).rows);
      expect(rows.map((r) => Object.values(r))).toEqual([[`a${q}, sleep(0) AS f, `]]);
      expect((await readOnly(db, (tx) => tx.query<Record<string, unknown>>(sql))).rows.map((r) => Object.values(r))).toEqual([[`a${q}, sleep(0) AS f, `]]);
    }
  });
});
