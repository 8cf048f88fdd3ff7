import type { Database, Queryable } from '../db/index.js';
import { UserError } from '../lib/errors.js';
import { appendLedger, cliActor, ledgerEntries, sealHit, sealRows, type LedgerEntry } from './ledger.js';

// An incident's life cycle (migration 013): close, reopen, dismiss, merge, note; a hit dismissed or
// restored. Each is one transaction: the row changed, its seal (a `rows` entry for the incident, a
// `hit` entry for a hit), and a life-cycle entry in the evidence ledger saying who, when and why:
//   kind `incident`:   ref = the incident (for a merge: the one merged away), incident = the incident
//                      (for a merge: the one kept); content { action, incident, from, to, reason, note?, into?, hits? }
//   kind `hit-status`: ref = the hit, incident = its incident; content { action, hit, incident, canary, from, to, reason }

export type IncidentStatus = 'open' | 'closed' | 'dismissed' | 'merged';
export const INCIDENT_STATUSES: readonly IncidentStatus[] = ['open', 'closed', 'dismissed', 'merged'];
export type HitStatus = 'active' | 'dismissed';
export const HIT_STATUSES: readonly HitStatus[] = ['active', 'dismissed'];

export type IncidentAction = 'close' | 'reopen' | 'dismiss';
export const INCIDENT_LIFE_KIND = 'incident';
export const HIT_STATUS_KIND = 'hit-status';

export interface LifeMeta {
  /** Who: default the OS user. */
  actor?: string | null;
  at?: Date;
}

export interface LifeChange {
  incident: string;
  from: IncidentStatus;
  to: IncidentStatus;
  /** The ledger entry recording it. */
  seq: number;
}

const TARGET: Record<IncidentAction, IncidentStatus> = { close: 'closed', reopen: 'open', dismiss: 'dismissed' };
/** The statuses each action starts from. */
const FROM: Record<IncidentAction, readonly IncidentStatus[]> = { close: ['open'], reopen: ['closed', 'dismissed'], dismiss: ['open', 'closed'] };

interface LockedIncident {
  id: string;
  status: IncidentStatus;
  merged_into: string | null;
}

async function lockIncident(tx: Queryable, id: string): Promise<LockedIncident> {
  const { rows } = await tx.query<LockedIncident>(`SELECT id, status, merged_into FROM incidents WHERE id = $1 FOR UPDATE`, [id]);
  if (!rows.length) throw new UserError(`no incident ${id} (cradle incidents --status all lists them)`);
  return rows[0];
}

function refuse(i: LockedIncident, action: IncidentAction): never {
  if (i.status === 'merged') throw new UserError(`cannot ${action} incident ${i.id}: it was merged into ${i.merged_into}; work on ${i.merged_into} instead`);
  throw new UserError(`cannot ${action} incident ${i.id}: it is ${TARGET[action] === i.status ? 'already ' : ''}${i.status}`);
}

const actorOf = (meta: LifeMeta) => (meta.actor === undefined ? cliActor() : meta.actor);
/** A name given for the actor (`--by`) is a claim: the entry also keeps the OS user who ran the command. */
const osUser = (meta: LifeMeta) => (meta.actor !== undefined && meta.actor !== cliActor() ? { os_user: cliActor() } : {});

function cleanReason(reason: string | null | undefined, required: boolean, what: string): string | null {
  const text = reason?.trim() ?? '';
  if (!text && required) throw new UserError(`${what} needs a reason: --reason "…"`);
  return text || null;
}

/** Close, reopen or dismiss an incident, with the reason, in one transaction with its ledger entry. */
export async function changeIncidentStatus(db: Database, id: string, action: IncidentAction, reason: string | null, meta: LifeMeta = {}): Promise<LifeChange> {
  const why = cleanReason(reason, true, `${action} ${id}`);
  return db.transaction(async (tx) => {
    const i = await lockIncident(tx, id);
    if (!FROM[action].includes(i.status)) refuse(i, action);
    const to = TARGET[action];
    await tx.query(`UPDATE incidents SET status = $2 WHERE id = $1`, [id, to]);
    await sealRows(tx, 'incidents', [id], { actor: actorOf(meta), incidentId: id, at: meta.at });
    const entry = await appendLedger(tx, { kind: INCIDENT_LIFE_KIND, ref: id, incidentId: id, actor: actorOf(meta), at: meta.at, content: { action, incident: id, from: i.status, to, reason: why, ...osUser(meta) } });
    return { incident: id, from: i.status, to, seq: Number(entry.seq) };
  });
}

/**
 * Triage dismisses an open incident of hits whose hits were all re-judged below the alert threshold
 * (their sender turned out to be a dialer): one transaction with the caller's, a ledger entry like an
 * investigator's (`cradle incidents reopen` undoes it). False when it was not open.
 */
export async function dismissNoiseIncident(tx: Queryable, id: string, reason: string, actor: string | null): Promise<boolean> {
  const i = await lockIncident(tx, id);
  if (i.status !== 'open') return false;
  await tx.query(`UPDATE incidents SET status = 'dismissed' WHERE id = $1`, [id]);
  await sealRows(tx, 'incidents', [id], { actor, incidentId: id });
  await appendLedger(tx, { kind: INCIDENT_LIFE_KIND, ref: id, incidentId: id, actor, content: { action: 'dismiss', incident: id, from: 'open', to: 'dismissed', reason } });
  return true;
}

export interface MergeResult {
  into: string;
  merged: string;
  /** Hits moved from `merged` to `into`. */
  hits: number[];
  seq: number;
}

/** Merge incident `from` into `into`: its hits move there, it is marked merged into `into`. */
export async function mergeIncidents(db: Database, into: string, from: string, reason: string | null, meta: LifeMeta = {}): Promise<MergeResult> {
  if (into === from) throw new UserError(`cannot merge incident ${into} into itself`);
  const why = cleanReason(reason, false, 'merge');
  return db.transaction(async (tx) => {
    // Locked in a fixed order, so two merges of the same pair cannot wait on each other.
    const [a, b] = into < from ? [into, from] : [from, into];
    const first = await lockIncident(tx, a);
    const second = await lockIncident(tx, b);
    const kept = first.id === into ? first : second;
    const gone = first.id === into ? second : first;
    if (kept.status === 'merged') throw new UserError(`cannot merge into incident ${into}: it was merged into ${kept.merged_into}; merge into ${kept.merged_into} instead`);
    if (gone.status === 'merged') throw new UserError(`cannot merge incident ${from}: it was already merged into ${gone.merged_into}`);
    const { rows: sources } = await tx.query<{ id: string; source: string }>(`SELECT id, source FROM incidents WHERE id = ANY($1::text[])`, [[into, from]]);
    const scan = sources.find((s) => s.source !== 'hits');
    // A scan's files and matches are sealed as the scan's own evidence (`scan` entry): they do not move.
    if (scan) throw new UserError(`cannot merge ${from} into ${into}: ${scan.id} is a scan's incident; only incidents of hits can be merged`);
    const { rows: moved } = await tx.query<{ id: number }>(`UPDATE hits SET incident_id = $1 WHERE incident_id = $2 RETURNING id`, [into, from]);
    const hitIds = moved.map((h) => Number(h.id)).sort((x, y) => x - y);
    await tx.query(`UPDATE incidents SET status = 'merged', merged_into = $1 WHERE id = $2`, [into, from]);
    const actor = actorOf(meta);
    for (const h of hitIds) await sealHit(tx, h, { actor, incidentId: into, at: meta.at });
    await sealRows(tx, 'incidents', [from], { actor, incidentId: from, at: meta.at });
    const entry = await appendLedger(tx, {
      kind: INCIDENT_LIFE_KIND,
      ref: from,
      incidentId: into,
      actor,
      at: meta.at,
      content: { action: 'merge', incident: from, into, from: gone.status, to: 'merged', reason: why, hits: hitIds, ...osUser(meta) },
    });
    return { into, merged: from, hits: hitIds, seq: Number(entry.seq) };
  });
}

/** A note on an incident, whatever its status: a ledger entry only. */
export async function noteIncident(db: Database, id: string, note: string, meta: LifeMeta = {}): Promise<{ incident: string; seq: number }> {
  const text = note.trim();
  if (!text) throw new UserError(`a note on ${id} needs some text: cradle incidents note ${id} "…"`);
  return db.transaction(async (tx) => {
    const i = await lockIncident(tx, id);
    const entry = await appendLedger(tx, { kind: INCIDENT_LIFE_KIND, ref: id, incidentId: id, actor: actorOf(meta), at: meta.at, content: { action: 'note', incident: id, from: i.status, to: i.status, reason: null, note: text, ...osUser(meta) } });
    return { incident: id, seq: Number(entry.seq) };
  });
}

export interface HitChange {
  hit: number;
  incident: string | null;
  canary: string;
  from: HitStatus;
  to: HitStatus;
  seq: number;
}

/** Dismiss a hit (left out of traces from now on) or restore it. */
export async function changeHitStatus(db: Database, hitId: number, action: 'dismiss' | 'restore', reason: string | null, meta: LifeMeta = {}): Promise<HitChange> {
  const why = cleanReason(reason, action === 'dismiss', `dismiss hit ${hitId}`);
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: number; status: HitStatus; incident_id: string | null; canary_id: string }>(`SELECT id, status, incident_id, canary_id FROM hits WHERE id = $1 FOR UPDATE`, [hitId]);
    if (!rows.length) throw new UserError(`no hit ${hitId} (cradle hits --status all lists them)`);
    const h = rows[0];
    const to: HitStatus = action === 'dismiss' ? 'dismissed' : 'active';
    if (h.status === to) throw new UserError(action === 'dismiss' ? `cannot dismiss hit ${hitId}: it is already dismissed` : `cannot restore hit ${hitId}: it is not dismissed`);
    await tx.query(`UPDATE hits SET status = $2 WHERE id = $1`, [hitId, to]);
    const actor = actorOf(meta);
    await sealHit(tx, hitId, { actor, at: meta.at });
    const entry = await appendLedger(tx, {
      kind: HIT_STATUS_KIND,
      ref: String(hitId),
      incidentId: h.incident_id,
      actor,
      at: meta.at,
      content: { action, hit: hitId, incident: h.incident_id, canary: h.canary_id, from: h.status, to, reason: why, ...osUser(meta) },
    });
    return { hit: hitId, incident: h.incident_id, canary: h.canary_id, from: h.status, to, seq: Number(entry.seq) };
  });
}

export interface HistoryEntry {
  seq: number;
  at: Date;
  actor: string | null;
  /** close, reopen, dismiss, merge, note; dismiss-hit, restore-hit. */
  action: string;
  incident: string | null;
  hit: number | null;
  from: string | null;
  to: string | null;
  reason: string | null;
  note: string | null;
  /** For a merge: the incident kept. */
  into: string | null;
}

function historyEntry(e: LedgerEntry): HistoryEntry {
  const c = (e.content ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const isHit = e.kind === HIT_STATUS_KIND;
  return {
    seq: Number(e.seq),
    at: e.at instanceof Date ? e.at : new Date(e.at),
    actor: e.actor,
    action: isHit ? `${text(c.action) ?? '?'}-hit` : (text(c.action) ?? '?'),
    incident: text(c.incident),
    hit: isHit ? Number(c.hit) : null,
    from: text(c.from),
    to: text(c.to),
    reason: text(c.reason),
    note: text(c.note),
    into: text(c.into),
  };
}

/** The incident and those merged into it (and into them), oldest first. */
async function mergedFamily(db: Queryable, id: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `WITH RECURSIVE f(id) AS (SELECT $1::text UNION SELECT i.id FROM incidents i JOIN f ON i.merged_into = f.id) SELECT id FROM f`,
    [id],
  );
  return rows.map((r) => r.id);
}

/** The life-cycle entries of an incident (and of the incidents merged into it), in ledger order. */
export async function incidentHistory(db: Queryable, id: string): Promise<HistoryEntry[]> {
  const ids = await mergedFamily(db, id);
  const { rows } = await db.query<LedgerEntry>(
    `SELECT seq, at, kind, ref, incident_id, actor, content, content_hash, prev_hash, hash FROM ledger
      WHERE kind IN ($2, $3) AND (incident_id = ANY($1::text[]) OR (kind = $2 AND ref = ANY($1::text[])))
      ORDER BY seq`,
    [ids, INCIDENT_LIFE_KIND, HIT_STATUS_KIND],
  );
  return rows.map(historyEntry);
}

export interface DismissedHit {
  hitId: number;
  canaryId: string;
  /** From the newest `hit-status` entry about it. */
  reason: string | null;
  by: string | null;
  at: Date | null;
}

/** An incident's dismissed hits, with who dismissed each, when and why. */
export async function dismissedHits(db: Queryable, incidentId: string): Promise<DismissedHit[]> {
  const { rows } = await db.query<{ id: number; canary_id: string }>(`SELECT id, canary_id FROM hits WHERE incident_id = $1 AND status = 'dismissed' ORDER BY id`, [incidentId]);
  if (!rows.length) return [];
  const entries = await ledgerEntries(db, { kind: HIT_STATUS_KIND, refs: rows.map((r) => String(r.id)) });
  const newest = new Map(entries.map((e) => [e.ref, historyEntry(e)]));
  return rows.map((r) => {
    const e = newest.get(String(r.id));
    return { hitId: Number(r.id), canaryId: r.canary_id, reason: e?.reason ?? null, by: e?.actor ?? null, at: e?.at ?? null };
  });
}
