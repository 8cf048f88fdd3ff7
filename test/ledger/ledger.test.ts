import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { importAccessLog } from '../../src/accesslog/import.js';
import { openDatabase } from '../../src/db/index.js';
import { runExport } from '../../src/exports/export.js';
import { verifyChain, verifyVault, type VerifyReport } from '../../src/ledger/verify.js';
import { runScan } from '../../src/scan/scan.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import { triagePending } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { appendLedger, canonicalJson, contentHash, entryHash, GENESIS, ledgerEntries, type LedgerEntry } from '../../src/vault/ledger.js';
import { cradleInProcess } from '../helpers/cli.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';

// The evidence ledger: every write path seals what it wrote, `verify` recomputes the chain and names
// the first entry altered, removed or reordered, and checks the evidence rows against the ledger.

/** A chain built with the documented formulas, without a database. */
function fakeChain(n: number): LedgerEntry[] {
  const chain: LedgerEntry[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const content = { n: seq };
    const base = { seq, at: new Date(Date.UTC(2026, 10, 1, 0, seq)), kind: 'trace', ref: `r${seq}`, incident_id: null, actor: 'test', content_hash: contentHash(content), prev_hash: chain.length ? chain[chain.length - 1].hash : GENESIS };
    chain.push({ ...base, content, hash: entryHash(base) });
  }
  return chain;
}

describe('the chain walk (pure)', () => {
  const seqOf = (chain: LedgerEntry[]) => (hash: string) => chain.find((e) => e.hash === hash)?.seq ?? null;

  it('passes an intact chain and names what broke in a tampered one', async () => {
    const chain = fakeChain(6);
    expect(await verifyChain(chain, seqOf(chain))).toMatchObject({ entries: 6, intact: true, head: { seq: 6, hash: chain[5].hash } });
    expect(canonicalJson({ b: [1, { d: 2, c: null }], a: new Date(0) })).toBe('{"a":"1970-01-01T00:00:00.000Z","b":[1,{"c":null,"d":2}]}');
    // appendLedger hashes the canonical text it stores parsed: canonical again, parsed back, it is that text.
    const odd = { z: undefined, '10': -0, '9': [undefined, NaN, 1e21, 0.1 + 0.2], 'é': '宝宝\u2028"\\', at: new Date(1), b: Buffer.from('ab'), n: { y: null, x: [[], {}] } };
    // Keys in code-unit order ('10' before '9'), undefined members left out, as the ledger has always hashed them.
    expect(canonicalJson(odd)).toBe('{"10":0,"9":[null,null,1e+21,0.30000000000000004],"at":"1970-01-01T00:00:00.001Z","b":{"0":97,"1":98},"n":{"x":[[],{}],"y":null},"é":"宝宝\u2028\\"\\\\"}');
    expect(canonicalJson(JSON.parse(canonicalJson(odd)))).toBe(canonicalJson(odd));
    expect(contentHash(JSON.parse(canonicalJson(odd)))).toBe(contentHash(odd));

    const altered = chain.map((e) => (e.seq === 3 ? { ...e, content: { n: 33 } } : e));
    expect((await verifyChain(altered, seqOf(altered))).break).toMatchObject({ seq: 3, problem: 'altered' });
    const actor = chain.map((e) => (e.seq === 2 ? { ...e, actor: 'someone else' } : e));
    expect((await verifyChain(actor, seqOf(actor))).break).toMatchObject({ seq: 2, problem: 'altered', detail: expect.stringMatching(/fields/) });

    const removed = chain.filter((e) => e.seq !== 4);
    expect((await verifyChain(removed, seqOf(removed))).break).toMatchObject({ seq: 5, problem: 'removed', detail: expect.stringMatching(/#4 is missing/) });
    // Removed and the rest renumbered: the entry after the gap points to an entry that is gone.
    const renumbered = removed.map((e) => (e.seq > 4 ? { ...e, seq: e.seq - 1 } : e));
    expect((await verifyChain(renumbered, seqOf(renumbered))).break).toMatchObject({ seq: 4, problem: 'removed' });
    const first = chain.slice(1);
    expect((await verifyChain(first, seqOf(first))).break).toMatchObject({ seq: 2, problem: 'removed' });

    const swapped = [chain[0], chain[1], { ...chain[3], seq: 3 }, { ...chain[2], seq: 4 }, chain[4], chain[5]];
    expect((await verifyChain(swapped, seqOf(swapped))).break).toMatchObject({ seq: 3, problem: 'reordered', detail: expect.stringMatching(/after entry #4, not after #2/) });

    // An anchor must be in the intact part of the chain; a cut-back ledger loses it.
    expect((await verifyChain(chain, seqOf(chain), chain[3].hash)).anchor).toEqual({ hash: chain[3].hash, found: true, seq: 4 });
    const cut = chain.slice(0, 3);
    expect((await verifyChain(cut, seqOf(cut), chain[3].hash)).anchor).toMatchObject({ found: false });
  });
});

describe.each(BACKENDS)('evidence ledger on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  let canaries: vault.CanaryRow[];
  let dir: string;
  let exportId: string;
  let scanIncident: string;
  const verify = () => verifyVault(h.vault, { pageSize: 3 }); // small pages: the paging is exercised too
  const contact = (to: string, from: string, body: string | null, id: string): vault.NewContact => ({
    source: 'generic', providerId: id, kind: 'sms', from, to, occurredAt: new Date(), body, raw: Buffer.from(`${id}:${body}`),
  });

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 150, trapNumbers: 40 });
    dir = scratchDir('ledger');
    const now = new Date();
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 4, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W48', ...birthWindow(now), seed: 'ledger' });
    canaries = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    // An export, scanned back as a seized dump.
    const out = path.join(dir, 'births.csv');
    const exp = await runExport(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, channel: { kind: 'export', name: 'photo-vendor' }, out, params: [], columnFields: {}, now, canaries: 3, operator: 'n0412' });
    exportId = exp.id;
    const scan = await runScan(h.vault, [out]);
    scanIncident = scan.incidentId!;
    // Contacts: the same sender on two canaries (the first hit is re-judged), one not a trap.
    const phone = (c: vault.CanaryRow) => c.family.mother.phone!;
    await vault.recordContact(h.vault, contact(phone(canaries[0]), '+8613312345678', `${canaries[0].family.mother.name.full}您好，宝宝写真免费拍摄`, 'l1'));
    await vault.recordContact(h.vault, contact(phone(canaries[1]), '+8613312345678', '您好，这里是儿童摄影', 'l2'));
    await vault.recordContact(h.vault, contact('+8613999999999', '+8613312345678', 'hello', 'l3'));
    await triagePending(h.vault, { actor: 'watch' });
    await vault.recordContact(h.vault, contact(phone(canaries[2]), '+8613400000000', 'not triaged yet', 'l4'));
    // An access-log import touching a canary's record.
    const log = path.join(dir, 'access.csv');
    fs.writeFileSync(log, `event_time,operator,op,patient_id\n2026-11-03 09:41:07,nurse42,view,${String(canaries[0].target_keys!.birth.birth_id)}\n2026-11-03 09:42:00,nurse42,view,1\n`);
    await importAccessLog(h.vault, log, {
      hospital: h.hospital.name, format: 'csv', timeZone: 'Asia/Shanghai', alertChannels: [],
      map: { ts: 'event_time', user: 'operator', action: 'op', record: 'patient_id' }, recordKey: { alias: 'birth', table: 'births', column: 'birth_id' },
    });
    await h.vault.transaction(async (tx) => {
      await vault.recordTrace(tx, { incident: scanIncident, suspects: [{ key: `export-file:${exportId}`, posterior: 0.98765432 }], canaries: 3, vaultSize: 7 });
      await vault.recordReport(tx, { incident: scanIncident, format: 'pdf', file: 'report.pdf', sha256: 'ab'.repeat(32), lang: 'zh' });
    });
  });
  afterAll(async () => h?.close());

  it('seals every write path in one chain, and verify finds it intact', async () => {
    const entries = await ledgerEntries(h.vault);
    const kinds = entries.map((e) => e.kind);
    for (const k of ['export', 'scan', 'contact', 'hit', 'import', 'trace', 'report']) expect(kinds).toContain(k);
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries[0].prev_hash).toBe(GENESIS);
    for (let i = 1; i < entries.length; i++) expect(entries[i].prev_hash).toBe(entries[i - 1].hash);
    expect(entries.find((e) => e.kind === 'export')).toMatchObject({ ref: exportId, actor: 'n0412', content: { channel: 'export:photo-vendor', operator: 'n0412', row_count: 154, canary_count: 3 } });
    expect((entries.find((e) => e.kind === 'export')!.content as { canaries: string[] }).canaries).toHaveLength(3);
    const scan = entries.find((e) => e.kind === 'scan')!;
    expect(scan).toMatchObject({ ref: scanIncident, incident_id: scanIncident, content: { incident: scanIncident, files: [expect.objectContaining({ file: expect.stringMatching(/births\.csv$/) })] } });
    expect(entries.filter((e) => e.kind === 'contact')).toHaveLength(3);
    // A batch's contacts that make no hit are sealed first, together; each hit's contact as its turn comes.
    const contacts = entries.filter((e) => e.kind === 'contact');
    expect(contacts.map((e) => (e.content as { provider_id: string }).provider_id).sort()).toEqual(['l1', 'l2', 'l3']);
    expect(contacts.find((e) => (e.content as { provider_id: string }).provider_id === 'l1')).toMatchObject({ actor: 'watch', content: { source: 'generic', provider_id: 'l1' } });
    // The first hit was re-judged when the second came: a newer entry for the same hit.
    const hitEntries = entries.filter((e) => e.kind === 'hit');
    expect(hitEntries.length).toBe(3);
    expect(new Set(hitEntries.map((e) => e.ref)).size).toBe(2);
    expect(entries.find((e) => e.kind === 'import')).toMatchObject({ content: { lines: 3, added: 2, tripwires: 1 } });
    expect(entries.find((e) => e.kind === 'trace')).toMatchObject({ content: { suspects: [{ posterior: 0.987654 }] } });

    const r = await verify();
    expect(r.ok).toBe(true);
    expect(r.ledger).toMatchObject({ entries: entries.length, intact: true, break: null, head: { seq: entries.length, hash: entries[entries.length - 1].hash } });
    expect(r.evidence).toMatchObject({ unsealedContacts: 1, predateLedger: 0, problemCount: 0, byKind: { contact: 3, hit: 2, export: 1, scan: 1, import: 1 } });
    expect(r.evidence.checked).toBe(8);
  });

  it('names an altered entry', async () => {
    const [hit] = await ledgerEntries(h.vault, { kind: 'hit', limit: 1 });
    await h.vault.query(`UPDATE ledger SET content = jsonb_set(content, '{confidence}', '0.01') WHERE seq = $1`, [hit.seq]);
    try {
      const r = await verify();
      expect(r.ok).toBe(false);
      expect(r.ledger.break).toMatchObject({ seq: hit.seq, kind: 'hit', ref: hit.ref, problem: 'altered', detail: 'content does not match its hash' });
    } finally {
      await h.vault.query(`UPDATE ledger SET content = $2::jsonb WHERE seq = $1`, [hit.seq, JSON.stringify(hit.content)]);
    }
    // Who and when are covered too.
    await h.vault.query(`UPDATE ledger SET actor = 'someone' WHERE seq = $1`, [hit.seq]);
    try {
      expect((await verify()).ledger.break).toMatchObject({ seq: hit.seq, problem: 'altered' });
    } finally {
      await h.vault.query(`UPDATE ledger SET actor = $2 WHERE seq = $1`, [hit.seq, hit.actor]);
    }
    expect((await verify()).ok).toBe(true);
  });

  it('names a removed entry', async () => {
    const [e] = await ledgerEntries(h.vault, { fromSeq: 3, toSeq: 3 });
    await h.vault.query(`DELETE FROM ledger WHERE seq = 3`);
    try {
      const r = await verify();
      expect(r.ledger.break).toMatchObject({ seq: 4, problem: 'removed', detail: expect.stringMatching(/#3 is missing/) });
    } finally {
      await h.vault.query(
        `INSERT INTO ledger (seq, at, kind, ref, incident_id, actor, content, content_hash, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [e.seq, e.at.toISOString(), e.kind, e.ref, e.incident_id, e.actor, JSON.stringify(e.content), e.content_hash, e.prev_hash, e.hash],
      );
    }
    expect((await verify()).ok).toBe(true);
  });

  it('names reordered entries', async () => {
    const swap = async () => {
      await h.vault.query(`UPDATE ledger SET seq = -1 WHERE seq = 4`);
      await h.vault.query(`UPDATE ledger SET seq = 4 WHERE seq = 5`);
      await h.vault.query(`UPDATE ledger SET seq = 5 WHERE seq = -1`);
    };
    await swap();
    try {
      const r = await verify();
      expect(r.ledger.break).toMatchObject({ seq: 4, problem: 'reordered', detail: expect.stringMatching(/after entry #5, not after #3/) });
    } finally {
      await swap();
    }
    expect((await verify()).ok).toBe(true);
  });

  it('finds evidence changed without a new entry: raw bytes, a hit, a deleted or an unrecorded row', async () => {
    const [c] = (await h.vault.query<{ id: number; raw: Buffer }>(`SELECT id, raw FROM contact_events WHERE provider_id = 'l1'`)).rows;
    await h.vault.query(`UPDATE contact_events SET raw = raw || '\\x00'::bytea WHERE id = $1`, [c.id]);
    const [hit] = (await h.vault.query<{ id: number; confidence: number }>(`SELECT id, confidence FROM hits ORDER BY id LIMIT 1`)).rows;
    await h.vault.query(`UPDATE hits SET confidence = 0.01 WHERE id = $1`, [hit.id]);
    const expectProblems = (r: VerifyReport) => {
      expect(r.ok).toBe(false);
      expect(r.ledger.intact).toBe(true);
      expect(r.evidence.problems).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kind: 'contact', ref: String(c.id), problem: 'raw' }),
          expect.objectContaining({ kind: 'hit', ref: String(hit.id), problem: 'mismatch', detail: expect.stringMatching(/\(confidence\)$/) }),
        ]),
      );
    };
    try {
      expectProblems(await verify());
    } finally {
      await h.vault.query(`UPDATE contact_events SET raw = $2 WHERE id = $1`, [c.id, Buffer.from(c.raw)]);
      await h.vault.query(`UPDATE hits SET confidence = $2 WHERE id = $1`, [hit.id, hit.confidence]);
    }
    expect((await verify()).ok).toBe(true);

    // A hit slipped in without an entry; a sealed export's manifest rows gone.
    const [l2] = (await h.vault.query<{ id: number }>(`SELECT id FROM contact_events WHERE provider_id = 'l2'`)).rows;
    const { rows } = await h.vault.query<{ id: number }>(`INSERT INTO hits (event_id, canary_id, confidence, reasons) VALUES ($1, $2, 0.99, '[]') RETURNING id`, [l2.id, canaries[3].id]);
    const manifest = (await h.vault.query<Record<string, unknown>>(`SELECT * FROM export_rows WHERE export_id = $1`, [exportId])).rows;
    await h.vault.query(`DELETE FROM export_rows WHERE export_id = $1`, [exportId]);
    try {
      const r = await verify();
      expect(r.evidence.problems.slice(0, 2)).toEqual([
        expect.objectContaining({ kind: 'hit', ref: String(rows[0].id), problem: 'unrecorded' }),
        expect.objectContaining({ kind: 'export', ref: exportId, problem: 'mismatch', detail: expect.stringMatching(/\(canaries\)/) }),
      ]);
      // Each manifest row is sealed too, and named.
      expect(r.evidence.problems.slice(2)).toEqual(
        expect.arrayContaining(manifest.map((m) => expect.objectContaining({ kind: 'export_rows', ref: `${String(m.export_id)}:${String(m.canary_id)}`, problem: 'missing' }))),
      );
      expect(r.evidence.problemCount).toBe(2 + manifest.length);
    } finally {
      await h.vault.query(`DELETE FROM hits WHERE id = $1`, [rows[0].id]);
      for (const m of manifest) await h.vault.query(`INSERT INTO export_rows (export_id, canary_id, row_number) VALUES ($1, $2, $3)`, [m.export_id, m.canary_id, m.row_number]);
    }
    expect((await verify()).ok).toBe(true);
  });

  it('keeps chaining across processes: a new append continues from the head', async () => {
    const before = await vault.ledgerHead(h.vault);
    const e = await h.vault.transaction((tx) => appendLedger(tx, { kind: 'report', ref: 'x', content: { a: 1 } }));
    expect(e).toMatchObject({ seq: before!.seq + 1, prev_hash: before!.hash });
    expect((await verify()).ok).toBe(true);
  });

  it('seals a scan of many matches as its stored rows say: count, canaries, the hash of every match in order', async () => {
    // The scan entry is computed by the vault from scan_matches in one pass; recomputed here from the
    // rows read back, the documented way (docs/ledger.md), for a scan of many matches and one of none.
    const ids = canaries.map((c) => c.id);
    const matches: vault.ScanMatchRecord[] = Array.from({ length: 1200 }, (_, i) => ({
      canaryId: ids[i % ids.length],
      file: i % 3 ? 'dump/名单.csv' : 'dump/b.xlsx',
      place: `line ${i + 1}`,
      column: i % 4 ? 'mobile' : null,
      kinds: i % 2 ? ['phone'] : ['masked-phone', 'name'],
      matched: i % 5 ? `138 ${String(i).padStart(4, '0')} 5678` : '王\t芳',
      confidence: [0.5, 0.75, 1, 0.9][i % 4],
      reason: `reason ${i}`,
    }));
    const files = [{ file: 'dump/名单.csv', sha256: 'cd'.repeat(32), bytes: 10, format: 'csv', encoding: 'utf-8', records: 1200, warnings: [] }];
    await h.vault.transaction((tx) => vault.recordScanIncident(tx, 'manymatch1', 'many', {}, files, matches, 'test'));
    await h.vault.transaction((tx) => vault.recordScanIncident(tx, 'nomatch001', 'none', {}, files, [], 'test'));
    for (const id of ['manymatch1', 'nomatch001']) {
      const { rows } = await h.vault.query<{ canary_id: string; file: string; place: string; column_name: string | null; kinds: string[]; matched: string; confidence: string; reason: string }>(
        `SELECT canary_id, file, place, column_name, kinds, matched, confidence::text AS confidence, reason FROM scan_matches WHERE incident_id = $1 ORDER BY id`,
        [id],
      );
      const lines = rows.map((r) => [r.canary_id, r.file, r.place, r.column_name ?? '', r.kinds.join(','), r.matched, r.confidence, r.reason].join('\t'));
      const [entry] = await ledgerEntries(h.vault, { kind: 'scan', refs: [id] });
      expect(entry.content).toEqual({
        incident: id,
        files: [{ file: 'dump/名单.csv', sha256: 'cd'.repeat(32), bytes: 10 }],
        matches: id === 'manymatch1' ? 1200 : 0,
        matches_sha256: createHash('sha256').update(lines.join('\n'), 'utf8').digest('hex'),
        canaries: id === 'manymatch1' ? [...ids].sort() : [],
      });
      if (id === 'manymatch1') expect(rows.map((r) => r.place)).toEqual(matches.map((m) => m.place));
    }
    const r = await verify();
    expect(r.ok).toBe(true);
    expect(r.evidence.problemCount).toBe(0);
  });

  if (backend === 'pglite') {
    it('cradle verify: exit 0 with the head, 1 naming the break, JSON', async () => {
      const location = h.vaultLocation;
      const tampered = (await ledgerEntries(h.vault, { kind: 'contact', limit: 1 }))[0];
      await h.vault.close(); // the CLI opens the embedded vault itself
      const cwd = scratchDir('cli-verify');
      try {
        const ok = await cradleInProcess(['verify', '--vault', location], { cwd });
        expect(ok.code).toBe(0);
        expect(ok.stdout).toMatch(/^ledger: \d+ entries, chain intact, head #\d+ [0-9a-f]{64}$/m);
        expect(ok.stdout).toMatch(/not sealed yet: 1 contact/);
        const head = /head #\d+ ([0-9a-f]{64})/.exec(ok.stdout)![1];
        const json = await cradleInProcess(['verify', '--vault', location, '--json', '--anchor', head], { cwd });
        expect(json.code).toBe(0);
        const report = JSON.parse(json.stdout) as VerifyReport;
        expect(report).toMatchObject({ ok: true, ledger: { intact: true, break: null, head: { hash: head }, anchor: { hash: head, found: true } }, evidence: { problemCount: 0, unsealedContacts: 1 } });
        expect(Object.keys(report.evidence.byKind).sort()).toEqual(['contact', 'export', 'hit', 'import', 'scan']);

        const db = await openDatabase(location);
        await db.query(`UPDATE ledger SET content = jsonb_set(content, '{from}', '"+8613000000000"') WHERE seq = $1`, [tampered.seq]);
        await db.close();
        const broken = await cradleInProcess(['verify', '--vault', location], { cwd });
        expect(broken.code).toBe(1);
        expect(broken.stdout).toContain(`ledger: BROKEN at entry #${tampered.seq} (contact ${tampered.ref}): altered — content does not match its hash`);
        const brokenJson = await cradleInProcess(['verify', '--vault', location, '--json'], { cwd });
        expect(brokenJson.code).toBe(1);
        expect(JSON.parse(brokenJson.stdout)).toMatchObject({ ok: false, ledger: { intact: false, break: { seq: tampered.seq, problem: 'altered' } } });
        expect((await cradleInProcess(['verify', '--help'], { cwd })).stdout).toMatch(/Examples:/);
      } finally {
        h.vault = await openDatabase(location);
      }
    });
  }
});
