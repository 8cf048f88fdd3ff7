import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/db/index.js';
import type { ExportResult } from '../../src/exports/export.js';
import type { IncidentReportData } from '../../src/report/data.js';
import { loadIncidentReport } from '../../src/report/load.js';
import { TRACE_EVIDENCE_DELAY, TRACE_MERGE_PRIOR, TRACE_NOISE, TRACE_UNKNOWN_PRIOR } from '../../src/trace/model.js';
import { traceIncident } from '../../src/trace/trace.js';
import { triagePending } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { cradle, cradleInProcess } from '../helpers/cli.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';
import { CHROMIUM, itWith } from '../helpers/needs.js';
import { DAY, PLANTED, seedAndExport } from '../helpers/leak.js';

// `cradle report` on a real incident: a photo studio's export whose canaries got texts, traced and
// written as JSON, Markdown and HTML (through the CLI, in-process) and, where Chromium is installed,
// PDF (through the real binary), each one recorded in the ledger.

const CALLER = '+8613311110000';
const MODEL = { noise: TRACE_NOISE, unknownPrior: TRACE_UNKNOWN_PRIOR, mergePrior: TRACE_MERGE_PRIOR, evidenceDelayDays: TRACE_EVIDENCE_DELAY / DAY };

describe.each(BACKENDS)('report on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  let photo: ExportResult;
  let incidentId: string;
  let dir: string;

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 300, trapNumbers: 60 });
    dir = scratchDir('report');
    ({ photo } = await seedAndExport(h, dir, 'report'));
    const first = new Date(PLANTED.getTime() + 9 * DAY);
    for (const [i, c] of photo.canaries.slice(0, 3).entries()) {
      await vault.recordContact(h.vault, {
        source: 'generic', providerId: `r${i}`, kind: 'sms', from: CALLER, to: c.family.mother.phone!, occurredAt: new Date(first.getTime() + i * DAY),
        body: `${c.family.mother.name.full}您好，宝宝写真免费拍摄，回电 ${CALLER}`, raw: Buffer.from(`raw ${i}`),
      });
    }
    const { hits } = await triagePending(h.vault);
    incidentId = hits[0].incidentId!;
  });
  afterAll(async () => h?.close());

  it('gathers the trace, the hits with their evidence, the exposures and the custody, masking the caller', async () => {
    const data = await loadIncidentReport(h.vault, await traceIncident(h.vault, incidentId), { model: MODEL, now: new Date('2026-11-20T08:00:00Z'), generatedBy: 'analyst' });
    expect(data.incident).toMatchObject({ id: incidentId, source: 'hits' });
    expect(data.canaries.map((c) => c.id).sort()).toEqual(photo.canaries.slice(0, 3).map((c) => c.id).sort());
    expect(data.weeks).toEqual(['2026-W45']);
    const [top] = data.suspects;
    expect(top).toMatchObject({ rank: 1, kind: 'export', label: 'export:photo-studio', export: { id: photo.id, operator: 'n0412', sha256: photo.sha256 } });
    // Every canary the file held: its own and the seeded ones its query picked up.
    expect(top.seen).toBeGreaterThanOrEqual(5);
    expect(top.reasons.map((r) => r.code)).toEqual(['explains', 'channel-size', 'exported', 'window']);
    expect(data.hits).toHaveLength(3);
    for (const hit of data.hits) {
      expect(hit.from).toBe('+*********0000');
      expect(hit.body).not.toContain(CALLER);
      expect(hit.body).toContain('*******0000');
      expect(hit.to).toBe(data.canaries.find((c) => c.id === hit.canaryId)!.motherPhone);
      expect(hit.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    // Exposures of the incident's canaries: the seeding channel and the photo-studio export.
    expect(new Set(data.exposures.map((e) => e.key))).toContain(`export-file:${photo.id}`);
    expect(data.exposures.filter((e) => e.exportId === photo.id)).toHaveLength(3);
    expect(data.custody.files.filter((f) => f.role === 'export')).toEqual([expect.objectContaining({ ref: photo.id, sha256: photo.sha256 })]);
    expect(data.custody.files.filter((f) => f.role === 'contact')).toHaveLength(3);
    for (const e of data.custody.ledger.entries) expect(e.verified).toBe(true);
    expect(data.model).toEqual(MODEL);

    const unmasked = await loadIncidentReport(h.vault, await traceIncident(h.vault, incidentId), { model: MODEL, unmasked: true });
    expect(unmasked.hits.every((x) => x.from === CALLER && x.body!.includes(CALLER))).toBe(true);
  });

  it('reports a scan incident with its seized files and matches', async () => {
    const [a, b] = photo.canaries;
    const id = `SCAN-${backend}`;
    await vault.recordScanIncident(h.vault, id, 'scan of 1 file(s): 2 canaries found', {}, [{ file: 'dump.csv', sha256: 'cd'.repeat(32), bytes: 2048, format: 'csv', encoding: 'utf-8', records: 40, warnings: [] }], [
      { canaryId: a.id, file: 'dump.csv', place: 'line 3', column: '电话', kinds: ['phone', 'name'], matched: a.family.mother.phone!, confidence: 0.99, reason: 'phone and name' },
      { canaryId: b.id, file: 'dump.csv', place: 'line 9', column: null, kinds: ['phone'], matched: `${b.family.mother.phone} / ${CALLER}`, confidence: 0.9, reason: 'phone' },
    ]);
    const data = await loadIncidentReport(h.vault, await traceIncident(h.vault, id), { model: MODEL });
    expect(data.incident.source).toBe('scan');
    expect(data.hits).toEqual([]);
    expect(data.scan!.files).toEqual([{ file: 'dump.csv', sha256: 'cd'.repeat(32), bytes: 2048, format: 'csv', encoding: 'utf-8', records: 40 }]);
    expect(data.scan!.matches.map((m) => [m.place, m.column, m.kinds])).toEqual([['line 3', '电话', ['phone', 'name']], ['line 9', null, ['phone']]]);
    // The canary's number stays, a stranger's in the same cell is masked.
    expect(data.scan!.matches[1].matched).toBe(`${b.family.mother.phone} / +*********0000`);
    expect(data.custody.files).toContainEqual(expect.objectContaining({ role: 'scan', name: 'dump.csv', sha256: 'cd'.repeat(32) }));
    expect(data.suspects[0]).toMatchObject({ label: 'export:photo-studio' });
  });

  it('writes JSON, Markdown and HTML through the CLI, each one in the ledger', async () => {
    if (backend === 'pglite') await h.vault.close();
    try {
      const cwd = scratchDir('report-cli');
      const run = (args: string[]) => cradleInProcess(['--vault', h.vaultLocation, 'report', incidentId, ...args], { cwd });

      const stdout = await run(['--format', 'json']);
      expect(stdout.code).toBe(0);
      const fromStdout = JSON.parse(stdout.stdout) as IncidentReportData;
      expect(fromStdout.suspects[0]).toMatchObject({ label: 'export:photo-studio', export: { id: photo.id } });

      for (const [format, file, extra] of [['json', 'report.json', []], ['md', 'report.md', []], ['html', 'report.html', []], ['html', 'report-zh.html', ['--lang', 'zh-CN']]] as const) {
        const out = await run(['--format', format, '--out', file, ...extra]);
        expect(out.stderr).toBe('');
        expect(out.code).toBe(0);
        expect(out.stdout).toMatch(new RegExp(`^wrote ${file.replace('.', '\\.')} \\(${format}, (en|zh-CN), \\d+ bytes\\) sha256 [0-9a-f]{64}; ledger entry #\\d+\\n$`));
        expect(fs.existsSync(path.join(cwd, file))).toBe(true);
      }
      const json = JSON.parse(fs.readFileSync(path.join(cwd, 'report.json'), 'utf8')) as IncidentReportData;
      expect(json.suspects.length).toBeGreaterThan(1);
      expect(json.suspects[0].posterior).toBeGreaterThan(0.9);
      expect(json.generatedBy).toBeTruthy();
      const md = fs.readFileSync(path.join(cwd, 'report.md'), 'utf8');
      expect(md).toContain(`# Incident report ${incidentId}`);
      expect(md).toContain(photo.sha256);
      expect(md).not.toContain(CALLER);
      const html = fs.readFileSync(path.join(cwd, 'report.html'), 'utf8');
      expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg" class="timeline"');
      for (const c of json.canaries) expect(html).toContain(c.motherPhone!);
      expect(fs.readFileSync(path.join(cwd, 'report-zh.html'), 'utf8')).toContain('<html lang="zh-CN">');
      // Written through a temporary file: nothing is left beside the reports.
      expect(fs.readdirSync(cwd).filter((f) => f.endsWith('.tmp'))).toEqual([]);

      // Overwriting takes --force; --unmasked shows the caller.
      const refused = await run(['--out', 'report.md', '--unmasked']);
      expect(refused.stderr).toBe('cradle: --out report.md exists; add --force to replace it\n');
      expect(refused.code).toBe(1);
      const again = await run(['--out', 'report.md', '--unmasked', '--force']);
      expect(again.code).toBe(0);
      expect(fs.readFileSync(path.join(cwd, 'report.md'), 'utf8')).toContain(CALLER);

      const usage = await run(['--format', 'pdf']);
      expect(usage.code).toBe(1);
      expect(usage.stderr).toBe('cradle: --out <file> is needed for --format pdf (only json can go to standard output)\n');
      const bad = await run(['--format', 'docx', '--out', 'x.docx']);
      expect(bad.code).toBe(2);
      const missing = await cradleInProcess(['--vault', h.vaultLocation, 'report', 'INC-NOPE', '--out', 'x.html'], { cwd });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe('cradle: no incident INC-NOPE; list them with `cradle incidents`\n');
      const noChromium = await cradleInProcess(['--vault', h.vaultLocation, 'report', incidentId, '--out', 'x.pdf'], { cwd, env: { CRADLE_CHROMIUM: path.join(cwd, 'no-such-chromium') } });
      expect(noChromium.code).toBe(1);
      expect(noChromium.stderr).toMatch(/^cradle: no Chromium at .*no-such-chromium to print the PDF: install Debian's chromium .* or set CRADLE_CHROMIUM/);
      expect(fs.existsSync(path.join(cwd, 'x.pdf'))).toBe(false);
    } finally {
      if (backend === 'pglite') h.vault = await openDatabase(h.vaultLocation);
    }
    const reports = await vault.ledgerEntries(h.vault, { incident: incidentId, kind: 'report' });
    expect(reports.map((r) => (r.content as { format: string }).format)).toEqual(['json', 'md', 'html', 'html', 'md']);
    const data = await loadIncidentReport(h.vault, await traceIncident(h.vault, incidentId), { model: MODEL });
    // The next report lists the earlier ones among the incident's ledger entries, and they check out.
    expect(data.custody.ledger.entries.filter((e) => e.kind === 'report')).toHaveLength(5);
    expect(data.custody.ledger.entries.every((e) => e.verified)).toBe(true);
    expect(data.custody.ledger.head!.seq).toBeGreaterThanOrEqual(5);
  });

  itWith(CHROMIUM)('prints the report to PDF through the binary, recorded in the ledger', async () => {
    if (backend === 'pglite') await h.vault.close();
    const cwd = scratchDir('report-pdf');
    try {
      const out = await cradle(['--vault', h.vaultLocation, 'report', incidentId, '--format', 'pdf', '--out', 'report.pdf'], { cwd });
      expect(out.stderr).toBe('');
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/^wrote report\.pdf \(pdf, en, \d+ bytes\) sha256 [0-9a-f]{64}; ledger entry #\d+\n$/);
    } finally {
      if (backend === 'pglite') h.vault = await openDatabase(h.vaultLocation);
    }
    expect(fs.readFileSync(path.join(cwd, 'report.pdf')).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const reports = await vault.ledgerEntries(h.vault, { incident: incidentId, kind: 'report' });
    expect(reports.map((r) => (r.content as { format: string }).format).at(-1)).toBe('pdf');
  });
});
