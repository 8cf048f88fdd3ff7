// The trace model's accuracy targets on simulated hospitals (test/trace/simulate.ts: pure, no database,
// deterministic seeds; about 9,000 traces). `npm run bench:trace` prints the figures of docs/trace.md.
// Runs are drawn from the model's own prior: unknown source with π_u, two merged leaks with π_m, else
// one channel. Targets:
//  1. single source: the true channel ranks first (alone, or as a part of the top pair when a noise hit
//     was put down to a second leak) in >= 99% of at least 300 qualifying runs. A run qualifies when
//     every other channel c (unknown excluded), at the leak time T, either (a) had not seen at least two
//     of the leaked canaries (noise hits not counted), or (b) had seen at least twice as many canaries
//     as the source: |S_c(T)| >= 2·|S_t(T)|. A near-twin fails both: such runs do not qualify;
//  2. calibration: runs bucketed by the top suspect's posterior are right as often as it says (±0.07
//     for buckets of 50 runs or more; the [0.85, 0.95) bucket right 85-95% of the time);
//  3. "unknown source" ranks first in >= 95% of leaks from outside Cradle's channels with >= 3 found;
//  4. merged leaks whose parts are told apart: each part's leak alone, traced, names its channel first
//     with posterior >= TOLD_APART (0.9), and no one channel had seen all but one of the merged leak's
//     canaries before their evidence (else one leak plus a noise hit explains them as well). The pair
//     ranks first in >= 90% of them. (Most merges are not told apart: with leak sizes ∝ 1/k, three in
//     four have a part of one canary, which is a noise hit as far as the data can say.)
import { describe, expect, it } from '@jest/globals';
import { buildWorld, rate, simulate, TOLD_APART } from './simulate.js';

describe('trace model on simulated hospitals', () => {
  it('builds hospitals with realistic channels', () => {
    const world = buildWorld(20260105, 3);
    expect(world.channels.length).toBeGreaterThan(150);
    expect(world.channels.filter((c) => c.kind === 'export').length).toBeGreaterThan(50);
  });

  it('names the source, is calibrated, names unknown and merged leaks', () => {
    const { singles, qualifying, buckets, unknownRuns, mergedRuns } = simulate();
    expect(singles.length).toBeGreaterThanOrEqual(1000);
    expect(qualifying.length).toBeGreaterThanOrEqual(300);
    expect(rate(qualifying, (x) => !!x.named)).toBeGreaterThanOrEqual(0.99);
    // Calibration, in every bucket from 0.5 up with enough runs to say (and there must be some).
    const wellFilled = buckets.filter((b) => b.runs >= 50 && b.lo >= 0.5);
    expect(wellFilled.length).toBeGreaterThanOrEqual(2);
    for (const b of wellFilled) expect(Math.abs(b.accuracy - b.mean)).toBeLessThanOrEqual(0.07);
    const ninety = buckets.find((b) => b.lo === 0.85)!;
    expect(ninety.runs).toBeGreaterThanOrEqual(50);
    expect(ninety.accuracy).toBeGreaterThanOrEqual(0.85);
    expect(ninety.accuracy).toBeLessThanOrEqual(0.95);
    const unknown3 = unknownRuns.filter((x) => x.found >= 3);
    expect(unknown3.length).toBeGreaterThanOrEqual(100);
    expect(rate(unknown3)).toBeGreaterThanOrEqual(0.95);
    const apart = mergedRuns.filter((x) => x.toldApart);
    expect(TOLD_APART).toBeGreaterThanOrEqual(0.9);
    expect(apart.length).toBeGreaterThanOrEqual(50);
    expect(rate(apart)).toBeGreaterThanOrEqual(0.9);
    expect(rate(mergedRuns, (x) => !!x.partRight)).toBeGreaterThan(0.5);
  }, 600_000); // about 20 s alone; minutes on a busy machine
});
