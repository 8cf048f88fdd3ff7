import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { applyProfile } from '../../src/canary/profile.js';
import { openDatabase, readOnly, type Database } from '../../src/db/index.js';
import type { Family, HospitalProfile } from '../../src/domain/index.js';
import { createRandom, generateFamily } from '../../src/lib/generate/index.js';
import { learnProfile } from '../../src/profile/learn.js';
import { parseMapping, writeEvent, type Mapping } from '../../src/targetdb/index.js';
import { buildRegionalHospital, REGIONAL_DIR } from '../fixtures/regional/hospital.js';
import { newDatabase, type TestLocation } from '../helpers/db.js';

// The bookkeeping times of canaries on the regional hospital, drawn as the canary path draws them
// (the family from the learned profile, then applyProfile), against the hospital's own rows.
// - Admission to birth: drawn per delivery mode and quarter of the day of the birth, with a minute
//   drawn on top (up to an hour earlier): canaries stayed half an hour longer before the birth
//   (`cradle realism`'s leader, `baby.CSSJ − mother.CJSJ`), and a planned caesarean born at 09:00 was
//   admitted at 07:00 where the hospital admits them the day before from 08:00 to 17:00.
// - Birth hours were drawn per delivery mode apart from the weekday: canaries' weekend caesareans were
//   born on the working days' planned mornings (8 in 10 from 08:00 to 13:00, the hospital's 2 in 10).
// - The gestational week (YZ, a learned column) was drawn with the weight over all wards: a term ward's
//   2,400 g canary was 35 weeks as often as a NICU baby of that weight, where the term wards have none
//   under 37 weeks. It is drawn per ward now (ColumnProfile.byWeight.wards).
// - The birth stamped the baby's created time and the mother's updated time with one second; the
//   hospital's system writes the mother's row 10 s to 5 min after the baby's.

const REAL = 2500;
const CANARIES = 3000;
const TZ = 'Asia/Shanghai';
const HOUR = 3_600_000;

type Birth = { mode: string; a2b: number; admitHour: number; birthHour: number; weekend: boolean };
const localHour = (ms: number) => new Date(ms + 8 * HOUR).getUTCHours();
const weekend = (ms: number) => [0, 6].includes(new Date(ms + 8 * HOUR).getUTCDay());
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

describe('bookkeeping times of canaries on the regional hospital', () => {
  let targetLoc: TestLocation;
  let target: Database;
  let mapping: Mapping;
  let profile: HospitalProfile;
  let real: Birth[];
  let canaries: Birth[];
  let families: Family[];

  beforeAll(async () => {
    targetLoc = await newDatabase('pglite', 'timing-target');
    target = await openDatabase(targetLoc.location);
    // Births up to 1 December, the rows written up to then: the last days' mothers are not discharged yet.
    await buildRegionalHospital(target, { seed: 'timing', families: REAL, from: '2025-01-01', to: '2025-12-01' });
    mapping = parseMapping(JSON.parse(fs.readFileSync(path.join(REGIONAL_DIR, 'mapping-full.json'), 'utf8')), 'mapping-full.json');
    profile = await readOnly(target, (tx) => learnProfile(tx, mapping, { hospital: 'changzhou', k: 5, timeZone: TZ }));
    const rows = (await target.query<{ FMFS: string; RYSJ: string; CSSJ: string; KSMC: string }>(
      `SELECT m."FMFS", m."RYSJ"::text AS "RYSJ", b."CSSJ"::text AS "CSSJ", b."KSMC" FROM "ZY_MQXX" m JOIN "XSE_XX" b ON b."MQID" = m."ID"`,
    )).rows;
    const at = (s: string) => Date.parse(`${s.replace(' ', 'T')}+08:00`);
    const modes: Record<string, string> = { 顺产: 'vaginal', 剖宫产: 'caesarean' };
    real = rows.filter((r) => modes[r.FMFS]).map((r) => ({ mode: modes[r.FMFS], a2b: (at(r.CSSJ) - at(r.RYSJ)) / HOUR, admitHour: localHour(at(r.RYSJ)), birthHour: localHour(at(r.CSSJ)), weekend: weekend(at(r.CSSJ)) }));
    const rng = createRandom('timing');
    families = [];
    for (let i = 0; i < CANARIES; i++) {
      const ward = rows[rng.int(0, rows.length - 1)].KSMC;
      families.push(
        generateFamily(rng, {
          locale: 'zh-CN',
          hospital: 'changzhou',
          ward,
          nicu: ward === '新生儿科',
          districts: ['武进区', '新北区', '天宁区', '钟楼区'],
          timeZone: TZ,
          birthFrom: new Date('2025-11-03T00:00:00+08:00'),
          birthTo: new Date('2025-11-10T00:00:00+08:00'),
          phone: () => '+8613900000000',
          emailDomain: () => null,
          profile: profile.family,
        }),
      );
    }
    applyProfile(families, profile, mapping, TZ, createRandom('timing:profile'));
    canaries = families
      .filter((f) => f.deliveryMode === 'vaginal' || f.deliveryMode === 'caesarean')
      .map((f) => ({ mode: f.deliveryMode!, a2b: (Date.parse(f.baby.birthTime) - Date.parse(f.admittedAt)) / HOUR, admitHour: localHour(Date.parse(f.admittedAt)), birthHour: localHour(Date.parse(f.baby.birthTime)), weekend: weekend(Date.parse(f.baby.birthTime)) }));
  }, 240_000);
  afterAll(async () => {
    await target?.close();
    await targetLoc?.cleanup();
  });

  it('admits canaries as long before the birth as the hospital admits its mothers, per delivery mode', () => {
    for (const mode of ['vaginal', 'caesarean']) {
      const r = real.filter((b) => b.mode === mode).map((b) => b.a2b);
      const c = canaries.filter((b) => b.mode === mode).map((b) => b.a2b);
      expect(c.length).toBeGreaterThan(300);
      // Before: +0.5 h for both modes (the minute drawn on top).
      // Before: +0.77 h for caesareans (the minute drawn on top); a standard error is about 0.3 h here.
      expect(Math.abs(mean(c) - mean(r))).toBeLessThan(0.5);
    }
  });

  it('draws the hours from admission to birth as learned, with nothing on top', () => {
    // Every learned quantile at 10 h: every canary admitted 10 h before its birth (before: 10 h to 10 h 59 min).
    const ten = profile.family.births!.admissionToBirthHours!.map(() => 10);
    const births = { ...profile.family.births!, admissionToBirthHours: ten, admissionToBirthByMode: undefined, admissionToBirthByHour: undefined };
    const rng = createRandom('timing:ten');
    const gaps = Array.from({ length: 200 }, () => {
      const f = generateFamily(rng, {
        locale: 'zh-CN', hospital: 'changzhou', ward: '产科一病区', districts: ['武进区'], timeZone: TZ,
        birthFrom: new Date('2025-11-03T00:00:00+08:00'), birthTo: new Date('2025-11-10T00:00:00+08:00'),
        phone: () => '+8613900000000', emailDomain: () => null, profile: { ...profile.family, births },
      });
      return (Date.parse(f.baby.birthTime) - Date.parse(f.admittedAt)) / HOUR;
    });
    expect(Math.max(...gaps.map((g) => Math.abs(g - 10)))).toBeLessThan(0.01);
  });

  it("admits a caesarean born in the morning at the hours the hospital admits them, not an hour before them", () => {
    const hours = (bs: Birth[]) => {
      const sel = bs.filter((b) => b.mode === 'caesarean' && b.birthHour >= 8 && b.birthHour <= 12 && b.a2b > 12);
      return { n: sel.length, early: sel.filter((b) => b.admitHour < 8 || b.admitHour >= 17).length / Math.max(1, sel.length) };
    };
    const r = hours(real), c = hours(canaries);
    expect(r.n).toBeGreaterThan(200);
    expect(c.n).toBeGreaterThan(200);
    // The hospital: none outside 08:00–17:00 (its planned caesareans); canaries drawn over the birth's quarter: 11 %.
    expect(c.early).toBeLessThan(r.early + 0.05);
  });

  it('gives weekend caesareans the hours of the weekend, not the planned mornings of the working days', () => {
    const mornings = (bs: Birth[]) => {
      const sel = bs.filter((b) => b.mode === 'caesarean' && b.weekend);
      return { n: sel.length, share: sel.filter((b) => b.birthHour >= 8 && b.birthHour < 13).length / Math.max(1, sel.length) };
    };
    const r = mornings(real), c = mornings(canaries);
    expect(r.n).toBeGreaterThan(100);
    expect(c.n).toBeGreaterThan(50);
    expect(Math.abs(c.share - r.share)).toBeLessThan(0.12);
  });

  it("draws a term ward's gestational weeks from that ward's: no preterm weeks where the ward has none", async () => {
    const rows = (await target.query<{ YZ: string; KSMC: string }>(`SELECT "YZ", "KSMC" FROM "XSE_XX"`)).rows;
    const preterm = (xs: { YZ: string; KSMC: string }[]) => {
      const term = xs.filter((x) => x.KSMC !== '新生儿科' && x.YZ);
      return { n: term.length, share: term.filter((x) => Number(/^[0-9]+/.exec(x.YZ)?.[0]) < 37).length / Math.max(1, term.length) };
    };
    const r = preterm(rows), c = preterm(families.map((f) => ({ YZ: String(f.learned?.['baby.YZ'] ?? ''), KSMC: f.ward })));
    expect(r.n).toBeGreaterThan(1000);
    expect(c.n).toBeGreaterThan(1000);
    // The hospital: none; drawn over all wards, 2.4 % of term-ward canaries were preterm.
    expect(c.share).toBeLessThanOrEqual(r.share + 0.002);
  });

  it("stamps the mother's row updated at the birth a learned while after the baby's row, as the hospital does", async () => {
    const gaps = profile.family.births?.birthUpdateGaps?.['mother.GXSJ'];
    expect(gaps).toBeDefined();
    // The hospital: 10–300 s after the baby's row (regional generate.ts, birthRecorded).
    expect(gaps![0]).toBeGreaterThanOrEqual(5);
    expect(gaps![gaps!.length - 1]).toBeLessThanOrEqual(310);
    const drawn = families.map((f) => f.stampGaps?.['mother.GXSJ'] ?? 0);
    expect(drawn.filter((s) => s >= 5 && s <= 320).length).toBe(families.length);
    // Written: the baby's row at the birth's time, the mother's row that drawn while later.
    const f = families[0];
    const admitted = await target.transaction((tx) => writeEvent(tx, mapping, { event: 'admission', family: f, keys: {}, at: new Date(Date.parse(f.admittedAt) + 300_000), timeZone: TZ }));
    const birthAt = new Date(Date.parse(f.baby.birthTime) + 1_800_000);
    const keys = await target.transaction((tx) => writeEvent(tx, mapping, { event: 'birth', family: f, keys: admitted, at: birthAt, timeZone: TZ }));
    const { rows } = await target.query<{ gap: number }>(
      `SELECT extract(epoch FROM (m."GXSJ" - b."CJSJ"))::float8 AS gap FROM "ZY_MQXX" m JOIN "XSE_XX" b ON b."MQID" = m."ID" WHERE m."ID" = $1`,
      [keys.mother.ID],
    );
    expect(rows[0].gap).toBe(f.stampGaps!['mother.GXSJ']);
  });
});
