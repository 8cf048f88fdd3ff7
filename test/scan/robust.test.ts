import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { migrate, openDatabase, type Database } from '../../src/db/index.js';
import type { Family } from '../../src/domain/index.js';
import { DEMO_DISTRICTS } from '../../src/demo/setup.js';
import { createRandom, generateFamily } from '../../src/lib/generate/index.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { CHUNK_BYTES } from '../../src/scan/chunked.js';
import { readRecords, type FileFacts, type ScanRecord, type ScanWarning } from '../../src/scan/files.js';
import { runScan, type ScanResult } from '../../src/scan/scan.js';
import * as vault from '../../src/vault/index.js';
import { scanEvidence } from '../../src/vault/reports.js';
import { cradleInProcess } from '../helpers/cli.js';
import { BACKENDS, newDatabase, scratchDir, type TestLocation } from '../helpers/db.js';

// Seized files that are damaged, huge or odd: a corrupt workbook is a warning and the other files of
// the run are still scanned; a sparse sheet reaching column XFD reads in the time of its cells; a
// match deep in a file larger than a chunk names the file's line, in `place` and in `line`.

const require = createRequire(import.meta.url);
const ExcelJS = require('exceljs') as typeof import('exceljs');

/** A workbook shipped with the fixtures whose worksheets come before its shared strings. */
const WORKBOOK = path.join(FIXTURES_DIR, 'leaks', 'photo-vendor-converted.xlsx');

async function readAll(file: string): Promise<{ records: ScanRecord[]; warnings: ScanWarning[] }> {
  const facts: FileFacts = { file, bytes: 0, sha256: '', format: '', encoding: '' };
  const warnings: ScanWarning[] = [];
  const records: ScanRecord[] = [];
  for await (const r of readRecords(file, facts, (w) => warnings.push(w))) records.push(r);
  return { records, warnings };
}

/** The ZIP's entries from its central directory: name, where its data starts, its compressed size. */
function zipEntries(zip: Buffer): { name: string; data: number; size: number; central: number }[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries = [];
  for (let i = 0; i < count; i++) {
    const nameLength = zip.readUInt16LE(at + 28);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const data = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    entries.push({ name, data, size: zip.readUInt32LE(at + 20), central: at });
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return entries;
}

/** The fixture damaged in many ways, each named: bytes changed in chosen places, seeded at random, or cut short. */
function damagedWorkbooks(): { how: string; bytes: Buffer }[] {
  const good = fs.readFileSync(WORKBOOK);
  const entries = zipEntries(good);
  const sheet = entries.find((e) => e.name === 'xl/worksheets/sheet1.xml')!;
  const strings = entries.find((e) => e.name === 'xl/sharedStrings.xml')!;
  const changed = (how: string, at: number, n = 8) => {
    const bytes = Buffer.from(good);
    for (let i = 0; i < n; i++) bytes[at + i] ^= 0x5a;
    return { how, bytes };
  };
  const out = [
    changed('8 bytes inside the compressed sheet data', sheet.data + Math.floor(sheet.size / 2)),
    changed('8 bytes at the start of the compressed sheet data', sheet.data),
    changed('8 bytes inside the compressed shared strings', strings.data + Math.floor(strings.size / 3)),
    changed("8 bytes of the sheet's central directory record", sheet.central + 16),
    changed('the first local header after the signature', 4),
    { how: 'cut in the middle of the sheet data', bytes: good.subarray(0, sheet.data + Math.floor(sheet.size / 2)) },
    { how: 'cut before the central directory', bytes: good.subarray(0, entries[0].central) },
    { how: 'cut after its signature', bytes: good.subarray(0, 4) },
  ];
  // As the fuzzing that found the defect did: 8 bytes changed at random places (past the signature).
  const rng = createRandom('corrupt-xlsx');
  for (let seed = 0; seed < 40; seed++) {
    const bytes = Buffer.from(good);
    const places = Array.from({ length: 8 }, () => rng.int(4, bytes.length - 1));
    for (const p of places) bytes[p] = rng.int(0, 255);
    out.push({ how: `8 random bytes changed (#${seed}: ${places.join(',')})`, bytes });
  }
  return out;
}

describe('reading a damaged workbook', () => {
  let dir: string;
  beforeAll(() => {
    dir = scratchDir('corrupt-xlsx');
  });

  it('ends every read with its rows or a warning naming the file, never a throw or a wait that never ends', async () => {
    const skipped: string[] = [];
    for (const [i, { how, bytes }] of damagedWorkbooks().entries()) {
      const file = path.join(dir, `damaged-${i}.xlsx`);
      fs.writeFileSync(file, bytes);
      const { records, warnings } = await readAll(file);
      for (const w of warnings) {
        expect(w.file).toBe(file);
        expect(w.message).not.toMatch(/\p{Cc}/u);
      }
      const skip = warnings.find((w) => w.skipped);
      if (skip) {
        skipped.push(how);
        expect(skip.message).toMatch(/^not a readable XLSX workbook \(.+\): the rest of this file is skipped$/);
      } else expect(records.length + warnings.length).toBeGreaterThan(0);
    }
    // The compressed data was damaged in most cases; these are told apart in words.
    expect(skipped).toEqual(expect.arrayContaining(['8 bytes inside the compressed sheet data', 'cut in the middle of the sheet data', 'cut before the central directory']));
  }, 60_000);

  it('says what is wrong: corrupt compressed data, a truncated file', async () => {
    const [changed, , , , , cut] = damagedWorkbooks();
    const file = path.join(dir, 'words.xlsx');
    fs.writeFileSync(file, changed.bytes);
    expect((await readAll(file)).warnings).toEqual([expect.objectContaining({ skipped: true, message: expect.stringMatching(/^not a readable XLSX workbook \(corrupt compressed data: /) })]);
    fs.writeFileSync(file, cut.bytes);
    expect((await readAll(file)).warnings).toEqual([expect.objectContaining({ skipped: true, message: expect.stringMatching(/truncated\?/) })]);
  });

  it('reads a sparse sheet reaching column XFD with each row holding its own cells only', async () => {
    const file = path.join(dir, 'wide.xlsx');
    const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false });
    const ws = wb.addWorksheet('wide');
    for (let n = 1; n <= 2000; n++) {
      const row = ws.getRow(n);
      row.getCell(1).value = n === 1 ? 'name' : `person ${n}`;
      if (n === 1 || n % 3 === 0) row.getCell(16384).value = n === 1 ? 'phone' : `1391234${String(n).padStart(4, '0')}`;
      row.commit();
    }
    await ws.commit();
    await wb.commit();
    const { records, warnings } = await readAll(file);
    expect(warnings).toEqual([]);
    expect(records).toHaveLength(2000);
    expect(records[0]).toMatchObject({ row: 1, text: 'name\tphone', header: ['name', 'phone'] });
    expect(records[1]).toMatchObject({ row: 2, text: 'person 2', header: ['name'] });
    expect(records[1499]).toMatchObject({ row: 1500, text: 'person 1500\t13912341500', header: ['name', 'phone'] });
  });
});

function families(): Family[] {
  const rng = createRandom('robust');
  let next = 0;
  return [0, 1].map(() =>
    generateFamily(rng, {
      locale: 'zh-CN', hospital: '示例医院', ward: '产科一病区', districts: DEMO_DISTRICTS, timeZone: 'Asia/Shanghai',
      birthFrom: new Date('2026-10-01T00:00:00Z'), birthTo: new Date('2026-11-01T00:00:00Z'),
      phone: () => `+86137${String(23_456_789 + 7919 * next++).padStart(8, '0')}`, emailDomain: () => 'mail.trap.example',
    }),
  );
}

const national = (e164: string) => e164.slice(3);

describe.each(BACKENDS)('scanning damaged, wide and long files on %s', (backend) => {
  let loc: TestLocation;
  let dir: string;
  let fams: Family[];
  const run = (args: string[]) => cradleInProcess(args, { cwd: dir, env: { CRADLE_VAULT: loc.location } });
  /** The vault, open only while `fn` runs: the CLI cannot open an embedded vault held open here. */
  async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
    const db = await openDatabase(loc.location, { role: 'vault', create: true });
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  }
  beforeAll(async () => {
    loc = await newDatabase(backend, 'robust', 'vault');
    fams = families();
    await withDb(async (db) => {
      await migrate(db);
      await vault.ensureHospital(db, 'h', 'zh-CN');
      const canaries = fams.map((family, i) => ({ id: `can${i}`, family, isoWeek: '2026-W45' }));
      await vault.recordBatchIntent(db, { id: 'b1', hospital: 'h', rotationId: null, ward: null, channels: [] }, canaries);
      await vault.markBatchPlanted(db, 'b1', new Map(canaries.map((c) => [c.id, {}])), new Date());
    });
    dir = scratchDir('robust');
    fs.writeFileSync(path.join(dir, 'good.csv'), `姓名,电话\n${fams[0].mother.name.full},${national(fams[0].mother.phone!)}\n王强,13912345678\n`);
    fs.writeFileSync(path.join(dir, 'damaged.xlsx'), damagedWorkbooks()[0].bytes);
  });
  afterAll(async () => loc?.cleanup());

  it('reports the other files of a run with a damaged workbook in it, in the library', async () => {
    const r = await withDb((db) => runScan(db, [path.join(dir, 'damaged.xlsx'), path.join(dir, 'good.csv')]));
    expect(r.files.map((f) => [path.basename(f.file), f.records])).toEqual([['damaged.xlsx', 0], ['good.csv', 3]]);
    expect(r.files[0].warnings).toEqual([expect.objectContaining({ skipped: true, message: expect.stringMatching(/not a readable XLSX workbook \(corrupt compressed data/) })]);
    expect(r.matches).toEqual([expect.objectContaining({ canaryId: 'can0', place: 'line 2', line: 2 })]);
    expect(r.incidentId).not.toBeNull();
  });

  it('reports them through the CLI, and exits 1 with one line when no file could be read', async () => {
    const text = await run(['scan', 'damaged.xlsx', 'good.csv']);
    expect(text.code).toBe(3); // canaries found
    expect(text.stdout).toMatch(/^warning: damaged\.xlsx \(after the start\): not a readable XLSX workbook \(corrupt compressed data: .+\): the rest of this file is skipped$/m);
    expect(text.stdout).toMatch(/good\.csv\s+line 2\s+电话\s+can0/);
    const json = await run(['scan', 'damaged.xlsx', 'good.csv', '--json']);
    expect(json.code).toBe(3);
    fs.writeFileSync(path.join(dir, 'clean.csv'), '姓名,电话\n王丽,13912345678\n');
    const clean = await run(['scan', 'clean.csv']);
    expect([clean.code, clean.stdout]).toEqual([0, expect.stringContaining('no canaries found')]);
    expect((await run(['scan', '--help'])).stdout).toMatch(/Exit codes: 0 scanned, no canary found .*; 3 canaries found and an\s+incident recorded; 1 failure/s);
    const out = JSON.parse(json.stdout) as ScanResult;
    expect(out.files.map((f) => f.records)).toEqual([0, 3]);
    expect(out.matches.map((m) => [m.file, m.place, m.line])).toEqual([['good.csv', 'line 2', 2]]);

    for (const args of [['damaged.xlsx'], ['damaged.xlsx', 'damaged.xlsx', '--json']]) {
      const alone = await run(['scan', ...args]);
      expect(alone.code).toBe(1);
      expect(alone.stdout).toBe('');
      expect(alone.stderr).toMatch(/^cradle: no file could be read: damaged\.xlsx: not a readable XLSX workbook \(corrupt compressed data: [^\n]+\): the rest of this file is skipped( \(and 1 more file\(s\) not readable\))?\n$/);
    }
  });

  it('numbers a match deep in a file of several chunks by the line of the file, on one thread and on two, in text and JSON', async () => {
    const lines: string[] = ['序号,姓名,电话'];
    const rng = createRandom('deep');
    const target = 190_000;
    for (let n = 2; n <= 200_000; n++) lines.push(n === target ? `${n},${fams[1].mother.name.full},${national(fams[1].mother.phone!)}` : `${n},王${'丽华秀英'[rng.int(0, 3)]},13${rng.int(100000000, 999999999)}`);
    const file = path.join(dir, 'deep.csv');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    expect(fs.statSync(file).size).toBeGreaterThan(2 * CHUNK_BYTES);
    for (const threads of [1, 2]) {
      const r = await withDb((db) => runScan(db, [file], undefined, { threads }));
      expect(r.matches.map((m) => [m.canaryId, m.place, m.line])).toEqual([['can1', `line ${target}`, target]]);
    }
    const json = JSON.parse((await run(['scan', 'deep.csv', '--json', '--threads', '2'])).stdout) as ScanResult;
    expect(json.matches.map((m) => [m.place, m.line])).toEqual([[`line ${target}`, target]]);
    const text = await run(['scan', 'deep.csv']);
    expect(text.code).toBe(3);
    expect(text.stdout).toMatch(new RegExp(`deep\\.csv\\s+line ${target}\\s+电话\\s+can1`));
    // The incident in the vault names the same line.
    const stored = await withDb((db) => scanEvidence(db, json.incidentId!));
    expect(stored.matches.map((m) => m.place)).toEqual([`line ${target}`]);
  }, 120_000);

  it('counts a one-line file without a line end as one record, and stores a column name with a NUL escaped', async () => {
    const oneLine = path.join(dir, 'one-line.txt');
    fs.writeFileSync(oneLine, '【优惠】宝宝 2026年 新生儿 摄影');
    const header = path.join(dir, 'nul-header.tsv');
    // One NUL among enough text not to look binary.
    fs.writeFileSync(header, `x\u0000y\t电话\n${national(fams[0].mother.phone!)}\t${fams[0].mother.name.full}\n${'13912345678\t王强\n'.repeat(20)}`);
    const r = await withDb((db) => runScan(db, [oneLine, header]));
    expect(r.files.map((f) => [path.basename(f.file), f.records])).toEqual([['one-line.txt', 1], ['nul-header.tsv', 22]]);
    expect(r.matches).toContainEqual(expect.objectContaining({ canaryId: 'can0', place: 'line 2', column: 'x\\x00y' }));
    expect(r.incidentId).not.toBeNull();
  });
});
