import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/db/index.js';
import { demoPopulation } from '../../src/demo/setup.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { FIXTURES_DIR, SQL_DIR } from '../../src/lib/paths.js';
import { copyFamilies, loadMapping } from '../../src/targetdb/index.js';
import { cradle, cradleInProcess, json } from '../helpers/cli.js';
import { BACKENDS, newDatabase, scratchDir, type TestLocation } from '../helpers/db.js';

// Drives the CLI as a user would, against real databases: the real `cradle` binary for help, version
// and reading stdin, the same program in-process (test/helpers/cli.ts) for the rest of the journey.

const noStack = (stderr: string) => expect(stderr).not.toMatch(/^\s+at /m);

describe('cradle without a project', () => {
  const cwd = scratchDir('cli-empty');

  it('prints help with examples, and its version', async () => {
    const help = await cradle(['--help'], { cwd });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: cradle/);
    for (const cmd of ['init', 'target', 'pool', 'seed', 'rotate', 'canaries', 'demo']) expect(help.stdout).toContain(cmd);
    const seedHelp = await cradle(['seed', '--help'], { cwd });
    expect(seedHelp.stdout).toMatch(/Examples:\n\s+cradle seed --count 20/);
    const version = await cradle(['--version'], { cwd });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('exits 2 on bad usage and 1 on failure, with one-line errors', async () => {
    const unknown = await cradleInProcess(['bogus'], { cwd });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'bogus'/);
    const missing = await cradleInProcess(['seed'], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--count <n>'/);
    const noConfig = await cradleInProcess(['seed', '--count', '1'], { cwd });
    expect(noConfig.code).toBe(1);
    expect(noConfig.stderr.trim()).toMatch(/^cradle: no cradle.config.json at .*; run `cradle init` or pass --config <file>$/);
    fs.writeFileSync(path.join(cwd, 'broken.json'), '{"hospitals": ');
    const broken = await cradleInProcess(['--config', 'broken.json', 'canaries', 'list'], { cwd });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/broken.json: not valid JSON/);
    noStack(broken.stderr);
  });
});

describe.each(BACKENDS)('the user journey on %s', (backend) => {
  let cwd: string;
  let vaultLoc: TestLocation;
  let targetLoc: TestLocation;
  // Through the binary when it reads stdin, in-process otherwise.
  const run = (args: string[], input?: string) => (input === undefined ? cradleInProcess(args, { cwd }) : cradle(args, { cwd, input }));

  beforeAll(async () => {
    cwd = scratchDir(`cli-${backend}`);
    vaultLoc = await newDatabase(backend, 'clivault');
    targetLoc = await newDatabase(backend, 'clitarget');
    // The hospital's database: the reference schema with 2,000 families already in it.
    const target = await openDatabase(targetLoc.location);
    await target.exec(fs.readFileSync(path.join(SQL_DIR, 'targetdb', 'reference.sql'), 'utf8'));
    const mapping = loadMapping(path.join(FIXTURES_DIR, 'mappings', 'reference.json'));
    const rng = createRandom('cli');
    await copyFamilies(target, mapping, demoPopulation(rng, 2000, new Date()), 'Asia/Shanghai', () => rng.int(0, 9));
    await target.close();
  });
  afterAll(async () => {
    await vaultLoc?.cleanup();
    await targetLoc?.cleanup();
  });

  it('init creates the config, mapping and vault', async () => {
    const res = await run(['init', '--vault', vaultLoc.location, '--target', targetLoc.location, '--json']);
    const out = json<{ created: string[]; migrationsApplied: string[] }>(res);
    expect(out.created.map((f) => path.basename(f)).sort()).toEqual(['cradle.config.json', 'mapping.json']);
    expect(out.migrationsApplied.length).toBeGreaterThan(0);
    // The config names the pool's settings with their defaults, so a user sees what to change.
    const written = JSON.parse(fs.readFileSync(out.created.find((f) => f.endsWith('cradle.config.json'))!, 'utf8'));
    expect(written.hospitals.main.pool).toEqual({ cooldownDays: 730, burnInDays: 14 });
    const again = json<{ created: string[]; migrationsApplied: string[] }>(await run(['init', '--json']));
    expect(again).toMatchObject({ created: [], migrationsApplied: [] });
  });

  it('refuses to turn a database that is not a vault into one', async () => {
    const res = await run(['--vault', targetLoc.location, 'canaries', 'list']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/is not a Cradle vault \(no cradle_migrations table\); create one with `cradle init/);
  });

  it('target check passes, and names what is wrong with a broken mapping', async () => {
    const ok = await run(['target', 'check', '--json']);
    expect(json<{ ok: boolean }>(ok).ok).toBe(true);
    const mappingFile = path.join(cwd, 'mapping.json');
    const good = fs.readFileSync(mappingFile, 'utf8');
    const broken = JSON.parse(good);
    broken.inserts[0].columns.mother_tel = 'mother.phone';
    broken.inserts[1].columns.weight_g = 'baby.birthTime';
    delete broken.inserts[1].columns.ward;
    fs.writeFileSync(mappingFile, JSON.stringify(broken));
    try {
      const res = await run(['target', 'check']);
      expect(res.code).toBe(1);
      expect(res.stdout).toContain('error: public.families.mother_tel: column does not exist');
      expect(res.stdout).toContain('error: public.births.weight_g: type integer cannot hold baby.birthTime');
      expect(res.stdout).toContain('error: public.births.ward: NOT NULL without a default');
      broken.inserts[0].columns.x = 'mother.nosuch';
      fs.writeFileSync(mappingFile, JSON.stringify(broken));
      const invalid = await run(['target', 'check']);
      expect(invalid.code).toBe(1);
      expect(invalid.stderr).toMatch(/mapping.json: inserts\[0\]\.columns\.x: unknown field "mother.nosuch"/);
      noStack(invalid.stderr);
    } finally {
      fs.writeFileSync(mappingFile, good);
    }
  });

  it('pool add rejects a file with bad lines as a whole, then adds a good one', async () => {
    fs.writeFileSync(path.join(cwd, 'bad.txt'), '13912345678\nnot-a-number\n010 6552 9988\n');
    const bad = await run(['pool', 'add', '--file', 'bad.txt']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('bad.txt:2: "not-a-number"');
    expect(bad.stderr).toContain('bad.txt:3:');
    expect(bad.stderr).toContain('nothing was added');
    expect(json<{ numbers: unknown[] }>(await run(['pool', 'list', '--json'])).numbers).toEqual([]);

    const rng = createRandom('pool');
    const numbers = Array.from({ length: 40 }, () => `1${rng.pick(['39', '58', '86'])}${String(rng.int(0, 99_999_999)).padStart(8, '0')}`);
    fs.writeFileSync(path.join(cwd, 'numbers.txt'), ['# trap SIMs', ...numbers, numbers[0]].join('\n'));
    // New numbers start in burn-in (14 days by default); --burn-in 0 makes them available at once.
    const burning = ['13700000001', '13700000002'];
    const before = Date.now();
    const watched = json<{ added: number; state: string; burnInUntil: string }>(await run(['pool', 'add', '--file', '-', '--json'], burning.join('\n')));
    expect(watched).toMatchObject({ added: 2, state: 'burn_in' });
    expect(new Date(watched.burnInUntil).getTime() - before).toBeGreaterThanOrEqual(14 * 86_400_000);
    expect(new Date(watched.burnInUntil).getTime() - Date.now()).toBeLessThanOrEqual(14 * 86_400_000);
    const added = json<{ added: number; state: string; burnInUntil: null; repeatedInFile: { line: number }[] }>(await run(['pool', 'add', '--file', 'numbers.txt', '--burn-in', '0', '--json']));
    expect(added).toMatchObject({ added: new Set(numbers).size, state: 'available', burnInUntil: null });
    expect(added.repeatedInFile[0].line).toBe(42);
    const again = json<{ added: number; alreadyInPool: unknown[] }>(await run(['pool', 'add', '--file', '-', '--json'], numbers.slice(0, 3).join('\n')));
    expect(again).toMatchObject({ added: 0 });
    expect(again.alreadyInPool).toHaveLength(3);
    expect(json<{ added: boolean }>(await run(['pool', 'add-domain', 'Trap.Example.org', '--json'])).added).toBe(true);
    const list = json<{ counts: { available: number; burn_in: number }; domains: { domain: string }[] }>(await run(['pool', 'list', '--json']));
    expect(list.counts).toMatchObject({ available: new Set(numbers).size, burn_in: 2 });
    expect(list.domains).toEqual([{ domain: 'trap.example.org', hospital: null }]);
  });

  it('seed --dry-run shows rows and writes nothing; seed plants', async () => {
    const dry = json<{ dryRun: boolean; canaries: { rows: Record<string, Record<string, unknown>> }[] }>(await run(['seed', '--count', '2', '--dry-run', '--json']));
    expect(dry.dryRun).toBe(true);
    expect(Object.keys(dry.canaries[0].rows)).toEqual(['public.families', 'public.births']);
    expect(json(await run(['canaries', 'list', '--json']))).toEqual({ count: 0, canaries: [] });

    const seeded = json<{ batchId: string; canaries: { id: string; motherPhone: string }[] }>(await run(['seed', '--count', '3', '--ward', 'NICU', '--channel', 'system:lis', '--json']));
    expect(seeded.canaries).toHaveLength(3);
    const listed = json<{ canaries: { id: string; ward: string; status: string }[] }>(await run(['canaries', 'list', '--json'])).canaries;
    expect(listed.map((c) => c.id).sort()).toEqual(seeded.canaries.map((c) => c.id).sort());
    expect(listed.every((c) => c.ward === 'NICU' && c.status === 'planted')).toBe(true);
    const shown = json<{ exposures: { channel: string }[]; targetKeys: Record<string, unknown>; trapNumbers: { e164: string }[] }>(await run(['canaries', 'show', seeded.canaries[0].id, '--json']));
    expect(shown.exposures.map((e) => e.channel).sort()).toEqual(['system:lis', 'ward:NICU']);
    expect(shown.targetKeys).toHaveProperty('birth.birth_id');
    expect(shown.trapNumbers[0].e164).toBe(seeded.canaries[0].motherPhone);
    const human = await run(['canaries', 'show', seeded.canaries[0].id]);
    expect(human.stdout).toMatch(/exposures:\n.*system:lis/);

    const missing = await run(['canaries', 'show', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no canary nope in the vault/);
    const badWard = await run(['seed', '--count', '1', '--ward', 'Mars']);
    expect(badWard.code).toBe(1);
    expect(badWard.stderr).toMatch(/ward "Mars" is not one of main's wards/);
    const badChannel = await run(['seed', '--count', '1', '--channel', 'fax:123']);
    expect(badChannel.code).toBe(2);
    const badCount = await run(['seed', '--count', 'many']);
    expect(badCount.code).toBe(2);
    expect(badCount.stderr).toMatch(/--count <n>.*expected a whole number/);
    expect((await run(['canaries', 'list', '--status', 'lost'])).code).toBe(2);
    expect(badChannel.stderr).toMatch(/"fax:123" is not a channel/);
    noStack(badChannel.stderr);
  });

  it('rotate schedules the week once; canaries advance writes what is due', async () => {
    const first = json<{ week: string; planted: number; alreadyComplete: boolean }>(await run(['rotate', '--week', '2026-W47', '--json']));
    expect(first).toMatchObject({ week: '2026-W47', planted: 7, alreadyComplete: false });
    const second = json<{ planted: number; alreadyComplete: boolean }>(await run(['rotate', '--week', '2026-W47', '--json']));
    expect(second).toMatchObject({ planted: 0, alreadyComplete: true });
    expect(json<{ count: number }>(await run(['canaries', 'list', '--week', '2026-W47', '--json'])).count).toBe(7);
    // The rotation only scheduled them; a past week's events are all overdue, so `advance` writes them now.
    const dry = json<{ events: { event: string; writes: object }[]; planted: number }>(await run(['canaries', 'advance', '--dry-run', '--json']));
    expect(dry.events.filter((e) => e.event === 'admission')).toHaveLength(7);
    expect(dry.events.every((e) => e.writes)).toBe(true);
    expect(json<{ count: number }>(await run(['canaries', 'list', '--status', 'scheduled', '--json'])).count).toBe(7);
    const ran = await run(['canaries', 'advance', '--json']);
    const advanced = json<{ events: { event: string }[]; planted: number; late: { count: number; maxMinutes: number } }>(ran);
    expect(advanced.planted).toBe(7);
    // A past week's events are written days late: said, with the figure, so the cron job is fixed.
    expect(advanced.late.count).toBe(advanced.events.length);
    expect(advanced.late.maxMinutes).toBeGreaterThan(24 * 60);
    expect(ran.stderr).toMatch(/warning: \d+ of \d+ event\(s\) were written more than 15 minutes after their time \(the latest by \d+ days\).*every few minutes/);
    expect(advanced.events.length).toBe(dry.events.length);
    expect(json<{ count: number }>(await run(['canaries', 'list', '--status', 'scheduled', '--json'])).count).toBe(0);
    const idle = await run(['canaries', 'advance', '--json']);
    expect(json<{ events: unknown[]; late: { count: number } }>(idle)).toMatchObject({ events: [], late: { count: 0 } });
    expect(idle.stderr).not.toMatch(/warning/);
    const short = await run(['seed', '--count', '60']);
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/the trap pool is short/);
  });

  it('export writes a file with its manifest; exports list and show read it back', async () => {
    // A dry run shows the canary rows and their places and records nothing.
    const dry = json<{ dryRun: boolean; rows: number; canaries: { row: number; cells: Record<string, string> }[] }>(
      await run(['export', '--channel', 'export:birth-office', '--out', 'dry.tsv', '--canaries', '3', '--dry-run', '--json']),
    );
    expect(dry).toMatchObject({ dryRun: true, rows: 2010 });
    expect(dry.canaries).toHaveLength(3);
    for (const c of dry.canaries) expect(c.cells.mother_phone).toMatch(/^1\d{10}$/);
    expect(fs.existsSync(path.join(cwd, 'dry.tsv'))).toBe(false);
    expect(json<{ count: number }>(await run(['exports', 'list', '--json'])).count).toBe(0);
    const dryText = await run(['export', '--channel', 'export:birth-office', '--out', 'dry.tsv', '--canaries', '2', '--dry-run']);
    expect(dryText.stdout).toMatch(/^dry run: .*dry\.tsv would hold 2010 rows \+ 2 canaries \(nothing written or recorded; no trap number taken\)/);
    expect(dryText.stdout).toMatch(/^ROW +mother_name/m);
    // --map is field=column; column=field, the old order, still works with a warning.
    const dryMapped = (map: string) => run(['export', '--channel', 'export:birth-office', '--out', 'dry.tsv', '--canaries', '2', '--dry-run', '--json', '--map', map]);
    const mapped = await dryMapped('mother.phone=mother_phone');
    expect([mapped.code, mapped.stderr]).toEqual([0, '']);
    const oldOrder = await dryMapped('mother_phone=mother.phone');
    expect([oldOrder.code, oldOrder.stderr]).toEqual([0, 'cradle: warning: --map mother_phone=mother.phone is the old column=field order; write --map mother.phone=mother_phone\n']);
    const res = json<{ exportId: string; rows: number; canaries: { id: string; row: number }[]; sha256: string }>(
      await run(['export', '--channel', 'export:birth-office', '--out', 'births.tsv', '--canaries', '3', '--operator', 'n0412', '--json']),
    );
    expect(res.rows).toBe(2010);
    expect(fs.readFileSync(path.join(cwd, 'births.tsv'), 'utf8').split('\n').filter(Boolean)).toHaveLength(2010 + 3 + 1);
    const list = json<{ exports: { id: string; sha256: string }[] }>(await run(['exports', 'list', '--json']));
    expect(list.exports).toEqual([expect.objectContaining({ id: res.exportId, sha256: res.sha256 })]);
    const shown = json<{ operator: string; canaries: { row: number }[] }>(await run(['exports', 'show', res.exportId, '--json']));
    expect(shown.operator).toBe('n0412');
    expect(shown.canaries.map((c) => c.row)).toEqual(res.canaries.map((c) => c.row).sort((a, b) => a - b));
    fs.writeFileSync(path.join(cwd, 'partner.csv'), '母亲姓名,联系电话,宝宝生日\r\n张三,138-0000-1111,2026/11/01 08:30\r\n李四,139-2222-3333,2026/11/02 09:15\r\n');
    const marked = json<{ rows: number; canaries: unknown[]; columns: Record<string, unknown> }>(await run(['watermark', 'partner.csv', '--channel', 'export:insurer', '--out', 'partner.marked.csv', '--canaries', '2', '--json']));
    expect(marked.rows).toBe(2);
    expect(marked.canaries).toHaveLength(2);
    expect(Object.keys(marked.columns)).toEqual(['母亲姓名', '联系电话', '宝宝生日']);
    for (const [map, warning] of [['mother.phone=联系电话', ''], ['联系电话=mother.phone', 'cradle: warning: --map 联系电话=mother.phone is the old column=field order; write --map mother.phone=联系电话\n']]) {
      const res = await run(['watermark', 'partner.csv', '--channel', 'export:insurer', '--out', 'partner.dry.csv', '--canaries', '2', '--dry-run', '--json', '--map', map]);
      expect([res.code, res.stderr]).toEqual([0, warning]);
      expect(JSON.stringify((JSON.parse(res.stdout) as { columns: Record<string, unknown> }).columns['联系电话'])).toMatch(/"mother\.phone".*"map"|"map".*"mother\.phone"/);
    }
    const scan = await run(['scan', 'partner.marked.csv', '--json']);
    expect(scan.code).toBe(3); // canaries found, an incident recorded
    const scanned = JSON.parse(scan.stdout) as { suspects: { label: string }[] };
    expect(scanned.suspects[0].label).toBe('export:insurer');
    // Seed, rotate, export, watermark and scan sealed every row they wrote.
    const verified = await run(['verify']);
    expect(verified.stdout).toMatch(/^sealed rows: \d+ checked \(incidents 1, canaries \d+, channels \d+, exposures \d+, export_rows 5\)/m);
    expect(verified.stdout).toMatch(/all match the ledger/);
    expect(verified.code).toBe(0);
    const bad = await run(['export', '--channel', 'ward:NICU', '--out', 'x.csv']);
    expect(bad.code).toBe(2);
    expect(fs.existsSync(path.join(cwd, 'x.csv'))).toBe(false);
  });
});
