import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseAccessLog } from '../../src/accesslog/parse.js';
import { EARLY_TIME_WARNING, MAX_THREADS, UNKNOWN_ACCOUNT_WARNING } from '../../src/accesslog/formats/mysql-general.js';
import { MAX_LINE_CHARS, TOO_LONG_REASON } from '../../src/accesslog/lines.js';
import type { ParsedLine, ParseOptions } from '../../src/domain/access.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { createRandom } from '../../src/lib/generate/index.js';

// The general query log of MySQL 8 and MariaDB (--format mysql-general) on files written as the servers
// write them (MariaDB's form taken from a real 10.11 server, which test/accesslog/mysql-general.slow.test.ts
// runs; MySQL 8's from its source and manual): accounts from the threads' Connect lines, statements over
// several lines, record keys from the SQL, rejects with a reason, hostile input.

const OPTIONS: ParseOptions = { format: 'mysql-general', timeZone: 'Asia/Shanghai', source: 'general.log', recordKey: { table: 'births', column: 'birth_id' } };
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES_DIR, 'access', name));

async function parse(text: string | Buffer, options: Partial<ParseOptions> = {}): Promise<ParsedLine[]> {
  const out: ParsedLine[] = [];
  async function* input(): AsyncGenerator<Buffer> {
    const bytes = typeof text === 'string' ? Buffer.from(text) : text;
    // In pieces, so that lines cross chunk boundaries.
    for (let i = 0; i < bytes.length; i += 100_003) yield bytes.subarray(i, i + 100_003);
  }
  for await (const item of parseAccessLog(input(), { ...OPTIONS, ...options })) out.push(item);
  return out;
}

const rows = (items: ParsedLine[]) => items.flatMap((i) => ('row' in i ? [i] : []));
const rejects = (items: ParsedLine[]) => items.flatMap((i) => ('reject' in i ? [i] : []));

describe('mysql-general', () => {
  it("reads MariaDB's form: times or two tabs, accounts from Connect, a statement over lines, Execute with its values", async () => {
    const items = await parse(fixture('mariadb-general.log'));
    expect(rejects(items)).toEqual([]);
    const r = rows(items);
    expect(r.map((i) => i.line)).toEqual([6, 8, 12, 14, 15]);
    const [open, list, execute, early, update] = r.map((i) => i.row);
    expect(open).toEqual({ at: new Date('2026-11-03T00:15:02Z'), account: 'dr_wang', action: 'select', scope: 'single', records: ['48213'], system: null, ip: '10.2.0.15' });
    // In the same second as the Connect before it (no time written), over three lines, Chinese text inside.
    expect(list).toEqual({ at: new Date('2026-11-03T00:16:40Z'), account: 'nurse07', action: 'select', scope: 'bulk', records: ['48213', '48214', '50001'], system: null, ip: '10.2.0.22' });
    // A server-side prepared statement: the Prepare has `?` and is skipped, the Execute has the value.
    expect(execute).toMatchObject({ at: new Date('2026-11-03T00:17:03Z'), account: 'nurse07', scope: 'single', records: ['48214'] });
    // Thread 3 connected before the file: read as "unknown", with a warning.
    expect(early).toMatchObject({ account: 'unknown', ip: null, scope: 'single', records: ['50002'] });
    expect(r[3].warnings).toEqual([UNKNOWN_ACCOUNT_WARNING]);
    expect(update).toMatchObject({ account: 'dr_wang', action: 'update', records: ['50002'] });
    expect(r.filter((i) => i.warnings).length).toBe(1);
  });

  it("reads MySQL 8's form (ISO times in UTC) as the same accesses, to the microsecond's millisecond", async () => {
    const mariadb = rows(await parse(fixture('mariadb-general.log'))).map((i) => ({ ...i.row, at: Math.floor(i.row.at.getTime() / 1000) }));
    const items = await parse(fixture('mysql-general.log'), { timeZone: 'America/New_York' });
    expect(rejects(items)).toEqual([]);
    const r = rows(items);
    expect(r.map((i) => ({ ...i.row, at: Math.floor(i.row.at.getTime() / 1000) }))).toEqual(mariadb);
    expect(r[0].row.at).toEqual(new Date('2026-11-03T00:15:02.388Z'));
    // An offset (log_timestamps = SYSTEM) is read as written.
    const system = rows(await parse('2026-11-03T08:15:02.388410+08:00\t   24 Query\tSELECT * FROM births WHERE birth_id = 7\n'));
    expect(system[0].row).toMatchObject({ at: new Date('2026-11-03T00:15:02.388Z'), account: 'unknown', records: ['7'] });
  });

  it("reads MariaDB's local times in --time-zone", async () => {
    const [first] = rows(await parse(fixture('mariadb-general.log'), { timeZone: 'UTC' }));
    expect(first.row.at).toEqual(new Date('2026-11-03T08:15:02Z'));
  });

  it('rejects a wrong time, an unknown command, a Connect without an account and lines that start no entry, with a reason', async () => {
    const items = await parse(fixture('mariadb-general-bad.log'));
    expect(rows(items).map((i) => [i.line, i.row.account, i.row.records])).toEqual([[9, 'dr_wang', ['48213']]]);
    expect(rejects(items).map((r) => [r.line, r.reject])).toEqual([
      [5, 'time: "261303 25:14:55" is not a valid time'],
      [6, expect.stringMatching(/^command: "Shout" is not one the general query log writes/)],
      [7, 'argument: "somebody on nothing" is not user@host on database'],
      [8, expect.stringMatching(/^statement: "\\u0001\\u0002 junk" does not start with an SQL command$/)],
      [11, expect.stringMatching(/^line: not a general query log entry/)],
      [12, expect.stringMatching(/^line: not a general query log entry/)],
    ]);
  });

  it("reads the entries that start a rotated file without a time at the first entry's time, with a warning; rejects them when none has one", async () => {
    const start = '\t\t    31 Connect\tnurse42@10.2.0.5 on his using TCP/IP\n\t\t    31 Query\tSELECT * FROM births WHERE birth_id = 5\n\t\t    32 Connect\tclerk03@10.2.0.9 on his using TCP/IP\nnot an entry\n';
    const items = await parse(`${start}261103  9:00:01\t    31 Query\tSELECT * FROM births WHERE birth_id = 6\n`);
    expect(items.map((i) => ('row' in i ? [i.line, i.row.at.toISOString(), i.row.records, i.warnings] : [i.line, i.reject]))).toEqual([
      [2, '2026-11-03T01:00:01.000Z', ['5'], [EARLY_TIME_WARNING]],
      [4, expect.stringMatching(/^line: not a general query log entry/)],
      [5, '2026-11-03T01:00:01.000Z', ['6'], undefined],
    ]);
    const none = await parse(start);
    expect(none.map((i) => ('reject' in i ? [i.line, i.reject] : i.line))).toEqual([
      [2, expect.stringMatching(/^time: the entry starts the file without a time .* and no entry after it has one$/)],
      [4, expect.stringMatching(/^line: not a general query log entry/)],
    ]);
  });

  it('skips statements that read no rows and the commands that are not statements', async () => {
    const log = [
      '261103  9:00:01\t    31 Connect\tnurse42@localhost on his using Socket',
      '\t\t    31 Query\tSET NAMES utf8mb4',
      '\t\t    31 Query\tSHOW VARIABLES LIKE \'x\'',
      '\t\t    31 Init DB\this',
      '\t\t    31 Query\t/* ApplicationName=DBeaver */ select * from births where birth_id = 9',
      '\t\t    31 Query\tCOMMIT',
      '\t\t    31 Change user\tclerk03@10.2.0.9 on his using TCP/IP',
      '\t\t    31 Query\tdelete from births where birth_id in (1, 2)',
      '\t\t    32 Connect\tAccess denied for user \'x\'@\'localhost\' (using password: YES)',
    ].join('\n');
    const items = await parse(log);
    expect(items.map((i) => ('row' in i ? [i.line, i.row.account, i.row.action, i.row.records, i.row.ip] : i.reject))).toEqual([
      [5, 'nurse42', 'select', ['9'], null],
      [8, 'clerk03', 'delete', ['1', '2'], '10.2.0.9'],
    ]);
  });

  it('remembers the most recently active threads when too many never quit', async () => {
    const lines = ['261103  9:00:01\t     1 Connect\tpooled@10.2.0.7 on his using TCP/IP', '\t\t     2 Connect\tidle@10.2.0.8 on his using TCP/IP'];
    for (let i = 0; i < MAX_THREADS; i++) {
      lines.push(`\t\t ${100 + i} Connect\tu${i}@10.2.0.9 on his using TCP/IP`);
      // The pool's connection is used now and then: it stays remembered.
      if (i % 50_000 === 0) lines.push('\t\t     1 Query\tSELECT 1');
    }
    lines.push('\t\t     1 Query\tSELECT * FROM births WHERE birth_id = 1', '\t\t     2 Query\tSELECT * FROM births WHERE birth_id = 2');
    const r = rows(await parse(lines.join('\n'))).map((i) => i.row);
    expect(r.slice(-2).map((x) => x.account)).toEqual(['pooled', 'unknown']);
  });

  it('rejects a line over the limit and a statement over the limit across its lines, and reads on', async () => {
    const huge = 'x'.repeat(MAX_LINE_CHARS + 10);
    const piece = `AND note <> '${'y'.repeat(1024 * 1024)}'`;
    const log = [
      '261103  9:00:01\t    31 Connect\tnurse42@localhost on his using Socket',
      `\t\t    31 Query\tSELECT * FROM births WHERE birth_id = 1 ${huge}`,
      '\t\t    31 Query\tSELECT * FROM births WHERE birth_id = 2',
      huge,
      '\t\t    31 Query\tSELECT * FROM births WHERE birth_id = 3',
      ...Array.from({ length: 17 }, () => piece),
      '\t\t    31 Query\tSELECT * FROM births WHERE birth_id = 4',
    ].join('\n');
    const items = await parse(log);
    expect(items.map((i) => ('row' in i ? [i.line, i.row.records] : [i.line, i.reject]))).toEqual([
      [2, TOO_LONG_REASON],
      [3, expect.stringMatching(/^statement: its line 4 is longer than 16 MiB/)],
      [5, expect.stringMatching(/^statement: longer than 16 MiB over its lines/)],
      [23, ['4']],
    ]);
  });

  it('survives hostile input: every line is a row, a skip or a reject with a reason, never a crash or a hang', async () => {
    const rng = createRandom('mysql-general-fuzz');
    const seeds = [fixture('mariadb-general.log'), fixture('mysql-general.log'), fixture('mariadb-general-bad.log')].map((b) => b.toString('utf8'));
    const pieces = ['\t', '\t\t', '\n', '\r', ' ', '@', ' on ', '`', "'", '\\', '"', '#', '--', '/*', '\u0000', '王', '\uD800', '261103', '25:', 'Query', 'Connect', 'Quit', ' IN (', '= ', '0'];
    const started = Date.now();
    for (let n = 0; n < 300; n++) {
      let text = seeds[rng.int(0, seeds.length - 1)];
      for (let k = rng.int(1, 6); k > 0; k--) {
        const at = rng.int(0, text.length);
        text = rng.chance(0.2) ? text.slice(0, at) : text.slice(0, at) + pieces[rng.int(0, pieces.length - 1)] + text.slice(at + rng.int(0, 3));
      }
      const items = await parse(text);
      let last = 0;
      for (const item of items) {
        expect(item.line).toBeGreaterThan(last);
        last = item.line;
        if ('reject' in item) expect(item.reject).toMatch(/^[a-z]+: \S/);
      }
    }
    // Binary junk: rejects, nothing else.
    const junk = Buffer.from(Array.from({ length: 200_000 }, () => rng.int(0, 255)));
    for (const item of await parse(junk)) if ('reject' in item) expect(item.reject).toMatch(/^[a-z]+: \S/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
