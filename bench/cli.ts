import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { customAlphabet } from 'nanoid';
import { migrate, openDatabase } from '../src/db/index.js';
import { PACKAGE_ROOT } from '../src/lib/paths.js';
import { redact } from '../src/lib/redact.js';
import { median, textTable } from './instrument.js';
import { parseArgs, UsageError } from './args.js';

// `npm run bench:cli`: how long everyday commands take, as a user runs them (`node bin/cradle …`, a
// new process each time), on the demo's embedded vault and on the same vault copied into PostgreSQL,
// against `psql -c` running the command's main query on that server. Also --version, --help and the
// demo itself. Timed with hyperfine when it is installed (apt-get install hyperfine), else as the
// median of spawned runs. Figures are printed, never asserted.
//
//   node dist/bench/cli.js [--runs N] [--keep] [--demo-dir DIR]   (--demo-dir: reuse a demo, copied; the demo is not timed)
//   server: CRADLE_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); its own database is created and dropped.

const USAGE = 'usage: node dist/bench/cli.js [--runs N] [--keep] [--demo-dir DIR]';
const suffix = customAlphabet('abcdefghijklmnopqrstuvwxyz0123456789', 8);
const CLI = path.join(PACKAGE_ROOT, 'bin', 'cradle');

interface Flags {
  runs: number;
  keep: boolean;
  /** A demo directory made before (`cradle demo --dir …`): copied and used instead of timing a new demo. */
  demoDir: string | null;
}

/** A command line as sh reads it. */
function shell(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

const hyperfine = spawnSync('hyperfine', ['--version'], { encoding: 'utf8' }).status === 0;

/**
 * Median wall seconds of `args` run in `cwd` (hyperfine, else spawned runs), and the mean CPU seconds
 * (user + system, from hyperfine; less sensitive to a busy machine than the wall clock); null when it fails.
 */
function time(args: readonly string[], cwd: string, runs: number, env: NodeJS.ProcessEnv = process.env): { wall: number; cpu: number | null } | null {
  if (hyperfine) {
    const out = path.join(os.tmpdir(), `cradle-bench-cli-${process.pid}.json`);
    // -N: no intermediate shell (each argument is passed as it is), so the CPU is the command's own.
    const res = spawnSync('hyperfine', ['-N', '--warmup', '1', '--runs', String(runs), '--export-json', out, '--style', 'none', shell(args)], { cwd, env, encoding: 'utf8' });
    if (res.status !== 0) return null;
    const json = JSON.parse(fs.readFileSync(out, 'utf8')) as { results: { median: number; user: number; system: number }[] };
    fs.rmSync(out, { force: true });
    const r = json.results[0];
    return { wall: r.median, cpu: r.user + r.system };
  }
  const samples: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const t0 = process.hrtime.bigint();
    const res = spawnSync(args[0], args.slice(1), { cwd, env, stdio: 'ignore' });
    if (res.status !== 0) return null;
    if (i > 0) samples.push(Number(process.hrtime.bigint() - t0) / 1e9); // the first is a warm-up
  }
  return { wall: median(samples), cpu: null };
}

/** The demo's embedded vault copied into a new database on the server: same rows, same sequences. */
async function copyVault(embeddedDir: string, url: string): Promise<void> {
  const server = await openDatabase(url, { role: 'bench vault' });
  const source = new PGlite(embeddedDir);
  try {
    await migrate(server);
    const { rows: tables } = await source.query<{ name: string; columns: string[] }>(
      `SELECT c.relname AS name, array_agg(a.attname ORDER BY a.attnum) AS columns
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' AND c.relname <> 'cradle_migrations'
        GROUP BY c.relname ORDER BY c.relname`,
    );
    await server.transaction(async (tx) => {
      // The copy goes in as it was: no foreign-key order, no ledger triggers (the rows are the ledger's already).
      await tx.query(`SET LOCAL session_replication_role = replica`);
      for (const t of tables) {
        await tx.query(`DELETE FROM ${t.name}`);
        const cols = t.columns.map((c) => `"${c}"`).join(', ');
        const res = await source.query(`COPY ${t.name} (${cols}) TO '/dev/blob' WITH (FORMAT csv)`);
        if (res.blob) await tx.copyCsvText(t.name, t.columns, new Uint8Array(await res.blob.arrayBuffer())); // none for an empty table
      }
      const { rows: seqs } = await source.query<{ name: string; value: string | null }>(`SELECT sequencename AS name, last_value::text AS value FROM pg_sequences WHERE schemaname = 'public'`);
      for (const s of seqs) if (s.value !== null) await tx.query(`SELECT setval($1, $2::bigint)`, [s.name, s.value]);
    });
  } finally {
    await source.close();
    await server.close();
  }
}

async function main(): Promise<void> {
  const flags: Flags = { runs: 10, keep: false, demoDir: null };
  parseArgs(process.argv.slice(2), flags, { '--runs': 'runs' }, USAGE, (name, value) => {
    if (name === '--keep') flags.keep = true;
    else if (name === '--demo-dir') flags.demoDir = path.resolve(value());
    else return false;
    return true;
  });
  const serverUrl = process.env.CRADLE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cradle-bench-cli-'));
  const dbName = `cradle_bench_cli_${suffix()}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  const vaultUrl = url.toString();
  try {
    console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version}; ${hyperfine ? execFileSync('hyperfine', ['--version'], { encoding: 'utf8' }).trim() : 'no hyperfine: medians of spawned runs'}; ${flags.runs} runs each`);
    const dir = path.join(work, 'demo');
    let incident: string;
    if (flags.demoDir) {
      fs.cpSync(flags.demoDir, dir, { recursive: true });
      fs.rmSync(path.join(dir, '.cradle', 'cradle.lock'), { force: true });
      const out = execFileSync(process.execPath, [CLI, 'incidents', '--json'], { cwd: dir, encoding: 'utf8' });
      incident = (JSON.parse(out) as { incidents: { id: string; source: string; hits: number }[] }).incidents.filter((i) => i.source === 'hits').sort((a, b) => b.hits - a.hits)[0].id;
    } else {
      // The demo, timed once as a user runs it: it builds the vault the commands below read.
      const t0 = process.hrtime.bigint();
      const demo = spawnSync(process.execPath, [CLI, 'demo', '--dir', 'demo', '--json'], { cwd: work, encoding: 'utf8' });
      const demoSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (demo.status !== 0) throw new Error(`cradle demo failed: ${demo.stderr}`);
      console.log(`cradle demo: ${demoSeconds.toFixed(1)} s wall, once (goal < 15 s on a quiet machine)`);
      incident = (JSON.parse(demo.stdout) as { incidents: { hits: string } }).incidents.hits;
    }
    await copyVault(path.join(dir, '.cradle'), vaultUrl);

    const psqlArgs = ['psql', '-X', '-q', '-A', '-t', '-o', '/dev/null', '-d', vaultUrl, '-c'];
    const commands: { label: string; args: string[]; query: string | null; target: number }[] = [
      { label: '--version', args: ['--version'], query: null, target: 0.2 },
      { label: '--help', args: ['--help'], query: null, target: 0.2 },
      { label: 'incidents --help', args: ['incidents', '--help'], query: null, target: 0.2 },
      {
        label: 'incidents',
        args: ['incidents'],
        query: `SELECT i.id, count(h.id) FILTER (WHERE h.status = 'active'), count(DISTINCT h.canary_id), min(e.occurred_at), max(e.occurred_at), array_agg(DISTINCT e.from_address) FROM incidents i LEFT JOIN hits h ON h.incident_id = i.id LEFT JOIN contact_events e ON e.id = h.event_id GROUP BY i.id ORDER BY i.created_at, i.id`,
        target: 0.5,
      },
      { label: 'hits', args: ['hits'], query: `SELECT h.*, e.kind, e.source, e.from_address, e.to_address, e.occurred_at, e.body FROM hits h JOIN contact_events e ON e.id = h.event_id ORDER BY e.occurred_at, h.id`, target: 0.5 },
      { label: 'canaries list', args: ['canaries', 'list'], query: `SELECT * FROM canaries ORDER BY created_at, id`, target: 0.5 },
      {
        label: 'pool list',
        args: ['pool', 'list'],
        query: `SELECT t.*, a.canary_id FROM trap_numbers t LEFT JOIN LATERAL (SELECT canary_id FROM trap_assignments WHERE trap_number_id = t.id ORDER BY assigned_at DESC, id DESC LIMIT 1) a ON true ORDER BY t.e164`,
        target: 0.5,
      },
      {
        label: 'trace <incident>',
        args: ['trace', incident],
        query: `SELECT x.* FROM exposures x JOIN hits h ON h.canary_id = x.canary_id WHERE h.incident_id = '${incident}' ORDER BY x.canary_id`,
        target: 0.5,
      },
    ];
    const rows: string[][] = [];
    type Timing = ReturnType<typeof time>;
    const fmt = (t: Timing) => (t === null ? 'failed' : `${t.wall.toFixed(3)} s${t.cpu === null ? '' : ` (${t.cpu.toFixed(3)})`}`);
    const ratio = (a: Timing, b: Timing) => (a === null || b === null ? '' : `${(a.wall / b.wall).toFixed(2)}×${a.cpu === null || b.cpu === null ? '' : ` (${(a.cpu / b.cpu).toFixed(2)}×)`}`);
    for (const c of commands) {
      const embedded = time([process.execPath, CLI, ...c.args], dir, flags.runs);
      const server = c.query === null ? null : time([process.execPath, CLI, '--vault', vaultUrl, ...c.args], dir, flags.runs);
      const psql = c.query === null ? null : time([...psqlArgs, c.query], dir, flags.runs);
      rows.push([`cradle ${c.label}`, fmt(embedded), c.query ? fmt(server) : '', c.query ? fmt(psql) : '', ratio(embedded, server), ratio(embedded, psql), `< ${c.target} s${embedded !== null && embedded.wall < c.target ? ' ✓' : ''}`]);
    }
    console.log('');
    console.log(`wall: median; (CPU): mean user + system${hyperfine ? '' : ' (needs hyperfine)'}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at the end`);
    console.log(textTable(['COMMAND', 'EMBEDDED VAULT', 'POSTGRESQL VAULT', 'PSQL -c', 'EMB/PG', 'EMB/PSQL', 'GOAL'], rows));
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    if (flags.keep) console.log(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`bench/cli: ${redact(String((err as Error).stack ?? err))}\n`);
  process.exit(1);
});
