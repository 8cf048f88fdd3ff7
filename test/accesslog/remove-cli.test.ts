import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/db/index.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import * as vault from '../../src/vault/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { createTestHospital, WARDS, type TestHospital } from '../helpers/hospital.js';

// The story through the CLI (in-process): a hospital's own audit log imported with a wrong
// --map (its permission column taken for the action, so every ward-list line looks like a single-record
// open and queues an alert), taken back with `logs remove`, imported again with the right map: the
// tripwires, exposures and alerts are those of one correct import, and `verify` passes.

interface ImportJson {
  id: number;
  file: string;
  sha256: string;
  state: string;
  lines: number;
  added: number;
  duplicates: number;
  rejected: number;
  tripwires: number;
  removed: null | { by: string; reason: string; events: number; tripwires: number; exposures: number; alertsCancelled: number; alertsKept: number };
}

describe.each(BACKENDS)('cradle logs list / show / remove on %s', (backend) => {
  let h: TestHospital;
  let cwd: string;
  let canaries: vault.CanaryRow[];
  const run = (args: string[]) => cradleInProcess(['--vault', h.vaultLocation, ...args], { cwd });
  const WRONG = 'ts=操作时间,user=工号,action=权限,record=住院号,ip=终端IP';
  const RIGHT = 'ts=操作时间,user=工号,action=操作,record=住院号,ip=终端IP';

  /** The tripwires the vault holds, as `cradle tripwires` shows them. */
  const tripwires = async () => {
    const data = json<{ accounts: { account: string; single: number; bulk: number }[]; lines: { scope: string }[] }>(await run(['tripwires', '--since', '3650d', '--json']));
    return { lines: data.lines.length, single: data.lines.filter((w) => w.scope === 'single').length, accounts: data.accounts.map((x) => [x.account, x.single, x.bulk]).sort() };
  };

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 40, trapNumbers: 10 });
    const now = new Date('2026-11-02T00:00:00Z');
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 3, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W45', ...birthWindow(now), seed: 'logs-remove' });
    canaries = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    await h.vault.close();
    cwd = scratchDir('logs-remove-cli');
    fs.writeFileSync(
      path.join(cwd, 'cradle.config.json'),
      JSON.stringify({
        alerts: { webhooks: [{ name: 'soc', url: 'http://127.0.0.1:9/cradle' }] },
        hospitals: { h1: { displayName: '测试妇幼保健院', target: h.target.label, mapping: path.join(FIXTURES_DIR, 'mappings', 'reference.json'), wards: WARDS, districts: ['鼓楼区'], timeZone: 'Asia/Shanghai' } },
      }),
    );
    // The hospital's HIS audit export: its own column names, one line per patient a ward list shows,
    // the operation (VIEW, LIST, PRINT) and the permission it needed (READ for all of them).
    const [a, b, c] = canaries.map((x) => String(x.target_keys!.birth.birth_id));
    const line = (t: string, staff: string, name: string, op: string, mrn: string, ip: string) => `2026-11-03 ${t},${staff},${name},${op},READ,${mrn},${ip}`;
    fs.writeFileSync(
      path.join(cwd, 'HIS_AUDIT_20261103.csv'),
      [
        '操作时间,工号,姓名,操作,权限,住院号,终端IP',
        line('07:58:10', 'N0017', '王丽', 'VIEW', '880001', '10.8.1.17'),
        line('08:00:06', 'N0042', '李娜', 'VIEW', a, '10.8.1.42'),
        line('08:10:00', 'C0003', '张敏', 'LIST', a, '10.8.2.3'),
        line('08:10:00', 'C0003', '张敏', 'LIST', b, '10.8.2.3'),
        line('08:10:00', 'C0003', '张敏', 'LIST', '880002', '10.8.2.3'),
        line('08:10:00', 'C0003', '张敏', 'LIST', c, '10.8.2.3'),
        line('09:30:12', 'N0017', '王丽', 'PRINT', c, '10.8.1.17'),
        line('11:45:00', 'C0003', '张敏', 'LIST', b, '10.8.2.3'),
        line('11:45:00', 'C0003', '张敏', 'LIST', '880003', '10.8.2.3'),
        line('12:01:30', 'N0042', '李娜', 'VIEW', '880004', '10.8.1.42'),
      ].join('\r\n') + '\r\n',
    );
  });
  afterAll(async () => {
    if (!h) return;
    h.vault = await openDatabase(h.vaultLocation);
    await h.close();
  });

  it('takes a wrongly mapped import back and counts each event once after the corrected import', async () => {
    const file = 'HIS_AUDIT_20261103.csv';
    // The wrong map: READ is a single-record action, so every ward-list line on a canary is a tripwire with an alert.
    const wrong = json<{ importId: number; tripwires: number; alerts: number }>(await run(['logs', 'import', file, '--format', 'csv', '--map', WRONG, '--json']));
    expect(wrong).toMatchObject({ tripwires: 6, alerts: 6 });

    const listed = await run(['logs', 'list']);
    expect(listed.stdout).toMatch(/^ID\s+STATE\s+FILE\s+SHA256\s+FORMAT\s+WHEN\s+LINES\s+ADDED\s+DUPLICATES\s+REJECTED\s+TRIPWIRES\n/);
    expect(listed.stdout).toMatch(new RegExp(`\\n${wrong.importId}\\s+done\\s+HIS_AUDIT_20261103\\.csv\\s+[0-9a-f]{12}…\\s+csv\\s+\\S+ \\S+\\s+11\\s+10\\s+0\\s+0\\s+6\\n`));

    const removal = await run(['logs', 'remove', String(wrong.importId), '--reason', 'wrong --map: 权限 taken for the action']);
    expect(removal.stderr).toBe('');
    expect(removal.code).toBe(0);
    expect(removal.stdout).toContain(`removed import ${wrong.importId} (HIS_AUDIT_20261103.csv, sha256 `);
    expect(removal.stdout).toContain('10 event(s) in 1 block(s), 6 tripwire(s), 6 exposure(s), 0 rejected line(s), 3 account channel(s) with no exposure left');
    expect(removal.stdout).toContain('tripwire alerts: 6 not sent yet, cancelled; 0 already sent');
    expect(removal.stdout).toMatch(/recorded in the evidence ledger as entry #\d+ \(import \d+, by \S+: wrong --map: 权限 taken for the action\)/);
    expect(await tripwires()).toEqual({ lines: 0, single: 0, accounts: [] });

    const right = json<{ importId: number; added: number; duplicates: number; tripwires: number; alerts: number; alreadyImported: boolean }>(
      await run(['logs', 'import', file, '--format', 'csv', '--map', RIGHT, '--json']),
    );
    // One correct import: two single-record opens (a view, a print), four ward-list exposures.
    expect(right).toMatchObject({ alreadyImported: false, added: 10, duplicates: 0, tripwires: 6, alerts: 2 });
    expect(await tripwires()).toEqual({ lines: 6, single: 2, accounts: [['C0003', 0, 4], ['N0017', 1, 0], ['N0042', 1, 0]] });

    const verify = json<{ ok: boolean; evidence: { byKind: { import: number } } }>(await run(['verify', '--json']));
    expect(verify).toMatchObject({ ok: true, evidence: { byKind: { import: 2 } } });

    const list = json<{ count: number; imports: ImportJson[] }>(await run(['logs', 'list', '--json']));
    expect(list.count).toBe(2);
    expect(list.imports.map((i) => [i.id, i.state, i.lines, i.added, i.tripwires])).toEqual([
      [wrong.importId, 'removed', 11, 10, 6],
      [right.importId, 'done', 11, 10, 6],
    ]);
    expect(list.imports[0].removed).toMatchObject({ reason: 'wrong --map: 权限 taken for the action', events: 10, tripwires: 6, exposures: 6, alertsCancelled: 6, alertsKept: 0 });
    expect(list.imports[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(list.imports[1].sha256).toBe(list.imports[0].sha256);

    // Named by its file alone: the one import of it not removed.
    const shown = json<{ id: number; options: { map: Record<string, string> }; stored: Record<string, number>; alerts: Record<string, number>; ledger: { seq: number }[] }>(
      await run(['logs', 'show', file, '--json']),
    );
    expect(shown).toMatchObject({ id: right.importId, options: { map: { action: '操作', record: '住院号' } }, stored: { events: 10, single: 2, bulk: 4, exposures: 6 }, alerts: { pending: 2 } });
    expect(shown.ledger).toHaveLength(1);
    const removedShown = await run(['logs', 'show', String(wrong.importId)]);
    expect(removedShown.stdout).toContain(`import ${wrong.importId} of HIS_AUDIT_20261103.csv (h1): removed`);
    expect(removedShown.stdout).toMatch(/\n {2}removed {3}\S+ \S+ by \S+: wrong --map: 权限 taken for the action; it took 10 event\(s\), 6 tripwire\(s\), 6 exposure\(s\); 6 alert\(s\) cancelled\n/);
    expect(removedShown.stdout).toMatch(/\n {2}ledger {4}#\d+ \(.*\), #\d+ \(.*\)\n/);
  });

  it('refuses bad usage with one line', async () => {
    const noReason = await run(['logs', 'remove', '1']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);
    const unknown = await run(['logs', 'remove', '999', '--reason', 'x']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('cradle: no access-log import 999 in the vault; `cradle logs list` shows their ids\n');
    const again = await run(['logs', 'remove', '1', '--reason', 'x']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^cradle: import 1 \(HIS_AUDIT_20261103\.csv\) was removed already, at \S+ by \S+: wrong --map: 权限 taken for the action\n$/);
    expect((await run(['logs', 'show', 'other.csv'])).stderr).toBe('cradle: no access-log import of a file "other.csv" in the vault (removed ones aside); `cradle logs list` shows the imports and their ids\n');
  });
});
