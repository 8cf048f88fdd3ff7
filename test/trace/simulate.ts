// The trace model's accuracy harness: simulated hospitals, simulated leaks, pure (no database). Used by
// test/trace/simulation.test.ts (which asserts the targets) and bench/trace.ts (which prints the table
// of docs/trace.md). Deterministic seeds.
import { trace, TRACE_MERGE_PRIOR, TRACE_NOISE, TRACE_UNKNOWN_PRIOR, UNKNOWN_SOURCE, type FoundCanary, type Suspect, type TraceChannel } from '../../src/trace/model.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const START = Date.UTC(2026, 0, 5); // a Monday
const WEEKS = 8;
const END = START + WEEKS * WEEK;
const HOSPITALS = 3;

/** mulberry32: small, fast, deterministic. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const sample = <T>(xs: readonly T[], k: number): T[] => {
    const copy = [...xs];
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(next() * (copy.length - i));
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy.slice(0, k);
  };
  const exp = (mean: number) => -mean * Math.log(1 - next());
  const poisson = (mean: number) => {
    let [k, p] = [0, Math.exp(-mean)];
    let s = p;
    const u = next();
    while (u > s) {
      k++;
      p *= mean / k;
      s += p;
    }
    return k;
  };
  /** k in 1..n with P(k) ∝ 1/k: the model's prior on the leak's size. */
  const leakSize = (n: number) => {
    let h = 0;
    for (let k = 1; k <= n; k++) h += 1 / k;
    let u = next() * h;
    for (let k = 1; k <= n; k++) {
      u -= 1 / k;
      if (u <= 0) return k;
    }
    return n;
  };
  return { next, int, pick, sample, exp, poisson, leakSize };
}
export type Rng = ReturnType<typeof rng>;

interface Canary {
  id: string;
  hospital: number;
  ward: number;
  planted: number;
}

export interface World {
  canaries: Canary[];
  byId: Map<string, Canary>;
  plantedAt: Date[];
  channels: TraceChannel[];
  /** Canary id → indexes of the channels that saw it. */
  exposedTo: Map<string, number[]>;
}

function addSeen(seen: Map<string, Date>, id: string, at: number) {
  const had = seen.get(id);
  if (!had || had.getTime() > at) seen.set(id, new Date(at));
}

/** One hospital: wards and systems see canaries as seeded, exports go to recipients weekly, staff open records. */
function buildHospital(h: number, r: Rng, canaries: Canary[]): TraceChannel[] {
  const WARDS = 8;
  const mine: Canary[] = [];
  for (let w = 0; w < WEEKS; w++) {
    for (let ward = 0; ward < WARDS; ward++) {
      const count = r.int(2, 6);
      for (let i = 0; i < count; i++) mine.push({ id: `h${h}-w${w}-${ward}-${i}`, hospital: h, ward, planted: START + w * WEEK });
    }
  }
  canaries.push(...mine);
  const seeded = new Map(mine.map((c) => [c.id, c.planted + r.next() * 6 * HOUR]));
  const channels: TraceChannel[] = [];
  const channel = (key: string, kind: TraceChannel['kind']) => {
    const c = { key, kind, seen: new Map<string, Date>() };
    channels.push(c);
    return c.seen;
  };
  const wards = Array.from({ length: WARDS }, (_, i) => channel(`ward:h${h}-${i}`, 'ward'));
  const his = channel(`system:h${h}-his`, 'system');
  const lab = channel(`system:h${h}-lab`, 'system');
  const billing = channel(`system:h${h}-billing`, 'system');
  for (const c of mine) {
    const at = seeded.get(c.id)!;
    addSeen(wards[c.ward], c.id, at);
    addSeen(his, c.id, at);
    if (r.next() < 0.5) addSeen(lab, c.id, at + r.next() * 3 * DAY);
    // Billing sees every stay once it closes, at the end of its rotation week.
    addSeen(billing, c.id, c.planted + WEEK + r.next() * DAY);
  }
  // Exports: a dozen recipients, each with its wards, weekly or fortnightly, new births or all so far.
  for (let rec = 0; rec < 12; rec++) {
    const recWards = new Set(r.sample([...Array(WARDS).keys()], r.int(1, 4)));
    const cumulative = r.next() < 0.3;
    const every = r.next() < 0.7 ? 1 : 2;
    for (let w = 1; w <= WEEKS; w += every) {
      const at = START + w * WEEK + r.next() * 2 * DAY;
      const since = cumulative ? START : START + (w - every) * WEEK;
      const seen = channel(`export-file:h${h}-r${rec}-w${w}`, 'export');
      for (const c of mine) if (recWards.has(c.ward) && c.planted >= since && seeded.get(c.id)! < at) addSeen(seen, c.id, at);
    }
  }
  // Staff: 200 accounts on one or two wards, opening a few records, some running ward lists.
  for (let a = 0; a < 200; a++) {
    const home = r.sample([...Array(WARDS).keys()], r.int(1, 2));
    const seen = channel(`account:h${h}-s${a}`, 'account');
    const onHome = mine.filter((c) => home.includes(c.ward));
    for (let i = r.int(1, 12); i > 0; i--) {
      const c = r.next() < 0.9 ? r.pick(onHome) : r.pick(mine);
      addSeen(seen, c.id, seeded.get(c.id)! + r.next() * 5 * DAY);
    }
    if (r.next() < 0.3) {
      for (let i = r.int(1, 6); i > 0; i--) {
        const at = START + r.next() * WEEKS * WEEK;
        const ward = r.pick(home);
        // A ward list holds the ward's current stays: canaries of the running rotation.
        for (const c of mine) if (c.ward === ward && seeded.get(c.id)! <= at && at < c.planted + WEEK) addSeen(seen, c.id, at);
      }
    }
  }
  return channels;
}

export function buildWorld(seed: number, hospitals: number): World {
  const r = rng(seed);
  const canaries: Canary[] = [];
  const channels: TraceChannel[] = [];
  for (let h = 0; h < hospitals; h++) channels.push(...buildHospital(h, r, canaries));
  const exposedTo = new Map<string, number[]>();
  channels.forEach((c, i) => {
    for (const id of c.seen.keys()) {
      const list = exposedTo.get(id);
      if (list) list.push(i);
      else exposedTo.set(id, [i]);
    }
  });
  return { canaries, byId: new Map(canaries.map((c) => [c.id, c])), plantedAt: canaries.map((c) => new Date(c.planted)), channels, exposedTo };
}

interface Leak {
  /** Canaries of the leak itself (not noise), with when they were first seen leaked. */
  leaked: Map<string, number>;
  T: number;
  /** What the source held at T. */
  held: string[];
}

/** A leak of what `seen` held at a random time T: a subset of size k, P(k) ∝ 1/k, then contacts or a seizure. */
function leakFrom(r: Rng, seenAt: (id: string) => number | undefined, pool: readonly Canary[]): Leak | null {
  // One try: a channel that saw nothing by T has not leaked, and the caller draws channel and time again,
  // so that (channel, T) is uniform over the channels' lives, as the model's prior has it.
  {
    const T = START + r.next() * (END + WEEK - START);
    const held = pool.filter((c) => {
      const s = seenAt(c.id);
      return s !== undefined && s <= T;
    });
    if (held.length === 0) return null;
    const subset = r.sample(held, r.leakSize(held.length));
    const leaked = new Map<string, number>();
    const seizure = T + (1 + r.next() * 29) * DAY;
    const dump = r.next() < 0.3;
    for (const c of subset) leaked.set(c.id, dump ? seizure : T + (0.2 + r.exp(4)) * DAY);
    return { leaked, T, held: held.map((c) => c.id) };
  }
}

function addNoise(r: Rng, world: World, found: Map<string, number>) {
  const dumpTime = found.size && new Set(found.values()).size === 1 ? [...found.values()][0] : null;
  for (let i = r.poisson(TRACE_NOISE); i > 0; i--) {
    const c = r.pick(world.canaries);
    if (found.has(c.id)) continue;
    found.set(c.id, dumpTime ?? c.planted + r.next() * (END + 4 * WEEK - c.planted));
  }
}

function traceFound(world: World, found: Map<string, number>): Suspect[] {
  const list: FoundCanary[] = [...found].map(([id, at]) => ({ id, plantedAt: new Date(world.byId.get(id)!.planted), seenLeakedAt: new Date(at) }));
  const relevant = new Set<number>();
  for (const id of found.keys()) for (const i of world.exposedTo.get(id) ?? []) relevant.add(i);
  const channels = [...relevant].map((i) => world.channels[i]);
  return trace({ found: list, channels, vaultSize: world.canaries.length, vaultPlantedAt: world.plantedAt }, { universe: world.channels.length });
}

const sortedExposures = new WeakMap<TraceChannel, { id: string; at: number }[]>();

/** A channel's exposures, earliest first (cached). */
function exposures(d: TraceChannel): { id: string; at: number }[] {
  let list = sortedExposures.get(d);
  if (!list) {
    list = [...d.seen].map(([id, at]) => ({ id, at: at.getTime() })).sort((a, b) => a.at - b.at);
    sortedExposures.set(d, list);
  }
  return list;
}

/** Canaries `d` had seen by time T: |S_d(T)|. */
function seenBy(d: TraceChannel, T: number): number {
  const list = exposures(d);
  let [lo, hi] = [0, list.length];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].at <= T) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Whether a single-source leak from `t` at T qualifies for the accuracy target: every other channel c
 * (unknown excluded) either (a) had not seen by T at least two of the leaked canaries (noise hits do not
 * count), so it can explain them only as noise, or (b) had seen by T at least twice as many canaries as
 * t had, |S_c(T)| >= 2·|S_t(T)|, so the size principle separates them. Returns the first channel that
 * fails both (a near-twin of t), or null when the run qualifies.
 */
function nearTwin(world: World, t: TraceChannel, leak: Leak): TraceChannel | null {
  const k = leak.leaked.size;
  const heldByT = new Map<number, number>();
  for (const id of leak.leaked.keys()) {
    for (const i of world.exposedTo.get(id) ?? []) {
      if (world.channels[i].seen.get(id)!.getTime() <= leak.T) heldByT.set(i, (heldByT.get(i) ?? 0) + 1);
    }
  }
  const limit = 2 * leak.held.length;
  for (let i = 0; i < world.channels.length; i++) {
    const c = world.channels[i];
    if (c === t) continue;
    if (k - (heldByT.get(i) ?? 0) >= 2) continue; // (a)
    if (seenBy(c, leak.T) >= limit) continue; // (b)
    return c;
  }
  return null;
}

/**
 * A merged leak's parts are told apart when each part's leak alone is traced to its channel first with at
 * least this posterior, and no one channel had seen all but one of the merged leak's canaries before
 * their evidence.
 */
export const TOLD_APART = 0.9;

export interface Run {
  scenario: 'single' | 'merged' | 'unknown';
  posterior: number;
  right: boolean;
  partRight?: boolean;
  /** Single source: the true channel ranks first, alone or as a part of the top pair. */
  named?: boolean;
  /** Single source: the run qualifies for the accuracy target (no near-twin of the source, see nearTwin). */
  qualifies?: boolean;
  leakSize?: number;
  /** Single source: |S_t(T)| of the true channel, and the top suspect's |S(T)| when it is a channel. */
  sourceSeen?: number;
  topSeen?: number;
  /** … and at the start of its window (the earliest time it explains what it explains), days after T. */
  topWindow?: { seen: number; days: number };
  sourceKey?: string;
  topKey?: string;
  /** Merged: both parts are told apart (each part's leak alone is traced to it first with posterior >= TOLD_APART). */
  toldApart?: boolean;
  /** Merged: the smaller of the posteriors with which each part's leak alone is traced to it (0 when one is not first). */
  apartBy?: number;
  /** Merged: apartBy without the one-channel condition; whether one channel saw all but one of its canaries. */
  partsAlone?: number;
  oneChannel?: boolean;
  pairKey?: string;
  secondSize?: number;
  truthPosterior?: number;
  found: number;
  top?: string;
}

/** A run, or null when the drawn channel saw nothing by T (or, with onlyQualifying, a single-source run that does not qualify: not traced). */
export function runScenario(world: World, r: Rng, scenario: Run['scenario'], onlyQualifying = false): Run | null {
  const byKey = new Map(world.channels.map((c) => [c.key, c]));
  const leakOf = (c: TraceChannel) => leakFrom(r, (id) => c.seen.get(id)?.getTime(), world.canaries);
  if (scenario === 'single') {
    const c = r.pick(world.channels);
    const leak = leakOf(c);
    if (!leak) return null;
    const found = new Map(leak.leaked);
    addNoise(r, world, found);
    const qualifies = nearTwin(world, c, leak) === null;
    if (onlyQualifying && !qualifies) return null;
    const ranked = traceFound(world, found);
    // Right: the true channel first; named: it first alone or as a part of the top pair (a noise hit put
    // down to a second leak).
    const withTrue = (s: Suspect) => s.key === c.key || !!s.parts?.includes(c.key);
    const top = ranked[0];
    const topChannel = byKey.get(top.key);
    return {
      scenario,
      top: `${c.kind}->${top.kind}`,
      posterior: top.posterior,
      right: top.key === c.key,
      named: withTrue(top),
      qualifies,
      leakSize: leak.leaked.size,
      sourceSeen: leak.held.length,
      topSeen: topChannel ? seenBy(topChannel, leak.T) : undefined,
      topWindow: topChannel && top.window ? { seen: seenBy(topChannel, top.window.from.getTime()), days: (top.window.from.getTime() - leak.T) / DAY } : undefined,
      sourceKey: c.key,
      topKey: top.key,
      truthPosterior: ranked.find((s) => s.key === c.key)?.posterior ?? 0,
      found: found.size,
    };
  }
  if (scenario === 'merged') {
    const [a, b] = r.sample(world.channels, 2);
    const [la, lb] = [leakOf(a), leakOf(b)];
    if (!la || !lb) return null;
    const found = new Map(la.leaked);
    for (const [id, at] of lb.leaked) found.set(id, Math.min(at, found.get(id) ?? Infinity));
    addNoise(r, world, found);
    const ranked = traceFound(world, found);
    const top = ranked[0];
    const right = !!top.parts && new Set([...top.parts, a.key, b.key]).size === 2;
    // Told apart: each part's leak alone (no noise) is traced to its channel, first, with posterior >= TOLD_APART.
    const alone = (c: TraceChannel, leak: Leak) => {
      const first = traceFound(world, new Map(leak.leaked))[0];
      return first.key === c.key ? first.posterior : 0;
    };
    // … and no one channel could have leaked all but one of the merged leak's canaries (noise aside):
    // each lacks at least two, not seen before their first evidence (else the data says one leak).
    const leaked = new Map(la.leaked);
    for (const [id, at] of lb.leaked) leaked.set(id, Math.min(at, leaked.get(id) ?? Infinity));
    const held = new Map<number, number>();
    for (const [id, at] of leaked) for (const i of world.exposedTo.get(id) ?? []) if (world.channels[i].seen.get(id)!.getTime() <= at) held.set(i, (held.get(i) ?? 0) + 1);
    const oneChannel = [...held.values()].some((n) => leaked.size - n < 2);
    const partsAlone = a.key === b.key ? 0 : Math.min(alone(a, la), alone(b, lb));
    const apartBy = oneChannel ? 0 : partsAlone;
    return {
      scenario,
      top: top.kind,
      posterior: top.posterior,
      right,
      partRight: right || top.key === a.key || top.key === b.key || !!top.parts?.some((p) => p === a.key || p === b.key),
      toldApart: apartBy >= TOLD_APART,
      apartBy,
      partsAlone,
      oneChannel,
      found: found.size,
      pairKey: `${a.key} + ${b.key}`,
      topKey: top.key,
      truthPosterior: ranked.find((s) => !!s.parts && new Set([...s.parts, a.key, b.key]).size === 2)?.posterior ?? 0,
      leakSize: la.leaked.size,
      secondSize: lb.leaked.size,
    };
  }
  // A source Cradle does not know: what the whole vault held at T.
  const planted = new Map(world.canaries.map((c) => [c.id, c.planted]));
  const leak = leakFrom(r, (id) => planted.get(id), world.canaries);
  if (!leak) return null;
  const found = new Map(leak.leaked);
  addNoise(r, world, found);
  const ranked = traceFound(world, found);
  return { scenario, posterior: ranked[0].posterior, right: ranked[0].key === UNKNOWN_SOURCE, found: found.size, top: ranked[0].kind };
}

/** Qualifying single-source runs for the accuracy target: the mixture's, topped up with more single-source runs. */

/** Qualifying single-source runs for the accuracy target: the mixture's, topped up with more single-source runs. */
export const QUALIFYING_RUNS = 800;
/** Merged runs: the mixture's, topped up to this many (about one in twenty is told apart). */
export const MERGED_RUNS = 1500;

export const pct = (x: number) => (Number.isNaN(x) ? '-' : `${(100 * x).toFixed(1)}%`);

export interface Bucket {
  lo: number;
  hi: number;
  runs: number;
  mean: number;
  accuracy: number;
}

export interface Simulation {
  world: World;
  mixture: Run[];
  singles: Run[];
  qualifying: Run[];
  unknownRuns: Run[];
  mergedRuns: Run[];
  buckets: Bucket[];
  /** The report bench/trace.ts prints (docs/trace.md quotes it). */
  lines: string[];
}

export const rate = (xs: Run[], f: (x: Run) => boolean = (x) => x.right) => (xs.length ? xs.filter(f).length / xs.length : NaN);

/**
 * The runs: `mixture` drawn from the model's prior (π_u unknown, π_m merged, else one channel), then
 * unknown and merged runs topped up to `unknown` and `merged`, single-source ones to `qualifying`.
 */
export function simulate(options: { mixture?: number; unknown?: number; merged?: number; qualifying?: number } = {}): Simulation {
  if (options.merged === undefined) options = { ...options, merged: MERGED_RUNS };
  const world = buildWorld(20260105, HOSPITALS);
  const r = rng(7);
  const started = Date.now();
  const mixture: Run[] = [];
  while (mixture.length < (options.mixture ?? 2000)) {
    const u = r.next();
    const run = runScenario(world, r, u < TRACE_UNKNOWN_PRIOR ? 'unknown' : u < TRACE_UNKNOWN_PRIOR + TRACE_MERGE_PRIOR ? 'merged' : 'single');
    if (run) mixture.push(run);
  }
  const unknownRuns: Run[] = mixture.filter((x) => x.scenario === 'unknown');
  while (unknownRuns.length < (options.unknown ?? 250)) {
    const run = runScenario(world, r, 'unknown');
    if (run) unknownRuns.push(run);
  }
  const mergedRuns: Run[] = mixture.filter((x) => x.scenario === 'merged');
  while (mergedRuns.length < options.merged!) {
    const run = runScenario(world, r, 'merged');
    if (run) mergedRuns.push(run);
  }
  // More single-source runs, traced only when they qualify, for a sharper figure on the accuracy target.
  const qualifying: Run[] = mixture.filter((x) => x.scenario === 'single' && x.qualifies);
  const fromMixture = qualifying.length;
  while (qualifying.length < (options.qualifying ?? QUALIFYING_RUNS)) {
    const run = runScenario(world, r, 'single', true);
    if (run) qualifying.push(run);
  }
  const elapsed = Date.now() - started;

  const singles = mixture.filter((x) => x.scenario === 'single');
  const misses = qualifying.filter((x) => !x.named);
  const buckets = [
    [0, 0.5],
    [0.5, 0.7],
    [0.7, 0.85],
    [0.85, 0.95],
    [0.95, 0.99],
    [0.99, 1],
  ].map(([lo, hi]) => {
    const runs = mixture.filter((x) => x.posterior >= lo && (x.posterior < hi || hi === 1));
    const mean = runs.reduce((s, x) => s + x.posterior, 0) / Math.max(runs.length, 1);
    return { lo, hi, runs: runs.length, mean, accuracy: rate(runs) };
  });
  const unknown3 = unknownRuns.filter((x) => x.found >= 3);
  const apart = mergedRuns.filter((x) => x.toldApart);
  const num = (x: number, width: number) => (Number.isNaN(x) ? '-' : x.toFixed(3)).padStart(width);
  const lines = [
    `trace simulation: ${world.channels.length} channels in ${HOSPITALS} hospitals, ${world.canaries.length} canaries; ${mixture.length} runs of the prior's mixture + ${unknownRuns.length + mergedRuns.length - mixture.filter((x) => x.scenario !== 'single').length} more unknown/merged + ${qualifying.length - fromMixture} more qualifying single-source, ${elapsed} ms`,
    `single source (${singles.length} runs): true channel first ${pct(rate(singles))}, first alone or in the top pair ${pct(rate(singles, (x) => !!x.named))}`,
    `  qualifying (every other channel lacks >= 2 leaked canaries at T or saw >= 2x the source's): first alone or in the top pair ${pct(rate(qualifying, (x) => !!x.named))} of ${qualifying.length} (${fromMixture} from the mixture)`,
    ...misses.map((x) => `    missed: ${x.sourceKey} lost to ${x.topKey} (saw ${x.topSeen ?? '-'} by T${x.topWindow ? `, ${x.topWindow.seen} when its window opens ${x.topWindow.days.toFixed(1)} days after T` : ''}, posterior ${x.posterior.toFixed(3)}); source saw ${x.sourceSeen} by T, posterior ${x.truthPosterior!.toFixed(3)}; leak of ${x.leakSize}, ${x.found} found`),
    ...[[1, 1], [2, 2], [3, 4], [5, 9], [10, Infinity]].map(([lo, hi]) => {
      const runs = singles.filter((x) => x.leakSize! >= lo && x.leakSize! <= hi);
      const q = qualifying.filter((x) => x.leakSize! >= lo && x.leakSize! <= hi);
      return `  leak of ${hi === lo ? lo : `${lo}-${hi === Infinity ? '' : hi}`} canaries: first ${pct(rate(runs))} of ${runs.length}; qualifying: first alone or in the top pair ${pct(rate(q, (x) => !!x.named))} of ${q.length}`;
    }),
    `unknown source (leak of the vault at T) first: ${pct(rate(unknownRuns))} of ${unknownRuns.length}; with >= 3 found ${pct(rate(unknown3))} of ${unknown3.length}`,
    `merged leaks (${mergedRuns.length}): the pair first ${pct(rate(mergedRuns))}, the pair or one of its parts first ${pct(rate(mergedRuns, (x) => !!x.partRight))}`,
    `  by the smaller part: ${[1, 2, 3].map((k) => {
      const runs = mergedRuns.filter((x) => Math.min(x.leakSize!, x.secondSize!) === k || (k === 3 && Math.min(x.leakSize!, x.secondSize!) > 3));
      return `${k === 3 ? '3 or more' : k} canar${k === 1 ? 'y' : 'ies'}: pair first ${pct(rate(runs))} of ${runs.length}`;
    }).join('; ')}`,
    `  told apart (each part's leak alone traced to it first with posterior >= ${TOLD_APART}, and no one channel saw all but one of the canaries): ${apart.length} of ${mergedRuns.length}; the pair first in ${pct(rate(apart))}, the pair or a part ${pct(rate(apart, (x) => !!x.partRight))}`,
    ...[0.5, 0.7].map((t) => {
      const runs = mergedRuns.filter((x) => x.apartBy! >= t);
      return `  … with posterior >= ${t} instead: ${runs.length}; the pair first in ${pct(rate(runs))}`;
    }),
    (() => {
      const runs = mergedRuns.filter((x) => x.partsAlone! >= TOLD_APART);
      return `  … each part alone >= ${TOLD_APART}, one channel allowed to see all but one: ${runs.length}; the pair first in ${pct(rate(runs))}, the pair or a part ${pct(rate(runs, (x) => !!x.partRight))}`;
    })(),
    ...apart.filter((x) => !x.right).map((x) => `    missed: ${x.pairKey} (${x.leakSize} + ${x.secondSize}, ${x.found} found) lost to ${x.topKey} (posterior ${x.posterior.toFixed(3)}; the pair ${x.truthPosterior!.toFixed(3)})`),
    'calibration (top suspect of each run of the mixture):',
    '  posterior       runs   mean  accuracy',
    ...buckets.map((b) => `  [${b.lo.toFixed(2)}, ${b.hi.toFixed(2)}${b.hi === 1 ? ']' : ')'}  ${String(b.runs).padStart(5)}  ${num(b.mean, 5)}  ${num(b.accuracy, 8)}`),
  ];
  return { world, mixture, singles, qualifying, unknownRuns, mergedRuns, buckets, lines };
}
