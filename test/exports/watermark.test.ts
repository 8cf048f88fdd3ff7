import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readDelimited, runWatermark, type WatermarkRequest } from '../../src/exports/watermark.js';
import { runScan } from '../../src/scan/scan.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { count, createTestHospital, type TestHospital } from '../helpers/hospital.js';

const require = createRequire(import.meta.url);
const iconv = require('iconv-lite') as typeof import('iconv-lite');

const HEADER = ['序号', '产妇姓名', '联系电话', '丈夫', '新生儿性别', '出生时间', '出生体重', '科室', '备注'];

/** A partner's GBK, CRLF, all-quoted CSV with Chinese headers. */
function partnerFile(file: string, rows: number): void {
  const lines = [HEADER];
  const names = ['王芳', '陈静', '刘洋', '赵敏', '孙丽'];
  for (let i = 0; i < rows; i++) {
    const day = String(1 + (i % 28)).padStart(2, '0');
    lines.push([
      String(i + 1),
      names[i % names.length],
      `13${i % 10}-${String(1000 + i).padStart(4, '0')}-${String(5000 + i).padStart(4, '0')}`,
      i % 3 ? '李强' : '',
      i % 2 ? '男' : '女',
      `2026/10/${day} ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`,
      String(2600 + ((i * 37) % 1400)),
      i % 2 ? '产科一病区' : 'NICU',
      '无',
    ]);
  }
  const text = lines.map((l) => l.map((c) => `"${c}"`).join(',')).join('\r\n') + '\r\n';
  fs.writeFileSync(file, iconv.encode(text, 'gbk'));
}

describe.each(BACKENDS)('watermark on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  let dir: string;
  const request = (file: string, out: string, extra: Partial<WatermarkRequest> = {}): WatermarkRequest => ({
    hospital: h.hospital,
    mapping: h.mapping,
    channel: { kind: 'export', name: 'photo-vendor' },
    file,
    out,
    columnFields: {},
    now: new Date(),
    ...extra,
  });
  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 100, trapNumbers: 40 });
    dir = scratchDir('watermark');
  });
  afterAll(async () => h?.close());

  it('adds canaries in the file’s own style and records the manifest', async () => {
    const input = path.join(dir, 'partner.csv');
    const out = path.join(dir, 'partner-marked.csv');
    partnerFile(input, 120);
    const res = await runWatermark(h.vault, h.target, request(input, out, { canaries: 5, operator: 'n0412' }));
    const bytes = fs.readFileSync(out);
    expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(res.sha256);
    expect(bytes.length).toBe(res.bytes);
    // GBK, not UTF-8; CRLF; every cell quoted; same header; rows + K lines.
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toThrow();
    const text = iconv.decode(bytes, 'gbk');
    expect(text.endsWith('\r\n')).toBe(true);
    const lines = text.slice(0, -2).split('\r\n');
    expect(lines.some((l) => !l.endsWith('"'))).toBe(false);
    expect(text.replace(/\r\n/g, '').includes('\n')).toBe(false);
    expect(lines).toHaveLength(1 + 120 + 5);
    const cells = lines.map((l) => l.slice(1, -1).split('","'));
    expect(cells[0]).toEqual(HEADER);
    expect(cells.every((c) => c.length === HEADER.length)).toBe(true);
    expect(res.rows).toBe(120);
    const parsed = readDelimited(out);
    expect(parsed.style).toMatchObject({ encoding: 'gb18030', quoteAll: true, eol: '\r\n', delimiter: ',' });
    // Canaries in the file's own formats, at their recorded rows.
    expect(res.columns.find((c) => c.name === '联系电话')?.value).toMatchObject({ field: 'mother.phone', phone: '###-####-####' });
    for (const c of res.canaries) {
      const row = cells[c.row];
      expect(row[1]).toBe(c.family.mother.name.full);
      const national = c.family.mother.phone!.replace('+86', '');
      expect(row[2]).toBe(`${national.slice(0, 3)}-${national.slice(3, 7)}-${national.slice(7)}`);
      expect(row[5]).toMatch(/^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}$/);
      expect(['男', '女']).toContain(row[4]);
      expect(row[6]).toMatch(/^\d{3,4}$/);
      expect(h.trapNumbers).toContain(c.family.mother.phone);
    }
    const manifest = await vault.getExport(h.vault, res.id);
    expect(manifest).toMatchObject({ channel: 'export:photo-vendor', operator: 'n0412', row_count: 120, canary_count: 5, sha256: res.sha256, file_name: 'partner-marked.csv', format: 'csv' });
    expect((await vault.exportCanaries(h.vault, res.id)).map((c) => c.row_number)).toEqual(res.canaries.map((c) => c.row).sort((a, b) => a - b));
    // The input is untouched.
    expect(iconv.decode(fs.readFileSync(input), 'gbk').split('\r\n')).toHaveLength(122);
    // A scan of the watermarked file names this export first.
    const scan = await runScan(h.vault, [out]);
    expect(scan.canaries.map((c) => c.id).sort()).toEqual(res.canaries.map((c) => c.id).sort());
    expect(scan.sources[0]?.export?.id).toBe(res.id);
  });

  it('keeps a UTF-8 BOM, LF, TSV, quoting only where needed', async () => {
    const input = path.join(dir, 'plain.tsv');
    const out = path.join(dir, 'plain-marked.tsv');
    const rows = Array.from({ length: 30 }, (_, i) => `Mum ${i}\t+8613${String(800000000 + i)}\t2026-10-${String(1 + (i % 28)).padStart(2, '0')}`);
    fs.writeFileSync(input, `\uFEFFmother\tmobile\tbirth date\n${rows.join('\n')}\n`);
    const res = await runWatermark(h.vault, h.target, request(input, out, { canaries: 3, channel: { kind: 'export', name: 'registry' } }));
    const bytes = fs.readFileSync(out);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.subarray(3).toString('utf8');
    expect(text.includes('\r')).toBe(false);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('mother\tmobile\tbirth date');
    expect(lines).toHaveLength(34);
    expect(text.includes('"')).toBe(false);
    for (const c of res.canaries) expect(lines[c.row].split('\t')[1]).toBe(c.family.mother.phone);
    expect(res.format).toBe('tsv');
  });

  it('fails on unreadable, headerless, empty and undecodable files, writing nothing', async () => {
    const exportsBefore = (await vault.listExports(h.vault)).length;
    const canariesBefore = await count(h.vault, 'SELECT 1 FROM canaries');
    const out = path.join(dir, 'never.csv');
    await expect(runWatermark(h.vault, h.target, request(path.join(dir, 'missing.csv'), out))).rejects.toThrow(/cannot read .*missing\.csv: ENOENT/);
    const headerless = path.join(dir, 'headerless.csv');
    fs.writeFileSync(headerless, '王芳,13812345678,2026-11-03\n陈静,13912345678,2026-11-04\n');
    await expect(runWatermark(h.vault, h.target, request(headerless, out))).rejects.toThrow(/headerless\.csv: the first line looks like data/);
    const onlyHeader = path.join(dir, 'header.csv');
    fs.writeFileSync(onlyHeader, 'mother,phone\n');
    await expect(runWatermark(h.vault, h.target, request(onlyHeader, out))).rejects.toThrow(/header\.csv: the file has a header but no rows/);
    const empty = path.join(dir, 'empty.csv');
    fs.writeFileSync(empty, '');
    await expect(runWatermark(h.vault, h.target, request(empty, out))).rejects.toThrow(/empty\.csv: the file is empty/);
    const binary = path.join(dir, 'binary.csv');
    fs.writeFileSync(binary, Buffer.from([0x61, 0x00, 0x62, 0xff, 0x00]));
    await expect(runWatermark(h.vault, h.target, request(binary, out))).rejects.toThrow(/binary\.csv: unknown encoding/);
    await expect(runWatermark(h.vault, h.target, request(onlyHeader, out, { columnFields: { phone: 'nosuch.field' } }))).rejects.toThrow(/unknown field/);
    expect(fs.readdirSync(dir).filter((f) => f.includes('never'))).toEqual([]);
    expect((await vault.listExports(h.vault)).length).toBe(exportsBefore);
    expect(await count(h.vault, 'SELECT 1 FROM canaries')).toBe(canariesBefore);
  });
});
