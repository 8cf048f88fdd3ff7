import type { Block, Doc, Run, Text } from './document.js';

// A report document as Markdown (GitHub's, with tables): text escaped, code and hashes as code
// spans, charts as the words that stand for them.

/** Text escaped for Markdown, on one line. */
export function md(text: string | number | null | undefined): string {
  if (text === null || text === undefined) return '';
  return String(text).replace(/\r?\n/g, ' ').replace(/([\\`*_[\]<>|#])/g, '\\$1');
}

const codeSpan = (text: string) => `\`${text.replace(/`/g, "'")}\``;

function run(r: Run): string {
  if (typeof r === 'string') return md(r);
  if ('code' in r) return codeSpan(r.code);
  if ('hash' in r) return codeSpan(r.hash);
  return `**${md(r.bad)}**`;
}

const line = (text: Text) => text.map(run).join('');

function block(b: Block): string[] {
  switch (b.kind) {
    case 'paragraph':
      if (b.tone === 'warning') return [`> **${line(b.text)}**`, ''];
      if (b.tone === 'ok' || b.tone === 'fail') return [`**${line(b.text)}**`, ''];
      return [line(b.text), ''];
    case 'heading':
      return [`${'#'.repeat(b.level)} ${md(b.text)}`, ''];
    case 'fields':
      return [...b.fields.map((f) => `- **${md(f.label)}:** ${line(f.value)}`), ''];
    case 'list':
      return [...b.items.map((item, i) => `${b.ordered ? `${i + 1}.` : '-'} ${line(item)}`), ''];
    case 'table':
      return [`| ${b.headers.map(md).join(' | ')} |`, `|${b.headers.map(() => ' --- ').join('|')}|`, ...b.rows.map((r) => `| ${r.map(line).join(' | ')} |`), ''];
    case 'figure':
      return [md(b.caption), '', ...b.text.flatMap(block)];
    case 'card':
      return [`### ${md(b.title)}`, '', ...b.blocks.flatMap(block)];
  }
}

export function toMarkdown(doc: Doc): string {
  const out = [`# ${md(doc.title)}`, '', md(doc.lead), '', ...block({ kind: 'fields', fields: doc.fields }).slice(0, -1), `- ${md(doc.notice.text)}`, ''];
  doc.sections.forEach((s, i) => out.push(`## ${i + 1}. ${md(s.title)}`, '', ...s.blocks.flatMap(block)));
  out.push('---', '', md(doc.footer), '');
  return out.join('\n');
}
