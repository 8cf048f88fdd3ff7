import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { applyProfile } from '../../src/canary/profile.js';
import { openDatabase, readOnly, type Database } from '../../src/db/index.js';
import type { Family, HospitalProfile } from '../../src/domain/index.js';
import { createRandom, generateFamily } from '../../src/lib/generate/index.js';
import { learnProfile } from '../../src/profile/learn.js';
import { parseMapping, type Mapping } from '../../src/targetdb/index.js';
import { buildRegionalHospital, REGIONAL_DIR } from '../fixtures/regional/hospital.js';
import { DISTRICTS } from '../fixtures/regional/tables.js';
import { newDatabase, type TestLocation } from '../helpers/db.js';

// The birth weight and the gestational week of canaries on the regional hospital, drawn as the canary
// path draws them (the family from the learned profile, then applyProfile: the hospital's rounding and
// the learned columns), against the hospital's own rows.
// - Weights recorded to 10 g: one real weight in ten is a multiple of 100 g. The profile's shares of
//   multiples were drawn as chances of rounding to each step, so canaries rounded to 100 g one time in
//   ten on top of the tenth that 10 g gives anyway: 19 % round hundreds (the thief's `TZ:mod100`,
//   `cradle realism`'s `baby.TZ:precision`).
// - The gestational week (YZ) is a column the mapping leaves to the profile: it was drawn from its
//   shares alone, so a 1,800 g canary was as often 39 weeks as any other baby. It is now drawn given the
//   weight (ColumnProfile.byWeight: the weight's quantiles per week, 39 and 39+3 being one week).
// - Rural addresses: a village's hamlet (湾城村委西庄4组7号) is a word of a few families, never kept; a
//   district keeping the bare 委 (湾城村委12号) filled the hamlet's slot with it (湾城村委4组7号, a form the
//   hospital never writes), one keeping none with another district's word. The profile now keeps the
//   rare words' shape per slot (their characters by position, under k) and draws hamlets from it.
// - The mother's ID-card region: most mothers were registered where they live (a 武进区 address with
//   a 320412 card); canaries drew the region apart from the address. It is now drawn from the regions
//   of the mothers living in the address's district (DistrictAddresses.idRegions).

const REAL = 2500;
const CANARIES = 3000;
const WARDS = ['产科一病区', '产科二病区', '产科VIP', '新生儿科'];

type Row = { TZ: number; YZ: string; KSMC: string };
type Mother = { JTDZ: string | null; SFZH: string | null };

describe('values drawn jointly on the regional hospital: weights, gestational weeks, rural addresses, ID regions', () => {
  let targetLoc: TestLocation;
  let target: Database;
  let mapping: Mapping;
  let profile: HospitalProfile;
  let real: Row[];
  let canaries: Row[];
  let realMothers: Mother[];
  let canaryMothers: Mother[];

  beforeAll(async () => {
    targetLoc = await newDatabase('pglite', 'weights-target');
    target = await openDatabase(targetLoc.location);
    await buildRegionalHospital(target, { seed: 'weights', families: REAL, from: '2025-01-01', to: '2025-12-01' });
    mapping = parseMapping(JSON.parse(fs.readFileSync(path.join(REGIONAL_DIR, 'mapping-full.json'), 'utf8')), 'mapping-full.json');
    profile = await readOnly(target, (tx) => learnProfile(tx, mapping, { hospital: 'changzhou', k: 5, timeZone: 'Asia/Shanghai' }));
    real = (await target.query<Row>(`SELECT "TZ"::float8 AS "TZ", "YZ", "KSMC" FROM "XSE_XX"`)).rows;
    // Canaries on the real rows' wards, as many per ward as real babies have.
    const rng = createRandom('weights');
    const families: Family[] = [];
    for (let i = 0; i < CANARIES; i++) {
      const ward = real[rng.int(0, real.length - 1)].KSMC;
      families.push(
        generateFamily(rng, {
          locale: 'zh-CN',
          hospital: 'changzhou',
          ward,
          nicu: ward === '新生儿科',
          districts: ['武进区', '新北区', '天宁区', '钟楼区'],
          timeZone: 'Asia/Shanghai',
          birthFrom: new Date('2025-11-01T00:00:00+08:00'),
          birthTo: new Date('2025-11-08T00:00:00+08:00'),
          phone: () => '13900000000',
          emailDomain: () => null,
          profile: profile.family,
        }),
      );
    }
    applyProfile(families, profile, mapping, 'Asia/Shanghai', createRandom('weights:profile'));
    canaries = families.map((f) => ({ TZ: f.baby.weightGrams, YZ: String(f.learned?.['baby.YZ'] ?? ''), KSMC: f.ward }));
    realMothers = (await target.query<Mother>(`SELECT "JTDZ", "SFZH" FROM "ZY_MQXX"`)).rows;
    canaryMothers = families.map((f) => ({ JTDZ: f.address.full, SFZH: f.mother.idNumber ?? null }));
  }, 240_000);
  afterAll(async () => {
    await target?.close();
    await targetLoc?.cleanup();
  });

  const share = <T,>(rows: T[], f: (r: T) => boolean) => rows.filter(f).length / rows.length;
  const weeks = (r: Row) => Number(r.YZ.split('+')[0]);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  it('rounds weights to 100 g and 1,000 g as often as the hospital does, not twice as often', () => {
    expect(WARDS).toEqual(expect.arrayContaining([...new Set(real.map((r) => r.KSMC))]));
    expect(profile.columns['baby.TZ'].number!.step).toBe(10);
    const by100 = (r: Row) => r.TZ % 100 === 0;
    const by1000 = (r: Row) => r.TZ % 1000 === 0;
    expect(canaries.every((r) => r.TZ % 10 === 0)).toBe(true);
    // Real: about 10 % (the fixture's weights are normal, rounded to 10 g); sd of a share of 3,000 ≈ 0.006.
    expect(Math.abs(share(canaries, by100) - share(real, by100))).toBeLessThan(0.03);
    expect(Math.abs(share(canaries, by1000) - share(real, by1000))).toBeLessThan(0.01);
  });

  it('keeps per gestational week the weights of its rows (k families beyond each end), and nothing for rare weeks', () => {
    const yz = profile.columns['baby.YZ'];
    expect(yz.byWeight?.column).toBe('baby.TZ');
    const by = yz.byWeight!.groups;
    for (const [v, q] of Object.entries(by)) {
      const n = real.filter((r) => r.YZ.split('+')[0] === v).length;
      expect(n).toBeGreaterThanOrEqual(10);
      expect(q.quantileLevels[0] * n).toBeGreaterThanOrEqual(5);
      expect((1 - q.quantileLevels[q.quantileLevels.length - 1]) * n).toBeGreaterThanOrEqual(5);
    }
    expect(by['39']).toBeDefined();
    expect(by['34']).toBeDefined();
  });

  it('draws the gestational week with the weight: small canaries are preterm as small real babies are', () => {
    const small = (r: Row) => r.TZ < 2500;
    const big = (r: Row) => r.TZ >= 3500;
    const [realSmall, canarySmall] = [real.filter(small), canaries.filter(small)];
    expect(canarySmall.length).toBeGreaterThan(100);
    // Real babies under 2,500 g: mostly 32–36 weeks (mean about 34); canaries drew 38–39 as all babies do.
    expect(Math.abs(mean(canarySmall.map(weeks)) - mean(realSmall.map(weeks)))).toBeLessThan(0.8);
    expect(Math.abs(share(canarySmall, (r) => weeks(r) < 37) - share(realSmall, (r) => weeks(r) < 37))).toBeLessThan(0.12);
    expect(Math.abs(mean(canaries.filter(big).map(weeks)) - mean(real.filter(big).map(weeks)))).toBeLessThan(0.4);
    // Days beside the week (39+3) as often as real rows have them.
    const withDays = (r: Row) => r.YZ.includes('+');
    expect(Math.abs(share(canaries, withDays) - share(real, withDays))).toBeLessThan(0.05);
  });

  it('writes rural addresses with a hamlet as often as the hospital does, in the forms it writes', () => {
    const rural = (ms: Mother[]) => ms.map((m) => m.JTDZ ?? '').filter((a) => /村委?(\d+组)?\d+号$|村委\p{Script=Han}+\d+组\d+号$/u.test(a));
    const [r, c] = [rural(realMothers), rural(canaryMothers)];
    const hamlet = (a: string) => /村委\p{Script=Han}{2,}\d+组\d+号$/u.test(a);
    // 委 then a group: a form the hospital never writes (its 委 is followed by a hamlet or a house number).
    const bare = (a: string) => /村委\d+组/.test(a);
    expect(c.length).toBeGreaterThan(300);
    expect(r.filter(bare)).toEqual([]);
    expect(c.filter(bare).length / c.length).toBeLessThan(0.02);
    // Real: 55 % of rural addresses in the city's districts (the outside counties' have none).
    expect(Math.abs(c.filter(hamlet).length / c.length - r.filter(hamlet).length / r.length)).toBeLessThan(0.08);
    // The rural share itself (real about 22 %).
    expect(Math.abs(c.length / canaryMothers.length - r.length / realMothers.length)).toBeLessThan(0.03);
  });

  it("gives a mother the ID-card region of the mothers living in her address's district", () => {
    // Registered where she lives: the card's region is her address's district's (武进区 → 320412).
    const home = (m: Mother) => {
      const d = DISTRICTS.find((x) => m.JTDZ?.includes(x.name));
      return d !== undefined && m.SFZH !== null && m.SFZH.startsWith(d.region);
    };
    const inDistrict = (ms: Mother[]) => ms.filter((m) => DISTRICTS.some((x) => m.JTDZ?.includes(x.name)));
    const [r, c] = [inDistrict(realMothers), inDistrict(canaryMothers)];
    expect(c.length).toBeGreaterThan(2000);
    // Real: about 0.85 + 0.15 × 0.7 × the district's share; drawn apart from the address, about 0.3.
    expect(share(r, home)).toBeGreaterThan(0.8);
    expect(Math.abs(share(c, home) - share(r, home))).toBeLessThan(0.05);
  });
});
