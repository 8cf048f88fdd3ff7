import { describe, expect, it } from '@jest/globals';
import { comingBirthWindow } from '../../src/seed/index.js';

// A weekly rotation schedules canaries born in the coming days. Consecutive Mondays' windows must
// cover every hour of the week once: a gap (the 30 hours after each run) is a weekday no canary is
// born or admitted on, which a thief reads off the dump.
describe('the coming birth window of a weekly rotation', () => {
  it('tiles time: seven days long, each starting where the previous week ended, after the admission lead', () => {
    const monday = new Date('2025-03-03T03:00:00+08:00');
    const next = new Date(monday.getTime() + 7 * 86_400_000);
    const a = comingBirthWindow(monday);
    const b = comingBirthWindow(next);
    expect(a.birthFrom.getTime() - monday.getTime()).toBe(30 * 3_600_000);
    expect(b.birthFrom.getTime() - a.birthTo.getTime()).toBeLessThanOrEqual(1000);
    expect(b.birthFrom.getTime()).toBeGreaterThan(a.birthTo.getTime());
  });
});
