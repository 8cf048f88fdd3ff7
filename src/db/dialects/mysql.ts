import { createRequire } from 'node:module';
import { UserError } from '../../lib/errors.js';
import type { ReadOnlyQueryable } from '../types.js';
import type { CatalogColumn, CatalogProblem, TableRef, TargetDialect } from '../dialect-types.js';

// MySQL and MariaDB as a target: ? placeholders, `backquoted` names, a mapping's default schema
// ("public") as the connection's own database, information_schema in MySQL's words translated to
// PostgreSQL's, INSERT … RETURNING on MariaDB (10.5+), AUTO_INCREMENT, InnoDB only for writes.

const require = createRequire(import.meta.url);

/** Quote one identifier the way MySQL does (`a``b`). */
export function mysqlIdent(name: string): string {
  if (name.length === 0) throw new Error('empty SQL identifier');
  if (name.includes('\u0000')) throw new Error('SQL identifier contains a NUL byte');
  return `\`${name.replace(/`/g, '``')}\``;
}

/** The mapping's default schema, "public", is the database the connection names. */
const ownDatabase = (schema: string) => schema === 'public';

function table(ref: TableRef): string {
  return ownDatabase(ref.schema) ? mysqlIdent(ref.table) : `${mysqlIdent(ref.schema)}.${mysqlIdent(ref.table)}`;
}

// MySQL's data_type → PostgreSQL's information_schema words, which the type checks compare.
const TYPES: Record<string, string> = {
  varchar: 'character varying', char: 'character', text: 'text', tinytext: 'text', mediumtext: 'text', longtext: 'text',
  int: 'integer', integer: 'integer', mediumint: 'integer', smallint: 'smallint', tinyint: 'smallint', bigint: 'bigint',
  decimal: 'numeric', numeric: 'numeric', float: 'real', double: 'double precision',
  date: 'date', time: 'time without time zone',
  // Neither keeps a zone in its value: DATETIME is wall-clock time, TIMESTAMP is shown in the session's zone.
  datetime: 'timestamp without time zone', timestamp: 'timestamp without time zone',
};

/** What CAST(… AS …) turns text into for a column of this type, as the column returns it; null for types it has no cast to. */
function castTarget(dataType: string, nativeType: string): string | null {
  const native = nativeType.toLowerCase();
  const precision = /\((\d+)(?:,(\d+))?\)/.exec(native);
  switch (dataType) {
    case 'smallint':
    case 'integer':
    case 'bigint':
      return /unsigned/.test(native) ? 'UNSIGNED' : 'SIGNED';
    case 'numeric':
      return precision ? `DECIMAL(${precision[1]},${precision[2] ?? 0})` : 'DECIMAL(65,30)';
    case 'real':
    case 'double precision':
      return 'DOUBLE';
    case 'date':
      return 'DATE';
    case 'time without time zone':
      return precision ? `TIME(${precision[1]})` : 'TIME';
    case 'timestamp without time zone':
      return precision ? `DATETIME(${precision[1]})` : 'DATETIME';
    case 'text':
    case 'character varying':
    case 'character':
      return 'CHAR';
    default:
      return null;
  }
}

/** Engines whose tables roll back with the transaction. */
const TRANSACTIONAL = new Set(['innodb']);

async function databaseName(db: ReadOnlyQueryable): Promise<string> {
  const { rows } = await db.query<{ d: string | null }>('SELECT DATABASE() AS d');
  const d = rows[0]?.d;
  if (!d) throw new UserError('the MySQL target location names no database (mysql://user@host:3306/<database>)');
  return d;
}

/** Each table as information_schema names it (schema resolved), with the way back to the mapping's name. */
async function resolved(db: ReadOnlyQueryable, tables: readonly TableRef[]): Promise<{ where: string; params: string[]; back: (schema: string) => string }> {
  const own = tables.some((t) => ownDatabase(t.schema)) ? await databaseName(db) : null;
  const params: string[] = [];
  const tuples = tables.map((t) => {
    params.push(ownDatabase(t.schema) ? own! : t.schema, t.table);
    return '(table_schema = ? AND table_name = ?)';
  });
  const explicit = new Set(tables.filter((t) => !ownDatabase(t.schema)).map((t) => t.schema));
  return {
    where: tuples.length ? `(${tuples.join(' OR ')})` : 'FALSE',
    params,
    // A table of the connection's own database goes back to "public" unless the mapping named that database itself.
    back: (schema) => (schema === own && !explicit.has(schema) ? 'public' : schema),
  };
}

type Iconv = typeof import('iconv-lite');
let iconv: Iconv | null = null;

/** Character sets that hold every Unicode character. */
const FULL = new Set(['utf8mb4', 'utf16', 'utf16le', 'utf32', 'ucs2']);
// MySQL's names for the encodings iconv-lite knows under other names.
const ICONV_NAMES: Record<string, string> = { latin1: 'cp1252', gb2312: 'gb2312', gbk: 'gbk', gb18030: 'gb18030', big5: 'big5', ujis: 'euc-jp', sjis: 'shift_jis', cp932: 'cp932', euckr: 'euc-kr', koi8r: 'koi8-r', cp1251: 'cp1251', cp1250: 'cp1250', latin2: 'iso-8859-2', greek: 'iso-8859-7', hebrew: 'iso-8859-8' };

export const mysqlDialect: TargetDialect = {
  name: 'mysql',
  ident: mysqlIdent,
  table,
  tableName(name) {
    const dot = name.indexOf('.');
    return dot < 0 ? mysqlIdent(name) : `${mysqlIdent(name.slice(0, dot))}.${mysqlIdent(name.slice(dot + 1))}`;
  },
  param(params, value) {
    params.push(value);
    return '?';
  },
  text: (expr) => `CAST(${expr} AS CHAR)`,
  inText(expr, values, params) {
    if (values.length === 0) return 'FALSE';
    const list = (): string => values.map((v) => (params.push(v), '?')).join(', ');
    // The plain IN can use the column's index; the binary text comparison makes it exact (a case-insensitive
    // collation, a number column compared with text).
    const plain = `${expr} IN (${list()})`;
    return `(${plain} AND CAST(${expr} AS CHAR) COLLATE utf8mb4_bin IN (${list()}))`;
  },
  matches: (expr, pattern) => `${expr} REGEXP ${pattern}`,
  random: 'RAND()',
  dayBound(params, day, { nextDay }) {
    params.push(day);
    return nextDay ? 'CAST(? AS DATE) + INTERVAL 1 DAY' : 'CAST(? AS DATE)';
  },

  async columns(db, tables) {
    if (tables.length === 0) return [];
    const r = await resolved(db, tables);
    const { rows } = await db.query<{
      s: string; t: string; c: string; data_type: string; column_type: string; is_nullable: string;
      column_default: string | null; extra: string; charset: string | null; max_length: number | string | null;
    }>(
      `SELECT table_schema AS s, table_name AS t, column_name AS c, data_type, column_type, is_nullable, column_default, extra,
              character_set_name AS charset, character_maximum_length AS max_length
         FROM information_schema.columns WHERE ${r.where} ORDER BY table_schema, table_name, ordinal_position`,
      r.params,
    );
    const order = (s: string, t: string) => tables.findIndex((x) => x.table === t && (x.schema === r.back(s)));
    return rows
      .map((x): CatalogColumn => {
        const auto = /auto_increment/i.test(x.extra ?? '');
        return {
          schema: r.back(x.s),
          table: x.t,
          column: x.c,
          dataType: TYPES[x.data_type.toLowerCase()] ?? x.data_type.toLowerCase(),
          nativeType: x.column_type,
          nullable: x.is_nullable === 'YES',
          // MariaDB shows a nullable column without a default as the text NULL: it is filled with NULL.
          hasDefault: x.column_default !== null || auto || /DEFAULT_GENERATED|VIRTUAL|STORED/i.test(x.extra ?? ''),
          generated: auto,
          charset: x.charset,
          maxLength: x.max_length === null ? null : Number(x.max_length),
        };
      })
      .sort((a, b) => order(a.schema, a.table) - order(b.schema, b.table));
  },

  async castValues(db, values, { dataType, nativeType }) {
    const target = castTarget(dataType, nativeType ?? '');
    if (target === null) return null;
    if (values.length === 0) return [];
    // One SELECT per value, numbered: a UNION's rows come in no promised order.
    const sql = values.map((_, i) => `SELECT ${i} AS i, CAST(? AS ${target}) AS v`).join(' UNION ALL ');
    const { rows } = await db.query<{ i: number; v: unknown }>(`SELECT v FROM (${sql}) AS t ORDER BY i`, [...values]);
    return rows.map((r) => r.v);
  },

  async indexedColumns(db, tables) {
    if (tables.length === 0) return new Set();
    const r = await resolved(db, tables);
    const { rows } = await db.query<{ s: string; t: string; c: string }>(
      `SELECT table_schema AS s, table_name AS t, column_name AS c FROM information_schema.statistics WHERE seq_in_index = 1 AND ${r.where}`,
      r.params,
    );
    return new Set(rows.map((x) => `${r.back(x.s)}.${x.t}.${x.c}`));
  },

  async tableProblems(db, tables) {
    if (tables.length === 0) return [];
    const r = await resolved(db, tables);
    const { rows } = await db.query<{ s: string; t: string; engine: string | null; kind: string }>(
      `SELECT table_schema AS s, table_name AS t, engine, table_type AS kind FROM information_schema.tables WHERE ${r.where}`,
      r.params,
    );
    const problems: CatalogProblem[] = [];
    for (const x of rows) {
      if (x.kind !== 'BASE TABLE' || x.engine === null || TRANSACTIONAL.has(x.engine.toLowerCase())) continue;
      problems.push({
        level: 'error',
        schema: r.back(x.s),
        table: x.t,
        message: `${x.engine} table: it cannot roll back, so a seeding that fails part-way would leave canary rows behind; Cradle writes only to InnoDB tables (ALTER TABLE ${table({ schema: r.back(x.s), table: x.t })} ENGINE=InnoDB, with the hospital's DBA)`,
      });
    }
    return problems;
  },

  unstorable(charset, text) {
    const cs = charset.toLowerCase();
    if (FULL.has(cs)) return [];
    const chars = [...new Set(text)];
    if (cs === 'utf8' || cs === 'utf8mb3') return chars.filter((c) => c.codePointAt(0)! > 0xffff);
    if (cs === 'ascii' || cs === 'binary') return cs === 'binary' ? [] : chars.filter((c) => c.codePointAt(0)! > 0x7f);
    const name = ICONV_NAMES[cs];
    iconv ??= require('iconv-lite') as Iconv;
    if (!name || !iconv.encodingExists(name)) return chars.filter((c) => c.codePointAt(0)! > 0x7f);
    return chars.filter((c) => iconv!.decode(iconv!.encode(c, name), name) !== c);
  },

  async checkWritable(tx, tables) {
    const problems = await mysqlDialect.tableProblems(tx, tables);
    if (problems.length) throw new UserError(`${problems[0].schema === 'public' ? '' : `${problems[0].schema}.`}${problems[0].table}: ${problems[0].message}`);
  },

  async insertRows(tx, ref, columns, rows, returning) {
    if (rows.length === 0) return [];
    const head = `INSERT INTO ${table(ref)} (${columns.map(mysqlIdent).join(', ')}) VALUES `;
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    if (returning.length === 0) {
      await tx.query(head + rows.map(() => tuple).join(', '), rows.flat());
      return rows.map(() => ({}));
    }
    if (/mariadb/i.test(tx.serverVersion ?? '')) {
      // MariaDB 10.5+: RETURNING on a multi-row insert, one row per VALUES tuple in order.
      const res = await tx.query<Record<string, unknown>>(`${head}${rows.map(() => tuple).join(', ')} RETURNING ${returning.map(mysqlIdent).join(', ')}`, rows.flat());
      return res.rows;
    }
    // MySQL has no RETURNING: one row at a time, the AUTO_INCREMENT value from the server's reply.
    if (returning.length !== 1) throw new UserError(`${ref.table}: MySQL returns only an AUTO_INCREMENT key; "returning" may name one column there`);
    const out: Record<string, unknown>[] = [];
    for (const row of rows) {
      const res = await tx.query(head + tuple, row);
      if (res.insertId === undefined || res.insertId === 0) throw new UserError(`${ref.table}.${returning[0]} is not AUTO_INCREMENT; MySQL cannot return it`);
      out.push({ [returning[0]]: res.insertId });
    }
    return out;
  },

  async maxKey(tx, ref, column, { low, high, regex }) {
    // FOR UPDATE locks the range (next-key locks under REPEATABLE READ): no one inserts into it, or
    // reads the same maximum for an insert, until this transaction ends. LOCK TABLES would commit it.
    const col = mysqlIdent(column);
    const { rows } = await tx.query<{ v: string | null }>(
      `SELECT CAST(max(${col}) AS CHAR) AS v FROM ${table(ref)} WHERE ${col} BETWEEN ? AND ?${regex === null ? '' : ` AND CAST(${col} AS CHAR) REGEXP ?`} FOR UPDATE`,
      regex === null ? [low, high] : [low, high, regex],
    );
    return rows[0]?.v ?? null;
  },

  async nextSequenceValue(tx, sequence) {
    const { rows } = await tx.query<{ v: string | number }>(`SELECT NEXTVAL(${mysqlDialect.tableName(sequence)}) AS v`);
    return Number(rows[0].v);
  },

  async afterExplicitKeys() {
    // InnoDB moves AUTO_INCREMENT past the largest value inserted.
  },
};
