import { describe, expect, it } from '@jest/globals';
import { allocateCanaries } from '../../src/seed/allocate.js';

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

describe('allocateCanaries', () => {
  it('follows births, rounding by largest remainder to the exact total', () => {
    const births = { 产科一病区: 460, 产科二病区: 460, NICU: 80 };
    expect(allocateCanaries(births, 50)).toEqual({ 产科一病区: 23, 产科二病区: 23, NICU: 4 });
    expect(allocateCanaries(births, 100)).toEqual({ 产科一病区: 46, 产科二病区: 46, NICU: 8 });
    for (const total of [3, 7, 10, 13, 99, 1000]) expect(sum(allocateCanaries(births, total))).toBe(total);
  });

  it('keeps every ward at the floor and shares the rest among the others in proportion', () => {
    // NICU's share of 7 is 0.56: it gets the floor, the two others share 6 equally.
    expect(allocateCanaries({ A: 460, B: 460, NICU: 80 }, 7)).toEqual({ A: 3, B: 3, NICU: 1 });
    // Two small wards held at a floor of 2; the big one takes the rest.
    expect(allocateCanaries({ big: 900, s1: 50, s2: 50 }, 20, 2)).toEqual({ big: 16, s1: 2, s2: 2 });
    // A ward with no births at all still gets the floor: its channel stays covered.
    expect(allocateCanaries({ A: 100, B: 0 }, 5)).toEqual({ A: 4, B: 1 });
    // Floor 0: a ward without births gets nothing.
    expect(allocateCanaries({ A: 100, B: 0 }, 5, 0)).toEqual({ A: 5, B: 0 });
  });

  it('splits equally when asked, or when the target has no births yet', () => {
    expect(allocateCanaries({ A: 900, B: 100, C: 0 }, 7, 1, 'equal')).toEqual({ A: 3, B: 2, C: 2 });
    expect(allocateCanaries({ A: 0, B: 0, C: 0 }, 6)).toEqual({ A: 2, B: 2, C: 2 });
  });

  it('turns ties round the wards week by week, so that none gets the extra canary every week', () => {
    const births = { A: 460, B: 460, NICU: 80 };
    expect([0, 1, 2].map((turn) => allocateCanaries(births, 10, 1, 'births', turn))).toEqual([
      { A: 5, B: 4, NICU: 1 },
      { A: 4, B: 5, NICU: 1 },
      { A: 5, B: 4, NICU: 1 },
    ]);
    // Over weeks, the two equal wards get the same number.
    const weeks = Array.from({ length: 52 }, (_, turn) => allocateCanaries(births, 10, 1, 'births', turn));
    expect([sum(Object.fromEntries(weeks.map((w, i) => [i, w.A]))), sum(Object.fromEntries(weeks.map((w, i) => [i, w.B])))]).toEqual([234, 234]);
    const equal = [0, 1, 2].map((turn) => allocateCanaries({ A: 1, B: 1, C: 1 }, 10, 1, 'equal', turn));
    expect(equal).toEqual([{ A: 4, B: 3, C: 3 }, { A: 3, B: 4, C: 3 }, { A: 3, B: 3, C: 4 }]);
  });

  it('refuses a total below the floor of every ward', () => {
    expect(() => allocateCanaries({ A: 1, B: 1, C: 1 }, 2)).toThrow(/each of 3 wards at least 1 of 2/);
  });
});
