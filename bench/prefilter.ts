import fs from 'node:fs';
import path from 'node:path';
import iconv from 'iconv-lite';
import { PACKAGE_ROOT } from '../src/lib/paths.js';
import { BytePrefilter } from '../src/lib/match/prefilter.js';
import { signatureOf } from '../src/lib/match/signature.js';
import { ensureDump } from './scan-dump.js';
import { parseArgs, UsageError } from './args.js';

// `npm run bench:prefilter`: the scan's byte pre-filter alone, one core, on the scan benchmark's dump
// (bench/scan-dump.ts, smaller by default): the JavaScript pass against the WebAssembly SIMD kernel
// with the JavaScript pass on the lines it names, in 2 MiB chunks of whole lines as `cradle scan`
// hands them to a worker. MB/s by CPU time (user + sys, so that other processes on the machine
// count little), UTF-8 and GB18030; checks that both give the same candidates.
//
//   node dist/bench/prefilter.js [--mb 256] [--canaries 2000] [--runs 3]

const USAGE = 'usage: node dist/bench/prefilter.js [--mb N] [--canaries N] [--runs N]';

function chunks(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let start = 0; start < bytes.length;) {
    let end = Math.min(bytes.length, start + (2 << 20));
    if (end < bytes.length) end = bytes.lastIndexOf(0x0a, end - 1) + 1;
    out.push(bytes.subarray(start, end));
    start = end;
  }
  return out;
}

function cpuSeconds(f: () => void): number {
  const before = process.cpuUsage();
  f();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

async function main(): Promise<void> {
  const flags = parseArgs(process.argv.slice(2), { mb: 256, canaries: 2000, runs: 3 }, { '--mb': 'mb', '--canaries': 'canaries', '--runs': 'runs' }, USAGE, () => false);
  const bytes = flags.mb * 2 ** 20;
  const { file, description } = await ensureDump(path.join(PACKAGE_ROOT, 'bench', '.data'), { bytes, minRows: Math.round(flags.mb * 7812.5), canaries: flags.canaries, seed: 20261128 });
  const signatures = description.canaries.map((c) => signatureOf(c.id, c.family));
  const utf8 = fs.readFileSync(file);
  const gbFile = file.replace(/\.csv$/, '.gb18030.csv');
  if (!fs.existsSync(gbFile)) fs.writeFileSync(gbFile, iconv.encode(utf8.toString('utf8'), 'gb18030'));
  const gb = fs.readFileSync(gbFile);
  const prefilter = new BytePrefilter(signatures);
  console.log(`${description.canaries.length} canaries, dump ${(utf8.length / 1e6).toFixed(0)} MB (UTF-8), ${(gb.length / 1e6).toFixed(0)} MB (GB18030), load average ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  for (const [label, data, encoding] of [['UTF-8', utf8, 'utf-8'], ['GB18030', gb, 'gb18030']] as const) {
    const parts = chunks(data);
    const lines = { js: 0, kernel: 0 };
    const found = { js: [] as string[], kernel: [] as string[] };
    const best = { js: Infinity, kernel: Infinity };
    for (let run = 0; run < flags.runs; run++) {
      for (const kind of ['js', 'kernel'] as const) {
        const keep = run === 0;
        const seconds = cpuSeconds(() => {
          let base = 0;
          for (const part of parts) {
            const r = kind === 'js' ? prefilter.scanJs(part, 1 << 19, encoding) : prefilter.scan(part, 1 << 19, encoding);
            if (keep) for (const c of r.candidates) found[kind].push(`${base + c.line}:${c.at}`);
            base += r.lines;
          }
          lines[kind] = base;
        });
        best[kind] = Math.min(best[kind], seconds);
      }
    }
    const same = lines.js === lines.kernel && found.js.length === found.kernel.length && found.js.every((f, k) => f === found.kernel[k]);
    const mbs = (s: number) => (data.length / 1e6 / s).toFixed(0);
    console.log(`${label}: JS ${mbs(best.js)} MB/s, kernel ${mbs(best.kernel)} MB/s a core (best of ${flags.runs}, CPU time); ${found.js.length} candidate lines of ${lines.js}; ${same ? 'same candidates' : 'CANDIDATES DIFFER'}`);
    if (!same) process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof UsageError ? err.message : `bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
