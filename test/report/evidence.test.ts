import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse as parseCsv } from 'csv-parse/sync';
import tar from 'tar-stream';
import { openDatabase } from '../../src/db/index.js';
import type { BundleLedgerEntry } from '../../src/report/bundle.js';
import type { ExportResult } from '../../src/exports/export.js';
import { triagePending } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { cradleInProcess, type CliResult } from '../helpers/cli.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';
import { DAY, PLANTED, seedAndExport } from '../helpers/leak.js';

// `cradle evidence export`: the bundle for the police, built from a real incident (a photo studio's
// export whose canaries got texts) and a scan incident, through the CLI (in-process), then unpacked and checked
// the way its README tells a stranger to: checksums, raw events against their hashes, the ledger slice.

const CALLER = '+8613311110000';
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function untar(file: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      files.set(entry.header.name, Buffer.concat(chunks));
    }
  })();
  Readable.from(fs.readFileSync(file)).pipe(createGunzip()).pipe(extract);
  await done;
  return files;
}

/** The bundle's files by their path inside its directory, checking they all are in that one directory. */
function inside(files: Map<string, Buffer>, incident: string): Map<string, Buffer> {
  const root = `evidence-${incident}/`;
  for (const name of files.keys()) expect(name.startsWith(root)).toBe(true);
  return new Map([...files].map(([name, data]) => [name.slice(root.length), data]));
}

type Line = BundleLedgerEntry;

function checkLedgerSlice(text: string): Line[] {
  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Line);
  expect(lines.length).toBeGreaterThan(0);
  for (const e of lines) {
    expect(Object.keys(e)).toEqual(['seq', 'at', 'kind', 'ref', 'incident_id', 'actor', 'content', 'content_hash', 'prev_hash', 'hash']);
    expect(vault.contentHash(e.content)).toBe(e.content_hash);
    expect(vault.entryHash({ ...e, at: new Date(e.at) })).toBe(e.hash);
  }
  const pairs = lines.slice(1).map((e, i) => [lines[i], e] as const);
  for (const [before, e] of pairs) expect(e.seq).toBeGreaterThan(before.seq);
  // The slice leaves out other incidents' entries; where two of its entries are neighbours, they chain.
  const neighbours = pairs.filter(([before, e]) => e.seq === before.seq + 1);
  for (const [before, e] of neighbours) expect(e.prev_hash).toBe(before.hash);
  expect(neighbours.length).toBeGreaterThanOrEqual(Math.min(1, lines.length - 1));
  return lines;
}

describe.each(BACKENDS)('evidence export on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  let photo: ExportResult;
  let incidentId: string;
  let dir: string;
  const scanId = `SCAN-${backend}`;
  const raws: Buffer[] = [];

  /** Run the CLI with the PGlite vault closed meanwhile (the CLI takes its lock), and reopen it. */
  async function run(args: string[], cwd: string): Promise<CliResult> {
    if (backend === 'pglite') await h.vault.close();
    try {
      return await cradleInProcess(['--vault', h.vaultLocation, ...args], { cwd });
    } finally {
      if (backend === 'pglite') h.vault = await openDatabase(h.vaultLocation);
    }
  }

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 300, trapNumbers: 60 });
    dir = scratchDir('evidence');
    ({ photo } = await seedAndExport(h, dir, 'evidence'));
    const first = new Date(PLANTED.getTime() + 9 * DAY);
    for (const [i, c] of photo.canaries.slice(0, 3).entries()) {
      const body = `${c.family.mother.name.full}您好，宝宝写真免费拍摄，回电 ${CALLER}`;
      // What a provider would have posted: the caller's number in it, and bytes that are not UTF-8.
      const raw = Buffer.concat([Buffer.from(`MessageSid=SM${i}&From=${encodeURIComponent(CALLER)}&To=${encodeURIComponent(c.family.mother.phone!)}&Body=${encodeURIComponent(body)}&x=`), Buffer.from([0xff, 0x00, i])]);
      raws.push(raw);
      await vault.recordContact(h.vault, { source: 'generic', providerId: `SM${i}`, kind: 'sms', from: CALLER, to: c.family.mother.phone!, occurredAt: new Date(first.getTime() + i * DAY), body, raw });
    }
    const { hits } = await triagePending(h.vault);
    incidentId = hits[0].incidentId!;
    const [a, b] = photo.canaries;
    await h.vault.transaction((tx) =>
      vault.recordScanIncident(tx, scanId, 'scan of 1 file(s): 2 canaries found', {}, [{ file: 'dump.csv', sha256: 'cd'.repeat(32), bytes: 2048, format: 'csv', encoding: 'utf-8', records: 40, warnings: [] }], [
        { canaryId: a.id, file: 'dump.csv', place: 'line 3', column: '电话', kinds: ['phone', 'name'], matched: a.family.mother.phone!, confidence: 0.99, reason: 'phone and name' },
        { canaryId: b.id, file: 'dump.csv', place: 'line 9', column: null, kinds: ['phone'], matched: `${b.family.mother.phone} / ${CALLER}`, confidence: 0.9, reason: 'phone' },
      ]),
    );
  });
  afterAll(async () => h?.close());

  it('packs the raw events, manifests, reports, ledger slice and checksums of a hits incident, masked', async () => {
    const cwd = scratchDir('evidence-cli');
    const out = await run(['evidence', 'export', incidentId, '--out', 'bundle.tar.gz'], cwd);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const m = /^wrote bundle\.tar\.gz \((\d+) files, (\d+) bytes\) sha256 ([0-9a-f]{64}); ledger entry #(\d+)\n$/.exec(out.stdout);
    expect(m).not.toBeNull();
    const file = path.join(cwd, 'bundle.tar.gz');
    const bytes = fs.readFileSync(file);
    expect(bytes.length).toBe(Number(m![2]));
    expect(sha(bytes)).toBe(m![3]);
    expect(fs.readdirSync(cwd)).toEqual(['bundle.tar.gz']);

    const files = inside(await untar(file), incidentId);
    expect(files.size).toBe(Number(m![1]));
    const hits = await vault.incidentHits(h.vault, incidentId);
    const eventIds = [...new Set(hits.map((x) => Number(x.event_id)))].sort((a, b) => a - b);
    expect(eventIds).toHaveLength(3);
    expect([...files.keys()]).toEqual([
      'README.txt', 'incident.json', 'report.html', 'report.md', 'hits.json',
      ...eventIds.flatMap((id) => [`events/${id}.raw`, `events/${id}.json`]),
      `exports/${photo.id}.json`,
      'ledger.jsonl', 'ledger-head.txt', 'SHA256SUMS',
    ]);

    // SHA256SUMS: every other file, in sha256sum's format.
    const sums = files.get('SHA256SUMS')!.toString().trim().split('\n').map((l) => /^([0-9a-f]{64}) {2}(\S+)$/.exec(l)!);
    expect(sums.map((s) => s[2])).toEqual([...files.keys()].filter((p) => p !== 'SHA256SUMS'));
    for (const [, hex, p] of sums) expect(sha(files.get(p)!)).toBe(hex);

    // Each raw event is byte for byte what arrived, and re-hashes to the vault's sha256.
    for (const [i, id] of eventIds.entries()) {
      const contact = (await vault.getContact(h.vault, id))!;
      const raw = files.get(`events/${id}.raw`)!;
      expect(raw.equals(raws[i])).toBe(true);
      expect(sha(raw)).toBe(contact.sha256);
      const meta = JSON.parse(files.get(`events/${id}.json`)!.toString()) as Record<string, unknown>;
      expect(meta).toMatchObject({ id, source: 'generic', provider_id: `SM${i}`, kind: 'sms', from: '+*********0000', to: contact.to_address, sha256: contact.sha256, raw: `events/${id}.raw`, masked: true });
      expect(meta.occurred_at).toBe(contact.occurred_at.toISOString());
      // The raw bytes stay raw: the caller's number is in them.
      expect(raw.toString('latin1')).toContain(encodeURIComponent(CALLER));
    }

    // Masked everywhere but the raw events.
    const hitsJson = JSON.parse(files.get('hits.json')!.toString()) as { hitId: number; from: string; body: string; sha256: string; reasons: unknown[] }[];
    expect(hitsJson.map((x) => x.hitId).sort()).toEqual(hits.map((x) => Number(x.hit_id)).sort());
    for (const x of hitsJson) {
      expect(x.from).toBe('+*********0000');
      expect(x.reasons.length).toBeGreaterThan(0);
    }
    for (const p of ['hits.json', 'incident.json', 'report.md', 'report.html', ...eventIds.map((id) => `events/${id}.json`)]) expect(files.get(p)!.toString()).not.toContain(CALLER);
    const incident = JSON.parse(files.get('incident.json')!.toString()) as { incident: { id: string }; canaries: { id: string }[]; trace: { suspects: { label: string; export: { id: string } | null }[] } };
    expect(incident.incident.id).toBe(incidentId);
    expect(incident.canaries.map((c) => c.id).sort()).toEqual(photo.canaries.slice(0, 3).map((c) => c.id).sort());
    expect(incident.trace.suspects[0]).toMatchObject({ label: 'export:photo-studio', export: { id: photo.id } });
    const readme = files.get('README.txt')!.toString();
    expect(readme).toContain(incidentId);
    expect(readme).toContain('sha256sum -c SHA256SUMS');
    expect(readme).toMatch(/contain the callers' and senders' full numbers/);
    expect(readme).toMatch(/So do the "contact" entries of ledger.jsonl/);
    expect(files.get('ledger.jsonl')!.toString()).toContain(CALLER);

    // The export's manifest, never its rows: no patient's name, number or id from the file.
    const manifestText = files.get(`exports/${photo.id}.json`)!.toString();
    const manifest = JSON.parse(manifestText) as Record<string, unknown>;
    expect(manifest).toMatchObject({ id: photo.id, recipient: 'photo-studio', operator: 'n0412', file_name: path.basename(photo.file), sha256: photo.sha256, bytes: photo.bytes, rows: photo.rows, suspect_rank: 1 });
    expect((manifest.incident_canaries as string[]).sort()).toEqual(photo.canaries.slice(0, 3).map((c) => c.id).sort());
    const csv = parseCsv(fs.readFileSync(photo.file), { bom: true, relax_column_count: true }) as string[][];
    expect(csv.length - 1).toBeGreaterThanOrEqual(photo.rows);
    const cells = new Set(csv.slice(1).flat().map((c) => c.trim()).filter((c) => c.length >= 2 && !/^\d{1,4}$/.test(c) && !/^\d{4}-\d{2}-\d{2}/.test(c)));
    expect(cells.size).toBeGreaterThan(photo.rows);
    for (const cell of cells) expect(manifestText).not.toContain(cell);

    // The ledger slice: every entry re-hashes, consecutive ones chain; it covers the evidence.
    const lines = checkLedgerSlice(files.get('ledger.jsonl')!.toString());
    const kinds = (k: string) => lines.filter((e) => e.kind === k).map((e) => e.ref);
    expect(kinds('contact').sort()).toEqual(eventIds.map(String).sort());
    expect(new Set(kinds('hit'))).toEqual(new Set(hits.map((x) => String(x.hit_id))));
    expect(kinds('export')).toEqual([photo.id]);
    const reports = lines.filter((e) => e.kind === 'report').map((e) => e.content as { format: string; sha256: string });
    expect(reports.map((r) => r.format)).toEqual(['html', 'md']);
    expect(reports[0].sha256).toBe(sha(files.get('report.html')!));
    expect(reports[1].sha256).toBe(sha(files.get('report.md')!));

    // The head at export time, and the bundle recorded right after it.
    const [headSeq, headHash] = files.get('ledger-head.txt')!.toString().trim().split(' ');
    expect(Number(headSeq)).toBe(lines[lines.length - 1].seq);
    expect(headHash).toBe(lines[lines.length - 1].hash);
    expect(readme).toContain(headHash);
    const [entry] = await vault.ledgerEntries(h.vault, { fromSeq: Number(m![4]), toSeq: Number(m![4]) });
    expect(entry).toMatchObject({ kind: 'evidence', ref: incidentId, incident_id: incidentId, prev_hash: headHash });
    const content = entry.content as { sha256: string; bytes: number; unmasked: boolean; files: { path: string; sha256: string }[] };
    expect(content).toMatchObject({ sha256: m![3], bytes: bytes.length, unmasked: false });
    expect(content.files.map((f) => f.path)).toEqual([...files.keys()]);
    for (const f of content.files) expect(f.sha256).toBe(sha(files.get(f.path)!));

    // As a stranger would check it: GNU tar and sha256sum, and the README's Python recipe.
    const x = scratchDir('evidence-x');
    execFileSync('tar', ['-xzf', file, '-C', x]);
    const root = path.join(x, `evidence-${incidentId}`);
    expect(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: root }).toString()).not.toMatch(/FAILED/);
    const python = /\npython3 - <<'EOF'\n([^]*?)\nEOF\n/.exec(readme)![1];
    expect(execFileSync('python3', ['-c', python], { cwd: root }).toString()).toMatch(/^ledger slice intact, last entry \d+ [0-9a-f]{64}\n$/);
  });

  it('shows the callers with --unmasked, bundles a scan incident, and still verifies', async () => {
    const cwd = scratchDir('evidence-cli2');
    const out = await run(['evidence', 'export', incidentId, '--out', 'police.tar.gz', '--unmasked'], cwd);
    expect(out.code).toBe(0);
    const files = inside(await untar(path.join(cwd, 'police.tar.gz')), incidentId);
    const hitsJson = JSON.parse(files.get('hits.json')!.toString()) as { from: string; body: string }[];
    expect(hitsJson.every((x) => x.from === CALLER && x.body.includes(CALLER))).toBe(true);
    for (const p of [...files.keys()].filter((k) => /^events\/\d+\.json$/.test(k))) expect(JSON.parse(files.get(p)!.toString())).toMatchObject({ from: CALLER, masked: false });
    expect(files.get('report.md')!.toString()).toContain(CALLER);
    // The earlier bundle's entry is about the incident, so it is in this slice.
    const lines = checkLedgerSlice(files.get('ledger.jsonl')!.toString());
    expect(lines.filter((e) => e.kind === 'evidence')).toHaveLength(1);
    expect(lines.filter((e) => e.kind === 'report')).toHaveLength(4);

    const scan = await run(['evidence', 'export', scanId, '--out', 'scan.tar.gz', '--json'], cwd);
    expect(scan.code).toBe(0);
    const res = JSON.parse(scan.stdout) as { sha256: string; files: { path: string }[]; ledgerSeq: number };
    const scanFiles = inside(await untar(path.join(cwd, 'scan.tar.gz')), scanId);
    expect(res.files.map((f) => f.path)).toEqual([...scanFiles.keys()]);
    expect([...scanFiles.keys()]).toEqual(['README.txt', 'incident.json', 'report.html', 'report.md', 'hits.json', `exports/${photo.id}.json`, 'scan/files.json', 'scan/matches.json', 'ledger.jsonl', 'ledger-head.txt', 'SHA256SUMS']);
    expect(JSON.parse(scanFiles.get('scan/files.json')!.toString())).toEqual([{ file: 'dump.csv', sha256: 'cd'.repeat(32), bytes: 2048, format: 'csv', encoding: 'utf-8', records: 40 }]);
    const matches = JSON.parse(scanFiles.get('scan/matches.json')!.toString()) as { matched: string }[];
    expect(matches[1].matched).toBe(`${photo.canaries[1].family.mother.phone} / +*********0000`);
    const scanLines = checkLedgerSlice(scanFiles.get('ledger.jsonl')!.toString());
    expect(scanLines.filter((e) => e.kind === 'scan').map((e) => e.ref)).toEqual([scanId]);

    const verify = await run(['verify'], cwd);
    expect(verify.stdout).toMatch(/chain intact/);
    expect(verify.code).toBe(0);
  });

  it('refuses an unknown incident and a missing directory in one line, writing nothing', async () => {
    const cwd = scratchDir('evidence-err');
    const before = await vault.ledgerHead(h.vault);
    const missing = await run(['evidence', 'export', 'INC-NOPE', '--out', 'x.tar.gz'], cwd);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('cradle: no incident INC-NOPE; list them with `cradle incidents`\n');
    const noDir = await run(['evidence', 'export', incidentId, '--out', 'nowhere/x.tar.gz'], cwd);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toBe(`cradle: cannot write nowhere/x.tar.gz: no directory ${path.join(cwd, 'nowhere')}\n`);
    fs.mkdirSync(path.join(cwd, 'adir'));
    const isDir = await run(['evidence', 'export', incidentId, '--out', 'adir'], cwd);
    expect(isDir.code).toBe(1);
    expect(isDir.stderr).toBe('cradle: --out adir is a directory; give a file name\n');
    expect(fs.readdirSync(cwd)).toEqual(['adir']);
    expect(Number((await vault.ledgerHead(h.vault))!.seq)).toBe(Number(before!.seq));
    const help = await run(['evidence', 'export', '--help'], cwd);
    expect(help.stdout).toContain('cradle evidence export INC-7Q2KX9 --out INC-7Q2KX9.tar.gz');
  });
});
