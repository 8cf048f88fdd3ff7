import type { IncidentReportData, ReportLang, ReportSuspect } from './data.js';
import { strings, type ActionCode, type Strings, type SummaryFacts } from './i18n.js';
import { escapeXml, renderTimeline } from './timeline.js';

// The incident report as Markdown or as one self-contained HTML page (inline CSS and SVG, print
// styles for A4, no scripts, nothing fetched): pure functions of the report data. The PDF is the HTML
// printed by Chromium (pdf.ts); JSON is the data itself.

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
  return {
    source: data.incident.source,
    canaries: data.canaries.length,
    weeks: data.weeks,
    hospitals: data.hospitals,
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
  return strings(lang).summary(summaryFacts(data));
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
  const t = strings(lang);
  const events: TimelineEvent[] = [];
  const count = <K>(items: K[], key: (k: K) => string) => {
    const m = new Map<string, number>();
    for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
    return m;
  };
  for (const [at, n] of count(data.canaries, (c) => c.plantedAt)) events.push({ at, text: t.marks.planted(n, '').trim() });
  const labels = new Map(data.suspects.map((s) => [s.key, s.label]));
  for (const [k, n] of count(data.exposures.filter((e) => labels.has(e.key)), (e) => `${e.at}|${e.key}`)) {
    const [at, key] = k.split('|');
    events.push({ at, text: t.marks.exposure(n, labels.get(key)!, '').trim() });
  }
  if (data.scan) events.push({ at: data.scan.seizedAt, text: t.marks.seizure('').trim() });
  for (const [at, n] of count(data.hits, (h) => h.occurredAt)) events.push({ at, text: t.marks.contact(n, '').trim() });
  return events.sort((a, b) => a.at.localeCompare(b.at) || a.text.localeCompare(b.text));
}

export const isoShort = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/(:\d\d)\.\d{3}Z$/, '$1Z') : '');

function windowText(t: Strings, s: ReportSuspect): string {
  return s.window ? `${t.dateTime(s.window.from)} – ${t.dateTime(s.window.to)}` : '';
}

function canaryName(data: IncidentReportData, id: string): string {
  const c = data.canaries.find((x) => x.id === id);
  return c ? `${id} (${c.motherName})` : id;
}

// ---------------------------------------------------------------- Markdown

export function md(text: string | number | null | undefined): string {
  if (text === null || text === undefined) return '';
  return String(text).replace(/\r?\n/g, ' ').replace(/([\\`*_[\]<>|#])/g, '\\$1');
}

/** Markdown of a sentence that may hold `code spans`: escaped outside them, kept inside. */
function mdRich(text: string): string {
  return text
    .split(/(`[^`]+`)/)
    .map((part, i) => (i % 2 === 1 ? part : md(part)))
    .join('');
}

export function code(text: string | null | undefined): string {
  return text ? `\`${text.replace(/`/g, "'")}\`` : '';
}

export function mdTable(headers: string[], rows: string[][]): string[] {
  return [`| ${headers.map(md).join(' | ')} |`, `|${headers.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`), ''];
}

export function renderMarkdown(data: IncidentReportData, lang: ReportLang): string {
  const t = strings(lang);
  const c = t.cols;
  const total = data.canaries.length;
  const out: string[] = [];
  out.push(`# ${md(t.title(data.incident.id))}`, '', md(t.subtitle), '');
  out.push(
    `- **${md(t.meta.incident)}:** ${code(data.incident.id)}: ${md(data.incident.title)}`,
    `- **${md(t.meta.source)}:** ${md(t.sourceName(data.incident.source))}`,
    `- **${md(t.meta.status)}:** ${md(t.status(data.incident.status))}`,
    ...(data.hospitals.length ? [`- **${md(t.meta.hospital)}:** ${md(data.hospitals.join(', '))}`] : []),
    `- **${md(t.meta.generated)}:** ${md(t.dateTime(data.generatedAt))}${data.generatedBy ? `, ${md(t.meta.by)} ${md(data.generatedBy)}` : ''}`,
    `- ${md(t.meta.times)} ${md(data.unmasked ? t.unmasked : t.masked)}`,
    '',
  );

  out.push(`## 1. ${md(t.sections.summary)}`, '', md(summaryText(data, lang)), '');

  out.push(`## 2. ${md(t.sections.timeline)}`, '', md(t.timelineCaption), '');
  out.push(...mdTable([c.when, t.timelineText], timelineEvents(data, lang).map((e) => [md(t.dateTime(e.at)), md(e.text)])));
  const top = data.suspects.find((s) => s.kind !== 'unknown' && s.window);
  if (top) out.push(`${md(t.marks.window(top.label, t.dateTime(top.window!.from), t.dateTime(top.window!.to)))}`, '');

  out.push(`## 3. ${md(t.sections.evidence)}`, '');
  if (data.incident.source === 'hits') {
    out.push(`### ${md(t.contacts)}`, '');
    if (data.hits.length) {
      out.push(
        ...mdTable(
          [c.when, c.kind, c.from, c.to, c.canary, c.confidence, c.why, t.message, c.contact, c.sha256],
          data.hits.map((h) => [
            md(t.dateTime(h.occurredAt)),
            md(h.kind),
            code(h.from),
            code(h.to),
            md(canaryName(data, h.canaryId)),
            md(t.pct(h.confidence)),
            md(h.reasons.map((r) => r.reason).join('; ')),
            md(excerpt(h.body)),
            md(`#${h.eventId} ${h.source}${h.providerId ? ` ${h.providerId}` : ''}`),
            code(h.sha256),
          ]),
        ),
      );
    } else out.push(md(t.noHits), '');
  }
  if (data.scan) {
    out.push(`### ${md(t.scanFiles)}`, '');
    out.push(...mdTable([c.file, c.format, c.records, c.bytes, c.sha256], data.scan.files.map((f) => [md(f.file), md(`${f.format} (${f.encoding})`), md(t.num(f.records)), md(t.num(f.bytes)), code(f.sha256)])));
    out.push(`### ${md(t.scanMatches)}`, '');
    out.push(...mdTable([c.canary, c.file, c.place, c.column, c.matched, c.confidence, c.why], data.scan.matches.map((m) => [md(canaryName(data, m.canaryId)), md(m.file), md(m.place), md(m.column), code(m.matched), md(t.pct(m.confidence)), md(`${m.kinds.join(', ')}: ${m.reason}`)])));
  }

  out.push(`## 4. ${md(t.sections.canaries)}`, '');
  out.push(
    ...mdTable(
      [c.id, c.mother, c.phone, c.father, c.ward, c.week, c.planted, c.firstEvidence, c.evidence],
      data.canaries.map((x) => [code(x.id), md(x.motherName), code(x.motherPhone ?? x.email), md(x.fatherName ? `${x.fatherName}${x.fatherPhone ? ` ${x.fatherPhone}` : ''}` : ''), md(x.ward), md(x.isoWeek), md(t.dateTime(x.plantedAt)), md(t.dateTime(x.leakedBy)), md(x.evidence)]),
    ),
  );

  out.push(`## 5. ${md(t.sections.suspects)}`, '');
  if (data.suspects.length) {
    out.push(...mdTable([c.rank, c.suspect, c.kind, c.probability, c.explains, c.window], data.suspects.map((s) => [md(s.rank), md(s.label), md(t.suspectKind(s.kind)), md(t.pct(s.posterior)), md(`${s.explains.length}/${total}`), md(windowText(t, s))])));
    for (const s of data.suspects.slice(0, DETAILED)) {
      out.push(`### ${s.rank}. ${md(s.label)} (${md(t.pct(s.posterior))})`, '', md(t.describe(s)), '');
      for (const r of s.reasons) out.push(`- ${md(t.reason(r))}`);
      out.push('');
      if (s.logLines.length) {
        out.push(`**${md(t.logLines)}**`, '');
        out.push(...mdTable([c.when, c.action, c.canary, c.file], s.logLines.slice(0, LOG_LINES).map((l) => [md(t.dateTime(l.at)), md(`${l.action} (${l.scope})${l.system ? ` ${l.system}` : ''}${l.ip ? ` ${l.ip}` : ''}`), code(l.canary), md(`${l.file}:${l.line}`)])));
      }
    }
  } else out.push(md(t.noSuspects), '');

  out.push(`## 6. ${md(t.sections.assumptions)}`, '');
  for (const a of t.assumptions(data.model, data.vaultSize, data.candidates)) out.push(`- ${md(a)}`);
  out.push('');

  out.push(`## 7. ${md(t.sections.custody)}`, '');
  out.push(`- **${md(t.meta.generated)}:** ${md(isoShort(data.generatedAt))}${data.generatedBy ? `, ${md(t.meta.by)} ${md(data.generatedBy)}` : ''}`);
  if (data.command) out.push(`- **${md(t.meta.command)}:** ${code(data.command)}`);
  if (data.tool) out.push(`- **${md(t.meta.tool)}:** ${md(data.tool)}`);
  out.push('', `### ${md(t.custodyFiles)}`, '');
  if (data.custody.files.length) out.push(...mdTable([c.role, c.file, c.sha256, c.bytes, c.when, c.ref], data.custody.files.map((f) => [md(t.fileRole(f.role)), md(f.name), code(f.sha256), md(f.bytes === null ? '' : t.num(f.bytes)), md(isoShort(f.at)), code(f.ref)])));
  else out.push(md(t.noFiles), '');
  out.push(mdRich(t.verifyNote), '');
  out.push(`### ${md(t.ledgerEntries)}`, '');
  const head = data.custody.ledger.head;
  if (head) out.push(`${md(t.ledgerHead(head.seq, isoShort(head.at)))} ${code(head.hash)}`, '', mdRich(t.ledgerHeadNote), '');
  else out.push(md(t.ledgerEmpty), '');
  if (data.custody.ledger.entries.length) {
    out.push(...mdTable([c.seq, c.when, c.ledgerKind, c.ref, c.actor, c.hash, c.verified], data.custody.ledger.entries.map((e) => [md(e.seq), md(isoShort(e.at)), md(e.kind), code(e.ref), md(e.actor), code(e.hash), md(e.verified ? t.yes : t.no)])));
  } else out.push(md(t.noLedger), '');

  out.push(`## 8. ${md(t.sections.actions)}`, '');
  recommendedActions(data).forEach((a, i) => out.push(`${i + 1}. ${md(t.action(a.code, a.suspect))}`));
  out.push('', '---', '', md(t.footer(!data.unmasked)), '');
  return out.join('\n');
}

// ---------------------------------------------------------------- HTML

export const h = (text: string | number | null | undefined): string => (text === null || text === undefined ? '' : escapeXml(String(text)));

export function htmlTable(headers: string[], rows: string[][], cls = ''): string {
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${headers.map((x) => `<th>${h(x)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** HTML of a sentence that may hold `code spans`. */
const htmlRich = (text: string): string =>
  text
    .split(/(`[^`]+`)/)
    .map((part, i) => (i % 2 === 1 ? `<code>${h(part.slice(1, -1))}</code>` : h(part)))
    .join('');
/** The start of a hash, the whole of it in the tooltip (and in the chain of custody). */
const shortHash = (x: string) => `<code class="short" title="${h(x)}">${h(x.slice(0, 16))}…</code>`;
export const hash = (x: string | null | undefined) => (x ? `<code class="hash">${h(x)}</code>` : '');
export const mono = (x: string | null | undefined) => (x ? `<code>${h(x)}</code>` : '');

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
html { font-family: 'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Micro Hei', system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', Arial, sans-serif; font-size: 14px; line-height: 1.5; color: #1f2933; background: #eef1f4; }
body { margin: 0; }
main { max-width: 1040px; margin: 24px auto; padding: 32px 40px 40px; background: #fff; box-shadow: 0 1px 4px rgba(0,0,0,.12); }
header.report { border-bottom: 3px solid #263238; padding-bottom: 12px; margin-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 6px; color: #102a43; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #cfd8dc; color: #102a43; }
h3 { font-size: 15px; margin: 18px 0 8px; color: #243b53; }
p.lead { margin: 0 0 10px; color: #486581; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 10px 0 0; font-size: 13px; }
dl.meta dt { font-weight: 600; color: #486581; }
dl.meta dd { margin: 0; }
.note { font-size: 12px; color: #52606d; }
.masking { display: inline-block; margin-top: 8px; padding: 4px 8px; border-radius: 4px; background: #e3f2fd; font-size: 12px; }
.masking.unmasked { background: #ffebee; color: #b71c1c; font-weight: 600; }
.summary { font-size: 15px; padding: 12px 16px; background: #fffde7; border-left: 4px solid #f9a825; overflow-wrap: anywhere; }
figure { margin: 0; }
figure svg { display: block; width: 100%; height: auto; border: 1px solid #e4e7eb; }
figcaption { font-size: 12px; color: #52606d; margin-top: 6px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 12px; margin-top: 4px; color: #334e68; }
.legend span b { font-weight: normal; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; font-size: 12px; }
th, td { border: 1px solid #d9e2ec; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f0f4f8; font-weight: 600; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafbfc; }
code { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 11px; }
code.hash { word-break: break-all; font-size: 10.5px; }
td.p, th.p { text-align: right; }
.suspect { border: 1px solid #d9e2ec; border-radius: 6px; padding: 10px 14px; margin: 10px 0; break-inside: avoid; }
.suspect h3 { margin-top: 0; }
.suspect .bar { height: 6px; background: #e4e7eb; border-radius: 3px; margin: 4px 0 8px; }
.suspect .bar i { display: block; height: 100%; background: #d64545; border-radius: 3px; }
.suspect ul { margin: 6px 0; padding-left: 20px; }
.head-hash { display: block; padding: 8px 10px; background: #263238; color: #fff; border-radius: 4px; font-size: 13px; word-break: break-all; }
.bad { color: #b71c1c; font-weight: 700; }
ol.actions li { margin: 4px 0; }
footer { margin-top: 28px; padding-top: 8px; border-top: 1px solid #cfd8dc; font-size: 11px; color: #7b8794; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  html { background: #fff; font-size: 11px; }
  main { max-width: none; margin: 0; padding: 0; box-shadow: none; }
  h1 { font-size: 20px; }
  h2 { font-size: 14px; margin-top: 18px; break-after: avoid; }
  h3 { font-size: 12px; }
  .summary { font-size: 12px; }
  tr, figure, .summary { break-inside: avoid; }
  table { font-size: 9.5px; }
  code.hash { font-size: 8.5px; }
}
`;

export function renderHtml(data: IncidentReportData, lang: ReportLang): string {
  const t = strings(lang);
  const c = t.cols;
  const total = data.canaries.length;
  const parts: string[] = [];
  const section = (n: number, title: string, body: string, id: string) => parts.push(`<section id="${id}"><h2>${n}. ${h(title)}</h2>${body}</section>`);

  parts.push(
    `<header class="report"><h1>${h(t.title(data.incident.id))}</h1><p class="lead">${h(t.subtitle)}</p><dl class="meta">`,
    `<dt>${h(t.meta.incident)}</dt><dd>${mono(data.incident.id)} ${h(data.incident.title)}</dd>`,
    `<dt>${h(t.meta.source)}</dt><dd>${h(t.sourceName(data.incident.source))}</dd>`,
    `<dt>${h(t.meta.status)}</dt><dd>${h(t.status(data.incident.status))}</dd>`,
    data.hospitals.length ? `<dt>${h(t.meta.hospital)}</dt><dd>${h(data.hospitals.join(', '))}</dd>` : '',
    `<dt>${h(t.meta.generated)}</dt><dd>${h(t.dateTime(data.generatedAt))} UTC${data.generatedBy ? `, ${h(t.meta.by)} ${h(data.generatedBy)}` : ''}</dd>`,
    `</dl><div class="masking${data.unmasked ? ' unmasked' : ''}">${h(data.unmasked ? t.unmasked : t.masked)} ${h(t.meta.times)}</div></header>`,
  );

  section(1, t.sections.summary, `<p class="summary">${h(summaryText(data, lang))}</p>`, 'summary');

  const legend = [
    ['#2e7d32', '●', t.lanes.planted],
    ['#1565c0', '◆', t.sections.suspects],
    ['#c62828', data.incident.source === 'scan' ? '■' : '▲', data.incident.source === 'scan' ? t.lanes.seizure : t.lanes.contacts],
    ['#ff8f00', '▥', t.lanes.window(data.suspects.find((s) => s.kind !== 'unknown' && s.window)?.label ?? '')],
  ]
    .map(([color, sym, label]) => `<span><b style="color:${color}">${sym}</b> ${h(label)}</span>`)
    .join('');
  section(2, t.sections.timeline, `<figure>${renderTimeline(data, lang)}<figcaption>${h(t.timelineCaption)}</figcaption><div class="legend">${legend}</div></figure>`, 'timeline');

  let evidence = '';
  if (data.incident.source === 'hits') {
    evidence += `<h3>${h(t.contacts)}</h3>`;
    evidence += data.hits.length
      ? htmlTable(
          [c.when, c.kind, c.from, c.to, c.canary, c.confidence, c.why, t.message, c.contact, c.sha256],
          data.hits.map((x) => [
            h(t.dateTime(x.occurredAt)),
            h(x.kind),
            mono(x.from),
            mono(x.to),
            h(canaryName(data, x.canaryId)),
            h(t.pct(x.confidence)),
            h(x.reasons.map((r) => r.reason).join('; ')),
            h(excerpt(x.body)),
            h(`#${x.eventId} ${x.source}${x.providerId ? ` ${x.providerId}` : ''}`),
            shortHash(x.sha256),
          ]),
          'hits',
        )
      : `<p>${h(t.noHits)}</p>`;
  }
  if (data.scan) {
    evidence += `<h3>${h(t.scanFiles)}</h3>${htmlTable([c.file, c.format, c.records, c.bytes, c.sha256], data.scan.files.map((f) => [h(f.file), h(`${f.format} (${f.encoding})`), h(t.num(f.records)), h(t.num(f.bytes)), hash(f.sha256)]))}`;
    evidence += `<h3>${h(t.scanMatches)}</h3>${htmlTable([c.canary, c.file, c.place, c.column, c.matched, c.confidence, c.why], data.scan.matches.map((m) => [h(canaryName(data, m.canaryId)), h(m.file), h(m.place), h(m.column), mono(m.matched), h(t.pct(m.confidence)), h(`${m.kinds.join(', ')}: ${m.reason}`)]), 'matches')}`;
  }
  section(3, t.sections.evidence, evidence, 'evidence');

  section(
    4,
    t.sections.canaries,
    htmlTable(
      [c.id, c.mother, c.phone, c.father, c.ward, c.week, c.planted, c.firstEvidence, c.evidence],
      data.canaries.map((x) => [mono(x.id), h(x.motherName), mono(x.motherPhone ?? x.email), h(x.fatherName ? `${x.fatherName}${x.fatherPhone ? ` ${x.fatherPhone}` : ''}` : ''), h(x.ward), h(x.isoWeek), h(t.dateTime(x.plantedAt)), h(t.dateTime(x.leakedBy)), h(x.evidence)]),
      'canaries',
    ),
    'canaries',
  );

  let suspects = '';
  if (data.suspects.length) {
    suspects += htmlTable(
      [c.rank, c.suspect, c.kind, c.probability, c.explains, c.window],
      data.suspects.map((s) => [h(s.rank), h(s.label), h(t.suspectKind(s.kind)), h(t.pct(s.posterior)), h(`${s.explains.length}/${total}`), h(windowText(t, s))]),
      'suspects',
    );
    for (const s of data.suspects.slice(0, DETAILED)) {
      suspects += `<div class="suspect" data-kind="${h(s.kind)}"><h3>${s.rank}. ${h(s.label)} · ${h(t.pct(s.posterior))}</h3><div class="bar"><i style="width:${Math.max(0.5, Math.min(100, s.posterior * 100)).toFixed(1)}%"></i></div><p>${h(t.describe(s))}</p><ul>${s.reasons.map((r) => `<li>${h(t.reason(r))}</li>`).join('')}</ul>`;
      if (s.logLines.length) {
        suspects += `<h3>${h(t.logLines)}</h3>${htmlTable([c.when, c.action, c.canary, c.file], s.logLines.slice(0, LOG_LINES).map((l) => [h(t.dateTime(l.at)), h(`${l.action} (${l.scope})${l.system ? ` ${l.system}` : ''}${l.ip ? ` ${l.ip}` : ''}`), mono(l.canary), h(`${l.file}:${l.line}`)]))}`;
      }
      suspects += '</div>';
    }
  } else suspects = `<p>${h(t.noSuspects)}</p>`;
  section(5, t.sections.suspects, suspects, 'suspects');

  section(6, t.sections.assumptions, `<ul class="assumptions">${t.assumptions(data.model, data.vaultSize, data.candidates).map((a) => `<li>${h(a)}</li>`).join('')}</ul>`, 'assumptions');

  let custody = `<dl class="meta"><dt>${h(t.meta.generated)}</dt><dd>${mono(isoShort(data.generatedAt))}${data.generatedBy ? ` ${h(t.meta.by)} ${h(data.generatedBy)}` : ''}</dd>`;
  if (data.command) custody += `<dt>${h(t.meta.command)}</dt><dd>${mono(data.command)}</dd>`;
  if (data.tool) custody += `<dt>${h(t.meta.tool)}</dt><dd>${h(data.tool)}</dd>`;
  custody += '</dl>';
  custody += `<h3>${h(t.custodyFiles)}</h3>`;
  custody += data.custody.files.length
    ? htmlTable([c.role, c.file, c.sha256, c.bytes, c.when, c.ref], data.custody.files.map((f) => [h(t.fileRole(f.role)), h(f.name), hash(f.sha256), h(f.bytes === null ? '' : t.num(f.bytes)), h(isoShort(f.at)), mono(f.ref)]), 'files')
    : `<p>${h(t.noFiles)}</p>`;
  custody += `<p class="note">${htmlRich(t.verifyNote)}</p>`;
  custody += `<h3>${h(t.ledgerEntries)}</h3>`;
  const head = data.custody.ledger.head;
  custody += head ? `<p>${h(t.ledgerHead(head.seq, isoShort(head.at)))}</p><code class="head-hash">${h(head.hash)}</code><p class="note">${htmlRich(t.ledgerHeadNote)}</p>` : `<p>${h(t.ledgerEmpty)}</p>`;
  custody += data.custody.ledger.entries.length
    ? htmlTable([c.seq, c.when, c.ledgerKind, c.ref, c.actor, c.hash, c.verified], data.custody.ledger.entries.map((e) => [h(e.seq), h(isoShort(e.at)), h(e.kind), mono(e.ref), h(e.actor), hash(e.hash), e.verified ? h(t.yes) : `<span class="bad">${h(t.no)}</span>`]), 'ledger')
    : `<p>${h(t.noLedger)}</p>`;
  section(7, t.sections.custody, custody, 'custody');

  section(8, t.sections.actions, `<ol class="actions">${recommendedActions(data).map((a) => `<li>${h(t.action(a.code, a.suspect))}</li>`).join('')}</ol>`, 'actions');

  return htmlPage({ lang, title: t.title(data.incident.id), generator: data.tool ?? 'cradle', body: parts.join('\n'), footer: t.footer(!data.unmasked) });
}

/**
 * The self-contained page every HTML report is (the incident report, the audit report): inline CSS,
 * no scripts, nothing fetched. `body` is HTML; title, generator and footer are text. `css` is added
 * after the shared styles.
 */
export function htmlPage(page: { lang: ReportLang; title: string; generator: string; body: string; footer: string; css?: string }): string {
  return `<!DOCTYPE html>
<html lang="${page.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${h(page.generator)}">
<title>${h(page.title)}</title>
<style>${CSS}${page.css ?? ''}</style>
</head>
<body>
<main>
${page.body}
<footer>${h(page.footer)}</footer>
</main>
</body>
</html>
`;
}
