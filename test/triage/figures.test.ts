import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Database, Queryable } from '../../src/db/index.js';
import { verifyVault } from '../../src/ledger/verify.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import { triagePending, type TriageOptions } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS } from '../helpers/db.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';

// Triage judges a contact's sender by figures it keeps up to date (sql/vault/016_sender_figures.sql):
// the canaries the sender has active hits on, the numbers no canary held that it contacted. Two vaults
// get the same contacts (dialers sweeping a carrier block, one of them calling numbers twice and
// once eight days earlier, a scammer naming canaries, strangers); one is triaged with the kept figures
// in small batches, one batch crashing on its last statement, the other with the figures counted
// from history: every verdict is the same, and the kept tables agree with history after each batch.

const BLOCK = Array.from({ length: 40 }, (_, i) => `+861377002${String(i).padStart(4, '0')}`);
const DIALER = '+8617100000002';
const REDIALER = '+8617100000003';
const SCAMMER = '+8613312345679';
const EARLY = '+8617100000004';
const LISTER = '+8617100000005';

interface Side {
  h: TestHospital;
  canaries: vault.CanaryRow[];
}

async function setUp(backend: (typeof BACKENDS)[number], t0: Date): Promise<Side> {
  const h = await createTestHospital({ backend, schema: 'reference', population: 120, trapNumbers: 0, seed: 'figures' });
  await vault.addTrapNumbers(h.vault, BLOCK.map((e164) => ({ e164, region: 'CN' })), { hospital: null, burnInUntil: null });
  const now = new Date(t0.getTime() - 86_400_000);
  await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 6, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W48', ...birthWindow(now), seed: 'figures' });
  const canaries = (await vault.listCanaries(h.vault, { hospital: h.hospital.name })).sort((a, b) => (a.family.mother.phone! < b.family.mother.phone! ? -1 : 1));
  return { h, canaries };
}

/** The same contacts, by canary position, into a side's vault, in an order that mixes senders. */
async function record(side: Side, t0: Date): Promise<void> {
  const at = (ms: number) => new Date(t0.getTime() + ms);
  const { canaries } = side;
  const phone = (i: number) => canaries[i].family.mother.phone!;
  const add = (id: string, from: string, to: string, when: Date, body: string | null, kind: 'sms' | 'call' = body ? 'sms' : 'call') =>
    vault.recordContact(side.h.vault, { source: 'generic', providerId: id, kind, from, to, occurredAt: when, body, raw: Buffer.from(id) });
  // Eight days before: a dialer's first calls, outside the window of the rest (its figures need history then).
  for (let i = 0; i < 3; i++) await add(`early${i}`, EARLY, BLOCK[30 + i], at(-8 * 86_400_000 + i * 1000), null);
  for (let i = 0; i < 30; i++) {
    await add(`robo${i}`, DIALER, BLOCK[i], at(i * 20_000), null);
    // The redialer calls each number twice, and a canary now and then.
    if (i % 3 === 0) await add(`redial${i}`, REDIALER, BLOCK[i % 12], at(i * 20_000 + 5000), null);
    if (i % 7 === 0) await add(`redialc${i}`, REDIALER, phone((i / 7) % canaries.length), at(i * 20_000 + 6000), '【月子中心】本月入住立减3000元');
    if (i % 10 === 0) {
      const c = canaries[i / 10];
      await add(`scam${i}`, SCAMMER, phone(i / 10), at(i * 20_000 + 7000), `${c.family.mother.name.full}您好，恭喜宝宝出生！医院合作影楼免费百天写真，请回电预约。`);
    }
    if (i % 4 === 1) await add(`later${i}`, EARLY, BLOCK[(i * 7) % 40], at(i * 20_000 + 9000), i % 8 === 1 ? null : '免费写真');
    // A call centre rotating numbers: the scammer's script from another number (the same campaign, found by its script).
    if (i % 10 === 5) {
      const c = canaries[(i - 5) / 10 + 3];
      await add(`rotate${i}`, `+86133123457${String(i).padStart(2, '0')}`, phone((i - 5) / 10 + 3), at(i * 20_000 + 7500), `${c.family.mother.name.full}您好，恭喜宝宝出生！医院合作影楼免费百天写真，请回电预约。`);
    }
    // A list: four canaries called in turn (its earlier hits re-judged at each: a score changed, no incident joined or left).
    if (i < 4) await add(`list${i}`, LISTER, phone(i + 1), at(i * 20_000 + 9500), null);
    if (i % 11 === 5) await add(`stranger${i}`, `+861580000${String(i).padStart(4, '0')}`, phone(4), at(i * 20_000 + 8000), null);
  }
}

/** Every contact's verdict, by provider id: its hit's canary (by position), judgement and incident (by the contacts in it), or none. */
async function verdicts(side: Side): Promise<Record<string, unknown>> {
  const position = new Map(side.canaries.map((c, i) => [c.id, i]));
  const { rows } = await side.h.vault.query<{ provider_id: string; canary_id: string | null; confidence: number | null; reasons: unknown; incident_id: string | null; incident_status: string | null; alerts: number; triaged: boolean }>(
    `SELECT e.provider_id, h.canary_id, h.confidence, h.reasons, h.incident_id, i.status AS incident_status, e.triaged_at IS NOT NULL AS triaged,
            (SELECT count(*)::int FROM alert_outbox o WHERE o.hit_id = h.id) AS alerts
       FROM contact_events e LEFT JOIN hits h ON h.event_id = e.id LEFT JOIN incidents i ON i.id = h.incident_id ORDER BY e.provider_id`,
  );
  const members = new Map<string, string[]>();
  for (const r of rows) if (r.incident_id) members.set(r.incident_id, [...(members.get(r.incident_id) ?? []), r.provider_id]);
  return Object.fromEntries(rows.map((r) => [r.provider_id, {
    triaged: r.triaged,
    canary: r.canary_id === null ? null : position.get(r.canary_id),
    confidence: r.confidence === null ? null : Number(r.confidence),
    reasons: r.reasons,
    incident: r.incident_id ? { with: members.get(r.incident_id)!.sort(), status: r.incident_status } : null,
    alerts: r.alerts,
  }]));
}

/** Every judgement triage sealed, in order (a hit as made, and each time re-judged): contact, canary, confidence, reasons, incident (by first appearance). */
async function judgements(side: Side): Promise<unknown[]> {
  const position = new Map(side.canaries.map((c, i) => [c.id, i]));
  const provider = new Map((await side.h.vault.query<{ id: string; provider_id: string }>(`SELECT id, provider_id FROM contact_events`)).rows.map((r) => [Number(r.id), r.provider_id]));
  const incidents = new Map<string, number>();
  return (await vault.ledgerEntries(side.h.vault, { kind: 'hit' })).map((e) => {
    const c = e.content as { event_id: number; canary_id: string; confidence: number; reasons: unknown; incident_id: string | null };
    if (c.incident_id && !incidents.has(c.incident_id)) incidents.set(c.incident_id, incidents.size);
    return [provider.get(c.event_id), position.get(c.canary_id), c.confidence, c.reasons, c.incident_id === null ? null : incidents.get(c.incident_id)];
  });
}

describe.each(BACKENDS)('sender figures on %s', (backend) => {
  const t0 = new Date(Date.now() - 3 * 3_600_000);
  let kept: Side;
  let history: Side;

  beforeAll(async () => {
    kept = await setUp(backend, t0);
    history = await setUp(backend, t0);
    await record(kept, t0);
    await record(history, t0);
  });
  afterAll(async () => {
    await kept?.h.close();
    await history?.h.close();
  });

  it('gives the same verdicts as figures counted from history, across batches and after a crash mid-batch', async () => {
    const options: TriageOptions = { alertChannels: ['email'], limit: 7 };
    // The third batch fails on its last statement (marking its contacts triaged): all of it rolls back, the kept figures with it.
    const crash = (tx: Queryable): Queryable => ({ ...tx, query: (sql, params) => (/SET triaged_at = \$2 WHERE id = ANY/.test(sql) ? Promise.reject(new Error('crash')) : tx.query(sql, params)) });
    const crashing: Database = { ...kept.h.vault, transaction: (fn, o) => kept.h.vault.transaction((tx) => fn(crash(tx)), o) };
    let batches = 0;
    for (;;) {
      if (batches === 2) {
        const before = await vault.checkSenderFigures(kept.h.vault);
        await expect(triagePending(crashing, options)).rejects.toThrow('crash');
        expect(await vault.checkSenderFigures(kept.h.vault)).toEqual(before);
      }
      const r = await triagePending(kept.h.vault, options);
      batches++;
      expect((await vault.checkSenderFigures(kept.h.vault)).problems).toEqual([]);
      if (r.triaged === 0) break;
    }
    expect(batches).toBeGreaterThan(5);
    for (;;) if ((await triagePending(history.h.vault, { ...options, figures: 'history' })).triaged === 0) break;

    const a = await verdicts(kept);
    const b = await verdicts(history);
    expect(a).toEqual(b);
    // And on the way: every judgement sealed, as made and as re-judged, in the same order.
    const [ja, jb] = [await judgements(kept), await judgements(history)];
    expect(ja.length).toBeGreaterThan(Object.values(a).filter((v) => (v as { canary: unknown }).canary !== null).length);
    expect(ja).toEqual(jb);
    // Not a vacuous agreement: the dialers were judged as dialers, the scammer's hits make an incident, all triaged.
    const all = Object.values(a) as { triaged: boolean; reasons: { code: string }[] | null; incident: unknown }[];
    expect(all.every((v) => v.triaged)).toBe(true);
    expect(all.some((v) => v.reasons?.some((r) => r.code === 'dialer'))).toBe(true);
    expect(all.some((v) => v.reasons?.some((r) => r.code === 'same-sender'))).toBe(true);
    expect(all.some((v) => v.incident !== null)).toBe(true);
    expect((await verifyVault(kept.h.vault)).ok).toBe(true);
  });

  it('keeps the figures true to history when a hit is dismissed or a number is found to have been held', async () => {
    const scam = (await vault.listHits(kept.h.vault)).find((x) => x.from_address === SCAMMER)!;
    await vault.changeHitStatus(kept.h.vault, Number(scam.id), 'dismiss', 'consented', { actor: 'alice' });
    expect((await vault.checkSenderFigures(kept.h.vault)).problems).toEqual([]);
    await vault.changeHitStatus(kept.h.vault, Number(scam.id), 'restore', null, { actor: 'alice' });
    expect((await vault.checkSenderFigures(kept.h.vault)).problems).toEqual([]);
    // A number the dialer reached while no canary held it, assigned back to before its call (behind
    // Cradle's back): the number no longer counts for the dialer, in the table as in history.
    const held = new Set((await vault.listTrapNumbers(kept.h.vault)).filter((n) => n.canary_id).map((n) => n.e164));
    const free = BLOCK.slice(0, 30).find((n) => !held.has(n))!;
    expect((await kept.h.vault.query(`SELECT 1 FROM sender_numbers WHERE from_address = $1 AND to_address = $2`, [DIALER, free])).rows).toHaveLength(1);
    await kept.h.vault.query(
      `INSERT INTO trap_assignments (trap_number_id, canary_id, role, assigned_at) SELECT t.id, $2, 'mother', $3 FROM trap_numbers t WHERE t.e164 = $1`,
      [free, kept.canaries[5].id, new Date(t0.getTime() - 3_600_000).toISOString()],
    );
    expect((await kept.h.vault.query(`SELECT 1 FROM sender_numbers WHERE from_address = $1 AND to_address = $2`, [DIALER, free])).rows).toEqual([]);
    expect((await vault.checkSenderFigures(kept.h.vault)).problems).toEqual([]);
    // Rebuilt from history, the tables hold what they held.
    const rows = async () => (await kept.h.vault.query(`SELECT from_address, canary_id AS k, active_hits::text AS v FROM sender_canaries UNION ALL SELECT from_address, to_address, first_at::text || last_at::text FROM sender_numbers ORDER BY 1, 2`)).rows;
    const kept0 = await rows();
    await kept.h.vault.transaction((tx) => vault.rebuildSenderFigures(tx));
    expect(await rows()).toEqual(kept0);
    // Written behind Cradle's back, verify names it.
    await kept.h.vault.query(`UPDATE sender_canaries SET active_hits = active_hits + 1 WHERE from_address = $1`, [SCAMMER]);
    const report = await verifyVault(kept.h.vault);
    expect(report.ok).toBe(false);
    expect(report.senderFigures.problems[0]).toMatchObject({ table: 'sender_canaries', from: SCAMMER });
    await kept.h.vault.transaction((tx) => vault.rebuildSenderFigures(tx));
    expect((await verifyVault(kept.h.vault)).ok).toBe(true);
  });
});

// Triage's batches read what their contacts share at once (holders, figures, the senders' hits, the
// contacts' seals), keep the senders' hits up to date in memory and write the ledger once at their end:
// the same contacts triaged all in one batch and one contact per call come to the same hits, judgements
// (sealed in the same order), alerts and sealed contacts.
describe.each(BACKENDS)('one batch or one contact at a time on %s', (backend) => {
  const t0 = new Date(Date.now() - 3 * 3_600_000);
  let batched: Side;
  let single: Side;

  beforeAll(async () => {
    batched = await setUp(backend, t0);
    single = await setUp(backend, t0);
    await record(batched, t0);
    await record(single, t0);
  });
  afterAll(async () => {
    await batched?.h.close();
    await single?.h.close();
  });

  /** Each contact's `contact` entry: its provider id, whether it names an incident, and how many `rows` entries seal its row. */
  async function sealedContacts(side: Side): Promise<Record<string, unknown>> {
    const entries = await vault.ledgerEntries(side.h.vault);
    const provider = new Map((await side.h.vault.query<{ id: string; provider_id: string }>(`SELECT id, provider_id FROM contact_events`)).rows.map((r) => [String(r.id), r.provider_id]));
    const rows = new Map<string, number>();
    for (const e of entries) {
      const c = e.content as { table?: string; rows?: Record<string, string | null> };
      if (e.kind === 'rows' && c.table === 'contact_events') for (const [id, hash] of Object.entries(c.rows!)) if (hash) rows.set(id, (rows.get(id) ?? 0) + 1);
    }
    return Object.fromEntries(entries.filter((e) => e.kind === 'contact').map((e) => [provider.get(e.ref), { incident: e.incident_id !== null, rows: rows.get(e.ref) }]));
  }

  it('gives the same hits, judgements, alerts and ledger', async () => {
    const options: TriageOptions = { alertChannels: ['email'] };
    // Statements writing hits, counted: the batch's hits below LOW (no incident) are written together.
    const inserts: number[] = [];
    // And statements changing a hit's score (a re-judgement), with the hits each changes.
    const rescores: number[] = [];
    const counting = (tx: Queryable): Queryable => ({ ...tx, query: (sql, params) => {
      if (/^\s*INSERT INTO hits/.test(sql)) inserts.push(Array.isArray(params?.[0]) ? params[0].length : 1);
      if (/^\s*UPDATE hits SET confidence/.test(sql)) rescores.push(Array.isArray(params?.[0]) ? params[0].length : 1);
      return tx.query(sql, params);
    } });
    const counted: Database = { ...batched.h.vault, transaction: (fn, o) => batched.h.vault.transaction((tx) => fn(counting(tx)), o) };
    const all = await triagePending(counted, options);
    const total = Number((await batched.h.vault.query<{ n: number }>(`SELECT count(*)::int AS n FROM contact_events`)).rows[0].n);
    expect(all.triaged).toBe(total);
    expect(total).toBeLessThanOrEqual(100); // one batch (TRIAGE_BATCH)
    let calls = 0;
    while ((await triagePending(single.h.vault, { ...options, limit: 1 })).triaged > 0) calls++;
    expect(calls).toBe(total);

    const [a, b] = [await verdicts(batched), await verdicts(single)];
    expect(a).toEqual(b);
    const [ja, jb] = [await judgements(batched), await judgements(single)];
    expect(ja).toEqual(jb);
    // The same hit ids (hits written later in one statement are numbered as made), and the batch mixed
    // hits below LOW and at or above it but wrote fewer statements than hits.
    const ids = async (side: Side) => (await side.h.vault.query<{ provider_id: string; id: string }>(`SELECT e.provider_id, h.id::text FROM hits h JOIN contact_events e ON e.id = h.event_id ORDER BY h.id`)).rows;
    expect(await ids(batched)).toEqual(await ids(single));
    const made = Object.values(a).filter((v) => (v as { canary: unknown }).canary !== null) as { incident: unknown }[];
    expect(made.some((v) => v.incident === null) && made.some((v) => v.incident !== null)).toBe(true);
    expect(inserts.reduce((x, y) => x + y, 0)).toBe(made.length);
    // The rotating numbers' hits joined an incident of another sender's hits, by their script.
    const withScam = made.filter((v) => (v as { incident: { with: string[] } | null }).incident?.with.some((p) => p.startsWith('scam')) && (v as { incident: { with: string[] } }).incident.with.some((p) => p.startsWith('rotate')));
    expect(withScam.length).toBeGreaterThan(0);
    expect(inserts.length).toBeLessThan(made.length - made.filter((v) => v.incident === null).length / 2);
    // Re-judged within the batch, not only made: more judgements than hits.
    expect(ja.length).toBeGreaterThan(Object.values(a).filter((v) => (v as { canary: unknown }).canary !== null).length);
    // A re-judgement that changes only a score is written with the others of its sender's turn, in one
    // statement: no more statements, nor hits updated, than re-judgements.
    const rejudgements = ja.length - made.length;
    expect(rejudgements).toBeGreaterThan(0);
    expect(rescores.length).toBeLessThanOrEqual(rejudgements);
    expect(rescores.reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(rejudgements);
    expect(Object.values(a).filter((v) => (v as { alerts: number }).alerts > 0).length).toBeGreaterThan(0);
    const [sa, sb] = [await sealedContacts(batched), await sealedContacts(single)];
    expect(Object.keys(sa)).toHaveLength(total);
    expect(Object.values(sa).every((v) => (v as { rows: number }).rows === 1)).toBe(true);
    expect(sa).toEqual(sb);
    // The incidents' life: the same dismissals by triage, for the same reasons, in the same order.
    const life = async (side: Side) => (await vault.ledgerEntries(side.h.vault, { kind: 'incident' })).map((e) => [(e.content as { action: string }).action, (e.content as { reason: string }).reason]);
    expect(await life(batched)).toEqual(await life(single));
    for (const side of [batched, single]) {
      expect((await verifyVault(side.h.vault)).ok).toBe(true);
      expect((await vault.checkSenderFigures(side.h.vault)).problems).toEqual([]);
    }
  });
});
