import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { customAlphabet } from 'nanoid';
import { closeLingering } from '../../src/db/index.js';
import { PACKAGE_ROOT } from '../../src/lib/paths.js';

// Test databases: embedded ones are copies of the templates the global setup made (an empty database,
// or a vault with its migrations applied); server ones are created on CRADLE_TEST_DATABASE_URL's
// server and dropped afterwards.

export type Backend = 'pglite' | 'postgres';
export const SERVER_URL = process.env.CRADLE_TEST_DATABASE_URL;
export const BACKENDS: Backend[] = SERVER_URL ? ['pglite', 'postgres'] : ['pglite'];

/** This run's scratch directory, made by test/global-setup.js. */
export const TEST_TMP = process.env.CRADLE_TEST_TMP ?? path.join(PACKAGE_ROOT, '.test-tmp');
const TEMPLATE = path.join(TEST_TMP, 'pglite-template');
const VAULT_TEMPLATE = path.join(TEST_TMP, 'pglite-vault');
const suffix = customAlphabet('abcdefghijklmnopqrstuvwxyz0123456789', 10);

export interface TestLocation {
  location: string;
  cleanup(): Promise<void>;
}

/** A fresh, empty scratch directory under .test-tmp. */
export function scratchDir(label = 'dir'): string {
  const dir = path.join(TEST_TMP, `${label}-${suffix()}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** A copy of the empty embedded database, or with `vault` of the migrated vault. */
export function embeddedCopy(label = 'db', kind: 'empty' | 'vault' = 'empty'): string {
  const dir = path.join(TEST_TMP, `${label}-${suffix()}`);
  fs.cpSync(kind === 'vault' ? VAULT_TEMPLATE : TEMPLATE, dir, { recursive: true });
  return dir;
}

function serverUrlFor(database: string): string {
  const url = new URL(SERVER_URL!);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * A new database: empty, or with `kind` 'vault' (embedded only) already migrated, as a vault is after
 * `migrate()`; callers still run migrate() (nothing to do there), which migrates a server one.
 */
export async function newDatabase(backend: Backend, label = 'db', kind: 'empty' | 'vault' = 'empty'): Promise<TestLocation> {
  if (backend === 'pglite') {
    const dir = embeddedCopy(label, kind);
    return {
      location: dir,
      cleanup: async () => {
        await closeLingering(dir);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const name = `cradle_test_${label.replace(/\W/g, '_')}_${suffix()}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    location: serverUrlFor(name),
    cleanup: async () => {
      const c = new pg.Client({ connectionString: SERVER_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
