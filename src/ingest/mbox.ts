// Mailbox files: an mbox is messages each starting with a "From " line; in mboxrd a body line that
// starts with ">From " (any number of >) was escaped by one ">" and is unescaped here. A file that
// does not start with "From " is a single message (.eml). Bytes are kept as they are (latin1 round trip).

export interface MboxMessage {
  /** Line of the file where the message starts (its first header line). */
  line: number;
  /** The envelope line without "From ", for mbox messages. */
  envelope: string | null;
  raw: Buffer;
}

export function isMbox(data: Buffer): boolean {
  return data.subarray(0, 5).toString('latin1') === 'From ';
}

export function splitMailbox(data: Buffer): MboxMessage[] {
  if (!isMbox(data)) return data.length ? [{ line: 1, envelope: null, raw: data }] : [];
  const text = data.toString('latin1');
  const lines = text.split('\n');
  const messages: MboxMessage[] = [];
  let current: { line: number; envelope: string; body: string[] } | null = null;
  const finish = () => {
    if (!current) return;
    const body = current.body;
    // The blank line that separates messages belongs to the mbox, not the message.
    while (body.length && (body[body.length - 1] === '' || body[body.length - 1] === '\r')) body.pop();
    messages.push({ line: current.line, envelope: current.envelope, raw: Buffer.from(body.join('\n') + '\n', 'latin1') });
  };
  lines.forEach((l, i) => {
    if (l.startsWith('From ')) {
      finish();
      current = { line: i + 2, envelope: l.slice(5).replace(/\r$/, ''), body: [] };
      return;
    }
    current?.body.push(/^>+From /.test(l) ? l.slice(1) : l);
  });
  finish();
  return messages;
}

/** The date at the end of an mbox envelope line ("sender@x Tue Nov 24 10:00:00 2026"), if any. */
export function envelopeDate(envelope: string | null): Date | null {
  const m = envelope && /\s(\w{3}\s+\w{3}\s+\d{1,2}\s+\d{1,2}:\d{2}:\d{2}\s+\d{4})\s*$/.exec(envelope);
  if (!m) return null;
  const d = new Date(`${m[1]} UTC`);
  return Number.isNaN(d.getTime()) ? null : d;
}
