import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readOnly } from '../../src/db/index.js';
import type { Family } from '../../src/domain/index.js';
import { createRandom, generateFamily } from '../../src/lib/generate/index.js';
import { learnProfile } from '../../src/profile/learn.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import * as vault from '../../src/vault/index.js';
import { createTestHospital, WARDS, type TestHospital } from '../helpers/hospital.js';

// A hospital whose real rows never fill one column and leave another empty in 40% of families: once
// its profile is learned, the canaries planted there leave the first empty too, the second about as
// often, and still carry their trap phones; a NOT NULL column is never written NULL.

const REAL = 240;
const CANARIES = 60;

/** The hospital's own population: no mother's birth date ever, no address (nor district) for 40%. */
function population(): Family[] {
  const rng = createRandom('blank-target');
  return Array.from({ length: REAL }, () => {
    const f = generateFamily(rng, {
      locale: 'zh-CN', hospital: '测试妇幼保健院', ward: rng.pick(WARDS), districts: ['鼓楼区', '玄武区', '秦淮区'], timeZone: 'Asia/Shanghai',
      birthFrom: new Date('2026-06-01T00:00:00Z'), birthTo: new Date('2026-11-01T00:00:00Z'),
      phone: () => `+86135${String(rng.int(0, 99_999_999)).padStart(8, '0')}`, emailDomain: () => null,
    });
    f.blank = ['mother.birthDate', ...(rng.chance(0.4) ? ['address', 'district'] : [])];
    return f;
  });
}

describe('canaries in a hospital that leaves columns empty', () => {
  let h: TestHospital;
  const shareNull = (rows: Record<string, unknown>[], c: string) => rows.filter((r) => r[c] === null).length / rows.length;

  beforeAll(async () => {
    h = await createTestHospital({ backend: 'pglite', schema: 'reference', population: 0, extraFamilies: population(), trapNumbers: 150, seed: 'blank' });
    // A NOT NULL column whose empties are empty text (the null share counts them): never written NULL.
    await h.target.exec(`UPDATE families SET district = '' WHERE district IS NULL; ALTER TABLE families ALTER COLUMN district SET NOT NULL`);
    const profile = await readOnly(h.target, (tx) => learnProfile(tx, h.mapping, { hospital: h.hospital.name, k: 5, timeZone: h.hospital.timeZone }));
    await vault.saveProfile(h.vault, profile);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('leaves a never-filled column empty, another about as often as real rows, and keeps every trap phone', async () => {
    const { rows: real } = await h.target.query<Record<string, unknown>>(`SELECT * FROM families ORDER BY family_id`);
    expect(real).toHaveLength(REAL);
    expect(shareNull(real, 'mother_birth_date')).toBe(1);
    const realAddress = shareNull(real, 'address');
    expect(realAddress).toBeGreaterThan(0.3);
    expect(realAddress).toBeLessThan(0.5);

    const now = new Date();
    const res = await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: CANARIES, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W49', ...birthWindow(now), seed: 'blank' });
    expect(res.planted).toHaveLength(CANARIES);
    const { rows: canaries } = await h.target.query<Record<string, unknown>>(`SELECT * FROM families WHERE family_id > $1`, [REAL]);
    expect(canaries).toHaveLength(CANARIES);
    expect(shareNull(canaries, 'mother_birth_date')).toBe(1);
    expect(shareNull(canaries, 'mother_phone')).toBe(0);
    // 60 canaries at 40%: the share lies within 0.15–0.65 but for a 1-in-10,000 draw (seeded here).
    expect(shareNull(canaries, 'address')).toBeGreaterThan(0.15);
    expect(shareNull(canaries, 'address')).toBeLessThan(0.65);
    expect(shareNull(canaries, 'district')).toBe(0);
    // The vault keeps the family whole: what the target holds empty is listed, not lost.
    const stored = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    expect(stored.every((c) => c.family.blank?.includes('mother.birthDate'))).toBe(true);
    expect(stored.every((c) => typeof c.family.mother.birthDate === 'string')).toBe(true);
  });
});
