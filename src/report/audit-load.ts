import { TZDate } from '@date-fns/tz';
import type { Database } from '../db/index.js';
import type { TrapNumberState } from '../domain/index.js';
import { UserError } from '../lib/errors.js';
import { parseDay } from './day.js';
import { notChanceSenders } from '../lib/carriers.js';
import { redact } from '../lib/redact.js';
import { iso, isoOrNull, isoWeekOf, isoWeekRange } from '../lib/time.js';
import * as vault from '../vault/index.js';

// `cradle audit`: the program-level view for auditors, over a period of calendar days: the weekly
// rotations done and missed, the canaries live per ward and per export recipient, the trap pool's
// health, the hits and incidents, the tripwires, and the ledger's verification (run by the caller, a
// workflow). Read from the vault once into a plain object (`--format json` prints it); audit-render.ts
// turns it into HTML or Markdown.

/** Weeks of trap numbers the pool should hold at least; fewer and the audit warns. */
export { POOL_WEEKS_WANTED } from '../vault/pool.js';
import { POOL_WEEKS_WANTED } from '../vault/pool.js';
/** Noisiest trap numbers listed. */
export const NOISY_NUMBERS = 10;
/** Tripwire lines listed (the newest); every one is counted. */
export const TRIPWIRE_LINES = 50;

/**
 * done: completed; partial: started but not completed; missed: a week that has ended (or, for a past
 * week, started) without a completed rotation; due: the current week, not rotated yet; before: a week
 * before the hospital's first rotation (Cradle was not running there yet), never missed.
 */
export type AuditWeekStatus = 'done' | 'partial' | 'missed' | 'due' | 'before';

export interface AuditWeek {
  week: string;
  /** Monday 00:00 in the hospital's time zone, as an instant. */
  start: string;
  /** That Monday as a calendar date, yyyy-mm-dd. */
  monday: string;
  status: AuditWeekStatus;
  planned: number;
  planted: number;
  completedAt: string | null;
}

export interface AuditWardCanaries {
  ward: string;
  /** Live (planted, not retired) at the end of the period. */
  live: number;
  /** Planted by rotations or seeding during the period. */
  plantedInPeriod: number;
  /** Retired during the period. */
  retiredInPeriod: number;
}

export interface AuditRecipientCanaries {
  /** The export channel's name: export:<recipient>. */
  recipient: string;
  /** Exports to it made during the period. */
  exportsInPeriod: number;
  exportsTotal: number;
  /** Canaries of its export files (their own, or a code's shared ones) live at the end of the period. */
  live: number;
  lastExportAt: string | null;
}

export interface AuditNoisyNumber {
  e164: string;
  state: TrapNumberState;
  /** Contacts before any canary held it (in its burn-in, or while it waited in the pool). */
  contacts: number;
  /** Days from its entry into the pool to its first canary (or to now). */
  days: number;
  perDay: number;
}

export interface AuditIncident {
  id: string;
  source: string;
  title: string;
  status: string;
  createdAt: string;
  hits: number;
  canaries: number;
  firstContact: string | null;
  lastContact: string | null;
  senders: number;
}

/** Access-log lines of one account that touched canaries: single-record opens (tripwires), or lists that included them. */
export interface AuditAccountLines {
  account: string;
  /** Log lines. */
  lines: number;
  /** Distinct canaries. */
  canaries: number;
  first: string;
  last: string;
}

export interface AuditTripwire {
  at: string;
  account: string;
  canaryId: string;
  scope: 'single' | 'bulk';
  action: string;
  system: string | null;
  file: string;
  line: number;
}

/** One comparison of the realism audit (`cradle realism`), as the audit report states it: aggregates and column names only. */
export interface AuditRealismComparison {
  /** planted: the canaries in the target; sample: a fresh dry-run sample. */
  kind: 'planted' | 'sample';
  canaries: number;
  real: number;
  /** The classifier's cross-validated ROC AUC and its 95% interval; null when too few rows. */
  auc: number | null;
  low: number | null;
  high: number | null;
  /** The features it relied on most. */
  reliedOn: string[];
  /** The fields that diverge most: the test, its distance and p-value. */
  fields: { field: string; test: string; distance: number; p: number }[];
}

/** The realism audit in the audit report (`cradle audit --realism`). */
export interface AuditRealism {
  warnAbove: number;
  /** The higher AUC of the comparisons. */
  auc: number | null;
  warning: boolean;
  comparisons: AuditRealismComparison[];
  notes: string[];
}

export interface AuditReportData {
  format: 'cradle-audit-report';
  version: 1;
  generatedAt: string;
  generatedBy: string | null;
  command: string | null;
  tool: string | null;
  hospital: { name: string; displayName: string; timeZone: string };
  /** Calendar days, inclusive, in the hospital's time zone; `start`/`end` the instants they span. */
  period: { from: string; to: string; start: string; end: string };
  rotations: {
    /** Canaries per ward per week, from the configuration; null when it has no rotation plan. */
    plan: Record<string, number> | null;
    /** A rotation.perWeek plan before its first rotation (no allocation per ward yet): canaries a week; else null. */
    perWeek: number | null;
    weeks: AuditWeek[];
    done: number;
    partial: number;
    missed: number;
    due: number;
    /** Weeks of the period before `firstWeek`: not counted as missed. */
    before: number;
    /**
     * The ISO week the program starts from: that of the hospital's first rotation, or, before any
     * rotation, of the hospital's registration in the vault.
     */
    firstWeek: string;
    /** The hospital's first rotation week; null when it has none. */
    firstRotation: string | null;
  };
  canaries: {
    live: number;
    byWard: AuditWardCanaries[];
    byRecipient: AuditRecipientCanaries[];
  };
  pool: {
    counts: Record<TrapNumberState, number>;
    total: number;
    /** Trap numbers a canary takes on average (mother's, and father's where it has one); 1 before any. */
    numbersPerCanary: number;
    /** Numbers a week's rotation takes: the plan's canaries × numbersPerCanary. */
    perWeek: number;
    /** Numbers the next POOL_WEEKS_WANTED rotations take. */
    nextWeeks: number;
    needed: number;
    /** Available now, and coming out of burn-in. */
    supply: number;
    /** Weeks of rotations the supply covers; null without a plan. */
    weeksLeft: number | null;
    /** Fewer than POOL_WEEKS_WANTED weeks of numbers left. */
    low: boolean;
    /**
     * pool.sharing: "shared" numbers are reused (supply: every number but the blocked; weeksLeft: the
     * weeks the rotation runs on them as `pool plan --shared` plays it, at most `horizon`).
     */
    sharing: 'exclusive' | 'shared';
    /** Shared: the fewest numbers the rotation needs that way; else null. */
    numbersNeeded: number | null;
    /** Shared: the weeks played; else null. */
    horizon: number | null;
    /** Numbers that got any contact before a canary held them. */
    noisy: number;
    /** All background contacts, and the days they were counted over. */
    noiseContacts: number;
    noiseDays: number;
    noisiest: AuditNoisyNumber[];
    /** The pool against the real patients' phone segments (latest stored profile); null without one. */
    segments: vault.PoolSegmentCheck | null;
  };
  hits: {
    /** Hits on this hospital's canaries by contacts in the period. */
    inPeriod: number;
    incidents: AuditIncident[];
    open: number;
    closed: number;
    /** Dismissed: not a leak (robocalls, a wrong number); counted apart from closed. */
    dismissed: number;
    /** Merged into another incident. */
    merged: number;
  };
  /** Single-record opens of a canary in the access logs (view, print, export of one record): each an alert. */
  tripwires: {
    /** Canary records opened one at a time (a log line each). */
    total: number;
    accounts: AuditAccountLines[];
    /** The newest TRIPWIRE_LINES. */
    lines: AuditTripwire[];
  };
  /** Lists, searches and bulk exports that included canaries: exposures, not tripwires (no alert). */
  listExposures: {
    /** Canary records shown (a list of 40 holding 3 canaries counts 3). */
    total: number;
    /** Log lines (lists) that included a canary. */
    lines: number;
    canaries: number;
    accounts: AuditAccountLines[];
  };
  ledger: {
    ok: boolean;
    intact: boolean;
    entries: number;
    head: { seq: number; hash: string; at: string } | null;
    break: { seq: number; kind: string; ref: string; problem: string; detail: string } | null;
    evidenceChecked: number;
    problems: number;
    unsealedContacts: number;
    predateLedger: number;
    /** Reports (incident and audit) recorded in the ledger during the period. */
    reportsInPeriod: number;
  };
  /** The realism audit, when it was run with the report (`--realism`); null otherwise. */
  realism?: AuditRealism | null;
}

/** The ledger's verification the audit states, as src/ledger/verify.ts's verifyVault gives it (a workflow runs it). */
export interface AuditVerification {
  ok: boolean;
  ledger: { entries: number; intact: boolean; head: { seq: number; hash: string; at: Date } | null; break: AuditReportData['ledger']['break'] };
  evidence: { checked: number; problemCount: number; unsealedContacts: number; predateLedger: number };
}

/** What the audit states of the pool's supply (src/pool/supply.ts's PlanSupply). */
export interface AuditPoolSupply {
  counts: Record<TrapNumberState, number>;
  numbersPerCanary: number;
  perWeek: number;
  supply: number;
  weeksLeft: number | null;
  low: boolean;
  sharing: 'exclusive' | 'shared';
  numbersNeeded: number | null;
  horizon: number | null;
}

/** Exclusive numbers: used up, the supply over what a week takes (vault.poolSupply). */
function exclusiveSupply(s: vault.PoolSupply): AuditPoolSupply {
  return { ...s, low: s.weeksLeft !== null && s.weeksLeft < POOL_WEEKS_WANTED, sharing: 'exclusive', numbersNeeded: null, horizon: null };
}

export interface LoadAuditOptions {
  hospital: { name: string; displayName?: string; timeZone: string; wards?: string[]; rotation: Record<string, number> | null; perWeek?: number | null; /** pool.sharing of the config (default exclusive). */ sharing?: 'exclusive' | 'shared' };
  /** The whole ledger and the evidence against it, verified as `cradle verify` does. */
  verification: AuditVerification;
  /** yyyy-mm-dd, inclusive. */
  from: string;
  to: string;
  now?: Date;
  generatedBy?: string | null;
  command?: string | null;
  tool?: string | null;
  /**
   * The pool's supply against `canariesPerWeek` under the hospital's pool.sharing (src/pool/supply.ts,
   * planSupply, which `cradle pool list` uses too); absent, exclusive numbers (vault.poolSupply).
   */
  poolSupply?: (canariesPerWeek: number) => Promise<AuditPoolSupply>;
  /** watch.knownSenders of the config: the hospital's own lines, whose texts to a trap are no background noise. */
  knownSenders?: readonly string[];
}

// parseDay: ./day.ts (light, for the CLI's option parser).
export { parseDay };

/** Today's date, yyyy-mm-dd, in the hospital's time zone: `--to`'s default. */
export function hospitalToday(now: Date, timeZone: string): string {
  const local = new TZDate(now.getTime(), timeZone);
  return `${local.getFullYear()}-${String(local.getMonth() + 1).padStart(2, '0')}-${String(local.getDate()).padStart(2, '0')}`;
}

/** [start, end) of the period: midnight of `from` to the midnight after `to`, in the hospital's time zone. */
export function auditPeriod(from: string, to: string, timeZone: string): { start: Date; end: Date } {
  const a = parseDay(from, '--from');
  const b = parseDay(to, '--to');
  if (Date.UTC(a.y, a.m - 1, a.d) > Date.UTC(b.y, b.m - 1, b.d)) throw new UserError(`--from ${from} is after --to ${to}`);
  return { start: new Date(new TZDate(a.y, a.m - 1, a.d, timeZone).getTime()), end: new Date(new TZDate(b.y, b.m - 1, b.d + 1, timeZone).getTime()) };
}

/** ISO weeks overlapping [start, end) that have started by `now`, in order. */
export function weeksOf(start: Date, end: Date, now: Date, timeZone: string): string[] {
  const weeks: string[] = [];
  let week = isoWeekOf(start, timeZone);
  for (;;) {
    const range = isoWeekRange(week, timeZone);
    if (range.start >= end || range.start > now) break;
    weeks.push(week);
    week = isoWeekOf(range.end, timeZone);
  }
  return weeks;
}

/** A week's status; `programStart`: the start of the week the program starts from (weeks before it are 'before'). */
export function weekStatus(week: { start: Date; end: Date }, rotation: vault.RotationRow | undefined, now: Date, programStart?: Date): AuditWeekStatus {
  if (rotation?.completed_at) return 'done';
  if (rotation) return 'partial';
  if (programStart && week.start < programStart) return 'before';
  return week.end > now ? 'due' : 'missed';
}

/** Access-log lines per account, busiest first. */
function perAccount(trips: readonly vault.TripwireRow[]): AuditAccountLines[] {
  const accounts = new Map<string, { account: string; lines: Set<string>; canaries: Set<string>; first: string; last: string }>();
  for (const t of trips) {
    const at = iso(t.at);
    const a = accounts.get(t.account) ?? { account: t.account, lines: new Set<string>(), canaries: new Set<string>(), first: at, last: at };
    a.lines.add(`${t.path}\u0000${t.line}`);
    a.canaries.add(t.canary_id);
    if (at < a.first) a.first = at;
    if (at > a.last) a.last = at;
    accounts.set(t.account, a);
  }
  return [...accounts.values()]
    .map((a) => ({ account: a.account, lines: a.lines.size, canaries: a.canaries.size, first: a.first, last: a.last }))
    .sort((a, b) => b.lines - a.lines || a.account.localeCompare(b.account));
}

export async function loadAuditReport(db: Database, options: LoadAuditOptions): Promise<AuditReportData> {
  const now = options.now ?? new Date();
  const h = options.hospital;
  const { start, end } = auditPeriod(options.from, options.to, h.timeZone);
  const until = end < now ? end : now;

  // Rotations: every week of the period that has started, with what the vault recorded for it.
  const rotationRows = await vault.listRotations(db, h.name);
  const rotations = new Map(rotationRows.map((r) => [r.iso_week, r]));
  const planSize = h.rotation ? Object.values(h.rotation).reduce((a, b) => a + b, 0) : (h.perWeek ?? 0);
  // Weeks before the hospital's first rotation are not missed: Cradle was not running there yet.
  // Before any rotation, the program starts from the week the hospital was registered in the vault.
  const firstRotation = rotationRows.length ? rotationRows.map((r) => r.iso_week).reduce((a, b) => (isoWeekRange(b, h.timeZone).start < isoWeekRange(a, h.timeZone).start ? b : a)) : null;
  const { rows: registered } = await db.query<{ created_at: Date }>(`SELECT created_at FROM hospitals WHERE name = $1`, [h.name]);
  const firstWeek = firstRotation ?? isoWeekOf(registered[0] ? new Date(registered[0].created_at) : now, h.timeZone);
  const programStart = isoWeekRange(firstWeek, h.timeZone).start;
  const weeks: AuditWeek[] = weeksOf(start, end, now, h.timeZone).map((week) => {
    const range = isoWeekRange(week, h.timeZone);
    const r = rotations.get(week);
    const local = new TZDate(range.start, h.timeZone);
    const monday = `${local.getFullYear()}-${String(local.getMonth() + 1).padStart(2, '0')}-${String(local.getDate()).padStart(2, '0')}`;
    const status = weekStatus(range, r, now, programStart);
    // A week before the program had no plan to carry out.
    return { week, start: iso(range.start), monday, status, planned: r ? Number(r.planned) : status === 'before' ? 0 : planSize, planted: r ? Number(r.planted) : 0, completedAt: isoOrNull(r?.completed_at) };
  });
  const tally = (s: AuditWeekStatus) => weeks.filter((w) => w.status === s).length;

  // Canaries per ward (the seeded ones) and per export recipient (the exports' own and shared ones), live at the period's end.
  const { rows: wardRows } = await db.query<{ ward: string; live: number; planted: number; retired: number }>(
    `SELECT ward,
            count(*) FILTER (WHERE planted_at < $2 AND (retired_at IS NULL OR retired_at >= $2))::int AS live,
            count(*) FILTER (WHERE planted_at >= $3 AND planted_at < $2)::int AS planted,
            count(*) FILTER (WHERE retired_at >= $3 AND retired_at < $2)::int AS retired
       FROM canaries WHERE hospital = $1 AND batch_id IS NOT NULL AND status <> 'pending' GROUP BY ward`,
    [h.name, until.toISOString(), start.toISOString()],
  );
  const wardOrder = [...(h.wards ?? []), ...Object.keys(h.rotation ?? {})];
  const rank = (w: string) => (wardOrder.includes(w) ? wardOrder.indexOf(w) : wardOrder.length);
  const wardNames = [...new Set([...wardOrder.filter((w) => h.rotation?.[w] || wardRows.some((r) => r.ward === w)), ...wardRows.map((r) => r.ward)])].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const byWard: AuditWardCanaries[] = wardNames.map((ward) => {
    const r = wardRows.find((x) => x.ward === ward);
    return { ward, live: r?.live ?? 0, plantedInPeriod: r?.planted ?? 0, retiredInPeriod: r?.retired ?? 0 };
  });
  const { rows: recipientRows } = await db.query<{ recipient: string; in_period: number; total: number; last_at: Date | null }>(
    `SELECT ch.name AS recipient, count(*) FILTER (WHERE x.created_at >= $2 AND x.created_at < $3)::int AS in_period, count(*)::int AS total,
            max(x.created_at) FILTER (WHERE x.created_at < $3) AS last_at
       FROM exports x JOIN channels ch ON ch.id = x.channel_id WHERE x.hospital = $1 GROUP BY ch.name`,
    [h.name, start.toISOString(), until.toISOString()],
  );
  const { rows: recipientLive } = await db.query<{ recipient: string; live: number }>(
    `SELECT ch.name AS recipient, count(DISTINCT c.id)::int AS live
       FROM exports x JOIN channels ch ON ch.id = x.channel_id JOIN export_rows r ON r.export_id = x.id JOIN canaries c ON c.id = r.canary_id
      WHERE x.hospital = $1 AND x.created_at < $2 AND c.planted_at < $2 AND (c.retired_at IS NULL OR c.retired_at >= $2)
      GROUP BY ch.name`,
    [h.name, until.toISOString()],
  );
  const byRecipient: AuditRecipientCanaries[] = recipientRows
    .map((r) => ({ recipient: r.recipient, exportsInPeriod: r.in_period, exportsTotal: r.total, live: recipientLive.find((x) => x.recipient === r.recipient)?.live ?? 0, lastExportAt: isoOrNull(r.last_at) }))
    .filter((r) => r.lastExportAt !== null)
    .sort((a, b) => b.live - a.live || a.recipient.localeCompare(b.recipient));

  // The trap pool: what is left against what the next rotations take, and the numbers that ring on their own.
  // The workflow gives the supply model of the hospital's pool.sharing (src/pool/supply.ts: shared
  // numbers are reused, not used up); without it, exclusive numbers.
  const pool = options.poolSupply ? await options.poolSupply(planSize) : exclusiveSupply(await vault.poolSupply(db, h.name, planSize));
  const { counts, numbersPerCanary, perWeek, supply, weeksLeft } = pool;
  // Background traffic as triage reckons it (vault.trapBackgrounds): the carriers' bills and notices,
  // the hospital's known senders and what the network sent (Gammu USSD replies, delivery reports) are
  // no noise.
  const numbers = await vault.listTrapNumbers(db, { hospital: h.name });
  const backgrounds = await vault.trapBackgrounds(db, numbers.map((n) => n.e164), notChanceSenders(options.knownSenders), now);
  const noise = numbers.map((n) => ({ e164: n.e164, state: n.state, contacts: backgrounds.get(n.e164)?.contacts ?? 0, days: Math.max(0, backgrounds.get(n.e164)?.days ?? 0) }));
  const noiseRows = noise.map((n) => ({ e164: n.e164, state: n.state, contacts: Number(n.contacts), days: Number(n.days), perDay: Number(n.contacts) / Math.max(Number(n.days), 1) }));
  const noisiest = noiseRows
    .filter((n) => n.contacts > 0)
    .sort((a, b) => b.perDay - a.perDay || b.contacts - a.contacts || a.e164.localeCompare(b.e164))
    .slice(0, NOISY_NUMBERS)
    .map((n) => ({ ...n, days: Math.round(n.days * 100) / 100, perDay: Math.round(n.perDay * 1000) / 1000 }));

  // Hits on this hospital's canaries in the period, and the incidents they (or scans of its canaries) make.
  const { rows: hitRows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM hits h JOIN contact_events e ON e.id = h.event_id JOIN canaries c ON c.id = h.canary_id
      WHERE c.hospital = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3`,
    [h.name, start.toISOString(), end.toISOString()],
  );
  const { rows: mine } = await db.query<{ id: string }>(
    `SELECT DISTINCT h.incident_id AS id FROM hits h JOIN canaries c ON c.id = h.canary_id WHERE c.hospital = $1 AND h.incident_id IS NOT NULL
     UNION SELECT DISTINCT m.incident_id FROM scan_matches m JOIN canaries c ON c.id = m.canary_id WHERE c.hospital = $1`,
    [h.name],
  );
  const ours = new Set(mine.map((r) => r.id));
  // An incident belongs to the period if its contacts fall in it, it was opened in it, or it was still open.
  const within = (d: Date | string | null) => d !== null && new Date(d) >= start && new Date(d) < end;
  const incidents: AuditIncident[] = (await vault.listIncidents(db))
    .filter((i) => ours.has(i.id))
    .filter(
      (i) =>
        within(i.created_at) ||
        (i.first_contact !== null && new Date(i.first_contact) < end && new Date(i.last_contact ?? i.first_contact) >= start) ||
        (i.status === 'open' && new Date(i.first_contact ?? i.created_at) < end),
    )
    .map((i) => ({ id: i.id, source: i.source, title: i.title, status: i.status, createdAt: iso(i.created_at), hits: Number(i.hits), canaries: Number(i.canaries), firstContact: isoOrNull(i.first_contact), lastContact: isoOrNull(i.last_contact), senders: i.senders.length }));

  const tallyOf = (status: string) => incidents.filter((i) => i.status === status).length;

  // Tripwires: access-log lines that opened one canary's record, in the period. Lines that listed
  // records (a ward list, a search, a bulk export) and included canaries are list exposures, apart.
  const touched = (await vault.listTripwires(db, { hospital: h.name, since: start })).filter((t) => new Date(t.at) < end);
  const trips = touched.filter((t) => t.scope === 'single');
  const listed = touched.filter((t) => t.scope !== 'single');

  // The ledger: the whole chain and the evidence against it, as `cradle verify` checked them.
  const verified = options.verification;
  const { rows: reports } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ledger WHERE kind = 'report' AND at >= $1 AND at < $2`, [start.toISOString(), end.toISOString()]);
  const head = verified.ledger.head;

  return {
    format: 'cradle-audit-report',
    version: 1,
    generatedAt: iso(now),
    generatedBy: options.generatedBy ?? null,
    command: options.command == null ? null : redact(options.command),
    tool: options.tool ?? null,
    hospital: { name: h.name, displayName: h.displayName ?? h.name, timeZone: h.timeZone },
    period: { from: options.from, to: options.to, start: iso(start), end: iso(end) },
    rotations: { plan: h.rotation, perWeek: h.rotation ? null : (h.perWeek ?? null), weeks, done: tally('done'), partial: tally('partial'), missed: tally('missed'), due: tally('due'), before: tally('before'), firstWeek, firstRotation },
    canaries: { live: byWard.reduce((s, w) => s + w.live, 0), byWard, byRecipient },
    pool: {
      counts,
      total: Object.values(counts).reduce((a, b) => a + b, 0),
      numbersPerCanary: Math.round(numbersPerCanary * 100) / 100,
      perWeek,
      nextWeeks: POOL_WEEKS_WANTED,
      needed: perWeek * POOL_WEEKS_WANTED,
      supply,
      weeksLeft,
      low: pool.low,
      sharing: pool.sharing,
      numbersNeeded: pool.numbersNeeded,
      horizon: pool.horizon,
      noisy: noiseRows.filter((n) => n.contacts > 0).length,
      noiseContacts: noiseRows.reduce((s, n) => s + n.contacts, 0),
      noiseDays: Math.round(noiseRows.reduce((s, n) => s + n.days, 0) * 100) / 100,
      noisiest,
      segments: await vault.poolSegmentCheck(db, h.name),
    },
    hits: { inPeriod: hitRows[0].n, incidents, open: tallyOf('open'), closed: tallyOf('closed'), dismissed: tallyOf('dismissed'), merged: tallyOf('merged') },
    tripwires: {
      total: trips.length,
      accounts: perAccount(trips),
      lines: trips.slice(0, TRIPWIRE_LINES).map((t) => ({ at: iso(t.at), account: t.account, canaryId: t.canary_id, scope: t.scope, action: t.action, system: t.system, file: t.path, line: Number(t.line) })),
    },
    listExposures: {
      total: listed.length,
      lines: new Set(listed.map((t) => `${t.path}\u0000${t.line}`)).size,
      canaries: new Set(listed.map((t) => t.canary_id)).size,
      accounts: perAccount(listed),
    },
    ledger: {
      ok: verified.ok,
      intact: verified.ledger.intact,
      entries: verified.ledger.entries,
      head: head ? { seq: Number(head.seq), hash: head.hash, at: iso(head.at) } : null,
      break: verified.ledger.break,
      evidenceChecked: verified.evidence.checked,
      problems: verified.evidence.problemCount,
      unsealedContacts: verified.evidence.unsealedContacts,
      predateLedger: verified.evidence.predateLedger,
      reportsInPeriod: reports[0].n,
    },
    realism: null,
  };
}
