import { z } from 'zod';
import { format as formatDate } from 'date-fns/format';
import { parseISO } from 'date-fns/parseISO';
import { TZDate } from '@date-fns/tz';
import { parsePhone } from '../lib/phone.js';
import type { Family, Parent, PersonName } from '../domain/index.js';
import { UserError } from '../lib/errors.js';
import { readJsonFile } from '../lib/json-file.js';
import { excerpt, problemLines, quoted } from '../lib/control.js';

// The mapping file says where a hospital keeps each part of a family and how one family is
// inserted across its tables. This module is pure: parsing, validation and rendering values.

export type FieldKind = 'text' | 'phone' | 'date' | 'instant' | 'number' | 'sex';

interface FieldDef {
  kind: FieldKind;
  get(family: Family): unknown;
}

function nameFields(prefix: string, pick: (f: Family) => PersonName | undefined): Record<string, FieldDef> {
  return {
    [`${prefix}.name`]: { kind: 'text', get: (f) => pick(f)?.full ?? null },
    [`${prefix}.familyName`]: { kind: 'text', get: (f) => pick(f)?.family ?? null },
    [`${prefix}.givenName`]: { kind: 'text', get: (f) => pick(f)?.given ?? null },
    [`${prefix}.latin`]: { kind: 'text', get: (f) => pick(f)?.latin ?? null },
  };
}

function parentFields(role: 'mother' | 'father'): Record<string, FieldDef> {
  const parent = (f: Family): Parent | null => (role === 'mother' ? f.mother : f.father);
  return {
    ...nameFields(role, (f) => parent(f)?.name),
    [`${role}.birthDate`]: { kind: 'date', get: (f) => parent(f)?.birthDate ?? null },
    [`${role}.age`]: { kind: 'number', get: (f) => parent(f)?.age ?? null },
    [`${role}.phone`]: { kind: 'phone', get: (f) => parent(f)?.phone ?? null },
    [`${role}.email`]: { kind: 'text', get: (f) => parent(f)?.email ?? null },
    [`${role}.idNumber`]: { kind: 'text', get: (f) => parent(f)?.idNumber ?? null },
  };
}

/** Every family field a mapping may name. */
export const FIELDS: Readonly<Record<string, FieldDef>> = {
  ...parentFields('mother'),
  ...parentFields('father'),
  ...nameFields('baby', (f) => f.baby.name),
  'baby.sex': { kind: 'sex', get: (f) => f.baby.sex },
  'baby.birthTime': { kind: 'instant', get: (f) => f.baby.birthTime },
  'baby.weightGrams': { kind: 'number', get: (f) => f.baby.weightGrams },
  'baby.weightKg': { kind: 'number', get: (f) => (f.baby.weightGrams / 1000).toFixed(2) },
  'baby.gestationWeeks': { kind: 'number', get: (f) => f.baby.gestationWeeks ?? null },
  /** Map it to the hospital's codes: "map": {"vaginal": "顺产", "caesarean": "剖宫产"}. */
  deliveryMode: { kind: 'text', get: (f) => f.deliveryMode ?? null },
  hospital: { kind: 'text', get: (f) => f.hospital },
  ward: { kind: 'text', get: (f) => f.ward },
  admittedAt: { kind: 'instant', get: (f) => f.admittedAt },
  dischargedAt: { kind: 'instant', get: (f) => f.dischargedAt },
  address: { kind: 'text', get: (f) => f.address.full },
  district: { kind: 'text', get: (f) => f.address.district },
  street: { kind: 'text', get: (f) => f.address.street },
};

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
const ColumnSpec = z.union([z.string(), FieldSpec, RefSpec, RandomSpec, ConstSpec, LearnedSpec]);

const InsertSpec = z
  .object({
    as: z.string().min(1),
    table: z.string().min(1),
    schema: z.string().min(1).optional(),
    returning: z.array(z.string().min(1)).default([]),
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
  | { type: 'learned' };

export interface InsertStep {
  alias: string;
  schema: string;
  table: string;
  returning: string[];
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
      } else if (value.type === 'ref') {
        const cols = known.get(value.alias);
        if (!cols) problems.push(`${where}: ref ${quoted(`${value.alias}.${value.column}`)} names no earlier insert`);
        else if (!cols.has(value.column)) problems.push(`${where}: ref ${quoted(`${value.alias}.${value.column}`)}: that insert neither sets nor returns ${excerpt(value.column)}`);
      }
      columns.push({ column, value });
    }
    if (columns.length === 0) problems.push(`${at}.columns: an insert needs at least one column`);
    known.set(ins.as, new Set([...Object.keys(ins.columns), ...ins.returning]));
    steps.push({ alias: ins.as, schema, table, returning: ins.returning, columns });
  });
  if (parsed.data.timeZone) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: parsed.data.timeZone });
    } catch {
      problems.push(`${source}: timeZone: unknown time zone ${quoted(parsed.data.timeZone)}`);
    }
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
  let raw = def.get(family);
  if (raw === null || raw === undefined) return null;
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
