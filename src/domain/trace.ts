import type { ChannelKind } from './index.js';

// What a trace concludes, as the trace capability states it and the report capability reads it
// (capabilities do not import each other, so the shape lives here). The model: docs/trace.md.

/** An incident as the trace reads it. */
export interface IncidentHead {
  id: string;
  source: 'scan' | 'hits';
  title: string;
  status: string;
  /** The incident a merged one was merged into (its hits are there now). */
  merged_into: string | null;
  created_at: Date;
}

/** What a trace left out: hits an investigator dismissed (`cradle hits dismiss`), and canaries with no other evidence. */
export interface TraceExclusions {
  hits: { hitId: number; canaryId: string; reason: string | null; by: string | null; at: Date | null }[];
  /** Canaries of the incident whose every hit was dismissed: not among the trace's canaries. */
  canaries: string[];
}

/** One canary of an incident, with the first evidence that it leaked. */
export interface IncidentCanary {
  canary_id: string;
  planted_at: Date;
  iso_week: string;
  /** First contact on its trap (hits), or when the dump was scanned (scan). */
  leaked_by: Date;
  evidence: number;
}

/** Contacts on a shared trap number that named no family (ambiguous hits with the same candidates): one of the candidates leaked. */
export interface AmbiguousContact {
  candidates: { canary_id: string; planted_at: Date }[];
  /** The first such contact. */
  leaked_by: Date;
  evidence: number;
}

export interface Suspect {
  key: string;
  kind: ChannelKind | 'merged' | 'unknown';
  parts?: [string, string];
  posterior: number;
  /** ln of prior × P(found | suspect); posteriors are these normalised. */
  logLikelihood: number;
  explains: string[];
  unexplained: string[];
  /** When the leak from this channel could have happened: after the last exposure it needs, before the first evidence. null for unknown. */
  window: { from: Date; to: Date } | null;
}

export interface TraceSuspect extends Suspect {
  label: string;
  export: { id: string; recipient: string | null; operator: string | null; file: string | null; sha256: string | null; at: Date | null } | null;
  /** For an account: the log lines in which it touched the incident's canaries. */
  logLines: { at: Date; action: string; scope: string; canary: string; system: string | null; ip: string | null; file: string; line: number }[];
}

export interface TraceReport {
  incident: IncidentHead;
  canaries: IncidentCanary[];
  /** Contacts that could not be resolved to one canary: traced as one of their candidates (docs/trace.md). */
  ambiguous: AmbiguousContact[];
  /** Rotation weeks of the canaries found: the leak cannot be older than the newest rotation it needs. */
  weeks: string[];
  leakedBy: Date | null;
  candidates: number;
  vaultSize: number;
  suspects: TraceSuspect[];
  /** Left out of the trace (dismissed hits). */
  excluded: TraceExclusions;
}
