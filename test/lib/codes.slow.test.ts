import { describe, expect, it } from '@jest/globals';
import { codeCapacity, codeLength, codeOverlap, type CodeSpec } from '../../src/exports/plan.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { detectProbability, uniqueDecodeProbability } from '../../src/lib/codes.js';
import { codebook, decode, pairKey, sample, top, W7, W8 } from './codebook.js';

// The slow tier (npm run test:slow): the code's error rates over thousands of simulated leaks, against
// the bounds docs/codes.md states. CRADLE_CODE_TABLE=1 prints the figures of docs/codes.md (4,000
// trials a cell); a bigger number is the trials.

/**
 * Rates over random leaks: one export's file sampled with fraction q, or two exports' files each
 * sampled with q and merged. "named": the right export (or pair) first with posterior >= 0.9;
 * "framed": a wrong single export first with posterior >= 0.9; "wrongPair": a pair that is not the
 * right one first with posterior >= 0.9.
 */
function rates(spec: CodeSpec, n: number, q: number, trials: number, merged: boolean, seed: string) {
  const book = codebook(spec, n);
  const rng = createRandom(seed);
  let named = 0;
  let framed = 0;
  let wrongPair = 0;
  for (let t = 0; t < trials; t++) {
    const i = rng.int(0, n - 1);
    const j = merged ? (i + rng.int(1, n - 1)) % n : i;
    const found = [...new Set([...sample(rng, book[i].code, q), ...(merged ? sample(rng, book[j].code, q) : [])])];
    if (found.length === 0) continue;
    const r = decode(found, book, codeLength(spec));
    const right = merged ? pairKey(book[i].key, book[j].key) : book[i].key;
    if (r[0].posterior < 0.9) continue;
    if (top(r) === right) named++;
    else if (r[0].parts) wrongPair++;
    else if (r[0].key !== book[i].key && r[0].key !== book[j].key) framed++;
  }
  return { named: named / trials, framed: framed / trials, wrongPair: wrongPair / trials };
}

describe('error rates of the code', () => {
  // CRADLE_CODE_TABLE=1 prints the table with 4000 trials a cell; a bigger number is the trials.
  const printTable = !!process.env.CRADLE_CODE_TABLE;
  const asked = Number(process.env.CRADLE_CODE_TABLE);
  const trials = !printTable ? 200 : asked > 1 ? asked : 4000;
  /** Three standard deviations of a simulated rate around p. */
  const slack = (p: number) => 3 * Math.sqrt((p * (1 - p)) / trials) + 1e-9;

  it('names single and merged leaks as often as the overlap bound says, and frames only small merged slices', () => {
    const lines: string[] = [];
    for (const [spec, n] of [[W7, 49], [W7, 343], [W8, 121], [W8, 500]] as const) {
      for (const q of [1, 0.5, 0.25, 0.1]) {
        const single = rates(spec, n, q, trials, false, `single:${n}:${q}`);
        const pair = rates(spec, n, q, trials, true, `pair:${n}:${q}`);
        const t = codeOverlap(spec, n);
        // t + 1 canaries of one codeword are in no other: the export is named whatever else was exported.
        const bound = uniqueDecodeProbability(spec.weight, t, q);
        expect(single.named).toBeGreaterThanOrEqual(bound - slack(bound));
        expect(single.framed + single.wrongPair).toBe(0);
        // A third export holds every canary of a merge only if at most t came from each of the two.
        const frameable = (1 - bound) ** 2;
        expect(pair.framed).toBeLessThanOrEqual(frameable + slack(frameable));
        if (q === 1) expect(pair).toEqual({ named: 1, framed: 0, wrongPair: 0 }); // 2t < w: no third codeword lies in the union of two
        const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
        lines.push(
          `| ${spec.weight} | ${codeLength(spec)} | ${n} | ${t} | ${q} | ${pct(detectProbability(spec.weight, q))} | ${pct(bound)} | ${pct(single.named)} | ${pct(pair.named)} | ${pct(pair.framed)} | ${pct(pair.wrongPair)} |`,
        );
      }
    }
    expect(codeCapacity(W7)).toBe(343);
    expect(codeCapacity(W8)).toBe(1331);
    if (printTable) {
      console.log(['| w | L | exports | t | q | ≥1 found | t+1 found | single named | pair named | pair: third framed | pair: wrong pair |', '|---|---|---|---|---|---|---|---|---|---|---|', ...lines].join('\n'));
    }
  });
});
