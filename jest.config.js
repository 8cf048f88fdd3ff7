/**
 * Jest runs the TypeScript sources directly through ts-jest in ESM mode (PGlite needs ESM), in three
 * projects (tiers), chosen by path so that new tests land in a tier without editing this file:
 *  - slow: simulations, the fuzz harness, large seeding and scans, growth tests: many CPU-seconds each,
 *    run by `npm run test:slow` and in CI. A file joins it by its name, `*.slow.test.ts`, or by SLOW below;
 *  - unit: pure code (no database, no binary, no server), the directories and files in UNIT;
 *  - integration: every other test file under test/ (databases, the CLI binary, servers).
 * `npm test` runs unit and integration; `npm run test:all` runs the three.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const at = (glob) => path.join(root, glob);
const not = (glob) => `!${at(glob)}`;

const SLOW = [
  'test/**/*.slow.test.ts',
  'test/fuzz/**/*.test.ts',
  'test/trace/simulation.test.ts',
];

const UNIT = [
  'test/lib/**/*.test.ts',
  'test/realism/compare.test.ts',
  'test/config/**/*.test.ts',
  'test/canary/delay.test.ts',
  'test/canary/blank.test.ts',
  'test/pool/**/*.test.ts',
  'test/accesslog/block.test.ts',
  'test/accesslog/hostile-parse.test.ts',
  'test/accesslog/line-ends.test.ts',
  'test/accesslog/mysql-general.test.ts',
  'test/accesslog/parse.test.ts',
  'test/cli/output.test.ts',
  'test/exports/infer.test.ts',
  'test/ingest/gammu.test.ts',
  'test/exports/plan.test.ts',
  'test/exports/style-unit.test.ts',
  'test/report/render.test.ts',
  'test/seed/allocate.test.ts',
  'test/targetdb/mapping.test.ts',
  'test/trace/model.test.ts',
  'test/triage/carriers.test.ts',
  'test/triage/resolve.test.ts',
  'test/watch/payloads.test.ts',
  'test/watch/signatures.test.ts',
];

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // The CommonJS build: the ESM one imports JSON without an import attribute, which Jest warns about.
    '^libphonenumber-js/max$': '<rootDir>/node_modules/libphonenumber-js/max/index.cjs',
  },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: false }] },
  // One path for every project, so it runs once per run (Jest runs each distinct global setup once).
  globalSetup: '<rootDir>/test/global-setup.js',
  // CRADLE_TEST_CPU_LOG=<file>: each test file's CPU seconds, appended to the file (test/setup-cpu-log.js).
  setupFilesAfterEnv: process.env.CRADLE_TEST_CPU_LOG ? ['<rootDir>/test/setup-cpu-log.js'] : [],
};

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: [...UNIT.map(at), ...SLOW.map(not)] },
    { ...common, displayName: 'integration', testMatch: [at('test/**/*.test.ts'), ...UNIT.map(not), ...SLOW.map(not)], setupFilesAfterEnv: ['<rootDir>/test/setup-integration.ts', ...common.setupFilesAfterEnv] },
    { ...common, displayName: 'slow', testMatch: SLOW.map(at) },
  ],
  // Generous: CLI and database tests take many times longer on a loaded machine; a hang still ends.
  testTimeout: 300000,
  maxWorkers: 2,
};
