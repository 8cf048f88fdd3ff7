import { dialectOf, type ReadOnlyQueryable } from '../db/index.js';
import { fieldColumn, type Mapping } from './mapping.js';

// Real births per ward, read through the mapping's ward column: what the rotation's default
// allocation follows (src/seed/allocate.ts). Read-only; one GROUP BY on the ward column.

/**
 * Rows per ward in the target, for these wards (the config's), counted on the mapping's ward column
 * in the hospital's own codes (a `map` on the column is applied, a `case` too). Wards with no row
 * count 0; values that are none of the wards are ignored. Null when the mapping has no ward column.
 */
export async function birthsPerWard(db: ReadOnlyQueryable, mapping: Mapping, wards: readonly string[]): Promise<Record<string, number> | null> {
  const at = fieldColumn(mapping, 'ward');
  if (!at) return null;
  const { step, column, value } = at;
  const stored = new Map<string, string>();
  for (const ward of wards) {
    let v = String(value.map?.[ward] ?? ward);
    if (value.case === 'upper') v = v.toUpperCase();
    if (value.case === 'lower') v = v.toLowerCase();
    stored.set(v, ward);
  }
  const d = dialectOf(db);
  const params: unknown[] = [];
  const { rows } = await db.query<{ v: string; n: string | number }>(
    `SELECT ${d.text(d.ident(column))} AS v, count(*) AS n FROM ${d.table(step)} WHERE ${d.inText(d.ident(column), [...stored.keys()], params)} GROUP BY 1`,
    params,
  );
  const out: Record<string, number> = Object.fromEntries(wards.map((w) => [w, 0]));
  for (const r of rows) out[stored.get(r.v)!] += Number(r.n);
  return out;
}
