import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { parseAccessLog } from '../../src/accesslog/parse.js';
import { loadConfig, parseConfig } from '../../src/config/index.js';
import { UserError } from '../../src/lib/errors.js';
import { CdrRowError, readCdr } from '../../src/ingest/cdr.js';
import { parseEvents } from '../../src/ingest/event.js';
import { excerpt, quoted } from '../../src/lib/control.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { loadMapping, parseMapping } from '../../src/targetdb/mapping.js';
import { scratchDir } from '../helpers/db.js';

// Error messages quote outside input: a UTF-16 file read as UTF-8 puts NULs in them, a fuzzed field is
// 100 KB. A message must stay a few short lines of text: no raw control characters (a line break only
// between the lines of a multi-line message), under 4,000 characters, the input quoted as an excerpt.

// eslint-disable-next-line no-control-regex -- raw control characters are what must not be there
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const NUL_NAME = 'ma\u0000in\u001b[31m';
const HUGE = 'x'.repeat(100_000);

function messageOf(work: () => unknown): string {
  try {
    work();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

async function asyncMessageOf(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

function expectShort(message: string): void {
  expect(message).not.toMatch(RAW_CONTROL);
  expect(message.length).toBeLessThan(4000);
  expect(message.trim()).not.toBe('');
}

const hospital = { target: 'postgres://u@h/db', mapping: 'm.json', wards: ['A', 'NICU'], districts: ['鼓楼区'], rotation: { perWard: { A: 2 } } };
const mappingDoc = () => JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, 'mappings', 'reference.json'), 'utf8')) as { inserts: { columns: Record<string, unknown> }[] };

describe('excerpt and quoted', () => {
  it('cut outside text and escape its control characters', () => {
    expect(excerpt('a\u0000b\nc')).toBe('a\\x00b\\nc');
    expect(excerpt('x'.repeat(300))).toBe(`${'x'.repeat(200)}…`);
    expect(quoted('a"b\u0000\u007f\u202e')).toBe('"a\\"b\\u0000\\x7f\\u202e"');
    expect(quoted(HUGE)).toHaveLength(80 + 3);
  });

  it('bound every UserError, whatever its builder quoted', () => {
    const err = new UserError(`bad: ${HUGE}\u0000\nsecond line`);
    expectShort(err.message);
    expect(new UserError('one\ntwo').message).toBe('one\ntwo');
  });
});

describe('config messages', () => {
  it('quote a defaultHospital or ward name with control characters as an escaped excerpt', () => {
    const message = messageOf(() => parseConfig({ defaultHospital: NUL_NAME, hospitals: { one: { ...hospital, rotation: { perWard: { [NUL_NAME]: 1 } } } } }, 'c.json'));
    expectShort(message);
    expect(message).toContain('c.json: defaultHospital: "ma\\u0000in\\u001b[31m" is not among hospitals');
    expect(message).toContain('rotation.perWard.ma\\x00in\\x1b[31m: not one of');
  });

  it('name a huge value by its path, not by echoing it, and list at most 20 problems', () => {
    const hospitals = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`h${i}`, { ...hospital, timeZone: HUGE, seedChannel: HUGE }]));
    const message = messageOf(() => parseConfig({ defaultHospital: HUGE, hospitals }, 'c.json'));
    expectShort(message);
    expect(message).toMatch(/more problems$/);
  });

  it('quote an excerpt of the JSON error for a file that is not JSON (UTF-16 read as UTF-8)', () => {
    const file = path.join(scratchDir('messages'), 'cradle.config.json');
    fs.writeFileSync(file, Buffer.from(`vault = "${HUGE}"`, 'utf16le'));
    const message = messageOf(() => loadConfig(file));
    expectShort(message);
    expect(message).toMatch(/not valid JSON/);
  });
});

describe('mapping messages', () => {
  it('quote an unknown field with control characters as an escaped excerpt', () => {
    const doc = mappingDoc();
    doc.inserts[0].columns[`col\u0000${HUGE}`] = `mother.\u0000${HUGE}`;
    const message = messageOf(() => parseMapping(doc, 'm.json'));
    expectShort(message);
    expect(message).toMatch(/unknown field "mother\.\\u0000x+…"/);
  });

  it('list at most 20 of thousands of problems, without the values', () => {
    const doc = mappingDoc();
    for (let i = 0; i < 3000; i++) doc.inserts[0].columns[`c${i}`] = { field: 7, extra: HUGE.slice(0, 30) };
    const message = messageOf(() => parseMapping(doc, 'm.json'));
    expectShort(message);
    expect(message).not.toContain('x'.repeat(30));
  });

  it('quote an excerpt of the JSON error for a file that is not JSON', () => {
    const file = path.join(scratchDir('messages'), 'mapping.json');
    fs.writeFileSync(file, `\u0000\u0001${HUGE}`);
    const message = messageOf(() => loadMapping(file));
    expectShort(message);
  });
});

describe('event messages', () => {
  it('quote an excerpt of the JSON error', () => {
    const message = messageOf(() => parseEvents(Buffer.from(`kind: sms, to: ${HUGE}`, 'utf16le').toString('utf8'), 'e.json', 'CN'));
    expectShort(message);
    expect(message).toMatch(/^e\.json: not valid JSON/);
  });

  it('name each bad field of thousands of events by its path, at most 20 of them', () => {
    const events = Array.from({ length: 3000 }, (_, i) => (i ? { kind: 'x'.repeat(50), to: '', occurredAt: 'soon' } : { kind: HUGE, to: '', occurredAt: HUGE, [`k\u0000${HUGE}`]: 1 }));
    const message = messageOf(() => parseEvents(JSON.stringify(events), 'e.json', 'CN'));
    expectShort(message);
    expect(message).toMatch(/^e\.json: 0\.kind: /);
  });
});

describe('CDR messages', () => {
  const read = async (text: string) => {
    // A row that cannot be read is handed on as its error (the ingest rejects it and reads on).
    for await (const call of readCdr(Readable.from([Buffer.from(text)]), { format: 'csv', map: { src: 'src', dst: 'dst', start: 'start' } }, { label: 'cdr.csv', timeZone: 'Asia/Shanghai', region: 'CN' })) {
      if (call instanceof CdrRowError) throw call;
    }
  };

  it('quote a header with control characters and thousands of columns as an excerpt', async () => {
    const message = await asyncMessageOf(() => read(`s\u0000rc,${'\u0001,'.repeat(5000)}dst,start\n1,2,3\n`));
    expectShort(message);
    expect(message).toMatch(/^cdr\.csv:1: no column "src" \(for src\) in the header; its columns: s\\x00rc, \\x01/);
  });

  it('quote a start time that is no time as an excerpt', async () => {
    const message = await asyncMessageOf(() => read(`src,dst,start\n13800000000,13900000000,\u0000${HUGE}\n`));
    expectShort(message);
    expect(message).toMatch(/^cdr\.csv:2: "\\u0000x+…" is not a time/);
  });
});

describe('access-log messages', () => {
  it('quote a header without the needed column as an escaped excerpt', async () => {
    const text = `${Array.from({ length: 3000 }, (_, i) => `c\u0000${i}`).join(',')}\n1,2\n`;
    const message = await asyncMessageOf(async () => {
      for await (const line of parseAccessLog(Readable.from([Buffer.from(text)]), { format: 'csv', timeZone: 'Asia/Shanghai', source: 'log.csv' })) void line;
    });
    expectShort(message);
    expect(message).toMatch(/the header has no column "ts" for ts \(columns: c\\x000, c\\x001, /);
  });
});
