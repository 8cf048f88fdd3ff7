import type { Queryable } from '../db/index.js';
import { redact } from '../lib/redact.js';
import { iso } from '../lib/time.js';
import * as vault from '../vault/index.js';
import type { BundleContact, BundleExport, BundleLedgerEntry, EvidenceData } from './bundle.js';
import { loadIncidentReport, maskCaller, type LoadReportOptions, type ReportTrace } from './load.js';

// `cradle evidence export`: what the bundle holds, read from the vault once: the report's data
// (incident, canaries, trace, hits, scan), the contacts behind the hits, the manifests of the exports
// involved, and the ledger entries about all of it. The raw bytes are read later, one at a time.

function bundleEntry(e: vault.LedgerEntry): BundleLedgerEntry {
  return {
    seq: Number(e.seq),
    at: iso(e.at),
    kind: e.kind,
    ref: e.ref,
    incident_id: e.incident_id,
    actor: e.actor,
    content: e.content,
    content_hash: e.content_hash,
    prev_hash: e.prev_hash,
    hash: e.hash,
  };
}

/** The bundle's data for the incident `trace` traced (a workflow runs the trace). */
export async function loadEvidence(db: Queryable, trace: ReportTrace, options: LoadReportOptions & { now: Date }): Promise<EvidenceData> {
  const unmasked = !!options.unmasked;
  const report = await loadIncidentReport(db, trace, { ...options, unmasked });
  const incident = report.incident.id;

  // The contacts behind the hits, each once, with the hits and canaries it is evidence for.
  const contacts: BundleContact[] = [];
  for (const h of report.hits) {
    const known = contacts.find((c) => c.id === h.eventId);
    if (known) {
      known.hits.push(h.hitId);
      if (!known.canaries.includes(h.canaryId)) known.canaries.push(h.canaryId);
      continue;
    }
    const c = await vault.getContact(db, h.eventId);
    if (!c) continue;
    contacts.push({
      id: Number(c.id),
      source: c.source,
      provider_id: c.provider_id,
      kind: c.kind,
      from: c.from_address === null ? null : unmasked ? c.from_address : maskCaller(c.from_address),
      to: c.to_address,
      occurred_at: iso(c.occurred_at),
      received_at: iso(c.received_at),
      remote_addr: c.remote_addr,
      sha256: c.sha256,
      hits: [h.hitId],
      canaries: [h.canaryId],
    });
  }
  contacts.sort((a, b) => a.id - b.id);

  // Every export that is a suspect or exposed one of the incident's canaries: its manifest only.
  const incidentCanaries = new Set(report.canaries.map((c) => c.id));
  const rankOf = new Map(report.suspects.flatMap((s) => (s.export ? [[s.export.id, s] as const] : [])));
  const exportIds = [...new Set([...rankOf.keys(), ...report.exposures.flatMap((e) => (e.exportId ? [e.exportId] : []))])].sort();
  const exports: BundleExport[] = [];
  for (const id of exportIds) {
    const x = await vault.getExport(db, id);
    if (!x) continue;
    const canaries = await vault.canariesInExport(db, id);
    const suspect = rankOf.get(id);
    exports.push({
      id: x.id,
      recipient: x.channel.startsWith('export:') ? x.channel.slice('export:'.length) : null,
      channel: x.channel,
      hospital: x.hospital,
      operator: x.operator,
      file_name: x.file_name,
      format: x.format,
      sha256: x.sha256,
      bytes: Number(x.bytes),
      rows: Number(x.row_count),
      canary_count: Number(x.canary_count),
      created_at: iso(x.created_at),
      query: x.query,
      params: x.params,
      canaries: canaries.map((c) => ({ id: c.id, own: c.own })),
      incident_canaries: canaries.filter((c) => incidentCanaries.has(c.id)).map((c) => c.id),
      suspect_rank: suspect?.rank ?? null,
      posterior: suspect?.posterior ?? null,
    });
  }

  // The ledger slice: the incident's entries (scan, trace, reports) and those about its evidence. A
  // bare id means something else to each kind, so each kind is asked for its own refs.
  const about: [string, string[]][] = [
    ['contact', contacts.map((c) => String(c.id))],
    ['hit', report.hits.map((h) => String(h.hitId))],
    ['export', exports.map((x) => x.id)],
    ['scan', report.scan ? [incident] : []],
    ['import', report.custody.files.filter((f) => f.role === 'access-log').map((f) => f.ref)],
  ];
  const found = await Promise.all([
    vault.ledgerEntries(db, { incident }),
    ...about.filter(([, refs]) => refs.length).map(([kind, refs]) => vault.ledgerEntries(db, { kind, refs })),
  ]);
  const bySeq = new Map<number, BundleLedgerEntry>();
  for (const e of found.flat()) bySeq.set(Number(e.seq), bundleEntry(e));
  const head = await vault.ledgerHead(db);

  return {
    generatedAt: iso(options.now),
    generatedBy: options.generatedBy ?? null,
    command: options.command == null ? null : redact(options.command),
    tool: options.tool ?? null,
    unmasked,
    report,
    contacts,
    exports,
    ledger: [...bySeq.values()].sort((a, b) => a.seq - b.seq),
    head: head ? { seq: Number(head.seq), hash: head.hash, at: iso(head.at) } : null,
  };
}
