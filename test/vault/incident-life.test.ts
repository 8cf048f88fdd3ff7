import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { verifyVault } from '../../src/ledger/verify.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import { traceIncident } from '../../src/trace/trace.js';
import { triagePending } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS } from '../helpers/db.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';

// An incident's life cycle in the vault (src/vault/incident-life.ts): each transition changes the row,
// seals it and appends a life-cycle entry in one transaction; refused ones write nothing; `cradle
// verify` passes afterwards and still finds a status changed behind Cradle's back.

describe.each(BACKENDS)('incident life cycle on %s', (backend) => {
  let h: TestHospital;
  let canaries: vault.CanaryRow[];
  /** Incidents of three senders: A (two canaries), B, C. */
  let a: string, b: string, c: string;
  let hitsOf: (incident: string) => Promise<{ id: number; canary_id: string; status: string }[]>;

  const headSeq = async () => Number((await vault.ledgerHead(h.vault))!.seq);
  const lifeEntries = async (kind: string) => (await vault.ledgerEntries(h.vault, { kind })).map((e) => ({ ref: e.ref, incident: e.incident_id, actor: e.actor, content: e.content }));

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 120, trapNumbers: 30 });
    const now = new Date();
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 4, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W48', ...birthWindow(now), seed: 'incident-life' });
    canaries = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    const send = (i: number, from: string, body: string, id: string) =>
      vault.recordContact(h.vault, { source: 'generic', providerId: id, kind: 'sms', from, to: canaries[i].family.mother.phone!, occurredAt: new Date(), body, raw: Buffer.from(id) });
    await send(0, '+8613312345678', `${canaries[0].family.mother.name.full}您好，宝宝写真免费拍摄`, 'a1');
    await send(1, '+8613312345678', `${canaries[1].family.mother.name.full}您好，宝宝写真免费拍摄`, 'a2');
    await send(2, '+8615800001111', '奶粉试用装今日免费领取，回复1预约', 'b1');
    await send(3, '+8618900002222', 'Your parcel is waiting at the depot', 'c1');
    const res = await triagePending(h.vault, { alertChannels: [] });
    expect(res.hits).toHaveLength(4);
    [a, b, c] = [res.hits[0].incidentId!, res.hits[2].incidentId!, res.hits[3].incidentId!];
    expect(new Set([a, b, c]).size).toBe(3);
    expect(res.hits[1].incidentId).toBe(a);
    hitsOf = async (incident) => (await h.vault.query<{ id: number; canary_id: string; status: string }>(`SELECT id, canary_id, status FROM hits WHERE incident_id = $1 ORDER BY id`, [incident])).rows.map((r) => ({ ...r, id: Number(r.id) }));
  });
  afterAll(async () => h?.close());

  it('closes, reopens and dismisses with a reason, each a sealed change and a life-cycle entry; refuses what makes no sense', async () => {
    const closed = await vault.changeIncidentStatus(h.vault, c, 'close', 'parcel spam, nothing to do with us', { actor: 'alice' });
    expect(closed).toMatchObject({ incident: c, from: 'open', to: 'closed' });
    expect(closed.seq).toBe(await headSeq());
    const [entry] = await vault.ledgerEntries(h.vault, { fromSeq: closed.seq });
    expect(entry).toMatchObject({ kind: 'incident', ref: c, incident_id: c, actor: 'alice', content: { action: 'close', incident: c, from: 'open', to: 'closed', reason: 'parcel spam, nothing to do with us' } });
    // The incident's row is sealed again in the same transaction, just before.
    const [seal] = await vault.ledgerEntries(h.vault, { fromSeq: closed.seq - 1, toSeq: closed.seq - 1 });
    expect(seal).toMatchObject({ kind: 'rows', ref: 'incidents', incident_id: c });

    const before = await headSeq();
    await expect(vault.changeIncidentStatus(h.vault, c, 'close', 'again')).rejects.toThrow(`cannot close incident ${c}: it is already closed`);
    await expect(vault.changeIncidentStatus(h.vault, a, 'reopen', 'why not')).rejects.toThrow(`cannot reopen incident ${a}: it is already open`);
    await expect(vault.changeIncidentStatus(h.vault, c, 'dismiss', '  ')).rejects.toThrow(/needs a reason: --reason/);
    await expect(vault.changeIncidentStatus(h.vault, 'nope', 'close', 'x')).rejects.toThrow(/^no incident nope/);
    expect(await headSeq()).toBe(before); // nothing written by a refusal

    await vault.changeIncidentStatus(h.vault, c, 'reopen', 'the same sender called a canary again');
    await vault.changeIncidentStatus(h.vault, c, 'dismiss', 'not a leak: a parcel scam texting every number');
    await expect(vault.changeIncidentStatus(h.vault, c, 'close', 'x')).rejects.toThrow(`cannot close incident ${c}: it is dismissed`);
    const [row] = (await vault.listIncidents(h.vault, ['dismissed'])).filter((i) => i.id === c);
    expect(row).toMatchObject({ status: 'dismissed', merged_into: null });
    // Who: the OS user unless given.
    expect((await lifeEntries('incident')).filter((e) => e.ref === c).map((e) => [e.actor, (e.content as { action: string }).action])).toEqual([
      ['alice', 'close'],
      [vault.cliActor(), 'reopen'],
      [vault.cliActor(), 'dismiss'],
    ]);
  });

  it('adds notes, whatever the status', async () => {
    const n = await vault.noteIncident(h.vault, c, 'Checked with the carrier: bulk sender.', { actor: 'bob' });
    const [e] = await vault.ledgerEntries(h.vault, { fromSeq: n.seq });
    expect(e).toMatchObject({ kind: 'incident', ref: c, actor: 'bob', content: { action: 'note', note: 'Checked with the carrier: bulk sender.', from: 'dismissed', to: 'dismissed' } });
    await expect(vault.noteIncident(h.vault, c, ' \n')).rejects.toThrow(/needs some text/);
  });

  it('dismisses a hit: the trace leaves it out and says so; restoring brings it back', async () => {
    const [h0, h1] = await hitsOf(a);
    const res = await vault.changeHitStatus(h.vault, h1.id, 'dismiss', 'robocall: the same recording to every number', { actor: 'alice' });
    expect(res).toMatchObject({ hit: h1.id, incident: a, canary: h1.canary_id, from: 'active', to: 'dismissed' });
    const entries = await vault.ledgerEntries(h.vault, { fromSeq: res.seq - 1 });
    expect(entries.map((e) => [e.kind, e.ref])).toEqual([['hit', String(h1.id)], ['hit-status', String(h1.id)]]);
    expect(entries[0].content).toMatchObject({ id: h1.id, status: 'dismissed' });
    await expect(vault.changeHitStatus(h.vault, h1.id, 'dismiss', 'again')).rejects.toThrow(`cannot dismiss hit ${h1.id}: it is already dismissed`);
    await expect(vault.changeHitStatus(h.vault, h0.id, 'restore', null)).rejects.toThrow(`cannot restore hit ${h0.id}: it is not dismissed`);
    await expect(vault.changeHitStatus(h.vault, 999999, 'dismiss', 'x')).rejects.toThrow(/^no hit 999999/);

    const traced = await traceIncident(h.vault, a);
    expect(traced.canaries.map((x) => x.canary_id)).toEqual([h0.canary_id]);
    expect(traced.excluded).toEqual({ hits: [expect.objectContaining({ hitId: h1.id, canaryId: h1.canary_id, reason: 'robocall: the same recording to every number', by: 'alice' })], canaries: [h1.canary_id] });
    const [listed] = (await vault.listIncidents(h.vault)).filter((i) => i.id === a);
    expect(listed).toMatchObject({ hits: 1, dismissed_hits: 1, canaries: 1 });

    await vault.changeHitStatus(h.vault, h1.id, 'restore', 'it named the family after all');
    expect((await traceIncident(h.vault, a)).excluded).toEqual({ hits: [], canaries: [] });
    await vault.changeHitStatus(h.vault, h1.id, 'dismiss', 'robocall after all', { actor: 'alice' });
  });

  it('merges: the hits move, the other incident is marked merged, and its history follows', async () => {
    const moving = await hitsOf(b);
    await expect(vault.mergeIncidents(h.vault, a, a, null)).rejects.toThrow(`cannot merge incident ${a} into itself`);
    await expect(vault.mergeIncidents(h.vault, a, 'nope', null)).rejects.toThrow(/^no incident nope/);
    await vault.noteIncident(h.vault, b, 'Same studio, new number?');
    const res = await vault.mergeIncidents(h.vault, a, b, 'same photo studio, a second SIM', { actor: 'alice' });
    expect(res).toMatchObject({ into: a, merged: b, hits: moving.map((x) => x.id) });
    expect(await hitsOf(b)).toEqual([]);
    expect((await hitsOf(a)).map((x) => x.id)).toEqual(expect.arrayContaining(moving.map((x) => x.id)));
    const [gone] = (await vault.listIncidents(h.vault, ['merged'])).filter((i) => i.id === b);
    expect(gone).toMatchObject({ status: 'merged', merged_into: a, hits: 0 });
    const [entry] = await vault.ledgerEntries(h.vault, { fromSeq: res.seq });
    expect(entry).toMatchObject({ kind: 'incident', ref: b, incident_id: a, content: { action: 'merge', incident: b, into: a, from: 'open', to: 'merged', hits: res.hits } });

    await expect(vault.mergeIncidents(h.vault, a, b, null)).rejects.toThrow(`cannot merge incident ${b}: it was already merged into ${a}`);
    await expect(vault.mergeIncidents(h.vault, b, c, null)).rejects.toThrow(`cannot merge into incident ${b}: it was merged into ${a}`);
    await expect(vault.changeIncidentStatus(h.vault, b, 'close', 'x')).rejects.toThrow(`cannot close incident ${b}: it was merged into ${a}`);
    await expect(traceIncident(h.vault, b)).rejects.toThrow(`incident ${b} was merged into ${a}`);
    expect((await traceIncident(h.vault, a)).canaries.map((x) => x.canary_id)).toContain(moving[0].canary_id);

    // The kept incident's history holds the merged one's entries too, in ledger order.
    const history = await vault.incidentHistory(h.vault, a);
    expect(history.map((e) => [e.action, e.incident, e.hit])).toEqual([
      ['dismiss-hit', a, expect.any(Number)],
      ['restore-hit', a, expect.any(Number)],
      ['dismiss-hit', a, expect.any(Number)],
      ['note', b, null],
      ['merge', b, null],
    ]);
    expect(history[4]).toMatchObject({ actor: 'alice', reason: 'same photo studio, a second SIM', into: a });
    expect((await vault.incidentHistory(h.vault, b)).map((e) => e.action)).toEqual(['note', 'merge']);
  });

  it('verifies clean afterwards, and still finds a status changed behind Cradle\'s back or a life-cycle entry altered', async () => {
    const clean = await verifyVault(h.vault);
    expect(clean.evidence.problems).toEqual([]);
    expect(clean.ok).toBe(true);

    const [dismissed] = (await h.vault.query<{ id: number }>(`SELECT id FROM hits WHERE status = 'dismissed'`)).rows;
    await h.vault.query(`UPDATE hits SET status = 'active' WHERE id = $1`, [dismissed.id]);
    await h.vault.query(`UPDATE incidents SET status = 'open' WHERE id = $1`, [c]);
    const tampered = await verifyVault(h.vault);
    expect(tampered.ok).toBe(false);
    expect(tampered.evidence.problems.map((p) => [p.kind, p.ref, p.problem])).toEqual(
      expect.arrayContaining([
        ['hit', String(dismissed.id), 'mismatch'],
        ['incidents', c, 'mismatch'],
      ]),
    );
    await h.vault.query(`UPDATE hits SET status = 'dismissed' WHERE id = $1`, [dismissed.id]);
    await h.vault.query(`UPDATE incidents SET status = 'dismissed' WHERE id = $1`, [c]);

    // A reason rewritten in the ledger itself breaks the chain at that entry.
    const [close] = (await vault.ledgerEntries(h.vault, { kind: 'incident' })).filter((e) => (e.content as { action: string }).action === 'close');
    const original = JSON.stringify(close.content);
    await h.vault.query(`UPDATE ledger SET content = jsonb_set(content, '{reason}', '"closed by mistake"') WHERE seq = $1`, [close.seq]);
    const rewritten = await verifyVault(h.vault);
    expect(rewritten.ledger.break).toMatchObject({ seq: Number(close.seq), kind: 'incident', problem: 'altered' });
    await h.vault.query(`UPDATE ledger SET content = $2::jsonb WHERE seq = $1`, [close.seq, original]);
    expect((await verifyVault(h.vault)).ok).toBe(true);
  });
});
