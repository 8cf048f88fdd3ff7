import type { ReadOnlyQueryable } from '../db/index.js';
import { quoteIdent } from '../db/index.js';
import type { Counts, FamilyProfile } from '../domain/index.js';
import { countsOf } from '../lib/counts.js';
import { fieldColumn, joinedFrom, type Mapping } from '../targetdb/index.js';

// Learning the family-level part of a hospital's profile from its real rows, read-only, in SQL
// aggregates (a million families must profile in under a minute): what a thief compares across the
// fields of one family.

export interface LearnOptions {
  /** Keep a value only when at least k families share it. */
  k: number;
}

/** How many families hold each value of a mapped field, under the k rule. */
export async function fieldCounts(db: ReadOnlyQueryable, mapping: Mapping, field: string, k: number): Promise<Counts> {
  const at = fieldColumn(mapping, field);
  if (!at) return { total: 0, values: {}, other: 0 };
  const col = `${quoteIdent(at.step.alias)}.${quoteIdent(at.column)}`;
  const { rows } = await db.query<{ v: string | null; n: number }>(`SELECT ${col}::text AS v, count(*)::int AS n ${joinedFrom(mapping)} GROUP BY 1`);
  return countsOf(rows.map((r) => [r.v, r.n] as const), k);
}

export async function learnFamilyProfile(db: ReadOnlyQueryable, mapping: Mapping, opts: LearnOptions): Promise<FamilyProfile> {
  return { wards: await fieldCounts(db, mapping, 'ward', opts.k) };
}
