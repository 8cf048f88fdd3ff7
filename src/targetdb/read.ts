import type { ReadOnlyQueryable } from '../db/index.js';
import { quoteIdent, quoteQualified } from '../db/index.js';
import type { ColumnValue, InsertStep, Mapping } from './mapping.js';

// Reading the hospital's families through the mapping, never writing: the one place that knows how the
// mapping's tables join into one row per family. Exports, the target profile and the realism audit
// read through it.

/** One column of a mapping table, whether or not the mapping fills it. */
export interface TargetColumn {
  alias: string;
  schema: string;
  table: string;
  column: string;
  /** information_schema data_type, e.g. "integer", "timestamp without time zone", "character varying". */
  dataType: string;
  nullable: boolean;
  /** Whether the database fills it when an insert leaves it out (a default or a sequence). */
  hasDefault: boolean;
  /** What the mapping writes into it; undefined for a column the mapping does not name. */
  value?: ColumnValue;
}

/** `alias.column`: the name a family row's value goes by, unique even where two tables share a column name. */
export const columnKey = (c: { alias: string; column: string }): string => `${c.alias}.${c.column}`;

/** The refs by which `step` joins earlier steps, as SQL conditions. */
function joinConditions(step: InsertStep): string[] {
  return step.columns.flatMap(({ column, value }) =>
    value.type === 'ref' ? [`${quoteIdent(step.alias)}.${quoteIdent(column)} = ${quoteIdent(value.alias)}.${quoteIdent(value.column)}`] : [],
  );
}

/**
 * FROM clause of one row per family: the mapping's first table, then each later one joined along its
 * refs (a LEFT JOIN, so a family whose later rows are not written yet, e.g. a mother admitted before
 * the birth, still counts; a table without refs is cross-joined, as the mapping gives no relation).
 */
export function joinedFrom(mapping: Mapping, join: 'inner' | 'left' = 'left'): string {
  const [first, ...rest] = mapping.inserts;
  let sql = `FROM ${quoteQualified([first.schema, first.table])} AS ${quoteIdent(first.alias)}`;
  for (const step of rest) {
    const on = joinConditions(step);
    const table = `${quoteQualified([step.schema, step.table])} AS ${quoteIdent(step.alias)}`;
    sql += on.length ? ` ${join === 'left' ? 'LEFT JOIN' : 'JOIN'} ${table} ON ${on.join(' AND ')}` : ` CROSS JOIN ${table}`;
  }
  return sql;
}

/** Every column of the mapping's tables, in table then column order, with what the mapping writes there. */
export async function targetColumns(db: ReadOnlyQueryable, mapping: Mapping): Promise<TargetColumn[]> {
  const out: TargetColumn[] = [];
  for (const step of mapping.inserts) {
    const { rows } = await db.query<{ column_name: string; data_type: string; is_nullable: string; column_default: string | null; is_identity: string }>(
      `SELECT column_name, data_type, is_nullable, column_default, is_identity
         FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [step.schema, step.table],
    );
    for (const r of rows) {
      out.push({
        alias: step.alias,
        schema: step.schema,
        table: step.table,
        column: r.column_name,
        dataType: r.data_type,
        nullable: r.is_nullable === 'YES',
        hasDefault: r.column_default !== null || r.is_identity === 'YES',
        value: step.columns.find((c) => c.column === r.column_name)?.value,
      });
    }
  }
  return out;
}

export interface FamilyRowsOptions {
  /** The columns to read (default: every column of the mapping's tables). */
  columns?: readonly TargetColumn[];
  /** Only families whose `alias.column` is one of these values (e.g. the canaries' keys). */
  keyIn?: { alias: string; column: string; values: readonly unknown[] };
  /** At most this many families, drawn at random when `sample` is set, else in the first table's order. */
  limit?: number;
  sample?: boolean;
  /** Only families whose integer `alias.column` is at least `value` (e.g. written since the first canary). */
  keyFrom?: { alias: string; column: string; value: number };
}

/** One row per family, each value under `alias.column`. Read-only: call it inside readOnly(). */
export async function readFamilyRows(db: ReadOnlyQueryable, mapping: Mapping, opts: FamilyRowsOptions = {}): Promise<Record<string, unknown>[]> {
  const columns = opts.columns ?? (await targetColumns(db, mapping));
  if (columns.length === 0) return [];
  const select = columns.map((c) => `${quoteIdent(c.alias)}.${quoteIdent(c.column)} AS ${quoteIdent(columnKey(c))}`).join(', ');
  const params: unknown[] = [];
  let where = '';
  if (opts.keyIn) {
    params.push(opts.keyIn.values.map(String));
    where = ` WHERE ${quoteIdent(opts.keyIn.alias)}.${quoteIdent(opts.keyIn.column)}::text = ANY($1::text[])`;
  }
  if (opts.keyFrom) {
    params.push(opts.keyFrom.value);
    where += `${where ? ' AND' : ' WHERE'} ${quoteIdent(opts.keyFrom.alias)}.${quoteIdent(opts.keyFrom.column)} >= $${params.length}`;
  }
  const order = opts.sample ? ' ORDER BY random()' : '';
  const limit = opts.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(opts.limit))}` : '';
  const { rows } = await db.query<Record<string, unknown>>(`SELECT ${select} ${joinedFrom(mapping)}${where}${order}${limit}`, params);
  return rows;
}
