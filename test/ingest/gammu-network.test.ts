import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/db/index.js';
import { triagePending } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { scratchDir } from '../helpers/db.js';
import { createTrapVault, TRAP_NUMBERS, type TrapVault } from './trap-vault.js';

// A trap SIM in a modem hears from its network as well as from people: the USSD reply to its own
// balance check and, when SMSD keeps them as messages, delivery reports. They are stored as evidence
// like any inbox file, and triage passes them by, so that the hospital's SIM upkeep raises no alert;
// an SMS that arrives with them is a hit as before. The inbox is written here as SMSD writes it
// (smsd/services/files.c: an empty sender in the name; a detail file's PDU and Class).

const ucs2 = (text: string) => Buffer.from(text, 'utf16le').swap16().toString('hex').toUpperCase();
const unicodeFile = (text: string) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(ucs2(text), 'hex')]);
const detailFile = (p: { pdu: string; number: string; cls: number; text: string }) =>
  ['[SMSBackup000]', 'SMSC = "+8613800100500"', `PDU = ${p.pdu}`, 'DateTime = 20261207T101900', `Number = "${p.number}"`, `Text00 = ${ucs2(p.text)}`, 'Coding = Unicode', 'Folder = 1', `Class = ${p.cls}`, ''].join('\n');

describe('network messages in a Gammu inbox', () => {
  let v: TrapVault;
  let cwd: string;

  beforeAll(async () => {
    v = await createTrapVault('pglite', 'gammu-network');
    await v.db.query(`INSERT INTO trap_assignments (trap_number_id, canary_id, role, assigned_at) SELECT id, 'c1', 'mother', '2026-11-23T00:00:00Z' FROM trap_numbers WHERE e164 = $1`, [TRAP_NUMBERS[0]]);
    const baby = { name: { family: '王', given: '小雨', full: '王小雨', latin: 'Wang Xiao Yu' }, sex: 'F', birthTime: '2026-11-20T01:30:00Z', weightGrams: 3300 };
    const parents = { mother: { name: { family: '李', given: '娜', full: '李娜', latin: 'Li Na' }, phone: TRAP_NUMBERS[0] }, father: { name: { family: '王', given: '伟', full: '王伟', latin: 'Wang Wei' }, phone: TRAP_NUMBERS[1] } };
    await v.db.query(`UPDATE canaries SET family = family || $1::jsonb WHERE id = 'c1'`, [JSON.stringify({ baby, ...parents })]);
    await v.db.close();
    cwd = scratchDir('gammu-network');
  });
  afterAll(async () => {
    await v?.location.cleanup();
  });

  it('stores a USSD reply and a delivery report as evidence that triage passes by, and hits on the SMS beside them', async () => {
    const inbox = path.join(cwd, 'inbox');
    fs.mkdirSync(inbox);
    fs.writeFileSync(path.join(inbox, 'IN20261207_101800_00__00.txt'), unicodeFile('尊敬的客户，您的余额为12.50元。'));
    fs.writeFileSync(path.join(inbox, 'IN20261207_101900_00_+8613700009999_00.txt'), detailFile({ pdu: 'Status_Report', number: '+8613700009999', cls: -1, text: 'Delivered' }));
    fs.writeFileSync(path.join(inbox, 'IN20261207_102000_00_+8613700002222_00.txt'), unicodeFile('李娜您好，宝宝的满月照今天五折'));
    // The carrier's monthly bill: a person's SMS as SMSD sees it, kept as a hit that alerts nobody.
    fs.writeFileSync(path.join(inbox, 'IN20261207_102100_00_10086_00.txt'), unicodeFile('【中国移动】尊敬的客户，您12月的账单已生成。'));
    const old = new Date(Date.now() - 5000);
    for (const f of fs.readdirSync(inbox)) fs.utimesSync(path.join(inbox, f), old, old);

    const res = await cradleInProcess(['--vault', v.location.location, 'ingest', 'sms', '--format', 'gammu-files', '--dir', inbox, '--to', TRAP_NUMBERS[0], '--time-zone', 'Asia/Shanghai', '--json'], { cwd });
    expect(res.code).toBe(0);
    const ingested = json<{ recorded: number; rejected: number; contactIds: number[] }>(res);
    expect(ingested).toMatchObject({ recorded: 4, rejected: 0 });

    const db = await openDatabase(v.location.location, { role: 'vault' });
    let stored: { id: number; kind: string; from_address: string | null; network: string | null }[];
    try {
      ({ rows: stored } = await db.query(`SELECT id, kind, from_address, headers->>'x-gammu-network' AS network FROM contact_events WHERE id = ANY($1::bigint[]) ORDER BY occurred_at`, [ingested.contactIds]));
    } finally {
      await db.close();
    }
    expect(stored.map((c) => [c.kind, c.from_address, c.network])).toEqual([
      ['other', null, 'ussd'],
      ['other', '+8613700009999', 'status-report'],
      ['sms', '+8613700002222', null],
      ['sms', '10086', null],
    ]);

    const triage = json<{ hits: { eventId: number; canaryId: string; confidence: number; incidentId: string | null }[]; ignored: { eventId: number; reason: string }[] }>(await cradleInProcess(['--vault', v.location.location, 'triage', '--json'], { cwd }));
    expect(triage.hits.map((h) => [h.eventId, h.canaryId, h.incidentId === null])).toEqual([[stored[2].id, 'c1', false], [stored[3].id, 'c1', true]]);
    expect(triage.hits[1].confidence).toBe(0);
    expect(triage.ignored).toEqual([
      { eventId: stored[0].id, reason: 'from the mobile network (a USSD reply), not from a person' },
      { eventId: stored[1].id, reason: 'from the mobile network (a delivery report), not from a person' },
    ]);
  }, 60_000);

  it('counts no bill, test text or USSD reply a trap got in burn-in as chance traffic against its later hits', async () => {
    // The father's trap: in the pool from 1 November, held by the canary from 15 November.
    const db = await openDatabase(v.location.location, { role: 'vault' });
    try {
      await db.query(`UPDATE trap_numbers SET added_at = '2026-11-01T00:00:00Z' WHERE e164 = $1`, [TRAP_NUMBERS[1]]);
      await db.query(`INSERT INTO trap_assignments (trap_number_id, canary_id, role, assigned_at) SELECT id, 'c1', 'father', '2026-11-15T00:00:00Z' FROM trap_numbers WHERE e164 = $1`, [TRAP_NUMBERS[1]]);
      const contact = (id: string, from: string | null, day: number, extra: Partial<vault.NewContact> = {}) =>
        vault.recordContact(db, { source: 'test', providerId: id, kind: 'sms', from, to: TRAP_NUMBERS[1], occurredAt: new Date(Date.UTC(2026, 10, day, 3)), body: 'x', headers: {}, raw: Buffer.from(id), ...extra });
      await contact('bill', '10086', 2);
      await contact('staff-test', '+8613900000001', 3);
      await contact('ussd', null, 4, { source: 'gammu-files', kind: 'other', headers: { 'x-gammu-network': 'ussd' } });
      // A mark the generic webhook could carry from anyone is not Cradle's: that contact counts.
      await contact('forged-mark', '+8613700005555', 5, { headers: { 'x-gammu-network': 'ussd' } });
      await triagePending(db, { knownSenders: ['+8613900000001'] });
      const call = await contact('scam', '+8613700006666', 30, { kind: 'call', body: null });
      const res = await triagePending(db, { knownSenders: ['+8613900000001'] });
      const hit = res.hits.find((h) => h.eventId === call.id)!;
      const { rows } = await db.query<{ reasons: { code: string; label: string }[] }>(`SELECT reasons FROM hits WHERE id = $1`, [hit.hitId]);
      expect(rows[0].reasons.filter((r) => r.code === 'background').map((r) => r.label)).toEqual(['number got 1 background contact']);
    } finally {
      await db.close();
    }
  }, 60_000);
});
