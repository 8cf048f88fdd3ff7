import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase, readOnly, StatementRefused, type Database } from '../../src/db/index.js';
import { checkPostgresStatement, postgresql } from '../../src/db/readonly.js';
import { BACKENDS, newDatabase, type TestLocation } from '../helpers/db.js';

// The read-only promise on the target (src/db/readonly.ts), layer by layer: the text check, the
// server refusing a batch on the extended protocol, and the check after each statement.

const refusal = (sql: string): string | null => {
  try {
    checkPostgresStatement(sql);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(StatementRefused);
    return (err as Error).message;
  }
};

describe('the PostgreSQL statement check', () => {
  it('accepts one query, wherever ";" and function names hide in strings, comments and names', () => {
    for (const sql of [
      'SELECT 1',
      'select 1 ;  ',
      'SELECT 1; -- the end',
      '(SELECT 1) UNION (SELECT 2)',
      'WITH x AS (SELECT 1 AS a) SELECT a FROM x',
      'VALUES (1), (2)',
      'TABLE families',
      "SELECT 'a;b' AS x, 'it''s; fine' AS y",
      "SELECT E'\\'; DELETE FROM victim; --' AS x",
      'SELECT $1::text, $2::int',
      'SELECT $$;$$, $tag$ ; COMMIT; $tag$',
      'SELECT /* ; /* nested ; */ still comment ; */ 1',
      'SELECT "lo_export", "a;b" FROM t',
      "SELECT 'lo_export(1)', a$b FROM t",
      'SELECT count(*) FROM families WHERE mother_phone = ANY($1::text[])',
    ]) {
      expect({ sql, refused: refusal(sql) }).toEqual({ sql, refused: null });
    }
  });

  it('refuses a second statement, however it is hidden', () => {
    for (const sql of [
      'COMMIT; DELETE FROM victim; SELECT 1 AS x',
      'ROLLBACK; CREATE TABLE pwned (x int); SELECT 1 AS x',
      'END; DROP TABLE victim; SELECT 1 AS x',
      "SELECT ';' AS x; -- \n DELETE FROM victim",
      // With standard_conforming_strings (set in the transaction) a backslash does not escape a quote.
      "SELECT 'a\\'; DELETE FROM victim; --'",
      'SELECT 1 /* c */ ; /* c */ SELECT 2',
    ]) {
      expect({ sql, refused: refusal(sql) }).toEqual({ sql, refused: expect.stringMatching(/^more than one statement is refused/) });
    }
  });

  it('refuses statements that are not queries, naming why', () => {
    const cases: [string, RegExp][] = [
      ["COPY (SELECT 'x') TO '/tmp/f'", /^COPY is refused: it can read and write files/],
      ["-- first\n ( copy victim TO '/tmp/f')", /^COPY is refused/],
      ['COMMIT', /^COMMIT is refused: it would end Cradle's read-only transaction/],
      ['/* c */ rollback', /^ROLLBACK is refused/],
      ['END', /^END is refused/],
      ['ABORT', /^ABORT is refused/],
      ["PREPARE TRANSACTION 'x'", /^PREPARE is refused/],
      ['START TRANSACTION READ WRITE', /^START is refused/],
      ['SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE', /^SET is refused/],
      ['SET transaction_read_only = off', /^SET is refused/],
      ['RESET ALL', /^RESET is refused/],
      ['CALL p()', /^a statement starting CALL is refused/],
      ['DO $$ BEGIN DELETE FROM victim; END $$', /^a statement starting DO is refused/],
      ['EXPLAIN ANALYZE DELETE FROM victim', /^a statement starting EXPLAIN is refused/],
      ['DELETE FROM victim', /^a statement starting DELETE is refused/],
      ['LISTEN x', /^a statement starting LISTEN is refused/],
      ['', /^an empty statement is refused/],
      ['  -- nothing', /^an empty statement is refused/],
      ["SELECT 'abc", /^a string opened at character 8 is not closed/],
      ['SELECT /* x', /^a comment opened at character 8 is not closed/],
      ['SELECT $$ x', /is not closed/],
      ['SELECT U&"lo\\005fexport"(1, \'/tmp/f\')', /Unicode-escaped name/],
      ['SELECT 1\u0000', /NUL byte/],
      ["'x'\nSELECT 1", /^a statement starting 'x'\?SELECT 1 is refused/],
      ['DELETE\u0085FROM victim', /^a statement starting DELETE\?FROM is refused/],
    ];
    for (const [sql, reason] of cases) expect({ sql, refused: refusal(sql) }).toEqual({ sql, refused: expect.stringMatching(reason) });
  });

  it('refuses functions that act outside the transaction, however they are called', () => {
    const cases: [string, string][] = [
      ["SELECT lo_export(16400, '/tmp/f')", 'lo_export'],
      ["SELECT pg_catalog.lo_export(1, '/tmp/f')", 'lo_export'],
      ["SELECT LO_EXPORT (1, '/tmp/f')", 'lo_export'],
      ["SELECT lo_export/**/(1, '/tmp/f')", 'lo_export'],
      ['SELECT "lo_export"(1, \'/tmp/f\')', 'lo_export'],
      ["SELECT * FROM victim WHERE pg_file_write('f', 'x', false) > 0", 'pg_file_write'],
      ["SELECT dblink_exec('dbname=his', 'DELETE FROM victim')", 'dblink_exec'],
      ['SELECT pg_terminate_backend(pid) FROM pg_stat_activity', 'pg_terminate_backend'],
      ["SELECT set_config('transaction_read_only', 'off', true)", 'set_config'],
      ["WITH s AS (SELECT set_config('default_transaction_read_only', 'off', false)) SELECT 1", 'set_config'],
      ["SELECT query_to_xml('select lo_export(1, ''/tmp/f'')', true, false, '')", 'query_to_xml'],
      ["SELECT pg_read_file('/etc/passwd')", 'pg_read_file'],
      ['SELECT pg_advisory_lock(1)', 'pg_advisory_lock'],
      ["SELECT pg_notify('c', 'x')", 'pg_notify'],
    ];
    for (const [sql, name] of cases) {
      expect({ sql, refused: refusal(sql) }).toEqual({ sql, refused: `${name}() is refused: it acts outside the read-only transaction (server files, other sessions or settings)` });
    }
  });
});

describe.each(BACKENDS)('readOnly() on %s', (backend) => {
  let loc: TestLocation;
  let db: Database;
  const victimRows = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM victim')).rows[0].n;
  beforeAll(async () => {
    loc = await newDatabase(backend, 'readonly');
    db = await openDatabase(loc.location);
    await db.exec('CREATE TABLE victim (id int); INSERT INTO victim VALUES (1), (2), (3);');
  });
  afterAll(async () => {
    await db.close();
    await loc.cleanup();
  });

  it('reads, with and without parameters, and leaves the database usable for writes', async () => {
    const rows = await readOnly(db, async (q) => [(await q.query<{ n: number }>('SELECT count(*)::int AS n FROM victim')).rows[0].n, (await q.query<{ id: number }>('SELECT id FROM victim WHERE id = $1', [2])).rows[0].id]);
    expect(rows).toEqual([3, 2]);
    await db.transaction((tx) => tx.query('INSERT INTO victim VALUES (4)'));
    await db.query('DELETE FROM victim WHERE id = 4');
    expect(await victimRows()).toBe(3);
  });

  it('runs without JIT, takes a work_mem for the rest of the transaction only, and refuses one that is not a whole MiB', async () => {
    const setting = (q: { query: Database['query'] }, name: string) => q.query<{ v: string }>(`SELECT current_setting('${name}') AS v`).then((r) => r.rows[0].v);
    const outside = await setting(db, 'work_mem');
    const seen = await readOnly(db, async (q) => {
      const before = [await setting(q, 'jit'), await setting(q, 'work_mem')];
      await q.tune!({ workMemMiB: 1024 });
      const raised = await setting(q, 'work_mem');
      await q.tune!({ workMemMiB: null });
      return [...before, raised, await setting(q, 'work_mem')];
    });
    expect(seen).toEqual(['off', outside, '1GB', outside]);
    expect(await setting(db, 'work_mem')).toBe(outside);
    await expect(readOnly(db, (q) => q.tune!({ workMemMiB: 1.5 }))).rejects.toThrow('work_mem of 1.5 MiB is not a whole number from 1 to 2097151');
  });

  it('refuses writes the text check lets through: the transaction is READ ONLY', async () => {
    for (const sql of ['WITH d AS (DELETE FROM victim RETURNING id) SELECT id FROM d', 'SELECT * INTO pwned FROM victim', 'SELECT * FROM victim FOR UPDATE']) {
      await expect(readOnly(db, (q) => q.query(sql))).rejects.toThrow(/read-only transaction/);
    }
    expect(await victimRows()).toBe(3);
  });

  it('refuses a statement that took a transaction id, and rolls it back', async () => {
    await expect(readOnly(db, (q) => q.query('SELECT txid_current()'))).rejects.toThrow(/take a transaction id.*rolled back/);
  });

  it('the server refuses a batch on the extended protocol even without the text check', async () => {
    for (const sql of ['COMMIT; DELETE FROM victim; SELECT 1 AS x', 'ROLLBACK; CREATE TABLE pwned (x int); SELECT 1 AS x', 'END; DROP TABLE victim; SELECT 1 AS x']) {
      await expect(db.rolledBackTransaction(postgresql.setup, (tx) => tx.query(sql))).rejects.toThrow(/cannot insert multiple commands into a prepared statement/);
    }
    expect(await victimRows()).toBe(3);
  });

  it('notices a statement that ended the transaction, even without the text check', async () => {
    for (const end of ['COMMIT', 'ROLLBACK', 'END']) {
      const problem = await db.rolledBackTransaction(postgresql.setup, async (tx) => {
        await postgresql.mark(tx, 'token');
        expect(await postgresql.confirm(tx, 'token')).toBeNull();
        await tx.query(end);
        return postgresql.confirm(tx, 'token');
      });
      expect(problem).toBe("the statement ended Cradle's read-only transaction");
    }
  });

  it('the server will not turn read-only off once the transaction has read', async () => {
    await expect(
      db.rolledBackTransaction(postgresql.setup, async (tx) => {
        await postgresql.mark(tx, 'token');
        await tx.query("SELECT set_config('transaction_read_only', 'off', true)");
      }),
    ).rejects.toThrow(/transaction read-write mode must be set before any query/);
  });

  it('never writes a COPY file, even when the role could', async () => {
    const file = path.join(os.tmpdir(), `cradle-readonly-copy-${process.pid}-${backend}`);
    fs.rmSync(file, { force: true });
    await expect(readOnly(db, (q) => q.query(`COPY (SELECT 'x') TO '${file}'`))).rejects.toThrow(StatementRefused);
    expect(fs.existsSync(file)).toBe(false);
  });
});
