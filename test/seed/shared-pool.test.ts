import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { HospitalConfig } from '../../src/config/index.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS } from '../helpers/db.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';

// pool.sharing "shared": several canaries hold a number at once, never two of one ward within 30 days,
// the least held numbers first; a shared number stays assigned while a canary still holds it.

describe.each(BACKENDS)('a shared trap pool on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  let hospital: HospitalConfig;
  const now = new Date();
  const plant = (ward: string, count: number, seed: string) =>
    plantCanaries(h.vault, h.target, { hospital, mapping: h.mapping, count, ward, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W49', ...birthWindow(now), seed });
  const holders = async () =>
    (await h.vault.query<{ e164: string; ward: string; state: string }>(
      `SELECT t.e164, c.ward, t.state FROM trap_assignments a JOIN trap_numbers t ON t.id = a.trap_number_id JOIN canaries c ON c.id = a.canary_id WHERE a.released_at IS NULL ORDER BY t.e164, c.ward`,
    )).rows;

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 100, trapNumbers: 4 });
    hospital = { ...h.hospital, sharing: 'shared', fatherNumbers: 'mother' };
  });
  afterAll(async () => h?.close());

  it('shares numbers across wards, never within one, and keeps a shared number assigned when one holder retires', async () => {
    await plant('产科一病区', 2, 'a');
    await plant('NICU', 2, 'b');
    // The least held first: the NICU canaries took the two free numbers.
    expect(new Set((await holders()).map((r) => r.e164)).size).toBe(4);
    await plant('NICU', 2, 'c');
    const rows = await holders();
    expect(rows).toHaveLength(6);
    const byNumber = new Map<string, string[]>();
    for (const r of rows) byNumber.set(r.e164, [...(byNumber.get(r.e164) ?? []), r.ward]);
    // Two numbers shared by a 产科一病区 canary and a NICU one; no number holds two canaries of a ward.
    expect([...byNumber.values()].map((w) => w.length).sort()).toEqual([1, 1, 2, 2]);
    for (const wards of byNumber.values()) expect(new Set(wards).size).toBe(wards.length);
    // Every number holds a NICU canary now: a fifth NICU canary has none to take.
    await expect(plant('NICU', 1, 'd')).rejects.toThrow(/trap pool is short/);
    // A 产科一病区 canary retires: its shared number stays assigned to the NICU canary.
    const shared = [...byNumber.entries()].find(([, w]) => w.length === 2)![0];
    const { rows: [retiring] } = await h.vault.query<{ id: string }>(
      `SELECT c.id FROM canaries c JOIN trap_assignments a ON a.canary_id = c.id JOIN trap_numbers t ON t.id = a.trap_number_id WHERE t.e164 = $1 AND c.ward = '产科一病区'`,
      [shared],
    );
    await vault.retireNumbersOf(h.vault, [retiring.id], new Date(), 730);
    expect((await holders()).filter((r) => r.e164 === shared).map((r) => [r.ward, r.state])).toEqual([['NICU', 'assigned']]);
  });
});
