import { describe, expect, it } from '@jest/globals';
import { EventBlock } from '../../src/accesslog/block.js';
import { writeDigits } from '../../src/vault/access-events.js';

// The block an import builds a batch in: dedup by time and bytes, the stored text as it is (quotes not doubled), growth past
// its first capacity, filtering, reuse; and the digits of line numbers and epoch milliseconds.

const rows = (block: EventBlock): string[] => (block.count ? block.bytes().toString('utf8').split('\n') : []);
const T = 1761264002000;

describe('EventBlock', () => {
  it('drops the same text at the same time, keeps it at another time and another text at the same time', () => {
    const b = new EventBlock(8);
    expect(b.addText(1, T, 'a\x1fview')).toBe(true);
    expect(b.addText(2, T, 'a\x1fview')).toBe(false);
    expect(b.addText(3, T + 1, 'a\x1fview')).toBe(true);
    expect(b.addText(4, T, 'a\x1fprint')).toBe(true);
    // A prefix of a stored text is another text.
    expect(b.addText(5, T, 'a\x1fvie')).toBe(true);
    expect(b.addText(6, T, 'a\x1fprint')).toBe(false);
    expect(b.count).toBe(4);
    expect(rows(b)).toEqual(['1\x1fa\x1fview', '3\x1fa\x1fview', '4\x1fa\x1fprint', '5\x1fa\x1fvie']);
    expect([0, 1, 2, 3].map((r) => [b.line(r), b.time(r)])).toEqual([
      [1, T],
      [3, T + 1],
      [4, T],
      [5, T],
    ]);
    expect([b.fromMs, b.toMs]).toEqual([T, T + 1]);
  });

  it('keeps quotes as they are (the block goes as one parameter, not CSV) and finds a quoted text twice', () => {
    const b = new EventBlock(4);
    expect(b.addText(7, T, 'say "hi"\x1f"')).toBe(true);
    expect(b.addText(8, T, 'say "hi"\x1f"')).toBe(false);
    expect(b.bytes().toString('utf8')).toBe('7\x1fsay "hi"\x1f"');
  });

  it('stores multi-byte text as UTF-8', () => {
    const b = new EventBlock(4);
    b.addText(1, T, '王芳\x1fview');
    expect(b.addText(2, T, '王芳\x1fview')).toBe(false);
    expect(b.addText(3, T, '王芬\x1fview')).toBe(true);
    expect(rows(b)).toEqual(['1\x1f王芳\x1fview', '3\x1f王芬\x1fview']);
  });

  it('grows past its capacity and keeps finding events twice', () => {
    const b = new EventBlock(4, 8);
    const added: boolean[] = [];
    // 1000 rows over 10 times, each text once per time: the second pass adds nothing.
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < 1000; i++) added.push(b.addText(pass * 1000 + i + 1, T + (i % 10) * 1000, `user${i}\x1fview\x1f${'x'.repeat(i % 50)}`));
    }
    expect(added.slice(0, 1000).every(Boolean)).toBe(true);
    expect(added.slice(1000).some(Boolean)).toBe(false);
    expect(b.count).toBe(1000);
    const lines = rows(b);
    expect(lines).toHaveLength(1000);
    for (let i = 0; i < 1000; i++) {
      expect(lines[i]).toBe(`${i + 1}\x1fuser${i}\x1fview\x1f${'x'.repeat(i % 50)}`);
      expect(b.line(i)).toBe(i + 1);
      expect(b.time(i)).toBe(T + (i % 10) * 1000);
    }
    expect([b.fromMs, b.toMs]).toEqual([T, T + 9000]);
    // The same time with another text is still new after the growth.
    expect(b.addText(5000, T, 'user0\x1fprint\x1f')).toBe(true);
    expect(b.count).toBe(1001);
  });

  it('filters to the chosen rows with their lines and times, and the filtered block dedups too', () => {
    const b = new EventBlock(4);
    for (let i = 0; i < 10; i++) b.addText(10 + i, T + i, `e${i}`);
    const odd = b.filter((row) => row % 2 === 1);
    expect(odd.count).toBe(5);
    expect(rows(odd)).toEqual(['11\x1fe1', '13\x1fe3', '15\x1fe5', '17\x1fe7', '19\x1fe9']);
    expect(Array.from({ length: 5 }, (_, r) => [odd.line(r), odd.time(r)])).toEqual([1, 3, 5, 7, 9].map((i) => [10 + i, T + i]));
    expect([odd.fromMs, odd.toMs]).toEqual([T + 1, T + 9]);
    expect(odd.addText(99, T + 3, 'e3')).toBe(false);
    expect(odd.addText(99, T + 2, 'e2')).toBe(true);
    // The source block is unchanged.
    expect(b.count).toBe(10);
    expect(b.filter(() => false).count).toBe(0);
    expect(b.filter(() => false).bytes().length).toBe(0);
  });

  it('is empty after reset and forgets its events', () => {
    const b = new EventBlock(4);
    for (let i = 0; i < 20; i++) b.addText(i + 1, T, `e${i}`);
    expect(b.reset()).toBe(b);
    expect([b.count, b.end, b.fromMs, b.toMs, b.bytes().length]).toEqual([0, 0, Infinity, -Infinity, 0]);
    expect(b.addText(1, T, 'e0')).toBe(true);
    expect(rows(b)).toEqual(['1\x1fe0']);
  });

  it('tells whether another block holds a row (rowIn, has)', () => {
    const a = new EventBlock(4);
    const b = new EventBlock(4);
    a.addText(1, T, 'x\x1f"q"');
    a.addText(2, T, 'y');
    a.addText(3, T + 5, 'x\x1f"q"');
    b.addText(40, T, 'x\x1f"q"');
    b.addText(41, T + 5, 'y');
    expect([0, 1, 2].map((r) => a.rowIn(r, b))).toEqual([true, false, false]);
    expect([0, 1].map((r) => b.rowIn(r, a))).toEqual([true, false]);
    const text = Buffer.from('..x\x1f"q"..');
    expect(b.has(text, 2, text.length - 2, T)).toBe(true);
    expect(b.has(text, 2, text.length - 2, T + 1)).toBe(false);
    expect(b.has(text, 2, text.length - 3, T)).toBe(false);
  });

  it('finds events twice in time order, after leaving it, after growing and after reset (its index is built only out of order)', () => {
    // The same texts over 30 times, each time's rows in a run, in time order: the second copy of each row is dropped
    // whether it comes right after it (same time as the last rows) or later, out of order.
    const b = new EventBlock(4, 8);
    const texts = (t: number) => [`a${t}`, `b${t}`, `c${t % 3}`];
    let line = 0;
    for (let t = 0; t < 30; t++) for (const text of texts(t)) expect(b.addText(++line, T + t * 1000, text)).toBe(true);
    for (let t = 0; t < 30; t++) expect(b.addText(++line, T + t * 1000, `b${t}`)).toBe(false);
    // Another block finds its rows by their times while it is in time order.
    const other = new EventBlock(4);
    other.addText(1, T + 7000, 'c1');
    other.addText(2, T + 7000, 'b7');
    other.addText(3, T + 7000, 'c7');
    other.addText(4, T + 29000, 'c2');
    other.addText(5, T - 1000, 'a0');
    expect([0, 1, 2, 3, 4].map((r) => other.rowIn(r, b))).toEqual([true, true, false, true, false]);
    // Out of order now: an earlier time, then more rows at the last times and earlier ones.
    expect(b.addText(++line, T + 3000, 'c3')).toBe(true);
    expect(b.addText(++line, T + 3000, 'c3')).toBe(false);
    expect(b.addText(++line, T + 29000, 'a29')).toBe(false);
    expect(b.addText(++line, T + 29000, 'c29')).toBe(true);
    expect(b.addText(++line, T + 5000, 'c2')).toBe(false);
    expect(b.addText(++line, T + 5000, 'b2')).toBe(true);
    expect([0, 1, 2, 3, 4].map((r) => other.rowIn(r, b))).toEqual([true, true, false, true, false]);
    expect(b.count).toBe(93);
    expect([b.fromMs, b.toMs]).toEqual([T, T + 29000]);
    // Reused: in time order again, nothing of the old rows found.
    b.reset();
    expect(b.addText(1, T + 29000, 'a29')).toBe(true);
    expect(b.addText(2, T, 'a29')).toBe(true);
    expect(b.addText(3, T + 29000, 'a29')).toBe(false);
    expect(b.addText(4, T, 'a29')).toBe(false);
    expect(b.count).toBe(2);
  });

  it('has no trailing newline in its bytes', () => {
    const b = new EventBlock(4);
    expect(b.bytes().length).toBe(0);
    b.addText(1, T, 'a');
    b.addText(2, T, 'b');
    expect(b.bytes().toString()).toBe('1\x1fa\n2\x1fb');
    // A dropped duplicate leaves no trace in the bytes.
    b.addText(3, T, 'a');
    expect(b.bytes().toString()).toBe('1\x1fa\n2\x1fb');
  });
});

describe('writeDigits', () => {
  it.each([0, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 1e9 - 1, 1e9, 1e9 + 1, 2e9 + 7, 1761264002000, 1761264000005, Number.MAX_SAFE_INTEGER])('writes %d as String(n)', (n) => {
    const buf = Buffer.alloc(40, 0x2e);
    const end = writeDigits(buf, 3, n);
    expect(buf.toString('latin1', 3, end)).toBe(String(n));
    expect(end).toBe(3 + String(n).length);
    // Nothing outside [3, end) is touched.
    expect(buf.toString('latin1', 0, 3)).toBe('...');
    expect(buf.toString('latin1', end)).toBe('.'.repeat(40 - end));
  });
});
