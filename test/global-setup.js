// Runs once before the suite: builds dist/ (CLI tests run the real binary) and initialises one PGlite
// directory that tests copy instead of paying PGlite's seconds-long initdb each time.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

export default async function globalSetup() {
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
  const tmp = path.join(root, '.test-tmp');
  fs.rmSync(tmp, { recursive: true, force: true });
  const template = path.join(tmp, 'pglite-template');
  fs.mkdirSync(template, { recursive: true });
  const db = new PGlite(template);
  await db.waitReady;
  await db.close();
  process.env.CRADLE_TEST_TMP = tmp;
}
