import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startAmi, type AmiHandle } from '../../src/ingest/ami.js';
import { AmiParser, amiField } from '../../src/ingest/ami-parse.js';
import { ingestCdr } from '../../src/ingest/index.js';
import * as vault from '../../src/vault/index.js';
import { scratchDir } from '../helpers/db.js';
import { createTrapVault, TRAP_NUMBERS, type TrapVault } from '../ingest/trap-vault.js';

// `cradle watch`'s Asterisk Manager Interface client against a small AMI server speaking the protocol
// as Asterisk documents it (Asterisk is not installable here): a banner line, the Login action
// answered with Response: Success (or Error, then the connection closed), then events of "Name: value"
// lines, CRLF, each ended by an empty line. Cdr events (cdr_manager) carry the Master.csv columns.

const SECRET = 'ami-secret-for-tests-7f3a';

/** A Cdr event as cdr_manager writes it. */
function cdrEvent(f: { src: string; dst: string; start: string; uniqueid: string; userfield?: string; clid?: string }): string {
  return [
    'Event: Cdr', 'Privilege: cdr,all', 'AccountCode: ', `Source: ${f.src}`, `Destination: ${f.dst}`, 'DestinationContext: from-trunk',
    `CallerID: ${f.clid ?? `"Zhang Wei" <${f.src}>`}`, 'Channel: SIP/trunk-00000001', 'DestinationChannel: SIP/201-00000002', 'LastApplication: Dial', 'LastData: SIP/201,30',
    `StartTime: ${f.start}`, `AnswerTime: ${f.start.replace(/:02$/, ':09')}`, `EndTime: ${f.start.replace(/10:15:02$/, '10:16:11')}`, 'Duration: 69', 'BillableSeconds: 62',
    'Disposition: ANSWERED', 'AMAFlags: DOCUMENTATION', `UniqueID: ${f.uniqueid}`, `UserField: ${f.userfield ?? ''}`,
  ].join('\r\n') + '\r\n\r\n';
}

/** The same call as cdr_csv writes it in Master.csv. */
const csvRow = (f: { src: string; dst: string; start: string; uniqueid: string }) =>
  `"","${f.src}","${f.dst}","from-trunk","""Zhang Wei"" <${f.src}>","SIP/trunk-00000001","SIP/201-00000002","Dial","SIP/201,30","${f.start}","2026-11-24 10:15:09","2026-11-24 10:16:11",69,62,"ANSWERED","DOCUMENTATION","${f.uniqueid}",""\n`;

interface FakeAmi {
  port: number;
  logins: Record<string, string>[];
  /** Each connection, as it comes: what to do after a successful login. */
  sessions: ((s: net.Socket) => void)[];
  close(): Promise<void>;
}

async function fakeAmi(): Promise<FakeAmi> {
  const logins: Record<string, string>[] = [];
  const sessions: ((s: net.Socket) => void)[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.write('Asterisk Call Manager/5.0.1\r\n');
    const parser = new AmiParser();
    parser.push(Buffer.from('Banner\r\n')); // the client sends none: our parser only reads messages from here on
    s.on('data', (chunk: Buffer) => {
      for (const item of parser.push(chunk)) {
        if (item.type !== 'message') continue;
        const action = Object.fromEntries(item.message.fields);
        if (amiField(item.message, 'Action') === 'Logoff') return void s.end('Response: Goodbye\r\nMessage: Thanks for all the fish.\r\n\r\n');
        if (amiField(item.message, 'Action') !== 'Login') continue;
        logins.push(action);
        if (action.Secret !== SECRET) {
          s.end(`Response: Error\r\nActionID: ${action.ActionID}\r\nMessage: Authentication failed\r\n\r\n`);
          continue;
        }
        s.write(`Response: Success\r\nActionID: ${action.ActionID}\r\nMessage: Authentication accepted\r\n\r\n`);
        s.write('Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 1\r\nLastReload: 1\r\nStatus: Fully Booted\r\n\r\n');
        (sessions.shift() ?? (() => undefined))(s);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    logins,
    sessions,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('Asterisk Manager Interface', () => {
  let v: TrapVault;
  let ami: FakeAmi;
  let client: AmiHandle | null = null;
  const logs: string[] = [];
  const calls: { contactId: number | null; outcome: string }[] = [];
  let monitor: string;

  beforeAll(async () => {
    v = await createTrapVault('pglite', 'ami');
    ami = await fakeAmi();
    monitor = scratchDir('ami-monitor');
    fs.writeFileSync(path.join(monitor, '1764000902.1.wav'), Buffer.from('RIFF recording'));
  });
  afterAll(async () => {
    await client?.close();
    await ami?.close();
    await v?.close();
  });

  const until = async (check: () => boolean) => {
    for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  };
  const call1 = { src: '13700001111', dst: '13912345678', start: '2026-11-24 10:15:02', uniqueid: '1764000902.1' };

  it('logs in, records each Cdr event to a trap as the CDR import would, and reconnects when the PBX hangs up', async () => {
    ami.sessions.push((s) => {
      // Split across writes, an event of another class, a call to a number that is no trap, a call to a trap with its recording.
      const event = cdrEvent({ ...call1, userfield: '1764000902.1.wav' });
      s.write('Event: Newchannel\r\nPrivilege: call,all\r\nChannel: SIP/trunk-00000001\r\nCallerIDNum: 13700001111\r\nExten: 13912345678\r\nUniqueid: 1764000902.1\r\n\r\n');
      s.write(cdrEvent({ src: '13700001111', dst: '13511112222', start: '2026-11-24 10:20:00', uniqueid: '1764001200.2' }));
      s.write(event.slice(0, 40));
      setImmediate(() => s.end(event.slice(40)));
    });
    ami.sessions.push((s) => s.write(cdrEvent({ src: '+8613600002222', dst: '008613812345678', start: '2026-11-24 21:40:00', uniqueid: '1764042000.3', clid: '"\u0007evil\r" <1>' })));
    client = startAmi(v.db, {
      host: '127.0.0.1', port: ami.port, username: 'cradle', secret: SECRET, timeZone: 'Asia/Shanghai', region: 'CN', backoffMs: 20,
      recordings: { dir: monitor }, log: (l) => logs.push(l), onCall: (c) => calls.push(c),
    });
    await until(() => calls.length === 3);
    expect(calls.map((c) => c.outcome)).toEqual(['not a trap', 'recorded', 'recorded']);
    expect(ami.logins).toHaveLength(2);
    expect(ami.logins[0]).toMatchObject({ Action: 'Login', Username: 'cradle', Secret: SECRET, Events: 'cdr' });

    const first = await vault.getContact(v.db, calls[1].contactId!);
    expect(first).toMatchObject({ source: 'cdr', provider_id: '1764000902.1', kind: 'call', from_address: '+8613700001111', to_address: TRAP_NUMBERS[0] });
    expect(first!.occurred_at.toISOString()).toBe('2026-11-24T02:15:02.000Z');
    expect(first!.headers).toMatchObject({ src: '13700001111', dst: '13912345678', uniqueid: '1764000902.1', userfield: '1764000902.1.wav' });
    expect((await vault.contactRaw(v.db, first!.id))!.toString()).toMatch(/^Event: Cdr\r\n/);
    expect(await vault.recordingsOfContact(v.db, first!.id)).toHaveLength(1);
    expect((await vault.getContact(v.db, calls[2].contactId!))!.to_address).toBe(TRAP_NUMBERS[1]);

    // Master.csv imported afterwards: the calls the AMI recorded are already in the vault.
    const csv = csvRow(call1) + csvRow({ src: '+8613600002222', dst: '008613812345678', start: '2026-11-24 21:40:00', uniqueid: '1764042000.3' });
    const imported = await ingestCdr(v.db, Readable.from([csv]), { format: 'asterisk' }, { label: 'Master.csv', timeZone: 'Asia/Shanghai', region: 'CN' });
    expect(imported).toMatchObject({ recorded: 0, duplicates: 2 });

    expect(logs.some((l) => /connection closed; trying again/.test(l))).toBe(true);
    expect(logs.join('\n')).not.toContain(SECRET);
    expect(logs.some((l) => l.includes('\u0007') || l.includes('\r'))).toBe(false);
    await client.close();
    client = null;
  });

  it('a refused login is logged without the secret and tried again; a bad event is a rejection, not the end', async () => {
    const before = ami.logins.length;
    ami.sessions.push((s) => {
      s.write('Event: Cdr\r\nSource: 1\r\nDestination: 13912345678\r\nStartTime: 2026-13-45 99:00:00\r\nUniqueID: x\r\n\r\n');
      s.write('garbage line without a colon\r\n\r\n');
      s.write(cdrEvent({ ...call1, uniqueid: '1764009999.9' }));
    });
    const seen: string[] = [];
    let secret = 'wrong-secret-123';
    const c = startAmi(v.db, {
      host: '127.0.0.1', port: ami.port, username: 'cradle', get secret() { return secret; }, timeZone: 'Asia/Shanghai', region: 'CN', backoffMs: 20, maxBackoffMs: 40,
      log: (l) => seen.push(l), onCall: (x) => calls.push(x),
    });
    await until(() => seen.some((l) => l.includes('refused')));
    expect(seen.find((l) => l.includes('refused'))).toMatch(/login as cradle refused: Authentication failed$/);
    expect(seen.join('\n')).not.toContain('wrong-secret-123');
    secret = SECRET;
    await c.close();
    const n = calls.length;
    const again = startAmi(v.db, { host: '127.0.0.1', port: ami.port, username: 'cradle', secret, timeZone: 'Asia/Shanghai', region: 'CN', backoffMs: 20, log: (l) => seen.push(l), onCall: (x) => calls.push(x) });
    try {
      await until(() => calls.length === n + 2);
      expect(calls.slice(n).map((x) => x.outcome)).toEqual(['rejected', 'recorded']);
      // Digits in log lines are masked, as everywhere in `cradle watch`'s log.
      expect(seen.some((l) => /^cradle watch: ami 127\.0\.0\.1:\d+: rejected: "\*\*\*\*-\*\*-45 99:00:00" is not a time/.test(l))).toBe(true);
      expect(seen.some((l) => l.includes('a line without "Name: value"'))).toBe(true);
      expect(ami.logins.length).toBeGreaterThan(before + 1);
    } finally {
      await again.close();
    }
  });

  it("honours --hospital as the CDR import does: another hospital's trap number is not a trap; its own and the shared ones are", async () => {
    // A vault of two hospitals: h2 has a number of its own.
    const H2_NUMBER = '+8613755556666';
    await vault.ensureHospital(v.db, 'h2', 'zh-CN');
    await vault.addTrapNumbers(v.db, [{ e164: H2_NUMBER, region: 'CN' }], { hospital: 'h2', burnInUntil: null });
    const toH2 = { src: '13700003333', dst: '13755556666', start: '2026-11-25 09:00:00', uniqueid: '1764032400.7' };
    const toShared = { src: '13700003333', dst: '13912345678', start: '2026-11-25 09:05:00', uniqueid: '1764032700.8' };
    ami.sessions.push((s) => s.write(cdrEvent(toH2) + cdrEvent(toShared)));
    const n = calls.length;
    const c = startAmi(v.db, { host: '127.0.0.1', port: ami.port, username: 'cradle', secret: SECRET, timeZone: 'Asia/Shanghai', region: 'CN', hospital: 'h1', backoffMs: 20, log: () => undefined, onCall: (x) => calls.push(x) });
    try {
      await until(() => calls.length === n + 2);
    } finally {
      await c.close();
    }
    expect(calls.slice(n).map((x) => x.outcome)).toEqual(['not a trap', 'recorded']);
    expect(await vault.findCall(v.db, { source: 'cdr', providerId: toH2.uniqueid })).toBeNull();
    // The CDR import with --hospital h1 skips the same call, and records it for h2 (or with no hospital).
    const asH1 = await ingestCdr(v.db, Readable.from([csvRow(toH2)]), { format: 'asterisk' }, { label: 'Master.csv', timeZone: 'Asia/Shanghai', region: 'CN', hospital: 'h1' });
    expect(asH1).toMatchObject({ recorded: 0, skipped: 1 });
    // Without the filter, the live source takes h2's number as a trap too.
    ami.sessions.push((s) => s.write(cdrEvent(toH2)));
    const all = startAmi(v.db, { host: '127.0.0.1', port: ami.port, username: 'cradle', secret: SECRET, timeZone: 'Asia/Shanghai', region: 'CN', backoffMs: 20, log: () => undefined, onCall: (x) => calls.push(x) });
    try {
      await until(() => calls.length === n + 3);
    } finally {
      await all.close();
    }
    expect(calls[n + 2].outcome).toBe('recorded');
    const asH2 = await ingestCdr(v.db, Readable.from([csvRow(toH2)]), { format: 'asterisk' }, { label: 'Master.csv', timeZone: 'Asia/Shanghai', region: 'CN', hospital: 'h2' });
    expect(asH2).toMatchObject({ recorded: 0, duplicates: 1 });
  });
});
