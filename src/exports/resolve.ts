import { dialectOf, type ReadOnlyQueryable } from '../db/index.js';
import { UserError } from '../lib/errors.js';
import type { ColumnValue, Mapping } from '../targetdb/mapping.js';
import { targetColumns, type TargetColumn } from '../targetdb/read.js';
import { cellText } from './plan.js';

// Which table and column each output column of an export comes from, so that two columns called
// `xm` in the mother's and the baby's tables get the mother's and the baby's values. PGlite's result
// fields carry no table (node-postgres's tableID/columnID do, but only src/db sees them, and it does
// not pass them on), so a --query's columns are resolved by name among the mapping's tables and, where
// a name is in several of them, by which table's column holds the query's values; a --table's columns
// are that table's. Read-only: call these inside readOnly().

export interface ColumnSource {
  schema: string;
  table: string;
  column: string;
  /** Whether the table is one of the mapping's: then `value` is all the mapping writes there. */
  mapped: boolean;
  /** What the mapping writes there, if anything. */
  value?: ColumnValue;
}

function splitTable(name: string): { schema: string; table: string } {
  const dot = name.indexOf('.');
  return dot < 0 ? { schema: 'public', table: name } : { schema: name.slice(0, dot), table: name.slice(dot + 1) };
}

/** --table: every column is the table's own. */
export function tableSources(mapping: Mapping, tableName: string, columns: readonly string[]): ColumnSource[] {
  const { schema, table } = splitTable(tableName);
  const step = mapping.inserts.find((s) => s.schema === schema && s.table === table);
  return columns.map((column) => ({ schema, table, column, mapped: !!step, value: step?.columns.find((c) => c.column === column)?.value }));
}

const SAMPLE = 40;

/** How many of `values` the column holds. */
async function hits(db: ReadOnlyQueryable, c: TargetColumn, values: readonly string[]): Promise<number> {
  const d = dialectOf(db);
  const params: unknown[] = [];
  const col = d.ident(c.column);
  const { rows } = await db.query<{ n: number | string }>(`SELECT count(DISTINCT ${d.text(col)}) AS n FROM ${d.table(c)} WHERE ${d.inText(col, values, params)}`, params);
  return Number(rows[0]?.n ?? 0);
}

/**
 * --query: each output column's source among the mapping's tables: by name where one table has a
 * column of that name, by its values where several have (or where an alias hides the name and the
 * values are a mapped field's); null where nothing says. Two candidates holding the values equally
 * well: a UserError asking for --map.
 */
export async function querySources(db: ReadOnlyQueryable, mapping: Mapping, columns: readonly string[], rows: readonly unknown[][], overrides: Record<string, string>): Promise<(ColumnSource | null)[]> {
  const all = await targetColumns(db, mapping);
  const out: (ColumnSource | null)[] = [];
  for (let i = 0; i < columns.length; i++) {
    const name = columns[i];
    const sample = [...new Set(rows.map((r) => r[i]).filter((v) => v !== null && v !== undefined && !(v instanceof Date)).map(cellText).filter((t) => t !== ''))].slice(0, SAMPLE);
    const named = all.filter((c) => c.column === name);
    const distinctTables = new Set(named.map((c) => `${c.schema}.${c.table}`));
    if (distinctTables.size === 1) {
      out.push({ ...named[0], mapped: true });
      continue;
    }
    const fields = new Set(named.map((c) => (c.value?.type === 'field' ? c.value.field : '')));
    // Several tables with this name: the one holding the values; without values to tell, --map decides.
    const candidates = named.length ? named : sample.length && !/^\d+$/.test(sample[0]) ? all.filter((c) => c.value?.type === 'field' && c.value.kind === 'text') : [];
    // Several tables, one meaning (no field, or the same one): the table holding the values, else the first.
    const oneMeaning = named.length > 1 && (fields.size === 1 || !!overrides[name]);
    if (candidates.length === 0 || (oneMeaning && sample.length === 0)) {
      out.push(named[0] ? { ...named[0], mapped: true } : null);
      continue;
    }
    if (sample.length === 0) {
      if (named.length > 1) throw new UserError(`--query: column "${name}" is in ${named.map((c) => `${c.table}.${c.column}`).join(' and ')} and the rows do not say which; alias it or say its field with --map ${name}=<field>`);
      out.push(null);
      continue;
    }
    const scored = await Promise.all(candidates.map(async (c) => ({ c, n: await hits(db, c, sample) })));
    scored.sort((a, b) => b.n - a.n);
    const best = scored[0];
    const enough = named.length ? best.n > 0 : best.n >= Math.ceil(sample.length * 0.8);
    if ((enough && (scored.length === 1 || best.n > scored[1].n)) || (oneMeaning && enough)) {
      out.push({ ...best.c, mapped: true });
      continue;
    }
    if (named.length > 1 && !oneMeaning) throw new UserError(`--query: column "${name}" could be ${named.map((c) => `${c.table}.${c.column}`).join(' or ')}; alias it or say its field with --map ${name}=<field>`);
    out.push(null);
  }
  return out;
}

/** Which of `candidates` the source column already holds (as text). */
export async function takenIn(db: ReadOnlyQueryable, source: ColumnSource, candidates: readonly string[]): Promise<Set<string>> {
  if (candidates.length === 0) return new Set();
  const d = dialectOf(db);
  const params: unknown[] = [];
  const col = d.ident(source.column);
  const { rows } = await db.query<{ v: string }>(`SELECT DISTINCT ${d.text(col)} AS v FROM ${d.table(source)} WHERE ${d.inText(col, candidates, params)}`, params);
  return new Set(rows.map((r) => r.v));
}
