import type { ReadOnlyQueryable } from '../db/index.js';
import { dialectOf, quoteIdent, quoteQualified } from '../db/index.js';
import type { ColumnProfile, Counts, KeyProfile, NullPatterns, NumberProfile, TextProfile, TimeProfile } from '../domain/index.js';
import { countsOf } from '../lib/counts.js';
import { ID_WEIGHTS } from '../lib/generate/index.js';
import { columnKey, joinedFrom, targetColumns, type Mapping, type TargetColumn } from '../targetdb/index.js';

// Learning the column-level part of a hospital's profile: for every column of the mapping's tables,
// named by the mapping or not, its type, null share, categorical values, number quantiles and
// recording step, time precision and patterns, text shapes and lengths, and the patterns keys follow.
// Read-only, in SQL aggregates over each table (one row per family in the mapping's tables): nothing
// but aggregates comes back, so a million families never pass through JS.
//
// Privacy (see src/domain/profile-columns.ts): values and shapes are kept only when k families share
// them, quantiles only at levels with k families beyond, and identifying columns keep no values.

export interface ColumnLearnOptions {
  /** Keep a value only when at least k families share it. */
  k: number;
  /** The hospital's time zone: timestamptz columns are read as its wall-clock time. */
  timeZone: string;
  /**
   * Tables with more rows than this are read through a sample of about this many rows (TABLESAMPLE
   * SYSTEM, repeatable) for everything but null shares, distinct counts and categorical values, which
   * always count every row. Default 50,000.
   */
  sampleRows?: number;
  onProgress?: (message: string) => void;
}

/** A column with at most this many distinct values is categorical (unless it identifies people). */
export const CATEGORICAL_MAX = 200;
/** Fields whose values name or reach a person: their columns keep no values. */
const IDENTIFYING_FIELD = /(\.name|\.familyName|\.givenName|\.latin|\.phone|\.email)$|^(address|street)$/;
const STEPS = [1000, 100, 10, 1, 0.1, 0.01, 0.001];
const NUMBER_TYPES = new Set(['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision']);
const INTEGER_TYPES = new Set(['smallint', 'integer', 'bigint']);
const TIME_TYPES = new Set(['timestamp without time zone', 'timestamp with time zone', 'date']);
const TEXT_TYPES = new Set(['text', 'character varying', 'character']);
const DIGITS = '0123456789';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

type Kind = 'number' | 'time' | 'text' | 'boolean' | 'other';

function kindOf(dataType: string): Kind {
  if (NUMBER_TYPES.has(dataType)) return 'number';
  if (TIME_TYPES.has(dataType)) return 'time';
  if (TEXT_TYPES.has(dataType)) return 'text';
  if (dataType === 'boolean') return 'boolean';
  return 'other';
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** SQL: the shape of a text value: digits → #, Latin letters → A, CJK → 汉, other characters kept. */
export function shapeSql(expr: string): string {
  return `regexp_replace(translate(${expr}, '${DIGITS}${LETTERS}', '${'#'.repeat(10)}${'A'.repeat(52)}'), '[\u3400-\u4dbf\u4e00-\u9fff]', '汉', 'g')`;
}

/** The shape of a text value, as shapeSql computes it (for tests and generators). */
export function shapeOf(value: string): string {
  return value.replace(/[0-9]/g, '#').replace(/[A-Za-z]/g, 'A').replace(/[\u3400-\u4dbf\u4e00-\u9fff]/g, '汉');
}

/** Quantile levels 0, 0.01, …, 1 clipped so that at least k of n values lie at or beyond each end; none when n < 2k. */
export function quantileLevels(n: number, k: number): number[] {
  if (n < 2 * k) return [];
  const lo = Math.min(0.5, k / n);
  const levels = new Set<number>();
  for (let i = 0; i <= 100; i++) levels.add(Math.min(1 - lo, Math.max(lo, i / 100)));
  return [...levels].sort((a, b) => a - b);
}

interface Scope {
  db: ReadOnlyQueryable;
  mapping: Mapping;
  k: number;
  timeZone: string;
  /** Per alias, the sample percentage of its table (100: every row). */
  samplePct: Map<string, number>;
}

/** A column as a SQL expression: its wall-clock time for timestamptz, else itself. */
function valueSql(c: TargetColumn, tz: string, alias = true): string {
  const ref = alias ? `${quoteIdent(c.alias)}.${quoteIdent(c.column)}` : quoteIdent(c.column);
  if (c.dataType === 'timestamp with time zone') return `(${ref} AT TIME ZONE ${literal(tz)})`;
  if (c.dataType === 'date') return `${ref}::timestamp`;
  return ref;
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function tableOf(c: TargetColumn): string {
  return `${quoteQualified([c.schema, c.table])} AS ${quoteIdent(c.alias)}`;
}

/** The column's table, through its sample when it is large. */
function sampleOf(s: Scope, c: TargetColumn): string {
  const pct = s.samplePct.get(c.alias) ?? 100;
  return pct >= 100 ? tableOf(c) : `${tableOf(c)} TABLESAMPLE SYSTEM (${pct.toFixed(4)}) REPEATABLE (7)`;
}

/** Learn the profile of every column of the mapping's tables, keyed `alias.column`, and per table which columns are empty together. */
export async function learnColumnProfiles(
  db: ReadOnlyQueryable,
  mapping: Mapping,
  opts: ColumnLearnOptions,
): Promise<{ columns: Record<string, ColumnProfile>; nullPatterns: Record<string, NullPatterns> }> {
  const scope: Scope = { db, mapping, k: opts.k, timeZone: opts.timeZone, samplePct: new Map() };
  const sampleRows = opts.sampleRows ?? 50_000;
  const columns = await targetColumns(db, mapping);
  const out: Record<string, ColumnProfile> = {};
  const patterns: Record<string, NullPatterns> = {};
  // The family's anchor times: mapped instants, else the first time column of the first table.
  const anchors = anchorTimes(columns);
  for (const step of mapping.inserts) {
    const cols = columns.filter((c) => c.alias === step.alias);
    opts.onProgress?.(`profiling ${step.schema}.${step.table}: ${cols.length} columns`);
    const basics = await basicCounts(scope, cols);
    const tableRows = cols.length ? basics.get(columnKey(cols[0]))!.rows : 0;
    const nullable = cols.filter((c) => basics.get(columnKey(c))!.nonEmpty < basics.get(columnKey(c))!.rows);
    const joint = await nullPatternsOf(scope, nullable);
    if (joint) patterns[step.alias] = joint;
    if (tableRows > sampleRows) scope.samplePct.set(step.alias, (100 * sampleRows) / tableRows);
    const categories = await categorical(
      scope,
      cols.filter((c) => {
        const b = basics.get(columnKey(c))!;
        const kind = kindOf(c.dataType);
        return b.distinct <= CATEGORICAL_MAX && b.distinct > 0 && kind !== 'other' && kind !== 'time';
      }),
    );
    for (const c of cols) {
      const key = columnKey(c);
      const b = basics.get(key)!;
      const field = c.value?.type === 'field' ? c.value.field : undefined;
      const kind = kindOf(c.dataType);
      const nonNull = b.nonEmpty;
      const unique = nonNull >= 2 && b.distinct === nonNull;
      const nameLike = kind === 'text' && !field && b.distinct > 60 && (await nameLikeShare(scope, c)) >= 0.9;
      const identifying =
        (field !== undefined && IDENTIFYING_FIELD.test(field)) ||
        nameLike ||
        (kind === 'text' && b.distinct > CATEGORICAL_MAX) ||
        (kind === 'number' && nonNull >= 2 && b.distinct >= 0.9 * nonNull && b.distinct > CATEGORICAL_MAX) ||
        unique;
      const profile: ColumnProfile = {
        dataType: c.dataType,
        nullShare: b.rows ? 1 - nonNull / b.rows : 0,
        ...(b.empty > 0 && b.rows > nonNull ? { emptyShare: b.empty / (b.rows - nonNull) } : {}),
        rows: b.rows,
        distinct: b.distinct,
        ...(field ? { field } : {}),
        identifying,
        ...(c.value === undefined && kind === 'time' && c.hasDefault ? { writeTime: true } : {}),
      };
      if (!identifying && b.distinct <= CATEGORICAL_MAX && kind !== 'other' && kind !== 'time') profile.values = categories.get(key) ?? { total: 0, values: {}, other: 0 };
      if (kind === 'number' && !identifying) profile.number = await numberProfile(scope, c, nonNull);
      if (kind === 'time') profile.time = await timeProfile(scope, c, nonNull, anchors);
      // Shapes say nothing a categorical column's values do not already say.
      const categoricalEnough = profile.values && profile.values.other / Math.max(1, profile.values.total) < 0.05;
      if (kind === 'text' && !categoricalEnough) profile.text = await textProfile(scope, c, nonNull);
      if (identifying && (kind === 'number' || kind === 'text')) {
        const keyProfile = await keyProfileOf(scope, c, { unique, nearlyUnique: b.distinct >= 0.99 * nonNull }, profile.text, anchors);
        if (keyProfile) profile.key = keyProfile;
      }
      out[key] = profile;
    }
    // Learned categories drawn with the weight (a gestational week beside the birth weight).
    const weight = cols.find((c) => c.value?.type === 'field' && c.value.field === 'baby.weightGrams' && kindOf(c.dataType) === 'number');
    const ward = weight ? cols.find((c) => c.value?.type === 'field' && c.value.field === 'ward' && c.alias === weight.alias) : undefined;
    for (const c of weight ? cols : []) {
      const p = out[columnKey(c)];
      if (c.value?.type !== 'learned' || !p.values || Object.keys(p.values.values).length < 2) continue;
      const byWeight = (await valuesByNumber(scope, c, weight!))?.[''];
      if (!byWeight) continue;
      p.byWeight = { column: columnKey(weight!), groups: Object.fromEntries(Object.entries(byWeight).map(([g, { quantileLevels, quantiles }]) => [g, { quantileLevels, quantiles }])) };
      // And per ward where the table holds it: a term ward's 2,400 g baby is 37 weeks, a NICU's 35.
      const wards = ward ? await valuesByNumber(scope, c, weight!, ward) : undefined;
      if (wards) p.byWeight.wards = wards;
    }
  }
  return { columns: out, nullPatterns: patterns };
}

/** Columns of one table in a null pattern at most (the first ones in the table's order beyond are left out). */
export const NULL_PATTERN_COLUMNS = 40;

/**
 * Which of these columns (of one table, each NULL or empty on some rows) are empty together: every row's
 * pattern (N NULL, E empty text, - a value), counted over every row, kept under the k rule. Null when
 * no column is ever empty.
 */
async function nullPatternsOf(s: Scope, cols: TargetColumn[]): Promise<NullPatterns | null> {
  const list = cols.slice(0, NULL_PATTERN_COLUMNS);
  if (list.length === 0) return null;
  const states = list.map((c) => {
    const ref = `${quoteIdent(c.alias)}.${quoteIdent(c.column)}`;
    return kindOf(c.dataType) === 'text' ? `CASE WHEN ${ref} IS NULL THEN 'N' WHEN ${ref} = '' THEN 'E' ELSE '-' END` : `CASE WHEN ${ref} IS NULL THEN 'N' ELSE '-' END`;
  });
  const { rows } = await s.db.query<{ p: string; n: number }>(`SELECT ${states.join(' || ')} AS p, count(*)::float8 AS n FROM ${tableOf(list[0])} GROUP BY 1`);
  return { columns: list.map((c) => c.column), patterns: countsOf(rows.map((r) => [r.p, num(r.n)] as const), s.k) };
}

function anchorTimes(columns: TargetColumn[]): TargetColumn[] {
  const mapped = columns.filter((c) => kindOf(c.dataType) === 'time' && c.value?.type === 'field' && ['admittedAt', 'baby.birthTime', 'dischargedAt'].includes(c.value.field));
  const order = ['admittedAt', 'baby.birthTime', 'dischargedAt'];
  mapped.sort((a, b) => order.indexOf((a.value as { field: string }).field) - order.indexOf((b.value as { field: string }).field));
  if (mapped.length) return mapped;
  const first = columns.find((c) => kindOf(c.dataType) === 'time');
  return first ? [first] : [];
}

interface Basic {
  rows: number;
  nonEmpty: number;
  /** Rows with empty text (''): text columns only. */
  empty: number;
  distinct: number;
}

/** One scan of a table: rows, non-empty values and distinct values of each column. */
async function basicCounts(s: Scope, cols: TargetColumn[]): Promise<Map<string, Basic>> {
  const out = new Map<string, Basic>();
  if (cols.length === 0) return out;
  const parts = ['count(*)::float8 AS n'];
  cols.forEach((c, i) => {
    const ref = `${quoteIdent(c.alias)}.${quoteIdent(c.column)}`;
    const kind = kindOf(c.dataType);
    parts.push(kind === 'text' ? `count(NULLIF(${ref}, ''))::float8 AS v${i}` : `count(${ref})::float8 AS v${i}`);
    parts.push(kind === 'text' ? `count(*) FILTER (WHERE ${ref} = '')::float8 AS e${i}` : `0::float8 AS e${i}`);
    const distinctOf = kind === 'text' ? `NULLIF(${ref}, '') COLLATE "C"` : kind === 'other' ? `${ref}::text COLLATE "C"` : ref;
    parts.push(`count(DISTINCT ${distinctOf})::float8 AS d${i}`);
  });
  const { rows } = await s.db.query<Record<string, unknown>>(`SELECT ${parts.join(', ')} FROM ${tableOf(cols[0])}`);
  cols.forEach((c, i) => out.set(columnKey(c), { rows: num(rows[0].n), nonEmpty: num(rows[0][`v${i}`]), empty: num(rows[0][`e${i}`]), distinct: num(rows[0][`d${i}`]) }));
  return out;
}

/** Share of a text column's values that look like a person's name (2–4 CJK characters). */
async function nameLikeShare(s: Scope, c: TargetColumn): Promise<number> {
  const ref = `${quoteIdent(c.alias)}.${quoteIdent(c.column)}`;
  const { rows } = await s.db.query<{ share: number | null }>(
    `SELECT avg((${ref} ~ '^[\u3400-\u4dbf\u4e00-\u9fff·]{2,4}$')::int)::float8 AS share FROM ${sampleOf(s, c)} WHERE NULLIF(${ref}, '') IS NOT NULL`,
  );
  return num(rows[0].share);
}

/** Every value's count in each of these columns of one table, over every row (the k rule needs exact counts), in one read. */
async function categorical(s: Scope, cols: TargetColumn[]): Promise<Map<string, Counts>> {
  const out = new Map<string, Counts>();
  if (cols.length === 0) return out;
  const refs = cols.map((c) => `NULLIF(${quoteIdent(c.alias)}.${quoteIdent(c.column)}::text, '')`);
  const { rows } = await s.db.query<Record<string, unknown>>(
    `SELECT ${refs.map((r, i) => `${r} AS v${i}, GROUPING(${r}) AS g${i}`).join(', ')}, count(*)::float8 AS n
       FROM ${tableOf(cols[0])} GROUP BY GROUPING SETS (${refs.map((r) => `(${r})`).join(', ')})`,
  );
  cols.forEach((c, i) => {
    const pairs = rows.filter((r) => num(r[`g${i}`]) === 0).map((r) => [(r[`v${i}`] as string | null) ?? null, num(r.n)] as const);
    out.set(columnKey(c), countsOf(pairs, s.k));
  });
  return out;
}

async function numberProfile(s: Scope, c: TargetColumn, n: number): Promise<NumberProfile | undefined> {
  if (n === 0) return undefined;
  const ref = `${quoteIdent(c.alias)}.${quoteIdent(c.column)}`;
  const pct = s.samplePct.get(c.alias) ?? 100;
  const levels = quantileLevels(Math.round((n * pct) / 100), s.k);
  const stepParts = STEPS.map((step, i) => `avg((${ref}::numeric % ${step} = 0)::int)::float8 AS s${i}`);
  const { rows } = await s.db.query<Record<string, unknown>>(
    `SELECT ${levels.length ? `percentile_cont($1::float8[]) WITHIN GROUP (ORDER BY ${ref}::float8)` : 'NULL'} AS q, ${stepParts.join(', ')}
       FROM ${sampleOf(s, c)} WHERE ${ref} IS NOT NULL`,
    levels.length ? [levels] : [],
  );
  const steps: Record<string, number> = {};
  STEPS.forEach((step, i) => (steps[String(step)] = INTEGER_TYPES.has(c.dataType) && step < 1 ? 1 : num(rows[0][`s${i}`])));
  const step = STEPS.find((st) => steps[String(st)] >= 0.95) ?? STEPS[STEPS.length - 1];
  const q = rows[0].q as unknown[] | null;
  return { quantileLevels: levels, quantiles: (q ?? []).map(num), steps, step };
}

/** Levels at which a category's weights are read: every 5 %, clipped to k families beyond each end. */
const BY_NUMBER_LEVELS = Array.from({ length: 21 }, (_, i) => i / 20);

/**
 * Per group of a categorical column's values (values that start with the same number are one group: the
 * weeks 39 and 39+3; any other value is a group of its own), the quantiles of a number column of the
 * same table among the group's rows, at the levels of BY_NUMBER_LEVELS with at least k of them beyond
 * each end (none for a group fewer than 2k rows share). Every row counts. Undefined when no group has two levels.
 */
async function valuesByNumber(s: Scope, c: TargetColumn, numberColumn: TargetColumn, by?: TargetColumn): Promise<Record<string, Record<string, { n: number; quantileLevels: number[]; quantiles: number[] }>> | undefined> {
  const ref = `NULLIF(${quoteIdent(c.alias)}.${quoteIdent(c.column)}::text, '')`;
  const w = `${quoteIdent(numberColumn.alias)}.${quoteIdent(numberColumn.column)}`;
  const key = by ? `NULLIF(btrim(${quoteIdent(by.alias)}.${quoteIdent(by.column)}::text), '')` : `''`;
  const { rows } = await s.db.query<{ b: string | null; g: string; n: number; q: unknown[] }>(
    `SELECT ${key} AS b, COALESCE(substring(${ref} from '^[0-9]+'), ${ref}) AS g, count(*)::float8 AS n, percentile_cont($1::float8[]) WITHIN GROUP (ORDER BY ${w}::float8) AS q
       FROM ${tableOf(c)} WHERE ${ref} IS NOT NULL AND ${w} IS NOT NULL GROUP BY 1, 2 HAVING count(*) >= $2`,
    [BY_NUMBER_LEVELS, 2 * s.k],
  );
  const out: Record<string, Record<string, { n: number; quantileLevels: number[]; quantiles: number[] }>> = {};
  for (const r of rows) {
    const n = num(r.n);
    const at = BY_NUMBER_LEVELS.map((l, i) => [l, i] as const).filter(([l]) => l * n >= s.k && (1 - l) * n >= s.k);
    if (at.length < 2 || r.b === null) continue;
    (out[r.b] ??= {})[r.g] = { n, quantileLevels: at.map(([l]) => l), quantiles: at.map(([, i]) => num(r.q[i])) };
  }
  return Object.keys(out).length ? out : undefined;
}

/** The FROM clause of the mapping's families, the first table through its sample when it is large. */
function sampledFamilies(s: Scope): string {
  const first = s.mapping.inserts[0];
  const from = joinedFrom(dialectOf(s.db), s.mapping, 'inner');
  const pct = s.samplePct.get(first.alias) ?? 100;
  if (pct >= 100) return from;
  const table = `${quoteQualified([first.schema, first.table])} AS ${quoteIdent(first.alias)}`;
  return from.replace(table, `${table} TABLESAMPLE SYSTEM (${pct.toFixed(4)}) REPEATABLE (7)`);
}

async function timeProfile(s: Scope, c: TargetColumn, n: number, anchors: TargetColumn[]): Promise<TimeProfile | undefined> {
  if (n === 0) return undefined;
  const t = valueSql(c, s.timeZone);
  const others = anchors.filter((a) => columnKey(a) !== columnKey(c));
  const diffs = others.map((a) => `extract(epoch FROM (${t} - ${valueSql(a, s.timeZone)}))::float8`);
  // Anchors in the column's own table: the offsets' counts come with the hours, from the same read.
  const sameTable = others.length > 0 && others.every((a) => a.alias === c.alias);
  // The wall-clock time (and the offsets) computed once per row in a subquery (OFFSET 0 keeps it apart), not once per aggregate.
  const { rows } = await s.db.query<Record<string, number>>(
    `SELECT extract(hour FROM t)::int AS h, extract(isodow FROM t)::int AS d, count(*)::float8 AS n,
            sum((date_trunc('day', t) = t)::int)::float8 AS day,
            sum((date_trunc('minute', t) = t AND date_trunc('day', t) <> t)::int)::float8 AS minute,
            sum((date_trunc('second', t) = t AND date_trunc('minute', t) <> t)::int)::float8 AS second,
            sum((date_trunc('second', t) <> t)::int)::float8 AS ms${sameTable ? diffs.map((_, i) => `, count(o${i})::float8 AS n${i}`).join('') : ''}
       FROM (SELECT ${t} AS t${sameTable ? diffs.map((d, i) => `, ${d} AS o${i}`).join('') : ''} FROM ${sampleOf(s, c)} WHERE ${t} IS NOT NULL OFFSET 0) AS x GROUP BY 1, 2`,
  );
  const hours = new Array<number>(24).fill(0);
  const weekdays = new Array<number>(7).fill(0);
  const precision = { day: 0, minute: 0, second: 0, ms: 0 };
  let total = 0;
  for (const r of rows) {
    const cnt = num(r.n);
    total += cnt;
    hours[num(r.h)] += cnt;
    weekdays[num(r.d) - 1] += cnt;
    precision.day += num(r.day);
    precision.minute += num(r.minute);
    precision.second += num(r.second);
    precision.ms += num(r.ms);
  }
  const share = (x: number) => (total ? x / total : 0);
  const profile: TimeProfile = {
    precision: { day: share(precision.day), minute: share(precision.minute), second: share(precision.second), ms: share(precision.ms) },
    hours: hours.map(share),
    weekdays: weekdays.map(share),
  };
  // Offsets from every anchor in one read: from the column's own table when all are there, else the families joined.
  if (others.length) {
    const from = sameTable ? `FROM ${sampleOf(s, c)}` : sampledFamilies(s);
    const counted: Record<string, unknown>[] = sameTable
      ? [Object.fromEntries(['n', ...others.map((_, i) => `n${i}`)].map((key) => [key, rows.reduce((a, r) => a + num(r[key]), 0)]))]
      : (await s.db.query<Record<string, unknown>>(`SELECT count(${t})::float8 AS n, ${diffs.map((d, i) => `count(${d})::float8 AS n${i}`).join(', ')} ${from}`)).rows;
    const levelsOf = others.map((_, i) => quantileLevels(num(counted[0][`n${i}`]), s.k));
    const wanted = others.map((_, i) => i).filter((i) => levelsOf[i].length);
    if (wanted.length) {
      const { rows: q } = await s.db.query<Record<string, unknown[]>>(
        `SELECT ${wanted.map((i) => `percentile_cont($${wanted.indexOf(i) + 1}::float8[]) WITHIN GROUP (ORDER BY ${diffs[i]}) AS q${i}`).join(', ')} ${from}`,
        wanted.map((i) => levelsOf[i]),
      );
      const offsets: NonNullable<TimeProfile['offsets']> = {};
      for (const i of wanted) {
        offsets[columnKey(others[i])] = { share: num(counted[0][`n${i}`]) / Math.max(1, num(counted[0].n)), quantileLevels: levelsOf[i], quantiles: q[0][`q${i}`].map(num) };
      }
      profile.offsets = offsets;
    }
  }
  return profile;
}

/** Shapes (with the literal prefix each shape's values share) and lengths, in one read, under the k rule. */
async function textProfile(s: Scope, c: TargetColumn, n: number): Promise<TextProfile | undefined> {
  if (n === 0) return undefined;
  const ref = `NULLIF(${quoteIdent(c.alias)}.${quoteIdent(c.column)}::text, '')`;
  const { rows } = await s.db.query<{ shape: string | null; len: number | null; n: number; lo: string | null; hi: string | null }>(
    `SELECT shape, len, count(*)::float8 AS n, min(v COLLATE "C") AS lo, max(v COLLATE "C") AS hi
       FROM (SELECT ${ref} AS v, ${shapeSql(ref)} AS shape, char_length(${ref}) AS len FROM ${sampleOf(s, c)} WHERE ${ref} IS NOT NULL) s
      GROUP BY GROUPING SETS ((shape), (len))`,
  );
  const shapes: [string, number][] = [];
  const lengths: [string, number][] = [];
  for (const r of rows) {
    if (r.shape !== null) {
      const cnt = num(r.n);
      // The values of a shape shared by k families keep their common literal prefix (ZY…, a region code).
      shapes.push([cnt >= s.k ? withPrefix(r.shape, commonPrefix(r.lo ?? '', r.hi ?? '')) : r.shape, cnt]);
    } else if (r.len !== null) lengths.push([String(r.len), num(r.n)]);
  }
  return { shapes: countsOf(shapes, s.k), lengths: countsOf(lengths, s.k) };
}

function commonPrefix(a: string, b: string): string {
  const x = [...a];
  const y = [...b];
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  return x.slice(0, i).join('');
}

function withPrefix(shape: string, prefix: string): string {
  const chars = [...shape];
  const p = [...prefix];
  return [...p, ...chars.slice(p.length)].join('');
}

const DATE_PATTERNS: { pattern: NonNullable<KeyProfile['datePrefix']>['pattern']; length: number; regex: string; sqlFormat: string }[] = [
  { pattern: 'yyyyMMdd', length: 8, regex: '^(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$', sqlFormat: 'YYYYMMDD' },
  { pattern: 'yyMMdd', length: 6, regex: '^[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$', sqlFormat: 'YYMMDD' },
  { pattern: 'yyyyMM', length: 6, regex: '^(19|20)[0-9]{2}(0[1-9]|1[0-2])$', sqlFormat: 'YYYYMM' },
  { pattern: 'yyyy', length: 4, regex: '^(19|20)[0-9]{2}$', sqlFormat: 'YYYY' },
];

/** SQL: the ISO 7064 mod 11-2 check character of an 18-character ID-card number, as text ('X' for 10). */
function idCheckSql(v: string): string {
  const sum = ID_WEIGHTS.map((w, i) => `substr(${v}, ${i + 1}, 1)::int * ${w}`).join(' + ');
  return `(CASE (12 - ((${sum}) % 11)) % 11 WHEN 10 THEN 'X' ELSE ((12 - ((${sum}) % 11)) % 11)::text END)`;
}

/** What a key or number column's values follow: uniqueness, growth with order and time, date prefixes, ID-card check digits. */
async function keyProfileOf(
  s: Scope,
  c: TargetColumn,
  { unique, nearlyUnique }: { unique: boolean; nearlyUnique: boolean },
  text: TextProfile | undefined,
  anchors: TargetColumn[],
): Promise<KeyProfile | undefined> {
  const kind = kindOf(c.dataType);
  const raw = `${quoteIdent(c.alias)}.${quoteIdent(c.column)}`;
  const v = `NULLIF(${raw}::text, '')`;
  const dominant = text ? Object.entries(text.shapes.values).sort((a, b) => b[1] - a[1])[0]?.[0] : undefined;
  // Codes: digits after an optional literal prefix of letters (ZY2026110100012); numbers are codes too.
  const prefixLetters = dominant ? (/^[^#0-9]*/.exec(dominant)?.[0].length ?? 0) : 0;
  let idLike = 0;
  if (kind === 'text') {
    // From the shapes (kept ones, with their literal prefixes): codes of digits, and 18-character ID-card numbers.
    const shapeShare = (re: RegExp) => (text && text.shapes.total ? Object.entries(text.shapes.values).filter(([sh]) => re.test(sh)).reduce((a, [, n]) => a + n, 0) / text.shapes.total : 0);
    idLike = shapeShare(/^[#0-9]{17}[#0-9AX]$/);
    if (shapeShare(/^[^#0-9]{0,6}[#0-9]{4,}[#AX]?$/) < 0.9 && idLike < 0.9) return unique ? { unique } : undefined;
  }
  const key: KeyProfile = { unique };

  if (idLike >= 0.9) {
    const { rows } = await s.db.query<{ r: string; n: number; valid: number; x: number }>(
      `SELECT substr(${v}, 1, 6) AS r, count(*)::float8 AS n, sum((upper(substr(${v}, 18, 1)) = ${idCheckSql(v)})::int)::float8 AS valid,
              sum((upper(substr(${v}, 18, 1)) = 'X')::int)::float8 AS x
         FROM ${sampleOf(s, c)} WHERE ${v} ~ '^[0-9]{17}[0-9Xx]$' GROUP BY 1`,
    );
    const total = rows.reduce((a, r) => a + num(r.n), 0) || 1;
    key.idCard = {
      validShare: rows.reduce((a, r) => a + num(r.valid), 0) / total,
      xShare: rows.reduce((a, r) => a + num(r.x), 0) / total,
      regions: countsOf(rows.map((r) => [r.r, num(r.n)] as const), s.k),
    };
    return key;
  }

  // Growth in insertion order (the table's physical order) and in the order of the family's first time,
  // for keys (a sample of whole blocks keeps neighbouring rows together).
  const sameTableAnchor = anchors.find((a) => a.alias === c.alias);
  if (nearlyUnique) {
    const cmp = kind === 'number' ? raw : `${v} COLLATE "C"`;
    const orders: ['growsWithOrder' | 'growsWithTime', string][] = [['growsWithOrder', `${quoteIdent(c.alias)}.ctid`]];
    if (sameTableAnchor) orders.push(['growsWithTime', `${valueSql(sameTableAnchor, s.timeZone)}, ${quoteIdent(c.alias)}.ctid`]);
    for (const [name, order] of orders) {
      const { rows } = await s.db.query<{ grows: number | null; step: number | null }>(
        `SELECT avg((x > p)::int)::float8 AS grows, ${kind === 'number' && name === 'growsWithOrder' ? 'percentile_cont(0.5) WITHIN GROUP (ORDER BY (x - p)::float8)' : 'NULL'} AS step
           FROM (SELECT ${cmp} AS x, lag(${cmp}) OVER (ORDER BY ${order}) AS p FROM ${sampleOf(s, c)} WHERE ${raw} IS NOT NULL) s WHERE p IS NOT NULL`,
      );
      if (rows[0].grows !== null) key[name] = num(rows[0].grows);
      if (rows[0].step !== null) key.medianStep = num(rows[0].step);
    }
  }

  // A date at the start of the digits, followed by a counter (codes of 10 or more characters; no int column holds one).
  if (c.dataType === 'integer' || c.dataType === 'smallint' || (dominant !== undefined && [...dominant].length < 10)) return key;
  const offset = kind === 'number' ? 0 : prefixLetters;
  const parts = DATE_PATTERNS.map((d, i) => `avg((substr(${v}, ${offset + 1}, ${d.length}) ~ '${d.regex}' AND char_length(${v}) > ${offset + d.length})::int)::float8 AS p${i}`);
  const { rows: dates } = await s.db.query<Record<string, unknown>>(`SELECT ${parts.join(', ')}, mode() WITHIN GROUP (ORDER BY char_length(${v}))::int AS len FROM ${sampleOf(s, c)} WHERE ${v} IS NOT NULL`);
  const found = DATE_PATTERNS.findIndex((_, i) => num(dates[0][`p${i}`]) >= 0.95);
  if (found < 0) return key;
  const d = DATE_PATTERNS[found];
  const datePart = `substr(${v}, ${offset + 1}, ${d.length})`;
  const counter = `NULLIF(substr(${v}, ${offset + d.length + 1}), '')`;
  // Per day, month and year (as far as the pattern says them): the smallest and largest counter; a
  // counter that starts again each period has small minima (or minima far below maxima). Over every
  // row: a sample of blocks would miss each period's first numbers.
  const periods = ([['day', d.pattern === 'yyMMdd' ? 6 : 8], ['month', d.pattern === 'yyMMdd' ? 4 : 6], ['year', d.pattern === 'yyMMdd' ? 2 : 4]] as const).filter(([, chars]) => chars <= d.length);
  const { rows: restarts } = await s.db.query<{ chars: number; lo: number | null; hi: number | null; m: number | null }>(
    `SELECT chars, avg(lo)::float8 AS lo, avg(hi)::float8 AS hi FROM (
       SELECT char_length(period) AS chars, min(n) AS lo, max(n) AS hi FROM (
         SELECT ${periods.map(([, chars]) => `substr(${datePart}, 1, ${chars})`).join(', ')}, CASE WHEN ${counter} ~ '^[0-9]{1,15}$' THEN ${counter}::bigint END AS n
           FROM ${tableOf(c)} WHERE ${v} IS NOT NULL) AS x (${periods.map(([p]) => p).join(', ')}, n)
       CROSS JOIN LATERAL (VALUES ${periods.map(([p]) => `(${p})`).join(', ')}) AS per (period)
       GROUP BY char_length(period), period) s GROUP BY chars`,
  );
  const restart =
    periods.find(([, chars]) => {
      const r = restarts.find((x) => num(x.chars) === chars);
      return r && r.lo !== null && (num(r.lo) <= 3 || num(r.lo) <= 0.1 * num(r.hi));
    })?.[0] ?? 'running';
  const datePrefix: NonNullable<KeyProfile['datePrefix']> = { pattern: d.pattern, offset, digits: Math.max(0, num(dates[0].len) - offset - d.length), counter: restart };
  if (sameTableAnchor) {
    const { rows } = await s.db.query<{ m: number }>(
      `SELECT avg((${datePart} = to_char(${valueSql(sameTableAnchor, s.timeZone)}, '${d.sqlFormat}'))::int)::float8 AS m FROM ${sampleOf(s, c)} WHERE ${v} IS NOT NULL`,
    );
    datePrefix.matchesTime = num(rows[0].m);
  }
  key.datePrefix = datePrefix;
  return key;
}
