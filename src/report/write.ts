import type { Database } from '../db/index.js';
import { writeOutFile } from '../lib/out-file.js';
import { recordReport, sha256Hex, type ReportRecord } from '../vault/index.js';
import type { AuditReportData } from './audit-load.js';
import { renderAuditHtml, renderAuditMarkdown } from './audit-render.js';
import type { IncidentReportData, ReportLang } from './data.js';
import { htmlToPdf } from './pdf.js';
import { renderHtml, renderMarkdown } from './render.js';

// A report's file: rendered in one format, written atomically (a new file unless force), read back,
// and recorded in the ledger with the hash of the bytes on disk: which file, made by whom.

export type IncidentReportFormat = 'html' | 'md' | 'json' | 'pdf';
export type AuditReportFormat = 'html' | 'md' | 'json';

export interface WrittenReport {
  file: string;
  bytes: number;
  sha256: string;
  ledgerSeq: number;
}

export interface ReportFileOptions<F> {
  format: F;
  out: string;
  lang: ReportLang;
  force?: boolean;
}

async function writeRecorded(db: Database, out: string, content: () => Promise<string | Buffer>, record: Omit<ReportRecord, 'file' | 'sha256'>, force: boolean | undefined): Promise<WrittenReport> {
  const bytes = await writeOutFile(
    out,
    async (file) => {
      file.write(await content());
      return file.readBack();
    },
    { force },
  );
  const sha256 = sha256Hex(bytes);
  const entry = await db.transaction((tx) => recordReport(tx, { ...record, file: out, sha256 }));
  return { file: out, bytes: bytes.length, sha256, ledgerSeq: entry.seq };
}

/** Write the incident report (`cradle report`, `cradle demo`, `cradle evidence export`) and record it. */
export async function writeIncidentReportFile(db: Database, data: IncidentReportData, options: ReportFileOptions<IncidentReportFormat>): Promise<WrittenReport> {
  const { format, lang } = options;
  const content = async (): Promise<string | Buffer> => {
    if (format === 'json') return JSON.stringify(data, null, 2) + '\n';
    if (format === 'md') return renderMarkdown(data, lang);
    const html = renderHtml(data, lang);
    return format === 'pdf' ? htmlToPdf(html) : html;
  };
  return writeRecorded(db, options.out, content, { incident: data.incident.id, format, lang }, options.force);
}

/** Write the audit report (`cradle audit`, `cradle demo`) and record it, its hospital and period as its scope. */
export async function writeAuditReportFile(db: Database, data: AuditReportData, options: ReportFileOptions<AuditReportFormat>): Promise<WrittenReport> {
  const { format, lang } = options;
  const content = async (): Promise<string> => (format === 'json' ? JSON.stringify(data, null, 2) + '\n' : format === 'md' ? renderAuditMarkdown(data, lang) : renderAuditHtml(data, lang));
  const scope = { hospital: data.hospital.name, from: data.period.from, to: data.period.to };
  return writeRecorded(db, options.out, content, { incident: null, ref: `audit:${scope.hospital}:${scope.from}..${scope.to}`, scope, format, lang }, options.force);
}
