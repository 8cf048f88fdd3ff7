import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { dialectOf, readOnly } from '../../src/db/index.js';
import { draftCanaries } from '../../src/canary/draft.js';
import { demoPopulation } from '../../src/demo/setup.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import { insertFamilies } from '../../src/targetdb/index.js';
import * as vault from '../../src/vault/index.js';
import { count, createTestHospital, type TestHospital } from '../helpers/hospital.js';
import { describeEachTarget, fieldColumn, schemaOf, TARGET_CASES } from '../helpers/targets.js';

// A trap number back from its cool-down is found in the target in its earlier canary's row, which
// stays there: that row alone must not block it (or every number is used once), a real row must.

describeEachTarget(TARGET_CASES, 'reusing a trap number after its cool-down on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: schemaOf(backend), population: 30, trapNumbers: 12, seed: 'reuse' });
  }, 60_000);
  afterAll(async () => h?.close());

  const now = new Date('2026-11-25T10:00:00Z');
  const plant = (count: number, seed: string, at: Date) =>
    plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count, channels: [h.hospital.seedChannel], seed, now: at, isoWeek: '2026-W48', ...birthWindow(at) });

  it('hands the number out again despite its earlier canary\'s row, and blocks it when a real row holds it', async () => {
    const first = await plant(3, 'a', now);
    const firstNumbers = first.planted.flatMap((p) => [p.family.mother.phone, p.family.father?.phone]).filter((n): n is string => !!n);
    expect(firstNumbers.length).toBeGreaterThanOrEqual(3);
    // Retired with no cool-down; every other number blocked, so the next canary can only get these.
    await h.vault.transaction(async (tx) => {
      await vault.retireNumbersOf(tx, first.planted.map((p) => p.id), now, 0);
      const others = (await vault.listTrapNumbers(tx)).filter((n) => !firstNumbers.includes(n.e164)).map((n) => n.id);
      await vault.blockNumbers(tx, others, 'test: only the retired numbers are left');
    });
    const later = new Date(now.getTime() + 86_400_000);
    const second = await plant(1, 'b', later);
    expect(second.blockedNumbers).toEqual([]);
    const reused = [second.planted[0].family.mother.phone!, second.planted[0].family.father?.phone].filter((n): n is string => !!n);
    for (const n of reused) expect(firstNumbers).toContain(n);
    // Both canaries' rows hold the number now, and nothing else does.
    const phone = fieldColumn(h.mapping, 'mother.phone');
    const d = dialectOf(h.target);
    const params: unknown[] = [];
    expect(await count(h.target, `SELECT 1 FROM ${d.table(phone.step)} WHERE ${d.ident(phone.column)} = ${d.param(params, reused[0].slice(3))}`, params)).toBe(2);

    // A real family (typed in by the hospital) takes one of the numbers still free: it is blocked, not handed out.
    const free = firstNumbers.filter((n) => !reused.includes(n));
    const real = [...demoPopulation(createRandom('real'), 1, later)].map((f) => ({ ...f, mother: { ...f.mother, phone: free[0] } }));
    await h.target.transaction((tx) => insertFamilies(tx, h.mapping, real, h.hospital.timeZone, () => 7));
    const draft = await readOnly(h.target, (tx) => draftCanaries(h.vault, tx, { hospital: h.hospital, mapping: h.mapping, count: 1, ward: () => '产科一病区', now: later, seed: 'c', ...birthWindow(later) }));
    expect(draft.blocked.map((b) => b.e164)).toEqual([free[0]]);
    expect(draft.assignments.map((a) => a.family.mother.phone)).not.toContain(free[0]);
  }, 120_000);
});
