import type { Readable } from 'node:stream';
import type { Database, Queryable } from '../db/index.js';
import { recordContact, type NewContact } from '../vault/contacts.js';
import { readCdr, type CdrFormat, type CdrOptions } from './cdr.js';
import { parseEvents } from './event.js';
import { canaryMailboxes } from '../vault/mailboxes.js';
import { envelopeDate, splitMailbox } from './mbox.js';
import { messageContacts, parseMessage, recipientsOf, senderOf } from './message.js';

export { ASTERISK_COLUMNS, CdrRowError, parseCdrMap, parseCdrTime, normalisePhone, readCdr, type CdrFormat } from './cdr.js';
export { EventError, parseEvents } from './event.js';
export { isMbox, splitMailbox } from './mbox.js';
export { parseMessage, messageContacts, recipientsOf } from './message.js';

// Importing contacts the watch service did not see live: call-detail records, saved mail, notes.
// Each file is one transaction: all of it is recorded, or (on a bad row) none of it.

export interface IngestSummary {
  file: string;
  recorded: number;
  duplicates: number;
  skipped: number;
  /** Why rows or messages were skipped, one line each (capped). */
  skippedDetail: string[];
  contactIds: number[];
}

const DETAIL_CAP = 50;

async function recordAll(tx: Queryable, contacts: readonly NewContact[]): Promise<{ recorded: number; duplicates: number; ids: number[] }> {
  let recorded = 0;
  let duplicates = 0;
  const ids: number[] = [];
  for (const c of contacts) {
    const r = await recordContact(tx, c);
    if (r.duplicate) duplicates++;
    else recorded++;
    ids.push(r.id);
  }
  return { recorded, duplicates, ids };
}

/** E.164 of every trap number in the vault (any state: retired numbers stay watched). */
async function trapNumberSet(db: Queryable, hospital?: string): Promise<Set<string>> {
  const { rows } = await db.query<{ e164: string }>(`SELECT e164 FROM trap_numbers WHERE $1::text IS NULL OR hospital IS NULL OR hospital = $1`, [hospital ?? null]);
  return new Set(rows.map((r) => r.e164));
}

export async function ingestCdr(
  db: Database,
  input: Readable,
  format: CdrFormat,
  opts: CdrOptions & { hospital?: string; onProgress?: (rows: number) => void },
): Promise<IngestSummary & { rows: number }> {
  const traps = await trapNumberSet(db, opts.hospital);
  const contacts: NewContact[] = [];
  const skippedDetail: string[] = [];
  let rows = 0;
  let skipped = 0;
  for await (const call of readCdr(input, format, opts)) {
    rows++;
    if (rows % 10_000 === 0) opts.onProgress?.(rows);
    if (!call.toIsPhone || !traps.has(call.to)) {
      skipped++;
      if (skippedDetail.length < DETAIL_CAP) skippedDetail.push(`${opts.label}:${call.line}: ${call.to} is not a trap number`);
      continue;
    }
    contacts.push({
      source: 'cdr',
      providerId: call.providerId,
      kind: 'call',
      from: call.from,
      to: call.to,
      occurredAt: call.occurredAt,
      body: null,
      headers: call.fields,
      raw: call.raw,
    });
  }
  const res = contacts.length ? await db.transaction((tx) => recordAll(tx, contacts)) : { recorded: 0, duplicates: 0, ids: [] };
  return { file: opts.label, rows, recorded: res.recorded, duplicates: res.duplicates, skipped, skippedDetail, contactIds: res.ids };
}

export async function ingestMail(db: Database, data: Buffer, opts: { label: string; hospital?: string }): Promise<IngestSummary & { messages: number }> {
  const messages = splitMailbox(data);
  const contacts: NewContact[] = [];
  const skippedDetail: string[] = [];
  let skipped = 0;
  for (const m of messages) {
    const msg = await parseMessage(m.raw);
    const recipients = recipientsOf(msg.parsed);
    const mailboxes = await canaryMailboxes(db, recipients, opts.hospital);
    const where = `${opts.label}:${m.line}${msg.parsed.messageId ? ` ${msg.parsed.messageId}` : ''}`;
    if (mailboxes.size === 0) {
      skipped++;
      if (skippedDetail.length < DETAIL_CAP) skippedDetail.push(`${where}: addressed to no canary mailbox (${recipients.join(', ') || 'no recipients'})`);
      continue;
    }
    contacts.push(
      ...messageContacts(m.raw, msg, [...mailboxes], {
        source: 'mail',
        from: senderOf(msg.parsed),
        occurredAt: msg.parsed.date && !Number.isNaN(msg.parsed.date.getTime()) ? msg.parsed.date : envelopeDate(m.envelope) ?? new Date(),
        extraHeaders: m.envelope ? { 'x-cradle-mbox-from': m.envelope } : {},
      }),
    );
  }
  const res = contacts.length ? await db.transaction((tx) => recordAll(tx, contacts)) : { recorded: 0, duplicates: 0, ids: [] };
  return { file: opts.label, messages: messages.length, recorded: res.recorded, duplicates: res.duplicates, skipped, skippedDetail, contactIds: res.ids };
}

export async function ingestEvents(db: Database, text: string, opts: { label: string; region: string }): Promise<IngestSummary & { events: number }> {
  const events = parseEvents(text, opts.label, opts.region);
  const res = await db.transaction((tx) => recordAll(tx, events.map((e) => e.contact)));
  return { file: opts.label, events: events.length, recorded: res.recorded, duplicates: res.duplicates, skipped: 0, skippedDetail: [], contactIds: res.ids };
}
