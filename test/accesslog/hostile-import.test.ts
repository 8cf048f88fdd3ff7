import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { accountChannelName, importAccessLog, type ImportAccessOptions } from '../../src/accesslog/import.js';
import { UserError } from '../../src/lib/errors.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';

// Imports of logs written by an attacker or a careless upstream system (issue 13): none may abort for
// good, stay `running`, store an event twice or seal counts it did not add.

const HEADER = 'event_time,operator,op,patient_id,client_ip,app';
const MAP = { ts: 'event_time', user: 'operator', action: 'op', record: 'patient_id', ip: 'client_ip', system: 'app' } as const;

describe.each(BACKENDS)('hostile access logs on %s', (backend) => {
  let h: TestHospital;
  let canary: { id: string; record: string };
  let dir: string;
  let fileNo = 0;
  const options = (extra: Partial<ImportAccessOptions> = {}): ImportAccessOptions => ({
    hospital: h.hospital.name,
    format: 'csv',
    timeZone: 'UTC',
    map: { ...MAP },
    recordKey: { alias: 'birth', table: 'births', column: 'birth_id' },
    alertChannels: ['email'],
    ...extra,
  });
  /** A new file in the scratch directory. */
  const write = (name: string, content: string | Buffer) => {
    const file = path.join(dir, `${++fileNo}-${name}`);
    fs.writeFileSync(file, content);
    return file;
  };
  const state = async (importId: number) => (await h.vault.query<{ state: string; error: string | null }>(`SELECT state, error FROM access_imports WHERE id = $1`, [importId])).rows[0];
  const eventsOf = async (importId: number) => {
    const { rows } = await h.vault.query<{ line: number; at: Date; account: string; action: string; records: string[] }>(
      `SELECT line, at, account, action, records FROM access_events WHERE import_id = $1 ORDER BY line`,
      [importId],
    );
    return rows.map((e) => [Number(e.line), e.at.toISOString(), e.account, e.action, e.records]);
  };
  const wiresOf = async (importId: number) => {
    const { rows } = await h.vault.query<{ line: number; account: string; canary_id: string }>(`SELECT line, account, canary_id FROM tripwires WHERE import_id = $1 ORDER BY line`, [importId]);
    return rows.map((w) => [Number(w.line), w.account, w.canary_id]);
  };

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 30, trapNumbers: 4 });
    const now = new Date('2026-11-02T00:00:00Z');
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 1, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W45', ...birthWindow(now), seed: 'hostile' });
    const [c] = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    canary = { id: c.id, record: String(c.target_keys!.birth.birth_id) };
    dir = scratchDir('access-hostile');
  });
  afterAll(async () => h?.close());

  it('stores a rejected line holding a NUL, escaped, in CSV, JSON Lines and pgaudit', async () => {
    const csv = write('nul.csv', `${HEADER}\n2026-11-20 08:00:00,n1,view,R1,10.0.0.1,his\n2026-11-20 08:00:01,n\u00002,view,R2\n2026-11-20 08:00:02,n3,view,R3,10.0.0.3,his\n`);
    const res = await importAccessLog(h.vault, csv, options());
    expect(res).toMatchObject({ lines: 4, added: 2, rejected: 1 });
    expect(res.rejects).toEqual([{ line: 3, reason: 'ip (client_ip): missing (the row has 4 columns, the header 6)', text: '2026-11-20 08:00:01,n\\x002,view,R2' }]);
    expect((await state(res.importId)).state).toBe('done');

    const jsonl = write('nul.jsonl', '{"ts":"2026-11-20T08:00:00Z","user":"n1","action":"view"}\n\u0000{"ts":1}\n{"ts":"2026-11-20T08:00:03Z","user":"n\\u00004","action":"view","record":"R4"}\n');
    const j = await importAccessLog(h.vault, jsonl, options({ format: 'jsonl', map: undefined }));
    expect(j).toMatchObject({ lines: 3, added: 2, rejected: 1 });
    expect(j.rejects[0].text).toBe('\\x00{"ts":1}');
    expect(j.rejects[0].reason).toContain("Unexpected token '\\x00'");
    expect((await eventsOf(j.importId))[1]).toEqual([3, '2026-11-20T08:00:03.000Z', 'n 4', 'view', ['R4']]);

    const pg = write('nul-pg.csv', `2026-11-20 08:00:00 UTC,"n\u00001",db,1,10.0.0.1:5,s,1,SELECT,,,,LOG,00000,"AUDIT: NOPE,1,1,READ,SELECT,,,x,<none>",,,,,,,,,app\n`);
    const p = await importAccessLog(h.vault, pg, options({ format: 'pgaudit', map: undefined }));
    expect(p).toMatchObject({ lines: 1, added: 0, rejected: 1 });
    expect(p.rejects[0].text).toContain('"n\\x001"');
  });

  it('trips the wire on a canary record whatever control characters the account holds, on each reader', async () => {
    const csv = write('nul-canary.csv', `${HEADER}\n2026-11-20 09:00:00,evil\u0000one,view,${canary.record},10.0.0.1,his\n`);
    const quoted = write('nul-canary-q.csv', `${HEADER}\n2026-11-20 09:00:01,"evil\u0000two",view,${canary.record},10.0.0.1,his\n`);
    const jsonl = write('nul-canary.jsonl', `{"ts":"2026-11-20T09:00:02Z","user":"evil\\u0000three\\n","action":"view","record":"${canary.record}","system":"his\\u0000"}\n`);
    for (const [file, extra, line, account] of [
      [csv, {}, 2, 'evil one'],
      [quoted, {}, 2, 'evil two'],
      [jsonl, { format: 'jsonl', map: undefined }, 1, 'evil three'],
    ] as const) {
      const res = await importAccessLog(h.vault, file, options(extra));
      expect(res).toMatchObject({ added: 1, rejected: 0, tripwires: 1, alerts: 1 });
      expect(await wiresOf(res.importId)).toEqual([[line, account, canary.id]]);
    }
  });

  it('trips the wire on a canary record read by a 9 KB account name, the channel named by its start and a hash', async () => {
    const long = `a${'x'.repeat(9_000)}z`;
    const plain = write('long.csv', `${HEADER}\n2026-11-21 08:00:00,${long},view,${canary.record},10.0.0.1,his\n2026-11-21 08:00:01,n2,view,R2,10.0.0.1,his\n`);
    const res = await importAccessLog(h.vault, plain, options());
    expect(res).toMatchObject({ lines: 3, added: 2, rejected: 0, tripwires: 1, alerts: 1 });
    expect(await wiresOf(res.importId)).toEqual([[2, long, canary.id]]);
    expect((await state(res.importId)).state).toBe('done');
    const name = accountChannelName(long);
    expect(name.length).toBeLessThanOrEqual(200);
    expect(name).toMatch(/^ax+… \(sha256 [0-9a-f]{16}\)$/);
    const exposures = await vault.exposuresOfCanaries(h.vault, [canary.id]);
    expect(exposures.map((e) => e.channel)).toContain(`account:${name}`);
    // The same name through the general reader, with a multi-byte character at the cut.
    const wide = `${'王'.repeat(3_000)}`;
    const jsonl = write('long.jsonl', `{"ts":"2026-11-21T08:00:02Z","user":"${wide}","action":"print","record":"${canary.record}"}\n`);
    const j = await importAccessLog(h.vault, jsonl, options({ format: 'jsonl', map: undefined }));
    expect(j).toMatchObject({ added: 1, tripwires: 1 });
    expect(accountChannelName(wide).startsWith('王'.repeat(150))).toBe(true);
    expect(accountChannelName('short')).toBe('short');
  });

  it('marks an import that fails failed with the reason, and the next run resumes it', async () => {
    await h.vault.exec(`
      CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.events LIKE '%boom%' THEN RAISE EXCEPTION 'the disk is full (boom)'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_boom BEFORE INSERT ON access_blocks FOR EACH ROW EXECUTE FUNCTION refuse_boom();`);
    const lines = Array.from({ length: 12 }, (_, i) => `2026-11-22 08:00:${String(i).padStart(2, '0')},n${i},view,R${i},10.0.0.1,${i === 7 ? 'boom' : 'his'}`);
    const file = write('boom.csv', [HEADER, ...lines].join('\n') + '\n');
    const err = await importAccessLog(h.vault, file, options({ batchRows: 4 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/boom\.csv: the import stopped after line 5: .*the disk is full \(boom\).*; it is marked failed, and importing the file again resumes it$/);
    const { rows } = await h.vault.query<{ id: number; state: string; error: string; lines_done: number }>(`SELECT id, state, error, lines_done FROM access_imports WHERE path = $1`, [file]);
    expect(rows.map((r) => [r.state, Number(r.lines_done)])).toEqual([['failed', 5]]);
    expect(rows[0].error).toContain('the disk is full (boom)');
    await h.vault.exec(`DROP TRIGGER refuse_boom ON access_blocks; DROP FUNCTION refuse_boom();`);
    const again = await importAccessLog(h.vault, file, options({ batchRows: 4 }));
    expect(again).toMatchObject({ importId: Number(rows[0].id), resumedFrom: 5, lines: 13, added: 12, rejected: 0 });
    expect(await state(again.importId)).toEqual({ state: 'done', error: null });
    expect((await eventsOf(again.importId)).map((e) => e[0])).toEqual(Array.from({ length: 12 }, (_, i) => i + 2));
  });

  it('stores times before 1970, before the year 100 and up to 9999 the same on the byte path and the general reader', async () => {
    const rows = [
      ['1950-06-01 12:00:00', '1950-06-01T12:00:00.000Z'],
      ['1950-06-01 12:00:30', '1950-06-01T12:00:30.000Z'],
      ['1969-12-31 23:59:59', '1969-12-31T23:59:59.000Z'],
      ['1969-12-31 23:59:59.5', '1969-12-31T23:59:59.500Z'],
      ['0050-01-01 00:00:00', '0050-01-01T00:00:00.000Z'],
      ['2100-03-01 00:00:00', '2100-03-01T00:00:00.000Z'],
      ['9999-12-31 23:59:59', '9999-12-31T23:59:59.000Z'],
    ];
    const lines = rows.map(([ts], i) => `${ts},old${i},view,R${i},10.0.0.1,his`);
    const plain = write('old.csv', [HEADER, ...lines, '0000-01-01 00:00:00,old,view,R,10.0.0.1,his'].join('\n') + '\n');
    const quoted = write('old-q.csv', [HEADER, ...lines.map((l) => l.replace(/^([^,]*)/, '"$1"')), '0000-01-01 00:00:00,old,view,R,10.0.0.1,his'].join('\n') + '\n');
    const a = await importAccessLog(h.vault, plain, options());
    expect(a).toMatchObject({ added: rows.length, rejected: 1 });
    // As epoch milliseconds: the drivers read a timestamptz of the year 50 as 1950.
    const { rows: stored } = await h.vault.query<{ ms: string }>(`SELECT (extract(epoch FROM at) * 1000)::bigint::text AS ms FROM access_events WHERE import_id = $1 ORDER BY line`, [a.importId]);
    expect(stored.map((r) => new Date(Number(r.ms)).toISOString())).toEqual(rows.map((r) => r[1]));
    expect(a.rejects[0].reason).toMatch(/^ts \(event_time\): "0000-01-01 00:00:00" is not a timestamp/);
    // Read again by the general reader: the same events, so none is added.
    const b = await importAccessLog(h.vault, quoted, options());
    expect(b).toMatchObject({ added: 0, duplicates: rows.length, rejected: 1 });
  });

  it('imports UTF-16 CSV and JSON Lines logs as the events their UTF-8 copies hold', async () => {
    const csvText = `${HEADER}\r\n2026-11-23 08:00:00,王芳,view,${canary.record},10.0.0.1,his\r\n2026-11-23 08:00:01,n2,list,R1;R2,10.0.0.2,his\r\n`;
    const utf8 = await importAccessLog(h.vault, write('u8.csv', csvText), options());
    expect(utf8).toMatchObject({ added: 2, rejected: 0, tripwires: 1 });
    const utf16 = await importAccessLog(h.vault, write('u16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csvText, 'utf16le')])), options());
    expect(utf16).toMatchObject({ lines: 3, added: 0, duplicates: 2, rejected: 0 });
    const jsonText = '{"ts":"2026-11-23T08:00:02Z","user":"李雷","action":"view","record":"R9"}\n';
    const j8 = await importAccessLog(h.vault, write('u8.jsonl', jsonText), options({ format: 'jsonl', map: undefined }));
    const j16 = await importAccessLog(h.vault, write('u16.jsonl', Buffer.from(jsonText, 'utf16le')), options({ format: 'jsonl', map: undefined }));
    expect([j8.added, j16.added, j16.duplicates, j16.rejected]).toEqual([1, 0, 1, 0]);
  });

  it('seals, for imports run at the same time, counts that add up to the events stored', async () => {
    const day = (n: number) => Array.from({ length: n }, (_, i) => `2026-11-24 ${String(8 + Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00,c${i % 5},view,K${i},10.0.0.1,his`);
    const lines = day(120);
    const same = write('same.csv', [HEADER, ...lines].join('\n') + '\n');
    const first = write('first.csv', [HEADER, ...lines.slice(0, 80)].join('\n') + '\n');
    const second = write('second.csv', [HEADER, ...lines.slice(40)].join('\n') + '\n');
    const runs = await Promise.allSettled([
      importAccessLog(h.vault, same, options({ batchRows: 10 })),
      importAccessLog(h.vault, same, options({ batchRows: 10 })),
      importAccessLog(h.vault, first, options({ batchRows: 10 })),
      importAccessLog(h.vault, second, options({ batchRows: 10 })),
    ]);
    // The later of two runs of one import stops with one line, without storing anything (when the two
    // overlap: the first may also finish before the second starts); the other imports never stop.
    const refused = runs.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    expect(refused.length).toBeLessThanOrEqual(1);
    for (const reason of refused) {
      expect(reason).toBeInstanceOf(UserError);
      expect(reason.message).toMatch(/same\.csv: another run is importing this file now \(import \d+, at line \d+\); import it again when that run has finished$/);
    }
    const ids = [...new Set(runs.flatMap((r) => (r.status === 'fulfilled' ? [r.value.importId] : [])))];
    const { rows: imports } = await h.vault.query<{ id: number; state: string }>(`SELECT id, state FROM access_imports WHERE path = ANY($1::text[])`, [[same, first, second]]);
    expect(imports.map((i) => i.state)).toEqual(['done', 'done', 'done']);
    expect(ids.sort()).toEqual(imports.map((i) => Number(i.id)).sort());
    const { rows: sealed } = await h.vault.query<{ ref: string; added: number }>(`SELECT ref, (content->>'added')::int AS added FROM ledger WHERE kind = 'import' AND ref = ANY($1::text[])`, [ids.map(String)]);
    // One seal per import, and their added counts are the events stored: each of the 120 once.
    expect(sealed.map((s) => s.ref).sort()).toEqual(ids.map(String).sort());
    const { rows: stored } = await h.vault.query<{ n: number }>(`SELECT coalesce(sum(events_count), 0)::int AS n FROM access_blocks WHERE import_id = ANY($1::bigint[])`, [ids]);
    expect(sealed.reduce((sum, s) => sum + s.added, 0)).toBe(stored[0].n);
    expect(stored[0].n).toBe(120);
    const { rows: counts } = await h.vault.query<{ added: number; duplicates: number; lines_done: number }>(`SELECT added::int, duplicates::int, lines_done::int FROM access_imports WHERE path = $1`, [same]);
    expect(counts[0].lines_done).toBe(121);
    expect(counts[0].added + counts[0].duplicates).toBe(120);
  });
});
