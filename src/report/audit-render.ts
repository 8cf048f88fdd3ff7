import { TZDate } from '@date-fns/tz';
import type { AuditReportData } from './audit-load.js';
import type { ReportLang } from './data.js';
import { code, heading, madeBy, paragraph, rich, tableOr, table, type Doc, type Section, type Text } from './document.js';
import { toHtml } from './html.js';
import { toMarkdown } from './markdown.js';
import { auditStrings, incidentStrings, isoShort, type AuditStrings, type AuditSummaryFacts } from './strings/index.js';

// The audit report (`cradle audit`) as a document (document.ts), a pure function of the data
// audit-load.ts gathers, written out as Markdown or as a self-contained HTML page like the incident
// report's.

const TRAP_STATES = ['available', 'burn_in', 'assigned', 'retired', 'blocked'] as const;

// Every date and time the audit shows is the hospital's: its period is days in the hospital's time
// zone, so a time of the period shown in UTC could fall on the day before it. The data keeps
// instants in UTC (ISO 8601 with Z); the document shows their wall-clock time in the hospital's zone.

/** Minutes east of UTC of a time zone at an instant. */
const offsetAt = (ms: number, timeZone: string) => -new TZDate(ms, timeZone).getTimezoneOffset();

/** An instant as the hospital's wall-clock time, written as an ISO string the UTC formatters print as is. */
export function hospitalTime(iso: string, timeZone: string): string {
  const ms = Date.parse(iso);
  return new Date(ms + offsetAt(ms, timeZone) * 60_000).toISOString();
}

/** The zone as the report names it: Asia/Shanghai (UTC+08:00). */
export function zoneLabel(timeZone: string, at: string): string {
  const off = offsetAt(Date.parse(at), timeZone);
  const hhmm = `${off < 0 ? '−' : '+'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`;
  return timeZone === 'UTC' ? 'UTC' : `${timeZone} (UTC${hhmm})`;
}

/** An instant to the second in the hospital's zone, with its offset: 2026-12-07 00:30:00 +08:00. */
function hospitalShort(iso: string, timeZone: string): string {
  const off = offsetAt(Date.parse(iso), timeZone);
  const sign = off < 0 ? '-' : '+';
  return `${isoShort(hospitalTime(iso, timeZone)).replace(/Z$/, '')} ${sign}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`;
}

export function auditSummaryFacts(data: AuditReportData): AuditSummaryFacts {
  const r = data.rotations;
  return {
    hospital: data.hospital.displayName,
    from: data.period.from,
    to: data.period.to,
    weeks: r.weeks.filter((w) => w.status !== 'before').length,
    done: r.done,
    missed: r.missed,
    partial: r.partial,
    before: r.before,
    firstRotation: r.firstRotation,
    live: data.canaries.live,
    recipients: data.canaries.byRecipient.length,
    weeksLeft: data.pool.weeksLeft,
    low: data.pool.low,
    incidents: data.hits.incidents.length,
    open: data.hits.open,
    tripwires: data.tripwires.total,
    listed: data.listExposures.total,
    lists: data.listExposures.lines,
    ledgerOk: data.ledger.ok,
  };
}

export function auditSummaryText(data: AuditReportData, lang: ReportLang): string {
  return auditStrings(lang).summary(auditSummaryFacts(data));
}

const dt = (a: AuditStrings, iso: string | null, timeZone: string) => (iso ? a.dateTime(hospitalTime(iso, timeZone)) : '');
const bad = (text: string, isBad: boolean): Text => [isBad ? { bad: text } : text];

interface Table {
  headers: string[];
  rows: Text[][];
}

function tables(data: AuditReportData, lang: ReportLang) {
  const t = incidentStrings(lang);
  const a = auditStrings(lang);
  const c = a.cols;
  const tz = data.hospital.timeZone;
  const at = (iso: string | null) => dt(a, iso, tz);
  const accountRows = (accounts: AuditReportData['tripwires']['accounts']) => accounts.map((x) => [code(x.account), [a.num(x.lines)], [a.num(x.canaries)], [at(x.first)], [at(x.last)]]);
  return {
    weeks: {
      headers: [c.week, c.starts, c.status, c.planned, c.planted, c.completed],
      rows: data.rotations.weeks.map((w) => [[w.week], [a.date(`${w.monday}T00:00:00Z`)], bad(a.weekStatus(w.status), w.status === 'missed' || w.status === 'partial'), [a.num(w.planned)], [a.num(w.planted)], [at(w.completedAt)]]),
    },
    wards: {
      headers: [c.ward, c.live, c.plantedInPeriod, c.retiredInPeriod],
      rows: data.canaries.byWard.map((w) => [[w.ward], [a.num(w.live)], [a.num(w.plantedInPeriod)], [a.num(w.retiredInPeriod)]]),
    },
    recipients: {
      headers: [c.recipient, c.live, c.exportsInPeriod, c.exportsTotal, c.lastExport],
      rows: data.canaries.byRecipient.map((r) => [[r.recipient], [a.num(r.live)], [a.num(r.exportsInPeriod)], [a.num(r.exportsTotal)], [at(r.lastExportAt)]]),
    },
    states: {
      headers: [c.state, c.numbers],
      rows: TRAP_STATES.map((s) => [[a.numberState(s)], [a.num(data.pool.counts[s])]]),
    },
    noise: {
      headers: [c.number, c.state, c.contacts, c.days, c.perDay],
      rows: data.pool.noisiest.map((n) => [code(n.e164), [a.numberState(n.state)], [a.num(n.contacts)], [a.num(n.days)], [a.num(n.perDay)]]),
    },
    incidents: {
      headers: [c.incident, c.source, c.status, c.opened, c.hits, c.canaries, c.firstContact, c.lastContact, c.senders, c.title],
      rows: data.hits.incidents.map((i) => [
        code(i.id),
        [t.sourceName(i.source === 'scan' ? 'scan' : 'hits')],
        [t.status(i.status)],
        [at(i.createdAt)],
        [a.num(i.hits)],
        [a.num(i.canaries)],
        [at(i.firstContact)],
        [at(i.lastContact)],
        [a.num(i.senders)],
        [i.title],
      ]),
    },
    accounts: {
      headers: [c.account, c.lines, c.canaries, c.first, c.last],
      rows: accountRows(data.tripwires.accounts),
    },
    listAccounts: {
      headers: [c.account, c.lists, c.canaries, c.first, c.last],
      rows: accountRows(data.listExposures.accounts),
    },
    lines: {
      headers: [c.when, c.account, c.action, c.canary, c.file],
      rows: data.tripwires.lines.map((l) => [[at(l.at)], code(l.account), [`${l.action} (${l.scope})${l.system ? ` ${l.system}` : ''}`], code(l.canaryId), [`${l.file}:${l.line}`]]),
    },
    ledger: {
      headers: [c.check, c.result],
      rows: ledgerRows(data, a),
    },
    realism: {
      headers: [c.comparison, c.canaries, c.real, c.auc, c.ci, c.reliedOn],
      rows: (data.realism?.comparisons ?? []).map((x) => [
        [a.realismKind(x.kind)],
        [a.num(x.canaries)],
        [a.num(x.real)],
        bad(x.auc === null ? '' : x.auc.toFixed(3), x.auc !== null && x.auc > (data.realism?.warnAbove ?? 1)),
        [x.low === null || x.high === null ? '' : `${x.low.toFixed(3)}–${x.high.toFixed(3)}`],
        code(x.reliedOn.join(', ')),
      ]),
    },
  } satisfies Record<string, Table>;
}

function ledgerRows(data: AuditReportData, a: AuditStrings): Table['rows'] {
  const l = data.ledger;
  const k = a.ledgerChecks;
  return [
    [[k.chain], bad(a.ledgerChain(l.intact, l.entries, l.break), !l.intact)],
    [[k.head], l.head ? [`#${l.head.seq} ${hospitalShort(l.head.at, data.hospital.timeZone)} `, { hash: l.head.hash }] : [a.ledgerEmpty]],
    [[k.evidence], bad(a.ledgerEvidence(l.evidenceChecked, l.problems), l.problems > 0)],
    [[k.unsealed], [String(l.unsealedContacts)]],
    [[k.predate], [String(l.predateLedger)]],
    [[k.reports], [String(l.reportsInPeriod)]],
  ];
}

function realismBlocks(data: AuditReportData, lang: ReportLang): Section['blocks'] {
  const a = auditStrings(lang);
  const r = data.realism;
  if (!r) return [paragraph(rich(a.realismNotMeasured))];
  const tb = tables(data, lang).realism;
  const c = a.cols;
  return [
    paragraph(a.realismIntro),
    paragraph(a.realismVerdict(r.auc, r.warnAbove, r.warning), r.warning ? 'warning' : 'ok'),
    table([c.comparison, c.canaries, c.real, c.auc, c.ci, c.reliedOn], tb.rows, 'realism'),
    ...r.comparisons.flatMap((x) =>
      x.fields.length
        ? [heading(a.realismFields(x.kind)), table([c.field, c.test, c.distance, c.p], x.fields.map((f) => [code(f.field), [f.test], [f.distance.toFixed(3)], [f.p < 0.0001 ? f.p.toExponential(1) : f.p.toFixed(4)]]), 'realism-fields')]
        : [],
    ),
    ...r.notes.map((n) => paragraph(n, 'note')),
    paragraph(rich(a.realismNote), 'note'),
  ];
}

export function auditDocument(data: AuditReportData, lang: ReportLang): Doc {
  const a = auditStrings(lang);
  const tb = tables(data, lang);
  const s = a.sections;
  const r = data.rotations;
  const p = data.pool;
  const tableOf = (x: Table, style: string) => table(x.headers, x.rows, style);
  const sections: Section[] = [
    { id: 'summary', title: s.summary, blocks: [paragraph(auditSummaryText(data, lang), 'summary')] },
    {
      id: 'rotations',
      title: s.rotations,
      blocks: [
        paragraph(r.plan ? a.plan(Object.values(r.plan).reduce((x, y) => x + y, 0), Object.entries(r.plan)) : r.perWeek ? a.planPerWeek(r.perWeek) : a.noPlan),
        ...(r.weeks.length
          ? [...(r.weeks.length > r.before ? [paragraph(a.rotationTally(r.done, r.missed, r.partial, r.due))] : []), ...(r.before ? [paragraph(a.beforeWeeks(r.before, r.firstWeek, r.firstRotation !== null))] : []), tableOf(tb.weeks, 'weeks')]
          : [paragraph(a.noWeeks)]),
      ],
    },
    {
      id: 'canaries',
      title: s.canaries,
      blocks: [heading(a.byWard), tableOf(tb.wards, 'wards'), heading(a.byRecipient), tableOr(a.noRecipients, tb.recipients.headers, tb.recipients.rows, 'recipients')],
    },
    {
      id: 'pool',
      title: s.pool,
      blocks: [
        ...(p.low && p.weeksLeft !== null ? [paragraph(a.poolLow(p.weeksLeft, p.nextWeeks), 'warning')] : []),
        ...(p.segments?.warning ? [paragraph(a.poolSegments(Math.round(p.segments.uncoveredShare * 100), p.segments.missing), 'warning')] : []),
        paragraph(p.sharing === 'shared' && p.numbersNeeded !== null && p.weeksLeft !== null && p.horizon !== null ? a.poolShared(p.supply, p.numbersNeeded, p.weeksLeft, p.horizon) : a.poolSupply(p.supply, p.perWeek, p.weeksLeft, p.needed, p.nextWeeks, p.numbersPerCanary)),
        heading(a.poolCounts),
        tableOf(tb.states, 'states'),
        heading(a.noise),
        ...(p.noisy ? [paragraph(a.noiseSummary(p.noisy, p.noiseContacts, p.noiseDays)), tableOf(tb.noise, 'noise')] : [paragraph(a.noNoise)]),
      ],
    },
    {
      id: 'incidents',
      title: s.incidents,
      blocks: [paragraph(a.incidentTally(data.hits.inPeriod, data.hits)), tableOr(a.noIncidents, tb.incidents.headers, tb.incidents.rows, 'incidents')],
    },
    {
      id: 'tripwires',
      title: s.tripwires,
      blocks: [
        ...(data.tripwires.total
          ? [paragraph(a.tripwireTally(data.tripwires.total, data.tripwires.accounts.length)), heading(a.tripwireAccounts), tableOf(tb.accounts, 'accounts'), heading(a.tripwireLines(data.tripwires.lines.length, data.tripwires.total)), tableOf(tb.lines, 'tripwires')]
          : [paragraph(a.noTripwires)]),
        heading(a.listHeading),
        ...(data.listExposures.total
          ? [paragraph(a.listTally(data.listExposures.lines, data.listExposures.accounts.length, data.listExposures.total, data.listExposures.canaries)), tableOf(tb.listAccounts, 'list-accounts')]
          : [paragraph(a.noLists)]),
      ],
    },
    {
      id: 'ledger',
      title: s.ledger,
      blocks: [paragraph(a.ledgerVerdict(data.ledger.ok), data.ledger.ok ? 'ok' : 'fail'), tableOf(tb.ledger, 'ledger'), paragraph(rich(a.ledgerNote), 'note')],
    },
    {
      id: 'realism',
      title: s.realism,
      blocks: realismBlocks(data, lang),
    },
  ];
  return {
    lang,
    title: a.title(data.hospital.displayName),
    lead: a.subtitle,
    fields: [
      { label: a.meta.hospital, value: [`${data.hospital.displayName} (`, ...code(data.hospital.name), ')'] },
      { label: a.meta.period, value: [`${data.period.from} – ${data.period.to}`] },
      { label: a.meta.timeZone, value: [zoneLabel(data.hospital.timeZone, data.generatedAt)] },
      madeBy(a.meta, [a.dateTime(hospitalTime(data.generatedAt, data.hospital.timeZone))], data.generatedBy),
      ...(data.command ? [{ label: a.meta.command, value: code(data.command) }] : []),
      ...(data.tool ? [{ label: a.meta.tool, value: [data.tool] }] : []),
    ],
    notice: { text: a.meta.times(zoneLabel(data.hospital.timeZone, data.generatedAt)), alert: false },
    sections,
    footer: a.footer(zoneLabel(data.hospital.timeZone, data.generatedAt)),
    generator: data.tool ?? 'cradle',
  };
}

export const renderAuditMarkdown = (data: AuditReportData, lang: ReportLang): string => toMarkdown(auditDocument(data, lang));
export const renderAuditHtml = (data: AuditReportData, lang: ReportLang): string => toHtml(auditDocument(data, lang));
