import { describe, expect, it } from '@jest/globals';
import { codeLength, codeOverlap } from '../../src/exports/plan.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { trace, UNKNOWN_SOURCE, type TraceChannel } from '../../src/trace/model.js';
import {
  binomialTail,
  detectProbability,
  logMergedSurvival,
  logMergedSurvivalNumeric,
  logSurvival,
  symmetricTardosLength,
  tardosLength,
  uniqueDecodeProbability,
} from '../../src/lib/codes.js';
import { codebook, day, decode, exportFile, pairKey, sample, top, VAULT, W7, W8 } from './codebook.js';

// Decoding shared-canary codes: which export (or pair of merged exports) a leak came from, when each
// export holds w canaries of a shared pool. The code's error rates over many simulated leaks are in
// codes.slow.test.ts (the slow tier).

describe('the likelihood of a partial leak', () => {
  it('integrates the leaked fraction out exactly', () => {
    // ∫ q^k (1-q)^(w-k) dq = 1 / ((w+1)·C(w,k))
    expect(Math.exp(logSurvival(8, 8))).toBeCloseTo(1 / 9, 12);
    expect(Math.exp(logSurvival(1, 8))).toBeCloseTo(1 / 72, 12);
    expect(Math.exp(logSurvival(3, 8))).toBeCloseTo(1 / (9 * 56), 12);
    expect(logSurvival(9, 8)).toBe(-Infinity);
    // Over every subset of a source's canaries the probabilities sum to one.
    let total = 0;
    for (let k = 0; k <= 8; k++) total += Math.exp(logSurvival(k, 8)) * [1, 8, 28, 56, 70, 56, 28, 8, 1][k];
    expect(total).toBeCloseTo(1, 12);
  });

  it('scores two merged leaks with their own fractions, the shared canaries lost only from both', () => {
    for (const [a, b, both] of [
      [{ found: 3, size: 6 }, { found: 4, size: 6 }, { found: 1, size: 2 }],
      [{ found: 7, size: 7 }, { found: 0, size: 7 }, { found: 0, size: 1 }],
      [{ found: 2, size: 8 }, { found: 5, size: 8 }, { found: 0, size: 0 }],
    ]) {
      expect(logMergedSurvival(a, b, both)).toBeCloseTo(logMergedSurvivalNumeric(a, b, both, 400), 3);
    }
    // Nothing shared: the two leaks are independent.
    expect(logMergedSurvival({ found: 2, size: 8 }, { found: 5, size: 8 }, { found: 0, size: 0 })).toBeCloseTo(logSurvival(2, 8) + logSurvival(5, 8), 12);
  });

  it('gives the figures docs/codes.md quotes', () => {
    expect(detectProbability(8, 0.5)).toBeCloseTo(1 - 1 / 256, 12);
    expect(binomialTail(8, 0.5, 3)).toBeCloseTo(1 - (1 + 8 + 28) / 256, 12);
    expect(uniqueDecodeProbability(7, 1, 0.5)).toBeCloseTo(1 - 8 / 128, 12);
    expect(symmetricTardosLength(2, 500, 1e-3)).toBe(260);
    expect(tardosLength(2, 500, 1e-3)).toBe(5600);
  });
});

describe('decoding a code export from the canaries found', () => {
  // 50 exports on a pool of 88 (w = 8): the first 121 codewords are lines over GF(11), any two share at most one canary.
  const book = codebook(W8, 50);
  const N = codeLength(W8);

  it('names the export of a full leak', () => {
    for (const e of [book[0], book[17], book[49]]) {
      const ranked = decode(e.code, book, N);
      expect(ranked[0].key).toBe(e.key);
      expect(ranked[0].posterior).toBeGreaterThan(0.99);
      expect(ranked[0].unexplained).toEqual([]);
    }
  });

  it('names the export of a half sample, as soon as two of its canaries are in it', () => {
    const e = book[23];
    const half = e.code.filter((_, i) => i % 2 === 0);
    const ranked = decode(half, book, N);
    expect(ranked[0].key).toBe(e.key);
    expect(ranked[0].posterior).toBeGreaterThan(0.99);
    const rng = createRandom('half');
    let named = 0;
    let decidable = 0;
    for (let trial = 0; trial < 300; trial++) {
      const x = book[rng.int(0, book.length - 1)];
      const found = sample(rng, x.code, 0.5);
      if (found.length >= 2) decidable++;
      const r = decode(found, book, N);
      if (r[0]?.key === x.key && r[0].posterior > 0.99) named++;
      // Never confidently wrong.
      if (r[0] && r[0].key !== x.key) expect(r[0].posterior).toBeLessThan(0.9);
    }
    // Two canaries of one codeword are in no other codeword, so every decidable sample is named.
    expect(named).toBe(decidable);
    expect(named / 300).toBeGreaterThan(0.9); // P(Bin(8, ½) >= 2) = 0.965
  });

  it('does not name an export from one shared canary', () => {
    const c = book[30].code[3];
    const holders = book.filter((e) => e.code.includes(c));
    expect(holders.length).toBeGreaterThan(2);
    const ranked = decode([c], book, N);
    expect(ranked[0].posterior).toBeLessThan(0.5);
    const singles = ranked.filter((r) => !r.parts && r.key !== UNKNOWN_SOURCE);
    expect(singles.map((r) => r.key).sort()).toEqual(holders.map((e) => e.key).sort());
    // Each holder is as likely as any other, and together they are most of the posterior.
    for (const r of singles) expect(r.posterior).toBeCloseTo(singles[0].posterior, 9);
    expect(singles.reduce((sum, r) => sum + r.posterior, 0)).toBeGreaterThan(0.8);
  });

  it('names both exports of a merged leak', () => {
    const [a, b] = [book[4], book[41]];
    const ranked = decode([...new Set([...a.code, ...b.code])], book, N);
    expect(top(ranked)).toBe(pairKey(a.key, b.key));
    expect(ranked[0].posterior).toBeGreaterThan(0.99);
    const rng = createRandom('merge');
    let named = 0;
    for (let trial = 0; trial < 200; trial++) {
      const i = rng.int(0, book.length - 1);
      const j = (i + rng.int(1, book.length - 1)) % book.length;
      const found = [...new Set([...sample(rng, book[i].code, 0.5), ...sample(rng, book[j].code, 0.5)])];
      const r = decode(found, book, N);
      if (top(r) === pairKey(book[i].key, book[j].key) && r[0].posterior > 0.9) named++;
      const right = new Set([book[i].key, book[j].key, pairKey(book[i].key, book[j].key)]);
      if (r[0] && !right.has(top(r)!)) expect(r[0].posterior).toBeLessThan(0.9);
    }
    expect(named / 200).toBeGreaterThan(0.75);
  });

  it('keeps a private canary decisive, and scores seeded canaries in a code export file as before', () => {
    const privateExport = exportFile('export-file:p', ['p1'], undefined, 19);
    const ranked = decode(['p1'], book, N + 20, [privateExport]);
    expect(ranked[0].key).toBe('export-file:p');
    expect(ranked[0].posterior).toBeGreaterThan(0.99);
    // A code export's file also carried two seeded canaries; the system they were seeded into saw 1000.
    const e = book[8];
    const half = e.code.slice(0, 4);
    const withSeeded = exportFile(e.key, ['s1', 's2'], e.code);
    const his: TraceChannel = { key: 'channel:his', kind: 'system', seen: new Map(['s1', 's2', ...Array.from({ length: 998 }, (_, i) => `h${i}`)].map((id) => [id, day(0)])) };
    const others = book.filter((x) => x !== e && x.code.some((c) => half.includes(c))).map((x) => exportFile(x.key, x.code, x.code));
    const found = ['s1', 's2', ...half];
    const r = trace({ found: found.map((id) => ({ id, plantedAt: day(0), seenLeakedAt: day(10) })), channels: [withSeeded, his, ...others], vaultSize: VAULT }, { universe: book.length + 1 });
    expect(r[0].key).toBe(e.key);
    expect(r[0].posterior).toBeGreaterThan(0.99);
  });

  it('decodes the default code (w = 7 over GF(7)) the same way', () => {
    const book7 = codebook(W7, 60); // past 49: quadratics, sharing up to two canaries
    expect(codeOverlap(W7, 49)).toBe(1);
    expect(codeOverlap(W7, 60)).toBe(2);
    const rng = createRandom('w7');
    let decidable = 0;
    for (let trial = 0; trial < 100; trial++) {
      const x = book7[rng.int(0, book7.length - 1)];
      const found = sample(rng, x.code, 0.6);
      if (found.length < 3) continue; // two canaries may be shared with another codeword past 49
      decidable++;
      const r = decode(found, book7, codeLength(W7));
      expect(r[0].key).toBe(x.key);
      expect(r[0].posterior).toBeGreaterThan(0.99);
    }
    // Most samples of 60% of seven canaries hold three or more: the check above ran on them.
    expect(decidable).toBeGreaterThan(50);
  });

});
