export type Row = Record<string, unknown>;

export interface QueryResult<T = Row> {
  rows: T[];
  rowCount: number;
  /** Column names in the order the query returns them. */
  fields: string[];
  /** MySQL: the AUTO_INCREMENT value an INSERT took (its first row's). */
  insertId?: number;
}

/** What readOnly() (src/db/readonly.ts) hands out: one statement per call, never a batch, nothing else. */
export interface ReadOnlyQueryable {
  readonly kind: 'pglite' | 'postgres' | 'mysql';
  /** The server's version text where the dialect needs it (MySQL: "10.11.19-MariaDB-…" or "8.4.3"). */
  readonly serverVersion?: string;
  query<T = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** Tune the rest of a read-only transaction (readOnly's handle has it; nothing else needs to). */
  tune?(tuning: ReadOnlyTuning): Promise<void>;
}

/** What the rest of one read-only transaction may be tuned for. */
export interface ReadOnlyTuning {
  /** MiB one sort or hash of a statement may use before it spills to disk (PostgreSQL's work_mem); null: the server's own again. */
  workMemMiB?: number | null;
}

/** What every database handle offers, inside or outside a transaction. */
export interface Queryable extends ReadOnlyQueryable {
  /** Several statements, no parameters (migrations, schema files). */
  exec(sql: string): Promise<void>;
  /** Bulk load with COPY: pg-copy-streams on a server, PGlite's /dev/blob path when embedded. */
  copyFrom(table: string, columns: readonly string[], rows: Iterable<readonly unknown[]> | AsyncIterable<readonly unknown[]>): Promise<number>;
  /** Bulk load text that is already CSV (no header), for callers that build the lines themselves; parts are sent one after another. */
  copyCsvText(table: string, columns: readonly string[], csv: string | Uint8Array | readonly (string | Uint8Array)[]): Promise<void>;
  /**
   * Serialise with every other transaction that asks for the same key, until this one ends: an
   * advisory transaction lock on a server; nothing on PGlite, which runs one transaction at a time.
   * A number is the lock key itself; text is hashed to one.
   */
  serialize(key: number | string): Promise<void>;
}

export interface TransactionOptions {
  readOnly?: boolean;
  /** One snapshot for the whole transaction (REPEATABLE READ on a server; PGlite has only one connection). */
  snapshot?: boolean;
}

export interface Database extends Queryable {
  /** Location with any password removed, for messages. */
  readonly label: string;
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * The backend half of readOnly() in src/db/readonly.ts; call that instead. A transaction on a
   * connection of its own, `setup` run first in it, every statement sent alone through the extended
   * protocol (where the server refuses a batch), always rolled back, the connection not reused.
   */
  rolledBackTransaction<T>(setup: readonly string[], fn: (tx: ReadOnlyQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
