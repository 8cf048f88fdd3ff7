import { TZDate } from '@date-fns/tz';

// Gammu SMSD's inbox, as its backends write it (checked against Gammu 1.42's smsd/services/files.c,
// smsd/services/sql.c and libgammu/service/backup/backtext.c, and against a running gammu-smsd):
// - files backend: one file per message part, IN<YYYYMMDD>_<HHMMSS>_<serial>_<sender>_<part>.<ext>,
//   holding (InboxFormat) `unicode`: UTF-16BE text after a FE FF mark; `standard`: the text in the
//   daemon's locale charset; `detail`: an SMS backup file ([SMSBackupNNN] sections, one per part,
//   with UDH, Coding and Text00… as hex of UCS-2) holding every part SMSD linked; `.bin`: 8-bit data.
//   Times in names are the SMSC time stamp as written, without its offset.
// - SQL backend: one `inbox` row per part: Text is hex of UCS-2 (hex of the bytes for 8bit), UDH hex,
//   Coding by name, ReceivingDateTime the SMSC time stamp in the daemon's local time zone.
// Pure code: parsing, decoding and joining parts; reading folders and databases is gammu-source.ts.

/** GSM 03.38 default alphabet, by septet. */
const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** GSM 03.38 extension table (after the 0x1B escape). */
const GSM7_EXTENSION: Record<number, string> = {
  0x0a: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2f: '\\', 0x3c: '[', 0x3d: '~', 0x3e: ']', 0x40: '|', 0x65: '€',
};

const GSM7_REPERTOIRE = new Set([...GSM7_BASIC.replace('\u001b', ''), ...Object.values(GSM7_EXTENSION)]);

export class SmsDecodeError extends Error {}

/** Septets (one per byte, 0-127) to text; an escape before a septet the extension table lacks gives the basic character, as 03.38 says. */
export function decodeGsm7Septets(septets: Uint8Array): string {
  let out = '';
  for (let i = 0; i < septets.length; i++) {
    const s = septets[i];
    if (s > 0x7f) throw new SmsDecodeError(`byte 0x${s.toString(16).padStart(2, '0')} at ${i} is not a GSM 7-bit septet`);
    if (s === 0x1b) {
      const next = septets[i + 1];
      if (next === undefined) break; // a lone escape at the end: nothing to show
      i++;
      out += GSM7_EXTENSION[next] ?? (next === 0x1b ? ' ' : GSM7_BASIC[next]);
      continue;
    }
    out += GSM7_BASIC[s];
  }
  return out;
}

/** Septets packed 8 into 7 bytes (the TP-UD of a PDU), `count` of them, after `fillBits` of padding (after a UDH). */
export function unpackGsm7(packed: Uint8Array, count: number, fillBits = 0): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const bit = fillBits + i * 7;
    const byte = bit >> 3;
    const shift = bit & 7;
    if (byte >= packed.length) throw new SmsDecodeError(`${count} septets need ${Math.ceil((fillBits + count * 7) / 8)} bytes; there are ${packed.length}`);
    let v = packed[byte] >> shift;
    if (shift > 1) v |= (packed[byte + 1] ?? 0) << (8 - shift);
    out[i] = v & 0x7f;
  }
  return out;
}

export function hexBytes(hex: string, what = 'text'): Buffer {
  const h = hex.trim();
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new SmsDecodeError(`${what} is not hex (${h.length} characters${/[^0-9a-fA-F]/.test(h) ? ', not all hex digits' : ''})`);
  return Buffer.from(h, 'hex');
}

/** UTF-16BE (UCS-2 and its surrogate pairs) from hex; an unpaired surrogate becomes U+FFFD. */
export function decodeUcs2Hex(hex: string): string {
  const bytes = hexBytes(hex);
  if (bytes.length % 2 !== 0) throw new SmsDecodeError(`UCS-2 text of ${bytes.length} bytes (not a whole number of characters)`);
  const swapped = Buffer.from(bytes);
  swapped.swap16();
  return swapped.toString('utf16le');
}

export type GammuCoding = 'Default_No_Compression' | 'Unicode_No_Compression' | '8bit' | 'Default_Compression' | 'Unicode_Compression';

/** Coding as SMSD's SQL backend and SMS backups name it (backups may say Default, Unicode). */
export function normaliseCoding(text: string | null | undefined): GammuCoding | null {
  const t = (text ?? '').trim();
  if (t === '' || /^default(_no_compression)?$/i.test(t)) return 'Default_No_Compression';
  if (/^unicode(_no_compression)?$/i.test(t)) return 'Unicode_No_Compression';
  if (/^8bit$/i.test(t)) return '8bit';
  if (/^default_compression$/i.test(t)) return 'Default_Compression';
  if (/^unicode_compression$/i.test(t)) return 'Unicode_Compression';
  return null;
}

/**
 * A part's text from its hex. Gammu writes UCS-2 hex for both the GSM alphabet and Unicode; hex of a
 * GSM-coded part that is not UCS-2 of GSM characters is read as septets, one a byte (as other
 * gateways write it). 8-bit parts have no text (null).
 */
export function decodeSmsText(hex: string, coding: GammuCoding): string | null {
  if (coding === '8bit') return null;
  if (coding === 'Default_Compression' || coding === 'Unicode_Compression') throw new SmsDecodeError(`${coding}: compressed SMS (GSM 03.42) cannot be decoded`);
  if (coding === 'Unicode_No_Compression') return decodeUcs2Hex(hex);
  const h = hex.trim();
  if (h.length % 4 === 0) {
    const text = decodeUcs2Hex(h);
    if ([...text].every((c) => GSM7_REPERTOIRE.has(c))) return text;
  }
  return decodeGsm7Septets(hexBytes(h));
}

export interface Concat {
  /** Reference shared by the parts (8 or 16 bits). */
  ref: number;
  total: number;
  /** 1-based. */
  seq: number;
}

/** The concatenation element of a User Data Header (IEI 00, 8-bit reference, or 08, 16-bit), or null. */
export function parseUdh(hex: string | null | undefined): Concat | null {
  if (!hex || !hex.trim()) return null;
  const b = hexBytes(hex, 'UDH');
  const udhl = b[0];
  if (udhl === undefined || udhl + 1 > b.length) throw new SmsDecodeError(`UDH length ${udhl} but ${b.length - 1} bytes follow`);
  let i = 1;
  while (i + 1 < udhl + 1) {
    const iei = b[i];
    const len = b[i + 1];
    const v = b.subarray(i + 2, i + 2 + len);
    if (v.length < len) throw new SmsDecodeError(`UDH element 0x${iei.toString(16)} is cut short`);
    if (iei === 0x00 && len === 3) return concatOf(v[0], v[1], v[2]);
    if (iei === 0x08 && len === 4) return concatOf((v[0] << 8) | v[1], v[2], v[3]);
    i += 2 + len;
  }
  return null;
}

function concatOf(ref: number, total: number, seq: number): Concat | null {
  // 03.40: a part number of 0 or above the total, or a total of 0, is to be ignored.
  if (total < 1 || seq < 1 || seq > total) return null;
  return { ref, total, seq };
}

/** One physical SMS (a part), from any backend. */
export interface SmsPart {
  /** The inbox item it was read from (file name, row ID). */
  item: string;
  /** Sender as Gammu wrote it. */
  sender: string;
  /** The SMSC time stamp; null when unreadable. */
  sentAt: Date | null;
  concat: Concat | null;
  text: string | null;
  coding: GammuCoding;
  udh: string;
  smsc: string | null;
  /** The trap number it reached, when the backend says (SQL RecipientID mapped). */
  to?: string;
  /** Extra values kept in the contact's headers. */
  fields: Record<string, unknown>;
  /** Set when the part is the network's, not a person's: a USSD reply or a delivery report. */
  network?: NetworkMessage;
}

/**
 * What SMSD stores that no person sent (smsd/core.c): a USSD reply (Class 127, no sender) and, with
 * DeliveryReport = sms, a delivery report (PDU Status_Report; SQL backends file those under sentitems).
 * Stored as evidence, never a hit: the trap SIM's own balance check must not raise an alert.
 */
export type NetworkMessage = 'ussd' | 'status-report';

/** `{ network }` when there is one, else nothing (so parts of people's messages stay as they were). */
export function withNetwork(network: NetworkMessage | undefined): { network?: NetworkMessage } {
  return network ? { network } : {};
}

/** Gammu's class of a USSD message (GSM_SMS_USSD in gammu-message.h). */
export const GAMMU_USSD_CLASS = 127;

/** The network message a part is, from what SMSD writes: its class, PDU type and sender. */
export function networkMessageOf(p: { sender: string; smsClass?: unknown; pdu?: unknown }): NetworkMessage | undefined {
  if (String(p.pdu ?? '').trim().toLowerCase() === 'status_report') return 'status-report';
  const smsClass = String(p.smsClass ?? '').trim();
  if (smsClass !== '' && Number(smsClass) === GAMMU_USSD_CLASS) return 'ussd';
  // A plain inbox file names its sender; only a USSD reply has none.
  if (p.sender.trim() === '') return 'ussd';
  return undefined;
}

/** A whole message: its parts in order, with any that never came. */
export interface SmsMessage {
  parts: SmsPart[];
  /** 1-based part numbers missing (a message given up waiting for them). */
  missing: number[];
  total: number;
  text: string | null;
}

/** Where a part that never came would be, in a joined message's text. */
export const GAP = '[…]';

export interface Joined {
  messages: SmsMessage[];
  /** Parts of messages still waiting for others. */
  pending: SmsPart[];
  /** One line per message stored with parts missing, or per part left waiting. */
  warnings: string[];
}

/**
 * Join parts into messages by (sender, reference, total) from their UDH, in part order whatever the
 * order they came in; a repeated part (the network resent it) counts once. Parts of a message not yet
 * whole wait (pending) until the newest of them is `waitMs` old, then the message is stored with what
 * came and says which parts are missing.
 */
export function joinParts(parts: readonly SmsPart[], now: Date, waitMs: number): Joined {
  const out: Joined = { messages: [], pending: [], warnings: [] };
  const groups = new Map<string, SmsPart[]>();
  const order: (SmsPart | string)[] = [];
  for (const p of parts) {
    if (!p.concat || p.concat.total === 1) {
      order.push(p);
      continue;
    }
    const key = `${p.to ?? ''}\u0000${p.sender}\u0000${p.concat.ref}\u0000${p.concat.total}`;
    if (!groups.has(key)) {
      groups.set(key, []);
      order.push(key);
    }
    groups.get(key)!.push(p);
  }
  for (const entry of order) {
    if (typeof entry !== 'string') {
      out.messages.push({ parts: [entry], missing: [], total: 1, text: entry.text });
      continue;
    }
    const group = groups.get(entry)!;
    const total = group[0].concat!.total;
    const bySeq = new Map<number, SmsPart>();
    for (const p of group) if (!bySeq.has(p.concat!.seq)) bySeq.set(p.concat!.seq, p);
    const ordered = [...bySeq.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
    const missing = Array.from({ length: total }, (_, i) => i + 1).filter((n) => !bySeq.has(n));
    const ref = `from ${group[0].sender} (reference ${group[0].concat!.ref}, ${bySeq.size} of ${total} parts: ${group.map((p) => p.item).filter((v, i, a) => a.indexOf(v) === i).join(', ')})`;
    if (missing.length) {
      const newest = Math.max(...group.map((p) => p.sentAt?.getTime() ?? now.getTime()));
      if (now.getTime() - newest < waitMs) {
        out.pending.push(...group);
        out.warnings.push(`message ${ref} waits for part${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
        continue;
      }
      out.warnings.push(`message ${ref} stored without part${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which never came`);
    }
    const text = ordered.every((p) => p.text === null) ? null : Array.from({ length: total }, (_, i) => (bySeq.has(i + 1) ? bySeq.get(i + 1)!.text ?? '' : GAP)).join('');
    out.messages.push({ parts: ordered, missing, total, text });
  }
  return out;
}

// ---------- files backend ----------

export interface InboxFileName {
  name: string;
  /** YYYYMMDD_HHMMSS as written. */
  stamp: string;
  serial: number;
  sender: string;
  part: number;
  ext: string;
}

const INBOX_NAME = /^IN(\d{8})_(\d{6})_(\d{2})_(.*)_(\d{2})\.([A-Za-z0-9]+)$/;

/** IN<date>_<time>_<serial>_<sender>_<part>.<ext>, or null for another file. */
export function parseInboxFileName(name: string): InboxFileName | null {
  const m = INBOX_NAME.exec(name);
  if (!m) return null;
  return { name, stamp: `${m[1]}_${m[2]}`, serial: Number(m[3]), sender: m[4], part: Number(m[5]), ext: m[6].toLowerCase() };
}

/** A local time YYYYMMDD_HHMMSS (or YYYYMMDDTHHMMSS[Z]) in `timeZone`, null when impossible. */
export function parseGammuStamp(text: string, timeZone: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})[_T](\d{2})(\d{2})(\d{2})(Z?)$/.exec(text.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (y < 1000 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  if (m[7] === 'Z') {
    const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
    return t.getUTCDate() === d ? t : null;
  }
  const local = new TZDate(y, mo - 1, d, h, mi, s, 0, timeZone);
  if (local.getDate() !== d || local.getMonth() !== mo - 1) return null;
  return new Date(local.getTime());
}

/** SQL's "YYYY-MM-DD HH:MM:SS" in `timeZone`. */
export function parseSqlStamp(text: string, timeZone: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(text.trim());
  return m ? parseGammuStamp(`${m[1]}${m[2]}${m[3]}_${m[4]}${m[5]}${m[6]}`, timeZone) : null;
}

/** Sections of an SMS backup file (INI): `[SMSBackupNNN]` with `Key = value` lines; `;`/`#` comments. */
export function parseSmsBackup(text: string): Record<string, string>[] {
  const sections: Record<string, string>[] = [];
  let current: Record<string, string> | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith(';') || line.startsWith('#')) continue;
    const head = /^\[(.*)\]$/.exec(line);
    if (head) {
      current = /^smsbackup/i.test(head[1]) ? {} : null;
      if (current) sections.push(current);
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (current && kv) current[kv[1].toLowerCase()] = kv[2].replace(/^"(.*)"$/, '$1');
  }
  return sections;
}

/** Text of a backup's TextNN keys, in order. */
function backupHex(section: Record<string, string>): string {
  return Object.keys(section)
    .filter((k) => /^text\d+$/.test(k))
    .sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))
    .map((k) => section[k])
    .join('');
}

/** Gammu's UCS-2 hex (NumberUnicode) when it is there, else the plain value. */
function backupText(section: Record<string, string>, key: string): string | null {
  const hex = section[`${key}unicode`];
  if (hex) {
    try {
      return decodeUcs2Hex(hex);
    } catch {
      /* the plain value below */
    }
  }
  return section[key] ?? null;
}

/** The parts in a `detail` inbox file (an SMS backup), in file order. Throws SmsDecodeError for one that cannot be read. */
export function partsOfBackup(item: string, text: string, timeZone: string): SmsPart[] {
  const sections = parseSmsBackup(text);
  if (!sections.length) throw new SmsDecodeError('no [SMSBackup…] section');
  return sections.map((s, i) => {
    const where = sections.length > 1 ? `section ${i}: ` : '';
    const coding = normaliseCoding(s.coding);
    if (!coding) throw new SmsDecodeError(`${where}Coding ${JSON.stringify(s.coding)} is not one Gammu writes`);
    const sender = backupText(s, 'number');
    if (sender === null) throw new SmsDecodeError(`${where}no Number (the sender)`);
    const stamp = s.datetime ?? s.sent;
    let text: string | null;
    try {
      text = decodeSmsText(backupHex(s), coding);
    } catch (err) {
      throw new SmsDecodeError(`${where}${(err as Error).message}`);
    }
    return {
      item,
      sender,
      sentAt: stamp ? parseGammuStamp(stamp, timeZone) : null,
      concat: parseUdh(s.udh),
      text,
      coding,
      udh: (s.udh ?? '').toUpperCase(),
      smsc: backupText(s, 'smsc'),
      fields: { section: i, ...(coding === '8bit' ? { data: backupHex(s) } : {}), ...(s.class !== undefined ? { class: s.class } : {}) },
      ...withNetwork(networkMessageOf({ sender, smsClass: s.class, pdu: s.pdu })),
    };
  });
}

/** A `unicode` (FE FF, UTF-16BE), `standard` (UTF-8 as Debian's locales write it) or `.bin` inbox file's text. */
export function textOfPlainFile(name: InboxFileName, data: Buffer): { text: string | null; coding: GammuCoding; format: 'unicode' | 'standard' | 'bin' } {
  if (name.ext === 'bin') return { text: null, coding: '8bit', format: 'bin' };
  if (data[0] === 0xfe && data[1] === 0xff) {
    if ((data.length - 2) % 2 !== 0) throw new SmsDecodeError(`UTF-16 text of ${data.length - 2} bytes (not a whole number of characters)`);
    // SMSD writes as many UTF-16 bytes as the text has in the locale's charset (files.c: strlen of the
    // decoded text, times 2), so Chinese text is followed by NULs: the text ends at the first one.
    const text = decodeUcs2Hex(data.subarray(2).toString('hex'));
    const nul = text.indexOf('\u0000');
    return { text: nul < 0 ? text : text.slice(0, nul), coding: 'Unicode_No_Compression', format: 'unicode' };
  }
  return { text: new TextDecoder('utf-8').decode(data), coding: 'Default_No_Compression', format: 'standard' };
}

export type InboxFileFormat = 'detail' | 'unicode' | 'standard' | 'bin';

export function fileFormat(name: InboxFileName, data: Buffer): InboxFileFormat {
  if (name.ext === 'bin') return 'bin';
  if (data[0] === 0xfe && data[1] === 0xff) return 'unicode';
  return /^\s*(;[^\n]*\n\s*)*\[SMSBackup/i.test(data.subarray(0, 4096).toString('latin1')) ? 'detail' : 'standard';
}

/**
 * Group plain (not detail) inbox files into messages: SMSD writes the parts it linked as …_00, …_01…
 * with the first part's serial and each part's own time, so a part k > 0 follows the part k-1 from the
 * same sender with the same serial. A part whose earlier parts are not there starts a message of its own.
 */
export function groupPlainFiles(names: readonly InboxFileName[]): { files: InboxFileName[]; orphan: boolean }[] {
  const byName = (a: InboxFileName, b: InboxFileName) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const groups = new Map<string, { files: InboxFileName[]; orphan: boolean }[]>();
  const out: { files: InboxFileName[]; orphan: boolean }[] = [];
  // Part numbers in order, so that part k finds the message whose part k-1 it follows: the latest
  // one from the same sender and serial that started no later than it.
  for (const n of [...names].sort((a, b) => a.part - b.part || byName(a, b))) {
    const key = `${n.sender}\u0000${n.serial}`;
    const list = groups.get(key) ?? [];
    groups.set(key, list);
    if (n.part > 0) {
      const candidates = list.filter((g) => g.files[g.files.length - 1].part === n.part - 1 && g.files[0].stamp <= n.stamp);
      const g = candidates.sort((a, b) => byName(b.files[0], a.files[0]))[0];
      if (g) {
        g.files.push(n);
        continue;
      }
    }
    const fresh = { files: [n], orphan: n.part > 0 };
    list.push(fresh);
    out.push(fresh);
  }
  return out.sort((a, b) => byName(a.files[0], b.files[0]));
}
