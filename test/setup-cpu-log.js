// With CRADLE_TEST_CPU_LOG=<file>, each test file appends "<file>\t<CPU seconds>\t<wall seconds>" to it:
// what a file costs in its worker, child processes and servers aside. For finding what makes the suite
// slow (`sort -t$'\t' -k2 -nr <file>`); figures, not assertions.
import fs from 'node:fs';
import { afterAll, expect } from '@jest/globals';

const start = process.cpuUsage();
const began = Date.now();
afterAll(() => {
  const used = process.cpuUsage(start);
  const line = `${expect.getState().testPath}\t${((used.user + used.system) / 1e6).toFixed(2)}\t${((Date.now() - began) / 1000).toFixed(1)}\n`;
  fs.appendFileSync(process.env.CRADLE_TEST_CPU_LOG, line);
});
