import { UserError } from '../lib/errors.js';
import type { ReadOnlyQueryable, ReadOnlyTuning } from './types.js';

/** A statement refused under the read-only promise; its message says why, on one line. */
export class StatementRefused extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'StatementRefused';
  }
}

export interface ReadOnlyDialect {
  /** Statements that open the transaction's guarantees, run first inside it. */
  setup: readonly string[];
  /** Refuse a statement text before it is sent (throws StatementRefused). */
  check(sql: string): void;
  /** Leave a mark only this transaction can show (the token is random per transaction). */
  mark(tx: ReadOnlyQueryable, token: string): Promise<void>;
  /** What is wrong after a statement ran, or null when the transaction is the same, still read-only and unwritten. */
  confirm(tx: ReadOnlyQueryable, token: string): Promise<string | null>;
  /** Statements setting the caller's tuning for the rest of the transaction ([] where the dialect has no such setting). */
  tuning(opts: ReadOnlyTuning): string[];
}


/** A token of a statement, as a dialect's lexer gives it (words lower-cased). */
export interface StatementToken {
  kind: string;
  text: string;
  at: number;
}

export const ONLY_ONE_SELECT = 'only one SELECT (or WITH … SELECT, VALUES, TABLE) statement is run, read-only';
const ALLOWED_FIRST = new Set(['select', 'with', 'values', 'table']);

function refuse(reason: string): never {
  throw new StatementRefused(reason);
}

/** A piece of statement text for a one-line message: control and line-breaking characters as `?`, 40 at most. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it replaces
  return text.slice(0, 40).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
}

/**
 * The tokens of the one statement in `sql` (a trailing ";" is fine). Refuses, in every dialect, a NUL
 * byte, a second statement, an empty one, and a first word that is in `refusedFirst` (with its reason)
 * or is not SELECT, WITH, VALUES or TABLE.
 */
export function singleReadStatement<T extends StatementToken>(sql: string, lex: (sql: string) => T[], refusedFirst: Readonly<Record<string, string>>): T[] {
  if (sql.includes('\u0000')) refuse('the statement holds a NUL byte');
  const tokens = lex(sql);
  const semicolon = tokens.findIndex((t) => t.kind === 'symbol' && t.text === ';');
  const last = semicolon < 0 ? tokens.length : semicolon;
  if (tokens.slice(last).some((t) => !(t.kind === 'symbol' && t.text === ';'))) {
    refuse(`more than one statement is refused (the ";" at character ${tokens[semicolon].at + 1} ends the first); ${ONLY_ONE_SELECT}`);
  }
  const body = tokens.slice(0, last);
  const first = body.find((t) => !(t.kind === 'symbol' && t.text === '('));
  if (!first) refuse(`an empty statement is refused; ${ONLY_ONE_SELECT}`);
  const word = first.kind === 'word' ? first.text : null;
  if (word && Object.hasOwn(refusedFirst, word)) refuse(`${word.toUpperCase()} is refused: ${refusedFirst[word]}; ${ONLY_ONE_SELECT}`);
  if (!word || !ALLOWED_FIRST.has(word)) refuse(`a statement starting ${printable(word ? word.toUpperCase() : sql.slice(first.at, first.at + 20))} is refused; ${ONLY_ONE_SELECT}`);
  return body;
}
