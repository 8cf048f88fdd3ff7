import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import iconv from 'iconv-lite';
import { migrate, openDatabase } from '../src/db/index.js';
import { PACKAGE_ROOT } from '../src/lib/paths.js';
import * as vault from '../src/vault/index.js';
import { ensureDump, PLANT_FORMATS, type DumpDescription } from './scan-dump.js';
import { fmtInt, fmtMs, median, textTable } from './instrument.js';

// `npm run bench:scan`: `cradle scan` on a deterministic 1 GiB CSV dump with canaries planted in mixed
// formats (2,000, then 10,000: a dump each), against ripgrep searching the same file for the canaries'
// plain digit strings (`rg -F -c -f patterns.txt`), in the same run; then the same dump in GB18030.
// Prints throughput, recall, peak memory and the ratios against their goals; asserts nothing.
//
//   node dist/bench/scan.js [--bytes N] [--rows N] [--canaries K[,K…]] [--runs R] [--no-gbk] [--data DIR]

const USAGE = 'usage: node dist/bench/scan.js [--bytes N] [--rows N] [--canaries K[,K…]] [--runs R] [--no-gbk] [--data DIR]';

interface Flags { bytes: number; rows: number; canaries: number[]; runs: number; gbk: boolean; data: string }

/** Issue 18's goals: cradle scan's throughput over ripgrep's, by the number of canaries. */
const GOALS: Record<number, number> = { 2000: 1.0, 10_000: 1.2 };

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { bytes: 2 ** 30, rows: 8_000_000, canaries: [2000, 10_000], runs: 3, gbk: true, data: path.join(PACKAGE_ROOT, 'bench', '.data') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--no-gbk') {
      flags.gbk = false;
      continue;
    }
    const [name, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const value = inline ?? argv[++i];
    if (name === '--data') flags.data = path.resolve(value ?? '');
    else if (name === '--canaries') {
      const list = (value ?? '').split(',').map((v) => Number(v.replace(/_/g, '')));
      if (!list.length || list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--canaries needs whole numbers of at least 1, comma-separated (got ${value})\n${USAGE}`);
      flags.canaries = list;
    } else if (['--bytes', '--rows', '--runs'].includes(name)) {
      const n = Number(value?.replace(/[_,]/g, ''));
      if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a whole number of at least 1 (got ${value})\n${USAGE}`);
      flags[name.slice(2) as 'bytes' | 'rows' | 'runs'] = n;
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

/** The dump in GB18030 (as a Chinese hospital system exports it), made once next to it. */
async function gbkCopy(file: string): Promise<string> {
  const out = file.replace(/\.csv$/, '.gb18030.csv');
  if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= fs.statSync(file).mtimeMs) return out;
  const partial = `${out}.partial`;
  await pipeline(fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 }), iconv.encodeStream('gb18030'), fs.createWriteStream(partial));
  fs.renameSync(partial, out);
  return out;
}

interface ToolRuns { runs: number[]; median: number; rssKiB: number; found: Set<string>; rgCount: number }

function runRipgrep(rg: string, patterns: string, file: string, runs: number): ToolRuns {
  measure(rg, ['-F', '-c', '-f', patterns, file]); // warm the page cache
  const out: ToolRuns = { runs: [], median: NaN, rssKiB: 0, found: new Set(), rgCount: 0 };
  for (let i = 0; i < runs; i++) {
    const r = measure(rg, ['-F', '-c', '-f', patterns, file]);
    out.runs.push(r.ms);
    out.rgCount = Number(r.stdout.trim() || 0);
  }
  out.median = median(out.runs);
  return out;
}

function runScan(cradle: string, vaultDir: string, file: string, runs: number): ToolRuns {
  const out: ToolRuns = { runs: [], median: NaN, rssKiB: 0, found: new Set(), rgCount: 0 };
  for (let i = 0; i < runs; i++) {
    const r = measure(process.execPath, [cradle, 'scan', file, '--vault', vaultDir, '--json']);
    // 3: canaries found (0: none), both a finished scan.
    if (r.status !== 0 && r.status !== 3) throw new Error(`cradle scan failed (${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    out.runs.push(r.ms);
    out.rssKiB = Math.max(out.rssKiB, r.rssKiB ?? 0);
    out.found = new Set((JSON.parse(r.stdout) as { canaries: { id: string }[] }).canaries.map((c) => c.id));
  }
  out.median = median(out.runs);
  return out;
}

/** One dump (`canaries` planted): UTF-8, then GB18030; returns the summary lines. */
async function benchDump(flags: Flags, canaries: number, rg: string | null): Promise<string[]> {
  const t0 = Date.now();
  const { file, description: d } = await ensureDump(flags.data, { bytes: flags.bytes, minRows: flags.rows, canaries, seed: 20261128 });
  console.log();
  console.log(`dump ${path.relative(process.cwd(), file)}: ${fmtInt(d.bytes)} bytes (${(d.bytes / 2 ** 30).toFixed(2)} GiB), ${fmtInt(d.rows)} rows, ${fmtInt(d.canaries.length)} canaries planted (${((Date.now() - t0) / 1000).toFixed(1)} s to make or check; load average ${os.loadavg()[0].toFixed(1)})`);
  const summary: string[] = [];
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
    const planted = new Set(d.canaries.map((c) => c.id));
    const goal = GOALS[canaries];

    const variants: { label: string; file: string; bytes: number }[] = [{ label: 'UTF-8', file, bytes: d.bytes }];
    if (flags.gbk) {
      const gbk = await gbkCopy(file);
      variants.push({ label: 'GB18030', file: gbk, bytes: fs.statSync(gbk).size });
    }
    for (const v of variants) {
      const rgRuns = rg ? runRipgrep(rg, patterns, v.file, flags.runs) : null;
      if (!rg) console.log('ripgrep is not installed and could not be installed: its column is empty');
      const scan = runScan(cradle, vaultDir, v.file, flags.runs);
      const recall = [...planted].filter((id) => scan.found.has(id)).length / planted.size;
      const falseFinds = [...scan.found].filter((id) => !planted.has(id)).length;
      const mbps = (ms: number) => (v.bytes / 2 ** 20) / (ms / 1000);
      const rows: string[][] = [
        [`cradle scan (${v.label})`, scan.runs.map(fmtMs).join(', '), fmtMs(scan.median), mbps(scan.median).toFixed(0), `${(recall * 100).toFixed(2)}% (${fmtInt(scan.found.size - falseFinds)}/${fmtInt(planted.size)}, ${falseFinds} false)`, (scan.rssKiB / 1024).toFixed(0)],
        [`rg -F -c -f (${v.label})`, rgRuns?.runs.map(fmtMs).join(', ') || '-', rgRuns ? fmtMs(rgRuns.median) : '-', rgRuns ? mbps(rgRuns.median).toFixed(0) : '-', rgRuns ? `${((100 * Math.min(rgRuns.rgCount, plainLines.size)) / planted.size).toFixed(2)}% (${fmtInt(rgRuns.rgCount)} lines)` : '-', '-'],
      ];
      if (v.label === 'UTF-8') {
        // The 1 MiB file as the CLI reads it by default (on one thread: it is under 16 MiB), and on the
        // same worker threads as the dump, for memory flat in the file size at equal settings.
        const smallRun = measure(process.execPath, [cradle, 'scan', small, '--vault', vaultDir, '--json']);
        const smallThreads = os.availableParallelism();
        const smallWorkers = measure(process.execPath, [cradle, 'scan', small, '--vault', vaultDir, '--json', '--threads', String(smallThreads)]);
        rows.push(['cradle scan, 1 MiB head', fmtMs(smallRun.ms), fmtMs(smallRun.ms), '-', '-', ((smallRun.rssKiB ?? 0) / 1024).toFixed(0)]);
        rows.push([`  same, --threads ${smallThreads}`, fmtMs(smallWorkers.ms), fmtMs(smallWorkers.ms), '-', '-', ((smallWorkers.rssKiB ?? 0) / 1024).toFixed(0)]);
        console.log();
        console.log(`planted formats (cradle scan recall per format; which ripgrep can find), ${fmtInt(canaries)} canaries:`);
        console.log(textTable(['format', 'canaries', 'cradle found', 'rg pattern'], PLANT_FORMATS.map((f) => {
          const of = d.canaries.filter((c) => c.format === f.name);
          return [f.name, fmtInt(of.length), `${((100 * of.filter((c) => scan.found.has(c.id)).length) / of.length).toFixed(1)}%`, f.plain ? 'yes' : 'no'];
        })));
        if (scan.rssKiB && smallWorkers.rssKiB && smallRun.rssKiB) {
          summary.push(`${fmtInt(canaries)} canaries: peak RSS, dump − 1 MiB file on the same ${smallThreads} worker threads: ${((scan.rssKiB - smallWorkers.rssKiB) / 1024).toFixed(0)} MiB (goal ≤ 100); − 1 MiB read on one thread: ${((scan.rssKiB - smallRun.rssKiB) / 1024).toFixed(0)} MiB (the worker threads' own heaps)`);
        }
      }
      console.log();
      console.log(textTable(['tool', 'runs ms', 'median ms', 'MiB/s', 'recall', 'peak RSS MiB'], rows));
      if (rgRuns) summary.push(`${fmtInt(canaries)} canaries, ${v.label}: throughput ratio cradle/ripgrep ${(rgRuns.median / scan.median).toFixed(2)}${goal ? ` (goal ≥ ${goal.toFixed(1)}: ${rgRuns.median / scan.median >= goal ? 'met' : 'not met'})` : ''}, recall ${(recall * 100).toFixed(2)}%`);
    }
  } finally {
    // CRADLE_BENCH_KEEP=1 keeps the vault and the 1 MiB head for profiling a scan by hand.
    if (process.env.CRADLE_BENCH_KEEP) console.log(`kept ${work} (vault/, small.csv, patterns.txt)`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
  return summary;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  console.log(`Cradle scan benchmark — node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
  const rg = ripgrep();
  const summary: string[] = [];
  for (const canaries of flags.canaries) summary.push(...(await benchDump(flags, canaries, rg)));
  console.log();
  for (const line of summary) console.log(line);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
