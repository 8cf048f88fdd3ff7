import { CdrRowError, toCall, type CdrCall, type CdrOptions } from './cdr.js';

// The Asterisk Manager Interface's wire format, pure: after a one-line banner ("Asterisk Call
// Manager/5.0.1"), messages of "Name: value" lines (CRLF; a bare LF is accepted) ended by an empty
// line. What the PBX sends is outside input (caller ID names are the caller's): a message too large,
// or a line without a colon, is a protocol error for that message only, never a crash.

export interface AmiMessage {
  /** Name/value pairs in order (names as sent; a name may repeat). */
  fields: [string, string][];
  /** The message's bytes as they came, without the closing empty line. */
  raw: Buffer;
}

/** Largest message kept (a Cdr event is well under 4 KiB); a longer one is dropped and reported. */
export const MAX_AMI_MESSAGE = 64 * 1024;

export type AmiItem = { type: 'banner'; text: string } | { type: 'message'; message: AmiMessage } | { type: 'error'; reason: string };

/** Splits the byte stream of an AMI connection into its banner and messages. */
export class AmiParser {
  private buf: Buffer = Buffer.alloc(0);
  private bannerSeen = false;
  private skipping = false;

  /** Bytes of a message not ended yet (what a connection closed mid-message loses), blank lines aside. */
  get pending(): number {
    return this.skipping ? 0 : this.buf.toString('latin1').replace(/^[\r\n]+/, '').length;
  }

  push(chunk: Buffer): AmiItem[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: AmiItem[] = [];
    if (!this.bannerSeen) {
      const nl = this.buf.indexOf(0x0a);
      if (nl === -1) {
        if (this.buf.length > 1024) {
          out.push({ type: 'error', reason: 'no banner line in the first 1024 bytes: not an Asterisk Manager Interface' });
          this.buf = Buffer.alloc(0);
          this.bannerSeen = true;
        }
        return out;
      }
      const text = this.buf.subarray(0, nl).toString('utf8').replace(/\r$/, '');
      this.buf = this.buf.subarray(nl + 1);
      this.bannerSeen = true;
      out.push({ type: 'banner', text });
    }
    for (;;) {
      const end = messageEnd(this.buf);
      if (end === null) {
        if (this.buf.length > MAX_AMI_MESSAGE) {
          if (!this.skipping) out.push({ type: 'error', reason: `a message longer than ${MAX_AMI_MESSAGE} bytes; dropped` });
          this.skipping = true;
          // Keep the tail: the empty line ending the oversized message may start in it.
          this.buf = this.buf.subarray(this.buf.length - 3);
        }
        return out;
      }
      const raw = this.buf.subarray(0, end.body);
      this.buf = this.buf.subarray(end.next);
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      if (raw.length === 0) continue; // stray empty lines between messages
      out.push(parseMessage(Buffer.from(raw)));
    }
  }
}

/** Where the message at the start of `buf` ends (the empty line after it), or null when it has not ended yet. */
function messageEnd(buf: Buffer): { body: number; next: number } | null {
  // A message starting with an empty line is an empty message.
  if (buf[0] === 0x0a) return { body: 0, next: 1 };
  if (buf[0] === 0x0d && buf[1] === 0x0a) return { body: 0, next: 2 };
  for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, i + 1)) {
    const j = i + 1;
    if (buf[j] === 0x0a) return { body: i + 1, next: j + 1 };
    if (buf[j] === 0x0d && buf[j + 1] === 0x0a) return { body: i + 1, next: j + 2 };
    if (j >= buf.length || (buf[j] === 0x0d && j + 1 >= buf.length)) return null;
  }
  return null;
}

function parseMessage(raw: Buffer): AmiItem {
  const text = raw.toString('utf8');
  const fields: [string, string][] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon < 1) return { type: 'error', reason: 'a line without "Name: value" in a message; dropped' };
    fields.push([line.slice(0, colon).trim(), line.slice(colon + 1).replace(/^ /, '')]);
  }
  return { type: 'message', message: { fields, raw } };
}

/** A field's value (names compare without case, as Asterisk's do); the first when repeated. */
export function amiField(m: AmiMessage, name: string): string | undefined {
  const lower = name.toLowerCase();
  return m.fields.find(([n]) => n.toLowerCase() === lower)?.[1];
}

/** An action as the wire carries it; values with a line break are refused (they would forge fields). */
export function amiAction(fields: Record<string, string>): Buffer {
  let text = '';
  for (const [name, value] of Object.entries(fields)) {
    if (/[\r\n]/.test(name + value)) throw new Error(`AMI ${name}: a line break in a value`);
    text += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${text}\r\n`, 'utf8');
}

/** The Cdr event's fields, in the order of cdr_csv's columns (src/ingest/cdr.ts ASTERISK_COLUMNS). */
export const CDR_EVENT_FIELDS = [
  'AccountCode', 'Source', 'Destination', 'DestinationContext', 'CallerID', 'Channel', 'DestinationChannel', 'LastApplication', 'LastData',
  'StartTime', 'AnswerTime', 'EndTime', 'Duration', 'BillableSeconds', 'Disposition', 'AMAFlags', 'UniqueID', 'UserField',
] as const;

/**
 * A Cdr event (cdr_manager) as the call its Master.csv row would be: the same columns, so the same
 * provider id (UniqueID) and headers as `cradle ingest cdr`, which then finds it already recorded.
 * `line` numbers the event on its connection, for messages.
 */
export function cdrEventCall(m: AmiMessage, line: number, opts: CdrOptions): CdrCall | CdrRowError {
  const cells = CDR_EVENT_FIELDS.map((f) => amiField(m, f) ?? '');
  try {
    return toCall(cells, m.raw.toString('utf8'), line, { format: 'asterisk' }, opts);
  } catch (err) {
    if (err instanceof CdrRowError) return err;
    throw err;
  }
}
