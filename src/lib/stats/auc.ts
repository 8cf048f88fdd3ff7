// ROC AUC of scores against labels (the Mann–Whitney form: ties count one half) and its confidence
// interval: DeLong's variance (DeLong, DeLong & Clarke-Pearson 1988; the structural components of
// Sun & Xu 2014) or Hanley & McNeil's (1982) approximation.

export interface AucResult {
  auc: number;
  /** Standard error (DeLong). */
  se: number;
  /** 95% interval, clamped to [0, 1]. */
  low: number;
  high: number;
  positives: number;
  negatives: number;
}

/** Midranks of `values` (1-based, ties share their average rank). */
function midranks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]] === values[order[i]]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}

/** AUC with DeLong's standard error and 95% interval. `labels[i]` true marks a positive (a canary). */
export function aucWithCi(scores: readonly number[], labels: readonly boolean[], z = 1.959963984540054): AucResult {
  const pos = scores.filter((_, i) => labels[i]);
  const neg = scores.filter((_, i) => !labels[i]);
  const m = pos.length;
  const n = neg.length;
  if (m === 0 || n === 0) return { auc: 0.5, se: 0, low: 0, high: 1, positives: m, negatives: n };
  // Fast DeLong: placement values from midranks within each class and overall.
  const all = midranks([...pos, ...neg]);
  const rp = midranks(pos);
  const rn = midranks(neg);
  const v10 = pos.map((_, i) => (all[i] - rp[i]) / n); // share of negatives below each positive
  const v01 = neg.map((_, j) => 1 - (all[m + j] - rn[j]) / m); // share of positives above each negative
  const auc = v10.reduce((s, v) => s + v, 0) / m;
  const variance = (xs: number[]) => {
    if (xs.length < 2) return 0;
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    return xs.reduce((s, v) => s + (v - mean) ** 2, 0) / (xs.length - 1);
  };
  const se = Math.sqrt(variance(v10) / m + variance(v01) / n);
  return { auc, se, low: Math.max(0, auc - z * se), high: Math.min(1, auc + z * se), positives: m, negatives: n };
}

/** Hanley & McNeil's standard error of an AUC `a` from m positives and n negatives. */
export function hanleyMcNeilSe(a: number, m: number, n: number): number {
  const q1 = a / (2 - a);
  const q2 = (2 * a * a) / (1 + a);
  return Math.sqrt((a * (1 - a) + (m - 1) * (q1 - a * a) + (n - 1) * (q2 - a * a)) / (m * n));
}
