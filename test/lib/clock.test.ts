import { describe, expect, it } from '@jest/globals';
import { clockNow } from '../../src/lib/clock.js';

// CRADLE_NOW: the fixed clock tests and replays run commands at.

describe('clockNow', () => {
  it('is the system clock without CRADLE_NOW, and the instant CRADLE_NOW names with it', () => {
    const before = Date.now();
    const now = clockNow({}).getTime();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
    expect(clockNow({ CRADLE_NOW: '2026-12-06T16:30:00Z' }).toISOString()).toBe('2026-12-06T16:30:00.000Z');
    expect(clockNow({ CRADLE_NOW: '2026-12-07T00:30:00+08:00' }).toISOString()).toBe('2026-12-06T16:30:00.000Z');
    expect(clockNow({ CRADLE_NOW: ' ' }).getTime()).toBeGreaterThanOrEqual(before);
  });

  it('refuses a time without its offset, or no time at all, naming the variable', () => {
    for (const bad of ['2026-12-07 00:30', '2026-12-07T00:30:00', 'yesterday', '2026-13-01T00:00:00Z']) {
      expect(() => clockNow({ CRADLE_NOW: bad })).toThrow(`CRADLE_NOW wants an ISO 8601 instant with its offset, like 2026-12-06T16:30:00Z or 2026-12-07T00:30:00+08:00, not "${bad}"`);
    }
  });
});
