import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/db/index.js';
import { demoPopulation } from '../../src/demo/setup.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { FIXTURES_DIR, SQL_DIR } from '../../src/lib/paths.js';
import { copyFamilies, loadMapping } from '../../src/targetdb/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { BACKENDS, newDatabase, scratchDir, type TestLocation } from '../helpers/db.js';

// `cradle export --query` promises to read the target only. These are the texts that once wrote to
// it (issue 13), run through the CLI (in-process): each must end in exit 1 and one `cradle: …` line,
// with the target untouched and no file written on the database host. More texts, layer by layer,
// in test/db/readonly.test.ts (in-process, faster).

describe.each(BACKENDS)('export --query cannot write the target on %s', (backend) => {
  let cwd: string;
  let vaultLoc: TestLocation;
  let targetLoc: TestLocation;
  // Where a COPY would write: a path the database server's own user can create (the server runs here).
  const serverFile = path.join(os.tmpdir(), `cradle-copy-probe-${process.pid}-${backend}`);
  const run = (args: string[]) => cradleInProcess(args, { cwd });

  const victimRows = async (): Promise<number> => {
    const db = await openDatabase(targetLoc.location);
    try {
      return (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM victim')).rows[0].n;
    } finally {
      await db.close();
    }
  };
  const tableExists = async (name: string): Promise<boolean> => {
    const db = await openDatabase(targetLoc.location);
    try {
      return (await db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [name])).rows[0].t !== null;
    } finally {
      await db.close();
    }
  };
  const expectRefused = async (query: string, message: RegExp) => {
    const res = await run(['export', '--channel', 'export:probe', '--out', 'probe.csv', '--canaries', '1', '--query', query]);
    expect({ query, code: res.code }).toEqual({ query, code: 1 });
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^cradle: /);
    expect(lines[0]).toMatch(message);
    expect(res.stderr).not.toMatch(/unexpected error|Cannot read properties|^\s+at /m);
    expect(fs.existsSync(path.join(cwd, 'probe.csv'))).toBe(false);
    return lines[0];
  };

  beforeAll(async () => {
    cwd = scratchDir(`export-ro-${backend}`);
    vaultLoc = await newDatabase(backend, 'rovault');
    targetLoc = await newDatabase(backend, 'rotarget');
    const target = await openDatabase(targetLoc.location);
    await target.exec(fs.readFileSync(path.join(SQL_DIR, 'targetdb', 'reference.sql'), 'utf8'));
    const mapping = loadMapping(path.join(FIXTURES_DIR, 'mappings', 'reference.json'));
    const rng = createRandom('export-ro');
    await copyFamilies(target, mapping, demoPopulation(rng, 40, new Date()), 'Asia/Shanghai', () => rng.int(0, 9));
    await target.exec('CREATE TABLE victim (id int); INSERT INTO victim VALUES (1), (2), (3);');
    await target.close();
    json(await run(['init', '--vault', vaultLoc.location, '--target', targetLoc.location, '--json']));
    const numbers = Array.from({ length: 10 }, (_, i) => `1390000${String(1000 + i)}`);
    fs.writeFileSync(path.join(cwd, 'numbers.txt'), numbers.join('\n'));
    json(await run(['pool', 'add', '--file', 'numbers.txt', '--burn-in', '0', '--json']));
  });
  afterAll(async () => {
    fs.rmSync(serverFile, { force: true });
    await vaultLoc?.cleanup();
    await targetLoc?.cleanup();
  });

  it('refuses statements that end the read-only transaction, and leaves the target as it was', async () => {
    await expectRefused('COMMIT; DELETE FROM victim; SELECT 1 AS x', /--query: more than one statement is refused/);
    await expectRefused('ROLLBACK; CREATE TABLE pwned (x int); SELECT 1 AS x', /--query: more than one statement is refused/);
    await expectRefused('END; DROP TABLE victim; SELECT 1 AS x', /--query: more than one statement is refused/);
    expect(await victimRows()).toBe(3);
    expect(await tableExists('pwned')).toBe(false);
  });

  it('refuses COPY, so no file is written on the database host', async () => {
    fs.rmSync(serverFile, { force: true });
    await expectRefused(`COPY (SELECT 'x') TO '${serverFile}'`, /--query: COPY is refused: it can read and write files on the database server/);
    expect(fs.existsSync(serverFile)).toBe(false);
  });

  it('refuses a data-modifying CTE and set_config turning read-only off', async () => {
    await expectRefused('WITH d AS (DELETE FROM victim RETURNING id) SELECT id FROM d', /the export query failed on .*read-only transaction/);
    await expectRefused("SELECT set_config('transaction_read_only', 'off', false), 1 AS x", /set_config\(\) is refused/);
    expect(await victimRows()).toBe(3);
  });

  it('still runs one plain query (a trailing ";" is fine)', async () => {
    const plain = json<{ rows: number }>(await run(['export', '--channel', 'export:ok', '--out', 'ok.csv', '--canaries', '1', '--query', 'SELECT mother_name, mother_phone FROM families;', '--json']));
    expect(plain.rows).toBe(40);
    expect(await victimRows()).toBe(3);
  });
});
