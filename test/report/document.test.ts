import { describe, expect, it } from '@jest/globals';
import { rich, table, type Doc } from '../../src/report/document.js';
import { toHtml } from '../../src/report/html.js';
import { toMarkdown } from '../../src/report/markdown.js';

// The document model's two writers: each run and block as Markdown and as HTML, escaped for each.

const HASH = 'ab'.repeat(32);

function sample(): Doc {
  return {
    lang: 'en',
    title: 'Report <1> & *co*',
    lead: 'What | this is',
    fields: [{ label: 'Incident', value: [{ code: 'INC-1' }, ' title_with_underscores'] }],
    notice: { text: 'All times are UTC.', alert: true },
    sections: [
      {
        id: 'first',
        title: 'First',
        blocks: [
          { kind: 'paragraph', text: rich('Run `cradle verify` now'), tone: 'note' },
          { kind: 'paragraph', text: ['Pool low'], tone: 'warning' },
          table(['When', 'Hash', 'Check'], [[['a|b'], [{ hash: HASH, form: 'short' }], [{ bad: 'NO' }]]], 'ledger'),
          { kind: 'card', title: '1. export:x (97%)', share: 0.97, style: 'suspect', tag: 'export', blocks: [{ kind: 'heading', text: 'Lines', level: 4 }, { kind: 'list', items: [['one'], ['two']] }] },
        ],
      },
      { id: 'second', title: 'Second', blocks: [{ kind: 'list', ordered: true, items: [['do this'], ['then that']], style: 'actions' }, { kind: 'paragraph', text: ['Head: ', { hash: HASH, form: 'anchor' }] }] },
    ],
    footer: 'Made by Cradle.',
    generator: 'cradle test',
  };
}

describe('report documents', () => {
  it('splits text with `code spans` into runs', () => {
    expect(rich('Run `cradle verify` or `sha256sum <file>`.')).toEqual(['Run ', { code: 'cradle verify' }, ' or ', { code: 'sha256sum <file>' }, '.']);
    expect(rich('no code')).toEqual(['no code']);
  });

  it('writes Markdown: numbered sections, escaped text, code spans, bold for what failed, charts left to their words', () => {
    const md = toMarkdown(sample());
    expect(md.startsWith('# Report \\<1\\> & \\*co\\*\n\nWhat \\| this is\n\n- **Incident:** `INC-1` title\\_with\\_underscores\n- All times are UTC.\n\n## 1. First\n')).toBe(true);
    expect(md).toContain('Run `cradle verify` now\n\n> **Pool low**\n');
    expect(md).toContain(`| When | Hash | Check |\n| --- | --- | --- |\n| a\\|b | \`${HASH}\` | **NO** |\n`);
    expect(md).toContain('### 1. export:x (97%)\n\n#### Lines\n\n- one\n- two\n');
    expect(md).toContain('## 2. Second\n\n1. do this\n2. then that\n');
    expect(md).toContain(`Head: \`${HASH}\``);
    expect(md.endsWith('---\n\nMade by Cradle.\n')).toBe(true);
  });

  it('writes HTML: one page, sections with anchors, escaped text, hashes shortened or set apart', () => {
    const html = toHtml(sample());
    expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    expect(html).toContain('<meta name="generator" content="cradle test">');
    expect(html).toContain('<h1>Report &lt;1&gt; &amp; *co*</h1>');
    expect(html).toContain('<div class="masking unmasked">All times are UTC.</div>');
    expect(html).toContain('<section id="first"><h2>1. First</h2><p class="note">Run <code>cradle verify</code> now</p><p class="warning">Pool low</p>');
    expect(html).toContain(`<table class="ledger"><thead><tr><th>When</th><th>Hash</th><th>Check</th></tr></thead><tbody><tr><td>a|b</td><td><code class="short" title="${HASH}">${HASH.slice(0, 16)}…</code></td><td><span class="bad">NO</span></td></tr></tbody></table>`);
    expect(html).toContain('<div class="suspect" data-kind="export"><h3>1. export:x (97%)</h3><div class="bar"><i style="width:97.0%"></i></div><h4>Lines</h4><ul><li>one</li><li>two</li></ul></div>');
    expect(html).toContain('<ol class="actions"><li>do this</li><li>then that</li></ol>');
    expect(html).toContain(`<code class="head-hash">${HASH}</code>`);
    expect(html).toContain('<footer>Made by Cradle.</footer>');
  });
});
