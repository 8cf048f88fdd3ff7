import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomMobile } from '../../src/demo/setup.js';
import { createRandom } from '../../src/lib/generate/index.js';
import * as vault from '../../src/vault/index.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';
import { simulateLife } from './lifecycle.js';

// The name space over a vault's life (issue 12): 100,000 canaries, 2,000 a week for 50 weeks, each
// week's canaries retired the next week and their numbers cooling down 28 days before they are
// handed out again, so every number is held by several canaries in turn. Under the old rule (no
// parent within one edit of any canary ever planted) zh-CN generation failed after about 3,000.
// CRADLE_LIFE_WEEKS and CRADLE_LIFE_PER_WEEK shrink it for a quick look.

const WEEKS = Number(process.env.CRADLE_LIFE_WEEKS ?? 50);
const PER_WEEK = Number(process.env.CRADLE_LIFE_PER_WEEK ?? 2_000);
const COOLDOWN_DAYS = 28;

describe('a vault\'s whole life of canary names (PGlite)', () => {
  let h: TestHospital & { trapNumbers: string[] };
  beforeAll(async () => {
    h = await createTestHospital({ backend: 'pglite', schema: 'reference', population: 200, trapNumbers: 0, seed: 'life' });
    // Numbers for the weeks in flight: this week's, last week's (retired now) and four weeks of cool-down, with room.
    const rng = createRandom('life:pool');
    const numbers = new Set<string>();
    while (numbers.size < Math.ceil(PER_WEEK * 2 * (COOLDOWN_DAYS / 7 + 3))) numbers.add(randomMobile(rng));
    await vault.addTrapNumbers(h.vault, [...numbers].map((e164) => ({ e164, region: 'CN' })), { hospital: null, burnInUntil: null });
  }, 300_000);
  afterAll(async () => h?.close());

  it(`plants ${WEEKS * PER_WEEK} canaries without generation failing, no number's holders confusable`, async () => {
    const started = process.cpuUsage();
    const t0 = Date.now();
    const life = await simulateLife(h, {
      weeks: WEEKS,
      perWeek: PER_WEEK,
      cooldownDays: COOLDOWN_DAYS,
      start: new Date('2024-01-01T02:00:00Z'),
      seed: 'life',
      onWeek: (week, planted) => {
        if ((week + 1) % 10 === 0) process.stdout.write(`week ${week + 1}: ${planted} canaries, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
      },
    });
    const cpu = process.cpuUsage(started);
    process.stdout.write(`${JSON.stringify({ ...life, cpuSeconds: Math.round((cpu.user + cpu.system) / 1e6), wallSeconds: Math.round((Date.now() - t0) / 1000) })}\n`);
    expect(life.canaries).toBe(WEEKS * PER_WEEK);
    expect(life.confusedPairs).toBe(0);
    expect(life.reusedNumbers).toBeGreaterThan(0);
    // Popular whole names repeat among the canaries live at one time, as among real patients.
    expect(life.repeatedLiveNames).toBeGreaterThan(0);
  }, 3_600_000);
});
