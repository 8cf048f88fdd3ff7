import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { demoPopulation } from '../../src/demo/setup.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { birthWindow, plantCanaries, realBirthsPerWard, rotate } from '../../src/seed/index.js';
import { allocateCanaries } from '../../src/seed/allocate.js';
import { birthsPerWard } from '../../src/targetdb/index.js';
import { readOnly } from '../../src/db/index.js';
import { parseConfig } from '../../src/config/index.js';
import { auditedHospital } from '../../src/workflows/audit-report.js';
import { createTestHospital, WARDS, type TestHospital } from '../helpers/hospital.js';
import { describeEachTarget, schemaOf, TARGET_CASES } from '../helpers/targets.js';

// Rotation by births: a target whose wards are skewed (70/24/6%) gets canaries in that proportion,
// each ward at least one a week; NICU babies where the config declares the NICU.

const SKEW: [string, number][] = [[WARDS[0], 70], [WARDS[1], 24], [WARDS[2], 6]];

describeEachTarget(TARGET_CASES, 'rotation allocated by births on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  beforeAll(async () => {
    const rng = createRandom('skew');
    const families = [...demoPopulation(rng, 1000, new Date())].map((f) => ({ ...f, ward: rng.weighted(SKEW) }));
    h = await createTestHospital({ backend, schema: schemaOf(backend), population: 0, trapNumbers: 600, extraFamilies: families, seed: 'skew' });
  }, 120_000);
  afterAll(async () => h?.close());

  it('counts real births per ward through the mapping, and plants each week in proportion with every ward covered', async () => {
    const births = await readOnly(h.target, (tx) => birthsPerWard(tx, h.mapping, WARDS));
    expect(Object.values(births!).reduce((a, b) => a + b, 0)).toBe(1000);
    // Within sampling error of the skew the population was drawn with (3 sd of a binomial share).
    for (const [ward, pct] of SKEW) expect(Math.abs(births![ward] / 1000 - pct / 100)).toBeLessThan(3 * Math.sqrt((pct / 100) * (1 - pct / 100) / 1000));

    const hospital = { ...h.hospital, rotation: null, rotationPerWeek: { total: 30, allocation: 'births' as const, minPerWard: 1 } };
    const planted: Record<string, number> = {};
    const now = new Date();
    for (const week of ['2026-W40', '2026-W41', '2026-W42']) {
      const res = await rotate(h.vault, h.target, { hospital, mapping: h.mapping, week, now, seed: week });
      for (const ward of WARDS) expect(res.plan[ward]).toBeGreaterThanOrEqual(1);
      expect(Object.values(res.plan).reduce((a, b) => a + b, 0)).toBe(30);
      for (const p of res.plantedNow) planted[p.ward] = (planted[p.ward] ?? 0) + p.canaries.length;
    }
    // Cradle's own canaries are not counted as births: the plan stays the same week after week.
    expect(planted).toEqual(Object.fromEntries(Object.entries(allocateCanaries(births!, 30)).map(([w, n]) => [w, 3 * n])));
    for (const [ward, pct] of SKEW) expect(Math.abs(planted[ward] / 90 - pct / 100)).toBeLessThan(0.05);
    // The old equal plan would have put a third on the NICU.
    expect(planted[WARDS[2]] / 90).toBeLessThan(0.12);
    // The audit of a perWeek hospital shows the latest week's allocation as its plan.
    const config = parseConfig({ hospitals: { [h.hospital.name]: { target: 't', mapping: 'm.json', wards: WARDS, districts: ['鼓楼区'], rotation: { perWeek: 30 } } } }, '/srv/c.json');
    expect((await auditedHospital(h.vault, config, h.hospital.name)).rotation).toEqual(allocateCanaries(births!, 30));

    // Canaries on the declared NICU are small babies (the test config's NICU is guessed by name; here 产科二病区 is declared).
    const declared = { ...hospital, nicuWards: [WARDS[1]], nicuWardsDeclared: true };
    const res = await rotate(h.vault, h.target, { hospital: { ...declared, rotation: { [WARDS[1]]: 20 }, rotationPerWeek: null }, mapping: h.mapping, week: '2026-W43', now, seed: 'nicu' });
    const weights = res.plantedNow.flatMap((p) => p.canaries.map((c) => c.family.baby.weightGrams));
    expect(weights).toHaveLength(20);
    expect(weights.reduce((a, b) => a + b, 0) / 20).toBeLessThan(2900);
  }, 180_000);

  it('seed without --ward draws each canary\'s ward in proportion to real births', async () => {
    const { births } = await realBirthsPerWard(h.vault, h.target, h.hospital, h.mapping);
    const now = new Date();
    const res = await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 120, wardBirths: births, channels: [h.hospital.seedChannel], seed: 'seed-wards', now, isoWeek: '2026-W45', ...birthWindow(now) });
    const total = Object.values(births!).reduce((a, b) => a + b, 0);
    for (const ward of WARDS) {
      const p = births![ward] / total;
      const got = res.planted.filter((c) => c.family.ward === ward).length / 120;
      expect(Math.abs(got - p)).toBeLessThan(3 * Math.sqrt((p * (1 - p)) / 120) + 0.01);
    }
  }, 60_000);

  it('shares equally when asked', async () => {
    const hospital = { ...h.hospital, rotation: null, rotationPerWeek: { total: 9, allocation: 'equal' as const, minPerWard: 1 } };
    const res = await rotate(h.vault, h.target, { hospital, mapping: h.mapping, week: '2026-W44', now: new Date(), seed: 'eq' });
    expect(res.plan).toEqual({ [WARDS[0]]: 3, [WARDS[1]]: 3, [WARDS[2]]: 3 });
  }, 60_000);
});
