import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase, type Database } from '../../src/db/index.js';
import { FIXTURES_DIR, SQL_DIR } from '../../src/lib/paths.js';
import { checkTarget, loadMapping, parseMapping } from '../../src/targetdb/index.js';
import { BACKENDS, newDatabase, type TestLocation } from '../helpers/db.js';

describe.each(BACKENDS)('target check on %s', (backend) => {
  let loc: TestLocation;
  let db: Database;
  beforeAll(async () => {
    loc = await newDatabase(backend, 'check');
    db = await openDatabase(loc.location);
    await db.exec(fs.readFileSync(path.join(SQL_DIR, 'targetdb', 'reference.sql'), 'utf8'));
    await db.exec(fs.readFileSync(path.join(FIXTURES_DIR, 'alt-hospital', 'schema.sql'), 'utf8'));
  });
  afterAll(async () => {
    await db.close();
    await loc.cleanup();
  });

  it('finds both shipped mappings fit their schemas', async () => {
    expect(await checkTarget(db, loadMapping(path.join(FIXTURES_DIR, 'mappings', 'reference.json')))).toEqual([]);
    expect(await checkTarget(db, loadMapping(path.join(FIXTURES_DIR, 'alt-hospital', 'mapping.json')))).toEqual([]);
  });

  it('names each missing table, column, type mismatch, unfilled NOT NULL column and unindexed phone column', async () => {
    const mapping = parseMapping({
      inserts: [
        { as: 'm', table: 'his.MotherInfo', columns: { mother_no: { random: 'M####' }, surname: 'mother.familyName', given_name: 'mother.givenName', nickname: 'mother.name', dob: 'baby.birthTime', home_address: { field: 'mother.phone', phone: 'national' } } },
        { as: 'x', table: 'public.nowhere', columns: { a: 'ward' } },
        { as: 'i', table: 'his.infant_record', columns: { mother_no: { ref: 'm.mother_no' }, gender: { field: 'baby.sex', map: { female: '女', male: '男' } }, birth_date: 'baby.birthTime', birth_clock: { field: 'baby.birthTime', format: 'HH:mm' }, weight_kg: 'baby.weightKg', dept: 'ward' } },
      ],
    });
    const problems = (await checkTarget(db, mapping)).map((p) => `${p.level}: ${p.where}: ${p.message}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        'error: his.MotherInfo.nickname: column does not exist',
        'error: his.MotherInfo.dob: type date cannot hold baby.birthTime (instant); add a "format" such as "yyyy-MM-dd HH:mm:ss" for local time',
        'warning: his.MotherInfo.home_address: no index: the uniqueness check will scan the whole table at each seeding',
        'error: public.nowhere: table does not exist (insert "x")',
        'error: his.infant_record.birth_date: type date cannot hold baby.birthTime (instant); add a "format" such as "yyyy-MM-dd HH:mm:ss" for local time',
        'error: his.infant_record.in_date: NOT NULL without a default, and the mapping does not fill it',
        expect.stringMatching(/^warning: his\.MotherInfo\.mother_no: random key "M####": canary values sit out of the hospital's sequence .* \{"key": "<pattern>"\}/),
      ]),
    );
    expect(problems).toHaveLength(7);
  });
});
