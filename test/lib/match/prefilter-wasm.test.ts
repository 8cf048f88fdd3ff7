import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import wabt from 'wabt';
import { createRandom } from '../../../src/lib/generate/index.js';
import { PACKAGE_ROOT } from '../../../src/lib/paths.js';
import { BytePrefilter, nibbleTables } from '../../../src/lib/match/prefilter.js';
import { PREFILTER_WASM } from '../../../src/lib/match/prefilter-wasm.js';
import type { CanarySignature } from '../../../src/lib/match/types.js';

// The WebAssembly kernel of the byte pre-filter names the lines the JavaScript pass then reads: the
// candidates of BytePrefilter.scan must be exactly those of scanJs (the pass alone, on the whole
// bytes), on random and adversarial bytes. And the committed bytes must be the .wat's.

const rng = createRandom('prefilter-wasm');
const signatures: CanarySignature[] = Array.from({ length: 200 }, (_, i) => ({
  canaryId: `c${i}`,
  phones: [i % 10 === 0 ? `+1415${rng.int(2_000_000, 9_999_999)}` : `+861${rng.int(3, 9)}${rng.int(100_000_000, 999_999_999)}`],
  emails: [`mama${i}@Mail.trap${i % 3}.example`],
  names: [{ family: '陈', given: '丽华', full: '陈丽华', latin: 'Chen Lihua' }],
  locale: 'zh-CN',
}));
const prefilter = new BytePrefilter(signatures);
const nationals = signatures.map((s) => (s.phones[0].startsWith('+86') ? s.phones[0].slice(3) : s.phones[0].slice(2)));

/** Pieces that matter to one pass or the other, and pieces that do not. */
const PIECES = [
  ...'0123456789', '\n', '\r\n', '@', '*', 'x', 'X', ' ', '-', '.', '/', '(', ')', ',', '\t', 'a', 'Z', '_', '+',
  '\u00a0', '\u00d7', '\u2010', '\u2014', '\u2015', '\u2022', '\u2212', '\u2217', '\u25cf', '\u3000', '\u30fc', '\u201c', '\u2026',
  '\uff08', '\uff09', '\uff0a', '\uff0c', '\uff0d', '\uff0e', '\uff10', '\uff15', '\uff19', '\uff20', '\uff1a', '、', '。',
  '王', '丽', '华', '号', '区', '丂', '亐', '乗', '𠀀', 'é', '·', '＿',
  // In GB18030 埃 is B0 A3 and 薄 B1 A1: out of step, A3 B1 reads as the full-width digit '１'.
  '埃', '薄', '埃薄', '埃１',
];

const SEPARATORS = [' ', '-', '.', '/', '(', ')', '\u00a0', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212', '\u3000', '\u30fc', '\uff08', '\uff09', '\uff0d', '\uff0e'];
const MASKS = ['*', 'x', 'X', '\u25cf', '\uff0a', '\u2022', '\u00d7', '\u2217'];

function piece(): string {
  switch (rng.int(0, 11)) {
    case 0: { // a canary number, whole or cut or glued, sometimes reformatted
      const n = rng.pick(nationals);
      const cut = n.slice(rng.int(0, 3), n.length - rng.int(0, 2));
      return rng.chance(0.5) ? cut : cut.replace(/\d/g, (d) => (rng.chance(0.15) ? rng.pick(['-', ' ', '\uff0d', '*', '\u3000']) + d : d));
    }
    case 1: case 4: { // masked: digits, separators, a mask run, separators, digits
      const n = rng.pick(nationals);
      const seps = () => Array.from({ length: rng.int(0, 3) }, () => (rng.chance(0.6) ? rng.pick([' ', '-', '.']) : rng.pick(SEPARATORS))).join('');
      return `${n.slice(0, rng.pick([2, 3, 3, 5, 7, 8]))}${seps()}${rng.pick(MASKS).repeat(rng.int(1, 9))}${seps()}${n.slice(-rng.int(3, 5))}`;
    }
    case 2: return `${rng.pick(['mama', 'a.b', 'x', ''])}@${rng.pick(['mail.trap0.example', 'MAIL.TRAP1.EXAMPLE', 'mail.trap2.example.', 'mail.trap9.example', 'qq.com', '-'])}`;
    case 3: return String(rng.int(0, 99_999_999_999));
    default: return rng.pick(PIECES);
  }
}

/** Short lines, so that one piece decides whether a line is named. */
function text(lines: number): string {
  return Array.from({ length: lines }, () => Array.from({ length: rng.int(0, 4) }, piece).join('')).join(rng.pick(['\n', '\r\n']));
}

function same(bytes: Uint8Array, encoding: 'utf-8' | 'gb18030'): void {
  const js = prefilter.scanJs(bytes, 1 << 19, encoding);
  const kernel = prefilter.scan(bytes, 1 << 19, encoding);
  expect(kernel.lines).toBe(js.lines);
  expect(kernel.candidates).toEqual(js.candidates);
}

describe('the pre-filter kernel', () => {
  it('is built from the committed .wat (npm run build:wasm)', async () => {
    const w = await wabt();
    const module = w.parseWat('prefilter.wat', fs.readFileSync(path.join(PACKAGE_ROOT, 'src/lib/match/prefilter.wat'), 'utf8'), { simd: true });
    module.validate();
    const { buffer } = module.toBinary({});
    module.destroy();
    expect(PREFILTER_WASM).toBe(Buffer.from(buffer).toString('base64'));
  });

  it('runs here (WebAssembly SIMD)', () => {
    expect(prefilter.usesKernel()).toBe(true);
  });

  it('classifies stop bytes by two nibble tables exactly', () => {
    for (let round = 0; round < 50; round++) {
      const classes = new Uint8Array(256);
      // Stops in a few rows of high nibbles, as the kernel's tables have them (at most eight kinds of row).
      for (let k = 0; k < rng.int(1, 30); k++) classes[(rng.int(0, 7) * 2 + (round & 1)) * 16 + rng.int(0, 15)] = 1;
      const { low, high } = nibbleTables(classes);
      for (let b = 0; b < 256; b++) expect((low[b & 15] & high[b >> 4]) !== 0).toBe(classes[b] !== 0);
    }
  });

  it('gives the candidates of the JavaScript pass on random UTF-8 text', () => {
    for (let round = 0; round < 300; round++) {
      const t = text(rng.int(1, 100));
      same(Buffer.from(t), 'utf-8');
      // At an odd offset in a bigger buffer, as chunks of a file are.
      const b = Buffer.from(`xx${t}`);
      same(b.subarray(2), 'utf-8');
    }
  });

  it('gives the candidates of the JavaScript pass on random GB18030 text and on any bytes read as GB18030', () => {
    for (let round = 0; round < 300; round++) {
      same(iconv.encode(text(rng.int(1, 100)), 'gb18030'), 'gb18030');
      // Any bytes, weighted to leads, digits and the bytes the kernel stops at.
      const raw = Uint8Array.from({ length: rng.int(1, 600) }, () => rng.chance(0.5) ? rng.pick([0x81, 0x80, 0xff, 0xa1, 0xa3, 0xa8, 0xa9, 0xb0, 0xc0, 0xaa, 0x30, 0x35, 0x39, 0x0a, 0x40, 0x2a, 0x78, 0x20, 0x2d]) : rng.int(0, 255));
      same(raw, 'gb18030');
    }
  });

  it('with a canary number of seven digits, tests the last seven alone, and still gives the candidates of the JavaScript pass', () => {
    // Iceland's numbers have seven digits: no eighth to look up.
    const seven = new BytePrefilter([...signatures.slice(0, 20), { canaryId: 'is', phones: ['+3541234567'], emails: [], names: [], locale: 'zh-CN' }]);
    expect(seven.usable).toBe(true);
    for (const line of ['1234567', 'tel 999 123-4567\n', '01234567', '354 1234567']) {
      expect(seven.scan(Buffer.from(line), 1 << 19).candidates).toHaveLength(1);
      expect(seven.scanJs(Buffer.from(line), 1 << 19).candidates).toHaveLength(1);
    }
    for (let round = 0; round < 100; round++) {
      const bytes = Buffer.from(`${text(rng.int(1, 50))}\n1234567\n${rng.int(0, 9)}1234567`);
      const js = seven.scanJs(bytes, 1 << 19);
      expect(seven.scan(bytes, 1 << 19)).toEqual(js);
    }
  });

  it('names few lines in vain: an e-mail after a phone column, digits of several fields that end like a canary', async () => {
    const { jest } = await import('@jest/globals');
    const spy = jest.spyOn(prefilter, 'scanJs'); // called once for each line the kernel names
    try {
      const n = nationals[5];
      // The last seven digits of a canary's but not its eighth; masks ('x') that an e-mail's letters follow.
      const other = `${(Number(n.at(-8)) + 1) % 10}${n.slice(-7)}`;
      const rows = Array.from({ length: 400 }, (_, i) => `${i},王丽华,13${rng.int(100_000_000, 999_999_999)},xu${i}@qq.com,${i}xu@qq.com,1${other},`).join('\n');
      expect(prefilter.scan(Buffer.from(rows), 1 << 19).candidates).toEqual([]);
      expect(spy.mock.calls.length).toBeLessThan(5); // chance hits of a random mobile only
      same(Buffer.from(rows), 'utf-8');
      // Digits of several fields that end like a canary: the kernel's eight digits span fields and
      // name the line, the JS pass's digit groups do not, and drops it.
      const across = Array.from({ length: 20 }, (_, i) => `${i},${n.slice(-8, -4)}室,${n.slice(-4)},1x${n}`).join('\n');
      same(Buffer.from(across), 'utf-8');
    } finally {
      spy.mockRestore();
    }
  });

  it('looks up a GB18030 byte A1 A3 A8 A9 only where it starts a character, not as a trail byte', async () => {
    const { jest } = await import('@jest/globals');
    // 埃 is B0 A3 and 薄 B1 A1: out of step, A3 B1 would be the full-width digit '１'.
    const spy = jest.spyOn(prefilter, 'scanJs');
    try {
      const quiet = iconv.encode(Array.from({ length: 50 }, (_, i) => `${i},埃薄王埃薄,备注埃${'薄'.repeat(i % 5)}`).join('\n'), 'gb18030');
      expect(prefilter.scan(quiet, 1 << 19, 'gb18030').candidates).toEqual([]);
      expect(spy).not.toHaveBeenCalled(); // no line named in vain
      // The same characters in step: a full-width digit after them is looked at, and a canary found.
      const n = nationals[3];
      const loud = iconv.encode(`埃薄,${[...n].map((d) => String.fromCharCode(0xff10 + Number(d))).join('')}\n埃１\n`, 'gb18030');
      same(loud, 'gb18030');
      expect(prefilter.scan(loud, 1 << 19, 'gb18030').candidates).toEqual([expect.objectContaining({ line: 0 })]);
      expect(spy).toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('resumes when more lines are named than its output holds at once', () => {
    const n = nationals[5];
    const lines = Array.from({ length: 70_000 }, (_, i) => (i % 7 === 3 ? `${i},王丽华` : `${i},${n}`));
    const bytes = Buffer.from(lines.join('\n'));
    same(bytes, 'utf-8');
    expect(prefilter.scan(bytes, 1 << 19).candidates.length).toBe(60_000);
  });
});
