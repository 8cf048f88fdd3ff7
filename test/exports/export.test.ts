import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { dialectOf } from '../../src/db/index.js';
import { runExport, type ExportRequest } from '../../src/exports/export.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import * as vault from '../../src/vault/index.js';
import type { Mapping } from '../../src/targetdb/index.js';
import { scratchDir } from '../helpers/db.js';
import { count, createTestHospital, targetCounts, type TestHospital } from '../helpers/hospital.js';
import { describeEachTarget, fieldColumn, schemaOf, TARGET_CASES } from '../helpers/targets.js';

function request(h: TestHospital, out: string, extra: Partial<ExportRequest> = {}): ExportRequest {
  return { hospital: h.hospital, mapping: h.mapping, channel: { kind: 'export', name: 'vaccine-registry' }, out, params: [], columnFields: {}, now: new Date(), ...extra };
}

function parseCsv(text: string): string[][] {
  // The export's CSV only quotes cells with commas or quotes; enough for the assertions here.
  return text.trimEnd().split('\r\n').map((line) => line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.filter((c, i, all) => i < all.length - 1 || c !== '').map((c) => c.replace(/,$/, '').replace(/^"|"$/g, '').replace(/""/g, '"')));
}

/** The default export's header for a field: its column's name, or alias_column where an earlier table has that name. */
function exportHeader(mapping: Mapping, field: string): string {
  const used = new Set<string>();
  for (const step of mapping.inserts) {
    for (const { column, value } of step.columns) {
      if (value.type !== 'field') continue;
      const name = used.has(column) ? `${step.alias}_${column}` : column;
      used.add(name);
      if (value.field === field) return name;
    }
  }
  throw new Error(`the default export has no column for ${field}`);
}

describeEachTarget(TARGET_CASES, 'exports on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  let dir: string;
  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: schemaOf(backend), population: 600, trapNumbers: 80 });
    dir = scratchDir('exports');
  });
  afterAll(async () => h?.close());
  const headerOf = (field: string) => exportHeader(h.mapping, field);
  const column = (alias: string, field: string) => `${alias}.${dialectOf(h.target).ident(fieldColumn(h.mapping, field).column)}`;

  it('writes the default export with its own canaries and records the manifest', async () => {
    const out = path.join(dir, 'births.csv');
    const targetBefore = await targetCounts(h);
    const res = await runExport(h.vault, h.target, request(h, out, { operator: 'n0412', canaries: 6 }));
    const bytes = fs.readFileSync(out);
    expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(res.sha256);
    const rows = parseCsv(bytes.toString('utf8'));
    const header = rows[0];
    expect(header).toContain(headerOf('mother.phone'));
    expect(rows.length - 1).toBe(res.rows + 6);
    expect(res.rows).toBe(600);
    // Each canary is in the file at the recorded row, in the hospital's formats, and nowhere in the target.
    const phoneCol = header.indexOf(headerOf('mother.phone'));
    for (const c of res.canaries) {
      expect(rows[c.row][header.indexOf(headerOf('mother.name'))]).toBe(c.family.mother.name.full);
      expect(rows[c.row][phoneCol]).toBe(c.family.mother.phone!.replace('+86', ''));
      expect(h.trapNumbers).toContain(c.family.mother.phone);
    }
    expect(await targetCounts(h)).toEqual(targetBefore);
    const manifest = await vault.getExport(h.vault, res.id);
    expect(manifest).toMatchObject({ channel: 'export:vaccine-registry', operator: 'n0412', row_count: 600, canary_count: 6, sha256: res.sha256, file_name: 'births.csv' });
    expect((await vault.exportCanaries(h.vault, res.id)).map((c) => c.row_number)).toEqual(res.canaries.map((c) => c.row).sort((a, b) => a - b));
    expect(await count(h.vault, `SELECT 1 FROM exposures e JOIN channels ch ON ch.id = e.channel_id WHERE ch.name = 'vaccine-registry' AND e.source = 'export'`)).toBe(6);
    expect(await count(h.vault, `SELECT 1 FROM canaries WHERE export_id = $1 AND status = 'planted'`, [res.id])).toBe(6);
    // The file keeps its own order: birth times stay sorted with the canaries among them.
    const times = rows.slice(1).map((r) => Date.parse(r[header.indexOf(headerOf('baby.birthTime'))]));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('runs a query with parameters read-only and writes JSON', async () => {
    const out = path.join(dir, 'vax.json');
    // The mother's and the baby's tables, joined along the mapping's ref, the weight bound by a parameter.
    const d = dialectOf(h.target);
    const [mother, baby] = h.mapping.inserts;
    const ref = baby.columns.find((c) => c.value.type === 'ref' && c.value.alias === mother.alias)!;
    const fields = ['mother.name', 'mother.phone', 'baby.name', 'baby.birthTime', 'baby.weightGrams'];
    const params: string[] = [];
    const res = await runExport(h.vault, h.target, request(h, out, {
      query: `SELECT ${fields.map((f, i) => column(i < 2 ? 'f' : 'b', f)).join(', ')} FROM ${d.table(mother)} f JOIN ${d.table(baby)} b ON b.${d.ident(ref.column)} = f.${d.ident((ref.value as { column: string }).column)} WHERE ${column('b', 'baby.weightGrams')} >= ${d.param(params, '3000')} ORDER BY ${column('b', 'baby.birthTime')} DESC`,
      params,
      canaries: 4,
    }));
    const doc = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>[];
    expect(doc).toHaveLength(res.rows + 4);
    const names = fields.map((f) => fieldColumn(h.mapping, f).column);
    expect(Object.keys(doc[0])).toEqual(names);
    expect(typeof doc[0][names[4]]).toBe('number');
    for (const c of res.canaries) {
      expect(doc[c.row - 1][names[1]]).toBe(c.family.mother.phone!.replace('+86', ''));
      expect(doc[c.row - 1][names[0]]).toBe(c.family.mother.name.full);
    }
    const name = d.ident(fieldColumn(h.mapping, 'mother.name').column);
    await expect(runExport(h.vault, h.target, request(h, path.join(dir, 'evil.csv'), { query: `INSERT INTO ${d.table(mother)} (${name}) VALUES ('x') RETURNING *` }))).rejects.toThrow(/read-only|statement starting INSERT is refused/);
  });

  it('records the seeded canaries an export carries as exposed to its recipient', async () => {
    const now = new Date();
    const seeded = await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 3, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W48', ...birthWindow(now) });
    const res = await runExport(h.vault, h.target, request(h, path.join(dir, 'all.csv'), { channel: { kind: 'export', name: 'insurer' }, canaries: 3 }));
    const { rows } = await h.vault.query<{ canary_id: string; row: number }>(
      `SELECT e.canary_id, (e.detail->>'row')::int AS row FROM exposures e WHERE e.detail->>'export' = $1 AND (e.detail->>'seeded')::boolean`,
      [res.id],
    );
    expect(rows.map((r) => r.canary_id).sort()).toEqual(seeded.planted.map((p) => p.id).sort());
    const lines = fs.readFileSync(path.join(dir, 'all.csv'), 'utf8').split('\r\n');
    for (const r of rows) expect(lines[r.row]).toContain(seeded.planted.find((p) => p.id === r.canary_id)!.family.mother.name.full);
  });

  it('keeps the default export to the hospital’s own days with --from/--to, its canaries born on them too', async () => {
    // A birth time's day in the hospital's zone: timestamptz cells are instants, DATETIME cells its wall-clock.
    const localDay = (cell: string) => (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(cell) ? cell.slice(0, 10) : new Intl.DateTimeFormat('en-CA', { timeZone: h.hospital.timeZone }).format(new Date(cell)));
    const daysOf = (file: string, canaryRows: number[]) => {
      const rows = parseCsv(fs.readFileSync(file, 'utf8'));
      const col = rows[0].indexOf(headerOf('baby.birthTime'));
      return rows.slice(1).filter((_, i) => !canaryRows.includes(i + 1)).map((r) => localDay(r[col]));
    };
    const all = await runExport(h.vault, h.target, request(h, path.join(dir, 'days-all.csv'), { canaries: 1, channel: { kind: 'export', name: 'days' } }));
    const days = daysOf(path.join(dir, 'days-all.csv'), all.canaries.map((c) => c.row)).sort();
    const [from, to] = [days[Math.floor(days.length / 3)], days[Math.floor(days.length / 2)]];
    const inWindow = days.filter((d) => d >= from && d <= to).length;
    const out = path.join(dir, 'days.csv');
    const res = await runExport(h.vault, h.target, request(h, out, { from, to, canaries: 3, channel: { kind: 'export', name: 'days' } }));
    expect(res.rows).toBe(inWindow);
    expect(res.rows).toBeLessThan(days.length);
    const shown = daysOf(out, []);
    expect(shown).toHaveLength(inWindow + 3);
    expect(shown.filter((d) => d < from || d > to)).toEqual([]);
  });

  it('leaves no file and no manifest when it fails', async () => {
    const exportsBefore = (await vault.listExports(h.vault)).length;
    const canariesBefore = await count(h.vault, 'SELECT 1 FROM canaries');
    const out = path.join(dir, 'broken.csv');
    await expect(runExport(h.vault, h.target, request(h, out, { query: `SELECT nosuch FROM ${dialectOf(h.target).table(h.mapping.inserts[0])}` }))).rejects.toThrow(/the export query failed .*nosuch/);
    await expect(runExport(h.vault, h.target, request(h, out, { canaries: 500 }))).rejects.toThrow(/trap pool is short/);
    // A vault failure after the file was written: the temporary file goes, the final name never appears.
    await h.vault.exec(`CREATE FUNCTION cradle_test_no() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'vault down'; END $$;
      CREATE TRIGGER cradle_test_no BEFORE INSERT ON export_rows FOR EACH ROW EXECUTE FUNCTION cradle_test_no();`);
    try {
      await expect(runExport(h.vault, h.target, request(h, out, { canaries: 3 }))).rejects.toThrow(/vault down/);
    } finally {
      await h.vault.exec('DROP TRIGGER cradle_test_no ON export_rows; DROP FUNCTION cradle_test_no();');
    }
    expect(fs.readdirSync(dir).filter((f) => f.includes('broken'))).toEqual([]);
    expect((await vault.listExports(h.vault)).length).toBe(exportsBefore);
    expect(await count(h.vault, 'SELECT 1 FROM canaries')).toBe(canariesBefore);
    await expect(runExport(h.vault, h.target, request(h, out, { channel: { kind: 'system', name: 'his' } }))).rejects.toThrow(/export:<recipient>/);
  });
});
