import type { Queryable, ReadOnlyQueryable } from './types.js';

// What differs between the SQL of the target's database systems, in one interface: the code that
// reads and writes the hospital's tables (src/targetdb, src/exports, src/seed) builds its statements
// through the target's dialect and never writes a placeholder, a cast or a catalog query itself.
// One module per dialect (src/db/dialects/*.ts); docs/dialects.md says what a new one must supply.

/** A mapping table: `schema` "public" (the mapping's default) is the connection's own database on MySQL. */
export interface TableRef {
  schema: string;
  table: string;
}

/** One column as the catalog describes it, in PostgreSQL's information_schema words (data_type "integer", "character varying", …). */
export interface CatalogColumn {
  schema: string;
  table: string;
  column: string;
  /** The type in PostgreSQL's information_schema vocabulary, whatever the server: what the type checks compare. */
  dataType: string;
  /** The server's own name of the type (MySQL "varchar(32)", PostgreSQL as dataType). */
  nativeType: string;
  nullable: boolean;
  /** A default, an identity or AUTO_INCREMENT: the database fills it when an insert leaves it out. */
  hasDefault: boolean;
  /** Numbered by the database itself (identity, serial, AUTO_INCREMENT). */
  generated: boolean;
  /** The character set of a text column where the server keeps one per column (MySQL), else null. */
  charset: string | null;
  maxLength: number | null;
}

/** A problem a dialect finds with a table as a whole (its storage engine). */
export interface CatalogProblem {
  level: 'error' | 'warning';
  schema: string;
  table: string;
  message: string;
}

export interface TargetDialect {
  /** "postgresql" or "mysql": for messages and docs. */
  readonly name: string;
  /** Quote one identifier. */
  ident(name: string): string;
  /** A mapping table's name as SQL, qualified where the dialect needs it. */
  table(ref: TableRef): string;
  /** `schema.table` or `table` as a user wrote it (--table), quoted. */
  tableName(name: string): string;
  /** Push a value onto `params` and return its placeholder; call in the order the text reads. */
  param(params: unknown[], value: unknown): string;
  /** An expression's value as text (to compare keys of any type, or return them as text). */
  text(expr: string): string;
  /** `expr` as text is one of `values` (a condition); `values` may be empty. */
  inText(expr: string, values: readonly string[], params: unknown[]): string;
  /** `expr` (text) matches the regular expression `pattern` (a bound value or literal SQL). */
  matches(expr: string, pattern: string): string;
  /** An ORDER BY expression that shuffles rows. */
  readonly random: string;
  /** A bound `yyyy-MM-dd` as the start of that day, or of the day after (`nextDay`), for a column of this type. */
  dayBound(params: unknown[], day: string, opts: { dataType: string; timeZone: string; nextDay?: boolean }): string;

  /** The columns of these tables, in catalog order. */
  columns(db: ReadOnlyQueryable, tables: readonly TableRef[]): Promise<CatalogColumn[]>;
  /** `schema.table.column` of every column that leads an index, for these tables (schema as the mapping writes it). */
  indexedColumns(db: ReadOnlyQueryable, tables: readonly TableRef[]): Promise<Set<string>>;
  /** What makes these tables unfit for seeding beyond their columns (a MyISAM table that cannot roll back). */
  tableProblems(db: ReadOnlyQueryable, tables: readonly TableRef[]): Promise<CatalogProblem[]>;
  /** The characters of `text` a column of this character set cannot store (none where the server has no per-column character set). */
  unstorable(charset: string, text: string): string[];
  /**
   * Values written as text (or null) cast by the server to a column's type and read back, in order, as
   * a read of that column returns them (`cradle realism` compares drafted values with stored ones); null
   * when the dialect does not cast to that type. Read-only.
   */
  castValues(db: ReadOnlyQueryable, values: readonly (string | null)[], column: { dataType: string; nativeType?: string }): Promise<unknown[] | null>;

  /** Refuse (throw) before writing when a table cannot take part in an all-or-nothing transaction. */
  checkWritable(tx: Queryable, tables: readonly TableRef[]): Promise<void>;
  /**
   * Insert rows (one array of values per row, in `columns` order) and return, per row in order, the
   * `returning` columns the database filled in (identity, AUTO_INCREMENT, defaults).
   */
  insertRows(tx: Queryable, ref: TableRef, columns: readonly string[], rows: readonly (readonly unknown[])[], returning: readonly string[]): Promise<Record<string, unknown>[]>;
  /** The largest value of a numbered key between `low` and `high`, locking the range against other writers until the transaction ends. */
  maxKey(tx: Queryable, ref: TableRef, column: string, range: { low: string; high: string; regex: string | null }): Promise<string | null>;
  /** The next value of a named sequence. */
  nextSequenceValue(tx: Queryable, sequence: string): Promise<number>;
  /** After a bulk load gave `column` explicit values: move its sequence past them (nothing where the server does it). */
  afterExplicitKeys(tx: Queryable, ref: TableRef, column: string): Promise<void>;
}
