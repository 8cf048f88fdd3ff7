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

export async function weekPlan(vaultDb: Database, target: Database, hospital: HospitalConfig, mapping: Mapping): Promise<{ plan: Record<string, number>; warnings: string[] }> {
  if (hospital.rotation) return { plan: hospital.rotation, warnings: [] };
  const spec = hospital.rotationPerWeek;
  if (!spec) throw new UserError(`hospital ${hospital.name} has no rotation plan; add "rotation": {"perWeek": N} (or {"perWard": {...}}) to the config`);
  const warnings: string[] = [];
  let births: Record<string, number> = Object.fromEntries(hospital.wards.map((w) => [w, 0]));
  if (spec.allocation === 'births') {
    const counted = await readOnly(target, (tx) => birthsPerWard(tx, mapping, hospital.wards));
    if (counted === null) warnings.push(`the mapping ${mapping.source} has no ward column: canaries are shared equally among wards`);
    else {
      const ours = await vault.plantedCanariesPerWard(vaultDb, hospital.name);
      births = Object.fromEntries(hospital.wards.map((w) => [w, Math.max(0, counted[w] - (ours[w] ?? 0))]));
      if (Object.values(births).every((n) => n === 0)) warnings.push(`no real births found per ward in the target: canaries are shared equally among wards`);
    }
  }
  return { plan: allocateCanaries(births, spec.total, spec.minPerWard, spec.allocation), warnings };
}
