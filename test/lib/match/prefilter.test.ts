import { describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import { createRandom } from '../../../src/lib/generate/index.js';
import { CanaryMatcher } from '../../../src/lib/match/matcher.js';
import { BytePrefilter } from '../../../src/lib/match/prefilter.js';
import type { CanarySignature } from '../../../src/lib/match/types.js';

// The byte pass may name a line in vain but must never miss one the matcher's phone and e-mail
// indexes would find: checked on lines built to be hard (reformatted, masked, full-width, glued to
// other digits, mixed with noise), against the text pass it stands in for.

const rng = createRandom('prefilter');
const signatures: CanarySignature[] = Array.from({ length: 300 }, (_, i) => ({
  canaryId: `c${i}`,
  phones: [i % 10 === 0 ? `+1415${rng.int(2_000_000, 9_999_999)}` : `+861${rng.int(3, 9)}${rng.int(100_000_000, 999_999_999)}`],
  emails: [`mama${i}@mail.trap${i % 3}.example`],
  names: [{ family: '陈', given: '丽华', full: '陈丽华', latin: 'Chen Lihua' }],
  locale: 'zh-CN',
}));
const matcher = new CanaryMatcher(signatures);
const prefilter = new BytePrefilter(signatures);

const fullWidth = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));
const SEPARATORS = [' ', '-', '.', '/', '\u3000', '\u2014', '\uff0d', '\u00a0', '  ', ' - '];
const MASKS = ['*', 'x', 'X', '●', '＊', '•', '×'];

function rendering(national: string): string {
  const sep = rng.pick(SEPARATORS);
  const mask = rng.pick(MASKS);
  switch (rng.int(0, 9)) {
    case 0: return national;
    case 1: return `+86${sep}${national.slice(0, 3)}${sep}${national.slice(3, 7)}${sep}${national.slice(7)}`;
    case 2: return `0086${national}`;
    case 3: return fullWidth(national);
    case 4: return `${national.slice(0, 3)}${mask.repeat(4)}${national.slice(7)}`;
    case 5: return `${national.slice(0, 7)}${mask.repeat(4)}`;
    case 6: return `(${national.slice(0, 3)}) ${national.slice(3, 6)}-${national.slice(6)}`;
    case 7: return `${national.slice(0, 3)}${sep}${mask.repeat(4)}${sep}${national.slice(7)}`;
    case 8: return `${rng.int(0, 9)}${national}${rng.int(0, 9)}`; // glued to other digits: no match
    default: return `1${national.slice(0, 4)}${sep}${national.slice(4)}`;
  }
}

function noise(): string {
  const parts = ['王丽华', '2026-11-03 08:12', String(rng.int(0, 99_999_999)), 'Zhang Wei', '鼓楼区', 'tel:', ',', '\t', '"', ' ', '号', '１２', 'abc@qq.com'];
  return Array.from({ length: rng.int(0, 6) }, () => rng.pick(parts)).join(rng.pick(['', ',', ' ']));
}

function line(): string {
  const s = rng.pick(signatures);
  const national = s.phones[0].startsWith('+86') ? s.phones[0].slice(3) : s.phones[0].slice(2);
  const evidence = rng.chance(0.2) ? (rng.chance(0.5) ? s.emails[0].toUpperCase() : `${s.emails[0]}.`) : rendering(national);
  return `${noise()}${rng.pick(['', ',', ' ', '电话'])}${evidence}${rng.pick(['', ',', ' ', '。', '号'])}${noise()}`;
}

describe('BytePrefilter', () => {
  it('names every line in which the text pass finds a canary phone or e-mail', () => {
    const lines = Array.from({ length: 20_000 }, line);
    const { lines: ends, candidates } = prefilter.scan(Buffer.from(lines.join('\n') + '\n'), 1 << 19);
    expect(ends).toBe(lines.length);
    const named = new Set(candidates.map((c) => c.line));
    const missed = lines.filter((l, i) => matcher.candidates(l).length > 0 && !named.has(i));
    expect(missed).toEqual([]);
    // And it is a filter: the text pass confirms most of what it names.
    const confirmed = [...named].filter((i) => matcher.candidates(lines[i]).length > 0).length;
    expect(confirmed / named.size).toBeGreaterThan(0.8);
    expect(named.size).toBeGreaterThan(lines.length * 0.5);
  });

  it('names no line of ordinary records and counts their line ends', () => {
    const text = Array.from({ length: 5000 }, (_, i) => `${i},王丽华,13${rng.int(100_000_000, 999_999_999)},2026-11-03,abc${i}@qq.com,138****${rng.int(1000, 9999)}`).join('\r\n');
    const { lines, candidates } = prefilter.scan(Buffer.from(text), 1 << 19);
    expect(lines).toBe(4999);
    expect(candidates.length).toBeLessThan(25); // chance hits of seven digits in a bit set of 300 numbers
  });

  it('gives each candidate its line and the line start', () => {
    const p = signatures[1].phones[0].slice(3);
    const text = `a\nb ${p}\nc\nmail ${signatures[2].emails[0]}\n`;
    const { candidates } = prefilter.scan(Buffer.from(text), 1 << 19);
    expect(candidates.map((c) => [c.line, c.start])).toEqual([[1, 2], [3, text.indexOf('mail')]]);
  });

  it('reads GB18030 bytes as well: every line the text pass finds, and the same line ends', () => {
    // Lines made to be hard in GBK: full-width digits and separators, ●/×/＊ masks, Han characters
    // whose trail byte is an ASCII letter or '@', and characters GB18030 writes in four bytes (digits
    // among their bytes) right before a phone.
    const hard = ['\u00a0', '𠀀', '丂', '亐', '乗'];
    const lines = Array.from({ length: 20_000 }, () => `${rng.pick(hard)}${line()}${rng.pick(hard)}`);
    const bytes = iconv.encode(lines.join('\n') + '\n', 'gb18030');
    const { lines: ends, candidates } = prefilter.scan(bytes, 1 << 19, 'gb18030');
    expect(ends).toBe(lines.length);
    const named = new Set(candidates.map((c) => c.line));
    const missed = lines.filter((l, i) => matcher.candidates(l).length > 0 && !named.has(i));
    expect(missed).toEqual([]);
    const confirmed = [...named].filter((i) => matcher.candidates(lines[i]).length > 0).length;
    expect(confirmed / named.size).toBeGreaterThan(0.8);
  });

  it('never lets a GB18030 lead byte take a line end or a digit that follows it', () => {
    const p = signatures[1].phones[0].slice(3);
    // 0x81 then '\n' (a lead with no trail), 0x81 then a digit and a byte that ends no four-byte character.
    const bytes = Buffer.concat([Buffer.from([0x81]), Buffer.from(`\n${p}\n`), Buffer.from([0x81]), Buffer.from(`${p}\n`), Buffer.from([0x81, 0x30]), Buffer.from(`${p}\n`)]);
    const { lines, candidates } = prefilter.scan(bytes, 1 << 19, 'gb18030');
    expect(lines).toBe(4);
    expect(candidates.map((c) => c.line)).toEqual([1, 2, 3]);
  });
});
