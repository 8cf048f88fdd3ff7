import { describe, expect, it } from '@jest/globals';
import { recordingDelayMs } from '../../src/canary/profile.js';
import type { HospitalProfile } from '../../src/domain/index.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { parseMapping } from '../../src/targetdb/index.js';

const mapping = parseMapping({
  inserts: [{ as: 'm', table: 'ZY_MQXX', columns: { LXDH: 'mother.phone', RYSJ: 'admittedAt', CJSJ: { stamp: 'created' } } }],
});
const time = { precision: { day: 0, minute: 0, second: 1, ms: 0 }, hours: [], weekdays: [] };
// Real rows are created 1 to 10 minutes after the admission they record.
const profile = {
  columns: { 'm.CJSJ': { dataType: 'timestamp without time zone', nullShare: 0, time: { ...time, offsets: { 'm.RYSJ': { share: 1, quantileLevels: [0, 0.5, 1], quantiles: [60, 180, 600] } } } } },
} as unknown as HospitalProfile;

describe('the delay with which the hospital records an event', () => {
  it('is drawn from the learned offset of the created stamp from the event time', () => {
    const rng = createRandom('delay');
    const delays = Array.from({ length: 400 }, () => recordingDelayMs(profile, mapping, 'admission', rng) / 1000);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(60);
    expect(Math.max(...delays)).toBeLessThanOrEqual(600);
    const below = delays.filter((d) => d < 180).length / delays.length;
    expect(below).toBeGreaterThan(0.4);
    expect(below).toBeLessThan(0.6);
  });

  it('is none without a profile, or for an event whose row has no learned stamp offset', () => {
    expect(recordingDelayMs(null, mapping, 'admission', createRandom('x'))).toBe(0);
    expect(recordingDelayMs(profile, mapping, 'birth', createRandom('x'))).toBe(0);
  });
});
