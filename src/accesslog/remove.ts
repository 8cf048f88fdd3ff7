import type { Database } from '../db/index.js';
import * as vault from '../vault/index.js';

// `cradle logs remove`: take an access-log import back, in one transaction with its ledger entries
// (src/vault/access-imports.ts does the deleting and sealing), and say what went and what stays.

export interface RemoveImportOptions {
  reason: string;
  /** Who removes it, for the ledger; default the OS user. */
  actor?: string;
  /** Only an import of this hospital. */
  hospital?: string;
  now?: () => Date;
}

/** Remove the import `ref` names (its id, or its file when exactly one live import has it). */
export async function removeImport(db: Database, ref: string, options: RemoveImportOptions): Promise<vault.RemovedImport> {
  const found = await vault.findAccessImport(db, ref, options.hospital);
  const at = (options.now ?? (() => new Date()))();
  return db.transaction((tx) => vault.removeAccessImport(tx, found.id, { reason: options.reason, actor: options.actor ?? vault.cliActor(), at }));
}

/** What a removal went through and what it left, for people. */
export function removalLines(r: vault.RemovedImport): string[] {
  const { counts: c, leaves } = r;
  const imp = r.import;
  const lines = [
    `removed import ${imp.id} (${imp.path}, sha256 ${imp.sha256}): ${c.events} event(s) in ${c.blocks} block(s), ${c.tripwires} tripwire(s), ${c.exposures} exposure(s), ${c.rejects} rejected line(s)` +
      (c.channels ? `, ${c.channels} account channel(s) with no exposure left` : ''),
    `tripwire alerts: ${c.alerts_cancelled} not sent yet, cancelled; ${c.alerts_kept} already sent (or given up) stay in the outbox as they were`,
    `recorded in the evidence ledger as entry #${r.entry.seq} (import ${imp.id}, by ${r.entry.actor ?? 'unknown'}: ${imp.removal_reason})`,
    `stays: the import's row (marked removed, with its counts), hits and incidents (made from contacts and scans, not from access logs), traces and reports already recorded`,
  ];
  if (leaves.incidents.length) {
    lines.push(`incident(s) ${leaves.incidents.join(', ')} have canaries this import exposed: unchanged, but their next trace leaves out the removed exposures`);
  }
  for (const d of leaves.laterDuplicates) {
    lines.push(
      `warning: import ${d.id} (${d.path}), made later, counted ${d.duplicates} line(s) as already in the vault; those that were this import's events went with it: remove import ${d.id} and import its file again to store them`,
    );
  }
  lines.push(`the file (or a corrected one) can be imported again: its events count once`);
  return lines;
}
