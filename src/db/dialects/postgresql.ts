import type { Queryable } from '../types.js';
import type { CatalogColumn, TableRef, TargetDialect } from '../dialect-types.js';
import { quoteIdent, quoteQualified } from '../sql.js';

// PostgreSQL and PGlite as a target: $n placeholders, "quoted" names, schema-qualified tables,
// information_schema plus pg_index for the catalog, INSERT … RETURNING, sequences.

const table = (ref: TableRef) => quoteQualified([ref.schema, ref.table]);

/** The types castValues casts to (written into the SQL, so only these words). */
const CASTABLE = /^(smallint|integer|bigint|numeric|decimal|real|double precision|boolean|text|character varying|character|date|time(stamp)? with(out)? time zone|time|timestamp)$/;

function pairs(tables: readonly TableRef[]): { schemas: string[]; names: string[] } {
  return { schemas: tables.map((t) => t.schema), names: tables.map((t) => t.table) };
}

export const postgresqlDialect: TargetDialect = {
  name: 'postgresql',
  ident: quoteIdent,
  table,
  tableName: (name) => quoteQualified(name),
  param: (params, value) => `$${params.push(value)}`,
  text: (expr) => `${expr}::text`,
  inText(expr, values, params) {
    return `${expr}::text = ANY($${params.push([...values])}::text[])`;
  },
  matches: (expr, pattern) => `${expr} ~ ${pattern}`,
  random: 'random()',
  dayBound(params, day, { dataType, timeZone, nextDay }) {
    const p = `$${params.push(day)}`;
    // A day is the hospital's day: bounds are local midnights.
    const start = dataType === 'timestamp with time zone' ? `(${p}::date::timestamp AT TIME ZONE '${timeZone.replace(/'/g, "''")}')` : `${p}::date`;
    return nextDay ? `${start} + interval '1 day'` : start;
  },

  async columns(db, tables) {
    if (tables.length === 0) return [];
    const { schemas, names } = pairs(tables);
    const { rows } = await db.query<{
      table_schema: string; table_name: string; column_name: string; data_type: string; is_nullable: string;
      column_default: string | null; is_identity: string; character_maximum_length: number | null;
    }>(
      `SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.is_nullable, c.column_default, c.is_identity, c.character_maximum_length
         FROM information_schema.columns c
         JOIN unnest($1::text[], $2::text[]) AS t(s, n) ON t.s = c.table_schema AND t.n = c.table_name
        -- Repeated as plain filters: the planner pushes them into the view (a join alone reads every
        -- table's columns first: 50 ms of CPU on PGlite against 9).
        WHERE c.table_schema = ANY($1::text[]) AND c.table_name = ANY($2::text[])
        ORDER BY array_position($2::text[], c.table_name::text), c.ordinal_position`,
      [schemas, names],
    );
    return rows.map((r): CatalogColumn => ({
      schema: r.table_schema,
      table: r.table_name,
      column: r.column_name,
      dataType: r.data_type,
      nativeType: r.data_type,
      nullable: r.is_nullable === 'YES',
      hasDefault: r.column_default !== null || r.is_identity === 'YES',
      generated: r.is_identity === 'YES' || /^nextval\(/.test(r.column_default ?? ''),
      charset: null,
      maxLength: r.character_maximum_length,
    }));
  },

  async castValues(db, values, { dataType }) {
    const type = dataType.toLowerCase();
    if (!CASTABLE.test(type)) return null;
    const { rows } = await db.query<{ v: unknown }>(`SELECT CAST(t.v AS ${type}) AS v FROM unnest($1::text[]) WITH ORDINALITY AS t(v, i) ORDER BY t.i`, [[...values]]);
    return rows.map((r) => r.v);
  },

  async indexedColumns(db, tables) {
    // Columns that lead some index: those make `col = ANY(...)` lookups cheap on millions of rows.
    const schemas = [...new Set(tables.map((t) => t.schema))];
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
  },

  async tableProblems() {
    // Every PostgreSQL table takes part in transactions, and the database's encoding is its own (UTF-8 here).
    return [];
  },

  unstorable() {
    // One encoding per database, UTF-8 in practice: every name fits.
    return [];
  },

  async checkWritable() {
    // Every PostgreSQL table rolls back.
  },

  async insertRows(tx, ref, columns, rows, returning) {
    if (rows.length === 0) return [];
    const params: unknown[] = [];
    const tuples = rows.map((row) => `(${row.map((v) => `$${params.push(v)}`).join(', ')})`);
    const ret = returning.length ? ` RETURNING ${returning.map(quoteIdent).join(', ')}` : '';
    const res = await tx.query<Record<string, unknown>>(`INSERT INTO ${table(ref)} (${columns.map(quoteIdent).join(', ')}) VALUES ${tuples.join(', ')}${ret}`, params);
    // PostgreSQL returns the rows of a multi-row VALUES insert in VALUES order.
    return returning.length ? res.rows : rows.map(() => ({}));
  },

  async maxKey(tx, ref, column, { low, high, regex }) {
    // Until the transaction ends no one else writes the table, so no one reads the same maximum.
    await tx.query(`LOCK TABLE ${table(ref)} IN SHARE ROW EXCLUSIVE MODE`);
    const col = quoteIdent(column);
    const { rows } = regex === null
      ? await tx.query<{ v: string | null }>(`SELECT max(${col})::text AS v FROM ${table(ref)} WHERE ${col} BETWEEN $1 AND $2`, [low, high])
      : await tx.query<{ v: string | null }>(`SELECT max(${col}) AS v FROM ${table(ref)} WHERE ${col} >= $1 AND ${col} <= $2 AND ${col} ~ $3`, [low, high, regex]);
    return rows[0]?.v ?? null;
  },

  async nextSequenceValue(tx, sequence) {
    const { rows } = await tx.query<{ v: string }>(`SELECT nextval($1::regclass)::text AS v`, [sequence]);
    return Number(rows[0].v);
  },

  async afterExplicitKeys(tx: Queryable, ref, column) {
    await tx.query(
      `SELECT setval(seq, (SELECT max(${quoteIdent(column)}) FROM ${table(ref)})) FROM pg_get_serial_sequence($1, $2) AS seq WHERE seq IS NOT NULL`,
      [table(ref), column],
    );
  },
};

