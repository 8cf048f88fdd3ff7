import fs from 'node:fs';
import { UserError } from './errors.js';
import { excerpt } from './control.js';

/**
 * Read and parse a JSON file the user named (config, mapping). Every failure is one line naming the
 * file: `whenMissing` words the case of a file that is not there, `what` names the file otherwise.
 */
export function readJsonFile(file: string, what: string, whenMissing?: () => string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && whenMissing) throw new UserError(whenMissing());
    throw new UserError(`cannot read ${what} ${file}: ${code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: not valid JSON: ${excerpt((err as Error).message)}`);
  }
}
