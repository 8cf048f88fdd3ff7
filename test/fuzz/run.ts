// `npm run fuzz`: the longer fuzz run on demand (compiled by tsc to dist/test/fuzz/run.js).
//   npm run fuzz -- --cases 20000 --seed night-1 --only logs-pgaudit,scan-xlsx --out fuzz-findings
// Options (or the environment): --cases/FUZZ_CASES per parser (default 2000), --seed/FUZZ_SEED,
// --only (parser names), --out (where findings' inputs are saved, default fuzz-findings),
// --max-field (largest inserted field in bytes, default 1 MiB), --no-growth. Prints per parser the
// cases, outcomes, findings and the time budget used; exits 1 when anything was found.
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PACKAGE_ROOT } from '../../src/lib/paths.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  // The test helpers copy a PGlite template from CRADLE_TEST_TMP: make one for this run first.
  const tmp = path.join(PACKAGE_ROOT, '.test-tmp', `run-${process.pid}`);
  fs.mkdirSync(path.join(tmp, 'pglite-template'), { recursive: true });
  const template = new PGlite(path.join(tmp, 'pglite-template'));
  await template.waitReady;
  await template.close();
  process.env.CRADLE_TEST_TMP = tmp;

  const { ALL_TARGETS } = await import('./targets.js');
  const { fuzzTarget, findingClasses, describeFinding, envSeed, envCases } = await import('./harness.js');
  const { GROWTH_CASES, measureGrowth } = await import('./growth.js');
  const cases = Number(option('cases') ?? envCases(2000));
  const seed = option('seed') ?? envSeed();
  const only = option('only')?.split(',');
  const out = path.resolve(option('out') ?? 'fuzz-findings');
  const maxField = Number(option('max-field') ?? 1 << 20);
  const targets = ALL_TARGETS.filter((t) => !only || only.includes(t.name));
  console.log(`fuzz: seed ${seed}, ${cases} cases per parser, ${targets.length} parsers, findings saved to ${out}`);
  let findings = 0;
  const started = Date.now();
  try {
    for (const target of targets) {
      const report = await fuzzTarget(target, {
        cases,
        seed,
        limits: { maxField, maxDepth: 20_000 },
        findingsDir: out,
        onCase: (n) => {
          if (process.stderr.isTTY && n % 50 === 0) process.stderr.write(`\r${target.name}: ${n}/${cases}`);
        },
      });
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
      const outcomes = Object.entries(report.outcomes).map(([k, n]) => `${k} ${n}`).join(', ');
      console.log(
        `${report.parser.padEnd(22)} ${String(report.cases).padStart(6)} cases  ${(report.totalMs / 1000).toFixed(1).padStart(7)} s  budget used ${(report.budgetUsed * 100).toFixed(1)}% (worst case ${(report.worstBudget * 100).toFixed(0)}%)  ${report.findings.length} findings  [${outcomes}]`,
      );
      for (const c of findingClasses(report.findings)) console.log(`    ${String(c.count).padStart(5)} × ${c.key}\n          e.g. ${describeFinding(c.example)}${c.example.file ? `\n          input: ${c.example.file}` : ''}`);
      findings += report.findings.length;
    }
    if (!process.argv.includes('--no-growth')) {
      console.log('growth (time at n and 8n bytes of one pathological pattern; linear work gives a ratio near 8):');
      for (const g of GROWTH_CASES.filter((c) => !only || only.includes(c.parser))) {
        const r = await measureGrowth(g);
        console.log(`  ${g.name.padEnd(44)} ${r.smallMs.toFixed(1).padStart(8)} ms → ${r.largeMs.toFixed(1).padStart(9)} ms  ratio ${r.ratio.toFixed(1).padStart(6)} (limit ${g.maxRatio ?? 24})${r.ok ? '' : '  SUPER-LINEAR'}`);
        if (!r.ok) findings++;
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`fuzz: ${findings} finding(s) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return findings ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err.stack);
    process.exit(2);
  },
);
