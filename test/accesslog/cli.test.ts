import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/db/index.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import * as vault from '../../src/vault/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { scratchDir } from '../helpers/db.js';
import { createTestHospital, WARDS, type TestHospital } from '../helpers/hospital.js';

// `cradle logs import` and `cradle tripwires` through the CLI (in-process: test/helpers/cli.ts), on an embedded vault.

describe('cradle logs import / tripwires (the CLI)', () => {
  let h: TestHospital;
  let cwd: string;
  let canary: vault.CanaryRow;
  let canaries: vault.CanaryRow[];
  const run = (args: string[]) => cradleInProcess(['--vault', h.vaultLocation, ...args], { cwd });

  beforeAll(async () => {
    h = await createTestHospital({ backend: 'pglite', schema: 'reference', population: 50, trapNumbers: 10 });
    const now = new Date('2026-11-02T00:00:00Z');
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 2, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W45', ...birthWindow(now), seed: 'logs-cli' });
    [canary] = canaries = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    await h.vault.close();
    cwd = scratchDir('logs-cli');
    fs.writeFileSync(
      path.join(cwd, 'cradle.config.json'),
      JSON.stringify({ hospitals: { h1: { displayName: '测试妇幼保健院', target: h.target.label, mapping: path.join(FIXTURES_DIR, 'mappings', 'reference.json'), wards: WARDS, districts: ['鼓楼区'], timeZone: 'Asia/Shanghai' } } }),
    );
    const key = canary.target_keys!.birth.birth_id;
    fs.writeFileSync(
      path.join(cwd, 'audit-2026-11.csv'),
      ['event_time,operator,op,patient_id,client_ip,app', '2026-11-05 10:00:00,nurse01,view,1,10.0.0.1,his', `2026-11-05 10:01:00,nurse42,print,${key},10.0.0.42,his`, 'yesterday,nurse01,view,2,10.0.0.1,his', `2026-11-05 10:05:00,clerk03,list,1;2;${key},10.0.0.3,his`].join('\n') + '\n',
    );
  });
  afterAll(async () => {
    if (!h) return;
    h.vault = await openDatabase(h.vaultLocation);
    await h.close();
  });

  it('documents itself with examples', async () => {
    const help = await cradleInProcess(['logs', 'import', '--help'], { cwd });
    expect(help.stdout).toMatch(/Examples:\n\s+cradle logs import audit-2026-11.csv --format csv --map ts=event_time/);
    expect((await cradleInProcess(['tripwires', '--help'], { cwd })).stdout).toMatch(/Examples:\n\s+cradle tripwires --since 30d/);
  });

  it('imports with a column map, writes the rejects with line numbers, and lists the tripwires', async () => {
    const map = 'ts=event_time,user=operator,action=op,record=patient_id,ip=client_ip,system=app';
    const first = await run(['logs', 'import', 'audit-2026-11.csv', '--format', 'csv', '--map', map]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('audit-2026-11.csv: 5 lines read; 3 events added, 0 already in the vault, 1 rejected');
    expect(first.stdout).toContain('2 access(es) to canary records; 0 tripwire alert(s) queued');
    const rejects = fs.readFileSync(path.join(cwd, 'audit-2026-11.csv.rejects.csv'), 'utf8').trim().split('\n');
    expect(rejects[0]).toBe('line,reason,text');
    expect(rejects[1]).toMatch(/^4,"ts \(event_time\): ""yesterday"" is not a timestamp/);
    const again = json<{ alreadyImported: boolean; added: number }>(await run(['logs', 'import', 'audit-2026-11.csv', '--format', 'csv', '--map', map, '--json']));
    expect(again).toMatchObject({ alreadyImported: true, added: 3 });
    // The old column=field order, over two --map options, is the same map, with a warning per pair.
    const oldOrder = await run(['logs', 'import', 'audit-2026-11.csv', '--format', 'csv', '--map', 'event_time=ts,operator=user,op=action', '--map', 'record=patient_id,ip=client_ip,system=app', '--json']);
    expect(oldOrder.stderr.split('\n')).toEqual(['event_time=ts', 'operator=user', 'op=action'].map((p) => `cradle: warning: --map ${p} is the old column=field order; write --map ${p.split('=').reverse().join('=')}`).concat(''));
    expect(json<{ alreadyImported: boolean }>(oldOrder).alreadyImported).toBe(true);

    const wires = await run(['tripwires', '--since', '3650d']);
    expect(wires.stdout.split('\n')[0]).toMatch(/^ACCOUNT\s+SINGLE\s+BULK\s+CANARIES/);
    expect(wires.stdout).toMatch(/\nnurse42\s+1\s+0\s+1\s/);
    expect(wires.stdout).toMatch(/\nclerk03\s+0\s+1\s+1\s/);
    const one = await run(['tripwires', '--since', '3650d', '--account', 'nurse42']);
    expect(one.stdout).toMatch(new RegExp(`print\\s+single\\s+${canary.id}\\s+his\\s+10\\.0\\.0\\.42\\s+audit-2026-11\\.csv:3`));
    const data = json<{ accounts: { account: string; single: number }[] }>(await run(['tripwires', '--since', '3650d', '--json']));
    expect(data.accounts[0]).toMatchObject({ account: 'nurse42', single: 1 });
  });

  it('imports a log of NULs, line breaks and a 9 KB account: exit 0, a tripwire, and a rejects file of one line per reject', async () => {
    const key = canary.target_keys!.birth.birth_id;
    const long = 'x'.repeat(9_000);
    fs.writeFileSync(
      path.join(cwd, 'hostile.jsonl'),
      [
        `{"ts":"2026-11-06T10:00:00Z","user":"${long}","action":"view","record":"${key}"}`,
        '\u0000{"ts":"2026-11-06T10:00:01Z"}\r\u001b[2J',
        '{"ts":"2026-11-06T10:00:02Z","user":"a\\u0000b\\nc","action":"view","record":"x"}',
      ].join('\n') + '\n',
    );
    const res = await run(['logs', 'import', 'hostile.jsonl', '--format', 'jsonl']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    // The lone CR in the second line ends it (docs/access-logs.md#formats): the escape sequence is a third line.
    expect(res.stdout).toContain('hostile.jsonl: 4 lines read; 2 events added, 0 already in the vault, 2 rejected');
    expect(res.stdout).toContain('1 access(es) to canary records');
    const rejects = fs.readFileSync(path.join(cwd, 'hostile.jsonl.rejects.csv'), 'utf8');
    // eslint-disable-next-line no-control-regex -- control characters are what it looks for
    expect(rejects.replace(/\n/g, '')).not.toMatch(/[\x00-\x1f]/);
    expect(rejects.trim().split('\n')).toEqual([
      'line,reason,text',
      expect.stringMatching(/^2,"json: not valid JSON \(Unexpected token '\\x00'.*","\\x00\{""ts"":""2026-11-06T10:00:01Z""\}"$/),
      expect.stringMatching(/^3,"json: not valid JSON .*","\\x1b\[2J"$/),
    ]);
  });

  it('refuses a UTF-32 log with one line', async () => {
    fs.writeFileSync(path.join(cwd, 'utf32.jsonl'), Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), Buffer.from('{}\n', 'utf16le')]));
    const res = await run(['logs', 'import', 'utf32.jsonl', '--format', 'jsonl']);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe('cradle: utf32.jsonl: the log is UTF-32 (its byte-order mark says so); convert it to UTF-8, e.g. iconv -f UTF-32 -t UTF-8\n');
  });

  it('refuses bad usage and unreadable input with one line', async () => {
    const badFormat = await run(['logs', 'import', 'audit-2026-11.csv', '--format', 'xml']);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toMatch(/expected one of csv, jsonl, fhir, pgaudit/);
    const missing = await run(['logs', 'import', 'nope.csv', '--format', 'csv']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('cradle: cannot read nope.csv: no such file\n');
    const badMap = await run(['logs', 'import', 'audit-2026-11.csv', '--format', 'csv', '--map', 'when=event_time']);
    expect(badMap.code).toBe(2);
    expect(badMap.stderr).toMatch(/when/);
  });

  it("imports MariaDB's and MySQL 8's general query log (--format mysql-general): accounts from the threads, a warning for one connected before the file", async () => {
    const [a, b] = canaries.map((c) => String(c.target_keys!.birth.birth_id));
    for (const name of ['mariadb-general.log', 'mysql-general.log']) {
      fs.writeFileSync(path.join(cwd, name), fs.readFileSync(path.join(FIXTURES_DIR, 'access', name), 'utf8').replaceAll('48213', a).replaceAll('48214', b));
    }
    const mariadb = await run(['logs', 'import', 'mariadb-general.log', '--format', 'mysql-general']);
    expect(mariadb.code).toBe(0);
    // Lines read: to the last entry that is an event (the Quit lines after it are none).
    expect(mariadb.stdout).toContain('mariadb-general.log: 15 lines read; 5 events added, 0 already in the vault, 0 rejected\n4 access(es) to canary records');
    expect(mariadb.stderr).toBe(`cradle: warning: mariadb-general.log: 1 line(s), the first at line 14: account: the thread's Connect line is not in the file (it connected before the log starts); read as "unknown"\n`);
    // MySQL 8 writes the same session with UTC times to the microsecond: the same accesses, at other
    // instants but for the two written at whole seconds, which are the MariaDB log's events again.
    const mysql8 = json<{ lines: number; added: number; duplicates: number; rejected: number; warnings: { lines: number; firstLine: number }[] }>(await run(['logs', 'import', 'mysql-general.log', '--format', 'mysql-general', '--json']));
    expect(mysql8).toMatchObject({ lines: 15, added: 3, duplicates: 2, rejected: 0, warnings: [{ lines: 1, firstLine: 14 }] });
    const wires = json<{ lines: { account: string; canaryId: string; scope: string; file: string; line: number }[] }>(await run(['tripwires', '--since', '3650d', '--json']));
    const general = wires.lines.filter((w) => /general\.log$/.test(w.file)).map((w) => [path.basename(w.file), w.line, w.account, w.scope, w.canaryId === canaries[0].id ? 'a' : 'b']);
    const expected = (file: string) => [
      [file, 6, 'dr_wang', 'single', 'a'],
      [file, 8, 'nurse07', 'bulk', 'a'],
      [file, 8, 'nurse07', 'bulk', 'b'],
      [file, 12, 'nurse07', 'single', 'b'],
    ];
    expect(general.sort()).toEqual([...expected('mariadb-general.log'), ...expected('mysql-general.log')].sort());
  });
});
