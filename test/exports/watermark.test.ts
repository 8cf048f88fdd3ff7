import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { readDelimited, runWatermark, type WatermarkRequest } from '../../src/exports/watermark.js';
import { scanAndTrace } from '../../src/workflows/scan-and-trace.js';
import * as vault from '../../src/vault/index.js';
import { scratchDir } from '../helpers/db.js';
import { count, createTestHospital, type TestHospital } from '../helpers/hospital.js';
import { describeEachTarget, schemaOf, TARGET_CASES } from '../helpers/targets.js';

const require = createRequire(import.meta.url);
const iconv = require('iconv-lite') as typeof import('iconv-lite');
const ExcelJS = require('exceljs') as typeof import('exceljs');

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


const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴'];
const GIVEN = ['秀英', '丽', '静', '敏', '燕', '艳', '娟', '霞', '婷', '雪梅'];
const WARDS_OF_FILE = ['产科一病区', '产科二病区', 'NICU'];

/** A partner's newborn list as objects: birth times ascending, phones as the partner writes them. */
function partnerObjects(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => {
    const o: Record<string, unknown> = {
      id: 1000 + i,
      motherName: `${SURNAMES[i % 10]}${GIVEN[(i * 3) % 10]}`,
      mobile: `13${(i % 7) + 2}${String(10000000 + i * 7919).slice(-8)}`,
      birthTime: `2026-10-${String(1 + Math.floor(i / 2)).padStart(2, '0')} ${String(i % 24).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}`,
      sex: i % 2 ? '男' : '女',
      weight: 2600 + ((i * 37) % 1400),
      ward: WARDS_OF_FILE[i % 3],
      verified: i % 4 !== 0,
      extra: { source: 'his', batch: i % 3 },
    };
    if (i % 5 === 0) delete o.ward;
    return o;
  });
}

/** Canary objects out of the parsed output, by their recorded rows; what remains is the input. */
function splitRows<T>(rows: T[], canaryRows: number[]): { real: T[]; canaries: T[] } {
  const set = new Set(canaryRows.map((r) => r - 1));
  return { real: rows.filter((_, i) => !set.has(i)), canaries: rows.filter((_, i) => set.has(i)) };
}

/** A row-number column counts the merged rows (canaries renumber what follows them); the rest of each real row is the input's. */
function withoutKey(rows: readonly Record<string, unknown>[], key: string): Record<string, unknown>[] {
  return rows.map((o) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key)));
}

/** Python's json.dumps(obj) (ensure_ascii, ", " and ": "), for a partner that wrote its file in Python. */
function pythonDumps(value: unknown): string {
  const text = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(text).join(', ')}]`;
    if (v && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${text(x)}`).join(', ')}}`;
    return JSON.stringify(v);
  };
  return text(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

describeEachTarget(TARGET_CASES, 'watermark on %s', (backend) => {
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
    h = await createTestHospital({ backend, schema: schemaOf(backend), population: 100, trapNumbers: 80 });
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
    const scan = await scanAndTrace(h.vault, [out]);
    expect(scan.canaries.map((c) => c.id).sort()).toEqual(res.canaries.map((c) => c.id).sort());
    expect(scan.suspects[0]?.export?.id).toBe(res.id);
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
  it('watermarks a pretty-printed JSON array: same indentation, key order, value types; own objects untouched', async () => {
    const input = path.join(dir, 'newborns.json');
    const out = path.join(dir, 'newborns-marked.json');
    const objects = partnerObjects(60);
    fs.writeFileSync(input, JSON.stringify(objects, null, 2) + '\n');
    const res = await runWatermark(h.vault, h.target, request(input, out, { canaries: 4, channel: { kind: 'export', name: 'app-vendor' }, operator: 'n0099' }));
    const text = fs.readFileSync(out, 'utf8');
    const parsed = JSON.parse(text) as Record<string, unknown>[];
    // Written exactly as JSON.stringify(…, null, 2) writes, so a re-serialisation gives the same bytes.
    expect(text).toBe(JSON.stringify(parsed, null, 2) + '\n');
    expect(parsed).toHaveLength(64);
    expect(res).toMatchObject({ format: 'json', rows: 60, sha256: sha256(out), bytes: fs.statSync(out).size });
    expect(res.style).toMatchObject({ format: 'json', indent: '  ', encoding: 'utf-8' });
    const { real, canaries } = splitRows(parsed, res.canaries.map((c) => c.row));
    // The id counts the rows (1000, 1001, …): the canaries get their places' numbers, the rows after them move on.
    expect(parsed.map((o) => o.id)).toEqual(parsed.map((_, i) => 1000 + i));
    expect(withoutKey(real, 'id')).toEqual(withoutKey(objects, 'id'));
    // Real objects before the first canary are the input's, byte for byte.
    const first = Math.min(...res.canaries.map((c) => c.row));
    expect(text).toContain(JSON.stringify(parsed.slice(0, first - 1), null, 2).slice(1, -2));
    for (const [i, c] of res.canaries.entries()) {
      const o = parsed[c.row - 1];
      expect(canaries).toContain(o);
      expect(Object.keys(o).filter((k) => k !== 'ward')).toEqual(Object.keys(objects[1]).filter((k) => k !== 'ward'));
      expect(o.motherName).toBe(c.family.mother.name.full);
      expect(o.mobile).toBe(c.family.mother.phone!.replace('+86', ''));
      expect(typeof o.weight).toBe('number');
      expect(typeof o.id).toBe('number');
      expect(typeof o.verified).toBe('boolean');
      expect(o.birthTime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
      expect(['男', '女']).toContain(o.sex);
      expect(i).toBeGreaterThanOrEqual(0);
    }
    // In the file's order: birth times stay sorted with the canaries among them.
    const times = parsed.map((o) => String(o.birthTime));
    expect([...times].sort()).toEqual(times);
    const manifest = await vault.getExport(h.vault, res.id);
    expect(manifest).toMatchObject({ channel: 'export:app-vendor', operator: 'n0099', format: 'json', row_count: 60, canary_count: 4, sha256: res.sha256, file_name: 'newborns-marked.json' });
    expect(manifest!.params).toEqual([{ file: 'newborns.json', sha256: sha256(input) }]);
    const scan = await scanAndTrace(h.vault, [out]);
    expect(scan.suspects[0]?.export?.id).toBe(res.id);
  });

  it('keeps a compact Python-style JSON array (", ", ": ", \\u escapes) and JSON Lines with CRLF', async () => {
    const objects = partnerObjects(40).map(({ extra: _extra, ...o }) => o);
    const input = path.join(dir, 'py.json');
    const out = path.join(dir, 'py-marked.json');
    fs.writeFileSync(input, pythonDumps(objects));
    const res = await runWatermark(h.vault, h.target, request(input, out, { canaries: 3, channel: { kind: 'export', name: 'py-partner' } }));
    const text = fs.readFileSync(out, 'utf8');
    expect(/[\u0080-\uffff]/.test(text)).toBe(false);
    const parsed = JSON.parse(text) as Record<string, unknown>[];
    expect(text).toBe(pythonDumps(parsed));
    expect(withoutKey(splitRows(parsed, res.canaries.map((c) => c.row)).real, 'id')).toEqual(withoutKey(objects, 'id'));
    expect(parsed.map((o) => o.id)).toEqual(parsed.map((_, i) => 1000 + i));
    for (const c of res.canaries) expect(parsed[c.row - 1].motherName).toBe(c.family.mother.name.full);

    const lines = path.join(dir, 'feed.jsonl');
    const linesOut = path.join(dir, 'feed-marked.jsonl');
    const source = objects.map((o) => JSON.stringify(o));
    fs.writeFileSync(lines, source.join('\r\n') + '\r\n');
    const l = await runWatermark(h.vault, h.target, request(lines, linesOut, { canaries: 3, channel: { kind: 'export', name: 'feed' } }));
    const written = fs.readFileSync(linesOut, 'utf8');
    expect(written.endsWith('\r\n')).toBe(true);
    expect(written.replace(/\r\n/g, '').includes('\n')).toBe(false);
    const outLines = written.slice(0, -2).split('\r\n');
    expect(outLines).toHaveLength(43);
    const realLines = splitRows(outLines, l.canaries.map((c) => c.row)).real;
    expect(withoutKey(realLines.map((x) => JSON.parse(x) as Record<string, unknown>), 'id')).toEqual(withoutKey(objects, 'id'));
    // Each real line is written as the input writes its lines.
    for (const x of realLines) expect(x).toBe(JSON.stringify(JSON.parse(x)));
    for (const c of l.canaries) {
      const o = JSON.parse(outLines[c.row - 1]) as Record<string, unknown>;
      expect(o.mobile).toBe(c.family.mother.phone!.replace('+86', ''));
      expect(outLines[c.row - 1]).toBe(JSON.stringify(o));
    }
    expect(l).toMatchObject({ format: 'jsonl', rows: 40 });
    expect((await vault.getExport(h.vault, l.id))!.format).toBe('jsonl');
  });

  it('watermarks the first sheet of an XLSX workbook in its cell types and styles, keeping the other sheets', async () => {
    const input = path.join(dir, 'births.xlsx');
    const out = path.join(dir, 'births-marked.xlsx');
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('出生登记');
    const notes = wb.addWorksheet('说明');
    const codes = wb.addWorksheet('代码表');
    notes.addRow(['本表由医院信息科导出，仅供保险理赔使用']);
    notes.addRow(['导出日期', new Date(Date.UTC(2026, 10, 1))]);
    codes.addRow(['代码', '含义']);
    codes.addRow([1, '男']);
    codes.addRow([2, '女']);
    ws.addRow(['2026年10月新生儿出生登记表']);
    ws.mergeCells('A1:G1');
    ws.addRow(['序号', '产妇姓名', '手机号', '出生时间', '性别', '体重(g)', '病区']);
    ws.getRow(2).font = { bold: true };
    for (let i = 0; i < 80; i++) {
      const row = ws.addRow([
        i + 1,
        `${SURNAMES[i % 10]}${GIVEN[(i * 7) % 10]}`,
        Number(`13${(i % 7) + 2}${String(20000000 + i * 104729).slice(-8)}`),
        new Date(Date.UTC(2026, 9, 1 + Math.floor(i / 3), (i % 3) * 8 + ((i * 5) % 7), (i * 11) % 60)),
        i % 2 ? '男' : '女',
        2500 + ((i * 53) % 1500),
        WARDS_OF_FILE[i % 3],
      ]);
      row.getCell(4).numFmt = 'yyyy-mm-dd hh:mm';
    }
    await wb.xlsx.writeFile(input);
    const res = await runWatermark(h.vault, h.target, request(input, out, { canaries: 5, channel: { kind: 'export', name: 'insurer' } }));
    expect(res).toMatchObject({ format: 'xlsx', rows: 80, sha256: sha256(out) });
    expect(res.style).toEqual({ format: 'xlsx', sheet: '出生登记', headerRow: 2, otherSheets: ['说明', '代码表'] });
    const back = new ExcelJS.Workbook();
    await back.xlsx.readFile(out);
    expect(back.worksheets.map((w) => w.name)).toEqual(['出生登记', '说明', '代码表']);
    expect(back.getWorksheet('说明')!.getCell('A1').value).toBe('本表由医院信息科导出，仅供保险理赔使用');
    expect(back.getWorksheet('代码表')!.getRow(3).values).toEqual([undefined, 2, '女']);
    const sheet = back.getWorksheet('出生登记')!;
    expect(sheet.actualRowCount).toBe(2 + 80 + 5);
    expect(sheet.getCell('A1').value).toBe('2026年10月新生儿出生登记表');
    expect(sheet.getRow(2).getCell(1).font?.bold).toBe(true);
    const values = Array.from({ length: 85 }, (_, i) => (sheet.getRow(i + 3).values as unknown[]).slice(1));
    const original = Array.from({ length: 80 }, (_, i) => (ws.getRow(i + 3).values as unknown[]).slice(1));
    // 序号 counts the rows 1…85; the rest of each real row is the input's.
    expect(values.map((r) => r[0])).toEqual(values.map((_, i) => i + 1));
    expect(splitRows(values, res.canaries.map((c) => c.row)).real.map((r) => r.slice(1))).toEqual(original.map((r) => r.slice(1)));
    for (const c of res.canaries) {
      const row = sheet.getRow(c.row + 2);
      expect(row.getCell(2).value).toBe(c.family.mother.name.full);
      expect(row.getCell(3).value).toBe(Number(c.family.mother.phone!.replace('+86', '')));
      const born = row.getCell(4).value;
      expect(born).toBeInstanceOf(Date);
      expect(row.getCell(4).numFmt).toBe('yyyy-mm-dd hh:mm');
      // The wall-clock time in the hospital's zone, as Excel dates are.
      const local = new Date(new Date(c.family.baby.birthTime).getTime() + 8 * 3_600_000);
      expect((born as Date).toISOString().slice(0, 16)).toBe(local.toISOString().slice(0, 16));
      expect(typeof row.getCell(6).value).toBe('number');
      expect(['男', '女']).toContain(row.getCell(5).value);
    }
    const times = values.map((r) => (r[3] as Date).getTime());
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect((await vault.getExport(h.vault, res.id))).toMatchObject({ format: 'xlsx', row_count: 80, canary_count: 5, sha256: res.sha256 });
    const scan = await scanAndTrace(h.vault, [out]);
    expect(scan.suspects[0]?.export?.id).toBe(res.id);
    expect(scan.matches.find((m) => m.canaryId === res.canaries[0].id)?.place).toBe(`sheet 出生登记 row ${res.canaries[0].row + 2}`);
  });

  it('rejects a truncated or mislabelled workbook and JSON that is not an array of objects, writing nothing', async () => {
    const exportsBefore = (await vault.listExports(h.vault)).length;
    const canariesBefore = await count(h.vault, 'SELECT 1 FROM canaries');
    const out = path.join(dir, 'bad', 'never.out');
    fs.mkdirSync(path.dirname(out));
    const good = path.join(dir, 'good.xlsx');
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('名单').addRows([['姓名', '电话'], ['王芳', '13812345678']]);
    await wb.xlsx.writeFile(good);
    const cases: [string, string | Buffer, RegExp][] = [
      ['truncated.xlsx', fs.readFileSync(good).subarray(0, 2000), /truncated\.xlsx: not a readable XLSX workbook \(truncated or damaged/],
      ['text.xlsx', '姓名,电话\n王芳,13812345678\n', /text\.xlsx: named \.xlsx but not an XLSX workbook/],
      ['object.json', '{"rows": [{"name": "王芳"}]}', /object\.json: the JSON is an object, not an array of objects/],
      ['numbers.json', '[{"name": "王芳"}, 3]', /numbers\.json: element 2 of the JSON array is a number, not an object/],
      ['broken.json', '[{"name": "王芳"},', /broken\.json: not valid JSON \(/],
      ['empty.json', '[]', /empty\.json: the JSON array is empty/],
      ['bad.jsonl', '{"name": "王芳"}\n[1, 2]\n', /bad\.jsonl: line 2 is an array, not a JSON object/],
    ];
    for (const [name, content, message] of cases) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, content);
      const err = await runWatermark(h.vault, h.target, request(file, out)).then(() => null, (e: Error) => e);
      expect(err?.message).toMatch(message);
      expect(err?.message).not.toContain('\n');
    }
    expect(fs.readdirSync(path.dirname(out))).toEqual([]);
    expect((await vault.listExports(h.vault)).length).toBe(exportsBefore);
    expect(await count(h.vault, 'SELECT 1 FROM canaries')).toBe(canariesBefore);
  });
});
