import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { openDatabase, readOnly, type Database } from '../../src/db/index.js';
import { demoPopulation } from '../../src/demo/setup.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { copyMappedTables } from '../../src/profile/copy.js';
import { insertFamilies, loadMapping } from '../../src/targetdb/index.js';
import type { TestLocation } from '../helpers/db.js';
import { describeMariadb, mariadbUnreachable, newMariadbDatabase } from '../helpers/mariadb.js';

// A MySQL/MariaDB target's profile is learned on an in-memory copy of the mapped tables (src/profile/copy.ts):
// the copy on the machine's MariaDB with the pinyin HIS fixture. `cradle target profile` on it runs in
// test/cli/mysql.test.ts.

const mapping = loadMapping(path.join(FIXTURES_DIR, 'mappings', 'mysql-his.json'));
const TZ = 'Asia/Shanghai';

describeMariadb(await mariadbUnreachable())('the profile of a MariaDB target, from a copy', () => {
  let loc: TestLocation;
  let db: Database;
  const rng = createRandom('mysql-copy');
  const families = (n: number) => [...demoPopulation(rng, n, new Date())].map((f) => ({ ...f, mother: { ...f.mother, phone: f.mother.phone ?? '+8613912345678' } }));

  beforeAll(async () => {
    loc = await newMariadbDatabase('copy', fs.readFileSync(path.join(FIXTURES_DIR, 'mysql-his', 'schema.sql'), 'utf8'));
    db = await openDatabase(loc.location, { role: 'target' });
  });
  afterAll(async () => {
    await db?.close();
    await loc?.cleanup();
  });

  it('copies the mapped tables into an in-memory PostgreSQL for the profile: whole, or a sample of whole families', async () => {
    await db.transaction((tx) => insertFamilies(tx, mapping, families(6), TZ, () => rng.int(0, 9)));
    const { rows } = await db.query<{ m: number; b: number }>('SELECT (SELECT count(*) FROM ZY_BRXX) AS m, (SELECT count(*) FROM XSE_JBXX) AS b');
    const whole = await readOnly(db, (tx) => copyMappedTables(tx, mapping));
    try {
      expect(whole).toMatchObject({ families: Number(rows[0].m), sampled: null });
      const { rows: copied } = await whole.db.query<{ m: number; b: number }>('SELECT (SELECT count(*) FROM "ZY_BRXX")::int AS m, (SELECT count(*) FROM "XSE_JBXX")::int AS b');
      expect(copied[0]).toEqual({ m: Number(rows[0].m), b: Number(rows[0].b) });
      // In AUTO_INCREMENT order, the types in PostgreSQL's words, times as written.
      const { rows: first } = await whole.db.query<{ BRID: number; RYSJ: string }>('SELECT "BRID", "RYSJ" FROM "ZY_BRXX" LIMIT 3');
      expect(first.map((r) => r.BRID)).toEqual([...first.map((r) => r.BRID)].sort((a, b) => a - b));
      expect(first[0].RYSJ).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    } finally {
      await whole.db.close();
    }
    const sample = await readOnly(db, (tx) => copyMappedTables(tx, mapping, undefined, 3));
    try {
      expect(sample).toMatchObject({ families: Number(rows[0].m), sampled: 3 });
      // Three babies and their mothers, joined as in the target.
      const { rows: joined } = await sample.db.query<{ n: number }>('SELECT count(*)::int AS n FROM "XSE_JBXX" x JOIN "ZY_BRXX" m ON m."BRID" = x."BRID"');
      expect(joined[0].n).toBe(3);
    } finally {
      await sample.db.close();
    }
  });
});
