import { dialectOf, type ReadOnlyQueryable } from '../db/index.js';
import type { Locale } from '../domain/index.js';
import { localeTables } from '../lib/generate/index.js';
import { FIELDS, fieldEvent, type ColumnValue, type Mapping } from './mapping.js';

// Compares a mapping with the live target schema: every problem named, table by table. The catalog
// is read through the target's dialect (src/db/dialects), in PostgreSQL's type words whatever the server.

export interface TargetProblem {
  level: 'error' | 'warning';
  where: string;
  message: string;
}

const TEXT = ['text', 'character varying', 'character'];
const NUMERIC = ['integer', 'bigint', 'smallint', 'numeric', 'real', 'double precision'];
const TEMPORAL_TEXT = [...TEXT, 'date', 'time without time zone', 'timestamp without time zone', 'timestamp with time zone'];

function acceptedTypes(value: ColumnValue): string[] | null {
  if (value.type === 'ref' || value.type === 'const' || value.type === 'learned') return null;
  if (value.type === 'random') return /^#+$/.test(value.pattern) ? [...TEXT, ...NUMERIC] : TEXT;
  if (value.type === 'stamp') return value.format ? TEMPORAL_TEXT : ['timestamp with time zone'];
  if (value.type === 'key') return /^(#|\{[^}]*\})+$/.test(value.pattern) ? [...TEXT, ...NUMERIC] : TEXT;
  if (value.map) return Object.values(value.map).every((v) => typeof v === 'number') ? [...NUMERIC, ...TEXT] : TEXT;
  switch (value.kind) {
    case 'instant':
      return value.format ? TEMPORAL_TEXT : ['timestamp with time zone'];
    case 'date':
      return value.format ? TEMPORAL_TEXT : ['date', ...TEXT];
    case 'number':
      return [...NUMERIC, ...TEXT];
    default:
      return TEXT;
  }
}

/** Name fields: the columns that must hold every character a generated name can have. */
const NAME_FIELD = /\.(name|familyName|givenName)$/;

export async function checkTarget(db: ReadOnlyQueryable, mapping: Mapping, options: { locale?: Locale } = {}): Promise<TargetProblem[]> {
  const problems: TargetProblem[] = [];
  const dialect = dialectOf(db);
  const tables = mapping.inserts.map((s) => ({ schema: s.schema, table: s.table }));
  const rows = await dialect.columns(db, tables);
  const indexed = await dialect.indexedColumns(db, tables);
  const tableProblems = await dialect.tableProblems(db, tables);
  const nameCharacters = options.locale ? (localeTables(options.locale).nameCharacters ?? '') : '';
  for (const step of mapping.inserts) {
    const where = `${step.schema}.${step.table}`;
    const cols = new Map(rows.filter((r) => r.schema === step.schema && r.table === step.table).map((r) => [r.column, r]));
    if (cols.size === 0) {
      problems.push({ level: 'error', where, message: `table does not exist (insert "${step.alias}")` });
      continue;
    }
    for (const p of tableProblems.filter((t) => t.schema === step.schema && t.table === step.table)) problems.push({ level: p.level, where, message: p.message });
    for (const { column, value } of step.columns) {
      const info = cols.get(column);
      if (!info) {
        problems.push({ level: 'error', where: `${where}.${column}`, message: 'column does not exist' });
        continue;
      }
      const accepted = acceptedTypes(value);
      if (accepted && !accepted.includes(info.dataType)) {
        const what = value.type === 'field' ? `${value.field} (${value.kind}${value.format ? `, format ${value.format}` : ''})` : value.type;
        const hint = value.type === 'field' && value.kind === 'instant' && !value.format ? '; add a "format" such as "yyyy-MM-dd HH:mm:ss" for local time' : '';
        problems.push({ level: 'error', where: `${where}.${column}`, message: `type ${info.nativeType} cannot hold ${what}${hint}` });
      }
      if (info.charset && value.type === 'field' && FIELDS[value.field].kind === 'text') {
        const problem = charsetProblem(dialect.unstorable.bind(dialect), info.charset, value.field, nameCharacters);
        if (problem) problems.push({ level: 'error', where: `${where}.${column}`, message: problem });
      }
      const later = value.type === 'field' ? fieldEvent(value.field) : null;
      if (later && later !== step.at && later !== 'admission' && !info.nullable) {
        problems.push({ level: 'error', where: `${where}.${column}`, message: `NOT NULL, but ${value.type === 'field' ? value.field : ''} is only known at ${later}, after the row is inserted (at ${step.at})${later === 'birth' ? '; insert the row at birth ("at": "birth")' : ''}` });
      }
      if (value.type === 'random') problems.push({ level: 'warning', where: `${where}.${column}`, message: randomKeyWarning(value.pattern) });
      if (value.type === 'field' && value.kind === 'phone' && !indexed.has(`${step.schema}.${step.table}.${column}`)) {
        problems.push({ level: 'warning', where: `${where}.${column}`, message: 'no index: the uniqueness check will scan the whole table at each seeding' });
      }
    }
    for (const column of step.returning) {
      if (!cols.has(column)) problems.push({ level: 'error', where: `${where}.${column}`, message: 'returning column does not exist' });
    }
    const mapped = new Set(step.columns.map((c) => c.column));
    for (const info of cols.values()) {
      if (!info.nullable && !info.hasDefault && !mapped.has(info.column)) {
        problems.push({ level: 'error', where: `${where}.${info.column}`, message: 'NOT NULL without a default, and the mapping does not fill it' });
      }
    }
    for (const column of step.returning) {
      const info = cols.get(column);
      if (info && !info.generated && !info.hasDefault) problems.push({ level: 'error', where: `${where}.${column}`, message: `returning column has no default, identity or AUTO_INCREMENT: the database cannot fill it` });
    }
  }
  return problems;
}

/** Why a random key gives canaries away, and what to write instead. */
export function randomKeyWarning(pattern: string): string {
  return `random key ${JSON.stringify(pattern)}: canary values sit out of the hospital's sequence (a thief sees them) and the hospital may issue one later to a real patient (a duplicate key); ` +
    'leave a key with a default or sequence to the database ("returning"), or write {"key": "<pattern>"} so Cradle numbers it as the hospital does';
}

/** Why a column of this character set cannot hold the field's text, or null. */
function charsetProblem(unstorable: (charset: string, text: string) => string[], charset: string, field: string, nameCharacters: string): string | null {
  // Chinese text at all (an address, a ward), and every character of the names Cradle writes.
  const sample = NAME_FIELD.test(field) && nameCharacters ? nameCharacters : '张王李省市区路号';
  const missing = unstorable(charset, sample);
  if (missing.length === 0) return null;
  if (missing.length === [...new Set(sample)].length) return `character set ${charset} cannot hold Chinese text (${field}); convert the column to utf8mb4`;
  return `character set ${charset} cannot hold ${missing.length} character(s) a canary's name may have (${missing.slice(0, 8).join('')}${missing.length > 8 ? '…' : ''}); a seeding drawing such a name would fail (strict mode) or store "?": convert the column to utf8mb4`;
}
