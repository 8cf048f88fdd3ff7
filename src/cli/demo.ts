import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig, selectHospital } from '../config/index.js';
import { migrate, openDatabase } from '../db/index.js';
import { createDemoHospital, DEMO_WARDS } from '../demo/setup.js';
import { rotate } from '../seed/index.js';
import { loadMapping } from '../target/index.js';
import { isoWeekOf } from '../time.js';
import { canarySummary } from './seed.js';
import { emit, isoDate, table } from './output.js';
import { globals } from './context.js';
import { positiveInt } from './args.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('build a demo hospital on embedded databases and plant its first weekly rotation')
    .option('--dir <dir>', 'where to build it', 'cradle-demo')
    .option('--seed <seed>', 'seed for the demo data', '7')
    .option('--births <n>', 'births in the demo hospital over the past year', positiveInt, 21_000)
    .option('--force', 'rebuild the directory if it already holds a demo')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  npx cradle demo\n  npx cradle demo --dir /tmp/demo --seed 42\n\nAfterwards: cd cradle-demo && npx cradle canaries list')
    .action(async (_o, cmd: Command) => {
      const opts = globals(cmd);
      const say = (m: string) => {
        if (!opts.json) process.stdout.write(`• ${m}\n`);
      };
      const started = Date.now();
      const now = new Date();
      const rotation = { [DEMO_WARDS[0]]: 4, [DEMO_WARDS[1]]: 4, [DEMO_WARDS[2]]: 2 };
      const openVault = async (location: string) => {
        const db = await openDatabase(location, { role: 'vault', create: true });
        await migrate(db);
        return db;
      };
      const demo = await createDemoHospital(
        { dir: opts.dir as string, seed: String(opts.seed), births: opts.births as number, trapNumbers: 200, rotation, now, force: !!opts.force, onStep: say },
        openVault,
      );
      const config = loadConfig(demo.configFile);
      const hospital = selectHospital(config);
      const week = isoWeekOf(now, hospital.timeZone);
      say(`planting this week's rotation (${week}): ${Object.entries(rotation).map(([w, n]) => `${n} on ${w}`).join(', ')}`);
      const vault = await openVault(config.vault);
      const target = await openDatabase(hospital.target, { role: 'demo target' });
      let result;
      try {
        result = await rotate(vault, target, { hospital, mapping: loadMapping(hospital.mappingFile), week, now, seed: String(opts.seed) });
      } finally {
        await target.close();
        await vault.close();
      }
      const canaries = result.plantedNow.flatMap((p) => p.canaries);
      const relDir = path.relative(process.cwd(), demo.dir) || '.';
      const data = { dir: demo.dir, config: demo.configFile, births: demo.births, trapNumbers: demo.trapNumbers, week, planted: canaries.length, canaries: canaries.map(canarySummary), seconds: (Date.now() - started) / 1000 };
      emit(!!opts.json, data, () => [
        `planted ${canaries.length} canary families among ${demo.births.toLocaleString('en')} real-looking births; only the vault knows which:`,
        table(['ID', 'WARD', 'MOTHER', 'TRAP PHONE', 'BABY', 'BORN'], canaries.map((c) => [c.id, c.family.ward, c.family.mother.name.full, c.family.mother.phone, c.family.baby.name.full, isoDate(c.family.baby.birthTime)])),
        `done in ${data.seconds.toFixed(1)} s. Explore:`,
        `  cd ${relDir} && npx cradle canaries list`,
        `  npx cradle canaries show ${canaries[0]?.id ?? '<id>'}`,
        '  npx cradle pool list',
      ]);
    });
}
