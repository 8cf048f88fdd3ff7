import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/db/index.js';
import { cradleInProcess, type CliResult } from '../helpers/cli.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { createTrapVault, MOTHER_MAILBOX, TRAP_NUMBERS, type TrapVault } from './trap-vault.js';

// `cradle ingest` through the CLI (in-process) with files a caller or sender shaped: quotes and NULs in
// call records, NULs in mbox From lines, mail mailparser will not read whole, dates and ids the vault
// cannot hold as they are. Each ends stored (escaped, raw kept byte for byte, a `cradle: warning:`
// line), or rejected by row with file:line while the rest is stored, or a one-line `cradle:` error
// with exit 1; never "unexpected error", and a second run stores nothing twice.

const incompressible = (chars: number) => crypto.randomBytes(chars).toString('base64').slice(0, chars);

/** One Asterisk cdr_csv row to the first trap number, with `clid` written as given (quotes and all). */
const cdrRow = (uniqueid: string, clid: string, start = '2026-11-24 10:15:02') =>
  `"","13700001111","13912345678","from-trunk",${clid},"SIP/trunk-1","SIP/201-2","Dial","SIP/201,30","${start}","${start}","${start}",69,62,"ANSWERED","DOCUMENTATION","${uniqueid}",""`;

describe.each(BACKENDS)('cradle ingest with hostile files, on %s', (backend) => {
  let v: TrapVault;
  let cwd: string;
  const run = (args: string[]) => cradleInProcess(['--vault', v.location.location, ...args], { cwd });
  const write = (name: string, data: string | Buffer) => fs.writeFileSync(path.join(cwd, name), data);

  beforeAll(async () => {
    v = await createTrapVault(backend, 'hostileingest');
    // The CLI opens the vault itself (an embedded one takes one handle at a time).
    await v.db.close();
    cwd = scratchDir('hostile-ingest');
  });
  afterAll(async () => {
    await v?.location.cleanup();
  });

  interface Row {
    id: number;
    provider_id: string;
    from_address: string | null;
    occurred_at: Date;
    body: string | null;
    headers: Record<string, unknown>;
    raw: Uint8Array;
  }
  /** The rows of a source whose raw bytes are each of these, in one look at the vault. */
  const rowsWithRaw = async (source: string, raws: Buffer[]): Promise<Row[][]> => {
    const db = await openDatabase(v.location.location);
    try {
      const { rows } = await db.query<Row>(`SELECT id, provider_id, from_address, occurred_at, body, headers, raw FROM contact_events WHERE source = $1 ORDER BY id`, [source]);
      return raws.map((raw) => rows.filter((r) => Buffer.from(r.raw).equals(raw)));
    } finally {
      await db.close();
    }
  };

  /** No stack trace, no "unexpected error": every stderr line is `cradle: …`. */
  const clean = (r: CliResult) => {
    expect(r.stderr).not.toMatch(/unexpected error/);
    for (const line of r.stderr.split('\n').filter(Boolean)) expect(line).toMatch(/^cradle: /);
  };

  /** Imports twice: exit 0 both times, the second recording nothing new. */
  async function importedOnce(args: string[]): Promise<CliResult> {
    const first = await run([...args, '--json']);
    clean(first);
    expect(first.code).toBe(0);
    const again = await run([...args, '--json']);
    clean(again);
    expect(again.code).toBe(0);
    const [a, b] = [JSON.parse(first.stdout), JSON.parse(again.stdout)] as { recorded: number; duplicates: number; rejected: number }[];
    expect(b).toMatchObject({ recorded: 0, duplicates: a.recorded, rejected: a.rejected });
    return first;
  }

  it('stores call records with a quote inside an unquoted field or NULs, rejects only unreadable rows, and names them', async () => {
    const quoted = cdrRow('quote-1', 'Zhang "Boss" Wei <13700001111>');
    const nul = cdrRow('nul-\u00001', '"Zhang\u0000Wei"');
    const badTime = cdrRow('bad-time', '"b"', '2026-13-24 10:15:02');
    const badQuote = `"","13700001111","13912345678","x","c"d",1`;
    const good = cdrRow('good-1', '"c"');
    write('calls.csv', [quoted, nul, badTime, badQuote, good].join('\n') + '\n');
    const res = await importedOnce(['ingest', 'cdr', 'calls.csv', '--time-zone', 'Asia/Shanghai']);
    expect(JSON.parse(res.stdout)).toMatchObject({ rows: 5, recorded: 3, rejected: 2 });
    expect(res.stderr).toMatch(/^cradle: warning: calls\.csv:2: provider id: a NUL/m);
    expect(res.stderr).toMatch(/^cradle: warning: calls\.csv:2: headers: NUL shown as ␀/m);
    expect(res.stderr).toContain('cradle: warning: rejected: calls.csv:3: "2026-13-24 10:15:02" is not a time');
    expect(res.stderr).toMatch(/^cradle: warning: rejected: calls\.csv:4: /m);
    const rows = await rowsWithRaw('cdr', [quoted, nul, good].map((r) => Buffer.from(r)));
    expect(rows.map((r) => r.length)).toEqual([1, 1, 1]);
    expect(rows[0][0].headers.clid).toBe('Zhang "Boss" Wei <13700001111>');
    expect(rows[1][0].headers.clid).toBe('Zhang\u2400Wei');
    expect(rows[1][0].provider_id).toMatch(/^nul-␀1…sha256:[0-9a-f]{64}$/);
    const human = await run(['ingest', 'cdr', 'calls.csv', '--time-zone', 'Asia/Shanghai']);
    expect(human.stdout).toContain('calls.csv: 5 rows; 0 recorded, 3 already in the vault, 0 skipped, 2 rejected');
  });

  it('fails a file none of whose rows can be read with one-line errors and exit 1', async () => {
    write('junk.csv', `"unclosed,${'x'.repeat(50)}\n`);
    const res = await run(['ingest', 'cdr', 'junk.csv', '--time-zone', 'UTC']);
    expect(res.code).toBe(1);
    clean(res);
    expect(res.stderr).toBe('cradle: junk.csv:1: not valid CSV: Quote Not Closed: the parsing is finished with an opening quote\ncradle: no row of junk.csv could be read (1 rejected); nothing was imported\n');
  });

  const mail = (headers: string, body = 'hello\n') => Buffer.from(`From: photos@studio.example\nTo: ${MOTHER_MAILBOX}\n${headers}\n${body}`, 'utf8');
  const envelope = (line: string) => Buffer.from(`From ${line}\n`);

  it('stores every message of an mbox: a NUL From line, over 1,000 MIME parts, a 3 MB header, a 2.7 KB Message-ID, a year-10000 Date', async () => {
    let parts = '';
    for (let i = 0; i < 1_001; i++) parts += `--b\nContent-Type: text/plain\n\npart ${i}\n`;
    const nulFrom = mail('Message-ID: <nul-from@studio.example>\n');
    const manyParts = mail('Message-ID: <parts@studio.example>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n', `${parts}--b--\n`);
    const bigHeader = mail(`Message-ID: <big-header@studio.example>\nX-Padding: ${incompressible(3 * 1024 * 1024)}\n`);
    const longIdText = `<${incompressible(2700)}@studio.example>`;
    const longId = mail(`Message-ID: ${longIdText}\n`);
    const year10000 = mail('Message-ID: <y10000@studio.example>\nDate: Sat, 1 Jan 10000 00:00:00 +0000\n');
    const messages = [nulFrom, manyParts, bigHeader, longId, year10000];
    const envelopes = ['photos\u0000@studio.example Fri Nov 27 01:30:00 2026', 'a@b Fri Nov 27 01:31:00 2026', 'a@b Fri Nov 27 01:32:00 2026', 'a@b Fri Nov 27 01:33:00 2026', 'a@b Sat Nov 28 08:00:00 2026'];
    // Messages end with a newline, and a blank line separates them (it belongs to the mbox).
    write('hostile.mbox', Buffer.concat(messages.flatMap((m, i) => [...(i ? [Buffer.from('\n')] : []), envelope(envelopes[i]), m])));
    const res = await importedOnce(['ingest', 'mail', 'hostile.mbox']);
    expect(JSON.parse(res.stdout)).toMatchObject({ messages: 5, recorded: 5, rejected: 0 });
    expect(res.stderr).toMatch(/^cradle: warning: hostile\.mbox:2 <nul-from@studio\.example>: headers: NUL shown as ␀/m);
    const rows = (await rowsWithRaw('mail', messages)).map((r) => {
      expect(r).toHaveLength(1);
      return r[0];
    });
    expect(rows[0].headers['x-cradle-mbox-from']).toBe('photos\u2400@studio.example Fri Nov 27 01:30:00 2026');
    expect(rows[1].provider_id).toBe(`<parts@studio.example> ${MOTHER_MAILBOX}`);
    expect(rows[1].headers['x-cradle-warnings']).toEqual([expect.stringMatching(/^message not parsed whole \(Max allowed child nodes exceeded\)/)]);
    expect(rows[2].provider_id).toBe(`<big-header@studio.example> ${MOTHER_MAILBOX}`);
    expect(rows[2].headers['x-cradle-warnings']).toEqual([expect.stringMatching(/^message not parsed whole \(Max header size for a MIME node exceeded\)/)]);
    const key = `${longIdText} ${MOTHER_MAILBOX}`;
    expect(rows[3].provider_id).toBe(`${key.slice(0, 440)}…sha256:${crypto.createHash('sha256').update(key).digest('hex')}`);
    // A Date the vault cannot hold gives way to the envelope's.
    expect(rows[4].occurred_at.toISOString()).toBe('2026-11-28T08:00:00.000Z');
  });

  it('stores an .eml with a year-10000 Date with the time received, and says so', async () => {
    const eml = mail('Message-ID: <eml-y10000@studio.example>\nDate: Sat, 1 Jan 10000 00:00:00 +0000\n');
    write('y10000.eml', eml);
    const before = Date.now();
    const res = await importedOnce(['ingest', 'mail', 'y10000.eml']);
    expect(res.stderr).toMatch(/^cradle: warning: y10000\.eml:1 <eml-y10000@studio\.example>: occurred at: \+010000-01-01T00:00:00\.000Z is outside the years 1000-9999; the time received is stored instead$/m);
    const [[row]] = await rowsWithRaw('mail', [eml]);
    expect(row.occurred_at.getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('records hand-noted events with a NUL or a 9 KB id, once', async () => {
    const id = incompressible(9 * 1024);
    const events = [
      { kind: 'visit', to: TRAP_NUMBERS[0], occurredAt: '2026-11-28T09:30:00+08:00', body: 'asked for\u0000the baby', id: 'desk-nul' },
      { kind: 'visit', to: TRAP_NUMBERS[0], occurredAt: '2026-11-28T09:30:00+08:00', id },
    ];
    write('events.json', JSON.stringify(events));
    const res = await importedOnce(['ingest', 'event', 'events.json']);
    expect(JSON.parse(res.stdout)).toMatchObject({ events: 2, recorded: 2 });
    expect(res.stderr).toMatch(/^cradle: warning: events\.json: event 0: body: NUL shown as ␀/m);
    expect(res.stderr).toMatch(/^cradle: warning: events\.json: event 1: provider id: 9216 characters/m);
    const [[nul], [long]] = await rowsWithRaw('manual', events.map((e) => Buffer.from(JSON.stringify(e))));
    expect(nul.body).toBe('asked for\u2400the baby');
    expect(long.provider_id.endsWith(crypto.createHash('sha256').update(id).digest('hex'))).toBe(true);
  });
});
