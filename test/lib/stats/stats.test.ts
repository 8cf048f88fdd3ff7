import { describe, expect, it } from '@jest/globals';
import { aucWithCi, hanleyMcNeilSe } from '../../../src/lib/stats/auc.js';
import { crossValidate, fitBoost, predictBoost, stratifiedFolds } from '../../../src/lib/stats/boost.js';
import { chiSquareHomogeneity, chiSquareSf, totalVariation } from '../../../src/lib/stats/chisq.js';
import { kolmogorovQ, ksTwoSample } from '../../../src/lib/stats/ks.js';
import { createRandom } from '../../../src/lib/generate/index.js';

// Reference figures: scipy 1.17 (scipy.special.kolmogorov, scipy.stats.ks_2samp, chi2.sf,
// chi2_contingency), the chi-square table's critical values, and AUCs and DeLong variances worked by hand.

describe('Kolmogorov–Smirnov', () => {
  it('Q_KS matches scipy.special.kolmogorov and the textbook critical values', () => {
    expect(kolmogorovQ(0.5)).toBeCloseTo(0.9639452436648751, 10);
    expect(kolmogorovQ(1.0)).toBeCloseTo(0.26999967167735456, 10);
    expect(kolmogorovQ(1.36)).toBeCloseTo(0.049485876755377876, 10); // the 5% critical value 1.36
    expect(kolmogorovQ(1.628)).toBeCloseTo(0.009975522431181053, 10); // the 1% critical value 1.63
    expect(kolmogorovQ(2.0)).toBeCloseTo(0.0006709252557796953, 12);
    expect(kolmogorovQ(0)).toBe(1);
  });

  it('two samples: D as scipy.stats.ks_2samp, p as Numerical Recipes (close to scipy exact)', () => {
    const a = [0.61, 0.29, 0.06, 0.59, -1.73, -0.74, 0.51, -0.56, 0.39, 1.64, 0.05, -0.06, 0.64, -0.82, 0.37, 1.77, 1.09, -1.28, 2.36, 1.31, 1.05, -0.32, -0.4, 1.06, -2.47];
    const b = [2.2, 1.66, 1.38, 0.2, 0.36, 0, 0.96, 1.56, 0.44, 1.5, -0.3, 0.66, 2.31, 3.29, -0.27, -0.37, 0.38, 0.7, 0.52, -0.71];
    const r = ksTwoSample(a, b);
    expect(r.d).toBeCloseTo(0.23, 12);
    expect(r.p).toBeCloseTo(0.5411245537216745, 8); // kolmogorov((√nₑ+0.12+0.11/√nₑ)·D)
    expect(Math.abs(r.p - 0.5286364448145011)).toBeLessThan(0.02); // scipy's exact p-value
  });

  it('ties and identical samples: D 0, p 1; disjoint samples: D 1', () => {
    expect(ksTwoSample([1, 1, 2, 2], [1, 2, 1, 2])).toMatchObject({ d: 0, p: 1 });
    const r = ksTwoSample([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(r.d).toBe(1);
    expect(r.p).toBeLessThan(1e-3);
  });
});

describe('chi-square', () => {
  it('survival function matches the table (α = 0.05, 0.01) and scipy', () => {
    expect(chiSquareSf(3.841, 1)).toBeCloseTo(0.050013683763956804, 9);
    expect(chiSquareSf(5.991, 2)).toBeCloseTo(0.05001161502657909, 9);
    expect(chiSquareSf(11.07, 5)).toBeCloseTo(0.050009618622405425, 9);
    expect(chiSquareSf(6.635, 1)).toBeCloseTo(0.009999419574042536, 9);
    expect(chiSquareSf(30, 10)).toBeCloseTo(0.000856641210775301, 10);
    expect(chiSquareSf(0.5, 3)).toBeCloseTo(0.9188914116546758, 9);
  });

  it('homogeneity of a 2×3 table as scipy.stats.chi2_contingency (no correction)', () => {
    const r = chiSquareHomogeneity([20, 30, 50], [30, 30, 40]);
    expect(r.statistic).toBeCloseTo(3.1111111111111107, 10);
    expect(r.df).toBe(2);
    expect(r.p).toBeCloseTo(0.21107208779109024, 9);
  });

  it('pools categories with small expected counts', () => {
    const r = chiSquareHomogeneity([50, 50, 1, 1], [50, 50, 0, 2]);
    expect(r.categories).toBe(3);
    expect(r.df).toBe(2);
  });

  it('total variation: 0 for one distribution, 1 for disjoint ones, ½Σ|p−q| between', () => {
    expect(totalVariation([1, 2, 3], [2, 4, 6])).toBeCloseTo(0, 12);
    expect(totalVariation([5, 0], [0, 7])).toBe(1);
    expect(totalVariation([1, 1], [3, 1])).toBeCloseTo(0.25, 12);
  });
});

describe('ROC AUC with a confidence interval', () => {
  it('AUC and DeLong SE of a small list worked by hand', () => {
    // Positives 0.9, 0.8, 0.4; negatives 0.7, 0.3, 0.2. Placements V10 = 1, 1, 2/3; V01 = 2/3, 1, 1.
    // AUC = 8/9; var(V10) = var(V01) = 1/27 (n−1 denominators); SE² = 1/27/3 + 1/27/3 = 2/81.
    const r = aucWithCi([0.9, 0.8, 0.4, 0.7, 0.3, 0.2], [true, true, true, false, false, false]);
    expect(r.auc).toBeCloseTo(8 / 9, 12);
    expect(r.se).toBeCloseTo(Math.sqrt(2) / 9, 12);
    expect(r.low).toBeCloseTo(8 / 9 - 1.959963984540054 * (Math.sqrt(2) / 9), 10);
    expect(r.high).toBe(1);
  });

  it('ties count one half; a perfect ranking is 1 and its reverse 0', () => {
    expect(aucWithCi([1, 1, 1, 1], [true, false, true, false]).auc).toBe(0.5);
    // Positives 2, 1; negatives 1, 0: pairs (2>1)(2>0)(1=1)(1>0) = 3.5 of 4.
    expect(aucWithCi([2, 1, 1, 0], [true, true, false, false]).auc).toBeCloseTo(0.875, 12);
    expect(aucWithCi([3, 4, 1, 2], [true, true, false, false]).auc).toBe(1);
    expect(aucWithCi([1, 2, 3, 4], [true, true, false, false]).auc).toBe(0);
  });

  it('Hanley–McNeil SE for A = 0.8 with 50 and 50, worked by hand', () => {
    // Q1 = 0.8/1.2 = 2/3, Q2 = 1.28/1.8 = 32/45; SE² = (0.16 + 49·(2/3 − 0.64) + 49·(32/45 − 0.64))/2500 = 4.951111/2500.
    expect(hanleyMcNeilSe(0.8, 50, 50)).toBeCloseTo(Math.sqrt(4.951111111111111 / 2500), 10);
    expect(hanleyMcNeilSe(0.8, 50, 50)).toBeCloseTo(0.0445, 4);
  });

  it('DeLong and Hanley–McNeil agree on a large binormal sample', () => {
    const rng = createRandom('binormal');
    const scores: number[] = [];
    const labels: boolean[] = [];
    for (let i = 0; i < 2000; i++) {
      const pos = i % 2 === 0;
      scores.push(rng.normal(pos ? 1 : 0, 1));
      labels.push(pos);
    }
    const r = aucWithCi(scores, labels);
    // Binormal with d′ = 1: AUC = Φ(1/√2) = 0.7602.
    expect(Math.abs(r.auc - 0.7602)).toBeLessThan(0.03);
    expect(Math.abs(r.se - hanleyMcNeilSe(r.auc, 1000, 1000)) / r.se).toBeLessThan(0.15);
  });
});

describe('boosted stumps and cross-validation', () => {
  function sample(n: number, shift: number, seed: string): { x: number[][]; y: boolean[] } {
    const rng = createRandom(seed);
    const x: number[][] = [];
    const y: boolean[] = [];
    for (let i = 0; i < n; i++) {
      const pos = i % 5 === 0;
      // Feature 0 carries the signal (a shift for positives), 1 is noise, 2 is missing half the time.
      x.push([rng.normal(pos ? shift : 0, 1), rng.normal(0, 1), rng.chance(0.5) ? NaN : rng.next()]);
      y.push(pos);
    }
    return { x, y };
  }

  it('stratified folds keep each class spread evenly', () => {
    const labels = Array.from({ length: 103 }, (_, i) => i % 10 === 0);
    const folds = stratifiedFolds(labels, 5, 's');
    for (let f = 0; f < 5; f++) {
      const pos = labels.filter((l, i) => l && folds[i] === f).length;
      expect(pos === 2 || pos === 3).toBe(true);
    }
  });

  it('separates a shifted class and finds the feature that does', () => {
    const { x, y } = sample(1000, 3, 'shift');
    const cv = crossValidate(x, y, 5, 'cv');
    expect(aucWithCi(cv.scores, y).auc).toBeGreaterThan(0.95);
    expect(cv.importance[0]).toBeGreaterThan(0.8);
  });

  it('finds a tell carried by missingness alone', () => {
    const rng = createRandom('nulls');
    const y = Array.from({ length: 600 }, (_, i) => i % 4 === 0);
    const x = y.map((pos) => [pos ? NaN : rng.next(), rng.next()]);
    const model = fitBoost(x, y, y.map(() => 1));
    expect(predictBoost(model, [NaN, 0.5])).toBeGreaterThan(predictBoost(model, [0.5, 0.5]));
  });

  it('cross-validated AUC stays near 0.5 when the classes do not differ', () => {
    const { x, y } = sample(1000, 0, 'same');
    const r = aucWithCi(crossValidate(x, y, 5, 'cv').scores, y);
    expect(r.auc).toBeLessThan(0.6);
    expect(r.low).toBeLessThan(0.5);
  });
});
