import fs from 'node:fs';
import path from 'node:path';
import type { Database, Queryable } from '../db/index.js';
import { readOnly } from '../db/index.js';
import type { NewContact } from '../vault/contacts.js';
import { inboxCursor, markInboxItems, seenInboxItems, setInboxCursor, type InboxItem } from '../vault/sms-inbox.js';
import { normalisePhone } from './cdr.js';
import {
  decodeSmsText,
  fileFormat,
  groupPlainFiles,
  joinParts,
  networkMessageOf,
  normaliseCoding,
  parseInboxFileName,
  parseGammuStamp,
  parseSqlStamp,
  parseUdh,
  partsOfBackup,
  SmsDecodeError,
  textOfPlainFile,
  withNetwork,
  type InboxFileName,
  type SmsMessage,
  type SmsPart,
} from './gammu.js';
import { capped, DETAIL_CAP, NOTHING, recordAll, type Pending } from './record.js';

// Gammu SMSD's inbox followed as it grows: its files backend (a folder of IN… files) or its SQL
// backend (the `inbox` table, read-only). Each poll reads what the vault has not consumed yet, joins
// multi-part messages, records each message as an SMS contact with its raw bytes (the inbox file, or
// the rows as JSON) and marks the files or rows consumed, all in one vault transaction. A part waiting
// for the others is left for the next poll; a file or row that cannot be read is a rejection, once.

export interface SmsPollOptions {
  /** Zone of times written without an offset (inbox file names; SQL ReceivingDateTime: SMSD's local zone). */
  timeZone: string;
  /** Country of sender numbers written without +code. */
  region: string;
  /** How long a multi-part message waits for a missing part before it is stored without it (ms). */
  waitMs: number;
  now?: Date;
}

export interface SmsPollSummary {
  /** The inbox, as named in the vault (gammu-files:<folder>, gammu-sql:<host/database>). */
  file: string;
  /** Files or rows read this time (not consumed before). */
  items: number;
  messages: number;
  recorded: number;
  duplicates: number;
  rejected: number;
  rejectedDetail: string[];
  /** Parts still waiting for the rest of their message. */
  pending: number;
  warnings: string[];
  contactIds: number[];
}

export const DEFAULT_PARTS_WAIT_MS = 600_000;

/** Larger inbox files are rejected unread: 255 parts of a detail file take about 300 KiB. */
const MAX_INBOX_FILE = 1024 * 1024;

/** A message's contact: from the first part, the body joined, the evidence given. */
function contactOf(m: SmsMessage, source: 'gammu-files' | 'gammu-sql', providerId: string, to: string, raw: Buffer, extra: Record<string, unknown>, opts: SmsPollOptions): NewContact {
  const first = m.parts[0];
  const sender = first.sender;
  const items = [...new Set(m.parts.map((p) => p.item))];
  return {
    source,
    providerId,
    // What the network sent (a USSD reply, a delivery report) is kept as evidence of another kind: triage passes it by.
    kind: first.network ? 'other' : 'sms',
    from: sender ? normalisePhone(sender, opts.region) ?? sender : null,
    to,
    occurredAt: first.sentAt ?? opts.now ?? new Date(),
    body: m.text,
    headers: {
      'x-gammu-items': items,
      'x-gammu-sender': sender,
      ...(first.smsc ? { 'x-gammu-smsc': first.smsc } : {}),
      'x-gammu-coding': [...new Set(m.parts.map((p) => p.coding))].join(','),
      ...(m.parts.some((p) => p.udh) ? { 'x-gammu-udh': m.parts.map((p) => p.udh) } : {}),
      'x-gammu-parts': m.total,
      ...(m.missing.length ? { 'x-gammu-missing-parts': m.missing } : {}),
      ...(first.network ? { 'x-gammu-network': first.network } : {}),
      ...(first.sentAt ? {} : { 'x-gammu-time': 'unreadable; the time read is stored' }),
      ...Object.fromEntries(Object.entries(first.fields).map(([k, v]) => [`x-gammu-${k}`, v])),
      ...extra,
    },
    raw,
  };
}

interface Batch {
  pending: Pending[];
  /** The inbox items of each pending contact, in the same order. */
  itemsOf: string[][];
  rejectedItems: InboxItem[];
  rejectedDetail: string[];
  warnings: string[];
}

/** Record the batch and mark its items, in one transaction. */
async function commit(vault: Database, source: string, batch: Batch, after?: (tx: Queryable) => Promise<void>) {
  return vault.transaction(async (tx) => {
    const res = batch.pending.length ? await recordAll(tx, batch.pending) : NOTHING;
    const marks: InboxItem[] = [...batch.rejectedItems];
    res.results.forEach((r, i) => {
      for (const item of batch.itemsOf[i]) {
        marks.push('refused' in r ? { item, outcome: 'rejected', contactId: null, reason: r.refused } : { item, outcome: r.duplicate ? 'duplicate' : 'recorded', contactId: r.id, reason: null });
      }
    });
    await markInboxItems(tx, source, marks);
    await after?.(tx);
    return res;
  });
}

function summary(label: string, items: number, messages: number, res: typeof NOTHING, batch: Batch, pendingParts: number): SmsPollSummary {
  return {
    file: label,
    items,
    messages,
    recorded: res.recorded,
    duplicates: res.duplicates,
    rejected: batch.rejectedItems.length + res.rejected,
    rejectedDetail: [...batch.rejectedDetail, ...res.rejectedDetail].slice(0, DETAIL_CAP),
    pending: pendingParts,
    warnings: [...batch.warnings, ...res.warnings].slice(0, DETAIL_CAP),
    contactIds: res.ids,
  };
}

// ---------- files backend ----------

/** The vault's name for an inbox folder. */
export function filesSourceName(dir: string): string {
  return `gammu-files:${path.resolve(dir)}`;
}

/**
 * Read the inbox folder's files not consumed yet and record their messages to trap number `to` (the
 * SIM's own number: file names do not carry it). Files younger than `settleMs` (SMSD may still be
 * writing them) wait for the next poll.
 */
export async function pollGammuFiles(vault: Database, dir: string, to: string, opts: SmsPollOptions & { settleMs?: number }): Promise<SmsPollSummary> {
  const now = opts.now ?? new Date();
  const source = filesSourceName(dir);
  const label = source;
  const names = fs
    .readdirSync(dir)
    .map(parseInboxFileName)
    .filter((n): n is InboxFileName => n !== null);
  const seen = await seenInboxItems(vault, source, names.map((n) => n.name));
  const batch: Batch = { pending: [], itemsOf: [], rejectedItems: [], rejectedDetail: [], warnings: [] };
  const reject = (item: string, reason: string) => {
    batch.rejectedItems.push({ item, outcome: 'rejected', contactId: null, reason });
    capped(batch.rejectedDetail, `${item}: ${reason}`);
  };
  const data = new Map<string, Buffer>();
  const detailParts: SmsPart[] = [];
  const plain: InboxFileName[] = [];
  /** Files left for the next poll: SMSD may still be writing them. */
  const young: InboxFileName[] = [];
  let items = 0;
  for (const n of names) {
    if (seen.has(n.name)) continue;
    let bytes: Buffer;
    try {
      const file = path.join(dir, n.name);
      const st = fs.statSync(file);
      if (!st.isFile()) continue;
      if (opts.settleMs && Date.now() - st.mtimeMs < opts.settleMs) {
        young.push(n);
        continue;
      }
      if (st.size > MAX_INBOX_FILE) {
        items++;
        reject(n.name, `${st.size} bytes: SMSD writes inbox files of a few KiB (a detail file of 255 parts is under ${MAX_INBOX_FILE / 1024} KiB)`);
        continue;
      }
      bytes = fs.readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue; // moved away meanwhile
      // Not marked: read again at the next poll, once the permissions are mended.
      capped(batch.warnings, `${n.name}: cannot be read (${code ?? (err as Error).message}); it is tried again at the next poll`);
      continue;
    }
    items++;
    data.set(n.name, bytes);
    try {
      if (fileFormat(n, bytes) === 'detail') detailParts.push(...partsOfBackup(n.name, bytes.toString('utf8'), opts.timeZone).map((p) => ({ ...p, fields: { ...p.fields, format: 'detail' } })));
      else plain.push(n);
    } catch (err) {
      if (!(err instanceof SmsDecodeError)) throw err;
      reject(n.name, `not a Gammu inbox file Cradle can read: ${err.message}`);
    }
  }
  const messages: SmsMessage[] = [];
  for (const group of groupPlainFiles(plain)) {
    // A message whose next part is still being written waits for it (the next poll takes them together).
    const last = group.files[group.files.length - 1];
    if (young.some((y) => y.sender === last.sender && y.serial === last.serial && y.part === last.part + 1)) {
      items -= group.files.length;
      continue;
    }
    const parts: SmsPart[] = [];
    try {
      for (const n of group.files) {
        const { text, coding, format } = textOfPlainFile(n, data.get(n.name)!);
        parts.push({
          item: n.name,
          sender: n.sender,
          sentAt: parseGammuStamp(n.stamp, opts.timeZone),
          concat: null,
          text,
          coding,
          udh: '',
          smsc: null,
          fields: { format, ...(format === 'bin' ? { data: data.get(n.name)!.toString('hex') } : {}) },
          ...withNetwork(networkMessageOf({ sender: n.sender })),
        });
      }
    } catch (err) {
      if (!(err instanceof SmsDecodeError)) throw err;
      for (const n of group.files) reject(n.name, `not a Gammu inbox file Cradle can read: ${err.message}`);
      continue;
    }
    if (group.orphan) batch.warnings.push(`${group.files[0].name}: part ${group.files[0].part + 1} of a message whose earlier parts are not in the folder; stored on its own`);
    const text = parts.every((p) => p.text === null) ? null : parts.map((p) => p.text ?? '').join('');
    messages.push({ parts, missing: [], total: parts.length, text });
  }
  const joined = joinParts(detailParts, now, opts.waitMs);
  messages.push(...joined.messages);
  batch.warnings.push(...joined.warnings);
  for (const m of messages) {
    const itemNames = [...new Set(m.parts.map((p) => p.item))];
    const raw =
      itemNames.length === 1
        ? data.get(itemNames[0])!
        : Buffer.from(JSON.stringify({ gammu: 'files', folder: path.resolve(dir), files: itemNames.map((name) => ({ name, base64: data.get(name)!.toString('base64') })) }));
    batch.pending.push({ where: itemNames[0], contact: contactOf(m, 'gammu-files', `${to}/${itemNames[0]}`, to, raw, { 'x-gammu-folder': path.resolve(dir) }, opts) });
    batch.itemsOf.push(itemNames);
  }
  const res = await commit(vault, source, batch);
  return summary(label, items, messages.length, res, batch, joined.pending.length);
}

// ---------- SQL backend ----------

/** A row of SMSD's inbox table, as read (column names as in Gammu's schema). */
export type InboxRow = Record<string, unknown>;

const pick = (row: InboxRow, name: string): unknown => {
  const key = Object.keys(row).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : row[key];
};
const str = (v: unknown): string => (v === null || v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

/** One inbox row as a part; throws SmsDecodeError for a row that cannot be read. `to` maps RecipientID (PhoneID) to the trap number ('' for the default). */
export function partOfRow(row: InboxRow, to: ReadonlyMap<string, string>, timeZone: string): SmsPart {
  const id = str(pick(row, 'ID'));
  const coding = normaliseCoding(str(pick(row, 'Coding')));
  if (!coding) throw new SmsDecodeError(`Coding ${JSON.stringify(str(pick(row, 'Coding')))} is not one Gammu writes`);
  const hex = str(pick(row, 'Text'));
  const decoded = str(pick(row, 'TextDecoded'));
  const udh = str(pick(row, 'UDH')).trim();
  const concat = parseUdh(udh);
  // Text is the part's own hex; TextDecoded holds the whole message on a multi-part's first row, so it
  // is used only for a row without hex (written by hand or by another program).
  const text = hex.trim() ? decodeSmsText(hex, coding) : coding === '8bit' ? null : decoded;
  const received = str(pick(row, 'ReceivingDateTime'));
  const recipient = str(pick(row, 'RecipientID')).trim();
  const trap = to.get(recipient) ?? to.get('');
  if (!trap) throw new SmsDecodeError(`RecipientID ${JSON.stringify(recipient)}: no trap number given for it (--to ${recipient || '<number>'}=<number>)`);
  return {
    item: id,
    sender: str(pick(row, 'SenderNumber')),
    sentAt: parseSqlStamp(received, timeZone),
    concat,
    text,
    coding,
    udh: udh.toUpperCase(),
    smsc: str(pick(row, 'SMSCNumber')) || null,
    to: trap,
    fields: { id: Number(id), ...(recipient ? { 'recipient-id': recipient } : {}), ...(coding === '8bit' ? { data: hex } : {}) },
    ...withNetwork(networkMessageOf({ sender: str(pick(row, 'SenderNumber')), smsClass: pick(row, 'Class') })),
  };
}

export interface SqlInbox {
  /** The SMSD database, opened by the caller; only read, inside readOnly(). */
  db: Database;
  /** host:port/database, without credentials: names the inbox in the vault and in provider ids. */
  identity: string;
  /** RecipientID (SMSD's PhoneID) to trap number; '' for rows whose RecipientID has no entry. */
  to: ReadonlyMap<string, string>;
  /** Table name, default inbox. */
  table?: string;
}

export function sqlSourceName(identity: string): string {
  return `gammu-sql:${identity}`;
}

const SQL_BATCH = 2000;

/** Read the inbox rows above the cursor not consumed yet, join and record their messages, move the cursor. */
export async function pollGammuSql(vault: Database, inbox: SqlInbox, opts: SmsPollOptions): Promise<SmsPollSummary> {
  const now = opts.now ?? new Date();
  const source = sqlSourceName(inbox.identity);
  const cursor = (await inboxCursor(vault, source)) ?? 0;
  const table = inbox.table ?? 'inbox';
  const mysql = inbox.db.kind === 'mysql';
  const q = (name: string) => (mysql ? `\`${name.replace(/`/g, '``')}\`` : `"${name.replace(/"/g, '""')}"`);
  const sql = `SELECT * FROM ${q(table)} WHERE ${q('ID')} > ${mysql ? '?' : '$1'} ORDER BY ${q('ID')} LIMIT ${SQL_BATCH}`;
  const rows: InboxRow[] = [];
  let after = cursor;
  await readOnly(inbox.db, async (ro) => {
    for (;;) {
      const { rows: got } = await ro.query<InboxRow>(sql, [after]);
      rows.push(...got);
      if (got.length < SQL_BATCH) break;
      after = Number(pick(got[got.length - 1], 'ID'));
    }
  });
  const seen = await seenInboxItems(vault, source, rows.map((r) => str(pick(r, 'ID'))));
  const fresh = rows.filter((r) => !seen.has(str(pick(r, 'ID'))));
  const batch: Batch = { pending: [], itemsOf: [], rejectedItems: [], rejectedDetail: [], warnings: [] };
  const byId = new Map<string, InboxRow>();
  const parts: SmsPart[] = [];
  for (const row of fresh) {
    const id = str(pick(row, 'ID'));
    byId.set(id, row);
    try {
      parts.push(partOfRow(row, inbox.to, opts.timeZone));
    } catch (err) {
      if (!(err instanceof SmsDecodeError)) throw err;
      batch.rejectedItems.push({ item: id, outcome: 'rejected', contactId: null, reason: err.message });
      capped(batch.rejectedDetail, `${table} ID ${id}: ${err.message}`);
    }
  }
  const joined = joinParts(parts, now, opts.waitMs);
  batch.warnings.push(...joined.warnings);
  for (const m of joined.messages) {
    const ids = m.parts.map((p) => p.item);
    const rowsOf = ids.map((id) => byId.get(id)!);
    const raw = Buffer.from(JSON.stringify(rowsOf.length === 1 ? rowsOf[0] : rowsOf, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    batch.pending.push({ where: `${table} ID ${ids.join('+')}`, contact: contactOf(m, 'gammu-sql', `${inbox.identity}#${ids[0]}`, m.parts[0].to!, raw, { 'x-gammu-database': inbox.identity }, opts) });
    batch.itemsOf.push(ids);
  }
  const maxRead = rows.reduce((max, r) => Math.max(max, Number(pick(r, 'ID'))), cursor);
  const waiting = joined.pending.map((p) => Number(p.item));
  const position = waiting.length ? Math.max(cursor, Math.min(...waiting) - 1) : maxRead;
  const res = await commit(vault, source, batch, (tx) => (position !== cursor ? setInboxCursor(tx, source, position) : Promise.resolve()));
  return summary(source, fresh.length, joined.messages.length, res, batch, joined.pending.length);
}
