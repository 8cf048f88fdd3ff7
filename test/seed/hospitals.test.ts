import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfig, selectHospital, type Config } from '../../src/config/index.js';
import { migrate, openDatabase, type Database } from '../../src/db/index.js';
import { randomMobile } from '../../src/demo/setup.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { FIXTURES_DIR, SQL_DIR } from '../../src/lib/paths.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import { loadMapping } from '../../src/targetdb/index.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS, newDatabase, type TestLocation } from '../helpers/db.js';

// One vault serving two hospitals with differently shaped databases, each with its own pool share.

describe.each(BACKENDS)('one vault, two hospitals on %s', (backend) => {
  const locations: TestLocation[] = [];
  let config: Config;
  let vaultDb: Database;
  const targets: Record<string, Database> = {};
  const shares: Record<string, string[]> = {};

  beforeAll(async () => {
    for (const label of ['vault', 'gulou', 'jiangning']) locations.push(await newDatabase(backend, label, label === 'vault' ? 'vault' : 'empty'));
    const [vaultLoc, gulouLoc, jiangningLoc] = locations;
    config = parseConfig(
      {
        vault: vaultLoc.location,
        hospitals: {
          gulou: { target: gulouLoc.location, mapping: path.join(FIXTURES_DIR, 'mappings', 'reference.json'), wards: ['产科', 'NICU'], districts: ['鼓楼区'] },
          jiangning: { target: jiangningLoc.location, mapping: path.join(FIXTURES_DIR, 'alt-hospital', 'mapping.json'), wards: ['妇产科'], districts: ['江宁区'], seedChannel: 'system:lis' },
        },
      },
      path.join(FIXTURES_DIR, 'two.config.json'),
    );
    targets.gulou = await openDatabase(gulouLoc.location);
    await targets.gulou.exec(fs.readFileSync(path.join(SQL_DIR, 'targetdb', 'reference.sql'), 'utf8'));
    targets.jiangning = await openDatabase(jiangningLoc.location);
    await targets.jiangning.exec(fs.readFileSync(path.join(FIXTURES_DIR, 'alt-hospital', 'schema.sql'), 'utf8'));
    vaultDb = await openDatabase(vaultLoc.location);
    await migrate(vaultDb);
    const rng = createRandom('shares');
    for (const name of ['gulou', 'jiangning']) {
      await vault.ensureHospital(vaultDb, name, 'zh-CN');
      shares[name] = Array.from({ length: 20 }, () => randomMobile(rng));
      await vault.addTrapNumbers(vaultDb, shares[name].map((e164) => ({ e164, region: 'CN' })), { hospital: name, burnInUntil: null });
    }
  });
  afterAll(async () => {
    for (const db of [vaultDb, ...Object.values(targets)]) await db?.close();
    for (const l of locations) await l.cleanup();
  });

  it('plants into each hospital with its own mapping, share and channels', async () => {
    const now = new Date();
    for (const name of ['gulou', 'jiangning']) {
      const hospital = selectHospital(config, name);
      await plantCanaries(vaultDb, targets[name], { hospital, mapping: loadMapping(hospital.mappingFile), count: 4, channels: [hospital.seedChannel], now, isoWeek: '2026-W48', ...birthWindow(now) });
    }
    for (const name of ['gulou', 'jiangning']) {
      const canaries = await vault.listCanaries(vaultDb, { hospital: name });
      expect(canaries).toHaveLength(4);
      for (const c of canaries) {
        expect(shares[name]).toContain(c.mother_phone);
        expect(c.father_phone === null || shares[name].includes(c.father_phone)).toBe(true);
      }
      const { rows } = await vaultDb.query<{ channel: string }>(
        `SELECT DISTINCT ch.kind || ':' || ch.name AS channel FROM exposures e JOIN channels ch ON ch.id = e.channel_id WHERE ch.hospital = $1 ORDER BY 1`,
        [name],
      );
      expect(rows.map((r) => r.channel)).toEqual(name === 'gulou' ? expect.arrayContaining(['system:his']) : ['system:lis', 'ward:妇产科']);
    }
    const { rows: alt } = await targets.jiangning.query<{ mobile: string; gender: string }>(`SELECT mobile, gender FROM his."MotherInfo" m JOIN his.infant_record i USING (mother_no)`);
    expect(alt).toHaveLength(4);
    for (const r of alt) expect(r.mobile).toMatch(/^1\d{2}-\d{4}-\d{4}$/);
    expect(() => selectHospital(config)).toThrow(/several hospitals/);
  });
});
