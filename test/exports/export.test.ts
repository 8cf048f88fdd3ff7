import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runExport, type ExportRequest } from '../../src/exports/export.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { count, createTestHospital, targetCounts, type TestHospital } from '../helpers/hospital.js';

function request(h: TestHospital, out: string, extra: Partial<ExportRequest> = {}): ExportRequest {
  return { hospital: h.hospital, mapping: h.mapping, channel: { kind: 'export', name: 'vaccine-registry' }, out, params: [], columnFields: {}, now: new Date(), ...extra };
}

function parseCsv(text: string): string[][] {
  // The export's CSV only quotes cells with commas or quotes; enough for the assertions here.
  return text.trimEnd().split('\r\n').map((line) => line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.filter((c, i, all) => i < all.length - 1 || c !== '').map((c) => c.replace(/,$/, '').replace(/^"|"$/g, '').replace(/""/g, '"')));
}

describe.each(BACKENDS)('exports on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  let dir: string;
  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 600, trapNumbers: 80 });
    dir = scratchDir('exports');
  });
  afterAll(async () => h?.close());

  it('writes the default export with its own canaries and records the manifest', async () => {
    const out = path.join(dir, 'births.csv');
    const targetBefore = await targetCounts(h);
    const res = await runExport(h.vault, h.target, request(h, out, { operator: 'n0412', canaries: 6 }));
    const bytes = fs.readFileSync(out);
    expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(res.sha256);
    const rows = parseCsv(bytes.toString('utf8'));
    const header = rows[0];
    expect(header).toContain('mother_phone');
    expect(rows.length - 1).toBe(res.rows + 6);
    expect(res.rows).toBe(600);
    // Each canary is in the file at the recorded row, in the hospital's formats, and nowhere in the target.
    const phoneCol = header.indexOf('mother_phone');
    for (const c of res.canaries) {
      expect(rows[c.row][header.indexOf('mother_name')]).toBe(c.family.mother.name.full);
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
    const times = rows.slice(1).map((r) => Date.parse(r[header.indexOf('birth_time')]));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('runs a query with parameters read-only and writes JSON', async () => {
    const out = path.join(dir, 'vax.json');
    const res = await runExport(h.vault, h.target, request(h, out, {
      query: 'SELECT f.mother_name, f.mother_phone, b.baby_name, b.birth_time, b.weight_g FROM families f JOIN births b USING (family_id) WHERE b.weight_g >= $1 ORDER BY b.birth_time DESC',
      params: ['3000'],
      canaries: 4,
    }));
    const doc = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>[];
    expect(doc).toHaveLength(res.rows + 4);
    expect(Object.keys(doc[0])).toEqual(['mother_name', 'mother_phone', 'baby_name', 'birth_time', 'weight_g']);
    expect(typeof doc[0].weight_g).toBe('number');
    for (const c of res.canaries) expect(doc[c.row - 1].mother_phone).toBe(c.family.mother.phone!.replace('+86', ''));
    await expect(runExport(h.vault, h.target, request(h, path.join(dir, 'evil.csv'), { query: "INSERT INTO families (mother_name) VALUES ('x') RETURNING *" }))).rejects.toThrow(/read-only/);
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

  it('leaves no file and no manifest when it fails', async () => {
    const exportsBefore = (await vault.listExports(h.vault)).length;
    const canariesBefore = await count(h.vault, 'SELECT 1 FROM canaries');
    const out = path.join(dir, 'broken.csv');
    await expect(runExport(h.vault, h.target, request(h, out, { query: 'SELECT nosuch FROM families' }))).rejects.toThrow(/the export query failed .*nosuch/);
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
