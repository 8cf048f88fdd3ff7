import { customAlphabet } from 'nanoid';
import { describe } from '@jest/globals';
import mysql from 'mysql2/promise';
import type { TestLocation } from './db.js';

// The machine's MariaDB (CI has it too, .ci/run starts it): each test file makes its own database,
// cradle_t_<label>_<random>, and drops it afterwards. Elsewhere, where no server answers, the tests
// that need it are skipped under a name that says so, and one line on standard error says why.

export const MARIADB_URL = process.env.CRADLE_TEST_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306';
const suffix = customAlphabet('abcdefghijklmnopqrstuvwxyz0123456789', 10);

function admin(): Promise<mysql.Connection> {
  const u = new URL(MARIADB_URL);
  return mysql.createConnection({ host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username) || 'root', password: decodeURIComponent(u.password) || undefined, connectTimeout: 3000, multipleStatements: true });
}

let probed: Promise<string | null> | null = null;

/** Null when the server answers, else why not. */
export function mariadbUnreachable(): Promise<string | null> {
  probed ??= admin().then(
    async (c) => {
      await c.end();
      return null;
    },
    (err: Error) => `${MARIADB_URL}: ${err.message}`,
  );
  return probed;
}

/** `describe`, or a skipped block saying the server was not reachable (call with the result of mariadbUnreachable()). */
export function describeMariadb(why: string | null): (name: string, fn: () => void) => void {
  if (why === null) return describe;
  process.stderr.write(`MariaDB unreachable, its tests are skipped (start it: mariadbd, or set CRADLE_TEST_MARIADB_URL): ${why}\n`);
  return (name, fn) => describe.skip(`${name} (skipped: MariaDB unreachable at ${MARIADB_URL})`, fn);
}

/** A new database on the server, with `schema` (SQL text) run in it. */
export async function newMariadbDatabase(label: string, schema = ''): Promise<TestLocation & { name: string }> {
  const name = `cradle_t_${label.replace(/\W/g, '_')}_${suffix()}`;
  const c = await admin();
  try {
    await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
    if (schema) await c.query(`USE \`${name}\`;\n${schema}`);
  } finally {
    await c.end();
  }
  const u = new URL(MARIADB_URL);
  u.pathname = `/${name}`;
  return {
    name,
    location: u.toString(),
    cleanup: async () => {
      const d = await admin();
      try {
        await d.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await d.end();
      }
    },
  };
}
