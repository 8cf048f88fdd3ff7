import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { migrate, openDatabase, type Database } from '../../src/db/index.js';
import { parseChannel, type Family, type Locale } from '../../src/domain/index.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { runScan, type ScanResult } from '../../src/scan/scan.js';
import { scanAndTrace, type ScanAndTraceResult } from '../../src/workflows/scan-and-trace.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS, newDatabase, scratchDir, type TestLocation } from '../helpers/db.js';
import type { Leak } from '../fixtures/make-leaks.js'; // the type only: importing the generator's code would run it

// The shipped leak fixtures (fixtures/leaks, made by test/fixtures/make-leaks.ts): a fixed scenario
// loaded into a fresh vault, and leak files the scan has never seen, each messed up differently.
// Each must be traced to the export it came from; bad files must give a warning and not stop the scan.

const DIR = path.join(FIXTURES_DIR, 'leaks');

interface ScenarioCanary {
  id: string;
  isoWeek: string;
  family: Family;
}

interface Scenario {
  hospital: { name: string; locale: Locale; wards: string[] };
  seeded: { batchId: string; channel: string; plantedAt: string; canaries: ScenarioCanary[] };
  exports: {
    id: string;
    channel: string;
    operator: string;
    fileName: string;
    format: string;
    query: string;
    createdAt: string;
    rowCount: number;
    sha256: string;
    bytes: number;
    canaries: (ScenarioCanary & { row: number })[];
    seededRows: { id: string; row: number }[];
  }[];
  leaks: Leak[];
}

const scenario = JSON.parse(fs.readFileSync(path.join(DIR, 'scenario.json'), 'utf8')) as Scenario;
const fixture = (file: string) => path.join(DIR, file);

/** The scenario written with the vault's own functions, as seeding and exports record it. */
async function loadScenario(db: Database, s: Scenario): Promise<void> {
  await migrate(db);
  const hospital = s.hospital.name;
  await vault.ensureHospital(db, hospital, s.hospital.locale);
  await db.transaction(async (tx) => {
    const plantedAt = new Date(s.seeded.plantedAt);
    await vault.recordBatchIntent(tx, { id: s.seeded.batchId, hospital, rotationId: null, ward: null, channels: [s.seeded.channel] }, s.seeded.canaries);
    await vault.markBatchPlanted(tx, s.seeded.batchId, new Map(s.seeded.canaries.map((c, i) => [c.id, { birth: { birth_id: 9001 + i } }])), plantedAt);
    const his = await vault.ensureChannel(tx, hospital, parseChannel(s.seeded.channel));
    for (const c of s.seeded.canaries) {
      const ward = await vault.ensureChannel(tx, hospital, { kind: 'ward', name: c.family.ward });
      await vault.addExposures(tx, [his, ward].map((channelId) => ({ canaryId: c.id, channelId, exposedAt: plantedAt, source: 'seed' })));
    }
    for (const e of s.exports) {
      const channelId = await vault.ensureChannel(tx, hospital, parseChannel(e.channel));
      const at = new Date(e.createdAt);
      await vault.recordExport(tx, {
        id: e.id,
        hospital,
        channelId,
        operator: e.operator,
        query: e.query,
        params: [],
        format: e.format,
        fileName: e.fileName,
        rowCount: e.rowCount,
        canaryCount: e.canaries.length,
        sha256: e.sha256,
        bytes: e.bytes,
        createdAt: at,
      });
      await vault.insertCanaries(tx, { hospital, batchId: null, exportId: e.id, status: 'planted', at }, e.canaries);
      const detail = { export: e.id, operator: e.operator };
      await vault.addExposures(tx, [
        ...e.canaries.map((c) => ({ canaryId: c.id, channelId, exposedAt: at, source: 'export', detail })),
        ...e.seededRows.map((r) => ({ canaryId: r.id, channelId, exposedAt: at, source: 'export', detail: { ...detail, seeded: true, row: r.row } })),
      ]);
      await vault.recordExportRows(tx, e.id, e.canaries.map((c) => ({ canaryId: c.id, rowNumber: c.row })));
    }
  });
}

const exportOf = (id: string) => scenario.exports.find((e) => e.id === id)!;
const goodLeaks = scenario.leaks.filter((l) => l.expect).map((l) => [l.file, l] as const);
const badLeaks = scenario.leaks.filter((l) => l.bad);

/** What the top-ranked suspect says, in the scenario's words: export ids, or two for a merged pair. */
function topExports(res: ScanAndTraceResult): string[] {
  const top = res.suspects[0];
  if (!top) return [];
  if (top.kind === 'merged') return top.parts!.map((p) => p.replace(/^export-file:/, '')).sort();
  return [top.export?.id ?? top.label];
}

describe('the shipped leak fixtures', () => {
  it('are small, complete and described', () => {
    const files = fs.readdirSync(DIR);
    expect(files.reduce((n, f) => n + fs.statSync(fixture(f)).size, 0)).toBeLessThan(1 << 20);
    for (const leak of scenario.leaks) expect(files).toContain(leak.file);
    const readme = fs.readFileSync(fixture('README.md'), 'utf8');
    for (const leak of scenario.leaks) expect(readme).toContain(leak.file);
    // Every canary is the scenario's once, and each export's rows hold its own canaries.
    const ids = [...scenario.seeded.canaries, ...scenario.exports.flatMap((e) => e.canaries)].map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const e of scenario.exports) expect(e.canaries.every((c) => c.row >= 1 && c.row <= e.rowCount + e.canaries.length)).toBe(true);
  });
});

describe.each(BACKENDS)('scanning the shipped leak fixtures on %s', (backend) => {
  let location: TestLocation;
  let db: Database;
  beforeAll(async () => {
    location = await newDatabase(backend, 'leakfixtures', 'vault');
    db = await openDatabase(location.location);
    await loadScenario(db, scenario);
  });
  afterAll(async () => {
    await db?.close();
    await location?.cleanup();
  });

  it.each(goodLeaks)('%s: names the export it came from', async (file, leak) => {
    const expected = leak.expect!;
    const res = await scanAndTrace(db, [fixture(file)]);
    const [facts] = res.files;
    if (expected.format) expect(facts.format).toBe(expected.format);
    if (expected.encoding) expect(facts.encoding).toBe(expected.encoding);
    for (const w of expected.warnings ?? []) {
      expect(facts.warnings).toContainEqual(expect.objectContaining({ message: expect.stringMatching(new RegExp(w.message)), ...(w.where ? { where: w.where } : {}) }));
    }
    if (!expected.warnings) expect(facts.warnings).toEqual([]);
    expect(res.canaries.map((c) => c.id).sort()).toEqual([...expected.canaries].sort());
    expect(topExports(res)).toEqual([...expected.exports].sort());
    // Two canaries in the scenario's small vault (58): "a ward leaked one, the other is a stray hit"
    // keeps a third of the posterior (noise is λ/N per canary); three or more are decisive.
    expect(res.suspects[0].posterior).toBeGreaterThan(expected.canaries.length >= 3 ? 0.9 : 0.6);
    if (expected.exports.length === 1) {
      const e = exportOf(expected.exports[0]);
      expect(res.suspects[0]).toMatchObject({ kind: 'export', label: e.channel, export: expect.objectContaining({ operator: e.operator, file: e.fileName, sha256: e.sha256 }) });
    } else {
      expect(res.suspects[0].kind).toBe('merged');
      expect(res.suspects[0].unexplained).toEqual([]);
    }
    expect(res.incidentId).not.toBeNull();
  });

  it('reports where each canary was found: renamed column, spreadsheet cell, JSON line, broker line', async () => {
    const res = await runScan(db, ['insurer-renamed-columns.csv', 'photo-vendor-converted.xlsx', 'app-vendor-sample.jsonl', 'broker-listing.txt'].map(fixture));
    const byFile = (name: string) => res.matches.filter((m) => m.file === fixture(name));
    expect(byFile('insurer-renamed-columns.csv').every((m) => m.column === 'Tel' && /^line \d+$/.test(m.place))).toBe(true);
    expect(byFile('photo-vendor-converted.xlsx').every((m) => m.column === '联系电话' && /^sheet 客户名单 row \d+$/.test(m.place))).toBe(true);
    expect(byFile('app-vendor-sample.jsonl').every((m) => /^line \d+$/.test(m.place))).toBe(true);
    // The broker's masked phones count only with a name of the same canary beside them.
    const broker = byFile('broker-listing.txt');
    expect(broker.length).toBeGreaterThan(0);
    for (const m of broker) {
      expect(m.kinds).toContain('masked-phone');
      expect(m.kinds.some((k) => k === 'name' || k === 'name-pinyin' || k === 'masked-name')).toBe(true);
    }
    expect(new Set(broker.flatMap((m) => m.kinds))).toEqual(new Set(['masked-phone', 'name', 'name-pinyin', 'masked-name']));
  });

  it('warns about each bad file, naming it, and goes on with the files around them', async () => {
    const good = scenario.leaks.find((l) => l.file === 'insurer-renamed-columns.csv')!;
    const files = [...badLeaks.slice(0, 1), good, ...badLeaks.slice(1)].map((l) => fixture(l.file));
    const res = await scanAndTrace(db, files);
    expect(res.files.map((f) => f.file)).toEqual(files);
    for (const leak of badLeaks) {
      const facts = res.files.find((f) => f.file === fixture(leak.file))!;
      expect(facts.warnings).toContainEqual(expect.objectContaining({ file: fixture(leak.file), message: expect.stringMatching(new RegExp(leak.bad!.warning)), ...(leak.bad!.where ? { where: leak.bad!.where } : {}) }));
      expect(res.matches.filter((m) => m.file === fixture(leak.file))).toEqual([]);
    }
    expect(res.files.find((f) => f.file === fixture(good.file))!.warnings).toEqual([]);
    expect(res.canaries.map((c) => c.id).sort()).toEqual([...good.expect!.canaries].sort());
    expect(topExports(res)).toEqual(good.expect!.exports);
  });

  // Old Mac Excel's "CSV (Macintosh)" ends lines with CR alone: once read as one line of 0 records.
  it.each(['vaccine-one-district.csv', 'birth-office-gbk.tsv', 'app-vendor-sample.jsonl', 'broker-listing.txt', 'vaccine-mixed-encoding.csv', 'utf16-no-bom.csv'])(
    '%s with CR-only line ends: the same canaries on the same lines',
    async (name) => {
      const original = fixture(name);
      const file = path.join(scratchDir('cr-only'), name);
      if (name.startsWith('utf16')) fs.writeFileSync(file, Buffer.from(fs.readFileSync(original, 'utf16le').replace(/\r?\n/g, '\r'), 'utf16le'));
      else fs.writeFileSync(file, Buffer.from(fs.readFileSync(original, 'latin1').replace(/\r?\n/g, '\r'), 'latin1'));
      expect(fs.readFileSync(file, name.startsWith('utf16') ? 'utf16le' : 'latin1')).not.toContain('\n');
      const places = (res: ScanResult) => res.matches.map((m) => `${m.canaryId} ${m.place} ${m.line}`).sort();
      const [lf, cr] = [await runScan(db, [original]), await runScan(db, [file])];
      expect(lf.matches.length).toBeGreaterThan(0);
      expect(places(cr)).toEqual(places(lf));
      expect(cr.files[0]).toMatchObject({ records: lf.files[0].records, encoding: lf.files[0].encoding, sha256: expect.not.stringMatching(lf.files[0].sha256) });
      expect(cr.files[0].warnings.map((w) => w.message)).toEqual(lf.files[0].warnings.map((w) => w.message));
    },
  );

  it('scans a 50 MB line in pieces, with a warning naming the line, and finds the canaries in it', async () => {
    // Made at run time (never in git): a one-line SQL dump of the birth-office export's rows repeated,
    // with its canary rows in the middle and at the very end.
    const e = scenario.exports.find((x) => x.channel === 'export:birth-office')!;
    const bytes = fs.readFileSync(fixture('birth-office-gbk.tsv'));
    const lines = new TextDecoder('gb18030').decode(bytes).trimEnd().split('\r\n').slice(1);
    const phonesOf = (cs: ScenarioCanary[]) => new Set(cs.flatMap((c) => [c.family.mother.phone, c.family.father?.phone]).flatMap((p) => (p ? [p.replace('+86', '')] : [])));
    const own = phonesOf(e.canaries);
    const seeded = phonesOf(scenario.seeded.canaries);
    const holds = (phones: Set<string>) => (line: string) => line.split('\t').some((cell) => phones.has(cell));
    const tuple = (line: string) => `(${line.split('\t').map((c) => `'${c}'`).join(',')})`;
    const filler = lines.filter((l) => !holds(own)(l) && !holds(seeded)(l)).map(tuple).join(',');
    const canaryTuples = lines.filter(holds(own)).map(tuple);
    expect(canaryTuples).toHaveLength(e.canaries.length);
    const file = path.join(scratchDir('longline'), 'dump.sql');
    const fd = fs.openSync(file, 'w');
    fs.writeSync(fd, '-- dump\nINSERT INTO births VALUES ');
    let written = 0;
    for (let i = 0; written < 50 << 20; i++) {
      if (i === 200) fs.writeSync(fd, `${canaryTuples.slice(0, 2).join(',')},`);
      written += fs.writeSync(fd, `${filler},`);
    }
    fs.writeSync(fd, `${canaryTuples.slice(2).join(',')};\nSELECT 1;\n`);
    fs.closeSync(fd);
    const res = await scanAndTrace(db, [file]);
    const [facts] = res.files;
    expect(facts.bytes).toBeGreaterThan(50 << 20);
    expect(facts.warnings).toContainEqual(expect.objectContaining({ file, where: 'line 2', message: expect.stringMatching(/longer than/) }));
    expect(res.canaries.map((c) => c.id).sort()).toEqual(e.canaries.map((c) => c.id).sort());
    expect(res.matches.every((m) => m.place === 'line 2')).toBe(true);
    expect(topExports(res)).toEqual([e.id]);
    fs.rmSync(file);
  });
});
