import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { cellIndexAt, MAX_RECORD, readRecords, type FileFacts, type ScanRecord, type ScanWarning } from '../../src/scan/files.js';
import { scratchDir } from '../helpers/db.js';

const require = createRequire(import.meta.url);
const iconv = require('iconv-lite') as typeof import('iconv-lite');
const ExcelJS = require('exceljs') as typeof import('exceljs');

async function readAll(file: string): Promise<{ records: ScanRecord[]; warnings: ScanWarning[]; facts: FileFacts }> {
  const facts: FileFacts = { file, bytes: 0, sha256: '', format: '', encoding: '' };
  const warnings: ScanWarning[] = [];
  const records: ScanRecord[] = [];
  for await (const r of readRecords(file, facts, (w) => warnings.push(w))) records.push(r);
  return { records, warnings, facts };
}

describe('reading leaked files', () => {
  let dir: string;
  beforeAll(() => {
    dir = scratchDir('scanfiles');
  });

  it('reads CSV lines with their header and names the cell of an offset', async () => {
    const file = path.join(dir, 'a.csv');
    fs.writeFileSync(file, '\ufeff姓名,电话,备注\r\n陈丽华,"138 1234 5678","a, b"\r\n王强,13912345678,\r\n');
    const { records, facts } = await readAll(file);
    expect(records.map((r) => [r.line, r.text])).toEqual([[1, '姓名,电话,备注'], [2, '陈丽华,"138 1234 5678","a, b"'], [3, '王强,13912345678,']]);
    expect(records[1].header).toEqual(['姓名', '电话', '备注']);
    expect(cellIndexAt(records[1].text, records[1].text.indexOf('138'), ',')).toBe(1);
    expect(cellIndexAt(records[1].text, records[1].text.indexOf('b"'), ',')).toBe(2);
    expect(facts).toMatchObject({ encoding: 'utf-8', format: 'csv', bytes: fs.statSync(file).size, sha256: crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') });
  });

  it('decodes GBK spreadsheets exported by Chinese software', async () => {
    const file = path.join(dir, 'gbk.csv');
    fs.writeFileSync(file, iconv.encode('母亲姓名,手机\n陈丽华,13812345678\n欧阳娜娜,13912345678\n', 'gbk'));
    const { records, facts } = await readAll(file);
    expect(facts.encoding).toBe('gb18030');
    expect(records.map((r) => r.text)).toEqual(['母亲姓名,手机', '陈丽华,13812345678', '欧阳娜娜,13912345678']);
  });

  it('groups pretty-printed JSON objects and reads JSONL by line', async () => {
    const file = path.join(dir, 'a.json');
    fs.writeFileSync(file, JSON.stringify([{ name: '陈丽华', phone: '138****5678', note: 'braces { in } strings' }, { name: '王强' }], null, 2));
    const { records } = await readAll(file);
    expect(records).toHaveLength(2);
    expect(records[0].text).toContain('陈丽华');
    expect(records[0].text).toContain('138****5678');
    expect(records[0].line).toBe(2);
    const jsonl = path.join(dir, 'a.jsonl');
    fs.writeFileSync(jsonl, '{"n":"a"}\n{"n":"b"}\n');
    expect((await readAll(jsonl)).records.map((r) => r.text)).toEqual(['{"n":"a"}', '{"n":"b"}']);
  });

  it('reads XLSX rows by sheet, and warns and goes on when a workbook is truncated', async () => {
    const file = path.join(dir, 'leak.xlsx');
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('名单');
    ws.addRow(['姓名', '电话']);
    ws.addRow(['陈丽华', '138 1234 5678']);
    ws.addRow(['王强', 13912345678]);
    await wb.xlsx.writeFile(file);
    const { records, warnings } = await readAll(file);
    expect(warnings).toEqual([]);
    expect(records.map((r) => [r.sheet, r.row, r.text])).toEqual([['名单', 1, '姓名\t电话'], ['名单', 2, '陈丽华\t138 1234 5678'], ['名单', 3, '王强\t13912345678']]);
    const truncated = path.join(dir, 'truncated.xlsx');
    fs.writeFileSync(truncated, fs.readFileSync(file).subarray(0, 3000));
    const t = await readAll(truncated);
    expect(t.warnings).toEqual([expect.objectContaining({ file: truncated, message: expect.stringMatching(/not a readable XLSX workbook/) })]);
  });

  it('warns about files that are not what their extension says, and about binary junk', async () => {
    const fake = path.join(dir, 'fake.xlsx');
    fs.writeFileSync(fake, '陈丽华,13812345678\n');
    const f = await readAll(fake);
    expect(f.warnings[0].message).toMatch(/not a ZIP\/XLSX workbook: read as text/);
    expect(f.records.map((r) => r.text)).toEqual(['陈丽华,13812345678']);
    const junk = path.join(dir, 'junk.csv');
    fs.writeFileSync(junk, crypto.randomBytes(200_000));
    const j = await readAll(junk);
    expect(j.records).toEqual([]);
    expect(j.warnings[0].message).toMatch(/binary data/);
    expect(j.facts.bytes).toBe(200_000);
  });

  it('scans a line longer than the record limit in overlapping pieces', async () => {
    const file = path.join(dir, 'long.sql');
    const row = "('陈丽华','13812345678'),";
    const body = 'INSERT INTO t VALUES ' + row.repeat(Math.ceil((2.5 * MAX_RECORD) / row.length)) + "('end','13900000000');\nSELECT 1;\n";
    fs.writeFileSync(file, body);
    const { records, warnings } = await readAll(file);
    expect(warnings).toEqual([expect.objectContaining({ where: 'line 1', message: expect.stringMatching(/scanned in overlapping pieces/) })]);
    expect(Math.max(...records.map((r) => r.text.length))).toBeLessThanOrEqual(MAX_RECORD);
    expect(records.some((r) => r.text.includes("('end','13900000000')"))).toBe(true);
    expect(records.at(-1)).toMatchObject({ line: 2, text: 'SELECT 1;' });
  });
});
