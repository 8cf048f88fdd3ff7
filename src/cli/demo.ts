import path from 'node:path';
import { PACKAGE_ROOT } from '../lib/paths.js';
import type { Command } from 'commander';
import type * as ConfigModule from '../config/index.js';
import type * as Db from '../db/index.js';
import { DEFAULT_K } from '../profile/defaults.js';
import type * as Learn from '../profile/learn.js';
import type * as Vault from '../vault/index.js';
import type * as Setup from '../demo/setup.js';
import type * as Targetdb from '../targetdb/index.js';
import type * as DemoStory from '../workflows/demo-story.js';
import type { StoryResult } from '../workflows/demo-story.js';
import { emit, progress, progressDone } from './output.js';
import { action, onAction, type JsonOption } from './context.js';
import { positiveInt } from './args.js';

// The action's modules, loaded when the command runs (src/cli/context.ts).
let loadConfig: typeof ConfigModule.loadConfig;
let selectHospital: typeof ConfigModule.selectHospital;
let migrate: typeof Db.migrate;
let openDatabase: typeof Db.openDatabase;
let readOnly: typeof Db.readOnly;
let learnProfile: typeof Learn.learnProfile;
let saveProfile: typeof Vault.saveProfile;
let createDemoHospital: typeof Setup.createDemoHospital;
let DEMO_WARDS: typeof Setup.DEMO_WARDS;
let writeDemoFiles: typeof Setup.writeDemoFiles;
let loadMapping: typeof Targetdb.loadMapping;
let playStory: typeof DemoStory.playStory;
async function load(): Promise<void> {
  const [config, db, learn, vault, setup, targetdb, story] = [
    await import('../config/index.js'),
    await import('../db/index.js'),
    await import('../profile/learn.js'),
    await import('../vault/index.js'),
    await import('../demo/setup.js'),
    await import('../targetdb/index.js'),
    await import('../workflows/demo-story.js'),
  ];
  ({ loadConfig, selectHospital } = config);
  ({ migrate, openDatabase, readOnly } = db);
  ({ learnProfile } = learn);
  ({ saveProfile } = vault);
  ({ createDemoHospital, DEMO_WARDS, writeDemoFiles } = setup);
  ({ loadMapping } = targetdb);
  ({ playStory } = story);
}

/** Lines the story prints, for the progress bar. */
const DEMO_STEPS = 16;
/** Cradle is installed this long before the demo's today: a day before the first of its four weekly rotations. */
const INSTALLED_DAYS_AGO = 31;

interface DemoOptions extends JsonOption {
  dir: string;
  seed: string;
  births: number;
  force?: boolean;
}

export function registerDemo(program: Command): void {
  const first = program.commands.length;
  program
    .command('demo')
    .description('the whole story on embedded databases: a demo hospital, a month of canaries, exports and access logs, a leak, the scammers\' calls, and the trace that names the source')
    .option('--dir <dir>', 'where to build it', 'cradle-demo')
    .option('--seed <seed>', 'seed for the demo data', '7')
    .option('--births <n>', 'births in the demo hospital over the past year', positiveInt, 21_000)
    .option('--force', 'rebuild the directory if it already holds a demo')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  npx cradle demo\n  npx cradle demo --dir /tmp/demo --seed 42\n\nAfterwards: cd cradle-demo && npx cradle canaries list')
    .action(action<DemoOptions>(async (opts) => {
      let step = 0;
      const say = (m: string) => {
        progressDone();
        if (!opts.json) process.stdout.write(`• ${m}\n`);
        progress(`demo: step ${++step} of about ${DEMO_STEPS}`, step / DEMO_STEPS);
      };
      const started = Date.now();
      const now = new Date();
      const rotation = { [DEMO_WARDS[0]]: 4, [DEMO_WARDS[1]]: 4, [DEMO_WARDS[2]]: 2 };
      const demo = await writeDemoFiles({ dir: opts.dir, rotation, force: !!opts.force });
      const config = loadConfig(demo.configFile);
      const hospital = selectHospital(config);
      const mapping = loadMapping(hospital.mappingFile);
      const births = opts.births;
      let story: StoryResult;
      const target = await openDatabase(hospital.target, { role: 'demo target', create: true });
      try {
        const vault = await openDatabase(config.vault, { role: 'vault', create: true });
        try {
          await migrate(vault);
          const installAt = new Date(now.getTime() - INSTALLED_DAYS_AGO * 86_400_000);
          const admissions = await createDemoHospital({ target, vault }, mapping, { seed: opts.seed, births, trapNumbers: 400, now, installAt, onStep: say });
          // Installing Cradle: `cradle target profile` learns the hospital's real rows written so far.
          say(`Cradle is installed ${INSTALLED_DAYS_AGO} days ago: it learns the hospital's profile from its real rows (\`cradle target profile\`); canaries are drawn from it`);
          await saveProfile(vault, await readOnly(target, (tx) => learnProfile(tx, mapping, { hospital: hospital.name, k: DEFAULT_K, timeZone: mapping.timeZone ?? hospital.timeZone, now: installAt })));
          story = await playStory({ config, dir: demo.dir, seed: opts.seed, now, hospital, mapping, vault, target, admissions, say: (step, why) => say(why ? `${step}: ${why}` : step) });
        } finally {
          await vault.close();
        }
      } finally {
        await target.close();
      }
      progressDone();
      const top = story.hitsTrace.suspects[0];
      const scanTop = story.scanTrace.suspects[0];
      const leakedKey = `export-file:${story.leaked.id}`;
      const right = top?.key === leakedKey && scanTop?.key === leakedKey;
      const relDir = path.relative(process.cwd(), demo.dir) || '.';
      const data = {
        dir: demo.dir,
        config: demo.configFile,
        births,
        weeks: story.weeks,
        canaries: story.canariesPlanted,
        exports: story.exports,
        accessLog: story.accessLog,
        contacts: story.contacts,
        hits: story.hits,
        leaked: { export: story.leaked.id, recipient: story.leaked.recipient, week: story.leaked.week, file: story.leaked.file },
        seizedFile: story.seizedFile,
        incidents: { hits: story.hitsIncident, scan: story.scanIncident },
        verdict: { hits: top ? { key: top.key, label: top.label, posterior: top.posterior } : null, scan: scanTop ? { key: scanTop.key, label: scanTop.label, posterior: scanTop.posterior } : null, right },
        reports: story.reports,
        seconds: (Date.now() - started) / 1000,
      };
      // npx finds this cradle only inside its project (a clone, or one that installed the package);
      // an installed package's `cradle` is on the PATH (npm install -g); elsewhere name the launcher.
      const inside = (root: string) => !path.relative(root, demo.dir).startsWith('..');
      const parts = PACKAGE_ROOT.split(path.sep);
      const modules = parts.lastIndexOf('node_modules');
      const project = modules > 0 ? parts.slice(0, modules).join(path.sep) : PACKAGE_ROOT;
      const cli = inside(project) ? 'npx cradle' : modules > 0 ? 'cradle' : `node ${path.join(PACKAGE_ROOT, 'bin', 'cradle')}`;
      const pct = (p: number | undefined) => `${((p ?? 0) * 100).toFixed(1)}%`;
      emit(!!opts.json, data, () => [
        '',
        right
          ? `The leak came from ${story.leaked.recipient}: export ${story.leaked.id} of ${story.leaked.week} (${path.basename(story.leaked.file)}, operator ${top.export?.operator ?? '?'}), probability ${pct(top.posterior)} from the scammers' contacts and ${pct(scanTop.posterior)} from the seized spreadsheet.`
          : `WRONG: the leak came from export ${story.leaked.id} (${story.leaked.recipient}) but the trace names ${top?.label ?? 'nothing'} (${pct(top?.posterior)}) and ${scanTop?.label ?? 'nothing'} (${pct(scanTop?.posterior)}).`,
        `Reports: ${story.reports.map((r) => path.relative(process.cwd(), r)).join(', ')}`,
        `done in ${data.seconds.toFixed(1)} s. Explore:`,
        `  cd ${relDir}`,
        `  ${cli} trace ${story.hitsIncident}`,
        `  ${cli} report ${story.hitsIncident} --out report.html`,
        `  ${cli} tripwires`,
        `  ${cli} verify`,
        `  ${cli} canaries list`,
      ]);
      if (!right) process.exitCode = 1;
    }));
  onAction(program.commands.slice(first), load);
}
