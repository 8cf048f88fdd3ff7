import { describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import { logEncodingArg, textEncodingOf, Utf8OrGb } from '../../src/accesslog/encoding.js';
import { actionWords, classifyAction, parseActionsOption } from '../../src/accesslog/fields.js';
import { parseAccessLog } from '../../src/accesslog/parse.js';
import { RejectTally, rejectKind } from '../../src/accesslog/rejects.js';
import { checkTimeFormat, parseTimestamp, timeFormOf, timeReader } from '../../src/accesslog/time.js';
import type { AccessRow, ParsedLine } from '../../src/domain/access.js';
import { UserError } from '../../src/lib/errors.js';

// Access logs as hospitals write them, as pure code: the encoding told from the bytes, the timestamp
// forms detected, the action words, and what --max-rejects says when too many lines are rejected.

const gbk = (text: string) => iconv.encode(text, 'gbk');
const utf16be = (text: string) => Buffer.from(text, 'utf16le').swap16();
const HEADER = '时间,工号,操作,病历号\n';

describe('the encoding of a log, from its bytes', () => {
  it('tells UTF-8, GB18030 (GBK), and UTF-16 LE/BE with or without a byte-order mark', () => {
    const text = `${HEADER}2026/12/01 07:00:06,护士01,查看,B-1\n`;
    expect(textEncodingOf(Buffer.from(text), 'a.csv', true)).toBe('utf-8');
    expect(textEncodingOf(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), 'a.csv', true)).toBe('utf-8');
    expect(textEncodingOf(gbk(text), 'a.csv', true)).toBe('gb18030');
    expect(textEncodingOf(iconv.encode(text, 'gb18030'), 'a.csv', true)).toBe('gb18030');
    expect(textEncodingOf(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), 'a.csv', true)).toBe('utf-16le');
    expect(textEncodingOf(Buffer.from(text, 'utf16le'), 'a.csv', true)).toBe('utf-16le');
    expect(textEncodingOf(Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(text)]), 'a.csv', true)).toBe('utf-16be');
    expect(textEncodingOf(utf16be(text), 'a.csv', true)).toBe('utf-16be');
    expect(textEncodingOf(Buffer.from('ts,user,action\n'), 'a.csv', true)).toBe('utf-8');
    expect(() => textEncodingOf(Buffer.from([0xff, 0xfe, 0, 0, 0x41, 0, 0, 0]), 'a.csv')).toThrow(/UTF-32/);
  });

  it('decides on the first non-ASCII bytes, across chunks cut inside a character', () => {
    const utf8 = Buffer.from(`${'a'.repeat(5000)}\n查看病历\n`);
    const cut = utf8.indexOf(Buffer.from('看')) + 1;
    const s = new Utf8OrGb();
    s.write(utf8.subarray(0, cut));
    s.write(utf8.subarray(cut));
    expect(s.end(true)).toBe('utf-8');
    // A character cut at the end of the sample is not a reason to call it GB18030, unless the file ends there.
    expect(textEncodingOf(utf8.subarray(0, cut), 'a.csv')).toBe('utf-8');
    expect(textEncodingOf(utf8.subarray(0, cut), 'a.csv', true)).toBe('gb18030');
    // A stray bad byte far into a UTF-8 log does not make it GB18030.
    const stray = Buffer.concat([Buffer.from(`查看\n${'x'.repeat(70_000)}\n`), Buffer.from([0xc3, 0x28, 0x0a])]);
    expect(textEncodingOf(stray, 'a.csv', true)).toBe('utf-8');
    const g = new Utf8OrGb();
    for (let i = 0; i < 20; i++) g.write(Buffer.from('2026-12-01 07:00:06,nurse,view,B-1\n'));
    g.write(gbk('打印\n'));
    expect(g.result).toBe('gb18030');
  });

  it('names a given encoding canonically and refuses one it cannot read', () => {
    expect(['UTF8', 'utf-8', 'GBK', 'gb2312', 'GB18030', 'UTF-16LE', 'utf16be', 'big5'].map(logEncodingArg)).toEqual(['utf-8', 'utf-8', 'gb18030', 'gb18030', 'gb18030', 'utf-16le', 'utf-16be', 'big5']);
    expect(() => logEncodingArg('utf-32')).toThrow(UserError);
    expect(() => logEncodingArg('klingon')).toThrow(/not an encoding iconv-lite knows/);
  });
});

describe('timestamps in the forms hospital systems write', () => {
  const zone = 'Asia/Shanghai';
  it('detects the common forms; times without an offset are in the zone', () => {
    const cases: [string, string, string][] = [
      ['2026/12/01 07:00:06', 'slash', '2026-11-30T23:00:06.000Z'],
      ['2026/12/1 7:00', 'slash', '2026-11-30T23:00:00.000Z'],
      ['2026-12-01 07:00:06.123', 'iso', '2026-11-30T23:00:06.123Z'],
      ['2026-12-01T07:00:06+08:00', 'iso', '2026-11-30T23:00:06.000Z'],
      ['2026.12.01 07:00:06', 'dot', '2026-11-30T23:00:06.000Z'],
      ['2026年12月1日 07时00分', 'cjk', '2026-11-30T23:00:00.000Z'],
      ['2026年12月1日 07时00分06秒', 'cjk', '2026-11-30T23:00:06.000Z'],
      ['2026年12月01日 07:00:06', 'cjk', '2026-11-30T23:00:06.000Z'],
      ['1796079606', 'epoch-s', '2026-11-30T23:00:06.000Z'],
      ['1796079606123', 'epoch-ms', '2026-11-30T23:00:06.123Z'],
    ];
    for (const [text, form, iso] of cases) {
      expect([text, timeFormOf(text)]).toEqual([text, form]);
      expect([text, parseTimestamp(text, zone)?.toISOString()]).toEqual([text, iso]);
    }
    for (const bad of ['2026/12-01 07:00', '2026年13月1日 07时00分', '2026/02/30 07:00', '01/12/2026 07:00', '2026年12月1日']) {
      expect([bad, parseTimestamp(bad, zone)]).toEqual([bad, null]);
    }
    expect(parseTimestamp('2026/12/01 07:00:06', 'America/New_York')?.toISOString()).toBe('2026-12-01T12:00:06.000Z');
  });

  it('reads a date-fns pattern in the zone (an offset in the pattern wins), falling back to the detected forms', () => {
    const read = timeReader(zone, 'dd.MM.yyyy HH:mm');
    expect(read('01.12.2026 07:00')?.toISOString()).toBe('2026-11-30T23:00:00.000Z');
    expect(read('2026/12/01 07:00:06')?.toISOString()).toBe('2026-11-30T23:00:06.000Z');
    expect(read('32.12.2026 07:00')).toBeNull();
    expect(timeReader(zone, 'dd/MM/yyyy HH:mm:ss xx')('01/12/2026 07:00:06 +0100')?.toISOString()).toBe('2026-12-01T06:00:06.000Z');
    expect(() => checkTimeFormat('YYYY-MM-DD')).toThrow(/--time-format "YYYY-MM-DD": in date-fns patterns Y is the week-numbering year/);
    expect(() => checkTimeFormat('yyyy-MM-dd HH:mm j')).toThrow(/not a date-fns pattern this can read/);
    expect(() => checkTimeFormat('dd/MM/yyyy HH:mm')).not.toThrow();
  });
});

describe('action words', () => {
  it('knows the zh-CN and en words: single-record opens, prints and exports single, lists bulk, unknown words bulk', () => {
    for (const a of ['查看', '浏览', '打开', '调阅', '打印', '导出', '下载', 'view', 'Opened', 'PRINTED', 'exported', 'display']) expect([a, classifyAction(a, 1)]).toEqual([a, 'single']);
    for (const a of ['列表', '查询', '检索', 'list', 'search', 'queried', '审核', 'approve']) expect([a, classifyAction(a, 1)]).toEqual([a, 'bulk']);
    expect(classifyAction('查看', 2)).toBe('bulk');
    expect(classifyAction('查看', 0)).toBe('bulk');
  });

  it('takes the hospital’s words and --actions over the built-in ones, and refuses a word meaning no action', () => {
    const words = actionWords({ source: 'config', words: { 审核: 'view', 查看: 'list' } }, { source: '--actions', words: parseActionsOption('查看=view, 批量导出=list') });
    expect(classifyAction('审核', 1, words)).toBe('single');
    expect(classifyAction('查看', 1, words)).toBe('single');
    expect(classifyAction('批量导出', 1, words)).toBe('bulk');
    expect(() => parseActionsOption('查看=look')).toThrow(/--actions: "查看"="look": "look" is not an action/);
    expect(() => parseActionsOption('查看')).toThrow(/write word=action pairs/);
  });
});

describe('a GBK log with Chinese headers, action words and slash times, read as a stream', () => {
  it('detects the encoding and reads every line', async () => {
    const text = `${HEADER}2026/12/01 07:00:06,护士01,查看,B-1\n2026/12/01 07:01:00,护士01,打印,B-1\n2026年12月1日 07时05分,文员02,列表,B-1;B-2\n`;
    const items: ParsedLine[] = [];
    const map = { ts: '时间', user: '工号', action: '操作', record: '病历号' };
    const bytes = gbk(text);
    // Two chunks, cut inside a character.
    const input = (async function* () {
      yield bytes.subarray(0, 6);
      yield bytes.subarray(6);
    })();
    for await (const p of parseAccessLog(input, { format: 'csv', timeZone: 'Asia/Shanghai', source: 'gbk.csv', map })) items.push(p);
    const rows = items.map((p) => ('row' in p ? p.row : p)) as AccessRow[];
    expect(rows.map((r) => [r.at.toISOString(), r.account, r.action, r.scope])).toEqual([
      ['2026-11-30T23:00:06.000Z', '护士01', '查看', 'single'],
      ['2026-11-30T23:01:00.000Z', '护士01', '打印', 'single'],
      ['2026-11-30T23:05:00.000Z', '文员02', '列表', 'bulk'],
    ]);
  });
});

describe('what rejects have in common', () => {
  it('groups by field and reason without values, and says it in one line', () => {
    expect(rejectKind('ts (时间): "2026/13/01 07:00" is not a timestamp (write …)')).toEqual({ field: 'ts (时间)', kind: 'ts (时间): "…" is not a timestamp (write …)' });
    const t = new RejectTally();
    t.add(1, [
      { line: 2, reason: 'ts: "a" is not a timestamp (hint)', text: '' },
      { line: 3, reason: 'ts: "b" is not a timestamp (hint)', text: '' },
      { line: 5, reason: 'user: missing', text: '' },
    ]);
    expect(t.exceeds(0.1, 100, false)).toBe(false);
    expect(t.exceeds(0.1, 0, false)).toBe(true);
    expect(t.exceeds(0.8, 0, true)).toBe(false);
    const message = t.message('a.csv', 0.1, 0);
    expect(message).toBe('a.csv: 3 of 4 lines rejected (75%, over --max-rejects 0.1); 2 for ts (lines 2, 3): ts: "a" is not a timestamp (hint); 1 for 1 other reason (first: user, line 5); nothing was committed: fix the file or --time-format and import again (or raise --max-rejects)');
    // A short log is judged by the default only when none of its lines could be read.
    const all = new RejectTally();
    all.add(0, [{ line: 2, reason: 'user: missing', text: '' }]);
    expect(all.exceeds(0.1, 100, false)).toBe(false);
    expect(all.exceeds(0.1, 100, true)).toBe(true);
  });
});
