import { describe, expect, it } from '@jest/globals';
import { normaliseDomain, parseNumberFile, parseTrapNumber } from '../../src/pool/numbers.js';

describe('trap number files', () => {
  it('normalises numbers to E.164 and reports bad and repeated lines by number', () => {
    const text = ['# SIMs from the carrier', '138 1234 5678', '+86 139-1234-5678', '', '12345', '13812345678', '010 6552 9988', '１３７１２３４５６７８', 'not a number'].join('\n');
    const res = parseNumberFile(text, 'CN');
    expect(res.numbers.map((n) => [n.line, n.e164])).toEqual([
      [2, '+8613812345678'],
      [3, '+8613912345678'],
      [8, '+8613712345678'],
    ]);
    expect(res.repeated).toEqual([{ line: 6, e164: '+8613812345678', firstLine: 2 }]);
    expect(res.invalid.map((p) => p.line)).toEqual([5, 7, 9]);
    expect(res.invalid[1].reason).toMatch(/fixed line number cannot receive texts/);
  });

  it('reads US numbers with a US default region', () => {
    expect(parseTrapNumber('(415) 555-2671', 'US')).toEqual({ e164: '+14155552671', region: 'US' });
    expect(parseTrapNumber('+8613812345678', 'US')).toEqual({ e164: '+8613812345678', region: 'CN' });
  });

  it('validates domains', () => {
    expect(normaliseDomain('Trap.Example.ORG.')).toBe('trap.example.org');
    expect(normaliseDomain('not a domain')).toBeNull();
    expect(normaliseDomain('-bad.example.org')).toBeNull();
  });
});
