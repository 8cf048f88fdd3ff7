import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { customAlphabet } from 'nanoid';
import { redact } from '../src/lib/redact.js';
import { fmtInt, fmtMs, textTable } from './instrument.js';
import { runBench, type BenchSummary, type BenchWhere } from './seed.js';
import { parseArgs, UsageError } from './args.js';

// `npm run bench`: seeding K canaries into a target of N families (uniqueness check included) against
// the time PostgreSQL takes to COPY K plain rows into the same table. Figures are printed, never asserted.
//
//   node dist/bench/run.js [--families N] [--canaries K] [--runs R] [--keep] [--pglite] [--pglite-families N]
//   server: CRADLE_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); its own databases are created and dropped.

const USAGE = 'usage: node dist/bench/run.js [--families N] [--canaries K] [--runs R] [--keep] [--pglite] [--pglite-families N] [--no-server]';
const suffix = customAlphabet('abcdefghijklmnopqrstuvwxyz0123456789', 8);
let interrupted = false;


interface Flags {
  families: number;
  canaries: number;
  runs: number;
  keep: boolean;
  pglite: boolean;
  pgliteFamilies: number;
  server: boolean;
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { families: 1_000_000, canaries: 1000, runs: 3, keep: false, pglite: false, pgliteFamilies: 100_000, server: true };
  const numeric = { '--families': 'families', '--canaries': 'canaries', '--runs': 'runs', '--pglite-families': 'pgliteFamilies' } as const;
  parseArgs(argv, flags, numeric, USAGE, (name) => {
    if (name === '--keep') flags.keep = true;
    else if (name === '--pglite') flags.pglite = true;
    else if (name === '--no-server') flags.server = false;
    else return false;
    return true;
  });
  return flags;
}

/** Scratch databases for one benchmark: created on demand, dropped (or kept with --keep) at the end. */
class Scratch {
  private readonly cleanups: { what: string; drop: () => Promise<void> }[] = [];
  constructor(private readonly serverUrl: string) {}

  async serverDatabase(role: string): Promise<string> {
    const name = `cradle_bench_${role}_${suffix()}`;
    await this.admin(`CREATE DATABASE ${name}`);
    const url = new URL(this.serverUrl);
    url.pathname = `/${name}`;
    this.cleanups.push({ what: `database ${name}`, drop: () => this.admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) });
    return url.toString();
  }

  embeddedDirectory(role: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cradle-bench-${role}-`));
    fs.rmSync(dir, { recursive: true }); // openDatabase creates it
    this.cleanups.push({ what: `directory ${dir}`, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) });
    return dir;
  }

  private dropping: Promise<void> | null = null;

  /** Drop everything created so far; a second call (Ctrl-C during the normal end) waits for the first. */
  dropAll(keep: boolean): Promise<void> {
    this.dropping ??= this.drop(keep);
    return this.dropping;
  }

  private async drop(keep: boolean): Promise<void> {
    for (const c of this.cleanups.splice(0)) {
      if (keep) {
        process.stderr.write(`[bench] kept ${c.what}\n`);
        continue;
      }
      await c.drop().catch((err: Error) => process.stderr.write(`[bench] could not drop ${c.what}: ${err.message}\n`));
    }
  }

  private async admin(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const serverUrl = process.env.CRADLE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const scratch = new Scratch(serverUrl);
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    // DROP ... WITH (FORCE) ends our own connections too; a client in a transaction then emits 'error'.
    process.on('uncaughtException', () => undefined);
    process.stderr.write('[bench] interrupted; dropping the benchmark databases (Ctrl-C again to leave them)\n');
    void scratch.dropAll(flags.keep).finally(() => process.exit(130));
  });

  console.log(`Cradle seeding benchmark — node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
  console.log(`${flags.server ? `server ${redact(serverUrl)}; ` : ''}${fmtInt(flags.canaries)} canaries; ${flags.runs} run(s) per measurement`);
  console.log();
  const summaries: BenchSummary[] = [];
  try {
    if (flags.server) {
      const where: BenchWhere = { backend: 'postgres', target: await scratch.serverDatabase('target'), newVault: () => scratch.serverDatabase('vault') };
      summaries.push(await runBench(where, { families: flags.families, canaries: flags.canaries, runs: flags.runs }));
    }
    if (flags.pglite) {
      const where: BenchWhere = { backend: 'pglite', target: scratch.embeddedDirectory('target'), newVault: async () => scratch.embeddedDirectory('vault') };
      summaries.push(await runBench(where, { families: flags.pgliteFamilies, canaries: flags.canaries, runs: flags.runs }));
    }
  } finally {
    await scratch.dropAll(flags.keep);
  }

  console.log('summary (medians):');
  console.log(textTable(
    ['backend', 'families in target', 'canaries', 'seeding ms', 'canaries/s', 'COPY rows ms', 'ratio seeding/COPY', 'psql \\copy ms', 'ratio seeding/psql'],
    summaries.map((s) => [
      s.backend,
      fmtInt(s.families),
      fmtInt(s.canaries),
      fmtMs(s.seedingMs),
      fmtInt(s.canaries / (s.seedingMs / 1000)),
      fmtMs(s.copyMs),
      `${(s.seedingMs / s.copyMs).toFixed(1)}×`,
      s.psqlMs === null ? '-' : fmtMs(s.psqlMs),
      s.psqlMs === null ? '-' : `${(s.seedingMs / s.psqlMs).toFixed(1)}×`,
    ]),
  ));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (interrupted) return; // the SIGINT handler exits once the databases are dropped
    console.error(err instanceof UsageError ? err.message : `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
