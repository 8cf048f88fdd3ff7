import type { Database } from '../db/index.js';
import { UserError } from '../lib/errors.js';
import type { HospitalConfig } from '../config/index.js';
import type { Mapping } from '../targetdb/mapping.js';
import { isoWeekRange } from '../lib/time.js';
import * as vault from '../vault/index.js';
import { plantCanaries, type PlannedCanary } from './plant.js';
import { weekPlan } from './week-plan.js';

// The weekly rotation: the plan says how many canaries each ward gets per ISO week. It drafts the
// week's families with their admission, birth and discharge in the coming days and records them in
// the vault as scheduled; it writes nothing to the target. `cradle canaries advance` (every few
// minutes from cron or a systemd timer) writes each event when it is due. Running the rotation twice
// for a week schedules nothing new; a run cut short is finished by the next one.

export interface RotateRequest {
  hospital: HospitalConfig;
  mapping: Mapping;
  week: string;
  now: Date;
  seed?: string;
}

export interface RotateResult {
  week: string;
  rotationId: number;
  plan: Record<string, number>;
  plantedNow: { ward: string; canaries: PlannedCanary[] }[];
  alreadyComplete: boolean;
  retired: number;
  warnings: string[];
}

export const DAY_MS = 86_400_000;

/** Births for canaries planted at `asOf` fall in the week before it, as real newborns in the records would. */
export function birthWindow(asOf: Date): { birthFrom: Date; birthTo: Date } {
  return { birthFrom: new Date(asOf.getTime() - 7 * DAY_MS), birthTo: new Date(asOf.getTime() - 6 * 3_600_000) };
}

/**
 * Births for canaries scheduled at `asOf` fall in the seven days that start late enough for the
 * admission (at most 30 hours before the birth) to be still to come. Weekly runs tile time: a window
 * ending 7 days after `asOf` left the 30 hours after each Monday's run without a canary birth, and
 * canaries' birth and admission weekdays told them apart.
 */
export function comingBirthWindow(asOf: Date): { birthFrom: Date; birthTo: Date } {
  const from = asOf.getTime() + 30 * 3_600_000;
  return { birthFrom: new Date(from), birthTo: new Date(from + 7 * DAY_MS - 1000) };
}

export async function rotate(vaultDb: Database, target: Database, req: RotateRequest): Promise<RotateResult> {
  const range = isoWeekRange(req.week, req.hospital.timeZone);
  if (range.start > req.now) throw new UserError(`week ${req.week} has not started yet; a rotation plants canaries for the current or a past week`);
  const asOf = range.end < req.now ? new Date(range.end.getTime() - 1) : req.now;

  // The plan (explicit perWard, or perWeek allocated by births with a floor per ward: week-plan.ts) is fixed by the week's first run.
  const { plan, warnings } = await weekPlan(vaultDb, target, req.hospital, req.mapping, req.week);
  const rotation = await vault.openRotation(vaultDb, req.hospital.name, req.week, plan);
  const done = await vault.plantedPerWard(vaultDb, rotation.id);
  const result: RotateResult = { week: req.week, rotationId: rotation.id, plan: rotation.plan, plantedNow: [], alreadyComplete: rotation.completed_at !== null, retired: 0, warnings };
  // jsonb does not keep key order: plant wards in the config's order.
  const wards = Object.keys(rotation.plan).sort((a, b) => req.hospital.wards.indexOf(a) - req.hospital.wards.indexOf(b));
  for (const ward of wards) {
    const owed = rotation.plan[ward] - (done[ward] ?? 0);
    if (owed <= 0) continue;
    const seeded = await plantCanaries(vaultDb, target, {
      hospital: req.hospital,
      mapping: req.mapping,
      count: owed,
      ward,
      channels: [req.hospital.seedChannel],
      seed: req.seed === undefined ? undefined : `${req.seed}:${req.week}:${ward}`,
      now: req.now,
      isoWeek: req.week,
      ...comingBirthWindow(asOf),
      rotationId: rotation.id,
      schedule: true,
    });
    result.plantedNow.push({ ward, canaries: seeded.planted });
    result.warnings.push(...seeded.warnings);
  }
  const planted = Object.values(await vault.plantedPerWard(vaultDb, rotation.id)).reduce((a, b) => a + b, 0);
  await vaultDb.transaction(async (tx) => {
    if (rotation.completed_at === null) await vault.completeRotation(tx, rotation.id, planted, req.now);
    const retired = await vault.retireCanariesBefore(tx, req.hospital.name, req.week, req.now);
    await vault.retireNumbersOf(tx, retired, req.now, req.hospital.cooldownDays);
    result.retired = retired.length;
  });
  result.warnings = [...new Set(result.warnings)];
  return result;
}
