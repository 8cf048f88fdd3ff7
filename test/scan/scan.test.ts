import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runExport, type ExportResult } from '../../src/exports/export.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { latinOf } from '../../src/lib/generate/names.js';
import { runScan } from '../../src/scan/scan.js';
import { traceIncident } from '../../src/trace/trace.js';
import { scanAndTrace } from '../../src/workflows/scan-and-trace.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { count, createTestHospital, type TestHospital } from '../helpers/hospital.js';

// Leaks as brokers pass them on: reformatted, renamed, sampled, shuffled, merged, re-encoded.

const require = createRequire(import.meta.url);
const iconv = require('iconv-lite') as typeof import('iconv-lite');
const ExcelJS = require('exceljs') as typeof import('exceljs');

function readCsv(file: string): { header: string[]; rows: string[][] } {
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\r\n');
  return { header: lines[0].split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

describe.each(BACKENDS)('scanning leaks on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  let dir: string;
  let vax: ExportResult;
  let photo: ExportResult;
  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 800, trapNumbers: 120 });
    dir = scratchDir('scan');
    const base = { hospital: h.hospital, mapping: h.mapping, params: [], columnFields: {}, now: new Date() };
    vax = await runExport(h.vault, h.target, { ...base, channel: { kind: 'export', name: 'vaccine-registry' }, out: path.join(dir, 'vax.csv'), operator: 'n0412', canaries: 8 });
    photo = await runExport(h.vault, h.target, { ...base, channel: { kind: 'export', name: 'photo-vendor' }, out: path.join(dir, 'photo.csv'), operator: 'n0007', canaries: 8 });
  });
  afterAll(async () => h?.close());

  /** A third of the file, shuffled, always including `withCanaries` of its canary rows. */
  function sample(result: ExportResult, withCanaries: number, seed: string): { header: string[]; rows: string[][] } {
    const { header, rows } = readCsv(result.file);
    const rng = createRandom(seed);
    const canaryRows = new Set(result.canaries.slice(0, withCanaries).map((c) => c.row - 1));
    const allCanaryRows = new Set(result.canaries.map((c) => c.row - 1));
    const picked = rows.filter((_, i) => canaryRows.has(i) || (!allCanaryRows.has(i) && rng.chance(0.33)));
    for (let i = picked.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [picked[i], picked[j]] = [picked[j], picked[i]];
    }
    return { header, rows: picked };
  }

  it('names the export behind a reformatted spreadsheet sample', async () => {
    const { header, rows } = sample(vax, 2, 'xlsx');
    const idx = (c: string) => header.indexOf(c);
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('客户名单');
    ws.addRow(['联系电话', '宝宝生日', '妈妈', '地址']);
    for (const r of rows) {
      const phone = r[idx('mother_phone')];
      ws.addRow([`${phone.slice(0, 3)} ${phone.slice(3, 7)} ${phone.slice(7)}`, r[idx('birth_time')].slice(0, 10), r[idx('mother_name')], r[idx('address')]]);
    }
    const file = path.join(dir, 'seized.xlsx');
    await wb.xlsx.writeFile(file);
    const res = await scanAndTrace(h.vault, [file]);
    expect(res.suspects[0]).toMatchObject({ label: 'export:vaccine-registry', kind: 'export', export: expect.objectContaining({ id: vax.id, operator: 'n0412' }) });
    // Two canaries: the trace model leaves a little to "one from elsewhere, one a stray hit" (λ = 0.1).
    expect(res.suspects[0].posterior).toBeGreaterThan(0.95);
    for (const c of vax.canaries.slice(0, 2)) expect(res.canaries.map((x) => x.id)).toContain(c.id);
    const m = res.matches.find((x) => x.canaryId === vax.canaries[0].id)!;
    expect(m.place).toMatch(/^sheet 客户名单 row \d+$/);
    expect(m.column).toBe('联系电话');
    expect(await count(h.vault, 'SELECT 1 FROM scan_files WHERE incident_id = $1 AND sha256 = $2', [res.incidentId, res.files[0].sha256])).toBe(1);
    // The incident holds the evidence, not a ranking that could go stale; `cradle trace` ranks it as scan did.
    const [incident] = (await h.vault.query<{ title: string; summary: Record<string, unknown> }>('SELECT title, summary FROM incidents WHERE id = $1', [res.incidentId])).rows;
    expect(incident.title).toBe(`scan of 1 file(s): ${res.canaries.length} canaries found`);
    expect(Object.keys(incident.summary).sort()).toEqual(['canaries', 'weak']);
    const traced = await traceIncident(h.vault, res.incidentId!);
    expect(traced.suspects.map((s) => [s.key, s.posterior])).toEqual(res.suspects.slice(0, traced.suspects.length).map((s) => [s.key, s.posterior]));
  });

  it('finds masked phones confirmed by pinyin names in a GBK text list', async () => {
    const { header, rows } = sample(photo, 3, 'gbk');
    const idx = (c: string) => header.indexOf(c);
    const lines = rows.map((r) => {
      const phone = r[idx('mother_phone')];
      return `${latinOf(r[idx('mother_name')], 'zh-CN')}  ${phone.slice(0, 3)}****${phone.slice(7)}  宝宝 ${r[idx('birth_time')].slice(0, 10)}`;
    });
    const file = path.join(dir, 'broker.txt');
    fs.writeFileSync(file, iconv.encode(lines.join('\r\n'), 'gbk'));
    const res = await scanAndTrace(h.vault, [file]);
    expect(res.files[0].encoding).toBe('gb18030');
    expect(res.suspects[0].label).toBe('export:photo-vendor');
    expect(res.canaries.map((c) => c.id).sort()).toEqual(photo.canaries.slice(0, 3).map((c) => c.id).sort());
  });

  it('names both exports when two leaks were merged, and goes on past bad files', async () => {
    const a = sample(vax, 2, 'm1');
    const b = sample(photo, 2, 'm2');
    const file = path.join(dir, 'merged.tsv');
    fs.writeFileSync(file, [a.header.join('\t'), ...a.rows.map((r) => r.join('\t')), ...b.rows.map((r) => r.join('\t'))].join('\n'));
    const broken = path.join(dir, 'broken.xlsx');
    fs.writeFileSync(broken, Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(100, 7)]));
    const junk = path.join(dir, 'junk.bin');
    fs.writeFileSync(junk, Buffer.alloc(5000, 0));
    const res = await scanAndTrace(h.vault, [broken, file, junk]);
    expect(res.suspects[0].kind).toBe('merged');
    expect(res.suspects[0].parts!.sort()).toEqual([`export-file:${photo.id}`, `export-file:${vax.id}`].sort());
    expect(res.suspects[0].label.split(' + ').sort()).toEqual(['export:photo-vendor', 'export:vaccine-registry']);
    expect(res.suspects[0].unexplained).toEqual([]);
    expect(res.files.map((f) => f.warnings.length > 0)).toEqual([true, false, true]);
  });

  it('reads back an XLSX export, whose manifest hash is the file\'s', async () => {
    const base = { hospital: h.hospital, mapping: h.mapping, params: [], columnFields: {}, now: new Date() };
    const xlsx = await runExport(h.vault, h.target, { ...base, channel: { kind: 'export', name: 'hearing-screening' }, out: path.join(dir, 'hearing.xlsx'), canaries: 4 });
    const res = await scanAndTrace(h.vault, [xlsx.file]);
    expect(res.files[0]).toMatchObject({ format: 'xlsx', sha256: xlsx.sha256, bytes: xlsx.bytes, records: xlsx.rows + 4 + 1 });
    expect(res.suspects[0]).toMatchObject({ label: 'export:hearing-screening', export: expect.objectContaining({ id: xlsx.id }) });
    for (const c of xlsx.canaries) expect(res.matches.find((m) => m.canaryId === c.id)?.place).toBe(`sheet export row ${c.row + 1}`);
  });

  it('records nothing when a file holds no canary', async () => {
    const file = path.join(dir, 'clean.csv');
    fs.writeFileSync(file, 'name,phone\n张三,13800000000\n李四,13900000001\n');
    const res = await runScan(h.vault, [file]);
    expect(res.matches).toEqual([]);
    expect(res.incidentId).toBeNull();
  });
});
