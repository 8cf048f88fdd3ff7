import type { ReadOnlyQueryable } from '../db/index.js';
import { fieldEvent, type ColumnValue, type Mapping } from './mapping.js';

// Compares a mapping with the live target schema: every problem named, table by table.

interface ColumnInfo {
  table_schema: string;
  table_name: string;
  column_name: string;
  data_type: string;
  is_nullable: string;
  column_default: string | null;
  is_identity: string;
  character_maximum_length: number | null;
}

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

export async function checkTarget(db: ReadOnlyQueryable, mapping: Mapping): Promise<TargetProblem[]> {
  const problems: TargetProblem[] = [];
  const schemas = [...new Set(mapping.inserts.map((s) => s.schema))];
  const { rows } = await db.query<ColumnInfo>(
    `SELECT table_schema, table_name, column_name, data_type, is_nullable, column_default, is_identity, character_maximum_length
       FROM information_schema.columns WHERE table_schema = ANY($1::text[])`,
    [schemas],
  );
  const indexed = await indexedColumns(db, schemas);
  for (const step of mapping.inserts) {
    const where = `${step.schema}.${step.table}`;
    const cols = new Map(rows.filter((r) => r.table_schema === step.schema && r.table_name === step.table).map((r) => [r.column_name, r]));
    if (cols.size === 0) {
      problems.push({ level: 'error', where, message: `table does not exist (insert "${step.alias}")` });
      continue;
    }
    for (const { column, value } of step.columns) {
      const info = cols.get(column);
      if (!info) {
        problems.push({ level: 'error', where: `${where}.${column}`, message: 'column does not exist' });
        continue;
      }
      const accepted = acceptedTypes(value);
      if (accepted && !accepted.includes(info.data_type)) {
        const what = value.type === 'field' ? `${value.field} (${value.kind}${value.format ? `, format ${value.format}` : ''})` : value.type;
        const hint = value.type === 'field' && value.kind === 'instant' && !value.format ? '; add a "format" such as "yyyy-MM-dd HH:mm:ss" for local time' : '';
        problems.push({ level: 'error', where: `${where}.${column}`, message: `type ${info.data_type} cannot hold ${what}${hint}` });
      }
      const later = value.type === 'field' ? fieldEvent(value.field) : null;
      if (later && later !== step.at && later !== 'admission' && info.is_nullable === 'NO') {
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
      if (info.is_nullable === 'NO' && info.column_default === null && info.is_identity !== 'YES' && !mapped.has(info.column_name)) {
        problems.push({ level: 'error', where: `${where}.${info.column_name}`, message: 'NOT NULL without a default, and the mapping does not fill it' });
      }
    }
  }
  return problems;
}

/** Why a random key gives canaries away, and what to write instead. */
export function randomKeyWarning(pattern: string): string {
  return `random key ${JSON.stringify(pattern)}: canary values sit out of the hospital's sequence (a thief sees them) and the hospital may issue one later to a real patient (a duplicate key); ` +
    'leave a key with a default or sequence to the database ("returning"), or write {"key": "<pattern>"} so Cradle numbers it as the hospital does';
}

async function indexedColumns(db: ReadOnlyQueryable, schemas: string[]): Promise<Set<string>> {
  // Columns that lead some index: those make `col = ANY(...)` lookups cheap on millions of rows.
  const { rows } = await db.query<{ schema: string; tbl: string; col: string }>(
    `SELECT n.nspname AS schema, c.relname AS tbl, a.attname AS col
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
      WHERE n.nspname = ANY($1::text[])`,
    [schemas],
  );
  return new Set(rows.map((r) => `${r.schema}.${r.tbl}.${r.col}`));
}
