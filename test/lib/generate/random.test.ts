import { describe, expect, it } from '@jest/globals';
import { createRandom, truncatedNormal, weightedTable } from '../../../src/lib/generate/index.js';

const draws = (seed: number | string | undefined, n = 20): number[] => {
  const rng = createRandom(seed);
  return Array.from({ length: n }, () => rng.next());
};

describe('createRandom', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    expect(draws(42)).toEqual(draws(42));
    expect(draws('canary-2026-W48')).toEqual(draws('canary-2026-W48'));
    expect(draws(42)).not.toEqual(draws(43));
    expect(draws('a')).not.toEqual(draws('b'));
  });

  it('is random when unseeded', () => {
    expect(draws(undefined)).not.toEqual(draws(undefined));
  });

  it('draws next() uniformly in [0, 1)', () => {
    const xs = draws(7, 100_000);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((a, b) => a + b) / xs.length;
    expect(mean).toBeCloseTo(0.5, 2);
    const deciles = new Array(10).fill(0);
    for (const x of xs) deciles[Math.floor(x * 10)]++;
    for (const c of deciles) expect(Math.abs(c / xs.length - 0.1)).toBeLessThan(0.006);
  });

  it('int() covers both bounds uniformly and nothing else', () => {
    const rng = createRandom(1);
    const counts = new Map<number, number>();
    for (let i = 0; i < 60_000; i++) {
      const x = rng.int(-2, 3);
      counts.set(x, (counts.get(x) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2, 3]);
    for (const c of counts.values()) expect(Math.abs(c - 10_000)).toBeLessThan(400);
  });

  it('pick, weighted and chance follow their inputs', () => {
    const rng = createRandom(2);
    const n = 50_000;
    let picksOfB = 0, heavy = 0, yes = 0;
    for (let i = 0; i < n; i++) {
      if (rng.pick(['a', 'b', 'c', 'd']) === 'b') picksOfB++;
      if (rng.weighted([['light', 1], ['heavy', 3]] as const) === 'heavy') heavy++;
      if (rng.chance(0.3)) yes++;
    }
    expect(picksOfB / n).toBeCloseTo(0.25, 1);
    expect(Math.abs(heavy / n - 0.75)).toBeLessThan(0.01);
    expect(Math.abs(yes / n - 0.3)).toBeLessThan(0.01);
    expect(() => rng.pick([])).toThrow();
  });

  it('normal() has the requested mean and sd', () => {
    const rng = createRandom(3);
    const xs = Array.from({ length: 50_000 }, () => rng.normal(10, 2));
    const mean = xs.reduce((a, b) => a + b) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean - 10)).toBeLessThan(0.05);
    expect(Math.abs(sd - 2)).toBeLessThan(0.05);
  });

  it('truncatedNormal stays inside its bounds without piling up at them', () => {
    const rng = createRandom(4);
    const xs = Array.from({ length: 20_000 }, () => truncatedNormal(rng, 0, 1, -1, 1));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.filter((x) => x === -1 || x === 1)).toHaveLength(0);
  });
});

describe('weightedTable', () => {
  it('normalises shares and samples by them (binary search)', () => {
    const table = weightedTable([['a', 1], ['b', 2], ['c', 7]] as const);
    expect(table.shares).toEqual([0.1, 0.2, 0.7]);
    expect(table.share('c')).toBeCloseTo(0.7);
    expect(table.share('zzz' as 'a')).toBe(0);
    const rng = createRandom(5);
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 100_000; i++) counts[table.sample(rng)]++;
    expect(Math.abs(counts.a / 100_000 - 0.1)).toBeLessThan(0.005);
    expect(Math.abs(counts.b / 100_000 - 0.2)).toBeLessThan(0.005);
    expect(Math.abs(counts.c / 100_000 - 0.7)).toBeLessThan(0.005);
  });

  it('samples the first and last items of a long table', () => {
    const entries = Array.from({ length: 1000 }, (_, i) => [i, 1] as const);
    const table = weightedTable(entries);
    const rng = createRandom(6);
    const seen = new Set(Array.from({ length: 20_000 }, () => table.sample(rng)));
    expect(seen.has(0)).toBe(true);
    expect(seen.has(999)).toBe(true);
    expect(seen.size).toBeGreaterThan(990);
  });

  it('rejects empty tables and non-positive weights', () => {
    expect(() => weightedTable([])).toThrow(/empty/);
    expect(() => weightedTable([['a', 0]])).toThrow(/positive/);
    expect(() => weightedTable([['a', Number.NaN]])).toThrow(/positive/);
  });
});
