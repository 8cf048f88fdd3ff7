import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { verifyVault } from '../../src/ledger/verify.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import { LOW } from '../../src/triage/score.js';
import { triagePending } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS } from '../helpers/db.js';
import { count, createTestHospital, type TestHospital } from '../helpers/hospital.js';

// Noise before it becomes an incident, on contacts Cradle did not make: the pool is one carrier block
// of 60 consecutive numbers (as SIMs are bought); a robodialer walks 50 of them in number order, one
// call every 20 seconds, saying nothing; a scammer with the leaked list texts three canaries by name.
// Contacts are triaged one at a time, as `cradle watch` does when they arrive, so the dialer's first
// hits are judged before its pattern shows.

const BLOCK = Array.from({ length: 60 }, (_, i) => `+861377001${String(i).padStart(4, '0')}`);
const DIALER = '+8617100000001';
const SCAMMER = '+8613312345678';

interface HitView {
  id: number;
  canary: string;
  from: string | null;
  confidence: number;
  incident: string | null;
  status: string;
  codes: string[];
  labels: string[];
}

describe.each(BACKENDS)('noise on %s', (backend) => {
  let h: TestHospital;
  let canaries: vault.CanaryRow[];
  let held: Set<string>;
  const t0 = new Date(Date.now() - 3 * 3_600_000);
  const at = (ms: number) => new Date(t0.getTime() + ms);
  const hits = async (): Promise<HitView[]> =>
    (await vault.listHits(h.vault)).map((x) => ({
      id: Number(x.id), canary: x.canary_id, from: x.from_address, confidence: Number(x.confidence), incident: x.incident_id, status: x.status,
      codes: x.reasons.map((r) => (r as { code?: string }).code ?? ''), labels: x.reasons.map((r) => (r as { label?: string }).label ?? ''),
    }));
  /** Triage contact by contact, as the watch service does. */
  const triageEach = async () => {
    for (;;) if ((await triagePending(h.vault, { alertChannels: ['email'], limit: 1 })).triaged === 0) return;
  };

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 150, trapNumbers: 0, seed: 'noise' });
    await vault.addTrapNumbers(h.vault, BLOCK.map((e164) => ({ e164, region: 'CN' })), { hospital: null, burnInUntil: null });
    const now = new Date(t0.getTime() - 86_400_000);
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 6, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W48', ...birthWindow(now), seed: 'noise' });
    canaries = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    held = new Set((await vault.listTrapNumbers(h.vault)).filter((n) => n.canary_id).map((n) => n.e164));
    expect(held.size).toBeGreaterThanOrEqual(6);
  });
  afterAll(async () => h?.close());

  it('keeps the dialer\'s hits below the threshold and out of incidents; the scammer\'s three make one', async () => {
    const scam = canaries.slice(0, 3);
    for (const [i, c] of scam.entries()) {
      const date = i === 2 ? `宝宝${new Date(c.family.baby.birthTime).getUTCMonth() + 1}月${new Date(c.family.baby.birthTime).getUTCDate()}日出生，` : '';
      await vault.recordContact(h.vault, {
        source: 'generic', providerId: `scam${i}`, kind: 'sms', from: SCAMMER, to: c.family.mother.phone!, occurredAt: at(i * 600_000),
        body: `${c.family.mother.name.full}您好，${date}恭喜宝宝出生！医院合作影楼免费百天写真，请回电预约。`, raw: Buffer.from(`scam${i}`),
      });
    }
    const dialled = BLOCK.slice(5, 55);
    for (const [i, to] of dialled.entries()) {
      await vault.recordContact(h.vault, { source: 'generic', providerId: `robo${i}`, kind: 'call', from: DIALER, to, occurredAt: at(3_600_000 + i * 20_000), body: null, raw: Buffer.from(`robo${i}`) });
    }
    await triageEach();

    const all = await hits();
    const scamHits = all.filter((x) => x.from === SCAMMER);
    expect(scamHits).toHaveLength(3);
    for (const x of scamHits) {
      expect(x.confidence).toBeGreaterThanOrEqual(0.99);
      expect(x.codes).toEqual(expect.arrayContaining(['trap', 'names', 'same-sender']));
    }
    expect(scamHits.find((x) => x.canary === scam[2].id)!.codes).toContain('birth-date');
    expect(new Set(scamHits.map((x) => x.incident)).size).toBe(1);

    const unrelated = dialled.filter((n) => !held.has(n)).length;
    const robo = all.filter((x) => x.from === DIALER);
    expect(robo.length).toBe(dialled.filter((n) => held.has(n)).length);
    expect(robo.length).toBeGreaterThan(0);
    for (const x of robo) {
      expect(x.confidence).toBeLessThan(LOW);
      expect(x.codes).toEqual(['trap', 'dialer']);
      expect(x.incident).toBeNull();
    }
    // Each hit was judged with the numbers called so far and re-judged as the sweep went on (when its
    // confidence moved by a fifth or more), up to the whole sweep's count.
    const counts = robo.map((x) => Number(/^sender called (\d+) unrelated numbers$/.exec(x.labels[1])![1]));
    expect(Math.max(...counts)).toBeLessThanOrEqual(unrelated);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(unrelated / 2);
    // Open incidents: the scammer's only. A dialer hit that opened one before its pattern showed
    // left it dismissed by triage, with the reason in the ledger.
    const incidents = await vault.listIncidents(h.vault);
    expect(incidents.filter((i) => i.status === 'open').map((i) => i.id)).toEqual([scamHits[0].incident]);
    for (const i of incidents.filter((x) => x.id !== scamHits[0].incident)) {
      expect(i.status).toBe('dismissed');
      const history = await vault.incidentHistory(h.vault, i.id);
      expect(history).toEqual([expect.objectContaining({ action: 'dismiss', reason: expect.stringMatching(/^triage: every hit is now below 0\.5 \(sender called \d+ unrelated numbers\)/) })]);
    }
    // Everything re-judged was sealed again: the ledger matches every row.
    expect(await verifyVault(h.vault)).toMatchObject({ ok: true, evidence: { problemCount: 0 } });
  });

  it('leaves a dismissed hit as the investigator left it when the sender turns up again', async () => {
    const before = (await vault.listHits(h.vault)).find((x) => x.from_address === SCAMMER && x.canary_id === canaries[0].id)!;
    await vault.changeHitStatus(h.vault, Number(before.id), 'dismiss', 'the studio called this mother with her consent', { actor: 'alice' });
    const alertsBefore = await count(h.vault, `SELECT id FROM alert_outbox WHERE hit_id = $1`, [Number(before.id)]);
    const c = canaries[3];
    await vault.recordContact(h.vault, {
      source: 'generic', providerId: 'scam3', kind: 'sms', from: SCAMMER, to: c.family.mother.phone!, occurredAt: at(7_200_000),
      body: `${c.family.mother.name.full}您好，恭喜宝宝出生！医院合作影楼免费百天写真，请回电预约。`, raw: Buffer.from('scam3'),
    });
    await triageEach();
    const after = (await vault.listHits(h.vault)).find((x) => x.id === before.id)!;
    expect(after).toMatchObject({ status: 'dismissed', confidence: before.confidence, reasons: before.reasons, incident_id: before.incident_id });
    expect(await count(h.vault, `SELECT id FROM alert_outbox WHERE hit_id = $1`, [Number(before.id)])).toBe(alertsBefore);
    // The new hit counts the active ones only: two other canaries, not three.
    const newest = (await hits()).find((x) => x.canary === c.id && x.from === SCAMMER)!;
    expect(newest.labels).toContain('sender contacted 2 other canaries');
    for (const x of (await hits()).filter((x) => x.from === SCAMMER && x.status === 'active')) expect(x.confidence).toBeGreaterThanOrEqual(0.99);

    // A bare call the investigator dismissed as a wrong number; its caller then dials three numbers
    // that are no traps. Re-judged, it would fall below the threshold and take its incident with it:
    // it is left as it was, and so is its incident.
    const wrong = '+8615500000009';
    await vault.recordContact(h.vault, { source: 'generic', providerId: 'wrong0', kind: 'call', from: wrong, to: canaries[4].family.mother.phone!, occurredAt: at(8_000_000), body: null, raw: Buffer.from('wrong0') });
    await triageEach();
    const bare = (await vault.listHits(h.vault)).find((x) => x.from_address === wrong)!;
    expect(bare.confidence).toBeCloseTo(0.6);
    expect(bare.incident_id).not.toBeNull();
    await vault.changeHitStatus(h.vault, Number(bare.id), 'dismiss', 'a wrong number', { actor: 'alice' });
    for (let i = 1; i <= 3; i++) {
      await vault.recordContact(h.vault, { source: 'generic', providerId: `wrong${i}`, kind: 'call', from: wrong, to: `+861390000000${i}`, occurredAt: at(8_000_000 + i * 20_000), body: null, raw: Buffer.from(`wrong${i}`) });
    }
    await triageEach();
    expect((await vault.listHits(h.vault)).find((x) => x.id === bare.id)).toMatchObject({ status: 'dismissed', confidence: bare.confidence, reasons: bare.reasons, incident_id: bare.incident_id });
    expect((await vault.listIncidents(h.vault)).find((i) => i.id === bare.incident_id)).toMatchObject({ status: 'open', hits: 0, dismissed_hits: 1 });
  });
});
