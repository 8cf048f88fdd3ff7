import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TZDate } from '@date-fns/tz';
import { draftCanaries } from '../../src/canary/draft.js';
import { parseConfig, selectHospital } from '../../src/config/index.js';
import { migrate, openDatabase, readOnly, type Database } from '../../src/db/index.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { copyFamilies } from '../../src/targetdb/index.js';
import * as vault from '../../src/vault/index.js';
import type { Counts, Family, FamilyProfile, HospitalProfile } from '../../src/domain/index.js';
import { addressTokens, createRandom, generateFamily, headAndBody, validIdNumber, idSex, type FamilyOptions } from '../../src/lib/generate/index.js';
import { orderBySegments, segmentOf, segmentWarning } from '../../src/lib/segments.js';
import { learnFamilyProfile } from '../../src/profile/family.js';
import { BACKENDS, newDatabase, TEST_TMP, type TestLocation } from '../helpers/db.js';
import { createTestHospital, SCHEMAS } from '../helpers/hospital.js';
import { DISTRICTS, MAPPING, NICU, population, SCHEMA, SEGMENTS } from './population.js';

// A hospital that is not Cradle's mirror (test/profile/population.ts): its profile is learned through a
// pinyin-named mapping, canaries are drawn from it, and their distributions must match the learned ones
// within sampling error, where canaries from the locale tables do not (so each comparison can fail).

const FAMILIES = 3000;
const K = 5;
const CANARIES = 500;
const TZ = 'Asia/Shanghai';

/** Shares of a list of values, values outside `kept` pooled as "(other)". */
function sharesOf(values: readonly string[], kept?: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) {
    const key = kept && !(v in kept) ? '(other)' : v;
    out[key] = (out[key] ?? 0) + 1 / values.length;
  }
  return out;
}
const learnedShares = (c: Counts): Record<string, number> => ({ ...Object.fromEntries(Object.entries(c.values).map(([v, n]) => [v, n / c.total])), '(other)': c.other / c.total });
/** Total variation distance between two share maps. */
function tvd(a: Record<string, number>, b: Record<string, number>): number {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  let d = 0;
  for (const k of keys) d += Math.abs((a[k] ?? 0) - (b[k] ?? 0));
  return d / 2;
}
/** Two standard errors of a share p from n draws, and a floor for small p. */
const twoSe = (p: number, n: number): number => 2 * Math.sqrt(Math.max(p * (1 - p), 0.01) / n) + 0.005;

function families(profile: FamilyProfile | undefined, ward: string, n: number, seed: string): Family[] {
  const rng = createRandom(seed);
  let phone = 0;
  const opts: FamilyOptions = {
    locale: 'zh-CN',
    hospital: '常州市妇幼保健院',
    ward,
    districts: Object.keys(DISTRICTS),
    timeZone: TZ,
    birthFrom: new Date(new TZDate(2025, 0, 5, 0, 0, TZ).getTime()),
    birthTo: new Date(new TZDate(2026, 0, 3, 0, 0, TZ).getTime() - 1),
    phone: () => `+86139${String(++phone).padStart(8, '0')}`,
    emailDomain: () => 'qq.com',
    profile,
  };
  return Array.from({ length: n }, () => generateFamily(rng, opts));
}

const given2 = (f: Family): string[] => [...f.mother.name.given];
const reduplicated = (fs: Family[]): number => {
  const two = fs.filter((f) => given2(f).length === 2);
  return two.filter((f) => given2(f)[0] === given2(f)[1]).length / two.length;
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe.each(BACKENDS)('the family profile of a regional hospital on %s', (backend) => {
  let loc: TestLocation;
  let db: Database;
  let profile: FamilyProfile;
  let planted: string[];
  let fromProfile: Family[];
  let fromLocale: Family[];

  beforeAll(async () => {
    loc = await newDatabase(backend, 'profilefam');
    db = await openDatabase(loc.location);
    await db.exec(SCHEMA);
    const pop = population(FAMILIES);
    for (const sql of pop.sql) await db.exec(sql);
    planted = pop.planted.unique;
    profile = await readOnly(db, (tx) => learnFamilyProfile(tx, MAPPING, { k: K, timeZone: TZ }));
    fs.writeFileSync(path.join(TEST_TMP, `profilefam-${backend}.json`), JSON.stringify(profile, null, 1));
    const wards = Object.entries(profile.wards.values);
    const draw = (p: FamilyProfile | undefined, seed: string): Family[] =>
      wards.flatMap(([ward, n]) => families(p, ward, Math.round((CANARIES * n) / profile.wards.total), `${seed}:${ward}`));
    fromProfile = draw(profile, 'profile');
    fromLocale = draw(undefined, 'locale');
  });
  afterAll(async () => {
    await db?.close();
    await loc?.cleanup();
  });

  it('learns the local names: surnames, whole names that repeat, reduplication and placeholders', () => {
    const mother = profile.names!.mother!;
    expect(mother.total).toBe(FAMILIES + 1);
    expect(mother.surnames.values['陈'] / mother.total).toBeGreaterThan(0.08);
    expect((mother.surnames.values['李'] ?? 0) / mother.total).toBeLessThan(0.035);
    expect(mother.whole.values['陈静']).toBeGreaterThanOrEqual(K);
    expect(mother.reduplicated).toBeGreaterThan(0.05);
    expect(mother.reduplicated).toBeLessThan(0.12);
    expect(Object.keys(profile.names!.babyPlaceholders!.values).sort()).toEqual(['{mother}之女', '{mother}之子']);
    expect(profile.relations!.babySurnameFather).toBeGreaterThan(0.85);
    expect(profile.relations!.fatherRecorded).toBeGreaterThan(0.88);
  });

  it('learns address templates per district with the district\'s own words', () => {
    const wj = profile.addresses!.byDistrict['武进区'];
    expect(Object.keys(wj.templates.values)).toEqual(['武进区{镇}{社区}{小区}#*幢#*单元#*室']);
    expect(Object.keys(wj.heads!.values)).toEqual(['常州市']);
    expect(Object.keys(wj.vocabulary['镇'].values).sort()).toEqual(['南夏墅街道', '洛阳镇', '湖塘镇', '牛塘镇', '遥观镇'].sort());
    expect(Object.keys(profile.addresses!.byDistrict['天宁区'].templates.values)).toEqual(['天宁区{路}#*号{小区}#*幢#*室']);
    expect(Object.keys(profile.addresses!.byDistrict['新北区'].vocabulary['村'].values)).toContain('新桥村');
  });

  it('learns phone segments, who shares a phone, e-mail providers and shapes', () => {
    const phones = profile.phones!;
    for (const [seg] of SEGMENTS) expect(phones.segments.values[seg]).toBeGreaterThanOrEqual(K);
    expect(phones.landlineShare).toBeGreaterThan(0.01);
    expect(phones.landlineShare).toBeLessThan(0.05);
    expect(phones.fatherSharesMother).toBeGreaterThan(0.1);
    expect(phones.fatherSharesMother).toBeLessThan(0.2);
    expect(profile.email!.present.mother).toBeGreaterThan(0.25);
    expect(Object.keys(profile.email!.domains.values).sort()).toEqual(['126.com', '163.com', 'qq.com', 'sina.com']);
    expect(Object.keys(profile.email!.shapes.values)).toEqual(expect.arrayContaining(['digits:9', 'digits:10', 'pinyin+digits']));
  });

  it('learns births per ward jointly: NICU weights, weeks, modes and stays; hours, ages and ID regions', () => {
    const births = profile.births!;
    const nicu = births.byWard[NICU];
    const ward1 = births.byWard['产科一病区'];
    expect(nicu.weightGrams![11]).toBeLessThan(2500); // the median
    expect(ward1.weightGrams![11]).toBeGreaterThan(3200);
    expect(Math.min(...Object.keys(nicu.gestationWeeks!.values).map(Number))).toBeLessThan(32);
    expect(Object.keys(ward1.stayDays['vaginal'].values).sort()).toEqual(['2', '3']);
    expect(Object.keys(ward1.stayDays['caesarean'].values).sort()).toEqual(['4', '5']);
    expect(ward1.deliveryModes!.values['caesarean'] / ward1.deliveryModes!.total).toBeGreaterThan(0.33);
    expect(births.weightStep).toBe(10);
    const cs = births.hours['caesarean'];
    expect((cs.values['9'] + cs.values['10']) / cs.total).toBeGreaterThan(0.25);
    expect(births.weightByWeek!['30'][11]).toBeLessThan(births.weightByWeek!['40'][11]);
    expect(profile.parents!.motherAge![11]).toBeGreaterThan(28);
    expect(profile.parents!.motherAge![11]).toBeLessThan(32);
    expect(Object.keys(profile.parents!.idRegions!.values).sort()).toEqual(['320402', '320411', '320412']);
  });

  it('keeps no value that fewer than k families share: no phone, ID, e-mail, address or rare name of a real person', () => {
    const text = JSON.stringify(profile);
    const found = planted.filter((v) => text.includes(v));
    expect(found).toEqual([]);
    expect(planted.length).toBeGreaterThan(FAMILIES * 3);
  });

  it('draws canaries whose names follow the learned shares, where locale tables do not', () => {
    const mother = profile.names!.mother!;
    const learned = learnedShares(mother.surnames);
    const surnames = (fs: Family[]): Record<string, number> => sharesOf(fs.map((f) => f.mother.name.family), mother.surnames.values);
    const dProfile = tvd(surnames(fromProfile), learned);
    const dLocale = tvd(surnames(fromLocale), learned);
    expect(dProfile).toBeLessThan(0.12);
    expect(dLocale).toBeGreaterThan(0.3);

    // Reduplicated given names (婷婷) among two-character given names.
    const twoTotal = mother.givenLength.values['2'];
    expect(Math.abs(reduplicated(fromProfile) - mother.reduplicated)).toBeLessThan(twoSe(mother.reduplicated, CANARIES * (twoTotal / mother.total)));
    expect(Math.abs(reduplicated(fromLocale) - mother.reduplicated)).toBeGreaterThan(0.04);

    // Whole names reused as real ones are.
    const wholeShare = Object.values(mother.whole.values).reduce((a, b) => a + b, 0) / mother.total;
    const reuse = (fs: Family[]): number => fs.filter((f) => f.mother.name.full in mother.whole.values).length / fs.length;
    expect(Math.abs(reuse(fromProfile) - wholeShare)).toBeLessThan(twoSe(wholeShare, CANARIES));
    expect(wholeShare - reuse(fromLocale)).toBeGreaterThan(0.05);
  });

  it('learns babies\' given names per sex, whole where k families share them, and draws canary babies from them', () => {
    const baby = profile.names!.baby!;
    const boys = baby.bySex!['male'], girls = baby.bySex!['female'];
    // Whole given names repeat across surnames (梓涵 of 陈 and of 周): kept per sex under the k rule.
    expect(boys.given.values['浩轩']).toBeGreaterThanOrEqual(K);
    expect(girls.given.values['梓涵']).toBeGreaterThanOrEqual(K);
    expect(girls.given.values['浩轩']).toBeUndefined();
    const named = (fs: Family[], sex: string): Family[] => fs.filter((f) => f.baby.sex === sex && !/之[子女]$/.test(f.baby.name.full));
    // A canary boy is not given a girl's character (涵, 萱 … are never a real boy's last character).
    const girlsOnly = new Set([...'涵萱琪怡彤妍悦瑶汐然']);
    const boysWithGirlChars = named(fromProfile, 'male').filter((f) => girlsOnly.has([...f.baby.name.given].at(-1)!));
    expect(named(fromProfile, 'male').length).toBeGreaterThan(100);
    expect(boysWithGirlChars.length / named(fromProfile, 'male').length).toBeLessThan(0.02);
    // Kept whole given names are reused as often as real babies use them.
    for (const [sex, shape] of [['male', boys], ['female', girls]] as const) {
      const keptShare = Object.values(shape.given.values).reduce((a, b) => a + b, 0) / shape.total;
      const fs = named(fromProfile, sex);
      const reuse = fs.filter((f) => f.baby.name.given in shape.given.values).length / fs.length;
      expect(Math.abs(reuse - keptShare)).toBeLessThan(twoSe(keptShare, fs.length) + 0.03);
    }
  });

  it('draws addresses from the district templates and words, where locale tables do not', () => {
    const matches = (f: Family): boolean => {
      const book = profile.addresses!.byDistrict[f.address.district];
      if (!book) return false;
      const { head, body } = headAndBody(addressTokens(f.address.full.replace(/\d/g, '#')), f.address.district);
      return body in book.templates.values && head in book.heads!.values;
    };
    expect(fromProfile.filter(matches).length / fromProfile.length).toBeGreaterThan(0.98);
    expect(fromLocale.filter(matches).length).toBe(0);
    const districts = sharesOf(fromProfile.map((f) => f.address.district));
    expect(tvd(districts, learnedShares(profile.addresses!.districts))).toBeLessThan(0.08);
  });

  it('gives the NICU called 新生儿科 its own small babies, weeks consistent with weight, stays consistent with the mode', () => {
    const nicuReal = profile.births!.byWard[NICU];
    const realUnder = 0.5; // the learned median is under 2500 g (asserted above): about half the real NICU babies are
    const under = (fs: Family[]): number => fs.filter((f) => f.ward === NICU && f.baby.weightGrams < nicuReal.weightGrams![11]).length / fs.filter((f) => f.ward === NICU).length;
    const nicuCount = fromProfile.filter((f) => f.ward === NICU).length;
    expect(Math.abs(under(fromProfile) - realUnder)).toBeLessThan(twoSe(0.5, nicuCount) + 0.05);
    expect(under(fromLocale)).toBeLessThan(0.1);
    // Weight and week together: lighter babies are born earlier.
    const nicu = fromProfile.filter((f) => f.ward === NICU);
    const early = nicu.filter((f) => f.baby.gestationWeeks! <= 31), late = nicu.filter((f) => f.baby.gestationWeeks! >= 35);
    expect(mean(early.map((f) => f.baby.weightGrams))).toBeLessThan(mean(late.map((f) => f.baby.weightGrams)) - 500);
    expect(fromProfile.every((f) => f.baby.weightGrams % 10 === 0)).toBe(true);
    // Stays by mode in a maternity ward.
    const stay = (f: Family): number => Math.round((Date.parse(f.dischargedAt!) - Date.parse(f.baby.birthTime)) / 86_400_000);
    const w1 = fromProfile.filter((f) => f.ward === '产科一病区');
    expect(Math.max(...w1.filter((f) => f.deliveryMode === 'vaginal').map(stay))).toBeLessThanOrEqual(4);
    expect(Math.min(...w1.filter((f) => f.deliveryMode === 'caesarean').map(stay))).toBeGreaterThanOrEqual(3);
  });

  it('gives parents valid ID numbers in the learned regions, their birth dates and sexes', () => {
    for (const f of fromProfile) {
      expect(validIdNumber(f.mother.idNumber!)).toBe(true);
      expect(idSex(f.mother.idNumber!)).toBe('female');
      expect(f.mother.idNumber!.slice(6, 14)).toBe(f.mother.birthDate.replace(/-/g, ''));
      expect(profile.parents!.idRegions!.values).toHaveProperty(f.mother.idNumber!.slice(0, 6));
      if (f.father) expect(idSex(f.father.idNumber!)).toBe('male');
    }
  });

  it('orders trap numbers so that canaries\' segments follow the real ones, and warns with the figure when the pool cannot', () => {
    const rng = createRandom('pool');
    // A pool with 40 numbers in each learned segment and 400 in segments no patient uses.
    const pool = [
      ...SEGMENTS.flatMap(([seg]) => Array.from({ length: 40 }, (_, i) => ({ e164: `+86${seg}${String(i).padStart(4, '0')}` }))),
      ...Array.from({ length: 400 }, (_, i) => ({ e164: `+86186${String(90_000_000 + i)}` })),
    ];
    const segments = profile.phones!.segmentsByRole.mother;
    const learned = learnedShares(segments);
    const taken = orderBySegments(rng, pool, segments).slice(0, 200).map((n) => segmentOf(n.e164)!);
    expect(tvd(sharesOf(taken, segments.values), learned)).toBeLessThan(0.15);
    const shuffled = [...pool].sort(() => rng.next() - 0.5).slice(0, 200).map((n) => segmentOf(n.e164)!);
    expect(tvd(sharesOf(shuffled, segments.values), learned)).toBeGreaterThan(0.3);

    const half = pool.filter((n) => !['1390612', '1381800', '1596122', '1358296'].includes(segmentOf(n.e164)!)).map((n) => n.e164);
    const uncovered = ['1390612', '1381800', '1596122', '1358296'].reduce((n, seg) => n + segments.values[seg], 0) / segments.total;
    expect(segmentWarning(segments, half)).toMatch(new RegExp(`^${Math.round(uncovered * 100)}% of real mothers' numbers are in segments your pool has none of \\(most common: (1390612|1381800|1596122|1358296), `));
    expect(segmentWarning(segments, pool.map((n) => n.e164))).toBeNull();
  });

  it('drafts canaries from the profile: trap numbers in the real segments, e-mail only on a trap domain real patients use', async () => {
    const vloc = await newDatabase(backend, 'profilefam-vault');
    const v = await openDatabase(vloc.location);
    try {
      await migrate(v);
      const hospital = selectHospital(
        parseConfig(
          { hospitals: { cz: { displayName: '常州市妇幼保健院', target: loc.location, mapping: 'unused.json', wards: Object.keys(profile.wards.values), districts: Object.keys(DISTRICTS) } } },
          path.join(FIXTURES_DIR, 'test.config.json'),
        ),
      );
      await vault.ensureHospital(v, hospital.name, hospital.locale);
      const numbers = [
        ...SEGMENTS.flatMap(([seg]) => Array.from({ length: 40 }, (_, i) => `+86${seg}${String(9000 + i)}`)),
        ...Array.from({ length: 600 }, (_, i) => `+86186${String(90_000_000 + i)}`),
      ];
      await vault.addTrapNumbers(v, numbers.map((e164) => ({ e164, region: 'CN' })), { hospital: null, burnInUntil: null });
      await vault.addTrapDomain(v, 'trap.example.org', null);
      const hp: HospitalProfile = { version: 1, hospital: hospital.name, learnedAt: new Date().toISOString(), families: FAMILIES + 1, k: K, mapping: { source: 'pinyin-mapping', sha256: '' }, columns: {}, family: profile };
      const wards = Object.entries(profile.wards.values);
      const request = (seed: string) => ({
        hospital,
        mapping: MAPPING,
        count: 200,
        ward: (rng: { weighted<T>(items: readonly (readonly [T, number])[]): T }) => rng.weighted(wards),
        birthFrom: new Date('2025-03-01T00:00:00Z'),
        birthTo: new Date('2025-03-08T00:00:00Z'),
        now: new Date('2025-04-01T00:00:00Z'),
        seed,
        profile: hp,
      });
      const first = await readOnly(db, (tx) => draftCanaries(v, tx, request('a')));
      expect(first.warnings.join('\n')).toMatch(/no trap e-mail domain is one real patients use \(theirs: qq\.com, 163\.com, 126\.com; yours: trap\.example\.org\)/);
      expect(first.families.filter((f) => f.mother.email || f.father?.email)).toEqual([]);
      const segments = profile.phones!.segments;
      const mothers = first.families.map((f) => segmentOf(f.mother.phone!) ?? '(none)');
      expect(tvd(sharesOf(mothers, segments.values), learnedShares(segments))).toBeLessThan(0.15);
      // A father recorded with the mother's phone shares her trap number and takes no number of his own.
      const shared = first.families.filter((f) => f.father?.phone && f.father.phone === f.mother.phone);
      expect(shared.length).toBeGreaterThan(0);
      expect(first.assignments.filter((a) => a.role === 'father' && shared.includes(a.family))).toEqual([]);

      await vault.addTrapDomain(v, '163.com', null);
      const second = await readOnly(db, (tx) => draftCanaries(v, tx, request('b')));
      const emails = second.families.flatMap((f) => [f.mother.email, f.father?.email]).filter((e): e is string => !!e);
      // Providers are drawn as the real patients' are and only 163.com addresses are kept: an address
      // on it is as common among canaries as among real patients, so fewer canaries carry one.
      expect(emails.length).toBeGreaterThan(5);
      expect(emails.every((e) => e.endsWith('@163.com'))).toBe(true);
      expect(second.warnings.filter((w) => /e-mail/.test(w))).toEqual([]);
    } finally {
      await v.close();
      await vloc.cleanup();
    }
  });

  it('writes canaries through the mapping that, learned again, give the same profile', async () => {
    const copy = await newDatabase(backend, 'profilefam-canaries');
    const target = await openDatabase(copy.location);
    try {
      await target.exec(SCHEMA);
      const canaries = Object.entries(profile.wards.values).flatMap(([ward, n]) => families(profile, ward, Math.round((2000 * n) / profile.wards.total), `copy:${ward}`));
      await target.transaction((tx) => copyFamilies(tx, MAPPING, canaries, TZ, () => 0));
      const again = await readOnly(target, (tx) => learnFamilyProfile(tx, MAPPING, { k: K, timeZone: TZ }));
      expect(tvd(learnedShares(again.names!.mother!.surnames), learnedShares(profile.names!.mother!.surnames))).toBeLessThan(0.1);
      expect(Math.abs(again.names!.mother!.reduplicated - profile.names!.mother!.reduplicated)).toBeLessThan(0.03);
      expect(Object.keys(again.addresses!.byDistrict['武进区'].templates.values)).toEqual(Object.keys(profile.addresses!.byDistrict['武进区'].templates.values));
      expect(tvd(learnedShares(again.births!.byWard[NICU].deliveryModes!), learnedShares(profile.births!.byWard[NICU].deliveryModes!))).toBeLessThan(0.15);
      expect(Math.abs(again.births!.byWard[NICU].weightGrams![11] - profile.births!.byWard[NICU].weightGrams![11])).toBeLessThan(250);
      expect(tvd(learnedShares(again.births!.hours.all), learnedShares(profile.births!.hours.all))).toBeLessThan(0.1);
      expect(tvd(learnedShares(again.names!.babyPlaceholders!), learnedShares(profile.names!.babyPlaceholders!))).toBeLessThan(0.1);
      expect(again.births!.weightStep).toBe(10);
    } finally {
      await target.close();
      await copy.cleanup();
    }
  });
});

describe.each(SCHEMAS)('the family profile of the shipped %s schema', (schema) => {
  it('is learned from the demo population through its mapping', async () => {
    const h = await createTestHospital({ backend: 'pglite', schema, population: 400, trapNumbers: 5 });
    try {
      const p = await readOnly(h.target, (tx) => learnFamilyProfile(tx, h.mapping, { k: K, timeZone: h.hospital.timeZone }));
      expect(p.families).toBe(400);
      expect(p.names!.mother!.total).toBe(400);
      expect(Object.keys(p.names!.mother!.surnames.values).length).toBeGreaterThan(3);
      expect(p.phones!.present.mother).toBeGreaterThan(0.9);
      expect(Object.keys(p.births!.hours.all.values).length).toBeGreaterThan(12);
      expect(p.births!.byWard[Object.keys(p.wards.values)[0]].weightGrams!.length).toBe(23);
    } finally {
      await h.close();
    }
  });
});
