import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { openDatabase } from '../src/db/index.js';
import { demoPopulation } from '../src/demo/setup.js';
import { createRandom } from '../src/lib/generate/index.js';
import { FIXTURES_DIR, PACKAGE_ROOT } from '../src/lib/paths.js';
import { copyFamilies, loadMapping } from '../src/targetdb/index.js';
import { parseArgs, UsageError } from './args.js';
import { fmtInt, fmtMs, fmtRuns, median, textTable } from './instrument.js';

// What the MySQL path costs against the PostgreSQL path on the same data: the pinyin HIS schema of
// fixtures/mysql-his (mapping fixtures/mappings/mysql-his.json) on the machine's MariaDB and, translated
// to PostgreSQL types with the same table and column names, on the PostgreSQL server; N demo families in
// each; then `cradle seed --count K` and the mapping's default export (`cradle export`, every row) timed
// as a user runs them (bin/cradle, a vault on the PostgreSQL server for both). Prints figures and ratios,
// asserts nothing. Skips with a message when MariaDB does not answer.

const run = promisify(execFile);
const note = (message: string) => process.stderr.write(`[bench:mysql] ${message}\n`);
const USAGE = 'usage: node dist/bench/mysql.js [--families N (20000)] [--canaries K (50)] [--runs R (3)]';

const MARIADB = process.env.CRADLE_BENCH_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306';
const POSTGRES = process.env.CRADLE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DB = 'cradle_bench_mysql';

/** fixtures/mysql-his/schema.sql in PostgreSQL types, same names (quoted: upper case). */
const PG_SCHEMA = `
CREATE TABLE "ZY_BRXX" ("BRID" serial PRIMARY KEY, "ZYH" varchar(20) NOT NULL UNIQUE, "BRXM" varchar(32) NOT NULL, "CSRQ" date,
  "LXDH" varchar(20), "SFZH" varchar(18), "ZFXM" varchar(32), "ZFDH" varchar(20), "JTDZ" varchar(200), "QX" varchar(20), "BQDM" varchar(20),
  "RYSJ" timestamp NOT NULL, "CYSJ" timestamp, "CJSJ" timestamp NOT NULL DEFAULT now());
CREATE INDEX "IDX_LXDH" ON "ZY_BRXX" ("LXDH");
CREATE TABLE "XSE_JBXX" ("XSEID" bigserial PRIMARY KEY, "BRID" int NOT NULL, "XSEXM" varchar(32), "XB" char(1) NOT NULL,
  "CSRQ" timestamp NOT NULL, "TZ" int, "FMFS" varchar(10));
CREATE INDEX "IDX_BRID" ON "XSE_JBXX" ("BRID");`;

interface Figures {
  loadMs: number;
  seedMs: number[];
  exportMs: number[];
  exportRows: number;
}

async function mariadbReachable(): Promise<string | null> {
  try {
    const c = await mysqlAdmin();
    await c.end();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function mysqlAdmin(): Promise<mysql.Connection> {
  const u = new URL(MARIADB);
  return mysql.createConnection({ host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username) || 'root', connectTimeout: 3000, multipleStatements: true });
}

const pgUrl = (db: string) => {
  const u = new URL(POSTGRES);
  u.pathname = `/${db}`;
  return u.toString();
};

async function pgAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: POSTGRES });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function dropAll(): Promise<void> {
  const m = await mysqlAdmin().catch(() => null);
  if (m) {
    await m.query(`DROP DATABASE IF EXISTS ${DB}`);
    await m.end();
  }
  await pgAdmin(async (c) => {
    for (const db of [`${DB}_target`, `${DB}_vault_mariadb`, `${DB}_vault_postgres`]) await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  });
}

const cli = (cwd: string, args: string[]) => run(process.execPath, [path.join(PACKAGE_ROOT, 'bin', 'cradle'), ...args], { cwd, maxBuffer: 64 << 20 });

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function bench(kind: 'mariadb' | 'postgres', families: number, canaries: number, runs: number): Promise<Figures> {
  let target: string;
  if (kind === 'mariadb') {
    const m = await mysqlAdmin();
    await m.query(`CREATE DATABASE ${DB} CHARACTER SET utf8mb4; USE ${DB}; ${fs.readFileSync(path.join(FIXTURES_DIR, 'mysql-his', 'schema.sql'), 'utf8')}`);
    await m.end();
    const u = new URL(MARIADB);
    u.pathname = `/${DB}`;
    target = u.toString();
  } else {
    await pgAdmin((c) => c.query(`CREATE DATABASE ${DB}_target`));
    target = pgUrl(`${DB}_target`);
    const t = await openDatabase(target);
    await t.exec(PG_SCHEMA);
    await t.close();
  }
  await pgAdmin((c) => c.query(`CREATE DATABASE ${DB}_vault_${kind}`));

  const mapping = loadMapping(path.join(FIXTURES_DIR, 'mappings', 'mysql-his.json'));
  const db = await openDatabase(target, { role: 'target' });
  const rng = createRandom('bench-mysql');
  note(`${kind}: loading ${fmtInt(families)} families`);
  const loadMs = await timed(() => db.transaction((tx) => copyFamilies(tx, mapping, demoPopulation(rng, families, new Date('2026-12-01T00:00:00Z')), 'Asia/Shanghai', () => rng.int(0, 9))));
  await db.close();

  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), `cradle-bench-${kind}-`));
  try {
    await cli(cwd, ['init', '--vault', pgUrl(`${DB}_vault_${kind}`), '--target', target]);
    fs.copyFileSync(path.join(FIXTURES_DIR, 'mappings', 'mysql-his.json'), path.join(cwd, 'mapping.json'));
    const numbers = Array.from({ length: canaries * runs * 3 + 20 }, () => `1${rng.pick(['39', '58', '86'])}${String(rng.int(0, 99_999_999)).padStart(8, '0')}`);
    fs.writeFileSync(path.join(cwd, 'numbers.txt'), [...new Set(numbers)].join('\n'));
    await cli(cwd, ['pool', 'add', '--file', 'numbers.txt', '--burn-in', '0']);
    const seedMs: number[] = [];
    for (let r = 0; r < runs; r++) {
      note(`${kind}: seed --count ${canaries}, run ${r + 1}/${runs}`);
      seedMs.push(await timed(() => cli(cwd, ['seed', '--count', String(canaries), '--json'])));
    }
    const exportMs: number[] = [];
    let exportRows = 0;
    for (let r = 0; r < runs; r++) {
      note(`${kind}: default export, run ${r + 1}/${runs}`);
      const args = ['export', '--channel', `export:bench-${r}`, '--out', `births-${r}.csv`, '--from', '2000-01-01', '--canaries', '2', '--json'];
      let out = '';
      exportMs.push(await timed(async () => void (out = (await cli(cwd, args)).stdout)));
      exportRows = (JSON.parse(out) as { rows: number }).rows;
    }
    return { loadMs, seedMs, exportMs, exportRows };
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const flags = parseArgs(process.argv.slice(2), { families: 20_000, canaries: 50, runs: 3 }, { '--families': 'families', '--canaries': 'canaries', '--runs': 'runs' }, USAGE, () => false);
  const why = await mariadbReachable();
  if (why) {
    process.stdout.write(`MySQL benchmark skipped: MariaDB does not answer at ${MARIADB} (${why}); start it or set CRADLE_BENCH_MARIADB_URL\n`);
    return;
  }
  const cleanup = () => void dropAll().finally(() => process.exit(130));
  process.once('SIGINT', cleanup);
  await dropAll();
  try {
    const startups: number[] = [];
    for (let i = 0; i < 3; i++) startups.push(await timed(() => cli(os.tmpdir(), ['--version'])));
    const startup = median(startups);
    const my = await bench('mariadb', flags.families, flags.canaries, flags.runs);
    const pgf = await bench('postgres', flags.families, flags.canaries, flags.runs);
    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    process.stdout.write(`\nMySQL path against PostgreSQL: ${fmtInt(flags.families)} families (pinyin HIS schema), seed --count ${flags.canaries}, default export, ${flags.runs} runs; node start-up ${fmtMs(startup)} ms (in every CLI figure); load ${os.loadavg()[0].toFixed(1)}\n\n`);
    process.stdout.write(
      textTable(
        ['', 'MariaDB (ms)', 'PostgreSQL (ms)', 'MariaDB / PostgreSQL'],
        [
          [`load ${fmtInt(flags.families)} families (copyFamilies, one transaction)`, fmtMs(my.loadMs), fmtMs(pgf.loadMs), ratio(my.loadMs, pgf.loadMs)],
          [`cradle seed --count ${flags.canaries} (median ${fmtRuns(my.seedMs)} / ${fmtRuns(pgf.seedMs)})`, fmtMs(median(my.seedMs)), fmtMs(median(pgf.seedMs)), ratio(median(my.seedMs), median(pgf.seedMs))],
          [`cradle export, default, ${fmtInt(my.exportRows)} / ${fmtInt(pgf.exportRows)} rows (median ${fmtRuns(my.exportMs)} / ${fmtRuns(pgf.exportMs)})`, fmtMs(median(my.exportMs)), fmtMs(median(pgf.exportMs)), ratio(median(my.exportMs), median(pgf.exportMs))],
        ],
      ) + '\n',
    );
  } finally {
    await dropAll();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof UsageError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
