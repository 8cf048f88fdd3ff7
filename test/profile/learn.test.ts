import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase, readOnly, type Database } from '../../src/db/index.js';
import type { HospitalProfile } from '../../src/domain/index.js';
import { learnColumnProfiles, shapeOf } from '../../src/profile/columns.js';
import { learnProfile } from '../../src/profile/learn.js';
import { regionalMapping, regionalPopulationSql, REGIONAL_SCHEMA } from '../fixtures/his-population.js';
import { BACKENDS, newDatabase, type TestLocation } from '../helpers/db.js';

// The profile of a regional hospital that is not Cradle's mirror (test/fixtures/his-population.ts), learned
// in SQL through the mapping, read-only; and what it must never hold: values fewer than k families share.

const FAMILIES = 600;
const mapping = regionalMapping();
// One more family with values nobody else has: they must not reach the profile.
const PLANTED = { phone: '13776543210', name: '欧阳娜娜', id: '32040219900307243X', mz: '壮族', note: '家住青枫公园东门对面', address: '常州市天宁区青枫路88号' };

describe.each(BACKENDS)('learning a hospital profile on %s', (backend) => {
  let loc: TestLocation;
  let db: Database;
  let profile: HospitalProfile;
  let json: string;
  const progress: string[] = [];

  beforeAll(async () => {
    loc = await newDatabase(backend, 'profile');
    db = await openDatabase(loc.location);
    await db.exec(REGIONAL_SCHEMA);
    await db.exec(regionalPopulationSql(FAMILIES));
    await db.query(
      `INSERT INTO his."ZY_BRXX" ("ZYH", "XM", "SFZH", "LXDH", "MZ", "BQ", "DZ", "RYSJ", "CYSJ", "CJSJ", "BZ")
       VALUES ('ZY202612010099', $1, $2, $3, $4, '产科一病区', $5, '2026-12-01 10:11:12', NULL, '2026-12-01 10:20:00', $6)`,
      [PLANTED.name, PLANTED.id, PLANTED.phone, PLANTED.mz, PLANTED.address, PLANTED.note],
    );
    profile = await readOnly(db, (tx) => learnProfile(tx, mapping, { hospital: 'changzhou', k: 5, timeZone: 'Asia/Shanghai', onProgress: (m) => progress.push(m) }));
    json = JSON.stringify(profile);
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    await loc?.cleanup();
  });

  it('profiles every column of both tables, mapped or not, with its type and null share', () => {
    expect(profile.families).toBe(FAMILIES + 1);
    expect(Object.keys(profile.columns)).toEqual([
      'm.ID', 'm.ZYH', 'm.XM', 'm.SFZH', 'm.LXDH', 'm.MZ', 'm.BQ', 'm.DZ', 'm.RYSJ', 'm.CYSJ', 'm.CJSJ', 'm.BZ',
      'b.ID', 'b.MQID', 'b.XM', 'b.XB', 'b.CSSJ', 'b.TZ', 'b.YZ', 'b.FMFS',
    ]);
    expect(profile.columns['m.RYSJ'].dataType).toBe('timestamp without time zone');
    expect(profile.columns['m.BZ'].nullShare).toBeGreaterThan(0.85);
    expect(profile.columns['m.BZ'].nullShare).toBeLessThan(0.95);
    expect(profile.columns['m.MZ'].nullShare).toBe(0);
    expect(profile.columns['m.LXDH']).toMatchObject({ field: 'mother.phone', identifying: true });
    expect(progress.some((m) => m.includes('his.ZY_BRXX'))).toBe(true);
  });

  it('keeps categorical values shared by at least k families and counts the rest as other', () => {
    const mz = profile.columns['m.MZ'].values!;
    expect(mz.total).toBe(FAMILIES + 1);
    expect(mz.values['汉族'] / mz.total).toBeGreaterThan(0.9);
    expect(Object.keys(mz.values)).not.toContain(PLANTED.mz);
    expect(mz.other).toBeGreaterThanOrEqual(1);
    for (const n of Object.values(mz.values)) expect(n).toBeGreaterThanOrEqual(5);
    expect(Object.keys(profile.columns['b.FMFS'].values!.values).sort()).toEqual(['剖宫产', '顺产', '产钳助产'].sort());
    expect(Object.keys(profile.columns['m.BQ'].values!.values)).toContain('新生儿监护室');
    expect(Object.keys(profile.columns['b.XB'].values!.values).sort()).toEqual(['1', '2']);
    expect(Object.keys(profile.columns['b.YZ'].values!.values).map(Number).every((w) => w >= 34 && w <= 41)).toBe(true);
  });

  it('learns numbers: quantiles clipped to k families at each end, and the 10 g recording step', () => {
    const tz = profile.columns['b.TZ'].number!;
    expect(tz.steps['10']).toBeGreaterThan(0.75);
    expect(tz.steps['10']).toBeLessThan(0.9);
    expect(tz.steps['1']).toBe(1);
    expect(tz.step).toBe(1);
    expect(tz.quantileLevels[0]).toBeCloseTo(5 / FAMILIES, 2);
    const median = tz.quantiles[tz.quantileLevels.indexOf(0.5)];
    expect(median).toBeGreaterThan(3000);
    expect(median).toBeLessThan(3400);
  });

  it('learns times: precision, hours, weekdays and the offset of a bookkeeping time from admission', () => {
    const rysj = profile.columns['m.RYSJ'].time!;
    expect(rysj.precision.second).toBeGreaterThan(0.9);
    expect(rysj.precision.ms).toBe(0);
    expect(rysj.hours.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(rysj.weekdays).toHaveLength(7);
    const created = profile.columns['m.CJSJ'].time!.offsets!['m.RYSJ'];
    expect(created.share).toBe(1);
    expect(created.quantiles[0]).toBeGreaterThanOrEqual(0);
    expect(created.quantiles[created.quantiles.length - 1]).toBeLessThanOrEqual(1860);
    const birth = profile.columns['b.CSSJ'].time!.offsets!['m.RYSJ'];
    expect(birth.quantiles[0]).toBeGreaterThanOrEqual(7200);
  });

  it('learns text shapes with shared prefixes and lengths, and key patterns: sequences, date prefixes, ID-card check digits', () => {
    const sfzh = profile.columns['m.SFZH'];
    expect(sfzh.identifying).toBe(true);
    expect(sfzh.values).toBeUndefined();
    // Every real number carries its check character; the planted one does not.
    expect(sfzh.key!.idCard!.validShare).toBeCloseTo(FAMILIES / (FAMILIES + 1), 6);
    expect(Object.keys(sfzh.key!.idCard!.regions.values)).toContain('320402');
    expect(Object.keys(sfzh.text!.shapes.values).some((s) => /^3204#{14}$/.test(s) || /^3204#{13}A$/.test(s))).toBe(true);
    const zyh = profile.columns['m.ZYH'];
    expect(zyh.key).toMatchObject({ unique: true, datePrefix: { pattern: 'yyyyMMdd', offset: 2, digits: 4, counter: 'day' } });
    expect(zyh.key!.growsWithOrder!).toBeGreaterThan(0.99);
    expect(zyh.key!.datePrefix!.matchesTime!).toBeGreaterThan(0.99);
    expect(Object.keys(zyh.text!.shapes.values)[0]).toMatch(/^ZY20[#0-9]{10}$/);
    const id = profile.columns['m.ID'];
    // Physical order approximates insertion order (PostgreSQL may fill a page with free space first).
    expect(id.key).toMatchObject({ unique: true, medianStep: 1 });
    expect(id.key!.growsWithOrder!).toBeGreaterThan(0.99);
    expect(id.key!.growsWithTime!).toBeGreaterThan(0.99);
    expect(Object.keys(profile.columns['m.LXDH'].text!.shapes.values).every((s) => /^1[#0-9]{10}$/.test(s))).toBe(true);
    expect(profile.columns['m.XM'].text!.lengths.values).toHaveProperty('3');
    expect(shapeOf('ZY2026A汉-1')).toBe('AA####A汉-#');
  });

  it('reads large tables through a sample, counting null shares, distinct values and categories over every row', async () => {
    const { columns: sampled } = await readOnly(db, (tx) => learnColumnProfiles(tx, mapping, { k: 5, timeZone: 'Asia/Shanghai', sampleRows: 300 }));
    expect(sampled['m.MZ'].values).toEqual(profile.columns['m.MZ'].values);
    expect(sampled['m.BZ'].nullShare).toBe(profile.columns['m.BZ'].nullShare);
    expect(sampled['m.ZYH'].key).toMatchObject({ unique: true, datePrefix: { pattern: 'yyyyMMdd', offset: 2, digits: 4, counter: 'day' } });
    expect(sampled['m.SFZH'].key!.idCard!.validShare).toBeGreaterThan(0.99);
    expect(sampled['m.RYSJ'].time!.precision.second).toBeGreaterThan(0.9);
    const rows = sampled['m.RYSJ'].time!.hours.reduce((a, b) => a + b, 0);
    expect(rows).toBeCloseTo(1, 6);
    // The sample is smaller than the table: the shapes' counts say so.
    expect(sampled['m.XM'].text!.lengths.total).toBeLessThan(FAMILIES);
    expect(sampled['m.XM'].text!.lengths.total).toBeGreaterThan(100);
  });

  it('holds no value that identifies a person: planted unique values and every real phone, ID number and name stay out', async () => {
    for (const v of Object.values(PLANTED)) expect(json).not.toContain(v);
    const { rows } = await db.query<{ xm: string; sfzh: string; lxdh: string | null; dz: string; zyh: string }>(
      `SELECT "XM" AS xm, "SFZH" AS sfzh, "LXDH" AS lxdh, "DZ" AS dz, "ZYH" AS zyh FROM his."ZY_BRXX"`,
    );
    const leaked = rows.flatMap((r) => [r.sfzh, r.lxdh, r.dz, r.zyh, r.xm.length >= 3 ? r.xm : null]).filter((v): v is string => v !== null && json.includes(`"${v}`));
    expect(leaked).toEqual([]);
  });
});
