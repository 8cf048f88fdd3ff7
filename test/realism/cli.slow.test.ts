import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import type { RealismReport } from '../../src/realism/audit.js';
import type { AuditReportData } from '../../src/report/audit-load.js';
import { plantCanaries } from '../../src/seed/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { scratchDir } from '../helpers/db.js';
import { createTestHospital, WARDS, type TestHospital } from '../helpers/hospital.js';

// `cradle realism` on the demo-style test hospital, from the binary: a figure with its interval, the
// documented JSON, --fail-above's exit code, the audit report's realism section, and no real name or
// phone in anything printed.

const DAY = 86_400_000;

describe('cradle realism on the test hospital', () => {
  let h: TestHospital;
  let cwd: string;
  let secrets: string[];
  const run = (args: string[]) => cradleInProcess(['--vault', h.vaultLocation, ...args], { cwd });

  beforeAll(async () => {
    h = await createTestHospital({ backend: 'pglite', schema: 'reference', population: 600, trapNumbers: 200, rotation: { 产科一病区: 2, 产科二病区: 2, NICU: 1 } });
    const now = new Date(Date.now() - DAY);
    for (const week of [3, 2, 1]) {
      const at = new Date(now.getTime() - week * 7 * DAY);
      await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 10, channels: [h.hospital.seedChannel], now: at, isoWeek: '2026-W40', birthFrom: new Date(at.getTime() - 7 * DAY), birthTo: at, seed: `realism-cli-${week}` });
    }
    const { rows } = await h.target.query<{ name: string; phone: string | null }>(`SELECT mother_name AS name, mother_phone AS phone FROM families`);
    secrets = rows.flatMap((r) => [r.name, ...(r.phone ? [r.phone] : [])]);
    cwd = scratchDir('realism-cli');
    fs.writeFileSync(
      path.join(cwd, 'cradle.config.json'),
      JSON.stringify({ hospitals: { h1: { displayName: '测试妇幼保健院', target: h.target.label, mapping: path.join(FIXTURES_DIR, 'mappings', 'reference.json'), wards: WARDS, districts: ['鼓楼区', '玄武区', '秦淮区'], rotation: { perWard: { 产科一病区: 2, 产科二病区: 2, NICU: 1 } } } } }),
    );
    // One process at a time on an embedded database: the binary opens them from here on.
    await h.vault.close();
    await h.target.close();
  });
  afterAll(async () => {
    if (!h) return;
    for (const d of [h.vaultLocation, h.target.label]) fs.rmSync(d, { recursive: true, force: true });
  });

  it('prints the classifier figure with its interval and a verdict line', async () => {
    const res = await run(['realism', '--seed', '1', '--sample', '30']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^planted canaries \(read from the target by their keys\): 30 canaries against 600 real families/m);
    expect(res.stdout).toMatch(/^dry-run sample .*: 30 canaries against 600 real families/m);
    expect(res.stdout).toMatch(/classifier ROC AUC [01]\.\d{3} \(95% CI [01]\.\d{3}–[01]\.\d{3}, DeLong; 5-fold stratified cross-validation/);
    expect(res.stdout.trim().split('\n').at(-1)).toMatch(/^(WARNING: canaries are separable from real rows: a thief's classifier reaches ROC AUC [01]\.\d{3}, above 0\.6 \(--warn-above 0\.6\)|ok: ROC AUC 0\.\d{3}, at most 0\.6)$/);
    expect(secrets.filter((s) => res.stdout.includes(s))).toEqual([]);
  });

  it('--json has the documented shape, and --fail-above sets the exit code', async () => {
    const res = await run(['realism', '--seed', '1', '--sample', '30', '--json', '--fail-above', '0.5']);
    const report = JSON.parse(res.stdout) as RealismReport;
    expect(Object.keys(report)).toEqual(['format', 'version', 'hospital', 'generatedAt', 'warnAbove', 'auc', 'warning', 'planted', 'sample', 'notes']);
    expect(report).toMatchObject({ format: 'cradle-realism', version: 1, hospital: 'h1', warnAbove: 0.6 });
    const planted = report.planted!;
    expect(Object.keys(planted).sort()).toEqual(['canaries', 'classifier', 'columns', 'fields', 'identifiers', 'notes', 'pairs', 'real'].sort());
    expect(planted.canaries).toBe(30);
    expect(planted.columns).toEqual(expect.arrayContaining(['family.mother_name', 'birth.weight_g']));
    expect(Object.keys(planted.classifier!).sort()).toEqual(['auc', 'ci', 'features', 'folds', 'high', 'low', 'model', 'se', 'topFeatures'].sort());
    expect(planted.classifier!.low).toBeLessThanOrEqual(planted.classifier!.auc);
    expect(Object.keys(planted.fields[0]).sort()).toEqual(['derived', 'distance', 'field', 'identifier', 'kind', 'nullRate', 'p', 'tests', 'typicality'].sort());
    expect(Object.keys(planted.pairs[0]).sort()).toEqual(['dependence', 'df', 'distance', 'fields', 'p', 'statistic', 'test'].sort());
    expect(report.sample!.canaries).toBe(30);
    expect(report.auc).toBe(Math.max(planted.classifier!.auc, report.sample!.classifier!.auc));
    expect(res.code).toBe(report.auc! > 0.5 ? 1 : 0);
    expect(res.stderr).toBe(report.warning ? `cradle: WARNING: ${report.warning}\n` : '');
    expect(secrets.filter((s) => res.stdout.includes(s))).toEqual([]);
    // Writing nothing anywhere: the vault still holds the 30 canaries planted, and the pool was not touched.
    const canaries = await run(['canaries', 'list', '--json']);
    expect((JSON.parse(canaries.stdout) as { count: number }).count).toBe(30);
  });

  it('bad thresholds are bad usage', async () => {
    const res = await run(['realism', '--warn-above', '1.5']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--warn-above.*expected an ROC AUC between 0\.5 and 1/);
  });

  it('the audit report carries the realism section with --realism', async () => {
    const to = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - 60 * DAY).toISOString().slice(0, 10);
    const data = json<AuditReportData>(await run(['audit', '--from', from, '--to', to, '--format', 'json', '--realism']));
    expect(data.realism!.comparisons.map((c) => c.kind)).toEqual(['planted', 'sample']);
    expect(data.realism!.comparisons[0]).toMatchObject({ canaries: 30, auc: expect.any(Number), low: expect.any(Number), high: expect.any(Number) });
    expect(data.realism!.comparisons[0].fields).toHaveLength(5);
    const without = json<AuditReportData>(await run(['audit', '--from', from, '--to', to, '--format', 'json']));
    expect(without.realism).toBeNull();
    for (const lang of ['en', 'zh-CN']) {
      const res = await run(['audit', '--from', from, '--to', to, '--out', `audit-${lang}.md`, '--lang', lang, '--realism']);
      expect(res.code).toBe(0);
      const md = fs.readFileSync(path.join(cwd, `audit-${lang}.md`), 'utf8');
      expect(md).toMatch(lang === 'en' ? /^## \d\. Realism: can a thief tell the canaries\?$/m : /^## \d\. 逼真度：窃取者能否认出金丝雀？$/m);
      expect(md).toMatch(/\| (\*\*)?[01]\.\d{3}(\*\*)? \| [01]\.\d{3}–[01]\.\d{3} \|/);
      expect(secrets.filter((s) => md.includes(s))).toEqual([]);
    }
  });
});
