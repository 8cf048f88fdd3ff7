import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseAccessLog } from '../../src/accesslog/parse.js';
import { mysqlToStandard } from '../../src/accesslog/formats/mariadb-audit.js';
import type { ParsedLine, ParseOptions } from '../../src/domain/access.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { createRandom } from '../../src/lib/generate/index.js';

// MariaDB's server_audit log (--format mariadb-audit) on lines written as the plugin writes them
// (the forms were taken from a real MariaDB 10.11 with server_audit; test/accesslog/mariadb-audit.slow.test.ts
// runs one): record keys from the SQL, tripwires and exposures, rejects with a reason.

const OPTIONS: ParseOptions = { format: 'mariadb-audit', timeZone: 'Asia/Shanghai', source: 'server_audit.log', recordKey: { table: 'births', column: 'birth_id' } };

async function parse(text: string | Buffer, options: Partial<ParseOptions> = {}): Promise<ParsedLine[]> {
  const out: ParsedLine[] = [];
  async function* input(): AsyncGenerator<Buffer> {
    yield typeof text === 'string' ? Buffer.from(text) : text;
  }
  for await (const item of parseAccessLog(input(), { ...OPTIONS, ...options })) out.push(item);
  return out;
}

const rows = (items: ParsedLine[]) => items.flatMap((i) => ('row' in i ? [i.row] : []));
const rejects = (items: ParsedLine[]) => items.flatMap((i) => ('reject' in i ? [i] : []));
const line = (query: string, extra: { user?: string; host?: string; ret?: number } = {}) => `20261103 08:15:02,his-db,${extra.user ?? 'nurse07'},${extra.host ?? '10.2.0.22'},25,32,QUERY,his,'${query}',${extra.ret ?? 0}`;

describe('mariadb-audit', () => {
  it('reads the fixture: keys from the SQL, single opens and lists, other events skipped', async () => {
    const items = await parse(fs.readFileSync(path.join(FIXTURES_DIR, 'access', 'mariadb-audit.log')));
    expect(rejects(items)).toEqual([]);
    expect(items.map((i) => i.line)).toEqual([3, 4, 5, 7]);
    const [open, list, quoted, update] = rows(items);
    expect(open).toEqual({ at: new Date('2026-11-03T00:15:02Z'), account: 'dr_wang', action: 'select', scope: 'single', records: ['48213'], system: null, ip: '10.2.0.15' });
    expect(list).toMatchObject({ account: 'nurse07', action: 'select', scope: 'bulk', records: ['48213', '48214', '50001'] });
    // A backslash-escaped quote in a string and a # comment before the key condition.
    expect(quoted).toMatchObject({ scope: 'single', records: ['48214'] });
    // The SET list assigns; only the WHERE names a record.
    expect(update).toMatchObject({ action: 'update', records: ['50002'] });
  });

  it('reads backquoted names, escaped newlines and quotes, and Chinese text in the statement', async () => {
    const items = await parse(
      [
        line("SELECT `b`.`birth_id`, `b`.`baby_name`\\nFROM `his`.`births` AS `b`\\nWHERE `b`.`birth_id` = \\'48213\\' AND `b`.`ward` = \\'产科一病区\\'"),
        line("SELECT * FROM births WHERE remark = \\'王\\\\\\'s, \\\\n `x`\\' AND birth_id = 7", { user: '护士长', host: 'localhost' }),
        line('SELECT * FROM `births` WHERE `birth_id` IN (\\\'1\\\',\\\'2\\\')'),
        line('SELECT * FROM births WHERE birth_id = 48213', { ret: 1146 }),
        line('SELECT COUNT(*) FROM births'),
        line("SELECT * FROM births WHERE note = \"it\\'s # not a comment\" AND birth_id = 9"),
      ].join('\n'),
    );
    expect(rejects(items)).toEqual([]);
    const r = rows(items);
    expect(r.map((x) => [x.account, x.scope, x.records, x.ip])).toEqual([
      ['nurse07', 'single', ['48213'], '10.2.0.22'],
      ['护士长', 'single', ['7'], null],
      ['nurse07', 'bulk', ['1', '2'], '10.2.0.22'],
      ['nurse07', 'bulk', [], '10.2.0.22'],
      ['nurse07', 'single', ['9'], '10.2.0.22'],
    ]);
  });

  it('rejects a truncated line, a wrong time, a missing user and unknown operations with a reason', async () => {
    const items = await parse(fs.readFileSync(path.join(FIXTURES_DIR, 'access', 'mariadb-audit-bad.log')));
    expect(rows(items)).toHaveLength(1);
    expect(rejects(items).map((r) => [r.line, r.reject])).toEqual([
      [2, expect.stringMatching(/^timestamp: .* YYYYMMDD HH:MM:SS/)],
      [3, expect.stringMatching(/never closed \(the line is cut short\)/)],
      [4, expect.stringMatching(/^server_audit: 3 fields/)],
      [5, 'username: missing'],
      [6, expect.stringMatching(/^connectionid: /)],
      [7, expect.stringMatching(/^operation: "SHOUT"/)],
      [8, expect.stringMatching(/^retcode: /)],
      [9, expect.stringMatching(/^timestamp: .*not a valid time/)],
    ]);
  });

  it('translates MySQL lexical rules to PostgreSQL ones', () => {
    expect(mysqlToStandard("SELECT `a``b`, 'it\\'s', \"q\"\"x\" # c\nFROM t -- d\n/* e */")).toBe(`SELECT "a\`b", 'it''s', 'q"x'  \nFROM t  \n `);
  });

  it('survives hostile lines: every line is a row, a skip or a reject with a reason, never a crash', async () => {
    const rng = createRandom('mariadb-audit-fuzz');
    const seeds = fs.readFileSync(path.join(FIXTURES_DIR, 'access', 'mariadb-audit.log'), 'utf8').split('\n').filter(Boolean);
    const pieces = ['\\', "'", '`', '"', ',', '\\n', '#', '--', '/*', '*/', '\u0000', '\r', '王', '\uD800', '(', ')', ' IN (', '= ', '0', ',0', "',0"];
    for (let n = 0; n < 400; n++) {
      let text = seeds[rng.int(0, seeds.length - 1)];
      for (let k = rng.int(1, 4); k > 0; k--) {
        const at = rng.int(0, text.length);
        text = rng.chance(0.3) ? text.slice(0, at) : text.slice(0, at) + pieces[rng.int(0, pieces.length - 1)] + text.slice(at + rng.int(0, 3));
      }
      const items = await parse(text);
      for (const item of items) if ('reject' in item) expect(item.reject).toMatch(/^[a-z_]+: \S/);
    }
  });
});
