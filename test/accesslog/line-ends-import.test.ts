import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { importAccessLog, type ImportAccessOptions } from '../../src/accesslog/import.js';
import { MAX_LINE_CHARS, TOO_LONG_REASON } from '../../src/accesslog/parse.js';
import { UserError } from '../../src/lib/errors.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';

// Imports of logs with CR-only line ends, lines over the length limit, and headers that do not fit the
// command (issue 13, U2, U3, U6): each ends in events, rejects or a one-line error, and a header error
// leaves no import behind.

const HEADER = 'event_time,operator,op,patient_id,client_ip,app';
const MAP = { ts: 'event_time', user: 'operator', action: 'op', record: 'patient_id', ip: 'client_ip', system: 'app' } as const;

describe.each(BACKENDS)('line ends and long lines in imports on %s', (backend) => {
  let h: TestHospital;
  let dir: string;
  let fileNo = 0;
  const options = (extra: Partial<ImportAccessOptions> = {}): ImportAccessOptions => ({
    hospital: h.hospital.name,
    format: 'csv',
    timeZone: 'UTC',
    map: { ...MAP },
    recordKey: { alias: 'birth', table: 'births', column: 'birth_id' },
    alertChannels: [],
    ...extra,
  });
  const write = (name: string, content: string | Buffer) => {
    const file = path.join(dir, `${++fileNo}-${name}`);
    fs.writeFileSync(file, content);
    return file;
  };
  const eventsOf = async (importId: number) => {
    const { rows } = await h.vault.query<{ line: number; account: string }>(`SELECT line, account FROM access_events WHERE import_id = $1 ORDER BY line`, [importId]);
    return rows.map((e) => [Number(e.line), e.account]);
  };
  const importsAt = async (file: string) => (await h.vault.query<{ state: string }>(`SELECT state FROM access_imports WHERE path = $1`, [file])).rows;

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 10, trapNumbers: 2 });
    dir = scratchDir('access-line-ends');
  });
  afterAll(async () => h?.close());

  it('imports CSV logs with CR-only or mixed line ends as with LF, on the byte path and the general reader', async () => {
    const rows = Array.from({ length: 6 }, (_, i) => `2026-11-24 08:00:0${i},n${i},view,R${i},10.0.0.1,his`);
    const expected = rows.map((_, i) => [i + 2, `n${i}`]);
    const lf = await importAccessLog(h.vault, write('lf.csv', [HEADER, ...rows].join('\n') + '\n'), options());
    expect(await eventsOf(lf.importId)).toEqual(expected);
    for (const [name, text] of [
      ['cr.csv', [HEADER, ...rows].join('\r') + '\r'],
      ['mixed.csv', [HEADER, ...rows].join('\r\n').replace('\r\n', '\r') + '\n'],
      ['cr-quoted.csv', [HEADER, ...rows.slice(0, -1), '2026-11-24 08:00:05,"n5",view,R5,10.0.0.1,his'].join('\r')],
    ]) {
      const res = await importAccessLog(h.vault, write(name, text), options());
      expect([name, res.lines, res.added + res.duplicates, res.rejected]).toEqual([name, 7, 6, 0]);
      expect(await eventsOf(res.importId)).toEqual([]); // all six are the LF log's events already
      expect((await importsAt(res.file))[0].state).toBe('done');
    }
  });

  it('imports a pgaudit log with CR-only line ends', async () => {
    const pg = fs.readFileSync(path.join(FIXTURES_DIR, 'access', 'postgresql.csv'), 'utf8');
    const res = await importAccessLog(h.vault, write('pg-cr.csv', pg.replace(/\n/g, '\r')), options({ format: 'pgaudit', map: undefined, timeZone: 'Asia/Shanghai' }));
    const lf = await importAccessLog(h.vault, write('pg-lf.csv', pg), options({ format: 'pgaudit', map: undefined, timeZone: 'Asia/Shanghai' }));
    expect(res.added).toBeGreaterThan(0);
    expect([res.lines, res.added, res.rejected]).toEqual([lf.lines, lf.added + lf.duplicates, lf.rejected]);
  });

  it('refuses a header without a mapped column before recording an import, in UTF-8 and UTF-16', async () => {
    const text = 'when,who,op\n2026-11-24 08:00:00,n1,view\n';
    for (const [name, bytes] of [
      ['no-ts.csv', Buffer.from(text)],
      ['no-ts-16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])],
      ['no-ts-16-quoted.csv', Buffer.from(`"when",who,op\n`, 'utf16le')],
    ] as const) {
      const file = write(name, bytes);
      const err = await importAccessLog(h.vault, file, options({ map: { ts: 'event_time' } })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(new RegExp(`${name}:1: the header has no column "event_time" for ts \\(columns: "?when"?, who, op\\); map it with --map ts=<column>$`.replace(/"\?when"\?/, '"?when"?')));
      expect(await importsAt(file)).toEqual([]);
    }
  });

  it('rejects a line over the length limit and imports the lines around it, the same on the byte path and the general reader', async () => {
    const long = `2026-11-24 09:00:01,${'x'.repeat(MAX_LINE_CHARS)},view,R1,10.0.0.1,his`;
    for (const [name, last] of [
      ['long-plain.csv', '2026-11-24 09:00:02,after,view,R2,10.0.0.1,his'],
      ['long-quoted.csv', '2026-11-24 09:00:02,"after",view,R2,10.0.0.1,his'],
    ]) {
      for (const end of ['\n', '']) {
        const res = await importAccessLog(h.vault, write(name, [HEADER, '2026-11-24 09:00:00,before,view,R0,10.0.0.1,his', long, last, long].join('\n') + end), options());
        expect([name, res.lines, res.added + res.duplicates]).toEqual([name, 5, 2]);
        expect(res.rejects).toEqual([3, 5].map((line) => ({ line, reason: TOO_LONG_REASON, text: long.slice(0, 500) })));
        expect((await importsAt(res.file))[0].state).toBe('done');
      }
    }
  });
});
