import type { Queryable } from '../db/index.js';
import type { Family } from '../domain/index.js';
import { canonicalJson, HIT_EVIDENCE_COLUMNS, ROWS_COLUMNS, sealRowsRead, type SealMeta } from './ledger.js';
import { addSenderNumbers } from './sender-figures.js';

// Hits (a contact matched to a canary and judged), the incidents that group them, and the alert
// outbox written in the same transaction.

export interface TrapHolder {
  canary_id: string;
  family: Family;
  assigned_at: Date;
  released_at: Date | null;
}

/** Canaries that held the trap number before `at`, the latest first. */
export async function trapHolders(db: Queryable, e164: string, at: Date): Promise<TrapHolder[]> {
  const { rows } = await db.query<TrapHolder>(
    `SELECT a.canary_id, c.family, a.assigned_at, a.released_at
       FROM trap_numbers t JOIN trap_assignments a ON a.trap_number_id = t.id JOIN canaries c ON c.id = a.canary_id
      WHERE t.e164 = $1 AND a.assigned_at <= $2
      ORDER BY a.assigned_at DESC`,
    [e164, at.toISOString()],
  );
  return rows;
}

/**
 * trapHolders for many numbers in one query: every assignment of each number, latest first; a
 * contact's holders are those assigned at or before it (`holdersAt`).
 */
export async function trapHoldersOf(db: Queryable, e164s: readonly string[]): Promise<Map<string, TrapHolder[]>> {
  const out = new Map<string, TrapHolder[]>();
  if (e164s.length === 0) return out;
  const { rows } = await db.query<TrapHolder & { e164: string }>(
    `SELECT t.e164, a.canary_id, c.family, a.assigned_at, a.released_at
       FROM trap_numbers t JOIN trap_assignments a ON a.trap_number_id = t.id JOIN canaries c ON c.id = a.canary_id
      WHERE t.e164 = ANY($1::text[])
      ORDER BY a.assigned_at DESC`,
    [[...new Set(e164s)]],
  );
  for (const { e164, ...h } of rows) out.set(e164, [...(out.get(e164) ?? []), h]);
  return out;
}

/** Of trapHoldersOf's answer, the holders of a number at a time, as trapHolders gives them. */
export function holdersAt(all: ReadonlyMap<string, readonly TrapHolder[]>, e164: string, at: Date): TrapHolder[] {
  return (all.get(e164) ?? []).filter((h) => new Date(h.assigned_at).getTime() <= at.getTime());
}

/** Of these senders, those with an active hit. */
export async function sendersWithHits(db: Queryable, froms: readonly string[]): Promise<Set<string>> {
  if (froms.length === 0) return new Set();
  const { rows } = await db.query<{ from_address: string }>(
    `SELECT DISTINCT e.from_address FROM contact_events e JOIN hits h ON h.event_id = e.id
      WHERE e.from_address = ANY($1::text[]) AND h.status = 'active'`,
    [[...new Set(froms)]],
  );
  return new Set(rows.map((r) => r.from_address));
}

/**
 * Contacts each trap got before any canary held it, and over how many days: its chance traffic, in one
 * query (numbers never added to the pool are left out). Triage weighs hits by it; `cradle audit` lists
 * the noisy numbers from it. Not counted: senders in `notChance` (the
 * hospital's own test texts, the carriers' bills; lower-cased) and what the network sent (a Gammu USSD
 * reply or delivery report, as Cradle's own inbox reader marks it).
 */
export async function trapBackgrounds(db: Queryable, e164s: readonly string[], notChance: readonly string[] = [], /** The end of a number still never held (default the database's now). */ asOf?: Date): Promise<Map<string, { contacts: number; days: number } | null>> {
  const out = new Map<string, { contacts: number; days: number } | null>();
  if (e164s.length === 0) return out;
  const { rows } = await db.query<{ e164: string; contacts: number; days: number | null }>(
    `WITH t AS (
       SELECT t.e164, t.added_at, (SELECT min(a.assigned_at) FROM trap_assignments a WHERE a.trap_number_id = t.id) AS first_assigned
         FROM trap_numbers t WHERE t.e164 = ANY($1::text[]))
     SELECT t.e164, (SELECT count(*)::int FROM contact_events e WHERE e.to_address = t.e164 AND e.occurred_at >= t.added_at AND e.occurred_at < coalesce(t.first_assigned, $3::timestamptz, now())
               AND NOT (lower(coalesce(e.from_address, '')) = ANY($2::text[]))
               AND NOT (e.source LIKE 'gammu-%' AND e.headers ? 'x-gammu-network')) AS contacts,
            EXTRACT(EPOCH FROM (coalesce(t.first_assigned, $3::timestamptz, now()) - t.added_at))::float8 / 86400 AS days
       FROM t`,
    [[...new Set(e164s)], [...notChance], asOf?.toISOString() ?? null],
  );
  for (const r of rows) out.set(r.e164, r.days !== null ? { contacts: r.contacts, days: Number(r.days) } : null);
  return out;
}

/** Distinct other canaries the same sender has active hits on (a dismissed hit is no evidence). */
export async function senderCanaries(db: Queryable, from: string, except: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(DISTINCT h.canary_id)::int AS n FROM hits h JOIN contact_events e ON e.id = h.event_id
      WHERE e.from_address = $1 AND h.canary_id <> $2 AND h.status = 'active'`,
    [from, except],
  );
  return rows[0].n;
}

/**
 * Distinct phone numbers the sender contacted within `windowMs` of `at` that no canary had held when
 * it called them (pool numbers in burn-in or waiting, or numbers that were never traps): a dialer's mark.
 */
export async function senderUnrelatedNumbers(db: Queryable, from: string, at: Date, windowMs: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(DISTINCT e.to_address)::int AS n FROM contact_events e
      WHERE e.from_address = $1 AND position('@' in e.to_address) = 0
        AND e.occurred_at BETWEEN $2::timestamptz - make_interval(secs => $3) AND $2::timestamptz + make_interval(secs => $3)
        AND NOT EXISTS (SELECT 1 FROM trap_numbers t JOIN trap_assignments a ON a.trap_number_id = t.id
                         WHERE t.e164 = e.to_address AND a.assigned_at <= e.occurred_at)`,
    [from, at.toISOString(), windowMs / 1000],
  );
  return rows[0].n;
}

/** An open incident of hits from the same sender, or on the same canary, within `windowMs` of `at`. */
export async function openHitIncident(db: Queryable, from: string | null, canaryId: string, at: Date, windowMs: number): Promise<string | null> {
  // The sender's contacts (contact_events_from) and the canary's hits (hits_canary), each the latest
  // first, not every hit of every open incident.
  const { rows } = await db.query<{ id: string }>(
    `WITH w AS (SELECT $3::timestamptz - make_interval(secs => $4) AS lo, $3::timestamptz + make_interval(secs => $4) AS hi),
     by_sender AS (
       SELECT i.id, e.occurred_at, h.id AS hit FROM w, contact_events e JOIN hits h ON h.event_id = e.id JOIN incidents i ON i.id = h.incident_id
        WHERE $1::text IS NOT NULL AND e.from_address = $1 AND e.occurred_at BETWEEN w.lo AND w.hi AND i.source = 'hits' AND i.status = 'open'
        ORDER BY e.occurred_at DESC, h.id DESC LIMIT 1),
     by_canary AS (
       SELECT i.id, e.occurred_at, h.id AS hit FROM w, hits h JOIN contact_events e ON e.id = h.event_id JOIN incidents i ON i.id = h.incident_id
        WHERE h.canary_id = $2 AND e.occurred_at BETWEEN w.lo AND w.hi AND i.source = 'hits' AND i.status = 'open'
        ORDER BY e.occurred_at DESC, h.id DESC LIMIT 1)
     SELECT id FROM (SELECT * FROM by_sender UNION ALL SELECT * FROM by_canary) x ORDER BY occurred_at DESC, hit DESC LIMIT 1`,
    [from, canaryId, at.toISOString(), windowMs / 1000],
  );
  return rows[0]?.id ?? null;
}

/** A hit in an open hit incident: its incident, sender, canary, contact time in microseconds and id (openHitIncident's order). */
export interface OpenIncidentHit { incident_id: string; from_address: string | null; canary_id: string; us: bigint; id: number }

/**
 * What openHitIncident reads, for these senders and canaries and any time from `from` to `to`, in one
 * statement: the hits in open hit incidents from those senders or on those canaries within the window
 * (openIncidentAt picks an incident from them). From the open incidents' side: few, where a dialer's
 * contacts are many.
 */
export async function openIncidentHitsAround(db: Queryable, froms: readonly string[], canaryIds: readonly string[], from: Date, to: Date, windowMs: number): Promise<OpenIncidentHit[]> {
  const { rows } = await db.query<{ incident_id: string; from_address: string | null; canary_id: string; us: string; id: string }>(
    `SELECT i.id AS incident_id, e.from_address, h.canary_id, (extract(epoch FROM e.occurred_at) * 1000000)::bigint::text AS us, h.id::text
       FROM incidents i JOIN hits h ON h.incident_id = i.id JOIN contact_events e ON e.id = h.event_id
      WHERE i.source = 'hits' AND i.status = 'open' AND (e.from_address = ANY($1::text[]) OR h.canary_id = ANY($2::text[]))
        AND e.occurred_at BETWEEN $3::timestamptz - make_interval(secs => $5) AND $4::timestamptz + make_interval(secs => $5)`,
    [[...new Set(froms)], [...new Set(canaryIds)], from.toISOString(), to.toISOString(), windowMs / 1000],
  );
  return rows.map((r) => ({ incident_id: r.incident_id, from_address: r.from_address, canary_id: r.canary_id, us: BigInt(r.us), id: Number(r.id) }));
}

/** Of openIncidentHitsAround's hits (and any made since), what openHitIncident gives. */
export function openIncidentAt(hits: readonly OpenIncidentHit[], from: string | null, canaryId: string, at: Date, windowMs: number): string | null {
  const [lo, hi] = [BigInt(at.getTime() - windowMs) * 1000n, BigInt(at.getTime() + windowMs) * 1000n];
  const later = (a: OpenIncidentHit, b: OpenIncidentHit | null) => !b || a.us > b.us || (a.us === b.us && a.id > b.id);
  let bySender: OpenIncidentHit | null = null;
  let byCanary: OpenIncidentHit | null = null;
  for (const h of hits) {
    if (h.us < lo || h.us > hi) continue;
    if (from !== null && h.from_address === from && later(h, bySender)) bySender = h;
    if (h.canary_id === canaryId && later(h, byCanary)) byCanary = h;
  }
  const best = bySender && byCanary ? (later(byCanary, bySender) ? byCanary : bySender) : (bySender ?? byCanary);
  return best?.incident_id ?? null;
}

export async function createHitIncident(db: Queryable, id: string, title: string, meta: Omit<SealMeta, 'incidentId'> = {}): Promise<void> {
  // Sealed from the row as written (the columns sealRows reads), not read back.
  const { rows } = await db.query<Record<string, unknown> & { key: string }>(
    `INSERT INTO incidents AS i (id, source, title) VALUES ($1, 'hits', $2) RETURNING ${ROWS_COLUMNS('incidents')}`,
    [id, title],
  );
  await sealRowsRead(db, 'incidents', [id], rows, { ...meta, incidentId: id });
}

/** A hit; `candidates` (two or more, canaryId among them) when the contact could not be resolved to one canary. */
export async function insertHit(db: Queryable, hit: { eventId: number; canaryId: string; confidence: number; reasons: unknown; incidentId: string | null; candidates?: readonly string[] | null }): Promise<number | null> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO hits (event_id, canary_id, confidence, reasons, incident_id, candidates) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (event_id, canary_id) DO NOTHING RETURNING id`,
    [hit.eventId, hit.canaryId, hit.confidence, JSON.stringify(hit.reasons), hit.incidentId, hit.candidates?.length ? hit.candidates : null],
  );
  return rows[0]?.id ?? null;
}

/**
 * A hit as insertHit writes it, returning its row as stored (HIT_EVIDENCE_COLUMNS, for sealHitRow) and its
 * contact's time in microseconds; null when the contact already had a hit on that canary. `id`: one
 * reserveHitIds gave (default the next of the sequence).
 */
export async function insertHitRow(db: Queryable, hit: NewHit & { id?: number }): Promise<InsertedHit | null> {
  const { rows } = await db.query<InsertedHit>(
    `INSERT INTO hits (id, event_id, canary_id, confidence, reasons, incident_id, candidates)
     VALUES (coalesce($7::bigint, nextval(pg_get_serial_sequence('hits', 'id'))), $1, $2, $3, $4, $5, $6)
     ON CONFLICT (event_id, canary_id) DO NOTHING
     RETURNING ${HIT_EVIDENCE_COLUMNS}, (SELECT (extract(epoch FROM e.occurred_at) * 1000000)::bigint::text FROM contact_events e WHERE e.id = hits.event_id) AS us`,
    [hit.eventId, hit.canaryId, hit.confidence, JSON.stringify(hit.reasons), hit.incidentId, hit.candidates?.length ? hit.candidates : null, hit.id ?? null],
  );
  if (!rows[0]) return null;
  return { ...rows[0], id: Number(rows[0].id) };
}

export interface NewHit { eventId: number; canaryId: string; confidence: number; reasons: unknown; incidentId: string | null; candidates?: readonly string[] | null }

/**
 * What a batch of contacts needs to make its hits without a statement per hit: for each contact (in the
 * order given), its time in microseconds, whether it has a hit already (one made before a crash: that
 * contact's hit goes through insertHitRow, which finds it), and a hit id taken from the sequence, in
 * the order given, as inserting their hits one by one would number them.
 */
export async function reserveHitIds(db: Queryable, eventIds: readonly number[]): Promise<Map<number, { id: number; us: string; hasHit: boolean }>> {
  const out = new Map<number, { id: number; us: string; hasHit: boolean }>();
  if (eventIds.length === 0) return out;
  const { rows } = await db.query<{ event_id: string; us: string; has_hit: boolean; id: string }>(
    `SELECT x.event_id::text, (extract(epoch FROM e.occurred_at) * 1000000)::bigint::text AS us,
            EXISTS (SELECT 1 FROM hits h WHERE h.event_id = x.event_id) AS has_hit, nextval(pg_get_serial_sequence('hits', 'id'))::text AS id
       FROM unnest($1::bigint[]) AS x(event_id) JOIN contact_events e ON e.id = x.event_id`,
    [eventIds],
  );
  // The ids in the order of the contacts, whatever order the rows came in.
  const ids = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
  const by = new Map(rows.map((r) => [Number(r.event_id), r]));
  let k = 0;
  for (const eventId of eventIds) {
    const r = by.get(eventId);
    if (r) out.set(eventId, { id: ids[k++], us: r.us, hasHit: r.has_hit });
  }
  return out;
}

/**
 * The row insertHitRow would return for a hit with an id from reserveHitIds, without writing it: the
 * confidence as a real holds it, the reasons as jsonb gives them back (insertHitRows writes it, and
 * checks the row stored is this one).
 */
export function hitRowOf(hit: NewHit & { id: number; us: string }): InsertedHit {
  return {
    key: hit.id, id: hit.id, event_id: hit.eventId, canary_id: hit.canaryId, confidence: float4(hit.confidence),
    reasons: JSON.parse(JSON.stringify(hit.reasons)) as SenderHitRow['reasons'], incident_id: hit.incidentId, status: 'active',
    candidates: hit.candidates?.length ? [...hit.candidates] : null, us: hit.us,
  };
}

/** A number as a PostgreSQL real gives it back: the shortest decimal that reads back as the same single-precision float. */
export function float4(x: number): number {
  const f = Math.fround(x);
  if (!Number.isFinite(f) || f === 0) return f;
  for (let p = 1; p < 9; p++) {
    const v = Number(f.toPrecision(p));
    if (Math.fround(v) === f) return v;
  }
  return Number(f.toPrecision(9));
}

/**
 * Hits made by hitRowOf, written in one statement (ids given, so the order of writing does not matter).
 * Each row stored must be the row its seal was made from: a difference throws (and the batch rolls back).
 */
export async function insertHitRows(db: Queryable, hits: readonly InsertedHit[]): Promise<void> {
  if (hits.length === 0) return;
  const { rows } = await db.query<InsertedHit>(
    `INSERT INTO hits (id, event_id, canary_id, confidence, reasons, incident_id, candidates)
     SELECT id, event_id, canary_id, confidence, reasons::jsonb, incident_id, CASE WHEN candidates IS NULL THEN NULL ELSE ARRAY(SELECT json_array_elements_text(candidates::json)) END
       FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::real[], $5::text[], $6::text[], $7::text[]) AS h(id, event_id, canary_id, confidence, reasons, incident_id, candidates)
     RETURNING ${HIT_EVIDENCE_COLUMNS}`,
    [hits.map((h) => h.id), hits.map((h) => h.event_id), hits.map((h) => h.canary_id), hits.map((h) => h.confidence), hits.map((h) => JSON.stringify(h.reasons)), hits.map((h) => h.incident_id),
      hits.map((h) => (h.candidates ? JSON.stringify(h.candidates) : null))],
  );
  const made = new Map(hits.map((h) => [Number(h.id), h]));
  for (const r of rows) {
    const h = made.get(Number(r.id));
    const same = (x: Record<string, unknown>) => canonicalJson([Number(x.event_id), x.canary_id, Number(x.confidence), x.reasons, x.incident_id ?? null, x.status, x.candidates ?? null]);
    if (!h || same(h) !== same(r)) throw new Error(`hit ${String(r.id)} was stored otherwise than it was sealed`);
  }
  if (rows.length !== hits.length) throw new Error(`${hits.length - rows.length} of ${hits.length} hits were not stored`);
}

export interface InsertedHit extends Record<string, unknown> {
  id: number;
  canary_id: string;
  confidence: number;
  reasons: SenderHitRow['reasons'];
  incident_id: string | null;
  /** The contact's occurred_at in microseconds since the epoch, as text. */
  us: string;
}

/** queueAlert for many alerts, in order, in one statement. */
export async function queueAlerts(db: Queryable, alerts: readonly { hitId: number; incidentId: string | null; channel: string; payload: unknown }[]): Promise<void> {
  if (alerts.length === 0) return;
  if (alerts.length === 1) return queueAlert(db, alerts[0]);
  await db.query(
    `INSERT INTO alert_outbox (hit_id, incident_id, channel, payload)
     SELECT hit_id, incident_id, channel, payload::jsonb FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS a(hit_id, incident_id, channel, payload, n)
      ORDER BY n ON CONFLICT (hit_id, channel) DO NOTHING`,
    [alerts.map((a) => a.hitId), alerts.map((a) => a.incidentId), alerts.map((a) => a.channel), alerts.map((a) => JSON.stringify(a.payload))],
  );
}

export async function queueAlert(db: Queryable, alert: { hitId: number; incidentId: string | null; channel: string; payload: unknown }): Promise<void> {
  await db.query(
    `INSERT INTO alert_outbox (hit_id, incident_id, channel, payload) VALUES ($1, $2, $3, $4) ON CONFLICT (hit_id, channel) DO NOTHING`,
    [alert.hitId, alert.incidentId, alert.channel, JSON.stringify(alert.payload)],
  );
}

/** Mark contacts triaged, and add those to numbers no canary held to their senders' figures (sender_numbers). */
/** Of these contacts, those still untriaged, locked for this transaction; one that another transaction holds is skipped, not waited for. */
export async function claimUntriaged(tx: Queryable, eventIds: readonly number[]): Promise<Set<number>> {
  if (!eventIds.length) return new Set();
  const { rows } = await tx.query<{ id: string | number }>(`SELECT id FROM contact_events WHERE id = ANY($1::bigint[]) AND triaged_at IS NULL ORDER BY id FOR UPDATE SKIP LOCKED`, [eventIds]);
  return new Set(rows.map((r) => Number(r.id)));
}

export async function markTriagedMany(db: Queryable, eventIds: readonly number[], at: Date): Promise<void> {
  await addSenderNumbers(db, eventIds);
  if (eventIds.length) await db.query(`UPDATE contact_events SET triaged_at = $2 WHERE id = ANY($1::bigint[])`, [eventIds, at.toISOString()]);
}

export async function markTriaged(db: Queryable, eventId: number, at: Date): Promise<void> {
  await addSenderNumbers(db, [eventId]);
  await db.query(`UPDATE contact_events SET triaged_at = $2 WHERE id = $1`, [eventId, at.toISOString()]);
}

export interface HitRow {
  id: number;
  event_id: number;
  canary_id: string;
  confidence: number;
  reasons: { reason: string; weight: number }[];
  incident_id: string | null;
  /** active, or dismissed (left out of traces). */
  status: string;
  created_at: Date;
  kind: string;
  source: string;
  from_address: string | null;
  to_address: string;
  occurred_at: Date;
  body: string | null;
  /** Two or more canary ids when the contact could not be resolved to one canary (migration 017); else null. */
  candidates: string[] | null;
}

/** Hits, oldest contact first; `statuses`: only hits with one of these statuses (default all). */
export async function listHits(db: Queryable, since?: Date, statuses?: readonly string[]): Promise<HitRow[]> {
  const { rows } = await db.query<HitRow>(
    `SELECT h.id, h.event_id, h.canary_id, h.confidence, h.reasons, h.incident_id, h.status, h.created_at,
            e.kind, e.source, e.from_address, e.to_address, e.occurred_at, e.body, h.candidates
       FROM hits h JOIN contact_events e ON e.id = h.event_id
      WHERE ($1::timestamptz IS NULL OR e.occurred_at >= $1) AND ($2::text[] IS NULL OR h.status = ANY($2::text[]))
      ORDER BY e.occurred_at, h.id`,
    [since?.toISOString() ?? null, statuses ?? null],
  );
  return rows;
}

export interface IncidentRow {
  id: string;
  source: string;
  title: string;
  status: string;
  /** The incident a merged one was merged into. */
  merged_into: string | null;
  created_at: Date;
  /** Active hits (dismissed ones are counted in dismissed_hits). */
  hits: number;
  dismissed_hits: number;
  canaries: number;
  first_contact: Date | null;
  last_contact: Date | null;
  senders: string[];
}

/** Incidents, oldest first, with their active hits (a dismissed hit is counted apart); `statuses`: only these (default all). */
export async function listIncidents(db: Queryable, statuses?: readonly string[]): Promise<IncidentRow[]> {
  const { rows } = await db.query<IncidentRow>(
    `SELECT i.id, i.source, i.title, i.status, i.merged_into, i.created_at,
            count(h.id) FILTER (WHERE h.status = 'active')::int AS hits, count(h.id) FILTER (WHERE h.status = 'dismissed')::int AS dismissed_hits,
            count(DISTINCT h.canary_id) FILTER (WHERE h.status = 'active')::int AS canaries,
            min(e.occurred_at) FILTER (WHERE h.status = 'active') AS first_contact, max(e.occurred_at) FILTER (WHERE h.status = 'active') AS last_contact,
            coalesce(array_agg(DISTINCT e.from_address) FILTER (WHERE e.from_address IS NOT NULL AND h.status = 'active'), '{}') AS senders
       FROM incidents i LEFT JOIN hits h ON h.incident_id = i.id LEFT JOIN contact_events e ON e.id = h.event_id
      WHERE $1::text[] IS NULL OR i.status = ANY($1::text[])
      GROUP BY i.id ORDER BY i.created_at, i.id`,
    [statuses ?? null],
  );
  return rows;
}

export interface SenderHitRow {
  id: number;
  canary_id: string;
  confidence: number;
  /**
   * As triage stored them (src/triage/score.ts: code, label, reason, weight, effect; older rows reason
   * and weight only); one array shared by the sender's hits judged alike (same confidence, reasons and incident).
   */
  reasons: { code?: string; label?: string; reason: string; weight: number; effect?: number }[];
  incident_id: string | null;
  /** The incident's status (null without one). */
  incident_status: string | null;
  occurred_at: Date;
}

/**
 * The sender's active hits (a dismissed hit stays as the investigator left it), oldest first. A
 * dialer's hits are mostly judged alike: they come grouped by judgement, each group's reasons read once.
 */
export async function senderHits(db: Queryable, from: string): Promise<SenderHitRow[]> {
  return ((await sendersHits(db, [from])).get(from) ?? []).map(({ us: _, ...h }) => h);
}

/** A sender's hit with its contact's time to the microsecond (the order of senderHits). */
export type TimedSenderHitRow = SenderHitRow & { us: bigint };

/** In senderHits' order: by contact time to the microsecond, then id. */
export function compareSenderHits(a: TimedSenderHitRow, b: TimedSenderHitRow): number {
  return a.us < b.us ? -1 : a.us > b.us ? 1 : a.id - b.id;
}

/** senderHits of several senders in one statement, each with its contact's time in microseconds; a sender with none is absent. */
export async function sendersHits(db: Queryable, froms: readonly string[]): Promise<Map<string, TimedSenderHitRow[]>> {
  const by = new Map<string, TimedSenderHitRow[]>();
  if (froms.length === 0) return by;
  const { rows } = await db.query<{ from_address: string; confidence: number; reasons: SenderHitRow['reasons']; incident_id: string | null; incident_status: string | null; ids: string[]; canaries: string[]; us: string[] }>(
    // The canaries the sender has active hits on (sender_canaries, kept with the hits), then those
    // canaries' active hits (hits_canary) from the sender: a dialer's contacts are many, its hits' canaries
    // few. Sender by sender, each step by its key (OFFSET 0 keeps the planner from joining every hit
    // instead, as it may while the tables' statistics are young).
    `SELECT f.from_address, h.confidence, h.reasons, h.incident_id, i.status AS incident_status,
            array_agg(h.id::text) AS ids, array_agg(h.canary_id) AS canaries, array_agg((extract(epoch FROM e.occurred_at) * 1000000)::bigint::text) AS us
       FROM unnest($1::text[]) AS f(from_address)
            CROSS JOIN LATERAL (SELECT sc.canary_id FROM sender_canaries sc WHERE sc.from_address = f.from_address OFFSET 0) sc
            CROSS JOIN LATERAL (SELECT h.* FROM hits h WHERE h.canary_id = sc.canary_id AND h.status = 'active' OFFSET 0) h
            CROSS JOIN LATERAL (SELECT e.occurred_at FROM contact_events e WHERE e.id = h.event_id AND e.from_address = f.from_address OFFSET 0) e
            LEFT JOIN incidents i ON i.id = h.incident_id
      GROUP BY f.from_address, h.confidence, h.reasons, h.incident_id, i.status`,
    [[...new Set(froms)]],
  );
  for (const g of rows) {
    let out = by.get(g.from_address);
    if (!out) by.set(g.from_address, (out = []));
    g.ids.forEach((id, k) => {
      const us = BigInt(g.us[k]);
      out.push({ id: Number(id), canary_id: g.canaries[k], confidence: g.confidence, reasons: g.reasons, incident_id: g.incident_id, incident_status: g.incident_status, occurred_at: new Date(Number(us / 1000n)), us });
    });
  }
  // In contact order, to the microsecond, as ORDER BY e.occurred_at, h.id.
  for (const hits of by.values()) hits.sort(compareSenderHits);
  return by;
}

/** Move a hit into an incident, or out of its incident (null). */
export async function setHitIncident(db: Queryable, id: number, incidentId: string | null): Promise<void> {
  await db.query(`UPDATE hits SET incident_id = $2 WHERE id = $1`, [id, incidentId]);
}

/** The incident's active hits at or above `low`. */
export async function strongHits(db: Queryable, incidentId: string, low: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM hits WHERE incident_id = $1 AND status = 'active' AND confidence >= $2`, [incidentId, low]);
  return rows[0].n;
}

export async function updateHitScore(db: Queryable, id: number, confidence: number, reasons: unknown): Promise<void> {
  await db.query(`UPDATE hits SET confidence = $2, reasons = $3 WHERE id = $1`, [id, confidence, JSON.stringify(reasons)]);
}

/**
 * updateHitScore for many hits (each once) in one statement, returning each row as written (HIT_EVIDENCE_COLUMNS,
 * for sealHitRow), by id. Throws (rolling the transaction back) when a hit is missing.
 */
export async function updateHitScores(db: Queryable, scores: readonly { id: number; confidence: number; reasons: unknown }[]): Promise<Map<number, Record<string, unknown>>> {
  const out = new Map<number, Record<string, unknown>>();
  if (scores.length === 0) return out;
  const { rows } = await db.query<Record<string, unknown> & { id: number | string }>(
    // By primary key (= ANY), each row's values by its position: a join with unnest drew a hash join
    // over every hit (15 ms a call in a flood).
    `UPDATE hits SET confidence = ($2::real[])[array_position($1::bigint[], id)], reasons = (($3::text[])[array_position($1::bigint[], id)])::jsonb
      WHERE id = ANY($1::bigint[])
     RETURNING ${HIT_EVIDENCE_COLUMNS}`,
    [scores.map((s) => s.id), scores.map((s) => s.confidence), scores.map((s) => JSON.stringify(s.reasons))],
  );
  for (const r of rows) out.set(Number(r.id), { ...r, id: Number(r.id) });
  if (out.size !== new Set(scores.map((s) => s.id)).size) throw new Error(`${scores.length - out.size} of ${scores.length} re-judged hits were not found`);
  return out;
}

/** How many bodies recentIncidentBodies gives, the latest first. */
const RECENT_BODIES = 500;

/** Message bodies of open hit incidents' contacts within `windowMs` of `at`: to find the same script. */
export async function recentIncidentBodies(db: Queryable, at: Date, windowMs: number): Promise<{ incident_id: string; body: string }[]> {
  const { rows } = await db.query<{ incident_id: string; body: string }>(
    `SELECT h.incident_id, e.body FROM hits h JOIN contact_events e ON e.id = h.event_id JOIN incidents i ON i.id = h.incident_id
      WHERE i.status = 'open' AND e.body IS NOT NULL AND length(e.body) >= 8
        AND e.occurred_at BETWEEN $1::timestamptz - make_interval(secs => $2) AND $1::timestamptz + make_interval(secs => $2)
      ORDER BY e.occurred_at DESC, h.id DESC LIMIT ${RECENT_BODIES}`,
    [at.toISOString(), windowMs / 1000],
  );
  return rows;
}

/** A body recentIncidentBodies may give, with its contact's time in microseconds and its hit's id (its order). */
export interface IncidentBody { incident_id: string; body: string; us: bigint; id: number }

/**
 * What recentIncidentBodies would give for any `at` from `from` to `to`, in one statement: every body
 * later than `from` + window (up to `to` + window) and the RECENT_BODIES latest before it (from
 * `from` − window); recentBodiesAt picks an `at`'s from them.
 */
export async function incidentBodiesAround(db: Queryable, from: Date, to: Date, windowMs: number): Promise<IncidentBody[]> {
  const { rows } = await db.query<{ incident_id: string; body: string; us: string; id: string }>(
    `WITH b AS (
       SELECT h.incident_id, e.body, e.occurred_at, h.id FROM hits h JOIN contact_events e ON e.id = h.event_id JOIN incidents i ON i.id = h.incident_id
        WHERE i.status = 'open' AND e.body IS NOT NULL AND length(e.body) >= 8
          AND e.occurred_at BETWEEN $1::timestamptz - make_interval(secs => $3) AND $2::timestamptz + make_interval(secs => $3))
     SELECT incident_id, body, (extract(epoch FROM occurred_at) * 1000000)::bigint::text AS us, id::text FROM (
       (SELECT * FROM b WHERE occurred_at > $1::timestamptz + make_interval(secs => $3))
       UNION ALL
       (SELECT * FROM b WHERE occurred_at <= $1::timestamptz + make_interval(secs => $3) ORDER BY occurred_at DESC, id DESC LIMIT ${RECENT_BODIES})) x`,
    [from.toISOString(), to.toISOString(), windowMs / 1000],
  );
  return rows.map((r) => ({ incident_id: r.incident_id, body: r.body, us: BigInt(r.us), id: Number(r.id) }));
}

/** Of incidentBodiesAround's bodies (and any added since), what recentIncidentBodies gives for `at`. */
export function recentBodiesAt(bodies: readonly IncidentBody[], at: Date, windowMs: number): { incident_id: string; body: string }[] {
  const [lo, hi] = [BigInt(at.getTime() - windowMs) * 1000n, BigInt(at.getTime() + windowMs) * 1000n];
  return bodies.filter((b) => b.us >= lo && b.us <= hi)
    .sort((a, b) => (a.us > b.us ? -1 : a.us < b.us ? 1 : b.id - a.id))
    .slice(0, RECENT_BODIES)
    .map(({ incident_id, body }) => ({ incident_id, body }));
}

export interface IncidentHitRow {
  hit_id: number;
  canary_id: string;
  confidence: number;
  reasons: { reason: string; weight: number }[];
  event_id: number;
  source: string;
  provider_id: string | null;
  kind: string;
  from_address: string | null;
  to_address: string;
  occurred_at: Date;
  body: string | null;
  sha256: string;
  /** active, or dismissed. */
  status: string;
}

/** An incident's hits with the evidence behind each: the contact event, its provider id and hash. */
export async function incidentHits(db: Queryable, incidentId: string): Promise<IncidentHitRow[]> {
  const { rows } = await db.query<IncidentHitRow>(
    `SELECT h.id AS hit_id, h.canary_id, h.confidence, h.reasons, h.status, e.id AS event_id, e.source, e.provider_id, e.kind,
            e.from_address, e.to_address, e.occurred_at, e.body, e.sha256
       FROM hits h JOIN contact_events e ON e.id = h.event_id WHERE h.incident_id = $1 ORDER BY e.occurred_at, h.id`,
    [incidentId],
  );
  return rows;
}
