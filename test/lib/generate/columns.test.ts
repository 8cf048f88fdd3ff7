import { describe, expect, it } from '@jest/globals';
import type { ColumnProfile } from '../../../src/domain/index.js';
import { createRandom, drawColumnValue, fromQuantiles, idCheckDigit, roundToProfile, withTimePrecision, wallMs, wallText } from '../../../src/lib/generate/index.js';

// Drawing a column's value from its learned profile: shares, quantiles, steps, precision, shapes.

const base = { rows: 1000, distinct: 3, identifying: false };

describe('drawing column values from a profile', () => {
  it('draws categorical values by their shares and nulls by the null share', () => {
    const rng = createRandom('cat');
    const p: ColumnProfile = { ...base, dataType: 'character varying', nullShare: 0.1, values: { total: 900, values: { 汉族: 810, 回族: 90 }, other: 0 } };
    const draws = Array.from({ length: 4000 }, () => drawColumnValue(rng, p));
    const share = (v: unknown) => draws.filter((d) => d === v).length / draws.length;
    expect(share(null)).toBeGreaterThan(0.08);
    expect(share(null)).toBeLessThan(0.12);
    expect(share('汉族')).toBeGreaterThan(0.78);
    expect(share('回族')).toBeGreaterThan(0.07);
    expect(new Set(draws)).toEqual(new Set([null, '汉族', '回族']));
    const weeks: ColumnProfile = { ...base, dataType: 'smallint', nullShare: 0, values: { total: 10, values: { '38': 5, '39': 5 }, other: 0 } };
    expect([38, 39]).toContain(drawColumnValue(rng, weeks));
  });

  it('draws numbers inside the quantiles, rounded to the learned steps by their shares', () => {
    const rng = createRandom('num');
    expect(fromQuantiles(rng, [0.5], [7])).toBe(7);
    const p: ColumnProfile = {
      ...base,
      dataType: 'integer',
      nullShare: 0,
      distinct: 2000,
      number: { quantileLevels: [0.01, 0.5, 0.99], quantiles: [2000, 3200, 4400], steps: { '1000': 0.01, '100': 0.1, '10': 0.8, '1': 1, '0.1': 1, '0.01': 1, '0.001': 1 }, step: 1 },
    };
    const draws = Array.from({ length: 3000 }, () => drawColumnValue(rng, p) as number);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(2000);
    expect(Math.max(...draws)).toBeLessThanOrEqual(4400);
    const by10 = draws.filter((d) => d % 10 === 0).length / draws.length;
    expect(by10).toBeGreaterThan(0.78);
    expect(by10).toBeLessThan(0.86);
    expect(draws.every(Number.isInteger)).toBe(true);
    expect(roundToProfile(rng, 3.14159, { steps: { '0.01': 1 }, step: 0.01 })).toBe(3.14);
  });

  it("rounds so that each step's multiples come out in their learned shares, counting the multiples finer steps give anyway", () => {
    const rng = createRandom('steps');
    const draw = (steps: Record<string, number>) => Array.from({ length: 10_000 }, () => roundToProfile(rng, 2000 + rng.next() * 2500, { steps, step: 10 }));
    const shareOf = (xs: number[], s: number) => xs.filter((x) => x % s === 0).length / xs.length;
    // Recorded to 10 g, no heaping: one weight in ten is a multiple of 100 g, one in a hundred of 1,000 g.
    const plain = draw({ '1000': 0.01, '100': 0.1, '10': 1, '1': 1 });
    expect(plain.every((x) => x % 10 === 0)).toBe(true);
    expect(shareOf(plain, 100)).toBeGreaterThan(0.09);
    expect(shareOf(plain, 100)).toBeLessThan(0.11);
    expect(shareOf(plain, 1000)).toBeLessThan(0.015);
    // Heaped on round hundreds: 30 % multiples of 100 g, 5 % of 1,000 g (not 37 % and 6 %).
    const heaped = draw({ '1000': 0.05, '100': 0.3, '10': 1, '1': 1 });
    expect(shareOf(heaped, 100)).toBeGreaterThan(0.28);
    expect(shareOf(heaped, 100)).toBeLessThan(0.32);
    expect(shareOf(heaped, 1000)).toBeGreaterThan(0.04);
    expect(shareOf(heaped, 1000)).toBeLessThan(0.06);
  });

  it('writes times in the learned precision and at the learned offset from the family time', () => {
    const rng = createRandom('time');
    const t = wallMs('2026-11-02 08:10:00');
    expect(wallText(t)).toBe('2026-11-02 08:10:00');
    const seconds = Array.from({ length: 500 }, () => withTimePrecision(rng, t, { day: 0, minute: 0, second: 1, ms: 0 }));
    expect(seconds.every((ms) => ms % 1000 === 0 && (ms / 1000) % 60 !== 0 && ms - t < 60_000)).toBe(true);
    expect(withTimePrecision(rng, t + 12_345, { day: 0, minute: 1, second: 0, ms: 0 })).toBe(t);
    const created: ColumnProfile = {
      ...base,
      dataType: 'timestamp without time zone',
      nullShare: 0,
      time: { precision: { day: 0, minute: 0, second: 1, ms: 0 }, hours: new Array(24).fill(1 / 24), weekdays: new Array(7).fill(1 / 7), offsets: { 'm.RYSJ': { share: 1, quantileLevels: [0, 1], quantiles: [60, 1860] } } },
    };
    for (let i = 0; i < 200; i++) {
      const v = drawColumnValue(rng, created, { anchors: { 'm.RYSJ': '2026-11-02 08:10:07' } }) as string;
      const d = (wallMs(v) - wallMs('2026-11-02 08:10:07')) / 1000;
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(1920);
      expect(v).toMatch(/^2026-11-02 0[89]:\d\d:(0[1-9]|[1-5]\d)$/);
    }
  });

  it('fills shapes (a date prefix from the day) and makes ID-card numbers with valid check characters', () => {
    const rng = createRandom('shape');
    expect(idCheckDigit('11010519491231002')).toBe('X');
    expect(idCheckDigit('44052418800101001')).toBe('4');
    const zyh: ColumnProfile = {
      ...base,
      dataType: 'character varying',
      nullShare: 0,
      identifying: true,
      text: { shapes: { total: 10, values: { 'ZY20############': 10 }, other: 0 }, lengths: { total: 10, values: { '16': 10 }, other: 0 } },
      key: { unique: true, datePrefix: { pattern: 'yyyyMMdd', offset: 2, digits: 6, counter: 'day' } },
    };
    expect(drawColumnValue(rng, zyh, { day: '2026-11-02' })).toMatch(/^ZY20261102\d{6}$/);
    const card: ColumnProfile = {
      ...base,
      dataType: 'character',
      nullShare: 0,
      identifying: true,
      key: { unique: true, idCard: { validShare: 1, xShare: 0.09, regions: { total: 10, values: { '320402': 10 }, other: 0 } } },
    };
    const id = drawColumnValue(rng, card, { birthDate: '1992-03-04' }) as string;
    expect(id).toMatch(/^32040219920304\d{3}[\dX]$/);
    expect(idCheckDigit(id.slice(0, 17))).toBe(id[17]);
  });
});
