import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/db/index.js';
import { PACKAGE_ROOT, SQL_DIR } from '../../src/lib/paths.js';
import { BACKENDS, newDatabase, scratchDir, type TestLocation } from '../helpers/db.js';

// The release as a user gets it: `npm pack` in a copy of the sources (its prepack compiles dist/src),
// then the tarball installed the two ways docs/deployment.md gives, with only Node on the PATH and
// nothing compiled at install: `npm install -g --prefix <dir> <tgz>`, and the tarball unpacked with
// the lock file and `npm ci --omit=dev` (as deploy/Dockerfile does). The runtime dependencies come
// from npm's cache where it has them (--prefer-offline), else from the registry. Each installed
// `cradle` then runs: --version, completion, and init + target check on a vault and a target.

const run = promisify(execFile);
const npm = (args: string[], cwd: string) => run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd, env: cleanEnv(), maxBuffer: 64 << 20 });

/** The environment without this project's tools: PATH is Node's own directory and the system's. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: [path.dirname(process.execPath), '/usr/bin', '/bin'].join(':') };
  for (const key of Object.keys(env)) if (key.startsWith('npm_') || key.startsWith('CRADLE_')) delete env[key];
  return env;
}

// What a source checkout holds that the release is made from (no tests, no benchmarks).
const SOURCES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'bin', 'src', 'sql', 'fixtures/mappings', 'docs', 'deploy'];

const work = scratchDir('package');
let tarball: string;
let files: string[];

beforeAll(async () => {
  const src = path.join(work, 'src');
  for (const entry of SOURCES) fs.cpSync(path.join(PACKAGE_ROOT, entry), path.join(src, entry), { recursive: true });
  fs.symlinkSync(path.join(PACKAGE_ROOT, 'node_modules'), path.join(src, 'node_modules'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: src, env: { ...process.env, PATH: `${path.join(PACKAGE_ROOT, 'node_modules', '.bin')}:${process.env.PATH}` }, maxBuffer: 64 << 20 });
  const packed = (JSON.parse(stdout) as { filename: string; files: { path: string }[] }[])[0];
  tarball = path.join(work, packed.filename);
  files = packed.files.map((f) => f.path);
}, 600_000);

describe('npm pack', () => {
  it('packs compiled JavaScript and what it needs at run time, without tests, benchmarks or sources', () => {
    expect(path.basename(tarball)).toMatch(/^cradle-canary-\d+\.\d+\.\d+\.tgz$/);
    for (const f of ['bin/cradle', 'dist/src/cli/run.js', 'dist/src/scan/worker.js', 'sql/vault/001_foundation.sql', 'sql/targetdb/reference.sql', 'fixtures/mappings/reference.json', 'README.md', 'docs/deployment.md', 'deploy/Dockerfile', 'deploy/systemd/cradle-watch.service']) {
      expect(files).toContain(f);
    }
    const unwanted = files.filter((f) => /^(src|test|bench|dist\/test|dist\/bench)\//.test(f) || f.endsWith('.map') || f.endsWith('.ts'));
    expect(unwanted).toEqual([]);
  });
});

/** Runs an installed `cradle` with only Node on the PATH. */
const installed = (bin: string) => (args: string[], cwd: string) => run(bin, args, { cwd, env: cleanEnv() });

async function exercise(cradle: ReturnType<typeof installed>, label: string) {
  const version = await cradle(['--version'], work);
  expect(version.stdout.trim()).toBe((JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  expect((await cradle(['completion', 'bash'], work)).stdout).toContain('complete -o default -F _cradle cradle');
  for (const backend of BACKENDS) {
    const locations: TestLocation[] = [await newDatabase(backend, `pkg-vault-${label}`), await newDatabase(backend, `pkg-target-${label}`)];
    try {
      const [vault, target] = locations;
      const db = await openDatabase(target.location);
      await db.exec(fs.readFileSync(path.join(SQL_DIR, 'targetdb', 'reference.sql'), 'utf8'));
      await db.close();
      const cwd = scratchDir(`pkg-${label}-${backend}`);
      const init = JSON.parse((await cradle(['init', '--vault', vault.location, '--target', target.location, '--json'], cwd)).stdout) as { created: string[]; migrationsApplied: string[] };
      expect(init.created.map((f) => path.basename(f)).sort()).toEqual(['cradle.config.json', 'mapping.json']);
      expect(init.migrationsApplied.length).toBeGreaterThan(0);
      const check = JSON.parse((await cradle(['target', 'check', '--json'], cwd)).stdout) as { ok: boolean };
      expect(check.ok).toBe(true);
    } finally {
      for (const l of locations) await l.cleanup();
    }
  }
}

describe('the packed release installs and runs with only Node', () => {
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('npm install -g --prefix <dir> <tarball>', async () => {
    const prefix = path.join(work, 'global');
    await npm(['install', '-g', '--prefix', prefix, tarball], work);
    const root = path.join(prefix, 'lib', 'node_modules', 'cradle-canary');
    expect(fs.existsSync(path.join(root, 'node_modules', 'typescript'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'src'))).toBe(false);
    await exercise(installed(path.join(prefix, 'bin', 'cradle')), 'global');
  }, 600_000);

  it('unpacked with the lock file: npm ci --omit=dev', async () => {
    const app = path.join(work, 'app');
    fs.mkdirSync(app);
    await run('tar', ['-xzf', tarball, '-C', app, '--strip-components=1']);
    fs.copyFileSync(path.join(PACKAGE_ROOT, 'package-lock.json'), path.join(app, 'package-lock.json'));
    await npm(['ci', '--omit=dev'], app);
    expect(fs.existsSync(path.join(app, 'node_modules', 'typescript'))).toBe(false);
    expect(fs.existsSync(path.join(app, 'node_modules', 'pg'))).toBe(true);
    await exercise(installed(path.join(app, 'bin', 'cradle')), 'ci');
  }, 600_000);
});
