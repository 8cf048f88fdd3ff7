import { readOnly } from '../../src/db/index.js';
import { draftCanaries } from '../../src/canary/draft.js';
import { confusable } from '../../src/lib/generate/index.js';
import { birthWindow } from '../../src/seed/index.js';
import * as vault from '../../src/vault/index.js';
import type { TestHospital } from '../helpers/hospital.js';

// Weekly rotations in the vault only: each week drafts `perWeek` canaries with the real drafting
// (the real vault query for the earlier holders' names, the real target look-ups), records them and
// their trap numbers as a rotation would, and retires the week before's, whose numbers cool down for
// `cooldownDays`. The target does not get the rows, to keep 100,000 canaries within minutes: names
// are what is measured here (a number found in its earlier canaries' target rows: reuse.test.ts).

export interface LifeResult {
  canaries: number;
  weeks: number;
  /** Trap numbers held by two or more canaries over the run, and the most holders of one number. */
  reusedNumbers: number;
  maxHolders: number;
  /** Most whole mother names shared by two or more canaries live at the same time (realism: popular names repeat). */
  repeatedLiveNames: number;
  /** Pairs of holders of one number whose names could be confused: must be 0. */
  confusedPairs: number;
}

export async function simulateLife(
  h: TestHospital,
  opts: { weeks: number; perWeek: number; cooldownDays: number; start: Date; seed: string; onWeek?: (week: number, planted: number) => void },
): Promise<LifeResult> {
  let previous: string[] = [];
  let planted = 0;
  let repeatedLiveNames = 0;
  const weeksLive: string[][] = [];
  for (let week = 0; week < opts.weeks; week++) {
    const now = new Date(opts.start.getTime() + week * 7 * 86_400_000);
    await vault.refreshPool(h.vault, now);
    const draft = await readOnly(h.target, (tx) =>
      draftCanaries(h.vault, tx, { hospital: h.hospital, mapping: h.mapping, count: opts.perWeek, ward: (rng) => rng.pick(h.hospital.wards), now, seed: `${opts.seed}:${week}`, ...birthWindow(now) }),
    );
    const ids = draft.families.map((_, i) => `w${week}c${i}`);
    const idOf = new Map(draft.families.map((f, i) => [f, ids[i]]));
    const iso = `S-${String(week).padStart(4, '0')}`;
    await h.vault.transaction(async (tx) => {
      await vault.blockNumbers(tx, draft.blocked.map((b) => b.id), 'in the target');
      await vault.recordBatchIntent(tx, { id: `b${week}`, hospital: h.hospital.name, rotationId: null, ward: null, channels: ['system:his'] }, draft.families.map((family, i) => ({ id: ids[i], family, isoWeek: iso })));
      const ok = await vault.assignNumbers(tx, draft.assignments.map((a) => ({ numberId: a.numberId, canaryId: idOf.get(a.family)!, role: a.role })), now);
      if (!ok) throw new Error('numbers taken twice');
      await vault.retireNumbersOf(tx, previous, now, opts.cooldownDays);
    });
    // Live: assigned, or retired and still cooling down: the weeks of the last cooldownDays and this one.
    weeksLive.push(draft.families.map((f) => f.mother.name.full));
    if (weeksLive.length > Math.ceil(opts.cooldownDays / 7) + 2) weeksLive.shift();
    const seen = new Map<string, number>();
    for (const names of weeksLive) for (const n of names) seen.set(n, (seen.get(n) ?? 0) + 1);
    repeatedLiveNames = Math.max(repeatedLiveNames, [...seen.values()].filter((k) => k > 1).length);
    previous = ids;
    planted += ids.length;
    opts.onWeek?.(week, planted);
  }
  const numbers = await vault.listTrapNumbers(h.vault);
  const holders = await vault.earlierHolderNames(h.vault, numbers.map((n) => n.id));
  const { rows } = await h.vault.query<{ n: number; max: number }>(
    `SELECT count(*) FILTER (WHERE k > 1)::int AS n, coalesce(max(k), 0)::int AS max FROM (SELECT count(*) AS k FROM trap_assignments GROUP BY trap_number_id) q`,
  );
  let confusedPairs = 0;
  for (const names of holders.values()) {
    for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) if (names[i].canaryId !== names[j].canaryId && confusable(names[i], names[j])) confusedPairs++;
  }
  return { canaries: planted, weeks: opts.weeks, reusedNumbers: rows[0].n, maxHolders: rows[0].max, repeatedLiveNames, confusedPairs };
}
