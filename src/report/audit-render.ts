import type { AuditReportData } from './audit-load.js';
import type { ReportLang } from './data.js';
import { auditStrings, strings, type AuditStrings, type AuditSummaryFacts, type Strings } from './i18n.js';
import { code, h, hash, htmlPage, htmlTable, isoShort, md, mdTable, mono } from './render.js';

// The audit report (`cradle audit`) as Markdown or as one self-contained HTML page, in the incident
// report's page and styles: pure functions of the data audit-load.ts gathers.

const TRAP_STATES = ['available', 'burn_in', 'assigned', 'retired', 'blocked'] as const;

export function auditSummaryFacts(data: AuditReportData): AuditSummaryFacts {
  const r = data.rotations;
  return {
    hospital: data.hospital.displayName,
    from: data.period.from,
    to: data.period.to,
    weeks: r.weeks.length,
    done: r.done,
    missed: r.missed,
    partial: r.partial,
    live: data.canaries.live,
    recipients: data.canaries.byRecipient.length,
    weeksLeft: data.pool.weeksLeft,
    low: data.pool.low,
    incidents: data.hits.incidents.length,
    open: data.hits.open,
    tripwires: data.tripwires.total,
    ledgerOk: data.ledger.ok,
  };
}

export function auditSummaryText(data: AuditReportData, lang: ReportLang): string {
  return auditStrings(lang).summary(auditSummaryFacts(data));
}

const planText = (plan: Record<string, number>) => `${Object.values(plan).reduce((a, b) => a + b, 0)} (${Object.entries(plan).map(([w, n]) => `${w} ${n}`).join(', ')})`;
const dt = (t: Strings, iso: string | null) => (iso ? t.dateTime(iso) : '');

interface Table {
  headers: string[];
  /** Cells as text; `raw` cells are HTML already (and Markdown code). */
  rows: { text: string; kind?: 'code' | 'hash' | 'bad' }[][];
}

function tables(data: AuditReportData, lang: ReportLang): Record<string, Table> {
  const t = strings(lang);
  const a = auditStrings(lang);
  const c = a.cols;
  return {
    weeks: {
      headers: [c.week, c.starts, c.status, c.planned, c.planted, c.completed],
      rows: data.rotations.weeks.map((w) => [{ text: w.week }, { text: t.date(`${w.monday}T00:00:00Z`) }, { text: a.weekStatus(w.status), kind: w.status === 'missed' || w.status === 'partial' ? 'bad' : undefined }, { text: t.num(w.planned) }, { text: t.num(w.planted) }, { text: dt(t, w.completedAt) }]),
    },
    wards: {
      headers: [c.ward, c.live, c.plantedInPeriod, c.retiredInPeriod],
      rows: data.canaries.byWard.map((w) => [{ text: w.ward }, { text: t.num(w.live) }, { text: t.num(w.plantedInPeriod) }, { text: t.num(w.retiredInPeriod) }]),
    },
    recipients: {
      headers: [c.recipient, c.live, c.exportsInPeriod, c.exportsTotal, c.lastExport],
      rows: data.canaries.byRecipient.map((r) => [{ text: r.recipient }, { text: t.num(r.live) }, { text: t.num(r.exportsInPeriod) }, { text: t.num(r.exportsTotal) }, { text: dt(t, r.lastExportAt) }]),
    },
    states: {
      headers: [c.state, c.numbers],
      rows: TRAP_STATES.map((s) => [{ text: a.numberState(s) }, { text: t.num(data.pool.counts[s]) }]),
    },
    noise: {
      headers: [c.number, c.state, c.contacts, c.days, c.perDay],
      rows: data.pool.noisiest.map((n) => [{ text: n.e164, kind: 'code' }, { text: a.numberState(n.state) }, { text: t.num(n.contacts) }, { text: t.num(n.days) }, { text: t.num(n.perDay) }]),
    },
    incidents: {
      headers: [c.incident, c.source, c.status, c.opened, c.hits, c.canaries, c.firstContact, c.lastContact, c.senders, c.title],
      rows: data.hits.incidents.map((i) => [
        { text: i.id, kind: 'code' },
        { text: t.sourceName(i.source === 'scan' ? 'scan' : 'hits') },
        { text: t.status(i.status) },
        { text: t.dateTime(i.createdAt) },
        { text: t.num(i.hits) },
        { text: t.num(i.canaries) },
        { text: dt(t, i.firstContact) },
        { text: dt(t, i.lastContact) },
        { text: t.num(i.senders) },
        { text: i.title },
      ]),
    },
    accounts: {
      headers: [c.account, c.lines, c.canaries, c.first, c.last],
      rows: data.tripwires.accounts.map((x) => [{ text: x.account, kind: 'code' }, { text: t.num(x.lines) }, { text: t.num(x.canaries) }, { text: t.dateTime(x.first) }, { text: t.dateTime(x.last) }]),
    },
    lines: {
      headers: [c.when, c.account, c.action, c.canary, c.file],
      rows: data.tripwires.lines.map((l) => [{ text: t.dateTime(l.at) }, { text: l.account, kind: 'code' }, { text: `${l.action} (${l.scope})${l.system ? ` ${l.system}` : ''}` }, { text: l.canaryId, kind: 'code' }, { text: `${l.file}:${l.line}` }]),
    },
    ledger: {
      headers: [c.check, c.result],
      rows: ledgerRows(data, a),
    },
  };
}

function ledgerRows(data: AuditReportData, a: AuditStrings): Table['rows'] {
  const l = data.ledger;
  const k = a.ledgerChecks;
  return [
    [{ text: k.chain }, { text: a.ledgerChain(l.intact, l.entries, l.break), kind: l.intact ? undefined : 'bad' }],
    [{ text: k.head }, l.head ? { text: `#${l.head.seq} ${isoShort(l.head.at)} ${l.head.hash}`, kind: 'hash' } : { text: a.ledgerEmpty }],
    [{ text: k.evidence }, { text: a.ledgerEvidence(l.evidenceChecked, l.problems), kind: l.problems ? 'bad' : undefined }],
    [{ text: k.unsealed }, { text: String(l.unsealedContacts) }],
    [{ text: k.predate }, { text: String(l.predateLedger) }],
    [{ text: k.reports }, { text: String(l.reportsInPeriod) }],
  ];
}

// ---------------------------------------------------------------- Markdown

function mdTableOf(table: Table): string[] {
  return mdTable(
    table.headers,
    table.rows.map((r) => r.map((cell) => (cell.kind === 'code' || cell.kind === 'hash' ? code(cell.text) : cell.kind === 'bad' ? `**${md(cell.text)}**` : md(cell.text)))),
  );
}

/** Markdown of a sentence that may hold `code spans`. */
const mdRich = (text: string) =>
  text
    .split(/(`[^`]+`)/)
    .map((part, i) => (i % 2 === 1 ? part : md(part)))
    .join('');

export function renderAuditMarkdown(data: AuditReportData, lang: ReportLang): string {
  const t = strings(lang);
  const a = auditStrings(lang);
  const tb = tables(data, lang);
  const s = a.sections;
  const out: string[] = [];
  out.push(`# ${md(a.title(data.hospital.displayName))}`, '', md(a.subtitle), '');
  out.push(
    `- **${md(a.meta.hospital)}:** ${md(data.hospital.displayName)} (${code(data.hospital.name)})`,
    `- **${md(a.meta.period)}:** ${md(`${data.period.from} – ${data.period.to}`)}`,
    `- **${md(a.meta.timeZone)}:** ${md(data.hospital.timeZone)}`,
    `- **${md(a.meta.generated)}:** ${md(t.dateTime(data.generatedAt))}${data.generatedBy ? `, ${md(a.meta.by)} ${md(data.generatedBy)}` : ''}`,
    ...(data.command ? [`- **${md(a.meta.command)}:** ${code(data.command)}`] : []),
    ...(data.tool ? [`- **${md(a.meta.tool)}:** ${md(data.tool)}`] : []),
    `- ${md(a.meta.times)}`,
    '',
  );
  out.push(`## 1. ${md(s.summary)}`, '', md(auditSummaryText(data, lang)), '');

  out.push(`## 2. ${md(s.rotations)}`, '');
  out.push(md(data.rotations.plan ? a.plan(planText(data.rotations.plan)) : a.noPlan), '');
  if (data.rotations.weeks.length) out.push(md(a.rotationTally(data.rotations.done, data.rotations.missed, data.rotations.partial, data.rotations.due)), '', ...mdTableOf(tb.weeks));
  else out.push(md(a.noWeeks), '');

  out.push(`## 3. ${md(s.canaries)}`, '', `### ${md(a.byWard)}`, '', ...mdTableOf(tb.wards), `### ${md(a.byRecipient)}`, '');
  out.push(...(data.canaries.byRecipient.length ? mdTableOf(tb.recipients) : [md(a.noRecipients), '']));

  const p = data.pool;
  out.push(`## 4. ${md(s.pool)}`, '');
  if (p.low && p.weeksLeft !== null) out.push(`> **${md(a.poolLow(p.weeksLeft, p.nextWeeks))}**`, '');
  out.push(md(a.poolSupply(p.supply, p.perWeek, p.weeksLeft, p.needed, p.nextWeeks, p.numbersPerCanary)), '', `### ${md(a.poolCounts)}`, '', ...mdTableOf(tb.states));
  out.push(`### ${md(a.noise)}`, '');
  if (p.noisy) out.push(md(a.noiseSummary(p.noisy, p.noiseContacts, p.noiseDays)), '', ...mdTableOf(tb.noise));
  else out.push(md(a.noNoise), '');

  out.push(`## 5. ${md(s.incidents)}`, '', md(a.incidentTally(data.hits.inPeriod, data.hits.open, data.hits.closed)), '');
  out.push(...(data.hits.incidents.length ? mdTableOf(tb.incidents) : [md(a.noIncidents), '']));

  out.push(`## 6. ${md(s.tripwires)}`, '');
  if (data.tripwires.total) out.push(`### ${md(a.tripwireAccounts)}`, '', ...mdTableOf(tb.accounts), `### ${md(a.tripwireLines(data.tripwires.lines.length, data.tripwires.total))}`, '', ...mdTableOf(tb.lines));
  else out.push(md(a.noTripwires), '');

  out.push(`## 7. ${md(s.ledger)}`, '', `**${md(a.ledgerVerdict(data.ledger.ok))}**`, '', ...mdTableOf(tb.ledger), mdRich(a.ledgerNote), '');
  out.push('---', '', md(a.footer), '');
  return out.join('\n');
}

// ---------------------------------------------------------------- HTML

function htmlTableOf(table: Table, cls: string): string {
  return htmlTable(
    table.headers,
    table.rows.map((r) => r.map((cell) => (cell.kind === 'code' ? mono(cell.text) : cell.kind === 'hash' ? hash(cell.text) : cell.kind === 'bad' ? `<span class="bad">${h(cell.text)}</span>` : h(cell.text)))),
    cls,
  );
}

const htmlRich = (text: string) =>
  text
    .split(/(`[^`]+`)/)
    .map((part, i) => (i % 2 === 1 ? `<code>${h(part.slice(1, -1))}</code>` : h(part)))
    .join('');

const AUDIT_CSS = `
.verdict { padding: 10px 14px; border-radius: 4px; font-weight: 600; }
.verdict.ok { background: #e8f5e9; border-left: 4px solid #2e7d32; color: #1b5e20; }
.verdict.fail { background: #ffebee; border-left: 4px solid #c62828; color: #b71c1c; }
.warning { padding: 10px 14px; background: #fff3e0; border-left: 4px solid #ef6c00; color: #bf360c; font-weight: 600; }
`;

export function renderAuditHtml(data: AuditReportData, lang: ReportLang): string {
  const t = strings(lang);
  const a = auditStrings(lang);
  const tb = tables(data, lang);
  const s = a.sections;
  const parts: string[] = [];
  const section = (n: number, title: string, body: string, id: string) => parts.push(`<section id="${id}"><h2>${n}. ${h(title)}</h2>${body}</section>`);

  parts.push(
    `<header class="report"><h1>${h(a.title(data.hospital.displayName))}</h1><p class="lead">${h(a.subtitle)}</p><dl class="meta">`,
    `<dt>${h(a.meta.hospital)}</dt><dd>${h(data.hospital.displayName)} ${mono(data.hospital.name)}</dd>`,
    `<dt>${h(a.meta.period)}</dt><dd>${h(`${data.period.from} – ${data.period.to}`)}</dd>`,
    `<dt>${h(a.meta.timeZone)}</dt><dd>${h(data.hospital.timeZone)}</dd>`,
    `<dt>${h(a.meta.generated)}</dt><dd>${h(t.dateTime(data.generatedAt))} UTC${data.generatedBy ? `, ${h(a.meta.by)} ${h(data.generatedBy)}` : ''}</dd>`,
    data.command ? `<dt>${h(a.meta.command)}</dt><dd>${mono(data.command)}</dd>` : '',
    data.tool ? `<dt>${h(a.meta.tool)}</dt><dd>${h(data.tool)}</dd>` : '',
    `</dl><div class="masking">${h(a.meta.times)}</div></header>`,
  );

  section(1, s.summary, `<p class="summary">${h(auditSummaryText(data, lang))}</p>`, 'summary');

  const r = data.rotations;
  let rotations = `<p>${h(r.plan ? a.plan(planText(r.plan)) : a.noPlan)}</p>`;
  rotations += r.weeks.length ? `<p>${h(a.rotationTally(r.done, r.missed, r.partial, r.due))}</p>${htmlTableOf(tb.weeks, 'weeks')}` : `<p>${h(a.noWeeks)}</p>`;
  section(2, s.rotations, rotations, 'rotations');

  section(
    3,
    s.canaries,
    `<h3>${h(a.byWard)}</h3>${htmlTableOf(tb.wards, 'wards')}<h3>${h(a.byRecipient)}</h3>${data.canaries.byRecipient.length ? htmlTableOf(tb.recipients, 'recipients') : `<p>${h(a.noRecipients)}</p>`}`,
    'canaries',
  );

  const p = data.pool;
  let pool = p.low && p.weeksLeft !== null ? `<p class="warning">${h(a.poolLow(p.weeksLeft, p.nextWeeks))}</p>` : '';
  pool += `<p>${h(a.poolSupply(p.supply, p.perWeek, p.weeksLeft, p.needed, p.nextWeeks, p.numbersPerCanary))}</p>`;
  pool += `<h3>${h(a.poolCounts)}</h3>${htmlTableOf(tb.states, 'states')}`;
  pool += `<h3>${h(a.noise)}</h3>${p.noisy ? `<p>${h(a.noiseSummary(p.noisy, p.noiseContacts, p.noiseDays))}</p>${htmlTableOf(tb.noise, 'noise')}` : `<p>${h(a.noNoise)}</p>`}`;
  section(4, s.pool, pool, 'pool');

  section(5, s.incidents, `<p>${h(a.incidentTally(data.hits.inPeriod, data.hits.open, data.hits.closed))}</p>${data.hits.incidents.length ? htmlTableOf(tb.incidents, 'incidents') : `<p>${h(a.noIncidents)}</p>`}`, 'incidents');

  section(
    6,
    s.tripwires,
    data.tripwires.total
      ? `<h3>${h(a.tripwireAccounts)}</h3>${htmlTableOf(tb.accounts, 'accounts')}<h3>${h(a.tripwireLines(data.tripwires.lines.length, data.tripwires.total))}</h3>${htmlTableOf(tb.lines, 'tripwires')}`
      : `<p>${h(a.noTripwires)}</p>`,
    'tripwires',
  );

  section(7, s.ledger, `<p class="verdict ${data.ledger.ok ? 'ok' : 'fail'}">${h(a.ledgerVerdict(data.ledger.ok))}</p>${htmlTableOf(tb.ledger, 'ledger')}<p class="note">${htmlRich(a.ledgerNote)}</p>`, 'ledger');

  return htmlPage({ lang, title: a.title(data.hospital.displayName), generator: data.tool ?? 'cradle', body: parts.join('\n'), footer: a.footer, css: AUDIT_CSS });
}
