// A contact event as it arrives, before the vault stores it: what reached a trap number or mailbox.
// Every way in (webhooks, the SMTP listener, `cradle ingest`) builds one.

export type ContactKind = 'sms' | 'call' | 'email' | 'visit' | 'letter' | 'other';

export interface NewContact {
  /** Where it came in: twilio-sms, twilio-voice, telnyx, generic, smtp, cdr, mail, manual. */
  source: string;
  /** The provider's own id of the event (MessageSid, CallSid, Telnyx event id, Message-ID, CDR uniqueid). */
  providerId: string | null;
  kind: ContactKind;
  from: string | null;
  /** The trap number (E.164) or trap mailbox. */
  to: string;
  occurredAt: Date;
  body: string | null;
  remoteAddr?: string | null;
  headers?: Record<string, unknown>;
  /** Exactly what arrived. */
  raw: Buffer;
}

/** Where a contact's storage warnings are kept, in its headers. */
export const WARNINGS_HEADER = 'x-cradle-warnings';
