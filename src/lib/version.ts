import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from './paths.js';

// The package's version, read once: `cradle --version` prints it and every report names its tool by it.

export const CRADLE_VERSION = (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The tool a report or bundle says made it: "cradle 0.1.0". */
export const CRADLE_TOOL = `cradle ${CRADLE_VERSION}`;
