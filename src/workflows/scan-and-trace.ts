import type { Database } from '../db/index.js';
import { runScan, type ScanOptions, type ScanResult } from '../scan/scan.js';

export { startScan } from '../scan/scan.js';
import { traceIncident, type TraceSuspect } from '../trace/trace.js';
import { recordTrace } from '../vault/ledger.js';

// `cradle scan`: the scan capability finds the canaries and records them as an incident (evidence
// only); the trace capability then ranks the suspects of that incident, exactly as `cradle trace
// <incident>` would now. One model, one vault query: what scan says and what trace says agree.

/** Suspects reported, most likely first: past the first few the posteriors are negligible. */
export const MAX_SUSPECTS = 20;

export interface ScanAndTraceResult extends ScanResult {
  /** The trace model's ranking of the incident (empty when nothing was found). */
  suspects: TraceSuspect[];
}

export async function scanAndTrace(
  vaultDb: Database,
  files: readonly string[],
  onProgress?: (file: string, records: number, fraction?: number) => void,
  options: ScanOptions = {},
): Promise<ScanAndTraceResult> {
  const scan = await runScan(vaultDb, files, onProgress, options);
  if (!scan.incidentId) return { ...scan, suspects: [] };
  const report = await traceIncident(vaultDb, scan.incidentId, { top: MAX_SUSPECTS });
  // What was concluded then goes into the evidence ledger, as for `cradle trace` (docs/ledger.md).
  await vaultDb.transaction((tx) => recordTrace(tx, { incident: report.incident.id, suspects: report.suspects, canaries: report.canaries.length, vaultSize: report.vaultSize }));
  return { ...scan, suspects: report.suspects };
}
