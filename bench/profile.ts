import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import { openDatabase, readOnly, type ReadOnlyQueryable } from '../src/db/index.js';
import { learnProfile } from '../src/profile/learn.js';
import { regionalMapping, regionalPopulationSql, REGIONAL_SCHEMA } from '../test/fixtures/his-population.js';
import { parseArgs, UsageError } from './args.js';

// The profiling benchmark: `learnProfile` (what `cradle target profile` runs) over N families of the
// regional hospital (test/fixtures/his-population.ts: two tables, 20 columns, a third unmapped) in
// PostgreSQL, next to a reference timed in the same run: psql copying every column of both tables to
// /dev/null (one full read of the data, no aggregation). Goal: a million families in at most 60 s.

const run = promisify(execFile);
const note = (message: string) => process.stderr.write(`[bench] ${message}\n`);
// A process's CPU seconds (utime + stime, ticks of 1/100 s) from /proc: the server backend's, robust on a loaded machine.
const cpuOf = (pid: number): number | null => {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
};
const USAGE = 'usage: node dist/bench/profile.js [--families 1000000] [--runs 1]';

async function main(): Promise<void> {
  const flags = parseArgs(process.argv.slice(2), { families: 1_000_000, runs: 1 }, { '--families': 'families', '--runs': 'runs' }, USAGE, () => false);
  const server = process.env.CRADLE_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const name = `cradle_bench_profile_${process.pid}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  try {
    const db = await openDatabase(url.toString());
    try {
      let t0 = performance.now();
      note(`loading ${flags.families.toLocaleString('en')} families into ${name}…`);
      await db.exec(REGIONAL_SCHEMA);
      await db.exec(regionalPopulationSql(flags.families));
      await db.exec('ANALYZE');
      note(`loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const mapping = regionalMapping();
      const learnMs: number[] = [];
      const refMs: number[] = [];
      for (let r = 0; r < flags.runs; r++) {
        t0 = performance.now();
        await run('psql', [url.toString(), '-q', '-c', `\\copy (SELECT * FROM his."ZY_BRXX" m LEFT JOIN his."XSE_XX" b ON b."MQID" = m."ID") TO '/dev/null'`]);
        refMs.push(performance.now() - t0);
        t0 = performance.now();
        const slow: [number, number | null, number, string][] = [];
        const client = process.cpuUsage();
        let server: number | null = null;
        const profile = await readOnly(db, async (tx) => {
          // The backend serving the read-only transaction: its CPU per statement, read from /proc.
          const backend = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
          const before = cpuOf(backend);
          // The slowest statements, to show where the time goes.
          const timed: ReadOnlyQueryable = {
            kind: tx.kind,
            query: async <T>(sql: string, params?: readonly unknown[]) => {
              const t = performance.now();
              const c0 = cpuOf(backend);
              const res = await tx.query<T>(sql, params);
              const c1 = cpuOf(backend);
              slow.push([performance.now() - t, c0 !== null && c1 !== null ? c1 - c0 : null, (res as { rows: unknown[] }).rows.length, sql.replace(/\s+/g, ' ').slice(0, 160)]);
              return res;
            },
            tune: tx.tune?.bind(tx),
          };
          const p = await learnProfile(timed, mapping, { hospital: 'bench', k: 5, timeZone: 'Asia/Shanghai', onProgress: (m) => note(m) });
          const after = cpuOf(backend);
          server = before !== null && after !== null ? after - before : null;
          return p;
        });
        const used = process.cpuUsage(client);
        const fmt = (x: number | null) => (x === null ? '?' : x.toFixed(2));
        note(`${slow.length} statements, ${(slow.reduce((a, [ms]) => a + ms, 0) / 1000).toFixed(1)} s wall in them; the slowest (wall, server backend CPU, rows):`);
        for (const [ms, c, n, sql] of slow.sort((a, b) => b[0] - a[0]).slice(0, 30)) note(`  ${(ms / 1000).toFixed(2)} s  ${fmt(c)} CPU-s  ${n} rows  ${sql}`);
        note(`run ${r + 1}: server backend CPU ${fmt(server)} s, client CPU ${((used.user + used.system) / 1e6).toFixed(1)} s (this process, its other threads included)`);
        learnMs.push(performance.now() - t0);
        const cols = profile.columns;
        note(`  what it found: m.ZYH key ${JSON.stringify(cols['m.ZYH'].key)}; m.SFZH ID cards valid ${cols['m.SFZH'].key?.idCard?.validShare}; b.TZ steps ${JSON.stringify(cols['b.TZ'].number?.steps)}; m.MZ ${JSON.stringify(cols['m.MZ'].values)}`);
        note(`run ${r + 1}: profile of ${profile.families.toLocaleString('en')} families, ${Object.keys(profile.columns).length} columns, ${JSON.stringify(profile).length.toLocaleString('en')} bytes`);
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const learn = median(learnMs) / 1000;
      const ref = median(refMs) / 1000;
      process.stdout.write(
        [
          `families                      ${flags.families.toLocaleString('en')}`,
          `learnProfile                  ${learn.toFixed(1)} s${flags.families >= 1_000_000 ? `  (goal ≤ 60 s for a million: ${learn <= 60 ? 'met' : 'NOT met'})` : ''}`,
          `reference: psql \\copy to /dev/null of both tables joined   ${ref.toFixed(1)} s`,
          `ratio learnProfile / reference ${(learn / ref).toFixed(1)}×`,
        ].join('\n') + '\n',
      );
    } finally {
      await db.close();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof UsageError ? err.message : (err as Error).stack}\n`);
  process.exitCode = 1;
});
