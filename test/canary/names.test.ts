import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { readOnly } from '../../src/db/index.js';
import { draftCanaries, type DraftRequest } from '../../src/canary/draft.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import * as vault from '../../src/vault/index.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';
import { describeEachTarget, schemaOf, TARGET_CASES } from '../helpers/targets.js';
import { simulateLife } from './lifecycle.js';

// Which canary names must differ: those of the earlier holders of the same trap number (triage tells
// a number's holders apart by the name a contact gives), and nothing else. Popular whole names may
// repeat among a hospital's live canaries on other numbers, as they do among real patients.

describeEachTarget(TARGET_CASES, 'canary names per trap number on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  const now = new Date('2026-11-25T10:00:00Z');
  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: schemaOf(backend), population: 30, trapNumbers: 40, seed: 'names' });
  }, 60_000);
  afterAll(async () => h?.close());

  const request = (seed: string): DraftRequest => ({ hospital: h.hospital, mapping: h.mapping, count: 1, ward: () => '产科一病区', now, seed, ...birthWindow(now) });
  const draft = (seed: string) => readOnly(h.target, (tx) => draftCanaries(h.vault, tx, request(seed)));
  const numberId = async (e164: string) => (await vault.listTrapNumbers(h.vault)).find((n) => n.e164 === e164)!.id;

  it('never gives a parent a number whose earlier holder had the same name, and repeats names across numbers', async () => {
    // Draft once to learn which name and number seed "s1" gives the mother.
    const first = await draft('s1');
    const mother = first.families[0].mother;
    const wanted = mother.phone!;

    // Plant it for real, with the same seed: a live canary of this hospital now holds that name and number.
    const planted = await plantCanaries(h.vault, h.target, {
      hospital: h.hospital, mapping: h.mapping, count: 1, ward: '产科一病区', channels: [h.hospital.seedChannel], seed: 's1', now, isoWeek: '2026-W48', ...birthWindow(now),
    });
    expect(planted.planted[0].family.mother.name.full).toBe(mother.name.full);
    expect(planted.planted[0].family.mother.phone).toBe(wanted);
    const held = await vault.earlierHolderNames(h.vault, [await numberId(wanted)]);
    expect([...held.values()].flat().map((n) => n.full)).toContain(mother.name.full);

    // Same seed again: the same names are drawn (no vault-wide rule redraws them) on other numbers.
    const again = await draft('s1');
    expect(again.families[0].mother.name.full).toBe(mother.name.full);
    expect(again.families[0].mother.phone).not.toBe(wanted);

    // The number comes back to the pool (its canary retired, no cool-down): still never to a parent named alike.
    const id = planted.planted[0].id;
    await h.vault.transaction(async (tx) => vault.retireNumbersOf(tx, [id], now, 0));
    await vault.refreshPool(h.vault, now);
    expect((await vault.availableNumbers(h.vault, h.hospital.name, 'CN')).map((n) => n.e164)).toContain(wanted);
    const later = await draft('s1');
    expect(later.families[0].mother.name.full).toBe(mother.name.full);
    expect(later.families[0].mother.phone).not.toBe(wanted);
    expect(later.assignments.map((a) => a.numberId)).not.toContain(await numberId(wanted));
  });

  it('keeps every number\'s holders apart over many reuses', async () => {
    // 40 numbers (a few used above), no cool-down: every week hands the same numbers out again.
    const life = await simulateLife(h, { weeks: 10, perWeek: 8, cooldownDays: 0, start: new Date('2026-12-07T02:00:00Z'), seed: 'life' });
    expect(life.canaries).toBe(80);
    expect(life.reusedNumbers).toBeGreaterThan(10);
    expect(life.maxHolders).toBeGreaterThan(3);
    expect(life.confusedPairs).toBe(0);
  }, 120_000);
});
