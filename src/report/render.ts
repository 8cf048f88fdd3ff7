import type { IncidentReportData, ReportLang, ReportSuspect } from './data.js';
import { code, heading, madeBy, paragraph, rich, table, tableOr, type Block, type Doc, type Field, type Section } from './document.js';
import { toHtml } from './html.js';
import { toMarkdown } from './markdown.js';
import { incidentStrings, isoShort, type ActionCode, type CanaryOrigins, type IncidentStrings, type SummaryFacts } from './strings/index.js';
import { leakWindowSuspect, renderTimeline, timelineCaption, timelineLegend } from './timeline.js';

// The incident report as a document (document.ts), a pure function of the report data, written out
// as Markdown or as one self-contained HTML page; the PDF is the HTML printed by Chromium (pdf.ts),
// JSON is the data itself.

/** Suspects described in detail, after the ranking table. */
const DETAILED = 5;
const LOG_LINES = 20;
const BODY_CHARS = 200;

/** A message as the hits table shows it: its first BODY_CHARS characters. */
function excerpt(body: string | null): string {
  return body ? (body.length > BODY_CHARS ? `${body.slice(0, BODY_CHARS)}…` : body) : '';
}

export function summaryFacts(data: IncidentReportData): SummaryFacts {
  const times = data.hits.map((h) => h.occurredAt).sort();
  const scanAt = data.scan?.seizedAt ?? data.incident.createdAt;
  const seeded = data.canaries.filter((c) => c.origin === 'seeded');
  const exportOnly = data.canaries.filter((c) => c.origin !== 'seeded');
  const files = new Map(exportOnly.flatMap((c) => c.exports).sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id)).map((x) => [x.id, x]));
  return {
    source: data.incident.source,
    canaries: data.canaries.length,
    seeded: seeded.length,
    weeks: [...new Set(seeded.map((c) => c.isoWeek))].sort(),
    hospitals: data.hospitals,
    exportOnly: exportOnly.length,
    exportFiles: [...files.values()],
    from: data.incident.source === 'hits' ? (times[0] ?? null) : scanAt,
    to: data.incident.source === 'hits' ? (times[times.length - 1] ?? null) : scanAt,
    hits: data.hits.length,
    senders: new Set(data.hits.flatMap((h) => (h.from ? [h.from] : []))).size,
    files: data.scan?.files.length ?? 0,
    top: data.suspects[0] ?? null,
    next: data.suspects[1] ?? null,
  };
}

export function summaryText(data: IncidentReportData, lang: ReportLang): string {
  return incidentStrings(lang).summary(summaryFacts(data));
}

const KIND_ACTIONS: Partial<Record<ReportSuspect['kind'], ActionCode[]>> = {
  export: ['contact-recipient', 'revoke-agreement', 'preserve-export'],
  account: ['suspend-account', 'preserve-access-logs', 'review-account'],
  system: ['audit-integrations'],
  ward: ['audit-ward'],
};

/** What to do next, from the kind of the most likely source and how sure the trace is. */
export function recommendedActions(data: IncidentReportData): { code: ActionCode; suspect: ReportSuspect | null }[] {
  const out: { code: ActionCode; suspect: ReportSuspect | null }[] = [];
  const top = data.suspects[0] ?? null;
  const add = (code: ActionCode, suspect: ReportSuspect | null = null) => {
    if (!out.some((a) => a.code === code && a.suspect?.key === suspect?.key)) out.push({ code, suspect });
  };
  if (top) {
    const sources = top.kind === 'merged' ? data.suspects.filter((s) => top.parts?.includes(s.label)) : [top];
    for (const s of sources) for (const code of KIND_ACTIONS[s.kind] ?? []) add(code, s);
  }
  if (!top || top.kind === 'unknown' || top.posterior < 0.5) {
    if (top) add('inconclusive');
    add('widen-coverage');
  }
  add(data.incident.source === 'scan' ? 'preserve-seized' : 'preserve-contacts');
  add('anchor-ledger');
  add('keep-watching');
  return out;
}

interface TimelineEvent {
  at: string;
  text: string;
}

/** The chart's content as a list, for Markdown (and anyone who cannot see the chart). */
export function timelineEvents(data: IncidentReportData, lang: ReportLang): TimelineEvent[] {
  const t = incidentStrings(lang);
  const events: TimelineEvent[] = [];
  const count = <K>(items: K[], key: (k: K) => string) => {
    const m = new Map<string, number>();
    for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
    return m;
  };
  for (const [key, n] of count(data.canaries, (c) => `${c.plantedAt}|${c.origin === 'seeded' ? 'seeded' : 'export'}`)) {
    const [at, origin] = key.split('|') as [string, CanaryOrigins];
    events.push({ at, text: t.marks.planted(n, '', origin).trim() });
  }
  const labels = new Map(data.suspects.map((s) => [s.key, s.label]));
  for (const [k, n] of count(data.exposures.filter((e) => labels.has(e.key)), (e) => `${e.at}|${e.key}`)) {
    const [at, key] = k.split('|');
    events.push({ at, text: t.marks.exposure(n, labels.get(key)!, '').trim() });
  }
  if (data.scan) events.push({ at: data.scan.seizedAt, text: t.marks.seizure('').trim() });
  for (const [at, n] of count(data.hits, (h) => h.occurredAt)) events.push({ at, text: t.marks.contact(n, '').trim() });
  return events.sort((a, b) => a.at.localeCompare(b.at) || a.text.localeCompare(b.text));
}

function windowText(t: IncidentStrings, s: ReportSuspect): string {
  return s.window ? `${t.dateTime(s.window.from)} – ${t.dateTime(s.window.to)}` : '';
}

function canaryName(data: IncidentReportData, id: string): string {
  const c = data.canaries.find((x) => x.id === id);
  return c ? `${id} (${c.motherName})` : id;
}

function timeline(data: IncidentReportData, lang: ReportLang, t: IncidentStrings): Block[] {
  const top = leakWindowSuspect(data);
  const events = table([t.cols.when, t.timelineText], timelineEvents(data, lang).map((e) => [[t.dateTime(e.at)], [e.text]]));
  const window = top ? [paragraph(t.marks.window(top.label, t.dateTime(top.window!.from), t.dateTime(top.window!.to)))] : [];
  return [{ kind: 'figure', svg: renderTimeline(data, lang), caption: timelineCaption(data, lang), legend: timelineLegend(data, lang), text: [events, ...window] }];
}

function evidence(data: IncidentReportData, t: IncidentStrings): Block[] {
  const c = t.cols;
  const out: Block[] = [];
  if (data.incident.source === 'hits') {
    out.push(
      heading(t.contacts),
      tableOr(
        t.noHits,
        [c.when, c.kind, c.from, c.to, c.canary, c.confidence, c.why, t.message, c.contact, c.sha256],
        data.hits.map((x) => [
          [t.dateTime(x.occurredAt)],
          [x.kind],
          code(x.from),
          code(x.to),
          [canaryName(data, x.canaryId)],
          [t.pct(x.confidence)],
          [x.reasons.map((r) => r.reason).join('; ')],
          [excerpt(x.body)],
          [`#${x.eventId} ${x.source}${x.providerId ? ` ${x.providerId}` : ''}`],
          [{ hash: x.sha256, form: 'short' }],
        ]),
        'hits',
      ),
      ...(data.dismissedHits.length ? [paragraph(t.dismissedHits(data.dismissedHits), 'note')] : []),
    );
  }
  if (data.scan) {
    out.push(
      heading(t.scanFiles),
      table([c.file, c.format, c.records, c.bytes, c.sha256], data.scan.files.map((f) => [[f.file], [`${f.format} (${f.encoding})`], [t.num(f.records)], [t.num(f.bytes)], [{ hash: f.sha256 }]])),
      heading(t.scanMatches),
      table(
        [c.canary, c.file, c.place, c.column, c.matched, c.confidence, c.why],
        data.scan.matches.map((m) => [[canaryName(data, m.canaryId)], [m.file], [m.place], [m.column ?? ''], code(m.matched), [t.pct(m.confidence)], [`${m.kinds.join(', ')}: ${m.reason}`]]),
        'matches',
      ),
    );
  }
  return out;
}

/** A suspect as the ranking names it: its channel, or the unknown source in the report's language. */
const suspectLabel = (t: IncidentStrings, s: ReportSuspect) => (s.kind === 'unknown' ? t.unknownSource : s.label);

function suspects(data: IncidentReportData, t: IncidentStrings): Block[] {
  const c = t.cols;
  if (!data.suspects.length) return [paragraph(t.noSuspects)];
  const ranking = table(
    [c.rank, c.suspect, c.kind, c.probability, c.explains, c.window],
    data.suspects.map((s) => [[String(s.rank)], [suspectLabel(t, s)], [t.suspectKind(s.kind)], [t.pct(s.posterior)], [`${s.explains.length}/${data.canaries.length}`], [windowText(t, s)]]),
    'suspects',
  );
  const cards = data.suspects.slice(0, DETAILED).map((s): Block => {
    const lines = s.logLines.slice(0, LOG_LINES).map((l) => [[t.dateTime(l.at)], [`${l.action} (${l.scope})${l.system ? ` ${l.system}` : ''}${l.ip ? ` ${l.ip}` : ''}`], code(l.canary), [`${l.file}:${l.line}`]]);
    const log = lines.length ? [heading(t.logLines, 4), table([c.when, c.action, c.canary, c.file], lines)] : [];
    return { kind: 'card', title: `${s.rank}. ${suspectLabel(t, s)} (${t.pct(s.posterior)})`, share: s.posterior, style: 'suspect', tag: s.kind, blocks: [paragraph(t.describe(s)), { kind: 'list', items: s.reasons.map((r) => [t.reason(r)]) }, ...log] };
  });
  return [ranking, ...cards];
}

/** The incident's life cycle: who closed, dismissed, merged or annotated it, or dismissed a hit, when and why. */
function history(data: IncidentReportData, t: IncidentStrings): Block[] {
  const h = t.history;
  return [
    tableOr(
      h.none,
      [t.cols.when, h.who, h.what, h.why],
      data.history.map((e) => [[t.dateTime(e.at)], [e.actor ?? ''], [h.entry(e)], [e.note ?? e.reason ?? '']]),
      'history',
    ),
  ];
}

function custody(data: IncidentReportData, t: IncidentStrings): Block[] {
  const c = t.cols;
  const fields = [madeBy(t.meta, code(isoShort(data.generatedAt)), data.generatedBy)];
  if (data.command) fields.push({ label: t.meta.command, value: code(data.command) });
  if (data.tool) fields.push({ label: t.meta.tool, value: [data.tool] });
  const head = data.custody.ledger.head;
  return [
    { kind: 'fields', fields },
    heading(t.custodyFiles),
    tableOr(t.noFiles, [c.role, c.file, c.sha256, c.bytes, c.when, c.ref], data.custody.files.map((f) => [[t.fileRole(f.role)], [f.name], [{ hash: f.sha256 }], [f.bytes === null ? '' : t.num(f.bytes)], [isoShort(f.at)], code(f.ref)]), 'files'),
    paragraph(rich(t.verifyNote), 'note'),
    heading(t.ledgerEntries),
    ...(head ? [paragraph([t.ledgerHead(head.seq, isoShort(head.at)), ' ', { hash: head.hash, form: 'anchor' }]), paragraph(rich(t.ledgerHeadNote), 'note')] : [paragraph(t.ledgerEmpty)]),
    tableOr(
      t.noLedger,
      [c.seq, c.when, c.ledgerKind, c.ref, c.actor, c.hash, c.verified],
      data.custody.ledger.entries.map((e) => [[String(e.seq)], [isoShort(e.at)], [e.kind], code(e.ref), [e.actor ?? ''], [{ hash: e.hash }], [e.verified ? t.yes : { bad: t.no }]]),
      'ledger',
    ),
  ];
}

export function incidentDocument(data: IncidentReportData, lang: ReportLang): Doc {
  const t = incidentStrings(lang);
  const c = t.cols;
  const sections: Section[] = [
    { id: 'summary', title: t.sections.summary, blocks: [paragraph(summaryText(data, lang), 'summary')] },
    { id: 'timeline', title: t.sections.timeline, blocks: timeline(data, lang, t) },
    { id: 'evidence', title: t.sections.evidence, blocks: evidence(data, t) },
    {
      id: 'canaries',
      title: t.sections.canaries,
      blocks: [
        table(
          [c.id, c.mother, c.phone, c.father, c.ward, c.week, c.planted, c.firstEvidence, c.evidence],
          data.canaries.map((x) => [code(x.id), [x.motherName], code(x.motherPhone ?? x.email), [x.fatherName ? `${x.fatherName}${x.fatherPhone ? ` ${x.fatherPhone}` : ''}` : ''], [x.ward], [x.origin === 'seeded' ? x.isoWeek : t.exportOnlyCell(x.exports)], [t.dateTime(x.plantedAt)], [t.dateTime(x.leakedBy)], [String(x.evidence)]]),
          'canaries',
        ),
      ],
    },
    { id: 'suspects', title: t.sections.suspects, blocks: suspects(data, t) },
    { id: 'assumptions', title: t.sections.assumptions, blocks: [{ kind: 'list', items: t.assumptions(data.model, data.vaultSize, data.candidates).map((a) => [a]), style: 'assumptions' }] },
    { id: 'history', title: t.sections.history, blocks: history(data, t) },
    { id: 'custody', title: t.sections.custody, blocks: custody(data, t) },
    { id: 'actions', title: t.sections.actions, blocks: [{ kind: 'list', ordered: true, items: recommendedActions(data).map((a) => [t.action(a.code, a.suspect)]), style: 'actions' }] },
  ];
  const fields: Field[] = [
    { label: t.meta.incident, value: [...code(data.incident.id), ` ${data.incident.title}`] },
    { label: t.meta.source, value: [t.sourceName(data.incident.source)] },
    { label: t.meta.status, value: [t.status(data.incident.status)] },
    ...(data.hospitals.length ? [{ label: t.meta.hospital, value: [data.hospitals.join(', ')] }] : []),
    madeBy(t.meta, [t.dateTime(data.generatedAt)], data.generatedBy),
  ];
  return {
    lang,
    title: t.title(data.incident.id),
    lead: t.subtitle,
    fields,
    notice: { text: [data.unmasked ? t.unmasked : t.masked, t.meta.times].join(lang === 'zh-CN' ? '' : ' '), alert: data.unmasked },
    sections,
    footer: t.footer(!data.unmasked),
    generator: data.tool ?? 'cradle',
  };
}

export const renderMarkdown = (data: IncidentReportData, lang: ReportLang): string => toMarkdown(incidentDocument(data, lang));
export const renderHtml = (data: IncidentReportData, lang: ReportLang): string => toHtml(incidentDocument(data, lang));
