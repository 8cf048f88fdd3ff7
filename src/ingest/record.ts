import type { Queryable } from '../db/index.js';
import { isPermanentDataError, recordContact, type NewContact } from '../vault/contacts.js';

// Recording contacts one by one inside the caller's transaction: a contact the vault refuses for its
// data is a rejection under a savepoint, not the end of the file (ingest of files, SMS inboxes).

export const DETAIL_CAP = 50;

/** A contact to record, with where it came from in the file for messages. */
export interface Pending {
  where: string;
  contact: NewContact;
}

export interface Recorded {
  recorded: number;
  duplicates: number;
  ids: number[];
  rejected: number;
  rejectedDetail: string[];
  warnings: string[];
  /** Per contact given, in order: its id (and whether it was there already), or why the vault refused it. */
  results: ({ id: number; duplicate: boolean } | { refused: string })[];
}

export const capped = (list: string[], line: string) => {
  if (list.length < DETAIL_CAP) list.push(line);
};

/** Each contact under a savepoint: one the vault refuses for its data is a rejection, not the end of the file. */
export async function recordAll(tx: Queryable, pending: readonly Pending[]): Promise<Recorded> {
  const out: Recorded = { recorded: 0, duplicates: 0, ids: [], rejected: 0, rejectedDetail: [], warnings: [], results: [] };
  for (const { where, contact } of pending) {
    await tx.query('SAVEPOINT ingest_contact');
    let r;
    try {
      r = await recordContact(tx, contact);
    } catch (err) {
      if (!isPermanentDataError(err)) throw err;
      await tx.query('ROLLBACK TO SAVEPOINT ingest_contact');
      out.rejected++;
      out.results.push({ refused: (err as Error).message });
      capped(out.rejectedDetail, `${where}: the vault refused it: ${(err as Error).message}`);
      continue;
    }
    await tx.query('RELEASE SAVEPOINT ingest_contact');
    out.results.push({ id: r.id, duplicate: r.duplicate });
    if (r.duplicate) out.duplicates++;
    else out.recorded++;
    out.ids.push(r.id);
    for (const w of r.warnings) capped(out.warnings, `${where}: ${w}`);
  }
  return out;
}

export const NOTHING: Recorded = { recorded: 0, duplicates: 0, ids: [], rejected: 0, rejectedDetail: [], warnings: [], results: [] };

