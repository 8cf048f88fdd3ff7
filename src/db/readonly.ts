import crypto from 'node:crypto';
import type { Database, Queryable, QueryResult, ReadOnlyQueryable, Row } from './types.js';
import { singleReadStatement, StatementRefused, type ReadOnlyDialect } from './readonly-types.js';
import { mysqlReadOnly } from './dialects/mysql-readonly.js';

export { StatementRefused, type ReadOnlyDialect } from './readonly-types.js';

// Reading the target under Cradle's read-only promise (exports, `target check`, dry runs) goes
// through readOnly() and nothing else. Three layers, so that no statement text can write:
// 1. the text is checked: one statement, starting SELECT/WITH/VALUES/TABLE, no COPY, no function
//    known to act outside the transaction (files, other sessions, server settings);
// 2. the backend sends it alone through the extended protocol (the server refuses a batch there)
//    inside a READ ONLY transaction of its own connection;
// 3. after each statement the dialect confirms the transaction is the same one and still read-only
//    and wrote nothing; the transaction is then always rolled back and its connection not reused.
// What differs between SQL dialects is a ReadOnlyDialect; a new target dialect adds one.

// First words refused with a reason of their own (any other first word is refused too).
const REFUSED_FIRST: Record<string, string> = {
  copy: 'it can read and write files on the database server',
  commit: "it would end Cradle's read-only transaction",
  end: "it would end Cradle's read-only transaction",
  rollback: "it would end Cradle's read-only transaction",
  abort: "it would end Cradle's read-only transaction",
  prepare: "it would end Cradle's read-only transaction",
  begin: "it would change Cradle's read-only transaction",
  start: "it would change Cradle's read-only transaction",
  savepoint: "it would change Cradle's read-only transaction",
  release: "it would change Cradle's read-only transaction",
  set: "it would change the settings of Cradle's read-only transaction or session",
  reset: "it would change the settings of Cradle's read-only transaction or session",
};

// Functions that act outside the transaction, so READ ONLY does not stop them: server files,
// other sessions and connections, server settings, replication, or SQL text run out of sight.
const DENIED_FUNCTIONS = new Set([
  'set_config',
  'pg_read_file', 'pg_read_binary_file', 'pg_ls_dir', 'pg_stat_file', 'pg_logdir_ls',
  'pg_terminate_backend', 'pg_cancel_backend', 'pg_reload_conf', 'pg_rotate_logfile', 'pg_switch_wal',
  'pg_promote', 'pg_create_restore_point', 'pg_backup_start', 'pg_backup_stop', 'pg_start_backup', 'pg_stop_backup',
  'pg_wal_replay_pause', 'pg_wal_replay_resume', 'pg_log_backend_memory_contexts', 'pg_notify',
  'pg_import_system_collations', 'query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema', 'ts_stat',
  'pg_write_file', 'loread', 'lowrite', 'nextval', 'setval',
]);
const DENIED_PREFIXES = ['lo_', 'pg_file_', 'dblink', 'pg_stat_reset', 'pg_advisory', 'pg_try_advisory', 'pg_replication_', 'pg_logical_', 'pg_create_', 'pg_drop_', 'pg_copy_'];

export function deniedFunction(name: string): boolean {
  return DENIED_FUNCTIONS.has(name) || DENIED_PREFIXES.some((p) => name.startsWith(p));
}

interface Token {
  kind: 'word' | 'quoted' | 'string' | 'param' | 'symbol';
  /** Words lower-cased as PostgreSQL folds them (ASCII only); quoted identifiers as written. */
  text: string;
  at: number;
}

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const SPACE = /[ \t\n\r\f\v]/;
const DOLLAR_TAG = /\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

function refuse(reason: string): never {
  throw new StatementRefused(reason);
}

/** PostgreSQL's lexical structure, as far as telling code from comments, strings and quoted names goes. */
export function postgresTokens(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (SPACE.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n' && sql[i] !== '\r') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      // Block comments nest in PostgreSQL.
      let depth = 0;
      const start = i;
      do {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else {
          i++;
        }
      } while (depth > 0 && i < n);
      if (depth > 0) refuse(`a comment opened at character ${start + 1} is not closed`);
    } else if (c === "'") {
      const start = i;
      // An E'…' string takes backslash escapes; the transaction sets standard_conforming_strings,
      // so plain strings do not, on the server as here.
      const escapes = tokens.length > 0 && tokens[tokens.length - 1].kind === 'word' && tokens[tokens.length - 1].text === 'e' && tokens[tokens.length - 1].at === i - 1;
      i++;
      for (;;) {
        if (i >= n) refuse(`a string opened at character ${start + 1} is not closed`);
        if (escapes && sql[i] === '\\') i += 2;
        else if (sql[i] === "'" && sql[i + 1] === "'") i += 2;
        else if (sql[i] === "'") break;
        else i++;
      }
      i++;
      tokens.push({ kind: 'string', text: '', at: start });
    } else if (c === '"') {
      const start = i;
      if (tokens.length > 0 && tokens[tokens.length - 1].text === '&' && tokens[tokens.length - 1].at === i - 1) {
        refuse(`a Unicode-escaped name (U&"…") at character ${start} is not accepted`);
      }
      let name = '';
      i++;
      for (;;) {
        if (i >= n) refuse(`a quoted name opened at character ${start + 1} is not closed`);
        if (sql[i] === '"' && sql[i + 1] === '"') {
          name += '"';
          i += 2;
        } else if (sql[i] === '"') {
          break;
        } else {
          name += sql[i++];
        }
      }
      i++;
      tokens.push({ kind: 'quoted', text: name, at: start });
    } else if (c === '$' && /[0-9]/.test(sql[i + 1] ?? '')) {
      const start = i++;
      while (i < n && /[0-9]/.test(sql[i])) i++;
      tokens.push({ kind: 'param', text: sql.slice(start, i), at: start });
    } else if (c === '$') {
      DOLLAR_TAG.lastIndex = i;
      const m = DOLLAR_TAG.exec(sql);
      if (!m) {
        tokens.push({ kind: 'symbol', text: c, at: i++ });
        continue;
      }
      const end = sql.indexOf(m[0], i + m[0].length);
      if (end < 0) refuse(`a ${m[0]}-quoted string opened at character ${i + 1} is not closed`);
      tokens.push({ kind: 'string', text: '', at: i });
      i = end + m[0].length;
    } else if (IDENT_START.test(c)) {
      const start = i;
      while (i < n && IDENT_PART.test(sql[i])) i++;
      tokens.push({ kind: 'word', text: sql.slice(start, i).replace(/[A-Z]+/g, (s) => s.toLowerCase()), at: start });
    } else {
      tokens.push({ kind: 'symbol', text: c, at: i++ });
    }
  }
  return tokens;
}


/** Refuse what a READ ONLY PostgreSQL transaction would not stop, or what would end it. */
export function checkPostgresStatement(sql: string): void {
  const body = singleReadStatement(sql, postgresTokens, REFUSED_FIRST);
  for (let k = 0; k + 1 < body.length; k++) {
    const t = body[k];
    if ((t.kind === 'word' || t.kind === 'quoted') && body[k + 1].kind === 'symbol' && body[k + 1].text === '(' && deniedFunction(t.text)) {
      refuse(`${t.text}() is refused: it acts outside the read-only transaction (server files, other sessions or settings)`);
    }
  }
}

const TOKEN_SETTING = 'cradle.read_only_token';

export const postgresql: ReadOnlyDialect = {
  // Plain strings without backslash escapes, so the server reads the text as checkPostgresStatement did.
  // No JIT: each of Cradle's reads runs once, over wide expressions, and LLVM's compilation costs more than it
  // saves (16 of 36 s of the profile's family counts on 200,000 families, in the backend and each parallel worker).
  setup: ['SET TRANSACTION READ ONLY', 'SET LOCAL standard_conforming_strings = on', 'SET LOCAL jit = off'],
  check: checkPostgresStatement,
  tuning(opts) {
    const mib = opts.workMemMiB;
    if (mib === undefined) return [];
    if (mib === null) return ['SET LOCAL work_mem TO DEFAULT'];
    if (!Number.isInteger(mib) || mib < 1 || mib > 2_097_151) throw new RangeError(`work_mem of ${mib} MiB is not a whole number from 1 to 2097151`);
    return [`SET LOCAL work_mem = '${mib}MB'`];
  },
  async mark(tx, token) {
    await tx.query(`SELECT set_config('${TOKEN_SETTING}', $1, true)`, [token]);
  },
  async confirm(tx, token) {
    // A COMMIT or ROLLBACK would have reset the transaction-local token; an xid means something was written.
    const { rows } = await tx.query<{ read_only: string; token: string | null; xid: string | null }>(
      `SELECT current_setting('transaction_read_only') AS read_only, current_setting('${TOKEN_SETTING}', true) AS token, txid_current_if_assigned()::text AS xid`,
    );
    const r = rows[0];
    if (r.token !== token) return "the statement ended Cradle's read-only transaction";
    if (r.read_only !== 'on') return "the statement turned off Cradle's read-only transaction";
    if (r.xid !== null) return 'the statement made the read-only transaction take a transaction id (a write)';
    return null;
  },
};

const DIALECTS: Record<Queryable['kind'], ReadOnlyDialect> = { pglite: postgresql, postgres: postgresql, mysql: mysqlReadOnly };

/**
 * Run `fn` with a handle that only reads: each statement is checked, sent alone, confirmed afterwards,
 * and everything is rolled back at the end. Statements it refuses throw StatementRefused.
 */
export async function readOnly<T>(db: Database, fn: (q: ReadOnlyQueryable) => Promise<T>): Promise<T> {
  const dialect = DIALECTS[db.kind];
  return db.rolledBackTransaction(dialect.setup, async (tx) => {
    const token = crypto.randomBytes(16).toString('hex');
    await dialect.mark(tx, token);
    const guarded: ReadOnlyQueryable = {
      kind: tx.kind,
      async query<R = Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
        dialect.check(sql);
        const result = await tx.query<R>(sql, params);
        const problem = await dialect.confirm(tx, token);
        if (problem) throw new StatementRefused(`${problem}; it was rolled back`);
        return result;
      },
      // Settings Cradle writes itself, never a caller's text; SET LOCAL ends with the transaction.
      async tune(tuning) {
        for (const statement of dialect.tuning(tuning)) await tx.query(statement);
      },
    };
    return fn(guarded);
  });
}
