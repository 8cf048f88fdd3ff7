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
// canary comes from either, P = Π (½·[a saw it]/n_a + ½·[b saw it]/n_b), or is noise, with prior
// weight π_merge.

export const NOISE = 0.01;
export const UNKNOWN_PRIOR = 0.01;
export const UNKNOWN_SOURCE = 'unknown source';
export const MERGE_PRIOR = 0.1;
const MERGE_CANDIDATES = 5;

export interface Source {
  key: string;
  /** Canaries this source saw. */
  size: number;
  /** Of the found canaries, those this source saw. */
  explains: Set<string>;
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
  const scored: Omit<SourceScore, 'posterior'>[] = sources.map((s) => {
    const explains = all.filter((c) => s.explains.has(c));
    const k = explains.length;
    const logLikelihood = -k * Math.log(Math.max(s.size, k, 1)) + (all.length - k) * (Math.log(NOISE) - Math.log(Math.max(vaultSize, 1)));
    return { key: s.key, explains, unexplained: all.filter((c) => !s.explains.has(c)), logLikelihood };
  });
  const noise = Math.log(NOISE) - Math.log(Math.max(vaultSize, 1));
  const best = [...scored].sort((a, b) => b.logLikelihood - a.logLikelihood).slice(0, MERGE_CANDIDATES);
  const merged: typeof scored = [];
  for (let i = 0; i < best.length; i++) {
    for (let j = i + 1; j < best.length; j++) {
      const [a, b] = [sources.find((s) => s.key === best[i].key)!, sources.find((s) => s.key === best[j].key)!];
      const explains = all.filter((c) => a.explains.has(c) || b.explains.has(c));
      // Only a pair that explains more than either alone is a merge worth naming.
      if (explains.length <= Math.max(best[i].explains.length, best[j].explains.length)) continue;
      let logLikelihood = Math.log(MERGE_PRIOR);
      for (const c of all) {
        const p = (a.explains.has(c) ? 0.5 / Math.max(a.size, 1) : 0) + (b.explains.has(c) ? 0.5 / Math.max(b.size, 1) : 0);
        logLikelihood += p > 0 ? Math.log(p) : noise;
      }
      merged.push({ key: `${a.key} + ${b.key}`, parts: [a.key, b.key] as [string, string], explains, unexplained: all.filter((c) => !explains.includes(c)), logLikelihood });
    }
  }
  scored.push(...merged);
  scored.push({ key: UNKNOWN_SOURCE, explains: [], unexplained: all, logLikelihood: Math.log(UNKNOWN_PRIOR) - all.length * Math.log(Math.max(vaultSize, all.length)) });
  const max = Math.max(...scored.map((s) => s.logLikelihood));
  const total = scored.reduce((sum, s) => sum + Math.exp(s.logLikelihood - max), 0);
  return scored
    .map((s) => ({ ...s, posterior: Math.exp(s.logLikelihood - max) / total }))
    .sort((a, b) => b.posterior - a.posterior || a.key.localeCompare(b.key));
}
