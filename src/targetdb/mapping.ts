import { z } from 'zod';
import { format as formatDate } from 'date-fns/format';
import { parseISO } from 'date-fns/parseISO';
import { TZDate } from '@date-fns/tz';
import { parsePhone } from '../lib/phone.js';
import type { Family, PersonName } from '../domain/index.js';
import { UserError } from '../lib/errors.js';
import { readJsonFile } from '../lib/json-file.js';
import { isTimeZone } from '../lib/zone-name.js';
import { excerpt, problemLines, quoted } from '../lib/control.js';
import { FIELDS, type FieldKind } from './fields.js';

// The mapping file says where a hospital keeps each part of a family and how one family is
// inserted across its tables. This module is pure: parsing, validation and rendering values.

export { FIELDS, type FieldKind } from './fields.js';

const PHONE_STYLE = z.union([z.enum(['e164', 'national', 'digits']), z.string().regex(/#/, 'a phone pattern needs # for each digit')]);

const FieldSpec = z
  .object({
    field: z.string(),
    /** date-fns pattern, applied in the hospital's time zone (instants) or as a calendar date. */
    format: z.string().optional(),
    phone: PHONE_STYLE.optional(),
    map: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
    case: z.enum(['upper', 'lower']).optional(),
    order: z.enum(['family-given', 'given-family', 'family-comma-given']).optional(),
  })
  .strict();
const RefSpec = z.object({ ref: z.string().regex(/^[^.]+\..+$/, 'write a ref as "alias.column"') }).strict();
const RandomSpec = z.object({ random: z.string().regex(/#/, 'a random pattern needs at least one #') }).strict();
const ConstSpec = z.object({ value: z.union([z.string(), z.number(), z.boolean(), z.null()]) }).strict();
/** A column with no family field, filled from the hospital's learned profile (`cradle target profile`). */
const LearnedSpec = z.object({ learned: z.literal(true) }).strict();
/** A bookkeeping time the hospital's system writes: when the row was created, or last updated. */
const StampSpec = z.object({ stamp: z.enum(['created', 'updated']), format: z.string().optional() }).strict();
/**
 * A key the hospital's system numbers itself: `{yyyyMMdd}` parts are the write time in the hospital's
 * zone, the run of # the counter (max + 1 among the values with the same prefix), or nextval of
 * `sequence` when the hospital's system keeps its counter in a sequence.
 */
const KeySpec = z
  .object({
    key: z.string().regex(/^[^#]*#+[^#]*$/, 'a key pattern needs one run of # for its counter'),
    sequence: z.string().min(1).optional(),
  })
  .strict();
const ColumnSpec = z.union([z.string(), FieldSpec, RefSpec, RandomSpec, ConstSpec, StampSpec, KeySpec, LearnedSpec]);

const InsertSpec = z
  .object({
    as: z.string().min(1),
    table: z.string().min(1),
    schema: z.string().min(1).optional(),
    returning: z.array(z.string().min(1)).default([]),
    /** When a canary's row is inserted: at admission, or at birth (default: birth when it holds baby fields). */
    at: z.enum(['admission', 'birth']).optional(),
    columns: z.record(z.string().min(1), ColumnSpec),
  })
  .strict();

const MappingSpec = z
  .object({
    description: z.string().optional(),
    /** Defaults to the hospital's time zone from the config. */
    timeZone: z.string().optional(),
    inserts: z.array(InsertSpec).min(1),
    /** alias.column of the key access logs use to name a record. */
    recordKey: z.string().optional(),
  })
  .strict();

export type ColumnValue =
  | { type: 'field'; field: string; kind: FieldKind; format?: string; phone?: string; map?: Record<string, string | number>; case?: 'upper' | 'lower'; order?: string }
  | { type: 'ref'; alias: string; column: string }
  | { type: 'random'; pattern: string }
  | { type: 'const'; value: string | number | boolean | null }
  | { type: 'learned' }
  | { type: 'stamp'; stamp: 'created' | 'updated'; format?: string }
  | { type: 'key'; pattern: string; sequence?: string };

/** The moments of a canary's stay at which its rows are written. */
export type LifeEvent = 'admission' | 'birth' | 'discharge';
export const LIFE_EVENTS: readonly LifeEvent[] = ['admission', 'birth', 'discharge'];

/** When a field's value becomes known: the discharge at discharge, the baby's and the delivery's at birth, the rest at admission. */
export function fieldEvent(field: string): LifeEvent {
  if (field === 'dischargedAt') return 'discharge';
  if (/^baby\.|gestation|delivery/i.test(field)) return 'birth';
  return 'admission';
}

export interface InsertStep {
  alias: string;
  schema: string;
  table: string;
  returning: string[];
  /** When a canary's row is inserted; columns of later events are written then by an UPDATE. */
  at?: 'admission' | 'birth';
  columns: { column: string; value: ColumnValue }[];
}

export interface Mapping {
  source: string;
  description?: string;
  timeZone?: string;
  inserts: InsertStep[];
  recordKey?: { alias: string; column: string };
}

function zodProblems(error: z.ZodError, source: string): string[] {
  return error.issues.map((issue) => {
    const where = issue.path.length ? excerpt(issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '')) : '(top level)';
    return `${source}: ${where}: ${excerpt(issue.message)}`;
  });
}

/** Validate a parsed mapping document; throws one UserError listing every problem, one per line. */
export function parseMapping(doc: unknown, source = 'mapping'): Mapping {
  const parsed = MappingSpec.safeParse(doc);
  if (!parsed.success) throw new UserError(problemLines(zodProblems(parsed.error, source)));
  const problems: string[] = [];
  const steps: InsertStep[] = [];
  const known = new Map<string, Set<string>>();
  parsed.data.inserts.forEach((ins, i) => {
    const at = `${source}: inserts[${i}]`;
    if (known.has(ins.as)) problems.push(`${at}.as: alias ${quoted(ins.as)} is used twice`);
    let schema = ins.schema ?? 'public';
    let table = ins.table;
    if (!ins.schema && table.includes('.')) [schema, table] = [table.slice(0, table.indexOf('.')), table.slice(table.indexOf('.') + 1)];
    const columns: InsertStep['columns'] = [];
    for (const [column, spec] of Object.entries(ins.columns)) {
      const where = `${at}.columns.${excerpt(column)}`;
      const value = toColumnValue(spec);
      if (value.type === 'field') {
        const def = FIELDS[value.field];
        if (!def) {
          problems.push(`${where}: unknown field ${quoted(value.field)} (known: ${Object.keys(FIELDS).join(', ')})`);
          continue;
        }
        value.kind = def.kind;
        if (value.phone && def.kind !== 'phone') problems.push(`${where}: "phone" applies only to phone fields, not ${value.field}`);
        if (value.format && def.kind !== 'instant' && def.kind !== 'date') problems.push(`${where}: "format" applies only to dates and times, not ${value.field}`);
        if (value.order && !value.field.endsWith('.name')) problems.push(`${where}: "order" applies only to full names (*.name)`);
        if (def.kind === 'sex' && !value.map) problems.push(`${where}: map baby.sex to the hospital's codes, e.g. "map": {"female": "F", "male": "M"}`);
        if (value.map && def.kind === 'sex') for (const sex of ['female', 'male']) if (!(sex in value.map)) problems.push(`${where}.map: no value for "${sex}"`);
        if (value.field === 'deliveryMode') {
          if (!value.map) problems.push(`${where}: map deliveryMode to the hospital's codes, e.g. "map": {"vaginal": "顺产", "caesarean": "剖宫产"}`);
          else for (const mode of ['vaginal', 'caesarean']) if (!(mode in value.map)) problems.push(`${where}.map: no value for "${mode}"`);
        }
        if (value.format) {
          try {
            formatDate(new Date(0), value.format);
          } catch (err) {
            problems.push(`${where}.format: ${excerpt((err as Error).message)}`);
          }
        }
      } else if (value.type === 'stamp' || value.type === 'key') {
        const format = value.type === 'stamp' ? value.format : keyDateParts(value.pattern).join('');
        if (format) {
          try {
            formatDate(new Date(0), format);
          } catch (err) {
            problems.push(`${where}.${value.type === 'stamp' ? 'format' : 'key'}: ${excerpt((err as Error).message)}`);
          }
        }
      } else if (value.type === 'ref') {
        const cols = known.get(value.alias);
        if (!cols) problems.push(`${where}: ref ${quoted(`${value.alias}.${value.column}`)} names no earlier insert`);
        else if (!cols.has(value.column)) problems.push(`${where}: ref ${quoted(`${value.alias}.${value.column}`)}: that insert neither sets nor returns ${excerpt(value.column)}`);
      }
      columns.push({ column, value });
    }
    if (columns.length === 0) problems.push(`${at}.columns: an insert needs at least one column`);
    known.set(ins.as, new Set([...Object.keys(ins.columns), ...ins.returning]));
    // A row is inserted at birth when it holds the baby's fields or refers to a row inserted at birth.
    // A row holding the baby's own fields is the baby's record, made at birth; a mother's row that also
    // records the delivery (its mode, the weeks) is made at admission and updated at birth.
    const holdsBirth = columns.some((c) => c.value.type === 'field' && c.value.field.startsWith('baby.'));
    const refsBirth = columns.some((c) => c.value.type === 'ref' && steps.find((s) => s.alias === (c.value as { alias: string }).alias)?.at === 'birth');
    if (ins.at === 'admission' && refsBirth) problems.push(`${at}.at: "admission", but it refers to a row inserted at birth`);
    steps.push({ alias: ins.as, schema, table, returning: ins.returning, at: ins.at ?? (holdsBirth || refsBirth ? 'birth' : 'admission'), columns });
  });
  if (parsed.data.timeZone) {
    if (!isTimeZone(parsed.data.timeZone)) problems.push(`${source}: timeZone: unknown time zone ${quoted(parsed.data.timeZone)}`);
  }
  let recordKey: Mapping['recordKey'];
  if (parsed.data.recordKey) {
    const [alias, column] = [parsed.data.recordKey.split('.')[0], parsed.data.recordKey.split('.').slice(1).join('.')];
    if (!known.get(alias)?.has(column)) problems.push(`${source}: recordKey: ${quoted(parsed.data.recordKey)} is not a column an insert sets or returns`);
    recordKey = { alias, column };
  }
  const phoneFields = steps.flatMap((s) => s.columns).filter((c) => c.value.type === 'field' && c.value.field === 'mother.phone');
  if (phoneFields.length === 0) problems.push(`${source}: no column holds mother.phone; Cradle needs one for the trap number`);
  if (problems.length) throw new UserError(problemLines(problems));
  return { source, description: parsed.data.description, timeZone: parsed.data.timeZone, inserts: steps, recordKey };
}

function toColumnValue(spec: z.infer<typeof ColumnSpec>): ColumnValue {
  if (typeof spec === 'string') return { type: 'field', field: spec, kind: 'text' };
  if ('ref' in spec) {
    const dot = spec.ref.indexOf('.');
    return { type: 'ref', alias: spec.ref.slice(0, dot), column: spec.ref.slice(dot + 1) };
  }
  if ('random' in spec) return { type: 'random', pattern: spec.random };
  if ('value' in spec) return { type: 'const', value: spec.value };
  if ('learned' in spec) return { type: 'learned' };
  if ('stamp' in spec) return { type: 'stamp', stamp: spec.stamp, format: spec.format };
  if ('key' in spec) return { type: 'key', pattern: spec.key, sequence: spec.sequence };
  return { type: 'field', kind: 'text', ...spec };
}

export function loadMapping(file: string): Mapping {
  return parseMapping(readJsonFile(file, 'mapping'), file);
}

// ---------- rendering values as the hospital stores them ----------

// A full libphonenumber parse costs ~13 µs and each number is rendered in several styles and columns.
const parsedPhones = new Map<string, { number: string; digits: string }>();

function phoneParts(e164: string): { number: string; digits: string } {
  let parts = parsedPhones.get(e164);
  if (!parts) {
    const parsed = parsePhone(e164);
    if (!parsed) throw new Error(`not a phone number: ${e164}`);
    parts = { number: parsed.number, digits: parsed.nationalNumber };
    if (parsedPhones.size > 50_000) parsedPhones.clear();
    parsedPhones.set(e164, parts);
  }
  return parts;
}

export function renderPhone(e164: string, style: string): string {
  const { number, digits } = phoneParts(e164);
  if (style === 'e164') return number;
  if (style === 'national') return digits;
  if (style === 'digits') return number.slice(1);
  const slots = (style.match(/#/g) ?? []).length;
  if (slots !== digits.length) throw new UserError(`phone pattern "${style}" has ${slots} digits but ${e164} has ${digits.length}`);
  let i = 0;
  return style.replace(/#/g, () => digits[i++]);
}

function renderName(name: PersonName, order: string): string {
  if (order === 'family-given') return name.full.startsWith(name.family) ? name.full : `${name.family} ${name.given}`;
  if (order === 'given-family') return `${name.given} ${name.family}`;
  return `${name.family}, ${name.given}`;
}

export function renderField(value: Extract<ColumnValue, { type: 'field' }>, family: Family, timeZone: string): unknown {
  const def = FIELDS[value.field];
  // Empty as the hospital leaves it: empty text where its rows have '' (Family.emptyText), else NULL.
  const empty = family.emptyText?.includes(value.field) && def.kind !== 'number' && def.kind !== 'instant' && def.kind !== 'date' ? '' : null;
  if (family.blank?.includes(value.field)) return empty;
  let raw = def.get(family);
  if (raw === null || raw === undefined) return empty;
  if (value.order) {
    const person = value.field.startsWith('mother') ? family.mother.name : value.field.startsWith('father') ? family.father?.name : family.baby.name;
    if (person) raw = renderName(person, value.order);
  }
  if (def.kind === 'phone') raw = renderPhone(String(raw), value.phone ?? 'e164');
  if (def.kind === 'instant' && value.format) raw = formatDate(new TZDate(String(raw), timeZone), value.format);
  if (def.kind === 'date' && value.format) raw = formatDate(parseISO(String(raw)), value.format);
  if (value.map) {
    const mapped = value.map[String(raw)];
    raw = mapped === undefined ? raw : mapped;
  }
  if (value.case === 'upper') raw = String(raw).toUpperCase();
  if (value.case === 'lower') raw = String(raw).toLowerCase();
  return raw;
}

/** A family with one of its instants replaced (for a column that holds its own, see Family.columnTimes). */
function withInstant(family: Family, field: string, iso: string): Family {
  if (field === 'admittedAt') return { ...family, admittedAt: iso };
  if (field === 'dischargedAt') return { ...family, dischargedAt: iso };
  if (field === 'baby.birthTime') return { ...family, baby: { ...family.baby, birthTime: iso } };
  return family;
}

/** A field as one column holds it: a time column with its own instant (Family.columnTimes) takes it, when the field has a value at all. */
export function renderColumnField(step: InsertStep, column: string, value: Extract<ColumnValue, { type: 'field' }>, family: Family, timeZone: string): unknown {
  const base = renderField(value, family, timeZone);
  const own = value.kind === 'instant' ? family.columnTimes?.[`${step.alias}.${column}`] : undefined;
  return own === undefined || base === null ? base : renderField(value, withInstant(family, value.field, own), timeZone);
}

/** When a step's row is inserted (a mapping built by hand without `at`: at admission). */
export function stepEvent(step: InsertStep): 'admission' | 'birth' {
  return step.at ?? 'admission';
}

/** The `{...}` date parts of a key pattern. */
export function keyDateParts(pattern: string): string[] {
  return [...pattern.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]);
}

/**
 * A key pattern at a moment: the text before and after its counter (date parts filled in the hospital's
 * zone) and the counter's width. `{yyyyMMdd}####` on 7 Dec 2026 → prefix 20261207, width 4.
 */
export function keyShape(pattern: string, at: Date, timeZone: string): { prefix: string; suffix: string; width: number } {
  const filled = pattern.replace(/\{([^}]*)\}/g, (_m, f: string) => formatDate(new TZDate(at.getTime(), timeZone), f));
  const run = /#+/.exec(filled)!;
  return { prefix: filled.slice(0, run.index), suffix: filled.slice(run.index + run[0].length), width: run[0].length };
}

/** A bookkeeping time as the column takes it: ISO (timestamptz) or the format in the hospital's zone. */
export function renderStamp(value: Extract<ColumnValue, { type: 'stamp' }>, at: Date, timeZone: string): string {
  return value.format ? formatDate(new TZDate(at.getTime(), timeZone), value.format) : at.toISOString();
}

/** Fill a pattern like ZY########## with random digits from `digit()`. */
export function renderRandom(pattern: string, digit: () => number): string {
  return pattern.replace(/#/g, () => String(digit()));
}

/** Every column that holds a phone field, with how it is written there: for the uniqueness check. */
export function phoneColumns(mapping: Mapping): { step: InsertStep; column: string; field: string; style: string }[] {
  return mapping.inserts.flatMap((step) =>
    step.columns.flatMap(({ column, value }) =>
      value.type === 'field' && value.kind === 'phone' ? [{ step, column, field: value.field, style: value.phone ?? 'e164' }] : [],
    ),
  );
}

export function emailColumns(mapping: Mapping): { step: InsertStep; column: string }[] {
  return mapping.inserts.flatMap((step) =>
    step.columns.flatMap(({ column, value }) => (value.type === 'field' && value.field.endsWith('.email') ? [{ step, column }] : [])),
  );
}

/** Where the access logs' record ids live: the mapping's recordKey with its insert's table; null without one. */
export function recordKeyColumn(mapping: Mapping): { alias: string; table: string; column: string } | null {
  const key = mapping.recordKey;
  const step = key ? mapping.inserts.find((s) => s.alias === key.alias) : undefined;
  return key && step ? { alias: key.alias, table: step.table, column: key.column } : null;
}

/** Where the mapping writes a family field: the first insert step and column holding it (as written there), or null. */
export function fieldColumn(mapping: Mapping, field: string): { step: InsertStep; column: string; value: Extract<ColumnValue, { type: 'field' }> } | null {
  for (const step of mapping.inserts) {
    for (const { column, value } of step.columns) if (value.type === 'field' && value.field === field) return { step, column, value };
  }
  return null;
}
