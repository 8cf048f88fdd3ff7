import { describe, expect, it } from '@jest/globals';
import { TZDate } from '@date-fns/tz';
import { learnStyles, timeOf } from '../../src/exports/style.js';
import { parseWith } from '../../src/exports/infer.js';

// The style learned from a file's real rows, on its own: kinds, formats, precision, keys.

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

describe('file style', () => {
  it('reads zero-padded times fast and as date-fns does, in the hospital’s zone', () => {
    for (const [text, format] of [
      ['2026-03-08 01:02:03', 'yyyy-MM-dd HH:mm:ss'],
      ['2026/11/30 23:59', 'yyyy/MM/dd HH:mm'],
      ['20261001', 'yyyyMMdd'],
      ["2026-01-02T03:04:05", "yyyy-MM-dd'T'HH:mm:ss"],
      ['2026年3月8日 09:05', 'yyyy年M月d日 HH:mm'],
    ]) {
      const d = parseWith(text, format)!;
      const slow = new TZDate(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), 'Asia/Shanghai').getTime();
      expect([text, timeOf(text, format, 'Asia/Shanghai')]).toEqual([text, slow]);
    }
    expect(timeOf('2026-13-01 00:00:00', 'yyyy-MM-dd HH:mm:ss')).toBeNull();
  });

  it('learns codes, local times with seconds, 10 g weights, a date-prefixed key and a row number', () => {
    const rows = Array.from({ length: 200 }, (_, i) => [
      String(i + 1),
      `2026${pad(8 + Math.floor(i / 100))}${pad(1 + (i % 28))}${pad(i * 2 + 1, 4)}`,
      i % 3 ? '男' : '女',
      `2026-08-${pad(1 + (i % 28))} ${pad(i % 24)}:${pad(i % 60)}:${pad((i * 7) % 60)}`,
      String(2500 + ((i * 37) % 150) * 10),
      i % 5 ? null : '剖宫产',
    ]);
    const [ordinal, key, sex, time, weight, mode] = learnStyles(['序号', '住院号', '性别', '出生时间', '体重', '分娩方式'], rows, 'Asia/Shanghai');
    expect(ordinal).toMatchObject({ kind: 'key', monotone: 'asc' });
    expect(ordinal.key).toMatchObject({ ordinal: true, prefix: '' });
    expect(key).toMatchObject({ kind: 'key', unique: true });
    expect(key.key).toMatchObject({ datePrefix: 8, digits: 12, ordinal: false });
    expect(sex).toMatchObject({ kind: 'code' });
    expect(new Set(sex.shares.map(([v]) => v))).toEqual(new Set(['男', '女']));
    expect(time).toMatchObject({ kind: 'time' });
    expect(time.time).toMatchObject({ format: 'yyyy-MM-dd HH:mm:ss', seconds: true, hasTime: true });
    expect(weight).toMatchObject({ kind: 'number', number: { decimals: 0, step: 10 } });
    expect(mode.nulls).toBeCloseTo(0.8, 5);
  });

  it('learns the style of 20,000 rows with times of every hour, minute and second', () => {
    // Its speed (the fast reader of zero-padded times, not date-fns per value) is a figure for bench/,
    // not a timed assertion here.
    const rows = Array.from({ length: 20_000 }, (_, i) => [String(100_000 + i * 2), `2026-08-${pad(1 + (i % 28))} ${pad(i % 24)}:${pad(i % 60)}:${pad((i * 7) % 60)}`, i % 2 ? '男' : '女']);
    const styles = learnStyles(['id', 'cssj', 'xb'], rows, 'Asia/Shanghai');
    expect(styles.map((s) => s.kind)).toEqual(['key', 'time', 'code']);
  });
});
