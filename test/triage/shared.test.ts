import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/db/index.js';
import { draftCanaries } from '../../src/canary/draft.js';
import { sameBirthDay } from '../../src/lib/birth-dates.js';
import { verifyVault } from '../../src/ledger/verify.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import { traceIncident } from '../../src/trace/trace.js';
import { birthDates, resolveContact, type Holder } from '../../src/triage/resolve.js';
import { triagePending } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { createTestHospital, WARDS, type TestHospital } from '../helpers/hospital.js';

// A trap number several live canaries share (pool.sharing "shared"): a contact that names a family or
// gives a birth date resolves to that canary; one that does neither keeps the set of candidates, and
// the trace weighs the set (docs/trace.md, "Shared trap numbers").

const DAY = 86_400_000;

describe('resolving a contact among the holders of a number', () => {
  const name = (full: string, latin: string) => ({ family: full.slice(0, 1), given: full.slice(1), full, latin });
  const family = (mother: string, latin: string, birth: string) =>
    ({
      locale: 'zh-CN',
      mother: { name: name(mother, latin), phone: '+8613800000000', email: null },
      father: null,
      baby: { name: name(`${mother.slice(0, 1)}之子`, 'zhi zi'), birthTime: birth },
    }) as unknown as Holder['family'];
  const at = new Date('2026-12-01T10:00:00Z');
  const holder = (id: string, mother: [string, string], birth: string, assignedDaysAgo: number, releasedDaysAgo: number | null): Holder => ({
    canary_id: id,
    family: family(...mother, birth),
    assigned_at: new Date(at.getTime() - assignedDaysAgo * DAY),
    released_at: releasedDaysAgo === null ? null : new Date(at.getTime() - releasedDaysAgo * DAY),
  });
  const holders = [
    holder('c3', ['刘婷', 'Liu Ting'], '2026-11-20T02:00:00Z', 3, null),
    holder('c2', ['王秀英', 'Wang Xiuying'], '2026-11-10T02:00:00Z', 10, null),
    holder('c1', ['陈丽华', 'Chen Lihua'], '2026-10-02T02:00:00Z', 60, 20),
    holder('c0', ['张敏', 'Zhang Min'], '2025-01-02T02:00:00Z', 700, 600),
  ];

  it('resolves by a name, then by a birth date, else keeps every earlier holder as the set', () => {
    expect(resolveContact(holders, '王秀英您好，宝宝写真')).toMatchObject({ holder: { canary_id: 'c2' }, names: ['王秀英'], candidates: null });
    // An old holder named is still the one (an old list circulates).
    expect(resolveContact(holders, '张敏您好')).toMatchObject({ holder: { canary_id: 'c0' }, candidates: null });
    expect(resolveContact(holders, '恭喜宝宝10月2日出生')).toMatchObject({ holder: { canary_id: 'c1' }, babyBirthDate: '2026-10-02', candidates: null });
    // Neither: every canary that held the number (old lists circulate); the latest is the hit's canary.
    expect(resolveContact(holders, '您好，免费写真')).toMatchObject({ holder: { canary_id: 'c3' }, candidates: ['c0', 'c1', 'c2', 'c3'] });
    expect(resolveContact(holders, '').candidates).toEqual(['c0', 'c1', 'c2', 'c3']);
    // Two holders born on the day the message gives: the set is those two.
    const twins = [holders[1], { ...holders[2], family: { ...holders[2].family, baby: { ...holders[2].family.baby, birthTime: '2026-11-10T05:00:00Z' } } }];
    expect(resolveContact([...twins, holders[0]], '11月10日出生的宝宝')).toMatchObject({ candidates: ['c1', 'c2'], babyBirthDate: '2026-11-10' });
  });

  it('resolves a number only one canary ever held to it, as exclusive numbers always were', () => {
    expect(resolveContact([holders[1]], '')).toMatchObject({ holder: { canary_id: 'c2' }, candidates: null });
    expect(resolveContact([holders[3]], '')).toMatchObject({ holder: { canary_id: 'c0' }, candidates: null });
    expect(birthDates('2026-10-01T20:00:00Z')).toEqual(['2026-10-01', '2026-10-02']);
  });
});

describe.each(BACKENDS)('shared trap numbers on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  let canaries: vault.CanaryRow[];
  let shared: string;

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 200, trapNumbers: 20 });
    const now = new Date(Date.now() - 2 * DAY);
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 3, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W49', ...birthWindow(now), seed: 'shared' });
    canaries = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    // Canary 1 takes canary 0's number as well: two live holders.
    shared = canaries[0].family.mother.phone!;
    await h.vault.query(
      `INSERT INTO trap_assignments (trap_number_id, canary_id, role, assigned_at)
       SELECT id, $2, 'mother', $3 FROM trap_numbers WHERE e164 = $1`,
      [shared, canaries[1].id, now.toISOString()],
    );
  });
  afterAll(async () => h?.close());

  const sms = (id: string, body: string, from = '+8613312345678'): vault.NewContact => ({
    source: 'generic', providerId: id, kind: 'sms', from, to: shared, occurredAt: new Date(), body, raw: Buffer.from(`${id}:${body}`),
  });

  it('keeps the set for a contact naming no family, resolves one naming a mother, and the trace weighs the set', async () => {
    const [c0, c1] = canaries;
    await vault.recordContact(h.vault, sms('a1', '您好，这里是儿童摄影，免费写真'));
    await vault.recordContact(h.vault, sms('a2', `${c1.family.mother.name.full}您好，宝宝写真`, '+8613312340000'));
    const res = await triagePending(h.vault);
    expect(res.hits).toHaveLength(2);
    const rows = (await h.vault.query<{ canary_id: string; candidates: string[] | null; reasons: { code: string; label: string }[] }>(`SELECT canary_id, candidates, reasons FROM hits ORDER BY id`)).rows;
    expect(rows[0].candidates).toEqual([c0.id, c1.id].sort());
    expect(rows[0].reasons.map((r) => r.code)).toEqual(['trap', 'shared-number']);
    expect(rows[0].reasons[1].label).toBe('shared number: one of 2 canaries');
    expect(rows[1]).toMatchObject({ canary_id: c1.id, candidates: null });
    expect((await verifyVault(h.vault)).ok).toBe(true);

    const incident = res.hits[0].incidentId!;
    expect(incident).toBeTruthy();
    const report = await traceIncident(h.vault, incident);
    expect(report.canaries).toEqual([]);
    expect(report.ambiguous).toEqual([expect.objectContaining({ candidates: [expect.objectContaining({ canary_id: [c0.id, c1.id].sort()[0] }), expect.anything()], evidence: 1 })]);
    // The seeding channel saw both candidates: it explains the contact as one of them.
    expect(report.suspects[0].kind).not.toBe('unknown');
    expect(report.suspects[0].explains).toEqual([[c0.id, c1.id].sort().join('|')]);
  });

  it('cradle hits gives the candidate set of the ambiguous hit, in JSON and briefly in the table', async () => {
    const [c0, c1] = canaries;
    const set = [c0.id, c1.id].sort();
    // The vault is embedded (one process at a time) but on PostgreSQL.
    const embeddedVault = backend !== 'postgres';
    if (embeddedVault) await h.vault.close();
    try {
      const cwd = scratchDir(`shared-hits-${backend}`);
      const out = json<{ hits: { canaryId: string; candidates: string[] | null; body: string }[] }>(await cradleInProcess(['--vault', h.vaultLocation, 'hits', '--json'], { cwd }));
      expect(out.hits.map((x) => x.candidates)).toEqual([set, null]);
      expect(set).toContain(out.hits[0].canaryId);
      expect(out.hits[1].canaryId).toBe(c1.id);
      const text = await cradleInProcess(['--vault', h.vaultLocation, 'hits'], { cwd });
      expect(text.code).toBe(0);
      expect(text.stdout).toContain(`(one of 2: ${set.join(',')})`);
      expect(text.stdout.split('\n').filter((l) => l.includes('one of'))).toHaveLength(1);
    } finally {
      if (embeddedVault) h.vault = await openDatabase(h.vaultLocation);
    }
  });
});

describe('drafting on shared numbers keeps the babies\' birth dates apart', () => {
  let h: TestHospital & { trapNumbers: string[] };
  beforeAll(async () => {
    h = await createTestHospital({ backend: 'pglite', schema: 'reference', population: 200, trapNumbers: 2 });
  });
  afterAll(async () => h?.close());

  it('gives a new canary only a number none of whose holders\' babies was born on its baby\'s day (month and day)', async () => {
    const hospital = { ...h.hospital, sharing: 'shared' as const, fatherNumbers: 'mother' as const };
    const D = Date.UTC(2026, 10, 10, 1); // 09:00 in China: the same date in UTC and in China
    const day = (at: number) => ({ birthFrom: new Date(at), birthTo: new Date(at + 4 * 3_600_000) });
    const now = new Date(D + 2 * DAY);
    const plant = (ward: string, at: number, seed: string) =>
      plantCanaries(h.vault, h.target, { hospital, mapping: h.mapping, count: 1, ward, channels: [hospital.seedChannel], now, isoWeek: '2026-W46', ...day(at), seed });
    // A on ward 1 born on 11-10; B on ward 2 born 60 days before: one number each, one holder on each.
    await plant(WARDS[0], D, 'a');
    await plant(WARDS[1], D - 60 * DAY, 'b');
    const [a, b] = (await vault.listCanaries(h.vault, { hospital: hospital.name })).sort((x, y) => Date.parse(y.family.baby.birthTime) - Date.parse(x.family.baby.birthTime));
    expect(a.family.mother.phone).not.toBe(b.family.mother.phone);
    expect(sameBirthDay(a.family.baby.birthTime, b.family.baby.birthTime)).toBe(false);
    // A canary of a third ward born on 11-10 too: both numbers are open to its ward and equally held,
    // but a message giving "11月10日" on A's number must pick one canary: it gets B's, whatever the draw.
    for (let i = 0; i < 12; i++) {
      const d = await draftCanaries(h.vault, h.target, { hospital, mapping: h.mapping, count: 1, ward: () => WARDS[2], ...day(D), now, seed: `c${i}` });
      expect(sameBirthDay(d.families[0].baby.birthTime, a.family.baby.birthTime)).toBe(true);
      expect(d.families[0].mother.phone).toBe(b.family.mother.phone);
    }
    // Born on B's day as well as A's is impossible; born on A's day with A's number alone left is short.
    await h.vault.query(`UPDATE trap_numbers SET state = 'blocked' WHERE e164 = $1`, [b.family.mother.phone]);
    await expect(draftCanaries(h.vault, h.target, { hospital, mapping: h.mapping, count: 1, ward: () => WARDS[2], ...day(D), now, seed: 'short' })).rejects.toThrow(/an earlier holder with a name that could be confused with theirs or a baby born on the same day/);
  });
});
