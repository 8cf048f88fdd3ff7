import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { realismAudit, type RealismReport } from '../../src/realism/audit.js';
import { realismLines } from '../../src/cli/realism.js';
import { createRealismHospital, type RealismHospital } from './population.js';

// `cradle realism` must fail both ways: canaries a thief spots at once give a high AUC and the
// warning; canaries drawn from the real rows' own distributions (with identifiers in sequence) give
// an AUC near 0.5 and none. On a hospital written here, not by Cradle's generator. And nothing of a
// real row comes out: only aggregates and column names.

const NOW = new Date(Date.UTC(2026, 11, 1, 2, 0, 0));

function expectNoRealValues(h: RealismHospital, texts: string[]): void {
  const secrets = h.rows.filter((r) => !r.canary).flatMap((r) => [r.xm, r.lxdh, r.jtzz, r.sfzh].filter((v): v is string => v !== null));
  for (const text of texts) {
    expect(secrets.filter((s) => text.includes(s))).toEqual([]);
    // No Han character at all: every value the report could quote (names, addresses, wards) has them.
    expect(text).not.toMatch(/\p{Script=Han}/u);
  }
}

describe('canaries a thief spots at once', () => {
  let h: RealismHospital;
  let report: RealismReport;
  beforeAll(async () => {
    h = await createRealismHospital({ real: 1500, canaries: 60, kind: 'obvious', seed: 'obvious' });
    report = await realismAudit(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, now: NOW, sample: 0, seed: 'obvious' });
  });
  afterAll(async () => h?.close());

  it('are separated: AUC above 0.9 with its interval, and the warning', () => {
    expect(report.planted?.canaries).toBe(60);
    expect(report.planted?.real).toBe(1500);
    const k = report.planted!.classifier!;
    expect(k.auc).toBeGreaterThan(0.9);
    expect(k.low).toBeGreaterThan(0.8);
    expect(k.low).toBeLessThanOrEqual(k.auc);
    expect(k.high).toBeGreaterThanOrEqual(k.auc);
    expect(report.auc).toBe(k.auc);
    expect(report.warning).toMatch(/separable/);
    expect(realismLines(report).at(-1)).toMatch(/^WARNING: .*ROC AUC 0\.9\d\d|^WARNING: .*ROC AUC 1\.000/);
  });

  it("takes the threshold from the hospital's config (realism.warnAbove) when not given, the request's first", async () => {
    const lenient = await realismAudit(h.vault, h.target, { hospital: { ...h.hospital, realismWarnAbove: 1 }, mapping: h.mapping, now: NOW, sample: 0, seed: 'obvious' });
    expect([lenient.warnAbove, lenient.warning]).toEqual([1, null]);
    expect(realismLines(lenient).at(-1)).toMatch(/^ok: ROC AUC [01]\.\d{3}, at most 1$/);
    expect(report.warnAbove).toBe(0.6);
    const given = await realismAudit(h.vault, h.target, { hospital: { ...h.hospital, realismWarnAbove: 1 }, mapping: h.mapping, now: NOW, sample: 0, seed: 'obvious', warnAbove: 0.7 });
    expect(given.warnAbove).toBe(0.7);
    expect(given.warning).toMatch(/separable/);
  });

  it('names the tells: precision, the shared created_at, missing ID numbers, identifiers', () => {
    const field = (name: string) => report.planted!.fields.find((f) => f.field === name)!;
    expect(field('br.sfzh').identifier).toBe(true);
    expect(field('br.sfzh').nullRate).toEqual({ real: expect.any(Number), canary: 1 });
    expect(field('br.sfzh').p).toBeLessThan(1e-6);
    const weightPrecision = field('xse.cstz').tests.find((t) => t.on === 'precision')!;
    expect(weightPrecision.test).toBe('chi-square');
    expect(weightPrecision.p).toBeLessThan(1e-6);
    const created = field('br.cjsj');
    expect(created.identifier).toBe(false);
    expect(created.typicality).toMatchObject({ canary: 0, canaryUnseen: 1 }); // one value, held by no real row
    expect(created.tests.find((t) => t.on === 'values')!.test).toBe('ks');
    expect(report.planted!.identifiers).toEqual(expect.arrayContaining(['br.id', 'br.zyh', 'xse.id', 'xse.brid']));
    expect(report.planted!.pairs.length).toBeGreaterThan(0);
    expect(report.planted!.classifier!.topFeatures.length).toBeGreaterThan(0);
    if (process.env.REALISM_FIGURES) console.log(JSON.stringify({ classifier: report.planted!.classifier, top: report.planted!.fields.slice(0, 6).map((f) => [f.field, f.distance, f.p]) }));
  });

  it('outputs no value of a real row', () => {
    expectNoRealValues(h, [JSON.stringify(report), realismLines(report).join('\n')]);
  });
});

describe('canaries drawn from the real distributions', () => {
  let h: RealismHospital;
  let report: RealismReport;
  beforeAll(async () => {
    h = await createRealismHospital({ real: 1500, canaries: 60, kind: 'same', seed: 'same' });
    report = await realismAudit(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, now: NOW, sample: 0, seed: 'same' });
  });
  afterAll(async () => h?.close());

  it('are not separated: AUC at most 0.65, no warning', () => {
    expect(report.planted?.canaries).toBe(60);
    const k = report.planted!.classifier!;
    expect(k.auc).toBeLessThanOrEqual(0.65);
    expect(k.low).toBeLessThan(0.5);
    expect(report.warning).toBeNull();
    if (process.env.REALISM_FIGURES) console.log(JSON.stringify({ classifier: report.planted!.classifier, top: report.planted!.fields.slice(0, 6).map((f) => [f.field, f.distance, f.p]) }));
    expect(realismLines(report).at(-1)).toMatch(/^ok: ROC AUC 0\.\d{3}, at most 0\.6$/);
  });

  it('no field diverges beyond chance after a Bonferroni correction', () => {
    const fields = report.planted!.fields;
    expect(fields.filter((f) => f.p < 0.001 / fields.length).map((f) => f.field)).toEqual([]);
  });

  it('outputs no value of a real row', () => {
    expectNoRealValues(h, [JSON.stringify(report), realismLines(report).join('\n')]);
  });
});
