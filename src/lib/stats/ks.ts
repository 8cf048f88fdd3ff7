// The two-sample Kolmogorov–Smirnov test: D, the largest gap between the two empirical distribution
// functions, and its p-value from the asymptotic Kolmogorov distribution with Stephens' small-sample
// correction (Numerical Recipes, 3rd ed., §14.3.3: λ = (√nₑ + 0.12 + 0.11/√nₑ)·D, nₑ = n·m/(n+m)).

/** Q_KS(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}: the probability that the scaled statistic exceeds λ. */
export function kolmogorovQ(lambda: number): number {
  if (!(lambda > 0)) return 1;
  if (lambda < 0.2) return 1; // the series converges slowly here and the value is 1 to 9 places
  let sum = 0;
  let previous = 0;
  for (let k = 1; k <= 200; k++) {
    const term = (k % 2 === 1 ? 2 : -2) * Math.exp(-2 * k * k * lambda * lambda);
    sum += term;
    if (Math.abs(term) <= 1e-12 * Math.abs(sum) || Math.abs(term) <= 1e-300 || Math.abs(term) === Math.abs(previous)) break;
    previous = term;
  }
  return Math.min(1, Math.max(0, sum));
}

export interface KsResult {
  /** sup |F_a − F_b|. */
  d: number;
  p: number;
  n: number;
  m: number;
}

/** D and its p-value for two samples (NaN values are left out). */
export function ksTwoSample(a: readonly number[], b: readonly number[]): KsResult {
  const x = a.filter((v) => !Number.isNaN(v)).sort((p, q) => p - q);
  const y = b.filter((v) => !Number.isNaN(v)).sort((p, q) => p - q);
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) return { d: 0, p: 1, n, m };
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const v = Math.min(x[i], y[j]);
    while (i < n && x[i] === v) i++;
    while (j < m && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  const ne = Math.sqrt((n * m) / (n + m));
  return { d, p: kolmogorovQ((ne + 0.12 + 0.11 / ne) * d), n, m };
}
