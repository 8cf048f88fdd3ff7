import { classifyAction, fail, Reject, reject, shown } from '../fields.js';
import { parsePgLogTime } from '../time.js';
import { TOO_LONG_REASON, type Line } from '../lines.js';
import { csvRecords, splitCsv, type CsvRecord } from './csv.js';
import type { AccessRow, ParsedLine, ParseOptions } from '../../domain/access.js';

// pgaudit entries in PostgreSQL's csvlog: the audited statements, their record keys read from the SQL.

/** csvlog columns we read (PostgreSQL 15 order; 9.0–12 stop after application_name, 13 adds backend_type, 14 leader_pid and query_id). */
const CSVLOG = { log_time: 0, user_name: 1, process_id: 3, connection_from: 4, session_id: 5, message: 13, application_name: 22 } as const;

interface AuditEntry {
  type: string;
  statementId: string;
  substatementId: string;
  command: string;
  objectName: string;
  statement: string;
  /** Bind parameters by position; null when pgaudit.log_parameter is off or the field is <previously logged>. */
  parameters: string[] | null;
}

export async function* parsePgaudit(lines: AsyncIterable<Line>, options: ParseOptions): AsyncGenerator<ParsedLine> {
  const seen = new StatementsSeen();
  for await (const rec of csvRecords(lines)) {
    const item = rec.tooLong ? reject(rec.line, TOO_LONG_REASON, rec.text) : rec.unclosed ? reject(rec.line, 'csvlog: a quote opened on this line is never closed', rec.text) : pgauditRecord(rec, seen, options);
    if (item) yield item;
  }
}

/** A csvlog record's access, a reject, or null for an ordinary log message or a statement already yielded. */
function pgauditRecord(rec: CsvRecord, seen: StatementsSeen, options: ParseOptions): ParsedLine | null {
  try {
    const cells = splitCsv(rec.text, 'csvlog');
    if (cells.length <= CSVLOG.message) fail(`csvlog: ${cells.length} columns; a PostgreSQL csvlog record has 23 to 26`);
    // Ordinary log messages share the file; only pgaudit's are accesses.
    if (!cells[CSVLOG.message].startsWith('AUDIT: ')) return null;
    const audit = parseAuditMessage(cells[CSVLOG.message].slice('AUDIT: '.length));
    if (seen.repeats(cells, audit)) return null;
    return { line: rec.line, row: pgauditRow(cells, audit, options) };
  } catch (err) {
    if (err instanceof Reject) return reject(rec.line, err.message, rec.text);
    throw err;
  }
}

/**
 * OBJECT and SESSION audit (and one OBJECT entry per audited relation) log the same statement several
 * times under one process, session, STATEMENT_ID and SUBSTATEMENT_ID: only the first is an access.
 * STATEMENT_ID only grows within a session, so remembering the current one per session is enough; and
 * a statement's entries are written together, so only recently active sessions need remembering.
 */
class StatementsSeen {
  private static readonly MAX_SESSIONS = 10_000;
  private current = new Map<string, { statementId: string; substatements: Set<string> }>();

  repeats(cells: string[], audit: AuditEntry): boolean {
    const session = `${cells[CSVLOG.process_id]}|${cells[CSVLOG.session_id]}`;
    let entry = this.current.get(session);
    // Re-insert so the Map's order is least recently active first.
    this.current.delete(session);
    if (entry?.statementId !== audit.statementId) entry = { statementId: audit.statementId, substatements: new Set() };
    this.current.set(session, entry);
    if (this.current.size > StatementsSeen.MAX_SESSIONS) this.current.delete(this.current.keys().next().value!);
    if (entry.substatements.has(audit.substatementId)) return true;
    entry.substatements.add(audit.substatementId);
    return false;
  }
}

/** AUDIT_TYPE,STATEMENT_ID,SUBSTATEMENT_ID,CLASS,COMMAND,OBJECT_TYPE,OBJECT_NAME,STATEMENT,PARAMETER[,ROWS] */
function parseAuditMessage(text: string): AuditEntry {
  const f = splitCsv(text, 'message');
  if (f.length < 7) fail(`message: AUDIT entry has ${f.length} fields; pgaudit writes at least 7 (AUDIT_TYPE … OBJECT_NAME)`);
  if (f[0] !== 'SESSION' && f[0] !== 'OBJECT') fail(`message: AUDIT_TYPE ${shown(f[0])} is not SESSION or OBJECT`);
  return { type: f[0], statementId: f[1], substatementId: f[2], command: f[4], objectName: f[6], statement: f[7] ?? '', parameters: auditParameters(f[8]) };
}

function auditParameters(field: string | undefined): string[] | null {
  if (field === undefined || field === '<not logged>' || field === '<previously logged>') return null;
  if (field === '<none>') return [];
  try {
    return splitCsv(field, 'PARAMETER');
  } catch {
    return null;
  }
}

function pgauditRow(cells: string[], audit: AuditEntry, options: ParseOptions): AccessRow {
  const logTime = cells[CSVLOG.log_time];
  const at = parsePgLogTime(logTime, options.timeZone) ?? fail(`log_time: ${shown(logTime)} is not a csvlog time (YYYY-MM-DD HH:MM:SS.mmm ZONE)`);
  const account = cells[CSVLOG.user_name].trim() || fail('user_name: missing');
  const action = audit.command.trim().toLowerCase() || fail('message: COMMAND missing from the AUDIT entry');
  const records = options.recordKey ? sqlRecordKeys(audit, options.recordKey) : [];
  return {
    at,
    account,
    action,
    scope: classifyAction(action, records.length),
    records,
    system: cells[CSVLOG.application_name]?.trim() || null,
    ip: hostOf(cells[CSVLOG.connection_from]),
  };
}

/** "10.2.0.15:52114" → "10.2.0.15", "2001:db8::5:50132" → "2001:db8::5"; "[local]" (a Unix socket) or empty → null. */
function hostOf(connectionFrom: string | undefined): string | null {
  const c = connectionFrom?.trim() ?? '';
  if (!c || c === '[local]') return null;
  return c.replace(/:\d+$/, '');
}

// ---------------------------------------------------------------------------------------------------
// Record keys in SQL text: enough SQL to read `key = literal` and `key IN (…)` conditions, not a parser

const IDENT = '(?:"[^"]+"|[A-Za-z_][\\w$]*)';
const LITERAL = "(?:'(?:[^']|'')*'|-?\\d+(?:\\.\\d+)?|\\$\\d+)";
const CAST = '(?:\\s*::\\s*[A-Za-z_][\\w ]*?(?:\\[\\])?)?';
const LITERAL_G = new RegExp(LITERAL, 'g');

/** Words that can follow a table name without being its alias. */
const NOT_ALIASES = new Set([
  'where', 'join', 'inner', 'left', 'right', 'full', 'cross', 'natural', 'on', 'using', 'set', 'group', 'order', 'limit',
  'offset', 'union', 'except', 'intersect', 'returning', 'for', 'values', 'window', 'having', 'fetch', 'tablesample',
  'as', 'select', 'from', 'and', 'or', 'not', 'into', 'default', 'to', 'with',
]);

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const unquote = (ident: string) => ident.replace(/^"|"$/g, '').toLowerCase();
const lastPart = (name: string) => unquote(name.slice(name.lastIndexOf('.') + 1));

interface KeyPatterns {
  /** The table's name, unquoted, lower case, without schema. */
  table: string;
  /** The statement names the table. */
  mention: RegExp;
  /** `births b`, `births AS b`: group 1 is a possible alias. */
  alias: RegExp;
  /** `= literal`, `IN (literals)`, `= ANY(array)`: group 1 the qualifier, group 2 the value(s). */
  conditions: [RegExp, RegExp, RegExp];
}

/** Regexes per record key, built once: a log has one key, and building them costs more than matching. */
const keyPatternCache = new Map<string, KeyPatterns>();

function keyPatterns(key: { table: string; column: string }): KeyPatterns {
  const cacheKey = `${key.table}\0${key.column}`;
  const cached = keyPatternCache.get(cacheKey);
  if (cached) return cached;
  const table = lastPart(key.table);
  const name = `"?${escapeRegex(table)}"?`;
  const column = `(?<![\\w$."])(?:(?:${IDENT}\\s*\\.\\s*)?(${IDENT})\\s*\\.\\s*)?"?${escapeRegex(unquote(key.column))}"?(?![\\w$"])`;
  const patterns: KeyPatterns = {
    table,
    mention: new RegExp(`(?<![\\w$])${name}(?![\\w$])`, 'i'),
    alias: new RegExp(`(?<![\\w$."])(?:${IDENT}\\s*\\.\\s*)?${name}(?![\\w$"])\\s+(?:AS\\s+)?(${IDENT})`, 'gi'),
    conditions: [
      new RegExp(`${column}\\s*=\\s*(${LITERAL})${CAST}`, 'gi'),
      new RegExp(`${column}\\s+IN\\s*\\(\\s*(${LITERAL}${CAST}(?:\\s*,\\s*${LITERAL}${CAST})*)\\s*\\)`, 'gi'),
      new RegExp(`${column}\\s*=\\s*ANY\\s*\\(\\s*(ARRAY\\s*\\[[^\\]]*\\]|${LITERAL})${CAST}\\s*\\)`, 'gi'),
    ],
  };
  keyPatternCache.set(cacheKey, patterns);
  return patterns;
}

/**
 * The record key's values a statement names (`key = v`, `key IN (…)`, `key = ANY(…)`), in PostgreSQL's
 * lexical rules; other dialects translate their SQL to these first (mariadb-audit.ts).
 */
export function sqlRecordKeys(audit: Pick<AuditEntry, 'command' | 'objectName' | 'statement' | 'parameters'>, recordKey: { table: string; column: string }): string[] {
  const patterns = keyPatterns(recordKey);
  return touchesTable(audit, patterns) ? statementKeys(audit, patterns) : [];
}

/** The audit entry is about the record-key table: its OBJECT_NAME (any schema), or its statement names it. */
function touchesTable(audit: Pick<AuditEntry, 'objectName' | 'statement'>, patterns: KeyPatterns): boolean {
  if (audit.objectName && lastPart(audit.objectName) === patterns.table) return true;
  return patterns.mention.test(audit.statement);
}

/** Distinct key values from `key = v`, `key IN (v, …)` and `key = ANY(…)`, with $n read from the logged parameters. */
function statementKeys(audit: Pick<AuditEntry, 'command' | 'statement' | 'parameters'>, patterns: KeyPatterns): string[] {
  const sql = stripComments(audit.statement);
  // An UPDATE's SET list assigns rather than selects: `SET id = 5` names no record read.
  const conditions = audit.command.toUpperCase() === 'UPDATE' ? sql.replace(/\bSET\b[\s\S]*?(?=\bWHERE\b|$)/i, ' ') : sql;
  const qualifiers = tableNames(sql, patterns);
  const found: { at: number; values: string[] }[] = [];
  patterns.conditions.forEach((pattern, i) => {
    for (const m of conditions.matchAll(pattern)) {
      if (m[1] && !qualifiers.has(unquote(m[1]))) continue;
      const literals = (m[2].match(LITERAL_G) ?? []).map((lit) => literalValue(lit, audit.parameters));
      const values = (i === 2 ? literals.flatMap(arrayElements) : literals).filter((v): v is string => v !== null && v !== '');
      found.push({ at: m.index, values });
    }
  });
  // In the order the statement names them.
  return [...new Set(found.sort((a, b) => a.at - b.at).flatMap((f) => f.values))];
}

/**
 * The statement with its comments replaced by spaces, in one pass: -- to the end of the line and
 * /* *\/, which nest in PostgreSQL; what looks like a comment inside a string, a quoted name or a
 * dollar-quoted body is kept. (Two regexes did this before, quadratic on many unclosed /*: 37 s for
 * one 480 KB statement.) An unclosed comment runs to the end, an unclosed string too.
 */
export function stripComments(sql: string): string {
  let out = '';
  let kept = 0;
  const n = sql.length;
  for (let i = 0; i < n; ) {
    const c = sql.charCodeAt(i);
    if (c === 0x2d && sql.charCodeAt(i + 1) === 0x2d) {
      const nl = sql.indexOf('\n', i + 2);
      out += sql.slice(kept, i) + ' ';
      i = kept = nl === -1 ? n : nl;
    } else if (c === 0x2f && sql.charCodeAt(i + 1) === 0x2a) {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        const d = sql.charCodeAt(j);
        if (d === 0x2a && sql.charCodeAt(j + 1) === 0x2f) {
          depth--;
          j += 2;
        } else if (d === 0x2f && sql.charCodeAt(j + 1) === 0x2a) {
          depth++;
          j += 2;
        } else j++;
      }
      out += sql.slice(kept, i) + ' ';
      i = kept = Math.min(j, n);
    } else if (c === 0x27 || c === 0x22) {
      // 'text' ('' a quote; E'…' also \ escapes) or "name" ("" a quote).
      const escapes = c === 0x27 && i > 0 && (sql[i - 1] === 'E' || sql[i - 1] === 'e') && !/[\w$]/.test(sql[i - 2] ?? '');
      let j = i + 1;
      for (; j < n; j++) {
        const d = sql.charCodeAt(j);
        if (escapes && d === 0x5c) j++;
        else if (d === c) {
          if (sql.charCodeAt(j + 1) !== c) break;
          j++;
        }
      }
      i = j + 1;
    } else if (c === 0x24 && !/[\w$]/.test(sql[i - 1] ?? '')) {
      // $tag$ … $tag$ (a $1 parameter is not one).
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 64));
      if (!tag) i++;
      else {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close === -1 ? n : close + tag[0].length;
      }
    } else i++;
  }
  return kept === 0 ? sql : out + sql.slice(kept);
}

/** Names that can qualify the key column: the table itself and its aliases (`FROM births b`, `JOIN births AS b`). */
function tableNames(sql: string, patterns: KeyPatterns): Set<string> {
  const names = new Set([patterns.table]);
  for (const m of sql.matchAll(patterns.alias)) if (!NOT_ALIASES.has(unquote(m[1]))) names.add(unquote(m[1]));
  return names;
}

/** A literal's text: '' unescaped, numbers as written, $n from the parameters (null when not logged). */
function literalValue(lit: string, parameters: string[] | null): string | null {
  if (lit.startsWith("'")) return lit.slice(1, -1).replace(/''/g, "'");
  if (lit.startsWith('$')) {
    const value = parameters?.[Number(lit.slice(1)) - 1];
    return value === undefined || value === '<long field suppressed>' ? null : value;
  }
  return lit;
}

/** The elements of an array literal or parameter: {1,2,"a b"}; a plain value stays itself. */
function arrayElements(value: string | null): (string | null)[] {
  if (value === null || !/^\{.*\}$/s.test(value)) return [value];
  return value.slice(1, -1).split(',').map((e) => e.trim().replace(/^"(.*)"$/s, '$1')).filter((e) => e && e.toUpperCase() !== 'NULL');
}
