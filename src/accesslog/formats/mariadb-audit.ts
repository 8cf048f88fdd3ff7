import { classifyAction, fail, Reject, reject, shown } from '../fields.js';
import { parseTimestamp } from '../time.js';
import { TOO_LONG_REASON, type Line } from '../lines.js';
import { sqlRecordKeys } from './pgaudit.js';
import type { AccessRow, ParsedLine, ParseOptions } from '../../domain/access.js';

// MariaDB's server_audit plugin log (server_audit_output_type=file), one event a line:
//   20261207 12:00:47,dbhost,nurse42,10.2.0.15,3,7,QUERY,his,'SELECT * FROM `ZY_BRXX` WHERE `ID` = 1',0
//   timestamp,serverhost,username,host,connectionid,queryid,operation,database,object,retcode
// QUERY events carry the statement, quoted with \' and \\ and with \n, \r, \t escaped, so one event is
// one line; their record keys are read from the SQL as pgaudit's are, after translating MySQL's lexical
// rules (backquoted names, backslash escapes in strings, double-quoted strings, # comments) into
// PostgreSQL's. Connections and TABLE events (READ, WRITE…) name no record and are not accesses; a
// statement the server refused (retcode other than 0) read nothing and is skipped.

const TIME = /^(\d{4})(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
/** Operations server_audit writes that are not statements: read and skipped. */
const NOT_ACCESSES = new Set(['CONNECT', 'DISCONNECT', 'FAILED_CONNECT', 'CHANGEUSER', 'PROXY_CONNECT', 'READ', 'WRITE', 'CREATE', 'ALTER', 'RENAME', 'DROP']);

export async function* parseMariadbAudit(lines: AsyncIterable<Line>, options: ParseOptions): AsyncGenerator<ParsedLine> {
  for await (const l of lines) {
    if (l.tooLong) {
      yield reject(l.line, TOO_LONG_REASON, l.text);
      continue;
    }
    if (l.text.trim() === '') continue;
    try {
      const row = mariadbAuditRow(l.text, options);
      if (row) yield { line: l.line, row };
    } catch (err) {
      if (err instanceof Reject) yield reject(l.line, err.message, l.text);
      else throw err;
    }
  }
}

/** A line's access, or null for an event that is not one; throws Reject naming the field. */
export function mariadbAuditRow(text: string, options: Pick<ParseOptions, 'timeZone' | 'recordKey'>): AccessRow | null {
  const f: string[] = [];
  let at = 0;
  for (let i = 0; i < 8; i++) {
    const comma = text.indexOf(',', at);
    if (comma === -1) fail(`server_audit: ${i + 1} fields; a line has 10 (timestamp,serverhost,username,host,connectionid,queryid,operation,database,object,retcode)`);
    f.push(text.slice(at, comma));
    at = comma + 1;
  }
  const [time, , user, host, connection, query, operation] = f;
  const m = TIME.exec(time) ?? fail(`timestamp: ${shown(time)} is not server_audit's YYYYMMDD HH:MM:SS`);
  const when = parseTimestamp(`${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}`, options.timeZone) ?? fail(`timestamp: ${shown(time)} is not a valid time`);
  if (!/^\d+$/.test(connection)) fail(`connectionid: ${shown(connection)} is not a number`);
  if (!/^\d+$/.test(query)) fail(`queryid: ${shown(query)} is not a number`);
  const op = operation.trim().toUpperCase();
  const rest = text.slice(at);
  if (NOT_ACCESSES.has(op)) return null;
  if (op !== 'QUERY') fail(`operation: ${shown(operation)} is not one server_audit writes (QUERY, CONNECT, READ…)`);
  const { statement, retcode } = quotedObject(rest);
  if (retcode !== 0) return null;
  const account = user.trim() || fail('username: missing');
  const { action, records } = mysqlStatement(statement, 'object', options.recordKey);
  const h = host.trim();
  return { at: when, account, action, scope: classifyAction(action, records.length), records, system: null, ip: h && h !== 'localhost' ? h : null };
}

/**
 * A MySQL statement's action (its first word, lower case) and the record keys it names, read as
 * pgaudit's are once MySQL's lexical rules are translated; shared with the general query log
 * (mysql-general.ts). Throws Reject, naming `field`, when the text does not start with an SQL command.
 */
export function mysqlStatement(statement: string, field: string, recordKey: ParseOptions['recordKey']): { action: string; records: string[] } {
  const sql = mysqlToStandard(statement);
  const action = (/^\s*\(*\s*([A-Za-z]+)/.exec(sql)?.[1] ?? '').toLowerCase() || fail(`${field}: ${shown(statement)} does not start with an SQL command`);
  const command = action.toUpperCase();
  const records = recordKey && ['SELECT', 'WITH', 'UPDATE', 'DELETE', 'TABLE'].includes(command) ? sqlRecordKeys({ command, objectName: '', statement: sql, parameters: null }, recordKey) : [];
  return { action, records };
}

/** `'SELECT …',0`: the statement unescaped and the return code; a line cut short is a Reject. */
function quotedObject(rest: string): { statement: string; retcode: number } {
  if (rest[0] !== "'") fail(`object: a QUERY event's statement starts with a quote, found ${shown(rest.slice(0, 20))}`);
  let out = '';
  let i = 1;
  for (; i < rest.length; i++) {
    const c = rest[i];
    if (c === '\\') {
      const d = rest[++i];
      if (d === undefined) break;
      out += d === 'n' ? '\n' : d === 'r' ? '\r' : d === 't' ? '\t' : d;
    } else if (c === "'") break;
    else out += c;
  }
  if (i >= rest.length) fail('object: the statement\'s quote is never closed (the line is cut short)');
  const tail = rest.slice(i + 1);
  const r = /^,(-?\d+)$/.exec(tail) ?? fail(`retcode: ${shown(tail)} after the statement; server_audit ends a QUERY line with ,<number>`);
  return { statement: out, retcode: Number(r[1]) };
}

/**
 * MySQL's SQL in PostgreSQL's lexical rules, for the key reader: `name` → "name", 'it\'s' and "it's"
 * → 'it''s', # comments → a space. Unclosed strings and names run to the end, as the server would refuse.
 */
export function mysqlToStandard(sql: string): string {
  let out = '';
  const n = sql.length;
  for (let i = 0; i < n; ) {
    const c = sql[i];
    if (c === '`') {
      let name = '';
      let j = i + 1;
      for (; j < n; j++) {
        if (sql[j] === '`') {
          if (sql[j + 1] !== '`') break;
          j++;
        }
        name += sql[j];
      }
      out += `"${name.replace(/"/g, '""')}"`;
      i = j + 1;
    } else if (c === "'" || c === '"') {
      let text = '';
      let j = i + 1;
      for (; j < n; j++) {
        const d = sql[j];
        if (d === '\\' && j + 1 < n) {
          const e = sql[++j];
          text += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === '0' ? '\0' : e;
        } else if (d === c) {
          if (sql[j + 1] !== c) break;
          text += c;
          j++;
        } else text += d;
      }
      out += `'${text.replace(/'/g, "''")}'`;
      i = j + 1;
    } else if (c === '#' || (c === '-' && sql[i + 1] === '-')) {
      const nl = sql.indexOf('\n', i);
      out += ' ';
      i = nl === -1 ? n : nl;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      out += ' ';
      i = end === -1 ? n : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
