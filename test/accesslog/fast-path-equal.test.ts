import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { addParsed, type Batch } from '../../src/accesslog/batch.js';
import { EventBlock } from '../../src/accesslog/block.js';
import { fastCsvFits, readFastCsv } from '../../src/accesslog/fast-csv.js';
import { fileDigest } from '../../src/accesslog/file-digest.js';
import { checkAccessLogStart, MAX_LINE_CHARS, parseAccessLog, TOO_LONG_REASON } from '../../src/accesslog/parse.js';
import type { ParseOptions } from '../../src/domain/access.js';
import { scratchDir } from '../helpers/db.js';

// The CSV fast path (src/accesslog/fast-csv.ts) and the general reader (src/accesslog/parse.ts) on the
// same logs of tricky lines: the same events (line, stored text), the same canary accesses and the same
// rejects (line, reason, excerpt), batch by batch as an import stores them. Logs the fast path does not
// take (a quote anywhere, a lone CR, UTF-16, a header below line 1) are shown to go to the general reader.

const HEADER = 'event_time,operator,op,patient_id,client_ip,app';
const MAP = { ts: 'event_time', user: 'operator', action: 'op', record: 'patient_id', ip: 'client_ip', system: 'app' } as const;
const CANARY_KEY = 'B-7731';
const canaryOf = new Map([[CANARY_KEY, 'canary-1']]);

interface Read {
  events: [number, string][];
  valid: number;
  rejects: { line: number; reason: string; text: string }[];
  accesses: unknown[];
}

const newBatch = (): Batch => ({ block: new EventBlock(16), accesses: [], rejects: [], valid: 0 });
const readOf = (b: Batch): Read => ({
  events: Array.from({ length: b.block.count }, (_, row) => [b.block.line(row), b.block.text(row)]),
  valid: b.valid,
  rejects: b.rejects,
  accesses: b.accesses,
});

/** The file as the import's general path reads it into a batch. */
async function viaGeneral(file: string, options: ParseOptions): Promise<Read> {
  const batch = newBatch();
  for await (const parsed of parseAccessLog(fs.createReadStream(file), options)) addParsed(batch, parsed, canaryOf);
  return readOf(batch);
}

/** Whether the import takes the fast path for the file, and what it reads there. */
async function viaFast(file: string, options: ParseOptions): Promise<Read | null> {
  const header = await checkAccessLogStart(fs.createReadStream(file), options);
  const digest = await fileDigest(file);
  if (!fastCsvFits('csv', digest, digest.encoding, header)) return null;
  const batch = newBatch();
  await readFastCsv(file, header, options, canaryOf, 0, { batch: () => batch, lineDone: () => undefined, read: () => undefined });
  return readOf(batch);
}

/** Lines of a log after its header, each odd in its own way; `n` the line's number in the file. */
const TRICKY: string[] = [
  `2026-11-10 08:00:00,nurse01,view,R1,10.0.0.1,his`,
  `2026-11-10 08:00:00,nurse01,view,R1,10.0.0.1,his`,
  ` 2026-11-10 08:00:01 , nurse02 , VIEW , ${CANARY_KEY} , 10.0.0.2 , his `,
  `2026-11-10 08:00:59,nurse03,print,${CANARY_KEY}|${CANARY_KEY}; R2 ;,10.0.0.3,`,
  `2026-11-10 08:00:61,nurse04,view,R3,10.0.0.4,his`,
  `2026-11-10 08:00:5x,nurse04,view,R3,10.0.0.4,his`,
  `2026-11-10 25:00:00,nurse05,view,R4,,`,
  `2026-02-30 08:00:00,nurse05,view,R4,,`,
  `yesterday,nurse05,view,R4,,`,
  `,nurse06,view,R5,,`,
  `2026-11-10 08:01:00,,view,R5,,`,
  `2026-11-10 08:01:00,nurse06,,R5,,`,
  `2026-11-10 08:01:00,nurse06,   ,R5,,`,
  `2026-11-10 08:01:01,nurse07,view`,
  `2026-11-10 08:01:01`,
  `2026-11-10 08:01:02,nurse07,view,R6,10.0.0.7,his,extra`,
  `2026-11-10 08:01:02,nurse07,view,R6,10.0.0.7,his,`,
  `,,,,,`,
  ``,
  `   `,
  `\t`,
  `2026-11-10 08:01:03,nurse\t08,view,R7,10.0.0.8,his`,
  `2026-11-10 08:01:04,nurse\x0009,view,${CANARY_KEY},10.0.0.9,his`,
  `2026-11-10 08:01:05,nurse\x1f10,view,R8\x1eR9,10.0.0.10,his`,
  `2026-11-10 08:01:06,nurse\x7f11,view,R10,,his`,
  `2026-11-10 08:01:07,nurse\u008512,view,R11,,his`,
  `2026-11-10 08:01:08,\u00a0nurse13\u00a0,view,R12,,his`,
  `2026-11-10 08:01:09,\ufeffnurse14,view,R13,,his`,
  `2026-11-10 08:01:10,王芳,VİEW,${CANARY_KEY},10.0.0.15,his`,
  `2026-11-10 08:01:11,😀,view,R14,,his`,
  `2026-11-10T08:01:12Z,nurse16,view,R15,,`,
  `2026-11-10T08:01:13+08:00,nurse16,view,R15,,`,
  `1762732807,nurse17,view,R16,,`,
  `1762732807000,nurse17,view,R16,,`,
  `0001-01-01 00:00:00,nurse18,view,R17,,`,
  `1969-07-20 20:17:40,nurse18,view,R17,,`,
  `2026-03-29 02:30:00,nurse19,view,R18,,`,
  `2026-03-29 02:30:59,nurse19,view,R18,,`,
  `2026-10-25 02:30:00,nurse19,view,R18,,`,
  `2026-11-10 08:01:14,${'x'.repeat(100_000)},view,R19,,his`,
  `2026-11-10 08:01:15,nurse20,view,R20,,his,${'y'.repeat(3000)}`,
  `2026-11-10 08:01:16,nurse21,view,${'z'.repeat(700)},,${'王'.repeat(400)}`,
  `${'9'.repeat(2000)},nurse22,view,R21,,his`,
  `2026-11-10 08:01:17,nurse23,view,R22,,his`,
];

/** A log of the tricky lines with these line ends, a BOM before the header when asked. */
function log(end: string, bom = false, header = HEADER): string {
  return (bom ? '\ufeff' : '') + [header, ...TRICKY].join(end);
}

describe('the CSV fast path and the general reader', () => {
  let dir: string;
  let n = 0;
  const write = (content: string | Buffer) => {
    const file = path.join(dir, `log-${++n}.csv`);
    fs.writeFileSync(file, content);
    return file;
  };
  const options = (file: string, timeZone = 'Europe/Berlin'): ParseOptions => ({ format: 'csv', timeZone, map: { ...MAP }, source: file });

  beforeAll(() => {
    dir = scratchDir('fast-path-equal');
  });

  /** Both readers on the file: the fast path must take it, and read what the general reader reads. */
  const expectEqual = async (file: string, timeZone?: string) => {
    const fast = await viaFast(file, options(file, timeZone));
    const general = await viaGeneral(file, options(file, timeZone));
    expect(fast).not.toBeNull();
    expect(fast!.rejects).toEqual(general.rejects);
    expect(fast!.events).toEqual(general.events);
    expect(fast!.accesses).toEqual(general.accesses);
    expect(fast!.valid).toBe(general.valid);
    return general;
  };

  it('reads tricky lines with LF ends to the same events and rejects', async () => {
    const general = await expectEqual(write(log('\n')));
    // The corpus is what it says: events, duplicates and rejects of each kind.
    expect(general.events.length).toBeGreaterThan(20);
    // Lines 2 and 3, and the epoch seconds and milliseconds of one instant.
    expect(general.valid - general.events.length).toBe(2);
    expect(general.accesses.length).toBe(4);
    // Bad times (a minute's second 61 after that minute's lines, 25:00, 30 February, the year 1 in
    // Berlin, before the year 1 UTC), missing fields, wrong widths and an overlong time are rejects.
    expect(general.rejects.map((r) => r.line)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 36, 42, 44]);
    expect(general.rejects.find((r) => r.line === 15)!.reason).toBe('record (patient_id): missing (the row has 3 columns, the header 6)');
    // A rejected long line keeps its first 500 characters and says it was cut.
    const long = general.rejects.find((r) => r.line === 42)!;
    expect(long.text).toHaveLength(501);
    expect(long.text.endsWith('…')).toBe(true);
  });

  it('takes a key whose hash has the canary\'s low bits for what it is: no canary', async () => {
    // K10339143 and B-7731 share the low 24 bits of their hash (the fast path's bit table), not the key.
    const general = await expectEqual(write([HEADER, `2026-11-10 08:00:00,nurse01,view,K10339143,,his`, `2026-11-10 08:00:01,nurse01,list,K10339143;${CANARY_KEY},,his`].join('\n') + '\n'));
    expect(general.accesses).toEqual([expect.objectContaining({ line: 3, canaries: ['canary-1'] })]);
  });

  it('reads them the same with CR LF ends, a BOM, in UTC, and without a line end at the end of the file', async () => {
    await expectEqual(write(log('\r\n', true)), 'UTC');
    await expectEqual(write(log('\n') + '\n2026-11-10 08:01:18,nurse24,view,R23,,his'));
    await expectEqual(write(log('\r\n') + '\r\n2026-11-10 08:01:18,nurse24,view,R23,,his\r\n'));
  });

  it('finds columns whose header differs in case as the general reader does, mapped or not', async () => {
    const general = await expectEqual(write(log('\n', false, 'Event_Time,OPERATOR,op,Patient_ID,client_ip,App')));
    expect(general.events.some(([, text]) => text.includes('R22'))).toBe(true);
    // Unmapped: ts, user and action by their own names, the optional columns found ignoring case.
    const file = write(['ts,user,action,Record,IP,System', '2026-11-10 08:00:00,nurse01,view,R1,10.0.0.1,his'].join('\n'));
    const unmapped: ParseOptions = { format: 'csv', timeZone: 'UTC', source: file };
    const fast = await viaFast(file, unmapped);
    expect(fast).toEqual(await viaGeneral(file, unmapped));
    expect(fast!.events).toEqual([[2, `${Date.parse('2026-11-10T08:00:00Z')}\x1fnurse01\x1fview\x1fsingle\x1fR1\x1fhis\x1f10.0.0.1`]]);
  });

  it('reads a header of other columns, some unmapped, the same', async () => {
    const header = 'app,op,extra,operator,event_time';
    const lines = ['his,view,1,nurse01,2026-11-10 08:00:00', 'lab,VIEW,2,nurse02,2026-11-10 08:00:01,', ',list,,nurse03,bad', 'x,y'];
    const file = write([header, ...lines].join('\n'));
    const map = { ts: 'event_time', user: 'operator', action: 'op', system: 'app' };
    const fast = await viaFast(file, { format: 'csv', timeZone: 'UTC', map, source: file });
    const general = await viaGeneral(file, { format: 'csv', timeZone: 'UTC', map, source: file });
    expect(fast).toEqual(general);
    expect(general.events).toHaveLength(1);
    expect(general.rejects.map((r) => r.line)).toEqual([3, 4, 5]);
  });

  it('rejects a line over the length limit alike, in the middle and at the end of the file', async () => {
    const over = 'x'.repeat(MAX_LINE_CHARS + 10);
    const lines = [HEADER, TRICKY[0], `2026-11-10 08:02:00,${over}`, TRICKY[2], `王${over}`];
    const general = await expectEqual(write(lines.join('\n')));
    expect(general.rejects.map((r) => [r.line, r.reason, r.text.length])).toEqual([
      [3, TOO_LONG_REASON, 500],
      [5, TOO_LONG_REASON, 500],
    ]);
    expect(general.events.map(([line]) => line)).toEqual([2, 4]);
  });

  it('reads a line just under the limit in bytes but not in characters alike', async () => {
    // Four bytes and two UTF-16 units a character: over the limit in bytes, at it in characters.
    const wide = '😀'.repeat(MAX_LINE_CHARS / 2 - 20);
    await expectEqual(write([HEADER, `2026-11-10 08:02:00,${wide},view,R1,,`, TRICKY[0]].join('\r\n')));
  });

  it('reads times around changes of a zone\'s offset alike, hour by hour (the fast path keeps an hour without one)', async () => {
    // Spring and autumn days in zones whose clocks jump by an hour (Berlin, New York) or by half an hour
    // (Lord Howe), minutes at both ends and in the middle of each hour, an hour read again after another,
    // and a second or minute out of range in an hour already kept.
    const days: [string, string][] = [
      ['Europe/Berlin', '2026-03-29'],
      ['Europe/Berlin', '2026-10-25'],
      ['America/New_York', '2026-03-08'],
      ['America/New_York', '2026-11-01'],
      ['Australia/Lord_Howe', '2026-04-05'],
      ['Australia/Lord_Howe', '2026-10-04'],
    ];
    for (const [zone, day] of days) {
      const lines = [HEADER];
      const pad = (n: number) => String(n).padStart(2, '0');
      for (let h = 0; h < 5; h++) {
        for (const m of [0, 1, 29, 30, 31, 59]) for (const s of [0, 59]) lines.push(`${day} ${pad(h)}:${pad(m)}:${pad(s)},nurse${h}${m}${s},view,R${h},,his`);
        lines.push(`${day} ${pad(h)}:58:61,nurse9,view,R1,,his`, `${day} ${pad(h)}:60:00,nurse9,view,R1,,his`, `${day} 01:45:30,nurse${h},view,R2,,his`);
      }
      await expectEqual(write(lines.join('\n') + '\n'), zone);
    }
  });

  it('leaves to the general reader a log with a quote, a lone CR, UTF-16 or blank lines before its header', async () => {
    const declined = [
      log('\n').replace('nurse01', '"nurse01"'),
      log('\n').replace('nurse03', 'nurse"03'),
      log('\r'),
      log('\n').replace('nurse05', 'nurse\r05'),
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(log('\r\n'), 'utf16le')]),
      `\n\n${log('\n')}`,
    ];
    for (const content of declined) {
      const file = write(content);
      expect(await viaFast(file, options(file))).toBeNull();
    }
  });
});
