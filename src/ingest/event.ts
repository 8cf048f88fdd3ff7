import { z } from 'zod';
import { boundedMessage, excerpt, problemLines } from '../lib/control.js';
import type { NewContact } from '../vault/contacts.js';
import { normalisePhone } from './cdr.js';

// A contact noted by hand: a visit, a letter, a call someone took. Validated field by field.

const Event = z
  .object({
    kind: z.enum(['sms', 'call', 'email', 'visit', 'letter', 'other']),
    from: z.string().trim().min(1).optional(),
    to: z.string().trim().min(1, 'the trap number, trap mailbox or canary the contact was for'),
    occurredAt: z.iso.datetime({ offset: true, message: 'an ISO 8601 time with Z or an offset, e.g. 2026-11-28T09:30:00+08:00' }),
    body: z.string().optional(),
    id: z.string().trim().min(1).optional(),
  })
  .strict();

export type ManualEvent = z.infer<typeof Event>;

export class EventError extends Error {
  constructor(message: string) {
    super(boundedMessage(message));
  }
}

/** One event object or an array of them; errors name the field (and the index in an array). */
export function parseEvents(text: string, label: string, region: string): { event: ManualEvent; contact: NewContact }[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new EventError(`${label}: not valid JSON: ${excerpt((err as Error).message)}`);
  }
  const many = Array.isArray(doc);
  const items = many ? (doc as unknown[]) : [doc];
  if (items.length === 0) throw new EventError(`${label}: no events`);
  const problems: string[] = [];
  const out: { event: ManualEvent; contact: NewContact }[] = [];
  items.forEach((item, i) => {
    const parsed = Event.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${label}: ${excerpt([...(many ? [i] : []), ...issue.path].map(String).join('.')) || '(event)'}: ${excerpt(issue.message)}`);
      return;
    }
    const e = parsed.data;
    const address = (s: string) => (s.includes('@') ? s.toLowerCase() : normalisePhone(s, region) ?? s);
    out.push({
      event: e,
      contact: {
        source: 'manual',
        providerId: e.id ?? null,
        kind: e.kind,
        from: e.from ? address(e.from) : null,
        to: address(e.to),
        occurredAt: new Date(e.occurredAt),
        body: e.body ?? null,
        headers: {},
        raw: many ? Buffer.from(JSON.stringify(item)) : Buffer.from(text),
      },
    });
  });
  if (problems.length) throw new EventError(problemLines(problems));
  return out;
}
