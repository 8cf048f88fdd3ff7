// Runs once before a run (whichever tiers it runs): builds dist/ (CLI tests run the real binary) and
// prepares two PGlite directories that tests copy instead of paying PGlite's seconds-long initdb each time:
//  - pglite-template: an empty database, just initialised (a target, or a vault a test migrates itself);
//  - pglite-vault: the same with the vault migrations applied (`migrate()`, as createTestHospital runs
//    it): a test's migrate() on a copy then finds nothing to do. Made here from the sql/vault files of
//    this run, so a new migration is in it.
// Each run works in its own .test-tmp/run-<pid>, so two test runs on one machine do not delete each other's files.
// The pristine template is also this run's cache directory for databases the code creates (CRADLE_CACHE_DIR).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PGlite } from '@electric-sql/pglite';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function compile() {
  const args = [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json'), '--noCheck', '--incremental', '--tsBuildInfoFile', path.join(root, 'dist', '.tsbuildinfo')];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tsc exited with ${code}`))));
  });
}

export default async function globalSetup() {
  // Incremental, its build info inside dist/: `npm test` then `npm run test:slow` (as CI runs them)
  // compile once, and deleting dist/ starts afresh.
  // Emit only (--noCheck): `npm run typecheck` and CI check the types; checking here again doubled the
  // set-up. It runs while PGlite initialises the template below.
  const build = compile();
  const base = path.join(root, '.test-tmp');
  fs.mkdirSync(base, { recursive: true });
  for (const entry of fs.readdirSync(base)) {
    const pid = Number(/^run-(\d+)$/.exec(entry)?.[1]);
    if (!pid || !alive(pid)) fs.rmSync(path.join(base, entry), { recursive: true, force: true });
  }
  const tmp = path.join(base, `run-${process.pid}`);
  const template = path.join(tmp, 'pglite-template');
  fs.mkdirSync(template, { recursive: true });
  // Slim, since every test database is a copy of it (copying and deleting 39 MB in 1,138 files cost
  // about 0.4 CPU-s a database): 1 MB WAL segments instead of 16 MB, and without the template
  // databases, which no test creates a database from.
  const db = new PGlite(template, { initDbStartParams: ['--wal-segsize=1'] });
  await db.waitReady;
  for (const name of ['template0', 'template1']) {
    await db.exec(`UPDATE pg_database SET datistemplate = false WHERE datname = '${name}'`);
    await db.exec(`DROP DATABASE ${name}`);
  }
  await db.close();
  await build;
  const vaultTemplate = path.join(tmp, 'pglite-vault');
  fs.cpSync(template, vaultTemplate, { recursive: true });
  const { openDatabase, migrate } = await import(pathToFileURL(path.join(root, 'dist', 'src', 'db', 'index.js')).href);
  const vault = await openDatabase(vaultTemplate, { role: 'vault' });
  try {
    await migrate(vault);
  } finally {
    await vault.close();
  }
  process.env.CRADLE_TEST_TMP = tmp;
  // A database the code creates (`cradle init`, the demo, create: true) starts as a copy of a pristine
  // cluster from the cache directory (src/db/pristine.ts): the template above is one, and the tests'
  // cache is this run's, not the user's.
  const cache = path.join(tmp, 'cache');
  const { version } = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8'));
  fs.cpSync(template, path.join(cache, `pglite-${version}`), { recursive: true });
  process.env.CRADLE_CACHE_DIR = cache;
}
