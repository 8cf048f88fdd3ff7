// The chi-square test of homogeneity (are two samples drawn from one categorical distribution?) and
// total-variation distance, with the chi-square survival function from the regularized incomplete
// gamma function (Numerical Recipes, 3rd ed., §6.2: series below a+1, continued fraction above).

function logGamma(x: number): number {
  // Lanczos, g = 7, n = 9: 15 significant digits for x > 0.
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let s = c[0];
  for (let i = 1; i < 9; i++) s += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** Q(a, x) = Γ(a, x)/Γ(a): the upper regularized incomplete gamma function. */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const gln = logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let del = sum;
    for (let ap = a, n = 0; n < 1000; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-15) break;
    }
    return Math.max(0, 1 - sum * Math.exp(-x + a * Math.log(x) - gln));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return Math.min(1, Math.exp(-x + a * Math.log(x) - gln) * h);
}

/** P(χ²_df ≥ x). */
export function chiSquareSf(x: number, df: number): number {
  if (df <= 0) return 1;
  return gammaQ(df / 2, x / 2);
}

export interface ChiSquareResult {
  statistic: number;
  df: number;
  p: number;
  /** Categories compared after pooling the rare ones. */
  categories: number;
}

/**
 * Homogeneity of two count vectors over the same categories (a 2×k table). Categories whose expected
 * count is under `minExpected` in either row are pooled into one (Cochran's rule), so the test stays valid.
 */
export function chiSquareHomogeneity(a: readonly number[], b: readonly number[], minExpected = 5): ChiSquareResult {
  const na = a.reduce((s, v) => s + v, 0);
  const nb = b.reduce((s, v) => s + v, 0);
  const total = na + nb;
  if (na === 0 || nb === 0) return { statistic: 0, df: 0, p: 1, categories: 0 };
  const cells: [number, number][] = [];
  let pooled: [number, number] = [0, 0];
  for (let i = 0; i < a.length; i++) {
    const col = a[i] + b[i];
    if (col === 0) continue;
    const small = Math.min((col * na) / total, (col * nb) / total) < minExpected;
    if (small) pooled = [pooled[0] + a[i], pooled[1] + b[i]];
    else cells.push([a[i], b[i]]);
  }
  if (pooled[0] + pooled[1] > 0) cells.push(pooled);
  if (cells.length < 2) return { statistic: 0, df: 0, p: 1, categories: cells.length };
  let statistic = 0;
  for (const [x, y] of cells) {
    const col = x + y;
    const ea = (col * na) / total;
    const eb = (col * nb) / total;
    statistic += (x - ea) ** 2 / ea + (y - eb) ** 2 / eb;
  }
  const df = cells.length - 1;
  return { statistic, df, p: chiSquareSf(statistic, df), categories: cells.length };
}

/** ½ Σ |p_i − q_i| of the two count vectors' proportions: 0 for one distribution, 1 for disjoint ones. */
export function totalVariation(a: readonly number[], b: readonly number[]): number {
  const na = a.reduce((s, v) => s + v, 0);
  const nb = b.reduce((s, v) => s + v, 0);
  if (na === 0 || nb === 0) return 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] / na - b[i] / nb);
  return sum / 2;
}
