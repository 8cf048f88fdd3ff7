import type { ReadOnlyQueryable } from '../db/index.js';
import { dialectOf, quoteIdent } from '../db/index.js';
import { QUANTILE_POINTS, type Counts, type DistrictAddresses, type FamilyProfile, type GivenShape, type NameShape, type Quantiles, type WardProfile } from '../domain/index.js';
import { countsOf } from '../lib/counts.js';
import { ADDRESS_NUMBER_UNITS, addressTokens, headAndBody, slotKey, templateOf } from '../lib/generate/address-template.js';
import { eventPlan, fieldColumn, joinedFrom, targetColumns, type Mapping, type TargetColumn } from '../targetdb/index.js';

// Learning the family-level part of a hospital's profile from its real rows, read-only, in SQL
// aggregates (a million families must profile in under a minute): what a thief compares across the
// fields of one family. Two statements: one computes every count, share and quantile from one
// materialised scan of the joined families, the k rule applied in SQL; the other groups addresses
// with their digits abstracted, which are then cut into templates and words here and counted again
// under the k rule. No row of a family reaches JavaScript.

export interface LearnOptions {
  /** Keep a value only when at least k families share it. */
  k: number;
  /** The hospital's IANA time zone, for local hours, weekdays and days (default: the mapping's, else UTC). */
  timeZone?: string;
}

const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const COMPOUND = ['欧阳', '司马', '上官', '诸葛', '东方', '皇甫', '尉迟', '公孙', '慕容', '长孙', '夏侯', '司徒', '令狐', '宇文', '端木', '申屠', '轩辕', '独孤', '南宫', '西门', '呼延', '澹台', '太史', '万俟'];

/** A date-fns pattern as a PostgreSQL to_timestamp pattern (the common tokens). */
export function pgDatePattern(format: string): string {
  const map: Record<string, string> = { yyyy: 'YYYY', yy: 'YY', MM: 'MM', M: 'FMMM', dd: 'DD', d: 'FMDD', HH: 'HH24', H: 'FMHH24', mm: 'MI', ss: 'SS', SSS: 'MS' };
  return format.replace(/yyyy|yy|SSS|MM|M|dd|d|HH|H|mm|ss|'[^']*'|[A-Za-z]/g, (t) => {
    if (t in map) return map[t];
    if (t.startsWith("'")) return `"${t.slice(1, -1)}"`;
    return `"${t}"`;
  });
}

/** SQL expressions over the mapping's columns, as the family fields they hold. */
class Fields {
  constructor(
    private readonly mapping: Mapping,
    private readonly types: Map<string, string>,
    private readonly tz: string,
  ) {}

  has(field: string): boolean {
    return fieldColumn(this.mapping, field) !== null;
  }

  private at(field: string) {
    const at = fieldColumn(this.mapping, field);
    if (!at) return null;
    return { ...at, ref: `${quoteIdent(at.step.alias)}.${quoteIdent(at.column)}`, type: this.types.get(`${at.step.alias}.${at.column}`) ?? 'text' };
  }

  /** Trimmed text, NULL when empty. */
  text(field: string): string | null {
    const at = this.at(field);
    return at ? `NULLIF(btrim(${at.ref}::text), '')` : null;
  }

  /** The field in the Family's own codes, reversing the mapping's map (sex, deliveryMode). */
  code(field: string): string | null {
    const at = this.at(field);
    const text = this.text(field);
    if (!at || !text) return null;
    const map = at.value.map;
    if (!map) return text;
    return `CASE ${text} ${Object.entries(map).map(([code, stored]) => `WHEN ${lit(String(stored))} THEN ${lit(code)}`).join(' ')} ELSE ${text} END`;
  }

  number(field: string): string | null {
    const text = this.text(field);
    return text ? `CASE WHEN ${text} ~ '^-?[0-9]+(\\.[0-9]+)?$' THEN ${text}::numeric END` : null;
  }

  /** Every column the mapping writes a field into, with its type (a birth time may be split into a date and a time column). */
  private all(field: string) {
    return this.mapping.inserts.flatMap((step) =>
      step.columns.flatMap(({ column, value }) =>
        value.type === 'field' && value.field === field
          ? [{ step, column, value, ref: `${quoteIdent(step.alias)}.${quoteIdent(column)}`, type: this.types.get(`${step.alias}.${column}`) ?? 'text' }]
          : [],
      ),
    );
  }

  /** Local wall-clock timestamp of an instant or date field, following how the mapping writes it. */
  local(field: string): string | null {
    const cols = this.all(field);
    const timeOnly = (c: (typeof cols)[number]): boolean => c.type.startsWith('time without') || c.type === 'time' || (!!c.value.format && !/[yMd]/.test(c.value.format.replace(/'[^']*'/g, '')));
    const dateOnly = (c: (typeof cols)[number]): boolean => c.type === 'date' || (!!c.value.format && !/[Hhms]/.test(c.value.format.replace(/'[^']*'/g, '')));
    const time = cols.find(timeOnly), date = cols.find(dateOnly);
    if (time && date) {
      const t = time.type.startsWith('time') ? `${time.ref}::time` : `to_timestamp(NULLIF(btrim(${time.ref}::text), ''), ${lit(pgDatePattern(time.value.format ?? 'HH:mm:ss'))})::time`;
      const d = date.type === 'date' ? date.ref : `to_timestamp(NULLIF(btrim(${date.ref}::text), ''), ${lit(pgDatePattern(date.value.format ?? 'yyyy-MM-dd'))})::date`;
      return `(${d} + ${t})`;
    }
    const at = this.at(field);
    return at ? this.localOf(at) : null;
  }

  /** The field's later columns (a discharge written to the mother's and the baby's rows), each as local time, keyed `alias.column`. */
  laterLocals(field: string): { key: string; expr: string }[] {
    const first = fieldColumn(this.mapping, field);
    return this.all(field)
      .filter((c) => !(first && c.step === first.step && c.column === first.column) && c.step !== first?.step)
      .map((c) => ({ key: `${c.step.alias}.${c.column}`, expr: this.localOf(c) }));
  }

  private localOf(at: { ref: string; type: string; value: { format?: string; kind?: string } }): string {
    const { ref, type } = at;
    const fmt = at.value.format;
    const isDate = at.value.kind === 'date';
    const tz = lit(this.tz);
    if (type === 'timestamp with time zone') return `(${ref} AT TIME ZONE ${tz})`;
    if (type === 'timestamp without time zone') return fmt || isDate ? ref : `((${ref} AT TIME ZONE 'UTC') AT TIME ZONE ${tz})`;
    if (type === 'date') return `${ref}::timestamp`;
    const text = `NULLIF(btrim(${ref}::text), '')`;
    if (fmt) return `to_timestamp(${text}, ${lit(pgDatePattern(fmt))})::timestamp`;
    return isDate ? `(${text}::date)::timestamp` : `(${text}::timestamptz AT TIME ZONE ${tz})`;
  }

  /** An insert's bookkeeping stamp (`{"stamp": "updated"}`) as local time, with its column; null when it has none. */
  stamp(alias: string, stamp: 'created' | 'updated'): { column: string; expr: string } | null {
    const step = this.mapping.inserts.find((s) => s.alias === alias);
    const c = step?.columns.find((x) => x.value.type === 'stamp' && x.value.stamp === stamp);
    if (!step || !c || c.value.type !== 'stamp') return null;
    const ref = `${quoteIdent(alias)}.${quoteIdent(c.column)}`;
    return { column: c.column, expr: this.localOf({ ref, type: this.types.get(`${alias}.${c.column}`) ?? 'text', value: { format: c.value.format } }) };
  }

  /** Weight in grams, from grams or kilograms. */
  weight(): string | null {
    const g = this.number('baby.weightGrams');
    if (g) return g;
    const kg = this.number('baby.weightKg');
    return kg ? `round(${kg} * 1000)` : null;
  }

  /** Full name, surname and given name of a role, as expressions. */
  name(role: string): { full: string; surname: string; given: string } | null {
    const name = this.text(`${role}.name`);
    const fam = this.text(`${role}.familyName`);
    const giv = this.text(`${role}.givenName`);
    const full = name ? `replace(${name}, ' ', '')` : fam && giv ? `(${fam} || ${giv})` : null;
    if (!full) return null;
    const surname = fam ?? `CASE WHEN left(${full}, 2) IN (${COMPOUND.map(lit).join(', ')}) THEN left(${full}, 2) ELSE left(${full}, 1) END`;
    const given = giv ?? `substr(${full}, char_length(${surname}) + 1)`;
    return { full, surname, given };
  }

  /** National number digits of a phone field (a leading 86 dropped from 13 digits). */
  phone(role: string): string | null {
    const text = this.text(`${role}.phone`);
    if (!text) return null;
    const d = `regexp_replace(${text}, '[^0-9]', '', 'g')`;
    return `NULLIF(CASE WHEN char_length(${d}) = 13 AND left(${d}, 2) = '86' THEN substr(${d}, 3) ELSE ${d} END, '')`;
  }
}

type Spec =
  | { kind: 'counts'; metric: string; key?: string; value: string; where?: string }
  | { kind: 'ratio'; metric: string; key?: string; value: string; where?: string }
  | { kind: 'quantiles'; metric: string; key?: string; value: string; where?: string };

interface Results {
  /** Families read. */
  families: number;
  counts: Map<string, Map<string, Counts>>;
  ratios: Map<string, Map<string, number>>;
  quantiles: Map<string, Map<string, Quantiles>>;
}

/**
 * Every spec in three statements. Counts: one scan of the joined families, every count a grouping set
 * of one aggregate, the k rule applied in SQL around it. Shares:
 * one scan of filtered averages and the number of families. Quantiles: one scan, each family unpivoted
 * into one (spec, key, value) row per quantile spec.
 */
async function gather(db: ReadOnlyQueryable, mapping: Mapping, base: string[], specs: Spec[], k: number): Promise<Results> {
  const out: Results = { families: 0, counts: new Map(), ratios: new Map(), quantiles: new Map() };
  if (specs.length === 0) return out;
  const cols = base.map((e, i) => `${e} AS c${i}`).join(', ');
  // OFFSET 0 keeps the subquery apart, so that each expression is computed once per family.
  const from = `(SELECT ${cols} ${joinedFrom(dialectOf(db), mapping)} OFFSET 0) AS base`;
  const guarded = (spec: Spec): string => (spec.where ? `CASE WHEN ${spec.where} THEN ${spec.value} END` : spec.value);

  // Count specs with the same key and value expressions are one grouping set.
  const countSpecs = specs.filter((s) => s.kind === 'counts');
  const sets = new Map<string, { key?: string; value: string; metrics: string[] }>();
  for (const spec of countSpecs) {
    const value = `(${guarded(spec)})::text`;
    const key = spec.key ? `(${spec.key})::text` : undefined;
    const id = `${key ?? ''}\u0000${value}`;
    const set = sets.get(id) ?? { key, value, metrics: [] };
    set.metrics.push(spec.metric);
    sets.set(id, set);
  }
  const ordered = [...sets.values()];
  // One scan: every count set is a grouping set of one aggregate over the families (PostgreSQL hashes
  // them side by side in one pass; several times faster in PGlite than unpivoting each family into one
  // row per set and grouping those), the k rule applied in SQL around it.
  const whichSet = (pick: (i: number) => string): string => `CASE ${ordered.map((_, i) => `WHEN GROUPING(v${i}) = 0 THEN ${pick(i)}`).join(' ')} END`;
  const sql = `WITH g AS MATERIALIZED (
      SELECT ${whichSet((i) => String(i))} AS gid, ${whichSet((i) => (ordered[i].key ? `k${i}` : `''`))} AS key, ${whichSet((i) => `v${i}`)} AS v, count(*)::float8 AS n
        FROM (SELECT ${ordered.map((s, i) => `${s.key ? `${s.key} AS k${i}, ` : ''}${s.value} AS v${i}`).join(', ')} FROM ${from} OFFSET 0) AS sets
       GROUP BY GROUPING SETS (${ordered.map((s, i) => (s.key ? `(k${i}, v${i})` : `(v${i})`)).join(', ')}))
    SELECT gid, key, CASE WHEN n >= ${k} THEN v END AS v, sum(n)::float8 AS n FROM g WHERE v IS NOT NULL GROUP BY 1, 2, 3`;
  // The planner guesses about half a group a family for each set, at the width of every set's columns, and
  // sorts for each set when that guess passes work_mem: 18 s against 10 s hashed, 200,000 families. The
  // hashes hold the real groups (3.7 MB there) and spill to disk past the limit, so raising the limit for
  // this one statement lets the planner hash without reserving the memory.
  const { rows } = ordered.length ? await withWorkMem(db, COUNTS_WORK_MEM_MIB, () => db.query<{ gid: number; key: string | null; v: string | null; n: number }>(sql)) : { rows: [] };
  for (const row of rows) {
    for (const metric of ordered[row.gid].metrics) {
      const byKey = out.counts.get(metric) ?? new Map<string, Counts>();
      out.counts.set(metric, byKey);
      const key = row.key ?? '';
      const c = byKey.get(key) ?? { total: 0, values: {}, other: 0 };
      byKey.set(key, c);
      c.total += Number(row.n);
      if (row.v === null) c.other += Number(row.n);
      else c.values[row.v] = Number(row.n);
    }
  }
  // Shares: one row of filtered averages.
  const ratios = specs.filter((s) => s.kind === 'ratio');
  if (ratios.length) {
    const cols = ratios.map((r, i) => `avg(CASE WHEN ${r.value} THEN 1.0 ELSE 0.0 END)${r.where ? ` FILTER (WHERE ${r.where})` : ''}::float8 AS r${i}`);
    const { rows: [row] } = await db.query<Record<string, number | null>>(`SELECT count(*)::float8 AS families, ${cols.join(', ')} FROM ${from}`);
    out.families = Number(row.families);
    ratios.forEach((spec, i) => {
      const value = row[`r${i}`];
      if (value !== null && value !== undefined) out.ratios.set(spec.metric, new Map([['', Number(value)]]));
    });
  }

  // Quantiles: one scan too, each family unpivoted into one (spec, key, value) row per quantile spec.
  const quantiles = specs.filter((s) => s.kind === 'quantiles');
  if (quantiles.length) {
    const points = `ARRAY[${QUANTILE_POINTS.join(', ')}]::float8[]`;
    const rowsOf = quantiles.map((spec, i) => `(${i}, ${spec.key ? `(${spec.key})::text` : `''`}, (${spec.where ? `CASE WHEN ${spec.where} THEN ${spec.value} END` : spec.value})::float8)`).join(', ');
    const { rows: qrows } = await db.query<{ qid: number; key: string | null; q: number[] }>(
      `SELECT u.qid, u.key, percentile_cont(${points}) WITHIN GROUP (ORDER BY u.x) AS q
         FROM ${from} CROSS JOIN LATERAL (VALUES ${rowsOf}) AS u(qid, key, x) WHERE u.x IS NOT NULL GROUP BY 1, 2 HAVING count(*) >= ${k}`,
    );
    for (const row of qrows) {
      const metric = quantiles[row.qid].metric;
      const byKey = out.quantiles.get(metric) ?? new Map<string, Quantiles>();
      out.quantiles.set(metric, byKey);
      byKey.set(row.key ?? '', row.q.map((x) => Math.round(Number(x) * 1000) / 1000));
    }
  }
  return out;
}

/** work_mem for the family counts: the planner's guess at a million families is about 940 MB, and hashes may use twice work_mem (hash_mem_multiplier). */
const COUNTS_WORK_MEM_MIB = 1024;

async function withWorkMem<T>(db: ReadOnlyQueryable, mib: number, fn: () => Promise<T>): Promise<T> {
  await db.tune?.({ workMemMiB: mib });
  const result = await fn();
  // After a failure the transaction is rolled back, and SET LOCAL with it.
  await db.tune?.({ workMemMiB: null });
  return result;
}

const EMPTY: Counts = { total: 0, values: {}, other: 0 };

export async function learnFamilyProfile(db: ReadOnlyQueryable, mapping: Mapping, opts: LearnOptions): Promise<FamilyProfile> {
  const k = Math.max(1, opts.k);
  const types = new Map((await targetColumns(db, mapping)).map((c: TargetColumn) => [`${c.alias}.${c.column}`, c.dataType]));
  const f = new Fields(mapping, types, opts.timeZone ?? mapping.timeZone ?? 'UTC');

  // Base columns of the scan, referenced as cN in the specs.
  const base: string[] = [];
  const col = (expr: string | null): string | null => {
    if (expr === null) return null;
    base.push(expr);
    return `c${base.length - 1}`;
  };
  const specs: Spec[] = [];
  const counts = (metric: string, value: string | null, key?: string | null, where?: string | null): void => {
    if (value !== null && key !== null) specs.push({ kind: 'counts', metric, value, key: key ?? undefined, where: where ?? undefined });
  };
  const ratio = (metric: string, value: string | null, where?: string | null, key?: string | null): void => {
    if (value !== null && where !== null && key !== null) specs.push({ kind: 'ratio', metric, value, where: where ?? undefined, key: key ?? undefined });
  };
  const quant = (metric: string, value: string | null, key?: string | null, where?: string | null): void => {
    if (value !== null && key !== null) specs.push({ kind: 'quantiles', metric, value, key: key ?? undefined, where: where ?? undefined });
  };

  counts('wards', col(f.text('ward')));
  ratio('families', 'true');

  // ---- names
  const roles = ['mother', 'father', 'baby'] as const;
  const names: Partial<Record<(typeof roles)[number], { full: string; surname: string; given: string }>> = {};
  for (const role of roles) {
    const n = f.name(role);
    if (n) names[role] = { full: col(n.full)!, surname: col(n.surname)!, given: col(n.given)! };
  }
  const mother = names.mother, father = names.father, baby = names.baby;
  // A baby name written from the mother's full name: a placeholder template ({mother}之女).
  const placeholder = baby && mother
    ? `CASE WHEN ${baby.full} <> ${mother.full} AND left(${baby.full}, char_length(${mother.full})) = ${mother.full} THEN '{mother}' || substr(${baby.full}, char_length(${mother.full}) + 1) END`
    : null;
  for (const role of roles) {
    const n = names[role];
    if (!n) continue;
    const real = role === 'baby' && placeholder ? `(${placeholder}) IS NULL` : null;
    const len = `char_length(${n.given})::text`;
    counts(`${role}.whole`, n.full, undefined, real);
    counts(`${role}.surnames`, n.surname, undefined, real);
    counts(`${role}.givenLength`, len, undefined, real);
    for (const [length, positions] of [[1, 1], [2, 2], [3, 3]] as const) {
      for (let p = 1; p <= positions; p++) counts(`${role}.chars.${length}.${p - 1}`, `substr(${n.given}, ${p}, 1)`, undefined, `char_length(${n.given}) = ${length}${real ? ` AND ${real}` : ''}`);
    }
    ratio(`${role}.reduplicated`, `substr(${n.given}, 1, 1) = substr(${n.given}, 2, 1)`, `char_length(${n.given}) = 2 AND ${n.full} IS NOT NULL${real ? ` AND ${real}` : ''}`);
    // Whole given names: a generation's fashions (梓涵, 浩宇) repeat across surnames, so whole full names
    // miss them. A baby's per sex: girls' and boys' names share few characters.
    const sexKey = role === 'baby' ? col(f.code('baby.sex')) : null;
    const named = `${n.full} IS NOT NULL${real ? ` AND ${real}` : ''}`;
    counts(`${role}.given`, `CASE WHEN ${named} THEN ${n.given} END`);
    if (sexKey) {
      counts(`${role}.sex.given`, `CASE WHEN ${named} THEN ${n.given} END`, sexKey);
      counts(`${role}.sex.givenLength`, len, sexKey, real);
      for (const [length, positions] of [[1, 1], [2, 2], [3, 3]] as const) {
        for (let p = 1; p <= positions; p++) counts(`${role}.sex.chars.${length}.${p - 1}`, `substr(${n.given}, ${p}, 1)`, sexKey, `char_length(${n.given}) = ${length}${real ? ` AND ${real}` : ''}`);
      }
      counts(`${role}.sex.reduplicated`, `CASE WHEN substr(${n.given}, 1, 1) = substr(${n.given}, 2, 1) THEN '1' ELSE '0' END`, sexKey, `char_length(${n.given}) = 2 AND ${named}`);
    }
  }
  if (placeholder) {
    counts('baby.placeholders', placeholder);
    ratio('baby.placeholderShare', `(${placeholder}) IS NOT NULL`, `${baby!.full} IS NOT NULL`);
  }

  // ---- relations
  if (mother) ratio('fatherRecorded', father ? `${father.full} IS NOT NULL` : 'false', `${mother.full} IS NOT NULL`);
  if (baby && father && placeholder) ratio('babySurnameFather', `${baby.surname} = ${father.surname}`, `${father.full} IS NOT NULL AND ${baby.full} IS NOT NULL AND (${placeholder}) IS NULL`);
  if (baby && mother && placeholder) ratio('babySurnameMother', `${baby.surname} = ${mother.surname}`, `${baby.full} IS NOT NULL AND (${placeholder}) IS NULL`);
  if (mother && father) ratio('parentsShareSurname', `${mother.surname} = ${father.surname}`, `${father.full} IS NOT NULL AND ${mother.full} IS NOT NULL`);

  // ---- phones
  const mPhone = col(f.phone('mother')), fPhone = col(f.phone('father'));
  const mobile = (p: string): string => `${p} ~ '^1[3-9][0-9]{9}$'`;
  if (mPhone) {
    ratio('phone.present.mother', `${mPhone} IS NOT NULL`);
    counts('phone.segments.mother', `CASE WHEN ${mobile(mPhone)} THEN left(${mPhone}, 7) END`);
  }
  if (fPhone) {
    ratio('phone.present.father', `${fPhone} IS NOT NULL`, father ? `${father.full} IS NOT NULL` : undefined);
    counts('phone.segments.father', `CASE WHEN ${mobile(fPhone)} THEN left(${fPhone}, 7) END`);
  }
  if (mPhone || fPhone) {
    const phones = [mPhone, fPhone].filter((p): p is string => p !== null);
    const seg = (p: string): string => `CASE WHEN ${mobile(p)} THEN left(${p}, 7) END`;
    // Segments of both roles together: one row per phone, so count each role's in its own arm.
    for (const [i, p] of phones.entries()) counts(`phone.segments.all.${i}`, seg(p));
    for (const [i, p] of phones.entries()) counts(`phone.landline.${i}`, `(NOT (${mobile(p)}))::text`);
  }
  if (mPhone && fPhone) ratio('phone.fatherSharesMother', `${fPhone} = ${mPhone}`, `${fPhone} IS NOT NULL AND ${mPhone} IS NOT NULL`);

  // ---- e-mail
  const emailShape = (e: string): string => {
    const local = `split_part(${e}, '@', 1)`;
    return `CASE WHEN ${local} ~ '^[0-9]+$' THEN 'digits:' || char_length(${local}) WHEN ${local} ~ '^[a-z]+$' THEN 'pinyin' WHEN ${local} ~ '^[a-z]+[0-9]+$' THEN 'pinyin+digits' WHEN ${local} ~ '^[a-z]+[._][a-z]+[0-9]*$' THEN 'pinyin.pinyin' ELSE 'other' END`;
  };
  const emails: string[] = [];
  for (const role of ['mother', 'father'] as const) {
    const t = f.text(`${role}.email`);
    const e = col(t ? `lower(${t})` : null);
    if (!e) continue;
    emails.push(e);
    ratio(`email.present.${role}`, `${e} IS NOT NULL`, role === 'father' && father ? `${father.full} IS NOT NULL` : undefined);
    counts(`email.domains.${role}`, `NULLIF(split_part(${e}, '@', 2), '')`);
    counts(`email.shapes.${role}`, `CASE WHEN ${e} LIKE '%@%' THEN ${emailShape(e)} END`);
  }

  // ---- births
  const ward = f.has('ward') ? col(f.text('ward')) : `''`;
  const birth = col(f.local('baby.birthTime'));
  const mode = col(f.code('deliveryMode'));
  const sex = col(f.code('baby.sex'));
  const weight = col(f.weight());
  const weeks = col(f.number('baby.gestationWeeks'));
  const admitted = col(f.local('admittedAt'));
  const discharged = col(f.local('dischargedAt'));
  counts('ward.sex', sex, ward);
  if (f.has('motherWard') && f.has('ward')) counts('ward.motherWards', col(f.text('motherWard')), ward);
  // Placeholder names per ward: a NICU registers babies before they are named more often (45 % against 18 %).
  if (placeholder) counts('ward.placeholders', `CASE WHEN (${placeholder}) IS NOT NULL THEN '1' ELSE '0' END`, ward, `${baby!.full} IS NOT NULL`);
  const laterDischarges = discharged ? f.laterLocals('dischargedAt') : [];
  for (const [i, later] of laterDischarges.entries()) {
    const at = col(later.expr);
    quant(`ward.dischargeGap.${i}`, `extract(epoch FROM (${at} - ${discharged}))`, ward);
    // Its own hour of the day, per ward: a NICU sends babies home at other hours than the mothers'.
    counts(`ward.dischargeHour.${i}`, `extract(hour FROM ${at})::int`, ward);
  }
  counts('ward.modes', mode, ward);
  quant('ward.weight', weight, ward);
  counts('ward.weeks', weeks === null ? null : `round(${weeks})`, ward);
  quant('weightByWeek', weight, weeks === null ? null : `round(${weeks})`);
  if (weight) {
    for (const step of [5, 10, 50, 100]) ratio(`weightStep.${step}`, `mod(${weight}, ${step}) = 0`, `${weight} IS NOT NULL`);
  }
  if (birth) {
    for (const [key, by] of [['all', `''`], ['mode', mode]] as const) {
      if (by === null) continue;
      counts(`hours.${key}`, `extract(hour FROM ${birth})::int`, by);
      counts(`weekdays.${key}`, `extract(dow FROM ${birth})::int`, by);
    }
    // Hours per mode at weekends apart: drawn with the week's hours, canaries' weekend caesareans were born on planned mornings.
    if (mode) counts('hours.day', `extract(hour FROM ${birth})::int`, `${mode} || '|' || CASE WHEN extract(isodow FROM ${birth}) >= 6 THEN 'weekend' ELSE 'weekday' END`);
    if (discharged) {
      const stay = `(${discharged}::date - ${birth}::date)`;
      counts('stay.all', stay, ward);
      if (mode) counts('stay.mode', stay, `${ward} || '|' || ${mode}`);
      counts('dischargeHours', `extract(hour FROM ${discharged})::int`);
      // Ten-minute slots: a hospital discharging from 8:30 to 11:30 never stamps a discharge at 11:50.
      counts('dischargeSlots', `(extract(hour FROM ${discharged}) * 6 + floor(extract(minute FROM ${discharged}) / 10))::int`);
    }
    if (admitted) {
      const a2b = `extract(epoch FROM (${birth} - ${admitted})) / 3600`;
      quant('admissionToBirth', a2b);
      // By delivery mode and the birth's quarter of the day: a planned caesarean at 09:00 was admitted the
      // day before, a birth in labour hours earlier; pooled, canaries were admitted at hours real mothers are not.
      if (mode) quant('admissionToBirth.mode', a2b, `${mode} || '|' || floor(extract(hour FROM ${birth}) / 6)::int`);
      // And per hour of the birth where it has k births: a planned caesarean born at 09:00 was admitted the
      // day before between 08:00 and 17:00; drawn over a quarter of the day, canaries were admitted at 07:00.
      // Working days and weekends apart: a caesarean born at 09:00 on a Saturday was not planned.
      const day = `CASE WHEN extract(isodow FROM ${birth}) >= 6 THEN 'weekend' ELSE 'weekday' END`;
      if (mode) quant('admissionToBirth.hour', a2b, `${mode} || '|' || ${day} || '|' || extract(hour FROM ${birth})::int`);
      if (mode) quant('admissionToBirth.day', a2b, `${mode} || '|' || ${day} || '|q' || floor(extract(hour FROM ${birth}) / 6)::int`);
    }
    // A row updated at the birth (the mother's, with the delivery mode) is stamped a while after the
    // baby's row is created, as the hospital's system writes the two: the gap, among rows no later event
    // has updated since (the mother not yet discharged).
    const born = eventPlan(mapping, 'birth');
    const created = born.inserts.map((s) => f.stamp(s.alias, 'created')).find((x) => x !== null);
    const dischargeUpdates = eventPlan(mapping, 'discharge').updates;
    for (const { step } of created ? born.updates : []) {
      const updated = f.stamp(step.alias, 'updated');
      if (!updated) continue;
      const later = dischargeUpdates.find((u) => u.step === step)?.columns.map((c) => `${quoteIdent(step.alias)}.${quoteIdent(c)} IS NULL`) ?? [];
      const gap = `extract(epoch FROM (${updated.expr} - ${created!.expr}))`;
      quant(`birthUpdateGap.${step.alias}.${updated.column}`, col(later.length ? `CASE WHEN ${later.join(' AND ')} THEN ${gap} END` : gap));
    }
    // Ages: from the birth date, else the ID-card number's birth date, else the recorded age.
    const ageOf = (role: string): string | null => {
      const bd = f.local(`${role}.birthDate`);
      const id = f.text(`${role}.idNumber`);
      const fromId = id ? `CASE WHEN ${id} ~ '^[0-9]{17}[0-9Xx]$' THEN to_date(substr(${id}, 7, 8), 'YYYYMMDD')::timestamp END` : null;
      const from = [bd, fromId].filter(Boolean).join(', ');
      if (from) return `extract(epoch FROM (${f.local('baby.birthTime')} - COALESCE(${from}))) / ${365.2425 * 86400}`;
      const age = f.number(`${role}.age`);
      return age ? `(${age} + 0.5)` : null;
    };
    const mAge = col(ageOf('mother')), fAge = col(ageOf('father'));
    quant('motherAge', mAge);
    if (mAge && fAge) quant('fatherAgeGap', `${fAge} - ${mAge}`);
  }
  for (const role of ['mother', 'father']) {
    const id = col(f.text(`${role}.idNumber`));
    if (id) counts(`idRegions.${role}`, `CASE WHEN ${id} ~ '^[0-9]{6}' THEN left(${id}, 6) END`);
  }

  const r = await gather(db, mapping, base.length ? base : ['1'], specs, k);
  const C = (metric: string, key = ''): Counts => r.counts.get(metric)?.get(key) ?? EMPTY;
  const R = (metric: string, key = ''): number | undefined => r.ratios.get(metric)?.get(key);
  const Q = (metric: string, key = ''): Quantiles | undefined => r.quantiles.get(metric)?.get(key);
  const sum = (...cs: Counts[]): Counts => {
    const out: Counts = { total: 0, values: {}, other: 0 };
    for (const c of cs) {
      out.total += c.total;
      out.other += c.other;
      for (const [v, n] of Object.entries(c.values)) out.values[v] = (out.values[v] ?? 0) + n;
    }
    return out;
  };

  const profile: FamilyProfile = { wards: C('wards'), families: r.families };

  // names
  const shape = (role: string): NameShape | undefined => {
    const whole = C(`${role}.whole`);
    if (whole.total === 0) return undefined;
    const chars: Record<string, Counts[]> = {};
    for (const length of [1, 2, 3]) {
      const positions = Array.from({ length }, (_, p) => C(`${role}.chars.${length}.${p}`));
      if (positions[0].total > 0) chars[String(length)] = positions;
    }
    const given = C(`${role}.given`);
    const shape: NameShape = { total: whole.total, whole, surnames: C(`${role}.surnames`), givenLength: C(`${role}.givenLength`), chars, reduplicated: R(`${role}.reduplicated`) ?? 0 };
    if (given.total > 0) shape.given = given;
    const bySex: Record<string, GivenShape> = {};
    for (const [sex, g] of r.counts.get(`${role}.sex.given`) ?? []) {
      if (!sex || g.total === 0) continue;
      const sexChars: Record<string, Counts[]> = {};
      for (const length of [1, 2, 3]) {
        const positions = Array.from({ length }, (_, p) => C(`${role}.sex.chars.${length}.${p}`, sex));
        if (positions[0].total > 0) sexChars[String(length)] = positions;
      }
      const redup = C(`${role}.sex.reduplicated`, sex);
      bySex[sex] = { total: g.total, given: g, givenLength: C(`${role}.sex.givenLength`, sex), chars: sexChars, reduplicated: redup.total ? (redup.values['1'] ?? 0) / redup.total : 0 };
    }
    if (Object.keys(bySex).length) shape.bySex = bySex;
    return shape;
  };
  profile.names = { mother: shape('mother'), father: shape('father'), baby: shape('baby') };
  if (placeholder) profile.names.babyPlaceholders = C('baby.placeholders');

  const rel = {
    fatherRecorded: R('fatherRecorded'),
    babySurnameFather: R('babySurnameFather'),
    babySurnameMother: R('babySurnameMother'),
    parentsShareSurname: R('parentsShareSurname'),
  };
  if (rel.fatherRecorded !== undefined) {
    profile.relations = { fatherRecorded: rel.fatherRecorded, babySurnameFather: rel.babySurnameFather ?? 0, babySurnameMother: rel.babySurnameMother ?? 0, parentsShareSurname: rel.parentsShareSurname ?? 0 };
  }

  // phones
  if (mPhone || fPhone) {
    const n = [mPhone, fPhone].filter(Boolean).length;
    const all = sum(...Array.from({ length: n }, (_, i) => C(`phone.segments.all.${i}`)));
    const land = sum(...Array.from({ length: n }, (_, i) => C(`phone.landline.${i}`)));
    profile.phones = {
      present: { mother: R('phone.present.mother') ?? 0, father: R('phone.present.father') ?? 0 },
      segments: all,
      segmentsByRole: { mother: C('phone.segments.mother'), father: C('phone.segments.father') },
      landlineShare: land.total ? (land.values.true ?? 0) / land.total : 0,
      fatherSharesMother: R('phone.fatherSharesMother') ?? 0,
    };
  }
  if (emails.length) {
    profile.email = {
      present: { mother: R('email.present.mother') ?? 0, father: R('email.present.father') ?? 0 },
      domains: sum(C('email.domains.mother'), C('email.domains.father')),
      shapes: sum(C('email.shapes.mother'), C('email.shapes.father')),
    };
  }

  // births
  const byWard: Record<string, WardProfile> = {};
  const wardKeys = f.has('ward') ? Object.keys(profile.wards.values) : [''];
  for (const w of wardKeys) {
    const stayDays: Record<string, Counts> = { all: C('stay.all', w) };
    for (const [key, c] of r.counts.get('stay.mode') ?? []) if (key.startsWith(`${w}|`)) stayDays[key.slice(w.length + 1)] = c;
    const births = f.has('ward') ? profile.wards.values[w] : (profile.families ?? 0);
    const wp: WardProfile = { births, sex: C('ward.sex', w), stayDays };
    if (mode) wp.deliveryModes = C('ward.modes', w);
    const wq = Q('ward.weight', w);
    if (wq) wp.weightGrams = wq;
    if (weeks) wp.gestationWeeks = C('ward.weeks', w);
    const motherWards = C('ward.motherWards', w);
    if (motherWards.total > 0) wp.motherWards = motherWards;
    const placeholders = C('ward.placeholders', w);
    if (placeholders.total > 0) wp.placeholders = placeholders;
    for (const [i, later] of laterDischarges.entries()) {
      const gap = Q(`ward.dischargeGap.${i}`, w);
      if (gap) (wp.dischargeGaps ??= {})[later.key] = gap;
      const hours = C(`ward.dischargeHour.${i}`, w);
      if (hours.total > 0) (wp.dischargeHours ??= {})[later.key] = hours;
    }
    byWard[w] = wp;
  }
  const byMode = (metric: string): Record<string, Counts> => {
    const out: Record<string, Counts> = { all: C(`${metric}.all`) };
    for (const [key, c] of r.counts.get(`${metric}.mode`) ?? []) out[key] = c;
    return out;
  };
  profile.births = { byWard, hours: byMode('hours'), weekdays: byMode('weekdays') };
  if (r.counts.get('hours.day')) profile.births.hoursByDay = Object.fromEntries(r.counts.get('hours.day')!);
  if (r.quantiles.get('weightByWeek')) profile.births.weightByWeek = Object.fromEntries(r.quantiles.get('weightByWeek')!);
  if (weight) profile.births.weightStep = [100, 50, 10, 5].find((s) => (R(`weightStep.${s}`) ?? 0) >= 0.95) ?? 1;
  const a2b = Q('admissionToBirth');
  if (a2b) profile.births.admissionToBirthHours = a2b;
  if (r.quantiles.get('admissionToBirth.mode')) profile.births.admissionToBirthByMode = Object.fromEntries(r.quantiles.get('admissionToBirth.mode')!);
  for (const [metric, byKey] of r.quantiles) {
    if (metric.startsWith('birthUpdateGap.') && byKey.get('')) (profile.births.birthUpdateGaps ??= {})[metric.slice('birthUpdateGap.'.length)] = byKey.get('')!;
  }
  const byHour = [...(r.quantiles.get('admissionToBirth.hour') ?? []), ...(r.quantiles.get('admissionToBirth.day') ?? [])];
  if (byHour.length) profile.births.admissionToBirthByHour = Object.fromEntries(byHour);
  if (r.counts.get('dischargeHours')) profile.births.dischargeHours = C('dischargeHours');
  if (r.counts.get('dischargeSlots')) profile.births.dischargeSlots = C('dischargeSlots');

  const idRegions = sum(C('idRegions.mother'), C('idRegions.father'));
  const motherAge = Q('motherAge'), fatherAgeGap = Q('fatherAgeGap');
  if (motherAge || fatherAgeGap || idRegions.total) {
    profile.parents = {};
    if (motherAge) profile.parents.motherAge = motherAge;
    if (fatherAgeGap) profile.parents.fatherAgeGap = fatherAgeGap;
    if (idRegions.total) profile.parents.idRegions = idRegions;
  }

  const addresses = await learnAddresses(db, mapping, f, k);
  if (addresses) profile.addresses = addresses;
  return profile;
}

/** Addresses grouped in SQL with digits abstracted, then cut into templates and words, each counted under the k rule. */
async function learnAddresses(db: ReadOnlyQueryable, mapping: Mapping, f: Fields, k: number): Promise<FamilyProfile['addresses'] | undefined> {
  const address = f.text('address');
  if (!address) return undefined;
  // Without a district column, an address's district is its last administrative name (武进区 of
  // 常州市武进区… and 武进区…): its head variants become templates of one district, sharing its words.
  const district = f.text('district') ?? 'NULL';
  // The mother's ID-card region beside her address (the ID's first six digits).
  const id = f.text('mother.idNumber');
  const region = id ? `CASE WHEN ${id} ~ '^[0-9]{6}' THEN left(${id}, 6) END` : 'NULL';
  const { rows } = await db.query<{ d: string | null; a: string; r: string | null; n: number }>(
    `SELECT ${district} AS d, regexp_replace(${address}, '[0-9０-９]', '#', 'g') AS a, ${region} AS r, count(*)::int AS n ${joinedFrom(dialectOf(db), mapping)} WHERE ${address} IS NOT NULL GROUP BY 1, 2, 3`,
  );
  // Raw tallies (before the k rule): per district, templates and slot words.
  const districts = new Map<string, number>();
  const templates = new Map<string, Map<string, number>>();
  const heads = new Map<string, Map<string, number>>();
  const words = new Map<string, Map<string, Map<string, number>>>();
  const regions = new Map<string, Map<string, number>>();
  const bump = <K>(m: Map<K, number>, key: K, n: number): void => void m.set(key, (m.get(key) ?? 0) + n);
  for (const row of rows) {
    const tokens = addressTokens(row.a);
    const d = row.d ?? tokens.filter((t) => t.slot === null && t.admin).at(-1)?.text ?? '';
    bump(districts, d, row.n);
    if (row.r !== null) {
      const r = regions.get(d) ?? new Map<string, number>();
      regions.set(d, r);
      bump(r, row.r, row.n);
    }
    const t = templates.get(d) ?? new Map<string, number>();
    templates.set(d, t);
    const { head, body } = headAndBody(tokens, d);
    bump(t, body, row.n);
    const h = heads.get(d) ?? new Map<string, number>();
    heads.set(d, h);
    bump(h, head, row.n);
    const w = words.get(d) ?? new Map<string, Map<string, number>>();
    words.set(d, w);
    for (const [i, token] of tokens.entries()) {
      if (token.slot === null) continue;
      const key = slotKey(token.slot, templateOf(tokens.slice(i + 1)));
      const slot = w.get(key) ?? new Map<string, number>();
      w.set(key, slot);
      bump(slot, token.text, row.n);
    }
  }
  const districtCounts = countsOf(districts, k);
  const byDistrict: Record<string, DistrictAddresses> = {};
  for (const d of Object.keys(districtCounts.values)) {
    const vocabulary: Record<string, Counts> = {};
    const once: Record<string, number> = {};
    for (const [slot, m] of words.get(d) ?? []) {
      vocabulary[slot] = countsOf(m, k);
      const n = [...m.values()].filter((x) => x === 1).length;
      if (n) once[slot] = n;
    }
    const idRegions = regions.has(d) ? countsOf(regions.get(d)!, k) : undefined;
    byDistrict[d] = { templates: countsOf(templates.get(d) ?? [], k), heads: countsOf(heads.get(d) ?? [], k), vocabulary, once, ...(idRegions && Object.keys(idRegions.values).length ? { idRegions } : {}) };
  }
  const numbers = await learnAddressNumbers(db, mapping, address, k);
  const rareWords = rareWordShapes(words, k);
  return { districts: districtCounts, byDistrict, ...(numbers ? { numbers } : {}), ...(rareWords ? { rareWords } : {}) };
}

/**
 * Per slot, the shape of the words too rare to keep in their district (a hamlet 委前塘 of a few
 * families), over all districts: their lengths and, per length, their characters by position, each
 * under the k rule. A slot whose words are all rare here (hamlets, 委南巷) would else take another
 * district's common word.
 */
function rareWordShapes(words: Map<string, Map<string, Map<string, number>>>, k: number): NonNullable<FamilyProfile['addresses']>['rareWords'] {
  const lengths = new Map<string, Map<string, number>>();
  const chars = new Map<string, Map<string, number>[]>();
  const bump = (m: Map<string, number>, key: string, n: number): void => void m.set(key, (m.get(key) ?? 0) + n);
  for (const slots of words.values())
    for (const [slot, m] of slots)
      for (const [word, n] of m) {
        if (n >= k) continue;
        const cs = [...word];
        const l = lengths.get(slot) ?? new Map<string, number>();
        lengths.set(slot, l);
        bump(l, String(cs.length), n);
        const key = `${slot}|${cs.length}`;
        const byPos = chars.get(key) ?? cs.map(() => new Map<string, number>());
        chars.set(key, byPos);
        cs.forEach((c, i) => bump(byPos[i], c, n));
      }
  const out: Record<string, { lengths: Counts; chars: Record<string, Counts[]> }> = {};
  for (const [slot, l] of lengths) {
    const byLength: Record<string, Counts[]> = {};
    for (const len of Object.keys(countsOf(l, k).values)) {
      const pos = (chars.get(`${slot}|${len}`) ?? []).map((m) => countsOf(m, k));
      // A length is kept only when every position keeps a character.
      if (pos.length && pos.every((c) => Object.keys(c.values).length)) byLength[len] = pos;
    }
    if (Object.keys(byLength).length) out[slot] = { lengths: countsOf([...l].filter(([len]) => len in byLength), k), chars: byLength };
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * The numbers of addresses per the unit that follows them (幢, 单元, 室, 组, 号, `-`; `$` at the end):
 * rooms are floors and doors (1102, 603), buildings and groups small, where uniform digits would give
 * 9578室 and 93组. Counted in SQL under the k rule (PostgreSQL; MySQL targets do without).
 */
async function learnAddressNumbers(db: ReadOnlyQueryable, mapping: Mapping, address: string, k: number): Promise<Record<string, Counts> | undefined> {
  const d = dialectOf(db);
  if (d.name !== 'postgresql') return undefined;
  const units = [...ADDRESS_NUMBER_UNITS, '-'].join('|');
  const { rows } = await db.query<{ u: string; v: string; n: number }>(
    `SELECT COALESCE(NULLIF(m[2], ''), '$') AS u, m[1] AS v, count(*)::int AS n
       FROM (SELECT ${address} AS a ${joinedFrom(d, mapping)} WHERE ${address} IS NOT NULL) s,
            regexp_matches(s.a, '([0-9]+)(${units})?', 'g') AS m
      GROUP BY 1, 2 HAVING count(*) >= ${Math.max(1, Math.floor(k))}`,
  );
  if (rows.length === 0) return undefined;
  const byUnit = new Map<string, [string, number][]>();
  for (const r of rows) byUnit.set(r.u, [...(byUnit.get(r.u) ?? []), [r.v, Number(r.n)]]);
  return Object.fromEntries([...byUnit].map(([u, pairs]) => [u, countsOf(pairs, k)]));
}
