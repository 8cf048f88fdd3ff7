import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { openDatabase, type Database } from '../../src/db/index.js';
import { demoPopulation } from '../../src/demo/setup.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { copyFamilies, loadMapping } from '../../src/targetdb/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { newDatabase, scratchDir, type TestLocation } from '../helpers/db.js';
import { describeMariadb, mariadbUnreachable, newMariadbDatabase } from '../helpers/mariadb.js';

// A hospital on MariaDB, from `cradle init` to exports, through the CLI: the fixture HIS schema
// (pinyin-abbreviation names, a gbk newborn table beside a utf8mb4 mother table) on the machine's
// server, the vault embedded.

const describeOnMariadb = describeMariadb(await mariadbUnreachable());

describeOnMariadb('a MariaDB target end to end', () => {
  let cwd: string;
  let vaultLoc: TestLocation;
  let targetLoc: TestLocation;
  let target: Database;
  const run = (args: string[]) => cradleInProcess(args, { cwd });
  /** The canaries of the vaccine registry's export, for the contact that leads to a trace. */
  let vaccine: { mother: string; motherPhone: string }[] = [];
  const counts = async () => {
    const { rows } = await target.query<{ m: number; b: number }>('SELECT (SELECT count(*) FROM ZY_BRXX) AS m, (SELECT count(*) FROM XSE_JBXX) AS b');
    return [Number(rows[0].m), Number(rows[0].b)];
  };

  beforeAll(async () => {
    cwd = scratchDir('cli-mysql');
    vaultLoc = await newDatabase('pglite', 'mysqlvault');
    targetLoc = await newMariadbDatabase('cli', fs.readFileSync(path.join(FIXTURES_DIR, 'mysql-his', 'schema.sql'), 'utf8'));
    target = await openDatabase(targetLoc.location, { role: 'target' });
    const mapping = loadMapping(path.join(FIXTURES_DIR, 'mappings', 'mysql-his.json'));
    const rng = createRandom('cli-mysql');
    await target.transaction((tx) => copyFamilies(tx, mapping, demoPopulation(rng, 300, new Date()), 'Asia/Shanghai', () => rng.int(0, 9)));
    // The HIS stamps CJSJ (DEFAULT CURRENT_TIMESTAMP) when the admission is entered: 1 to 15 minutes after RYSJ.
    await target.exec('UPDATE ZY_BRXX SET CJSJ = RYSJ + INTERVAL FLOOR(60 + RAND(7) * 840) SECOND');
  });
  afterAll(async () => {
    await target?.close();
    await vaultLoc?.cleanup();
    await targetLoc?.cleanup();
  });

  it('init takes a mysql:// target and never writes its password', async () => {
    const withPassword = targetLoc.location.replace('mysql://root@', 'mysql://root:s3cret@');
    const res = await run(['init', '--vault', vaultLoc.location, '--target', withPassword, '--json']);
    const out = json<{ created: string[]; notes: string[] }>(res);
    expect(out.created.map((f) => path.basename(f)).sort()).toEqual(['cradle.config.json', 'mapping.json']);
    expect(out.notes.join('\n')).toMatch(/password was not written to cradle\.config\.json; put it in ~\/\.my\.cnf under \[client\]/);
    const config = fs.readFileSync(path.join(cwd, 'cradle.config.json'), 'utf8');
    expect(config).not.toContain('s3cret');
    expect(config).toContain(targetLoc.location);
    fs.copyFileSync(path.join(FIXTURES_DIR, 'mappings', 'mysql-his.json'), path.join(cwd, 'mapping.json'));
    const vault = await run(['init', '--vault', targetLoc.location]);
    expect(vault.code).toBe(1);
    expect(vault.stderr).toMatch(/the vault is PostgreSQL or embedded, never MySQL\/MariaDB/);
  });

  it('target check reads information_schema: the fixture fits; problems are named', async () => {
    const ok = await run(['target', 'check', '--json']);
    // The husband's phone has no index, as in many HIS: a warning, not an error.
    expect(json<{ ok: boolean; problems: unknown[] }>(ok)).toMatchObject({
      ok: true,
      problems: [{ level: 'warning', where: 'public.ZY_BRXX.ZFDH', message: 'no index: the uniqueness check will scan the whole table at each seeding' }],
    });
    const mappingFile = path.join(cwd, 'mapping.json');
    const good = fs.readFileSync(mappingFile, 'utf8');
    const broken = JSON.parse(good);
    broken.inserts[0].columns.BRXB = 'mother.name';
    broken.inserts[0].columns.CSRQ = 'baby.birthTime';
    delete broken.inserts[0].columns.BRXM;
    broken.inserts[0].columns.ZFDH = { field: 'father.phone', phone: 'national' };
    await target.exec('ALTER TABLE ZY_BRXX ADD COLUMN BZ VARCHAR(100) CHARACTER SET latin1 NULL, ADD COLUMN ZFDH2 VARCHAR(20) NULL; CREATE TABLE LOG_MYISAM (ID INT PRIMARY KEY) ENGINE=MyISAM');
    broken.inserts[0].columns.BZ = 'address';
    broken.inserts.push({ as: 'log', table: 'LOG_MYISAM', columns: { ID: { ref: 'mq.BRID' } } });
    fs.writeFileSync(mappingFile, JSON.stringify(broken));
    try {
      const res = await run(['target', 'check']);
      expect(res.code).toBe(1);
      expect(res.stdout).toContain('error: public.ZY_BRXX.BRXB: column does not exist');
      expect(res.stdout).toContain('error: public.ZY_BRXX.CSRQ: type date cannot hold baby.birthTime');
      expect(res.stdout).toContain('error: public.ZY_BRXX.BRXM: NOT NULL without a default, and the mapping does not fill it');
      expect(res.stdout).toContain('warning: public.ZY_BRXX.ZFDH: no index');
      expect(res.stdout).toContain('error: public.ZY_BRXX.BZ: character set latin1 cannot hold Chinese text (address); convert the column to utf8mb4');
      expect(res.stdout).toMatch(/error: public\.LOG_MYISAM: MyISAM table: it cannot roll back/);
      // The gbk baby table holds every character a generated name has: no problem reported there.
      expect(res.stdout).not.toMatch(/XSE_JBXX/);
    } finally {
      fs.writeFileSync(mappingFile, good);
      await target.exec('ALTER TABLE ZY_BRXX DROP COLUMN BZ, DROP COLUMN ZFDH2; DROP TABLE LOG_MYISAM');
    }
  });

  it('target profile learns the profile from the MariaDB rows (through an in-memory copy) and stores it', async () => {
    const res = await run(['target', 'profile', '--json']);
    const out = json<{ id: number; families: number; columns: number; k: number }>(res);
    expect(out).toMatchObject({ families: 300, k: expect.any(Number) });
    const shown = json<{ families: number; columns: Record<string, { dataType: string; identifying: boolean; values?: { values: Record<string, number> }; time?: unknown; key?: { unique: boolean; growsWithOrder?: number } }>; family: unknown }>(await run(['target', 'profile', '--show', '--json']));
    expect(shown.families).toBe(300);
    expect(Object.keys(shown.columns)).toHaveLength(out.columns);
    // Identifying columns keep no values; the ward, a category, does; times and AUTO_INCREMENT keys have their patterns.
    expect(shown.columns['mq.BRXM']).toMatchObject({ identifying: true });
    expect(shown.columns['mq.BRXM'].values).toBeUndefined();
    expect(Object.keys(shown.columns['mq.BQDM']?.values?.values ?? {}).length).toBeGreaterThan(0);
    expect(shown.columns['mq.RYSJ'].time).toBeDefined();
    expect(shown.columns['mq.BRID'].key).toMatchObject({ unique: true, growsWithOrder: 1 });
  });

  it('seed --dry-run writes nothing; seed plants all or nothing; a MyISAM table is refused', async () => {
    const rng = createRandom('mysql-pool');
    const numbers = Array.from({ length: 60 }, () => `1${rng.pick(['39', '58', '86'])}${String(rng.int(0, 99_999_999)).padStart(8, '0')}`);
    fs.writeFileSync(path.join(cwd, 'numbers.txt'), numbers.join('\n'));
    expect((await run(['pool', 'add', '--file', 'numbers.txt', '--burn-in', '0'])).code).toBe(0);
    const before = await counts();
    const dry = json<{ dryRun: boolean; canaries: { rows: Record<string, Record<string, unknown>> }[] }>(await run(['seed', '--count', '10', '--dry-run', '--json']));
    expect(dry.dryRun).toBe(true);
    expect(dry.canaries).toHaveLength(10);
    expect(Object.keys(dry.canaries[0].rows)).toEqual(['public.ZY_BRXX', 'public.XSE_JBXX']);
    expect(dry.canaries[0].rows['public.ZY_BRXX'].ZYH).toBe('<next ZY{yyyyMMdd}####>');
    expect(await counts()).toEqual(before);

    const seeded = json<{ canaries: { id: string; motherPhone: string }[] }>(await run(['seed', '--count', '10', '--json']));
    expect(seeded.canaries).toHaveLength(10);
    expect(await counts()).toEqual([before[0] + 10, before[1] + 10]);
    // Keys from AUTO_INCREMENT, the baby joined to its mother by them, names whole in the gbk table.
    const shown = json<{ targetKeys: Record<string, Record<string, unknown>>; family: { baby: { name: { full: string } }; mother: { name: { full: string } } } }>(await run(['canaries', 'show', seeded.canaries[0].id, '--json']));
    const brid = Number(shown.targetKeys.mq.BRID);
    expect(brid).toBeGreaterThan(300);
    const { rows } = await target.query<{ BRXM: string; XSEXM: string; ZYH: string }>('SELECT m.BRXM, b.XSEXM, m.ZYH FROM ZY_BRXX m JOIN XSE_JBXX b ON b.BRID = m.BRID WHERE b.XSEID = ?', [shown.targetKeys.xse.XSEID]);
    expect(rows).toEqual([{ BRXM: shown.family.mother.name.full, XSEXM: shown.family.baby.name.full, ZYH: expect.stringMatching(/^ZY\d{8}\d{4}$/) }]);

    // A MyISAM table in the mapping: refused, nothing written anywhere.
    const mappingFile = path.join(cwd, 'mapping.json');
    const good = fs.readFileSync(mappingFile, 'utf8');
    await target.exec('CREATE TABLE LOG_MYISAM (ID INT PRIMARY KEY) ENGINE=MyISAM');
    const withLog = JSON.parse(good);
    withLog.inserts.push({ as: 'log', table: 'LOG_MYISAM', columns: { ID: { ref: 'mq.BRID' } } });
    fs.writeFileSync(mappingFile, JSON.stringify(withLog));
    try {
      const refused = await run(['seed', '--count', '2']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/LOG_MYISAM: MyISAM table: it cannot roll back/);
      expect(await counts()).toEqual([before[0] + 10, before[1] + 10]);
    } finally {
      fs.writeFileSync(mappingFile, good);
      await target.exec('DROP TABLE LOG_MYISAM');
    }
  });

  it('rotate schedules the week; canaries advance writes the events', async () => {
    const first = json<{ planted: number; alreadyComplete: boolean }>(await run(['rotate', '--week', '2026-W47', '--json']));
    expect(first.planted).toBeGreaterThan(0);
    const advanced = json<{ planted: number }>(await run(['canaries', 'advance', '--json']));
    expect(advanced.planted).toBe(first.planted);
  });

  it('realism compares the planted canaries and a drafted sample with the real rows: an AUC', async () => {
    const res = await run(['realism', '--sample', '20', '--seed', 'mysql', '--json']);
    // Without a profile (none learned yet) the canaries come from the locale tables: the audit may warn, on stderr.
    expect(res.stderr).toMatch(/^(cradle: WARNING: canaries are separable from real rows: .*\n)?$/);
    type Comparison = { classifier: { auc: number; topFeatures: { feature: string }[] } | null; fields: { field: string; nullRate: unknown }[] } | null;
    const out = json<{ auc: number | null; planted: Comparison; sample: Comparison; notes: string[] }>(res);
    expect(out.auc).toBeGreaterThanOrEqual(0);
    expect(out.auc).toBeLessThanOrEqual(1);
    expect(out.planted?.classifier?.auc).toEqual(expect.any(Number));
    expect(out.sample?.classifier?.auc).toEqual(expect.any(Number));
    // The mother's ID number is empty in every real row (the population has none): canaries leave it empty too.
    const sfzh = (c: Comparison) => c?.fields.find((f) => f.field === 'mq.SFZH')?.nullRate;
    expect(sfzh(out.planted)).toEqual({ real: 1, canary: 1 });
    expect(sfzh(out.sample)).toEqual({ real: 1, canary: 1 });
    expect(out.sample!.classifier!.topFeatures.map((f) => f.feature)).not.toContain('mq.SFZH:null');
    if (process.env.CRADLE_REALISM_FIGURES) process.stderr.write(`MariaDB realism: planted ${JSON.stringify(out.planted?.classifier)} sample ${JSON.stringify(out.sample?.classifier)}\n`);
  });

  it('canaries set the created time CJSJ (left to its CURRENT_TIMESTAMP default by the mapping) as the HIS would: minutes after their admission, not the moment of planting', async () => {
    const { rows } = await target.query<{ BRID: number; delay: number | string }>('SELECT BRID, TIMESTAMPDIFF(SECOND, RYSJ, CJSJ) AS delay FROM ZY_BRXX ORDER BY BRID');
    const real = rows.filter((r) => r.BRID <= 300).map((r) => Number(r.delay));
    const canaries = rows.filter((r) => r.BRID > 300).map((r) => Number(r.delay));
    expect(canaries.length).toBeGreaterThan(10);
    expect(Math.min(...real)).toBeGreaterThanOrEqual(60);
    // Within the real delays, give or take the minute the profile's quantiles may be coarsened to
    // (a canary drew exactly 60 s where the real minimum was 64 s): never the moment of planting.
    for (const d of canaries) {
      expect(d).toBeGreaterThanOrEqual(Math.min(...real) - 60);
      expect(d).toBeLessThanOrEqual(Math.max(...real) + 60);
    }
    expect(Math.min(...canaries)).toBeGreaterThan(0);
  });

  it('exports: --query with ? parameters read-only, --table, the default export', async () => {
    const q = await run(['export', '--channel', 'export:vaccine', '--query', 'SELECT b.XSEXM, b.CSRQ, m.BRXM, m.LXDH FROM XSE_JBXX b JOIN ZY_BRXX m ON m.BRID = b.BRID WHERE b.CSRQ >= ?', '--param', '2000-01-01', '--out', 'vax.csv', '--canaries', '2', '--json']);
    const out = json<{ rows: number; canaries: { row: number; mother: string; motherPhone: string }[] }>(q);
    expect(out.rows).toBeGreaterThan(300);
    expect(out.canaries).toHaveLength(2);
    vaccine = out.canaries;
    // Each canary's row sits where the manifest says, its phone written as the LXDH column writes them.
    const lines = fs.readFileSync(path.join(cwd, 'vax.csv'), 'utf8').trim().split(/\r?\n/);
    expect(lines[0]).toBe('XSEXM,CSRQ,BRXM,LXDH');
    for (const c of out.canaries) expect(lines[c.row]).toMatch(new RegExp(`,${c.mother},${c.motherPhone.slice(3)}$`));
    const refused = await run(['export', '--channel', 'export:vaccine', '--query', 'SELECT 1 INTO OUTFILE \'/tmp/x\'', '--out', 'no.csv']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--query: SELECT … INTO is refused/);
    const write = await run(['export', '--channel', 'export:vaccine', '--query', 'DELETE FROM ZY_BRXX', '--out', 'no.csv']);
    expect(write.code).toBe(1);
    expect(write.stderr).toMatch(/--query: a statement starting DELETE is refused/);
    // A whole table leaves no gap in its AUTO_INCREMENT keys for a canary's; a view without them exports.
    const whole = await run(['export', '--channel', 'export:insurer', '--table', 'ZY_BRXX', '--out', 'mothers.csv', '--canaries', '1']);
    expect(whole.stderr).toMatch(/column BRID: the table's values 1…\d+ leave no gap for a canary's key/);
    await target.exec('CREATE VIEW V_MQ AS SELECT BRXM, LXDH, QX FROM ZY_BRXX');
    const table = json<{ rows: number; canaries: unknown[] }>(await run(['export', '--channel', 'export:insurer', '--table', 'V_MQ', '--map', 'mother.name=BRXM', '--map', 'mother.phone=LXDH', '--out', 'mothers.csv', '--canaries', '1', '--json']));
    expect(table.rows).toBe((await counts())[0]);
    expect(table.canaries).toHaveLength(1);
    const def = json<{ rows: number; canaries: unknown[] }>(await run(['export', '--channel', 'export:birth-office', '--out', 'births.tsv', '--canaries', '2', '--from', '2000-01-01', '--json']));
    expect(def.rows).toBeGreaterThan(300);
    const scan = await run(['scan', 'vax.csv', '--json']);
    expect(scan.code).toBe(3);
    expect((JSON.parse(scan.stdout) as { suspects: { label: string }[] }).suspects[0].label).toBe('export:vaccine');
  });

  it('a call naming a canary of the export: a hit, an incident, a trace to the export, a report', async () => {
    const [c] = vaccine;
    fs.writeFileSync(path.join(cwd, 'calls.json'), JSON.stringify([
      { kind: 'call', to: c.motherPhone, from: '+8613700001111', occurredAt: new Date().toISOString(), body: `来电称是医院影楼，知道${c.mother}的名字和宝宝生日`, id: 'desk-1' },
    ]));
    expect((await run(['ingest', 'event', 'calls.json', '--json'])).code).toBe(0);
    const triaged = json<{ hits: { incidentId: string | null }[] }>(await run(['triage', '--json']));
    const incident = triaged.hits.find((h) => h.incidentId)?.incidentId;
    expect(incident).toBeDefined();
    const traced = json<{ suspects: { label: string; posterior: number }[] }>(await run(['trace', incident!, '--json']));
    expect(traced.suspects[0].label).toBe('export:vaccine');
    const report = await run(['report', incident!, '--out', 'incident.md']);
    expect([report.code, report.stderr]).toEqual([0, '']);
    expect(fs.readFileSync(path.join(cwd, 'incident.md'), 'utf8')).toContain('vax.csv');
  });
});
