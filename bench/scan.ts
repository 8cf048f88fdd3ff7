import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate, openDatabase } from '../src/db/index.js';
import { PACKAGE_ROOT } from '../src/lib/paths.js';
import * as vault from '../src/vault/index.js';
import { ensureDump, PLANT_FORMATS, type DumpDescription } from './scan-dump.js';
import { fmtInt, fmtMs, median, textTable } from './instrument.js';

// `npm run bench:scan`: `cradle scan` on a deterministic 1 GiB CSV dump with 10,000 canaries planted
// in mixed formats, against ripgrep searching the same file for the canaries' plain digit strings
// (`rg -F -c -f patterns.txt`), in the same run. Prints throughput, recall and peak memory; asserts nothing.
//
//   node dist/bench/scan.js [--bytes N] [--rows N] [--canaries K] [--runs R] [--data DIR]

const USAGE = 'usage: node dist/bench/scan.js [--bytes N] [--rows N] [--canaries K] [--runs R] [--data DIR]';

interface Flags { bytes: number; rows: number; canaries: number; runs: number; data: string }

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { bytes: 2 ** 30, rows: 8_000_000, canaries: 10_000, runs: 3, data: path.join(PACKAGE_ROOT, 'bench', '.data') };
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const value = inline ?? argv[++i];
    if (name === '--data') flags.data = path.resolve(value ?? '');
    else if (['--bytes', '--rows', '--canaries', '--runs'].includes(name)) {
      const n = Number(value?.replace(/[_,]/g, ''));
      if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a whole number of at least 1 (got ${value})\n${USAGE}`);
      flags[name.slice(2) as 'bytes' | 'rows' | 'canaries' | 'runs'] = n;
    } else throw new Error(`unknown argument ${argv[i]}\n${USAGE}`);
  }
  return flags;
}

/** ripgrep from PATH, installed with apt-get when missing and we may (the CI machine runs as root). */
function ripgrep(): string | null {
  const found = spawnSync('rg', ['--version'], { encoding: 'utf8' });
  if (found.status === 0) return 'rg';
  if (process.getuid?.() === 0) {
    process.stderr.write('[bench] ripgrep not found: installing it with apt-get\n');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
    spawnSync('apt-get', ['install', '-y', '-qq', 'ripgrep'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (spawnSync('rg', ['--version']).status === 0) return 'rg';
  }
  return null;
}

/** Run a command under GNU time for its wall time and peak RSS. */
function measure(command: string, args: string[]): { ms: number; rssKiB: number | null; stdout: string; status: number | null; stderr: string } {
  const useTime = fs.existsSync('/usr/bin/time');
  const start = process.hrtime.bigint();
  const r = useTime
    ? spawnSync('/usr/bin/time', ['-f', 'PEAK_RSS_KIB=%M', command, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 })
    : spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const rss = /PEAK_RSS_KIB=(\d+)/.exec(r.stderr ?? '');
  return { ms, rssKiB: rss ? Number(rss[1]) : null, stdout: r.stdout ?? '', status: r.status, stderr: (r.stderr ?? '').replace(/PEAK_RSS_KIB=\d+\n?/, '') };
}

/** An embedded vault holding the dump's canaries, exposed to ten export channels of 1,000 each. */
async function benchVault(dir: string, d: DumpDescription): Promise<void> {
  const db = await openDatabase(dir, { role: 'vault', create: true });
  try {
    await migrate(db);
    await vault.ensureHospital(db, 'bench', 'zh-CN');
    const at = new Date('2026-11-28T00:00:00Z');
    for (let start = 0, n = 0; start < d.canaries.length; start += 1000, n++) {
      const part = d.canaries.slice(start, start + 1000);
      const batchId = `bench-batch-${n}`;
      await db.transaction(async (tx) => {
        await vault.recordBatchIntent(tx, { id: batchId, hospital: 'bench', rotationId: null, ward: null, channels: [] }, part.map((c) => ({ id: c.id, family: c.family, isoWeek: '2026-W48' })));
        await vault.markBatchPlanted(tx, batchId, new Map(part.map((c) => [c.id, {}])), at);
        const channelId = await vault.ensureChannel(tx, 'bench', { kind: 'export', name: `partner-${n}` });
        await vault.addExposures(tx, part.map((c) => ({ canaryId: c.id, channelId, exposedAt: at, source: 'bench' })));
      });
    }
  } finally {
    await db.close();
  }
}

/** The first `bytes` of the dump, cut at a line end. */
function headOf(file: string, bytes: number, out: string): void {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(bytes);
  const n = fs.readSync(fd, buf, 0, bytes, 0);
  fs.closeSync(fd);
  fs.writeFileSync(out, buf.subarray(0, buf.lastIndexOf(0x0a, n - 1) + 1));
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  console.log(`Cradle scan benchmark — node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
  const t0 = Date.now();
  const { file, description: d } = await ensureDump(flags.data, { bytes: flags.bytes, minRows: flags.rows, canaries: flags.canaries, seed: 20261128 });
  console.log(`dump ${path.relative(process.cwd(), file)}: ${fmtInt(d.bytes)} bytes (${(d.bytes / 2 ** 30).toFixed(2)} GiB), ${fmtInt(d.rows)} rows, ${fmtInt(d.canaries.length)} canaries planted (${((Date.now() - t0) / 1000).toFixed(1)} s to make or check)`);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cradle-bench-scan-'));
  try {
    const vaultDir = path.join(work, 'vault');
    await benchVault(vaultDir, d);
    const patterns = path.join(work, 'patterns.txt');
    fs.writeFileSync(patterns, d.patterns.join('\n') + '\n');
    const small = path.join(work, 'small.csv');
    headOf(file, 1 << 20, small);
    const cradle = path.join(PACKAGE_ROOT, 'bin', 'cradle');
    const plainLines = new Set(d.canaries.filter((c) => PLANT_FORMATS.find((f) => f.name === c.format)?.plain).map((c) => c.line));

    const rg = ripgrep();
    const rgRuns: number[] = [];
    let rgCount = 0;
    if (rg) {
      measure(rg, ['-F', '-c', '-f', patterns, file]); // warm the page cache
      for (let i = 0; i < flags.runs; i++) {
        const r = measure(rg, ['-F', '-c', '-f', patterns, file]);
        rgRuns.push(r.ms);
        rgCount = Number(r.stdout.trim() || 0);
      }
    } else console.log('ripgrep is not installed and could not be installed: its column is empty');

    const scanRuns: number[] = [];
    let rss = 0;
    let found = new Set<string>();
    for (let i = 0; i < flags.runs; i++) {
      const r = measure(process.execPath, [cradle, 'scan', file, '--vault', vaultDir, '--json']);
      // 3: canaries found (0: none), both a finished scan.
      if (r.status !== 0 && r.status !== 3) throw new Error(`cradle scan failed (${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      scanRuns.push(r.ms);
      rss = Math.max(rss, r.rssKiB ?? 0);
      found = new Set((JSON.parse(r.stdout) as { canaries: { id: string }[] }).canaries.map((c) => c.id));
    }
    // The 1 MiB file as the CLI reads it by default (on one thread: it is under 16 MiB), and on the
    // same two worker threads as the dump, for memory flat in the file size at equal settings.
    const smallRun = measure(process.execPath, [cradle, 'scan', small, '--vault', vaultDir, '--json']);
    const smallThreads = os.availableParallelism();
    const smallWorkers = measure(process.execPath, [cradle, 'scan', small, '--vault', vaultDir, '--json', '--threads', String(smallThreads)]);

    const planted = new Set(d.canaries.map((c) => c.id));
    const recall = [...planted].filter((id) => found.has(id)).length / planted.size;
    const falseFinds = [...found].filter((id) => !planted.has(id)).length;
    const perFormat = PLANT_FORMATS.map((f) => {
      const of = d.canaries.filter((c) => c.format === f.name);
      return [f.name, fmtInt(of.length), `${((100 * of.filter((c) => found.has(c.id)).length) / of.length).toFixed(1)}%`, f.plain ? 'yes' : 'no'];
    });
    console.log();
    console.log('planted formats (cradle scan recall per format; which ripgrep can find):');
    console.log(textTable(['format', 'canaries', 'cradle found', 'rg pattern'], perFormat));
    const mbps = (ms: number) => (d.bytes / 2 ** 20) / (ms / 1000);
    const scanMs = median(scanRuns);
    const rgMs = rgRuns.length ? median(rgRuns) : NaN;
    console.log();
    console.log(textTable(
      ['tool', 'runs ms', 'median ms', 'MiB/s', 'recall', 'peak RSS MiB'],
      [
        ['cradle scan', scanRuns.map(fmtMs).join(', '), fmtMs(scanMs), mbps(scanMs).toFixed(0), `${(recall * 100).toFixed(2)}% (${fmtInt(found.size - falseFinds)}/${fmtInt(planted.size)}, ${falseFinds} false)`, (rss / 1024).toFixed(0)],
        ['rg -F -c -f', rgRuns.map(fmtMs).join(', ') || '-', rgRuns.length ? fmtMs(rgMs) : '-', rgRuns.length ? mbps(rgMs).toFixed(0) : '-', rgRuns.length ? `${((100 * Math.min(rgCount, plainLines.size)) / planted.size).toFixed(2)}% (${fmtInt(rgCount)} lines)` : '-', '-'],
        ['cradle scan, 1 MiB head', fmtMs(smallRun.ms), fmtMs(smallRun.ms), '-', '-', ((smallRun.rssKiB ?? 0) / 1024).toFixed(0)],
        [`  same, --threads ${smallThreads}`, fmtMs(smallWorkers.ms), fmtMs(smallWorkers.ms), '-', '-', ((smallWorkers.rssKiB ?? 0) / 1024).toFixed(0)],
      ],
    ));
    console.log();
    if (rgRuns.length) console.log(`throughput ratio cradle/ripgrep: ${(rgMs / scanMs).toFixed(2)} (goal ≥ 0.5)`);
    if (rss && smallRun.rssKiB && smallWorkers.rssKiB) {
      console.log(`peak RSS, 1 GiB dump − 1 MiB file on the same ${smallThreads} worker threads: ${((rss - smallWorkers.rssKiB) / 1024).toFixed(0)} MiB (goal ≤ 100)`);
      console.log(`peak RSS, 1 GiB dump − 1 MiB file read on one thread (the default under 16 MiB): ${((rss - smallRun.rssKiB) / 1024).toFixed(0)} MiB (the worker threads' own heaps)`);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
