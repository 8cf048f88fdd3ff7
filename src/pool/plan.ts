// How many trap numbers a plan needs over time, by simulation week by week (pure): each rotation
// canary holds its numbers from its week until the next week's rotation retires it, then the numbers
// rest for the cool-down before a new canary may take them; each export canary keeps its numbers for
// good. A number is needed while it is held or resting.

export interface PoolPlan {
  /** Canaries the rotation plants each week. */
  rotationPerWeek: number;
  /** Exports written each week, and the canaries each takes. */
  exportsPerWeek: number;
  canariesPerExport: number;
  /** Trap numbers a canary holds (the mother's, and the father's where he has one of his own). */
  numbersPerCanary: number;
  cooldownDays: number;
  weeks: number;
}

export interface PoolPlanWeek {
  week: number;
  /** Numbers held by live canaries, resting in the cool-down, and the two together (rounded up). */
  held: number;
  resting: number;
  needed: number;
}

export interface PoolPlanResult {
  /** The most numbers the plan needs at once over the horizon: the pool it takes to run it. */
  peak: number;
  /** Numbers the plan takes each week, new or back from the cool-down. */
  perWeek: number;
  /** The first week (0-based) the plan needs more than `pool` numbers; null if it never does. */
  shortFrom: number | null;
  /** Every 4th week and the last, for a table. */
  sample: PoolPlanWeek[];
}

const WEEK_DAYS = 7;
/** Numbers are whole: a fraction rounds up (within floating-point noise), never to -0. */
const up = (x: number) => Math.max(0, Math.ceil(x - 1e-9));

export function simulatePoolPlan(plan: PoolPlan, pool: number): PoolPlanResult {
  const restWeeks = Math.ceil(plan.cooldownDays / WEEK_DAYS);
  const rotationNumbers = plan.rotationPerWeek * plan.numbersPerCanary;
  const exportNumbers = plan.exportsPerWeek * plan.canariesPerExport * plan.numbersPerCanary;
  const sample: PoolPlanWeek[] = [];
  let peak = 0;
  let shortFrom: number | null = null;
  for (let week = 0; week < plan.weeks; week++) {
    // This week's rotation canaries hold theirs; those of the weeks before rest until the cool-down ends.
    const resting = rotationNumbers * Math.min(week, restWeeks);
    const held = rotationNumbers + exportNumbers * (week + 1);
    const needed = up(held + resting);
    peak = Math.max(peak, needed);
    if (shortFrom === null && needed > pool) shortFrom = week;
    if (week % 4 === 0 || week === plan.weeks - 1) sample.push({ week, held: up(held), resting: up(resting), needed });
  }
  return { peak, perWeek: up(rotationNumbers + exportNumbers), shortFrom, sample };
}
