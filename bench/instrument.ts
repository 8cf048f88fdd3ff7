import fs from 'node:fs';
import type pg from 'pg';
import type { Database, Queryable, QueryResult, ReadOnlyQueryable, Row, TransactionOptions } from '../src/db/index.js';

// Bench-only helpers: a Database wrapper that times every statement (so a plantCanaries run can be
// broken down by query without touching src/), EXPLAIN of captured SELECTs, and small statistics.

export interface Timed {
  db: string;
  sql: string;
  params: readonly unknown[];
  ms: number;
}

/** Wrap a database so each query, exec and COPY is appended to `log`; a transaction adds one entry for its own overhead. */
export function instrument(db: Database, name: string, log: Timed[]): Database {
  const record = async <R>(sql: string, params: readonly unknown[], run: () => Promise<R>): Promise<R> => {
    const t0 = performance.now();
    try {
      return await run();
    } finally {
      log.push({ db: name, sql, params, ms: performance.now() - t0 });
    }
  };
  const wrap = (q: Queryable): Queryable => ({
    kind: q.kind,
    query<T = Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      return record(sql, params, () => q.query<T>(sql, params));
    },
    exec: (sql) => record(sql, [], () => q.exec(sql)),
    copyFrom: (table, columns, rows) => record(`COPY ${table}`, [], () => q.copyFrom(table, columns, rows)),
    copyCsvText: (table, columns, csv) => record(`COPY ${table} (text)`, [], () => q.copyCsvText(table, columns, csv)),
    serialize: (key) => record(`advisory lock ${key}`, [], () => q.serialize(key)),
  });
  return {
    ...wrap(db),
    label: db.label,
    close: () => db.close(),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T> {
      const start = log.length;
      const t0 = performance.now();
      try {
        return await db.transaction((tx) => fn(wrap(tx)), options);
      } finally {
        const inner = log.slice(start).filter((e) => e.db === name).reduce((s, e) => s + e.ms, 0);
        log.push({ db: name, sql: '(BEGIN/COMMIT and JS inside the transaction)', params: [], ms: performance.now() - t0 - inner });
      }
    },
    rolledBackTransaction<T>(setup: readonly string[], fn: (tx: ReadOnlyQueryable) => Promise<T>): Promise<T> {
      return db.rolledBackTransaction(setup, (tx) =>
        fn({ kind: tx.kind, query: <R = Row>(sql: string, params: readonly unknown[] = []) => record(sql, params, () => tx.query<R>(sql, params)) }),
      );
    },
  };
}

/** A short, stable label for a statement: whitespace collapsed, VALUES lists and long tails cut. */
export function statementLabel(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim().replace(/ VALUES \(.*$/, ' VALUES …');
  return flat.length > 110 ? `${flat.slice(0, 107)}…` : flat;
}

export interface Group {
  db: string;
  label: string;
  count: number;
  ms: number;
  sample: Timed;
}

export function groupByStatement(log: readonly Timed[]): Group[] {
  const groups = new Map<string, Group>();
  for (const e of log) {
    const label = statementLabel(e.sql);
    const key = `${e.db}\u0000${label}`;
    const g = groups.get(key) ?? { db: e.db, label, count: 0, ms: 0, sample: e };
    g.count++;
    g.ms += e.ms;
    if (e.ms > g.sample.ms) g.sample = e;
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.ms - a.ms);
}

/** Scan nodes and execution time of a SELECT, run again under EXPLAIN ANALYZE with the same parameters. */
export async function planSummary(db: Queryable, sql: string, params: readonly unknown[]): Promise<string> {
  const { rows } = await db.query<Record<string, string>>(`EXPLAIN (ANALYZE) ${sql}`, params);
  const lines = rows.map((r) => Object.values(r)[0]);
  const scans = [...new Set(lines.map((l) => /(Parallel )?(Seq Scan|Index Only Scan|Index Scan|Bitmap Index Scan|Bitmap Heap Scan)( using \S+)? on \S+/.exec(l)?.[0]).filter(Boolean))];
  const time = (what: string) => lines.map((l) => new RegExp(`${what} Time: ([\\d.]+) ms`).exec(l)?.[1]).find(Boolean) ?? '?';
  return `${scans.join(', ') || lines[0].trim()}; planning ${time('Planning')} ms, execution ${time('Execution')} ms`;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export async function timeIt<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export const fmtMs = (ms: number): string => (ms >= 100 ? Math.round(ms).toLocaleString('en') : ms.toFixed(1));
export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en');
export const fmtRuns = (values: readonly number[]): string => `[${values.map(fmtMs).join(', ')}]`;

/** A plain text table, columns padded; figures (numbers, ratios, [run lists], -) right-aligned. */
export function textTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (/^(-|[\d.,]+×?|\[.*\])$/.test(c) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** CPU-seconds (user+system) of a process on this machine, from /proc (throws when not readable). */
export function processCpu(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ on Linux
}

/** CPU-seconds (user+system) of the server's backends on this database, read from /proc; null when not readable. */
export async function backendCpu(pool: { query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<{ rows: R[] }> }, name: string): Promise<Map<number, number> | null> {
  const { rows } = await pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1`, [name]);
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      out.set(pid, processCpu(pid));
    } catch {
      return null;
    }
  }
  return out;
}

export const cpuSince = (before: Map<number, number> | null, after: Map<number, number> | null): number | null =>
  before && after ? [...after].reduce((s, [pid, t]) => s + t - (before.get(pid) ?? 0), 0) : null;
