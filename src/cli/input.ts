import fs from 'node:fs';
import { errorCode, errorMessage, UserError } from '../lib/errors.js';

// Files named on the command line, `-` meaning standard input.

/** How messages name the input. */
export function inputLabel(file: string): string {
  return file === '-' ? 'stdin' : file;
}

/** The whole input; a file that cannot be read is the user's to fix, named with the system's reason. */
export function readInput(file: string): Buffer {
  try {
    return fs.readFileSync(file === '-' ? 0 : file);
  } catch (err) {
    throw new UserError(`cannot read ${file}: ${errorCode(err) ?? errorMessage(err)}`);
  }
}
