import crypto from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import nodemailer from 'nodemailer';
import * as vault from '../../src/vault/index.js';
import { startWatch } from '../../src/watch/server.js';
import { startTrapSmtp, type TrapSmtp, type TrapSmtpEvent } from '../../src/watch/smtp.js';
import { BACKENDS } from '../helpers/db.js';
import { createTrapVault, FATHER_MAILBOX, MOTHER_MAILBOX, type TrapVault } from '../ingest/trap-vault.js';

// The trap mailbox listener, with nodemailer as the sending server and a real vault behind it.

describe.each(BACKENDS)('the trap SMTP listener on %s', (backend) => {
  let v: TrapVault;
  let smtp: TrapSmtp;
  const events: TrapSmtpEvent[] = [];
  const transport = () => nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true, tls: { rejectUnauthorized: false } });

  beforeAll(async () => {
    v = await createTrapVault(backend, 'smtp');
    smtp = await startTrapSmtp(v.db, { host: '127.0.0.1', port: 0, maxBytes: 64 * 1024, onEvent: (e) => events.push(e) });
  });
  afterAll(async () => {
    await smtp?.close();
    await v?.close();
  });

  const rows = async () => (await v.db.query<{ id: number; to_address: string; provider_id: string; from_address: string; body: string; headers: Record<string, unknown>; remote_addr: string; source: string; kind: string }>(`SELECT * FROM contact_events ORDER BY id`)).rows;

  it('accepts mail for a canary mailbox and keeps the raw message before answering 250', async () => {
    const info = await transport().sendMail({
      envelope: { from: 'Bounce@Studio.example.com', to: ['LI.NA@trap.example.org'] },
      from: '"宝宝写真" <photos@studio.example.com>',
      to: 'Li.Na@trap.example.org',
      subject: '恭喜喜得千金',
      text: '李娜女士您好，新生儿写真限时免费。',
      messageId: '<first@studio.example.com>',
    });
    expect(info.response).toMatch(/^250 /);
    const [row] = await rows();
    expect(row).toMatchObject({ source: 'smtp', kind: 'email', to_address: MOTHER_MAILBOX, from_address: 'bounce@studio.example.com', provider_id: `<first@studio.example.com> ${MOTHER_MAILBOX}` });
    expect(row.body).toContain('李娜女士您好');
    expect(row.remote_addr).toMatch(/127\.0\.0\.1/);
    expect(row.headers.subject).toBe('恭喜喜得千金');
    expect((row.headers.from as { text: string }).text).toContain('photos@studio.example.com');
    expect(row.headers['x-cradle-envelope']).toMatchObject({ mailFrom: 'Bounce@studio.example.com', rcptTo: [MOTHER_MAILBOX] });
    const raw = (await vault.contactRaw(v.db, row.id))!.toString('utf8');
    expect(raw).toContain('Message-ID: <first@studio.example.com>');
    expect((await vault.getContact(v.db, row.id))!.sha256).toBe(crypto.createHash('sha256').update(await vault.contactRaw(v.db, row.id) as Buffer).digest('hex'));
  });

  it('records a re-sent Message-ID once, and one contact per canary mailbox', async () => {
    const before = (await rows()).length;
    const mail = { from: 'photos@studio.example.com', to: [MOTHER_MAILBOX, FATHER_MAILBOX], subject: 'again', text: 'hello', messageId: '<twice@studio.example.com>' };
    const a = await transport().sendMail(mail);
    const b = await transport().sendMail(mail);
    expect(a.accepted).toHaveLength(2);
    expect(b.response).toMatch(/^250 /);
    const added = (await rows()).slice(before);
    expect(added.map((r) => r.to_address).sort()).toEqual([FATHER_MAILBOX, MOTHER_MAILBOX].sort());
    expect(events.filter((e) => e.type === 'stored').at(-1)).toMatchObject({ duplicates: 2 });
  });

  it('keys a message without a Message-ID by its sha256', async () => {
    const raw = `From: x@y.example\r\nTo: ${MOTHER_MAILBOX}\r\nSubject: no id\r\n\r\nbody\r\n`;
    await transport().sendMail({ envelope: { from: 'x@y.example', to: [MOTHER_MAILBOX] }, raw });
    const last = (await rows()).at(-1)!;
    expect(last.provider_id).toMatch(/^sha256:[0-9a-f]{64} li\.na@trap\.example\.org$/);
  });

  it('refuses other recipients at RCPT TO with 550 and the reason', async () => {
    const before = (await rows()).length;
    await expect(transport().sendMail({ from: 'a@b.example', to: 'nobody@trap.example.org', text: 'x' })).rejects.toMatchObject({ responseCode: 550, response: expect.stringMatching(/nobody@trap\.example\.org: no such mailbox/) });
    await expect(transport().sendMail({ from: 'a@b.example', to: 'someone@gmail.example', text: 'x' })).rejects.toMatchObject({ responseCode: 550, response: expect.stringMatching(/not a trap domain/) });
    // Mixed: the canary mailbox is accepted, the other refused, and only the canary's is stored.
    const info = await transport().sendMail({ from: 'a@b.example', to: [MOTHER_MAILBOX, 'nobody@trap.example.org'], text: 'mixed', messageId: '<mixed@b.example>' });
    expect(info.rejected).toEqual(['nobody@trap.example.org']);
    const added = (await rows()).slice(before);
    expect(added.map((r) => r.to_address)).toEqual([MOTHER_MAILBOX]);
  });

  it('refuses a message over the size limit with 552', async () => {
    await expect(transport().sendMail({ from: 'a@b.example', to: MOTHER_MAILBOX, text: 'x'.repeat(100 * 1024) })).rejects.toMatchObject({ responseCode: 552 });
  });

  it('answers 451 when the vault cannot be written, so the sender retries', async () => {
    // The vault refuses every insert (a check constraint): the listener must not say 250.
    const other = await createTrapVault(backend, 'smtp451');
    const events451: TrapSmtpEvent[] = [];
    const s = await startTrapSmtp(other.db, { port: 0, onEvent: (e) => events451.push(e) });
    try {
      await other.db.query(`ALTER TABLE contact_events ADD CONSTRAINT refuse_all CHECK (false) NOT VALID`);
      const t = nodemailer.createTransport({ host: '127.0.0.1', port: s.port, ignoreTLS: true });
      await expect(t.sendMail({ from: 'a@b.example', to: MOTHER_MAILBOX, text: 'x', messageId: '<retry@b.example>' })).rejects.toMatchObject({ responseCode: 451 });
      expect(events451.at(-1)).toMatchObject({ type: 'refused', code: 451 });
      // Once the vault is back the retry is stored.
      await other.db.query(`ALTER TABLE contact_events DROP CONSTRAINT refuse_all`);
      await expect(t.sendMail({ from: 'a@b.example', to: MOTHER_MAILBOX, text: 'x', messageId: '<retry@b.example>' })).resolves.toMatchObject({ accepted: [MOTHER_MAILBOX] });
      expect(await vault.countContacts(other.db)).toBe(1);
    } finally {
      await s.close();
      await other.close();
    }
  });

  it('answers 451 when the vault is closed', async () => {
    const other = await createTrapVault(backend, 'smtpclosed');
    const s = await startTrapSmtp(other.db, { port: 0 });
    try {
      await other.db.close();
      const t = nodemailer.createTransport({ host: '127.0.0.1', port: s.port, ignoreTLS: true });
      await expect(t.sendMail({ from: 'a@b.example', to: MOTHER_MAILBOX, text: 'x' })).rejects.toMatchObject({ responseCode: 451 });
    } finally {
      await s.close();
      await other.location.cleanup();
    }
  });

  it('is started and stopped with the webhooks by startWatch when smtpPort is set', async () => {
    const free = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (probe.address() as net.AddressInfo).port;
        probe.close(() => resolve(port));
      });
    });
    const lines: string[] = [];
    const watch = await startWatch(v.db, { port: 0, smtpPort: free, secrets: {}, log: (l) => lines.push(l) });
    try {
      const t = nodemailer.createTransport({ host: '127.0.0.1', port: free, ignoreTLS: true });
      await expect(t.sendMail({ from: 'a@b.example', to: MOTHER_MAILBOX, text: 'via watch', messageId: '<watch@b.example>' })).resolves.toMatchObject({ accepted: [MOTHER_MAILBOX] });
      await expect(t.sendMail({ from: 'a@b.example', to: 'nobody@trap.example.org', text: 'x' })).rejects.toMatchObject({ responseCode: 550 });
      expect(lines.some((l) => /^smtp: 550 to .*nobody@trap\.example\.org: no such mailbox/.test(l))).toBe(true);
    } finally {
      await watch.close();
    }
    await expect(nodemailer.createTransport({ host: '127.0.0.1', port: free, ignoreTLS: true, connectionTimeout: 2000 }).sendMail({ from: 'a@b.example', to: MOTHER_MAILBOX, text: 'x' })).rejects.toThrow();
  });
});
