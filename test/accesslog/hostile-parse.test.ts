import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseAccessLog, stripComments } from '../../src/accesslog/parse.js';
import { parseTimestamp } from '../../src/accesslog/time.js';
import type { AccessFormat, ParsedLine, ParseOptions } from '../../src/domain/access.js';
import { UserError } from '../../src/lib/errors.js';
import { escapeControls } from '../../src/lib/control.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';

// Access logs as an attacker or a careless upstream system writes them (issue 13): other encodings,
// control characters, deep nesting, adversarial SQL comments, times outside 1970–2038. Each ends in
// rows, rejects or a one-line error, never a crash.

const fixture = (name: string) => path.join(FIXTURES_DIR, 'access', name);

async function collect(input: AsyncIterable<Buffer | string>, options: ParseOptions): Promise<ParsedLine[]> {
  const out: ParsedLine[] = [];
  for await (const item of parseAccessLog(input, options)) out.push(item);
  return out;
}

/** The bytes in chunks of `size`, so characters and lines cross chunk boundaries. */
async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const FORMATS: { format: AccessFormat; file: string; options?: Partial<ParseOptions> }[] = [
  { format: 'jsonl', file: 'emr-audit.jsonl', options: { map: { ts: 'event_time', user: 'operator.id', action: 'op', record: 'patient_ids', ip: 'client_ip', system: 'app' } } },
  { format: 'fhir', file: 'fhir-audit.ndjson' },
  { format: 'pgaudit', file: 'postgresql.csv', options: { recordKey: { table: 'births', column: 'birth_id' } } },
  { format: 'csv', file: 'his-access.csv' },
  { format: 'mariadb-audit', file: 'mariadb-audit.log', options: { recordKey: { table: 'births', column: 'birth_id' } } },
  { format: 'mysql-general', file: 'mariadb-general.log', options: { recordKey: { table: 'births', column: 'birth_id' } } },
];

const utf16be = (text: string) => {
  const le = Buffer.from(text, 'utf16le');
  for (let i = 0; i + 1 < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1], le[i]];
  return le;
};

describe('access logs in UTF-16', () => {
  it.each(FORMATS)('reads $format written as UTF-16LE with and without a BOM, and UTF-16BE with one, as the UTF-8 file', async ({ format, file, options }) => {
    const text = fs.readFileSync(fixture(file), 'utf8');
    const opts = { format, timeZone: 'Asia/Shanghai', source: file, ...options };
    const expected = await collect(chunked(Buffer.from(text), 1 << 16), opts);
    expect(expected.some((i) => 'row' in i)).toBe(true);
    for (const bytes of [Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), Buffer.from(text, 'utf16le'), Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(text)])]) {
      expect(await collect(chunked(bytes, 777), opts)).toEqual(expected);
    }
  });

  it('refuses UTF-32 with one line naming the file and the encoding', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), Buffer.from('{"ts":"2026-11-03T08:00:00Z"}\n', 'utf16le')]);
    const run = collect(chunked(bytes, 4096), { format: 'jsonl', timeZone: 'UTC', source: 'audit.jsonl' });
    await expect(run).rejects.toThrow(UserError);
    await expect(collect(chunked(bytes, 4096), { format: 'jsonl', timeZone: 'UTC', source: 'audit.jsonl' })).rejects.toThrow(/^audit\.jsonl: the log is UTF-32/);
  });
});

describe('control characters in rejects', () => {
  it('escapes them in the reason and the text, NUL included', async () => {
    const text = '{"ts":"2026-11-03T08:00:00Z","user":"a\\u0000b","action":"view"\u0000}\n\u0000\u001b[31m{}\n2026,\r\u2028\u202e\n';
    const items = await collect(chunked(Buffer.from(text), 5), { format: 'jsonl', timeZone: 'UTC', source: 'x.jsonl' });
    // The lone CR ends a line (docs/access-logs.md#formats): "2026," and the separators are two lines.
    expect(items.map((i) => 'reject' in i)).toEqual([true, true, true, true]);
    for (const item of items) {
      if (!('reject' in item)) continue;
      // eslint-disable-next-line no-control-regex -- control characters are what it looks for
      expect(item.reject + item.text).not.toMatch(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]/);
    }
    expect('reject' in items[0] && items[0].text).toBe('{"ts":"2026-11-03T08:00:00Z","user":"a\\u0000b","action":"view"\\x00}');
    // JSON.parse's message quotes the raw text.
    expect('reject' in items[1] && items[1].reject).toContain("Unexpected token '\\x00', \"\\x00\\x1b[31m{}\" is not valid JSON");
    expect(items.map((i) => 'reject' in i && [i.line, i.text]).slice(2)).toEqual([[3, '2026,'], [4, '\\u2028\\u202e']]);
  });

  it('escapeControls writes each control as an escape and leaves other text, and escaping twice changes nothing', () => {
    expect(escapeControls('a\u0000b\tc\nd\re\u007f\u0085\u2028\u202e\u2066 中文 \\x00')).toBe('a\\x00b\\tc\\nd\\re\\x7f\\x85\\u2028\\u202e\\u2066 中文 \\x00');
    const once = escapeControls('\u0000\n');
    expect(escapeControls(once)).toBe(once);
  });

  it('names a header column with control characters without writing them', async () => {
    const run = collect(chunked(Buffer.from('ts,us\u0000er,act\nx\n'), 64), { format: 'csv', timeZone: 'UTC', source: 'h.csv' });
    await expect(run).rejects.toThrow('columns: ts, us\\x00er, act');
  });
});

describe('deeply nested JSON', () => {
  const deepCoding = (depth: number) => {
    let coding = '{"code":"read"}';
    for (let i = 0; i < depth; i++) coding = `{"coding":[${coding}]}`;
    return coding;
  };
  const event = (subtype: string) =>
    `{"resourceType":"AuditEvent","recorded":"2026-11-03T08:00:00Z","action":"R","subtype":[${subtype}],"agent":[{"requestor":true,"who":{"identifier":{"value":"nurse42"}}}],"entity":[{"what":{"reference":"Patient/1"}}]}`;

  it('rejects a FHIR line nested past 64 levels and reads the lines after it', async () => {
    const lines = [event(deepCoding(20_000)), event('{"code":"read"}'), `{"resourceType":${'['.repeat(100_000)}${']'.repeat(100_000)}}`];
    const items = await collect(chunked(Buffer.from(lines.join('\n')), 1 << 16), { format: 'fhir', timeZone: 'UTC', source: 'deep.ndjson' });
    expect(items.map((i) => ('reject' in i ? i.reject : i.row.account))).toEqual(['json: nested deeper than 64 levels', 'nurse42', 'json: nested deeper than 64 levels']);
  });

  it('reads codings one level down, as FHIR nests them, and brackets inside strings do not count', async () => {
    const items = await collect(chunked(Buffer.from(`${event(`{"coding":[{"code":"vread","display":"${'['.repeat(500)}"}]}`)}\n`), 1 << 16), { format: 'fhir', timeZone: 'UTC', source: 'ok.ndjson' });
    expect(items).toHaveLength(1);
    expect('row' in items[0] && items[0].row.action).toBe('vread');
  });
});

describe('pgaudit comments', () => {
  it('strips -- and nested /* */ comments but not what looks like one inside strings, names or dollar quotes', () => {
    expect(stripComments("SELECT 1 -- a\nFROM t /* x /* y */ z */ WHERE a = '--b' AND c = '/*d*/'")).toBe("SELECT 1  \nFROM t   WHERE a = '--b' AND c = '/*d*/'");
    expect(stripComments(`SELECT "x--y", $$ -- z $$, $tag$ /* w */ $tag$, E'\\' -- v' /* u */`)).toBe(`SELECT "x--y", $$ -- z $$, $tag$ /* w */ $tag$, E'\\' -- v'  `);
    expect(stripComments("WHERE id = $1 -- c\nAND b = 'it''s -- not'")).toBe("WHERE id = $1  \nAND b = 'it''s -- not'");
    expect(stripComments('a /* never closed -- x')).toBe('a  ');
    expect(stripComments("a 'never closed -- x")).toBe("a 'never closed -- x");
    expect(stripComments('no comments at all')).toBe('no comments at all');
  });

  it('reads a record key next to comments and ignores one inside a comment', async () => {
    const message = (sql: string) => `"AUDIT: SESSION,1,1,READ,SELECT,,,""${sql.replace(/"/g, '""""')}"",<not logged>"`;
    const line = (sql: string, n: number) => `2026-11-03 08:00:0${n} UTC,nurse42,births,${100 + n},10.0.0.1:5000,s${n},1,SELECT,,,,LOG,00000,${message(sql)},,,,,,,,,psql`;
    const csv = [
      line("SELECT * FROM births /* WHERE birth_id = 9 */ WHERE birth_id = 5 -- and birth_id = 6", 1),
      line("SELECT * FROM births WHERE note = '/*' AND birth_id = 7 -- */", 2),
    ].join('\n');
    const items = await collect(chunked(Buffer.from(csv), 64), { format: 'pgaudit', timeZone: 'UTC', source: 'pg.csv', recordKey: { table: 'births', column: 'birth_id' } });
    expect(items.map((i) => ('row' in i ? i.row.records : i.reject))).toEqual([['5'], ['7']]);
  });

  it('strips comments from 480 KB statements in linear time', () => {
    // Unclosed /* with text after each (the regexes' worst case: 39 s for the first), and other shapes.
    const shapes = ['/* a '.repeat(96_000), '/*\n'.repeat(160_000), '/*'.repeat(240_000), '/* a */ x '.repeat(48_000), '-- c\n'.repeat(96_000), "'--' ".repeat(96_000), '$a$ -- '.repeat(68_000), '/*/*'.repeat(120_000) + '*/'.repeat(10)];
    for (const sql of shapes) {
      const started = process.hrtime.bigint();
      stripComments(sql);
      // The regexes took 37 s for one such statement; one pass takes a few ms.
      expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(500);
    }
  });
});

describe('times outside 1970–2038', () => {
  it('reads years before 1970, before 100 and up to 9999, and refuses year 0 and what PostgreSQL cannot store', () => {
    expect(parseTimestamp('1950-06-01 12:00:00', 'UTC')?.toISOString()).toBe('1950-06-01T12:00:00.000Z');
    expect(parseTimestamp('0050-06-01T12:00:00Z', 'UTC')?.toISOString()).toBe('0050-06-01T12:00:00.000Z');
    expect(parseTimestamp('0004-02-29 00:00:00', 'UTC')?.toISOString()).toBe('0004-02-29T00:00:00.000Z');
    expect(parseTimestamp('9999-12-31 23:59:59', 'UTC')?.toISOString()).toBe('9999-12-31T23:59:59.000Z');
    expect(parseTimestamp('0000-06-01 12:00:00', 'UTC')).toBeNull();
    expect(parseTimestamp('0001-01-01 00:00:00+01:00', 'UTC')).toBeNull();
    expect(parseTimestamp('9999-12-31 23:59:59-01:00', 'UTC')).toBeNull();
  });
});
