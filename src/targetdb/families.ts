import { dialectOf, type CatalogColumn, type Queryable, type ReadOnlyQueryable, type TargetDialect } from '../db/index.js';
import type { Family } from '../domain/index.js';
import {
  emailColumns, fieldEvent, keyShape, LIFE_EVENTS, phoneColumns, renderColumnField, renderField, renderPhone, renderRandom, renderStamp, stepEvent,
  type ColumnValue, type InsertStep, type LifeEvent, type Mapping,
} from './mapping.js';

// Reads and writes families in the target through its mapping. Nothing written here marks a row as a
// canary: the keys that come back are kept in the vault only.

/** Per insert alias, the key columns of the row written (returned and randomly generated ones). */
export type TargetKeys = Record<string, Record<string, unknown>>;

const ROWS_PER_STATEMENT = 500;

/** How a row's non-field values are found: earlier rows' columns (refs), random and numbered keys, bookkeeping times. */
export interface RowContext {
  ref(alias: string, column: string): unknown;
  random(column: string, pattern: string): unknown;
  /** A numbered key ({"key": …}): the value taken for this row. */
  key(column: string, pattern: string): unknown;
  /** A created/updated time: the moment the row is written. */
  stamp(value: Extract<ColumnValue, { type: 'stamp' }>): unknown;
  /** Fields known only after this event are written NULL (default: every field as the family has it). */
  upTo?: LifeEvent;
}

/** The values of one insert step's columns for one family, as the hospital stores them. */
export function renderRow(step: InsertStep, family: Family, timeZone: string, ctx: RowContext): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const known = LIFE_EVENTS.indexOf(ctx.upTo ?? 'discharge');
  for (const { column, value } of step.columns) {
    if (value.type === 'field') values[column] = LIFE_EVENTS.indexOf(fieldEvent(value.field)) > known ? null : renderColumnField(step, column, value, family, timeZone);
    else if (value.type === 'ref') values[column] = ctx.ref(value.alias, value.column);
    else if (value.type === 'random') values[column] = ctx.random(column, value.pattern);
    // Drawn from the hospital's profile when the canary was drafted (src/canary/profile.ts); NULL without one.
    else if (value.type === 'learned') values[column] = family.learned?.[`${step.alias}.${column}`] ?? null;
    else if (value.type === 'key') values[column] = ctx.key(column, value.pattern);
    else if (value.type === 'stamp') values[column] = ctx.stamp(value);
    else values[column] = value.value;
  }
  // Columns the mapping leaves out but the canary sets itself (a created time the database would stamp "now").
  const prefix = `${step.alias}.`;
  for (const [key, v] of Object.entries(family.learned ?? {})) {
    if (key.startsWith(prefix) && v !== null && !(key.slice(prefix.length) in values)) values[key.slice(prefix.length)] = v;
  }
  return values;
}

/** The columns to insert for these rendered rows: the step's, and those beyond it every row sets (see renderRow). */
export function insertedColumns(step: InsertStep, rows: readonly Record<string, unknown>[]): string[] {
  const own = step.columns.map((c) => c.column);
  const extra = Object.keys(rows[0] ?? {}).filter((c) => !own.includes(c) && rows.every((r) => r[c] !== undefined));
  return [...own, ...extra];
}

/** The columns that identify a step's row again: what it returns, its random and numbered keys. */
export function keyColumns(step: InsertStep): string[] {
  return [...step.returning, ...step.columns.filter((c) => c.value.type === 'random' || c.value.type === 'key').map((c) => c.column)];
}

/** What `seed --dry-run` shows: each table's row for the family, keys the database would assign in <angle brackets>. */
export function previewRows(mapping: Mapping, family: Family, timeZone: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const step of mapping.inserts) {
    out[`${step.schema}.${step.table}`] = renderRow(step, family, timeZone, {
      ref: (alias, column) => `<${alias}.${column}>`,
      random: (_column, pattern) => `<random ${pattern}>`,
      key: (_column, pattern) => `<next ${pattern}>`,
      stamp: (v) => `<${v.stamp} when written>`,
    });
  }
  return out;
}

function tableOf(d: TargetDialect, step: InsertStep): string {
  return d.table({ schema: step.schema, table: step.table });
}

/**
 * Insert families, in order, as the mapping describes; returns their keys. Call inside a transaction:
 * a failure part-way must leave nothing behind.
 */
export async function insertFamilies(
  tx: Queryable,
  mapping: Mapping,
  families: readonly Family[],
  timeZone: string,
  randomDigit: () => number,
  /** When the rows are written: their created/updated times and the date in numbered keys. */
  at: Date = new Date(),
): Promise<TargetKeys[]> {
  const keys: TargetKeys[] = families.map(() => ({}));
  const written: Record<string, unknown>[][] = families.map(() => []);
  const d = dialectOf(tx);
  // All or nothing: a table that cannot roll back (MyISAM) is refused before anything is written.
  await d.checkWritable(tx, mapping.inserts.map((s) => ({ schema: s.schema, table: s.table })));
  for (const step of mapping.inserts) {
    for (let start = 0; start < families.length; start += ROWS_PER_STATEMENT) {
      const chunk = families.slice(start, start + ROWS_PER_STATEMENT);
      const tuples: unknown[][] = [];
      const rowValues: Record<string, unknown>[] = [];
      const randomValues = await freshRandomValues(tx, step, chunk.length, randomDigit);
      const keyValues = await nextKeys(tx, step, chunk.length, at, timeZone);
      chunk.forEach((family, offset) => {
        const i = start + offset;
        const randomCols: Record<string, unknown> = {};
        const values = renderRow(step, family, timeZone, {
          ref: (alias, column) => refValue(written[i], mapping, alias, column),
          random: (column) => (randomCols[column] = randomValues.get(column)![offset]),
          key: (column) => (randomCols[column] = keyValues.get(column)![offset]),
          stamp: (v) => renderStamp(v, at, timeZone),
        });
        keys[i][step.alias] = randomCols;
        rowValues.push(values);
      });
      const columnList = insertedColumns(step, rowValues);
      for (const values of rowValues) tuples.push(columnList.map((c) => values[c]));
      // The dialect returns the filled-in keys in VALUES order.
      const returnedRows = await d.insertRows(tx, { schema: step.schema, table: step.table }, columnList, tuples, step.returning);
      if (step.returning.length && returnedRows.length !== chunk.length) throw new Error(`insert into ${step.schema}.${step.table} returned ${returnedRows.length} rows for ${chunk.length}`);
      chunk.forEach((_, offset) => {
        const i = start + offset;
        const returned = step.returning.length ? returnedRows[offset] : {};
        Object.assign(keys[i][step.alias], returned);
        written[i][mapping.inserts.indexOf(step)] = { ...rowValues[offset], ...returned };
      });
    }
  }
  return keys;
}

/**
 * Values for the step's random key columns (e.g. a medical record number) that no row of the target
 * holds yet, so a canary batch never fails on a unique key by bad luck.
 */
export async function freshRandomValues(db: Queryable, step: InsertStep, n: number, randomDigit: () => number): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const d = dialectOf(db);
  for (const { column, value } of step.columns) {
    if (value.type !== 'random') continue;
    const values = new Set<string>();
    for (let round = 0; values.size < n; round++) {
      if (round > 20) throw new Error(`cannot find unused values for ${step.schema}.${step.table}.${column} with pattern ${value.pattern}`);
      const fresh = new Set<string>();
      while (fresh.size < n - values.size) {
        const v = renderRandom(value.pattern, randomDigit);
        if (!values.has(v)) fresh.add(v);
      }
      const params: unknown[] = [];
      const col = d.ident(column);
      const { rows } = await db.query<{ v: string }>(`SELECT ${d.text(col)} AS v FROM ${tableOf(d, step)} WHERE ${d.inText(col, [...fresh], params)}`, params);
      const taken = new Set(rows.map((r) => r.v));
      for (const v of fresh) if (!taken.has(v)) values.add(v);
    }
    out.set(column, [...values]);
  }
  return out;
}

/** When a hospital's system wrote a real family's row: at admission or at birth (for bulk loads). */
function writtenAt(step: InsertStep, family: Family): Date {
  return new Date(stepEvent(step) === 'birth' ? family.baby.birthTime : family.admittedAt);
}

export function formatKey(shape: { prefix: string; suffix: string; width: number }, n: number): string {
  if (String(n).length > shape.width) throw new Error(`the counter of ${shape.prefix}${'#'.repeat(shape.width)}${shape.suffix} is exhausted`);
  return `${shape.prefix}${String(n).padStart(shape.width, '0')}${shape.suffix}`;
}

const NUMERIC_TYPES = new Set(['integer', 'bigint', 'smallint', 'numeric']);

/**
 * Tables' columns as the catalog lists them, read once and kept: for a caller writing many rows to
 * tables whose columns do not change meanwhile (one transaction; the demo's own hospital). A catalog
 * read costs about as much as the write it serves (information_schema on PGlite: ~10 ms).
 */
export type ColumnCache = Map<string, Promise<CatalogColumn[]>>;

/** Within one transaction the tables' columns do not change under the writes that ask for them. */
const perTransaction = new WeakMap<Queryable, ColumnCache>();

function tableColumns(tx: Queryable, ref: { schema: string; table: string }, cache?: ColumnCache): Promise<CatalogColumn[]> {
  let kept = cache ?? perTransaction.get(tx);
  if (!kept) perTransaction.set(tx, (kept = new Map()));
  const key = JSON.stringify([ref.schema, ref.table]);
  let columns = kept.get(key);
  if (!columns) {
    columns = dialectOf(tx).columns(tx, [ref]);
    kept.set(key, columns);
    columns.catch(() => kept.delete(key)); // a failed read is not kept
  }
  return columns;
}

/**
 * The next `n` values of each numbered key column of the step, as the hospital's system takes them:
 * nextval of its sequence, or max + 1 among the values with the pattern's prefix at this moment. The
 * table is locked against other writers (SHARE ROW EXCLUSIVE, until the transaction ends) so that no
 * one reads the same maximum before this row is committed; a later max + 1 by the hospital sees it.
 * The key column's type is read from the catalog once per transaction, or once per `cache`.
 *
 * `taken` is for a caller taking keys for several rows of one transaction before inserting them: it
 * keeps the last value taken per column and prefix, and a prefix taken before continues from it (the
 * table is already locked; the rows not yet inserted would not be seen by max).
 */
export async function nextKeys(
  tx: Queryable,
  step: InsertStep,
  n: number,
  at: Date,
  timeZone: string,
  cache?: ColumnCache,
  taken?: Map<string, number>,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const d = dialectOf(tx);
  const ref = { schema: step.schema, table: step.table };
  for (const { column, value } of step.columns) {
    if (value.type !== 'key') continue;
    const shape = keyShape(value.pattern, at, timeZone);
    const values: string[] = [];
    if (value.sequence) {
      for (let i = 0; i < n; i++) values.push(formatKey(shape, await d.nextSequenceValue(tx, value.sequence)));
    } else {
      const id = JSON.stringify([step.schema, step.table, column, shape.prefix, shape.suffix]);
      let max = taken?.get(id);
      if (max === undefined) {
        const info = (await tableColumns(tx, ref, cache)).find((c) => c.column === column);
        const numeric = NUMERIC_TYPES.has(info?.dataType ?? '');
        const v = await d.maxKey(tx, ref, column, {
          low: formatKey(shape, 0),
          high: `${shape.prefix}${'9'.repeat(shape.width)}${shape.suffix}`,
          regex: numeric ? null : `^${escapeRegex(shape.prefix)}[0-9]{${shape.width}}${escapeRegex(shape.suffix)}$`,
        });
        max = v === null ? 0 : Number(v.slice(shape.prefix.length, shape.prefix.length + shape.width));
      }
      for (let i = 1; i <= n; i++) values.push(formatKey(shape, max + i));
      taken?.set(id, max + n);
    }
    out.set(column, values);
  }
  return out;
}

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

function refValue(written: Record<string, unknown>[], mapping: Mapping, alias: string, column: string): unknown {
  const index = mapping.inserts.findIndex((s) => s.alias === alias);
  return written[index]?.[column] ?? null;
}

/** Which of these E.164 numbers already appear in any phone column of the target, in the form the hospital writes them. */
export async function findTakenPhones(db: ReadOnlyQueryable, mapping: Mapping, e164s: readonly string[]): Promise<Set<string>> {
  const taken = new Set<string>();
  if (e164s.length === 0) return taken;
  for (const { step, column, style } of phoneColumns(mapping)) {
    // Each number is looked up in the column's own format and in the common plain forms, so that
    // rows typed in by hand another way are still caught; `= ANY` uses the column's index.
    const variants = new Map<string, string>();
    for (const n of e164s) for (const s of new Set([style, 'e164', 'national', 'digits'])) variants.set(renderPhone(n, s), n);
    const d = dialectOf(db);
    const params: unknown[] = [];
    const col = d.ident(column);
    const { rows } = await db.query<{ v: string }>(`SELECT DISTINCT ${d.text(col)} AS v FROM ${tableOf(d, step)} WHERE ${d.inText(col, [...variants.keys()], params)}`, params);
    for (const r of rows) taken.add(variants.get(r.v)!);
  }
  return taken;
}

export async function findTakenEmails(db: ReadOnlyQueryable, mapping: Mapping, emails: readonly string[]): Promise<Set<string>> {
  const taken = new Set<string>();
  if (emails.length === 0) return taken;
  const d = dialectOf(db);
  for (const { step, column } of emailColumns(mapping)) {
    const params: unknown[] = [];
    const col = d.ident(column);
    const { rows } = await db.query<{ v: string }>(`SELECT DISTINCT ${d.text(col)} AS v FROM ${tableOf(d, step)} WHERE ${d.inText(col, emails, params)}`, params);
    for (const r of rows) taken.add(r.v);
  }
  return taken;
}

/**
 * Find a family in the target by its mother's phone and name columns (used to reconcile a batch that was
 * interrupted between the target commit and the vault record). Returns the keys of that insert step, or null.
 */
export async function locateFamily(db: Queryable, mapping: Mapping, family: Family, timeZone: string): Promise<TargetKeys | null> {
  const step = mapping.inserts.find((s) => s.columns.some((c) => c.value.type === 'field' && c.value.field === 'mother.phone'))!;
  const conditions: string[] = [];
  const params: unknown[] = [];
  const d = dialectOf(db);
  for (const { column, value } of step.columns) {
    if (value.type !== 'field' || !/^mother\.(phone|name|familyName|givenName)$/.test(value.field)) continue;
    const v = renderField(value, family, timeZone);
    if (v === null) continue;
    conditions.push(d.inText(d.ident(column), [String(v)], params));
  }
  const wanted = keyColumns(step);
  const select = wanted.length ? wanted.map((c) => d.ident(c)).join(', ') : '1 AS found';
  const { rows } = await db.query<Record<string, unknown>>(`SELECT ${select} FROM ${tableOf(d, step)} WHERE ${conditions.join(' AND ')} LIMIT 1`, params);
  if (rows.length === 0) return null;
  return { [step.alias]: wanted.length ? rows[0] : {} };
}

/** Count the rows of the mapping's first table: a cheap sanity figure for messages and tests. */
export async function countFamilies(db: Queryable, mapping: Mapping): Promise<number> {
  const { rows } = await db.query<{ n: number | string }>(`SELECT count(*) AS n FROM ${tableOf(dialectOf(db), mapping.inserts[0])}`);
  return Number(rows[0].n);
}

export interface CopyOptions {
  /** The first key given to each insert's returning columns (default 1). */
  firstKey?: number;
  /**
   * Each table's rows in the order the hospital wrote them (a family row at admission, a birth row at
   * birth), with their returning and numbered keys taken in that order, as a live system's are: birth
   * ids then follow birth times though families come in admission order. Holds the families in memory.
   * Default: every table in the order of `families`, streamed.
   */
  inWriteOrder?: boolean;
}

/**
 * Bulk-load families with COPY, giving each insert's returning columns explicit keys (firstKey, firstKey+1, …)
 * and moving their sequences past them afterwards. For fixture populations and benchmarks, not canaries.
 */
export async function copyFamilies(
  db: Queryable,
  mapping: Mapping,
  families: Iterable<Family> | AsyncIterable<Family>,
  timeZone: string,
  randomDigit: () => number,
  options: CopyOptions = {},
): Promise<number> {
  const firstKey = options.firstKey ?? 1;
  const buffers = mapping.inserts.map(() => [] as unknown[][]);
  const d = dialectOf(db);
  const flush = async (i: number) => {
    const step = mapping.inserts[i];
    if (buffers[i].length === 0) return;
    await db.copyFrom(`${step.schema}.${step.table}`, [...step.returning, ...step.columns.map((c) => c.column)], buffers[i]);
    buffers[i] = [];
  };
  const flushAll = async () => {
    for (const i of mapping.inserts.keys()) await flush(i);
  };
  let count = 0;
  const usedRandom = new Set<string>();
  // Numbered keys of a bulk load: one counter per column and prefix, from the largest already there.
  const counters = new Map<string, number>();
  for (const [i, step] of mapping.inserts.entries()) {
    for (const { column, value } of step.columns) {
      if (value.type !== 'key') continue;
      const shape = keyShape(value.pattern, new Date(0), timeZone);
      const [p, w, x] = [shape.prefix.length, shape.width, shape.suffix.length];
      const { rows } = await db.query<{ prefix: string; suffix: string; n: string }>(
        `SELECT left(v, ${p}) AS prefix, right(v, ${x}) AS suffix, max(substr(v, ${p + 1}, ${w})) AS n
           FROM (SELECT ${d.text(d.ident(column))} AS v FROM ${tableOf(d, step)}) t WHERE ${d.matches('v', `'^.{${p}}[0-9]{${w}}.{${x}}$'`)} GROUP BY 1, 2`,
      );
      for (const r of rows) counters.set(`${i}.${column}\u0000${r.prefix}\u0000${x ? r.suffix : ''}`, Number(r.n));
    }
  }
  const numbered = (i: number, column: string, pattern: string, at: Date) => {
    const shape = keyShape(pattern, at, timeZone);
    const id = `${i}.${column}\u0000${shape.prefix}\u0000${shape.suffix}`;
    const n = (counters.get(id) ?? 0) + 1;
    counters.set(id, n);
    return formatKey(shape, n);
  };
  const uniqueRandom = (pattern: string, column: string) => {
    for (;;) {
      const v = renderRandom(pattern, randomDigit);
      if (!usedRandom.has(`${column}\u0000${v}`)) {
        usedRandom.add(`${column}\u0000${v}`);
        return v;
      }
    }
  };
  /** Step i's row for the family, with `key` in its returning columns; `written` holds its earlier steps' rows. */
  const render = (i: number, step: InsertStep, family: Family, written: Record<string, unknown>[], key: number) => {
    const values: Record<string, unknown> = {
      ...Object.fromEntries(step.returning.map((col) => [col, key])),
      ...renderRow(step, family, timeZone, {
        ref: (alias, column) => refValue(written, mapping, alias, column),
        random: (column, pattern) => uniqueRandom(pattern, `${i}.${column}`),
        key: (column, pattern) => numbered(i, column, pattern, writtenAt(step, family)),
        stamp: (v) => renderStamp(v, v.stamp === 'updated' && family.dischargedAt ? new Date(family.dischargedAt) : writtenAt(step, family), timeZone),
      }),
    };
    written[i] = values;
    buffers[i].push([...step.returning, ...step.columns.map((c) => c.column)].map((col) => values[col]));
  };
  if (options.inWriteOrder) {
    const all: Family[] = [];
    for await (const family of families as AsyncIterable<Family>) all.push(family);
    const written = all.map(() => [] as Record<string, unknown>[]);
    // Table by table (a row's refs point to earlier tables, complete by then), each in write order.
    for (const [i, step] of mapping.inserts.entries()) {
      const at = all.map((f) => writtenAt(step, f).getTime());
      const order = all.map((_, j) => j).sort((a, b) => at[a] - at[b] || a - b);
      for (const [rank, j] of order.entries()) {
        render(i, step, all[j], written[j], firstKey + rank);
        if (buffers[i].length >= 20_000) await flush(i);
      }
      await flush(i);
    }
    count = all.length;
  } else {
    for await (const family of families as AsyncIterable<Family>) {
      const written: Record<string, unknown>[] = [];
      mapping.inserts.forEach((step, i) => render(i, step, family, written, firstKey + count));
      count++;
      if (buffers[0].length >= 20_000) await flushAll();
    }
  }
  await flushAll();
  for (const step of mapping.inserts) {
    for (const col of step.returning) await d.afterExplicitKeys(db, { schema: step.schema, table: step.table }, col);
  }
  return count;
}
