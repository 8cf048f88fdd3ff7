import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The package root holds sql/ and fixtures/. Code runs from src/ (tests) or dist/src/ (CLI), so walk up.
function findPackageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'sql'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the cradle package root (sql/ next to package.json)');
    dir = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot();
export const SQL_DIR = path.join(PACKAGE_ROOT, 'sql');
export const FIXTURES_DIR = path.join(PACKAGE_ROOT, 'fixtures');
