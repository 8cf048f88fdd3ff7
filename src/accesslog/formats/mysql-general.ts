import { classifyAction, fail, Reject, reject, shown } from '../fields.js';
import { parseTimestamp } from '../time.js';
import { MAX_LINE_CHARS, TOO_LONG_REASON, type Line } from '../lines.js';
import { mysqlStatement } from './mariadb-audit.js';
import type { ParsedLine, ParseOptions } from '../../domain/access.js';

// The general query log of MySQL and MariaDB (general_log = ON, log_output = FILE): every statement a
// client sent, as the server received it. Header lines when the server opens the file, then one entry
// per command: a time, the thread (connection) id, the command, a tab and its argument:
//   2026-12-01T07:00:06.123456Z	   12 Query	SELECT …            MySQL 8 (ISO, UTC by log_timestamps)
//   261201  7:00:06	    12 Query	SELECT …                       MariaDB (yymmdd, the server's local time)
//   		    12 Query	SELECT …                                   MariaDB, same second as the line before
// A statement keeps its line breaks: the lines after an entry that do not start one continue its
// argument. A Query names no account: the thread's Connect line (`nurse42@10.2.0.15 on his using
// TCP/IP`) does, so the threads' accounts are kept while the file is read; a statement of a thread
// connected before the file starts is read with the account "unknown" and a warning. MariaDB writes no
// time on an entry in the same second as the one before, even when that one is in the file before a
// rotation (FLUSH GENERAL LOGS): the entries that start a file without a time are read at the time of
// the first entry with one, an upper bound, with a warning. Query and Execute
// (a server-side prepared statement, logged with its values) are accesses when they read or write rows;
// their record keys are read from the SQL as server_audit's (mariadb-audit.ts).

/** MySQL 8: ISO 8601 with Z or an offset, a tab, the thread id (right-aligned), a space, the command. */
const MYSQL8 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2}))\t *(\d+) ([^\t]*)(?:\t([\s\S]*))?$/;
/** MariaDB and MySQL 5.x: yymmdd h:mm:ss, a tab, … */
const MARIADB = /^(\d{2})(\d{2})(\d{2}) ([ \d]\d):(\d{2}):(\d{2})\t *(\d+) ([^\t]*)(?:\t([\s\S]*))?$/;
/** MariaDB in the same second as the entry before: two tabs instead of the time. */
const NO_TIME = /^\t\t *(\d+) ([^\t]*)(?:\t([\s\S]*))?$/;
/**
 * Written each time the server opens the file (a start, FLUSH LOGS). After a restart thread ids start
 * again, but every thread then connects anew and its Connect line replaces what the id meant before,
 * so the threads' accounts are kept across it (after a FLUSH they are still right).
 */
const HEADER = [/^\S.*, Version: .*started with:\s*$/, /^Tcp port: \d+\s+Unix socket: /, /^Time\s+Id\s+Command\s+Argument\s*$/];

/** The commands the servers write (MySQL 5.7–8.x and MariaDB 10.x–11.x command names). */
const COMMANDS = new Set([
  'Sleep', 'Quit', 'Init DB', 'Query', 'Field List', 'Create DB', 'Drop DB', 'Refresh', 'Shutdown', 'Statistics', 'Processlist',
  'Connect', 'Kill', 'Debug', 'Ping', 'Time', 'Delayed insert', 'Change user', 'Binlog Dump', 'Table Dump', 'Connect Out',
  'Register Slave', 'Prepare', 'Execute', 'Long Data', 'Close stmt', 'Reset stmt', 'Set option', 'Fetch', 'Daemon',
  'Binlog Dump GTID', 'Reset Connection', 'Reset connection', 'Clone', 'Error', 'Bulk_execute', 'Slave_worker', 'Slave_IO',
  'Slave_SQL', 'Com_multi', 'Unimpl get tid',
]);
/** Commands whose argument is SQL, which keeps its line breaks; another command's argument is one line. */
const MULTILINE = new Set(['Query', 'Prepare', 'Execute']);
/** Statements that read or write rows: accesses. Others (SET, SHOW, USE, BEGIN, COMMIT…) are read and skipped. */
const ACCESS_STATEMENTS = new Set(['select', 'with', 'table', 'values', 'update', 'delete', 'insert', 'replace', 'call', 'handler']);
/** `nurse42@10.2.0.15 on his using TCP/IP`, `u@h as proxied on db`, MySQL's empty database `on  using Socket`. */
const CONNECT = /^(.*)@(\S*) (?:as .*? )?on (\S*) ?(?:using .*)?$/;
const UNKNOWN_ACCOUNT = 'unknown';
export const UNKNOWN_ACCOUNT_WARNING = `account: the thread's Connect line is not in the file (it connected before the log starts); read as "${UNKNOWN_ACCOUNT}"`;
export const EARLY_TIME_WARNING = "time: the entry starts the file without a time (MariaDB writes none in the same second as the previous file's last entry); read as the time of the first entry with one";
const NO_TIME_REASON = "time: the entry starts the file without a time (MariaDB writes none in the same second as the previous file's last entry), and no entry after it has one";
/** Entries held while waiting for the file's first time; past this many, they are rejected. */
const MAX_WAITING = 100_000;
/**
 * Threads remembered at most, the least recently active forgotten first: a file of Connect lines without
 * their Quit cannot hold the whole file in memory; a pool's connection in use stays remembered.
 */
export const MAX_THREADS = 100_000;

interface Entry {
  line: number;
  /** The entry's first line, for its reject. */
  text: string;
  /** Its time, null when it has none and no entry before it had one, undefined when invalid. */
  at: Date | null | undefined;
  /** The time as written, for the reason. */
  time: string;
  thread: string;
  command: string;
  /** The argument's lines. */
  argument: string[];
  length: number;
  /** Why the entry cannot be read though it started well (a line of it too long). */
  broken?: string;
}

export async function* parseMysqlGeneral(lines: AsyncIterable<Line>, options: ParseOptions): AsyncGenerator<ParsedLine> {
  /** Thread id → account and client host, from Connect lines; in the order of their last activity. */
  const threads = new Map<string, { account: string; ip: string | null }>();
  let lastTime: Date | null = null;
  let pending: Entry | null = null;
  /** What the entries without a time at the start of the file gave, held until an entry has a time. */
  let waiting: { item: ParsedLine; text: string }[] | null = null;

  /** Items ready to yield, in line order. */
  const ready: ParsedLine[] = [];
  const emit = (item: ParsedLine, text: string) => {
    if (!waiting) ready.push(item);
    else if (waiting.push({ item, text }) >= MAX_WAITING) release(null);
  };
  /** The waiting entries at this time, or rejected when none came. */
  const release = (at: Date | null) => {
    for (const { item, text } of waiting ?? []) {
      if (!('row' in item)) ready.push(item);
      else if (!at) ready.push(reject(item.line, NO_TIME_REASON, text));
      else ready.push({ line: item.line, row: { ...item.row, at }, warnings: [EARLY_TIME_WARNING, ...(item.warnings ?? [])] });
    }
    waiting = null;
  };
  /** Read the pending entry; one without a time (at the start of the file) waits for an entry with one. */
  const finish = () => {
    const entry = pending;
    pending = null;
    if (!entry) return;
    let item: ParsedLine | null;
    try {
      item = readEntry(entry, threads, options);
    } catch (err) {
      if (!(err instanceof Reject)) throw err;
      item = reject(entry.line, err.message, entry.text);
    }
    if (entry.at === null) waiting ??= [];
    else if (entry.at && waiting) release(entry.at);
    if (item) emit(item, entry.text);
  };

  for await (const l of lines) {
    const start = entryStart(l.text, options.timeZone, lastTime);
    if (l.tooLong) {
      if (start || !pending) {
        finish();
        emit(reject(l.line, TOO_LONG_REASON, l.text), l.text);
      } else pending.broken ??= `statement: its line ${l.line} is longer than ${MAX_LINE_CHARS / 1024 / 1024} MiB; the entry is skipped`;
    } else if (start) {
      finish();
      if (start.at) lastTime = start.at;
      pending = { line: l.line, text: l.text, ...start, length: start.argument[0].length };
    } else if (HEADER.some((h) => h.test(l.text))) {
      finish();
    } else if (pending && MULTILINE.has(pending.command.trim())) {
      // A line of a statement that spans lines.
      pending.length += l.text.length + 1;
      if (pending.length > MAX_LINE_CHARS) pending.broken ??= `statement: longer than ${MAX_LINE_CHARS / 1024 / 1024} MiB over its lines; the entry is skipped`;
      else pending.argument.push(l.text);
    } else if (l.text.trim() !== '') {
      finish();
      emit(reject(l.line, 'line: not a general query log entry (time, thread id, command, a tab, argument) and no entry before it to continue', l.text), l.text);
    }
    if (ready.length) yield* ready.splice(0);
  }
  finish();
  release(null);
  yield* ready.splice(0);
}

/** The start of an entry: its time (or the last one's), thread and command; null for a line that starts none. */
function entryStart(text: string, timeZone: string, lastTime: Date | null): Pick<Entry, 'at' | 'time' | 'thread' | 'command' | 'argument'> | null {
  let m = MYSQL8.exec(text);
  if (m) return { at: parseTimestamp(m[1], timeZone) ?? undefined, time: m[1], thread: m[2], command: m[3], argument: [m[4] ?? ''] };
  m = MARIADB.exec(text);
  if (m) {
    const time = `${m[1]}${m[2]}${m[3]} ${m[4]}:${m[5]}:${m[6]}`;
    return { at: parseTimestamp(`20${m[1]}-${m[2]}-${m[3]} ${m[4].trim()}:${m[5]}:${m[6]}`, timeZone) ?? undefined, time, thread: m[7], command: m[8], argument: [m[9] ?? ''] };
  }
  m = NO_TIME.exec(text);
  if (m) return { at: lastTime, time: '', thread: m[1], command: m[2], argument: [m[3] ?? ''] };
  return null;
}

/** An entry's access, null for an entry that is none (a connection, a SET…); throws Reject naming the field. */
function readEntry(entry: Entry, threads: Map<string, { account: string; ip: string | null }>, options: ParseOptions): ParsedLine | null {
  if (entry.broken) fail(entry.broken);
  const command = entry.command.trim();
  if (!COMMANDS.has(command)) fail(`command: ${shown(command)} is not one the general query log writes (Connect, Query, Execute, Quit…)`);
  if (entry.at === undefined) fail(`time: ${shown(entry.time)} is not a valid time`);
  const argument = entry.argument.join('\n');
  switch (command) {
    case 'Connect':
    case 'Change user': {
      const c = CONNECT.exec(argument);
      if (c) {
        const host = c[2];
        threads.delete(entry.thread);
        threads.set(entry.thread, { account: c[1] || '(anonymous)', ip: host && host !== 'localhost' ? host : null });
        if (threads.size > MAX_THREADS) threads.delete(threads.keys().next().value!);
      } else if (/^Access denied for user /.test(argument)) threads.delete(entry.thread);
      else fail(`argument: ${shown(argument)} is not user@host on database`);
      return null;
    }
    case 'Quit':
      threads.delete(entry.thread);
      return null;
    case 'Query':
    case 'Execute':
      break;
    default:
      return null;
  }
  // A statement that is not an SQL command (a client's ping text, junk) reads no row: a reject.
  const { action, records } = mysqlStatement(argument, 'statement', options.recordKey);
  if (!ACCESS_STATEMENTS.has(action)) return null;
  const who = threads.get(entry.thread);
  if (who) {
    // The most recently active last.
    threads.delete(entry.thread);
    threads.set(entry.thread, who);
  }
  // Without a time yet (the start of a file): the time is set when an entry with one comes.
  const row = { at: entry.at ?? new Date(0), account: who?.account ?? UNKNOWN_ACCOUNT, action, scope: classifyAction(action, records.length), records, system: null, ip: who?.ip ?? null };
  return who ? { line: entry.line, row } : { line: entry.line, row, warnings: [UNKNOWN_ACCOUNT_WARNING] };
}
