import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { PACKAGE_ROOT } from '../../src/lib/paths.js';
import { scratchDir } from '../helpers/db.js';

// bin/cradle runs dist/ and compiles nothing at install; without dist/ it builds it only in a
// checkout that has TypeScript, and otherwise says what is missing, in one line, exit code 1.

function launcherIn(files: string[]): string {
  const root = scratchDir('launcher');
  fs.mkdirSync(path.join(root, 'bin'));
  fs.copyFileSync(path.join(PACKAGE_ROOT, 'bin', 'cradle'), path.join(root, 'bin', 'cradle'));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), '');
  }
  return root;
}

const run = (root: string) => spawnSync(process.execPath, [path.join(root, 'bin', 'cradle'), '--version'], { encoding: 'utf8' });

describe('bin/cradle without dist/', () => {
  it('in a checkout without TypeScript (npm ci --omit=dev): says to build, exit 1', () => {
    const root = launcherIn(['src/cli/run.ts']);
    const r = run(root);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`cradle: ${path.join(root, 'dist', 'src', 'cli', 'run.js')} is missing: this checkout is not built and TypeScript is not installed; run \`npm install\` (with the dev dependencies) and \`npm run build\` in ${root}\n`);
  });

  it('in an installed package: says to reinstall, exit 1', () => {
    const root = launcherIn([]);
    const r = run(root);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^cradle: .*dist\/src\/cli\/run\.js is missing: this installation is incomplete; reinstall the package\n$/);
  });

  it('runs dist/ when it is there', () => {
    const root = launcherIn(['src/cli/run.ts']);
    fs.mkdirSync(path.join(root, 'dist', 'src', 'cli'), { recursive: true });
    fs.writeFileSync(path.join(root, 'dist', 'src', 'cli', 'run.js'), "process.stdout.write('ran dist\\n');\n");
    fs.writeFileSync(path.join(root, 'package.json'), '{"type":"module"}');
    expect(run(root)).toMatchObject({ status: 0, stdout: 'ran dist\n', stderr: '' });
  });
});
