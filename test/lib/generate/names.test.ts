import { describe, expect, it } from '@jest/globals';
import { createRandom, latinOf, NameIndex, withinOneEdit } from '../../../src/lib/generate/index.js';

describe('withinOneEdit', () => {
  it.each([
    ['Jessica Smith', 'Jessica Smith'],
    ['Jessica Smith', 'Jessica Smyth'], // substitution
    ['Jessica Smith', 'Jessica Smiths'], // insertion at the end
    ['Jessica Smith', 'Jesica Smith'], // deletion in the middle
    ['Ann', 'xAnn'], // insertion at the start
    ['', 'a'],
    ['王丽', '王娜'],
    ['王丽', '汪丽'],
    ['王丽', '王晓丽'],
    ['王晓丽', '王晓'],
    ['陈晓丽', '陈小丽'],
    ['𠮷田', '吉田'], // one code point outside the BMP counts as one edit
  ])('%s ~ %s', (a, b) => {
    expect(withinOneEdit(a, b)).toBe(true);
    expect(withinOneEdit(b, a)).toBe(true);
  });

  it.each([
    ['ab', 'ba'], // transposition is two edits
    ['Jessica Smith', 'Jessica Smythe'],
    ['王丽', '李娜'],
    ['王丽', '王丽娟娟'],
    ['陈晓丽', '陈丽晓'],
    ['', 'ab'],
    ['𠮷田', '吉口'],
  ])('%s !~ %s', (a, b) => {
    expect(withinOneEdit(a, b)).toBe(false);
    expect(withinOneEdit(b, a)).toBe(false);
  });
});

describe('NameIndex', () => {
  it('answers has() exactly and conflicts() within one edit', () => {
    const index = new NameIndex(['王丽', '陈晓丽', 'Jessica Smith']);
    expect(index.size).toBe(3);
    expect(index.has('王丽')).toBe(true);
    expect(index.has('王娜')).toBe(false);
    for (const near of ['王丽', '王娜', '汪丽', '王晓丽', '丽', '陈小丽', '陈晓', '陈晓丽娟', 'Jessica Smyth', 'Jesica Smith']) {
      expect([near, index.conflicts(near)]).toEqual([near, true]);
    }
    for (const far of ['李娜', '丽王', '陈丽晓', '张晓丽娟', 'Jessica Smythe', 'Smith Jessica', '']) {
      expect([far, index.conflicts(far)]).toEqual([far, false]);
    }
    index.add('李娜');
    expect(index.conflicts('李雅')).toBe(true);
    index.add('李娜'); // idempotent
    expect(index.size).toBe(4);
  });

  it('agrees with a brute-force withinOneEdit scan on random short strings', () => {
    const rng = createRandom('name-index');
    const alphabet = ['王', '李', '丽', '娜', 'a', 'b', '𠮷'];
    const word = (): string => Array.from({ length: rng.int(0, 4) }, () => rng.pick(alphabet)).join('');
    const indexed = Array.from({ length: 60 }, word);
    const index = new NameIndex(indexed);
    let conflicts = 0;
    for (let i = 0; i < 3000; i++) {
      const q = word();
      const expected = indexed.some((name) => withinOneEdit(name, q));
      expect([q, index.conflicts(q)]).toEqual([q, expected]);
      if (expected) conflicts++;
    }
    expect(conflicts).toBeGreaterThan(300); // both branches exercised
    expect(conflicts).toBeLessThan(2700);
  });
});

describe('latinOf', () => {
  it.each([
    ['陈晓丽', undefined, 'Chen Xiaoli'],
    ['王伟', undefined, 'Wang Wei'],
    ['单雄信', undefined, 'Shan Xiongxin'], // surname reading, not dan
    ['曾静', undefined, 'Zeng Jing'],
    ['解静', undefined, 'Xie Jing'],
    ['欧阳娜娜', undefined, 'Ouyang Nana'],
    ['吕强', undefined, 'Lyu Qiang'], // ü as on PRC passports
    ['王丽之女', '王', 'Wang Lizhinyu'],
    ['司马光', '司马', 'Sima Guang'],
  ])('%s → %s', (text, family, latin) => {
    expect(latinOf(text, 'zh-CN', family)).toBe(latin);
  });

  it('leaves Latin and en-US names alone', () => {
    expect(latinOf('Jessica Smith', 'en-US')).toBe('Jessica Smith');
    expect(latinOf('Anna Lee', 'zh-CN')).toBe('Anna Lee');
  });
});
