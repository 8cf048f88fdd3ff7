import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type * as mysqlTypes from 'mysql2/promise';
import { UserError } from '../lib/errors.js';
import { redact } from '../lib/redact.js';
import type { Database, Queryable, QueryResult, ReadOnlyQueryable, Row, TransactionOptions } from './types.js';

// A MySQL or MariaDB server as the target (never the vault), through mysql2. The location is a
// mysql:// (or mariadb://) URL; the password comes from the URL, MYSQL_PWD, or the [client] group of
// an option file (~/.my.cnf, or ?option-file=<path>), as the mysql client reads it.
// Values come back as PostgreSQL's do here: DATE/DATETIME as text, BIGINT as a number.

export interface MysqlSettings {
  host: string;
  port: number;
  user: string;
  database: string;
  password: string | null;
  /** Where the password came from, for messages: "the URL", "MYSQL_PWD", "~/.my.cnf". */
  passwordSource: string | null;
  sslMode: 'DISABLED' | 'PREFERRED' | 'REQUIRED' | 'VERIFY_CA' | 'VERIFY_IDENTITY';
  sslCa: string | null;
  connectTimeoutMs: number;
  warnings: string[];
}

const SSL_MODES = ['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const;
const QUERY_KEYS = new Set(['ssl-mode', 'ssl-ca', 'option-file', 'connect-timeout']);

/** The [client] (and [cradle]) password of a MySQL option file, or null. */
export function optionFilePassword(text: string): string | null {
  let group = '';
  let password: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const g = /^\[([^\]]+)\]$/.exec(line);
    if (g) {
      group = g[1].trim().toLowerCase();
      continue;
    }
    if (group !== 'client' && group !== 'cradle') continue;
    const kv = /^password\s*=\s*(.*)$/i.exec(line);
    if (!kv) continue;
    let v = kv[1].trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    password = v;
  }
  return password;
}

/** A mysql:// URL as settings; a UserError naming what is wrong. */
export function resolveMysql(location: string, env: NodeJS.ProcessEnv = process.env, home = os.homedir()): MysqlSettings {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new UserError('is not a valid mysql:// URL (mysql://user@host:3306/database)');
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) throw new UserError('names no database: write mysql://user@host:3306/<database>');
  for (const key of url.searchParams.keys()) {
    if (!QUERY_KEYS.has(key)) throw new UserError(`has an unknown parameter ${key}= (known: ${[...QUERY_KEYS].join(', ')})`);
  }
  const mode = (url.searchParams.get('ssl-mode') ?? 'DISABLED').toUpperCase();
  if (!(SSL_MODES as readonly string[]).includes(mode)) throw new UserError(`ssl-mode=${mode} is not one of ${SSL_MODES.join(', ')}`);
  // mysql2 checks a certificate's name only against a host name: given an address it would check "localhost".
  if (mode === 'VERIFY_IDENTITY' && net.isIP(url.hostname.replace(/^\[|\]$/g, ''))) {
    throw new UserError(`ssl-mode=VERIFY_IDENTITY checks the server's name: give the host name its certificate carries, not the address ${url.hostname} (or use ssl-mode=VERIFY_CA)`);
  }
  const warnings: string[] = [];
  let password: string | null = null;
  let passwordSource: string | null = null;
  if (url.password) {
    password = decodeURIComponent(url.password);
    passwordSource = 'the URL';
  } else if (env.MYSQL_PWD) {
    password = env.MYSQL_PWD;
    passwordSource = 'MYSQL_PWD';
  } else {
    const file = url.searchParams.get('option-file') ?? path.join(home, '.my.cnf');
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (st?.isFile()) {
      password = optionFilePassword(fs.readFileSync(file, 'utf8'));
      if (password !== null) {
        passwordSource = file;
        if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) warnings.push(`the option file ${file} can be read by other users; chmod 600 it`);
      }
    } else if (url.searchParams.has('option-file')) {
      throw new UserError(`option-file ${file} does not exist`);
    }
  }
  const timeout = Number(url.searchParams.get('connect-timeout') ?? 10);
  return {
    host: url.hostname.replace(/^\[|\]$/g, '') || 'localhost',
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username) || os.userInfo().username,
    database,
    password,
    passwordSource,
    sslMode: mode as MysqlSettings['sslMode'],
    sslCa: url.searchParams.get('ssl-ca'),
    connectTimeoutMs: Math.max(1, timeout) * 1000,
    warnings,
  };
}

function describe(err: unknown, s: MysqlSettings): string {
  const e = err as { code?: string; errno?: number; message?: string };
  const raw = redact(String(e?.message ?? err), s.password ? [s.password] : []);
  const where = `host ${s.host}:${s.port}, database ${s.database}, user ${s.user}`;
  let why: string;
  if (e.code === 'ECONNREFUSED') why = 'connection refused; is MySQL/MariaDB running there and listening on that port?';
  else if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') why = `host name ${s.host} not found`;
  else if (e.code === 'ETIMEDOUT') why = `timed out after ${s.connectTimeoutMs / 1000} s; a firewall, or the wrong host or port?`;
  else if (e.code === 'ER_ACCESS_DENIED_ERROR' || e.code === 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR') {
    why = `authentication failed: ${raw} (${s.passwordSource ? `the password from ${s.passwordSource}` : 'no password was given; put it in ~/.my.cnf [client] password=…, or MYSQL_PWD'})`;
    // MariaDB with require_secure_transport answers a plain connection with "access denied".
    if (s.sslMode === 'DISABLED' || s.sslMode === 'PREFERRED') why += `; if the server requires TLS, add ?ssl-mode=VERIFY_IDENTITY&ssl-ca=<CA file> (or ssl-mode=REQUIRED) to the URL`;
  } else if (e.code === 'ER_BAD_DB_ERROR') why = `no such database: ${s.database} does not exist`;
  else if (e.code === 'ER_DBACCESS_DENIED_ERROR') why = `user ${s.user} may not use database ${s.database}: ${raw}`;
  else if (/SSL|TLS|certificate/i.test(raw)) why = `TLS failure (ssl-mode=${s.sslMode}): ${raw}`;
  else why = raw + (e.code && !raw.includes(e.code) ? ` (${e.code})` : '');
  return `${why} (${where})`;
}

function tls(s: MysqlSettings): mysqlTypes.SslOptions | undefined {
  if (s.sslMode === 'DISABLED' || s.sslMode === 'PREFERRED') return undefined;
  let ca: string | undefined;
  try {
    ca = s.sslCa ? fs.readFileSync(s.sslCa, 'utf8') : undefined;
  } catch (err) {
    throw new UserError(`ssl-ca=${s.sslCa}: cannot read the CA file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (s.sslMode === 'REQUIRED') return { rejectUnauthorized: false };
  // mysql2 checks the server's name against its certificate only when told to (verifyIdentity).
  return { ca, rejectUnauthorized: true, verifyIdentity: s.sslMode === 'VERIFY_IDENTITY' } as mysqlTypes.SslOptions;
}

type Conn = mysqlTypes.PoolConnection | mysqlTypes.Pool;

function result<T>(out: unknown, fields: unknown): QueryResult<T> {
  if (Array.isArray(out)) {
    const names = Array.isArray(fields) ? (fields as { name: string }[]).map((f) => f.name) : [];
    return { rows: out as T[], rowCount: out.length, fields: names };
  }
  const header = out as mysqlTypes.ResultSetHeader;
  return { rows: [], rowCount: header.affectedRows, fields: [], insertId: header.insertId };
}

/** Open a MySQL/MariaDB target. */
export async function openMysql(location: string, options: { role?: string; warn?: (m: string) => void }): Promise<Database> {
  const role = options.role ?? 'database';
  const label = redact(location);
  let s: MysqlSettings;
  try {
    s = resolveMysql(location);
  } catch (err) {
    if (err instanceof UserError) throw new UserError(`${role} ${label} ${redact(err.message)}`);
    throw err;
  }
  const warn = options.warn ?? ((m: string) => process.stderr.write(`cradle: warning: ${m}\n`));
  for (const w of s.warnings) warn(w);
  const { default: mysql } = await import('mysql2/promise');
  let ssl: mysqlTypes.SslOptions | undefined;
  try {
    ssl = tls(s);
  } catch (err) {
    throw err instanceof UserError ? new UserError(`${role} ${label}: ${err.message}`) : err;
  }
  const config: mysqlTypes.PoolOptions = {
    host: s.host,
    port: s.port,
    user: s.user,
    database: s.database,
    ...(s.password !== null ? { password: s.password } : {}),
    ssl,
    charset: 'UTF8MB4_GENERAL_CI',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: false,
    // exec() runs schema files; user text only ever goes through execute(), one prepared statement.
    multipleStatements: true,
    connectTimeout: s.connectTimeoutMs,
    connectionLimit: 4,
  };
  const pool = mysql.createPool(config);
  let serverVersion: string;
  try {
    const [rows] = await pool.query('SELECT VERSION() AS v');
    serverVersion = String((rows as { v: string }[])[0].v);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new UserError(`cannot connect to ${role} ${label}: ${describe(err, s)}`);
  }
  const wrap = (q: Conn): Queryable => ({
    kind: 'mysql',
    serverVersion,
    async query<T = Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      const [out, fields] = await q.query(sql, params as unknown[]);
      return result<T>(out, fields);
    },
    async exec(sql: string) {
      await q.query(sql);
    },
    async copyFrom(tableName, columns, rows) {
      // No COPY: multi-row INSERTs of a thousand rows.
      const dot = tableName.indexOf('.');
      const target = dot < 0 || tableName.startsWith('public.') ? `\`${tableName.slice(dot + 1).replace(/`/g, '``')}\`` : tableName.split('.').map((p) => `\`${p.replace(/`/g, '``')}\``).join('.');
      const head = `INSERT INTO ${target} (${columns.map((c) => `\`${c.replace(/`/g, '``')}\``).join(', ')}) VALUES `;
      let batch: unknown[][] = [];
      let total = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        await q.query(head + batch.map(() => `(${columns.map(() => '?').join(', ')})`).join(', '), batch.flat());
        total += batch.length;
        batch = [];
      };
      for await (const row of rows as AsyncIterable<readonly unknown[]>) {
        batch.push([...row]);
        if (batch.length >= 1000) await flush();
      }
      await flush();
      return total;
    },
    async copyCsvText() {
      throw new Error('CSV bulk loads are for the vault, which is never MySQL');
    },
    async serialize() {
      throw new Error('advisory transaction locks are for the vault, which is never MySQL');
    },
  });
  const base = wrap(pool);
  return {
    ...base,
    label,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>, txOptions: TransactionOptions = {}): Promise<T> {
      const conn = await pool.getConnection();
      try {
        // REPEATABLE READ is InnoDB's default; a consistent snapshot starts at once, not at the first read.
        await conn.query(`START TRANSACTION${txOptions.snapshot ? ' WITH CONSISTENT SNAPSHOT' : ''}${txOptions.readOnly ? `${txOptions.snapshot ? ',' : ''} READ ONLY` : ''}`);
        const out = await fn(wrap(conn));
        await conn.query('COMMIT');
        return out;
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        conn.release();
      }
    },
    async rolledBackTransaction<T>(setup: readonly string[], fn: (tx: ReadOnlyQueryable) => Promise<T>): Promise<T> {
      const conn = await pool.getConnection();
      try {
        for (const statement of setup) await conn.query(statement);
        return await fn({
          kind: 'mysql',
          serverVersion,
          async query<R = Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
            // A server-side prepared statement: the server refuses more than one statement in it.
            const [out, fields] = await conn.execute(sql, params as never);
            return result<R>(out, fields);
          },
        });
      } finally {
        await conn.query('ROLLBACK').catch(() => undefined);
        // Destroyed, not returned to the pool: nothing a statement left in the session is used again.
        conn.destroy();
      }
    },
    async close() {
      await pool.end();
    },
  };
}
