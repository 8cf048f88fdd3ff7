import type { Queryable } from '../db/index.js';
import { poolSupply, POOL_WEEKS_WANTED, type PoolSupply } from '../vault/pool.js';
import { SHARED_SUPPLY_WEEKS, sharedSupply, sharingPlanOf } from './share.js';

// The weeks of a hospital's rotation plan its trap pool covers, as `cradle pool list` and `cradle audit`
// state them (and warn under POOL_WEEKS_WANTED). Exclusive numbers (the default) are used up: the
// numbers available or in burn-in, over what a week's rotation takes at the hospital's numbers per
// canary so far (vault.poolSupply). Shared numbers (pool.sharing "shared") are reused: the rotation is
// played on the pool, blocked numbers aside, by the model of `cradle pool plan --shared`
// (src/pool/share.ts, sharedSupply), and the weeks are those before a canary would get no number, up
// to SHARED_SUPPLY_WEEKS.

export interface PlanSupply extends PoolSupply {
  sharing: 'exclusive' | 'shared';
  /** Shared: the fewest numbers on which the plan never runs short; null for exclusive numbers. */
  numbersNeeded: number | null;
  /** Shared: the weeks the plan was played (weeksLeft is at most this); null for exclusive numbers. */
  horizon: number | null;
  /** Fewer than POOL_WEEKS_WANTED weeks left. */
  low: boolean;
}

export async function planSupply(db: Queryable, hospital: { name: string; sharing?: 'exclusive' | 'shared' }, canariesPerWeek: number, asOf?: Date): Promise<PlanSupply> {
  const s = await poolSupply(db, hospital.name, canariesPerWeek, asOf);
  if (hospital.sharing !== 'shared') return { ...s, sharing: 'exclusive', numbersNeeded: null, horizon: null, low: s.weeksLeft !== null && s.weeksLeft < POOL_WEEKS_WANTED };
  // Every number but the blocked ones can take a canary (burn-in ones once it ends): the pool of `pool plan`.
  const numbers = Object.values(s.counts).reduce((a, b) => a + b, 0) - s.counts.blocked;
  if (canariesPerWeek <= 0) return { ...s, supply: numbers, weeksLeft: null, sharing: 'shared', numbersNeeded: null, horizon: null, low: false };
  const plan = sharingPlanOf({ perWeek: canariesPerWeek, exportsPerWeek: 0, canariesPerExport: 1, weeks: SHARED_SUPPLY_WEEKS });
  const r = sharedSupply(plan, numbers);
  const weeksLeft = r.shortFrom ?? SHARED_SUPPLY_WEEKS;
  return { ...s, supply: numbers, weeksLeft, sharing: 'shared', numbersNeeded: r.numbersNeeded, horizon: SHARED_SUPPLY_WEEKS, low: weeksLeft < POOL_WEEKS_WANTED };
}
