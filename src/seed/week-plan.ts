import { readOnly, type Database } from '../db/index.js';
import type { HospitalConfig } from '../config/index.js';
import { UserError } from '../lib/errors.js';
import { birthsPerWard } from '../targetdb/wards.js';
import type { Mapping } from '../targetdb/mapping.js';
import * as vault from '../vault/index.js';
import { allocateCanaries } from './allocate.js';

// A week's rotation plan (canaries per ward): the config's explicit perWard, or perWeek shared among
// the wards by allocateCanaries, from the target's real births per ward (read-only) less the
// canaries Cradle itself planted there, so that earlier canaries do not pull the mix their way.

/** Real births per ward of the hospital's wards (target rows less Cradle's canaries); null when they cannot be counted. */
export async function realBirthsPerWard(vaultDb: Database, target: Database, hospital: HospitalConfig, mapping: Mapping): Promise<{ births: Record<string, number> | null; warnings: string[] }> {
  const counted = await readOnly(target, (tx) => birthsPerWard(tx, mapping, hospital.wards));
  if (counted === null) return { births: null, warnings: [`the mapping ${mapping.source} has no ward column: canaries are shared equally among wards`] };
  const ours = await vault.plantedCanariesPerWard(vaultDb, hospital.name);
  const births = Object.fromEntries(hospital.wards.map((w) => [w, Math.max(0, counted[w] - (ours[w] ?? 0))]));
  if (Object.values(births).every((n) => n === 0)) return { births: null, warnings: ['no real births found per ward in the target: canaries are shared equally among wards'] };
  return { births, warnings: [] };
}

export async function weekPlan(vaultDb: Database, target: Database, hospital: HospitalConfig, mapping: Mapping, week: string): Promise<{ plan: Record<string, number>; warnings: string[] }> {
  if (hospital.rotation) return { plan: hospital.rotation, warnings: [] };
  const spec = hospital.rotationPerWeek;
  if (!spec) throw new UserError(`hospital ${hospital.name} has no rotation plan; add "rotation": {"perWeek": N} (or {"perWard": {...}}) to the config`);
  const counted = spec.allocation === 'births' ? await realBirthsPerWard(vaultDb, target, hospital, mapping) : { births: null, warnings: [] };
  const births = counted.births ?? Object.fromEntries(hospital.wards.map((w) => [w, 0]));
  const turn = Number(week.slice(-2)); // ties between wards go round the wards week by week
  return { plan: allocateCanaries(births, spec.total, spec.minPerWard, spec.allocation, turn), warnings: counted.warnings };
}
