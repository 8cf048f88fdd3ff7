import { createRandom, type Random } from '../lib/generate/random.js';
import { SHARED_APART_DAYS, type ChannelKind } from '../domain/index.js';

// Shared trap numbers (docs/trace.md "Shared trap numbers"), pure: the policy that gives a new canary a
// number several canaries may hold at once, and a rotation and export plan played under it (how many
// numbers it needs; src/workflows/pool-accuracy.ts traces leaks in it for the accuracy it buys).
//
// The policy. A contact that names no family has as candidates every canary that held its number
// before it (src/triage/resolve.ts), and the trace weighs them with time. So a number may go to a new
// canary only if no canary of the same channel (the ward it is planted in, or the export file it is
// made for) holds it or released it within SHARED_APART_DAYS: the candidates a contact has among
// the canaries of the last weeks come from different channels, and the set still points to sources. (Names and birth dates must differ among
// them too, so that a message that names a family or gives a birth date resolves to one: the drafting
// checks both against a number's earlier holders, src/canary/draft.ts.) Among the numbers allowed, the one with the fewest candidates
// now, ties at random: the sets stay small.

const DAY = 86_400_000;
const WEEK = 7 * DAY;
export { SHARED_APART_DAYS };

interface Holding {
  canary: number;
  channel: string;
  from: number;
  to: number;
}

/** The numbers of a shared pool and who held each when: the policy's state. */
export class SharedPool {
  readonly holdings: Holding[][];
  constructor(readonly size: number, readonly apartMs = SHARED_APART_DAYS * DAY) {
    this.holdings = Array.from({ length: size }, () => []);
  }

  /** Candidates a contact on number `n` at `at` has that names no family: every canary that held it by then. */
  candidatesAt(n: number, at: number): number[] {
    return this.holdings[n].filter((h) => h.from <= at).map((h) => h.canary);
  }

  /** A number for a new canary of `channel` at `at`, or null if every number has a candidate of that channel. */
  assign(canary: number, channel: string, at: number, rng: Random): number | null {
    let best: number[] = [];
    let load = Infinity;
    for (let n = 0; n < this.size; n++) {
      const live = this.holdings[n].filter((h) => h.to + this.apartMs > at);
      if (live.some((h) => h.channel === channel)) continue;
      if (live.length < load) [best, load] = [[n], live.length];
      else if (live.length === load) best.push(n);
    }
    if (!best.length) return null;
    const n = best[rng.int(0, best.length - 1)];
    this.holdings[n].push({ canary, channel, from: at, to: Infinity });
    return n;
  }

  release(n: number, canary: number, at: number): void {
    for (const h of this.holdings[n]) if (h.canary === canary && h.to === Infinity) h.to = at;
  }
}

/** A rotation on every ward and weekly exports, as the simulation plays it. */
export interface SharingPlan {
  wards: number;
  /** Rotation canaries per ward a week: each held a week, retired at the next rotation. */
  perWardPerWeek: number;
  /** Exports a week (one per recipient), each its own channel, with this many canaries kept for good. */
  exportsPerWeek: number;
  canariesPerExport: number;
  /** Staff accounts per ward: each opens a share of its ward's new canaries within two days. */
  accountsPerWard: number;
  weeks: number;
}

/** The plan of issue 16: a weekly rotation of one canary on each of 7 wards, five weekly exports of 3 canaries, two years. */
export const DEFAULT_SHARING_PLAN: SharingPlan = { wards: 7, perWardPerWeek: 1, exportsPerWeek: 5, canariesPerExport: 3, accountsPerWard: 6, weeks: 104 };
/** The share of its ward's new canaries an account opens. */
const ACCOUNT_OPENS = 0.3;

export interface World {
  pool: SharedPool;
  /** Per canary: its number and when it was planted. */
  numberOf: number[];
  plantedAt: number[];
  channels: { key: string; kind: ChannelKind; seen: Map<string, Date>; first: number }[];
  /** Per canary: the channels (indices) that saw it. */
  seenBy: number[][];
  end: number;
  /** Canaries that got no number: the pool is short for the plan. */
  short: number;
  /** The first week (0-based) a canary got no number; null if none did. */
  shortFrom: number | null;
}

const START = Date.UTC(2027, 0, 4);
export const canaryKey = (canary: number) => `k${canary}`;

/** The plan played on a shared pool of `numbers`, seeded. */
export function buildWorld(plan: SharingPlan, numbers: number, seed: string): World {
  const rng = createRandom(`${seed}:world`);
  const pool = new SharedPool(numbers);
  const numberOf: number[] = [];
  const plantedAt: number[] = [];
  const seenBy: number[][] = [];
  const channels: World['channels'] = [];
  const channel = (key: string, kind: ChannelKind) => channels.push({ key, kind, seen: new Map(), first: Infinity }) - 1;
  const see = (c: number, canary: number, at: number) => {
    channels[c].seen.set(canaryKey(canary), new Date(at));
    channels[c].first = Math.min(channels[c].first, at);
    seenBy[canary].push(c);
  };
  const his = channel('system:his', 'system');
  const wards = Array.from({ length: plan.wards }, (_, w) => channel(`ward:${w + 1}`, 'ward'));
  const accounts = Array.from({ length: plan.wards }, (_, w) => Array.from({ length: plan.accountsPerWard }, (_, a) => channel(`account:w${w + 1}-${a + 1}`, 'account')));
  let short = 0;
  let shortFrom: number | null = null;
  let week = 0;
  const plant = (channelKey: string, at: number) => {
    const canary = numberOf.length;
    const n = pool.assign(canary, channelKey, at, rng);
    if (n === null) {
      short++;
      shortFrom ??= week;
    }
    numberOf.push(n ?? -1);
    plantedAt.push(at);
    seenBy.push([]);
    return canary;
  };
  let live: number[] = [];
  for (week = 0; week < plan.weeks; week++) {
    const t = START + week * WEEK;
    for (const c of live) if (numberOf[c] >= 0) pool.release(numberOf[c], c, t);
    live = [];
    for (let w = 0; w < plan.wards; w++) {
      for (let i = 0; i < plan.perWardPerWeek; i++) {
        const canary = plant(channels[wards[w]].key, t);
        live.push(canary);
        see(his, canary, t);
        see(wards[w], canary, t);
        for (const a of accounts[w]) if (rng.chance(ACCOUNT_OPENS)) see(a, canary, t + rng.next() * 2 * DAY);
      }
    }
    for (let r = 0; r < plan.exportsPerWeek; r++) {
      const at = t + (r + 1) * DAY;
      const file = channel(`export-file:r${r + 1}-w${week + 1}`, 'export');
      for (let i = 0; i < plan.canariesPerExport; i++) see(file, plant(channels[file].key, at), at);
    }
  }
  return { pool, numberOf, plantedAt, channels, seenBy, end: START + plan.weeks * WEEK, short, shortFrom };
}

/** The fewest numbers on which the plan never runs short under the policy (searched upward from its lower bound). */
export function numbersNeeded(plan: SharingPlan, seed = 'needed'): number {
  // A ward's canaries of a week and those released within the window must differ, as must one file's.
  const low = Math.max(plan.canariesPerExport, plan.perWardPerWeek * (1 + Math.ceil(SHARED_APART_DAYS / 7)), 1);
  for (let n = low; ; n++) if (buildWorld(plan, n, seed).short === 0) return n;
}

/**
 * The sharing plan of a rotation of `perWeek` canaries a week and `exportsPerWeek` exports of
 * `canariesPerExport`, as `cradle pool plan --shared` plays it: one canary a week on each of perWeek
 * wards, every export a channel, one number a canary (the rest of DEFAULT_SHARING_PLAN).
 */
export function sharingPlanOf(plan: { perWeek: number; exportsPerWeek: number; canariesPerExport: number; weeks: number }): SharingPlan {
  return { ...DEFAULT_SHARING_PLAN, wards: plan.perWeek, perWardPerWeek: 1, exportsPerWeek: plan.exportsPerWeek, canariesPerExport: plan.canariesPerExport, weeks: plan.weeks };
}

/** Weeks a shared pool's supply is played over for `pool list` and `audit` (the two years). */
export const SHARED_SUPPLY_WEEKS = 104;

/**
 * The supply model of shared numbers (pool.sharing "shared"), one for `cradle pool plan --shared`,
 * `pool list` and `audit`: numbers are not used up but reused under the policy, so what a pool of
 * `numbers` holds is the plan played on it (seeded: the same every run): the fewest numbers on which it
 * never runs short, how many canaries get none on `numbers`, and the first week one does (`shortFrom`,
 * null: the pool lasts the plan's weeks). `world` is the plan played, for the accuracy it buys.
 */
export function sharedSupply(plan: SharingPlan, numbers: number): { numbersNeeded: number; short: number; shortFrom: number | null; world: World } {
  const world = buildWorld(plan, numbers, 'pool-plan');
  return { numbersNeeded: numbersNeeded(plan), short: world.short, shortFrom: world.shortFrom, world };
}
