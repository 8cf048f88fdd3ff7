import { describe, expect, it } from '@jest/globals';
import { logLeak, trace, UNKNOWN_SOURCE, type FoundCanary, type TraceChannel } from '../../src/trace/model.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const day = (d: number) => new Date(T0 + d * DAY);

/** A channel that saw canaries `ids` on day `at` (or each on its own day). */
const channel = (key: string, kind: TraceChannel['kind'], seen: Record<string, number> | [string[], number], code?: string[]): TraceChannel => ({
  key,
  kind,
  seen: new Map(Array.isArray(seen) ? seen[0].map((id) => [id, day(seen[1])]) : Object.entries(seen).map(([id, d]) => [id, day(d)])),
  code,
});
const found = (id: string, planted: number, leaked: number): FoundCanary => ({ id, plantedAt: day(planted), seenLeakedAt: day(leaked) });
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('trace model', () => {
  it('scores a leak by the size principle with a scale-free size prior', () => {
    expect(logLeak(1, 1)).toBeCloseTo(0, 12);
    // 1/(k·H_n·C(n,k)) sums to 1 over all non-empty subsets.
    let total = 0;
    for (let k = 1; k <= 6; k++) total += Math.exp(logLeak(k, 6) + Math.log([1, 6, 15, 20, 15, 6, 1][k]));
    expect(total).toBeCloseTo(1, 12);
    expect(logLeak(0, 5)).toBe(-Infinity);
    expect(logLeak(6, 5)).toBe(-Infinity);
  });

  it('gives nothing to a channel never exposed to what was found', () => {
    const ranked = trace({ found: [found('a1', 0, 10)], channels: [channel('ward:A', 'ward', [['a1'], 0]), channel('ward:B', 'ward', [['b1'], 0])], vaultSize: 100 });
    expect(ranked[0].key).toBe('ward:A');
    const b = ranked.find((s) => s.key === 'ward:B')!;
    expect(b.posterior).toBe(0);
    expect(b.explains).toEqual([]);
    expect(b.window).toBeNull();
    expect(ranked.reduce((s, r) => s + r.posterior, 0)).toBeCloseTo(1, 12);
  });

  it('does not explain a contact that came before the exposure', () => {
    // The account opened x on day 8, but x's trap was called on day 5: the account cannot be its source.
    const late = channel('account:n1', 'account', { x: 8 });
    const ward = channel('ward:A', 'ward', [['x', ...ids('w', 20)], 0]);
    const ranked = trace({ found: [found('x', 0, 5)], channels: [late, ward], vaultSize: 1000 });
    expect(ranked[0].key).toBe('ward:A');
    const account = ranked.find((s) => s.key === 'account:n1')!;
    expect(account.posterior).toBe(0);
    expect(account.unexplained).toEqual(['x']);
    // Called on day 9 instead, the account (one record) is the better explanation.
    expect(trace({ found: [found('x', 0, 9)], channels: [late, ward], vaultSize: 1000 })[0].key).toBe('account:n1');
  });

  it('prefers the small export over the system that saw everything (size principle)', () => {
    const all = ids('c', 2000);
    const his = channel('system:his', 'system', [all, 0]);
    const exp = channel('export-file:EXP-1', 'export', [all.slice(0, 30), 3]);
    const leak = all.slice(0, 8).map((id) => found(id, 0, 10));
    const ranked = trace({ found: leak, channels: [his, exp], vaultSize: 5000 });
    expect(ranked[0].key).toBe('export-file:EXP-1');
    expect(ranked[0].posterior).toBeGreaterThan(0.99);
    // What the export held is the file's day; the leak came after it, before the first contact.
    expect(ranked[0].window).toEqual({ from: day(3), to: day(10) });
  });

  it('bounds the leak by time: what a growing channel had seen by then is what it could leak', () => {
    // Ward A sees a canary a day; the leak holds the first five, all contacted on day 6.
    const ward = channel('ward:A', 'ward', Object.fromEntries(ids('a', 60).map((id, i) => [id, i])));
    const his = channel('system:his', 'system', Object.fromEntries([...ids('a', 60), ...ids('b', 60)].map((id, i) => [id, i % 60])));
    const leak = ids('a', 5).map((id, i) => found(id, i, 6));
    const ranked = trace({ found: leak, channels: [ward, his], vaultSize: 1000 });
    expect(ranked[0].key).toBe('ward:A');
    expect(ranked[0].posterior).toBeGreaterThan(0.95);
    expect(ranked[0].window).toEqual({ from: day(4), to: day(6) });
    expect(ranked[0].explains).toEqual(ids('a', 5));
  });

  it('does not let one noise hit flip the answer', () => {
    const all = ids('c', 500);
    const exp = channel('export-file:EXP-1', 'export', [all.slice(0, 40), 2]);
    const his = channel('system:his', 'system', [all, 0]);
    const leak = all.slice(0, 6).map((id) => found(id, 0, 10));
    const noisy = [...leak, found('c300', 0, 4)];
    const ranked = trace({ found: noisy, channels: [exp, his], vaultSize: 5000 });
    expect(ranked[0].key).toBe('export-file:EXP-1');
    expect(ranked[0].unexplained).toEqual(['c300']);
  });

  it('names both halves of a merged leak, and unknown when nothing known explains it', () => {
    const a = channel('export-file:A', 'export', [ids('a', 20), 1]);
    const b = channel('export-file:B', 'export', [ids('b', 20), 1]);
    const leak = [...ids('a', 4), ...ids('b', 4)].map((id) => found(id, 0, 10));
    const merged = trace({ found: leak, channels: [a, b], vaultSize: 5000 });
    expect(merged[0]).toMatchObject({ key: 'export-file:A + export-file:B', kind: 'merged', parts: ['export-file:A', 'export-file:B'], unexplained: [] });
    expect(merged[0].posterior).toBeGreaterThan(0.99);
    expect(merged[0].window).toEqual({ from: day(1), to: day(10) });
    const none = trace({ found: ['z1', 'z2', 'z3'].map((id) => found(id, 0, 5)), channels: [a], vaultSize: 5000 });
    expect(none[0]).toMatchObject({ key: UNKNOWN_SOURCE, kind: 'unknown', window: null });
    expect(trace({ found: [], channels: [a], vaultSize: 10 })).toEqual([]);
  });

  it('names unknown when every channel that saw the canaries saw them after their contacts', () => {
    const late = channel('export-file:E', 'export', [['x', 'y', 'z'], 20]);
    const ranked = trace({ found: ['x', 'y', 'z'].map((id) => found(id, 0, 10)), channels: [late], vaultSize: 500 });
    expect(ranked[0].key).toBe(UNKNOWN_SOURCE);
    expect(ranked[0].posterior).toBeGreaterThan(0.999);
    expect(ranked.find((s) => s.key === 'export-file:E')!.posterior).toBe(0);
    // Without noise or an unknown source, nothing is possible.
    expect(trace({ found: [found('x', 0, 10)], channels: [late], vaultSize: 500 }, { noise: 0, unknownPrior: 0 }).every((s) => s.posterior === 0)).toBe(true);
  });

  it('weighs the leak time by the delay to the first evidence', () => {
    // Two exports of the same canaries, one sent 40 days before the contacts, one 2 days before. A leak
    // comes days before its evidence, so the recent one, whose window is short, is not penalised as
    // much as a uniform time would (2 days against 40).
    const old = channel('export-file:old', 'export', [ids('c', 10), 0]);
    const recent = channel('export-file:recent', 'export', [ids('c', 10), 38]);
    const leak = ids('c', 3).map((id) => found(id, 0, 40));
    const posterior = (evidenceDelay: number) => {
      const ranked = trace({ found: leak, channels: [old, recent], vaultSize: 500 }, { evidenceDelay });
      return ranked.find((s) => s.key === 'export-file:recent')!.posterior / (ranked.find((s) => s.key === 'export-file:old')!.posterior + ranked.find((s) => s.key === 'export-file:recent')!.posterior);
    };
    // ∫ over [38, 40] of the delay density against ∫ over [0, 40]: (1 − e^(−2/7)) / (1 − e^(−40/7)).
    const odds = (1 - Math.exp(-2 / 7)) / (1 - Math.exp(-40 / 7));
    expect(posterior(7 * DAY)).toBeCloseTo(odds / (1 + odds), 3);
    expect(posterior(Infinity)).toBeCloseTo(2 / 42, 3);
  });

  it('scores codeword exports by how much of their codeword was found', () => {
    // Three exports hold shared canary s1 in their codewords of 4; one of them also holds s2.
    const code = (key: string, ...cw: string[]) => channel(key, 'export', [cw, 1], cw);
    const a = code('export-file:a', 's1', 's2', 'a3', 'a4');
    const b = code('export-file:b', 's1', 'b2', 'b3', 'b4');
    const c = code('export-file:c', 's1', 'c2', 'c3', 'c4');
    const one = trace({ found: [found('s1', 0, 5)], channels: [a, b, c], vaultSize: 100 }, { unknownPrior: 0.01, mergePrior: 0.1 });
    expect(one.slice(0, 3).map((r) => r.posterior).every((p) => Math.abs(p - one[0].posterior) < 1e-9)).toBe(true);
    const two = trace({ found: [found('s1', 0, 5), found('s2', 0, 5)], channels: [a, b, c], vaultSize: 100 });
    expect(two[0].key).toBe('export-file:a');
    expect(two[0].posterior).toBeGreaterThan(0.95);
  });

  // What scan's own model (src/scan/attribute.ts, now gone) promised, kept by the one model.
  it('treats one canary of a private export as decisive, and prefers the smallest channel that explains everything', () => {
    const a = channel('export-file:a', 'export', [['x1', ...ids('a', 19)], 1]);
    const b = channel('export-file:b', 'export', [ids('b', 20), 1]);
    const one = trace({ found: [found('x1', 0, 10)], channels: [a, b], vaultSize: 5000 }, { universe: 50 });
    expect(one[0].key).toBe('export-file:a');
    expect(one[0].posterior).toBeGreaterThan(0.99);
    const his = channel('system:his', 'system', [['s1', 's2', ...ids('h', 998)], 0]);
    const nicu = channel('ward:NICU', 'ward', [['s1', 's2', ...ids('n', 38)], 0]);
    const x = channel('export-file:x', 'export', [['s1', ...ids('x', 29)], 1]);
    const ranked = trace({ found: [found('s1', 0, 10), found('s2', 0, 10)], channels: [his, nicu, x], vaultSize: 5000 }, { universe: 50 });
    expect(ranked[0].key).toBe('ward:NICU');
    expect(ranked[0].posterior).toBeGreaterThan(0.9);
    // his explains both too, but as one leak among thousands of its canaries: 2/40 against 2/1000, squared.
    expect(ranked.find((r) => r.key === 'system:his')!.posterior).toBeLessThan(ranked[0].posterior / 100);
    expect(ranked.find((r) => r.key === 'export-file:x')!.unexplained).toEqual(['s2']);
  });

  it('names both parts of a merged leak, only when the pair explains more than either alone', () => {
    const a = channel('export-file:a', 'export', [['a1', 'a2', ...ids('a', 18)], 1]);
    const b = channel('export-file:b', 'export', [['b1', 'b2', ...ids('b', 18)], 1]);
    const merged = trace({ found: ['a1', 'a2', 'b1', 'b2'].map((id) => found(id, 0, 10)), channels: [a, b], vaultSize: 5000 }, { universe: 50 });
    expect(merged[0]).toMatchObject({ key: 'export-file:a + export-file:b', kind: 'merged', parts: ['export-file:a', 'export-file:b'], unexplained: [] });
    expect(merged[0].posterior).toBeGreaterThan(0.99);
    expect(merged.reduce((sum, r) => sum + r.posterior, 0)).toBeCloseTo(1, 10);
    const both = channel('export-file:c', 'export', [['a1', ...ids('c', 19)], 1]);
    expect(trace({ found: [found('a1', 0, 10)], channels: [a, both], vaultSize: 5000 }).some((r) => r.parts)).toBe(false);
  });

  it('keeps many partial pairs from outweighing one channel that explains everything', () => {
    // x explains both canaries; eight exports explain one each, sixteen pairs between them.
    const x = channel('export-file:x', 'export', [['c1', 'c2', ...ids('x', 6)], 1]);
    const others = Array.from({ length: 8 }, (_, i) => channel(`export-file:o${i}`, 'export', [[i % 2 ? 'c2' : 'c1', ...ids(`o${i}-`, 7)], 1]));
    const ranked = trace({ found: [found('c1', 0, 10), found('c2', 0, 10)], channels: [x, ...others], vaultSize: 5000 }, { universe: 50 });
    expect(ranked[0].key).toBe('export-file:x');
    expect(ranked.filter((r) => r.parts).reduce((sum, r) => sum + r.posterior, 0)).toBeLessThan(0.1);
  });

  it('traces a scan of 1000 canaries over 50 channels, one of which saw 10,000', () => {
    const vault = ids('v', 10_000);
    const channels: TraceChannel[] = [channel('system:his', 'system', Object.fromEntries(vault.map((id, i) => [id, i / 200])))];
    for (let w = 0; w < 8; w++) channels.push(channel(`ward:${w}`, 'ward', Object.fromEntries(vault.filter((_, i) => i % 8 === w).map((id) => [id, Number(id.slice(1)) / 200]))));
    for (let e = 0; e < 41; e++) channels.push(channel(`export-file:E${e}`, 'export', [vault.filter((_, i) => i % 41 === e && i < 8000), 40 + (e % 5)]));
    const leak = vault.filter((_, i) => i % 8 === 3 && i < 8000).map((id) => found(id, Number(id.slice(1)) / 200, 49));
    expect(leak.length).toBe(1000);
    const ranked = trace({ found: leak, channels, vaultSize: 10_000 });
    expect(ranked[0].key).toBe('ward:3');
    expect(ranked[0].explains).toHaveLength(1000);
  });
  describe('ambiguous contacts (a shared trap number, no name in the message)', () => {
    const amb = (cands: [string, number][], leaked: number): FoundCanary => ({
      id: cands.map(([id]) => id).join('|'),
      plantedAt: day(Math.min(...cands.map(([, p]) => p))),
      seenLeakedAt: day(leaked),
      candidates: cands.map(([id, p]) => ({ id, plantedAt: day(p) })),
    });

    it('treats a contact with one candidate as that canary', () => {
      const channels = [channel('export-file:A', 'export', [ids('a', 10), 1]), channel('export-file:B', 'export', [ids('b', 30), 1])];
      const plain = trace({ found: [found('a0', 0, 9), found('a1', 0, 9)], channels, vaultSize: 500 });
      const single = trace({ found: [found('a0', 0, 9), amb([['a1', 0]], 9)], channels, vaultSize: 500 });
      expect(single.map((s) => [s.key, s.posterior.toFixed(9)])).toEqual(plain.map((s) => [s.key, s.posterior.toFixed(9)]));
    });

    it('splits one ambiguous contact over the channels of its candidates', () => {
      // Two exports of the same size, each with one of the two canaries sharing the number.
      const channels = [channel('export-file:A', 'export', [ids('a', 10), 1]), channel('export-file:B', 'export', [ids('b', 10), 1])];
      const ranked = trace({ found: [amb([['a0', 0], ['b0', 0]], 9)], channels, vaultSize: 500 });
      const [a, b] = ['export-file:A', 'export-file:B'].map((k) => ranked.find((s) => s.key === k)!);
      expect(a.posterior).toBeCloseTo(b.posterior, 9);
      expect(a.posterior).toBeGreaterThan(0.3);
      expect(a.explains).toEqual(['a0|b0']);
    });

    it('names the one channel that explains every ambiguous contact of a leak (size principle over the set)', () => {
      // Export X's canaries x0..x3 share their numbers with canaries of four other exports, one each.
      const others = [0, 1, 2, 3].map((i) => channel(`export-file:Y${i}`, 'export', [ids(`y${i}-`, 10), 2]));
      const channels = [channel('export-file:X', 'export', [ids('x', 10), 1]), ...others];
      const leak = [0, 1, 2, 3].map((i) => amb([[`x${i}`, 0], [`y${i}-0`, 0]], 12));
      const ranked = trace({ found: leak, channels, vaultSize: 500, vaultPlantedAt: Array.from({ length: 500 }, () => day(0)) }, { universe: 600 });
      expect(ranked[0].key).toBe('export-file:X');
      expect(ranked[0].posterior).toBeGreaterThan(0.95);
      expect(ranked[0].explains).toHaveLength(4);
      // Resolved, the same leak is named with more certainty: the set costs the factor 1/2 per contact the others could also explain.
      const resolved = trace({ found: [0, 1, 2, 3].map((i) => found(`x${i}`, 0, 12)), channels, vaultSize: 500, vaultPlantedAt: Array.from({ length: 500 }, () => day(0)) }, { universe: 600 });
      expect(resolved[0].posterior).toBeGreaterThanOrEqual(ranked[0].posterior);
    });

    it('lets a candidate planted after the leak time explain nothing before it', () => {
      // b0 was planted on day 20, after the contact on day 9: only a0 can be the canary.
      const channels = [channel('export-file:A', 'export', [ids('a', 10), 1]), channel('ward:B', 'ward', [ids('b', 10), 20])];
      const ranked = trace({ found: [amb([['a0', 0], ['b0', 20]], 9), found('a1', 0, 9)], channels, vaultSize: 500 });
      expect(ranked[0].key).toBe('export-file:A');
      expect(ranked.find((s) => s.key === 'ward:B')!.posterior).toBe(0);
    });
  });
});
