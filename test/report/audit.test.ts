import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { importAccessLog } from '../../src/accesslog/import.js';
import type { Config } from '../../src/config/index.js';
import { openDatabase } from '../../src/db/index.js';
import { sharedSupply, sharingPlanOf } from '../../src/pool/share.js';
import { runExport, type ExportResult } from '../../src/exports/export.js';
import { auditPeriod, loadAuditReport, weeksOf, weekStatus, type AuditReportData } from '../../src/report/audit-load.js';
import { renderAuditHtml, renderAuditMarkdown } from '../../src/report/audit-render.js';
import { verifyVault } from '../../src/ledger/verify.js';
import { writeAuditReport } from '../../src/workflows/audit-report.js';
import { advanceCanaries, rotate } from '../../src/seed/index.js';
import { isoWeekRange } from '../../src/lib/time.js';
import { triagePending } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { cradleInProcess } from '../helpers/cli.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';

// `cradle audit`: two weekly rotations with the week between them skipped, an export whose canaries
// got texts, an access log that opened seeded canaries, a trap number that rang before any canary
// held it; the audit of the three weeks as data, Markdown and HTML, and through the CLI.

const FROM = '2026-10-05';
const TO = '2026-10-25';
const CALLER = '+8613311110000';

describe('audit periods and weeks', () => {
  it('spans whole days in the hospital time zone and lists the weeks that have started', () => {
    const { start, end } = auditPeriod('2026-10-01', '2026-12-31', 'Asia/Shanghai');
    expect(start.toISOString()).toBe('2026-09-30T16:00:00.000Z');
    expect(end.toISOString()).toBe('2026-12-31T16:00:00.000Z');
    const now = new Date('2026-10-21T00:00:00Z');
    expect(weeksOf(start, end, now, 'Asia/Shanghai')).toEqual(['2026-W40', '2026-W41', '2026-W42', '2026-W43']);
    expect(weekStatus(isoWeekRange('2026-W43', 'Asia/Shanghai'), undefined, now)).toBe('due');
    expect(weekStatus(isoWeekRange('2026-W42', 'Asia/Shanghai'), undefined, now)).toBe('missed');
  });

  it('names the option of a bad date, and refuses a period that ends before it starts', () => {
    expect(() => auditPeriod('2026-13-01', '2026-12-31', 'UTC')).toThrow(/^--from wants a date written yyyy-mm-dd/);
    expect(() => auditPeriod('2026-10-01', '2026-02-30', 'UTC')).toThrow(/^--to wants a date/);
    expect(() => auditPeriod('2026-12-01', '2026-10-01', 'UTC')).toThrow('--from 2026-12-01 is after --to 2026-10-01');
  });
});

const KNOWN = '+8613611112222';

describe.each(BACKENDS)('audit on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  let insurer: ExportResult;
  let dir: string;
  let data: AuditReportData;
  let noisyNumber: string;
  const hospital = () => ({ name: h.hospital.name, displayName: h.hospital.displayName, timeZone: h.hospital.timeZone, wards: h.hospital.wards, rotation: h.hospital.rotation });

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 200, trapNumbers: 40 });
    dir = scratchDir('audit');
    // The pool was set up before the quarter.
    await h.vault.query(`UPDATE trap_numbers SET added_at = '2026-09-01T00:00:00Z'`);
    // Rotations for weeks 41 and 43 (3 canaries each: 2 in 产科一病区, 1 in NICU); week 42 is skipped.
    // A rotation schedules its canaries; the cron job's `canaries advance` writes them as their days come.
    await rotate(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, week: '2026-W41', now: new Date('2026-10-05T02:00:00Z'), seed: 'audit' });
    await advanceCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, until: new Date('2026-10-19T01:00:00Z'), simulated: true });
    await rotate(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, week: '2026-W43', now: new Date('2026-10-19T02:00:00Z'), seed: 'audit' });
    await advanceCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, until: new Date('2026-10-25T15:00:00Z'), simulated: true });
    insurer = await runExport(h.vault, h.target, {
      hospital: h.hospital, mapping: h.mapping, channel: { kind: 'export', name: 'insurer' }, out: path.join(dir, 'insurer.csv'), params: [], columnFields: {}, now: new Date('2026-10-20T03:00:00Z'), canaries: 3, operator: 'n0101', seed: 'insurer',
    });
    // A number still in the pool rang once before any canary held it: burn-in noise.
    noisyNumber = (await vault.listTrapNumbers(h.vault, { state: 'available' }))[0].e164;
    await vault.recordContact(h.vault, { source: 'generic', providerId: 'noise', kind: 'call', from: '+8613900000000', to: noisyNumber, occurredAt: new Date('2026-10-10T04:00:00Z'), body: null, raw: Buffer.from('noise') });
    // What every live SIM hears is no noise (as triage reckons a trap's background): the carriers' bills
    // and notices, the network's own messages (a Gammu USSD reply), the hospital's known senders.
    const quiet = (await vault.listTrapNumbers(h.vault, { state: 'available' })).slice(1, 4).map((n) => n.e164);
    const at = new Date('2026-10-11T04:00:00Z');
    await vault.recordContact(h.vault, { source: 'generic', providerId: 'bill', kind: 'sms', from: '10086', to: quiet[0], occurredAt: at, body: '您本月话费账单', raw: Buffer.from('bill') });
    await vault.recordContact(h.vault, { source: 'generic', providerId: 'notice', kind: 'sms', from: '+8610010', to: noisyNumber, occurredAt: at, body: '流量提醒', raw: Buffer.from('notice') });
    await vault.recordContact(h.vault, { source: 'gammu-files', providerId: 'ussd', kind: 'other', from: null, to: quiet[1], occurredAt: at, body: '余额 12.30 元', headers: { 'x-gammu-network': 'ussd' }, raw: Buffer.from('ussd') });
    await vault.recordContact(h.vault, { source: 'generic', providerId: 'staff', kind: 'sms', from: KNOWN, to: quiet[2], occurredAt: at, body: 'test', raw: Buffer.from('staff') });
    // Two texts to the insurer's canaries make an incident.
    for (const [i, c] of insurer.canaries.slice(0, 2).entries()) {
      await vault.recordContact(h.vault, { source: 'generic', providerId: `a${i}`, kind: 'sms', from: CALLER, to: c.family.mother.phone!, occurredAt: new Date(Date.UTC(2026, 9, 22, 3 + i)), body: `${c.family.mother.name.full}您好，保险回访`, raw: Buffer.from(`raw ${i}`) });
    }
    await triagePending(h.vault);
    // An account opened two of week 43's canaries.
    const seeded = (await vault.listCanaries(h.vault, { hospital: h.hospital.name, week: '2026-W43' })).filter((c) => c.batch_id);
    const key = (x: vault.CanaryRow) => String(x.target_keys!.birth.birth_id);
    const log = path.join(dir, 'access.csv');
    fs.writeFileSync(log, ['ts,user,action,record', `2026-10-21 10:00:00,nurse42,view,${key(seeded[0])}`, `2026-10-21 10:05:00,nurse42,print,${key(seeded[1])}`].join('\n') + '\n');
    await importAccessLog(h.vault, log, { hospital: h.hospital.name, format: 'csv', timeZone: 'Asia/Shanghai', recordKey: { alias: 'birth', table: 'births', column: 'birth_id' }, alertChannels: [] });
    data = await loadAuditReport(h.vault, { hospital: hospital(), verification: await verifyVault(h.vault), from: FROM, to: TO, generatedBy: 'auditor', command: 'cradle audit', tool: 'cradle test', knownSenders: [KNOWN] });
  });
  afterAll(async () => h?.close());

  it('counts the rotations done and missed per week', () => {
    expect(data.period).toEqual({ from: FROM, to: TO, start: '2026-10-04T16:00:00.000Z', end: '2026-10-25T16:00:00.000Z' });
    expect(data.rotations.weeks.map((w) => [w.week, w.status, w.planned, w.planted])).toEqual([
      ['2026-W41', 'done', 3, 3],
      ['2026-W42', 'missed', 3, 0],
      ['2026-W43', 'done', 3, 3],
    ]);
    expect(data.rotations.weeks[0]).toMatchObject({ start: '2026-10-04T16:00:00.000Z', monday: '2026-10-05' });
    expect(data.rotations).toMatchObject({ plan: { 产科一病区: 2, NICU: 1 }, done: 2, missed: 1, partial: 0, due: 0 });
  });

  it('counts the canaries live per ward and per export recipient', () => {
    // Week 43's rotation retired week 41's canaries.
    expect(data.canaries.byWard).toEqual([
      { ward: '产科一病区', live: 2, plantedInPeriod: 4, retiredInPeriod: 2 },
      { ward: 'NICU', live: 1, plantedInPeriod: 2, retiredInPeriod: 1 },
    ]);
    expect(data.canaries.live).toBe(3);
    expect(data.canaries.byRecipient).toEqual([{ recipient: 'insurer', exportsInPeriod: 1, exportsTotal: 1, live: 3, lastExportAt: '2026-10-20T03:00:00.000Z' }]);
  });

  it('reports the pool by state, the weeks of numbers left and the burn-in noise', async () => {
    const counts = await vault.poolCounts(h.vault, h.hospital.name);
    expect(data.pool.counts).toEqual(counts);
    expect(data.pool.total).toBe(40);
    const { rows } = await h.vault.query<{ n: number; c: number }>(`SELECT count(*)::int AS n, count(DISTINCT canary_id)::int AS c FROM trap_assignments`);
    expect(counts.assigned + counts.retired).toBe(rows[0].n);
    expect(data.pool.perWeek).toBe(Math.ceil(3 * (rows[0].n / rows[0].c)));
    expect(data.pool.supply).toBe(counts.available + counts.burn_in);
    expect(data.pool.weeksLeft).toBe(Math.floor(data.pool.supply / data.pool.perWeek));
    expect(data.pool.needed).toBe(data.pool.perWeek * 4);
    expect(data.pool.low).toBe(data.pool.weeksLeft! < 4);
    expect(data.pool.noisy).toBe(1);
    expect(data.pool.noiseContacts).toBe(1);
    expect(data.pool.noisiest).toEqual([expect.objectContaining({ e164: noisyNumber, state: 'available', contacts: 1 })]);
    expect(data.pool.noisiest[0].perDay).toBeGreaterThan(0);
  });

  it('lists the hits and incidents with their status, the tripwires, and the ledger verified', () => {
    expect(data.hits.inPeriod).toBe(2);
    expect(data.hits.incidents).toHaveLength(1);
    expect(data.hits.incidents[0]).toMatchObject({ source: 'hits', status: 'open', hits: 2, canaries: 2, senders: 1, firstContact: '2026-10-22T03:00:00.000Z' });
    expect(data.hits).toMatchObject({ open: 1, closed: 0, dismissed: 0, merged: 0 });
    expect(data.tripwires.total).toBe(2);
    expect(data.tripwires.accounts).toEqual([expect.objectContaining({ account: 'nurse42', lines: 2, canaries: 2 })]);
    expect(data.tripwires.lines.map((l) => l.action)).toEqual(['print', 'view']);
    expect(data.ledger).toMatchObject({ ok: true, intact: true, problems: 0 });
    expect(data.ledger.entries).toBeGreaterThan(0);
    expect(data.ledger.head?.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('renders Markdown and HTML with every section, in English and Chinese', () => {
    const mdEn = renderAuditMarkdown(data, 'en');
    for (const s of ['## 1. Summary', '## 2. Weekly rotations', '## 3. Canaries live', '## 4. Trap pool health', '## 5. Hits and incidents', '## 6. Tripwires (access logs)', '## 7. Evidence ledger']) expect(mdEn).toContain(s);
    expect(mdEn).toMatch(/2 of 3 weekly rotations done, 1 missed/);
    expect(mdEn).toContain('| 2026-W42 | 12 October 2026 |');
    expect(mdEn).toContain('**MISSED**');
    expect(mdEn).toContain('The ledger verifies');
    expect(mdEn).toContain(`\`${noisyNumber}\``);
    const mdZh = renderAuditMarkdown(data, 'zh-CN');
    expect(mdZh).toContain('## 2. 每周轮换');
    expect(mdZh).toContain('遗漏');
    expect(mdZh).toContain('账本校验通过');

    const html = renderAuditHtml(data, 'zh-CN');
    expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="zh-CN">/);
    for (const id of ['summary', 'rotations', 'canaries', 'pool', 'incidents', 'tripwires', 'ledger']) expect(html).toContain(`<section id="${id}">`);
    expect(html).toContain('金丝雀计划审计报告');
    expect(html).toContain('<span class="bad">遗漏</span>');
    expect(html).toContain('class="verdict ok"');
    // Self-contained: no scripts, nothing fetched.
    expect(html).not.toMatch(/<script|<link|src=|url\(/i);
    expect(renderAuditHtml(data, 'en')).toContain('<title>Canary program audit: 测试妇幼保健院</title>');
  });

  it('warns when the pool holds fewer than four weeks of numbers', () => {
    const low: AuditReportData = { ...data, pool: { ...data.pool, weeksLeft: 2, low: true } };
    expect(renderAuditHtml(low, 'en')).toContain('<p class="warning">Warning: the pool holds fewer than 4 weeks of trap numbers (2 left).');
    expect(renderAuditMarkdown(low, 'zh-CN')).toContain('号码池剩余不足 4 周');
  });

  it("warns when the pool's numbers cannot match the real patients' phone segments", () => {
    const segments = { hospital: 'h1', profileId: 1, numbers: 20, uncoveredShare: 0.413, missing: ['1377654', '1860519'], warning: '41% …' };
    const off: AuditReportData = { ...data, pool: { ...data.pool, segments } };
    expect(renderAuditMarkdown(off, 'en')).toContain("Warning: 41% of the real patients' mobile numbers are in segments the pool has none of (most common: 1377654, 1860519).");
    expect(renderAuditHtml(off, 'en')).toContain('<p class="warning">Warning: 41% of the real patients');
    expect(renderAuditMarkdown(off, 'zh-CN')).toContain('真实患者的手机号码中有 41% 所在的号段在号码池中没有任何号码（最常见：1377654、1860519）');
    const covered: AuditReportData = { ...data, pool: { ...data.pool, segments: { ...segments, uncoveredShare: 0.02, missing: [], warning: null } } };
    expect(renderAuditHtml(covered, 'en')).not.toContain('mobile numbers are in segments');
  });

  it('counts a dismissed incident apart from the closed ones', async () => {
    const [incident] = data.hits.incidents;
    await vault.changeIncidentStatus(h.vault, incident.id, 'dismiss', 'robocall campaign', { actor: 'auditor' });
    try {
      const again = await loadAuditReport(h.vault, { hospital: hospital(), verification: await verifyVault(h.vault), from: FROM, to: TO, generatedBy: 'auditor', command: 'cradle audit', tool: 'cradle test' });
      expect(again.hits).toMatchObject({ open: 0, closed: 0, dismissed: 1, merged: 0 });
      expect(renderAuditMarkdown(again, 'en')).toContain('incidents: 0 open, 0 closed, 1 dismissed (not a leak).');
      expect(renderAuditMarkdown(again, 'zh-CN')).toContain('事件：处理中 0 个，已关闭 0 个，已驳回（非泄露）1 个。');
    } finally {
      await vault.changeIncidentStatus(h.vault, incident.id, 'reopen', 'back for the tests that follow', { actor: 'auditor' });
    }
  });

  it('gives the weeks of a shared pool (pool.sharing "shared") as `pool plan --shared` plays the plan, without the false warning of used-up numbers', async () => {
    // The same vault and a rotation of 15 canaries a week: as exclusive numbers the pool's ~25 free ones
    // last no week; shared, its 40 numbers run the plan for the two years simulated (it needs 6).
    const configOf = (sharing: 'exclusive' | 'shared'): Config => ({ file: 'cradle.config.json', vault: h.vaultLocation, hospitals: new Map([['h1', { ...h.hospital, rotation: { 产科一病区: 10, NICU: 5 }, sharing }]]) });
    const audit = async (sharing: 'exclusive' | 'shared') => (await writeAuditReport(h.vault, configOf(sharing), { from: FROM, to: TO, format: 'json', out: null, lang: 'en', command: 'cradle audit' })).data;
    const exclusive = await audit('exclusive');
    expect(exclusive.pool).toMatchObject({ sharing: 'exclusive', weeksLeft: 0, low: true, numbersNeeded: null });
    const shared = await audit('shared');
    const counts = await vault.poolCounts(h.vault, 'h1');
    expect(shared.pool).toMatchObject({ sharing: 'shared', supply: 40 - counts.blocked, numbersNeeded: 6, weeksLeft: 104, horizon: 104, low: false });
    // The same model and figure as `cradle pool plan --shared` (src/pool/share.ts).
    expect(sharedSupply(sharingPlanOf({ perWeek: 15, exportsPerWeek: 0, canariesPerExport: 1, weeks: 104 }), 40 - counts.blocked)).toMatchObject({ numbersNeeded: 6, shortFrom: null });
    const md = renderAuditMarkdown(shared, 'en');
    expect(md).not.toContain('Warning: the pool holds fewer');
    expect(md).toContain('the rotation plan needs 6: enough for the 104 weeks simulated.');
    expect(renderAuditMarkdown(shared, 'zh-CN')).toContain('轮换计划需要 6 个：足够模拟的 104 周');
    expect(renderAuditMarkdown(exclusive, 'en')).toContain('Warning: the pool holds fewer than 4 weeks of trap numbers (0 left).');
  });

  if (backend === 'pglite') {
    it('writes the audit through the CLI and records it in the ledger', async () => {
      const before = await vault.ledgerHead(h.vault);
      await h.vault.close();
      try {
        const cwd = scratchDir('audit-cli');
        const out = await cradleInProcess(['--vault', h.vaultLocation, 'audit', '--from', FROM, '--to', TO, '--out', 'q.html', '--lang', 'zh-CN'], { cwd });
        expect(out.stderr).toBe('');
        expect(out.code).toBe(0);
        expect(out.stdout).toMatch(/^wrote q\.html \(html, zh-CN, \d+ bytes\) sha256 [0-9a-f]{64}; ledger entry #\d+\n$/);
        const html = fs.readFileSync(path.join(cwd, 'q.html'), 'utf8');
        expect(html).toContain('<section id="ledger">');
        expect(html).toContain('2026-W42');
        const json = await cradleInProcess(['--vault', h.vaultLocation, 'audit', '--from', FROM, '--to', TO, '--format', 'json'], { cwd });
        expect(json.code).toBe(0);
        const printed = JSON.parse(json.stdout) as AuditReportData;
        expect(printed).toMatchObject({ format: 'cradle-audit-report', rotations: { done: 2, missed: 1 }, ledger: { ok: true } });
        const bad = await cradleInProcess(['--vault', h.vaultLocation, 'audit', '--from', '2026-10-32', '--to', TO], { cwd });
        expect(bad.code).toBe(2);
        expect(bad.stderr).toMatch(/--from <date>.*yyyy-mm-dd/);
        expect(bad.stderr.trim().split('\n')).toHaveLength(1);
        const reversed = await cradleInProcess(['--vault', h.vaultLocation, 'audit', '--from', TO, '--to', FROM, '--format', 'json'], { cwd });
        expect(reversed.code).toBe(1);
        expect(reversed.stderr).toBe(`cradle: --from ${TO} is after --to ${FROM}\n`);
      } finally {
        h.vault = await openDatabase(h.vaultLocation);
      }
      const entries = await vault.ledgerEntries(h.vault, { kind: 'report', refs: [`audit:h1:${FROM}..${TO}`] });
      expect(entries).toHaveLength(1);
      expect(entries[0].seq).toBe(Number(before!.seq) + 1);
      expect(entries[0]).toMatchObject({ incident_id: null, content: { incident: null, format: 'html', lang: 'zh-CN', scope: { hospital: 'h1', from: FROM, to: TO } } });
    });
  }

  it('takes a perWeek plan before its first rotation as a plan: its weeks are due or missed, and the pool measured against it', async () => {
    // A second hospital in the same vault, configured with rotation.perWeek 7 and never rotated (last:
    // the CLI tests above take the vault's only hospital).
    await vault.ensureHospital(h.vault, 'h2', 'zh-CN');
    await h.vault.query(`UPDATE hospitals SET created_at = '2026-09-01T00:00:00Z' WHERE name = 'h2'`);
    const d = await loadAuditReport(h.vault, { hospital: { name: 'h2', timeZone: 'Asia/Shanghai', rotation: null, perWeek: 7 }, verification: await verifyVault(h.vault), from: FROM, to: TO });
    expect(d.rotations).toMatchObject({ plan: null, perWeek: 7, done: 0 });
    expect(d.rotations.weeks.filter((w) => w.status === 'missed').every((w) => w.planned === 7)).toBe(true);
    expect(d.rotations.missed).toBeGreaterThan(0);
    expect(d.pool.perWeek).toBe(7); // no canary of h2 yet: one number each
    const plan = (lang: 'en' | 'zh-CN') => renderAuditMarkdown(d, lang).split('\n').find((l) => /Rotation plan|轮换计划/.test(l));
    expect(plan('en')).toBe('Rotation plan: 7 canaries per week, shared among the wards at each rotation.');
    expect(plan('zh-CN')).toBe('轮换计划：每周 7 个金丝雀，每次轮换时分配到各病区。');
  });
});
