import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadMigrations, migrate, openDatabase, type Database } from '../../src/db/index.js';
import { BACKENDS, newDatabase, type TestLocation } from '../helpers/db.js';

// Migration 008 on a vault that 006 filled: the events stored one row each move into access_blocks and
// come back unchanged through the access_events view; tripwires keep their event's fields.

interface Event {
  import: 'a' | 'b';
  line: number;
  at: string;
  account: string;
  action: string;
  scope: 'single' | 'bulk';
  records: string[];
  system: string | null;
  ip: string | null;
}

const HOSPITAL = 'gulou';

// Import a: lines 1-5 in the first block of 50,000 lines, line 50001 in the second; import b: one line.
// Times are out of line order so from_at/to_at are the block's minimum and maximum, not its ends.
const EVENTS: Event[] = [
  { import: 'a', line: 1, at: '2026-11-03T01:41:07.123Z', account: 'nurse42', action: 'view', scope: 'single', records: ['1001'], system: 'his', ip: '10.0.3.77' },
  { import: 'a', line: 2, at: '2026-11-03T01:42:00.000Z', account: 'clerk03', action: 'list', scope: 'bulk', records: ['1002', '1003'], system: 'his', ip: '10.0.9.1' },
  { import: 'a', line: 3, at: '2026-11-03T01:40:59.999Z', account: 'batch', action: 'export', scope: 'bulk', records: [], system: null, ip: null },
  { import: 'a', line: 4, at: '2026-11-03T01:43:00.001Z', account: 'dr\tzhang', action: 'print', scope: 'single', records: ['1004'], system: 'lis', ip: null },
  { import: 'a', line: 5, at: '2026-11-03T01:44:30.500Z', account: '王医生', action: 'view', scope: 'single', records: ['1005'], system: null, ip: '10.0.3.78' },
  { import: 'a', line: 50001, at: '2026-11-04T09:00:00.250Z', account: 'nurse07', action: 'view', scope: 'single', records: ['1006'], system: 'his', ip: '10.0.3.79' },
  { import: 'b', line: 7, at: '2026-11-05T00:00:00.000Z', account: 'nurse42', action: 'view', scope: 'single', records: ['1007'], system: 'his', ip: '10.0.3.77' },
];

describe.each(BACKENDS)('migration 008 (access events into blocks) on %s', (backend) => {
  let loc: TestLocation;
  let db: Database;
  const importIds: Record<'a' | 'b', number> = { a: 0, b: 0 };
  const eventIds = new Map<Event, number>();
  let tripwireId: number;

  beforeAll(async () => {
    loc = await newDatabase(backend, 'vault-008');
    db = await openDatabase(loc.location, { role: 'vault' });
    const migrations = loadMigrations();
    expect(migrations.some((m) => m.version === 8 && m.name === '008_access_blocks')).toBe(true);
    const before = await migrate(
      db,
      migrations.filter((m) => m.version < 8),
    );
    expect(before).toContain('006_access');
    expect(before).not.toContain('008_access_blocks');

    // What 006 held.
    await db.query(`INSERT INTO hospitals (name, locale) VALUES ($1, 'zh-CN')`, [HOSPITAL]);
    await db.query(`INSERT INTO seed_batches (id, hospital, channels, state, requested) VALUES ('batch1', $1, '[]', 'planted', 1)`, [HOSPITAL]);
    await db.query(
      `INSERT INTO canaries (id, hospital, batch_id, status, iso_week, ward, family, mother_name)
       VALUES ('can1', $1, 'batch1', 'planted', '2026-W45', '产科', '{}', '李娜')`,
      [HOSPITAL],
    );
    for (const [key, sha] of [
      ['a', 'aaaa'],
      ['b', 'bbbb'],
    ] as const) {
      const { rows } = await db.query<{ id: number }>(
        `INSERT INTO access_imports (hospital, path, format, sha256, size_bytes, time_zone, options, state, lines_done, added)
         VALUES ($1, $2, 'csv', $3, 1000, 'Asia/Shanghai', '{}', 'done', 50001, 6) RETURNING id`,
        [HOSPITAL, `/logs/${key}.csv`, sha],
      );
      importIds[key] = rows[0].id;
    }
    for (const e of EVENTS) {
      const { rows } = await db.query<{ id: number }>(
        `INSERT INTO access_events (hospital, event_key, at, account, action, scope, records, system, ip, import_id, line)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
        [HOSPITAL, randomUUID(), e.at, e.account, e.action, e.scope, e.records, e.system, e.ip, importIds[e.import], e.line],
      );
      eventIds.set(e, rows[0].id);
    }
    // A tripwire on line 2 (bulk, two records).
    const wired = EVENTS[1];
    const { rows: wires } = await db.query<{ id: number }>(
      `INSERT INTO tripwires (event_id, canary_id, hospital, account, at, scope) VALUES ($1, 'can1', $2, $3, $4, $5) RETURNING id`,
      [eventIds.get(wired), HOSPITAL, wired.account, wired.at, wired.scope],
    );
    tripwireId = wires[0].id;

    const after = await migrate(db, migrations);
    expect(after).toEqual(migrations.filter((m) => m.version >= 8).map((m) => m.name));
  });

  afterAll(async () => {
    await db?.close();
    await loc?.cleanup();
  });

  it('gives every event back through the access_events view, control characters as spaces', async () => {
    const { rows } = await db.query<{ hospital: string; import_id: number; line: number; at: Date; account: string; action: string; scope: string; records: string[]; system: string | null; ip: string | null }>(
      `SELECT hospital, import_id, line, at, account, action, scope, records, system, ip FROM access_events ORDER BY import_id, line`,
    );
    const expected = EVENTS.map((e) => ({
      hospital: HOSPITAL,
      import_id: importIds[e.import],
      line: e.line,
      at: new Date(e.at),
      account: e.account.replace(/\t/g, ' '),
      action: e.action,
      scope: e.scope,
      records: e.records,
      system: e.system,
      ip: e.ip,
    })).sort((x, y) => x.import_id - y.import_id || x.line - y.line);
    expect(rows).toEqual(expected);
    // Milliseconds survive exactly.
    expect(rows.map((r) => r.at.toISOString())).toEqual(
      EVENTS.slice()
        .sort((x, y) => importIds[x.import] - importIds[y.import] || x.line - y.line)
        .map((e) => e.at),
    );
    // The view's column types: records is a text[] (empty, not NULL, for no records), at a timestamptz.
    const { rows: types } = await db.query<{ records: string; at: string; line: string }>(
      `SELECT pg_typeof(records)::text AS records, pg_typeof(at)::text AS at, pg_typeof(line)::text AS line FROM access_events LIMIT 1`,
    );
    expect(types[0]).toEqual({ records: 'text[]', at: 'timestamp with time zone', line: 'bigint' });
    const { rows: empty } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM access_events WHERE records = '{}' AND cardinality(records) = 0`);
    expect(empty[0].n).toBe(1);
  });

  it('gives the events of a time span through access_events_between, the same as the view filtered on time', async () => {
    const times = EVENTS.map((e) => e.at).sort();
    const [since, until] = [times[1], times[times.length - 2]];
    const between = await db.query<{ import_id: number; line: number }>(
      `SELECT import_id, line FROM access_events_between($1, $2, $3) ORDER BY import_id, line`,
      [HOSPITAL, since, until],
    );
    const viewed = await db.query<{ import_id: number; line: number }>(
      `SELECT import_id, line FROM access_events WHERE hospital = $1 AND at >= $2 AND at < $3 ORDER BY import_id, line`,
      [HOSPITAL, since, until],
    );
    // The first time is before the span; the last two are at or after its (exclusive) end.
    expect(between.rows.length).toBe(EVENTS.length - 3);
    expect(between.rows).toEqual(viewed.rows);
    expect((await db.query(`SELECT 1 FROM access_events_between('another hospital', $1, $2)`, [since, until])).rows).toEqual([]);
  });

  it('stores the events in blocks of up to 50,000 lines per import', async () => {
    const { rows } = await db.query<{ hospital: string; import_id: number; first_line: number; last_line: number; events_count: number; from_at: Date; to_at: Date; events: string }>(
      `SELECT hospital, import_id, first_line, last_line, events_count, from_at, to_at, events FROM access_blocks ORDER BY import_id, first_line`,
    );
    expect(rows.map(({ events: _events, ...rest }) => rest)).toEqual([
      { hospital: HOSPITAL, import_id: importIds.a, first_line: 1, last_line: 5, events_count: 5, from_at: new Date('2026-11-03T01:40:59.999Z'), to_at: new Date('2026-11-03T01:44:30.500Z') },
      { hospital: HOSPITAL, import_id: importIds.a, first_line: 50001, last_line: 50001, events_count: 1, from_at: new Date('2026-11-04T09:00:00.250Z'), to_at: new Date('2026-11-04T09:00:00.250Z') },
      { hospital: HOSPITAL, import_id: importIds.b, first_line: 7, last_line: 7, events_count: 1, from_at: new Date('2026-11-05T00:00:00.000Z'), to_at: new Date('2026-11-05T00:00:00.000Z') },
    ]);
    // The documented line format: line, epoch ms, account, action, scope, records (U+001E), system, ip.
    const F = '\x1f';
    expect(rows[0].events.split('\n')).toEqual([
      ['1', String(Date.parse('2026-11-03T01:41:07.123Z')), 'nurse42', 'view', 'single', '1001', 'his', '10.0.3.77'].join(F),
      ['2', String(Date.parse('2026-11-03T01:42:00.000Z')), 'clerk03', 'list', 'bulk', '1002\x1e1003', 'his', '10.0.9.1'].join(F),
      ['3', String(Date.parse('2026-11-03T01:40:59.999Z')), 'batch', 'export', 'bulk', '', '', ''].join(F),
      ['4', String(Date.parse('2026-11-03T01:43:00.001Z')), 'dr zhang', 'print', 'single', '1004', 'lis', ''].join(F),
      ['5', String(Date.parse('2026-11-03T01:44:30.500Z')), '王医生', 'view', 'single', '1005', '', '10.0.3.78'].join(F),
    ]);
    const { rows: gone } = await db.query<{ old: string | null; kind: string }>(
      `SELECT to_regclass('access_events_006')::text AS old, (SELECT relkind::text FROM pg_class WHERE relname = 'access_events') AS kind`,
    );
    expect(gone[0]).toEqual({ old: null, kind: 'v' });
  });

  it("copies the event's fields into its tripwire and drops event_id", async () => {
    const wired = EVENTS[1];
    const { rows } = await db.query(`SELECT id, canary_id, hospital, account, at, scope, import_id, line, action, system, ip FROM tripwires`);
    expect(rows).toEqual([
      { id: tripwireId, canary_id: 'can1', hospital: HOSPITAL, account: wired.account, at: new Date(wired.at), scope: wired.scope, import_id: importIds.a, line: wired.line, action: wired.action, system: wired.system, ip: wired.ip },
    ]);
    const { rows: cols } = await db.query<{ column_name: string; is_nullable: string }>(
      `SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = 'tripwires' AND column_name IN ('event_id', 'import_id', 'line', 'action', 'system', 'ip') ORDER BY column_name`,
    );
    expect(cols).toEqual([
      { column_name: 'action', is_nullable: 'NO' },
      { column_name: 'import_id', is_nullable: 'NO' },
      { column_name: 'ip', is_nullable: 'YES' },
      { column_name: 'line', is_nullable: 'NO' },
      { column_name: 'system', is_nullable: 'YES' },
    ]);
    // cradle's query shape: the tripwire joined to its import, and back to its event through the view.
    const { rows: joined } = await db.query(`SELECT t.line, t.action, i.path FROM tripwires t JOIN access_imports i ON i.id = t.import_id`);
    expect(joined).toEqual([{ line: 2, action: 'list', path: '/logs/a.csv' }]);
    const { rows: viaView } = await db.query(
      `SELECT e.records FROM tripwires t JOIN access_events e ON e.import_id = t.import_id AND e.line = t.line`,
    );
    expect(viaView).toEqual([{ records: ['1002', '1003'] }]);
    // The new unique key refuses a second tripwire for the same line and canary.
    await expect(
      db.query(`INSERT INTO tripwires (canary_id, hospital, account, at, scope, import_id, line, action) VALUES ('can1', $1, 'x', now(), 'bulk', $2, 2, 'list')`, [HOSPITAL, importIds.a]),
    ).rejects.toThrow(/unique|duplicate/i);
  });
});
