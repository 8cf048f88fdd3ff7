import type { Block, Doc, Run, Text } from './document.js';

// A report document as one self-contained HTML page: inline CSS and SVG, print styles for A4, no
// scripts, nothing fetched. pdf.ts prints it with Chromium.

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const h = (text: string | number): string => escapeXml(String(text));

function run(r: Run): string {
  if (typeof r === 'string') return h(r);
  if ('code' in r) return `<code>${h(r.code)}</code>`;
  if ('bad' in r) return `<span class="bad">${h(r.bad)}</span>`;
  if (r.form === 'short') return `<code class="short" title="${h(r.hash)}">${h(r.hash.slice(0, 16))}…</code>`;
  return `<code class="${r.form === 'anchor' ? 'head-hash' : 'hash'}">${h(r.hash)}</code>`;
}

const line = (text: Text) => text.map(run).join('');
const cls = (style: string | undefined) => (style ? ` class="${style}"` : '');
const TONE_CLASS = { lead: 'lead', summary: 'summary', note: 'note', warning: 'warning', ok: 'verdict ok', fail: 'verdict fail' } as const;

function block(b: Block): string {
  switch (b.kind) {
    case 'paragraph':
      return `<p${cls(b.tone && TONE_CLASS[b.tone])}>${line(b.text)}</p>`;
    case 'heading':
      return `<h${b.level}>${h(b.text)}</h${b.level}>`;
    case 'fields':
      return `<dl class="meta">${b.fields.map((f) => `<dt>${h(f.label)}</dt><dd>${line(f.value)}</dd>`).join('')}</dl>`;
    case 'list': {
      const tag = b.ordered ? 'ol' : 'ul';
      return `<${tag}${cls(b.style)}>${b.items.map((item) => `<li>${line(item)}</li>`).join('')}</${tag}>`;
    }
    case 'table':
      return `<table${cls(b.style)}><thead><tr>${b.headers.map((x) => `<th>${h(x)}</th>`).join('')}</tr></thead><tbody>${b.rows.map((r) => `<tr>${r.map((cell) => `<td>${line(cell)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
    case 'figure': {
      const legend = b.legend.map((l) => `<span><b style="color:${l.color}">${l.symbol}</b> ${h(l.label)}</span>`).join('');
      return `<figure>${b.svg}<figcaption>${h(b.caption)}</figcaption><div class="legend">${legend}</div></figure>`;
    }
    case 'card': {
      const width = Math.max(0.5, Math.min(100, b.share * 100)).toFixed(1);
      return `<div class="${b.style}" data-kind="${h(b.tag)}"><h3>${h(b.title)}</h3><div class="bar"><i style="width:${width}%"></i></div>${b.blocks.map(block).join('')}</div>`;
    }
  }
}

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
h4 { font-size: 13px; margin: 12px 0 6px; color: #243b53; }
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
.verdict { padding: 10px 14px; border-radius: 4px; font-weight: 600; }
.verdict.ok { background: #e8f5e9; border-left: 4px solid #2e7d32; color: #1b5e20; }
.verdict.fail { background: #ffebee; border-left: 4px solid #c62828; color: #b71c1c; }
.warning { padding: 10px 14px; background: #fff3e0; border-left: 4px solid #ef6c00; color: #bf360c; font-weight: 600; }
ol.actions li { margin: 4px 0; }
footer { margin-top: 28px; padding-top: 8px; border-top: 1px solid #cfd8dc; font-size: 11px; color: #7b8794; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  html { background: #fff; font-size: 11px; }
  main { max-width: none; margin: 0; padding: 0; box-shadow: none; }
  h1 { font-size: 20px; }
  h2 { font-size: 14px; margin-top: 18px; break-after: avoid; }
  h3 { font-size: 12px; }
  h4 { font-size: 11px; }
  .summary { font-size: 12px; }
  tr, figure, .summary { break-inside: avoid; }
  table { font-size: 9.5px; }
  code.hash { font-size: 8.5px; }
}
`;

export function toHtml(doc: Doc): string {
  const header = `<header class="report"><h1>${h(doc.title)}</h1><p class="lead">${h(doc.lead)}</p>${block({ kind: 'fields', fields: doc.fields })}<div class="masking${doc.notice.alert ? ' unmasked' : ''}">${h(doc.notice.text)}</div></header>`;
  const sections = doc.sections.map((s, i) => `<section id="${s.id}"><h2>${i + 1}. ${h(s.title)}</h2>${s.blocks.map(block).join('')}</section>`);
  return `<!DOCTYPE html>
<html lang="${doc.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${h(doc.generator)}">
<title>${h(doc.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${[header, ...sections].join('\n')}
<footer>${h(doc.footer)}</footer>
</main>
</body>
</html>
`;
}
