// Which channel leaked the canaries of an incident, with time: an explicit model, pure logic (no I/O).
// docs/trace.md states it in plain words and formulas. `cradle trace` and `cradle scan` (through
// src/workflows/scan-and-trace.ts) both rank suspects with it.
//
// A leak from channel c happens at an unknown time T (uniform over the incident's window [T0, T1]:
// the earliest plantedAt of the found canaries to the latest seenLeakedAt). It is a subset of S_c(T),
// the n = |S_c(T)| canaries c had seen by T: its size k has the scale-free prior P(k | n) = 1/(k·H_n)
// (k = 1..n, H_n the harmonic number: a leak of 1% is as likely as one of 10%), and every subset of
// that size is equally likely (the size principle):
//   P(leak = E | c, T) = 1 / (k · H_n · C(n, k)).
// Found canaries c cannot explain at T (never seen by c, seen after T, or contacted before T) are
// noise: a Poisson number of random vault canaries, mean λ, each one of N: P(noise = R) ∝ (λ/N)^|R|.
// The first evidence u(T) of what the leak holds (earliest seenLeakedAt of E(T)) comes an exponential
// delay after the leak, mean τ:
//   P(found | c, T) = P(E(T) | n(T)) · (λ/N)^(m − k(T)) · e^(−(u(T) − T)/τ)/τ,
//   E(T) = {x found: seen_c(x) <= T <= t_x}
//   P(found | c)    = (1/(T1 − T0)) ∫ P(found | c, T) dT,   exact: piecewise constant × exponential.
// Unknown source: a channel that saw every canary of the vault as planted (n(T) = canaries planted by
// T, or N). Two merged leaks a + b: each part explains its own canaries (those both explain go to one
// or the other), each integrated over its own time. Priors: π_u for unknown, π_m for merged (shared by
// all pairs of the U channels), the rest uniform over the U channels.

import type { ChannelKind } from '../domain/index.js';
import type { Suspect } from '../domain/trace.js';
import { logSurvival } from '../lib/codes.js';

export type { ChannelKind, Suspect };

/** The suspect that stands for a leak from somewhere Cradle has no record of. */
export const UNKNOWN_SOURCE = 'unknown source';

/** λ: expected number of noise hits (false matches, stray contacts) in one incident. */
export const TRACE_NOISE = 0.1;
/** π_u: prior probability that the leak came from a channel Cradle has no record of. */
export const TRACE_UNKNOWN_PRIOR = 0.05;
/** π_m: prior probability that the incident is two leaks merged. */
export const TRACE_MERGE_PRIOR = 0.1;
/** A merged pair a + b has a among this many of the best single channels (b any that adds to it). */
const MERGE_FIRSTS = 4;
/** … and b among this many of the channels that explain most of what a does not. */
const MERGE_SECONDS = 12;
/** τ: mean delay from a leak to the first evidence of it (a contact on a trap, or the seizure), 7 days. */
export const TRACE_EVIDENCE_DELAY = 7 * 24 * 3_600_000;

export interface TraceChannel {
  key: string;
  kind: ChannelKind;
  /**
   * First exposure time of every canary this channel ever saw (all canaries, not only the incident's),
   * any order. Not changed once given: trace() caches its sorted times per map.
   */
  seen: ReadonlyMap<string, Date>;
  /** Export with a codeword of a shared code pool: the codeword's canaries; else undefined. */
  code?: readonly string[];
}

export interface FoundCanary {
  id: string;
  /** When it was planted (its rotation); the leak cannot hold it before then. */
  plantedAt: Date;
  /** Earliest evidence it had leaked: first contact on its trap, or the time the dump was seized/scanned. */
  seenLeakedAt: Date;
  /**
   * A contact triage could not resolve to one canary (a shared trap number, no name in the message):
   * the canaries it may be about, each with its planting time. `id` then names the item (e.g. the
   * candidates joined), `plantedAt` is the earliest of theirs. The likelihood is the mean over the
   * candidates (docs/trace.md, "Ambiguous contacts").
   */
  candidates?: readonly { id: string; plantedAt: Date }[];
}

export interface TraceInput {
  found: readonly FoundCanary[];
  channels: readonly TraceChannel[];
  /** N: canaries in the vault. */
  vaultSize: number;
  /**
   * When each canary of the vault was planted (optional): the unknown source is then a leak of what the
   * vault held at T, not of all N; without it, of all N (which undersells unknown for an early leak).
   */
  vaultPlantedAt?: readonly Date[];
}


export interface TraceOptions {
  /** λ, expected noise hits per incident (TRACE_NOISE). */
  noise?: number;
  /** τ in ms, mean delay from the leak to its first evidence (TRACE_EVIDENCE_DELAY); Infinity: no delay model, T only bounded. */
  evidenceDelay?: number;
  /** π_u, prior probability of an unknown source (TRACE_UNKNOWN_PRIOR). */
  unknownPrior?: number;
  /** π_m, prior probability of two merged leaks (TRACE_MERGE_PRIOR). */
  mergePrior?: number;
  /**
   * U, the number of channels that could have leaked, over which the prior is uniform. Defaults to
   * channels.length; pass the number of all channels Cradle records when only those exposed to the
   * incident's canaries are given (the others have likelihood 0 but share the prior).
   */
  universe?: number;
}

// ln n! and H_n by table, grown on demand: the sweeps evaluate C(n, k) at every breakpoint.
let logFactorials = new Float64Array([0]);
/** ln H_n (index 0 unused). */
let logHarmonics = new Float64Array([-Infinity]);

function grow(n: number) {
  if (n < logFactorials.length) return;
  const size = Math.max(n + 1, logFactorials.length * 2);
  const [lf, lh] = [new Float64Array(size), new Float64Array(size)];
  lf.set(logFactorials);
  lh.set(logHarmonics);
  let h = 0;
  for (let i = 1; i < size; i++) {
    h += 1 / i;
    if (i >= logFactorials.length) {
      lf[i] = lf[i - 1] + Math.log(i);
      lh[i] = Math.log(h);
    }
  }
  [logFactorials, logHarmonics] = [lf, lh];
}

/** ln H_n, the n-th harmonic number. */
export function logHarmonic(n: number): number {
  if (n <= 0) return -Infinity;
  grow(n);
  return logHarmonics[n];
}

/** ln P(leak = this set of k | a channel that saw n): 1/(k·H_n·C(n,k)), k = 1..n. */
export function logLeak(k: number, n: number): number {
  if (k < 1 || k > n) return -Infinity;
  grow(n);
  // ln k = ln k! − ln (k−1)!
  return -(logFactorials[k] - logFactorials[k - 1]) - logHarmonics[n] - (logFactorials[n] - logFactorials[k] - logFactorials[n - k]);
}

/** A min-heap of numbers. */
class MinHeap {
  private items: number[] = [];
  get size() {
    return this.items.length;
  }
  peek(): number {
    return this.items[0];
  }
  push(x: number) {
    const a = this.items;
    a.push(x);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (a[p] <= a[i]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop() {
    const a = this.items;
    const last = a.pop()!;
    if (!a.length) return;
    a[0] = last;
    for (let i = 0; ; ) {
      const [l, r] = [2 * i + 1, 2 * i + 2];
      let m = i;
      if (l < a.length && a[l] < a[m]) m = l;
      if (r < a.length && a[r] < a[m]) m = r;
      if (m === i) break;
      [a[m], a[i]] = [a[i], a[m]];
      i = m;
    }
  }
}

/**
 * ln ∫ over [b, e] of the evidence-delay density: the first evidence u of what the leak holds comes an
 * exponential delay (mean τ) after T, so T in [b, e] weighs exp(−(u−e)/τ) − exp(−(u−b)/τ). With no
 * delay model (τ infinite) T is only bounded by u, and the stretch weighs its length.
 */
function logStretch(b: number, e: number, u: number, tau: number): number {
  if (!Number.isFinite(tau)) return Math.log(e - b);
  return -(u - e) / tau + Math.log(-Math.expm1(-(e - b) / tau));
}

/** Sums exp(x) over many x without overflow: one exp per term. */
class LogSum {
  max = -Infinity;
  private sum = 0;
  add(x: number) {
    if (x === -Infinity) return;
    if (x <= this.max) this.sum += Math.exp(x - this.max);
    else {
      this.sum = this.sum * Math.exp(this.max - x) + 1;
      this.max = x;
    }
  }
  get value(): number {
    return this.max === -Infinity ? -Infinity : this.max + Math.log(this.sum);
  }
}

/** ln (λ/N)^count, 0 for no noise even when λ = 0. */
function noiseScore(count: number, logNoise: number): number {
  return count === 0 ? 0 : count * logNoise;
}

function logSumExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

interface Found {
  /** One per found item: a canary, or a contact that could not be resolved to one (its candidates). */
  ids: string[];
  /** The earliest planting among the item's candidates. */
  planted: Float64Array;
  /** seenLeakedAt + 1 ms: T up to and including the evidence time explains the canary. */
  until: Float64Array;
  /** Each item's candidate canaries with their planting times (one for a resolved canary). */
  candidates: { id: string; planted: number }[][];
  /** Candidate canary id → the items it is a candidate of. */
  index: Map<string, number[]>;
  t0: number;
  t1: number;
}

/** What one channel's sweep learns. */
interface Single {
  channel: TraceChannel;
  codeSet: Set<string> | null;
  /** Sorted exposure times of the canaries it saw besides its codeword. */
  times: Float64Array;
  /** Per found item: its (earliest candidate's) exposure time to this channel (NaN if it cannot explain it at any T). */
  exposure: Float64Array;
  /** Per found item: ln(r/j), r of its j candidates this channel can explain (0 for a canary it can). */
  shares: Float64Array;
  /** ln ∫ P(found | c, T) dT/(T1 − T0), without the prior. */
  logLikelihood: number;
  /** A representative T of the most likely stretch of time. */
  bestT: number;
  explains: number[];
}

function prepareFound(found: readonly FoundCanary[]): Found {
  const byId = new Map<string, { planted: number; leaked: number; candidates: Map<string, number> }>();
  for (const f of found) {
    const [p, l] = [f.plantedAt.getTime(), f.seenLeakedAt.getTime()];
    const had = byId.get(f.id);
    const candidates = had?.candidates ?? new Map<string, number>();
    for (const c of f.candidates?.length ? f.candidates : [{ id: f.id, plantedAt: f.plantedAt }]) {
      const t = c.plantedAt.getTime();
      candidates.set(c.id, Math.min(candidates.get(c.id) ?? Infinity, t));
    }
    byId.set(f.id, had ? { planted: Math.min(had.planted, p), leaked: Math.min(had.leaked, l), candidates } : { planted: p, leaked: l, candidates });
  }
  const ids = [...byId.keys()];
  const planted = new Float64Array(ids.length);
  const until = new Float64Array(ids.length);
  const candidates: { id: string; planted: number }[][] = [];
  const index = new Map<string, number[]>();
  let [t0, t1] = [Infinity, -Infinity];
  ids.forEach((id, i) => {
    const f = byId.get(id)!;
    candidates.push([...f.candidates].map(([cid, at]) => ({ id: cid, planted: at })));
    for (const c of candidates[i]) index.set(c.id, [...(index.get(c.id) ?? []), i]);
    planted[i] = Math.min(f.planted, ...candidates[i].map((c) => c.planted));
    until[i] = f.leaked + 1;
    t0 = Math.min(t0, planted[i]);
    t1 = Math.max(t1, f.leaked + 1);
  });
  if (!(t1 > t0)) t1 = t0 + 1;
  return { ids, planted, until, candidates, index, t0, t1 };
}

/** Scores a (set of) canaries at one moment: ln P(leak = those explained) for a channel with this many exposures. */
function leakScore(codeSize: number, codeFound: number, restSize: number, restFound: number): number {
  if (codeFound + restFound === 0) return -Infinity;
  // A code export leaks a fraction of its codeword and a fraction of the rest (attribute.ts, codes.ts).
  if (codeSize > 0) return logSurvival(codeFound, codeSize) + logSurvival(restFound, restSize);
  return logLeak(restFound, restSize);
}

/** Sorted exposure times per `seen` map (besides a codeword): channels are traced again and again with the same maps. */
const timesCache = new WeakMap<ReadonlyMap<string, Date>, { size: number; times: Float64Array }>();

function exposureTimes(seen: ReadonlyMap<string, Date>, codeSet: ReadonlySet<string> | null): Float64Array {
  if (!codeSet) {
    const cached = timesCache.get(seen);
    if (cached && cached.size === seen.size) return cached.times;
  }
  const times = new Float64Array(seen.size);
  let n = 0;
  for (const [id, at] of seen) if (!codeSet?.has(id)) times[n++] = at.getTime();
  const sorted = times.subarray(0, n).sort();
  if (!codeSet) timesCache.set(seen, { size: seen.size, times: sorted });
  return sorted;
}

/** The single-channel likelihood: a sweep over the window, exact for the piecewise-constant integrand. */
/**
 * `vault`: the unknown source, which saw the whole vault: at T, the canaries planted by then (their
 * sorted planting times) or, without those, all N.
 */
function sweepChannel(channel: TraceChannel, f: Found, logNoise: number, tau: number, vault?: { planted?: Float64Array; size: number }): Single {
  const m = f.ids.length;
  const codeSet = channel.code?.length ? new Set(channel.code) : null;
  const times = vault ? (vault.planted ?? new Float64Array(0)) : exposureTimes(channel.seen, codeSet);
  const fixedSize = vault && !vault.planted ? vault.size : undefined;
  const codeSize = codeSet?.size ?? 0;
  // Code canaries the caller did not list as seen were exposed with the file.
  let codeTime = Infinity;
  if (codeSet) for (const at of channel.seen.values()) codeTime = Math.min(codeTime, at.getTime());
  if (!Number.isFinite(codeTime)) codeTime = f.t0;

  const exposure = new Float64Array(m).fill(NaN);
  // Per item: candidates this channel can explain at some T (ln(r/j) is its share of the mean over candidates).
  const reach = new Int32Array(m);
  const adds: { t: number; code: boolean; until: number; item: number }[] = [];
  const removes: { t: number; item: number }[] = [];
  const consider = (i: number, planted: number, seenAt: number | undefined, code: boolean) => {
    if (seenAt === undefined) return;
    const s = Math.max(seenAt, planted);
    if (s >= f.until[i]) return; // contacted before this channel was exposed to it
    exposure[i] = Number.isNaN(exposure[i]) ? s : Math.min(exposure[i], s);
    reach[i]++;
    adds.push({ t: s, code, until: f.until[i], item: i });
    removes.push({ t: f.until[i], item: i });
  };
  // Walk the smaller side: a scan can find 10,000 canaries, a channel can have seen 10,000.
  if (m <= channel.seen.size + codeSize) {
    for (let i = 0; i < m; i++) {
      for (const c of f.candidates[i]) {
        const code = !!codeSet?.has(c.id);
        consider(i, c.planted, channel.seen.get(c.id)?.getTime() ?? (code ? codeTime : undefined), code);
      }
    }
  } else {
    const plantedOf = (i: number, id: string) => f.candidates[i].find((c) => c.id === id)!.planted;
    for (const [id, at] of channel.seen) {
      for (const i of f.index.get(id) ?? []) consider(i, plantedOf(i, id), at.getTime(), !!codeSet?.has(id));
    }
    if (codeSet) for (const id of codeSet) {
      if (channel.seen.has(id)) continue;
      for (const i of f.index.get(id) ?? []) consider(i, plantedOf(i, id), codeTime, true);
    }
  }
  adds.sort((a, b) => a.t - b.t);
  removes.sort((a, b) => a.t - b.t);

  let [n, kr, kc] = [0, 0, 0];
  let [ni, ai, ri] = [0, 0, 0];
  // Per item: candidates explained now, and whether it counts in the codeword; `share`: Σ ln(r/j) over the items explained.
  const live = new Int32Array(m);
  const isCode = new Uint8Array(m);
  let share = 0;
  const shareOf = (i: number, r: number) => (r === 0 ? 0 : Math.log(r / f.candidates[i].length));
  // The evidence times of the canaries explained now: the earliest bounds T and weighs it.
  const evidence = new MinHeap();
  const apply = (b: number) => {
    while (ni < times.length && times[ni] <= b) {
      n++;
      ni++;
    }
    for (; ai < adds.length && adds[ai].t <= b; ai++) {
      const { item, code } = adds[ai];
      share += shareOf(item, live[item] + 1) - shareOf(item, live[item]);
      if (live[item]++ === 0) {
        isCode[item] = code ? 1 : 0;
        if (code) kc++;
        else kr++;
      }
      evidence.push(adds[ai].until);
    }
    while (evidence.size && evidence.peek() <= b) evidence.pop();
    for (; ri < removes.length && removes[ri].t <= b; ri++) {
      const { item } = removes[ri];
      share += shareOf(item, live[item] - 1) - shareOf(item, live[item]);
      if (--live[item] === 0) {
        if (isCode[item]) kc--;
        else kr--;
      }
    }
  };
  const total = new LogSum();
  const bound = Number.isFinite(tau) ? 0 : Math.log(f.t1 - f.t0);
  let [best, bestT] = [-Infinity, NaN];
  let b = f.t0;
  apply(b);
  while (b < f.t1) {
    let next = f.t1;
    if (ni < times.length && times[ni] < next) next = times[ni];
    if (ai < adds.length && adds[ai].t < next) next = adds[ai].t;
    if (ri < removes.length && removes[ri].t < next) next = removes[ri].t;
    const score = leakScore(codeSize, kc, fixedSize ?? (vault ? Math.max(n, kr) : n), kr) + share + noiseScore(m - kr - kc, logNoise);
    // A stretch weighs at most 1 (the delay) or its length: far below the best so far, skip it (e^-40).
    if (score > -Infinity && score + bound > total.max - 40) {
      total.add(logStretch(b, next, evidence.peek(), tau) + score);
      if (score > best) [best, bestT] = [score, (b + next) / 2];
    }
    b = next;
    apply(b);
  }
  const explains: number[] = [];
  if (!Number.isNaN(bestT)) for (let i = 0; i < m; i++) if (exposure[i] <= bestT && bestT < f.until[i]) explains.push(i);
  const shares = Float64Array.from(reach, (r, i) => shareOf(i, r));
  return { channel, codeSet, times, exposure, shares, logLikelihood: total.value - Math.log(f.t1 - f.t0), bestT, explains };
}

/** ln (1/(T1−T0)) ∫ P(leak = exactly `part` | c, T) dT: the part of a merged leak that came from c. */
function partLikelihood(s: Single, part: readonly number[], f: Found, tau: number, delay: boolean): number {
  if (part.length === 0) return -Infinity;
  let [from, to] = [f.t0, f.t1];
  let kc = 0;
  let share = 0;
  for (const i of part) {
    from = Math.max(from, s.exposure[i]);
    to = Math.min(to, f.until[i]);
    if (f.candidates[i].some((c) => s.codeSet?.has(c.id))) kc++;
    share += s.shares[i];
  }
  if (!(to > from)) return -Infinity;
  const kr = part.length - kc;
  const codeSize = s.codeSet?.size ?? 0;
  const times = s.times;
  // n(T) over [from, to): exposures up to `from`, then one more at each exposure time.
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= from) lo = mid + 1;
    else hi = mid;
  }
  let n = lo;
  let b = from;
  const total = new LogSum();
  const bound = delay && Number.isFinite(tau) ? 0 : Math.log(f.t1 - f.t0);
  while (b < to) {
    const next = n < times.length && times[n] < to ? times[n] : to;
    if (next > b) {
      const score = leakScore(codeSize, kc, n, kr) + share;
      if (score > -Infinity && score + bound > total.max - 40) total.add(logStretch(b, next, to, delay ? tau : Infinity) + score);
    }
    b = next;
    while (n < times.length && times[n] <= b) n++;
  }
  return total.value - Math.log(f.t1 - f.t0);
}

function windowOf(s: Single, part: readonly number[], f: Found): { from: Date; to: Date } | null {
  if (part.length === 0) return null;
  let [from, to] = [-Infinity, Infinity];
  for (const i of part) {
    from = Math.max(from, s.exposure[i], f.planted[i]);
    to = Math.min(to, f.until[i] - 1);
  }
  return { from: new Date(from), to: new Date(to) };
}

/**
 * Rank the channels that could have leaked the found canaries, with "two merged leaks" and "unknown
 * source", by posterior probability (descending; ties by key). Pure: no I/O.
 */
export function trace(input: TraceInput, options: TraceOptions = {}): Suspect[] {
  if (input.found.length === 0) return [];
  const f = prepareFound(input.found);
  const m = f.ids.length;
  const lambda = options.noise ?? TRACE_NOISE;
  const tau = options.evidenceDelay ?? TRACE_EVIDENCE_DELAY;
  const piU = options.unknownPrior ?? TRACE_UNKNOWN_PRIOR;
  const piM = options.mergePrior ?? TRACE_MERGE_PRIOR;
  const U = Math.max(options.universe ?? input.channels.length, input.channels.length, 1);
  let N = Math.max(input.vaultSize, m, 1);
  for (const c of input.channels) N = Math.max(N, c.seen.size);
  const logNoise = Math.log(lambda) - Math.log(N);
  const logSingle = Math.log(Math.max(1 - piU - piM, 1e-12) / U);

  const singles = input.channels.map((c) => sweepChannel(c, f, logNoise, tau));
  const names = (idx: readonly number[]) => idx.map((i) => f.ids[i]);
  const unexplainedOf = (explained: ReadonlySet<number>) => f.ids.filter((_, i) => !explained.has(i));

  const out: Omit<Suspect, 'posterior'>[] = singles.map((s) => ({
    key: s.channel.key,
    kind: s.channel.kind,
    logLikelihood: s.logLikelihood + logSingle,
    explains: names(s.explains),
    unexplained: unexplainedOf(new Set(s.explains)),
    window: windowOf(s, s.explains, f),
  }));

  // Merged pairs a + b: a among the best singles, b any channel that explains something a does not.
  if (piM > 0 && U >= 2 && singles.length >= 2) {
    const live = singles.filter((s) => s.logLikelihood > -Infinity);
    const sets = new Map(live.map((s) => [s, new Set(s.explains)]));
    const firsts = [...live].sort((a, b) => b.logLikelihood - a.logLikelihood || a.channel.key.localeCompare(b.channel.key)).slice(0, MERGE_FIRSTS);
    const logPair = Math.log(piM) - Math.log((U * (U - 1)) / 2);
    const done = new Set<string>();
    for (const a of firsts) {
      const ea = sets.get(a)!;
      // The b that add the most to a (then the smaller ones: they explain one canary best).
      const seconds = live
        .filter((b) => b !== a)
        .map((b) => ({ b, adds: b.explains.filter((x) => !ea.has(x)).length }))
        .filter((x) => x.adds > 0)
        .sort((x, y) => y.adds - x.adds || x.b.times.length - y.b.times.length || x.b.channel.key.localeCompare(y.b.channel.key))
        .slice(0, MERGE_SECONDS);
      for (const { b } of seconds) {
        const eb = sets.get(b)!;
        // Only a pair that explains more than either alone is a merge worth naming.
        if (a.explains.every((x) => eb.has(x))) continue;
        const [first, second] = a.channel.key < b.channel.key ? [a, b] : [b, a];
        const key = `${first.channel.key} + ${second.channel.key}`;
        if (done.has(key)) continue;
        done.add(key);
        const onlyA = a.explains.filter((x) => !eb.has(x));
        const onlyB = b.explains.filter((x) => !ea.has(x));
        // The first evidence is weighed by the delay from the leak of the part that holds it; the other
        // part's time is only bounded by its own evidence (one evidence time is modelled, as for a single).
        const part = (s: Single, idx: readonly number[], earliest: number) => partLikelihood(s, idx, f, tau, idx.some((i) => f.until[i] === earliest));
        const earliestOf = (...parts: (readonly number[])[]) => Math.min(...parts.flatMap((p) => p.map((i) => f.until[i])));
        // Canaries both explain came from one or the other: average the two ways of assigning them all
        // (with none shared the two are the same).
        const uA = earliestOf(a.explains, onlyB);
        const toA = part(a, a.explains, uA) + part(b, onlyB, a.explains.some((i) => f.until[i] === uA) ? -1 : uA);
        const uB = earliestOf(onlyA, b.explains);
        const toB = part(b, b.explains, uB) + part(a, onlyA, b.explains.some((i) => f.until[i] === uB) ? -1 : uB);
        const union = new Set([...a.explains, ...b.explains]);
        const logLikelihood = logSumExp(toA, toB) - Math.LN2 + noiseScore(m - union.size, logNoise) + logPair;
        if (logLikelihood === -Infinity) continue;
        const [wa, wb] = [windowOf(first, first.explains, f)!, windowOf(second, second.explains, f)!];
        out.push({
          key,
          kind: 'merged',
          parts: [first.channel.key, second.channel.key],
          logLikelihood,
          explains: f.ids.filter((_, x) => union.has(x)),
          unexplained: unexplainedOf(union),
          window: { from: new Date(Math.min(wa.from.getTime(), wb.from.getTime())), to: new Date(Math.max(wa.to.getTime(), wb.to.getTime())) },
        });
      }
    }
  }

  // Unknown: a leak from a source that saw the whole vault, each canary from when it was planted.
  const vault: TraceChannel = { key: UNKNOWN_SOURCE, kind: 'system', seen: new Map(f.candidates.flat().map((c) => [c.id, new Date(c.planted)])) };
  const planted = input.vaultPlantedAt?.length ? Float64Array.from(input.vaultPlantedAt, (d) => d.getTime()).sort() : undefined;
  const unknown = sweepChannel(vault, f, logNoise, tau, { planted, size: N });
  const unknownExplains = new Set(unknown.explains);
  out.push({ key: UNKNOWN_SOURCE, kind: 'unknown', logLikelihood: Math.log(piU) + unknown.logLikelihood, explains: names(unknown.explains), unexplained: unexplainedOf(unknownExplains), window: null });

  // Nothing possible (no noise, no unknown, nothing explains): every posterior is 0.
  const max = out.reduce((mx, s) => Math.max(mx, s.logLikelihood), -Infinity);
  if (max === -Infinity) return out.map((s) => ({ ...s, posterior: 0 })).sort((a, b) => a.key.localeCompare(b.key));
  const total = out.reduce((sum, s) => sum + (s.logLikelihood > -Infinity ? Math.exp(s.logLikelihood - max) : 0), 0);
  return out
    .map((s) => ({ ...s, posterior: s.logLikelihood > -Infinity ? Math.exp(s.logLikelihood - max) / total : 0 }))
    .sort((a, b) => b.posterior - a.posterior || b.logLikelihood - a.logLikelihood || a.key.localeCompare(b.key));
}
