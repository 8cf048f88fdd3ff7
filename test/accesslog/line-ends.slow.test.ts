import { performance } from 'node:perf_hooks';
import { describe, expect, it } from '@jest/globals';
import { parseAccessLog } from '../../src/accesslog/parse.js';
import type { ParseOptions } from '../../src/domain/access.js';

// The slow tier: long access-log lines are read in time linear in their length (issue 13, U6). These
// are ratios of timings, so they sit apart from the value checks of line-ends.test.ts.

async function read(input: Buffer, options: ParseOptions): Promise<void> {
  const size = 1 << 16;
  async function* chunks() {
    for (let i = 0; i < input.length; i += size) yield input.subarray(i, i + size);
  }
  for await (const item of parseAccessLog(chunks(), options)) void item;
}

describe('long lines', () => {
  /** Best of three runs, in ms. */
  const time = async (input: Buffer, options: ParseOptions) => {
    let best = Infinity;
    for (let run = 0; run < 3; run++) {
      const t = performance.now();
      await read(input, options);
      best = Math.min(best, performance.now() - t);
    }
    return Math.max(best, 5);
  };

  it('reads one very long line in time linear in its length (FHIR and CSV)', async () => {
    const fhir = (n: number) => Buffer.from(JSON.stringify({ resourceType: 'AuditEvent', recorded: '2026-11-03T08:00:00Z', agent: [{ who: { identifier: { value: 'u1' } }, requestor: true }], entity: [{ what: { reference: 'Patient/1' } }], subtype: [{ code: 'read' }], source: { observer: { display: 'x'.repeat(n) } } }) + '\n');
    const csv = (n: number) => Buffer.from(`ts,user,action\n2026-11-03 08:00:00,${'u'.repeat(n)},view\n`);
    for (const [build, format] of [[fhir, 'fhir'], [csv, 'csv']] as const) {
      const options: ParseOptions = { format, timeZone: 'UTC', source: 'long' };
      const small = await time(build(1 << 20), options);
      const large = await time(build(8 << 20), options);
      // Linear: about 8; the rescanning reader took 180 times as long for FHIR and 54 for CSV.
      expect(`${format}: ${(large / small).toFixed(1)}`).toMatch(new RegExp(`^${format}: ([0-9]|1[0-9]|2[0-4])\\.`));
    }
  });

  it('reads a quoted field of doubled quotes in linear time', async () => {
    const build = (n: number) => Buffer.from(`ts,user,action\n2026-11-03 08:00:00,"${'""'.repeat(n)}",view\n`);
    const options: ParseOptions = { format: 'csv', timeZone: 'UTC', source: 'quotes.csv' };
    const ratio = (await time(build(1 << 20), options)) / (await time(build(1 << 17), options));
    expect(ratio).toBeLessThan(24);
  });
});
