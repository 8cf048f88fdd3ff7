import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { importAccessLog } from '../../src/accesslog/import.js';
import type { ExportResult } from '../../src/exports/export.js';
import { traceIncident } from '../../src/trace/trace.js';
import { triagePending } from '../../src/triage/triage.js';
import { UNKNOWN_SOURCE } from '../../src/trace/model.js';
import { recordKeyColumn } from '../../src/targetdb/index.js';
import * as vault from '../../src/vault/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { scratchDir } from '../helpers/db.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';
import { DAY, PLANTED, seedAndExport } from '../helpers/leak.js';
import { describeEachTarget, schemaOf, TARGET_CASES } from '../helpers/targets.js';

// `cradle trace` on a real vault: the export or the account behind an incident's hits, with its
// evidence, on PGlite, PostgreSQL and with a MariaDB target; and the CLI's output.


describeEachTarget(TARGET_CASES, 'trace on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  let seeded: vault.CanaryRow[];
  let photo: ExportResult;
  let dir: string;
  let sms = 0;
  const text = async (c: { family: { mother: { phone?: string | null; name: { full: string } } } }, from: string, at: Date, script: string) => {
    await vault.recordContact(h.vault, { source: 'generic', providerId: `t${sms++}`, kind: 'sms', from, to: c.family.mother.phone!, occurredAt: at, body: `${c.family.mother.name.full}${script}`, raw: Buffer.from(String(sms)) });
  };

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: schemaOf(backend), population: 300, trapNumbers: 60 });
    dir = scratchDir('trace');
    ({ photo } = await seedAndExport(h, dir, 'trace'));
    seeded = (await vault.listCanaries(h.vault, { hospital: h.hospital.name })).filter((c) => c.batch_id !== null);
  });
  afterAll(async () => h?.close());

  it('names the export whose own canaries were contacted, with its file, operator and window', async () => {
    const firstContact = new Date(PLANTED.getTime() + 9 * DAY);
    for (const [i, c] of photo.canaries.slice(0, 3).entries()) await text(c, '+8613311110000', new Date(firstContact.getTime() + i * 3_600_000), '您好，宝宝写真免费拍摄');
    const { hits } = await triagePending(h.vault);
    const report = await traceIncident(h.vault, hits[0].incidentId!);
    expect(report.canaries).toHaveLength(3);
    const [top] = report.suspects;
    expect(top).toMatchObject({ kind: 'export', label: 'export:photo-studio', export: { id: photo.id, recipient: 'photo-studio', operator: 'n0412', sha256: photo.sha256 } });
    // The file also held the 8 seeded canaries: it saw 13 of the vault's 18, so "unknown source" (a
    // leak of any 3 of the 18) keeps about a tenth.
    expect(top.posterior).toBeGreaterThan(0.85);
    expect(top.explains.sort()).toEqual(photo.canaries.slice(0, 3).map((c) => c.id).sort());
    expect(top.window!.to.toISOString()).toBe(firstContact.toISOString());
    expect(report.suspects.map((s) => s.key)).toContain(UNKNOWN_SOURCE);
    // The other export never saw these canaries: it is no candidate at all.
    expect(report.suspects.some((s) => s.label === 'export:insurer')).toBe(false);
  });

  it('names the account that opened seeded canaries one by one, with its log lines', async () => {
    const [a, b, c] = seeded;
    // The log names records by the mapping's record key (births.birth_id; XSE_JBXX.XSEID on the HIS schema).
    const recordKey = recordKeyColumn(h.mapping)!;
    const key = (x: vault.CanaryRow) => String(x.target_keys![recordKey.alias][recordKey.column]);
    const log = path.join(dir, 'audit.csv');
    fs.writeFileSync(
      log,
      ['ts,user,action,record', `2026-11-05 10:00:00,nurse42,view,${key(a)}`, `2026-11-05 10:02:00,nurse42,view,${key(b)}`, `2026-11-05 10:03:00,nurse42,print,${key(c)}`, `2026-11-05 11:00:00,nurse07,view,${key(a)}`].join('\n') + '\n',
    );
    await importAccessLog(h.vault, log, { hospital: h.hospital.name, format: 'csv', timeZone: 'Asia/Shanghai', recordKey, alertChannels: [] });
    const at = new Date(PLANTED.getTime() + 10 * DAY);
    for (const x of [a, b, c]) await text(x, '+8613322220000', at, '女士，奶粉试用装已寄出，请留意快递电话');
    const { hits } = await triagePending(h.vault);
    const report = await traceIncident(h.vault, hits[0].incidentId!);
    const [top] = report.suspects;
    expect(top).toMatchObject({ kind: 'account', label: 'account:nurse42' });
    expect(top.explains.sort()).toEqual([a.id, b.id, c.id].sort());
    expect(top.logLines.map((l) => [l.action, l.line])).toEqual([['view', 2], ['view', 3], ['print', 4]]);
    expect(top.window!.from.toISOString()).toBe('2026-11-05T02:03:00.000Z');
    // The hospital system saw every canary, so it explains the hits too, but far less sharply.
    const his = report.suspects.find((s) => s.label === 'system:his')!;
    expect(his.explains).toHaveLength(3);
    expect(his.posterior).toBeLessThan(top.posterior);
  });

  it('traces a scan incident from its evidence, one recorded with a ranking in its title too', async () => {
    // As scans recorded them before the ranking moved to the trace: the title and summary name a source.
    // The summary lists every canary found; the matches kept may be fewer (a scan keeps MAX_KEPT).
    const id = 'oldscan001';
    const [x, y, z] = photo.canaries;
    const found = [x, y, z].map((c) => ({ id: c.id, confidence: 0.99, matches: 1 }));
    await h.vault.transaction((tx) =>
      vault.recordScanIncident(tx, id, `scan of 1 file(s): 3 canaries found, most likely from export:insurer`, { canaries: found, weak: 0, sources: [{ source: 'export:insurer', posterior: 0.99 }] },
        [{ file: 'dump.csv', sha256: 'ab'.repeat(32), bytes: 100, format: 'csv', encoding: 'utf-8', records: 3, warnings: [] }],
        [{ canaryId: x.id, file: 'dump.csv', place: 'line 2', column: 'phone', kinds: ['phone'], matched: '…', confidence: 0.99, reason: 'phone' }]),
    );
    const report = await traceIncident(h.vault, id);
    expect(report.incident.title).toContain('most likely from export:insurer');
    expect(report.canaries.map((c) => c.canary_id).sort()).toEqual([x.id, y.id, z.id].sort());
    expect(report.suspects[0]).toMatchObject({ kind: 'export', label: 'export:photo-studio' });
  });

  it('traces through the CLI, as text and as JSON, and refuses an unknown incident', async () => {
    const [incident] = (await vault.listIncidents(h.vault)).filter((i) => i.source === 'hits');
    // The vault is embedded (one process at a time) but on PostgreSQL.
    const embeddedVault = backend !== 'postgres';
    if (embeddedVault) await h.vault.close();
    try {
      const cwd = scratchDir('trace-cli');
      const out = await cradleInProcess(['--vault', h.vaultLocation, 'trace', incident.id], { cwd });
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/^incident \S+ \(hits\): 3 canaries, planted in 2026-W45/);
      expect(out.stdout).toMatch(/\n1\s+(export:photo-studio|account:nurse42)\s/);
      const data = json<{ suspects: { key: string; posterior: number }[] }>(await cradleInProcess(['--vault', h.vaultLocation, 'trace', incident.id, '--json'], { cwd }));
      expect(data.suspects.reduce((s, x) => s + x.posterior, 0)).toBeLessThanOrEqual(1.000001);
      const missing = await cradleInProcess(['--vault', h.vaultLocation, 'trace', 'INC-NOPE'], { cwd });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe('cradle: no incident INC-NOPE; list them with `cradle incidents`\n');
    } finally {
      if (embeddedVault) h.vault = await (await import('../../src/db/index.js')).openDatabase(h.vaultLocation);
    }
  });
});
