import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseAccessLog } from '../../src/accesslog/parse.js';
import type { AccessFormat, ParsedLine, ParseOptions } from '../../src/domain/access.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';

// Line ends and line lengths (issue 13, U2, U6, U7): a lone CR ends a line as LF and CR LF do; a very
// long line is read in linear time; a line over MAX_LINE_CHARS is a reject and reading goes on after it
// (those lines, hundreds of MB of text, in line-limit.slow.test.ts).

const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES_DIR, 'access', name));

async function collect(input: AsyncIterable<Buffer | string>, options: ParseOptions): Promise<ParsedLine[]> {
  const out: ParsedLine[] = [];
  for await (const item of parseAccessLog(input, options)) out.push(item);
  return out;
}

/** The bytes in chunks of `size`, so a CR LF can fall across two chunks. */
async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const FORMATS: { format: AccessFormat; file: string; options?: Partial<ParseOptions> }[] = [
  { format: 'csv', file: 'his-access.csv' },
  { format: 'csv', file: 'his-access-bad.csv' },
  { format: 'jsonl', file: 'emr-audit.jsonl', options: { map: { ts: 'event_time', user: 'operator.id', action: 'op', record: 'patient_ids', ip: 'client_ip', system: 'app' } } },
  { format: 'fhir', file: 'fhir-audit.ndjson' },
  { format: 'fhir', file: 'fhir-audit-bad.ndjson' },
  { format: 'pgaudit', file: 'postgresql.csv', options: { recordKey: { table: 'births', column: 'birth_id' } } },
  { format: 'pgaudit', file: 'postgresql-bad.csv', options: { recordKey: { table: 'births', column: 'birth_id' } } },
];

const optionsOf = (f: (typeof FORMATS)[number]): ParseOptions => ({ format: f.format, timeZone: 'Asia/Shanghai', source: f.file, ...f.options });

describe('line ends', () => {
  it.each(FORMATS.map((f) => [f.file, f] as const))('%s reads the same with CR-only, CR LF and mixed line ends, whatever the chunks', async (_name, f) => {
    const lf = fixture(f.file).toString('utf8');
    expect(lf).not.toContain('\r');
    const expected = await collect(chunked(Buffer.from(lf), 1 << 16), optionsOf(f));
    expect(expected.length).toBeGreaterThan(2);
    let i = 0;
    const mixed = lf.replace(/\n/g, () => ['\r', '\r\n', '\n'][i++ % 3]);
    for (const text of [lf.replace(/\n/g, '\r'), lf.replace(/\n/g, '\r\n'), mixed]) {
      for (const size of [1, 2, 7, 1 << 16]) {
        expect(await collect(chunked(Buffer.from(text), size), optionsOf(f))).toEqual(expected);
      }
    }
  });

  it('counts a lone CR, an LF and a CR LF as one line end each, and blank lines between them', async () => {
    const text = 'ts,user,action\r2026-11-03 08:00:00,a,view\r\r\n2026-11-03 08:00:01,b,view\n\r2026-11-03 08:00:02,c,view\r';
    const out = await collect(chunked(Buffer.from(text), 3), { format: 'csv', timeZone: 'UTC', source: 'x.csv' });
    expect(out.map((p) => [p.line, 'row' in p ? p.row.account : p.reject])).toEqual([[2, 'a'], [4, 'b'], [6, 'c']]);
  });

  it('reads a UTF-16 log with CR-only line ends', async () => {
    const lf = fixture('his-access.csv').toString('utf8');
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(lf.replace(/\n/g, '\r'), 'utf16le')]);
    const options: ParseOptions = { format: 'csv', timeZone: 'Asia/Shanghai', source: 'his-access.csv' };
    expect(await collect(chunked(le, 5), options)).toEqual(await collect(chunked(Buffer.from(lf), 1 << 16), options));
  });
});

describe('long lines', () => {

  it('reads a quoted field of doubled quotes to the right value (its time: line-ends.slow.test.ts)', async () => {
    const build = (n: number, a = '', b = '') => Buffer.from(`ts,user,action\n2026-11-03 08:00:00,"${a}${'""'.repeat(n)}${b}",view\n`);
    const options: ParseOptions = { format: 'csv', timeZone: 'UTC', source: 'quotes.csv' };
    const [item] = await collect(chunked(build(3, 'a', 'b'), 2), options);
    expect('row' in item && item.row.account).toBe('a"""b');
    const [surrogate] = await collect(chunked(build(1, '😀', '王'), 3), options);
    expect('row' in surrogate && surrogate.row.account).toBe('😀"王');
  });
});
