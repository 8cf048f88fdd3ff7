import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { importAccessLog } from '../../src/accesslog/import.js';
import { loadMigrations, migrate, openDatabase, type Database } from '../../src/db/index.js';
import { runExport } from '../../src/exports/export.js';
import { verifyVault, type EvidenceProblem, type VerifyReport } from '../../src/ledger/verify.js';
import { runScan } from '../../src/scan/scan.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import { traceIncident } from '../../src/trace/trace.js';
import { triagePending } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { cradleInProcess } from '../helpers/cli.js';
import { BACKENDS, newDatabase, scratchDir, type TestLocation } from '../helpers/db.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';

// What decides who is blamed is sealed (issue 13, defect 7): every row the trace reads (exposures,
// channels, canaries, export rows and codewords, incidents, contact metadata, tripwires, access events
// as stored in their blocks) has a `rows` entry in the ledger, so `cradle verify` names any row
// inserted, changed or deleted behind Cradle's back: the table, the row key and the entry.

describe.each(BACKENDS)('sealed attribution rows on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  let canaries: vault.CanaryRow[];
  let exportId: string;
  let scanIncident: string;
  let hitIncident: string;
  let contactId: number;
  const verify = () => verifyVault(h.vault, { pageSize: 4 }); // small pages: the paging is exercised too

  /** Tamper, check that verify fails naming exactly these rows, undo, check that verify passes again. */
  const expectNamed = async (tamper: () => Promise<void>, undo: () => Promise<void>, named: Partial<EvidenceProblem>[]) => {
    await tamper();
    let r: VerifyReport;
    try {
      r = await verify();
    } finally {
      await undo();
    }
    expect(r.ok).toBe(false);
    expect(r.ledger.intact).toBe(true);
    expect(r.evidence.problems).toEqual(named.map((p) => expect.objectContaining(p)));
    const again = await verify();
    expect(again.evidence.problems).toEqual([]);
    expect(again.ok).toBe(true);
    return r;
  };

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 120, trapNumbers: 40 });
    const dir = scratchDir('attribution');
    const now = new Date();
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 4, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W48', ...birthWindow(now), seed: 'attribution' });
    canaries = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    const out = path.join(dir, 'births.csv');
    exportId = (await runExport(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, channel: { kind: 'export', name: 'photo-vendor' }, out, params: [], columnFields: {}, now, canaries: 2, operator: 'n0412' })).id;
    scanIncident = (await runScan(h.vault, [out])).incidentId!;
    // A contact with headers and a remote address, triaged into a hit incident.
    contactId = (
      await vault.recordContact(h.vault, {
        source: 'generic', providerId: 'a1', kind: 'sms', from: '+8613312345678', to: canaries[0].family.mother.phone!, occurredAt: new Date(),
        body: '您好，宝宝写真免费拍摄', remoteAddr: '203.0.113.7', headers: { 'user-agent': 'carrier/1.0' }, raw: Buffer.from('a1'),
      })
    ).id;
    const triaged = await triagePending(h.vault, { actor: 'watch' });
    expect(triaged.ignored).toEqual([]);
    hitIncident = triaged.hits[0].incidentId!;
    // An access log in which nurse42 opens canary 1's record.
    const log = path.join(dir, 'access.csv');
    fs.writeFileSync(log, `event_time,operator,op,patient_id,client_ip\n2026-11-03 09:41:07,nurse42,view,${String(canaries[1].target_keys!.birth.birth_id)},10.0.0.5\n2026-11-03 09:42:00,nurse42,view,1,10.0.0.5\n`);
    await importAccessLog(h.vault, log, {
      hospital: h.hospital.name, format: 'csv', timeZone: 'Asia/Shanghai', alertChannels: [], batchRows: 1, // a block per line
      map: { ts: 'event_time', user: 'operator', action: 'op', record: 'patient_id', ip: 'client_ip' }, recordKey: { alias: 'birth', table: 'births', column: 'birth_id' },
    });
  });
  afterAll(async () => h?.close());

  it('seals every row the trace reads as it is written: the ordinary flows verify clean', async () => {
    const r = await verify();
    expect(r.evidence.problems).toEqual([]);
    expect(r.ok).toBe(true);
    const count = async (table: string) => (await h.vault.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
    expect(r.evidence.byTable).toEqual({
      incidents: 2,
      canaries: await count('canaries'),
      channels: await count('channels'),
      exposures: await count('exposures'),
      export_rows: 2,
      export_codewords: 0,
      code_pools: 0,
      contact_events: 1,
      tripwires: 1,
      access_blocks: 2,
    });
    expect(r.evidence.rowsBaseline).toBeNull();
    // One entry per write, not one per row: each import batch sealed its block in one.
    const rows = await vault.ledgerEntries(h.vault, { kind: 'rows' });
    expect(rows.filter((e) => e.ref === 'access_blocks')).toHaveLength(2);
    const planted = (await h.vault.query<{ id: number }>(`SELECT id FROM exposures WHERE source = 'seed' ORDER BY id`)).rows.map((e) => String(e.id));
    expect(rows.filter((e) => e.ref === 'exposures').map((e) => Object.keys((e.content as { rows: object }).rows).sort((a, b) => Number(a) - Number(b)))).toContainEqual(planted);
  });

  it('names a framing exposure of an innocent account, and the trace it would have skewed', async () => {
    const { rows: ch } = await h.vault.query<{ id: number }>(`INSERT INTO channels (hospital, kind, name) VALUES ($1, 'account', 'innocent') RETURNING id`, [h.hospital.name]);
    const scanned = (await h.vault.query<{ canary_id: string }>(`SELECT DISTINCT canary_id FROM scan_matches WHERE incident_id = $1`, [scanIncident])).rows.map((r) => r.canary_id);
    const { rows: ex } = await h.vault.query<{ id: number }>(
      `INSERT INTO exposures (canary_id, channel_id, exposed_at, source) SELECT c, $1, now() - interval '30 days', 'access-log' FROM unnest($2::text[]) c RETURNING id`,
      [ch[0].id, scanned],
    );
    try {
      // What the forgery does: the innocent account becomes a suspect.
      const trace = await traceIncident(h.vault, scanIncident);
      expect(trace.suspects.map((s) => s.label)).toContain('account:innocent');
      const r = await verify();
      expect(r.ok).toBe(false);
      expect(r.evidence.problems).toEqual([
        expect.objectContaining({ kind: 'channels', ref: String(ch[0].id), seq: null, problem: 'unrecorded', detail: expect.stringMatching(/is not in the ledger/) }),
        ...ex.map((e) => expect.objectContaining({ kind: 'exposures', ref: String(e.id), seq: null, problem: 'unrecorded' })),
      ]);
      // Through the CLI: exit 1, naming the table and the row.
      const location = h.vaultLocation;
      if (backend === 'pglite') await h.vault.close(); // the CLI opens the embedded vault itself
      try {
        const res = await cradleInProcess(['verify', '--vault', location], { cwd: scratchDir('verify-framing') });
        expect(res.code).toBe(1);
        expect(res.stdout).toContain(`exposures ${ex[0].id}: is not in the ledger`);
        expect(res.stdout).toContain(`channels ${ch[0].id}: is not in the ledger`);
        const json = await cradleInProcess(['verify', '--vault', location, '--json'], { cwd: scratchDir('verify-framing') });
        expect(json.code).toBe(1);
        expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, evidence: { problems: expect.arrayContaining([expect.objectContaining({ kind: 'exposures', ref: String(ex[0].id) })]) } });
      } finally {
        if (backend === 'pglite') h.vault = await openDatabase(location);
      }
    } finally {
      await h.vault.query(`DELETE FROM exposures WHERE id = ANY($1::bigint[])`, [ex.map((e) => e.id)]);
      await h.vault.query(`DELETE FROM channels WHERE id = $1`, [ch[0].id]);
    }
    expect((await verify()).ok).toBe(true);
  });

  it('names a deleted or changed exposure', async () => {
    const [e] = (await h.vault.query<Record<string, unknown> & { id: number }>(`SELECT * FROM exposures WHERE source = 'access-log'`)).rows;
    const [entry] = (await vault.ledgerEntries(h.vault, { kind: 'rows', refs: ['exposures'] })).filter((x) => String(e.id) in (x.content as { rows: object }).rows).slice(-1);
    const restore = () =>
      h.vault.query(`INSERT INTO exposures (id, canary_id, channel_id, exposed_at, source, detail) VALUES ($1, $2, $3, $4, $5, $6)`, [e.id, e.canary_id, e.channel_id, e.exposed_at, e.source, JSON.stringify(e.detail)]);
    await expectNamed(() => h.vault.query(`DELETE FROM exposures WHERE id = $1`, [e.id]).then(() => undefined), () => restore().then(() => undefined), [
      { kind: 'exposures', ref: String(e.id), seq: entry.seq, problem: 'missing', detail: `is missing from the vault, but ledger entry #${entry.seq} records it` },
    ]);
    await expectNamed(
      () => h.vault.query(`UPDATE exposures SET exposed_at = exposed_at - interval '1 day' WHERE id = $1`, [e.id]).then(() => undefined),
      () => h.vault.query(`UPDATE exposures SET exposed_at = $2 WHERE id = $1`, [e.id, e.exposed_at]).then(() => undefined),
      [{ kind: 'exposures', ref: String(e.id), seq: entry.seq, problem: 'mismatch', detail: `does not match ledger entry #${entry.seq} (the row was changed)` }],
    );
  });

  it('names an access event edited inside its stored block, and a tripwire edited', async () => {
    const [b] = (await h.vault.query<{ id: number; events: string }>(`SELECT id, events FROM access_blocks ORDER BY id DESC LIMIT 1`)).rows;
    await expectNamed(
      () => h.vault.query(`UPDATE access_blocks SET events = replace(events, 'nurse42', 'nurse43') WHERE id = $1`, [b.id]).then(() => undefined),
      () => h.vault.query(`UPDATE access_blocks SET events = $2 WHERE id = $1`, [b.id, b.events]).then(() => undefined),
      [{ kind: 'access_blocks', ref: String(b.id), problem: 'mismatch' }],
    );
    const [t] = (await h.vault.query<{ id: number; account: string }>(`SELECT id, account FROM tripwires`)).rows;
    await expectNamed(
      () => h.vault.query(`UPDATE tripwires SET account = 'nurse43' WHERE id = $1`, [t.id]).then(() => undefined),
      () => h.vault.query(`UPDATE tripwires SET account = $2 WHERE id = $1`, [t.id, t.account]).then(() => undefined),
      [{ kind: 'tripwires', ref: String(t.id), problem: 'mismatch' }],
    );
  });

  it("names an export row moved to another position, and a canary's planting time changed", async () => {
    const [r] = (await h.vault.query<{ canary_id: string; row_number: number }>(`SELECT canary_id, row_number FROM export_rows WHERE export_id = $1 ORDER BY row_number LIMIT 1`, [exportId])).rows;
    await expectNamed(
      () => h.vault.query(`UPDATE export_rows SET row_number = row_number + 7 WHERE export_id = $1 AND canary_id = $2`, [exportId, r.canary_id]).then(() => undefined),
      () => h.vault.query(`UPDATE export_rows SET row_number = $3 WHERE export_id = $1 AND canary_id = $2`, [exportId, r.canary_id, r.row_number]).then(() => undefined),
      [{ kind: 'export_rows', ref: `${exportId}:${r.canary_id}`, problem: 'mismatch' }],
    );
    const c = canaries[2];
    await expectNamed(
      () => h.vault.query(`UPDATE canaries SET planted_at = planted_at - interval '60 days' WHERE id = $1`, [c.id]).then(() => undefined),
      () => h.vault.query(`UPDATE canaries SET planted_at = $2 WHERE id = $1`, [c.id, c.planted_at]).then(() => undefined),
      [{ kind: 'canaries', ref: c.id, problem: 'mismatch' }],
    );
  });

  it("names a contact's headers, remote address or provider id changed", async () => {
    const [c] = (await h.vault.query<{ headers: unknown; remote_addr: string; provider_id: string }>(`SELECT headers, remote_addr, provider_id FROM contact_events WHERE id = $1`, [contactId])).rows;
    const undo = () => h.vault.query(`UPDATE contact_events SET headers = $2, remote_addr = $3, provider_id = $4 WHERE id = $1`, [contactId, JSON.stringify(c.headers), c.remote_addr, c.provider_id]).then(() => undefined);
    await expectNamed(() => h.vault.query(`UPDATE contact_events SET headers = '{"user-agent":"forged"}' WHERE id = $1`, [contactId]).then(() => undefined), undo, [
      { kind: 'contact_events', ref: String(contactId), problem: 'mismatch' },
    ]);
    await expectNamed(() => h.vault.query(`UPDATE contact_events SET remote_addr = '198.51.100.1' WHERE id = $1`, [contactId]).then(() => undefined), undo, [
      { kind: 'contact_events', ref: String(contactId), problem: 'mismatch' },
    ]);
    // The provider id was sealed already (the contact entry); now by the row as well.
    await expectNamed(() => h.vault.query(`UPDATE contact_events SET provider_id = 'forged' WHERE id = $1`, [contactId]).then(() => undefined), undo, [
      { kind: 'contact', ref: String(contactId), problem: 'mismatch' },
      { kind: 'contact_events', ref: String(contactId), problem: 'mismatch' },
    ]);
  });

  it("names an incident's status or title changed", async () => {
    for (const id of [hitIncident, scanIncident]) {
      const [i] = (await h.vault.query<{ status: string; title: string }>(`SELECT status, title FROM incidents WHERE id = $1`, [id])).rows;
      const undo = () => h.vault.query(`UPDATE incidents SET status = $2, title = $3 WHERE id = $1`, [id, i.status, i.title]).then(() => undefined);
      await expectNamed(() => h.vault.query(`UPDATE incidents SET status = 'closed' WHERE id = $1`, [id]).then(() => undefined), undo, [{ kind: 'incidents', ref: id, problem: 'mismatch' }]);
      await expectNamed(() => h.vault.query(`UPDATE incidents SET title = 'nothing to see' WHERE id = $1`, [id]).then(() => undefined), undo, [{ kind: 'incidents', ref: id, problem: 'mismatch' }]);
    }
  });
});

describe.each(BACKENDS)('a vault upgraded to sealed rows on %s', (backend) => {
  let loc: TestLocation;
  let db: Database;

  /** A vault at migration 008 holding a canary, a channel, an exposure and an incident: what an upgrade finds. */
  beforeAll(async () => {
    loc = await newDatabase(backend, 'upgrade');
    db = await openDatabase(loc.location);
    await migrate(db, loadMigrations().filter((m) => m.version <= 8));
    await db.query(`INSERT INTO hospitals (name, locale) VALUES ('h1', 'zh-CN')`);
    await db.query(`INSERT INTO seed_batches (id, hospital, channels, state, requested) VALUES ('b1', 'h1', '[]', 'planted', 1)`);
    await db.query(`INSERT INTO canaries (id, hospital, batch_id, status, iso_week, ward, family, mother_name, planted_at) VALUES ('C1', 'h1', 'b1', 'planted', '2026-W40', 'NICU', '{"x":1}', '王芳', now())`);
    await db.query(`INSERT INTO channels (id, hospital, kind, name) VALUES (1, 'h1', 'account', 'nurse42')`);
    await db.query(`INSERT INTO exposures (canary_id, channel_id, exposed_at, source) VALUES ('C1', 1, now(), 'access-log')`);
    await db.query(`INSERT INTO incidents (id, source, title) VALUES ('i1', 'hits', 'sms to canary C1')`);
  });
  afterAll(async () => {
    await db?.close();
    await loc?.cleanup();
  });

  it('asks for a baseline seal of what was there; the CLI writes it once; later rows are checked', async () => {
    await migrate(db);
    const before = await verifyVault(db);
    expect(before.evidence.rowsBaseline).toBe('pending');
    expect(before.ok).toBe(false); // a pending baseline excuses nothing
    expect(before.evidence.problems.map((p) => `${p.kind} ${p.ref}`).sort()).toEqual(['canaries C1', 'channels 1', 'exposures 1', 'incidents i1']);

    // Any CLI command with write access writes the baseline once (verify itself, here).
    if (backend === 'pglite') await db.close();
    const res = await cradleInProcess(['verify', '--vault', loc.location], { cwd: scratchDir('upgrade') });
    if (backend === 'pglite') db = await openDatabase(loc.location);
    expect(res.stdout).toMatch(/^baseline: rows written before migration 010 were sealed at \S+ \(entry #1\)/m);
    expect(res.code).toBe(0);
    expect(await vault.sealRowsBaseline(db)).toBe(0);
    const after = await verifyVault(db);
    expect(after.ok).toBe(true);
    expect(after.evidence.rowsBaseline).toMatchObject({ seq: 1 });
    expect(after.evidence.byTable).toMatchObject({ canaries: 1, channels: 1, exposures: 1, incidents: 1 });
    const [entry] = await vault.ledgerEntries(db, { kind: 'rows', limit: 1 });
    expect(entry).toMatchObject({ actor: 'baseline', content: { baseline: true } });

    // Rows written after the baseline have no excuse; a marker planted again gets nothing sealed.
    await db.query(`INSERT INTO exposures (canary_id, channel_id, exposed_at, source) VALUES ('C1', 1, now(), 'access-log')`);
    await db.query(`UPDATE ledger_rows_baseline SET sealed_seq = NULL`);
    expect(await vault.sealRowsBaseline(db)).toBe(0);
    const framed = await verifyVault(db);
    expect(framed.ok).toBe(false);
    expect(framed.evidence.problems).toEqual([expect.objectContaining({ kind: 'exposures', ref: '2', problem: 'unrecorded' })]);
  });
});
