// A small classifier: gradient-boosted decision stumps on the logistic loss (Friedman 2001), on
// features binned once into at most MAX_BINS quantile bins, with a bin of its own for a missing value
// (NaN). Each round fits one stump, on one feature, with a Newton step in each of its three leaves
// (≤ threshold, > threshold, missing). Plain code, no dependency: enough to find any per-field or
// engineered tell a thief would, and quick on a few thousand rows.

import { createRandom } from '../generate/random.js';

export const MAX_BINS = 32;

export interface BoostOptions {
  rounds?: number;
  learningRate?: number;
  /** Smallest total hessian a leaf may hold (regularises rare bins). */
  minLeafHessian?: number;
  /** L2 penalty on the leaf values. */
  lambda?: number;
}

export interface Stump {
  feature: number;
  /** Values ≤ threshold go left; NaN goes to the missing leaf. */
  threshold: number;
  left: number;
  right: number;
  missing: number;
}

export interface BoostModel {
  bias: number;
  stumps: Stump[];
  /** How much each feature's splits reduced the loss, summed over rounds. */
  gain: number[];
}

/** Bin edges of one feature column: up to MAX_BINS − 1 distinct quantile cut points. */
export function binEdges(values: readonly number[]): number[] {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const edges: number[] = [];
  for (let b = 1; b < MAX_BINS; b++) {
    const v = sorted[Math.min(sorted.length - 1, Math.floor((b * sorted.length) / MAX_BINS))];
    if (edges.length === 0 || v > edges[edges.length - 1]) edges.push(v);
  }
  // A cut at the maximum separates nothing.
  while (edges.length && edges[edges.length - 1] >= sorted[sorted.length - 1]) edges.pop();
  return edges;
}

/** Bin index of `v` against `edges` (v ≤ edges[k] → bin k, else the last); MAX_BINS for NaN. */
function binOf(v: number, edges: readonly number[]): number {
  if (Number.isNaN(v)) return MAX_BINS;
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= edges[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * Fit on rows `x` (features as numbers, NaN for missing) with labels `y`; `weight` per row (e.g. to
 * balance the classes). Edges come from the training rows only.
 */
export function fitBoost(x: readonly (readonly number[])[], y: readonly boolean[], weight: readonly number[], options: BoostOptions = {}): BoostModel {
  const rounds = options.rounds ?? 120;
  const rate = options.learningRate ?? 0.1;
  const minLeaf = options.minLeafHessian ?? 1;
  const lambda = options.lambda ?? 1;
  const n = x.length;
  const p = n ? x[0].length : 0;
  const edges: number[][] = [];
  const bins: Uint8Array[] = [];
  for (let f = 0; f < p; f++) {
    const column = x.map((r) => r[f]);
    const e = binEdges(column);
    edges.push(e);
    bins.push(Uint8Array.from(column, (v) => binOf(v, e)));
  }
  const wPos = y.reduce((s, v, i) => s + (v ? weight[i] : 0), 0);
  const wAll = weight.reduce((s, v) => s + v, 0);
  const prior = Math.min(Math.max(wPos / Math.max(wAll, 1e-12), 1e-6), 1 - 1e-6);
  const bias = Math.log(prior / (1 - prior));
  const margin = new Float64Array(n).fill(bias);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const stumps: Stump[] = [];
  const gain = new Array<number>(p).fill(0);
  const G = new Float64Array(MAX_BINS + 1);
  const H = new Float64Array(MAX_BINS + 1);
  const score = (gs: number, hs: number) => (gs * gs) / (hs + lambda);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < n; i++) {
      const q = sigmoid(margin[i]);
      g[i] = weight[i] * (q - (y[i] ? 1 : 0));
      h[i] = weight[i] * Math.max(q * (1 - q), 1e-6);
    }
    let best: { f: number; k: number; gain: number; gl: number; hl: number; gr: number; hr: number; gm: number; hm: number } | null = null;
    for (let f = 0; f < p; f++) {
      G.fill(0);
      H.fill(0);
      const b = bins[f];
      for (let i = 0; i < n; i++) {
        G[b[i]] += g[i];
        H[b[i]] += h[i];
      }
      const gm = G[MAX_BINS];
      const hm = H[MAX_BINS];
      let gt = 0;
      let ht = 0;
      for (let k = 0; k < MAX_BINS; k++) {
        gt += G[k];
        ht += H[k];
      }
      const parent = score(gt + gm, ht + hm);
      let gl = 0;
      let hl = 0;
      // k = edges.length is "everything present on the left": a split on missing alone.
      for (let k = 0; k <= edges[f].length; k++) {
        gl += G[k];
        hl += H[k];
        const gr = gt - gl;
        const hr = ht - hl;
        if (hl < minLeaf && k < edges[f].length) continue;
        if (hr < minLeaf && hr > 0) continue;
        const split = score(gl, hl) + score(gr, hr) + score(gm, hm) - parent;
        if (!best || split > best.gain) best = { f, k, gain: split, gl, hl, gr, hr, gm, hm };
      }
    }
    if (!best || best.gain <= 1e-12) break;
    const leaf = (gs: number, hs: number) => (hs > 0 ? (-rate * gs) / (hs + lambda) : 0);
    const stump: Stump = {
      feature: best.f,
      threshold: best.k < edges[best.f].length ? edges[best.f][best.k] : Infinity,
      left: leaf(best.gl, best.hl),
      right: leaf(best.gr, best.hr),
      missing: leaf(best.gm, best.hm),
    };
    stumps.push(stump);
    gain[best.f] += best.gain;
    for (let i = 0; i < n; i++) margin[i] += stumpValue(stump, x[i][best.f]);
  }
  return { bias, stumps, gain };
}

function stumpValue(s: Stump, v: number): number {
  if (Number.isNaN(v)) return s.missing;
  return v <= s.threshold ? s.left : s.right;
}

/** The model's log-odds for one row. */
export function predictBoost(model: BoostModel, row: readonly number[]): number {
  let m = model.bias;
  for (const s of model.stumps) m += stumpValue(s, row[s.feature]);
  return m;
}

/** Stratified k folds: each row's fold number, positives and negatives spread evenly, shuffled by `seed`. */
export function stratifiedFolds(labels: readonly boolean[], k: number, seed: string): number[] {
  const rng = createRandom(seed);
  const folds = new Array<number>(labels.length);
  for (const cls of [true, false]) {
    const idx = labels.map((l, i) => (l === cls ? i : -1)).filter((i) => i >= 0);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    idx.forEach((row, r) => (folds[row] = r % k));
  }
  return folds;
}

export interface CrossValidated {
  /** Out-of-fold log-odds of every row. */
  scores: number[];
  /** Each feature's share of the splits' gain, averaged over the folds (sums to 1, or all 0). */
  importance: number[];
}

/**
 * k-fold stratified cross-validation of fitBoost: every row is scored by a model that never saw it.
 * Classes are weighted to equal total weight in training.
 */
export function crossValidate(x: readonly (readonly number[])[], y: readonly boolean[], k: number, seed: string, options: BoostOptions = {}): CrossValidated {
  const folds = stratifiedFolds(y, k, seed);
  const scores = new Array<number>(x.length).fill(0);
  const p = x.length ? x[0].length : 0;
  const importance = new Array<number>(p).fill(0);
  for (let fold = 0; fold < k; fold++) {
    const train = x.map((_, i) => i).filter((i) => folds[i] !== fold);
    const pos = train.filter((i) => y[i]).length;
    const neg = train.length - pos;
    if (pos === 0 || neg === 0) continue;
    const w = train.map((i) => (y[i] ? train.length / (2 * pos) : train.length / (2 * neg)));
    const model = fitBoost(train.map((i) => x[i]), train.map((i) => y[i]), w, options);
    const total = model.gain.reduce((s, v) => s + v, 0);
    if (total > 0) model.gain.forEach((v, f) => (importance[f] += v / total / k));
    for (let i = 0; i < x.length; i++) if (folds[i] === fold) scores[i] = predictBoost(model, x[i]);
  }
  return { scores, importance };
}
