import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/db/index.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { cradle, cradleInProcess, json } from '../helpers/cli.js';
import { scratchDir } from '../helpers/db.js';
import { createTrapVault, type TrapVault } from './trap-vault.js';

// `cradle ingest` through the CLI, on an embedded vault with a canary and its traps: in-process
// (test/helpers/cli.ts), through the real binary when it reads stdin.

describe('cradle ingest (the CLI)', () => {
  let v: TrapVault;
  let cwd: string;
  const run = (args: string[], input?: string) => {
    const all = ['--vault', v.location.location, ...args];
    return input === undefined ? cradleInProcess(all, { cwd }) : cradle(all, { cwd, input });
  };

  beforeAll(async () => {
    v = await createTrapVault('pglite', 'ingestcli');
    await v.db.close();
    cwd = scratchDir('ingest-cli');
    for (const f of fs.readdirSync(path.join(FIXTURES_DIR, 'ingest'))) fs.copyFileSync(path.join(FIXTURES_DIR, 'ingest', f), path.join(cwd, f));
  });
  afterAll(async () => {
    await v?.location.cleanup();
  });

  it('documents itself with examples', async () => {
    const help = await cradleInProcess(['ingest', '--help'], { cwd });
    expect(help.stdout).toMatch(/Examples:\n\s+cradle ingest cdr/);
    const cdrHelp = await cradleInProcess(['ingest', 'cdr', '--help'], { cwd });
    expect(cdrHelp.stdout).toContain('accountcode, src, dst, dcontext, clid');
  });

  it('imports a Master.csv once, says what it skipped, and records nothing new the second time', async () => {
    const first = await run(['ingest', 'cdr', 'Master.csv', '--time-zone', 'Asia/Shanghai']);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Master.csv: 5 rows; 3 recorded, 0 already in the vault, 2 skipped');
    const again = json<{ recorded: number; duplicates: number; skipped: number }>(await run(['ingest', 'cdr', 'Master.csv', '--time-zone', 'Asia/Shanghai', '--json']));
    expect(again).toMatchObject({ recorded: 0, duplicates: 3, skipped: 2 });
    const verbose = await run(['ingest', 'cdr', 'Master.csv', '--time-zone', 'Asia/Shanghai', '--verbose']);
    expect(verbose.stdout).toContain('nothing new: every contact in this file was recorded before');
    expect(verbose.stdout).toContain('skipped: Master.csv:3: +8613511112222 is not a trap number');
  });

  it('rejects a bad row with file:line and records the rest; bad usage exits 2', async () => {
    const bad = await run(['ingest', 'cdr', 'Master-bad.csv', '--time-zone', 'Asia/Shanghai']);
    expect(bad.code).toBe(0);
    expect(bad.stdout).toContain('Master-bad.csv: 3 rows; 2 recorded, 0 already in the vault, 0 skipped, 1 rejected');
    expect(bad.stderr).toBe('cradle: warning: rejected: Master-bad.csv:3: "2026-13-24 10:15:02" is not a time (write YYYY-MM-DD HH:MM:SS, or ISO 8601 with an offset)\n');
    const noZone = await run(['ingest', 'cdr', 'Master.csv']);
    expect(noZone.code).toBe(1);
    expect(noZone.stderr).toMatch(/pass --time-zone/);
    const noMap = await run(['ingest', 'cdr', 'pbx-export.csv', '--format', 'csv', '--time-zone', 'UTC']);
    expect(noMap.stderr).toMatch(/--format csv needs --map/);
    const badMap = await run(['ingest', 'cdr', 'pbx-export.csv', '--format', 'csv', '--map', 'src=Caller']);
    expect(badMap.code).toBe(2);
    expect(badMap.stderr).toMatch(/the map needs dst=<column>, start=<column>/);
    const csv = json<{ recorded: number }>(await run(['ingest', 'cdr', 'pbx-export.csv', '--format', 'csv', '--map', 'src=Caller,dst=Called,start=Time,id=CallId', '--time-zone', 'Asia/Shanghai', '--json']));
    expect(csv.recorded).toBe(2);
    // The old column=field order, over two --map options: the same map, with a warning per pair.
    const oldOrder = await run(['ingest', 'cdr', 'pbx-export.csv', '--format', 'csv', '--map', 'Caller=src,Called=dst', '--map', 'start=Time,id=CallId', '--time-zone', 'Asia/Shanghai', '--json']);
    expect(oldOrder.stderr).toBe('cradle: warning: --map Caller=src is the old column=field order; write --map src=Caller\ncradle: warning: --map Called=dst is the old column=field order; write --map dst=Called\n');
    expect(json<{ recorded: number; duplicates: number }>(oldOrder)).toMatchObject({ recorded: 0, duplicates: 2 });
  });

  it('imports mail and hand-noted events', async () => {
    const mbox = json<{ messages: number; recorded: number; skipped: number }>(await run(['ingest', 'mail', 'box.mbox', '--json']));
    expect(mbox).toMatchObject({ messages: 3, recorded: 2, skipped: 1 });
    const eml = await run(['ingest', 'mail', 'message.eml']);
    expect(eml.stdout).toContain('message.eml: 1 messages; 1 recorded, 0 already in the vault, 0 skipped');
    const event = json<{ events: number; recorded: number }>(await run(['ingest', 'event', '--json', 'visit.json']));
    expect(event).toMatchObject({ events: 1, recorded: 1 });
    const stdin = await run(['ingest', 'event', '-'], '{"kind":"letter","to":"c1","occurredAt":"2026-11-27T00:00:00Z"}');
    expect(stdin.stdout).toContain('stdin: 1 event; 1 recorded');
    const bad = await run(['ingest', 'event', 'visit-bad.json']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^cradle: visit-bad\.json: kind: /m);
    expect(bad.stderr).toMatch(/^cradle: visit-bad\.json: occurredAt: an ISO 8601 time/m);
    expect(bad.stderr).not.toMatch(/^\s+at /m);
  });

  it("reads local times in the config hospital's time zone", async () => {
    const config = { vault: v.location.location, hospitals: { h1: { target: 'unused', mapping: 'unused.json', timeZone: 'Europe/Berlin', wards: ['NICU'], districts: ['x'] } } };
    fs.writeFileSync(path.join(cwd, 'cradle.config.json'), JSON.stringify(config));
    const csv = 'CallId,Time,Caller,Called\nberlin-1,2026-07-01 12:00:00,13700001111,13912345678\n';
    const res = json<{ recorded: number }>(await cradle(['ingest', 'cdr', '-', '--format', 'csv', '--map', 'src=Caller,dst=Called,start=Time,id=CallId', '--json'], { cwd, input: csv }));
    expect(res.recorded).toBe(1);
    const db = await openDatabase(v.location.location);
    try {
      const { rows } = await db.query<{ occurred_at: Date; raw: Uint8Array }>(`SELECT occurred_at, raw FROM contact_events WHERE provider_id = 'berlin-1'`);
      expect(rows[0].occurred_at.toISOString()).toBe('2026-07-01T10:00:00.000Z');
      expect(Buffer.from(rows[0].raw).toString()).toBe('berlin-1,2026-07-01 12:00:00,13700001111,13912345678');
    } finally {
      await db.close();
    }
  });
});
