import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRandom } from '../../src/lib/generate/index.js';
import { demoPopulation } from '../../src/demo/setup.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS } from '../helpers/db.js';
import { count, createTestHospital, type TestHospital } from '../helpers/hospital.js';

// The slow tier (npm run test:slow): seeding against a target of 100,000 families, which takes a
// minute of CPU to write before the test starts.

describe.each(BACKENDS)('uniqueness against a target of 100k families on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  const realHolders = 5;
  beforeAll(async () => {
    // Real patients who happen to hold five of the pool's numbers (written as the hospital writes them).
    const probe = await createTestHospital({ backend, schema: 'reference', population: 0, trapNumbers: 80, seed: 'u' });
    const numbers = probe.trapNumbers.slice(0, realHolders);
    await probe.close();
    const extra = [...demoPopulation(createRandom('holders'), realHolders, new Date())].map((f, i) => ({ ...f, mother: { ...f.mother, phone: numbers[i] } }));
    h = await createTestHospital({ backend, schema: 'reference', population: 100_000, trapNumbers: 80, seed: 'u', extraFamilies: extra });
  }, 300_000);
  afterAll(async () => h?.close());

  it('never hands out a number a real family uses, and blocks it', async () => {
    // 40 canaries need about 70 of the 80 numbers, so every number is checked, the held ones included.
    const res = await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 40, seed: '3', channels: [h.hospital.seedChannel], now: new Date(), isoWeek: '2026-W48', ...birthWindow(new Date()) });
    const held = new Set(h.trapNumbers.slice(0, realHolders));
    expect(res.blockedNumbers.sort()).toEqual([...held].sort());
    const used = res.planted.flatMap((p) => [p.family.mother.phone, p.family.father?.phone]).filter(Boolean);
    for (const n of used) expect(held.has(n!)).toBe(false);
    expect((await vault.poolCounts(h.vault)).blocked).toBe(realHolders);
    // No canary shares a phone with any of the 100k real rows.
    expect(await count(h.target, `SELECT 1 FROM families GROUP BY mother_phone HAVING count(*) > 1 AND mother_phone = ANY($1::text[])`, [used.map((p) => p!.slice(3))])).toBe(0);
  });
});
