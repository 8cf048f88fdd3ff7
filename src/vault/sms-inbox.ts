import type { Queryable } from '../db/index.js';

// SMS inboxes followed by `cradle ingest sms` and `cradle watch` (migration 015): the files or rows
// already consumed, and for an SQL inbox the ID below which every row has been.

export type InboxItemOutcome = 'recorded' | 'duplicate' | 'rejected';

export interface InboxItem {
  item: string;
  outcome: InboxItemOutcome;
  contactId: number | null;
  reason: string | null;
}

/** Which of `items` the inbox `source` has consumed already. */
export async function seenInboxItems(db: Queryable, source: string, items: readonly string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < items.length; i += 5000) {
    const { rows } = await db.query<{ item: string }>(`SELECT item FROM sms_inbox_items WHERE source = $1 AND item = ANY($2::text[])`, [source, items.slice(i, i + 5000)]);
    for (const r of rows) seen.add(r.item);
  }
  return seen;
}

export async function markInboxItems(db: Queryable, source: string, items: readonly InboxItem[]): Promise<void> {
  for (const it of items) {
    await db.query(
      `INSERT INTO sms_inbox_items (source, item, outcome, contact_id, reason) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source, item) DO NOTHING`,
      [source, it.item, it.outcome, it.contactId, it.reason],
    );
  }
}

export async function inboxCursor(db: Queryable, source: string): Promise<number | null> {
  const { rows } = await db.query<{ position: string | number }>(`SELECT position FROM sms_inbox_cursors WHERE source = $1`, [source]);
  return rows[0] ? Number(rows[0].position) : null;
}

export async function setInboxCursor(db: Queryable, source: string, position: number): Promise<void> {
  await db.query(
    `INSERT INTO sms_inbox_cursors (source, position) VALUES ($1, $2)
     ON CONFLICT (source) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`,
    [source, position],
  );
}
