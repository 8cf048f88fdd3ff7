import { describe, expect, it } from '@jest/globals';
import { simulatePoolPlan } from '../../src/pool/plan.js';

// The numbers a plan needs, worked by hand: 2 rotation canaries a week with one number each, retired
// at the next week's rotation, their numbers resting 14 days (2 weeks) before reuse.

describe('pool plan', () => {
  it('counts the numbers held and resting each week, reusing them after the cool-down', () => {
    const r = simulatePoolPlan({ rotationPerWeek: 2, exportsPerWeek: 0, canariesPerExport: 3, numbersPerCanary: 1, cooldownDays: 14, weeks: 6 }, 5);
    // Week 1: 2 held. Week 2: 2 held, 2 resting. From week 3: 2 held, 4 resting; week 1's come back in week 4.
    expect(r.sample).toEqual([
      { week: 0, held: 2, resting: 0, needed: 2 },
      { week: 4, held: 2, resting: 4, needed: 6 },
      { week: 5, held: 2, resting: 4, needed: 6 },
    ]);
    expect([r.peak, r.perWeek, r.shortFrom]).toEqual([6, 2, 2]);
  });

  it('keeps export canaries’ numbers for good, and rounds a fraction of a number up', () => {
    // One export a week with one canary; 1.5 numbers a canary: 3 a week for the rotation, 1.5 for the export.
    const r = simulatePoolPlan({ rotationPerWeek: 2, exportsPerWeek: 1, canariesPerExport: 1, numbersPerCanary: 1.5, cooldownDays: 14, weeks: 6 }, 1000);
    // Week 6: 3 held by the rotation + 6 × 1.5 by the exports, 2 weeks × 3 resting.
    expect(r.sample.at(-1)).toEqual({ week: 5, held: 12, resting: 6, needed: 18 });
    expect([r.peak, r.perWeek, r.shortFrom]).toEqual([18, 5, null]);
  });

  it('with the defaults, no rotation number comes back within two years', () => {
    const r = simulatePoolPlan({ rotationPerWeek: 7, exportsPerWeek: 0, canariesPerExport: 3, numbersPerCanary: 1.71, cooldownDays: 730, weeks: 104 }, 30);
    expect(r.peak).toBe(Math.ceil(7 * 1.71 * 104));
    expect(r.shortFrom).toBe(2);
  });
});
