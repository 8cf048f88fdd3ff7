import { createRandom } from '../src/lib/generate/index.js';
import { CanaryMatcher } from '../src/lib/match/matcher.js';
import { PLANTS, render, syntheticFamilies } from '../test/lib/match/synthetic.js';
import { fmtInt } from './instrument.js';
import { parseArgs, UsageError } from './args.js';

// `npm run bench:matcher`: the canary matcher alone, in plain Node, on records of the matcher test's
// 10,000 synthetic canaries and 10,000 families that are not canaries (test/lib/match/synthetic.ts):
// MB/s of UTF-8 over a pool of 20,000 records (one in 500 a canary's) read until --mb megabytes, and
// what it made of 10,000 records of real families. Prints figures; asserts nothing (the test does).
//
//   node dist/bench/matcher.js [--mb 50] [--runs 3]

const USAGE = 'usage: node dist/bench/matcher.js [--mb N] [--runs N]';

function main(): void {
  const flags = parseArgs(process.argv.slice(2), { mb: 50, runs: 3 }, { '--mb': 'mb', '--runs': 'runs' }, USAGE, () => false);
  const built = process.hrtime.bigint();
  const { canaries, signatures, real } = syntheticFamilies();
  const matcher = new CanaryMatcher(signatures);
  console.log(`${fmtInt(canaries.length)} canaries indexed in ${(Number(process.hrtime.bigint() - built) / 1e9).toFixed(1)} s (families generated and matcher built): ${JSON.stringify(matcher.sizes)}`);

  const rng = createRandom('scan-speed');
  const pool: string[] = [];
  for (let r = 0; r < 20_000; r++) {
    const f = r % 500 === 0 ? canaries[r % canaries.length] : real[r % real.length];
    pool.push(`${render(rng, f, r, rng.pick(PLANTS)).text},${f.admittedAt},${f.dischargedAt ?? ''}`);
  }
  const poolBytes = pool.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
  const rounds = Math.ceil((flags.mb * 1024 * 1024) / poolBytes);
  for (const line of pool) matcher.hits(line); // warm up
  for (let run = 1; run <= flags.runs; run++) {
    let hits = 0;
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < rounds; k++) for (const line of pool) hits += matcher.hits(line).length;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const mb = (poolBytes * rounds) / (1024 * 1024);
    console.log(`run ${run}: ${(mb / seconds).toFixed(1)} MB/s of UTF-8 (${mb.toFixed(0)} MB, ${fmtInt(pool.length * rounds)} records, ${seconds.toFixed(2)} s, ${fmtInt(hits)} hits)`);
  }

  // Records of families that are not canaries: names may match (names repeat), phones and mailboxes never.
  const stats = { records: 0, phoneOrEmail: 0, masked: 0, nameOnly: 0, severalNames: 0, maxConfidence: 0 };
  const records = createRandom('scan-real-records');
  for (let r = 0; r < 10_000; r++) {
    const { text } = render(records, real[r % real.length], r, records.pick(PLANTS));
    stats.records++;
    const hits = matcher.hits(text);
    if (hits.some((h) => h.kind === 'phone' || h.kind === 'email')) stats.phoneOrEmail++;
    if (hits.some((h) => h.kind === 'masked-phone')) stats.masked++;
    for (const m of matcher.matchRecord(text)) {
      stats.maxConfidence = Math.max(stats.maxConfidence, m.confidence);
      if (m.hits.every((h) => h.kind !== 'masked-phone')) stats.nameOnly++;
      if (new Set(m.hits.map((h) => h.value)).size > 1) stats.severalNames++;
    }
  }
  console.log(`real records: ${JSON.stringify(stats)}`);
}

try {
  main();
} catch (err) {
  console.error(err instanceof UsageError ? err.message : `bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(err instanceof UsageError ? 2 : 1);
}
