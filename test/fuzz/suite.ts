import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from '@jest/globals';
import { TEST_TMP } from '../helpers/db.js';
import { describeFinding, envCases, envSeed, findingClasses, fuzzTarget, type FuzzTarget } from './harness.js';

// The bounded fuzz run of the slow tier (`npm run test:slow`, CI): per target a fixed number of cases from a fixed seed
// (FUZZ_SEED and FUZZ_CASES override), asserting the whole rule: zero findings. A failure lists each
// class of finding once with an example; the inputs are saved under .test-tmp/<run>/fuzz-findings.

export function fuzzEach(targets: readonly FuzzTarget<never>[], cases: Record<string, number> | number): void {
  for (const target of targets) {
    const n = envCases(typeof cases === 'number' ? cases : cases[target.name]);
    it(`${target.name}: ${n} fuzzed inputs end in a stored result, a warning or a one-line user error, within budget`, async () => {
      const report = await fuzzTarget(target, { cases: n, seed: envSeed(), findingsDir: path.join(TEST_TMP, 'fuzz-findings') });
      // The measurement the run is for: cases, time, budget used (also in .test-tmp/<run>/fuzz-summary.txt).
      const line = `${target.name}: ${report.cases} cases in ${(report.totalMs / 1000).toFixed(1)} s, budget used ${(report.budgetUsed * 100).toFixed(1)}% (worst case ${(report.worstBudget * 100).toFixed(0)}%), ${report.findings.length} findings, outcomes ${JSON.stringify(report.outcomes)}\n`;
      fs.appendFileSync(path.join(TEST_TMP, 'fuzz-summary.txt'), line);
      const classes = findingClasses(report.findings).map((c) => `${c.count} × ${c.key}\n    e.g. ${describeFinding(c.example)}`);
      expect(classes).toEqual([]);
      expect(report.cases).toBe(n);
    }, 900_000);
  }
}
