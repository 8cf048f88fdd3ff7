import { describe, expect, it } from '@jest/globals';
import { MAX_LINE_CHARS, parseAccessLog, TOO_LONG_REASON } from '../../src/accesslog/parse.js';
import type { ParsedLine, ParseOptions } from '../../src/domain/access.js';
import { UserError } from '../../src/lib/errors.js';

// The slow tier: lines over the 16 MiB limit, in every format and with every line end (a few hundred
// MB of text read); the line-end checks themselves are in line-ends.test.ts.

async function collect(input: AsyncIterable<Buffer | string>, options: ParseOptions): Promise<ParsedLine[]> {
  const out: ParsedLine[] = [];
  for await (const item of parseAccessLog(input, options)) out.push(item);
  return out;
}

/** The bytes in chunks of `size`, so a CR LF can fall across two chunks. */
async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe('lines over the limit', () => {
  const huge = 'x'.repeat(MAX_LINE_CHARS + 10);

  it('rejects a line over the limit in each format and reads on after its line end', async () => {
    const cases: { options: ParseOptions; before: string; after: string; long: string }[] = [
      { options: { format: 'csv', timeZone: 'UTC', source: 'a.csv' }, before: 'ts,user,action\n2026-11-03 08:00:00,a,view', long: `2026-11-03 08:00:01,${huge},view`, after: '2026-11-03 08:00:02,c,view' },
      // A quote opened before the long line: its record is given up, and the lines after it read again.
      { options: { format: 'csv', timeZone: 'UTC', source: 'b.csv' }, before: 'ts,user,action\n2026-11-03 08:00:00,a,view\n2026-11-03 08:00:00,"open,view', long: `${huge}"`, after: '2026-11-03 08:00:02,c,view' },
      { options: { format: 'jsonl', timeZone: 'UTC', source: 'c.jsonl' }, before: '{"ts":"2026-11-03T08:00:00Z","user":"a","action":"view"}', long: `{"ts":"2026-11-03T08:00:01Z","user":"${huge}","action":"view"}`, after: '{"ts":"2026-11-03T08:00:02Z","user":"c","action":"view"}' },
      { options: { format: 'fhir', timeZone: 'UTC', source: 'd.ndjson' }, before: '', long: `{"resourceType":"AuditEvent","x":"${huge}"}`, after: JSON.stringify({ resourceType: 'AuditEvent', recorded: '2026-11-03T08:00:02Z', agent: [{ who: { identifier: { value: 'c' } }, requestor: true }], subtype: [{ code: 'read' }] }) },
      { options: { format: 'pgaudit', timeZone: 'UTC', source: 'e.csv' }, before: '', long: `2026-11-03 08:00:01 UTC,"${huge}",db,1,,s,1,SELECT,,,,LOG,00000,"AUDIT: SESSION,1,1,READ,SELECT,,,x,<none>",,,,,,,,,app`, after: '2026-11-03 08:00:02 UTC,"c",db,1,,s,2,SELECT,,,,LOG,00000,"AUDIT: SESSION,2,1,READ,SELECT,,,x,<none>",,,,,,,,,app' },
    ];
    for (const c of cases) {
      const lines = [c.before, c.long, c.after];
      for (const end of ['\n', '\r\n', '\r']) {
        const items = await collect(chunked(Buffer.from(lines.join(end) + end), 1 << 16), c.options);
        const longLine = c.before.split('\n').length + 1;
        const tooLong = items.find((p) => p.line === longLine);
        expect(tooLong).toEqual({ line: longLine, reject: TOO_LONG_REASON, text: c.long.slice(0, 500) });
        const last = items[items.length - 1];
        expect(last.line).toBe(longLine + 1);
        expect('row' in last && last.row.account).toBe('c');
      }
    }
  });

  it('rejects a line over the limit at the end of the file, without a line end', async () => {
    const items = await collect(chunked(Buffer.from(`{"ts":"2026-11-03T08:00:00Z","user":"a","action":"view"}\n${huge}`), 1 << 16), { format: 'jsonl', timeZone: 'UTC', source: 'f.jsonl' });
    expect(items.map((p) => [p.line, 'reject' in p ? p.reject : 'row'])).toEqual([[1, 'row'], [2, TOO_LONG_REASON]]);
  });

  it('refuses a CSV whose header is over the limit with one line', async () => {
    const err = await collect(chunked(Buffer.from(`ts,user,${huge}\n2026-11-03 08:00:00,a,view\n`), 1 << 16), { format: 'csv', timeZone: 'UTC', source: 'g.csv' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe('g.csv:1: the header row is longer than 16 MiB; is this a CSV log?');
  });
});
