import { describe, expect, it } from '@jest/globals';
import { randomMobile } from '../../src/demo/setup.js';
import { createRandom, generateFamilies } from '../../src/lib/generate/index.js';
import { CanaryMatcher } from '../../src/lib/match/matcher.js';
import { signatureOf } from '../../src/lib/match/signature.js';
import { mayName, resolveContact } from '../../src/triage/resolve.js';

// resolveContact builds a name matcher for a contact's holders only when the text may name one of them
// (mayName): whenever it says no, the matcher would have found no name of theirs. Texts of every kind a
// trap gets (spam, names of the holders and of others, masked, spaced, pinyin, English) against the
// holders of a generated number.

describe('mayName', () => {
  const now = new Date('2026-12-01T00:00:00Z');
  const rng = createRandom('triage:mayName');
  const families = generateFamilies(rng, {
    locale: 'zh-CN', hospital: 'h1', ward: '产科一病区', districts: ['鼓楼区'], timeZone: 'Asia/Shanghai',
    birthFrom: new Date(now.getTime() - 90 * 86_400_000), birthTo: new Date(now.getTime() - 61 * 86_400_000), phone: () => randomMobile(rng), emailDomain: () => null, now,
  }, 60);

  it('says no only for texts the matcher finds no holder name in', () => {
    const spam = [
      '【月子中心】恭喜您喜得贵子！本月入住立减3000元，详询400-800-1234，回T退订',
      '您好，宝宝满月写真免费拍摄名额仅剩3个，点击 t.cn/A6xYz 领取',
      '早教中心开业大酬宾，0-3岁宝宝免费体验课，地址：鼓楼区中山路88号',
      '这里是母婴用品回访中心，您有一份新生儿礼包待领取，请按1',
      '您的验证码为 482913，5分钟内有效。',
    ];
    let no = 0, named = 0;
    for (let k = 0; k < families.length; k++) {
      const f = families[k], other = families[(k + 1) % families.length];
      const holders = [{ canary_id: `c${k}`, family: f, assigned_at: now, released_at: null }];
      const signatures = holders.map((h) => signatureOf(h.canary_id, h.family));
      const m = f.mother.name.full;
      const texts = [
        ...spam,
        `${m}您好，宝宝出生了`, `${other.mother.name.full}您好，宝宝出生了`, `${m[0]}*${m.slice(2)}女士`, `${m[0]}某${m.slice(2)}`, `${m[0]}\u3000${m.slice(1)}`,
        `尊敬的${m.slice(1)}：您好`, `Dear ${f.mother.name.latin ?? 'Wang'}, congratulations`, '【通知】１２３４５，！？', `${f.baby.name.full}满月快乐`,
      ];
      for (const text of texts) {
        const names = new CanaryMatcher(signatures).matchRecord(text).flatMap((r) => r.hits.filter((h) => ['name', 'name-pinyin', 'masked-name'].includes(h.kind)));
        if (!mayName(text, signatures)) {
          no++;
          expect(names).toEqual([]);
          expect(resolveContact(holders, text).names).toEqual([]);
        } else if (names.length) named++;
      }
    }
    // Not vacuous: most spam skips the matcher, and names are still found.
    expect(no).toBeGreaterThan(families.length * 3);
    expect(named).toBeGreaterThan(families.length);
  });
});
