import { describe, expect, it } from '@jest/globals';
import { TZDate } from '@date-fns/tz';
import { learnStyles, placeCanaryRows, sequenceLike, StyleError, timeOf, type PlacedRows } from '../../src/exports/style.js';
import { parseWith } from '../../src/exports/infer.js';
import { placeCanaries, type ColumnPlan } from '../../src/exports/plan.js';
import { createRandom } from '../../src/lib/generate/index.js';

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

// Where a canary goes and which key it takes, decided together (pure: no database; `taken` stands
// for the target's own rows). Files of our own, sorted by a key and an admission time.

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 1, 0, 30);
const wall = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
const PLAN: ColumnPlan[] = [
  { name: 'key', value: null },
  { name: 'ryrq', value: { type: 'field', field: 'admittedAt', kind: 'instant' } },
  { name: 'lxdh', value: { type: 'field', field: 'mother.phone', kind: 'phone' } },
];

/** Real rows [key, admission, phone], one an hour, in key order. */
function realFile(keys: readonly (string | number)[]): unknown[][] {
  return keys.map((k, i) => [k, wall(T0 + i * HOUR + (i * 37 % 60) * 1000), `139${String(10_000_000 + ((i * 7919) % 99_991)).slice(-8)}`]);
}

/** A canary row as styledCanaryRow leaves it: no key, its own admission time. */
const canaryAt = (ms: number, n: number): unknown[] => [null, wall(ms), `1370000${String(n).padStart(4, '0')}`];

async function place(real: unknown[][], canaries: unknown[][], seed: string, taken: (text: string) => boolean = () => false): Promise<PlacedRows> {
  const styles = learnStyles(['key', 'ryrq', 'lxdh'], real, 'UTC');
  const rng = createRandom(seed);
  const placed = placeCanaries(real, canaries, rng, [1]);
  return placeCanaryRows(real, canaries, placed, { styles, plan: PLAN, rng, timeZone: 'UTC', isTaken: async (_c, candidates) => new Set(candidates.filter(taken)) });
}

const num = (v: unknown) => BigInt(String(v).replace(/^\D*/, ''));

/** The file is sorted by key and by time, canary keys are unique and none is a real row's. */
function expectSortedAndFresh(res: PlacedRows, real: unknown[][], descending = false) {
  const keys = res.rows.map((r) => num(r[0]));
  const ordered = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  expect(keys).toEqual(descending ? ordered.reverse() : ordered);
  const times = res.rows.map((r) => String(r[1]));
  const byTime = [...times].sort();
  expect(times).toEqual(descending ? byTime.reverse() : byTime);
  const realKeys = new Set(real.map((r) => String(r[0])));
  const canaryKeys = res.positions.map((p) => String(res.rows[p - 1][0]));
  for (const k of canaryKeys) expect([k, realKeys.has(k)]).toEqual([k, false]);
  expect(new Set(canaryKeys).size).toBe(canaryKeys.length);
  return canaryKeys;
}

describe('canary places and keys, decided together', () => {
  it('a canary before the first row takes a value below the smallest; one after the last of a sequence moves inside, times and all', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => 1200 + i * 3);
    const real = realFile(ids);
    const res = await place(real, [canaryAt(T0 - 2 * HOUR, 1), canaryAt(T0 + 70 * HOUR, 2)], 'ends');
    expect(res.rows).toHaveLength(62);
    const [early, late] = expectSortedAndFresh(res, real);
    // The first stays first, a little below 1200, unmoved.
    expect(res.positions[0]).toBe(1);
    expect(Number(early)).toBeLessThan(1200);
    expect(Number(early)).toBeGreaterThan(1190);
    expect(res.shifts[0]).toBe(0);
    // The last would need a value after 1377, the hospital's next id: it moves to the last gap, its times with it.
    expect(Number(late)).toBeLessThan(Math.max(...ids));
    expect(res.positions[1]).toBeLessThan(62);
    expect(res.shifts[1]).toBeLessThan(0);
    expect(res.rows[res.positions[1] - 1][1]).not.toBe(wall(T0 + 70 * HOUR));
  });

  it('in a file sorted downwards, a canary at the top (after the largest) moves and one at the bottom stays', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => 5000 + i * 2);
    const real = realFile(ids).reverse();
    const res = await place(real, [canaryAt(T0 + 50 * HOUR, 1), canaryAt(T0 - 5 * HOUR, 2)], 'desc');
    const [top, bottom] = expectSortedAndFresh(res, real, true);
    expect(Number(top)).toBeLessThan(5078);
    expect(res.positions[1]).toBe(42);
    expect(Number(bottom)).toBeLessThan(5000);
  });

  it('consecutive neighbours: the canary moves to the nearest place with a free value, and its time moves into that place', async () => {
    // 1…120 with one value missing (81): the only free place is between 80 and 82.
    const ids = Array.from({ length: 120 }, (_, i) => (i < 80 ? i + 1 : i + 2));
    const real = realFile(ids);
    const res = await place(real, [canaryAt(T0 + 20.5 * HOUR, 1)], 'consecutive');
    const [key] = expectSortedAndFresh(res, real);
    expect(key).toBe('81');
    expect(res.positions[0]).toBe(81);
    expect(res.shifts[0]).toBeGreaterThan(58 * HOUR);
    const t = String(res.rows[80][1]);
    expect(t >= String(real[79][1]) && t <= String(real[80][1])).toBe(true);
  });

  it('fails with one clear line when no place in the file has a free value', async () => {
    const ids = Array.from({ length: 120 }, (_, i) => (i < 80 ? i + 1 : i + 2));
    const real = realFile(ids);
    // The target holds the one free value (81): no gap anywhere.
    const none = await place(real, [canaryAt(T0 + 5 * HOUR, 1)], 'taken', (t) => t === '81').catch((e: unknown) => e);
    expect(none).toBeInstanceOf(StyleError);
    expect((none as Error).message).toBe(
      "column key: no free value for a canary's key anywhere in the file's order (neighbouring rows hold consecutive values, and values after the largest, 121, are the hospital's next); export a part of the table whose keys have gaps, or leave the column out",
    );
    // Two canaries, one free value.
    await expect(place(real, [canaryAt(T0 + 5 * HOUR, 1), canaryAt(T0 + 90 * HOUR, 2)], 'full')).rejects.toThrow(
      /^column key: room in the file's order for 1 of the 2 canaries' keys \(the other neighbouring rows hold consecutive values, and values after the largest, 121, are the hospital's next\); export fewer canaries or a part of the table whose keys have gaps$/,
    );
  });

  it('date-prefixed admission numbers (20261201003): on the canary’s own day, between its neighbours, never a day’s number the target holds', async () => {
    // Four a day over five days, numbered 001… each day, with gaps only on 2026-12-03.
    const keys: string[] = [];
    for (let d = 0; d < 5; d++) for (let k = 1; k <= 24; k++) keys.push(d === 2 && k % 3 === 0 ? '' : `202612${String(d + 1).padStart(2, '0')}${String(k).padStart(3, '0')}`);
    const present = keys.filter((k) => k !== '');
    const real = realFile(present).map((r, i) => [r[0], wall(Date.UTC(2026, 11, Number(present[i].slice(6, 8)), Number(present[i].slice(8)) - 1, 7)), r[2]]);
    const canaries = [canaryAt(Date.UTC(2026, 11, 1, 10), 1), canaryAt(Date.UTC(2026, 11, 3, 5, 30), 2), canaryAt(Date.UTC(2026, 11, 5, 23, 50), 3), canaryAt(Date.UTC(2026, 11, 2, 12), 4)];
    // The target holds two of the gaps (rows the file does not show), one of them the Dec 3 canary's own.
    const held = new Set(['20261203006', '20261203009']);
    const res = await place(real, canaries, 'dated', (t) => held.has(t));
    const got = expectSortedAndFresh(res, real);
    res.positions.forEach((p, i) => {
      const row = res.rows[p - 1];
      expect(got[i]).toMatch(/^202612\d{5}$/);
      expect(held.has(got[i])).toBe(false);
      // The number's day is the row's admission day.
      expect([got[i], String(row[1]).slice(0, 10).replace(/-/g, '')]).toEqual([got[i], got[i].slice(0, 8)]);
    });
    // Canaries between consecutive numbers moved; nothing after the last day's last number, the hospital's next.
    expect(res.shifts.filter((s) => s !== 0).length).toBeGreaterThanOrEqual(2);
    for (const k of got) expect(BigInt(k)).toBeLessThan(20261205024n);
    expect(got[1].slice(0, 8)).toBe('20261203');
  });

  it("zero-padded string keys ('ZY000123'): the pattern kept, unique against every row and each other", async () => {
    const ids = Array.from({ length: 200 }, (_, i) => 120 + i + Math.floor(i / 10) * 2);
    const real = realFile(ids.map((n) => `ZY${String(n).padStart(6, '0')}`));
    const canaries = Array.from({ length: 25 }, (_, i) => canaryAt(T0 + (i * 9 - 10) * HOUR, i));
    const res = await place(real, canaries, 'padded');
    const got = expectSortedAndFresh(res, real);
    for (const k of got) {
      expect(k).toMatch(/^ZY\d{6}$/);
      expect(Number(k.slice(2))).toBeLessThan(Math.max(...ids));
      expect(Number(k.slice(2))).toBeGreaterThan(0);
    }
  });

  it('keys drawn at random (not a sequence) may go after the largest; sequences never', async () => {
    const rng = createRandom('random-keys');
    const random = Array.from({ length: 50 }, () => BigInt(rng.int(1, 999_999)) * 1_000_000n + BigInt(rng.int(0, 999_999))).sort((a, b) => (a < b ? -1 : 1));
    const style = (values: bigint[]) => learnStyles(['k'], values.map((v) => [v.toString().padStart(12, '0')]))[0].key!;
    expect(sequenceLike(style(random))).toBe(false);
    expect(sequenceLike(style(Array.from({ length: 50 }, (_, i) => 100_000_000_000n + BigInt(i * 7))))).toBe(true);
    const real = realFile(random.map((v) => v.toString().padStart(12, '0')));
    const res = await place(real, [canaryAt(T0 + 80 * HOUR, 1)], 'random-end');
    const [key] = expectSortedAndFresh(res, real);
    expect(res.positions[0]).toBe(51);
    expect(BigInt(key)).toBeGreaterThan(random[random.length - 1]);
    expect(key).toHaveLength(12);
  });
});
