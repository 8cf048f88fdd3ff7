import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { closeLingering, lingerEmbedded, openDatabase } from '../../src/db/index.js';
import { FIXTURES_DIR, PACKAGE_ROOT } from '../../src/lib/paths.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { scratchDir, SERVER_URL } from '../helpers/db.js';
import { mariadbUnreachable, MARIADB_URL, newMariadbDatabase } from '../helpers/mariadb.js';
import { describeWith, GAMMU_SMSD } from '../helpers/needs.js';
import { createTrapVault, TRAP_NUMBERS, type TrapVault } from './trap-vault.js';

// `cradle ingest sms` against a real gammu-smsd, started here on Gammu's dummy phone driver (a folder
// whose sms/1 files are the SIM's received messages): SMSD reads them, links the parts and writes its
// inbox (files backend, detail and unicode formats; SQL backend on the machine's PostgreSQL with
// Gammu's own schema), and Cradle imports what SMSD wrote.

// In the slow tier, without the integration tier's setup: its commands share the vault as they do there.
lingerEmbedded(true);
afterAll(() => closeLingering());

const ucs2 = (text: string) => Buffer.from(text, 'utf16le').swap16().toString('hex').toUpperCase();

/** A received message in the dummy phone: an SMS backup section, as the dummy driver reads it. */
function phoneSms(p: { sender: string; stamp: string; udh?: string; coding: 'Unicode' | 'Default'; text: string }): string {
  return [
    '[SMSBackup000]',
    'SMSC = "+8613800100500"',
    'PDU = Deliver',
    `DateTime = ${p.stamp}`,
    'State = UnRead',
    `Number = "${p.sender}"`,
    ...(p.udh ? [`UDH = ${p.udh}`] : []),
    `Text00 = ${ucs2(p.text)}`,
    `Coding = ${p.coding}`,
    'Folder = 1',
    `Length = ${[...p.text].length}`,
    'Class = -1',
    '',
  ].join('\n');
}

const PART1 = '李娜您好，我们是市妇幼保健院新生儿回访中心，';
const PART2 = '您的宝宝出生于十一月二十日，请回电领取疫苗补贴。';
const ENGLISH = 'Dear parent {baby photos} 50% off, only 99€ today';

/** The dummy phone's folder with the three messages, part 2 of the Chinese one stored first. */
function dummyPhone(dir: string): string {
  const phone = path.join(dir, 'phone');
  for (const f of ['1', '2', '3', '4', '5']) fs.mkdirSync(path.join(phone, 'sms', f), { recursive: true });
  fs.writeFileSync(path.join(phone, 'sms', '1', '1'), phoneSms({ sender: '+8613700002222', stamp: '20261207T101600', udh: '050003A70202', coding: 'Unicode', text: PART2 }));
  fs.writeFileSync(path.join(phone, 'sms', '1', '2'), phoneSms({ sender: '+8613700002222', stamp: '20261207T101559', udh: '050003A70201', coding: 'Unicode', text: PART1 }));
  fs.writeFileSync(path.join(phone, 'sms', '1', '3'), phoneSms({ sender: '+8613700003333', stamp: '20261207T101700', coding: 'Default', text: ENGLISH }));
  return phone;
}

const SMSD_COMMON = ['loopsleep = 1', 'commtimeout = 1', 'receivefrequency = 1', 'statusfrequency = 0', 'checksecurity = 0', 'checkbattery = 0', 'checksignal = 0', 'checknetwork = 0'];

/** Run gammu-smsd with `smsd` settings until `done()` holds (or 20 s), then stop it. */
async function runSmsd(dir: string, smsd: string[], done: () => Promise<boolean>): Promise<void> {
  const phone = dummyPhone(dir);
  const config = path.join(dir, 'smsdrc');
  fs.writeFileSync(config, ['[gammu]', `device = ${phone}/`, 'connection = none', 'model = dummy', '', '[smsd]', `logfile = ${dir}/smsd.log`, 'debuglevel = 1', ...SMSD_COMMON, ...smsd, ''].join('\n'));
  const child = spawn('gammu-smsd', ['--config', config], { env: { ...process.env, TZ: 'Asia/Shanghai' }, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const until = Date.now() + 20_000;
    // Done once SMSD has stored every message and emptied the phone's folder (it deletes each after storing it).
    const emptied = () => fs.readdirSync(path.join(phone, 'sms', '1')).length === 0;
    while (!(emptied() && (await done()))) {
      if (child.exitCode !== null) throw new Error(`gammu-smsd exited (${child.exitCode}): ${fs.readFileSync(path.join(dir, 'smsd.log'), 'utf8')}`);
      if (Date.now() > until) throw new Error(`gammu-smsd wrote nothing in 20 s: ${fs.readFileSync(path.join(dir, 'smsd.log'), 'utf8')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const mariadb = await mariadbUnreachable();

// The machine's PostgreSQL (CI: CRADLE_TEST_DATABASE_URL's server), for SMSD's native_pgsql backend.
const adminUrl = SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const postgres = await (async () => {
  const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.end();
    return null;
  } catch (err) {
    const why = `PostgreSQL unreachable at ${adminUrl}: ${(err as Error).message}`;
    process.stderr.write(`${why}: the gammu-smsd SQL test is skipped\n`);
    return why;
  }
})();

interface SmsResult {
  items: number;
  messages: number;
  recorded: number;
  duplicates: number;
  rejected: number;
  pending: number;
  contactIds: number[];
}

describeWith(GAMMU_SMSD)('cradle ingest sms from a real gammu-smsd (dummy phone)', () => {
  let v: TrapVault;
  let cwd: string;
  const run = (args: string[]) => cradleInProcess(['--vault', v.location.location, 'ingest', 'sms', '--time-zone', 'Asia/Shanghai', ...args], { cwd });
  const contact = async (id: number) => {
    const db = await openDatabase(v.location.location, { role: 'vault' });
    try {
      const { rows } = await db.query<{ from_address: string; to_address: string; body: string; occurred_at: Date; headers: Record<string, unknown>; raw: Uint8Array; source: string; provider_id: string }>(
        `SELECT source, provider_id, from_address, to_address, body, occurred_at, headers, raw FROM contact_events WHERE id = $1`,
        [id],
      );
      return rows[0];
    } finally {
      await db.close();
    }
  };

  beforeAll(async () => {
    v = await createTrapVault('pglite', 'gammu');
    // The canary holds its parents' trap numbers since before the messages (planted in 2026-W48).
    await v.db.query(
      `INSERT INTO trap_assignments (trap_number_id, canary_id, role, assigned_at)
       SELECT id, 'c1', CASE WHEN e164 = $1 THEN 'mother' ELSE 'father' END, '2026-11-23T00:00:00Z' FROM trap_numbers`,
      [TRAP_NUMBERS[0]],
    );
    // Triage reads the whole family: give the trap vault's canary its baby (born 20 November).
    const baby = { name: { family: '王', given: '李娜之女', full: '王李娜之女', latin: 'Wang Li Na Zhi Nv' }, sex: 'F', birthTime: '2026-11-20T01:30:00Z', weightGrams: 3300 };
    const parents = { mother: { name: { family: '李', given: '娜', full: '李娜', latin: 'Li Na' }, phone: TRAP_NUMBERS[0] }, father: { name: { family: '王', given: '伟', full: '王伟', latin: 'Wang Wei' }, phone: TRAP_NUMBERS[1] } };
    await v.db.query(`UPDATE canaries SET family = family || $1::jsonb WHERE id = 'c1'`, [JSON.stringify({ baby, ...parents })]);
    await v.db.close();
    cwd = scratchDir('gammu-cli');
  });
  afterAll(async () => {
    await v?.location.cleanup();
  });

  it.each(['detail', 'unicode'] as const)('imports the files backend (InboxFormat %s) once, parts joined, and triage hits the canary', async (format) => {
    const dir = scratchDir(`gammu-${format}`);
    const inbox = path.join(dir, 'inbox');
    fs.mkdirSync(inbox);
    const expected = format === 'detail' ? 2 : 3; // detail: all linked parts in one file
    await runSmsd(dir, ['service = files', `inboxpath = ${inbox}/`, `outboxpath = ${dir}/`, `sentsmspath = ${dir}/`, `errorsmspath = ${dir}/`, `inboxformat = ${format}`], async () => fs.readdirSync(inbox).length >= expected);
    // A file that is not what SMSD writes: rejected once, with a reason.
    fs.writeFileSync(path.join(inbox, 'IN20261207_101800_00_+8613700004444_00.txt'), '[SMSBackup000]\nNumber = "+8613700004444"\nCoding = Klingon\n');
    const old = new Date(Date.now() - 5000);
    for (const f of fs.readdirSync(inbox)) fs.utimesSync(path.join(inbox, f), old, old);
    const to = format === 'detail' ? TRAP_NUMBERS[0] : TRAP_NUMBERS[1];

    const first = await run(['--format', 'gammu-files', '--dir', inbox, '--to', to, '--json']);
    expect(first.code).toBe(0);
    const res = json<SmsResult>(first);
    expect(res).toMatchObject({ items: expected + 1, messages: 2, recorded: 2, duplicates: 0, rejected: 1, pending: 0 });
    expect(first.stderr).toBe('cradle: warning: rejected: IN20261207_101800_00_+8613700004444_00.txt: not a Gammu inbox file Cradle can read: Coding "Klingon" is not one Gammu writes\n');
    const [chinese, english] = await Promise.all(res.contactIds.map(contact));
    expect(chinese).toMatchObject({ source: 'gammu-files', from_address: '+8613700002222', to_address: to, body: PART1 + PART2 });
    expect(english).toMatchObject({ from_address: '+8613700003333', to_address: to, body: ENGLISH });
    if (format === 'detail') {
      // The SMS time as SMSD wrote it (Z: UTC); the evidence is the inbox file, byte for byte.
      expect(chinese.occurred_at.toISOString()).toBe('2026-12-07T10:15:59.000Z');
      expect(chinese.headers['x-gammu-udh']).toEqual(['050003A70201', '050003A70202']);
      const file = fs.readdirSync(inbox).find((f) => f.includes('+8613700002222'))!;
      expect(Buffer.from(chinese.raw).equals(fs.readFileSync(path.join(inbox, file)))).toBe(true);
    } else {
      // unicode: each part its own file, named with the SMS time without an offset (read in --time-zone).
      expect(chinese.occurred_at.toISOString()).toBe('2026-12-07T02:15:59.000Z');
      const raw = JSON.parse(Buffer.from(chinese.raw).toString('utf8')) as { files: { name: string; base64: string }[] };
      expect(raw.files.map((f) => f.name)).toEqual(['IN20261207_101559_00_+8613700002222_00.txt', 'IN20261207_101600_00_+8613700002222_01.txt']);
      expect(Buffer.from(raw.files[1].base64, 'base64').equals(fs.readFileSync(path.join(inbox, raw.files[1].name)))).toBe(true);
    }

    // Run again: nothing new, no warning repeated.
    const again = await run(['--format', 'gammu-files', '--dir', inbox, '--to', to]);
    expect(again.stdout).toBe(`gammu-files:${inbox}: 0 new files, 0 messages; 0 recorded, 0 already in the vault, 0 rejected\n`);
    expect(again.stderr).toBe('');

    const triage = json<{ hits: { canaryId: string; eventId: number; confidence: number }[] }>(await cradleInProcess(['--vault', v.location.location, 'triage', '--json'], { cwd }));
    const hits = triage.hits.filter((h) => res.contactIds.includes(h.eventId));
    expect(hits.map((h) => h.canaryId)).toEqual(['c1', 'c1']);
    // The Chinese message names the mother and the baby's birth date: a targeted hit; the English one is not.
    const [named, unnamed] = res.contactIds.map((id) => hits.find((h) => h.eventId === id)!);
    expect(named.confidence).toBeGreaterThan(0.9);
    expect(unnamed.confidence).toBeLessThan(named.confidence);
  }, 60_000);

  it('refuses what it cannot follow, with one line', async () => {
    const inbox = scratchDir('gammu-usage');
    const noTo = await run(['--format', 'gammu-files', '--dir', inbox]);
    expect(noTo.code).toBe(1);
    expect(noTo.stderr).toMatch(/--to <trap number> is needed/);
    const notTrap = await run(['--format', 'gammu-files', '--dir', inbox, '--to', '+8613700001111']);
    expect(notTrap.stderr).toMatch(/\+8613700001111 is not a trap number in the vault/);
    const noDir = await run(['--format', 'gammu-files', '--dir', path.join(inbox, 'nope'), '--to', TRAP_NUMBERS[0]]);
    expect(noDir.stderr).toMatch(/no such folder/);
    const badFormat = await run(['--format', 'smstools', '--dir', inbox, '--to', TRAP_NUMBERS[0]]);
    expect(badFormat.code).toBe(2);
  });

  (postgres === null ? it : it.skip)(`imports the SQL backend written by gammu-smsd (native_pgsql), waits for a missing part, rejects a bad row once${postgres ? ` (skipped: ${postgres})` : ''}`, async () => {
    const name = `cradle_gammu_${process.pid}_${Date.now() % 100000}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const smsdDb = new pg.Client({ connectionString: url.toString() });
    await smsdDb.connect();
    try {
      // Gammu's own schema; CREATE LANGUAGE plpgsql fails on a server that has it built in (9.0 and later).
      const schema = fs.readFileSync('/usr/share/doc/gammu-smsd/examples/pgsql.sql', 'utf8').replace(/^CREATE LANGUAGE plpgsql;$/m, '');
      await smsdDb.query(schema);
      const dir = scratchDir('gammu-sql');
      await runSmsd(
        dir,
        ['service = sql', 'driver = native_pgsql', `host = ${url.hostname}:${url.port || 5432}`, `user = ${decodeURIComponent(url.username) || 'postgres'}`, `password = ${decodeURIComponent(url.password) || 'none'}`, `database = ${name}`, 'phoneid = modem1'],
        async () => (await smsdDb.query<{ n: number }>(`SELECT count(*)::int AS n FROM inbox`)).rows[0].n >= 3,
      );
      const source = url.toString();
      const sql = (args: string[] = []) => run(['--format', 'gammu-sql', '--source', source, '--to', `modem1=${TRAP_NUMBERS[0]}`, '--json', ...args]);
      const first = await sql();
      expect(first.stderr).toBe('');
      const res = json<SmsResult>(first);
      expect(res).toMatchObject({ items: 3, messages: 2, recorded: 2, rejected: 0, pending: 0 });
      const chinese = await contact(res.contactIds[0]);
      expect(chinese).toMatchObject({ source: 'gammu-sql', body: PART1 + PART2, from_address: '+8613700002222', to_address: TRAP_NUMBERS[0] });
      // SMSD wrote the SMS time (10:15:59Z) in its local zone, Asia/Shanghai.
      expect(chinese.occurred_at.toISOString()).toBe('2026-12-07T10:15:59.000Z');
      const rows = JSON.parse(Buffer.from(chinese.raw).toString('utf8')) as { ID: number; UDH: string; RecipientID: string }[];
      expect(rows.map((r) => [r.ID, r.UDH, r.RecipientID])).toEqual([[1, '050003A70201', 'modem1'], [2, '050003A70202', 'modem1']]);

      // Rows as SMSD writes them: part 1 of 2 alone waits; a row with broken hex is rejected once.
      const insert = (udh: string, text: string, hex = ucs2(text)) =>
        smsdDb.query(`INSERT INTO inbox ("ReceivingDateTime", "Text", "SenderNumber", "Coding", "UDH", "SMSCNumber", "Class", "TextDecoded", "RecipientID") VALUES (date_trunc('second', now() AT TIME ZONE 'Asia/Shanghai'), $1, '+8613700005555', 'Unicode_No_Compression', $2, '+8613800100500', -1, $3, 'modem1')`, [hex, udh, text]);
      await insert('050003B20201', '王伟先生，');
      await insert('', 'broken', 'ZZZZ');
      const waiting = await sql();
      expect(json<SmsResult>(waiting)).toMatchObject({ items: 2, messages: 0, recorded: 0, rejected: 1, pending: 1 });
      expect(waiting.stderr).toBe(
        'cradle: warning: rejected: inbox ID 5: text is not hex (4 characters, not all hex digits)\n' +
          'cradle: warning: message from +8613700005555 (reference 178, 1 of 2 parts: 4) waits for part 2\n',
      );
      await insert('050003B20202', '您的快递到了。');
      const joined = await sql();
      expect(json<SmsResult>(joined)).toMatchObject({ items: 2, messages: 1, recorded: 1, rejected: 0, pending: 0 });
      expect(joined.stderr).toBe('');
      expect((await contact(json<SmsResult>(joined).contactIds[0])).body).toBe('王伟先生，您的快递到了。');
      expect(json<SmsResult>(await sql())).toMatchObject({ items: 0, recorded: 0 });
    } finally {
      await smsdDb.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  }, 60_000);

  (mariadb === null ? it : it.skip)(`imports the SQL backend written by gammu-smsd on MariaDB (native_mysql)${mariadb ? ` (skipped: MariaDB unreachable at ${MARIADB_URL})` : ''}`, async () => {
    const db = await newMariadbDatabase('gammu', fs.readFileSync('/usr/share/doc/gammu-smsd/examples/mysql.sql', 'utf8'));
    try {
      const url = new URL(db.location);
      const dir = scratchDir('gammu-mysql');
      const count = async () => {
        const c = await openDatabase(db.location, { role: 'SMSD database' });
        try {
          return (await c.query<{ n: number }>('SELECT count(*) AS n FROM inbox')).rows[0].n;
        } finally {
          await c.close();
        }
      };
      await runSmsd(dir, ['service = sql', 'driver = native_mysql', `host = ${url.hostname}:${url.port || 3306}`, `user = ${decodeURIComponent(url.username) || 'root'}`, `password = ${decodeURIComponent(url.password)}`, `database = ${db.name}`, 'phoneid = modem1'], async () => Number(await count()) >= 3);
      const args = ['--format', 'gammu-sql', '--source', db.location, '--to', `modem1=${TRAP_NUMBERS[1]}`, '--json'];
      const first = await run(args);
      expect(first.stderr).toBe('');
      const res = json<SmsResult>(first);
      expect(res).toMatchObject({ items: 3, messages: 2, recorded: 2, rejected: 0, pending: 0 });
      const chinese = await contact(res.contactIds[0]);
      expect(chinese).toMatchObject({ source: 'gammu-sql', body: PART1 + PART2, to_address: TRAP_NUMBERS[1] });
      expect(chinese.occurred_at.toISOString()).toBe('2026-12-07T10:15:59.000Z');
      expect(json<SmsResult>(await run(args))).toMatchObject({ items: 0, recorded: 0 });
    } finally {
      await db.cleanup();
    }
  }, 60_000);
});

// `cradle watch --sms gammu-files`: the real binary follows an inbox folder while it runs; a file
// SMSD writes (here the detail file a gammu-smsd wrote, from fixtures/gammu) is recorded and triaged.
describe('cradle watch following a Gammu inbox folder', () => {
  let v: TrapVault;
  beforeAll(async () => {
    v = await createTrapVault('pglite', 'gammuwatch');
    await v.db.close();
  });
  afterAll(async () => {
    await v?.location.cleanup();
  });

  it('records an inbox file written while it runs, once, and stops cleanly', async () => {
    const cwd = scratchDir('gammu-watch');
    const inbox = path.join(cwd, 'inbox');
    fs.mkdirSync(inbox);
    await closeLingering();
    const child = spawn(
      process.execPath,
      [path.join(PACKAGE_ROOT, 'bin', 'cradle'), '--vault', v.location.location, 'watch', '--port', '0', '--sms', 'gammu-files', '--sms-dir', inbox, '--sms-to', TRAP_NUMBERS[0], '--sms-every', '1', '--time-zone', 'Asia/Shanghai'],
      { cwd, env: { ...process.env, CRADLE_VAULT: '', CRADLE_CONFIG: '' } },
    );
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stdout += d));
    const exit = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    const until = async (what: () => boolean, label: string) => {
      const end = Date.now() + 20_000;
      while (!what()) {
        if (child.exitCode !== null || Date.now() > end) throw new Error(`cradle watch: ${label} did not come (exit ${child.exitCode}): ${stdout}${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await until(() => stdout.includes('listening on'), 'listening');
      fs.copyFileSync(path.join(FIXTURES_DIR, 'gammu', 'detail-multipart.txt'), path.join(inbox, 'IN20261207_101559_00_+8613700002222_00.txt'));
      await until(() => stderr.includes('cradle watch: sms: 1 new, 1 messages; 1 recorded'), 'the SMS');
      await new Promise((r) => setTimeout(r, 1500)); // another poll or two: nothing new to say
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exit).toBe(0);
    expect(stderr.match(/cradle watch: sms: \d+ new/g)).toEqual(['cradle watch: sms: 1 new']);
    const db = await openDatabase(v.location.location, { role: 'vault' });
    try {
      const { rows } = await db.query<{ body: string; source: string }>(`SELECT source, body FROM contact_events`);
      expect(rows).toEqual([{ source: 'gammu-files', body: '李娜您好，我们是医院回访中心，宝宝出生于十一月二十日，请回电。' }]);
    } finally {
      await db.close();
    }
  }, 60_000);

  it('reads a hostile inbox folder without a crash: rejections with reasons, the rest recorded', async () => {
    const cwd = scratchDir('gammu-hostile');
    const inbox = path.join(cwd, 'inbox');
    fs.mkdirSync(inbox);
    const put = (name: string, data: Buffer | string) => fs.writeFileSync(path.join(inbox, name), data);
    put('IN20261207_101000_00_+8613700001111_00.txt', Buffer.alloc(2 * 1024 * 1024, 0x41)); // far larger than SMSD writes
    put('IN20261207_101001_00_+8613700001111_00.txt', Buffer.from([0xfe, 0xff, 0x67])); // UTF-16 cut in half
    put('IN20261207_101002_00_+8613700001111_00.txt', '[SMSBackup000]\nNumber = "+8613700001111"\nUDH = 0900\nText00 = 0041\nCoding = Default\n'); // UDH cut short
    put('IN20261207_101003_00_+8613700001111_00.txt', Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x0a])); // standard format, not UTF-8: replacement characters
    put('IN00000000_101004_00_+8613700001111_00.txt', '[SMSBackup000]\nNumber = "+8613700001111"\nDateTime = 00000000T000000Z\nText00 = 0041\nCoding = Default\n'); // no time
    fs.mkdirSync(path.join(inbox, 'IN20261207_101005_00_+8613700001111_00.txt')); // a folder: not an inbox file
    put('notes.txt', 'not SMSD');
    const old = new Date(Date.now() - 5000);
    for (const f of fs.readdirSync(inbox)) fs.utimesSync(path.join(inbox, f), old, old);
    const res = await cradleInProcess(['--vault', v.location.location, 'ingest', 'sms', '--format', 'gammu-files', '--dir', inbox, '--to', TRAP_NUMBERS[0], '--time-zone', 'Asia/Shanghai', '--json'], { cwd });
    expect(res.code).toBe(0);
    expect(json<SmsResult>(res)).toMatchObject({ items: 5, messages: 2, recorded: 2, rejected: 3 });
    expect(res.stderr.split('\n').filter(Boolean)).toEqual([
      'cradle: warning: rejected: IN20261207_101000_00_+8613700001111_00.txt: 2097152 bytes: SMSD writes inbox files of a few KiB (a detail file of 255 parts is under 1024 KiB)',
      'cradle: warning: rejected: IN20261207_101002_00_+8613700001111_00.txt: not a Gammu inbox file Cradle can read: UDH length 9 but 1 bytes follow',
      'cradle: warning: rejected: IN20261207_101001_00_+8613700001111_00.txt: not a Gammu inbox file Cradle can read: UTF-16 text of 1 bytes (not a whole number of characters)',
      // Stored, escaped: the NUL of the file that is not UTF-8 (its raw bytes are the file's).
      'cradle: warning: IN20261207_101003_00_+8613700001111_00.txt: body: NUL shown as ␀ (or an unpaired surrogate as U+FFFD); the exact bytes are in raw',
    ]);
    const db = await openDatabase(v.location.location, { role: 'vault' });
    try {
      const { rows } = await db.query<{ body: string; headers: Record<string, unknown> }>(`SELECT body, headers FROM contact_events WHERE provider_id LIKE $1 ORDER BY id`, [`${TRAP_NUMBERS[0]}/IN%_+8613700001111_00.txt`]);
      expect(rows.map((r) => r.body)).toEqual(['\ufffd\u2400\ufffd(\n', 'A']);
      expect(rows[1].headers['x-gammu-time']).toMatch(/unreadable/);
    } finally {
      await db.close();
    }
  });

  it('follows a folder with ingest sms --follow until SIGTERM', async () => {
    const cwd = scratchDir('gammu-follow');
    const inbox = path.join(cwd, 'inbox');
    fs.mkdirSync(inbox);
    await closeLingering();
    const child = spawn(
      process.execPath,
      [path.join(PACKAGE_ROOT, 'bin', 'cradle'), '--vault', v.location.location, 'ingest', 'sms', '--format', 'gammu-files', '--dir', inbox, '--to', TRAP_NUMBERS[1], '--time-zone', 'Asia/Shanghai', '--follow', '--every', '1', '--json'],
      { cwd, env: { ...process.env, CRADLE_VAULT: '', CRADLE_CONFIG: '' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exit = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    const lines = () => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as SmsResult);
    const until = async (n: number) => {
      const end = Date.now() + 20_000;
      while (lines().length < n) {
        if (child.exitCode !== null || Date.now() > end) throw new Error(`ingest sms --follow: no line ${n} (exit ${child.exitCode}): ${stdout}${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await until(1); // the first poll always says what it found: nothing
      fs.copyFileSync(path.join(FIXTURES_DIR, 'gammu', 'detail-multipart.txt'), path.join(inbox, 'IN20261207_101559_00_+8613700002222_00.txt'));
      await until(2);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exit).toBe(0);
    expect(lines().map((l) => [l.items, l.recorded])).toEqual([[0, 0], [1, 1]]);
  }, 60_000);

  it('waits for a part SMSD is still writing before it joins unicode files', async () => {
    const cwd = scratchDir('gammu-young');
    const inbox = path.join(cwd, 'inbox');
    fs.mkdirSync(inbox);
    const unicode = (text: string) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(ucs2(text), 'hex')]);
    const first = path.join(inbox, 'IN20261207_101559_00_+8613700006666_00.txt');
    const second = path.join(inbox, 'IN20261207_101600_00_+8613700006666_01.txt');
    fs.writeFileSync(first, unicode(PART1));
    fs.writeFileSync(second, unicode(PART2));
    const old = new Date(Date.now() - 5000);
    fs.utimesSync(first, old, old); // part 1 settled
    // Part 2 still being written: stamped ahead, so it stays young however long the CLI takes to start on a loaded machine.
    const writing = new Date(Date.now() + 120_000);
    fs.utimesSync(second, writing, writing);
    const args = ['--vault', v.location.location, 'ingest', 'sms', '--format', 'gammu-files', '--dir', inbox, '--to', TRAP_NUMBERS[0], '--time-zone', 'Asia/Shanghai', '--json'];
    expect(json<SmsResult>(await cradleInProcess(args, { cwd }))).toMatchObject({ items: 0, messages: 0, recorded: 0 });
    fs.utimesSync(second, old, old);
    const res = json<SmsResult>(await cradleInProcess(args, { cwd }));
    expect(res).toMatchObject({ items: 2, messages: 1, recorded: 1 });
    const db = await openDatabase(v.location.location, { role: 'vault' });
    try {
      const { rows } = await db.query<{ body: string }>(`SELECT body FROM contact_events WHERE id = $1`, [res.contactIds[0]]);
      expect(rows[0].body).toBe(PART1 + PART2);
    } finally {
      await db.close();
    }
  });
});
