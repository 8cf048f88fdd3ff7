import type { CodeSpec } from '../../src/exports/plan.js';
import { codewordPositions } from '../../src/exports/plan.js';
import type { Random } from '../../src/lib/generate/index.js';
import { attribute, type Source, type SourceScore } from '../../src/scan/attribute.js';

// Shared-canary codebooks for the decoding tests (test/lib/codes.test.ts and codes.slow.test.ts).

/** n exports on one pool: export e<m> holds codeword m, canary ids "c<position>". */
export function codebook(spec: CodeSpec, n: number): { key: string; code: string[] }[] {
  return Array.from({ length: n }, (_, m) => ({ key: `e${m}`, code: codewordPositions(spec, m).map((p) => `c${p}`) }));
}

/** What scan hands attribute(): every export that saw any found canary, as the vault reports it. */
export function decode(found: readonly string[], book: { key: string; code: string[] }[], vaultSize: number, extra: Source[] = []): SourceScore[] {
  const set = new Set(found);
  const sources: Source[] = book
    .filter((e) => e.code.some((c) => set.has(c)))
    .map((e) => ({ key: e.key, size: e.code.length, explains: new Set(e.code.filter((c) => set.has(c))), code: e.code }));
  return attribute(found, [...sources, ...extra], vaultSize);
}

export function sample(rng: Random, items: readonly string[], q: number): string[] {
  return items.filter(() => rng.chance(q));
}

export const pairKey = (a: string, b: string) => [a, b].sort().join(' + ');
export const top = (r: SourceScore[]) => (r[0]?.parts ? pairKey(...r[0].parts) : r[0]?.key);

export const W8: CodeSpec = { weight: 8, field: 11, degree: 3 }; // L = 88
export const W7: CodeSpec = { weight: 7, field: 7, degree: 3 }; // L = 49, the default
