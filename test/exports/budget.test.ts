import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runExport } from '../../src/exports/export.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';

// An export's default canary count follows what the trap pool can spare: the numbers the rotation
// plan needs for its next four weeks are kept for it. A hospital with 14 numbers and a plan of 2
// canaries a week (no canary yet: 1 number each) keeps 8 and can spare 6.

describe.each(BACKENDS)('the export budget on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  let dir: string;
  const now = new Date();
  const exportTo = (name: string, canaries?: number) =>
    runExport(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, channel: { kind: 'export', name }, out: path.join(dir, `${name}.csv`), params: [], columnFields: {}, now, canaries, operator: 'n0101', seed: `budget:${name}` });

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 400, trapNumbers: 14, rotation: { 产科一病区: 1, NICU: 1 } });
    dir = scratchDir('budget');
  });
  afterAll(async () => h?.close());

  it('takes fewer canaries than the default when the rotation would run short, and says why', async () => {
    const supply = await vault.poolSupply(h.vault, 'h1', 2, now);
    expect(supply).toMatchObject({ supply: 14, perWeek: 2, numbersPerCanary: 1 });
    // 400 rows: the default is 8 canaries; the pool spares (14 - 2 × 4) / 1 = 6.
    const first = await exportTo('lab');
    expect(first.canaries).toHaveLength(6);
    expect(first.warnings).toContain('6 canaries instead of the default 8: the pool has 14 numbers available or in burn-in and keeps 8 for the next 4 weeks of the rotation plan, at 1 number a canary; give --canaries to choose');
    // What is left is the rotation's: a second default export is refused, saying what to do, and takes nothing.
    const left = (await vault.poolCounts(h.vault, 'h1', now)).available;
    expect(left).toBeGreaterThanOrEqual(0);
    await expect(exportTo('insurer')).rejects.toThrow(/^no trap numbers to spare for this export's canaries: the pool has \d+ numbers available or in burn-in and keeps \d+ for the next 4 weeks of the rotation plan, at [\d.]+ numbers? a canary; add numbers \(cradle pool add\) or give --canaries to take them from the rotation's$/);
    expect((await vault.poolCounts(h.vault, 'h1', now)).available).toBe(left);
    // --canaries is the user's choice: it may take the rotation's numbers.
    const chosen = await exportTo('registry', 2);
    expect(chosen.canaries).toHaveLength(2);
    expect(chosen.warnings.filter((w) => w.includes('instead of the default'))).toEqual([]);
  });
});

// Shared numbers (pool.sharing "shared"): an export's canaries need numbers different from one another
// only, and none is used up, so the budget is the shareable numbers, export after export, at two a
// canary while a father may have his own (pool.fatherNumbers "own") and one when he takes the mother's.
// 5 numbers and 400 rows (default 8): 2 canaries (or 5) each time, where exclusive numbers would be gone.
describe.each(BACKENDS)('the export budget with shared numbers on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  let dir: string;
  const now = new Date();
  const exportTo = (name: string, fatherNumbers: 'own' | 'mother') =>
    runExport(h.vault, h.target, { hospital: { ...h.hospital, sharing: 'shared', fatherNumbers }, mapping: h.mapping, channel: { kind: 'export', name }, out: path.join(dir, `${name}.csv`), params: [], columnFields: {}, now, operator: 'n0101', seed: `shared-budget:${name}` });

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 400, trapNumbers: 5, rotation: { 产科一病区: 1, NICU: 1 } });
    dir = scratchDir('shared-budget');
  });
  afterAll(async () => h?.close());

  it('caps each export at the shareable numbers and takes them again for the next export', async () => {
    for (const [name, fathers, count] of [['lab', 'own', 2], ['insurer', 'own', 2], ['registry', 'mother', 5], ['studio', 'mother', 5]] as const) {
      const result = await exportTo(name, fathers);
      expect(result.canaries).toHaveLength(count);
      expect(result.warnings).toContain(`${count} canaries instead of the default 8: the pool has 5 numbers available or in burn-in and keeps 0 for the next 4 weeks of the rotation plan, at ${count === 2 ? '2 numbers' : '1 number'} a canary; give --canaries to choose`);
    }
  });
});
