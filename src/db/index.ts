export type { Database, Queryable, QueryResult, ReadOnlyQueryable, ReadOnlyTuning, Row, TransactionOptions } from './types.js';
export { readOnly, StatementRefused } from './readonly.js';
export { openDatabase, openMemoryDatabase, locationKind, lingerEmbedded, closeLingering, type OpenOptions } from './open.js';
export { migrate, loadMigrations } from './migrate.js';
export { quoteIdent, quoteQualified, csvLine } from './sql.js';
export { acceptedLocations, isServerLocation, processEnvironment, resolveServer, withoutPassword, hostPort } from './conninfo.js';
export { lockDirectory } from './lock.js';
export { dialectOf, type CatalogColumn, type CatalogProblem, type TableRef, type TargetDialect } from './dialect.js';
export { resolveMysql, optionFilePassword } from './mysql.js';
