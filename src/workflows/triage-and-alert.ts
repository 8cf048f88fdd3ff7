import type { Database } from '../db/index.js';
import { deliverDue, type AlertTransport } from '../alerts/deliver.js';
import { triagePending, type TriageOptions } from '../triage/triage.js';

// What `cradle watch` does every second, apart from answering requests: triage the contacts stored
// since the last round (hits, incidents, alerts into the outbox), then deliver the alerts that are due.
// A crash between the two loses nothing: the outbox is in the vault.

/** Most contacts one round triages, unless the caller says: a round is one second of `cradle watch`. */
export const TRIAGE_LIMIT = 500;

export async function triageAndAlert(db: Database, triage: TriageOptions, transports: readonly AlertTransport[], options: { digestAbove?: number; onError?: (channel: string, error: string) => void } = {}): Promise<{ triaged: number; full: boolean }> {
  const limit = triage.limit ?? TRIAGE_LIMIT;
  const { triaged } = await triagePending(db, { ...triage, limit });
  if (transports.length) await deliverDue(db, transports, options);
  // A full round leaves more waiting: the caller runs the next round at once.
  return { triaged, full: triaged >= limit };
}
