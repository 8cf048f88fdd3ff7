import { describe, expect, it } from '@jest/globals';
import { maskCaller, maskText } from '../../src/report/load.js';
import { incidentDocument, recommendedActions, renderHtml, renderMarkdown, summaryText, timelineEvents } from '../../src/report/render.js';
import { isoWeekStart, renderTimeline } from '../../src/report/timeline.js';
import { sampleReport } from './fixture.js';

// The pure renderers: sections, masking, languages, and the timeline SVG.

/** Tags balanced, attributes quoted, no bare ampersand: enough to catch what would break an XML parser. */
function wellFormed(xml: string): void {
  expect(xml).not.toMatch(/&(?!(amp|lt|gt|quot|#39);)/);
  const stack: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (self) continue;
    if (close) expect(stack.pop()).toBe(name);
    else stack.push(name);
  }
  expect(stack).toEqual([]);
  // Every "<" opened a tag the pattern above understood.
  expect(xml.match(/</g)!.length).toBe([...xml.matchAll(/<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/g)].length);
}

describe('report rendering', () => {
  it('writes every section in Markdown, with the summary naming the export, its file hash and the probability', () => {
    const md = renderMarkdown(sampleReport(), 'en');
    for (const heading of ['Summary', 'Timeline', 'Evidence', 'Canary families involved', 'Suspected sources', 'How the source was traced: assumptions', 'History', 'Chain of custody', 'Recommended actions']) {
      expect(md).toMatch(new RegExp(`^## \\d\\. ${heading}$`, 'm'));
    }
    const summary = summaryText(sampleReport(), 'en');
    expect(summary).toMatch(/^Between 11 and 13 November 2026, 3 canary families planted in week 2026-W45 were contacted 3 times by 1 sender\./);
    expect(summary).toContain(`export EXP-4F7K2Q to photo-studio (operator n0412, file photo-studio.csv, sha256 ${'ab'.repeat(32)}), with probability 97.1% (very likely)`);
    expect(summary).toContain('between 4 and 11 November 2026');
    expect(md).toContain('`' + 'ee'.repeat(32) + '`'); // the ledger head, to anchor elsewhere
    expect(md).toContain('Contact photo-studio about export EXP-4F7K2Q');
  });

  it("shows canaries' numbers and the callers' as the data has them, masked, with the masking stated", () => {
    const data = sampleReport();
    for (const out of [renderMarkdown(data, 'en'), renderHtml(data, 'en')]) {
      for (const c of data.canaries) expect(out).toContain(c.motherPhone!);
      expect(out).toMatch(/\+1\\?\*\\?\*\\?\*\\?\*\\?\*\\?\*\\?\*0000/);
      expect(out).toContain('partly masked');
    }
    const unmasked = renderHtml(sampleReport({ unmasked: true, hits: data.hits.map((h) => ({ ...h, from: '+12025559000' })) }), 'en');
    expect(unmasked).toContain('+12025559000');
    expect(unmasked).toContain('shows callers’ numbers in full');
  });

  it('masks callers but not the canaries’ trap numbers', () => {
    expect(maskCaller('+8613311110000')).toBe('+*********0000');
    expect(maskCaller('95555')).toBe('*5555');
    expect(maskCaller('promo@studio.example')).toBe('p***@studio.example');
    expect(maskText('回电 13311110000，或 +8613900001111', ['+8613900001111'])).toBe('回电 *******0000，或 +8613900001111');
  });

  it('renders Simplified Chinese with lang="zh-CN" and Chinese dates', () => {
    const html = renderHtml(sampleReport(), 'zh-CN');
    expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="zh-CN">/);
    for (const s of ['事件报告 INC-7Q2KX9', '摘要', '时间线', '可疑来源', '证据保管链', '建议措施', '来源追踪方法：假设']) expect(html).toContain(s);
    const summary = summaryText(sampleReport(), 'zh-CN');
    expect(summary).toMatch(/^2026年11月11日至13日期间，于 2026-W45 周植入的 3 个金丝雀家庭被 1 个来源联系了 3 次。/);
    expect(summary).toContain('最可能的来源是发给 photo-studio 的导出 EXP-4F7K2Q');
    expect(summary).toContain('概率为 97.1%（可能性很高）');
    expect(renderMarkdown(sampleReport(), 'zh-CN')).toContain('## 9. 建议措施');
    expect(html).not.toContain('Recommended actions');
  });

  it('lists the history: who changed the incident, when and why, in both languages; says so when nobody has', () => {
    const md = renderMarkdown(sampleReport(), 'en');
    const history = md.slice(md.indexOf('## 7. History'), md.indexOf('## 8. Chain of custody'));
    expect(history).toContain('| 12 Nov 2026 03:00 | analyst | note | Called the photo studio; they deny having the list. |');
    expect(history).toContain('| analyst | hit 13 dismissed: left out of the trace | robocall to every number of the block |');
    expect(md).toContain('Hit 13 was dismissed by an investigator and is left out of this report and of the trace (see History).');
    const zh = renderMarkdown(sampleReport(), 'zh-CN');
    expect(zh).toContain('## 7. 处理记录');
    expect(zh).toContain('| analyst | 驳回命中 13：不计入来源追踪 | robocall to every number of the block |');
    expect(zh).toContain('命中 13 已被调查人员驳回');
    const merged = sampleReport({
      dismissedHits: [],
      incident: { ...sampleReport().incident, status: 'closed' },
      history: [
        { seq: 50, at: '2026-11-14T00:00:00.000Z', actor: 'li', action: 'merge', incident: 'INC-2B', hit: null, from: 'open', to: 'merged', reason: 'same studio', note: null, into: 'INC-7Q2KX9' },
        { seq: 51, at: '2026-11-15T00:00:00.000Z', actor: 'li', action: 'close', incident: 'INC-7Q2KX9', hit: null, from: 'open', to: 'closed', reason: 'reported to the police', note: null, into: null },
      ],
    });
    const closed = renderMarkdown(merged, 'en');
    expect(closed).toContain('| li | incident INC-2B merged into INC-7Q2KX9 | same studio |');
    expect(closed).toContain('| li | closed | reported to the police |');
    expect(closed).not.toContain('was dismissed by an investigator');
    expect(renderMarkdown(merged, 'zh-CN')).toContain('| li | 事件 INC-2B 合并到 INC-7Q2KX9 | same studio |');
    expect(renderMarkdown(sampleReport({ history: [] }), 'en')).toContain('Nobody has closed, dismissed, merged or annotated this incident');
    expect(renderMarkdown(sampleReport({ history: [] }), 'zh-CN')).toContain('尚无人关闭、驳回、合并或备注此事件');
  });

  it('makes a self-contained HTML page: no scripts, nothing fetched, print CSS for A4', () => {
    const html = renderHtml(sampleReport(), 'en');
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|\bhref=|@import|url\(/i);
    expect(html.replace('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//);
    expect(html).toContain('@page { size: A4;');
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg" class="timeline"');
  });

  it('draws the timeline as well-formed SVG with a mark per distinct time and lane, and the leak window', () => {
    const svg = renderTimeline(sampleReport(), 'en');
    wellFormed(svg);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*viewBox="0 0 960 \d+"/);
    // planted (3 at once), photo-studio (3 at once), his (3 at once), 3 contacts on 3 days.
    expect(svg.match(/<g class="mark /g)).toHaveLength(6);
    expect(svg.match(/class="mark mark-contact"/g)).toHaveLength(3);
    expect(svg.match(/data-count="3"/g)).toHaveLength(3);
    expect(svg.match(/<g class="window">/g)).toHaveLength(1);
    expect(svg).toContain('<title>leak window of export:photo-studio: after 4 Nov 2026 02:00, before 11 Nov 2026 01:30</title>');
    expect(svg).toContain('<title>3 canaries seen by export:photo-studio 4 Nov 2026 02:00</title>');
    expect(svg).toContain('week 2026-W45');
    expect(svg).not.toMatch(/<script|font-face|href=/);
    // Lanes: planted, two suspects with exposures (not the unknown source), contacts.
    expect(svg.match(/<rect class="lane"/g)).toHaveLength(4);
  });

  it('draws a scan incident with its seizure, and escapes what it is given', () => {
    const base = sampleReport();
    const data = sampleReport({
      incident: { ...base.incident, source: 'scan', title: 'scan of <dump> & co' },
      hits: [],
      scan: { seizedAt: '2026-11-15T09:00:00.000Z', files: [{ file: 'leak<1>.xlsx', sha256: 'cd'.repeat(32), bytes: 1000, format: 'xlsx', encoding: 'utf-8', records: 20 }], matches: [{ canaryId: base.canaries[0].id, file: 'leak<1>.xlsx', place: 'sheet 名单 row 4', column: '电话', kinds: ['phone', 'name'], matched: '+12025550111', confidence: 0.99, reason: 'phone and name' }] },
      suspects: [{ ...base.suspects[0], label: 'export:photo & "studio"' }, ...base.suspects.slice(1)],
    });
    const svg = renderTimeline(data, 'en');
    wellFormed(svg);
    expect(svg.match(/class="mark mark-seizure"/g)).toHaveLength(1);
    expect(svg).not.toContain('mark-contact');
    expect(svg).toContain('export:photo &amp; &quot;studio&quot;');
    const html = renderHtml(data, 'en');
    expect(html).toContain('leak&lt;1&gt;.xlsx');
    expect(html).toContain('sheet 名单 row 4');
    expect(summaryText(data, 'en')).toMatch(/^On 15 November 2026, a scan of 1 seized file found 3 canary families planted in week 2026-W45\./);
    expect(recommendedActions(data).map((a) => a.code)).toContain('preserve-seized');
    expect(timelineEvents(data, 'en').map((e) => e.text)).toContain('seized files scanned');
  });

  it('recommends actions by the kind of the most likely source and how sure the trace is', () => {
    const base = sampleReport();
    const codes = (d: ReturnType<typeof sampleReport>) => recommendedActions(d).map((a) => a.code);
    expect(codes(base)).toEqual(['contact-recipient', 'revoke-agreement', 'preserve-export', 'preserve-contacts', 'anchor-ledger', 'keep-watching']);
    const account = { ...base.suspects[1], kind: 'account' as const, label: 'account:nurse42', posterior: 0.9 };
    expect(codes(sampleReport({ suspects: [account] }))).toEqual(['suspend-account', 'preserve-access-logs', 'review-account', 'preserve-contacts', 'anchor-ledger', 'keep-watching']);
    expect(codes(sampleReport({ suspects: [{ ...base.suspects[1], posterior: 0.4 }] }))).toEqual(['audit-integrations', 'inconclusive', 'widen-coverage', 'preserve-contacts', 'anchor-ledger', 'keep-watching']);
    expect(codes(sampleReport({ suspects: [base.suspects[2]] }))).toEqual(['inconclusive', 'widen-coverage', 'preserve-contacts', 'anchor-ledger', 'keep-watching']);
    const merged = { ...base.suspects[0], key: 'a+b', kind: 'merged' as const, label: 'export:photo-studio + system:his', parts: ['export:photo-studio', 'system:his'], export: null };
    expect(codes(sampleReport({ suspects: [merged, ...base.suspects] }))).toEqual(['contact-recipient', 'revoke-agreement', 'preserve-export', 'audit-integrations', 'preserve-contacts', 'anchor-ledger', 'keep-watching']);
    expect(summaryText(sampleReport({ suspects: [] }), 'en')).toContain('the source cannot be traced');
  });

  it("says under the timeline what it shows: the canaries' origins, and whose leak window the band shades", () => {
    const base = sampleReport();
    const caption = (d: ReturnType<typeof sampleReport>, lang: 'en' | 'zh-CN') => incidentDocument(d, lang).sections.flatMap((s) => s.blocks).flatMap((b) => (b.kind === 'figure' ? [b.caption] : []))[0];
    expect(caption(base, 'en')).toBe('When the canaries were planted, when the suspected channels saw them, and when they were contacted; the shaded band is the leak window of the most likely source, export:photo-studio.');
    expect(caption(base, 'zh-CN')).toBe('金丝雀植入的时间、可疑渠道接触它们的时间，以及它们被联系的时间；阴影区域为最可能来源 export:photo-studio 的泄露时间窗。');
    // An unknown source first: the band is that of the most likely channel Cradle knows, and says so.
    const unknownFirst = sampleReport({ suspects: [{ ...base.suspects[2], rank: 1, posterior: 0.6 }, { ...base.suspects[0], rank: 2, posterior: 0.3 }] });
    expect(caption(unknownFirst, 'en')).toMatch(/; the shaded band is the leak window of the most likely source Cradle has a record of, export:photo-studio\.$/);
    expect(caption(unknownFirst, 'zh-CN')).toMatch(/；阴影区域为 Cradle 有记录的最可能来源 export:photo-studio 的泄露时间窗。$/);
    expect(incidentDocument(unknownFirst, 'zh-CN').sections.find((s) => s.id === 'suspects')!.blocks.flatMap((b) => (b.kind === 'card' ? [b.title] : []))[0]).toBe('1. 未知来源 (60%)');
    // Export-only canaries were written into export files, never planted; a scan finds rather than contacts; no window, no band.
    const exportOnly = sampleReport({ canaries: base.canaries.map((c) => ({ ...c, origin: 'export' as const })), suspects: [base.suspects[2]] });
    expect(caption(exportOnly, 'en')).toBe('When the canaries were written into export files, when the suspected channels saw them, and when they were contacted.');
    const scan = sampleReport({ incident: { ...base.incident, source: 'scan' } });
    expect(caption(scan, 'en')).toMatch(/^When the canaries were planted, when the suspected channels saw them, and when the seized files were scanned;/);
  });

  it('finds the Monday of an ISO week', () => {
    expect(isoWeekStart('2026-W45')!.toISOString()).toBe('2026-11-02T00:00:00.000Z');
    expect(isoWeekStart('2027-W01')!.toISOString()).toBe('2027-01-04T00:00:00.000Z');
    expect(isoWeekStart('2026-11')).toBeNull();
  });
});
