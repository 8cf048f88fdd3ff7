import { createRandom } from '../lib/generate/random.js';
import { canaryKey, type World } from '../pool/share.js';
import { trace, type FoundCanary } from '../trace/model.js';

// The attribution accuracy a shared pool buys (docs/trace.md, "Shared trap numbers"): leaks drawn in a
// plan played on the pool (src/pool/share.ts), their contacts resolved as triage resolves them, traced.

const DAY = 86_400_000;

export interface AccuracyRun {
  kind: 'export' | 'account' | 'ward';
  truth: string;
  leaked: number;
  named: number;
  /** Contacts resolved to a set of two or more canaries, and the mean size of those sets. */
  ambiguous: number;
  meanSet: number;
  /** The leak can tell its source (accuracyOfSharing's definition). */
  tells: boolean;
  /** The true channel ranks first (alone, or as a part of the top pair). */
  first: boolean;
  /** The top suspect's posterior, and whether it is the true channel itself. */
  topPosterior: number;
  topRight: boolean;
  top: string;
}

export interface SharingAccuracy {
  runs: number;
  /** Runs where the leak can tell its source, and the share of them where it ranks first. */
  telling: number;
  firstWhenTelling: number;
  /** Share of all runs where the true source ranks first. */
  firstOverall: number;
  /** Calibration of the top suspect's posterior: runs, mean posterior and share right per bucket. */
  calibration: { from: number; to: number; runs: number; said: number; right: number }[];
  /** Mean size of the candidate set of a contact that named no family. */
  meanSet: number;
  details: AccuracyRun[];
}

const BUCKETS = [0, 0.5, 0.7, 0.85, 0.95, 0.99, 1.0000001];

/**
 * Leaks drawn as the trace model assumes (docs/trace.md): a channel of one kind (an export file, an
 * account, a ward; kinds equally likely, channels uniform), a time T uniform over its life, a leak of k
 * of the n canaries it had seen by then (P(k) ∝ 1/k) each contacted 1 to 7 days after T by an SMS that
 * names the family with probability `nameShare`. A named contact is its canary; one that names none
 * is the candidates of its number then (SharedPool.candidatesAt; none: the number's latest holder),
 * as triage records it. The trace then ranks every channel that saw a candidate.
 *
 * The leak can tell its source when every other known channel c is told apart from the true one t at T by the contacts themselves: c
 * had seen by T no candidate of any contact (it explains nothing), or there are two contacts c had
 * seen no candidate of by T (it could explain them only as noise), or c had seen by T at least twice
 * as many canaries as t (the size principle separates them); docs/trace.md's definition, with the
 * candidate sets for the canaries.
 */
export function accuracyOfSharing(
  world: World,
  options: {
    runs: number;
    nameShare: number;
    seed: string;
    /** "kinds" (default): export, account and ward equally likely, then a channel of the kind; "channels": every channel equally likely, the trace's own prior (for calibration). */
    draw?: 'kinds' | 'channels';
  },
): SharingAccuracy {
  const rng = createRandom(`${options.seed}:leaks`);
  const byKind = { export: [] as number[], account: [] as number[], ward: [] as number[] };
  world.channels.forEach((c, i) => {
    if (c.kind === 'export' || c.kind === 'account' || c.kind === 'ward') byKind[c.kind].push(i);
  });
  const kinds = (['export', 'account', 'ward'] as const).filter((k) => byKind[k].length > 0);
  if (kinds.length === 0) return { runs: 0, telling: 0, firstWhenTelling: 0, firstOverall: 0, calibration: [], meanSet: 0, details: [] };
  const seenSorted = world.channels.map((c) => [...c.seen.entries()].map(([k, d]) => ({ canary: Number(k.slice(1)), at: d.getTime() })).sort((a, b) => a.at - b.at));
  const countBy = (c: number, t: number) => {
    const s = seenSorted[c];
    let [lo, hi] = [0, s.length];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid].at <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const details: AccuracyRun[] = [];
  while (details.length < options.runs) {
    let kind = kinds[rng.int(0, kinds.length - 1)];
    let t = byKind[kind][rng.int(0, byKind[kind].length - 1)];
    if (options.draw === 'channels') {
      const all = kinds.flatMap((k) => byKind[k]);
      t = all[rng.int(0, all.length - 1)];
      kind = world.channels[t].kind as typeof kind;
    }
    const ch = world.channels[t];
    const T = ch.first + rng.next() * (world.end - 7 * DAY - ch.first);
    const n = countBy(t, T);
    if (n === 0 || !(T > ch.first)) continue;
    // k ∝ 1/k over 1..n, then k distinct of the n seen.
    let u = rng.next() * [...Array(n)].reduce((s, _, i) => s + 1 / (i + 1), 0);
    let k = 1;
    for (; k < n && (u -= 1 / k) > 0; k++);
    const pool = seenSorted[t].slice(0, n).map((s) => s.canary);
    for (let i = 0; i < k; i++) {
      const j = rng.int(i, n - 1);
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    const leaked = pool.slice(0, k);
    const contacts = leaked.map((x) => {
      const at = T + (1 + rng.next() * 6) * DAY;
      const named = rng.chance(options.nameShare);
      const number = world.numberOf[x];
      const set = named ? [x] : world.pool.candidatesAt(number, at);
      return { x, at, named, set: [...new Set(set)].sort((a, b) => a - b) };
    });
    const found: FoundCanary[] = contacts.map((c) => ({
      id: c.set.map(canaryKey).join('|'),
      plantedAt: new Date(Math.min(...c.set.map((s) => world.plantedAt[s]))),
      seenLeakedAt: new Date(c.at),
      ...(c.set.length > 1 ? { candidates: c.set.map((s) => ({ id: canaryKey(s), plantedAt: new Date(world.plantedAt[s]) })) } : {}),
    }));
    const involved = [...new Set(contacts.flatMap((c) => c.set.flatMap((s) => world.seenBy[s])))];
    const last = Math.max(...contacts.map((c) => c.at));
    const vaultPlantedAt = world.plantedAt.filter((p) => p <= last).map((p) => new Date(p));
    const universe = world.channels.filter((c) => c.first <= last).length;
    const ranked = trace(
      { found, channels: involved.map((c) => ({ key: world.channels[c].key, kind: world.channels[c].kind, seen: world.channels[c].seen })), vaultSize: vaultPlantedAt.length, vaultPlantedAt },
      { universe },
    );
    const top = ranked[0];
    // Can the leak tell it?
    const nt = countBy(t, T);
    const sawBy = (c: number, s: number) => {
      const at = world.channels[c].seen.get(canaryKey(s));
      return at !== undefined && at.getTime() <= T;
    };
    const toldApart = involved.every((c) => {
      if (c === t) return true;
      const missing = contacts.filter((x) => !x.set.some((s) => sawBy(c, s))).length;
      return missing === contacts.length || missing >= 2 || countBy(c, T) >= 2 * nt;
    });
    const ambiguous = contacts.filter((c) => c.set.length > 1);
    details.push({
      kind,
      truth: ch.key,
      leaked: k,
      named: contacts.filter((c) => c.named).length,
      ambiguous: ambiguous.length,
      meanSet: ambiguous.length ? ambiguous.reduce((s, c) => s + c.set.length, 0) / ambiguous.length : 0,
      tells: toldApart,
      first: top.key === ch.key || (top.kind === 'merged' && !!top.parts?.includes(ch.key)),
      topPosterior: top.posterior,
      topRight: top.key === ch.key,
      top: top.key,
    });
  }
  const telling = details.filter((d) => d.tells);
  const calibration = BUCKETS.slice(0, -1).map((from, i) => {
    const to = BUCKETS[i + 1];
    const inside = details.filter((d) => d.topPosterior >= from && d.topPosterior < to);
    const mean = (f: (d: AccuracyRun) => number) => (inside.length ? inside.reduce((s, d) => s + f(d), 0) / inside.length : 0);
    return { from, to: Math.min(to, 1), runs: inside.length, said: mean((d) => d.topPosterior), right: mean((d) => (d.topRight ? 1 : 0)) };
  });
  const sets = details.filter((d) => d.ambiguous > 0);
  return {
    runs: details.length,
    telling: telling.length,
    firstWhenTelling: telling.length ? telling.filter((d) => d.first).length / telling.length : 0,
    firstOverall: details.length ? details.filter((d) => d.first).length / details.length : 0,
    calibration,
    meanSet: sets.length ? sets.reduce((s, d) => s + d.meanSet * d.ambiguous, 0) / sets.reduce((s, d) => s + d.ambiguous, 0) : 0,
    details,
  };
}
