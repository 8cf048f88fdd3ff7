import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Database } from '../db/index.js';
import { canaryMailboxes, domainOf, isTrapDomain } from '../vault/mailboxes.js';
import { messageContacts, parseMessage } from '../lib/mail.js';
import { isPermanentDataError, recordContact } from '../vault/contacts.js';

// The trap mailbox listener: accepts mail for canary mailboxes on the vault's trap domains only and
// keeps every message byte for byte in the vault before answering 250. A failed vault write answers
// 451 so the sending server keeps the message and retries; a re-sent Message-ID is recorded once.
// Content never causes a 451: a message mailparser refuses is stored from its top-level headers, and
// what the vault cannot hold is escaped by recordContact; a write the vault still refuses for its data
// is answered 554 (permanent), since the retry would be refused the same way.
// No AUTH (anyone may deliver to a trap, that is the point) and no STARTTLS yet: run it behind the
// MX relay or on a trusted network until TLS certificates are configurable.

export const DEFAULT_SMTP_MAX_BYTES = 10 * 1024 * 1024;

export interface TrapSmtpOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Only this hospital's trap domains and canaries. */
  hospital?: string;
  /** Largest message accepted (default 10 MiB); larger ones are refused with 552. */
  maxBytes?: number;
  /** Called after each stored message or refusal, for logs. Never given message contents. */
  onEvent?: (event: TrapSmtpEvent) => void;
}

export type TrapSmtpEvent =
  | { type: 'stored'; ids: number[]; duplicates: number; warnings: string[]; remoteAddr: string }
  | { type: 'refused'; stage: 'rcpt' | 'data'; code: number; reason: string; remoteAddr: string };

export interface TrapSmtp {
  port: number;
  host: string;
  close(): Promise<void>;
}

class SmtpReply extends Error {
  constructor(
    message: string,
    readonly responseCode: number,
  ) {
    super(message);
  }
}

export async function startTrapSmtp(vault: Database, options: TrapSmtpOptions): Promise<TrapSmtp> {
  const host = options.host ?? '127.0.0.1';
  const maxBytes = options.maxBytes ?? DEFAULT_SMTP_MAX_BYTES;
  const emit = options.onEvent ?? (() => {});

  const checkRecipient = async (address: string): Promise<string | null> => {
    const mailbox = address.toLowerCase();
    if (!(await isTrapDomain(vault, domainOf(mailbox), options.hospital))) return `${address}: relay denied, not a trap domain`;
    if (!(await canaryMailboxes(vault, [mailbox], options.hospital)).has(mailbox)) return `${address}: no such mailbox`;
    return null;
  };

  // Required here, on first use: only `cradle watch` with a trap mailbox listens for mail.
  const { SMTPServer } = createRequire(import.meta.url)('smtp-server') as typeof import('smtp-server');
  const server = new SMTPServer({
    name: 'cradle-trap',
    banner: 'Cradle trap mailbox',
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    hideSTARTTLS: true,
    size: maxBytes,
    logger: false,
    socketTimeout: 60_000,
    closeTimeout: 2_000,
    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: (err?: Error | null) => void) {
      checkRecipient(address.address).then(
        (reason) => {
          if (!reason) return callback();
          emit({ type: 'refused', stage: 'rcpt', code: 550, reason, remoteAddr: session.remoteAddress });
          callback(new SmtpReply(reason, 550));
        },
        () => callback(new SmtpReply('mailbox check unavailable, try again later', 451)),
      );
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, reply: (err?: Error | null, message?: string) => void) {
      let answered = false;
      const callback = (err: Error | null, message?: string) => {
        if (answered) return;
        answered = true;
        reply(err, message);
      };
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        if (!stream.sizeExceeded) chunks.push(chunk);
      });
      stream.on('error', (err) => callback(new SmtpReply(`message not received: ${err.message}`, 451)));
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          const reason = `message exceeds fixed maximum message size of ${maxBytes} bytes`;
          emit({ type: 'refused', stage: 'data', code: 552, reason, remoteAddr: session.remoteAddress });
          return callback(new SmtpReply(reason, 552));
        }
        store(Buffer.concat(chunks), session).then(
          (res) => {
            emit({ type: 'stored', ...res, remoteAddr: session.remoteAddress });
            callback(null, `stored as contact ${res.ids.join(', ')}`);
          },
          (err: Error) => {
            if (isPermanentDataError(err)) {
              emit({ type: 'refused', stage: 'data', code: 554, reason: `the vault refused the message: ${err.message}`, remoteAddr: session.remoteAddress });
              return callback(new SmtpReply('the message cannot be stored; do not retry', 554));
            }
            emit({ type: 'refused', stage: 'data', code: 451, reason: `vault write failed: ${err.message}`, remoteAddr: session.remoteAddress });
            callback(new SmtpReply('cannot store the message now, try again later', 451));
          },
        );
      });
    },
  });

  const store = async (raw: Buffer, session: SMTPServerSession): Promise<{ ids: number[]; duplicates: number; warnings: string[] }> => {
    const msg = await parseMessage(raw);
    const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const rcptTo = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
    const contacts = messageContacts(raw, msg, [...new Set(rcptTo)], {
      source: 'smtp',
      from: mailFrom ? mailFrom.toLowerCase() : null,
      occurredAt: new Date(),
      remoteAddr: session.remoteAddress,
      extraHeaders: { 'x-cradle-envelope': { mailFrom: mailFrom || null, rcptTo, helo: session.hostNameAppearsAs ?? null, remoteAddress: session.remoteAddress } },
    });
    return vault.transaction(async (tx) => {
      const ids: number[] = [];
      const warnings = new Set<string>();
      let duplicates = 0;
      for (const c of contacts) {
        const r = await recordContact(tx, c);
        ids.push(r.id);
        if (r.duplicate) duplicates++;
        for (const w of r.warnings) warnings.add(w);
      }
      return { ids, duplicates, warnings: [...warnings] };
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Errors on single connections (a client hanging up) are the sender's problem, not a crash.
  server.on('error', () => {});
  const address = server.server.address() as AddressInfo;
  return {
    port: address.port,
    host,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
