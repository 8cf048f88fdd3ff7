import { UserError } from '../lib/errors.js';
import { checkTimeZone } from './time.js';
import { readLines, type Input } from './lines.js';
import { csvRecords, parseCsvLog, readHeader, type CsvHeader } from './formats/csv.js';
import { parseJsonLines } from './formats/json.js';
import { jsonlRow } from './formats/jsonl.js';
import { fhirRow } from './formats/fhir.js';
import { parsePgaudit } from './formats/pgaudit.js';
import { parseMariadbAudit } from './formats/mariadb-audit.js';
import { parseMysqlGeneral } from './formats/mysql-general.js';
import { ACCESS_FIELDS, ACCESS_FORMATS, type AccessField, type ParsedLine, type ParseOptions } from '../domain/access.js';

// Access and audit logs (CSV, JSON lines, FHIR AuditEvent NDJSON, pgaudit in PostgreSQL's csvlog, MariaDB's server_audit,
// MySQL's and MariaDB's general query log) read
// as a stream into normalized rows, one item per line or record, in file order. A line that cannot be
// read is a reject naming the field and carrying the line's text; only a problem with the whole file
// (no such column in the header, an unknown time zone) throws. Pure: no vault, no clock.
// Each format is read in its own file (src/accesslog/formats/); lines.ts reads the lines they share,
// fields.ts the checks.

export { actionWords, BULK_ACTIONS, classifyAction, DEFAULT_ACTION_WORDS, labelsFor, parseActionsOption, recordKeys, shown, SINGLE_ACTIONS } from './fields.js';
export { logEncodingArg } from './encoding.js';
export { checkTimeFormat } from './time.js';
export { MAX_LINE_CHARS, TOO_LONG_REASON, textEncodingOf } from './lines.js';
export { stripComments } from './formats/pgaudit.js';

/** Read an access log; yields a row or a reject per line (CSV and csvlog: per record, at its first line). */
export async function* parseAccessLog(input: Input, options: ParseOptions): AsyncGenerator<ParsedLine> {
  checkTimeZone(options.timeZone);
  const lines = readLines(input, options.source, options.encoding);
  switch (options.format) {
    case 'csv':
      yield* parseCsvLog(lines, options);
      return;
    case 'jsonl':
      yield* parseJsonLines(lines, (json) => jsonlRow(json, options));
      return;
    case 'fhir':
      yield* parseJsonLines(lines, (json) => fhirRow(json, options.timeZone));
      return;
    case 'pgaudit':
      yield* parsePgaudit(lines, options);
      return;
    case 'mariadb-audit':
      yield* parseMariadbAudit(lines, options);
      return;
    case 'mysql-general':
      yield* parseMysqlGeneral(lines, options);
      return;
    default:
      throw new UserError(`"${String(options.format)}" is not an access-log format (formats: ${ACCESS_FORMATS.join(', ')})`);
  }
}

/**
 * The errors a whole log can have at its start (an unknown format or time zone, a CSV header without a
 * mapped column, UTF-32), read no further than the header: an import checks them before it records
 * anything, so a mistake in the command leaves no import behind. A CSV log's header, as read; null for
 * the other formats.
 */
export async function checkAccessLogStart(input: Input, options: ParseOptions): Promise<CsvHeader | null> {
  checkTimeZone(options.timeZone);
  if (!ACCESS_FORMATS.includes(options.format)) {
    throw new UserError(`"${String(options.format)}" is not an access-log format (formats: ${ACCESS_FORMATS.join(', ')})`);
  }
  if (options.format !== 'csv') return null;
  // Leaving the loop closes the generators and with them the input.
  for await (const rec of csvRecords(readLines(input, options.source, options.encoding))) return readHeader(rec, options);
  return null;
}

// ---------------------------------------------------------------------------------------------------
// --map

/** "ts=event_time,user=operator" → { ts: 'event_time', user: 'operator' }; throws UserError naming the bad part. */
export function parseMapOption(text: string): Partial<Record<AccessField, string>> {
  const map: Partial<Record<AccessField, string>> = {};
  const parts = text.split(',').map((p) => p.trim());
  if (!parts.some(Boolean)) throw new UserError('--map is empty; write field=column pairs, e.g. ts=event_time,user=operator');
  for (const part of parts) {
    if (!part) throw new UserError(`--map "${text}" has an empty pair; separate field=column pairs with single commas`);
    const eq = part.indexOf('=');
    const field = part.slice(0, Math.max(eq, 0)).trim();
    const column = part.slice(eq + 1).trim();
    if (eq < 1 || !column) throw new UserError(`--map "${part}": write field=column, e.g. ts=event_time`);
    if (!isAccessField(field)) throw new UserError(`--map "${part}": "${field}" is not a field (fields: ${ACCESS_FIELDS.join(', ')})`);
    if (map[field] !== undefined) throw new UserError(`--map "${part}": ${field} is mapped twice`);
    map[field] = column;
  }
  return map;
}

function isAccessField(name: string): name is AccessField {
  return (ACCESS_FIELDS as readonly string[]).includes(name);
}
