import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { parseAccessLog } from '../../src/accesslog/parse.js';
import type { ParseOptions } from '../../src/domain/access.js';
import { parseEvents, readCdr, splitMailbox, parseMessage } from '../../src/ingest/index.js';
import { readRecords, type FileFacts } from '../../src/scan/files.js';
import { genericContact, parseForm, parseJson, telnyxContact } from '../../src/watch/payloads.js';

// Growth cases: one pathological pattern at n and 8n bytes (or the same size with a costlier shape),
// through the pure parser the import uses. Linear work gives a time ratio near the size ratio; a
// ratio past maxRatio is super-linear (a finding). Times are the best of a few runs, so a busy
// machine shows as noise in both, not as growth.

const require = createRequire(import.meta.url);

export interface GrowthCase {
  name: string;
  parser: string;
  /** The input for size n (the large case is built with 8n). */
  build(n: number): Buffer | Promise<Buffer>;
  /** The large input, when it is not build(8n) (same size, costlier shape). */
  buildLarge?(n: number): Buffer | Promise<Buffer>;
  n: number;
  run(input: Buffer): Promise<unknown>;
  /** Largest acceptable time ratio large/small (default 24: 8x the size, 3x slack for noise). */
  maxRatio?: number;
}

const CHUNK = 64 * 1024;
/** A buffer as a stream of 64 KiB chunks, as fs.createReadStream gives a file to the import. */
const chunked = (input: Buffer) => Readable.from((function* () {
  for (let i = 0; i < input.length; i += CHUNK) yield input.subarray(i, i + CHUNK);
})());

async function drain(it: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of it) n++;
  return n;
}

const accessOptions = (format: ParseOptions['format'], extra: Partial<ParseOptions> = {}): ParseOptions => ({ format, timeZone: 'UTC', source: 'growth', recordKey: { table: 'births', column: 'birth_id' }, ...extra });

const PG_PREFIX = '2026-11-03 08:15:02.123 CST,"dr_wang","hospital",24817,"10.2.0.15:52114",6543a1b2.60f1,2,"SELECT",2026-11-03 08:14:55 CST,3/1021,0,LOG,00000,';
const PG_SUFFIX = ',,,,,,,,,"emr-web","client backend",,0\n';
/** A csvlog line whose AUDIT statement is `statement` (quoted twice: in the message, and the message in the line). */
function pgauditLine(statement: string): string {
  const message = `AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.births,"${statement.replace(/"/g, '""')}",<none>`;
  return `${PG_PREFIX}"${message.replace(/"/g, '""')}"${PG_SUFFIX}`;
}

let xlsxDir: string | null = null;

/** A workbook of `rows` rows with one value each, in column `column`. */
async function workbook(rows: number, column: string): Promise<Buffer> {
  const ExcelJS = require('exceljs') as typeof import('exceljs');
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('sheet');
  for (let r = 1; r <= rows; r++) ws.getCell(`${column}${r}`).value = `13912345${String(r % 1000).padStart(3, '0')}`;
  return Buffer.from(await wb.xlsx.writeBuffer());
}

async function scanFile(input: Buffer, ext: string): Promise<number> {
  xlsxDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'cradle-growth-'));
  const file = path.join(xlsxDir, `growth.${ext}`);
  fs.writeFileSync(file, input);
  const facts: FileFacts = { file, bytes: 0, sha256: '', format: '', encoding: '' };
  return drain(readRecords(file, facts, () => {}));
}

const csvHeader = 'ts,user,action,record,ip,system\n';
const eml = (body: string, head = '') => Buffer.from(`From: a@spam.example\nTo: li.na@trap.example.org\nSubject: x\n${head}\n${body}`);

export const GROWTH_CASES: GrowthCase[] = [
  {
    name: 'pgaudit: a statement of unclosed /* comments',
    parser: 'logs-pgaudit',
    n: 12_000,
    // "/* " never closes ("/*/*" would: it holds "*/"), so a lazy match from each opening runs to the end.
    build: (n) => Buffer.from(pgauditLine(`SELECT * FROM births WHERE birth_id = 1 ${'/* '.repeat(n / 3)}`)),
    run: (input) => drain(parseAccessLog(chunked(input), accessOptions('pgaudit'))),
  },
  {
    name: 'pgaudit: a statement of -- comments without line ends',
    parser: 'logs-pgaudit',
    n: 12_000,
    build: (n) => Buffer.from(pgauditLine(`SELECT * FROM births WHERE birth_id = 1 ${'--'.repeat(n / 2)}`)),
    run: (input) => drain(parseAccessLog(chunked(input), accessOptions('pgaudit'))),
  },
  {
    name: 'pgaudit: IN list of n keys',
    parser: 'logs-pgaudit',
    n: 16_000,
    build: (n) => Buffer.from(pgauditLine(`SELECT * FROM births WHERE birth_id IN (${Array.from({ length: n / 6 }, (_, i) => 10000 + i).join(',')})`)),
    run: (input) => drain(parseAccessLog(chunked(input), accessOptions('pgaudit'))),
  },
  {
    name: 'mysql-general: a statement over n lines',
    parser: 'logs-mysql-general',
    n: 64 * 1024,
    build: (n) => Buffer.from(`261103  8:15:02\t    24 Query\tSELECT * FROM births WHERE birth_id = 1\n${'AND x /* \n'.repeat(n / 10)}`),
    run: (input) => drain(parseAccessLog(chunked(input), accessOptions('mysql-general'))),
  },
  {
    name: 'mysql-general: n threads connected, then untimed entries waiting for a time',
    parser: 'logs-mysql-general',
    n: 64 * 1024,
    build: (n) => {
      let text = '';
      for (let i = 0; text.length < n; i++) text += `\t\t ${i} Connect\tu${i}@10.0.0.1 on his using TCP/IP\n\t\t ${i} Query\tSELECT * FROM births WHERE birth_id = ${i}\n`;
      return Buffer.from(`${text}261103  8:15:02\t    1 Quit\t\n`);
    },
    run: (input) => drain(parseAccessLog(chunked(input), accessOptions('mysql-general'))),
  },
  {
    name: 'csv log: one very long line (no line end)',
    parser: 'logs-csv',
    n: 512 * 1024,
    build: (n) => Buffer.from(csvHeader + `2026-11-03 08:00:00,${'u'.repeat(n)},view,1,10.0.0.1,his`),
    run: (input) => drain(parseAccessLog(chunked(input), accessOptions('csv'))),
  },
  {
    name: 'csv log: a quoted field of doubled quotes',
    parser: 'logs-csv',
    n: 256 * 1024,
    build: (n) => Buffer.from(csvHeader + `2026-11-03 08:00:00,"${'""'.repeat(n / 2)}",view,1,10.0.0.1,his\n`),
    run: (input) => drain(parseAccessLog(chunked(input), accessOptions('csv'))),
  },
  {
    name: 'csv log: an unclosed quote before many lines',
    parser: 'logs-csv',
    n: 200_000,
    build: (n) => Buffer.from(csvHeader + '2026-11-03 08:00:00,"nurse,view,1,10.0.0.1,his\n' + '2026-11-03 08:00:00,nurse,view,1,10.0.0.1,his\n'.repeat(n / 46)),
    run: (input) => drain(parseAccessLog(chunked(input), accessOptions('csv'))),
  },
  {
    name: 'jsonl log: nested arrays in one line',
    parser: 'logs-jsonl',
    n: 4_000,
    build: (n) => Buffer.from(`{"ts":"2026-11-03T08:00:00Z","user":${'['.repeat(n / 2)}1${']'.repeat(n / 2)},"action":"view","record":"1"}\n`),
    run: (input) => drain(parseAccessLog(chunked(input), accessOptions('jsonl'))).catch(() => 0),
  },
  {
    name: 'fhir log: one AuditEvent with a huge display text',
    parser: 'logs-fhir',
    n: 1024 * 1024,
    build: (n) => Buffer.from(JSON.stringify({ resourceType: 'AuditEvent', recorded: '2026-11-03T08:00:00Z', agent: [{ who: { identifier: { value: 'u1' } }, requestor: true }], entity: [{ what: { reference: 'Patient/1' } }], subtype: [{ code: 'read' }], source: { observer: { display: 'x'.repeat(n) } } }) + '\n'),
    run: (input) => drain(parseAccessLog(chunked(input), accessOptions('fhir'))),
  },
  {
    name: 'cdr: a field of n bytes',
    parser: 'cdr-asterisk',
    n: 256 * 1024,
    build: (n) => Buffer.from(`"","13700001111","13912345678","from-trunk","${'x'.repeat(n)}","SIP/a","SIP/b","Dial","x","2026-11-24 10:15:02","","2026-11-24 10:16:11",69,62,"ANSWERED","DOCUMENTATION","1.1",""\n`),
    run: (input) => drain(readCdr(chunked(input), { format: 'asterisk' }, { label: 'growth', timeZone: 'UTC', region: 'CN' })).catch(() => 0),
  },
  {
    name: 'mbox: n bytes of one-line messages',
    parser: 'mbox',
    n: 512 * 1024,
    build: (n) => Buffer.from('From a@b Fri Nov 27 01:30:00 2026\nSubject: x\n\nhi\n'.repeat(n / 48)),
    run: async (input) => splitMailbox(input).length,
  },
  {
    name: 'mail: n bytes of MIME parts',
    parser: 'mail',
    n: 24 * 1024,
    build: (n) => eml(Array.from({ length: n / 40 }, (_, k) => `--b\nContent-Type: text/plain\n\npart ${k}\n`).join('') + '--b--\n', 'Content-Type: multipart/mixed; boundary="b"\n'),
    run: (input) => parseMessage(input),
  },
  {
    name: 'mail: one header of n bytes',
    parser: 'mail',
    n: 128 * 1024,
    build: (n) => eml('hi\n', `X-Big: ${'a'.repeat(n)}\n`),
    run: (input) => parseMessage(input),
  },
  {
    name: 'mail: a Message-ID of n bytes',
    parser: 'mail',
    n: 64 * 1024,
    build: (n) => eml('hi\n', `Message-ID: <${'a'.repeat(n)}@x>\n`),
    run: (input) => parseMessage(input),
  },
  {
    name: 'event: an array of n bytes of events',
    parser: 'event',
    n: 128 * 1024,
    build: (n) => Buffer.from(JSON.stringify(Array.from({ length: n / 90 }, (_, i) => ({ kind: 'sms', to: '+8613912345678', occurredAt: '2026-11-28T10:00:00Z', id: `e${i}` })))),
    run: async (input) => parseEvents(input.toString('utf8'), 'growth', 'CN').length,
  },
  {
    name: 'twilio form: n bytes of parameters',
    parser: 'webhook-twilio-sms',
    n: 512 * 1024,
    build: (n) => Buffer.from(Array.from({ length: n / 10 }, (_, i) => `p${i}=x%20y`).join('&')),
    run: async (input) => parseForm(input),
  },
  {
    name: 'generic/telnyx JSON: nested n deep',
    parser: 'webhook-generic',
    n: 4_000,
    build: (n) => Buffer.from(`{"id":"g","kind":"sms","from":null,"to":"+8613912345678","body":${'['.repeat(n / 2)}${']'.repeat(n / 2)}}`),
    run: async (input) => {
      const doc = parseJson(input);
      if (doc.ok) {
        const arrival = { raw: input, headers: {}, remoteAddr: null, receivedAt: new Date() };
        genericContact(doc.value, arrival);
        telnyxContact(doc.value, arrival);
      }
    },
  },
  {
    name: 'scan text: one line of n bytes',
    parser: 'scan-text',
    n: 1 << 20,
    build: (n) => Buffer.from('王丽华 13912345678 '.repeat(n / 24)),
    run: (input) => scanFile(input, 'txt'),
  },
  {
    name: 'scan json: an object that never closes',
    parser: 'scan-json',
    n: 256 * 1024,
    build: (n) => Buffer.from('{\n' + '  "name": "王丽华", "phone": "13912345678",\n'.repeat(n / 48)),
    run: (input) => scanFile(input, 'json'),
  },
  {
    name: 'scan xlsx: the same rows in column XFD instead of A',
    parser: 'scan-xlsx',
    n: 300,
    build: (n) => workbook(n, 'A'),
    buildLarge: (n) => workbook(n, 'XFD'),
    run: (input) => scanFile(input, 'xlsx'),
    // The same bytes (give or take the cell references): the time should stay about the same.
    maxRatio: 4,
  },
];

export interface GrowthResult {
  smallBytes: number;
  largeBytes: number;
  smallMs: number;
  largeMs: number;
  ratio: number;
  ok: boolean;
}

async function best(run: () => Promise<unknown>, times: number): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    // A parser's refusal (an error) still took its time; the fuzz targets judge the error itself.
    await run().catch(() => undefined);
    min = Math.min(min, performance.now() - start);
  }
  return min;
}

/** Below this the large case is fast enough whatever the ratio (timer noise dominates). */
const FAST_ENOUGH_MS = 60;

export async function measureGrowth(g: GrowthCase): Promise<GrowthResult> {
  const small = await g.build(g.n);
  const large = g.buildLarge ? await g.buildLarge(g.n) : await g.build(8 * g.n);
  await g.run(small).catch(() => undefined); // warm up (JIT, lazy requires)
  // Small and large runs alternate, so that a busy spell of the machine falls on both, and the best
  // of each counts. Floored at 5 ms: below that, timer resolution and a GC pause would make any ratio meaningless.
  let smallMs = Infinity, largeMs = Infinity;
  for (let round = 0; round < 4; round++) {
    smallMs = Math.min(smallMs, await best(() => g.run(small), 1));
    largeMs = Math.min(largeMs, await best(() => g.run(large), 1));
  }
  smallMs = Math.max(smallMs, 5);
  const ratio = largeMs / smallMs;
  return { smallBytes: small.length, largeBytes: large.length, smallMs, largeMs, ratio, ok: largeMs < FAST_ENOUGH_MS || ratio <= (g.maxRatio ?? 24) };
}
