// Which source explains the canaries found in a leak: a small explicit model, pure logic.
// (The full trace model, with access logs and time windows, is a later capability.)
//
// A source s (an export file, or a channel such as system:his or ward:NICU) saw n_s canaries. A leak
// from s is a sample of what s saw, so each found canary is one of s's canaries: probability 1/n_s if
// s saw it; if it did not, the canary reached the file some other way (a false match, or a second leak
// merged in), with probability ε, and is any of the vault's N canaries:
//   P(found | s) = (1/n_s)^k · (ε/N)^(m - k)      k = found canaries s saw, m = all found canaries.
// This "size principle" favours the smallest source that explains everything: a canary of a private
// export (n_s of a few hundred at most) is decisive against a channel that saw thousands. "Unknown
// source" is a leak from somewhere Cradle has no record of: its canaries are any of the vault's N,
// (1/N)^m, with prior weight π_unknown against one for each known source.
// Two leaks merged into one file are a pair "a + b" (among the best few single sources): each found
// canary comes from either, P = Π (½·[a saw it]/n_a + ½·[b saw it]/n_b), or is noise; the prior
// weight π_merge is shared by all the pairs that explain more than either of their sources alone.
//
// Exports that hold a codeword of a shared code pool (docs/codes.md) are different: their w canaries
// are shared with other exports, so one of them found says little, and what names the export is how
// many of its codeword were found together. For such a source the found canaries of its codeword are
// scored as a leak of a fraction q of its file, q unknown (src/lib/codes.ts):
//   P(k of its w found | s) = B(k+1, w-k+1) = 1/((w+1)·C(w,k))
// times the size principle above for every other canary found (its own or seeded ones, over the
// n_s - w it saw besides the codeword, or noise). A pair of two code exports scores their codewords as
// two merged leaks with their own fractions; "unknown" scores code canaries as a leak of a source that
// saw all N canaries.

import { logMergedSurvival, logSurvival } from '../lib/codes.js';

export const NOISE = 0.01;
export const UNKNOWN_PRIOR = 0.01;
export const UNKNOWN_SOURCE = 'unknown source';
export const MERGE_PRIOR = 0.1;
const MERGE_CANDIDATES = 12;

export interface Source {
  key: string;
  /** Canaries this source saw. */
  size: number;
  /** Of the found canaries, those this source saw. */
  explains: Set<string>;
  /** For an export holding a codeword of a shared code pool: all w canaries of the codeword (found or not). */
  code?: readonly string[] | null;
}

export interface SourceScore {
  key: string;
  /** The keys of a merged pair's two sources. */
  parts?: [string, string];
  posterior: number;
  explains: string[];
  unexplained: string[];
  logLikelihood: number;
}

/** Rank sources by posterior probability given the canaries found; `vaultSize` is N, all canaries in the vault. */
export function attribute(found: readonly string[], sources: readonly Source[], vaultSize: number): SourceScore[] {
  const all = [...new Set(found)];
  if (all.length === 0) return [];
  const N = Math.max(vaultSize, all.length, 1);
  const noise = Math.log(NOISE) - Math.log(Math.max(vaultSize, 1));
  const codes = new Map(sources.map((s) => [s.key, s.code?.length ? new Set(s.code) : null]));
  /** Canaries a source saw besides its codeword: what the size principle divides by. */
  const others = (s: Source) => Math.max(s.size - (codes.get(s.key)?.size ?? 0), 0);
  const codeFound = new Set(all.filter((c) => sources.some((s) => codes.get(s.key)?.has(c))));

  const scored: Omit<SourceScore, 'posterior'>[] = sources.map((s) => {
    const code = codes.get(s.key);
    const explains = all.filter((c) => s.explains.has(c) || !!code?.has(c));
    let logLikelihood = code ? logSurvival(all.filter((c) => code.has(c)).length, code.size) : 0;
    const rest = all.filter((c) => !code?.has(c));
    const k = rest.filter((c) => s.explains.has(c)).length;
    logLikelihood += -k * Math.log(Math.max(code ? others(s) : s.size, k, 1)) + (rest.length - k) * noise;
    return { key: s.key, explains, unexplained: all.filter((c) => !s.explains.has(c) && !code?.has(c)), logLikelihood };
  });
  // Sets, not arrays, for membership: a dump can hold thousands of canaries.
  const explainSets = new Map(scored.map((s) => [s.key, new Set(s.explains)]));
  const bySource = new Map(sources.map((s) => [s.key, s]));
  const best = [...scored].sort((a, b) => b.logLikelihood - a.logLikelihood || a.key.localeCompare(b.key)).slice(0, MERGE_CANDIDATES);
  const merged: typeof scored = [];
  for (let i = 0; i < best.length; i++) {
    for (let j = i + 1; j < best.length; j++) {
      const [a, b] = [bySource.get(best[i].key)!, bySource.get(best[j].key)!];
      const [ea, eb] = [explainSets.get(best[i].key)!, explainSets.get(best[j].key)!];
      const explains = all.filter((c) => ea.has(c) || eb.has(c));
      // Only a pair that explains more than either alone is a merge worth naming.
      if (explains.length <= Math.max(best[i].explains.length, best[j].explains.length)) continue;
      merged.push({ key: `${a.key} + ${b.key}`, parts: [a.key, b.key] as [string, string], explains, unexplained: all.filter((c) => !ea.has(c) && !eb.has(c)), logLikelihood: mergedLogLikelihood(all, a, b, codes, others, noise) });
    }
  }
  // The prior weight of "two leaks merged" is shared by the pairs that could be it: with shared
  // canaries, many pairs each explain a few canaries found, and together they must not outweigh one
  // export that explains them all.
  for (const m of merged) m.logLikelihood += Math.log(MERGE_PRIOR / merged.length);
  scored.push(...merged);
  // Unknown: a source that saw all N canaries, shared ones included.
  const unknownCode = codeFound.size ? logSurvival(codeFound.size, Math.max(N, codeFound.size)) : 0;
  scored.push({ key: UNKNOWN_SOURCE, explains: [], unexplained: all, logLikelihood: Math.log(UNKNOWN_PRIOR) - (all.length - codeFound.size) * Math.log(N) + unknownCode });
  const max = Math.max(...scored.map((s) => s.logLikelihood));
  const total = scored.reduce((sum, s) => sum + Math.exp(s.logLikelihood - max), 0);
  return scored
    .map((s) => ({ ...s, posterior: Math.exp(s.logLikelihood - max) / total }))
    .sort((a, b) => b.posterior - a.posterior || a.key.localeCompare(b.key));
}

/** ln P(found | a and b merged), without the prior: codewords as two leaks, the rest by the size principle. */
function mergedLogLikelihood(all: readonly string[], a: Source, b: Source, codes: ReadonlyMap<string, Set<string> | null>, others: (s: Source) => number, noise: number): number {
  const [ca, cb] = [codes.get(a.key), codes.get(b.key)];
  let logLikelihood = 0;
  const allSet = new Set(all);
  if (ca && cb) {
    const part = (inA: boolean, inB: boolean) => {
      const members = [...new Set([...ca, ...cb])].filter((c) => ca.has(c) === inA && cb.has(c) === inB);
      return { size: members.length, found: members.filter((c) => allSet.has(c)).length };
    };
    logLikelihood += logMergedSurvival(part(true, false), part(false, true), part(true, true));
  } else if (ca || cb) {
    const code = (ca ?? cb)!;
    logLikelihood += logSurvival(all.filter((c) => code.has(c)).length, code.size);
  }
  // Every other canary found came from one of the two (each drawn from what it saw), or is noise.
  const [na, nb] = [ca ? others(a) : a.size, cb ? others(b) : b.size];
  const [wa, wb] = na > 0 && nb > 0 ? [0.5, 0.5] : [na > 0 ? 1 : 0, nb > 0 ? 1 : 0];
  for (const c of all) {
    if (ca?.has(c) || cb?.has(c)) continue;
    const p = (a.explains.has(c) ? wa / Math.max(na, 1) : 0) + (b.explains.has(c) ? wb / Math.max(nb, 1) : 0);
    logLikelihood += p > 0 ? Math.log(p) : noise;
  }
  return logLikelihood;
}
