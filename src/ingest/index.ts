import type { Readable } from 'node:stream';
import type { Database } from '../db/index.js';
import { isStorableInstant, storableText } from '../lib/storable.js';
import type { NewContact } from '../vault/contacts.js';
import { CdrRowError, readCdr, type CdrFormat, type CdrOptions } from './cdr.js';
import { parseEvents } from './event.js';
import { canaryMailboxes } from '../vault/mailboxes.js';
import { envelopeDate, splitMailbox } from './mbox.js';
import { messageContacts, parseMessage, recipientsOf, senderOf } from '../lib/mail.js';

export { ASTERISK_COLUMNS, CDR_FIELDS, CdrRowError, parseCdrMap, parseCdrTime, normalisePhone, readCdr, type CdrFormat } from './cdr.js';
export { EventError, parseEvents } from './event.js';
export { isMbox, splitMailbox } from './mbox.js';
export { parseMessage, messageContacts, recipientsOf } from '../lib/mail.js';

// Importing contacts the watch service did not see live: call-detail records, saved mail, notes.
// Each file is one transaction. A row or message that cannot be read, or that the vault refuses, is a
// rejection (counted and named, file:line) and the others are recorded: one bad row, which a caller
// may have shaped, does not hold back the rest. What had to be escaped to be stored is a warning.

export interface IngestSummary {
  file: string;
  recorded: number;
  duplicates: number;
  skipped: number;
  /** Why rows or messages were skipped, one line each (capped). */
  skippedDetail: string[];
  /** Rows or messages that could not be read or stored. */
  rejected: number;
  /** Why, one line each, file:line first (capped). */
  rejectedDetail: string[];
  /** What had to change for a contact to be stored (NUL, oversized ids, impossible dates), file:line first (capped). */
  warnings: string[];
  contactIds: number[];
}

import { capped, DETAIL_CAP, NOTHING, recordAll, type Pending, type Recorded } from './record.js';
import { contentTypeOf, ingestRecordingFile, recordingFileIn } from './recording.js';
import { trapNumberSet } from './traps.js';
import type { Transcriber } from '../lib/transcribe.js';
import { findCall } from '../vault/recordings.js';

/** What every ingest reports of its contacts: recorded, duplicates, and rejected (unreadable or refused by the vault). */
function outcome(res: Recorded, unreadable: number, readErrors: string[]) {
  return {
    recorded: res.recorded,
    duplicates: res.duplicates,
    rejected: unreadable + res.rejected,
    rejectedDetail: [...readErrors, ...res.rejectedDetail].slice(0, DETAIL_CAP),
    warnings: res.warnings,
    contactIds: res.ids,
  };
}

export async function ingestCdr(
  db: Database,
  input: Readable,
  format: CdrFormat,
  opts: CdrOptions & { hospital?: string; onProgress?: (rows: number) => void; recordings?: { dir: string; transcriber?: Transcriber } },
): Promise<IngestSummary & { rows: number; recordings?: number; transcripts?: number }> {
  const traps = await trapNumberSet(db, opts.hospital);
  const pending: Pending[] = [];
  const skippedDetail: string[] = [];
  const readErrors: string[] = [];
  let rows = 0;
  let skipped = 0;
  let unreadable = 0;
  for await (const call of readCdr(input, format, opts)) {
    rows++;
    if (rows % 10_000 === 0) opts.onProgress?.(rows);
    if (call instanceof CdrRowError) {
      unreadable++;
      capped(readErrors, call.message);
      continue;
    }
    if (!call.toIsPhone || !traps.has(call.to)) {
      skipped++;
      capped(skippedDetail, `${opts.label}:${call.line}: ${call.to} is not a trap number`);
      continue;
    }
    pending.push({
      where: `${opts.label}:${call.line}`,
      contact: {
        source: 'cdr',
        providerId: call.providerId,
        kind: 'call',
        from: call.from,
        to: call.to,
        occurredAt: call.occurredAt,
        body: null,
        headers: call.fields,
        raw: call.raw,
      },
    });
  }
  const res = pending.length ? await db.transaction((tx) => recordAll(tx, pending)) : NOTHING;
  const calls = opts.recordings ? await cdrRecordings(db, pending, res, format, opts.recordings) : null;
  if (calls) res.warnings.push(...calls.warnings.slice(0, DETAIL_CAP - res.warnings.length));
  return {
    file: opts.label,
    rows,
    ...(calls ? { recordings: calls.recordings, transcripts: calls.transcripts } : {}),
    skipped,
    skippedDetail,
    ...outcome(res, unreadable, readErrors),
  };
}

/**
 * The MixMonitor recordings the CDR rows name (userfield, or the --map recording column), each stored
 * with its call and transcribed when a transcriber is configured. A name without an audio file
 * extension is not a recording (userfield has other uses); a named file missing or outside the
 * folder is a warning.
 */
async function cdrRecordings(db: Database, pending: readonly Pending[], res: Recorded, format: CdrFormat, opts: { dir: string; transcriber?: Transcriber }) {
  const out = { recordings: 0, transcripts: 0, warnings: [] as string[] };
  for (const [i, p] of pending.entries()) {
    const r = res.results[i];
    if (!r || !('id' in r)) continue;
    const fields = p.contact.headers as Record<string, string>;
    const named = (format.format === 'csv' ? (format.map.recording ? fields[format.map.recording] : undefined) : fields.userfield)?.trim();
    if (!named || !contentTypeOf(named)) continue;
    const found = await recordingFileIn(opts.dir, named);
    if ('reason' in found) {
      capped(out.warnings, `${p.where}: recording ${found.reason}`);
      continue;
    }
    const call = await findCall(db, { id: r.id });
    try {
      const stored = await ingestRecordingFile(db, found.file, call!, { transcriber: opts.transcriber });
      if (!stored.duplicate) out.recordings++;
      if (stored.transcript && !stored.transcript.duplicate) out.transcripts++;
      for (const w of stored.warnings) capped(out.warnings, `${p.where}: ${w}`);
    } catch (err) {
      capped(out.warnings, `${p.where}: recording: ${(err as Error).message}`);
    }
  }
  return out;
}

export async function ingestMail(db: Database, data: Buffer, opts: { label: string; hospital?: string }): Promise<IngestSummary & { messages: number }> {
  const messages = splitMailbox(data);
  const pending: Pending[] = [];
  const skippedDetail: string[] = [];
  const readErrors: string[] = [];
  let skipped = 0;
  let unreadable = 0;
  for (const m of messages) {
    let contacts: NewContact[];
    let where = `${opts.label}:${m.line}`;
    try {
      const msg = await parseMessage(m.raw);
      const recipients = recipientsOf(msg.parsed);
      const mailboxes = await canaryMailboxes(db, recipients, opts.hospital);
      if (msg.parsed.messageId) where += ` ${quoteMessageId(msg.parsed.messageId)}`;
      if (mailboxes.size === 0) {
        skipped++;
        capped(skippedDetail, `${where}: addressed to no canary mailbox (${recipients.join(', ') || 'no recipients'})`);
        continue;
      }
      // A Date header the vault cannot hold (year 10000) gives way to the mbox envelope's date.
      const headerDate = msg.parsed.date && !Number.isNaN(msg.parsed.date.getTime()) ? msg.parsed.date : null;
      const envelope = envelopeDate(m.envelope);
      contacts = messageContacts(m.raw, msg, [...mailboxes], {
        source: 'mail',
        from: senderOf(msg.parsed),
        occurredAt: headerDate && (isStorableInstant(headerDate) || !envelope) ? headerDate : envelope ?? headerDate ?? new Date(),
        extraHeaders: m.envelope ? { 'x-cradle-mbox-from': m.envelope } : {},
      });
    } catch (err) {
      // parseMessage reads any message; this is the net under it, so one message never ends the file.
      unreadable++;
      capped(readErrors, `${where}: could not be read: ${(err as Error).message}`);
      continue;
    }
    pending.push(...contacts.map((contact) => ({ where, contact })));
  }
  const res = pending.length ? await db.transaction((tx) => recordAll(tx, pending)) : NOTHING;
  return {
    file: opts.label,
    messages: messages.length,
    skipped,
    skippedDetail,
    ...outcome(res, unreadable, readErrors),
  };
}

/** A Message-ID for a message line: escaped, and shortened when long (the full one is in the stored headers and raw). */
function quoteMessageId(id: string): string {
  const shown = storableText(id).replace(/\p{Cc}/gu, '?');
  return shown.length > 80 ? `${shown.slice(0, 77)}...` : shown;
}

export async function ingestEvents(db: Database, text: string, opts: { label: string; region: string }): Promise<IngestSummary & { events: number }> {
  const events = parseEvents(text, opts.label, opts.region);
  const many = events.length > 1;
  const res = await db.transaction((tx) => recordAll(tx, events.map((e, i) => ({ where: many ? `${opts.label}: event ${i}` : opts.label, contact: e.contact }))));
  return {
    file: opts.label,
    events: events.length,
    recorded: res.recorded,
    duplicates: res.duplicates,
    skipped: 0,
    skippedDetail: [],
    rejected: res.rejected,
    rejectedDetail: res.rejectedDetail,
    warnings: res.warnings,
    contactIds: res.ids,
  };
}

export { DEFAULT_PARTS_WAIT_MS, filesSourceName, pollGammuFiles, pollGammuSql, sqlSourceName, type SmsPollOptions, type SmsPollSummary, type SqlInbox } from './gammu-source.js';
export { decodeGsm7Septets, decodeSmsText, decodeUcs2Hex, joinParts, parseUdh, SmsDecodeError } from './gammu.js';
export { contentTypeOf, ingestRecordingFile, readRecordingFile, recordingFileIn, recordingTranscriber, resolveCall, storeCallRecording, transcribeRecording, transcriptContact, type StoredRecording } from './recording.js';
export { transcribe, type Transcriber } from './transcribe.js';
