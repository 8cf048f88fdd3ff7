import { format } from 'node:util';
import { describe } from '@jest/globals';
import { dialectOf, type Database } from '../../src/db/index.js';
import type { InsertStep, Mapping } from '../../src/targetdb/index.js';
import { BACKENDS, type Backend } from './db.js';
import { describeMariadb, mariadbUnreachable } from './mariadb.js';
import type { SchemaName } from './hospital.js';

// The end-to-end tests of the target side run on every target Cradle supports: BACKENDS (PGlite, and
// PostgreSQL when a server is given) and the machine's MariaDB, with the HIS fixture schema there
// (fixtures/mysql-his). Where no MariaDB answers, its cases are skipped under a name that says so.
// Tests written against the mapping (not against the reference schema's names) use the helpers below
// to find a field's table and column and to write SQL in the target's dialect.

export type TargetBackend = Backend | 'mariadb';
export const TARGET_BACKENDS: TargetBackend[] = [...BACKENDS, 'mariadb'];
/** TARGET_BACKENDS as describeEachTarget's cases. */
export const TARGET_CASES: [TargetBackend][] = TARGET_BACKENDS.map((b) => [b]);

const unreachable = await mariadbUnreachable();

/** The fixture schema a target backend's tests use: the reference schema on PostgreSQL, the HIS one on MariaDB. */
export function schemaOf(backend: TargetBackend): SchemaName {
  return backend === 'mariadb' ? 'mysql-his' : 'reference';
}

/**
 * describe.each over `cases` (each starting with its backend), the name formatted as describe.each does;
 * a MariaDB case is skipped, its name saying why, where the server does not answer.
 */
export function describeEachTarget<T extends [TargetBackend, ...unknown[]]>(cases: readonly T[], name: string, fn: (...args: T) => void): void {
  for (const c of cases) {
    const title = format(name, ...c);
    (c[0] === 'mariadb' ? describeMariadb(unreachable) : describe)(title, () => fn(...c));
  }
}

/** Where the mapping writes a field: its insert (and index), column. */
export function fieldColumn(mapping: Mapping, field: string): { step: InsertStep; index: number; column: string } {
  for (const [index, step] of mapping.inserts.entries()) {
    const c = step.columns.find((x) => x.value.type === 'field' && x.value.field === field);
    if (c) return { step, index, column: c.column };
  }
  throw new Error(`the mapping writes no column for ${field}`);
}

/**
 * Make the target refuse inserts into `step`'s table where `condition` (SQL over NEW.<column>) holds,
 * with `message`: a trigger, in the target's own language. Returns the way to drop it.
 */
export async function refuseInserts(target: Database, step: InsertStep, name: string, condition: string, message: string): Promise<() => Promise<void>> {
  const d = dialectOf(target);
  const table = d.table(step);
  const text = message.replace(/'/g, "''");
  if (d.name === 'mysql') {
    await target.exec(`CREATE TRIGGER ${name} BEFORE INSERT ON ${table} FOR EACH ROW BEGIN IF ${condition} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '${text}'; END IF; END`);
    return () => target.exec(`DROP TRIGGER ${name}`);
  }
  await target.exec(`
    CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF ${condition} THEN RAISE EXCEPTION '${text}'; END IF; RETURN NEW; END $$;
    CREATE TRIGGER ${name} BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}();`);
  return () => target.exec(`DROP TRIGGER ${name} ON ${table}; DROP FUNCTION ${name}();`);
}
