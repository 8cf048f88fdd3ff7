import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import type { AddressObject, ParsedMail, SimpleParserOptions } from 'mailparser';
import { WARNINGS_HEADER, type NewContact } from '../domain/contact.js';

// One e-mail message as contact evidence: the raw bytes as they arrived, the text part, the parsed
// headers. Shared by the SMTP listener (watch) and `cradle ingest mail` (ingest), so it sits below
// both. Reading a message never fails: what mailparser refuses (1,000 MIME parts or more, a header
// block over 1 MiB: its guards against resource exhaustion) is read from its top-level headers only,
// with a warning, and kept whole in raw.

// mailparser (and the HTML parsers it pulls in) is required on first use: most commands never read mail.
const require = createRequire(import.meta.url);
const simpleParser = (raw: Buffer, options: SimpleParserOptions): Promise<ParsedMail> => (require('mailparser') as typeof import('mailparser')).simpleParser(raw, options);

export interface ParsedMessage {
  parsed: ParsedMail;
  /** The Message-ID header, or sha256:<hex of the raw bytes> when there is none. */
  messageKey: string;
  /** Parsed headers as plain JSON (lower-case names). */
  headers: Record<string, unknown>;
  /** The text part (or the HTML part's text). */
  text: string | null;
  /** What could not be read, for the stored contact's warnings. */
  warnings: string[];
}

const PARSER_OPTIONS = { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true } as const;

/** Top-level headers read when the whole message cannot be: at most this many bytes of them. */
const FALLBACK_HEADER_BYTES = 64 * 1024;

/** The message's top-level header block (up to FALLBACK_HEADER_BYTES), as a message without a body. */
function topLevelHeaders(raw: Buffer): Buffer {
  const window = raw.subarray(0, FALLBACK_HEADER_BYTES);
  const blank = /\r?\n\r?\n/.exec(window.toString('latin1'));
  const head = blank ? window.subarray(0, blank.index) : window.subarray(0, Math.max(window.lastIndexOf(0x0a), 0));
  return Buffer.concat([head, Buffer.from('\r\n\r\n')]);
}

export async function parseMessage(raw: Buffer): Promise<ParsedMessage> {
  const warnings: string[] = [];
  let parsed: ParsedMail;
  try {
    parsed = await simpleParser(raw, PARSER_OPTIONS);
  } catch (err) {
    warnings.push(`message not parsed whole (${(err as Error).message}); only its top-level headers were read; all of it is in raw`);
    parsed = await simpleParser(topLevelHeaders(raw), PARSER_OPTIONS).catch(() => simpleParser(Buffer.alloc(0), PARSER_OPTIONS));
  }
  const messageId = parsed.messageId?.trim();
  const messageKey = messageId || `sha256:${crypto.createHash('sha256').update(raw).digest('hex')}`;
  const headers = JSON.parse(JSON.stringify(Object.fromEntries(parsed.headers)) ?? 'null') as Record<string, unknown>;
  const text = parsed.text ?? (typeof parsed.html === 'string' ? parsed.html.replace(/<[^>]*>/g, ' ') : null);
  return { parsed, messageKey, headers, text, warnings };
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
    headers: { ...msg.headers, ...opts.extraHeaders, ...(msg.warnings.length ? { [WARNINGS_HEADER]: msg.warnings } : {}) },
    raw,
  }));
}
