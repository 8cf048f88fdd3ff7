import { createRequire } from 'node:module';
import type { Random } from '../../src/lib/generate/random.js';

// Mutations of a seed input: byte-level (flips, inserted NUL/control/UTF-16/invalid UTF-8, huge
// fields, very long lines, quotes, truncation, splicing two inputs) and structure-aware ones for
// JSON, JSON lines, CSV, url-encoded forms, MIME and XLSX (a ZIP of XML). Each returns the new input
// and a short name, so a finding says which shape of input caused it.

const require = createRequire(import.meta.url);

export type Structure = 'text' | 'csv' | 'json' | 'jsonl' | 'form' | 'mime' | 'xlsx' | 'pgaudit';

export interface Limits {
  /** Longest field or run a mutation inserts, bytes (CI keeps this small; `npm run fuzz` raises it). */
  maxField: number;
  /** Deepest JSON or MIME nesting a mutation writes. */
  maxDepth: number;
}

export const CI_LIMITS: Limits = { maxField: 48 * 1024, maxDepth: 3000 };

export interface Mutation {
  name: string;
  apply(input: Buffer, rng: Random, ctx: MutationContext): Buffer | Promise<Buffer>;
}

export interface MutationContext {
  limits: Limits;
  /** Other seeds of the same parser, for splicing. */
  corpus: readonly Buffer[];
}

// ---------------------------------------------------------------------------------------------------
// Special bytes and values

const SPECIAL_BYTES: Buffer[] = [
  Buffer.from([0]),
  Buffer.from([0, 0, 0, 0]),
  Buffer.from([1]),
  Buffer.from([0x1b]),
  Buffer.from([0x7f]),
  Buffer.from([0x0b, 0x0c]),
  Buffer.from('\r'),
  Buffer.from('\n'),
  Buffer.from('\r\n\r\n'),
  Buffer.from('"'),
  Buffer.from('""'),
  Buffer.from("'"),
  Buffer.from(','),
  Buffer.from('\t'),
  Buffer.from('\\'),
  Buffer.from('\\u0000'),
  Buffer.from('%00'),
  Buffer.from([0xef, 0xbb, 0xbf]), // a BOM in the middle
  Buffer.from([0xff, 0xfe]), // a UTF-16LE BOM
  Buffer.from([0xc3, 0x28]), // invalid UTF-8 continuation
  Buffer.from([0xc0, 0xaf]), // overlong
  Buffer.from([0xed, 0xa0, 0x80]), // a UTF-8-encoded surrogate
  Buffer.from([0xf4, 0x90, 0x80, 0x80]), // beyond U+10FFFF
  Buffer.from([0xe4, 0xb8]), // a cut CJK character
  Buffer.from('\u202e\u200b\ufeff'), // bidi override, zero width, BOM as characters
  Buffer.from('１３９１２３４５６７８'), // full-width digits
  Buffer.from('\ud83d\ude00'), // an emoji (astral)
  Buffer.from('王丽华'),
  Buffer.from('\u00e9'),
  Buffer.from('-1'),
  Buffer.from('99999999999999999999999'),
  Buffer.from('0000-01-01T00:00:00Z'),
  Buffer.from('10000-01-01T00:00:00Z'),
  Buffer.from('1950-06-01 12:00:00'),
  Buffer.from('NaN'),
  Buffer.from('/*'),
  Buffer.from('--'),
  Buffer.from('From '),
  Buffer.from('\n.\n'),
  Buffer.from('=?utf-8?b?'),
];

const HUGE_UNITS = ['A', 'x', '9', '"', ',', '\0', '王', ' ', '\t', '/*', '{', '[', '=', '%41', '\\', 'a@b.c;'];

/** A length drawn log-uniformly from 1..max, so small and huge are both common. */
function logLength(rng: Random, max: number): number {
  return Math.max(1, Math.floor(Math.exp(rng.next() * Math.log(max))));
}

function repeatTo(unit: string, bytes: number): string {
  const u = Buffer.byteLength(unit);
  return unit.repeat(Math.max(1, Math.floor(bytes / u)));
}

function at(input: Buffer, rng: Random): number {
  return rng.int(0, input.length);
}

function insertAt(input: Buffer, pos: number, what: Buffer): Buffer {
  return Buffer.concat([input.subarray(0, pos), what, input.subarray(pos)]);
}

/** A position at a line start, or anywhere if there is no newline. */
function lineStart(input: Buffer, rng: Random): number {
  const pos = at(input, rng);
  const nl = input.lastIndexOf(0x0a, pos - 1);
  return nl + 1;
}

// ---------------------------------------------------------------------------------------------------
// Byte-level mutations

export const BYTE_MUTATIONS: Mutation[] = [
  {
    name: 'flip',
    apply(input, rng) {
      if (!input.length) return Buffer.from([rng.int(0, 255)]);
      const out = Buffer.from(input);
      for (let n = rng.int(1, 8); n > 0; n--) out[rng.int(0, out.length - 1)] ^= 1 << rng.int(0, 7);
      return out;
    },
  },
  {
    name: 'random-byte',
    apply(input, rng) {
      if (!input.length) return Buffer.from([rng.int(0, 255)]);
      const out = Buffer.from(input);
      for (let n = rng.int(1, 8); n > 0; n--) out[rng.int(0, out.length - 1)] = rng.int(0, 255);
      return out;
    },
  },
  { name: 'special', apply: (input, rng) => insertAt(input, at(input, rng), rng.pick(SPECIAL_BYTES)) },
  {
    name: 'special-many',
    apply(input, rng) {
      let out = input;
      for (let n = rng.int(2, 12); n > 0; n--) out = insertAt(out, at(out, rng), rng.pick(SPECIAL_BYTES));
      return out;
    },
  },
  { name: 'nul', apply: (input, rng) => insertAt(input, at(input, rng), Buffer.from([0])) },
  { name: 'huge-run', apply: (input, rng, ctx) => insertAt(input, at(input, rng), Buffer.from(repeatTo(rng.pick(HUGE_UNITS), logLength(rng, ctx.limits.maxField)))) },
  {
    name: 'long-line',
    // Newlines removed over a stretch, or one line repeated without line ends.
    apply(input, rng, ctx) {
      if (rng.chance(0.5)) {
        const from = at(input, rng);
        const to = Math.min(input.length, from + logLength(rng, ctx.limits.maxField));
        const mid = Buffer.from(input.subarray(from, to));
        for (let i = 0; i < mid.length; i++) if (mid[i] === 0x0a || mid[i] === 0x0d) mid[i] = 0x20;
        return Buffer.concat([input.subarray(0, from), mid, input.subarray(to)]);
      }
      const start = lineStart(input, rng);
      let end = input.indexOf(0x0a, start);
      if (end < 0) end = input.length;
      const line = input.subarray(start, end);
      if (!line.length) return input;
      const times = Math.max(1, Math.floor(logLength(rng, ctx.limits.maxField) / line.length));
      return insertAt(input, end, Buffer.concat(Array(times).fill(line)));
    },
  },
  {
    name: 'repeat-lines',
    apply(input, rng, ctx) {
      const start = lineStart(input, rng);
      let end = input.indexOf(0x0a, start);
      end = end < 0 ? input.length : end + 1;
      const line = input.subarray(start, end);
      if (!line.length) return input;
      const times = Math.min(5000, Math.max(1, Math.floor(logLength(rng, ctx.limits.maxField) / line.length)));
      return insertAt(input, end, Buffer.concat(Array(times).fill(line.at(-1) === 0x0a ? line : Buffer.concat([line, Buffer.from('\n')]))));
    },
  },
  { name: 'truncate', apply: (input, rng) => input.subarray(0, at(input, rng)) },
  {
    name: 'delete',
    apply(input, rng) {
      const from = at(input, rng);
      return Buffer.concat([input.subarray(0, from), input.subarray(Math.min(input.length, from + rng.int(1, 64)))]);
    },
  },
  {
    name: 'splice',
    apply(input, rng, ctx) {
      const other = rng.pick(ctx.corpus);
      return Buffer.concat([input.subarray(0, at(input, rng)), other.subarray(rng.int(0, other.length))]);
    },
  },
  {
    name: 'utf16le',
    apply(input, rng) {
      const bom = rng.chance(0.5) ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0);
      return Buffer.concat([bom, Buffer.from(input.toString('utf8'), 'utf16le')]);
    },
  },
  {
    name: 'utf16be',
    apply(input) {
      const le = Buffer.from(input.toString('utf8'), 'utf16le');
      return Buffer.concat([Buffer.from([0xfe, 0xff]), le.swap16()]);
    },
  },
  { name: 'crlf', apply: (input) => Buffer.from(input.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1') },
  { name: 'cr-only', apply: (input) => Buffer.from(input.toString('latin1').replace(/\r?\n/g, '\r'), 'latin1') },
  { name: 'empty', apply: () => Buffer.alloc(0) },
];

// ---------------------------------------------------------------------------------------------------
// JSON

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const EXTREME_DATES = ['0000-01-01T00:00:00Z', '+010000-01-01T00:00:00Z', '10000-01-01T00:00:00Z', '-000001-01-01T00:00:00Z', '1900-01-01T00:00:00+08:00', '1950-06-01 12:00:00', '9999-12-31T23:59:59.999Z', '2026-02-30T10:00:00Z', '2026-11-03T25:61:61Z', '2026-11-03T08:00:00+99:99'];

/** Values a field should not have to deal with but may receive. */
function nastyValue(rng: Random, limits: Limits): Json {
  switch (rng.int(0, 13)) {
    case 0:
      return repeatTo(rng.pick(HUGE_UNITS), logLength(rng, limits.maxField));
    case 1:
      return `a\u0000b`;
    case 2:
      return rng.pick(EXTREME_DATES);
    case 3:
      return rng.pick([1e308, -1e308, 2 ** 64, -0, 0.1, -1, 1.5, Number.MAX_SAFE_INTEGER + 2]);
    case 4:
      return null;
    case 5:
      return rng.pick([true, false]);
    case 6:
      return [];
    case 7:
      return {};
    case 8:
      return deep(rng.int(10, limits.maxDepth), rng.chance(0.5));
    case 9:
      return '';
    case 10:
      return rng.pick(['\ud800', '\udfff\ud800', '\u202e+8613912345678', '１３９１２３４５６７８', '+86 139/1234_5678', ' ']);
    case 11:
      return Array.from({ length: rng.int(2, 2000) }, (_, i) => String(i));
    case 12:
      return rng.pick(['__proto__', 'constructor', 'toString', '{"a":1}', '<script>', "'; DROP TABLE x; --"]);
    default:
      return `${rng.pick(['+8613912345678', '13912345678', 'li.na@trap.example.org', '48213'])}${rng.pick(['', '\u0000', ' ', '\n', '"'])}`;
  }
}

/**
 * Nested arrays or objects: a placeholder string, expanded by `serialise` (JSON.stringify itself would
 * overflow the stack on the depths we want).
 */
function deep(depth: number, arrays: boolean): Json {
  return `\u0001deep:${depth}:${arrays ? 'a' : 'o'}`;
}

function serialise(doc: Json, indent?: number): string {
  return JSON.stringify(doc, null, indent).replace(/"\\u0001deep:(\d+):([ao])"/g, (_m, depth: string, kind: string) => {
    const n = Number(depth);
    return kind === 'a' ? `${'['.repeat(n)}"x"${']'.repeat(n)}` : `${'{"coding":'.repeat(n)}"x"${',"code":"x"}'.repeat(n)}`;
  });
}

/** Every path to a value in the document (objects and arrays included), breadth first, capped. */
function paths(doc: Json, cap = 500): (string | number)[][] {
  const out: (string | number)[][] = [];
  const queue: { v: Json; p: (string | number)[] }[] = [{ v: doc, p: [] }];
  while (queue.length && out.length < cap) {
    const { v, p } = queue.shift()!;
    out.push(p);
    if (Array.isArray(v)) v.forEach((x, i) => queue.push({ v: x, p: [...p, i] }));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) queue.push({ v: x, p: [...p, k] });
  }
  return out;
}

function setAt(doc: Json, p: (string | number)[], value: Json | undefined): Json {
  if (!p.length) return value ?? null;
  let parent = doc as Record<string | number, Json>;
  for (const k of p.slice(0, -1)) parent = parent[k] as Record<string | number, Json>;
  const last = p[p.length - 1];
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else parent[last] = value;
  return doc;
}

/** One structural change of a parsed JSON document. */
function mutateJsonDoc(doc: Json, rng: Random, limits: Limits): Json {
  const all = paths(doc);
  const p = rng.pick(all);
  switch (rng.int(0, 5)) {
    case 0:
      return p.length ? setAt(doc, p, undefined) : doc; // drop a key
    case 1: {
      // an unknown key, or a duplicate of a known one with another value
      const target = p.length ? p : [];
      let node = doc as Json;
      for (const k of target) node = (node as Record<string | number, Json>)[k];
      if (node && typeof node === 'object' && !Array.isArray(node)) (node as Record<string, Json>)[rng.pick(['extra', '__proto__', 'id', 'to', ''])] = nastyValue(rng, limits);
      return doc;
    }
    case 2:
      return setAt(doc, p, deep(rng.int(100, limits.maxDepth), rng.chance(0.5)));
    default:
      return setAt(doc, p, nastyValue(rng, limits));
  }
}

function parseJsonLoose(text: string): Json | undefined {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

const jsonMutation: Mutation = {
  name: 'json',
  apply(input, rng, ctx) {
    const doc = parseJsonLoose(input.toString('utf8'));
    if (doc === undefined) return input;
    const out = serialise(mutateJsonDoc(doc, rng, ctx.limits), rng.chance(0.3) ? 2 : undefined);
    return Buffer.from(rng.chance(0.2) ? out.replace(/\\u0000/g, '\u0000') : out);
  },
};

const jsonlMutation: Mutation = {
  name: 'jsonl',
  apply(input, rng, ctx) {
    const lines = input.toString('utf8').split('\n');
    const candidates = lines.map((l, i) => [l, i] as const).filter(([l]) => parseJsonLoose(l) !== undefined);
    if (!candidates.length) return input;
    const [line, i] = rng.pick(candidates);
    lines[i] = serialise(mutateJsonDoc(parseJsonLoose(line)!, rng, ctx.limits));
    return Buffer.from(lines.join('\n'));
  },
};

// ---------------------------------------------------------------------------------------------------
// CSV (and pgaudit's csvlog, whose message field is itself CSV)

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function csvFieldValue(rng: Random, limits: Limits): string {
  switch (rng.int(0, 11)) {
    case 0:
      return repeatTo(rng.pick(HUGE_UNITS), logLength(rng, limits.maxField));
    case 1:
      return 'a"b'; // a quote inside an unquoted field
    case 2:
      return '"a\nb"'; // a quoted newline
    case 3:
      return '"unclosed';
    case 4:
      return rng.pick(EXTREME_DATES);
    case 5:
      return `x\u0000y`;
    case 6:
      return '';
    case 7:
      return rng.pick(['１３９１２３４５６７８', '139/1234/5678', '139_1234_5678', '+86 (139) 1234-5678', '00861391234567899999']);
    case 8:
      return `"${repeatTo('""', logLength(rng, limits.maxField))}"`;
    case 9:
      return rng.pick(['=cmd|" /C calc"!A0', '@SUM(1)', '\u202egpj.exe']);
    case 10:
      return `"${'/* '.repeat(logLength(rng, limits.maxField / 3))}"`;
    default:
      return String(rng.int(-1, 99999999));
  }
}

const csvMutation: Mutation = {
  name: 'csv',
  apply(input, rng, ctx) {
    const lines = input.toString('utf8').split('\n');
    const i = rng.int(0, lines.length - 1);
    const fields = splitCsvLine(lines[i]);
    switch (rng.int(0, 4)) {
      case 0:
        fields.splice(rng.int(0, fields.length), 0, csvFieldValue(rng, ctx.limits)); // an extra column
        break;
      case 1:
        fields.splice(rng.int(0, fields.length - 1), 1); // a missing column
        break;
      case 2:
        for (let n = rng.int(100, 20000); n > 0; n--) fields.push(''); // very many columns
        break;
      default:
        fields[rng.int(0, fields.length - 1)] = csvFieldValue(rng, ctx.limits);
    }
    lines[i] = fields.join(',');
    return Buffer.from(lines.join('\n'));
  },
};

/** pgaudit: a statement in the AUDIT message that makes the SQL reader work (comments, IN lists, literals). */
const pgauditMutation: Mutation = {
  name: 'pgaudit-statement',
  apply(input, rng, ctx) {
    const n = logLength(rng, ctx.limits.maxField / 4);
    const tricky = rng.pick([
      `SELECT * FROM births WHERE birth_id = 48213 ${'/* '.repeat(n)}`,
      `SELECT * FROM births WHERE birth_id IN (${Array.from({ length: Math.min(n, 20000) }, (_, i) => i).join(',')})`,
      `SELECT * FROM births WHERE birth_id = '${"''".repeat(n)}'`,
      `SELECT * FROM births b ${'JOIN births b2 ON true '.repeat(Math.min(n, 2000))} WHERE b.birth_id = 1`,
      `SELECT * FROM births WHERE birth_id = ANY(ARRAY[${'1,'.repeat(Math.min(n, 20000))}2])`,
      `SELECT * FROM births WHERE birth_id = 48213 ${'-- x\n'.repeat(Math.min(n, 20000))}`,
      `UPDATE births SET ${'a = 1, '.repeat(Math.min(n, 5000))} x = 2 WHERE birth_id = $1`,
      `SELECT * FROM births WHERE birth_id = 48213\u0000`,
    ]);
    const statement = `"${tricky.replace(/"/g, '""')}"`;
    const message = `AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.births,${statement},<none>`;
    const line = `2026-11-03 08:15:02.123 CST,"dr_wang","hospital",24817,"10.2.0.15:52114",6543a1b2.60f1,2,"SELECT",2026-11-03 08:14:55 CST,3/1021,0,LOG,00000,"${message.replace(/"/g, '""')}",,,,,,,,,"emr-web","client backend",,0`;
    return insertAt(input, lineStart(input, rng), Buffer.from(line + '\n'));
  },
};

// ---------------------------------------------------------------------------------------------------
// url-encoded forms (Twilio)

const formMutation: Mutation = {
  name: 'form',
  apply(input, rng, ctx) {
    const params = [...new URLSearchParams(input.toString('utf8'))];
    const i = rng.int(0, Math.max(0, params.length - 1));
    const value = () => {
      const v = nastyValue(rng, ctx.limits);
      return typeof v === 'string' ? v : serialise(v);
    };
    switch (rng.int(0, 4)) {
      case 0:
        params.splice(i, 1);
        break;
      case 1:
        params.push([params[i]?.[0] ?? 'To', value()]); // a repeated name
        break;
      case 2:
        for (let n = rng.int(10, 3000); n > 0; n--) params.push([`p${n}`, 'x']);
        break;
      default:
        if (params[i]) params[i] = [params[i][0], value()];
    }
    let text = new URLSearchParams(params).toString();
    if (rng.chance(0.2)) text = text.replace(/%00|%25/, rng.pick(['%', '%G1', '%0', '%E4%B8']));
    return Buffer.from(text);
  },
};

// ---------------------------------------------------------------------------------------------------
// MIME

const mimeMutation: Mutation = {
  name: 'mime',
  apply(input, rng, ctx) {
    const text = input.toString('latin1');
    const split = text.search(/\r?\n\r?\n/);
    const head = split < 0 ? text : text.slice(0, split);
    const body = split < 0 ? '' : text.slice(split);
    const big = () => repeatTo(rng.pick(HUGE_UNITS), logLength(rng, ctx.limits.maxField));
    const setHeader = (name: string, value: string) => {
      const re = new RegExp(`^${name}:.*$`, 'im');
      return re.test(head) ? head.replace(re, () => `${name}: ${value}`) : `${head}\n${name}: ${value}`;
    };
    switch (rng.int(0, 9)) {
      case 0:
        return Buffer.from(setHeader('Message-ID', `<${big()}@x>`) + body, 'latin1');
      case 1:
        return Buffer.from(setHeader('Date', rng.pick(['Sat, 1 Jan 10000 00:00:00 +0000', 'Mon, 1 Jan 0000 00:00:00 +0000', 'Thu, 1 Jan 1950 00:00:00 +0000', 'yesterday', 'Fri, 31 Feb 2026 25:00:00 +9999'])) + body, 'latin1');
      case 2:
        return Buffer.from(setHeader(rng.pick(['Subject', 'X-Big', 'To', 'References']), big()) + body, 'latin1');
      case 3: {
        // many MIME parts
        const parts = logLength(rng, Math.max(2, Math.floor(ctx.limits.maxField / 40)));
        const b = 'b0undary';
        const many = Array.from({ length: parts }, (_, k) => `--${b}\nContent-Type: text/plain\n\npart ${k}\n`).join('') + `--${b}--\n`;
        return Buffer.from(setHeader('Content-Type', `multipart/mixed; boundary="${b}"`) + '\n\n' + many, 'latin1');
      }
      case 4: {
        // deeply nested multiparts
        const depth = logLength(rng, Math.min(ctx.limits.maxDepth, 2000));
        let inner = 'Content-Type: text/plain\n\ninnermost\n';
        for (let d = 0; d < depth; d++) inner = `Content-Type: multipart/mixed; boundary="n${d}"\n\n--n${d}\n${inner}--n${d}--\n`;
        return Buffer.from(head.replace(/^Content-Type:.*$/im, '') + '\n' + inner, 'latin1');
      }
      case 5:
        return Buffer.from(setHeader('Subject', rng.pick(['=?utf-8?b?////?=', '=?gb2312?q?=C0=EE=C4=C8?=', '=?x-unknown?q?abc?=', '=?utf-8?q?a=00b?='])) + body, 'latin1');
      case 6:
        return Buffer.from(setHeader('Content-Transfer-Encoding', rng.pick(['base64', 'quoted-printable', 'x-uuencode', '8bit'])) + body.replace(/[a-z]/g, (c) => (rng.chance(0.05) ? '=' : c)), 'latin1');
      case 7:
        return Buffer.from(setHeader(rng.pick(['To', 'Cc', 'Delivered-To']), rng.pick(['li.na@trap.example.org\u0000', `${'a'.repeat(3000)}@trap.example.org`, 'undisclosed-recipients:;', '"x" <>', '<li.na@trap.example.org>, '.repeat(500)])) + body, 'latin1');
      case 8:
        return Buffer.from(setHeader('Content-Type', rng.pick(['text/plain; charset=x-unknown', 'text/html', 'multipart/mixed', 'text/plain; charset=utf-16', 'multipart/alternative; boundary=""'])) + body, 'latin1');
      default:
        return Buffer.from(head + body.replace(/\n/g, () => (rng.chance(0.05) ? '\n\u0000' : '\n')), 'latin1');
    }
  },
};

// ---------------------------------------------------------------------------------------------------
// XLSX: unzip, mutate one XML part (or the structure), zip again

interface JSZipFile {
  async(type: 'nodebuffer'): Promise<Buffer>;
}
interface JSZipLike {
  files: Record<string, JSZipFile & { dir: boolean }>;
  file(name: string, data: Buffer | string): void;
  remove(name: string): void;
  generateAsync(options: { type: 'nodebuffer'; compression?: string }): Promise<Buffer>;
}
type JSZipCtor = { loadAsync(data: Buffer): Promise<JSZipLike> };

const xlsxMutation: Mutation = {
  name: 'xlsx',
  async apply(input, rng, ctx) {
    const JSZip = require('jszip') as JSZipCtor;
    let zip: JSZipLike;
    try {
      zip = await JSZip.loadAsync(input);
    } catch {
      return input;
    }
    const names = Object.keys(zip.files).filter((n) => !zip.files[n].dir);
    const sheets = names.filter((n) => /worksheets\/sheet\d*\.xml$/.test(n));
    const name = sheets.length && rng.chance(0.7) ? rng.pick(sheets) : rng.pick(names);
    let xml = (await zip.files[name].async('nodebuffer')).toString('utf8');
    switch (rng.int(0, 8)) {
      case 0:
        zip.remove(name);
        break;
      case 1:
        xml = xml.replace(/ r="[A-Z]+(\d+)"/g, (_m, row: string) => (rng.chance(0.3) ? ` r="XFD${row}"` : _m));
        break;
      case 2:
        xml = xml.replace(/<row r="(\d+)"/, () => `<row r="${rng.pick(['1048576', '99999999', '0', '-1', 'x'])}"`);
        break;
      case 3:
        xml = xml.slice(0, rng.int(0, xml.length)); // truncated XML
        break;
      case 4:
        xml = xml.replace('<sheetData>', `<sheetData>${'<x>'.repeat(logLength(rng, ctx.limits.maxDepth))}`);
        break;
      case 5:
        xml = xml.replace(/<v>[^<]*<\/v>/, () => `<v>${repeatTo(rng.pick(HUGE_UNITS).replace(/[<&]/g, ''), logLength(rng, ctx.limits.maxField))}</v>`);
        break;
      case 6:
        xml = xml.replace(/t="s"/, 't="s"').replace(/<v>\d+<\/v>/, '<v>999999</v>'); // a shared string that does not exist
        break;
      case 7:
        xml = `<!DOCTYPE x [<!ENTITY a "${'A'.repeat(1000)}"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>` + xml.replace(/<v>[^<]*<\/v>/, '<v>&b;</v>');
        break;
      default: {
        const b = Buffer.from(xml);
        for (let n = rng.int(1, 6); n > 0 && b.length; n--) b[rng.int(0, b.length - 1)] = rng.int(0, 255);
        xml = b.toString('latin1');
      }
    }
    if (zip.files[name]) zip.file(name, xml);
    return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
  },
};

const STRUCTURED: Record<Structure, Mutation[]> = {
  text: [],
  csv: [csvMutation],
  pgaudit: [csvMutation, pgauditMutation],
  json: [jsonMutation],
  jsonl: [jsonlMutation],
  form: [formMutation],
  mime: [mimeMutation],
  xlsx: [xlsxMutation],
};

/**
 * One case: a seed and 1–3 mutations, structure-aware ones about half the time. For XLSX the
 * structural mutation runs first (it needs a valid ZIP); byte mutations of a ZIP give corrupt files.
 */
export async function mutateCase(seed: Buffer, structure: Structure, rng: Random, ctx: MutationContext): Promise<{ input: Buffer; shape: string[] }> {
  const structured = STRUCTURED[structure];
  const shape: string[] = [];
  let input = seed;
  const steps = rng.int(1, 3);
  for (let s = 0; s < steps; s++) {
    const useStructure = structured.length > 0 && (structure === 'xlsx' ? s === 0 && rng.chance(0.8) : rng.chance(0.5));
    const m = useStructure ? rng.pick(structured) : rng.pick(BYTE_MUTATIONS);
    try {
      input = await m.apply(input, rng, ctx);
    } catch {
      continue; // a document too deep for JSON.stringify after an earlier step: keep it as it is
    }
    shape.push(m.name);
    // Mutations of mutations can multiply sizes: keep a case within a few huge fields of its seed.
    const cap = seed.length + 4 * ctx.limits.maxField;
    if (input.length > cap) input = input.subarray(0, cap);
    // Byte mutations after a zip was rebuilt mostly just break the ZIP: one is enough.
    if (structure === 'xlsx' && !useStructure) break;
  }
  return { input, shape };
}
