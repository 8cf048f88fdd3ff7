import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../lib/errors.js';
import { SQL_DIR } from '../lib/paths.js';
import type { Database } from './types.js';

// Vault migrations: sql/vault/NNN_name.sql, forward-only, applied in order inside one transaction.
// On a server an advisory lock serialises concurrent `cradle` processes; PGlite is already single-process.

const MIGRATION_LOCK = 0x63726164; // "crad"

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function loadMigrations(dir = path.join(SQL_DIR, 'vault')): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      version: Number(file.split('_')[0]),
      name: file.replace(/\.sql$/, ''),
      sql: fs.readFileSync(path.join(dir, file), 'utf8'),
    }));
}

/**
 * Apply the migrations the vault lacks; returns the names applied. With `existingOnly`, a database
 * that is not a vault yet is refused rather than turned into one (a mistyped --vault must not put
 * vault tables into, say, the hospital's database).
 */
export async function migrate(db: Database, migrations = loadMigrations(), options: { existingOnly?: boolean } = {}): Promise<string[]> {
  // A vault at the newest migration, as nearly every command finds it: one read, no transaction, no
  // lock, nothing written. Anything else (no such table, an older or newer vault) takes the path below.
  // (A count as well as the newest: a migration numbered below the newest may have come in later.)
  const known = Math.max(0, ...migrations.map((m) => m.version));
  const current = await db.query<{ newest: number | null; n: number }>('SELECT max(version) AS newest, count(*)::int AS n FROM cradle_migrations').then(
    ({ rows }) => known > 0 && rows[0]?.newest === known && rows[0].n === migrations.length,
    () => false,
  );
  if (current) return [];
  return db.transaction(async (tx) => {
    if (tx.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    const { rows: found } = await tx.query<{ found: string | null }>(`SELECT to_regclass('cradle_migrations')::text AS found`);
    if (!found[0].found && options.existingOnly) throw new UserError(`${db.label} is not a Cradle vault (no cradle_migrations table); create one with \`cradle init --vault ${db.label}\``);
    // Created only when missing: a read-only role (an auditor running `cradle verify`) cannot create anything.
    if (!found[0].found) {
      await tx.exec(`CREATE TABLE cradle_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    }
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM cradle_migrations');
    const applied = new Set(rows.map((r) => r.version));
    const newest = Math.max(0, ...applied);
    if (newest > known) {
      throw new UserError(`the vault is at migration ${newest}, newer than this cradle knows (${known}); upgrade cradle`);
    }
    const done: string[] = [];
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO cradle_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      done.push(m.name);
    }
    return done;
  });
}
