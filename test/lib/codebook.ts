import { codewordPositions, type CodeSpec } from '../../src/exports/plan.js';
import type { Random } from '../../src/lib/generate/index.js';
import { trace, type Suspect, type TraceChannel } from '../../src/trace/model.js';

// Shared-canary codebooks for the decoding tests (test/lib/codes.test.ts and codes.slow.test.ts):
// export files as the trace model sees them, exactly as scan then trace hands them over.

/** n exports on one pool: export e<m> holds codeword m, canary ids "c<position>". */
export function codebook(spec: CodeSpec, n: number): { key: string; code: string[] }[] {
  return Array.from({ length: n }, (_, m) => ({ key: `e${m}`, code: codewordPositions(spec, m).map((p) => `c${p}`) }));
}

export const DAY = 86_400_000;
export const VAULT = 5000;
export const day = (d: number) => new Date(Date.UTC(2026, 0, 5) + d * DAY);

/** An export file that saw `ids` (its codeword among them, if it holds one) and `more` other canaries, on day 1. */
export function exportFile(key: string, ids: readonly string[], code?: readonly string[], more = 0): TraceChannel {
  const all = [...new Set([...(code ?? []), ...ids]), ...Array.from({ length: more }, (_, i) => `${key}/other${i}`)];
  return { key, kind: 'export', seen: new Map(all.map((id) => [id, day(1)])), code };
}

/**
 * What scan then trace hands the trace model: every export that saw any found canary, as the vault
 * reports it; canaries planted on day 0, found on day 10; the prior over the whole book.
 */
export function decode(found: readonly string[], book: { key: string; code: string[] }[], poolSize: number, extra: TraceChannel[] = []): Suspect[] {
  const set = new Set(found);
  // The pool is part of a vault of thousands of canaries (what "unknown source" could have leaked).
  const vaultSize = Math.max(poolSize, VAULT);
  const channels = [...book.filter((e) => e.code.some((c) => set.has(c))).map((e) => exportFile(e.key, e.code, e.code)), ...extra];
  return trace({ found: found.map((id) => ({ id, plantedAt: day(0), seenLeakedAt: day(10) })), channels, vaultSize }, { universe: book.length + extra.length });
}

export function sample(rng: Random, items: readonly string[], q: number): string[] {
  return items.filter(() => rng.chance(q));
}

export const pairKey = (a: string, b: string) => [a, b].sort().join(' + ');
export const top = (r: Suspect[]) => (r[0]?.parts ? pairKey(r[0].parts[0], r[0].parts[1]) : r[0]?.key);

export const W8: CodeSpec = { weight: 8, field: 11, degree: 3 }; // L = 88
export const W7: CodeSpec = { weight: 7, field: 7, degree: 3 }; // L = 49, the default
