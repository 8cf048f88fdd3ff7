import crypto from 'node:crypto';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import type { NewContact } from '../vault/contacts.js';

// One e-mail message as contact evidence: the raw bytes as they arrived, the text part, the parsed
// headers. Shared by the SMTP listener and `cradle ingest mail`.

export interface ParsedMessage {
  parsed: ParsedMail;
  /** The Message-ID header, or sha256:<hex of the raw bytes> when there is none. */
  messageKey: string;
  /** Parsed headers as plain JSON (lower-case names). */
  headers: Record<string, unknown>;
  /** The text part (or the HTML part's text), without NUL characters. */
  text: string | null;
}

export async function parseMessage(raw: Buffer): Promise<ParsedMessage> {
  const parsed = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
  const messageId = parsed.messageId?.trim();
  const messageKey = messageId || `sha256:${crypto.createHash('sha256').update(raw).digest('hex')}`;
  const headers = jsonSafe(Object.fromEntries(parsed.headers)) as Record<string, unknown>;
  const text = parsed.text ?? (typeof parsed.html === 'string' ? parsed.html.replace(/<[^>]*>/g, ' ') : null);
  return { parsed, messageKey, headers, text: text === null ? null : text.replaceAll('\u0000', '') };
}

/** JSON without NUL characters (PostgreSQL's jsonb refuses \u0000). */
function jsonSafe(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' ? v.replaceAll('\u0000', '') : v)) ?? 'null');
}

function addressesOf(value: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  const out: string[] = [];
  const walk = (entries: { address?: string; group?: { address?: string }[] }[]) => {
    for (const e of entries) {
      if (e.address) out.push(e.address);
      if (e.group) walk(e.group);
    }
  };
  for (const a of list) walk(a.value);
  return out;
}

/** Every recipient address a stored message names: To, Cc, Bcc, Delivered-To, X-Original-To, Envelope-To. */
export function recipientsOf(parsed: ParsedMail): string[] {
  const out = [...addressesOf(parsed.to), ...addressesOf(parsed.cc), ...addressesOf(parsed.bcc)];
  for (const name of ['delivered-to', 'x-original-to', 'envelope-to']) {
    for (const line of parsed.headerLines.filter((h) => h.key === name)) {
      const value = line.line.slice(line.line.indexOf(':') + 1);
      for (const m of value.matchAll(/[^\s<>,;"]+@[^\s<>,;"]+/g)) out.push(m[0]);
    }
  }
  return [...new Set(out.map((a) => a.toLowerCase()))];
}

export function senderOf(parsed: ParsedMail): string | null {
  return addressesOf(parsed.from)[0]?.toLowerCase() ?? null;
}

export interface MessageContactOptions {
  source: string;
  from: string | null;
  occurredAt: Date;
  remoteAddr?: string | null;
  /** Extra facts kept with the headers (the SMTP envelope). */
  extraHeaders?: Record<string, unknown>;
}

/**
 * One contact per canary mailbox the message reached. The provider id is the Message-ID (or the
 * hash) and the mailbox, so a re-sent message is recorded once per mailbox.
 */
export function messageContacts(raw: Buffer, msg: ParsedMessage, mailboxes: readonly string[], opts: MessageContactOptions): NewContact[] {
  return mailboxes.map((mailbox) => ({
    source: opts.source,
    providerId: `${msg.messageKey} ${mailbox}`,
    kind: 'email',
    from: opts.from,
    to: mailbox,
    occurredAt: opts.occurredAt,
    body: msg.text,
    remoteAddr: opts.remoteAddr ?? null,
    headers: { ...msg.headers, ...opts.extraHeaders },
    raw,
  }));
}
