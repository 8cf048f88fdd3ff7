import type { Database } from '../db/index.js';
import { checkOutFile } from '../lib/out-file.js';
import { CRADLE_TOOL } from '../lib/version.js';
import type { IncidentReportData, ModelParameters, ReportLang } from '../report/data.js';
import { loadIncidentReport } from '../report/load.js';
import { writeIncidentReportFile, type IncidentReportFormat, type WrittenReport } from '../report/write.js';
import { TRACE_EVIDENCE_DELAY, TRACE_MERGE_PRIOR, TRACE_NOISE, TRACE_UNKNOWN_PRIOR } from '../trace/model.js';
import { traceIncident } from '../trace/trace.js';
import { cliActor } from '../vault/index.js';

// An incident's report: trace the incident, gather the report's data from that trace, write it and
// record it in the ledger. Shared by `cradle report`, `cradle demo` and `cradle evidence export`.

/** The trace model's parameters as the report states them among its assumptions. */
export const TRACE_MODEL: ModelParameters = { noise: TRACE_NOISE, unknownPrior: TRACE_UNKNOWN_PRIOR, mergePrior: TRACE_MERGE_PRIOR, evidenceDelayDays: TRACE_EVIDENCE_DELAY / 86_400_000 };

export interface IncidentReportOptions {
  format: IncidentReportFormat;
  /** The file to write; null: only the data (for JSON on standard output), nothing recorded. */
  out: string | null;
  lang: ReportLang;
  unmasked?: boolean;
  /** Suspects to rank (10). */
  top?: number;
  /** The command line the report says made it (redacted). */
  command: string;
  force?: boolean;
  /** When the report says it was made (default: the system clock). */
  now?: Date;
}

export async function writeIncidentReport(db: Database, incident: string, options: IncidentReportOptions): Promise<{ data: IncidentReportData; written: WrittenReport | null }> {
  // Refused before anything is traced or recorded: an existing file without force, a directory.
  if (options.out) checkOutFile(options.out, { force: options.force });
  const trace = await traceIncident(db, incident, { top: options.top ?? 10 });
  const data = await loadIncidentReport(db, trace, { model: TRACE_MODEL, unmasked: !!options.unmasked, now: options.now, generatedBy: cliActor(), command: options.command, tool: CRADLE_TOOL });
  if (!options.out) return { data, written: null };
  const written = await writeIncidentReportFile(db, data, { format: options.format, out: options.out, lang: options.lang, force: options.force });
  return { data, written };
}
