import type { ReadOnlyDialect } from '../readonly-types.js';
import { singleReadStatement, StatementRefused } from '../readonly-types.js';

// Cradle's read-only promise on MySQL/MariaDB (see src/db/readonly.ts for the three layers): the text
// is read with MySQL's lexical rules (backquoted names, '…' and "…" strings with backslash escapes,
// #, -- and /* */ comments); versioned comments (/*! … */, /*M! … */), which the server runs as
// code, are refused; then one prepared statement inside START TRANSACTION READ ONLY, and after each
// statement the session is checked to be still in that transaction. The server must read the text as
// the check did: a server whose sql_mode has NO_BACKSLASH_ESCAPES or ANSI_QUOTES would end a string at
// a backslash-quote, or take "…" as a name with no escapes in it, and run what the check saw as
// inside a string ('a\', sleep(9), '# '); the session drops those modes first.


const ENDS = "it would end Cradle's read-only transaction";
const REFUSED_FIRST: Record<string, string> = {
  commit: ENDS, rollback: ENDS, begin: ENDS, start: ENDS, xa: ENDS, savepoint: "it would change Cradle's read-only transaction",
  set: "it would change the settings of Cradle's read-only transaction or session",
  load: 'it reads files on the database server or the client',
  handler: 'it reads tables outside the transaction',
  lock: 'it locks tables and ends the transaction',
  unlock: ENDS,
  flush: 'it acts on the whole server',
  do: 'it runs expressions for their effects',
  call: 'a stored procedure may write',
};

// Functions that act outside the transaction, or on other sessions, files or sequences.
const DENIED = new Set([
  'load_file', 'get_lock', 'release_lock', 'release_all_locks', 'is_free_lock', 'is_used_lock', 'sleep', 'benchmark',
  'master_pos_wait', 'master_gtid_wait', 'source_pos_wait', 'wait_for_executed_gtid_set', 'wait_until_sql_thread_after_gtids',
  'nextval', 'setval', 'lastval', 'sys_exec', 'sys_eval', 'sys_get', 'sys_set', 'json_table_write',
]);

interface Token {
  kind: 'word' | 'quoted' | 'string' | 'symbol' | 'variable';
  text: string;
  at: number;
}

function refuse(reason: string): never {
  throw new StatementRefused(reason);
}

/** MySQL's lexical structure, as far as telling code from comments, strings and quoted names goes. */
export function mysqlTokens(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#' || (c === '-' && sql[i + 1] === '-' && (i + 2 >= n || /\s/.test(sql[i + 2])))) {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      if (sql[i + 2] === '!' || (sql[i + 2] === 'M' && sql[i + 3] === '!')) refuse(`a versioned comment (/*! … */) at character ${i + 1} is run as code by the server and is not accepted`);
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) refuse(`a comment opened at character ${i + 1} is not closed`);
      i = end + 2;
    } else if (c === "'" || c === '"') {
      const start = i++;
      for (;;) {
        if (i >= n) refuse(`a string opened at character ${start + 1} is not closed`);
        if (sql[i] === '\\') i += 2;
        else if (sql[i] === c && sql[i + 1] === c) i += 2;
        else if (sql[i] === c) break;
        else i++;
      }
      i++;
      tokens.push({ kind: 'string', text: '', at: start });
    } else if (c === '`') {
      const start = i++;
      let name = '';
      for (;;) {
        if (i >= n) refuse(`a quoted name opened at character ${start + 1} is not closed`);
        if (sql[i] === '`' && sql[i + 1] === '`') {
          name += '`';
          i += 2;
        } else if (sql[i] === '`') break;
        else name += sql[i++];
      }
      i++;
      tokens.push({ kind: 'quoted', text: name.toLowerCase(), at: start });
    } else if (c === '@') {
      const start = i++;
      while (i < n && /[@A-Za-z0-9_$.]/.test(sql[i])) i++;
      tokens.push({ kind: 'variable', text: sql.slice(start, i).toLowerCase(), at: start });
    } else if (/[A-Za-z_$\u0080-\uffff]/.test(c)) {
      const start = i;
      while (i < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[i])) i++;
      tokens.push({ kind: 'word', text: sql.slice(start, i).toLowerCase(), at: start });
    } else {
      tokens.push({ kind: 'symbol', text: c, at: i++ });
    }
  }
  return tokens;
}

/** Refuse what a READ ONLY MySQL transaction would not stop, or what would end it. */
export function checkMysqlStatement(sql: string): void {
  const body = singleReadStatement(sql, mysqlTokens, REFUSED_FIRST);
  for (let k = 0; k < body.length; k++) {
    const t = body[k];
    const next = body[k + 1];
    if (t.kind === 'word' && t.text === 'into') refuse('SELECT … INTO is refused: it writes files on the database server or session variables');
    if (t.kind === 'word' && (t.text === 'for' || t.text === 'lock') && next?.kind === 'word' && ['update', 'share', 'in'].includes(next.text)) {
      refuse('locking reads (FOR UPDATE, FOR SHARE, LOCK IN SHARE MODE) are refused: they hold the hospital\'s rows until Cradle is done');
    }
    if (t.kind === 'word' && t.text === 'next' && next?.kind === 'word' && next.text === 'value') refuse('NEXT VALUE FOR is refused: it moves a sequence outside the transaction');
    if (t.kind === 'variable' && body[k + 1]?.kind === 'symbol' && body[k + 1].text === ':' && body[k + 2]?.text === '=') refuse('assigning a variable (@v := …) is refused: it changes the session');
    if ((t.kind === 'word' || t.kind === 'quoted') && next?.kind === 'symbol' && next.text === '(' && DENIED.has(t.text)) {
      refuse(`${t.text}() is refused: it acts outside the read-only transaction (server files, locks, other sessions or sequences)`);
    }
  }
}

/** The session's sql_mode without the modes that change where a string or a quoted name ends (ANSI implies ANSI_QUOTES). */
export const MYSQL_LEXICAL_MODES = `SET SESSION sql_mode = TRIM(BOTH ',' FROM ${['ANSI_QUOTES', 'NO_BACKSLASH_ESCAPES', 'ANSI'].reduce(
  (expr, mode) => `REPLACE(${expr}, ',${mode},', ',')`,
  "CONCAT(',', @@SESSION.sql_mode, ',')",
)})`;

export const mysqlReadOnly: ReadOnlyDialect = {
  // The connection is destroyed afterwards: the mode changes no other work.
  setup: [MYSQL_LEXICAL_MODES, 'START TRANSACTION READ ONLY'],
  check: checkMysqlStatement,
  // The profile reads a MySQL target into an embedded copy and tunes that one.
  tuning: () => [],
  async mark(tx, token) {
    await tx.query('SET @cradle_read_only_token = ?', [token]);
  },
  async confirm(tx, token) {
    const mariadb = /mariadb/i.test(tx.serverVersion ?? '');
    const { rows } = await tx.query<{ token: string | null; open: number | string | null }>(
      `SELECT @cradle_read_only_token AS token, ${mariadb ? '@@in_transaction' : '1'} AS open`,
    );
    const r = rows[0];
    if (r.token !== token) return "the statement changed Cradle's session";
    if (Number(r.open) !== 1) return "the statement ended Cradle's read-only transaction";
    return null;
  },
};
