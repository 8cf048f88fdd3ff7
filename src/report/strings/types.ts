import type { ModelParameters, ReportCanaryExport, ReportHistoryEntry, ReportSuspect, SuspectReason } from '../data.js';
import type { LangFormat } from './format.js';

// What each report says in words: one object per report and language (incident.en.ts,
// incident.zh-CN.ts, audit.en.ts, audit.zh-CN.ts), checked complete by these types and by
// index.ts's Record<ReportLang, …>. The facts are worked out by the report builders; a language only
// words them.

export type ActionCode =
  | 'contact-recipient'
  | 'revoke-agreement'
  | 'preserve-export'
  | 'suspend-account'
  | 'preserve-access-logs'
  | 'review-account'
  | 'audit-integrations'
  | 'audit-ward'
  | 'widen-coverage'
  | 'inconclusive'
  | 'preserve-contacts'
  | 'preserve-seized'
  | 'anchor-ledger'
  | 'keep-watching';

/** Which canaries a mark or a lane stands for: seeded ones (planted in the newborn records), export-only ones, or both. */
export type CanaryOrigins = 'seeded' | 'export' | 'both';

/** What the summary paragraph says, worked out by the incident report builder (render.ts). */
export interface SummaryFacts {
  source: 'hits' | 'scan';
  canaries: number;
  /** Canaries planted in the newborn records by rotations, and their rotation weeks. */
  seeded: number;
  weeks: string[];
  hospitals: string[];
  /** Export-only canaries (an export's own or a code pool's): never in the newborn records. */
  exportOnly: number;
  /** The export files those were written into, each once, oldest first. */
  exportFiles: ReportCanaryExport[];
  /** First and last contact (hits), or the seizure twice (scan). */
  from: string | null;
  to: string | null;
  hits: number;
  senders: number;
  files: number;
  /** The most likely suspect; null when nothing was traced. */
  top: ReportSuspect | null;
  /** The runner-up, to say how far behind it is. */
  next: ReportSuspect | null;
}

export interface IncidentStrings extends LangFormat {
  title: (id: string) => string;
  subtitle: string;
  sections: { summary: string; timeline: string; evidence: string; canaries: string; suspects: string; assumptions: string; history: string; custody: string; actions: string };
  meta: { incident: string; source: string; status: string; hospital: string; generated: string; by: string; command: string; tool: string; times: string };
  sourceName: (s: 'hits' | 'scan') => string;
  status: (s: string) => string;
  masked: string;
  unmasked: string;
  cols: {
    when: string; kind: string; from: string; to: string; canary: string; confidence: string; why: string; contact: string; sha256: string;
    id: string; mother: string; phone: string; father: string; week: string; planted: string; firstEvidence: string; evidence: string; ward: string;
    rank: string; suspect: string; probability: string; explains: string; window: string;
    file: string; place: string; column: string; matched: string; bytes: string; format: string; records: string; role: string; ref: string;
    seq: string; ledgerKind: string; actor: string; hash: string; verified: string; action: string; line: string; account: string;
  };
  yes: string;
  no: string;
  noHits: string;
  noSuspects: string;
  noLedger: string;
  noFiles: string;
  scanFiles: string;
  scanMatches: string;
  contacts: string;
  logLines: string;
  message: string;
  custodyFiles: string;
  ledgerEntries: string;
  ledgerHead: (seq: number, at: string) => string;
  ledgerHeadNote: string;
  ledgerEmpty: string;
  verifyNote: string;
  fileRole: (r: 'export' | 'scan' | 'contact' | 'access-log') => string;
  /**
   * Under the chart: what its lanes show, by the canaries' origins and how the incident was found, and
   * whose leak window the band shades (the most likely source, or the most likely one Cradle has a
   * record of when an unknown source ranks first); null when no band is drawn.
   */
  timelineCaption: (origins: CanaryOrigins, scan: boolean, band: { label: string; top: boolean } | null) => string;
  timelineText: string;
  /** The suspect that stands for a channel Cradle has no record of, as the ranking names it. */
  unknownSource: string;
  /** The week cell of an export-only canary in the canaries table: the export files it exists in. */
  exportOnlyCell: (files: ReportCanaryExport[]) => string;
  lanes: { planted: (origins: CanaryOrigins) => string; contacts: string; seizure: string; window: (label: string) => string; week: (w: string) => string };
  marks: { planted: (n: number, when: string, origins: CanaryOrigins) => string; exposure: (n: number, channel: string, when: string) => string; contact: (n: number, when: string) => string; seizure: (when: string) => string; window: (label: string, from: string, to: string) => string };
  suspectKind: (k: ReportSuspect['kind']) => string;
  describe: (s: ReportSuspect) => string;
  reason: (r: SuspectReason) => string;
  summary: (f: SummaryFacts) => string;
  certainty: (p: number) => string;
  assumptions: (m: ModelParameters, vaultSize: number, candidates: number) => string[];
  action: (a: ActionCode, s: ReportSuspect | null) => string;
  footer: (masked: boolean) => string;
  /** The history section: its columns, what each entry did, and the text when there is none. */
  history: { who: string; what: string; why: string; none: string; entry: (e: ReportHistoryEntry) => string };
  /** Under the contacts: hits dismissed by an investigator, left out of the trace. */
  dismissedHits: (ids: number[]) => string;
}

// ---------------------------------------------------------------- the audit report (`cradle audit`)

/** What the audit's summary paragraph says, worked out by the audit report builder (audit-render.ts). */
export interface AuditSummaryFacts {
  hospital: string;
  from: string;
  to: string;
  /** Rotation weeks counted: those of the period from the hospital's first rotation on. */
  weeks: number;
  done: number;
  missed: number;
  partial: number;
  /** Weeks of the period before the hospital's first rotation (not counted, not missed). */
  before: number;
  firstRotation: string | null;
  live: number;
  recipients: number;
  weeksLeft: number | null;
  low: boolean;
  incidents: number;
  open: number;
  /** Single-record opens of canaries in the access logs. */
  tripwires: number;
  /** Canary records shown by lists, searches and bulk exports, and the log lines (lists) that showed them. */
  listed: number;
  lists: number;
  ledgerOk: boolean;
}

export interface AuditStrings extends LangFormat {
  title: (hospital: string) => string;
  subtitle: string;
  sections: { summary: string; rotations: string; canaries: string; pool: string; incidents: string; tripwires: string; ledger: string; realism: string };
  /** `times` and `footer` name the hospital's zone: every time in the audit is its wall-clock time. */
  meta: { hospital: string; period: string; timeZone: string; generated: string; by: string; command: string; tool: string; times: (zone: string) => string };
  weekStatus: (s: 'done' | 'partial' | 'missed' | 'due' | 'before') => string;
  numberState: (s: 'burn_in' | 'available' | 'assigned' | 'retired' | 'blocked') => string;
  cols: {
    week: string; starts: string; status: string; planned: string; planted: string; completed: string;
    ward: string; live: string; plantedInPeriod: string; retiredInPeriod: string;
    recipient: string; exportsInPeriod: string; exportsTotal: string; lastExport: string;
    state: string; numbers: string; number: string; contacts: string; days: string; perDay: string;
    incident: string; source: string; title: string; opened: string; hits: string; canaries: string; firstContact: string; lastContact: string; senders: string;
    account: string; lines: string; lists: string; first: string; last: string; when: string; action: string; canary: string; file: string;
    check: string; result: string;
    comparison: string; real: string; auc: string; ci: string; reliedOn: string; field: string; test: string; distance: string; p: string;
  };
  /** The week's canaries in all, and per ward. */
  plan: (total: number, wards: [string, number][]) => string;
  /** A rotation.perWeek plan before its first rotation: no allocation per ward yet. */
  planPerWeek: (total: number) => string;
  noPlan: string;
  rotationTally: (done: number, missed: number, partial: number, due: number) => string;
  /** Weeks of the period before the program started: before the first rotation (`rotated`), or before the hospital was registered. */
  beforeWeeks: (weeks: number, firstWeek: string, rotated: boolean) => string;
  noWeeks: string;
  byWard: string;
  byRecipient: string;
  noRecipients: string;
  poolCounts: string;
  poolSupply: (supply: number, perWeek: number, weeksLeft: number | null, needed: number, weeks: number, perCanary: number) => string;
  /** Shared numbers (pool.sharing "shared"): the pool, the numbers the rotation needs that way, the weeks it runs (of `horizon` played). */
  poolShared: (numbers: number, needed: number, weeksLeft: number, horizon: number) => string;
  poolLow: (weeksLeft: number, weeks: number) => string;
  /** The pool's numbers cannot match the real patients' mobile segments: the uncovered share (0-100) and the commonest missing segments. */
  poolSegments: (percent: number, missing: string[]) => string;
  noise: string;
  noiseSummary: (noisy: number, contacts: number, days: number) => string;
  noNoise: string;
  incidentTally: (hits: number, incidents: { open: number; closed: number; dismissed: number; merged: number }) => string;
  noIncidents: string;
  tripwireTally: (opened: number, accounts: number) => string;
  tripwireAccounts: string;
  tripwireLines: (shown: number, total: number) => string;
  noTripwires: string;
  listHeading: string;
  listTally: (lines: number, accounts: number, records: number, canaries: number) => string;
  noLists: string;
  ledgerChecks: { chain: string; head: string; evidence: string; unsealed: string; predate: string; reports: string };
  ledgerChain: (ok: boolean, entries: number, brk: { seq: number; kind: string; ref: string; problem: string; detail: string } | null) => string;
  ledgerEvidence: (checked: number, problems: number) => string;
  ledgerEmpty: string;
  ledgerVerdict: (ok: boolean) => string;
  ledgerNote: string;
  summary: (f: AuditSummaryFacts) => string;
  footer: (zone: string) => string;
  realismIntro: string;
  realismNotMeasured: string;
  realismVerdict: (auc: number | null, warnAbove: number, warning: boolean) => string;
  realismKind: (kind: 'planted' | 'sample') => string;
  realismFields: (kind: 'planted' | 'sample') => string;
  realismNote: string;
}
