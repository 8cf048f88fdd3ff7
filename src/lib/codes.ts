// The arithmetic of shared-canary codes (docs/codes.md), pure logic.
//
// An export holding a codeword of w shared canaries leaks as a fraction of its rows: each of its w
// canaries survives independently with the same probability q. The fraction is not known, so it is
// integrated out under a uniform prior:
//   P(k given canaries found, the other w - k not | export) = ∫ q^k (1-q)^(w-k) dq = B(k+1, w-k+1)
//                                                            = 1 / ((w+1)·C(w,k)).
// A full leak (k = w) has probability 1/(w+1); a single canary 1/((w+1)·w). The code is what decides:
// two codewords share at most t canaries, so t + 1 found canaries of one export are in no other.
//
// Two leaks merged into one file, each with its own fraction (q_a, q_b): a canary both exports hold
// survives unless it is lost from both, 1 - (1-q_a)(1-q_b). With k_a of the n_a canaries only A holds,
// k_b of the n_b only B holds, and s of the t both hold found:
//   ∫∫ q_a^k_a (1-q_a)^(n_a-k_a) q_b^k_b (1-q_b)^(n_b-k_b) (1-(1-q_a)(1-q_b))^s ((1-q_a)(1-q_b))^(t-s)
//   = Σ_{j=0..s} C(s,j) (-1)^j B(k_a+1, n_a-k_a+t-s+j+1) B(k_b+1, n_b-k_b+t-s+j+1)
// (expanding (1 - X)^s with X = (1-q_a)(1-q_b)), exact and short since s <= t is small for a code.

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; about 15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

export function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/** ln P(exactly these k of a source's n canaries found | a leak of it), the fraction q uniform: ln B(k+1, n-k+1). */
export function logSurvival(found: number, size: number): number {
  if (found < 0 || found > size) return -Infinity;
  return logBeta(found + 1, size - found + 1);
}

export interface Part {
  /** Canaries found. */
  found: number;
  /** Canaries in the part. */
  size: number;
}

/**
 * ln P(these canaries found | two merged leaks of A and B, each with its own uniform fraction):
 * `onlyA`, `onlyB` are the canaries one export holds, `both` those they share.
 */
export function logMergedSurvival(onlyA: Part, onlyB: Part, both: Part): number {
  const lost = both.size - both.found;
  const terms: { log: number; sign: number }[] = [];
  for (let j = 0; j <= both.found; j++) {
    terms.push({
      log: logChoose(both.found, j) + logBeta(onlyA.found + 1, onlyA.size - onlyA.found + lost + j + 1) + logBeta(onlyB.found + 1, onlyB.size - onlyB.found + lost + j + 1),
      sign: j % 2 ? -1 : 1,
    });
  }
  const max = Math.max(...terms.map((t) => t.log));
  const sum = terms.reduce((s, t) => s + t.sign * Math.exp(t.log - max), 0);
  // The alternating sum is exact in theory; past a few shared canaries rounding could eat it, so
  // integrate numerically instead.
  if (both.found <= 8 && sum > 1e-9) return max + Math.log(sum);
  return logMergedSurvivalNumeric(onlyA, onlyB, both);
}

/** The same integral by the midpoint rule on a 200 × 200 grid, in logs. */
export function logMergedSurvivalNumeric(onlyA: Part, onlyB: Part, both: Part, steps = 200): number {
  const logs = new Float64Array(steps * steps);
  let max = -Infinity;
  for (let i = 0; i < steps; i++) {
    const qa = (i + 0.5) / steps;
    for (let j = 0; j < steps; j++) {
      const qb = (j + 0.5) / steps;
      const lostBoth = (1 - qa) * (1 - qb);
      const l =
        onlyA.found * Math.log(qa) + (onlyA.size - onlyA.found) * Math.log(1 - qa) +
        onlyB.found * Math.log(qb) + (onlyB.size - onlyB.found) * Math.log(1 - qb) +
        both.found * Math.log(1 - lostBoth) + (both.size - both.found) * Math.log(lostBoth);
      logs[i * steps + j] = l;
      if (l > max) max = l;
    }
  }
  let sum = 0;
  for (const l of logs) sum += Math.exp(l - max);
  return max + Math.log(sum / (steps * steps));
}

/** P(X >= k) for X ~ Binomial(n, q). */
export function binomialTail(n: number, q: number, k: number): number {
  let p = 0;
  for (let i = Math.max(0, k); i <= n; i++) p += Math.exp(logChoose(n, i) + (i ? i * Math.log(q) : 0) + (n - i ? (n - i) * Math.log(1 - q) : 0));
  return Math.min(1, p);
}

/** Probability that a leak of a fraction q of one file holds any of its w canaries: 1 - (1-q)^w. */
export function detectProbability(weight: number, q: number): number {
  return 1 - (1 - q) ** weight;
}

/**
 * Probability that a leak of a fraction q of one code export holds at least t + 1 of its w canaries,
 * so that no other codeword (sharing at most t with it) holds them all: the export is then named
 * without a tie, whatever the other exports are. A lower bound on decoding right; ties below it are
 * broken only where no other export holds the canaries found.
 */
export function uniqueDecodeProbability(weight: number, overlap: number, q: number): number {
  return binomialTail(weight, q, overlap + 1);
}

/**
 * Symmetric Tardos code length for c colluders among n users with error ε, in the asymptotic form
 * m ≈ (π²/2)·c²·ln(n/ε) (Škorić et al.; Laarhoven and de Weger): a Tardos code in canaries needs m of them.
 */
export function symmetricTardosLength(colluders: number, users: number, error: number): number {
  return Math.ceil((Math.PI ** 2 / 2) * colluders ** 2 * Math.log(users / error));
}

/** Tardos's original length, 100·c²·⌈ln(n/ε)⌉. */
export function tardosLength(colluders: number, users: number, error: number): number {
  return 100 * colluders ** 2 * Math.ceil(Math.log(users / error));
}
