import type { TraceReport, TraceSuspect } from '../domain/trace.js';
import type { Queryable } from '../db/index.js';
import { redact } from '../lib/redact.js';
import { maskDigits, maskPhone } from '../lib/phone.js';
import { iso, isoOrNull } from '../lib/time.js';
import * as vault from '../vault/index.js';
import { accessImportsByPath, canaryOrigins, scanEvidence } from '../vault/reports.js';
import type { CustodyFile, IncidentReportData, ModelParameters, ReportExposure, ReportHit, ReportLedgerEntry, ReportSuspect, SuspectReason } from './data.js';

export type * from './data.js';

// `cradle report`: everything the document says, from the incident's trace (run by the caller, a
// workflow) and the vault, read once (the hits or the scan's evidence, the exposures, the ledger) into
// a plain object the renderers turn into text.

/** A ranked suspect of the trace, as src/trace/trace.ts's TraceSuspect gives it. */
/** The incident's trace the report states, as the trace capability gives it (its suspects already cut to the ones to rank). */
export type ReportTrace = TraceReport;

export interface LoadReportOptions {
  /** The trace model's parameters, stated among the assumptions (the workflow passes src/trace/model.ts's). */
  model: ModelParameters;
  /** Show callers' numbers in full. */
  unmasked?: boolean;
  now?: Date;
  generatedBy?: string | null;
  command?: string | null;
  tool?: string | null;
}

/** A caller's number or address, all but the last four digits hidden; e-mail: the local part hidden but its first letter (not its length). */
export function maskCaller(from: string): string {
  const at = from.indexOf('@');
  if (at > 0) return `${from[0]}***${maskDigits(from.slice(at))}`;
  const masked = maskPhone(from);
  // Short numbers (service numbers, extensions) that maskDigits leaves alone are hidden all the same.
  return masked === from && /\d{3,}/.test(from) ? from.replace(/\d(?=(?:\D*\d){4})/g, '*') : masked;
}

/** Mask phone-number-like runs in a text, leaving the canaries' own (trap) numbers as they are. */
export function maskText(text: string, keep: readonly string[]): string {
  const wanted = keep.filter((k) => k.length > 0);
  if (wanted.length === 0) return maskDigits(text);
  const pattern = new RegExp(`(${wanted.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'g');
  return text
    .split(pattern)
    .map((part, i) => (i % 2 === 1 ? part : maskDigits(part)))
    .join('');
}

function suspectReasons(s: TraceSuspect, total: number, seen: number | null, model: ModelParameters, parts: string[] | null): SuspectReason[] {
  const reasons: SuspectReason[] = [];
  if (s.kind === 'unknown') return [{ code: 'unknown-source', prior: model.unknownPrior }, ...(s.explains.length ? [{ code: 'explains' as const, explained: s.explains.length, total }] : [])];
  if (s.kind === 'merged' && parts) reasons.push({ code: 'merged', parts });
  reasons.push({ code: 'explains', explained: s.explains.length, total });
  if (seen !== null) reasons.push({ code: 'channel-size', seen });
  if (s.export) reasons.push({ code: 'exported', at: isoOrNull(s.export.at), operator: s.export.operator, recipient: s.export.recipient, file: s.export.file });
  if (s.logLines.length) reasons.push({ code: 'log-lines', lines: s.logLines.length, actions: [...new Set(s.logLines.map((l) => l.action))] });
  if (s.window) reasons.push({ code: 'window', from: iso(s.window.from), to: iso(s.window.to) });
  if (s.unexplained.length) reasons.push({ code: 'unexplained', canaries: s.unexplained });
  return reasons;
}

function ledgerEntry(e: vault.LedgerEntry): ReportLedgerEntry {
  const at = e.at instanceof Date ? e.at : new Date(e.at);
  const seq = Number(e.seq);
  let verified = false;
  try {
    verified = vault.contentHash(e.content) === e.content_hash && vault.entryHash({ ...e, seq, at }) === e.hash;
  } catch {
    verified = false;
  }
  return { seq, at: iso(at), kind: e.kind, ref: e.ref, incidentId: e.incident_id, actor: e.actor, contentHash: e.content_hash, prevHash: e.prev_hash, hash: e.hash, verified };
}

export async function loadIncidentReport(db: Queryable, trace: ReportTrace, options: LoadReportOptions): Promise<IncidentReportData> {
  const { incident } = trace;
  const ids = trace.canaries.map((c) => c.canary_id);
  const rows = await Promise.all(ids.map((id) => vault.getCanary(db, id)));
  const byId = new Map(rows.flatMap((r) => (r ? [[r.id, r] as const] : [])));
  const canaryNumbers = rows.flatMap((r) => (r ? [r.mother_phone, r.father_phone, r.email].filter((x): x is string => !!x) : []));
  // Where each canary exists: the newborn records (seeded), or only the export files it was written into.
  const origins = new Map((await canaryOrigins(db, ids)).map((o) => [o.canary_id, o]));

  // Exposures of the incident's canaries, keyed the way the trace keys its channels.
  const channels = ids.length ? await vault.channelsSeeing(db, ids) : [];
  const channelByLabel = new Map(channels.filter((c) => !c.export_id).map((c) => [c.label, c.key]));
  const exposureRows = ids.length ? await vault.exposuresOfCanaries(db, ids) : [];
  const exposures: ReportExposure[] = exposureRows
    .map((e) => ({ canaryId: e.canary_id, channel: e.channel, key: e.export_id ? `export-file:${e.export_id}` : (channelByLabel.get(e.channel) ?? e.channel), exportId: e.export_id, at: iso(e.exposed_at) }))
    .sort((a, b) => a.at.localeCompare(b.at) || a.canaryId.localeCompare(b.canaryId));
  const seenCount = new Map(channels.map((c) => [c.key, c.seen.size]));
  const labelOf = new Map(channels.map((c) => [c.key, c.label]));

  const suspects: ReportSuspect[] = trace.suspects.map((s, i) => {
    const parts = s.parts ? s.parts.map((p) => labelOf.get(p) ?? p) : null;
    const seen = seenCount.get(s.key) ?? null;
    return {
      rank: i + 1,
      key: s.key,
      kind: s.kind,
      label: s.label,
      posterior: s.posterior,
      explains: [...s.explains],
      unexplained: [...s.unexplained],
      window: s.window ? { from: iso(s.window.from), to: iso(s.window.to) } : null,
      export: s.export ? { ...s.export, at: isoOrNull(s.export.at) } : null,
      logLines: s.logLines.map((l) => ({ ...l, at: iso(l.at) })),
      parts,
      seen,
      reasons: suspectReasons(s, ids.length, seen, options.model, parts),
    };
  });

  const unmasked = !!options.unmasked;
  const hits: ReportHit[] =
    incident.source === 'hits'
      ? (await vault.incidentHits(db, incident.id)).filter((h) => h.status === 'active').map((h) => ({
          hitId: Number(h.hit_id),
          eventId: Number(h.event_id),
          canaryId: h.canary_id,
          kind: h.kind,
          source: h.source,
          providerId: h.provider_id,
          from: h.from_address === null ? null : unmasked ? h.from_address : maskCaller(h.from_address),
          to: h.to_address,
          occurredAt: iso(h.occurred_at),
          confidence: Number(h.confidence),
          reasons: h.reasons ?? [],
          body: h.body === null ? null : unmasked ? h.body : maskText(h.body, canaryNumbers),
          sha256: h.sha256,
        }))
      : [];
  const scanRows = incident.source === 'scan' ? await scanEvidence(db, incident.id) : null;
  const scan = scanRows
    ? {
        seizedAt: iso(incident.created_at),
        files: scanRows.files.map((f) => ({ file: f.file, sha256: f.sha256, bytes: f.bytes, format: f.format, encoding: f.encoding, records: f.records })),
        matches: scanRows.matches.map((m) => ({ ...m, kinds: [...m.kinds], confidence: Number(m.confidence), matched: unmasked ? m.matched : maskText(m.matched, canaryNumbers) })),
      }
    : null;

  // Chain of custody: every file the evidence rests on, with its hash, and the ledger's entries about it.
  const files: CustodyFile[] = [];
  const exportsSeen = new Set<string>();
  for (const s of suspects) {
    if (s.export?.sha256 && !exportsSeen.has(s.export.id)) {
      exportsSeen.add(s.export.id);
      files.push({ role: 'export', name: s.export.file ?? s.export.id, sha256: s.export.sha256, bytes: (await vault.getExport(db, s.export.id))?.bytes ?? null, at: s.export.at, ref: s.export.id });
    }
  }
  for (const f of scan?.files ?? []) files.push({ role: 'scan', name: f.file, sha256: f.sha256, bytes: f.bytes, at: scan!.seizedAt, ref: incident.id });
  for (const h of hits) files.push({ role: 'contact', name: `${h.source}${h.providerId ? ` ${h.providerId}` : ''}`, sha256: h.sha256, bytes: null, at: h.occurredAt, ref: String(h.eventId) });
  const logPaths = [...new Set(suspects.flatMap((s) => s.logLines.map((l) => l.file)))];
  for (const a of await accessImportsByPath(db, logPaths)) files.push({ role: 'access-log', name: a.path, sha256: a.sha256, bytes: a.size_bytes, at: iso(a.started_at), ref: String(a.id) });

  // Entries of the incident, and those about its evidence (a bare number means something else to each kind).
  const about: [string, string[]][] = [
    ['export', [...exportsSeen]],
    ['contact', hits.map((h) => String(h.eventId))],
    ['hit', hits.map((h) => String(h.hitId))],
    ['import', files.filter((f) => f.role === 'access-log').map((f) => f.ref)],
  ];
  const found = await Promise.all([
    vault.ledgerEntries(db, { incident: incident.id }),
    ...about.filter(([, refs]) => refs.length).map(([kind, refs]) => vault.ledgerEntries(db, { kind, refs })),
  ]);
  const head = await vault.ledgerHead(db);
  const entries = new Map<number, ReportLedgerEntry>();
  for (const e of found.flat()) entries.set(Number(e.seq), ledgerEntry(e));

  return {
    format: 'cradle-incident-report',
    version: 1,
    generatedAt: iso(options.now ?? new Date()),
    generatedBy: options.generatedBy ?? null,
    // Callers pass commandLine()'s redacted text; redacting again keeps a careless caller's password out.
    command: options.command == null ? null : redact(options.command),
    tool: options.tool ?? null,
    unmasked,
    hospitals: [...new Set(rows.flatMap((r) => (r ? [r.hospital] : [])))].sort(),
    incident: { id: incident.id, source: incident.source, title: unmasked ? incident.title : maskText(incident.title, canaryNumbers), status: incident.status, createdAt: iso(incident.created_at) },
    canaries: trace.canaries.map((c) => {
      const r = byId.get(c.canary_id);
      return {
        id: c.canary_id,
        hospital: r?.hospital ?? '',
        origin: origins.get(c.canary_id)?.origin ?? 'seeded',
        exports: (origins.get(c.canary_id)?.exports ?? []).map((x) => ({ id: x.id, file: x.file, recipient: x.recipient, at: iso(x.at) })),
        ward: r?.ward ?? '',
        isoWeek: c.iso_week,
        plantedAt: iso(c.planted_at),
        leakedBy: iso(c.leaked_by),
        evidence: Number(c.evidence),
        motherName: r?.mother_name ?? '',
        motherPhone: r?.mother_phone ?? null,
        fatherName: r?.father_name ?? null,
        fatherPhone: r?.father_phone ?? null,
        email: r?.email ?? null,
      };
    }),
    weeks: trace.weeks,
    leakedBy: isoOrNull(trace.leakedBy),
    candidates: trace.candidates,
    vaultSize: trace.vaultSize,
    suspects,
    exposures,
    hits,
    dismissedHits: trace.excluded.hits.map((h) => h.hitId),
    scan,
    history: (await vault.incidentHistory(db, incident.id)).map((e) => ({
      ...e,
      at: iso(e.at),
      reason: e.reason === null || unmasked ? e.reason : maskText(e.reason, canaryNumbers),
      note: e.note === null || unmasked ? e.note : maskText(e.note, canaryNumbers),
    })),
    model: options.model,
    custody: {
      files,
      ledger: { head: head ? { seq: Number(head.seq), hash: head.hash, at: iso(head.at) } : null, entries: [...entries.values()].sort((a, b) => a.seq - b.seq) },
    },
  };
}
