import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { importAccessLog, type ImportAccessOptions } from '../../src/accesslog/import.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import { dialectOf } from '../../src/db/index.js';
import { recordKeyColumn } from '../../src/targetdb/index.js';
import * as vault from '../../src/vault/index.js';
import { verifyVault } from '../../src/ledger/verify.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { count, createTestHospital, type TestHospital } from '../helpers/hospital.js';
import { describeEachTarget, schemaOf, TARGET_CASES } from '../helpers/targets.js';

// Importing access logs into a real vault: idempotent, resumable, rejects with line numbers, tripwires
// and their alerts, exposures of canaries to the accounts that opened them.

const HEADER = 'event_time,operator,op,patient_id,client_ip,app';

/** Import options for the test hospital's log: the mapping's record key, alerts by e-mail. */
const importOptions = (h: TestHospital, extra: Partial<ImportAccessOptions>): ImportAccessOptions => ({
  hospital: h.hospital.name,
  format: 'csv',
  timeZone: 'Asia/Shanghai',
  map: { ts: 'event_time', user: 'operator', action: 'op', record: 'patient_id', ip: 'client_ip', system: 'app' },
  recordKey: recordKeyColumn(h.mapping)!,
  alertChannels: ['email'],
  ...extra,
});

// Record keys are the mapping's (births.birth_id; XSE_JBXX.XSEID on the MariaDB HIS schema).
describeEachTarget(TARGET_CASES, 'access-log import on %s', (backend) => {
  let h: TestHospital;
  let canaryKeys: { id: string; record: string }[];
  let realKeys: string[];
  let dir: string;
  const options = (extra: Partial<ImportAccessOptions> = {}) => importOptions(h, extra);
  /** A day of ordinary work on real records, with the canary accesses at fixed lines. */
  const logLines = (day: string, n: number): string[] =>
    Array.from({ length: n }, (_, i) => {
      const minute = String(i % 60).padStart(2, '0');
      const hour = String(8 + Math.floor(i / 60)).padStart(2, '0');
      return `${day} ${hour}:${minute}:00,nurse${String(i % 9).padStart(2, '0')},view,${realKeys[i % realKeys.length]},10.0.3.${i % 200},his`;
    });

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: schemaOf(backend), population: 120, trapNumbers: 20 });
    const now = new Date('2026-11-02T00:00:00Z');
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 4, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W45', ...birthWindow(now), seed: 'access' });
    const canaries = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    const key = recordKeyColumn(h.mapping)!;
    canaryKeys = canaries.map((c) => ({ id: c.id, record: String(c.target_keys![key.alias][key.column]) }));
    const d = dialectOf(h.target);
    const col = d.ident(key.column);
    const params: unknown[] = [];
    const table = d.table(h.mapping.inserts.find((s) => s.alias === key.alias)!);
    const { rows } = await h.target.query<{ k: number }>(`SELECT ${col} AS k FROM ${table} WHERE NOT ${d.inText(col, canaryKeys.map((k) => k.record), params)} ORDER BY ${col}`, params);
    realKeys = rows.map((r) => String(r.k));
    expect(realKeys).toHaveLength(120);
    dir = scratchDir('access-import');
  });
  afterAll(async () => h?.close());

  it('stores every line once, links canary records to tripwires and alerts only single-record actions', async () => {
    const [a, b, c] = canaryKeys;
    const lines = [
      HEADER,
      ...logLines('2026-11-03', 100),
      `2026-11-03 09:41:07,nurse42,view,${a.record},10.0.3.77,his`,
      `2026-11-03T01:42:00Z,clerk03,list,${b.record};${realKeys[0]};${c.record},10.0.9.1,his`,
      `2026-13-03 09:43:00,nurse42,view,${realKeys[1]},10.0.3.77,his`,
      `2026-11-03 09:44:00,,view,${realKeys[2]},10.0.3.77,his`,
    ];
    const file = path.join(dir, 'day1.csv');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const res = await importAccessLog(h.vault, file, options({ batchRows: 30 }));
    expect(res).toMatchObject({ alreadyImported: false, resumedFrom: 0, lines: 105, added: 102, duplicates: 0, rejected: 2, tripwires: 3, alerts: 1 });
    expect(res.rejects.map((r) => r.line)).toEqual([104, 105]);
    expect(res.rejects[0].reason).toMatch(/^ts \(event_time\): "2026-13-03 09:43:00" is not a timestamp/);
    expect(res.rejects[1].reason).toMatch(/^user \(operator\): /);

    const wires = await vault.listTripwires(h.vault, { hospital: h.hospital.name });
    expect(wires.map((w) => [w.account, w.canary_id, w.scope, w.line]).sort()).toEqual(
      [
        ['clerk03', b.id, 'bulk', 103],
        ['clerk03', c.id, 'bulk', 103],
        ['nurse42', a.id, 'single', 102],
      ].sort(),
    );
    // A time without an offset is the hospital's zone (UTC+8).
    expect(wires.find((w) => w.account === 'nurse42')!.at.toISOString()).toBe('2026-11-03T01:41:07.000Z');
    const exposures = await vault.exposuresOfCanaries(h.vault, [a.id, b.id]);
    expect(exposures.filter((e) => e.channel.startsWith('account:')).map((e) => `${e.canary_id} ${e.channel}`).sort()).toEqual([`${a.id} account:nurse42`, `${b.id} account:clerk03`].sort());
    const outbox = await h.vault.query<{ channel: string; payload: { type: string; account: string; canary: string } }>(`SELECT channel, payload FROM alert_outbox WHERE tripwire_id IS NOT NULL`);
    expect(outbox.rows).toEqual([{ channel: 'email', payload: expect.objectContaining({ type: 'tripwire', account: 'nurse42', canary: a.id }) }]);
  });

  it('adds nothing when the same file or an overlapping one comes again', async () => {
    const file = path.join(dir, 'day1.csv');
    const again = await importAccessLog(h.vault, file, options());
    expect(again).toMatchObject({ alreadyImported: true, added: 102, rejected: 2 });
    const events = await count(h.vault, 'SELECT 1 FROM access_events');
    // The second half of day 1 (with its tripwire line), plus 20 new lines.
    const day1 = fs.readFileSync(file, 'utf8').trim().split('\n');
    const overlap = [HEADER, ...day1.slice(60, 103), ...logLines('2026-11-04', 20)];
    fs.writeFileSync(path.join(dir, 'overlap.csv'), overlap.join('\n') + '\n');
    const res = await importAccessLog(h.vault, path.join(dir, 'overlap.csv'), options());
    expect(res).toMatchObject({ added: 20, duplicates: 43, rejected: 0, tripwires: 0, alerts: 0 });
    expect(await count(h.vault, 'SELECT 1 FROM access_events')).toBe(events + 20);
    expect(await count(h.vault, 'SELECT 1 FROM tripwires')).toBe(3);
  });

  it('resumes an interrupted import after the last committed batch', async () => {
    const file = path.join(dir, 'day5.csv');
    fs.writeFileSync(file, [HEADER, ...logLines('2026-11-05', 95), `2026-11-05 11:00:00,nurse77,print,${canaryKeys[3].record},10.0.3.8,his`].join('\n') + '\n');
    let batches = 0;
    const crash = options({
      batchRows: 25,
      onProgress: () => {
        if (++batches === 2) throw new Error('power cut');
      },
    });
    await expect(importAccessLog(h.vault, file, crash)).rejects.toThrow('power cut');
    const before = await count(h.vault, `SELECT 1 FROM access_events WHERE at >= '2026-11-05T00:00:00+08'`);
    expect(before).toBe(50);
    const res = await importAccessLog(h.vault, file, options({ batchRows: 25 }));
    expect(res).toMatchObject({ resumedFrom: before + 1, lines: 97, added: 96, duplicates: 0, tripwires: 1, alerts: 1 });
    expect(await count(h.vault, `SELECT 1 FROM access_events WHERE at >= '2026-11-05T00:00:00+08'`)).toBe(96);
  });
});

describe.each(BACKENDS)('timestamps and fields through an import on %s', (backend) => {
  let h: TestHospital;
  let dir: string;
  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 20, trapNumbers: 4 });
    dir = scratchDir('access-fast');
  });
  afterAll(async () => h?.close());

  it('stores a quote inside a field as itself, sealed as stored (the ledger verifies), found again on a re-import', async () => {
    const file = path.join(dir, 'quote-inside.csv');
    fs.writeFileSync(file, [HEADER, '2026-11-04 08:00:00,"dr ""o"" neil",view,201,10.0.0.9,"his ""2"""', '2026-11-04 08:00:01,n1,view,202,10.0.0.9,his'].join('\n') + '\n');
    const first = await importAccessLog(h.vault, file, importOptions(h, { recordKey: null }));
    expect(first).toMatchObject({ added: 2, duplicates: 0, rejected: 0 });
    const { rows } = await h.vault.query<{ account: string; system: string }>(`SELECT account, system FROM access_events WHERE import_id = $1 ORDER BY line`, [first.importId]);
    expect(rows[0]).toEqual({ account: 'dr "o" neil', system: 'his "2"' });
    expect((await verifyVault(h.vault)).ok).toBe(true);
    fs.writeFileSync(file + '.again.csv', fs.readFileSync(file, 'utf8') + '2026-11-04 08:00:02,n1,view,203,,\n');
    expect(await importAccessLog(h.vault, file + '.again.csv', importOptions(h, { recordKey: null }))).toMatchObject({ added: 1, duplicates: 2 });
  });

  it('stores each form of timestamp as its instant, and knows a quoted copy of the file holds the same events', async () => {
    const rows = [
      ['2026-11-03 08:15:02', 'n1', 'View', '101', '10.0.0.1', 'his'],
      ['2026-11-03T08:15:02.1234+08:00', 'n1', 'print', '102', '', ''],
      ['2026-11-03 08:15:02.5', 'n2', 'list', '103; 104 |103', '10.0.0.2', 'his'],
      ['2026-11-03T00:15:02Z', ' n3 ', ' EXPORT ', ' 105 ', '10.0.0.3', 'lab'],
      ['2026-11-03 08:15:02 -0530', 'n4', 'search', '106', '', 'his'],
      ['1762128902', 'n5', 'view', '107', '', ''],
      ['1762128902123', 'n5', 'view', '', '', ''],
      ['2026-11-03 08:15', 'n6', 'open', '108', '', ''],
      ['2026-02-29 08:00:00', 'n7', 'view', '109', '', ''],
      ['2026-11-03 24:00:00', 'n7', 'view', '110', '', ''],
      ['2026-11-03 08:00:00 +2400', 'n7', 'view', '111', '', ''],
      ['', 'n8', 'view', '112', '', ''],
      ['2026-11-03 08:00:00', '', 'view', '113', '', ''],
      ['2026-11-03 08:00:00', 'n9', '', '114', '', ''],
      ['yesterday at noon', 'n9', 'view', '115', '', ''],
    ];
    const header = 'when,who,what,patient,ip,app';
    const map = { ts: 'when', user: 'who', action: 'what', record: 'patient', ip: 'ip', system: 'app' } as const;
    fs.writeFileSync(path.join(dir, 'plain.csv'), [header, ...rows.map((r) => r.join(','))].join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'quoted.csv'), [header, ...rows.map((r) => r.map((c) => `"${c}"`).join(','))].join('\n') + '\n');
    const opts = { hospital: h.hospital.name, format: 'csv' as const, timeZone: 'Asia/Shanghai', map, recordKey: null, alertChannels: [] };
    const plain = await importAccessLog(h.vault, path.join(dir, 'plain.csv'), opts);
    const quoted = await importAccessLog(h.vault, path.join(dir, 'quoted.csv'), opts);
    expect(plain).toMatchObject({ lines: 16, added: 8, rejected: 7 });
    expect(quoted).toMatchObject({ lines: 16, added: 0, duplicates: 8, rejected: 7 });
    expect(plain.rejects.map((r) => [r.line, r.reason])).toEqual(quoted.rejects.map((r) => [r.line, r.reason]));
    expect(plain.rejects.map((r) => r.line)).toEqual([10, 11, 12, 13, 14, 15, 16]);
    expect(plain.rejects[0].text).toBe('2026-02-29 08:00:00,n7,view,109,,');
    const { rows: events } = await h.vault.query<{ line: number; at: Date; account: string; action: string; scope: string; records: string[]; system: string | null; ip: string | null }>(
      `SELECT e.line, e.at, e.account, e.action, e.scope, e.records, e.system, e.ip FROM access_events e WHERE e.import_id = $1 ORDER BY e.line`,
      [plain.importId],
    );
    expect(events.map((e) => [e.line, e.at.toISOString(), e.account, e.action, e.scope, e.records, e.system, e.ip])).toEqual([
      [2, '2026-11-03T00:15:02.000Z', 'n1', 'view', 'single', ['101'], 'his', '10.0.0.1'],
      [3, '2026-11-03T00:15:02.123Z', 'n1', 'print', 'single', ['102'], null, null],
      [4, '2026-11-03T00:15:02.500Z', 'n2', 'list', 'bulk', ['103', '104'], 'his', '10.0.0.2'],
      [5, '2026-11-03T00:15:02.000Z', 'n3', 'export', 'single', ['105'], 'lab', '10.0.0.3'],
      [6, '2026-11-03T13:45:02.000Z', 'n4', 'search', 'bulk', ['106'], 'his', null],
      [7, '2025-11-03T00:15:02.000Z', 'n5', 'view', 'single', ['107'], null, null],
      [8, '2025-11-03T00:15:02.123Z', 'n5', 'view', 'bulk', [], null, null],
      [9, '2026-11-03T00:15:00.000Z', 'n6', 'open', 'single', ['108'], null, null],
    ]);
  });
});

describe.each(BACKENDS)('the plain reader, its fallbacks and dedup across batches on %s', (backend) => {
  let h: TestHospital;
  let canaryKeys: { id: string; record: string }[];
  let dir: string;
  const options = (extra: Partial<ImportAccessOptions> = {}) => importOptions(h, extra);
  type Event = [number, string, string, string, string, string[], string | null, string | null];
  const eventsOf = async (importId: number): Promise<Event[]> => {
    const { rows } = await h.vault.query<{ line: number; at: Date; account: string; action: string; scope: string; records: string[]; system: string | null; ip: string | null }>(
      `SELECT line, at, account, action, scope, records, system, ip FROM access_events WHERE import_id = $1 ORDER BY line`,
      [importId],
    );
    return rows.map((e) => [Number(e.line), e.at.toISOString(), e.account, e.action, e.scope, e.records, e.system, e.ip]);
  };
  const tripwiresOf = async (importId: number) => {
    const { rows } = await h.vault.query<{ line: number; canary_id: string; account: string; action: string; scope: string; at: Date; system: string | null; ip: string | null }>(
      `SELECT line, canary_id, account, action, scope, at, system, ip FROM tripwires WHERE import_id = $1 ORDER BY line, canary_id`,
      [importId],
    );
    return rows.map((w) => [Number(w.line), w.canary_id, w.account, w.action, w.scope, w.at.toISOString(), w.system, w.ip]);
  };

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 60, trapNumbers: 8 });
    const now = new Date('2026-11-02T00:00:00Z');
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 2, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W45', ...birthWindow(now), seed: 'fallbacks' });
    const canaries = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    canaryKeys = canaries.map((c) => ({ id: c.id, record: String(c.target_keys!.birth.birth_id) }));
    expect(canaryKeys).toHaveLength(2);
    dir = scratchDir('access-fallbacks');
  });
  afterAll(async () => h?.close());

  it('reads every kind of line the same on the byte path, its string fallback and the general reader', async () => {
    const [a, b] = canaryKeys;
    // Lines 2-22 of the log (line 1 is the header): the byte path, and each of its fallbacks.
    const lines = [
      /* 2 */ `2026-11-10 08:00:00,nurse01,view,R1,10.0.0.1,his`,
      /* 3 */ ` 2026-11-10 08:00:01 , nurse02 , VIEW , ${a.record} , 10.0.0.2 , his `,
      /* 4 */ `2026-11-10 08:00:02,clerk01,list,R1; R2|R3;;R1| ,10.0.0.3,his`,
      /* 5 */ `2026-11-10 08:00:03,王芳,view,${b.record},10.0.0.4,his`,
      /* 6 */ `2026-11-10 08:00:04,nurse\t03,view,R4,10.0.0.5,his`,
      /* 7 */ `2026-11-10T00:00:05Z,nurse04,view,R5,,`,
      /* 8 */ `2026-11-10T08:00:06+08:00,nurse05,PRINT,${a.record},,his`,
      /* 9 */ `1762732807,nurse06,view,R6,10.0.0.6,`,
      /* 10 */ `2026-11-10 08:00:59,nurse07,View,R7,10.0.0.7,his`,
      /* 11 */ `2026-11-10 08:01:00,nurse08,view,R8,10.0.0.8,his,extra`,
      /* 12 */ ``,
      /* 13 */ `2026-11-10 08:01:01,,view,R9,10.0.0.9,his`,
      /* 14 */ `2026-11-10 08:01:02,nurse09,view,R10,10.0.0.10,his\r`,
      /* 15 */ `2026-11-10 08:01:03,nurse10,export,${a.record};${b.record},10.0.0.11,his`,
      /* 16 */ `2026-11-10 25:00:00,nurse11,view,R11,10.0.0.12,his`,
      /* 17 */ `2026-11-10 08:01:04,nurse12,view`,
      /* 18 */ `2026-11-10 08:01:05,  ,view,R12,,`,
      /* 19 */ `2026-11-10 08:01:06,nurse13,   ,R13,,`,
      /* 20 */ `2026-11-10 08:00:00,nurse01,view,R1,10.0.0.1,his`,
      /* 21 */ `2026-11-10 08:01:07,nurse14,open,,10.0.0.13,lab`,
      /* 22, no newline at the end */ `2026-11-10 08:01:08,王芳,view,${b.record},10.0.0.4,his`,
    ];
    const plainFile = path.join(dir, 'mixed.csv');
    const quotedFile = path.join(dir, 'mixed-quoted.csv');
    fs.writeFileSync(plainFile, [HEADER, ...lines].join('\n'));
    // One quoted field makes the whole file go through the general reader.
    fs.writeFileSync(quotedFile, [HEADER, lines[0].replace('nurse01', '"nurse01"'), ...lines.slice(1)].join('\n'));
    expect(fs.readFileSync(plainFile, 'utf8')).not.toContain('"');

    const plain = await importAccessLog(h.vault, plainFile, options({ batchRows: 7 }));
    expect(plain).toMatchObject({ lines: 22, added: 13, duplicates: 1, rejected: 6, tripwires: 6, alerts: 4 });
    const plainEvents = await eventsOf(plain.importId);
    const plainWires = await tripwiresOf(plain.importId);
    const at = (s: string) => new Date(s).toISOString();
    expect(plainEvents).toEqual([
      [2, at('2026-11-10T00:00:00Z'), 'nurse01', 'view', 'single', ['R1'], 'his', '10.0.0.1'],
      [3, at('2026-11-10T00:00:01Z'), 'nurse02', 'view', 'single', [a.record], 'his', '10.0.0.2'],
      [4, at('2026-11-10T00:00:02Z'), 'clerk01', 'list', 'bulk', ['R1', 'R2', 'R3'], 'his', '10.0.0.3'],
      [5, at('2026-11-10T00:00:03Z'), '王芳', 'view', 'single', [b.record], 'his', '10.0.0.4'],
      // The tab inside the field is stored as a space.
      [6, at('2026-11-10T00:00:04Z'), 'nurse 03', 'view', 'single', ['R4'], 'his', '10.0.0.5'],
      [7, at('2026-11-10T00:00:05Z'), 'nurse04', 'view', 'single', ['R5'], null, null],
      [8, at('2026-11-10T00:00:06Z'), 'nurse05', 'print', 'single', [a.record], 'his', null],
      [9, at('2025-11-10T00:00:07Z'), 'nurse06', 'view', 'single', ['R6'], null, '10.0.0.6'],
      [10, at('2026-11-10T00:00:59Z'), 'nurse07', 'view', 'single', ['R7'], 'his', '10.0.0.7'],
      [14, at('2026-11-10T00:01:02Z'), 'nurse09', 'view', 'single', ['R10'], 'his', '10.0.0.10'],
      [15, at('2026-11-10T00:01:03Z'), 'nurse10', 'export', 'bulk', [a.record, b.record], 'his', '10.0.0.11'],
      [21, at('2026-11-10T00:01:07Z'), 'nurse14', 'open', 'bulk', [], 'lab', '10.0.0.13'],
      [22, at('2026-11-10T00:01:08Z'), '王芳', 'view', 'single', [b.record], 'his', '10.0.0.4'],
    ]);
    expect(plain.rejects.map((r) => r.line)).toEqual([11, 13, 16, 17, 18, 19]);
    expect(plain.rejects[0].reason).toBe('row: the row has 7 columns, the header 6');
    expect(plain.rejects[3].reason).toMatch(/^record \(patient_id\): missing/);
    expect(plainWires.map((w) => [w[0], w[1], w[2], w[4]])).toEqual(
      [
        [3, a.id, 'nurse02', 'single'],
        [5, b.id, '王芳', 'single'],
        [8, a.id, 'nurse05', 'single'],
        [15, a.id, 'nurse10', 'bulk'],
        [15, b.id, 'nurse10', 'bulk'],
        [22, b.id, '王芳', 'single'],
      ].sort((x, y) => (x[0] as number) - (y[0] as number) || String(x[1]).localeCompare(String(y[1]))),
    );

    // The same events stored again by the general reader: the plain import's blocks go, so that
    // nothing of the quoted copy is a duplicate of them.
    await h.vault.query(`DELETE FROM access_blocks WHERE import_id = $1`, [plain.importId]);
    const quoted = await importAccessLog(h.vault, quotedFile, options({ batchRows: 7 }));
    expect(quoted).toMatchObject({ lines: 22, added: 13, duplicates: 1, rejected: 6, tripwires: 6, alerts: 4 });
    expect(await eventsOf(quoted.importId)).toEqual(plainEvents);
    expect(quoted.rejects.map((r) => [r.line, r.reason])).toEqual(plain.rejects.map((r) => [r.line, r.reason]));
    expect(quoted.rejects.map((r) => r.text)).toEqual(plain.rejects.map((r) => r.text));
    expect(await tripwiresOf(quoted.importId)).toEqual(plainWires);
  });

  it('stores an event once when it comes again in the next batch, far later in the file, or in an overlapping file', async () => {
    const clock = (n: number) => `2026-11-12 09:${String(Math.floor(n / 60)).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}`;
    const filler = (n: number) => `${clock(n)},nurse${n % 7},view,F${n},10.1.0.${n},his`;
    const twice = `${clock(3)},nurseE,view,E1,10.1.1.1,his`;
    // Batches of 5 lines: 2-6, 7-11, ... The event at line 3 comes again at line 9 (the next batch,
    // whose span meets the previous block's) and at line 49 (the batch 47-51: the two blocks before it
    // are 37-46, so it is found among the stored blocks). Line 5 repeats line 4 within its batch.
    const lines: string[] = [];
    for (let n = 2; n <= 60; n++) lines.push(n === 3 || n === 9 || n === 49 ? twice : n === 5 ? filler(4) : filler(n));
    const file = path.join(dir, 'repeats.csv');
    fs.writeFileSync(file, [HEADER, ...lines].join('\n') + '\n');
    const before = await count(h.vault, 'SELECT 1 FROM access_events');
    const res = await importAccessLog(h.vault, file, options({ batchRows: 5 }));
    expect(res).toMatchObject({ lines: 60, added: 56, duplicates: 3, rejected: 0, tripwires: 0 });
    expect(await count(h.vault, 'SELECT 1 FROM access_events')).toBe(before + 56);
    const events = await eventsOf(res.importId);
    expect(events.map((e) => e[0])).toEqual(Array.from({ length: 59 }, (_, i) => i + 2).filter((n) => ![5, 9, 49].includes(n)));
    const { rows: once } = await h.vault.query<{ line: number; import_id: number }>(`SELECT line, import_id FROM access_events WHERE account = 'nurseE'`);
    expect(once.map((r) => [Number(r.line), Number(r.import_id)])).toEqual([[3, res.importId]]);
    // One block a batch: nothing of a batch was lost with its duplicates.
    expect(await count(h.vault, `SELECT 1 FROM access_blocks WHERE import_id = $1`, [res.importId])).toBe(12);

    // Another file sharing some of these lines in another order, with three new ones.
    const shared = [filler(20), filler(10), twice, filler(2), filler(58), filler(31), filler(4)];
    const fresh = [0, 1, 2].map((i) => `${clock(100 + i)},clerk09,view,N${i},10.1.2.${i},his`);
    const overlap = [shared[0], shared[1], shared[2], fresh[0], shared[3], fresh[1], shared[4], shared[5], fresh[2], shared[6]];
    fs.writeFileSync(path.join(dir, 'repeats-overlap.csv'), [HEADER, ...overlap].join('\n') + '\n');
    const second = await importAccessLog(h.vault, path.join(dir, 'repeats-overlap.csv'), options({ batchRows: 3 }));
    expect(second).toMatchObject({ lines: 11, added: 3, duplicates: 7, rejected: 0 });
    expect((await eventsOf(second.importId)).map((e) => [e[0], e[2], e[5]])).toEqual([
      [5, 'clerk09', ['N0']],
      [7, 'clerk09', ['N1']],
      [10, 'clerk09', ['N2']],
    ]);
    // And a quoted copy of some of them (the general reader) adds only its one new line.
    const quoted = [shared[6], `${clock(103)},"clerk09",view,N3,10.1.2.3,his`, fresh[2].replace('clerk09', '"clerk09"'), twice, shared[0]];
    fs.writeFileSync(path.join(dir, 'repeats-quoted.csv'), [HEADER, ...quoted].join('\n') + '\n');
    const third = await importAccessLog(h.vault, path.join(dir, 'repeats-quoted.csv'), options({ batchRows: 2 }));
    expect(third).toMatchObject({ lines: 6, added: 1, duplicates: 4, rejected: 0 });
    expect(await count(h.vault, 'SELECT 1 FROM access_events')).toBe(before + 56 + 3 + 1);
    expect(await count(h.vault, `SELECT 1 FROM access_events WHERE account = 'nurseE'`)).toBe(1);
  });
});
