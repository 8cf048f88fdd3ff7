import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { classifyAction, parseAccessLog, parseMapOption } from '../../src/accesslog/parse.js';
import { parsePgLogTime, parseTimestamp, TIMESTAMP_HINT } from '../../src/accesslog/time.js';
import type { AccessRow, ParsedLine, ParseOptions } from '../../src/domain/access.js';
import { UserError } from '../../src/lib/errors.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';

// The access-log parsers over fixtures/access: every format's rows, rejects with their line numbers and
// reasons, time zones with and without DST, FHIR scope rules and pgaudit's statement reading.

type Options = Omit<ParseOptions, 'source'>;

const fixture = (name: string) => path.join(FIXTURES_DIR, 'access', name);

async function collect(input: NodeJS.ReadableStream | AsyncIterable<Buffer | string>, options: ParseOptions): Promise<ParsedLine[]> {
  const out: ParsedLine[] = [];
  for await (const item of parseAccessLog(input, options)) out.push(item);
  return out;
}

/** A fixture read in 64-byte chunks, so lines and CSV records cross chunk boundaries. */
const parseFile = (name: string, options: Options) => collect(fs.createReadStream(fixture(name), { highWaterMark: 64 }), { ...options, source: name });

async function* chunks(...parts: (Buffer | string)[]): AsyncGenerator<Buffer | string> {
  yield* parts;
}

const parseText = (text: string, options: Options) => collect(chunks(Buffer.from(text)), { ...options, source: 'inline' });

function rows(items: ParsedLine[]): Map<number, AccessRow> {
  return new Map(items.flatMap((i) => ('row' in i ? [[i.line, i.row] as const] : [])));
}

function rejects(items: ParsedLine[]): Map<number, { reason: string; text: string }> {
  return new Map(items.flatMap((i) => ('reject' in i ? [[i.line, { reason: i.reject, text: i.text }] as const] : [])));
}

const iso = (row: AccessRow | undefined) => row?.at.toISOString();

/** A fixture's line as a reject carries it: cut at 500 characters. */
function fixtureLine(name: string, line: number): string {
  const text = fs.readFileSync(fixture(name), 'utf8').split('\n')[line - 1];
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

describe('timestamps', () => {
  it('reads wall-clock times in the zone, with DST where the zone has it', () => {
    expect(parseTimestamp('2026-11-03 08:15:02', 'Asia/Shanghai')?.toISOString()).toBe('2026-11-03T00:15:02.000Z');
    expect(parseTimestamp('2026-07-14 08:15:02', 'Asia/Shanghai')?.toISOString()).toBe('2026-07-14T00:15:02.000Z');
    expect(parseTimestamp('2026-11-03T08:15:02.123', 'Asia/Shanghai')?.toISOString()).toBe('2026-11-03T00:15:02.123Z');
    expect(parseTimestamp('2026-07-14 09:30', 'America/New_York')?.toISOString()).toBe('2026-07-14T13:30:00.000Z');
    expect(parseTimestamp('2026-12-01 09:30:00', 'America/New_York')?.toISOString()).toBe('2026-12-01T14:30:00.000Z');
  });

  it('takes an offset or Z as the instant, whatever the zone', () => {
    for (const text of ['2026-11-03T08:15:02+08:00', '2026-11-03T08:15:02+0800', '2026-11-03 08:15:02+08', '2026-11-03T00:15:02Z', '2026-11-02T19:15:02-05:00']) {
      expect(parseTimestamp(text, 'America/New_York')?.toISOString()).toBe('2026-11-03T00:15:02.000Z');
    }
  });

  it('reads 10 digits as epoch seconds and 13 as milliseconds', () => {
    expect(parseTimestamp('1793673600', 'Asia/Shanghai')?.toISOString()).toBe('2026-11-03T02:40:00.000Z');
    expect(parseTimestamp('1793673600123', 'Asia/Shanghai')?.toISOString()).toBe('2026-11-03T02:40:00.123Z');
  });

  it('refuses what is not a time', () => {
    for (const text of ['2026-13-01 08:00:00', '2026-02-29 08:00:00', '2026-11-31T10:00:00+08:00', '2026-11-03', '2026-11-03 24:00:00', '12345', '17936736001', 'yesterday', '03/11/2026 08:00', '2026-11-03T08:00:00+25:00']) {
      expect(parseTimestamp(text, 'UTC')).toBeNull();
    }
    expect(parseTimestamp('2028-02-29 08:00:00', 'UTC')?.toISOString()).toBe('2028-02-29T08:00:00.000Z');
  });

  it('reads csvlog times: UTC, GMT and numeric offsets as written, other abbreviations in the zone', () => {
    expect(parsePgLogTime('2026-11-03 08:15:02.123 UTC', 'Asia/Shanghai')?.toISOString()).toBe('2026-11-03T08:15:02.123Z');
    expect(parsePgLogTime('2026-11-03 08:15:02 GMT', 'Asia/Shanghai')?.toISOString()).toBe('2026-11-03T08:15:02.000Z');
    expect(parsePgLogTime('2026-11-03 08:15:02.123 +08', 'UTC')?.toISOString()).toBe('2026-11-03T00:15:02.123Z');
    expect(parsePgLogTime('2026-11-03 08:15:02.000 -0330', 'UTC')?.toISOString()).toBe('2026-11-03T11:45:02.000Z');
    // CST is China Standard Time in Shanghai and Central Standard Time in Chicago: the zone decides.
    expect(parsePgLogTime('2026-11-03 08:15:02.123 CST', 'Asia/Shanghai')?.toISOString()).toBe('2026-11-03T00:15:02.123Z');
    expect(parsePgLogTime('2026-11-03 08:15:02.123 CST', 'America/Chicago')?.toISOString()).toBe('2026-11-03T14:15:02.123Z');
    expect(parsePgLogTime('2026-11-03T08:15:02Z', 'UTC')).toBeNull();
  });
});

describe('--map and action classification', () => {
  it('parses field=column pairs', () => {
    expect(parseMapOption('ts=event_time, user=operator.id,action=op,record=Patient IDs')).toEqual({ ts: 'event_time', user: 'operator.id', action: 'op', record: 'Patient IDs' });
  });

  it('names the bad part of a bad map', () => {
    const cases: [string, RegExp][] = [
      ['when=event_time', /"when=event_time": "when" is not a field \(fields: ts, user, action, record, ip, system\)/],
      ['ts=a,user', /"user": write field=column/],
      ['ts=', /"ts=": write field=column/],
      ['=a', /"=a": write field=column/],
      ['ts=a,ts=b', /"ts=b": ts is mapped twice/],
      ['ts=a,,user=b', /empty pair/],
      ['  ', /--map is empty/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseMapOption(text)).toThrow(UserError);
      expect(() => parseMapOption(text)).toThrow(message);
    }
  });

  it('calls one known single-record action on one record single, everything else bulk', () => {
    for (const a of ['view', ' VIEW ', 'read', 'open', 'print', 'export', 'download', 'get', 'update', 'edit', 'select', 'copy', 'vread']) expect(classifyAction(a, 1)).toBe('single');
    for (const a of ['list', 'search', 'query', 'report', 'browse', 'search-type', 'delete', 'create', 'login', '']) expect(classifyAction(a, 1)).toBe('bulk');
    expect(classifyAction('view', 0)).toBe('bulk');
    expect(classifyAction('print', 2)).toBe('bulk');
  });
});

describe('csv', () => {
  const shanghai: Options = { format: 'csv', timeZone: 'Asia/Shanghai' };

  it('reads every row of a HIS access export with its line, including a record spanning two lines', async () => {
    const items = await parseFile('his-access.csv', shanghai);
    expect(items.map((i) => i.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 16]);
    expect(rejects(items).size).toBe(0);
    const r = rows(items);
    expect(r.get(2)).toEqual({ at: new Date('2026-11-03T00:02:11Z'), account: 'wang.min', action: 'view', scope: 'single', records: ['48213'], system: 'EMR', ip: '10.2.0.15' });
    expect(r.get(3)).toMatchObject({ action: 'print', scope: 'single', records: ['48213'] });
    expect(r.get(4)).toMatchObject({ action: 'list', scope: 'bulk', records: ['48213', '48214', '48215'], system: 'Ward board' });
    expect(r.get(5)).toMatchObject({ action: 'search', scope: 'bulk', records: [] });
    expect(r.get(6)).toMatchObject({ action: 'export', scope: 'single', system: 'EMR, Obstetrics' });
    expect(iso(r.get(6))).toBe('2026-11-03T01:20:00.000Z');
    expect(r.get(7)).toMatchObject({ action: 'open', scope: 'single', ip: null });
    expect(iso(r.get(7))).toBe('2026-11-03T01:25:00.000Z');
    expect(r.get(8)).toMatchObject({ action: 'report', scope: 'bulk', records: ['48213', '48218'] });
    expect(iso(r.get(10))).toBe('2026-11-03T02:15:31.250Z');
    expect(r.get(11)).toMatchObject({ action: 'update', scope: 'single', records: ['48219'], ip: null, system: 'Interface engine' });
    expect(iso(r.get(11))).toBe('2026-11-03T02:40:00.000Z');
    expect(iso(r.get(12))).toBe('2026-11-03T02:40:00.123Z');
    expect(r.get(12)).toMatchObject({ action: 'edit', scope: 'single', records: ['48219'] });
    expect(r.get(13)).toMatchObject({ action: 'delete', scope: 'bulk' });
    expect(r.get(14)).toMatchObject({ action: 'view', scope: 'bulk', records: [] });
    expect(r.get(16)).toMatchObject({ account: 'wang.min', action: 'get', scope: 'single', records: ['48221'] });
  });

  it('rejects bad rows with the field and the line, and carries on after an unclosed quote', async () => {
    const name = 'his-access-bad.csv';
    const items = await parseFile(name, shanghai);
    expect(items.map((i) => i.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect([...rows(items).keys()]).toEqual([2, 11]);
    const bad = rejects(items);
    expect(bad.get(3)?.reason).toMatch(/^ts: "2026-13-01 08:00:00" is not a timestamp \(write ISO 8601/);
    expect(bad.get(4)?.reason).toBe('user: missing');
    expect(bad.get(5)?.reason).toBe('action: missing (the row has 2 columns, the header 6)');
    expect(bad.get(6)?.reason).toBe('row: the row has 7 columns, the header 6');
    expect(bad.get(7)?.reason).toBe('row: not valid CSV ("x" after the closing quote in column 4)');
    expect(bad.get(8)?.reason).toMatch(/^ts: "2026-02-30 08:07:00" is not a timestamp/);
    expect(bad.get(9)?.reason).toMatch(/^ts: "yesterday" is not a timestamp/);
    expect(bad.get(10)?.reason).toBe('row: a quote opened on this line is never closed');
    expect(bad.get(12)?.reason).toBe('action: missing');
    for (const [line, { text }] of bad) expect(text).toBe(fixtureLine(name, line));
  });

  it('finds mapped columns (ignoring case) and names them in reasons', async () => {
    const map = parseMapOption('ts=Event Time,user=Operator,action=Operation,record=patient ids,ip=Client IP,system=Application');
    const items = await parseFile('his-export.csv', { ...shanghai, map });
    expect(items).toHaveLength(3);
    expect(rows(items).get(4)).toEqual({ at: new Date('2026-11-03T01:20:00Z'), account: 'chen.jie', action: 'export', scope: 'single', records: ['48216'], system: 'EMR', ip: '10.2.0.44' });
    expect(rows(items).get(2)).toMatchObject({ account: 'wang.min', action: 'view', scope: 'single' });
    expect(rows(items).get(3)).toMatchObject({ action: 'list', scope: 'bulk', records: ['48213', '48214'] });
    const bad = await parseText('Event Time,Operator,Operation\n2026-11-03 08:00:00,,View\n', { ...shanghai, map: { ts: 'Event Time', user: 'Operator', action: 'Operation' } });
    expect(bad).toEqual([{ line: 2, reject: 'user (Operator): missing', text: '2026-11-03 08:00:00,,View' }]);
  });

  it('fails the file when the header lacks a required or mapped column', async () => {
    await expect(parseFile('his-export.csv', shanghai)).rejects.toThrow(UserError);
    await expect(parseFile('his-export.csv', shanghai)).rejects.toThrow(
      'his-export.csv:1: the header has no column "ts" for ts (columns: Event Time, Operator, Operation, Patient IDs, Client IP, Application); map it with --map ts=<column>',
    );
    await expect(parseFile('his-access.csv', { ...shanghai, map: { ip: 'Client IP' } })).rejects.toThrow('his-access.csv:1: the header has no column "Client IP" for ip');
    // Without ip and system columns the rows simply have none.
    const items = await parseText('ts,user,action,record\n2026-11-03 08:00:00,wang.min,view,48213\n', shanghai);
    expect(items).toEqual([{ line: 2, row: expect.objectContaining({ ip: null, system: null, scope: 'single' }) }]);
  });

  it('reads a byte stream split inside characters, with a BOM and CRLF line ends', async () => {
    const bytes = Buffer.from('\uFEFFts,user,action,record\r\n2026-11-03 08:00:00,王敏,view,48213\r\n\r\n2026-11-03 08:01:00,李娜,"list",48213;48214\r\n');
    const oneByteAtATime = (async function* () {
      for (const b of bytes) yield Buffer.from([b]);
    })();
    const items = await collect(oneByteAtATime, { ...shanghai, source: 'bytes.csv' });
    expect(items.map((i) => ('row' in i ? [i.line, i.row.account, i.row.scope] : i))).toEqual([
      [2, '王敏', 'single'],
      [4, '李娜', 'bulk'],
    ]);
  });

  it('splits quoted values exactly and names a quote inside an unquoted value', async () => {
    const header = 'ts,user,action,record,ip,system\n';
    const items = await parseText(`${header}2026-11-03 08:00:00,"wang, ""min""","view",,"",\n2026-11-03 08:00:00,wa"n"g,view,48213,,\n`, shanghai);
    expect(items[0]).toEqual({ line: 2, row: expect.objectContaining({ account: 'wang, "min"', action: 'view', records: [], ip: null, system: null, scope: 'bulk' }) });
    expect(items[1]).toMatchObject({ line: 3, reject: 'row: not valid CSV (a quote inside an unquoted value in column 2)' });
  });

  it('gives up on a quote still open after 2000 lines and reads those lines again', async () => {
    const good = (i: number) => `2026-11-03 08:00:00,user${i},view,${48000 + i},,\n`;
    const text = `ts,user,action,record,ip,system\n2026-11-03 08:00:00,"stray,view,1,,\n${Array.from({ length: 2100 }, (_, i) => good(i)).join('')}`;
    const items = await parseText(text, shanghai);
    expect(items).toHaveLength(2101);
    expect(items[0]).toEqual({ line: 2, reject: 'row: a quote opened on this line is never closed', text: '2026-11-03 08:00:00,"stray,view,1,,' });
    expect(items.slice(1).every((i, n) => 'row' in i && i.line === n + 3 && i.row.account === `user${n}`)).toBe(true);
  });

  it('refuses an unknown time zone before reading', async () => {
    await expect(parseFile('his-access.csv', { format: 'csv', timeZone: 'Mars/Olympus_Mons' })).rejects.toThrow('"Mars/Olympus_Mons" is not an IANA time zone');
  });
});

describe('jsonl', () => {
  const map = parseMapOption('ts=event_time,user=operator.id,action=op,record=patient_ids,ip=client_ip,system=app');
  const newYork: Options = { format: 'jsonl', timeZone: 'America/New_York', map };

  it('reads mapped keys, nested paths, arrays and numbers, with New York DST', async () => {
    const items = await parseFile('emr-audit.jsonl', newYork);
    expect(items.map((i) => i.line)).toEqual([1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12]);
    const r = rows(items);
    expect(r.size).toBe(11);
    expect(r.get(1)).toEqual({ at: new Date('2026-07-14T13:30:00Z'), account: 'jsmith', action: 'view', scope: 'single', records: ['48213'], system: 'Epic Hyperspace', ip: '172.16.4.20' });
    expect(iso(r.get(2))).toBe('2026-12-01T14:30:00.000Z'); // EST in December
    expect(iso(r.get(3))).toBe('2026-07-14T13:31:00.000Z');
    expect(r.get(4)).toMatchObject({ account: 'rdoe', action: 'open', scope: 'single' });
    expect(iso(r.get(4))).toBe('2026-07-14T13:31:00.000Z'); // epoch milliseconds as a JSON number
    expect(r.get(5)).toMatchObject({ action: 'view', scope: 'bulk', records: ['48214', '48215'] });
    expect(r.get(6)).toMatchObject({ action: 'export', scope: 'single', records: ['48216'] });
    expect(r.get(8)).toMatchObject({ action: 'search', scope: 'bulk', records: [], system: 'Census' });
    // 02:30 on 8 March does not exist in New York (clocks jump to 03:00): read as 03:30 EDT.
    expect(iso(r.get(9))).toBe('2026-03-08T07:30:00.000Z');
    // 01:30 on 1 November happens twice: read as the first, EDT.
    expect(iso(r.get(10))).toBe('2026-11-01T05:30:00.000Z');
    expect(r.get(10)).toMatchObject({ ip: null, system: 'Interface engine' });
    expect(r.get(11)).toMatchObject({ action: 'report', scope: 'bulk', records: ['48215', '48216'] });
    expect(r.get(12)).toMatchObject({ action: 'print', scope: 'single', ip: null, system: null });
  });

  it('rejects bad JSON, non-objects, missing and mistyped fields', async () => {
    const name = 'emr-audit-bad.jsonl';
    const items = await parseFile(name, newYork);
    expect([...rows(items).keys()]).toEqual([1, 7]);
    const bad = rejects(items);
    expect([...bad.keys()]).toEqual([2, 3, 4, 5, 6]);
    expect(bad.get(2)?.reason).toMatch(/^json: not valid JSON \(/);
    expect(bad.get(3)?.reason).toBe('json: expected one JSON object per line, got an array');
    expect(bad.get(4)?.reason).toBe('user (operator.id): missing');
    expect(bad.get(5)?.reason).toMatch(/^ts \(event_time\): "14\/07\/2026 09:45" is not a timestamp/);
    expect(bad.get(6)?.reason).toBe('user (operator.id): expected text or a number, got an object');
    for (const [line, { text }] of bad) expect(text).toBe(fixtureLine(name, line));
  });

  it('uses the field names when there is no map, and keeps reasons and reject text short', async () => {
    const items = await parseText(`{"ts":"2026-11-03 08:00:00","user":"wang.min","action":"View","record":"48213"}\n{"ts":"${'x'.repeat(2000)}\\nnext"}\n`, { format: 'jsonl', timeZone: 'Asia/Shanghai' });
    expect(items[0]).toEqual({ line: 1, row: { at: new Date('2026-11-03T00:00:00Z'), account: 'wang.min', action: 'view', scope: 'single', records: ['48213'], system: null, ip: null } });
    // The reason stays one short line: the value is cut at 80 characters.
    expect(items[1]).toMatchObject({ line: 2, reject: `ts: "${'x'.repeat(80)}…" is not a timestamp (${TIMESTAMP_HINT})` });
    expect('text' in items[1] && items[1].text.length).toBe(501);
  });
});

describe('fhir', () => {
  const options: Options = { format: 'fhir', timeZone: 'Asia/Shanghai' };

  it('maps AuditEvents: requestor, REST subtype, observer, entity ids and scope', async () => {
    const items = await parseFile('fhir-audit.ndjson', options);
    expect(items).toHaveLength(10);
    const r = rows(items);
    expect(r.get(1)).toEqual({
      at: new Date('2026-11-03T00:02:11.482Z'), account: 'wang.min', action: 'read', scope: 'single', records: ['48213'], system: 'Cradle Hospital FHIR server', ip: '10.2.0.15',
    });
    // A versioned absolute reference still names Patient 48213.
    expect(r.get(2)).toMatchObject({ action: 'vread', scope: 'single', records: ['48213'] });
    expect(iso(r.get(2))).toBe('2026-11-03T00:05:40.000Z');
    // A search is bulk: its entity is the query, not a record.
    expect(r.get(3)).toMatchObject({ action: 'search-type', scope: 'bulk', records: [], account: 'li.na' });
    // The requestor agent is the account even when listed second; the kiosk gives the address.
    expect(r.get(4)).toMatchObject({ account: 'Practitioner/7788', action: 'read', scope: 'single', records: ['48217'], ip: '10.2.0.77' });
    // DICOM "Export" event type, observer named by identifier.
    expect(r.get(5)).toMatchObject({ action: 'export', scope: 'single', records: ['48214'], system: 'emr-obstetrics' });
    // A read naming a patient and an encounter is two records: bulk.
    expect(r.get(6)).toMatchObject({ action: 'read', scope: 'bulk', records: ['48215', 'enc-9001'] });
    expect(r.get(7)).toMatchObject({ action: 'create', scope: 'bulk', records: ['48230'] });
    // No subtype: the action code U; entity by identifier; observer by reference.
    expect(r.get(8)).toMatchObject({ action: 'update', scope: 'single', records: ['48218'], system: 'Device/fhir-gateway' });
    expect(r.get(9)).toMatchObject({ action: 'operation', scope: 'bulk', records: ['48216'] });
    // A recorded time without an offset is read in the zone; the same patient twice is one record.
    expect(r.get(10)).toMatchObject({ action: 'read', scope: 'single', records: ['48219'], ip: null });
    expect(iso(r.get(10))).toBe('2026-11-03T02:15:02.000Z');
  });

  it('rejects what is not a usable AuditEvent, naming the element', async () => {
    const name = 'fhir-audit-bad.ndjson';
    const items = await parseFile(name, options);
    expect([...rows(items).keys()]).toEqual([1, 9]);
    const bad = rejects(items);
    expect(Object.fromEntries([...bad].map(([line, r]) => [line, r.reason]))).toEqual({
      2: 'resourceType: "Patient" is not AuditEvent',
      3: 'recorded: missing',
      4: 'agent: missing',
      5: expect.stringMatching(/^recorded: "2026-11-31T10:00:00\+08:00" is not a timestamp/),
      6: expect.stringMatching(/^json: not valid JSON/),
      7: 'agent.who: missing (no who.identifier.value or who.reference)',
      8: 'action: "X" is not C, R, U, D or E',
    });
    for (const [line, { text }] of bad) expect(text).toBe(fixtureLine(name, line));
  });
});

describe('pgaudit', () => {
  const options: Options = { format: 'pgaudit', timeZone: 'Asia/Shanghai', recordKey: { table: 'births', column: 'birth_id' } };

  it('yields one access per audited statement and skips ordinary log lines', async () => {
    const items = await parseFile('postgresql.csv', options);
    // 1, 9 and 21 are ordinary messages; 3 repeats 2 (SESSION then OBJECT), 18 repeats 15 (a second
    // audited table). Lines 2, 4, 11 and 13 all carry STATEMENT_ID 1 but in different sessions.
    expect(items.map((i) => i.line)).toEqual([2, 4, 8, 10, 11, 12, 13, 14, 15]);
    expect(rejects(items).size).toBe(0);
  });

  it('reads keys from conditions, parameters, IN lists and ANY, in multi-line statements', async () => {
    const r = rows(await parseFile('postgresql.csv', options));
    expect(r.get(2)).toEqual({ at: new Date('2026-11-03T00:15:02.123Z'), account: 'dr_wang', action: 'select', scope: 'single', records: ['48213'], system: 'emr-web', ip: '10.2.0.15' });
    expect(r.get(4)).toMatchObject({ account: 'nurse_li', action: 'select', scope: 'bulk', records: ['48213', '48214'], system: 'ward-board', ip: '10.2.0.31' });
    // A ward list names no record: bulk, linking to no canary.
    expect(r.get(8)).toMatchObject({ scope: 'bulk', records: [] });
    // $2 from the PARAMETER field; the SET list is not a condition.
    expect(r.get(10)).toMatchObject({ action: 'update', scope: 'single', records: ['48215'] });
    expect(r.get(11)).toMatchObject({ account: 'report_bot', action: 'copy', scope: 'single', records: ['48216'], system: null, ip: null });
    expect(iso(r.get(11))).toBe('2026-11-03T01:30:00.000Z');
    expect(r.get(12)).toMatchObject({ action: 'select', scope: 'bulk', records: [] });
    // log_parameter off: the key behind $1 is unknown.
    expect(r.get(13)).toMatchObject({ scope: 'bulk', records: [], ip: '2001:db8::5', system: 'psql' });
    expect(iso(r.get(13))).toBe('2026-11-03T02:31:15.250Z');
    expect(r.get(14)).toMatchObject({ scope: 'bulk', records: ['48213', '48217'] });
    // An alias, a comment and a quoted literal.
    expect(r.get(15)).toMatchObject({ scope: 'single', records: ['48218'] });
  });

  it('reads zone abbreviations other than UTC in the given zone, and names no records without a record key', async () => {
    const r = rows(await parseFile('postgresql.csv', { format: 'pgaudit', timeZone: 'America/New_York' }));
    expect(iso(r.get(2))).toBe('2026-11-03T13:15:02.123Z');
    expect(iso(r.get(11))).toBe('2026-11-03T01:30:00.000Z');
    expect(iso(r.get(13))).toBe('2026-11-03T02:31:15.250Z');
    expect([...r.values()].every((row) => row.records.length === 0 && row.scope === 'bulk')).toBe(true);
  });

  it('rejects bad csvlog records with their line and reads on', async () => {
    const name = 'postgresql-bad.csv';
    const items = await parseFile(name, options);
    expect([...rows(items).keys()]).toEqual([1, 6]);
    expect(rows(items).get(6)).toMatchObject({ records: ['48219'], scope: 'single' });
    const bad = rejects(items);
    expect(Object.fromEntries([...bad].map(([line, r]) => [line, r.reason]))).toEqual({
      2: 'log_time: "2026-13-03 08:21:00.000 CST" is not a csvlog time (YYYY-MM-DD HH:MM:SS.mmm ZONE)',
      3: 'csvlog: 4 columns; a PostgreSQL csvlog record has 23 to 26',
      4: 'message: AUDIT_TYPE "SESSIONS" is not SESSION or OBJECT',
      5: 'csvlog: a quote opened on this line is never closed',
    });
    for (const [line, { text }] of bad) expect(text).toBe(fixtureLine(name, line));
  });

  it('resolves quoted parameters and schema-qualified, quoted names', async () => {
    const msg = (audit: string) => `"AUDIT: ${audit.replace(/"/g, '""')}"`;
    const line = (n: number, audit: string) =>
      `2026-11-03 08:00:0${n}.000 UTC,"app","hospital",100,"10.0.0.1:5000",abc.${n},1,"SELECT",2026-11-03 08:00:00 UTC,3/1,0,LOG,00000,${msg(audit)},,,,,,,,,"svc","client backend",,0`;
    const text = [
      line(1, `OBJECT,1,1,READ,SELECT,TABLE,public.births,"SELECT * FROM public.""births"" b WHERE b.""birth_id"" IN ($1, $2) AND f.birth_id = 9","48213,""o'neil, jr"""`),
      line(2, `OBJECT,1,1,READ,SELECT,TABLE,public.births,SELECT * FROM births b JOIN families f ON f.birth_id = b.birth_id WHERE f.birth_id = 7,<none>`),
      line(3, `OBJECT,1,1,READ,SELECT,TABLE,public.births,"SELECT * FROM births WHERE birth_id = ANY(ARRAY[48213, 48214]) OR birth_id = 'o''neil'",<none>`),
    ].join('\n');
    const r = rows(await parseText(text, options));
    expect(r.get(1)?.records).toEqual(['48213', "o'neil, jr"]);
    // f is another table's alias: its birth_id is not the record key.
    expect(r.get(2)?.records).toEqual([]);
    expect(r.get(3)?.records).toEqual(['48213', '48214', "o'neil"]);
  });
});
