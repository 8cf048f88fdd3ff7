import { dialectOf, type ReadOnlyQueryable } from '../db/index.js';
import type { TargetKeys } from './families.js';
import { phoneColumns, renderPhone, type Mapping } from './mapping.js';

// A trap number coming back from its cool-down is still in the target: in the rows of the canaries
// that held it, which stay there. Those rows are Cradle's own, not a real family's; any other row
// holding the number still blocks it.

/**
 * Which of these numbers appear in a phone column of the target in a row that is none of `own`
 * (per number, the keys of the canary rows known to hold it, as the vault recorded them). A row is
 * recognised as a canary's only by all the key columns recorded for its insert step; a step
 * with no recorded key counts as someone else's row (the number stays blocked).
 */
export async function phonesInOtherRows(db: ReadOnlyQueryable, mapping: Mapping, own: ReadonlyMap<string, readonly TargetKeys[]>): Promise<Set<string>> {
  const taken = new Set<string>();
  if (own.size === 0) return taken;
  for (const { step, column, style } of phoneColumns(mapping)) {
    const variants = new Map<string, string>();
    for (const n of own.keys()) for (const s of new Set([style, 'e164', 'national', 'digits'])) variants.set(renderPhone(n, s), n);
    const keyColumns = [...new Set([...own.values()].flatMap((keys) => keys.flatMap((k) => Object.keys(k[step.alias] ?? {}))))].sort();
    const d = dialectOf(db);
    const select = [`${d.text(d.ident(column))} AS ${d.ident('v')}`, ...keyColumns.map((c, i) => `${d.text(d.ident(c))} AS ${d.ident(`k${i}`)}`)].join(', ');
    const params: unknown[] = [];
    const { rows } = await db.query<Record<string, string | null>>(
      `SELECT ${select} FROM ${d.table(step)} WHERE ${d.inText(d.ident(column), [...variants.keys()], params)}`,
      params,
    );
    for (const row of rows) {
      const n = variants.get(row.v!)!;
      const mine = (own.get(n) ?? []).some((keys) => {
        const k = keys[step.alias];
        if (!k || Object.keys(k).length === 0) return false;
        return Object.entries(k).every(([col, value]) => value !== null && value !== undefined && row[`k${keyColumns.indexOf(col)}`] === String(value));
      });
      if (!mine) taken.add(n);
    }
  }
  return taken;
}
