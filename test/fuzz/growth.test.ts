import { describe, expect, it } from '@jest/globals';
import { GROWTH_CASES, measureGrowth } from './growth.js';

// Time bounds: the same pathological pattern at n and 8n bytes must cost about 8x, not 64x.
describe('parsers stay near-linear', () => {
  it.each(GROWTH_CASES.map((g) => [g.name, g] as const))('%s', async (_name, g) => {
    const r = await measureGrowth(g);
    const what = `${r.smallBytes} B in ${r.smallMs.toFixed(1)} ms, ${r.largeBytes} B in ${r.largeMs.toFixed(1)} ms: ratio ${r.ratio.toFixed(1)} (limit ${g.maxRatio ?? 24})`;
    expect(r.ok ? 'near-linear' : `super-linear: ${what}`).toBe('near-linear');
  });
});
