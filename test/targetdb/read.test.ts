import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { dialectOf, openDatabase, readOnly, type Database } from '../../src/db/index.js';
import { joinedFrom, parseMapping, readFamilyRows, targetColumns } from '../../src/targetdb/index.js';
import { newDatabase, type TestLocation } from '../helpers/db.js';
import { newMariadbDatabase } from '../helpers/mariadb.js';
import { describeEachTarget, TARGET_CASES } from '../helpers/targets.js';

// Two tables that share a column name (XM: the mother's name and the baby's), one mother without a
// baby row yet (admitted, not delivered), and a column the mapping does not name (MZ).
const ROWS = `
  INSERT INTO ZY_MQXX (XM, LXDH, RYSJ) VALUES ('陈婷婷', '13961250001', '2026-11-01 08:00:05'), ('周敏', '13961250002', '2026-11-02 09:10:11');
  INSERT INTO XSE_XX (MQID, XM, TZ) VALUES (1, '陈婷婷之女', 3120);`;
const SCHEMA = {
  postgresql: `
  CREATE TABLE "ZY_MQXX" ("ID" serial PRIMARY KEY, "XM" text NOT NULL, "LXDH" text, "MZ" text DEFAULT '汉族', "RYSJ" timestamp NOT NULL);
  CREATE TABLE "XSE_XX" ("ID" serial PRIMARY KEY, "MQID" int REFERENCES "ZY_MQXX"("ID"), "XM" text, "TZ" int);
  ${ROWS.replace(/\b(ZY_MQXX|XSE_XX|XM|LXDH|RYSJ|MQID|TZ)\b/g, '"$1"')}`,
  mysql: `
  CREATE TABLE ZY_MQXX (ID INT AUTO_INCREMENT PRIMARY KEY, XM TEXT NOT NULL, LXDH TEXT, MZ TEXT DEFAULT '汉族', RYSJ DATETIME NOT NULL) DEFAULT CHARSET=utf8mb4;
  CREATE TABLE XSE_XX (ID INT AUTO_INCREMENT PRIMARY KEY, MQID INT REFERENCES ZY_MQXX(ID), XM TEXT, TZ INT) DEFAULT CHARSET=utf8mb4;
  ${ROWS}`,
};
const mapping = parseMapping({
  inserts: [
    { as: 'm', table: 'ZY_MQXX', returning: ['ID'], columns: { XM: 'mother.name', LXDH: { field: 'mother.phone', phone: 'national' }, RYSJ: { field: 'admittedAt', format: 'yyyy-MM-dd HH:mm:ss' } } },
    { as: 'b', table: 'XSE_XX', columns: { MQID: { ref: 'm.ID' }, XM: 'baby.name', TZ: 'baby.weightGrams' } },
  ],
});

describeEachTarget(TARGET_CASES, 'reading families through the mapping on %s', (backend) => {
  let loc: TestLocation;
  let db: Database;
  beforeAll(async () => {
    loc = backend === 'mariadb' ? await newMariadbDatabase('read') : await newDatabase(backend, 'read');
    db = await openDatabase(loc.location);
    await db.exec(SCHEMA[dialectOf(db).name as keyof typeof SCHEMA]);
  });
  afterAll(async () => {
    await db.close();
    await loc.cleanup();
  });

  it('lists every column of the mapping tables, named or not, with type, default and the mapping value', async () => {
    const columns = await readOnly(db, (tx) => targetColumns(tx, mapping));
    expect(columns.map((c) => `${c.alias}.${c.column}`)).toEqual(['m.ID', 'm.XM', 'm.LXDH', 'm.MZ', 'm.RYSJ', 'b.ID', 'b.MQID', 'b.XM', 'b.TZ']);
    const mz = columns.find((c) => c.column === 'MZ')!;
    expect(mz).toMatchObject({ dataType: 'text', nullable: true, hasDefault: true, value: undefined });
    expect(columns.find((c) => c.alias === 'b' && c.column === 'XM')!.value).toMatchObject({ type: 'field', field: 'baby.name' });
    expect(columns.find((c) => c.alias === 'm' && c.column === 'ID')!.hasDefault).toBe(true);
  });

  it('reads one row per family keyed alias.column, so two XM columns stay apart, and keeps a mother without a baby row', async () => {
    const rows = await readOnly(db, (tx) => readFamilyRows(tx, mapping));
    expect(rows).toHaveLength(2);
    const chen = rows.find((r) => r['m.XM'] === '陈婷婷')!;
    expect(chen).toMatchObject({ 'b.XM': '陈婷婷之女', 'b.TZ': 3120, 'm.MZ': '汉族' });
    expect(rows.find((r) => r['m.XM'] === '周敏')!['b.XM']).toBeNull();
  });

  it('selects families by a key and samples at most a limit', async () => {
    const byKey = await readOnly(db, (tx) => readFamilyRows(tx, mapping, { keyIn: { alias: 'm', column: 'ID', values: [2] } }));
    expect(byKey.map((r) => r['m.XM'])).toEqual(['周敏']);
    expect(await readOnly(db, (tx) => readFamilyRows(tx, mapping, { limit: 1, sample: true }))).toHaveLength(1);
  });

  it('joins inner for births only', () => {
    expect(joinedFrom(dialectOf(db), mapping, 'inner')).toBe(
      dialectOf(db).name === 'mysql' ? 'FROM `ZY_MQXX` AS `m` JOIN `XSE_XX` AS `b` ON `b`.`MQID` = `m`.`ID`' : 'FROM "public"."ZY_MQXX" AS "m" JOIN "public"."XSE_XX" AS "b" ON "b"."MQID" = "m"."ID"',
    );
  });
});
