import { UserError } from '../lib/errors.js';
import type { ReadOnlyQueryable } from './types.js';

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
}

