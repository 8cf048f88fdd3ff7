import { describe, expect, it } from '@jest/globals';
import { attribute, UNKNOWN_SOURCE, type Source } from '../../src/scan/attribute.js';

const src = (key: string, size: number, ...ids: string[]): Source => ({ key, size, explains: new Set(ids) });

describe('attributing found canaries to a source', () => {
  it('treats one canary of a private export as decisive', () => {
    const ranked = attribute(['x1'], [src('export:a', 20, 'x1'), src('export:b', 20)], 5000);
    expect(ranked[0].key).toBe('export:a');
    expect(ranked[0].posterior).toBeGreaterThan(0.99);
  });

  it('prefers the smallest source that explains everything', () => {
    const ranked = attribute(['s1', 's2'], [src('system:his', 1000, 's1', 's2'), src('ward:NICU', 40, 's1', 's2'), src('export:x', 30, 's1')], 5000);
    expect(ranked.map((r) => r.key).slice(0, 2)).toEqual(['ward:NICU', 'system:his']);
    expect(ranked[0].posterior).toBeGreaterThan(0.9);
    expect(ranked.find((r) => r.key === 'export:x')!.unexplained).toEqual(['s2']);
  });

  it('names both halves of a merged leak, and unknown when nothing known explains it', () => {
    const merged = attribute(['a1', 'a2', 'b1', 'b2'], [src('export:a', 20, 'a1', 'a2'), src('export:b', 20, 'b1', 'b2')], 5000);
    expect(merged[0]).toMatchObject({ key: 'export:a + export:b', parts: ['export:a', 'export:b'], unexplained: [] });
    expect(merged[0].posterior).toBeGreaterThan(0.99);
    // A pair is named only when it explains more than either source alone.
    expect(attribute(['a1'], [src('export:a', 20, 'a1'), src('export:b', 20, 'a1')], 5000).some((r) => r.parts)).toBe(false);
    const none = attribute(['z1', 'z2'], [src('export:a', 20, 'a1')], 5000);
    expect(none[0].key).toBe(UNKNOWN_SOURCE);
    expect(attribute([], [src('export:a', 20)], 10)).toEqual([]);
    const sum = merged.reduce((s, r) => s + r.posterior, 0);
    expect(sum).toBeCloseTo(1, 10);
  });

  it('shares the merge prior among the pairs that could be it, so many partial pairs do not outweigh one full explanation', () => {
    // x explains both canaries; eight sources explain one each, making sixteen candidate pairs.
    const others = Array.from({ length: 8 }, (_, i) => src(`export:o${i}`, 8, i % 2 ? 'c2' : 'c1'));
    const ranked = attribute(['c1', 'c2'], [src('export:x', 8, 'c1', 'c2'), ...others], 5000);
    expect(ranked[0].key).toBe('export:x');
    const pairs = ranked.filter((r) => r.parts);
    expect(pairs).toHaveLength(16);
    expect(pairs.reduce((s, r) => s + r.posterior, 0)).toBeLessThan(0.1);
  });

  it('scores the codeword canaries of a code export as a partial leak of its file', () => {
    // Three exports hold shared canary s1 in their codewords of 4; one of them also holds s2.
    const code = (key: string, ...ids: string[]): Source => ({ key, size: 4, explains: new Set(ids.filter((c) => c.startsWith('s'))), code: ids });
    const a = code('export:a', 's1', 's2', 'a3', 'a4');
    const b = code('export:b', 's1', 'b2', 'b3', 'b4');
    const c = code('export:c', 's1', 'c2', 'c3', 'c4');
    const one = attribute(['s1'], [a, b, c], 100);
    expect(one.slice(0, 3).map((r) => r.posterior).every((p) => Math.abs(p - 1 / 3) < 0.01)).toBe(true);
    const two = attribute(['s1', 's2'], [a, b, c], 100);
    expect(two[0].key).toBe('export:a');
    expect(two[0].posterior).toBeGreaterThan(0.99);
  });
});
