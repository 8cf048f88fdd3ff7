import fs from 'node:fs';
import path from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type pg from 'pg';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { UserError } from '../lib/errors.js';
import { lockDirectory, type DirectoryLock } from './lock.js';
import { copyPristine, memoryTemplate } from './pristine.js';
import { pgliteModule } from './wasm.js';
import { redact } from '../lib/redact.js';
import { acceptedLocations, isConninfo, processEnvironment, resolveServer, tlsPlan, urlScheme, type ServerSettings, type TlsConfig } from './conninfo.js';
import { describeConnectError } from './connect-error.js';
import { openMysql } from './mysql.js';
import { csvLine, quoteIdent, quoteQualified } from './sql.js';
import type { Database, Queryable, QueryResult, ReadOnlyQueryable, Row, TransactionOptions } from './types.js';

// One interface over embedded PGlite and a PostgreSQL server. Both return the same JS types:
// int8 as number, date and timestamp-without-zone as text, timestamptz as Date, json as objects.

const OID = { int8: 20, date: 1082, timestamp: 1114 } as const;
const COPY_CHUNK_ROWS = 20_000;

export interface OpenOptions {
  /** Create an embedded directory that does not exist yet (otherwise it is an error). */
  create?: boolean;
  /** What the database is, for messages: "vault", "target". */
  role?: string;
  /** Where advice goes (a password file others can read); default: standard error. */
  warn?: (message: string) => void;
}

/**
 * Open an embedded PGlite directory or a PostgreSQL server: a postgres:// URL, a libpq connection
 * string or a service (src/db/conninfo.ts). Anything else is refused with what was given, redacted.
 */
export async function openDatabase(location: string, options: OpenOptions = {}): Promise<Database> {
  const kind = locationKind(location, options.role ?? 'database');
  if (kind === 'mysql') return openMysql(location, options);
  return kind === 'server' ? openServer(location, options) : openEmbedded(location, options);
}

/**
 * A PostgreSQL server, a MySQL/MariaDB server (a target only) or an embedded directory; an error for
 * a URL of a database Cradle cannot open. `role` "vault" refuses MySQL.
 */
export function locationKind(location: string, role: string): 'server' | 'mysql' | 'embedded' {
  const scheme = urlScheme(location);
  if (scheme === 'postgres' || scheme === 'postgresql' || (scheme === null && isConninfo(location))) return 'server';
  if (scheme === 'mysql' || scheme === 'mariadb') {
    if (role === 'vault') throw new UserError(`${role} ${redact(location)}: the vault is PostgreSQL or embedded, never MySQL/MariaDB; give ${acceptedLocations()}`);
    return 'mysql';
  }
  const also = role === 'vault' ? '' : ' (a target may also be mysql://user@host:3306/database)';
  if (scheme !== null) throw new UserError(`${role} ${redact(location)}: ${scheme}:// is not a database Cradle knows; give ${acceptedLocations()}${also}`);
  return 'embedded';
}

function int8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`int8 value ${value} does not fit a JavaScript number`);
  return n;
}

async function* chunkCsv(rows: Iterable<readonly unknown[]> | AsyncIterable<readonly unknown[]>): AsyncGenerator<{ text: string; count: number }> {
  let parts: string[] = [];
  for await (const row of rows as AsyncIterable<readonly unknown[]>) {
    parts.push(csvLine(row));
    if (parts.length >= COPY_CHUNK_ROWS) {
      yield { text: parts.join(''), count: parts.length };
      parts = [];
    }
  }
  if (parts.length) yield { text: parts.join(''), count: parts.length };
}

function copySql(table: string, columns: readonly string[], source: string): string {
  return `COPY ${quoteQualified(table)} (${columns.map(quoteIdent).join(', ')}) FROM ${source} WITH (FORMAT csv)`;
}

// ---------- embedded ----------

async function startPGlite(dir: string): Promise<PGlite> {
  // Compiled once per process, maybe already under way since the CLI started (src/db/wasm.ts).
  const pgliteWasmModule = await pgliteModule();
  const db = new PGlite(dir, {
    ...(pgliteWasmModule ? { pgliteWasmModule } : {}),
    // PGlite's default 128 MB of shared buffers costs about 0.4 s of page-zeroing at every open; a CLI
    // command touches far less, so 16 MB keeps each command's start-up short (issue 18).
    // work_mem 32 MB (PostgreSQL's default 4 MB): the profile's aggregates and sorts over a demo
    // hospital's families (`cradle target profile`, the demo) stay in memory instead of spilling to
    // temporary files through the file system, about 10-30% less CPU per statement; memory is only
    // taken when a statement needs it.
    startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB', '-c', 'work_mem=32MB'],
    parsers: { [OID.date]: (v: string) => v, [OID.timestamp]: (v: string) => v, [OID.int8]: int8 },
  });
  await db.waitReady;
  return db;
}

async function openEmbedded(dir: string, options: OpenOptions): Promise<Database> {
  const role = options.role ?? 'database';
  // Not a postgres:// URL, but it may still be some other URL or conninfo string with a password.
  const label = redact(dir);
  const resolved = path.resolve(dir);
  const exists = fs.existsSync(path.join(resolved, 'PG_VERSION'));
  if (!exists && !options.create) {
    const hint = role === 'vault' ? 'create it with `cradle init`, or' : 'check --target or the config, or';
    throw new UserError(`${role} ${label} does not exist; ${hint} give ${acceptedLocations()}`);
  }
  // `cradle init` makes the directory: never one named after a server someone meant.
  if (!exists && /^[^/\\]*@|^[A-Za-z0-9.-]+:\d+(?:\/|$)/.test(dir)) {
    throw new UserError(`${role} ${label} looks like a server address, not a directory; give ${acceptedLocations()}`);
  }
  if (fs.existsSync(resolved) && !fs.statSync(resolved).isDirectory()) {
    throw new UserError(`${role} ${label} is a file, not a database directory`);
  }
  let kept = lingering.get(resolved);
  if (kept && kept.ino !== inode(resolved)) {
    await closeLingering(resolved); // deleted and made again since (a demo --force)
    kept = undefined;
  }
  if (kept) {
    if (kept.users++ === 0) await kept.db.exec('DISCARD ALL'); // as a fresh session would start
    return embeddedDatabase(kept.db, label, async () => {
      if (--kept.users === 0 && !lingerOn) await closeLingering(resolved);
    });
  }
  const lock = lockDirectory(resolved);
  let db: PGlite;
  try {
    // A new directory starts as a copy of a pristine cluster, not by initdb (seconds of CPU): src/db/pristine.ts.
    if (!exists) await copyPristine(resolved, async (dir) => (await startPGlite(dir)).close());
    db = await startPGlite(resolved);
  } catch (err) {
    lock.release();
    throw new UserError(`cannot open ${role} ${label}: ${redact((err as Error).message, [dir])}`);
  }
  if (lingerOn) {
    const entry: Lingering = { db, lock, users: 1, ino: inode(resolved) };
    lingering.set(resolved, entry);
    return embeddedDatabase(db, label, async () => {
      if (--entry.users === 0 && !lingerOn) await closeLingering(resolved);
    });
  }
  return embeddedDatabase(db, label, async () => {
    try {
      await db.close();
    } finally {
      lock.release();
    }
  });
}

// Tests run hundreds of commands in one process (test/helpers/cli.ts), and opening and closing an
// embedded database for each costs about 0.4 CPU-s. While lingering is on, close() leaves the database
// open, and locked by this process, for the next open of the same directory here; closeLingering()
// closes them (before another process may open the directory, or it is copied or deleted).
interface Lingering {
  db: PGlite;
  lock: DirectoryLock;
  users: number;
  /** PG_VERSION's inode: tells a directory deleted and made again apart. */
  ino: number | null;
}

function inode(dir: string): number | null {
  try {
    return fs.statSync(path.join(dir, 'PG_VERSION')).ino;
  } catch {
    return null;
  }
}
const lingering = new Map<string, Lingering>();
let lingerOn = false;

/** Keep embedded databases open after close() (tests only; off in the product). */
export function lingerEmbedded(on: boolean): void {
  lingerOn = on;
}

/** Close the lingering embedded databases (all, or the one in `dir`). */
export async function closeLingering(dir?: string): Promise<void> {
  for (const [key, entry] of [...lingering]) {
    if (dir !== undefined && key !== path.resolve(dir)) continue;
    lingering.delete(key);
    try {
      await entry.db.close();
    } catch {
      // Its directory may already be gone.
    } finally {
      entry.lock.release();
    }
  }
}

/**
 * An embedded PostgreSQL in memory, for Cradle's own computations on rows read from elsewhere (a
 * MySQL target's rows for `cradle target profile`, src/profile/copy.ts): nothing is written to disk,
 * and closing it frees everything. Starts from a cached empty cluster (src/db/pristine.ts).
 */
export async function openMemoryDatabase(label = 'memory'): Promise<Database> {
  const options = {
    // The same settings as an embedded directory's (startPGlite above).
    startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB', '-c', 'work_mem=32MB'],
    parsers: { [OID.date]: (v: string) => v, [OID.timestamp]: (v: string) => v, [OID.int8]: int8 },
  };
  let fresh: PGlite | null = null;
  const template = await memoryTemplate(async () => {
    fresh = new PGlite(options);
    await fresh.waitReady;
    return fresh.dumpDataDir('none');
  });
  let db: PGlite;
  if (fresh) db = fresh;
  else {
    db = new PGlite({ ...options, ...(template ? { loadDataDir: template } : {}) });
    await db.waitReady;
  }
  return embeddedDatabase(db, label, () => db.close());
}

function embeddedDatabase(db: PGlite, label: string, close: () => Promise<void>): Database {
  // A lingering PGlite outlives this handle: once closed, the handle refuses work as PGlite would.
  let closed = false;
  const live = (): PGlite => {
    if (closed) throw new Error('PGlite is closed');
    return db;
  };
  const wrap = (handle: () => PGlite | Transaction): Queryable => ({
    kind: 'pglite',
    async query<T = Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      const res = await handle().query<T>(sql, params as unknown[]);
      return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length, fields: res.fields.map((f) => f.name) };
    },
    async exec(sql: string) {
      await handle().exec(sql);
    },
    async copyFrom(table, columns, rows) {
      let total = 0;
      for await (const chunk of chunkCsv(rows)) {
        await handle().query(copySql(table, columns, `'/dev/blob'`), [], { blob: new Blob([chunk.text]) });
        total += chunk.count;
      }
      return total;
    },
    async copyCsvText(table, columns, csv) {
      const parts = (typeof csv === 'string' || csv instanceof Uint8Array ? [csv] : csv) as BlobPart[];
      const blob = new Blob(parts);
      if (blob.size) await handle().query(copySql(table, columns, `'/dev/blob'`), [], { blob });
    },
    async serialize() {
      // PGlite runs one transaction at a time: nothing to wait for.
    },
  });
  const base = wrap(live);
  return {
    ...base,
    label,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>, txOptions: TransactionOptions = {}): Promise<T> {
      return live().transaction(async (tx) => {
        if (txOptions.readOnly) await tx.exec('SET TRANSACTION READ ONLY');
        return fn(wrap(() => tx));
      });
    },
    async rolledBackTransaction<T>(setup: readonly string[], fn: (tx: ReadOnlyQueryable) => Promise<T>): Promise<T> {
      // PGlite's query() always uses the extended protocol; exec() (a batch) is not handed out.
      return live().transaction(async (tx) => {
        try {
          for (const statement of setup) await tx.query(statement);
          return await fn({ kind: 'pglite', query: wrap(() => tx).query });
        } finally {
          if (!tx.closed) await tx.rollback();
        }
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await close();
    },
  };
}

// ---------- server ----------

const serverTypes = (lib: typeof pg) =>
  ({
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === OID.int8) return int8;
      if (oid === OID.date || oid === OID.timestamp) return (v: string) => v;
      return lib.types.getTypeParser(oid, format as 'text');
    },
  }) as pg.CustomTypesConfig;

function poolConfig(lib: typeof pg, s: ServerSettings, ssl: TlsConfig): pg.PoolConfig {
  return {
    host: s.connectHost,
    port: s.port,
    user: s.user,
    database: s.dbname,
    // A function: node-postgres never looks for a password itself (its pgpass support is deprecated).
    password: async () => {
      if (s.password === null) throw new Error('the server asks for a password and none was supplied');
      return s.password;
    },
    ssl,
    ...(s.applicationName ? { application_name: s.applicationName } : {}),
    ...(s.options ? { options: s.options } : {}),
    max: 4,
    types: serverTypes(lib),
    connectionTimeoutMillis: s.connectTimeoutMs,
  };
}

/** Whether the first way of connecting failed in the way that makes libpq try the second (sslmode allow, prefer). */
function retryable(err: unknown, when: 'no-ssl-on-server' | 'rejected' | null): boolean {
  if (when === 'no-ssl-on-server') return /does not support SSL/i.test((err as Error).message);
  if (when === 'rejected') return /^28/.test(String((err as { code?: unknown }).code ?? ''));
  return false;
}

async function openServer(location: string, options: OpenOptions): Promise<Database> {
  const role = options.role ?? 'database';
  const label = redact(location);
  let settings: ServerSettings;
  let plan: ReturnType<typeof tlsPlan>;
  try {
    const env = processEnvironment();
    settings = resolveServer(location, env);
    plan = tlsPlan(settings, env.home);
  } catch (err) {
    if (err instanceof UserError) throw new UserError(`${role} ${label}${err.message.startsWith('is ') ? ' ' : ': '}${redact(err.message)}`);
    throw err;
  }
  const warn = options.warn ?? ((m: string) => process.stderr.write(`cradle: warning: ${m}\n`));
  for (const w of settings.warnings) warn(w);
  // The driver is loaded here, on first use: an embedded vault never needs it (start-up stays short).
  const { default: lib } = await import('pg');
  const { from: copyFromStream } = await import('pg-copy-streams');
  let chosen: pg.Pool | null = null;
  for (let i = 0; i < plan.attempts.length && !chosen; i++) {
    const candidate = new lib.Pool(poolConfig(lib, settings, plan.attempts[i]));
    // An idle client's error (server restart) must not crash the process; the next query reports it.
    candidate.on('error', () => undefined);
    try {
      await candidate.query('SELECT 1');
      chosen = candidate;
    } catch (err) {
      await candidate.end().catch(() => undefined);
      if (i + 1 < plan.attempts.length && retryable(err, plan.retryWhen)) continue;
      // The driver's message should not hold the password; hide it all the same if it does.
      const secrets = settings.password === null ? [] : [settings.password];
      throw new UserError(`cannot connect to ${role} ${label}: ${describeConnectError(err, settings, secrets)}`);
    }
  }
  if (!chosen) throw new Error('no way to connect was tried');
  const pool = chosen;
  const result = <T>(res: pg.QueryResult): QueryResult<T> => ({ rows: res.rows as T[], rowCount: res.rowCount ?? res.rows.length, fields: (res.fields ?? []).map((f) => f.name) });
  const wrap = (q: pg.Pool | pg.PoolClient): Queryable => ({
    kind: 'postgres',
    async query<T = Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      return result<T>(await q.query(sql, params as unknown[]));
    },
    async exec(sql: string) {
      await q.query(sql);
    },
    async copyFrom(table, columns, rows) {
      const client = 'release' in q ? q : await q.connect();
      try {
        let total = 0;
        const source = Readable.from(
          (async function* () {
            for await (const chunk of chunkCsv(rows)) {
              total += chunk.count;
              yield chunk.text;
            }
          })(),
        );
        await pipeline(source, client.query(copyFromStream(copySql(table, columns, 'STDIN'))));
        return total;
      } finally {
        if (client !== q) (client as pg.PoolClient).release();
      }
    },
    async copyCsvText(table, columns, csv) {
      const parts = typeof csv === 'string' || csv instanceof Uint8Array ? [csv] : csv;
      if (!parts.some((p) => p.length)) return;
      const client = 'release' in q ? q : await q.connect();
      try {
        await pipeline(Readable.from(parts), client.query(copyFromStream(copySql(table, columns, 'STDIN'))));
      } finally {
        if (client !== q) (client as pg.PoolClient).release();
      }
    },
    async serialize(key) {
      if (typeof key === 'number') await q.query('SELECT pg_advisory_xact_lock($1)', [key]);
      else await q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
    },
  });
  const base = wrap(pool);
  return {
    ...base,
    label,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>, txOptions: TransactionOptions = {}): Promise<T> {
      const client = await pool.connect();
      // A connection the server drops mid-transaction makes the next query fail; without a listener
      // the client's 'error' event would crash the process instead.
      const onError = () => undefined;
      client.on('error', onError);
      try {
        await client.query(`BEGIN${txOptions.snapshot ? ' ISOLATION LEVEL REPEATABLE READ' : ''}${txOptions.readOnly ? ' READ ONLY' : ''}`);
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.off('error', onError);
        client.release();
      }
    },
    async rolledBackTransaction<T>(setup: readonly string[], fn: (tx: ReadOnlyQueryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      const onError = () => undefined;
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        for (const statement of setup) await client.query(statement);
        return await fn({
          kind: 'postgres',
          async query<R = Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
            // Extended protocol even without parameters: the server then refuses more than one statement.
            const config = { text: sql, values: params as unknown[], queryMode: 'extended' } as pg.QueryConfig;
            return result<R>(await client.query(config));
          },
        });
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
        client.off('error', onError);
        // Destroyed, not returned to the pool: nothing a statement left in the session is used again.
        client.release(true);
      }
    },
    async close() {
      await pool.end();
    },
  };
}
