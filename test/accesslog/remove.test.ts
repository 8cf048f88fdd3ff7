import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { importAccessLog, type ImportAccessOptions } from '../../src/accesslog/import.js';
import { removeImport } from '../../src/accesslog/remove.js';
import { verifyVault } from '../../src/ledger/verify.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import { triagePending } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { count, createTestHospital, type TestHospital } from '../helpers/hospital.js';

// Taking an access-log import back (src/vault/access-imports.ts): what it stored goes in one
// transaction, pending alerts are cancelled, the ledger records each deleted row and the removal,
// `verify` passes, and the dedup keys are freed so a corrected file counts each event once.

const HEADER = 'ts,staff,module,op,mrn';

describe.each(BACKENDS)('removing an access-log import on %s', (backend) => {
  let h: TestHospital;
  let canaries: vault.CanaryRow[];
  let dir: string;
  let file: string;
  const key = (c: vault.CanaryRow) => String(c.target_keys!.birth.birth_id);
  /** The log read with `action` from the module column (wrong: every line bulk) or from the op column. */
  const options = (action: 'module' | 'op'): ImportAccessOptions => ({
    hospital: h.hospital.name,
    format: 'csv',
    timeZone: 'Asia/Shanghai',
    map: { ts: 'ts', user: 'staff', action, record: 'mrn' },
    recordKey: { alias: 'birth', table: 'births', column: 'birth_id' },
    alertChannels: ['email'],
    actor: 'tester',
  });
  const counts = async () => ({
    events: await count(h.vault, 'SELECT 1 FROM access_events'),
    tripwires: await count(h.vault, 'SELECT 1 FROM tripwires'),
    single: await count(h.vault, `SELECT 1 FROM tripwires WHERE scope = 'single'`),
    exposures: await count(h.vault, `SELECT 1 FROM exposures WHERE source = 'access-log'`),
    channels: await count(h.vault, `SELECT 1 FROM channels WHERE kind = 'account'`),
    pending: await count(h.vault, `SELECT 1 FROM alert_outbox WHERE state = 'pending'`),
  });

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 60, trapNumbers: 12 });
    const now = new Date('2026-11-02T00:00:00Z');
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 3, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W45', ...birthWindow(now), seed: 'remove' });
    canaries = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    // A hit (and its incident) on the first canary: a removal leaves it as it is.
    await vault.recordContact(h.vault, { source: 'generic', providerId: 'r1', kind: 'sms', from: '+8613312345678', to: canaries[0].family.mother.phone!, occurredAt: new Date(), body: `${canaries[0].family.mother.name.full}您好`, raw: Buffer.from('r1') });
    await triagePending(h.vault, { actor: 'watch' });
    dir = scratchDir('access-remove');
    file = path.join(dir, 'his-audit.csv');
    const [a, b, c] = canaries;
    fs.writeFileSync(
      file,
      [
        HEADER,
        `2026-11-03 08:00:00,n01,chart,view,1`,
        `2026-11-03 08:01:00,n42,chart,view,${key(a)}`,
        `2026-11-03 08:02:00,c03,ward-list,list,${key(a)};${key(b)};2`,
        `2026-11-03 08:03:00,n42,chart,print,${key(c)}`,
        `2026-11-03 08:04:00,n01,chart,view,3`,
      ].join('\n') + '\n',
    );
  });
  afterAll(async () => h?.close());

  it('takes a wrongly mapped import back in one transaction, sealed, and a corrected one then counts once', async () => {
    const before = await counts();
    const wrong = await importAccessLog(h.vault, file, options('module'));
    expect(wrong).toMatchObject({ added: 5, tripwires: 4, alerts: 0 });
    // The corrected import without a removal: the same lines are other events, so they count twice (the issue).
    const right = await importAccessLog(h.vault, file, options('op'));
    expect(right).toMatchObject({ added: 5, duplicates: 0, tripwires: 4, alerts: 2 });
    expect((await counts()).exposures).toBe(before.exposures + 8);

    await h.vault.query(`UPDATE alert_outbox SET state = 'sent', sent_at = now() WHERE id = (SELECT min(id) FROM alert_outbox WHERE tripwire_id IS NOT NULL)`);
    const removed = await removeImport(h.vault, String(wrong.importId), { reason: 'module column mapped as the action', actor: 'auditor1' });
    expect(removed.counts).toEqual({ events: 5, blocks: 1, tripwires: 4, exposures: 4, channels: 0, rejects: 0, alerts_cancelled: 0, alerts_kept: 0 });
    expect(removed.leaves.incidents).toHaveLength(1);
    expect(removed.leaves.laterDuplicates).toEqual([]);
    expect(removed.import).toMatchObject({ state: 'removed', removed_by: 'auditor1', removal_reason: 'module column mapped as the action', tripwires: 4 });
    // Now as one correct import alone: 2 single-record tripwires, 4 exposures.
    const after = await counts();
    expect(after).toMatchObject({ events: before.events + 5, tripwires: 4, single: 2, exposures: before.exposures + 4 });
    // The ledger says what went, who and why; verify passes.
    expect(removed.entry).toMatchObject({
      kind: 'import',
      ref: String(wrong.importId),
      actor: 'auditor1',
      content: { id: wrong.importId, sha256: removed.import.sha256, added: 5, tripwires: 0, removed: { by: 'auditor1', reason: 'module column mapped as the action', events: 5, tripwires: 4, exposures: 4 } },
    });
    const rows = await vault.ledgerEntries(h.vault, { fromSeq: removed.entry.seq - 10, kind: 'rows' });
    const deleted = (table: string) => rows.filter((e) => e.ref === table).flatMap((e) => Object.entries((e.content as { rows: Record<string, string | null> }).rows).filter(([, v]) => v === null));
    expect(deleted('tripwires')).toHaveLength(4);
    expect(deleted('exposures')).toHaveLength(4);
    expect(deleted('access_blocks')).toHaveLength(1);
    const report = await verifyVault(h.vault);
    expect(report.evidence.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.evidence.byKind.import).toBe(2);

    // The right import removed too (its pending alert cancelled, the sent one kept, its channels gone),
    // then the same file with the same options imported again: its events are stored afresh.
    const second = await removeImport(h.vault, String(right.importId), { reason: 'test' });
    expect(second.counts).toMatchObject({ events: 5, tripwires: 4, exposures: 4, channels: 2, alerts_cancelled: 1, alerts_kept: 1 });
    expect(await counts()).toMatchObject({ events: before.events, tripwires: 0, exposures: before.exposures, channels: before.channels, pending: before.pending });
    const outbox = await h.vault.query<{ state: string; tripwire_id: number | null; last_error: string | null }>(`SELECT state, tripwire_id, last_error FROM alert_outbox WHERE payload->>'type' = 'tripwire' ORDER BY id`);
    expect(outbox.rows).toEqual([
      { state: 'sent', tripwire_id: null, last_error: null },
      { state: 'cancelled', tripwire_id: null, last_error: `cancelled: access-log import ${right.importId} was removed (test)` },
    ]);
    const again = await importAccessLog(h.vault, file, options('op'));
    expect(again).toMatchObject({ alreadyImported: false, added: 5, duplicates: 0, tripwires: 4, alerts: 2 });
    expect(again.importId).not.toBe(right.importId);
    expect(await counts()).toMatchObject({ events: before.events + 5, tripwires: 4, single: 2, exposures: before.exposures + 4 });
    expect((await verifyVault(h.vault)).ok).toBe(true);

    // Listed with their state; the file names the one import not removed.
    const list = await vault.listAccessImports(h.vault, h.hospital.name);
    expect(list.map((i) => [i.id, i.state, i.tripwires])).toEqual([
      [wrong.importId, 'removed', 4],
      [right.importId, 'removed', 4],
      [again.importId, 'done', 4],
    ]);
    expect((await vault.findAccessImport(h.vault, 'his-audit.csv')).id).toBe(again.importId);
    const detail = await vault.accessImportDetail(h.vault, again.importId);
    expect(detail).toMatchObject({ blocks: 1, events: 5, single: 2, bulk: 2, accounts: 2, canaries: 3, alerts: { pending: 2 } });
  });

  it('refuses an import removed already, one running, and an unknown one; a changed removal is named by verify', async () => {
    const [first] = await vault.listAccessImports(h.vault, h.hospital.name);
    await expect(removeImport(h.vault, String(first.id), { reason: 'again' })).rejects.toThrow(/was removed already, at .* by auditor1: module column mapped as the action/);
    await expect(removeImport(h.vault, '999', { reason: 'x' })).rejects.toThrow('no access-log import 999 in the vault');
    await expect(removeImport(h.vault, 'nope.csv', { reason: 'x' })).rejects.toThrow(/no access-log import of a file "nope.csv"/);
    const live = (await vault.listAccessImports(h.vault)).find((i) => i.state === 'done')!;
    await expect(removeImport(h.vault, String(live.id), { reason: '  ' })).rejects.toThrow('--reason must say why');
    await h.vault.query(`UPDATE access_imports SET state = 'running' WHERE id = $1`, [live.id]);
    await expect(removeImport(h.vault, String(live.id), { reason: 'x' })).rejects.toThrow(/is running \(at line 6\)/);
    await h.vault.query(`UPDATE access_imports SET state = 'done' WHERE id = $1`, [live.id]);
    expect(await count(h.vault, `SELECT 1 FROM tripwires WHERE import_id = $1`, [live.id])).toBe(4);

    // All in one transaction: a failure at the last step (marking the import removed) leaves everything as it was.
    const kept = { ...(await counts()), head: (await vault.ledgerHead(h.vault))!.seq };
    await h.vault.exec(`CREATE FUNCTION no_removal() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
                        CREATE TRIGGER no_removal BEFORE UPDATE OF state ON access_imports FOR EACH ROW WHEN (NEW.state = 'removed') EXECUTE FUNCTION no_removal();`);
    await expect(removeImport(h.vault, String(live.id), { reason: 'x' })).rejects.toThrow('disk full');
    await h.vault.exec(`DROP TRIGGER no_removal ON access_imports; DROP FUNCTION no_removal();`);
    expect({ ...(await counts()), head: (await vault.ledgerHead(h.vault))!.seq }).toEqual(kept);
    expect(kept).toMatchObject({ tripwires: 4, pending: 2 });

    await h.vault.query(`UPDATE access_imports SET removal_reason = 'nothing to see' WHERE id = $1`, [first.id]);
    const report = await verifyVault(h.vault);
    expect(report.ok).toBe(false);
    expect(report.evidence.problems).toEqual([expect.objectContaining({ kind: 'import', ref: String(first.id), problem: 'mismatch', detail: expect.stringContaining('(removed)') })]);
    await h.vault.query(`UPDATE access_imports SET removal_reason = 'module column mapped as the action' WHERE id = $1`, [first.id]);
  });

  it('warns that a later import may have counted some of its events as duplicates', async () => {
    const live = (await vault.listAccessImports(h.vault)).find((i) => i.state === 'done')!;
    const part = path.join(dir, 'his-audit-part.csv');
    fs.writeFileSync(part, fs.readFileSync(file, 'utf8').split('\n').slice(0, 4).join('\n') + '\n2026-11-03 09:00:00,n07,chart,view,4\n');
    const later = await importAccessLog(h.vault, part, options('op'));
    expect(later).toMatchObject({ added: 1, duplicates: 3 });
    const removed = await removeImport(h.vault, String(live.id), { reason: 'overlap' });
    expect(removed.leaves.laterDuplicates).toEqual([{ id: later.importId, path: part, duplicates: 3 }]);
    expect((await verifyVault(h.vault)).ok).toBe(true);
  });
});
