import { customAlphabet } from 'nanoid';
import type { Database, Queryable } from '../db/index.js';
import { maskPhone } from '../lib/phone.js';
import * as vault from '../vault/index.js';
import { carrierOf, notChanceSenders } from '../lib/carriers.js';
import { resolveContact } from './resolve.js';
import { LOW, rejudge, scoreHit, SENDER_WINDOW_MS, SIMILAR, similarity, type Judgement, type Reason } from './score.js';

// Triage: each contact with a trap, once recorded as evidence, is matched to the canary that held
// the trap at the time (names or a birth date in the message decide between canaries that shared a
// number; a contact they cannot resolve keeps the set of candidates, resolve.ts), judged (score.ts), grouped into an incident (same sender or canary within 7 days, or the
// same script from another sender) when it reaches the alert threshold, and queued for alerting, all
// in one transaction per batch of contacts (TRIAGE_BATCH), so a crash leaves the batch untriaged, to be
// triaged again, never part of a contact; within a batch, contacts are handled in order. A hit
// below the threshold (a robocall, a noisy number) is kept as a record in no incident. What a new
// contact says about its sender (more canaries: a list; many numbers no canary held: a dialer)
// re-judges the sender's earlier active hits; a dismissed hit is left as the investigator left it.

const incidentId = customAlphabet('0123456789abcdefghjkmnpqrstvwxyz', 10);
/** Hits from the same sender or on the same canary this close in time belong to one incident. */
export const INCIDENT_WINDOW_MS = 7 * 86_400_000;

export interface TriageOptions {
  now?: Date;
  /** Numbers and addresses of the hospital's own lines and staff: contacts from them are ignored. */
  knownSenders?: readonly string[];
  /** Alert channels configured (email, webhook, slack, teams): one outbox row per hit and channel. */
  alertChannels?: readonly string[];
  /** Most contacts to triage in one call. */
  limit?: number;
  /** Who triages, for the evidence ledger: `watch` for the service; default the OS user. */
  actor?: string;
  /**
   * `arrival` (default): oldest first. `likely-hits`: contacts to traps and mailboxes from senders with
   * few untriaged contacts first (listUntriagedLikelyHitsFirst), so a real hit inside a flood of
   * robocalls is alerted in seconds; a sender's contacts to traps are still triaged in arrival order, before its others.
   */
  order?: 'arrival' | 'likely-hits';
  /**
   * Where the senders' figures come from: `kept` (default), the tables triage keeps up to date
   * (sender_canaries, sender_numbers); `history`, counted from the sender's hits and contacts, at a
   * cost that grows with its history: the same verdicts, slower (a check of the kept ones).
   */
  figures?: 'kept' | 'history';
}

export interface TriagedHit {
  hitId: number;
  eventId: number;
  canaryId: string;
  confidence: number;
  /** Null below the alert threshold: a hit that is a record, not an incident. */
  incidentId: string | null;
  alerted: boolean;
}

export interface TriageResult {
  triaged: number;
  hits: TriagedHit[];
  ignored: { eventId: number; reason: string }[];
}

/**
 * Contacts triaged in one transaction: a crash leaves the whole batch untriaged (to be triaged again),
 * never part of a contact, and the contacts of a batch share the ledger lock and their look-ups. Small
 * enough that a batch commits (its alerts in the outbox) within a second or so in a flood.
 */
export const TRIAGE_BATCH = 100;

/** Triage every contact not triaged yet, oldest first, TRIAGE_BATCH contacts per transaction. */
export async function triagePending(db: Database, options: TriageOptions = {}): Promise<TriageResult> {
  const result: TriageResult = { triaged: 0, hits: [], ignored: [] };
  const limit = options.limit ?? 10_000;
  const pending = options.order === 'likely-hits' ? await vault.listUntriagedLikelyHitsFirst(db, limit) : await vault.listContacts(db, { untriaged: true, limit });
  // The senders' numbers no canary held, read once for the round's batches (each sender by the first
  // batch it has contacts in) instead of by each: a dialer's untriaged contacts in a flood are thousands.
  const unheld = options.figures === 'history' ? undefined : new Map<string, vault.UntriagedNumbers>();
  for (let i = 0; i < pending.length; i += TRIAGE_BATCH) {
    const batch = pending.slice(i, i + TRIAGE_BATCH);
    const done = await db.transaction((tx) => triageBatch(tx, batch, options, unheld));
    result.triaged += done.triaged;
    result.hits.push(...done.hits);
    result.ignored.push(...done.ignored);
  }
  return result;
}

/** The network message a contact is (a USSD reply, a delivery report), as Cradle's own SMS inbox reader marked it; the source says the mark is Cradle's, not a sender's header. */
function networkMessage(c: vault.ContactRow): string | null {
  const mark = c.source.startsWith('gammu-') ? c.headers['x-gammu-network'] : undefined;
  return mark === 'ussd' || mark === 'status-report' ? mark : null;
}

/** What the contacts of a batch share: who triages, when, and look-ups made once for the batch. */
interface Batch {
  actor: string;
  now: Date;
  /** Each contact's holders (trapHolders or mailboxHolders as of its time), by contact id. */
  holders: Map<number, vault.TrapHolder[]>;
  /** Unrelated numbers by sender and time: they count only contacts and traps, which triage does not change. */
  unrelated: Map<string, Promise<number>>;
  /** Senders whose contacts to a trap in burn-in are no chance traffic: the known senders and the carriers, lower-cased. */
  notChance: string[];
  /**
   * senderHits by sender (read at once for the batch's senders with hits), a hit triage makes added in
   * its place; forgotten when triage re-judges one of the sender's hits or dismisses an incident.
   */
  senderHits: Map<string, vault.TimedSenderHitRow[]>;
  /** What sealContact reads of each of the batch's contacts, read at once (triage changes none of it). */
  seals: Map<number, vault.ContactSeal>;
  /** exposuresOfCanaries by canary: the batch's holders' read at once, others as their alerts need them. */
  exposures: Map<string, vault.CanaryExposureRow[]>;
  /** The batch's alerts, queued in one statement at its end, in order. */
  alerts: Parameters<typeof vault.queueAlerts>[1][number][];
  /**
   * The batch's senders' figures (sender_canaries, sender_numbers and their untriaged contacts), read
   * once for the batch and kept up to date as its hits are made: what senderCanaries, sendersWithHits
   * and senderUnrelatedNumbers would read from history, without reading it.
   */
  figures: Map<string, vault.SenderFigures>;
  /** trapBackground of the batch's trap numbers (contacts before any canary held them: triage changes none). */
  backgrounds: Map<string, { contacts: number; days: number } | null>;
  /** reserveHitIds for the contacts to a trap or mailbox a canary held: each one's hit id, time, and whether it has a hit already. */
  hitIds: Map<number, { id: number; us: string; hasHit: boolean }>;
  /**
   * Hits below LOW made but not written yet (sealed, counted, in senderHits as written): written in one
   * statement (flushHits) before anything reads or changes a hit that may be among them, and at the end.
   */
  pendingHits: vault.InsertedHit[];
  /** The times of the batch's contacts to a trap or mailbox a canary held (their hits look for the same script). */
  span: { from: Date; to: Date } | null;
  /**
   * The open incidents' bodies recentIncidentBodies would read for any time in `span`, read once when a
   * hit first needs them, a hit made in an incident added; forgotten when triage moves a hit into or
   * out of an incident or dismisses one.
   */
  bodies: vault.IncidentBody[] | null;
  /** Likewise the hits openHitIncident reads, for the batch's hits' senders and holders. */
  openHits: { froms: Set<string>; canaries: Set<string>; hits: vault.OpenIncidentHit[] } | null;
  /** The senders of the batch's contacts to a trap or mailbox a canary held, and those canaries. */
  hitSenders: Set<string>;
  holderIds: Set<string>;
}

/** Write the batch's pending hits (below LOW, in no incident) in one statement. */
async function flushHits(tx: Queryable, batch: Batch): Promise<void> {
  if (batch.pendingHits.length === 0) return;
  const hits = batch.pendingHits;
  batch.pendingHits = [];
  await vault.insertHitRows(tx, hits);
}

/**
 * One batch, in one transaction. Every contact is sealed before anything is made of it: those that
 * can be no hit (no canary held the trap) first, together; each that is a hit as its turn comes, with
 * its incident, as before. Hits are made in contact order, as one contact at a time would make them.
 */
async function triageBatch(tx: Queryable, listed: readonly vault.ContactRow[], options: TriageOptions, unheld?: Map<string, vault.UntriagedNumbers>): Promise<TriageResult> {
  // The list was read outside this transaction: another triage (a timer beside `watch`) may have taken
  // some of its contacts since. Only those still untriaged and not being triaged elsewhere are ours.
  const claimed = await vault.claimUntriaged(tx, listed.map((c) => c.id));
  const contacts = listed.filter((c) => claimed.has(c.id));
  const out: TriageResult = { triaged: contacts.length, hits: [], ignored: [] };
  if (!contacts.length) return out;
  const batch: Batch = {
    actor: options.actor ?? vault.cliActor(), now: options.now ?? new Date(), holders: new Map(), unrelated: new Map(), senderHits: new Map(),
    figures: new Map(), backgrounds: new Map(), notChance: [], seals: new Map(), exposures: new Map(), alerts: [], hitIds: new Map(), pendingHits: [], span: null, bodies: null, openHits: null, hitSenders: new Set(), holderIds: new Set(),
  };
  // The batch's ledger entries are chained in memory as it goes and written in one INSERT at its end.
  vault.holdLedger(tx, { defer: true });
  batch.seals = await vault.readContactSeals(tx, contacts.map((c) => c.id));
  const known = new Set((options.knownSenders ?? []).map((k) => k.toLowerCase()));
  batch.notChance = notChanceSenders([...known]);
  const traps = await vault.trapHoldersOf(tx, contacts.filter((c) => !c.to_address.includes('@')).map((c) => c.to_address));
  const noHit: number[] = [];
  const work: { c: vault.ContactRow; rejudgeOnly: boolean }[] = [];
  for (const c of contacts) {
    if (c.from_address && known.has(c.from_address.toLowerCase())) {
      out.ignored.push({ eventId: c.id, reason: 'from a known sender (the hospital\'s own line or staff)' });
      noHit.push(c.id);
      continue;
    }
    const network = networkMessage(c);
    if (network) {
      out.ignored.push({ eventId: c.id, reason: `from the mobile network (${network === 'ussd' ? 'a USSD reply' : 'a delivery report'}), not from a person` });
      noHit.push(c.id);
      continue;
    }
    const mailbox = c.to_address.includes('@');
    const holders = mailbox ? await vault.mailboxHolders(tx, c.to_address) : vault.holdersAt(traps, c.to_address, c.occurred_at);
    if (holders.length === 0) {
      out.ignored.push({ eventId: c.id, reason: mailbox ? 'not a canary mailbox' : 'not a trap held by any canary at that time' });
      noHit.push(c.id);
      // A number no canary held: if the sender has hits, this may show it to be a dialer.
      if (c.from_address && !mailbox) work.push({ c, rejudgeOnly: true });
      continue;
    }
    batch.holders.set(c.id, holders);
    work.push({ c, rejudgeOnly: false });
  }
  // Sealed as they are triaged (a contact not triaged yet is not sealed yet): those with no hit now.
  await vault.sealContactsRead(tx, batch.seals, noHit, { actor: batch.actor });
  const froms = work.flatMap(({ c }) => (c.from_address ? [c.from_address] : []));
  const held = [...batch.holders.values()].flatMap((hs) => hs.map((h) => h.canary_id));
  const unread = unheld ? [...new Set(froms)].filter((from) => !unheld.has(from)) : [];
  if (unread.length) for (const [from, sums] of await vault.unheldNumbers(tx, unread)) unheld!.set(from, sums);
  batch.figures = await (options.figures === 'history' ? vault.senderFiguresFromHistory(tx, froms, held) : vault.senderFigures(tx, froms, held, unheld));
  const senders = [...new Set(work.flatMap(({ c }) => (c.from_address && batch.figures.get(c.from_address)!.hits > 0 ? [c.from_address] : [])))];
  batch.senderHits = await vault.sendersHits(tx, senders);
  for (const from of senders) if (!batch.senderHits.has(from)) batch.senderHits.set(from, []);
  const canaries = [...new Set([...batch.holders.values()].flatMap((hs) => hs.map((h) => h.canary_id)))];
  if (options.alertChannels?.length) for (const e of await vault.exposuresOfCanaries(tx, canaries)) (batch.exposures.get(e.canary_id) ?? batch.exposures.set(e.canary_id, []).get(e.canary_id)!).push(e);
  for (const id of canaries) if (!batch.exposures.has(id)) batch.exposures.set(id, []);
  // Ids for the hits the batch will make, one per such contact, in order: a hit below LOW can then be
  // made in memory and written with the others in one statement.
  batch.hitIds = await vault.reserveHitIds(tx, work.flatMap(({ c, rejudgeOnly }) => (rejudgeOnly ? [] : [c.id])));
  const times = work.flatMap(({ c, rejudgeOnly }) => (rejudgeOnly ? [] : [c.occurred_at.getTime()]));
  if (times.length) batch.span = { from: new Date(Math.min(...times)), to: new Date(Math.max(...times)) };
  batch.hitSenders = new Set(work.flatMap(({ c, rejudgeOnly }) => (rejudgeOnly || !c.from_address ? [] : [c.from_address])));
  batch.holderIds = new Set([...batch.holders.values()].flatMap((hs) => hs.map((h) => h.canary_id)));
  batch.backgrounds = await vault.trapBackgrounds(tx, work.flatMap(({ c, rejudgeOnly }) => (rejudgeOnly || c.to_address.includes('@') ? [] : [c.to_address])), batch.notChance);
  for (const { c, rejudgeOnly } of work) {
    if (rejudgeOnly) {
      // Only a sender with a hit, before this batch or by a contact of it, has anything to re-judge.
      if (batch.figures.get(c.from_address!)!.hits > 0) await rejudgeSender(tx, c.from_address!, c.occurred_at, null, options, batch);
      continue;
    }
    const hit = await triageHit(tx, c, options, batch);
    if (hit) out.hits.push(hit);
  }
  await flushHits(tx, batch);
  await vault.queueAlerts(tx, batch.alerts);
  await vault.flushLedger(tx);
  await vault.markTriagedMany(tx, contacts.map((c) => c.id), batch.now);
  return out;
}

function unrelatedNumbers(tx: Queryable, batch: Batch, from: string, at: Date): Promise<number> {
  const key = `${from}\u0000${at.toISOString()}`;
  let n = batch.unrelated.get(key);
  if (!n) {
    const known = vault.unrelatedNumbersAt(batch.figures.get(from)!, at, SENDER_WINDOW_MS);
    // Its numbers reach outside the window: which of them count is for history to say.
    batch.unrelated.set(key, (n = known === null ? vault.senderUnrelatedNumbers(tx, from, at, SENDER_WINDOW_MS) : Promise.resolve(known)));
  }
  return n;
}

/** A contact to a trap or mailbox a canary held: its hit, judged, in an incident at or above LOW, alerted. */
async function triageHit(tx: Queryable, c: vault.ContactRow, options: TriageOptions, batch: Batch): Promise<TriagedHit | null> {
  const { actor } = batch;
  const holders = batch.holders.get(c.id)!;
  const mailbox = c.to_address.includes('@');
  // Names or a birth date in the message pick the canary among those that held the trap; else the
  // holders of the time, one canary or (a shared number) the set (resolve.ts).
  const text = c.body ?? '';
  const { holder, names, babyBirthDate, candidates } = resolveContact(holders, text);
  const evidence = {
    heldAtTime: holder.released_at === null || holder.released_at > c.occurred_at,
    background: mailbox ? null : (batch.backgrounds.get(c.to_address) ?? null),
    names,
    babyBirthDate,
    otherCanaries: c.from_address ? otherCanaries(batch.figures.get(c.from_address)!, holder.canary_id) : 0,
    unrelatedNumbers: c.from_address ? await unrelatedNumbers(tx, batch, c.from_address, c.occurred_at) : 0,
    carrier: carrierOf(c.from_address),
    candidates: candidates?.length ?? 1,
  };
  const { confidence, reasons } = scoreHit(evidence);

  // Below the threshold a hit is a record, not an incident.
  const incident = confidence >= LOW ? await incidentFor(tx, batch, { kind: c.kind, from: c.from_address, canaryId: holder.canary_id, at: c.occurred_at, body: text }) : null;
  const hit = { eventId: c.id, canaryId: holder.canary_id, confidence, reasons, incidentId: incident, candidates };
  const reserved = batch.hitIds.get(c.id)!;
  let row: vault.InsertedHit | null;
  if (!reserved.hasHit) {
    // Nothing reads it before flushHits but this batch, which has it in memory.
    row = vault.hitRowOf({ ...hit, id: reserved.id, us: reserved.us });
    batch.pendingHits.push(row);
  } else row = await vault.insertHitRow(tx, { ...hit, id: reserved.id });
  if (row && incident !== null) {
    // As openHitIncident and recentIncidentBodies would read it from now on.
    batch.openHits?.hits.push({ incident_id: incident, from_address: c.from_address, canary_id: holder.canary_id, us: BigInt(row.us), id: row.id });
    if (batch.bodies && c.body !== null && [...c.body].length >= 8) batch.bodies.push({ incident_id: incident, body: c.body, us: BigInt(row.us), id: row.id });
  }
  if (c.from_address && row) {
    // As senderHits would read it now: an active hit, in an incident triage just found open or made.
    const hits = batch.senderHits.get(c.from_address);
    if (hits) {
      const us = BigInt(row.us);
      const h: vault.TimedSenderHitRow = { id: row.id, canary_id: row.canary_id, confidence: row.confidence, reasons: row.reasons, incident_id: row.incident_id, incident_status: row.incident_id === null ? null : 'open', occurred_at: new Date(Number(us / 1000n)), us };
      let at = hits.length;
      while (at > 0 && vault.compareSenderHits(hits[at - 1], h) > 0) at--;
      hits.splice(at, 0, h);
    }
  }
  if (c.from_address && row) {
    // As sender_canaries' trigger has just counted it.
    const f = batch.figures.get(c.from_address)!;
    f.hits++;
    if (!f.on.has(holder.canary_id)) {
      f.canaries++;
      f.on.add(holder.canary_id);
    }
  }
  await vault.sealContactRead(tx, batch.seals, c.id, { actor, incidentId: incident });
  if (row === null) return null; // triaged before, by a run that then crashed
  await vault.sealHitRow(tx, row, { actor });
  const hitId = row.id;
  const alerted = confidence >= LOW && (options.alertChannels?.length ?? 0) > 0;
  if (alerted) await queueAlerts(tx, batch, options.alertChannels!, { hitId, incident, canaryId: holder.canary_id, contact: c, confidence, reasons });
  if (c.from_address) await rejudgeSender(tx, c.from_address, c.occurred_at, { hitId, incident }, options, batch);
  return { hitId, eventId: c.id, canaryId: holder.canary_id, confidence, incidentId: incident, alerted };
}

/** Distinct canaries other than `except` the sender has active hits on (senderCanaries), from its figures. */
function otherCanaries(f: vault.SenderFigures, except: string): number {
  return f.canaries - (f.on.has(except) ? 1 : 0);
}

/** The open incident a hit at or above LOW belongs to (same sender or canary, or the same script), or a new one. */
async function incidentFor(tx: Queryable, batch: Batch, hit: { kind: string; from: string | null; canaryId: string; at: Date; body: string }): Promise<string> {
  let incident = await openIncident(tx, batch, hit.from, hit.canaryId, hit.at);
  // Another sender with the same script (a call centre rotating numbers) is the same campaign.
  if (!incident && hit.body.length >= 8) {
    const alike = (await recentBodies(tx, batch, hit.at)).find((r) => similarity(r.body, hit.body) >= SIMILAR);
    incident = alike?.incident_id ?? null;
  }
  if (!incident) {
    incident = incidentId();
    await vault.createHitIncident(tx, incident, `${hit.kind} to canary ${hit.canaryId}${hit.from ? ` from ${maskPhone(hit.from)}` : ''}`);
  }
  return incident;
}

/** recentIncidentBodies at a time: from the batch's bodies for a time in its span, else read. */
async function recentBodies(tx: Queryable, batch: Batch, at: Date): Promise<{ incident_id: string; body: string }[]> {
  const { span } = batch;
  if (!span || at < span.from || at > span.to || !batch.bodies) await flushHits(tx, batch); // what the database reads must hold them
  if (!span || at < span.from || at > span.to) return vault.recentIncidentBodies(tx, at, INCIDENT_WINDOW_MS);
  batch.bodies ??= await vault.incidentBodiesAround(tx, span.from, span.to, INCIDENT_WINDOW_MS);
  return vault.recentBodiesAt(batch.bodies, at, INCIDENT_WINDOW_MS);
}

/** openHitIncident: from the batch's hits in open incidents for a time in its span and one of its senders and holders, else read. */
async function openIncident(tx: Queryable, batch: Batch, from: string | null, canaryId: string, at: Date): Promise<string | null> {
  const { span } = batch;
  const inBatch = span && at >= span.from && at <= span.to && batch.holderIds.has(canaryId) && (from === null || batch.hitSenders.has(from));
  if (!inBatch || !batch.openHits) await flushHits(tx, batch); // what the database reads must hold them
  if (!inBatch) return vault.openHitIncident(tx, from, canaryId, at, INCIDENT_WINDOW_MS);
  batch.openHits ??= { froms: batch.hitSenders, canaries: batch.holderIds, hits: await vault.openIncidentHitsAround(tx, [...batch.hitSenders], [...batch.holderIds], span.from, span.to, INCIDENT_WINDOW_MS) };
  return vault.openIncidentAt(batch.openHits.hits, from, canaryId, at, INCIDENT_WINDOW_MS);
}

/**
 * Whether a re-judgement is worth a new row and seal: a reason came or went, the hit crossed LOW, or
 * its confidence moved by 0.01 or by a fifth. (A dialer's count creeping from 40 to 41 is not: a sweep
 * of n numbers re-seals each hit O(log n) times, not n.)
 */
function changed(before: { confidence: number; reasons: readonly { code?: string }[] }, next: { confidence: number; reasons: readonly Reason[] }): boolean {
  const codes = (rs: readonly { code?: string }[]) => rs.map((r) => r.code ?? '').join(',');
  if (codes(before.reasons) !== codes(next.reasons)) return true;
  if (before.confidence >= LOW !== next.confidence >= LOW) return true;
  const [lo, hi] = [Math.min(before.confidence, next.confidence), Math.max(before.confidence, next.confidence)];
  return hi - lo >= 0.01 || (lo > 0 && hi / lo >= 1.2);
}

/**
 * The sender's earlier active hits re-judged with what is known of it now: other canaries it
 * contacted are evidence for each other (a hit that only now reaches LOW joins an incident and is
 * alerted; its channels skip a repeat: one alert per hit and channel); numbers no canary held make
 * it a dialer (a hit that falls below LOW leaves its incident, and an incident left with no hit at or
 * above LOW is dismissed, in the ledger, by triage).
 */
async function rejudgeSender(tx: Queryable, from: string, at: Date, current: { hitId: number; incident: string | null } | null, options: TriageOptions, batch: Batch): Promise<void> {
  const { actor } = batch;
  // Its active hits, counted in its figures: none but this one, nothing to re-judge.
  const count = batch.figures.get(from)!.hits;
  if (count === 0 || (current && count === 1)) return;
  let hits = batch.senderHits.get(from);
  if (!hits) {
    await flushHits(tx, batch);
    batch.senderHits.set(from, (hits = (await vault.sendersHits(tx, [from])).get(from) ?? []));
  }
  if (hits.length === 0 || (current && hits.length === 1)) return;
  // The sender's hits within SENDER_WINDOW_MS of this contact, judged with the numbers it called around it.
  const unrelated = await unrelatedNumbers(tx, batch, from, at);
  // Each hit's other canaries: every canary of the sender's active hits but its own.
  const others = new Set(hits.map((x) => x.canary_id)).size - 1;
  const weakened = new Set<string>();
  const rejudged = new Map<object, Judgement>();
  // Re-judgements that change a hit's score and nothing else (no incident joined or left, no alert),
  // in order: written in one UPDATE, then each sealed in turn from the row it returns, before anything
  // else is sealed or read.
  const scored: { h: vault.TimedSenderHitRow; next: Judgement }[] = [];
  const stored = new Map<Judgement, vault.SenderHitRow['reasons']>();
  const writeScored = async () => {
    if (!scored.length) return;
    const ids = new Set(scored.map(({ h }) => Number(h.id)));
    if (batch.pendingHits.some((r) => ids.has(r.id))) await flushHits(tx, batch); // a hit not written yet
    const rows = await vault.updateHitScores(tx, scored.map(({ h, next }) => ({ id: Number(h.id), confidence: next.confidence, reasons: next.reasons })));
    for (const { h, next } of scored) {
      const row = rows.get(Number(h.id))!;
      // The sender's hits as senderHits would read them now: the same hit, its new score (hits judged alike sharing their reasons).
      let reasons = stored.get(next);
      if (!reasons) stored.set(next, (reasons = row.reasons as vault.SenderHitRow['reasons']));
      h.confidence = Number(row.confidence);
      h.reasons = reasons;
      await vault.sealHitRow(tx, row, { actor, incidentId: h.incident_id }); // the newest entry for a hit is what its row must match
    }
    scored.length = 0;
  };
  // Whether a judgement (its reasons, at a confidence) changed, decided once: a dialer has hundreds of hits judged alike.
  const unchanged = new Map<object, Map<number, boolean>>();
  const atMs = at.getTime();
  for (const h of hits) {
    if (current && Number(h.id) === current.hitId) continue;
    if (Math.abs(h.occurred_at.getTime() - atMs) > SENDER_WINDOW_MS) continue;
    // Hits judged alike share their reasons (senderHits): each judgement is re-judged once.
    let next = rejudged.get(h.reasons);
    if (!next) rejudged.set(h.reasons, (next = rejudge(h.reasons, { otherCanaries: others, unrelatedNumbers: unrelated })));
    const before = Number(h.confidence);
    let alike = unchanged.get(h.reasons);
    if (!alike) unchanged.set(h.reasons, (alike = new Map()));
    let same = alike.get(before);
    if (same === undefined) alike.set(before, (same = !changed({ confidence: before, reasons: h.reasons }, next)));
    if (same) continue;
    const joins = next.confidence >= LOW && h.incident_id === null;
    const leaves = next.confidence < LOW && h.incident_id !== null && h.incident_status === 'open';
    const alerts = before < LOW && next.confidence >= LOW && (options.alertChannels?.length ?? 0) > 0;
    if (!joins && !leaves && !alerts) {
      // Its incident's hits and bodies stay as they were (they do not depend on a score).
      scored.push({ h, next });
      continue;
    }
    await writeScored();
    await flushHits(tx, batch); // the hit may be one not written yet
    batch.bodies = batch.openHits = null; // the incidents' hits may change
    batch.senderHits.delete(from);
    await vault.updateHitScore(tx, h.id, next.confidence, next.reasons);
    let incident = h.incident_id;
    if (next.confidence >= LOW && incident === null) {
      const contact = current?.incident ? null : await vault.getContactOfHit(tx, h.id);
      incident = current?.incident ?? (await incidentFor(tx, batch, { kind: contact!.kind, from, canaryId: h.canary_id, at: h.occurred_at, body: contact!.body ?? '' }));
      await vault.setHitIncident(tx, h.id, incident);
    } else if (next.confidence < LOW && incident !== null && h.incident_status === 'open') {
      if ((await vault.strongHits(tx, incident, LOW)) > 0) {
        incident = null; // the incident stands on other hits: this one leaves it
        await vault.setHitIncident(tx, h.id, null);
      } else weakened.add(incident);
    }
    await vault.sealHit(tx, h.id, { actor, incidentId: incident }); // the newest entry for a hit is what its row must match
    if (before < LOW && next.confidence >= LOW && options.alertChannels?.length) {
      const contact = await vault.getContactOfHit(tx, h.id);
      if (contact) await queueAlerts(tx, batch, options.alertChannels, { hitId: h.id, incident, canaryId: h.canary_id, contact, confidence: next.confidence, reasons: next.reasons });
    }
  }
  await writeScored();
  for (const incident of weakened) {
    if ((await vault.strongHits(tx, incident, LOW)) > 0) continue;
    const labels = (await vault.incidentHits(tx, incident)).flatMap((h) => h.reasons as { code?: string; label?: string }[]).filter((r) => r.code === 'dialer');
    const widest = labels.map((r) => r.label ?? '').sort((a, b) => b.length - a.length || b.localeCompare(a))[0];
    batch.senderHits.clear(); // the incident's hits, of any sender, are in a dismissed incident now
    batch.bodies = batch.openHits = null;
    await vault.dismissNoiseIncident(tx, incident, `triage: every hit is now below ${LOW}${widest ? ` (${widest})` : ''}: a dialer reaching traps by chance`, actor);
  }
}

async function queueAlerts(
  tx: Queryable,
  batch: Batch,
  channels: readonly string[],
  hit: { hitId: number; incident: string | null; canaryId: string; contact: vault.ContactRow; confidence: number; reasons: { reason: string }[] },
): Promise<void> {
  let exposures = batch.exposures.get(hit.canaryId);
  if (!exposures) batch.exposures.set(hit.canaryId, (exposures = await vault.exposuresOfCanaries(tx, [hit.canaryId])));
  const payload = {
    hit: hit.hitId,
    incident: hit.incident,
    canary: hit.canaryId,
    kind: hit.contact.kind,
    at: hit.contact.occurred_at,
    from: hit.contact.from_address ? maskPhone(hit.contact.from_address) : null,
    confidence: hit.confidence,
    reasons: hit.reasons.map((r) => r.reason),
    exposedTo: [...new Set(exposures.map((e) => (e.export_id ? `${e.channel} (export ${e.export_id})` : e.channel)))],
  };
  for (const channel of channels) batch.alerts.push({ hitId: hit.hitId, incidentId: hit.incident, channel, payload });
}
