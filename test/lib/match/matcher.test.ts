import { describe, expect, it } from '@jest/globals';
import type { PersonName } from '../../../src/domain/index.js';
import { createRandom } from '../../../src/lib/generate/index.js';
import { CanaryMatcher, CONFIDENCE, type CanarySignature, type Hit, type MatchKind, type RecordMatch } from '../../../src/lib/match/matcher.js';
import { EXPECT, PLANTS, render, syntheticFamilies, type Plant } from './synthetic.js';

const zh = (family: string, given: string, latin: string): PersonName => ({ family, given, full: family + given, latin });
const en = (given: string, family: string): PersonName => ({ family, given, full: `${given} ${family}`, latin: `${given} ${family}` });

const CANARIES: CanarySignature[] = [
  {
    canaryId: 'A', locale: 'zh-CN', phones: ['+8613812345678', '+8613987654321'], emails: ['Chen.Lihua88@qq.com'],
    names: [zh('陈', '丽华', 'Chen Lihua'), zh('王', '建国', 'Wang Jianguo'), zh('王', '悦', 'Wang Yue')],
  },
  { canaryId: 'B', locale: 'zh-CN', phones: ['+8615011112222'], emails: [], names: [zh('欧阳', '娜娜', 'Ouyang Nana'), zh('吕', '晓燕', 'Lyu Xiaoyan')] },
  { canaryId: 'C', locale: 'en-US', phones: ['+14155552671'], emails: ['john.smith@example.com'], names: [en('John', 'Smith'), en('Mary-Kate', "O'Brien")] },
  // Shares prefix 138 and suffix 5678 with A's first phone: a masked phone alone cannot tell them apart.
  { canaryId: 'D', locale: 'zh-CN', phones: ['+8613800005678'], emails: [], names: [zh('张', '伟明', 'Zhang Weiming')] },
  { canaryId: 'E', locale: 'zh-CN', phones: ['+8618611112222'], emails: [], names: [zh('陈', '立', 'Chen Li')] },
  {
    canaryId: 'F', locale: 'zh-CN', phones: [], emails: [],
    names: [{ family: '买买提', given: '阿依古丽', full: '阿依古丽·买买提', latin: 'Ayiguli Maimaiti' }],
  },
];
const matcher = new CanaryMatcher(CANARIES);

/** Hits, after checking what every hit must satisfy whatever the input. */
function hitsIn(text: string, m: CanaryMatcher = matcher): Hit[] {
  const hits = m.hits(text);
  for (const h of hits) {
    expect(text.slice(h.start, h.end)).toBe(h.matched);
    expect(h.start).toBeGreaterThanOrEqual(0);
    expect(h.end).toBeLessThanOrEqual(text.length);
  }
  return hits;
}
const hitsOf = (text: string, kind: MatchKind, canaryId?: string): Hit[] =>
  hitsIn(text).filter((h) => h.kind === kind && (canaryId === undefined || h.canaryId === canaryId));
function matchesIn(text: string, m: CanaryMatcher = matcher): RecordMatch[] {
  const matches = m.matchRecord(text);
  for (const r of matches) {
    expect(r.confidence).toBeGreaterThan(0);
    expect(r.confidence).toBeLessThanOrEqual(1);
    expect(r.reason.length).toBeGreaterThan(20);
  }
  return matches;
}
const confidenceOf = (text: string, canaryId: string): number => matchesIn(text).find((r) => r.canaryId === canaryId)?.confidence ?? 0;

describe('phones', () => {
  it.each([
    ['13812345678', '13812345678'],
    ['138 1234 5678', '138 1234 5678'],
    ['138-1234-5678', '138-1234-5678'],
    ['138.1234.5678', '138.1234.5678'],
    ['138/1234/5678', '138/1234/5678'],
    ['1381 2345 678', '1381 2345 678'],
    ['+86 138 1234 5678', '+86 138 1234 5678'],
    ['+8613812345678', '+8613812345678'],
    ['+86-138-1234-5678', '+86-138-1234-5678'],
    ['0086 13812345678', '0086 13812345678'],
    ['0086-138-1234-5678', '0086-138-1234-5678'],
    ['008613812345678', '008613812345678'],
    ['86 13812345678', '86 13812345678'],
    ['8613812345678', '8613812345678'],
    ['013812345678', '013812345678'],
    ['(+86) 138-1234-5678', '(+86) 138-1234-5678'],
    ['(138) 1234-5678', '(138) 1234-5678'],
    ['１３８１２３４５６７８', '１３８１２３４５６７８'],
    ['＋８６ １３８ １２３４ ５６７８', '＋８６ １３８ １２３４ ５６７８'],
    ['１３８－１２３４－５６７８', '１３８－１２３４－５６７８'],
    ['138\u00a01234\u00a05678', '138\u00a01234\u00a05678'],
    ['138\u30001234\u30005678', '138\u30001234\u30005678'],
    ['138\u20141234\u20145678', '138\u20141234\u20145678'],
    ['tel:13812345678;', '13812345678'],
    ['电话13812345678转分机', '13812345678'],
    ['手机：138 1234 5678，白天联系', '138 1234 5678'],
    ['13812345678.0', '13812345678'],
    ['Tel: 138-1234-5678 ext. 12', '138-1234-5678'],
    ['"13812345678","2025-01-13"', '13812345678'],
    ['13812345678\t2025-01-13', '13812345678'],
    ["INSERT INTO t VALUES (1,'13812345678',NULL);", '13812345678'],
    ['{"phone":13812345678}', '13812345678'],
    ['13900000000 13812345678', '13812345678'],
    ['call 2025-01-13 13812345678 now', '13812345678'],
  ])('finds %j as the canary phone (matched %j)', (text, matched) => {
    const hits = hitsOf(text, 'phone');
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ canaryId: 'A', value: '+8613812345678', matched, whole: true });
    expect(confidenceOf(text, 'A')).toBe(CONFIDENCE.exact);
  });

  it.each([
    '913812345678', // a longer digit run: the phone's digits are part of another number
    '138123456789',
    '2013812345678',
    '8813812345678', // 88 is not a prefix of a Chinese number
    '86013812345678',
    '0138123456789',
    '1381234567', // one digit short
    '13812345679', // one digit different
    'ID913812345678X',
    '13812345678'.split('').join('  ,'), // digits spread over fields
    '138,1234,5678', // comma separates fields, not digit groups
    '138\t1234\t5678',
    '138    1234    5678', // four spaces: a layout gap, not one number
  ])('does not find a phone in %j', (text) => {
    expect(hitsOf(text, 'phone')).toEqual([]);
    expect(matchesIn(text)).toEqual([]);
  });

  it.each([
    ['(415) 555-2671', '(415) 555-2671'],
    ['+1 415 555 2671', '+1 415 555 2671'],
    ['+1 (415) 555-2671', '+1 (415) 555-2671'],
    ['1-415-555-2671', '1-415-555-2671'],
    ['415.555.2671', '415.555.2671'],
    ['14155552671', '14155552671'],
    ['4155552671', '4155552671'],
    ['001 415 555 2671', '001 415 555 2671'],
    ['phone: 415-555-2671.', '415-555-2671'],
  ])('finds the US number in %j', (text, matched) => {
    const hits = hitsOf(text, 'phone');
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ canaryId: 'C', value: '+14155552671', matched });
  });

  it.each(['24155552671', '4155552672', '415555267', '415-555-26710'])('does not find a US number in %j', (text) => {
    expect(hitsOf(text, 'phone')).toEqual([]);
  });

  it('finds every phone in a list, and phones of several canaries in one record', () => {
    const text = '13812345678/13987654321, 150 1111 2222; +1 415 555 2671';
    const hits = hitsOf(text, 'phone');
    expect(hits.map((h) => [h.canaryId, h.value])).toEqual([
      ['A', '+8613812345678'], ['A', '+8613987654321'], ['B', '+8615011112222'], ['C', '+14155552671'],
    ]);
    expect(matchesIn(text).map((r) => r.canaryId).sort()).toEqual(['A', 'B', 'C']);
  });

  it('finds phones in a long space-separated list without growing state', () => {
    const filler = Array.from({ length: 20_000 }, (_, i) => String(13_900_000_000 + i)).join(' ');
    const text = `${filler} 13812345678 ${filler} 15011112222`;
    expect(hitsOf(text, 'phone').map((h) => h.canaryId)).toEqual(['A', 'B']);
  });
});

describe('masked phones', () => {
  it.each([
    '138****5678', '138 **** 5678', '138-****-5678', '138xxxx5678', '138XXXX5678', '138●●●●5678', '138＊＊＊＊5678',
    '138••••5678', '+86 138****5678', '１３８＊＊＊＊５６７８', '138***5678', '138*****5678', '手机138****5678，', 'tel:138****5678;',
  ])('reads %j as a masked phone of both canaries it fits', (text) => {
    const hits = hitsOf(text, 'masked-phone');
    expect(hits.map((h) => h.canaryId).sort()).toEqual(['A', 'D']);
    expect(hits.every((h) => h.mask === 'middle')).toBe(true);
    expect(hits.find((h) => h.canaryId === 'A')?.value).toBe('+8613812345678');
    // Alone, it is only a lead: 7 visible digits fit about one number in 10,000.
    expect(matchesIn(text).map((r) => [r.canaryId, r.confidence])).toEqual([['A', 0.3], ['D', 0.3]]);
  });

  it.each([
    '1138****5678', '138****56789', '138****5679', '38****5678', '137****5678', '138**5678', '138*5678',
    '138********5678', '138 xiao 5678', '138xxxxx', '****5678', '138,****,5678',
  ])('does not read %j as a canary phone', (text) => {
    expect(hitsIn(text).filter((h) => h.kind === 'masked-phone' || h.kind === 'phone')).toEqual([]);
  });

  it('is confirmed by a name of the same canary, and only that canary', () => {
    for (const text of ['陈丽华 138****5678', '陈丽华,138****5678', '138-****-5678（王建国）', 'Chen Lihua 138xxxx5678', 'CHEN LIHUA,138****5678']) {
      const matches = matchesIn(text);
      expect(matches[0]).toMatchObject({ canaryId: 'A', confidence: CONFIDENCE.maskedPhoneWithName });
      expect(matches[0].reason).toContain('confirms');
      expect(matches.find((r) => r.canaryId === 'D')?.confidence).toBe(CONFIDENCE.maskedPhoneAlone);
    }
    expect(confidenceOf('张伟明 138****5678', 'D')).toBe(CONFIDENCE.maskedPhoneWithName);
    expect(confidenceOf('张伟明 138****5678', 'A')).toBe(CONFIDENCE.maskedPhoneAlone);
  });

  it('is confirmed less strongly by a masked name', () => {
    expect(confidenceOf('陈*华 138****5678', 'A')).toBe(CONFIDENCE.maskedPhoneWithMaskedName);
    expect(confidenceOf('陈*华 13812345678', 'A')).toBe(CONFIDENCE.exact);
  });

  it('counts a phone with its last four digits hidden only when a name confirms it', () => {
    for (const text of ['1381234****', '138 1234 ****', '+86 1381234xxxx']) {
      const hits = hitsOf(text, 'masked-phone');
      expect(hits.map((h) => [h.canaryId, h.mask])).toEqual([['A', 'tail']]);
      expect(matchesIn(text)).toEqual([]);
    }
    expect(confidenceOf('陈丽华 1381234****', 'A')).toBe(CONFIDENCE.tailMaskWithName);
    expect(confidenceOf('1381234xxxx,Chen Lihua', 'A')).toBe(CONFIDENCE.tailMaskWithName);
    expect(confidenceOf('陈*华 1381234****', 'A')).toBe(CONFIDENCE.tailMaskWithMaskedName);
    expect(hitsIn('13812345****')).toEqual([]); // five digits shown after the block: no shape we index
  });

  it('reads US masks (415-***-2671) the same way', () => {
    expect(hitsOf('415-***-2671', 'masked-phone').map((h) => h.canaryId)).toEqual(['C']);
    expect(confidenceOf('415-***-2671', 'C')).toBe(CONFIDENCE.maskedPhoneAlone);
    expect(confidenceOf('John Smith, (415) ***-2671', 'C')).toBe(CONFIDENCE.maskedPhoneWithName);
  });
});

describe('e-mail addresses', () => {
  it.each([
    ['Chen.Lihua88@qq.com', 'Chen.Lihua88@qq.com'],
    ['CHEN.LIHUA88@QQ.COM', 'CHEN.LIHUA88@QQ.COM'],
    ['<chen.lihua88@qq.com>', 'chen.lihua88@qq.com'],
    ['mailto:Chen.Lihua88@qq.com;', 'Chen.Lihua88@qq.com'],
    ['(chen.lihua88@qq.com).', 'chen.lihua88@qq.com'],
    ['邮箱chen.lihua88@qq.com，谢谢', 'chen.lihua88@qq.com'],
    ['"chen.lihua88@qq.com"', 'chen.lihua88@qq.com'],
    ['Write to chen.lihua88@qq.com.', 'chen.lihua88@qq.com'],
    ['chen.lihua88＠qq.com', 'chen.lihua88＠qq.com'],
  ])('finds %j', (text, matched) => {
    const hits = hitsOf(text, 'email');
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ canaryId: 'A', matched, value: 'chen.lihua88@qq.com' });
    expect(confidenceOf(text, 'A')).toBe(CONFIDENCE.exact);
  });

  it.each(['xchen.lihua88@qq.com', 'chen.lihua88@qq.com.cn', 'chen.lihua88@qq.co', 'chen.lihua8@qq.com', 'chen.lihua88@qqq.com', 'chen_lihua88@qq.com', 'chen.lihua88 @qq.com'])(
    'does not find %j',
    (text) => expect(hitsOf(text, 'email')).toEqual([]),
  );
});

describe('names in characters', () => {
  it('finds a full name that fills its field, with the confidence a name alone deserves', () => {
    const hits = hitsOf('1,陈丽华,女', 'name');
    expect(hits).toEqual([expect.objectContaining({ canaryId: 'A', matched: '陈丽华', start: 2, end: 5, whole: true, value: '陈丽华' })]);
    expect(confidenceOf('1,陈丽华,女', 'A')).toBe(CONFIDENCE.name);
    expect(confidenceOf('欧阳娜娜', 'B')).toBe(CONFIDENCE.name);
    expect(confidenceOf('王悦', 'A')).toBe(CONFIDENCE.name);
  });

  it('finds a name inside a longer run of characters, with less confidence, and a two-character one with much less', () => {
    expect(hitsOf('产妇陈丽华于今日入院', 'name')).toEqual([expect.objectContaining({ canaryId: 'A', matched: '陈丽华', start: 2, whole: false })]);
    expect(confidenceOf('产妇陈丽华于今日入院', 'A')).toBe(CONFIDENCE.nameInRun);
    expect(hitsOf('联系人王悦女士', 'name')).toEqual([expect.objectContaining({ canaryId: 'A', matched: '王悦', start: 3, whole: false })]);
    expect(confidenceOf('联系人王悦女士', 'A')).toBe(CONFIDENCE.shortNameInRun);
    expect(hitsOf('王悦之女', 'name')).toHaveLength(1); // the placeholder name of the canary's baby
    // A run of three characters is someone's three-character name: 王悦 in 王悦明 is not the canary.
    expect(hitsIn('王悦明')).toEqual([]);
    expect(hitsIn('1,王悦明,女')).toEqual([]);
  });

  it.each([['王 悦', '王 悦'], ['王\u3000悦', '王\u3000悦'], ['陈 丽华', '陈 丽华'], ['姓名：王\u3000\u3000悦；', '王\u3000\u3000悦'], ['欧阳 娜娜', '欧阳 娜娜']])(
    'finds a name padded with spaces: %j',
    (text, matched) => expect(hitsOf(text, 'name').map((h) => h.matched)).toEqual([matched]),
  );

  it.each(['陈丽', '丽华', '陈丽 华', '陈　　　丽华', '陈立华', '陳麗華', '王建', '建国', '王 建 国'])('does not find a canary name in %j', (text) => {
    expect(hitsIn(text).filter((h) => h.kind === 'name' && h.canaryId === 'A')).toEqual([]);
  });

  it('finds names with a middle dot (minority and foreign names transcribed)', () => {
    expect(hitsOf('患者：阿依古丽·买买提，', 'name')).toEqual([expect.objectContaining({ canaryId: 'F', matched: '阿依古丽·买买提', whole: true })]);
    expect(hitsOf('阿依古丽', 'name')).toEqual([]);
  });

  it('does not count a two-character name twice when it sits inside another name of the same canary', () => {
    const text = '王建国';
    expect(matchesIn(text)).toEqual([expect.objectContaining({ canaryId: 'A', confidence: CONFIDENCE.name })]);
  });
});

describe('masked names', () => {
  it.each(['陈*华', '*丽华', '陈丽*', '陈某华', '陈＊华', '陈x华', '陈X华', '陈○华', '姓名:陈*华,'])('finds %j as 陈丽华', (text) => {
    const hits = hitsOf(text, 'masked-name', 'A');
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ value: '陈丽华', whole: true });
    expect(hits[0].matched).toHaveLength(3);
    expect(confidenceOf(text, 'A')).toBe(CONFIDENCE.maskedName);
  });

  it('finds masked compound-surname names and names inside a longer run, the latter with less confidence', () => {
    expect(hitsOf('欧阳*娜', 'masked-name').map((h) => h.canaryId)).toEqual(['B']);
    expect(hitsOf('欧*娜娜', 'masked-name').map((h) => h.canaryId)).toEqual(['B']);
    expect(hitsOf('产妇陈*华入院', 'masked-name')[0]).toMatchObject({ canaryId: 'A', matched: '陈*华', whole: false });
    expect(confidenceOf('产妇陈*华入院', 'A')).toBe(CONFIDENCE.maskedNameInRun);
  });

  it.each(['陈*明', '陈**', '陈*', '陈**华', '王*', '*悦', '某某某', '陈-华', '陈 * 华'])('does not read %j as a masked canary name', (text) => {
    expect(hitsOf(text, 'masked-name')).toEqual([]);
  });
});

describe('names in Latin letters', () => {
  it.each([
    'Chen Lihua', 'chen lihua', 'CHENLIHUA', 'ChenLihua', 'Chen Li-hua', 'Lihua Chen', 'Lihua CHEN', 'Chén Lìhuá',
    'Che\u0301n Li\u0300hua\u0301', 'chen2 li4hua2', 'chen2 li4 hua2', 'Chen, Lihua', 'chen_lihua', '"Chen","Lihua"', 'Chen\tLihua',
    'Dear Ms. Chen Lihua,', 'CHEN LI HUA',
  ])('finds the pinyin %j', (text) => {
    const hits = hitsOf(text, 'name-pinyin', 'A');
    expect(hits).toHaveLength(1);
    expect(hits[0].value).toBe('陈丽华');
    expect(confidenceOf(text, 'A')).toBe(CONFIDENCE.pinyin);
  });

  it.each(['Ouyang Nana', 'Nana Ouyang', 'OUYANG NANA', 'ouyangnana', 'Lü Xiaoyan', 'Lv Xiaoyan', 'Lyu Xiaoyan', 'LU XIAOYAN', 'Lǚ Xiǎoyàn', 'lv3 xiao3yan4'])(
    'finds %j for canary B',
    (text) => expect(hitsOf(text, 'name-pinyin', 'B')).toHaveLength(1),
  );

  it('matches pinyin on word boundaries only', () => {
    expect(hitsOf('Chen Li', 'name-pinyin', 'E')).toHaveLength(1);
    expect(hitsOf('li chen', 'name-pinyin', 'E')).toHaveLength(1);
    for (const text of ['chenlingfeng', 'Chen Lingfeng', 'xchen li', 'Chen Lilly']) expect(hitsOf(text, 'name-pinyin', 'E')).toEqual([]);
    // Written as one word, a name must stand alone in its field: in "Zhao Chenli", Chenli is a given name.
    for (const text of ['CHENLI', 'chenli,Nanjing', '"Chenli"', '1,chenli2,3']) expect(hitsOf(text, 'name-pinyin', 'E')).toHaveLength(1);
    for (const text of ['Zhao Chenli', 'Chenli Ming', 'Mr Chenli', 'Chenli-Zhang', 'zhao chenli2']) expect(hitsOf(text, 'name-pinyin', 'E')).toEqual([]);
    for (const text of ['Chen Lihuan', 'Chen Li Huang', 'Chenlihuaxyz', 'Chen Lihua'.replace(' ', ' / '), 'Chen    Lihua']) {
      expect(hitsOf(text, 'name-pinyin', 'A')).toEqual([]);
    }
  });

  it.each(['John Smith', 'SMITH, JOHN', 'smith john', "Mary-Kate O'Brien", "O'Brien, Mary-Kate", 'mary kate obrien', 'MARY KATE O’BRIEN', 'John Q. Smith', 'John Q Smith', 'Smith, John Q.'])(
    'finds the en-US name %j, as a name',
    (text) => {
      const hits = hitsOf(text, 'name', 'C');
      expect(hits).toHaveLength(1);
      expect(confidenceOf(text, 'C')).toBe(CONFIDENCE.name);
    },
  );

  it.each(['Johnny Smith', 'John Smithson', 'John Quincy Smith', 'John Q. R. Smith', 'Smith', 'John', 'Mary Kate', 'Q Smith'])('does not find an en-US canary name in %j', (text) => {
    expect(hitsIn(text)).toEqual([]);
  });
});

describe('confidence', () => {
  it('orders the kinds of evidence', () => {
    const ladder: [string, number][] = [
      ['13812345678', CONFIDENCE.exact],
      ['陈丽华 138****5678', CONFIDENCE.maskedPhoneWithName],
      ['陈*华 138****5678', CONFIDENCE.maskedPhoneWithMaskedName],
      ['陈丽华,王建国', -1], // two names of one canary: more than one name, less than a phone
      ['陈丽华', CONFIDENCE.name],
      ['产妇陈丽华入院', CONFIDENCE.nameInRun],
      ['Chen Lihua', CONFIDENCE.pinyin],
      ['138****5678', CONFIDENCE.maskedPhoneAlone],
      ['陈*华', CONFIDENCE.maskedName],
      ['联系人王悦女士', CONFIDENCE.shortNameInRun],
    ];
    const got = ladder.map(([text]) => confidenceOf(text, 'A'));
    for (let i = 1; i < got.length; i++) expect(got[i]).toBeLessThan(got[i - 1]);
    ladder.forEach(([, want], i) => want >= 0 && expect(got[i]).toBe(want));
    expect(got[3]).toBeLessThan(0.6); // names alone never reach a phone's certainty
  });

  it('explains each judgement with what matched', () => {
    const [phone] = matchesIn('+86 138 1234 5678');
    expect(phone.reason).toContain('+86 138 1234 5678');
    expect(phone.reason).toContain('+8613812345678');
    const [masked] = matchesIn('陈丽华 138****5678');
    expect(masked.reason).toMatch(/138\*\*\*\*5678.*陈丽华/);
    const [alone] = matchesIn('138****5678');
    expect(alone.reason).toContain('no name');
    const [name] = matchesIn('Chen Lihua');
    expect(name.reason).toContain('names repeat');
  });

  it('puts the most certain canary first and keeps each canary\'s hits together', () => {
    const text = '陈丽华,138****5678,150-1111-2222,Chen Li';
    const matches = matchesIn(text);
    expect(matches.map((r) => r.canaryId)).toEqual(['B', 'A', 'E', 'D']); // pinyin 0.35 > masked phone alone 0.3
    expect(matches[1].hits.map((h) => h.kind).sort()).toEqual(['masked-phone', 'name']);
  });
});

describe('robustness', () => {
  it('handles empty, huge and hostile records', () => {
    expect(matchesIn('')).toEqual([]);
    expect(hitsIn('9'.repeat(1_000_000))).toEqual([]);
    expect(hitsIn('*'.repeat(100_000))).toEqual([]);
    expect(hitsIn('x'.repeat(1_000_000))).toEqual([]);
    expect(hitsIn('陈'.repeat(1_000_000))).toEqual([]);
    expect(hitsIn('某'.repeat(200_000))).toEqual([]);
    expect(hitsIn(`138${'****-'.repeat(50_000)}5678`)).toEqual([]);
    expect(hitsIn('a@'.repeat(100_000))).toEqual([]);
    expect(hitsIn('@'.repeat(100_000) + 'a'.repeat(100_000))).toEqual([]);
    expect(hitsIn(`${'1-'.repeat(100_000)}13812345678`).map((h) => h.kind)).toEqual(['phone']); // its own chunk of a long group
    expect(hitsIn(`${'1'.repeat(100_000)}13812345678`)).toEqual([]);
    expect(hitsIn(`${'1 '.repeat(100_000)} ,13812345678`).map((h) => h.kind)).toEqual(['phone']);
    const junk = Array.from({ length: 200_000 }, (_, i) => String.fromCharCode((i * 7919) % 0xffff)).join('');
    expect(() => matcher.hits(junk)).not.toThrow();
  });

  it('works with no canaries at all', () => {
    const empty = new CanaryMatcher([]);
    expect(empty.matchRecord('陈丽华 13812345678 chen.lihua88@qq.com Chen Lihua 138****5678')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// 10,000 synthetic canaries, planted in reformatted records, and random records that hold none
// (test/lib/match/synthetic.ts; bench/matcher.ts times the matcher on them).

describe('10,000 synthetic canaries', () => {
  const { canaries, signatures, real } = syntheticFamilies();
  const big = new CanaryMatcher(signatures);

  it('indexes them', () => {
    const sizes = big.sizes;
    expect(sizes.phones).toBeGreaterThan(15_000);
    expect(sizes.hanNames).toBeGreaterThan(20_000);
    expect(sizes.latinKeys).toBeGreaterThan(40_000);
  });

  it('finds the same with filters fitted to a few canaries (triage builds one per message)', () => {
    const rng = createRandom('scan-plant-fit');
    for (let r = 0; r < 200; r++) {
      const index = rng.int(0, canaries.length - 2);
      const { text } = render(rng, canaries[index], r, rng.pick(PLANTS));
      const few = [signatures[index], signatures[index + 1]];
      const fitted = new CanaryMatcher(few, { fit: true }).matchRecord(text);
      expect(fitted).toEqual(new CanaryMatcher(few).matchRecord(text));
      expect(fitted.some((m) => m.canaryId === `c${index}`)).toBe(true);
    }
  });

  it('finds the same when built in slices (cradle scan builds it so beside its worker threads)', async () => {
    const sliced = await CanaryMatcher.built(signatures, 333);
    expect(sliced.sizes).toEqual(big.sizes);
    const rng = createRandom('scan-plant-sliced');
    for (let r = 0; r < 300; r++) {
      const { text } = render(rng, canaries[rng.int(0, canaries.length - 1)], r, rng.pick(PLANTS));
      expect(sliced.matchRecord(text)).toEqual(big.matchRecord(text));
    }
  });

  it('finds every planted canary, however its record was reformatted', () => {
    const rng = createRandom('scan-plant');
    const failures: string[] = [];
    const used = new Map<Plant, number>();
    for (let r = 0; r < 4000; r++) {
      const index = rng.int(0, canaries.length - 1);
      const { text, plant, kind, value } = render(rng, canaries[index], r, rng.pick(PLANTS));
      used.set(plant, (used.get(plant) ?? 0) + 1);
      const match = big.matchRecord(text).find((m) => m.canaryId === `c${index}`);
      const planted = match?.hits.some((h) => h.kind === kind && h.value === value);
      if (!match || !planted || match.confidence < EXPECT[plant]) failures.push(`${plant}: ${text} → ${JSON.stringify(match ?? null)}`);
    }
    expect(failures.slice(0, 10)).toEqual([]);
    for (const plant of PLANTS) expect(used.get(plant) ?? 0).toBeGreaterThan(100);
  });

  it('finds no trap phone or mailbox in 10,000 records of real families, and no name alone reaches 0.6', () => {
    const rng = createRandom('scan-real-records');
    const bad: string[] = [];
    for (let r = 0; r < 10_000; r++) {
      const { text } = render(rng, real[r % real.length], r, rng.pick(PLANTS));
      if (big.hits(text).some((h) => h.kind === 'phone' || h.kind === 'email')) bad.push(text);
      for (const m of big.matchRecord(text)) if (m.confidence >= 0.6) bad.push(`${text} → ${m.reason}`);
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });
});
