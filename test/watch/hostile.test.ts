import crypto from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import twilio from 'twilio';
import { startWatch, type WatchHandle } from '../../src/watch/server.js';
import { genericSignature } from '../../src/watch/signatures.js';
import { startTrapSmtp, type TrapSmtp } from '../../src/watch/smtp.js';
import { BACKENDS } from '../helpers/db.js';
import { createTrapVault, MOTHER_MAILBOX, type TrapVault } from '../ingest/trap-vault.js';

// Signed messages that a scammer (or a careless upstream) shaped so that the vault cannot hold them as
// they are: a NUL, an id longer than an index entry, a date outside the years 1000-9999, more MIME parts
// than mailparser reads. Each must be stored once (escaped, raw kept byte for byte) and acknowledged,
// so the sender stops retrying; a retry gets the same answer and no second row.

const TOKEN = 'twilio-auth-token-for-tests-0002';
const SECRET = 'generic-secret-for-hostile-tests';
const PUBLIC = 'https://traps.example.org';
const telnyx = crypto.generateKeyPairSync('ed25519');
const TELNYX_KEY = telnyx.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
const unixNow = () => String(Math.floor(Date.now() / 1000));
/** Text that does not compress, so an index entry really is this long. */
const incompressible = (chars: number) => crypto.randomBytes(chars).toString('base64').slice(0, chars);

interface Row {
  id: number;
  provider_id: string | null;
  from_address: string | null;
  to_address: string;
  occurred_at: Date;
  received_at: Date;
  body: string | null;
  headers: Record<string, unknown>;
  raw: Uint8Array;
}

async function rowsOf(v: TrapVault, source: string): Promise<Row[]> {
  return (await v.db.query<Row>(`SELECT id, provider_id, from_address, to_address, occurred_at, received_at, body, headers, raw FROM contact_events WHERE source = $1 ORDER BY id`, [source])).rows;
}

describe.each(BACKENDS)('signed webhooks the vault cannot hold as they are, on %s', (backend) => {
  let v: TrapVault;
  let watch: WatchHandle;
  const logs: string[] = [];

  beforeAll(async () => {
    v = await createTrapVault(backend, 'hostilehttp');
    watch = await startWatch(v.db, { port: 0, publicUrl: PUBLIC, secrets: { twilioAuthToken: TOKEN, telnyxPublicKey: TELNYX_KEY, webhookSecret: SECRET }, log: (l) => logs.push(l) });
  });
  afterAll(async () => {
    await watch?.close();
    await v?.close();
  });

  const twilioSms = (params: Record<string, string>) => {
    const body = new URLSearchParams(params).toString();
    return {
      body,
      send: () =>
        fetch(`${watch.url}/webhooks/twilio/sms`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(TOKEN, `${PUBLIC}/webhooks/twilio/sms`, params) },
          body,
        }),
    };
  };
  const generic = (body: string) => () => {
    const ts = unixNow();
    return fetch(`${watch.url}/webhooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-cradle-timestamp': ts, 'x-cradle-signature': genericSignature(SECRET, ts, Buffer.from(body)) }, body });
  };
  const telnyxPost = (body: string) => () => {
    const ts = unixNow();
    const signature = crypto.sign(null, Buffer.from(`${ts}|${body}`), telnyx.privateKey).toString('base64');
    return fetch(`${watch.url}/webhooks/telnyx`, { method: 'POST', headers: { 'content-type': 'application/json', 'telnyx-timestamp': ts, 'telnyx-signature-ed25519': signature }, body });
  };

  /** Sends twice: both answered 200 with the same contact, stored once with the raw body as sent. */
  async function storedOnce(source: string, send: () => Promise<Response>, sent: string): Promise<Row> {
    const first = await send();
    expect(first.status).toBe(200);
    const firstBody = await first.text();
    const again = await send();
    expect(again.status).toBe(200);
    const againBody = await again.text();
    const rows = (await rowsOf(v, source)).filter((r) => Buffer.from(r.raw).equals(Buffer.from(sent)));
    expect(rows).toHaveLength(1);
    if (source !== 'twilio-sms') {
      const [a, b] = [JSON.parse(firstBody), JSON.parse(againBody)] as { id: number; duplicate: boolean }[];
      expect([a.id, a.duplicate, b.id, b.duplicate]).toEqual([rows[0].id, false, rows[0].id, true]);
    }
    return rows[0];
  }

  it('stores a Twilio SMS whose Body has a NUL (Body=a%00b), the body escaped and the form kept as sent', async () => {
    const sms = twilioSms({ MessageSid: 'SMnul0000000000000000000000000001', From: '+8613900001111', To: '+8613912345678', Body: 'a\u0000b' });
    expect(sms.body).toContain('Body=a%00b');
    const row = await storedOnce('twilio-sms', sms.send, sms.body);
    expect(row.body).toBe('a\u2400b');
    expect(row.headers['x-cradle-warnings']).toEqual([expect.stringMatching(/^body: NUL shown as ␀/)]);
    expect(logs.join('\n')).toMatch(/200 POST \/webhooks\/twilio\/sms: contact \d+ stored with warnings: body: NUL/);
  });

  it('stores a generic event whose body and to carry U+0000', async () => {
    const body = JSON.stringify({ id: 'nul-1', kind: 'sms', from: '+8613900001111', to: '+8613912345678\u0000', body: '宝宝\u0000写真' });
    expect(body).toContain('\\u0000');
    const row = await storedOnce('generic', generic(body), body);
    expect(row.body).toBe('宝宝\u2400写真');
    expect(row.to_address).toMatch(/^\+8613912345678␀…sha256:[0-9a-f]{64}$/);
    expect(row.headers['x-cradle-warnings']).toEqual([expect.stringMatching(/^to: a NUL/), expect.stringMatching(/^body: NUL/)]);
  });

  it('stores an event of year 0000 or beyond 9999 with the time received, and says so', async () => {
    for (const [id, occurredAt] of [['y0', '0000-01-01T00:00:00Z'], ['y10000', '+010000-01-01T00:00:00Z'], ['y275760', '+275760-09-13T00:00:00Z']]) {
      const before = Date.now();
      const body = JSON.stringify({ id, kind: 'call', from: '+8613900001111', to: '+8613912345678', occurredAt });
      const row = await storedOnce('generic', generic(body), body);
      expect(row.occurred_at.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(row.occurred_at.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      expect(row.headers['x-cradle-warnings']).toEqual([expect.stringMatching(/^occurred at: .* is outside the years 1000-9999; the time received is stored instead$/)]);
    }
    // The last instant that fits is kept as given.
    const edge = JSON.stringify({ id: 'y9999', kind: 'call', from: null, to: '+8613912345678', occurredAt: '9999-12-31T23:59:59Z' });
    expect((await storedOnce('generic', generic(edge), edge)).occurred_at.toISOString()).toBe('9999-12-31T23:59:59.000Z');
  });

  it('stores a Telnyx text with a NUL, and one whose event id and number are longer than an index entry', async () => {
    const event = (id: string, to: string, text: string) =>
      JSON.stringify({ data: { record_type: 'event', id, event_type: 'message.received', occurred_at: new Date().toISOString(), payload: { from: { phone_number: '+8613900003333' }, to: [{ phone_number: to }], text } } });
    const nul = event('evt-nul', '+8613912345678', '写真\u0000优惠');
    expect((await storedOnce('telnyx', telnyxPost(nul), nul)).body).toBe('写真\u2400优惠');

    const longId = incompressible(9000);
    const longTo = incompressible(9000);
    const big = event(longId, longTo, 'hello');
    const row = await storedOnce('telnyx', telnyxPost(big), big);
    expect(row.provider_id).toBe(`${longId.slice(0, 440)}…sha256:${crypto.createHash('sha256').update(longId).digest('hex')}`);
    expect(row.to_address).toHaveLength(512);
    expect(row.headers['x-cradle-warnings']).toEqual([expect.stringMatching(/^provider id: 9000 characters; stored as its start and the sha256/), expect.stringMatching(/^to: 9000 characters/)]);
  });

  it('stores a Twilio SMS with a MessageSid of 6,000 characters once', async () => {
    const sid = incompressible(6000);
    const sms = twilioSms({ MessageSid: sid, From: '+8613900001111', To: '+8613912345678', Body: 'hi' });
    const row = await storedOnce('twilio-sms', sms.send, sms.body);
    expect(row.provider_id!.endsWith(crypto.createHash('sha256').update(sid).digest('hex'))).toBe(true);
  });
});

/** An SMTP session over a raw socket: the message goes out byte for byte; the reply to the end of DATA is returned. */
async function smtpSend(port: number, rcpt: string, message: Buffer): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  let buffer = '';
  const waiters: ((line: string) => void)[] = [];
  socket.on('data', (d: Buffer) => {
    buffer += d.toString('latin1');
    let m: RegExpExecArray | null;
    // A final reply line is "NNN text" (a dash after the code continues it).
    while ((m = /^(\d{3}) [^\r\n]*\r\n/m.exec(buffer))) {
      const line = m[0].trimEnd();
      buffer = buffer.slice(m.index + m[0].length);
      waiters.shift()?.(line);
    }
  });
  const reply = () => new Promise<string>((resolve) => waiters.push(resolve));
  const say = (text: string | Buffer) => {
    const r = reply();
    socket.write(text);
    return r;
  };
  try {
    await reply();
    await say('EHLO sender.example\r\n');
    await say('MAIL FROM:<bounce@studio.example>\r\n');
    expect(await say(`RCPT TO:<${rcpt}>\r\n`)).toMatch(/^250/);
    expect(await say('DATA\r\n')).toMatch(/^354/);
    // No dot-stuffing needed and a CRLF at the end (it ends the last line): what is written is what arrives.
    expect(message.includes('\r\n.')).toBe(false);
    expect(message.subarray(-2).toString()).toBe('\r\n');
    return await say(Buffer.concat([message, Buffer.from('.\r\n')]));
  } finally {
    socket.end('QUIT\r\n');
  }
}

describe.each(BACKENDS)('mail the vault cannot hold as it is, on %s', (backend) => {
  let v: TrapVault;
  let smtp: TrapSmtp;

  beforeAll(async () => {
    v = await createTrapVault(backend, 'hostilesmtp');
    smtp = await startTrapSmtp(v.db, { port: 0 });
  });
  afterAll(async () => {
    await smtp?.close();
    await v?.close();
  });

  const message = (headers: string, body = 'hello\r\n') => Buffer.from(`From: photos@studio.example\r\nTo: ${MOTHER_MAILBOX}\r\n${headers}\r\n${body}`, 'utf8');

  /** Delivered twice: 250 both times, stored once with the raw message as sent. */
  async function deliveredOnce(raw: Buffer): Promise<Row> {
    expect(await smtpSend(smtp.port, MOTHER_MAILBOX, raw)).toMatch(/^250 /);
    expect(await smtpSend(smtp.port, MOTHER_MAILBOX, raw)).toMatch(/^250 /);
    const rows = (await rowsOf(v, 'smtp')).filter((r) => Buffer.from(r.raw).equals(raw));
    expect(rows).toHaveLength(1);
    return rows[0];
  }

  it('stores a message with a 6,000-character Message-ID (250, not 451 forever)', async () => {
    const id = `<${incompressible(6000)}@studio.example>`;
    const row = await deliveredOnce(message(`Message-ID: ${id}\r\nSubject: id\r\n`));
    expect(row.provider_id).toMatch(/…sha256:[0-9a-f]{64}$/);
    expect(row.provider_id).toHaveLength(512);
    expect(row.headers['message-id']).toBe(id);
  });

  it('stores a message of 30,000 MIME parts from its top-level headers, with a warning', async () => {
    let parts = '';
    for (let i = 0; i < 30_000; i++) parts += `--b\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`;
    const raw = message('Message-ID: <parts-30000@studio.example>\r\nSubject: many\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n', `${parts}--b--\r\n`);
    const row = await deliveredOnce(raw);
    expect(row.provider_id).toBe(`<parts-30000@studio.example> ${MOTHER_MAILBOX}`);
    expect(row.headers.subject).toBe('many');
    expect(row.headers['x-cradle-warnings']).toEqual([expect.stringMatching(/^message not parsed whole \(Max allowed child nodes exceeded\); only its top-level headers were read/)]);
  });

  it('stores a message with NULs in its subject and body', async () => {
    const row = await deliveredOnce(message('Message-ID: <nul@studio.example>\r\nSubject: a\u0000b\r\n', 'bo\u0000dy\r\n'));
    expect(row.body).toContain('bo\u2400dy');
    expect(row.headers.subject).toBe('a\u2400b');
  });
});

describe.each(BACKENDS)('a contact the vault refuses for its data, on %s', (backend) => {
  it('is refused for good (webhooks 422, SMTP 554), not retried forever, and nothing is stored', async () => {
    const v = await createTrapVault(backend, 'hostilenet');
    const watch = await startWatch(v.db, { port: 0, secrets: { webhookSecret: SECRET }, smtpPort: 0, log: () => undefined });
    try {
      // A data exception (22P02) on every body that is not a number: what escaping might one day miss.
      await v.db.query(`ALTER TABLE contact_events ADD CONSTRAINT body_is_a_number CHECK (body::numeric IS NULL OR body IS NOT NULL) NOT VALID`);
      const body = JSON.stringify({ id: 'net-1', kind: 'sms', from: null, to: '+8613912345678', body: 'not a number' });
      for (let attempt = 0; attempt < 2; attempt++) {
        const ts = unixNow();
        const res = await fetch(`${watch.url}/webhooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-cradle-timestamp': ts, 'x-cradle-signature': genericSignature(SECRET, ts, Buffer.from(body)) }, body });
        expect(res.status).toBe(422);
        expect(await res.json()).toEqual({ error: 'the event cannot be stored; do not retry' });
        expect(await smtpSend(watch.smtpPort!, MOTHER_MAILBOX, Buffer.from(`From: a@b.example\r\nTo: ${MOTHER_MAILBOX}\r\nMessage-ID: <net@b.example>\r\n\r\ntext\r\n`))).toMatch(/^554 /);
      }
      expect((await v.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM contact_events`)).rows[0].n).toBe(0);
    } finally {
      await watch.close();
      await v.close();
    }
  });

  it('among events stored together, refuses only the one the vault refuses (422); the others are stored (200)', async () => {
    const v = await createTrapVault(backend, 'hostilegc');
    const watch = await startWatch(v.db, { port: 0, secrets: { webhookSecret: SECRET }, log: () => undefined });
    try {
      await v.db.query(`ALTER TABLE contact_events ADD CONSTRAINT body_is_a_number CHECK (body NOT LIKE 'bad%' OR body::numeric IS NOT NULL) NOT VALID`);
      const bodies = ['good 1', 'bad', 'good 2', 'good 3'];
      const statuses = await Promise.all(bodies.map(async (text, i) => {
        const body = JSON.stringify({ id: `gc-${i}`, kind: 'sms', from: null, to: '+8613912345678', body: text });
        const ts = unixNow();
        const res = await fetch(`${watch.url}/webhooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-cradle-timestamp': ts, 'x-cradle-signature': genericSignature(SECRET, ts, Buffer.from(body)) }, body });
        return res.status;
      }));
      expect(statuses).toEqual([200, 422, 200, 200]);
      const { rows } = await v.db.query<{ body: string }>(`SELECT body FROM contact_events ORDER BY body`);
      expect(rows.map((r) => r.body)).toEqual(['good 1', 'good 2', 'good 3']);
    } finally {
      await watch.close();
      await v.close();
    }
  });
});
