import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ingestCdr, ingestEvents, ingestMail, normalisePhone, parseCdrMap, parseCdrTime, splitMailbox } from '../../src/ingest/index.js';
import { EventError } from '../../src/ingest/event.js';
import * as vault from '../../src/vault/index.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { BACKENDS } from '../helpers/db.js';
import { createTrapVault, FATHER_MAILBOX, MOTHER_MAILBOX, TRAP_NUMBERS, type TrapVault } from './trap-vault.js';

const fixture = (name: string) => path.join(FIXTURES_DIR, 'ingest', name);
const opts = (file: string) => ({ label: file, timeZone: 'Asia/Shanghai', region: 'CN' });

describe('parsing call records and mailboxes', () => {
  it('reads Asterisk local times in the given zone and refuses impossible ones', () => {
    expect(parseCdrTime('2026-11-24 10:15:02', 'Asia/Shanghai')!.toISOString()).toBe('2026-11-24T02:15:02.000Z');
    expect(parseCdrTime('2026-11-24 10:15:02', 'UTC')!.toISOString()).toBe('2026-11-24T10:15:02.000Z');
    expect(parseCdrTime('2026-11-24T10:15:02+01:00', 'Asia/Shanghai')!.toISOString()).toBe('2026-11-24T09:15:02.000Z');
    expect(parseCdrTime('2026-02-31 10:00:00', 'UTC')).toBeNull();
    expect(parseCdrTime('2026-13-01 10:00:00', 'UTC')).toBeNull();
    expect(parseCdrTime('yesterday', 'UTC')).toBeNull();
  });

  it('normalises numbers to E.164 and leaves extensions alone', () => {
    expect(normalisePhone('139 1234 5678', 'CN')).toBe('+8613912345678');
    expect(normalisePhone('008613912345678', 'CN')).toBe('+8613912345678');
    expect(normalisePhone('8613912345678', 'CN')).toBe('+8613912345678');
    expect(normalisePhone('201', 'CN')).toBeNull();
  });

  it('checks a column map', () => {
    expect(parseCdrMap('src=Caller,dst=Called,start=Time,id=CallId')).toEqual({ src: 'Caller', dst: 'Called', start: 'Time', id: 'CallId' });
    expect(() => parseCdrMap('src=Caller,dst=Called')).toThrow(/needs start=<column>/);
    expect(() => parseCdrMap('src=Caller,dst=Called,start=T,callee=X')).toThrow(/"callee" is not a CDR field/);
  });

  it('splits an mbox on From lines and unescapes mboxrd >From lines', () => {
    const messages = splitMailbox(fs.readFileSync(fixture('box.mbox')));
    expect(messages.map((m) => m.line)).toEqual([2, 13, 22]);
    const first = messages[0].raw.toString('latin1');
    expect(first).toContain('\nFrom the studio team, with our offer.\n>From here too.\n');
    expect(first.endsWith('with our offer.\n>From here too.\n')).toBe(true);
    expect(messages[0].envelope).toBe('photos@babystudio.example.com Fri Nov 27 01:30:00 2026');
    // An .eml is one message, byte for byte.
    const eml = fs.readFileSync(fixture('message.eml'));
    expect(splitMailbox(eml)).toEqual([{ line: 1, envelope: null, raw: eml }]);
  });
});

describe.each(BACKENDS)('cradle ingest on %s', (backend) => {
  let v: TrapVault;
  beforeAll(async () => {
    v = await createTrapVault(backend, 'ingest');
  });
  afterAll(async () => v?.close());

  const contacts = async (source: string) =>
    (await v.db.query<{ id: number; provider_id: string; from_address: string | null; to_address: string; occurred_at: Date; headers: Record<string, string>; body: string | null; kind: string }>(`SELECT * FROM contact_events WHERE source = $1 ORDER BY id`, [source])).rows;

  it('imports an Asterisk Master.csv: calls to trap numbers only, once', async () => {
    const res = await ingestCdr(v.db, fs.createReadStream(fixture('Master.csv')), { format: 'asterisk' }, opts('Master.csv'));
    expect(res).toMatchObject({ rows: 5, recorded: 3, duplicates: 0, skipped: 2 });
    expect(res.skippedDetail).toEqual(['Master.csv:3: +8613511112222 is not a trap number', 'Master.csv:4: 300 is not a trap number']);
    const rows = await contacts('cdr');
    expect(rows.map((r) => [r.provider_id, r.from_address, r.to_address, r.occurred_at.toISOString()])).toEqual([
      ['1764000902.1', '+8613700001111', TRAP_NUMBERS[0], '2026-11-24T02:15:02.000Z'],
      ['1764042000.3', '+8613600002222', TRAP_NUMBERS[1], '2026-11-24T13:40:00.000Z'],
      ['1764093784.9', null, TRAP_NUMBERS[0], '2026-11-25T18:03:04.000Z'],
    ]);
    expect(rows[0]).toMatchObject({ kind: 'call', headers: { disposition: 'ANSWERED', clid: '"Zhang Wei" <13700001111>', billsec: '62' } });
    const raw = (await vault.contactRaw(v.db, rows[0].id))!.toString('utf8');
    expect(raw).toBe(fs.readFileSync(fixture('Master.csv'), 'utf8').split('\n')[0]);

    const again = await ingestCdr(v.db, fs.createReadStream(fixture('Master.csv')), { format: 'asterisk' }, opts('Master.csv'));
    expect(again).toMatchObject({ recorded: 0, duplicates: 3, skipped: 2 });
    expect(await contacts('cdr')).toHaveLength(3);
  });

  it('rejects the rows it cannot read, naming file and line, and records the others', async () => {
    const res = await ingestCdr(v.db, fs.createReadStream(fixture('Master-bad.csv')), { format: 'asterisk' }, opts('Master-bad.csv'));
    expect(res).toMatchObject({ rows: 3, recorded: 2, rejected: 1, rejectedDetail: ['Master-bad.csv:3: "2026-13-24 10:15:02" is not a time (write YYYY-MM-DD HH:MM:SS, or ISO 8601 with an offset)'] });
    const before = await vault.countContacts(v.db);
    const noDst = '"","1","","c","","","","","","2026-11-24 10:00:00","","",0,0,"","",""\n';
    expect(await ingestCdr(v.db, Readable.from([noDst]), { format: 'asterisk' }, opts('x.csv'))).toMatchObject({ rows: 1, recorded: 0, rejected: 1, rejectedDetail: ['x.csv:1: no destination number (dst)'] });
    const short = await ingestCdr(v.db, Readable.from(['"a","b"\n"c",']), { format: 'asterisk' }, opts('y.csv'));
    expect(short.rejectedDetail).toEqual([expect.stringMatching(/^y\.csv:1: 2 columns/), expect.stringMatching(/^y\.csv:2: 2 columns/)]);
    expect(await vault.countContacts(v.db)).toBe(before);
  });

  it('imports a CSV with a header through a column map, hashing rows without an id column', async () => {
    const map = parseCdrMap('src=Caller,dst=Called,start=Time,id=CallId');
    const res = await ingestCdr(v.db, fs.createReadStream(fixture('pbx-export.csv')), { format: 'csv', map }, opts('pbx-export.csv'));
    expect(res).toMatchObject({ rows: 3, recorded: 2, skipped: 1 });
    const rows = (await contacts('cdr')).filter((r) => r.provider_id.startsWith('pbx-'));
    expect(rows.map((r) => [r.provider_id, r.from_address, r.to_address, r.occurred_at.toISOString()])).toEqual([
      ['pbx-1', '+8613700001111', TRAP_NUMBERS[0], '2026-11-25T00:00:00.000Z'],
      ['pbx-3', '+861065529988', TRAP_NUMBERS[1], '2026-11-25T00:10:00.000Z'],
    ]);
    const hashed = await ingestCdr(v.db, fs.createReadStream(fixture('pbx-export.csv')), { format: 'csv', map: parseCdrMap('src=Caller,dst=Called,start=Time') }, opts('pbx-export.csv'));
    expect(hashed.recorded).toBe(2);
    expect((await contacts('cdr')).filter((r) => r.provider_id.startsWith('sha256:'))).toHaveLength(2);
    const again = await ingestCdr(v.db, fs.createReadStream(fixture('pbx-export.csv')), { format: 'csv', map: parseCdrMap('src=Caller,dst=Called,start=Time') }, opts('pbx-export.csv'));
    expect(again).toMatchObject({ recorded: 0, duplicates: 2 });
    await expect(ingestCdr(v.db, fs.createReadStream(fixture('pbx-export.csv')), { format: 'csv', map: parseCdrMap('src=From,dst=Called,start=Time') }, opts('pbx-export.csv'))).rejects.toThrow(
      /^pbx-export\.csv:1: no column "From" \(for src\) in the header/,
    );
  });

  it('imports an .eml for a canary mailbox, case-insensitively', async () => {
    const data = fs.readFileSync(fixture('message.eml'));
    const res = await ingestMail(v.db, data, { label: 'message.eml' });
    expect(res).toMatchObject({ messages: 1, recorded: 1, skipped: 0 });
    const [row] = await contacts('mail');
    expect(row).toMatchObject({ kind: 'email', to_address: MOTHER_MAILBOX, from_address: 'photos@babystudio.example.com', provider_id: `<20261127093000.4711@babystudio.example.com> ${MOTHER_MAILBOX}` });
    expect(row.occurred_at.toISOString()).toBe('2026-11-27T01:30:00.000Z');
    expect(row.body).toContain('恭喜您在测试妇幼保健院喜得千金');
    expect(row.headers.subject).toBe('恭喜李娜女士喜得千金');
    expect((await vault.contactRaw(v.db, row.id))!.equals(data)).toBe(true);
    expect(await ingestMail(v.db, data, { label: 'message.eml' })).toMatchObject({ recorded: 0, duplicates: 1 });
  });

  it('imports an mbox: canary mailboxes from canaries.email and the family record, others skipped', async () => {
    const res = await ingestMail(v.db, fs.readFileSync(fixture('box.mbox')), { label: 'box.mbox' });
    expect(res).toMatchObject({ messages: 3, recorded: 2, duplicates: 0, skipped: 1 });
    expect(res.skippedDetail).toEqual(['box.mbox:13 <mbox-2@bulk.example.net>: addressed to no canary mailbox (someone-else@trap.example.org, info@hospital.example.cn)']);
    const rows = (await contacts('mail')).slice(1);
    expect(rows.map((r) => r.to_address)).toEqual([MOTHER_MAILBOX, FATHER_MAILBOX]);
    expect(rows[0].body).toContain('From the studio team');
    // No Date header: the mbox envelope's date.
    expect(rows[1].occurred_at.toISOString()).toBe('2026-11-28T00:00:00.000Z');
    expect(rows[1].provider_id).toMatch(/^sha256:[0-9a-f]{64} wang\.wei@trap\.example\.org$/);
    expect(await ingestMail(v.db, fs.readFileSync(fixture('box.mbox')), { label: 'box.mbox' })).toMatchObject({ recorded: 0, duplicates: 2, skipped: 1 });
  });

  it('records an event noted by hand, and names the fields of a bad one', async () => {
    const text = fs.readFileSync(fixture('visit.json'), 'utf8');
    const res = await ingestEvents(v.db, text, { label: 'visit.json', region: 'CN' });
    expect(res).toMatchObject({ events: 1, recorded: 1 });
    const [row] = await contacts('manual');
    expect(row).toMatchObject({ kind: 'visit', to_address: TRAP_NUMBERS[0], from_address: '+8613700001111', provider_id: 'desk-2026-114' });
    expect(row.occurred_at.toISOString()).toBe('2026-11-28T01:30:00.000Z');
    expect(await ingestEvents(v.db, text, { label: 'visit.json', region: 'CN' })).toMatchObject({ recorded: 0, duplicates: 1 });
    const bad = fs.readFileSync(fixture('visit-bad.json'), 'utf8');
    const err = await ingestEvents(v.db, bad, { label: 'visit-bad.json', region: 'CN' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EventError);
    const lines = (err as Error).message.split('\n');
    expect(lines.some((l) => l.startsWith('visit-bad.json: kind: '))).toBe(true);
    expect(lines.some((l) => l.startsWith('visit-bad.json: to: '))).toBe(true);
    expect(lines).toContain('visit-bad.json: occurredAt: an ISO 8601 time with Z or an offset, e.g. 2026-11-28T09:30:00+08:00');
    await expect(ingestEvents(v.db, '[{"kind":"letter","to":"c1","occurredAt":"2026-11-27T00:00:00Z"},{"kind":"call"}]', { label: 'e.json', region: 'CN' })).rejects.toThrow(/^e\.json: 1\.to: /m);
    expect(await contacts('manual')).toHaveLength(1);
  });
});
