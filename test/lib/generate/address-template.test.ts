import { describe, expect, it } from '@jest/globals';
import { addressTokens, createRandom, generateFamilyFromProfile, headAndBody, templateOf } from '../../../src/lib/generate/index.js';
import { numberUnit } from '../../../src/lib/generate/address-template.js';
import type { Counts, FamilyProfile } from '../../../src/domain/index.js';

// Address templates as a regional hospital writes them: a village is a slot of its own (a community's
// word never refills it), an estate's name stays whole (新城南都, not 新城 + a loose 南都), and numbers
// are counted per the unit after them.

const counts = (values: Record<string, number>): Counts => ({ total: Object.values(values).reduce((a, b) => a + b, 0), values, other: 0 });

describe('address templates', () => {
  it('keeps villages apart from communities and estate names whole', () => {
    const t = (a: string) => templateOf(addressTokens(a.replace(/\d/g, '#')));
    expect(t('常州市武进区嘉泽镇湾城村7组74号')).toBe('常州市武进区{镇}{村}#组##号');
    expect(t('常州市武进区牛塘镇吾悦社区新城南都16幢2单元1604室')).toBe('常州市武进区{镇}{社区}{小区}##幢#单元####室');
    expect(t('天宁区茶山街道青山湾花园25幢4单元602室')).toBe('天宁区{镇}{小区}##幢#单元###室');
    // A hamlet after a village is a name of the village's kind, not an estate's.
    expect(t('武进区雪堰镇湾城村委西庄4组7号')).toBe('武进区{镇}{村}{名村}#组#号');
  });

  it('learns the head before the district apart, and numbers of any length in one template', () => {
    const hb = (a: string, d: string) => headAndBody(addressTokens(a.replace(/\d/g, '#')), d);
    const body = '武进区{镇}{社区}{小区}#*幢#*单元#*室';
    // Three ways a hospital writes one form: one template, three heads.
    expect(hb('常州市武进区牛塘镇吾悦社区新城南都16幢2单元1604室', '武进区')).toEqual({ head: '常州市', body });
    expect(hb('江苏省常州市武进区牛塘镇吾悦社区新城南都6幢2单元502室', '武进区')).toEqual({ head: '江苏省常州市', body });
    expect(hb('武进区牛塘镇吾悦社区新城南都6幢2单元502室', '武进区')).toEqual({ head: '', body });
    // A district not among its administrative names: the whole template, no head.
    expect(hb('湖塘镇新城南都6幢', '武进区')).toEqual({ head: '', body: '{镇}{小区}#*幢' });
  });

  it('draws heads apart from the body, and numbers of any length from the unit\'s own', () => {
    const profile: FamilyProfile = {
      wards: counts({ 产科一病区: 100 }),
      addresses: {
        districts: counts({ 武进区: 30 }),
        byDistrict: { 武进区: { templates: counts({ '武进区{镇}{小区}#*幢#*单元#*室': 30 }), heads: counts({ 常州市: 10, 江苏省常州市: 10, '': 10 }), vocabulary: { 镇: counts({ 湖塘镇: 30 }), 小区: counts({ 新城南都: 30 }) } } },
        numbers: { 幢: counts({ 5: 10, 30: 20 }), 单元: counts({ 2: 30 }), 室: counts({ 1604: 15, 502: 15 }) },
      },
    };
    const rng = createRandom('heads');
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const f = generateFamilyFromProfile(rng, { locale: 'zh-CN', hospital: 'h', ward: '产科一病区', districts: ['武进区'], timeZone: 'Asia/Shanghai', birthFrom: new Date('2025-05-01'), birthTo: new Date('2025-05-08'), phone: (role) => `pending:${role}`, emailDomain: () => null }, profile);
      const m = /^(江苏省常州市|常州市|)武进区湖塘镇新城南都(5|30)幢2单元(1604|502)室$/.exec(f.address.full);
      expect(m).not.toBeNull();
      expect(f.address.district).toBe('武进区');
      expect(f.address.street).toMatch(/^湖塘镇/);
      seen.add(`${m![1]}|${m![2].length}|${m![3].length}`);
    }
    for (const head of ['江苏省常州市', '常州市', '']) expect([...seen].some((x) => x.startsWith(`${head}|`))).toBe(true);
    expect([...seen].some((x) => x.endsWith('|3'))).toBe(true);
    expect([...seen].some((x) => x.endsWith('|4'))).toBe(true);
  });

  it('gives estates too rare to keep their share: names recombined from kept words, never one of them', () => {
    const profile: FamilyProfile = {
      wards: counts({ 产科一病区: 100 }),
      addresses: {
        districts: counts({ 钟楼区: 40 }),
        byDistrict: { 钟楼区: { templates: counts({ '钟楼区{镇}{小区}#*-#*': 40 }), heads: counts({ 常州市: 40 }), vocabulary: { 镇: counts({ 西林街道: 40 }), 小区: { total: 40, other: 20, values: { 清潭新村: 10, 富都花园: 10 } } } } },
        numbers: { '-': counts({ 31: 40 }), 室: counts({ 901: 20, 1702: 20 }) },
      },
    };
    const rng = createRandom('rare');
    const estates: string[] = [];
    for (let i = 0; i < 200; i++) {
      const f = generateFamilyFromProfile(rng, { locale: 'zh-CN', hospital: 'h', ward: '产科一病区', districts: ['钟楼区'], timeZone: 'Asia/Shanghai', birthFrom: new Date('2025-05-01'), birthTo: new Date('2025-05-08'), phone: (role) => `pending:${role}`, emailDomain: () => null }, profile);
      // A number ending the address is a room's (901, 1702) where the profile keeps none of its own.
      const m = /^常州市钟楼区西林街道(.+)31-(901|1702)$/.exec(f.address.full);
      expect(m).not.toBeNull();
      estates.push(m![1]);
    }
    const rare = estates.filter((e) => e !== '清潭新村' && e !== '富都花园');
    expect(rare.length / estates.length).toBeGreaterThan(0.35);
    expect(rare.length / estates.length).toBeLessThan(0.65);
    expect(new Set(rare)).toEqual(new Set(['清潭花园', '富都新村']));
  });

  it("fills a slot whose words are all too rare with words of the rare words' shape, not another district's", () => {
    // 新北区 keeps no hamlet (each of a few families) and 武进区 keeps its villages' 名村 word 委: a
    // 新北区 hamlet was 委 (no 组 form has it) or the locale's table; it is now 委 + a direction + a place.
    const profile: FamilyProfile = {
      wards: counts({ 产科一病区: 100 }),
      addresses: {
        districts: counts({ 新北区: 40 }),
        byDistrict: {
          新北区: { templates: counts({ '新北区{镇}{村}{名村}#*组#*号': 40 }), heads: counts({ 常州市: 40 }), vocabulary: { 镇: counts({ 罗溪镇: 40 }), 村: counts({ 罗溪村: 40 }), 名村: { total: 40, other: 40, values: {} } } },
          武进区: { templates: counts({ '武进区{镇}{村}{名村}#*号': 10 }), vocabulary: { 镇: counts({ 湖塘镇: 10 }), 村: counts({ 马杭村: 10 }), 名村: counts({ 委: 10 }) } },
        },
        numbers: { 组: counts({ 3: 40 }), 号: counts({ 12: 40 }) },
        rareWords: { 名村: { lengths: counts({ 3: 40 }), chars: { 3: [counts({ 委: 40 }), counts({ 前: 20, 后: 20 }), counts({ 塘: 20, 庄: 20 })] } } },
      },
    };
    const rng = createRandom('hamlets');
    const hamlets = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const f = generateFamilyFromProfile(rng, { locale: 'zh-CN', hospital: 'h', ward: '产科一病区', districts: ['新北区'], timeZone: 'Asia/Shanghai', birthFrom: new Date('2025-05-01'), birthTo: new Date('2025-05-08'), phone: (role) => `pending:${role}`, emailDomain: () => null }, profile);
      const m = /^常州市新北区罗溪镇罗溪村(委[前后][塘庄])3组12号$/.exec(f.address.full);
      expect(m).not.toBeNull();
      hamlets.add(m![1]);
    }
    expect(hamlets.size).toBe(4);
  });

  it("draws another template where a slot's words are all too rare and no shape fills it, never the locale table's address", () => {
    const profile: FamilyProfile = {
      wards: counts({ 产科一病区: 100 }),
      addresses: {
        districts: counts({ 金坛区: 40 }),
        byDistrict: { 金坛区: { templates: counts({ '金坛区{镇}{村}{路}#*组#*号': 10, '金坛区{镇}{小区}#*幢#*室': 30 }), heads: counts({ 常州市: 40 }), vocabulary: { 镇: counts({ 儒林镇: 40 }), 村: counts({ 建春村: 10 }), 路: { total: 10, other: 10, values: {} }, 小区: counts({ 华城苑: 30 }) } } },
        numbers: { 幢: counts({ 3: 30 }), 室: counts({ 502: 30 }) },
      },
    };
    const rng = createRandom('no-locale');
    for (let i = 0; i < 100; i++) {
      const f = generateFamilyFromProfile(rng, { locale: 'zh-CN', hospital: 'h', ward: '产科一病区', districts: ['金坛区'], timeZone: 'Asia/Shanghai', birthFrom: new Date('2025-05-01'), birthTo: new Date('2025-05-08'), phone: (role) => `pending:${role}`, emailDomain: () => null }, profile);
      expect(f.address.full).toBe('常州市金坛区儒林镇华城苑3幢502室');
    }
  });

  it('makes up new estates by the share of words seen once, not by all those a young profile leaves under k', () => {
    // 20 of 40 families' estates under k, but only 4 seen once: the others are common in a year's dump.
    const vocabulary = { 镇: counts({ 西林街道: 40 }), 小区: { total: 40, other: 20, values: { 清潭新村: 10, 富都花园: 10 } } };
    const profile: FamilyProfile = {
      wards: counts({ 产科一病区: 100 }),
      addresses: {
        districts: counts({ 钟楼区: 40 }),
        byDistrict: { 钟楼区: { templates: counts({ '钟楼区{镇}{小区}#*-#*': 40 }), heads: counts({ 常州市: 40 }), vocabulary, once: { 小区: 4 } } },
        numbers: { '-': counts({ 31: 40 }), 室: counts({ 901: 20, 1702: 20 }) },
      },
    };
    const rng = createRandom('once');
    let made = 0;
    for (let i = 0; i < 400; i++) {
      const f = generateFamilyFromProfile(rng, { locale: 'zh-CN', hospital: 'h', ward: '产科一病区', districts: ['钟楼区'], timeZone: 'Asia/Shanghai', birthFrom: new Date('2025-05-01'), birthTo: new Date('2025-05-08'), phone: (role) => `pending:${role}`, emailDomain: () => null }, profile);
      if (!/清潭新村|富都花园/.test(f.address.full)) made++;
    }
    // 4 / 40 = 0.1 (sd about 0.015), where the whole rare share gave 0.5.
    expect(made / 400).toBeGreaterThan(0.05);
    expect(made / 400).toBeLessThan(0.16);
  });

  it('counts numbers under the unit that follows them', () => {
    expect(numberUnit('室')).toBe('室');
    expect(numberUnit('号楼#单元')).toBe('号楼');
    expect(numberUnit('-')).toBe('-');
    expect(numberUnit('')).toBe('$');
  });

  it('draws the districts, words and numbers the profile keeps, and a NICU baby\'s mother on another ward', () => {
    const profile: FamilyProfile = {
      wards: counts({ 产科一病区: 90, 新生儿科: 10 }),
      addresses: {
        districts: counts({ 武进区: 10 }),
        byDistrict: { 武进区: { templates: counts({ '常州市武进区{镇}{小区}##幢#单元####室': 10 }), vocabulary: { 镇: counts({ 湖塘镇: 10 }), 小区: counts({ 新城南都: 10 }) } } },
        numbers: { 幢: counts({ 12: 5, 30: 5 }), 单元: counts({ 2: 10 }), 室: counts({ 1604: 6, 1102: 4 }) },
      },
    };
    const rng = createRandom('addr');
    for (let i = 0; i < 20; i++) {
      const f = generateFamilyFromProfile(rng, { locale: 'zh-CN', hospital: 'h', ward: '新生儿科', nicu: true, districts: ['武进区'], timeZone: 'Asia/Shanghai', birthFrom: new Date('2025-05-01'), birthTo: new Date('2025-05-08'), phone: (role) => `pending:${role}`, emailDomain: () => null }, profile);
      expect(f.address.full).toMatch(/^常州市武进区湖塘镇新城南都(12|30)幢2单元(1604|1102)室$/);
      expect(f.motherWard).toBe('产科一病区');
    }
  });
});
