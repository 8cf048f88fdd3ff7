import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import { DIALER_MIN, explain, formatReasons, LOW, mentionsDate, rejudge, scoreHit, SIMILAR, similarity, type Judgement } from '../../src/triage/score.js';
import { openDatabase, type Database, type Queryable } from '../../src/db/index.js';
import { verifyVault } from '../../src/ledger/verify.js';
import { triagePending } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS, SERVER_URL } from '../helpers/db.js';
import { count, createTestHospital, type TestHospital } from '../helpers/hospital.js';

// A contact with a trap becomes a hit on the canary that held it, judged with its reasons, grouped
// into an incident and queued for alerting in the same transaction.

describe('hit scoring', () => {
  /** The effects are shares of the confidence: they add up to it. */
  const adds = (j: Judgement) => expect(j.reasons.reduce((s, r) => s + r.effect, 0)).toBeCloseTo(j.confidence, 2);

  it('combines independent reasons, and random dialling during burn-in lowers the trap alone', () => {
    const bare = scoreHit({ heldAtTime: true, background: null, names: [], babyBirthDate: null, otherCanaries: 0 });
    expect(bare.confidence).toBeCloseTo(0.6);
    expect(bare.reasons).toEqual([expect.objectContaining({ code: 'trap', weight: 0.6, effect: 0.6 })]);
    const noisy = scoreHit({ heldAtTime: true, background: { contacts: 6, days: 14 }, names: [], babyBirthDate: null, otherCanaries: 0 });
    expect(noisy.confidence).toBeLessThan(0.1);
    expect(noisy.reasons.map((r) => r.code)).toEqual(['trap', 'background']);
    expect(noisy.reasons[1].reason).toMatch(/6 contacts in 14 day/);
    expect(noisy.reasons[1].effect).toBeLessThan(-0.25);
    adds(noisy);
    const named = scoreHit({ heldAtTime: true, background: { contacts: 6, days: 14 }, names: ['陈丽华'], babyBirthDate: '2026-11-03', otherCanaries: 0 });
    expect(named.confidence).toBeGreaterThan(0.97);
    expect(named.reasons.map((r) => r.reason)).toEqual([expect.stringMatching(/trap/), expect.stringMatching(/6 contacts/), expect.stringMatching(/陈丽华/), expect.stringMatching(/2026-11-03/)]);
    adds(named);
    const released = scoreHit({ heldAtTime: false, background: null, names: [], babyBirthDate: null, otherCanaries: 2 });
    expect(released.confidence).toBeCloseTo(1 - 0.6 * 0.15);
    adds(released);
  });

  // A robodialer of our own making: 50 numbers of a carrier block called in order within minutes, 41 of
  // them in burn-in or waiting in the pool, 9 held by canaries; it says nothing and knows no birth date.
  it('puts a dialer that calls many numbers no canary held below the alert threshold, whatever canaries it reached', () => {
    const dialer = scoreHit({ heldAtTime: true, background: null, names: [], babyBirthDate: null, otherCanaries: 8, unrelatedNumbers: 41 });
    expect(dialer.confidence).toBeLessThan(LOW);
    expect(dialer.confidence).toBeCloseTo(0.6 * (3 / 44), 3);
    expect(dialer.reasons.map((r) => r.code)).toEqual(['trap', 'dialer']); // its other canaries are chance, not a list
    expect(dialer.reasons[1]).toMatchObject({ label: 'sender called 41 unrelated numbers', weight: 0.068 });
    expect(dialer.reasons[1].effect).toBeCloseTo(-0.28, 2);
    adds(dialer);
    expect(formatReasons(dialer.reasons)).toBe('trap held by the canary +0.32; sender called 41 unrelated numbers −0.28');
    // From DIALER_MIN numbers on, a bare contact is below the threshold; one or two stray numbers (a misdial) count nothing.
    expect(scoreHit({ heldAtTime: true, background: null, names: [], babyBirthDate: null, otherCanaries: 0, unrelatedNumbers: DIALER_MIN }).confidence).toBeLessThan(LOW);
    const stray = scoreHit({ heldAtTime: true, background: null, names: [], babyBirthDate: null, otherCanaries: 1, unrelatedNumbers: DIALER_MIN - 1 });
    expect(stray.reasons.map((r) => r.code)).toEqual(['trap', 'same-sender']);
    expect(stray.confidence).toBeGreaterThan(0.9);
    // A dialer that says the mother's name has the list after all: the name is not discounted.
    const namedDialer = scoreHit({ heldAtTime: true, background: null, names: ['陈丽华'], babyBirthDate: null, otherCanaries: 8, unrelatedNumbers: 41 });
    expect(namedDialer.confidence).toBeGreaterThan(0.9);
  });

  // A scammer of our own making: texts three canaries of one export by name, one with the birth date.
  it('scores a scammer who names three canaries near certain, each reason with its share', () => {
    const third = scoreHit({ heldAtTime: true, background: null, names: ['王秀英'], babyBirthDate: '2026-11-21', otherCanaries: 2, unrelatedNumbers: 0 });
    expect(third.confidence).toBeGreaterThanOrEqual(0.999);
    expect(third.reasons.map((r) => r.code)).toEqual(['trap', 'names', 'birth-date', 'same-sender']);
    for (const r of third.reasons) expect(r.effect).toBeGreaterThan(0);
    // Symmetric shares: the name (0.9) counts more than the birth date (0.8), the trap (0.6) least.
    const effect = (code: string) => third.reasons.find((r) => r.code === code)!.effect;
    expect(effect('names')).toBeGreaterThan(effect('same-sender'));
    expect(effect('same-sender')).toBeGreaterThan(effect('birth-date'));
    expect(effect('birth-date')).toBeGreaterThan(effect('trap'));
    adds(third);
    expect(formatReasons(third.reasons)).toMatch(/^trap held by the canary \+0\.\d\d; names the family \+0\.\d\d; birth date \+0\.\d\d; sender contacted 2 other canaries \+0\.\d\d$/);
  });

  it('re-judges stored reasons, as this version or older ones wrote them, with what is known of the sender now', () => {
    const legacy = [{ reason: 'contacted a trap the canary holds: it exists only in the canary\'s records', weight: 0.6 }];
    expect(explain(legacy)).toEqual({ confidence: 0.6, reasons: [expect.objectContaining({ code: 'trap', label: 'trap held by the canary', effect: 0.6 })] });
    const list = rejudge(legacy, { otherCanaries: 2, unrelatedNumbers: 0 });
    expect(list.confidence).toBeCloseTo(1 - 0.4 * 0.15, 3);
    const dialer = rejudge(list.reasons, { otherCanaries: 9, unrelatedNumbers: 12 });
    expect(dialer.reasons.map((r) => r.code)).toEqual(['trap', 'dialer']);
    expect(dialer.confidence).toBeCloseTo(0.6 * 0.2, 3);
    expect(rejudge(dialer.reasons, { otherCanaries: 0, unrelatedNumbers: 0 })).toEqual(scoreHit({ heldAtTime: true, background: null, names: [], babyBirthDate: null, otherCanaries: 0 }));
    expect(explain([{ reason: 'a note', weight: 0.3 }]).reasons[0]).toMatchObject({ code: 'other', label: 'a note', effect: 0.3 });
  });

  it('tells the same script with other names and numbers from a different message', () => {
    const script = (name: string, phone: string) => `${name}您好，恭喜宝宝出生！本院合作影楼为新生儿提供免费写真，名额有限，请回电${phone}预约。`;
    expect(similarity(script('陈丽华', '13312345678'), script('王芳', '15800001111'))).toBeGreaterThan(SIMILAR);
    expect(similarity(script('陈丽华', '13312345678'), '您的快递已到驿站，请凭取件码领取')).toBeLessThan(0.1);
    expect(similarity('', 'abc')).toBe(0);
  });

  it('finds a birth date as messages write it', () => {
    for (const t of ['宝宝11月3日出生', '生日2026年11月3日', 'born 2026-11-03', '11月03日']) expect(mentionsDate(t, '2026-11-03')).toBe(true);
    expect(mentionsDate('11月13日', '2026-11-03')).toBe(false);
  });
});

describe.each(BACKENDS)('triage on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  let canaries: vault.CanaryRow[];
  const phoneOf = (c: vault.CanaryRow) => c.family.mother.phone!;
  const contact = (to: string, from: string, body: string | null, id: string, at = new Date()): vault.NewContact => ({
    source: 'generic', providerId: id, kind: 'sms', from, to, occurredAt: at, body, raw: Buffer.from(`${id}:${body}`),
  });

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 200, trapNumbers: 40 });
    const now = new Date();
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 4, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W48', ...birthWindow(now), seed: 'triage' });
    canaries = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    expect(canaries).toHaveLength(4);
  });
  afterAll(async () => h?.close());

  it('turns a text naming the canary into a confident hit with an incident and queued alerts, once', async () => {
    const c = canaries[0];
    await vault.recordContact(h.vault, contact(phoneOf(c), '+8613312345678', `${c.family.mother.name.full}您好，宝宝写真免费拍摄`, 'g1'));
    await vault.recordContact(h.vault, contact(phoneOf(canaries[1]), '+8613312345678', '您好，这里是儿童摄影', 'g2'));
    await vault.recordContact(h.vault, contact('+8613999999999', '+8613312345678', 'hello', 'g3')); // not a trap
    await vault.recordContact(h.vault, contact(phoneOf(canaries[2]), '+8602512345678', '您好', 'g4')); // the hospital's own line
    const res = await triagePending(h.vault, { alertChannels: ['email', 'webhook'], knownSenders: ['+8602512345678'] });
    expect(res.triaged).toBe(4);
    expect(res.ignored.map((i) => i.reason)).toEqual([expect.stringMatching(/not a trap/), expect.stringMatching(/known sender/)]);
    const [named, second] = res.hits;
    expect(named).toMatchObject({ canaryId: c.id, alerted: true });
    expect(named.confidence).toBeGreaterThan(0.95);
    // The same caller on a second canary: one incident, and the second hit says so.
    expect(second).toMatchObject({ canaryId: canaries[1].id, incidentId: named.incidentId });
    expect(second.confidence).toBeGreaterThan(0.9);
    const hits = await vault.listHits(h.vault);
    expect(hits.find((x) => x.canary_id === canaries[1].id)!.reasons.map((r) => r.reason)).toContainEqual(expect.stringMatching(/same sender contacted 1 other canary/));
    // The first hit is re-judged with the second: the same sender is evidence for both.
    const first = hits.find((x) => x.canary_id === c.id)!;
    expect(first.reasons.map((r) => r.reason)).toContainEqual(expect.stringMatching(/same sender contacted 1 other canary/));
    expect(first.confidence).toBeGreaterThan(named.confidence);
    expect(await count(h.vault, `SELECT id FROM alert_outbox WHERE state = 'pending'`)).toBe(4);
    const payloads = (await h.vault.query<{ payload: { from: string; canary: string } }>(`SELECT payload FROM alert_outbox ORDER BY id`)).rows.map((r) => r.payload);
    expect(payloads[0]).toMatchObject({ canary: c.id, from: '+*********5678' });
    expect(JSON.stringify(payloads)).not.toContain('13312345678');
    const [incident] = (await vault.listIncidents(h.vault)).filter((i) => i.source === 'hits');
    expect(incident).toMatchObject({ id: named.incidentId, hits: 2, canaries: 2, senders: ['+8613312345678'] });
    // Triaged contacts are not triaged again.
    expect((await triagePending(h.vault, { alertChannels: ['email'] })).triaged).toBe(0);
  });

  it('puts the same script from two unrelated numbers into one incident', async () => {
    const script = (name: string) => `${name}您好，恭喜宝宝出生！本院合作影楼为新生儿提供免费写真，名额有限，请回电预约。`;
    await vault.recordContact(h.vault, contact(phoneOf(canaries[2]), '+8619900000001', script(canaries[2].family.mother.name.full), 's1'));
    await vault.recordContact(h.vault, contact(phoneOf(canaries[3]), '+8619900000002', script(canaries[3].family.mother.name.full), 's2'));
    const res = await triagePending(h.vault);
    const [a, b] = res.hits;
    expect([a.canaryId, b.canaryId]).toEqual([canaries[2].id, canaries[3].id]);
    expect(b.incidentId).toBe(a.incidentId);
    const first = (await vault.listHits(h.vault)).find((x) => x.canary_id === canaries[0].id)!;
    expect(a.incidentId).not.toBe(first.incident_id);
    const incident = (await vault.listIncidents(h.vault)).find((i) => i.id === a.incidentId)!;
    expect(incident.senders.sort()).toEqual(['+8619900000001', '+8619900000002']);
    expect((await vault.incidentHits(h.vault, a.incidentId!)).map((x) => x.provider_id)).toEqual(['s1', 's2']);
  });

  it('triages a batch in one transaction: a crash in it leaves none of its contacts triaged, sealed or hit', async () => {
    const c = canaries[1];
    const dialer = '+8617700000001';
    await vault.recordContact(h.vault, contact('+8613999990001', dialer, '免费写真', 'b1'));
    await vault.recordContact(h.vault, contact(phoneOf(c), '+8617700000002', `${c.family.mother.name.full}您好，宝宝写真免费拍摄`, 'b2'));
    await vault.recordContact(h.vault, contact('+8613999990002', dialer, '免费写真', 'b3'));
    const state = async () => ({
      untriaged: await count(h.vault, `SELECT id FROM contact_events WHERE triaged_at IS NULL`),
      ledger: (await vault.ledgerHead(h.vault))?.seq,
      hits: await count(h.vault, `SELECT id FROM hits`),
      alerts: await count(h.vault, `SELECT id FROM alert_outbox`),
    });
    const before = await state();
    expect(before.untriaged).toBe(3);
    // The batch's last statement fails: its contacts were sealed and its hit made by then.
    const crash = (tx: Queryable): Queryable => ({ ...tx, query: (sql, params) => (/SET triaged_at = \$2 WHERE id = ANY/.test(sql) ? Promise.reject(new Error('crash')) : tx.query(sql, params)) });
    const crashing: Database = { ...h.vault, transaction: (fn, options) => h.vault.transaction((tx) => fn(crash(tx)), options) };
    await expect(triagePending(crashing, { alertChannels: ['email'] })).rejects.toThrow('crash');
    expect(await state()).toEqual(before);
    // Triaged again: as one run would have, and the ledger checks out.
    const res = await triagePending(h.vault, { alertChannels: ['email'] });
    expect(res.triaged).toBe(3);
    expect(res.ignored.map((i) => i.reason)).toEqual([expect.stringMatching(/not a trap/), expect.stringMatching(/not a trap/)]);
    expect(res.hits).toEqual([expect.objectContaining({ canaryId: c.id, alerted: true })]);
    const ids = (await h.vault.query<{ id: string }>(`SELECT id FROM contact_events WHERE provider_id IN ('b1', 'b2', 'b3') ORDER BY id`)).rows.map((r) => String(r.id));
    expect((await vault.ledgerEntries(h.vault, { kind: 'contact', refs: ids })).map((e) => e.ref).sort()).toEqual([...ids].sort());
    expect((await verifyVault(h.vault)).ok).toBe(true);
  });

  it('takes likely hits first when asked (watch): a stranger on a trap before a dialer\'s earlier calls, each sender in order', async () => {
    const dialer = '+8617700000009';
    for (let i = 0; i < 3; i++) await vault.recordContact(h.vault, contact(`+861399999100${i}`, dialer, '免费写真', `o${i}`));
    await vault.recordContact(h.vault, contact(phoneOf(canaries[2]), dialer, '免费写真', 'o3'));
    await vault.recordContact(h.vault, contact(phoneOf(canaries[0]), '+8617700000010', `${canaries[0].family.mother.name.full}您好`, 'o4'));
    const order = (await vault.listUntriagedLikelyHitsFirst(h.vault, 10)).map((r) => r.provider_id);
    expect(order).toEqual(['o4', 'o3', 'o0', 'o1', 'o2']);
    const first = await triagePending(h.vault, { order: 'likely-hits', limit: 1, alertChannels: ['email'] });
    expect(first.hits).toEqual([expect.objectContaining({ canaryId: canaries[0].id, alerted: true })]);
    expect((await triagePending(h.vault, { order: 'likely-hits' })).triaged).toBe(4);
  });

  // Rounds of a flood: likely hits by the sender's untriaged contacts, then the rest likewise, each
  // sender's in arrival order; every contact once, also as contacts keep arriving between rounds.
  it('picks each round as the order says while contacts keep arriving, and triages every contact once', async () => {
    const big = '+8617700000021', bigger = '+8617700000022';
    let n = 0;
    const add = (to: string, from: string | null, body = '免费写真') => vault.recordContact(h.vault, { ...contact(to, '', body, `r${n++}`), from });
    const other = (i: number) => `+86139999920${String(i % 100).padStart(2, '0')}`;
    const id = () => `r${n}`;
    const bigTrap0 = id();
    await add(phoneOf(canaries[1]), bigger); // a trap contact of the bigger dialer, before the big one's
    for (let i = 0; i < 12; i++) await add(other(i), big);
    for (let i = 0; i < 20; i++) await add(other(i), bigger);
    const bigTrap1 = id();
    await add(phoneOf(canaries[2]), big);
    await add(other(1), '+8617700000023');
    const mailbox = id();
    await add('mailbox@cradle-trap.example', '+8617700000023');
    await add(other(2), null);
    const nullTrap = id();
    await add(phoneOf(canaries[3]), null);
    const loner = id();
    await add(other(3), '+8617700000024');
    const expected = async (limit: number): Promise<string[]> => {
      const { rows } = await h.vault.query<{ id: string; from_address: string | null; provider_id: string; likely: boolean }>(
        `SELECT e.id::text, e.from_address, e.provider_id, (position('@' in e.to_address) > 0 OR EXISTS (SELECT 1 FROM trap_numbers t WHERE t.e164 = e.to_address)) AS likely
           FROM contact_events e WHERE e.triaged_at IS NULL`,
      );
      const sent = new Map<string | null, number>();
      for (const r of rows) sent.set(r.from_address, (sent.get(r.from_address) ?? 0) + 1);
      const key = (r: (typeof rows)[number]) => [r.likely ? 0 : 1, sent.get(r.from_address)!, Number(r.id)];
      const cmp = (a: number[], b: number[]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
      return rows.sort((a, b) => cmp(key(a), key(b))).slice(0, limit).map((r) => r.provider_id);
    };
    const first = (await vault.listUntriagedLikelyHitsFirst(h.vault, 8)).map((r) => r.provider_id);
    expect(first).toEqual(await expected(8));
    // The small senders' mailbox and trap contacts, then the smaller dialer's, the bigger's; among the
    // rest the one-contact sender's first.
    expect(first.slice(0, 5)).toEqual([mailbox, nullTrap, bigTrap1, bigTrap0, loner]);
    const all = Number((await h.vault.query<{ n: string }>(`SELECT count(*)::text AS n FROM contact_events`)).rows[0].n);
    let rounds = 0;
    for (;;) {
      const listed = (await vault.listUntriagedLikelyHitsFirst(h.vault, 7)).map((r) => r.provider_id);
      expect(listed).toEqual(await expected(7));
      const { triaged } = await triagePending(h.vault, { order: 'likely-hits', limit: 7, alertChannels: ['email'] });
      expect(triaged).toBe(listed.length);
      if (triaged === 0) break;
      const { rows } = await h.vault.query<{ provider_id: string }>(`SELECT provider_id FROM contact_events WHERE provider_id = ANY($1) AND triaged_at IS NULL`, [listed]);
      expect(rows).toEqual([]);
      // A stranger's contact to a trap arrives mid-flood: the next round takes it first.
      if (++rounds === 2) await add(phoneOf(canaries[0]), '+8617700000025', '您好');
    }
    const contacts = (await h.vault.query<{ id: string }>(`SELECT id::text FROM contact_events`)).rows.map((r) => r.id);
    expect(contacts).toHaveLength(all + 1);
    const sealed = (await vault.ledgerEntries(h.vault, { kind: 'contact', refs: contacts })).map((e) => e.ref);
    expect(sealed.sort()).toEqual([...contacts].sort());
    expect((await verifyVault(h.vault)).ok).toBe(true);
  });

  it('weighs a bare call to a trap that got random calls before any canary held it as weak, and alerts nothing', async () => {
    const c = canaries[3];
    const number = phoneOf(c);
    const assigned = (await h.vault.query<{ at: Date }>(`SELECT min(a.assigned_at) AS at FROM trap_assignments a JOIN trap_numbers t ON t.id = a.trap_number_id WHERE t.e164 = $1`, [number])).rows[0].at;
    await h.vault.query(`UPDATE trap_numbers SET added_at = $2 WHERE e164 = $1`, [number, new Date(assigned.getTime() - 14 * 86_400_000).toISOString()]);
    for (let i = 0; i < 6; i++) await vault.recordContact(h.vault, contact(number, `+861500000000${i}`, null, `bg${i}`, new Date(assigned.getTime() - (i + 1) * 86_400_000)));
    await vault.recordContact(h.vault, contact(number, '+8615811112222', null, 'late'));
    const res = await triagePending(h.vault, { alertChannels: ['email'] });
    expect(res.ignored).toHaveLength(6); // the burn-in calls reached no canary
    const [hit] = res.hits;
    expect(hit).toMatchObject({ canaryId: c.id, alerted: false, incidentId: null }); // below the threshold: a record, not an incident
    expect(hit.confidence).toBeLessThan(0.1);
  });
});

// Two triage processes on one vault (`cradle watch` and the triage timer): a contact is triaged by one
// of them, once; the other skips what the first holds or has done, instead of failing on a duplicate hit.
(SERVER_URL ? describe : describe.skip)('two triages at once on PostgreSQL', () => {
  let h: TestHospital;
  let second: Database;
  beforeAll(async () => {
    h = await createTestHospital({ backend: 'postgres', schema: 'reference', population: 200, trapNumbers: 40 });
    const now = new Date();
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 6, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W48', ...birthWindow(now), seed: 'concurrent' });
    second = await openDatabase(h.vaultLocation);
  });
  afterAll(async () => {
    await second?.close();
    await h?.close();
  });

  it('triages each contact once, whichever process takes it', async () => {
    const canaries = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    const phones = canaries.map((c) => c.family.mother.phone!);
    let n = 0;
    for (let round = 0; round < 40; round++) {
      for (const [i, to] of phones.entries()) {
        await vault.recordContact(h.vault, { source: 'generic', providerId: `cc${n++}`, kind: 'sms', from: `+86139000${String(round).padStart(3, '0')}${i}0`, to, occurredAt: new Date(), body: '您好，宝宝写真', raw: Buffer.from(`cc${n}`) });
      }
      await vault.recordContact(h.vault, { source: 'generic', providerId: `cc${n++}`, kind: 'sms', from: '+8613700000000', to: `+861399999${String(round).padStart(4, '0')}`, occurredAt: new Date(), body: 'hello', raw: Buffer.from(`cc${n}`) });
    }
    const [a, b] = await Promise.all([triagePending(h.vault, { alertChannels: ['email'] }), triagePending(second, { alertChannels: ['email'] })]);
    expect(a.triaged + b.triaged).toBe(n);
    expect(await count(h.vault, `SELECT id FROM contact_events WHERE triaged_at IS NULL`)).toBe(0);
    expect(await count(h.vault, `SELECT id FROM hits`)).toBe(40 * phones.length);
    expect(a.hits.length + b.hits.length).toBe(40 * phones.length);
    expect((await verifyVault(h.vault)).ok).toBe(true);
  });
});
