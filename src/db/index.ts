export type { Database, Queryable, QueryResult, ReadOnlyQueryable, Row, TransactionOptions } from './types.js';
export { readOnly, StatementRefused } from './readonly.js';
export { openDatabase, type OpenOptions } from './open.js';
export { migrate, loadMigrations } from './migrate.js';
export { quoteIdent, quoteQualified, isServerUrl, csvLine } from './sql.js';
export { lockDirectory } from './lock.js';
