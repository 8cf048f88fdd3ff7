import type { HistoryEntry } from '../vault/incident-life.js';
import type { ScanFileRecord, ScanMatchRecord } from '../vault/incidents.js';

// The incident report as data: everything `cradle report` puts in a document, gathered once by
// load.ts and made a document by render.ts (Markdown, HTML, and PDF from the HTML); `--format json`
// prints this object. Times are ISO 8601 strings (UTC) so the object survives JSON unchanged.

export type ReportLang = 'en' | 'zh-CN';
export const REPORT_LANGS: readonly ReportLang[] = ['en', 'zh-CN'];

export type SuspectKind = 'export' | 'account' | 'system' | 'ward' | 'merged' | 'unknown';

/** An export file an export-only canary was written into. */
export interface ReportCanaryExport {
  id: string;
  file: string;
  recipient: string;
  at: string;
}

export interface ReportCanary {
  id: string;
  hospital: string;
  /**
   * seeded: planted in the hospital's newborn records by a rotation; export: an export's own canary,
   * only ever in that export's file; code: a shared code pool's canary, only in the export files that
   * hold its codeword. Export-only canaries were never in the newborn records.
   */
  origin: 'seeded' | 'export' | 'code';
  /** For an export-only canary, the export files it was written into (oldest first); [] for a seeded one. */
  exports: ReportCanaryExport[];
  ward: string;
  /** Rotation week it was planted in (for an export-only canary, the week of its export). */
  isoWeek: string;
  /** Planted in the target, or (export-only) written into its export. */
  plantedAt: string;
  /** First evidence it leaked: first contact on its trap, or the time the dump was scanned. */
  leakedBy: string;
  /** Hits or scan matches on it in this incident. */
  evidence: number;
  motherName: string;
  /** Canary numbers are trap numbers Cradle owns: always shown. */
  motherPhone: string | null;
  fatherName: string | null;
  fatherPhone: string | null;
  email: string | null;
}

/** One exposure of one of the incident's canaries to a channel (an export file, an account, a system, a ward). */
export interface ReportExposure {
  canaryId: string;
  /** kind:name */
  channel: string;
  /** The suspect key this exposure belongs to (export-file:<id> or channel:<id>). */
  key: string;
  exportId: string | null;
  at: string;
}

export interface ReportHit {
  hitId: number;
  eventId: number;
  canaryId: string;
  kind: string;
  source: string;
  providerId: string | null;
  /** The caller or sender: masked (all but the last four digits) unless the report was made with --unmasked. */
  from: string | null;
  /** The trap number or mailbox it reached (the canary's own, shown). */
  to: string;
  occurredAt: string;
  confidence: number;
  reasons: { reason: string; weight: number }[];
  /** Message text or transcript, with callers' numbers masked likewise. */
  body: string | null;
  /** sha256 of the raw contact as it arrived (`cradle contact <eventId> --raw | sha256sum`). */
  sha256: string;
}

/** A seized file as the scan read it (its warnings left out). */
export type ReportScanFile = Omit<ScanFileRecord, 'warnings'>;

/** A canary match in a seized file, as the scan recorded it. */
export type ReportScanMatch = ScanMatchRecord;

export interface ReportScan {
  /** When the seized files were scanned (the incident's creation). */
  seizedAt: string;
  files: ReportScanFile[];
  matches: ReportScanMatch[];
}

/** Why a suspect ranks where it does, as data: strings/incident.*.ts word each as a sentence. */
export type SuspectReason =
  | { code: 'explains'; explained: number; total: number }
  | { code: 'channel-size'; seen: number }
  | { code: 'unexplained'; canaries: string[] }
  | { code: 'exported'; at: string | null; operator: string | null; recipient: string | null; file: string | null }
  | { code: 'log-lines'; lines: number; actions: string[] }
  | { code: 'window'; from: string; to: string }
  | { code: 'merged'; parts: string[] }
  | { code: 'unknown-source'; prior: number };

export interface ReportSuspect {
  rank: number;
  key: string;
  kind: SuspectKind;
  label: string;
  posterior: number;
  explains: string[];
  unexplained: string[];
  window: { from: string; to: string } | null;
  export: { id: string; recipient: string | null; operator: string | null; file: string | null; sha256: string | null; at: string | null } | null;
  logLines: { at: string; action: string; scope: string; canary: string; system: string | null; ip: string | null; file: string; line: number }[];
  /** Labels of the two channels of a merged suspect. */
  parts: string[] | null;
  /** How many canaries in all (not only this incident's) the channel ever saw; null when unknown. */
  seen: number | null;
  reasons: SuspectReason[];
}

/** The trace model's parameters the report states among its assumptions. */
export interface ModelParameters {
  /** λ: expected noise hits per incident. */
  noise: number;
  /** π_u: prior probability of a source Cradle has no record of. */
  unknownPrior: number;
  /** π_m: prior probability of two merged leaks. */
  mergePrior: number;
  /** τ: mean delay from a leak to its first evidence, in days. */
  evidenceDelayDays: number;
}

export interface CustodyFile {
  role: 'export' | 'scan' | 'contact' | 'access-log';
  /** File name, or for a contact its source and provider id. */
  name: string;
  sha256: string;
  bytes: number | null;
  at: string | null;
  /** Export id, contact event id, access import id. */
  ref: string;
}

export interface ReportLedgerEntry {
  seq: number;
  at: string;
  kind: string;
  ref: string;
  incidentId: string | null;
  actor: string | null;
  contentHash: string;
  prevHash: string;
  hash: string;
  /** The entry's hash and content hash recompute from what the vault holds. */
  verified: boolean;
}

/**
 * A life-cycle entry of the incident (or of one merged into it): `cradle incidents close|reopen|dismiss|merge|note`,
 * `cradle hits dismiss|restore`; reason and note masked like callers' numbers unless the report is unmasked.
 */
export type ReportHistoryEntry = Omit<HistoryEntry, 'at'> & { at: string };

export interface IncidentReportData {
  format: 'cradle-incident-report';
  version: 1;
  generatedAt: string;
  /** Who made the report (OS user) and with what command; null when not given. */
  generatedBy: string | null;
  command: string | null;
  tool: string | null;
  /** Callers' numbers shown in full. */
  unmasked: boolean;
  hospitals: string[];
  incident: { id: string; source: 'scan' | 'hits'; title: string; status: string; createdAt: string };
  canaries: ReportCanary[];
  /** Rotation weeks of the canaries found. */
  weeks: string[];
  /** Earliest evidence of the leak. */
  leakedBy: string | null;
  /** Channels that saw any of the incident's canaries. */
  candidates: number;
  vaultSize: number;
  suspects: ReportSuspect[];
  exposures: ReportExposure[];
  /** The incident's active hits (dismissed ones are left out, as the trace leaves them out). */
  hits: ReportHit[];
  /** Hits dismissed by an investigator: not in `hits`, not traced. */
  dismissedHits: number[];
  scan: ReportScan | null;
  /** The incident's life cycle, oldest first. */
  history: ReportHistoryEntry[];
  model: ModelParameters;
  custody: {
    files: CustodyFile[];
    ledger: {
      /** The newest entry of the whole ledger when the report was made: anchor it outside Cradle. */
      head: { seq: number; hash: string; at: string } | null;
      entries: ReportLedgerEntry[];
    };
  };
}
