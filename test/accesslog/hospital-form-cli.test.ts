import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import { openDatabase } from '../../src/db/index.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import * as vault from '../../src/vault/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { scratchDir } from '../helpers/db.js';
import { createTestHospital, WARDS, type TestHospital } from '../helpers/hospital.js';

// `cradle logs import` on logs Cradle did not make, as a Chinese hospital's systems write them: GBK with
// Chinese headers, action words and 2026/12/01 07:00:06 times; UTF-16 with 年月日 times; and a log whose
// times cannot be read, which must stop the import instead of adding nothing with exit 0.

interface Wires {
  accounts: { account: string; single: number; bulk: number }[];
  lines: { account: string; action: string; scope: string; at: string }[];
}

describe('cradle logs import: logs in the hospital’s own form', () => {
  let h: TestHospital;
  let cwd: string;
  let key: string;
  const run = (args: string[]) => cradleInProcess(['--vault', h.vaultLocation, ...args], { cwd });
  const write = (name: string, bytes: Buffer) => fs.writeFileSync(path.join(cwd, name), bytes);
  const map = 'ts=操作时间,user=工号,action=操作,record=病历号,ip=终端';
  const wires = async () => json<Wires>(await run(['tripwires', '--since', '3650d', '--json']));
  const account = (w: Wires, name: string) => w.accounts.find((a) => a.account === name);

  beforeAll(async () => {
    h = await createTestHospital({ backend: 'pglite', schema: 'reference', population: 50, trapNumbers: 10 });
    const now = new Date('2026-11-02T00:00:00Z');
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 1, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W45', ...birthWindow(now), seed: 'logs-form' });
    const [canary] = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    key = String(canary.target_keys!.birth.birth_id);
    await h.vault.close();
    cwd = scratchDir('logs-form');
    const hospital = { target: h.target.label, mapping: path.join(FIXTURES_DIR, 'mappings', 'reference.json'), wards: WARDS, districts: ['鼓楼区'], timeZone: 'Asia/Shanghai', accessActions: { 审阅: 'view' } };
    fs.writeFileSync(path.join(cwd, 'cradle.config.json'), JSON.stringify({ hospitals: { h1: hospital } }));
  });
  afterAll(async () => {
    if (!h) return;
    h.vault = await openDatabase(h.vaultLocation);
    await h.close();
  });

  it('reads a GBK log: warns of the encoding, reads 2026/12/01 times in the hospital’s zone, and trips on a single-record 查看 and 打印', async () => {
    const lines = [
      '操作时间,工号,操作,病历号,终端',
      `2026/12/01 07:00:06,护士042,查看,${key},10.0.0.42`,
      `2026/12/01 07:02:10,护士042,打印,${key},10.0.0.42`,
      `2026/12/01 07:05:00,文员003,列表,1;2;${key},10.0.0.3`,
      `2026/12/01 07:06:00,文员003,导出,1;${key},10.0.0.3`,
      '2026/12/01 07:07:00,护士001,查看,1,10.0.0.1',
    ];
    write('his-gbk.csv', iconv.encode(lines.join('\r\n') + '\r\n', 'gbk'));
    const res = await run(['logs', 'import', 'his-gbk.csv', '--format', 'csv', '--map', map]);
    expect(res.stderr).toBe('cradle: warning: his-gbk.csv: read as GB18030 (detected; give --encoding if that is wrong)\n');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('his-gbk.csv: 6 lines read; 5 events added, 0 already in the vault, 0 rejected');
    const w = await wires();
    expect(account(w, '护士042')).toMatchObject({ single: 2, bulk: 0 });
    // A list, and an export of two records, expose the canary without tripping the wire.
    expect(account(w, '文员003')).toMatchObject({ single: 0, bulk: 2 });
    const nurse = w.lines.filter((l) => l.account === '护士042').map((l) => [l.action, l.scope, l.at]);
    expect(nurse).toEqual(expect.arrayContaining([['查看', 'single', '2026-11-30T23:00:06.000Z'], ['打印', 'single', '2026-11-30T23:02:10.000Z']]));
  });

  it('reads UTF-16 logs (LE with a BOM, BE without) with 年月日 times and the hospital’s and --actions words', async () => {
    const text = (who: string) =>
      ['操作时间,工号,操作,病历号,终端', `2026年12月2日 08时15分,${who},审阅,${key},10.0.0.7`, `2026年12月2日 08时16分30秒,${who},核对,${key},10.0.0.7`, `2026年12月2日 08时20分,${who},检索,${key};9,10.0.0.7`].join('\n') + '\n';
    write('le.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text('医生007'), 'utf16le')]));
    write('be.csv', Buffer.from(text('医生008'), 'utf16le').swap16());
    const le = await run(['logs', 'import', 'le.csv', '--format', 'csv', '--map', map]);
    expect([le.code, le.stderr]).toEqual([0, 'cradle: warning: le.csv: read as UTF-16LE (detected; give --encoding if that is wrong)\n']);
    const be = await run(['logs', 'import', 'be.csv', '--format', 'csv', '--map', map, '--actions', '核对=view']);
    expect([be.code, be.stderr]).toEqual([0, 'cradle: warning: be.csv: read as UTF-16BE (detected; give --encoding if that is wrong)\n']);
    const w = await wires();
    // 审阅 is the hospital's word for view; 核对 is a view only where --actions says so, else unknown and bulk.
    expect(account(w, '医生007')).toMatchObject({ single: 1, bulk: 2 });
    expect(account(w, '医生008')).toMatchObject({ single: 2, bulk: 1 });
    expect(w.lines.find((l) => l.account === '医生008' && l.action === '核对')?.at).toBe('2026-12-02T00:16:30.000Z');
  });

  it('reads times by --time-format, and a given --encoding', async () => {
    write('dotted.csv', iconv.encode(['操作时间,工号,操作,病历号,终端', `01.12.2026 09:30,护士050,调阅,${key},10.0.0.50`].join('\n') + '\n', 'gb18030'));
    const res = await run(['logs', 'import', 'dotted.csv', '--format', 'csv', '--map', map, '--time-format', 'dd.MM.yyyy HH:mm', '--encoding', 'GBK', '--json']);
    expect(res.stderr).toBe('cradle: warning: dotted.csv: read as GB18030 (as --encoding says)\n');
    expect(json<{ added: number; rejected: number; tripwires: number; encoding: string }>(res)).toMatchObject({ added: 1, rejected: 0, tripwires: 1, encoding: 'gb18030' });
    expect(account(await wires(), '护士050')).toMatchObject({ single: 1 });
    const bad = await run(['logs', 'import', 'dotted.csv', '--format', 'csv', '--time-format', 'YYYY']);
    expect(bad.code).toBe(2);
  });

  it('stops past --max-rejects: exit 1, one message naming the field, the reason and the first lines, and nothing committed', async () => {
    const rows = Array.from({ length: 150 }, (_, i) => `12-01-2026 07:${String(i % 60).padStart(2, '0')},护士060,查看,${key},10.0.0.60`);
    write('bad-times.csv', iconv.encode(['操作时间,工号,操作,病历号,终端', ...rows].join('\n') + '\n', 'gbk'));
    const res = await run(['logs', 'import', 'bad-times.csv', '--format', 'csv', '--map', map]);
    expect(res.code).toBe(1);
    const error = res.stderr.split('\n').filter((l) => !l.startsWith('cradle: warning:'));
    expect(error).toEqual([
      'cradle: bad-times.csv: 150 of 150 lines rejected (100%, over --max-rejects 0.1); 150 for ts (操作时间) (lines 2, 3, 4, 5, 6, …): ts (操作时间): "12-01-2026 07:00" is not a timestamp (write ISO 8601, YYYY-MM-DD or YYYY/MM/DD HH:MM[:SS] or YYYY年M月D日 HH时MM分[SS秒] local time, or epoch seconds/milliseconds; or give --time-format); nothing was committed: fix the file or --time-format and import again (or raise --max-rejects); rejected lines with their reasons: bad-times.csv.rejects.csv',
      '',
    ]);
    expect(account(await wires(), '护士060')).toBeUndefined();
    expect(fs.readFileSync(path.join(cwd, 'bad-times.csv.rejects.csv'), 'utf8').split('\n').slice(0, 2)).toEqual(['line,reason,text', expect.stringMatching(/^2,"ts \(操作时间\): ""12-01-2026 07:00"" is not a timestamp/)]);
    // Fixed by --time-format, the same file imports.
    const fixed = await run(['logs', 'import', 'bad-times.csv', '--format', 'csv', '--map', map, '--time-format', 'MM-dd-yyyy HH:mm']);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain('151 lines read; 60 events added, 90 already in the vault, 0 rejected');
    // A share given is judged however short the log: one bad line in two is too many for 0.2.
    write('short.csv', Buffer.from(['ts,user,action,record', '2026-12-03 10:00,n1,view,1', 'soon,n1,view,2'].join('\n') + '\n'));
    expect((await run(['logs', 'import', 'short.csv', '--format', 'csv'])).code).toBe(0);
    write('short2.csv', Buffer.from(['ts,user,action,record', '2026-12-03 10:01,n1,view,1', 'soon,n1,view,2'].join('\n') + '\n'));
    const strict = await run(['logs', 'import', 'short2.csv', '--format', 'csv', '--max-rejects', '0.2']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/^cradle: short2\.csv: 1 of 2 lines rejected \(50%, over --max-rejects 0\.2\); 1 for ts \(line 3\)/);
  });
});
