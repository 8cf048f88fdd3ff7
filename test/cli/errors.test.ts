import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { errorLines } from '../../src/cli/main.js';
import { cradleInProcess } from '../helpers/cli.js';
import { scratchDir } from '../helpers/db.js';

// Error lines quote what came in (an argument, a file name, a file's content). Raw, an ESC could
// rewrite the terminal and a CR or U+2028 overwrite or fake a line: they are printed as escapes.

// Any control character but the newline that ends each line; and the bidi overrides.
// eslint-disable-next-line no-control-regex -- finding controls is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const HOSTILE = '\x1b]0;pwned\x07\x1b[2J\rcradle: ok\u2028\u202e';
const ESCAPED = '\\x1b]0;pwned\\x07\\x1b[2J\\rcradle: ok\\u2028\\u202e';

describe('error lines', () => {
  const cwd = scratchDir('cli-errors');

  it('escape controls in a user error quoting an argument', async () => {
    const res = await cradleInProcess(['hits', '--since', HOSTILE], { cwd });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`cradle: "${ESCAPED}" is not a duration; write e.g. 14d, 12h or 2w\n`);
  });

  it('escape controls in a file name and in what a parser quotes from the file', async () => {
    const file = path.join(cwd, `conf\x1b[31m\r.json`);
    fs.writeFileSync(file, '{"vault": "\x1b[2J\x00');
    const res = await cradleInProcess(['--config', file, 'hits'], { cwd });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^cradle: .*conf\\x1b\[31m\\r\.json: not valid JSON: .*\n$/);
    expect(res.stderr).not.toMatch(RAW_CONTROL);
  });

  it('keep a user error on lines that each start with cradle:, whatever its text', async () => {
    // A UserError's newlines are its line breaks (a list of problems); one in the input makes one
    // more line, but it too is marked as Cradle's and carries no controls.
    const res = await cradleInProcess(['hits', '--since', `1x\n\x1b[1Aall verified\r`], { cwd });
    expect(res.code).toBe(1);
    const lines = res.stderr.replace(/\n$/, '').split('\n');
    expect(lines).toEqual(['cradle: "1x', 'cradle: \\x1b[1Aall verified\\r" is not a duration; write e.g. 14d, 12h or 2w']);
  });

  it('escape controls in what commander prints about a bad argument', async () => {
    const res = await cradleInProcess([`hits\x1b[2J\r`], { cwd });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`unknown command 'hits\\x1b[2J\\r'`);
    expect(res.stderr).not.toMatch(RAW_CONTROL);
  });

  it('print an unexpected error on one line, redacted and escaped', () => {
    expect(errorLines(`boom\nat postgres://u:pw@h/db${HOSTILE}`, false)).toEqual([`boom\\nat postgres://u:***@h/db${ESCAPED}`]);
    expect(errorLines('first problem\nsecond problem', true)).toEqual(['first problem', 'second problem']);
  });
});
