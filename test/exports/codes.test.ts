import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runExport, type ExportRequest, type ExportResult } from '../../src/exports/export.js';
import { checkCodeSpec, codeCapacity, codeLength, codeOverlap, codewordPositions, DEFAULT_CODE, nextCodeword, poolFitsFile, type CodeSpec } from '../../src/exports/plan.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { scanAndTrace } from '../../src/workflows/scan-and-trace.js';
import * as vault from '../../src/vault/index.js';
import { scratchDir } from '../helpers/db.js';
import { count, createTestHospital, type TestHospital } from '../helpers/hospital.js';
import { describeEachTarget, schemaOf, TARGET_CASES } from '../helpers/targets.js';

// Exports that share canaries: each gets a codeword of the hospital's code pool, and scan names the
// export from the shared canaries a leak holds.

describe('the Reed–Solomon constant-weight code', () => {
  const shared = (a: number[], b: number[]) => a.filter((x) => b.includes(x)).length;

  it('gives each codeword one canary per block, and any two share at most k - 1', () => {
    for (const spec of [DEFAULT_CODE, { weight: 8, field: 11, degree: 3 }, { weight: 5, field: 5, degree: 2 }] as CodeSpec[]) {
      const n = Math.min(codeCapacity(spec), 400);
      const words = Array.from({ length: n }, (_, m) => codewordPositions(spec, m));
      for (const w of words) expect(w.map((p) => Math.floor(p / spec.field))).toEqual(Array.from({ length: spec.weight }, (_, x) => x));
      expect(new Set(words.map((w) => w.join(','))).size).toBe(n);
      let worst = 0;
      let worstLines = 0;
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          const s = shared(words[i], words[j]);
          worst = Math.max(worst, s);
          if (j < spec.field ** 2) worstLines = Math.max(worstLines, s);
        }
      }
      expect(worst).toBe(codeOverlap(spec, n));
      expect(worst).toBeLessThanOrEqual(spec.degree - 1);
      // The first p² codewords (lines) share at most one canary; the first p (constants) none.
      expect(worstLines).toBeLessThanOrEqual(1);
      expect(shared(words[0], words[1])).toBe(0);
    }
    expect(codeLength(DEFAULT_CODE)).toBe(49);
    expect(codeCapacity(DEFAULT_CODE)).toBe(343);
    expect(codewordPositions(DEFAULT_CODE, 0)).toEqual([0, 7, 14, 21, 28, 35, 42]);
    // m = 7 + 2·7 = 21: f(x) = 0 + 3x over GF(7).
    expect(codewordPositions(DEFAULT_CODE, 21)).toEqual([0, 10, 20, 23, 33, 36, 46]);
  });

  it('refuses constructions that would not be codes, and hands out codewords in order', () => {
    expect(() => checkCodeSpec({ weight: 8, field: 8, degree: 2 })).toThrow(/prime/);
    expect(() => checkCodeSpec({ weight: 8, field: 7, degree: 2 })).toThrow(/weight/);
    expect(() => checkCodeSpec({ weight: 7, field: 7, degree: 7 })).toThrow(/degree/);
    expect(() => checkCodeSpec(DEFAULT_CODE)).not.toThrow();
    expect(nextCodeword(DEFAULT_CODE, [])).toBe(0);
    expect(nextCodeword(DEFAULT_CODE, [0, 1, 3])).toBe(2);
    expect(nextCodeword({ weight: 2, field: 2, degree: 1 }, [0, 1])).toBeNull();
  });

  it('reuses a pool only in files whose births and wards its canaries fit', () => {
    const fam = (birthTime: string, ward: string) => ({ baby: { birthTime }, ward }) as unknown as Parameters<typeof poolFitsFile>[0][number];
    const pool = [fam('2026-11-03T08:00:00Z', 'NICU'), fam('2026-11-20T08:00:00Z', '产科一病区')];
    const nov = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-30T00:00:00Z') };
    expect(poolFitsFile(pool, nov, new Set(['NICU', '产科一病区']))).toBe(true);
    expect(poolFitsFile(pool, null, null)).toBe(true);
    expect(poolFitsFile(pool, { from: new Date('2026-11-10T00:00:00Z'), to: nov.to }, null)).toBe(false);
    expect(poolFitsFile(pool, nov, new Set(['NICU']))).toBe(false);
  });
});

function readCsv(file: string): { header: string; lines: string[] } {
  const [header, ...lines] = fs.readFileSync(file, 'utf8').trimEnd().split('\r\n');
  return { header, lines };
}

describeEachTarget(TARGET_CASES, 'code exports on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  let dir: string;
  const exports: ExportResult[] = [];
  const request = (name: string, extra: Partial<ExportRequest> = {}): ExportRequest => ({
    hospital: h.hospital,
    mapping: h.mapping,
    channel: { kind: 'export', name },
    out: path.join(dir, `${name}.csv`),
    params: [],
    columnFields: {},
    now: new Date(),
    code: {},
    ...extra,
  });

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: schemaOf(backend), population: 500, trapNumbers: 260 });
    dir = scratchDir('codes');
    // Codewords 0-6 are the constants (disjoint), 7-9 lines that share one canary with some of them.
    for (const name of ['insurer', 'photo-vendor', 'formula-a', 'formula-b', 'hearing', 'vaccine', 'photo-b', 'formula-c', 'formula-d', 'formula-e']) {
      exports.push(await runExport(h.vault, h.target, request(name)));
    }
  });
  afterAll(async () => h?.close());

  it('gives each export a distinct codeword of one shared pool, made once with its trap numbers', async () => {
    const [first, ...rest] = exports;
    expect(first.code).toMatchObject({ codeword: 0, newPool: true, poolSize: 49, capacity: 343, spec: DEFAULT_CODE });
    for (const [i, x] of rest.entries()) expect(x.code).toMatchObject({ poolId: first.code!.poolId, codeword: i + 1, newPool: false });
    // One pool of 49 canaries, with trap numbers; no canary of an export's own.
    expect(await count(h.vault, 'SELECT 1 FROM code_pools')).toBe(1);
    expect(await count(h.vault, 'SELECT 1 FROM canaries WHERE code_pool_id = $1', [first.code!.poolId])).toBe(49);
    expect(await count(h.vault, 'SELECT 1 FROM canaries WHERE export_id IS NOT NULL')).toBe(0);
    expect(await count(h.vault, `SELECT DISTINCT a.trap_number_id FROM trap_assignments a JOIN canaries c ON c.id = a.canary_id WHERE c.code_pool_id IS NOT NULL`)).toBeGreaterThanOrEqual(49);
    for (const x of exports) {
      expect(x.canaries).toHaveLength(7);
      expect(x.canaries.every((c) => c.shared)).toBe(true);
      // The file holds its codeword's canaries at the recorded rows, in the hospital's formats.
      const { lines } = readCsv(x.file);
      for (const c of x.canaries) expect(lines[c.row - 1]).toContain(c.family.mother.phone!.replace('+86', ''));
      const cw = await vault.exportCodeword(h.vault, x.id);
      expect(cw).toMatchObject({ codeword: x.code!.codeword, positions: codewordPositions(DEFAULT_CODE, x.code!.codeword) });
      expect([...cw!.canary_ids].sort()).toEqual(x.canaries.map((c) => c.id).sort());
      expect((await vault.exportCanaries(h.vault, x.id)).every((c) => c.shared)).toBe(true);
      expect((await vault.getExport(h.vault, x.id))!.canary_count).toBe(7);
    }
    // Exposures: each shared canary is exposed to every export that holds it.
    const shared = exports[1].canaries[0].id;
    const holders = exports.filter((x) => x.canaries.some((c) => c.id === shared)).map((x) => x.id);
    const { rows } = await h.vault.query<{ export: string }>(`SELECT detail->>'export' AS export FROM exposures WHERE canary_id = $1`, [shared]);
    expect(rows.map((r) => r.export).sort()).toEqual(holders.sort());
  });

  it('names the export behind a half sample of its file from shared canaries alone', async () => {
    const x = exports[8]; // f(x) = 1 + x
    const { header, lines } = readCsv(x.file);
    const rng = createRandom('half');
    const keep = new Set(x.canaries.slice(0, 3).map((c) => c.row - 1));
    const all = new Set(x.canaries.map((c) => c.row - 1));
    const sample = lines.filter((_, i) => keep.has(i) || (!all.has(i) && rng.chance(0.5)));
    const file = path.join(dir, 'leak.csv');
    fs.writeFileSync(file, [header, ...sample].join('\n'));
    const res = await scanAndTrace(h.vault, [file]);
    expect(res.canaries.map((c) => c.id).sort()).toEqual(x.canaries.slice(0, 3).map((c) => c.id).sort());
    expect(res.suspects[0]).toMatchObject({ label: 'export:formula-d', kind: 'export', export: expect.objectContaining({ id: x.id }) });
    expect(res.suspects[0].posterior).toBeGreaterThan(0.99);

    // One shared canary alone names no export: every holder stays possible.
    const one = x.canaries.find((c) => exports.filter((y) => y.canaries.some((d) => d.id === c.id)).length > 1)!;
    const single = path.join(dir, 'one.csv');
    fs.writeFileSync(single, [header, lines[one.row - 1]].join('\n'));
    const res1 = await scanAndTrace(h.vault, [single]);
    expect(res1.suspects[0].posterior).toBeLessThan(0.9);
    expect(res1.suspects.filter((s) => s.kind === 'export').map((s) => s.export!.id)).toContain(x.id);
  });

  it('names both exports of two merged files', async () => {
    const [a, b] = [exports[2], exports[8]]; // f = 2 and f = 1 + x: one canary in common
    const ra = readCsv(a.file);
    const rb = readCsv(b.file);
    const file = path.join(dir, 'merged.csv');
    fs.writeFileSync(file, [ra.header, ...ra.lines, ...rb.lines].join('\n'));
    const res = await scanAndTrace(h.vault, [file]);
    expect(a.canaries.filter((c) => b.canaries.some((d) => d.id === c.id))).toHaveLength(1);
    expect(res.suspects[0].kind).toBe('merged');
    expect(res.suspects[0].parts!.sort()).toEqual([`export-file:${a.id}`, `export-file:${b.id}`].sort());
    expect(res.suspects[0].posterior).toBeGreaterThan(0.99);
  });

  it('makes a new pool for a file whose births the pool does not fit, and keeps one origin per canary', async () => {
    const to = new Date(Date.now() - 20 * 86_400_000).toISOString().slice(0, 10);
    const from = new Date(Date.now() - 60 * 86_400_000).toISOString().slice(0, 10);
    const narrow = await runExport(h.vault, h.target, request('district-office', { from, to, canaries: 2 }));
    expect(narrow.code).toMatchObject({ newPool: true, codeword: 0 });
    expect(narrow.code!.poolId).not.toBe(exports[0].code!.poolId);
    // Its own canaries come first, then its codeword's.
    expect(narrow.canaries.map((c) => c.shared)).toEqual([false, false, ...Array(7).fill(true)]);
    const { rows } = await h.vault.query<{ birth: string }>(`SELECT family->'baby'->>'birthTime' AS birth FROM canaries WHERE code_pool_id = $1`, [narrow.code!.poolId]);
    for (const r of rows) {
      expect(Date.parse(r.birth)).toBeGreaterThanOrEqual(Date.parse(`${from}T00:00:00Z`) - 86_400_000);
      expect(Date.parse(r.birth)).toBeLessThanOrEqual(Date.parse(`${to}T23:59:59Z`) + 86_400_000);
    }
    // A canary has exactly one origin.
    const pool = exports[0].code!.poolId;
    await expect(h.vault.query(`UPDATE canaries SET export_id = $1 WHERE code_pool_id = $2`, [exports[0].id, pool])).rejects.toThrow(/canaries_one_origin/);
    await expect(runExport(h.vault, h.target, request('bad', { code: { spec: { weight: 8, field: 8, degree: 2 } } }))).rejects.toThrow(/prime/);
  });
});
