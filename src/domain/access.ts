// What an access-log line says once parsed, whatever its format: who touched which records, when.

export type AccessFormat = 'csv' | 'jsonl' | 'fhir' | 'pgaudit' | 'mariadb-audit' | 'mysql-general';
export const ACCESS_FORMATS: readonly AccessFormat[] = ['csv', 'jsonl', 'fhir', 'pgaudit', 'mariadb-audit', 'mysql-general'];

/**
 * single: the action singles out one record (view, print, export of that record): a tripwire when it is
 * a canary. bulk: a list, search or report that merely includes records: an exposure without an alert.
 */
export type AccessScope = 'single' | 'bulk';

export interface AccessRow {
  at: Date;
  /** The staff account (or database role for pgaudit). */
  account: string;
  /** The action as the log names it, lower case: view, print, export, list, select… */
  action: string;
  scope: AccessScope;
  /** Record keys as the target names them (the mapping's recordKey), as text; may be empty. */
  records: string[];
  system: string | null;
  ip: string | null;
}

/** Fields a CSV or JSONL log is mapped from: `--map ts=event_time,user=operator,…`. */
export type AccessField = 'ts' | 'user' | 'action' | 'record' | 'ip' | 'system';
export const ACCESS_FIELDS: readonly AccessField[] = ['ts', 'user', 'action', 'record', 'ip', 'system'];

/** A row may carry warnings: read, but with a field guessed (the general query log's account of a thread connected before the file). */
export type ParsedLine = { line: number; row: AccessRow; warnings?: string[] } | { line: number; reject: string; text: string };

export interface ParseOptions {
  format: AccessFormat;
  /** IANA zone for timestamps that carry no offset (the config's hospital zone). */
  timeZone: string;
  /** Source column or key for each field (CSV, JSONL); unmapped fields use the field's own name. */
  map?: Partial<Record<AccessField, string>>;
  /** The mapping's record key as table and column, so pgaudit statements can be read for key values. */
  recordKey?: { table: string; column: string };
  /** Name of the file, for messages. */
  source: string;
  /** The log's text encoding (src/accesslog/encoding.ts names); default: detected from its first bytes. */
  encoding?: string;
  /** A date-fns pattern for timestamps (e.g. dd/MM/yyyy HH:mm:ss), tried before the forms detected by default. */
  timeFormat?: string;
  /** Action words (lower case) → the action they mean (view, print, list…); default: the built-in zh-CN and en words. */
  actions?: ReadonlyMap<string, string>;
}
