import type { ReadOnlyQueryable } from './types.js';
import type { TargetDialect } from './dialect-types.js';
import { postgresqlDialect } from './dialects/postgresql.js';
import { mysqlDialect } from './dialects/mysql.js';

export type { CatalogColumn, CatalogProblem, TableRef, TargetDialect } from './dialect-types.js';

const DIALECTS: Record<ReadOnlyQueryable['kind'], TargetDialect> = {
  pglite: postgresqlDialect,
  postgres: postgresqlDialect,
  mysql: mysqlDialect,
};

/** The SQL dialect of a handle's database (src/db/dialects/*.ts). */
export function dialectOf(db: Pick<ReadOnlyQueryable, 'kind'>): TargetDialect {
  return DIALECTS[db.kind];
}
