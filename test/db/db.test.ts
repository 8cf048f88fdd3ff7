import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { migrate, openDatabase, quoteIdent, quoteQualified, type Database } from '../../src/db/index.js';
import { BACKENDS, newDatabase, type TestLocation } from '../helpers/db.js';

describe.each(BACKENDS)('database interface on %s', (backend) => {
  let loc: TestLocation;
  let db: Database;
  beforeAll(async () => {
    loc = await newDatabase(backend, 'dbif');
    db = await openDatabase(loc.location);
  });
  afterAll(async () => {
    await db.close();
    await loc.cleanup();
  });

  it('returns the same JavaScript types on both engines', async () => {
    const { rows } = await db.query<Record<string, unknown>>(
      `SELECT 9007199254740991::int8 AS big, 42::int4 AS small, '2026-11-28'::date AS d, '2026-11-28 10:00'::timestamp AS ts,
              '2026-11-28 10:00+08'::timestamptz AS tstz, '{"a":1}'::jsonb AS j, 1.50::numeric AS n, $1::text[] AS arr`,
      [['x', 'y']],
    );
    expect(rows[0]).toEqual({
      big: 9007199254740991,
      small: 42,
      d: '2026-11-28',
      ts: '2026-11-28 10:00:00',
      tstz: new Date('2026-11-28T02:00:00Z'),
      j: { a: 1 },
      n: '1.50',
      arr: ['x', 'y'],
    });
  });

  it('rolls a failed transaction back entirely', async () => {
    await db.exec('CREATE TABLE t_tx (id int PRIMARY KEY, v text)');
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO t_tx VALUES (1, $1)', ['a']);
        await tx.query('INSERT INTO t_tx VALUES (1, $1)', ['dup']);
      }),
    ).rejects.toThrow(/duplicate key/);
    expect((await db.query('SELECT * FROM t_tx')).rows).toEqual([]);
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO t_tx VALUES (2, $1)', ['b']);
    });
    expect((await db.query('SELECT v FROM t_tx')).rows).toEqual([{ v: 'b' }]);
    await expect(db.transaction((tx) => tx.query('INSERT INTO t_tx VALUES (3, $1)', ['c']), { readOnly: true })).rejects.toThrow(/read-only/);
  });

  it('bulk-loads awkward values with COPY, inside and outside transactions', async () => {
    await db.exec('CREATE TABLE "Odd ""Name""" (id int, v text, at timestamptz, j jsonb)');
    const rows = [
      [1, 'comma, "quote"\nnewline', new Date('2026-01-01T00:00:00Z'), { k: '值' }],
      [2, null, null, null],
      [3, '', null, null],
    ];
    expect(await db.copyFrom('Odd "Name"', ['id', 'v', 'at', 'j'], rows)).toBe(3);
    await db.transaction((tx) => tx.copyFrom('Odd "Name"', ['id', 'v', 'at', 'j'], (function* () { for (let i = 10; i < 50_010; i++) yield [i, `v${i}`, null, null]; })()));
    const { rows: out } = await db.query<{ id: number; v: string | null; at: Date | null; j: unknown }>(`SELECT * FROM ${quoteIdent('Odd "Name"')} WHERE id < 10 ORDER BY id`);
    expect(out).toEqual([
      { id: 1, v: 'comma, "quote"\nnewline', at: new Date('2026-01-01T00:00:00Z'), j: { k: '值' } },
      { id: 2, v: null, at: null, j: null },
      { id: 3, v: '', at: null, j: null },
    ]);
    expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoteIdent('Odd "Name"')}`)).rows[0].n).toBe(50_003);
  });

  it('bulk-loads text that is already CSV, and nothing for an empty text', async () => {
    await db.exec('CREATE TABLE t_csv (id int, v text)');
    await db.transaction(async (tx) => {
      await tx.copyCsvText('t_csv', ['id', 'v'], '1,"a, ""b"""\n2,\n3,""\n');
      await tx.copyCsvText('t_csv', ['id', 'v'], '');
      // Parts are one text: a field may start in one part and end in another.
      await tx.copyCsvText('t_csv', ['id', 'v'], ['4,"x', Buffer.from('\ny 王'), '"\n']);
      await tx.copyCsvText('t_csv', ['id', 'v'], [Buffer.alloc(0), '']);
    });
    expect((await db.query('SELECT id, v FROM t_csv ORDER BY id')).rows).toEqual([
      { id: 1, v: 'a, "b"' },
      { id: 2, v: null },
      { id: 3, v: '' },
      { id: 4, v: 'x\ny 王' },
    ]);
  });

  it('applies vault migrations once', async () => {
    const first = await migrate(db);
    expect(first.length).toBeGreaterThan(0);
    expect(await migrate(db)).toEqual([]);
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM cradle_migrations`);
    expect(rows[0].n).toBe(first.length);
  });
});

describe('identifier quoting', () => {
  it('quotes identifiers and qualified names', () => {
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(quoteQualified('his.MotherInfo')).toBe('"his"."MotherInfo"');
    expect(quoteQualified(['s', 'x; DROP TABLE y'])).toBe('"s"."x; DROP TABLE y"');
    expect(() => quoteIdent('')).toThrow();
  });
});

// Only a server has several processes at once; without one (no CRADLE_TEST_DATABASE_URL) this is skipped.
(BACKENDS.includes('postgres') ? describe : describe.skip)('migrations under a lock on postgres', () => {
  const backend = 'postgres' as const;
  it('applies each migration once when several processes start together', async () => {
    const loc = await newDatabase(backend, 'mig');
    const handles = await Promise.all([1, 2, 3].map(() => openDatabase(loc.location)));
    try {
      const applied = await Promise.all(handles.map((h) => migrate(h)));
      expect(applied.filter((a) => a.length > 0)).toHaveLength(1);
      const { rows } = await handles[0].query<{ n: number }>('SELECT count(*)::int AS n FROM cradle_migrations');
      expect(rows[0].n).toBe(applied.find((a) => a.length > 0)!.length);
    } finally {
      for (const h of handles) await h.close();
      await loc.cleanup();
    }
  });
});
