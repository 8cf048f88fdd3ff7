import { dialectOf, type ReadOnlyQueryable, type TargetDialect } from '../db/index.js';
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
  /** The server's own name of the type (MySQL "decimal(5,2)"; PostgreSQL as dataType). */
  nativeType?: string;
  nullable: boolean;
  /** Whether the database fills it when an insert leaves it out (a default or a sequence). */
  hasDefault: boolean;
  /** What the mapping writes into it; undefined for a column the mapping does not name. */
  value?: ColumnValue;
}

/** `alias.column`: the name a family row's value goes by, unique even where two tables share a column name. */
export const columnKey = (c: { alias: string; column: string }): string => `${c.alias}.${c.column}`;

/** The refs by which `step` joins earlier steps, as SQL conditions. */
function joinConditions(d: TargetDialect, step: InsertStep): string[] {
  return step.columns.flatMap(({ column, value }) =>
    value.type === 'ref' ? [`${d.ident(step.alias)}.${d.ident(column)} = ${d.ident(value.alias)}.${d.ident(value.column)}`] : [],
  );
}

/**
 * FROM clause of one row per family: the mapping's first table, then each later one joined along its
 * refs (a LEFT JOIN, so a family whose later rows are not written yet, e.g. a mother admitted before
 * the birth, still counts; a table without refs is cross-joined, as the mapping gives no relation).
 */
export function joinedFrom(d: TargetDialect, mapping: Mapping, join: 'inner' | 'left' = 'left'): string {
  const [first, ...rest] = mapping.inserts;
  let sql = `FROM ${d.table(first)} AS ${d.ident(first.alias)}`;
  for (const step of rest) {
    const on = joinConditions(d, step);
    const table = `${d.table(step)} AS ${d.ident(step.alias)}`;
    sql += on.length ? ` ${join === 'left' ? 'LEFT JOIN' : 'JOIN'} ${table} ON ${on.join(' AND ')}` : ` CROSS JOIN ${table}`;
  }
  return sql;
}

/** Every column of the mapping's tables, in table then column order, with what the mapping writes there. */
export async function targetColumns(db: ReadOnlyQueryable, mapping: Mapping): Promise<TargetColumn[]> {
  const out: TargetColumn[] = [];
  const catalog = await dialectOf(db).columns(db, mapping.inserts.map((s) => ({ schema: s.schema, table: s.table })));
  for (const step of mapping.inserts) {
    for (const r of catalog.filter((c) => c.schema === step.schema && c.table === step.table)) {
      out.push({
        alias: step.alias,
        schema: step.schema,
        table: step.table,
        column: r.column,
        dataType: r.dataType,
        nativeType: r.nativeType,
        nullable: r.nullable,
        hasDefault: r.hasDefault,
        value: step.columns.find((c) => c.column === r.column)?.value,
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
  const d = dialectOf(db);
  const select = columns.map((c) => `${d.ident(c.alias)}.${d.ident(c.column)} AS ${d.ident(columnKey(c))}`).join(', ');
  const params: unknown[] = [];
  let where = '';
  if (opts.keyIn) {
    where = ` WHERE ${d.inText(`${d.ident(opts.keyIn.alias)}.${d.ident(opts.keyIn.column)}`, opts.keyIn.values.map(String), params)}`;
  }
  if (opts.keyFrom) {
    where += `${where ? ' AND' : ' WHERE'} ${d.ident(opts.keyFrom.alias)}.${d.ident(opts.keyFrom.column)} >= ${d.param(params, opts.keyFrom.value)}`;
  }
  const order = opts.sample ? ` ORDER BY ${d.random}` : '';
  const limit = opts.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(opts.limit))}` : '';
  const { rows } = await db.query<Record<string, unknown>>(`SELECT ${select} ${joinedFrom(d, mapping)}${where}${order}${limit}`, params);
  return rows;
}
