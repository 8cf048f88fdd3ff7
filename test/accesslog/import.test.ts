import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { importAccessLog, type ImportAccessOptions } from '../../src/accesslog/import.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { count, createTestHospital, type TestHospital } from '../helpers/hospital.js';

// Importing access logs into a real vault: idempotent, resumable, rejects with line numbers, tripwires
// and their alerts, exposures of canaries to the accounts that opened them.

const HEADER = 'event_time,operator,op,patient_id,client_ip,app';

describe.each(BACKENDS)('access-log import on %s', (backend) => {
  let h: TestHospital;
  let canaryKeys: { id: string; record: string }[];
  let realKeys: string[];
  let dir: string;
  const options = (extra: Partial<ImportAccessOptions> = {}): ImportAccessOptions => ({
    hospital: h.hospital.name,
    format: 'csv',
    timeZone: 'Asia/Shanghai',
    map: { ts: 'event_time', user: 'operator', action: 'op', record: 'patient_id', ip: 'client_ip', system: 'app' },
    recordKey: { alias: 'birth', table: 'births', column: 'birth_id' },
    alertChannels: ['email'],
    ...extra,
  });
  /** A day of ordinary work on real records, with the canary accesses at fixed lines. */
  const logLines = (day: string, n: number): string[] =>
    Array.from({ length: n }, (_, i) => {
      const minute = String(i % 60).padStart(2, '0');
      const hour = String(8 + Math.floor(i / 60)).padStart(2, '0');
      return `${day} ${hour}:${minute}:00,nurse${String(i % 9).padStart(2, '0')},view,${realKeys[i % realKeys.length]},10.0.3.${i % 200},his`;
    });

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 120, trapNumbers: 20 });
    const now = new Date('2026-11-02T00:00:00Z');
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 4, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W45', ...birthWindow(now), seed: 'access' });
    const canaries = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    canaryKeys = canaries.map((c) => ({ id: c.id, record: String(c.target_keys!.birth.birth_id) }));
    const { rows } = await h.target.query<{ birth_id: number }>(`SELECT birth_id FROM births WHERE birth_id <> ALL($1::bigint[]) ORDER BY birth_id`, [canaryKeys.map((k) => Number(k.record))]);
    realKeys = rows.map((r) => String(r.birth_id));
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
