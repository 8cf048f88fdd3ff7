import { dialectOf, openMemoryDatabase, quoteIdent, quoteQualified, type CatalogColumn, type Database, type ReadOnlyQueryable } from '../db/index.js';
import { UserError } from '../lib/errors.js';
import { joinedFrom, type Mapping } from '../targetdb/index.js';

// The profile's statistics are written in PostgreSQL's SQL (percentiles, GROUPING SETS, regular
// expressions, ctid for the physical order). On a target of another dialect (MySQL/MariaDB), the
// mapping's tables are read through the dialect, plain SELECTs only, into an embedded PostgreSQL in
// memory (nothing on disk), and the profile is learned there. A large hospital is read through a random
// sample of its families, as the PostgreSQL path samples large tables for everything but the counts.

/** Families copied at most; beyond, a random sample of this many (the first table's count stays exact). */
export const MAX_COPIED_FAMILIES = 200_000;

/** The types the copy keeps (PostgreSQL's words, as the dialects' catalogs give them); others become text. */
const KEPT_TYPES = new Set([
  'smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision', 'boolean', 'text', 'character varying', 'character',
  'date', 'time without time zone', 'timestamp without time zone', 'timestamp with time zone',
]);
const ROWS_PER_COPY = 5_000;

export interface TargetCopy {
  db: Database;
  /** Rows of the mapping's first table in the target (exact, whether or not a sample was copied). */
  families: number;
  /** Families copied when fewer than all were (a sample). */
  sampled: number | null;
}

/** Copy the mapping's tables (every column) from `target` into a new in-memory PostgreSQL; the caller closes it. */
export async function copyMappedTables(target: ReadOnlyQueryable, mapping: Mapping, onProgress?: (m: string) => void, maxFamilies = MAX_COPIED_FAMILIES): Promise<TargetCopy> {
  const d = dialectOf(target);
  const refs = mapping.inserts.map((s) => ({ schema: s.schema, table: s.table }));
  const catalog = await d.columns(target, refs);
  const first = mapping.inserts[0];
  const { rows: counted } = await target.query<{ n: number | string }>(`SELECT count(*) AS n FROM ${d.table(first)}`);
  const families = Number(counted[0].n);
  const sampled = families > maxFamilies ? maxFamilies : null;
  const db = await openMemoryDatabase(`copy of ${target.kind} target`);
  try {
    const tables = new Map<string, CatalogColumn[]>();
    for (const step of mapping.inserts) {
      const cols = catalog.filter((c) => c.schema === step.schema && c.table === step.table);
      if (cols.length === 0) throw new UserError(`${step.schema}.${step.table}: no such table in the target (\`cradle target check\` says more)`);
      tables.set(step.alias, cols);
    }
    // A sample is of whole families, drawn once: each table's rows of the same families.
    const sample = sampled === null ? null : await sampleFamilies(target, mapping, tables, sampled);
    const done = new Set<string>();
    for (const step of mapping.inserts) {
      const name = `${step.schema}.${step.table}`;
      // Another insert step on the same table was copied already.
      if (done.has(name)) continue;
      done.add(name);
      const cols = tables.get(step.alias)!;
      if (step.schema !== 'public') await db.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(step.schema)}`);
      await db.exec(`CREATE TABLE ${quoteQualified([step.schema, step.table])} (${cols.map((c) => `${quoteIdent(c.column)} ${copiedType(c)}`).join(', ')})`);
      // In the key's order where the database numbers it: the physical order of an InnoDB table, which
      // the profile reads as the order rows were written.
      const key = cols.findIndex((c) => c.generated);
      let values: unknown[][];
      if (sample) values = sample.get(step.alias)!;
      else {
        const order = key >= 0 ? ` ORDER BY ${d.ident(cols[key].column)}` : '';
        const { rows } = await target.query<Record<string, unknown>>(`SELECT ${cols.map((c) => d.ident(c.column)).join(', ')} FROM ${d.table(step)}${order}`);
        values = rows.map((r) => cols.map((c) => r[c.column]));
      }
      const copied = values.map((row) => row.map((v, i) => copiedValue(cols[i], v)));
      for (let i = 0; i < copied.length; i += ROWS_PER_COPY) await db.copyFrom(name, cols.map((c) => c.column), copied.slice(i, i + ROWS_PER_COPY));
      onProgress?.(`copied ${copied.length} rows of ${name}${sample ? ' (a sample)' : ''}`);
    }
    return { db, families, sampled };
  } catch (err) {
    await db.close();
    throw err;
  }
}

/** `n` families drawn at random, joined as the mapping joins them: per insert step, its rows' values (each row once, in key order). */
async function sampleFamilies(target: ReadOnlyQueryable, mapping: Mapping, tables: Map<string, CatalogColumn[]>, n: number): Promise<Map<string, unknown[][]>> {
  const d = dialectOf(target);
  const select: string[] = [];
  for (const step of mapping.inserts) tables.get(step.alias)!.forEach((c) => select.push(`${d.ident(step.alias)}.${d.ident(c.column)} AS ${d.ident(`c${select.length}`)}`));
  const { rows } = await target.query<Record<string, unknown>>(`SELECT ${select.join(', ')} ${joinedFrom(d, mapping, 'inner')} ORDER BY ${d.random} LIMIT ${n}`);
  const out = new Map<string, unknown[][]>();
  let at = 0;
  for (const step of mapping.inserts) {
    const cols = tables.get(step.alias)!;
    const first = at;
    at += cols.length;
    const seen = new Map<string, unknown[]>();
    for (const r of rows) {
      const values = cols.map((_, i) => r[`c${first + i}`]);
      seen.set(JSON.stringify(values), values);
    }
    const key = cols.findIndex((c) => c.generated);
    const list = [...seen.values()];
    if (key >= 0) list.sort((a, b) => Number(a[key]) - Number(b[key]));
    out.set(step.alias, list);
  }
  return out;
}

function copiedType(c: CatalogColumn): string {
  return KEPT_TYPES.has(c.dataType) ? c.dataType : 'text';
}

/**
 * A value as the copy's column takes it: MySQL's zero dates and times past 24 hours (which PostgreSQL
 * has no value for) as null, bytes and other objects as text.
 */
function copiedValue(c: CatalogColumn, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return c.dataType === 'boolean' ? Boolean(v) : v;
  const text = Buffer.isBuffer(v) ? v.toString('utf8') : v instanceof Date ? v.toISOString() : String(v);
  if (c.dataType === 'date' || c.dataType.startsWith('timestamp')) return /^0000-00-00/.test(text) || /^\d{4}-00-|-00(?:\s|$)/.test(text) ? null : text;
  if (c.dataType.startsWith('time')) return /^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) && Number(text.slice(0, 2)) < 24 ? text : null;
  // PostgreSQL text holds no NUL.
  return text.replaceAll('\u0000', '');
}
