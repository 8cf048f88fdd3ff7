import { randomInt } from 'node:crypto';
import { TZDate } from '@date-fns/tz';
import { parse as parseDate } from 'date-fns/parse';
import { dialectOf, type Queryable, type TargetDialect } from '../db/index.js';
import type { Family } from '../domain/index.js';
import { freshRandomValues, insertedColumns, keyColumns, nextKeys, renderRow, type ColumnCache, type TargetKeys } from './families.js';
import { FIELDS } from './fields.js';
import { fieldEvent, LIFE_EVENTS, renderColumnField, renderField, renderStamp, stepEvent, type InsertStep, type LifeEvent, type Mapping } from './mapping.js';

// A canary's life in the target, one event at a time: at admission the rows that exist then are
// inserted (later fields NULL), at birth the rows holding the baby (or an UPDATE of the birth columns
// of a row inserted at admission), at discharge an UPDATE of the discharge columns. Each write sets
// the created/updated times of the rows it touches to the moment it happens, and numbered keys are
// taken then, as the hospital's own system would.

export interface EventWrite {
  event: LifeEvent;
  /** The whole family, its discharge time included for the discharge. */
  family: Family;
  /** Keys of the rows written at earlier events, per insert alias. */
  keys: TargetKeys;
  /** When the write happens: the rows' created/updated times and the date in numbered keys. */
  at: Date;
  timeZone: string;
  /**
   * A discharge written in parts: only the rows of these inserts (`part: 'apart'`: those whose discharge is
   * an event of its own, see apartDischarges), or all but them (`'main'`). Default: every row.
   */
  part?: 'main' | 'apart';
}

export interface EventPlan {
  inserts: InsertStep[];
  updates: { step: InsertStep; columns: string[] }[];
}

const order = (e: LifeEvent) => LIFE_EVENTS.indexOf(e);

/** What an event writes: the steps inserted then, and the columns of earlier rows it fills in. */
export function eventPlan(mapping: Mapping, event: LifeEvent): EventPlan {
  const inserts = event === 'discharge' ? [] : mapping.inserts.filter((s) => stepEvent(s) === event);
  const updates = mapping.inserts
    .filter((s) => order(stepEvent(s)) < order(event))
    .map((step) => ({ step, columns: step.columns.filter((c) => c.value.type === 'field' && fieldEvent(c.value.field) === event).map((c) => c.column) }))
    .filter((u) => u.columns.length > 0);
  return { inserts, updates };
}

/** A discharge column's own time this far from the family's discharge makes its row's discharge an event of its own. */
const APART_MS = 3_600_000;

/**
 * The inserts whose row is discharged apart from the family's discharge: a row (the baby's) holding the
 * discharge in a column of its own whose time (Family.columnTimes) lies more than an hour from the
 * first discharge column's (the mother's), as a NICU baby goes home days after its mother. Its discharge
 * is written when it happens, not with the mother's. Needs the family's discharge time.
 */
export function apartDischarges(mapping: Mapping, family: Family): string[] {
  const at = family.dischargedAt ? Date.parse(family.dischargedAt) : NaN;
  if (!Number.isFinite(at) || !family.columnTimes) return [];
  const first = mapping.inserts.find((s) => s.columns.some((c) => c.value.type === 'field' && c.value.field === 'dischargedAt'));
  return eventPlan(mapping, 'discharge')
    .updates.filter(({ step, columns }) => step !== first && columns.some((c) => Math.abs(Date.parse(family.columnTimes?.[`${step.alias}.${c}`] ?? '') - at) > APART_MS))
    .map(({ step }) => step.alias);
}

/** What this write carries out: the event's plan, a discharge narrowed to its part. */
export function eventPlanOf(mapping: Mapping, w: EventWrite): EventPlan {
  const plan = eventPlan(mapping, w.event);
  if (w.event !== 'discharge' || !w.part) return plan;
  const apart = new Set(apartDischarges(mapping, w.family));
  return { inserts: plan.inserts, updates: plan.updates.filter((u) => apart.has(u.step.alias) === (w.part === 'apart')) };
}

/** Why the mapping cannot carry a canary through its stay (rows to update later that have no key); empty when it can. */
export function lifecycleProblems(mapping: Mapping): string[] {
  const problems: string[] = [];
  for (const event of ['birth', 'discharge'] as const) {
    for (const { step, columns } of eventPlan(mapping, event).updates) {
      if (keyColumns(step).length === 0) {
        problems.push(
          `${mapping.source}: insert "${step.alias}" (${step.schema}.${step.table}) gets ${columns.join(', ')} at ${event} but has no key to find its row again: ` +
            'add "returning": [<its id column>] or a numbered {"key": …} column',
        );
      }
    }
  }
  return problems;
}

function tableOf(d: TargetDialect, step: InsertStep): string {
  return d.table({ schema: step.schema, table: step.table });
}

/** A created stamp read back from the target, as an instant (text in the stamp's format, else ISO or a Date). */
function stampMs(v: unknown, value: Extract<InsertStep['columns'][number]['value'], { type: 'stamp' }>, timeZone: string): number | null {
  if (v instanceof Date) return v.getTime();
  if (typeof v !== 'string' || v.trim() === '') return null;
  const ms = value.format ? parseDate(v.trim(), value.format, new TZDate(0, timeZone)).getTime() : Date.parse(v);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * When the newest row of the tables an event inserts into was created: the created stamp of the row
 * with the highest value of the insert's returned key (its sequence). A row inserted now takes the next
 * key, so a created time before this one would put it out of order among its neighbours. Null when no
 * such table has a created stamp and a returned key, or is empty.
 */
export async function latestCreated(db: Queryable, mapping: Mapping, event: LifeEvent, timeZone: string): Promise<Date | null> {
  const d = dialectOf(db);
  let latest: number | null = null;
  for (const step of eventPlan(mapping, event).inserts) {
    const key = step.returning[0];
    const stamp = step.columns.find((c) => c.value.type === 'stamp' && c.value.stamp === 'created');
    if (!key || !stamp || stamp.value.type !== 'stamp') continue;
    const { rows } = await db.query<{ v: unknown }>(`SELECT ${d.ident(stamp.column)} AS v FROM ${tableOf(d, step)} ORDER BY ${d.ident(key)} DESC LIMIT 1`);
    const ms = stampMs(rows[0]?.v, stamp.value, timeZone);
    if (ms !== null && (latest === null || ms > latest)) latest = ms;
  }
  return latest === null ? null : new Date(latest);
}

/** A column of an earlier row: from the keys kept, from this event's rows, else rendered again from the family. */
function refFor(mapping: Mapping, w: EventWrite, keys: TargetKeys, written: Record<string, Record<string, unknown>>, alias: string, column: string): unknown {
  const kept = keys[alias]?.[column] ?? written[alias]?.[column];
  if (kept !== undefined) return kept;
  const spec = mapping.inserts.find((s) => s.alias === alias)?.columns.find((c) => c.column === column)?.value;
  if (spec?.type === 'field') return renderField(spec, w.family, w.timeZone);
  if (spec?.type === 'const') return spec.value;
  return null;
}

/** The values an update writes: the event's columns and the row's updated times. */
function updateValues(step: InsertStep, columns: readonly string[], w: EventWrite): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  // A row whose column holds its own time for this event (the baby's discharge after the mother's) is updated that much later.
  let shift = 0;
  for (const { column, value } of step.columns) {
    if (value.type !== 'field' || !columns.includes(column)) continue;
    values[column] = renderColumnField(step, column, value, w.family, w.timeZone);
    const own = w.family.columnTimes?.[`${step.alias}.${column}`];
    const base = value.kind === 'instant' ? FIELDS[value.field].get(w.family) : null;
    if (own && typeof base === 'string') shift = Math.max(shift, Date.parse(own) - Date.parse(base));
  }
  for (const { column, value } of step.columns) {
    if (value.type !== 'stamp' || value.stamp !== 'updated') continue;
    // Drawn with the row's own time (its own recording delay after it), else the write shifted by it.
    const drawn = w.event === 'discharge' ? w.family.columnTimes?.[`${step.alias}.${column}`] : undefined;
    // At the birth, the learned while after the baby's row (one stamp for both rows is a tell).
    const gap = w.event === 'birth' ? (w.family.stampGaps?.[`${step.alias}.${column}`] ?? 0) * 1000 : 0;
    values[column] = renderStamp(value, drawn ? new Date(drawn) : new Date(w.at.getTime() + shift + gap), w.timeZone);
  }
  return values;
}

function whereKeys(d: TargetDialect, step: InsertStep, keys: Record<string, unknown> | undefined, params: unknown[]): string {
  const cols = keyColumns(step).filter((c) => keys?.[c] !== undefined && keys[c] !== null);
  if (cols.length === 0) throw new Error(`no key kept for the row of insert "${step.alias}" (${step.schema}.${step.table}); cannot update it`);
  return cols.map((c) => `${d.ident(c)} = ${d.param(params, keys![c])}`).join(' AND ');
}

/**
 * Carry out one event in the target. Call inside a transaction; returns the keys with those of the rows
 * inserted now. `columns` keeps the tables' catalog across transactions (src/targetdb/families.ts).
 */
export async function writeEvent(tx: Queryable, mapping: Mapping, w: EventWrite, columns?: ColumnCache): Promise<TargetKeys> {
  return (await writeEvents(tx, mapping, [w], columns))[0];
}

/**
 * Carry out events in the order given, as writeEvent one after another would, with one multi-row
 * INSERT per table instead of one per event: for a caller writing many at once (the demo hospital's own
 * admissions, births and discharges between Cradle's runs). Call inside a transaction. A table's rows
 * are inserted in the order of their events and take their numbered keys in that order; the updates
 * follow the inserts. Writes of one family (the same Family object) see the keys of the rows the
 * earlier ones inserted. Returns, per write, its family's keys after them all. A mapping with two
 * inserts into one table is written an event at a time, so that the table's rows keep event order.
 */
export async function writeEvents(tx: Queryable, mapping: Mapping, writes: readonly EventWrite[], columns?: ColumnCache): Promise<TargetKeys[]> {
  const live = new Map<Family, TargetKeys>();
  const tables = mapping.inserts.map((s) => JSON.stringify([s.schema, s.table]));
  if (new Set(tables).size < tables.length) {
    for (const w of writes) await writeBatch(tx, mapping, [w], live, columns);
  } else {
    await writeBatch(tx, mapping, writes, live, columns);
  }
  return writes.map((w) => JSON.parse(JSON.stringify(live.get(w.family))) as TargetKeys);
}

const ROWS_PER_STATEMENT = 500;

async function writeBatch(tx: Queryable, mapping: Mapping, writes: readonly EventWrite[], live: Map<Family, TargetKeys>, columns?: ColumnCache): Promise<void> {
  const plans = writes.map((w) => eventPlanOf(mapping, w));
  const d = dialectOf(tx);
  const touched = [...new Set(plans.flatMap((p) => [...p.inserts, ...p.updates.map((u) => u.step)]))];
  if (touched.length) await d.checkWritable(tx, touched.map((s) => ({ schema: s.schema, table: s.table })));
  // A family's keys: those it came with, and those of the rows written for it since.
  const keysOf = (w: EventWrite): TargetKeys => {
    let keys = live.get(w.family);
    if (!keys) live.set(w.family, (keys = JSON.parse(JSON.stringify(w.keys)) as TargetKeys));
    return keys;
  };
  for (const w of writes) keysOf(w);
  // This event's rows, for refs between rows inserted at the same event.
  const written = writes.map(() => ({}) as Record<string, Record<string, unknown>>);
  const taken = new Map<string, number>();
  // Table by table in the mapping's order: a row's refs point to earlier inserts.
  for (const step of mapping.inserts) {
    const rows = writes.flatMap((_, i) => (plans[i].inserts.includes(step) ? [i] : []));
    if (rows.length === 0) continue;
    const randoms = await freshRandomValues(tx, step, rows.length, () => randomInt(10));
    const valuesOf: Record<string, unknown>[] = [];
    const own: Record<string, unknown>[] = [];
    for (const [r, i] of rows.entries()) {
      const w = writes[i];
      const keys = live.get(w.family)!;
      const numbered = await nextKeys(tx, step, 1, w.at, w.timeZone, columns, taken);
      const mine: Record<string, unknown> = {};
      const values = renderRow(step, w.family, w.timeZone, {
        ref: (alias, column) => refFor(mapping, w, keys, written[i], alias, column),
        random: (column) => (mine[column] = randoms.get(column)![r]),
        key: (column) => (mine[column] = numbered.get(column)![0]),
        stamp: (v) => renderStamp(v, w.at, w.timeZone),
        upTo: w.event,
      });
      written[i][step.alias] = values;
      own.push(mine);
      valuesOf.push(values);
    }
    // In write order, a statement per run of rows with the same columns (a profile's extra columns,
    // such as a created time the database would default, are written where the row has them).
    for (let start = 0; start < rows.length;) {
      const columnsOf = insertedColumns(step, [valuesOf[start]]);
      let end = start + 1;
      while (end < rows.length && end - start < ROWS_PER_STATEMENT && insertedColumns(step, [valuesOf[end]]).join('\u0000') === columnsOf.join('\u0000')) end++;
      const returned = await d.insertRows(tx, { schema: step.schema, table: step.table }, columnsOf, valuesOf.slice(start, end).map((v) => columnsOf.map((c) => v[c])), step.returning);
      rows.slice(start, end).forEach((i, offset) => {
        live.get(writes[i].family)![step.alias] = { ...own[start + offset], ...returned[offset] };
        written[i][step.alias] = { ...written[i][step.alias], ...returned[offset] };
      });
      start = end;
    }
  }
  for (const [i, w] of writes.entries()) {
    for (const { step, columns: filled } of plans[i].updates) {
      const values = updateValues(step, filled, w);
      const params: unknown[] = [];
      const sets = Object.entries(values).map(([c, v]) => `${d.ident(c)} = ${d.param(params, v)}`);
      const res = await tx.query(`UPDATE ${tableOf(d, step)} SET ${sets.join(', ')} WHERE ${whereKeys(d, step, live.get(w.family)![step.alias], params)}`, params);
      if (res.rowCount !== 1) throw new Error(`the ${w.event} update of ${step.schema}.${step.table} matched ${res.rowCount} rows instead of 1 (was the row changed by hand?)`);
    }
  }
}

/**
 * Whether an event interrupted between the target commit and the vault record is in the target: its
 * inserted rows found by the values only this family has (its refs, names and phones), its updates by
 * the values they set. Returns the keys when it is there, null when it is not.
 */
export async function findEvent(db: Queryable, mapping: Mapping, w: EventWrite): Promise<TargetKeys | null> {
  const plan = eventPlanOf(mapping, w);
  const d = dialectOf(db);
  const keys: TargetKeys = JSON.parse(JSON.stringify(w.keys)) as TargetKeys;
  let found = 0;
  for (const step of plan.inserts) {
    const params: unknown[] = [];
    const conditions: string[] = [];
    for (const { column, value } of step.columns) {
      let v: unknown = null;
      if (value.type === 'ref') v = refFor(mapping, w, keys, {}, value.alias, value.column);
      else if (value.type === 'field' && (value.kind === 'text' || value.kind === 'phone') && order(fieldEvent(value.field)) <= order(w.event)) v = renderField(value, w.family, w.timeZone);
      if (v !== null && v !== undefined) conditions.push(`${d.ident(column)} = ${d.param(params, v)}`);
    }
    if (conditions.length === 0) throw new Error(`cannot tell whether the ${w.event} row of ${step.schema}.${step.table} was written: it holds no name, phone or ref to look for`);
    const wanted = keyColumns(step);
    const { rows } = await db.query<Record<string, unknown>>(`SELECT ${wanted.length ? wanted.map((c) => d.ident(c)).join(', ') : '1 AS found'} FROM ${tableOf(d, step)} WHERE ${conditions.join(' AND ')} LIMIT 2`, params);
    if (rows.length > 1) throw new Error(`two rows of ${step.schema}.${step.table} match the canary's ${w.event}; inspect them by hand`);
    if (rows.length === 1) {
      keys[step.alias] = wanted.length ? rows[0] : {};
      found++;
    }
  }
  if (plan.inserts.length) {
    if (found === plan.inserts.length) return keys;
    if (found === 0) return null;
    throw new Error(`the canary's ${w.event} is half in the target (${found} of ${plan.inserts.length} rows), though it was written in one transaction: rows were changed by hand`);
  }
  for (const { step, columns } of plan.updates) {
    const params: unknown[] = [];
    const where = whereKeys(d, step, keys[step.alias], params);
    const values = updateValues(step, columns, w);
    const set = columns.map((c) => (values[c] === null ? `${d.ident(c)} IS NULL` : `${d.ident(c)} = ${d.param(params, values[c])}`));
    const { rows } = await db.query(`SELECT 1 FROM ${tableOf(d, step)} WHERE ${where} AND ${set.join(' AND ')}`, params);
    if (rows.length === 0) return null;
  }
  return keys;
}
