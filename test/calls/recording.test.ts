import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Family } from '../../src/domain/index.js';
import { ingestCdr } from '../../src/ingest/index.js';
import { ingestRecordingFile, resolveCall } from '../../src/ingest/recording.js';
import { triagePending } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { scratchDir } from '../helpers/db.js';
import { createTrapVault, TRAP_NUMBERS, type TrapVault } from '../ingest/trap-vault.js';
import { CALLER, plantCallCanary, script } from './helpers.js';

// Call recordings: an Asterisk MixMonitor file stored with its sha256 and linked to its call; the
// user's speech-to-text command (a tiny shell script here) makes a transcript, a contact event of
// the call that triage reads as an SMS: the silent call's caller named the family, and it counts.

const localDate = (iso: string) => new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 10);

describe('call recordings and transcripts', () => {
  let v: TrapVault;
  let dir: string;
  let family: Family;
  let said: string;
  let sayIt: string;
  const wav = Buffer.concat([Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1'), crypto.randomBytes(64)]);

  beforeAll(async () => {
    v = await createTrapVault('pglite', 'calls');
    family = await plantCallCanary(v.db, TRAP_NUMBERS[0]);
    dir = scratchDir('calls');
    const [y, m, d] = localDate(family.baby.birthTime).split('-');
    said = `喂，请问是${family.mother.name.full}吗？宝宝${Number(y)}年${Number(m)}月${Number(d)}日出生的，我们是影楼的`;
    fs.writeFileSync(path.join(dir, 'said.txt'), said);
    // whisper-cli style: the audio file as an argument, the text on standard output.
    sayIt = script(dir, 'stt.sh', `test -s "$1" || exit 9\ncat "${path.join(dir, 'said.txt')}"`);
    fs.writeFileSync(path.join(dir, '1764000902.1.wav'), wav);
  });
  afterAll(async () => v?.close());

  it('stores a MixMonitor file with its sha256, transcribes it, and triage names the family from what was said', async () => {
    const call = await vault.recordContact(v.db, { source: 'cdr', providerId: '1764000902.1', kind: 'call', from: CALLER, to: TRAP_NUMBERS[0], occurredAt: new Date(Date.now() - 3_600_000), body: null, raw: Buffer.from('row') });
    const ref = await resolveCall(v.db, '1764000902.1');
    expect(ref.id).toBe(call.id);
    const stored = await ingestRecordingFile(v.db, path.join(dir, '1764000902.1.wav'), ref, { transcriber: { command: [sayIt, '{file}'] } });
    expect(stored).toMatchObject({ duplicate: false, sha256: crypto.createHash('sha256').update(wav).digest('hex'), size: wav.length, warnings: [] });
    expect(await vault.recordingAudio(v.db, stored.recordingId)).toEqual(wav);
    const [rec] = await vault.recordingsOfContact(v.db, call.id);
    expect(rec).toMatchObject({ source: 'asterisk', content_type: 'audio/wav', sha256: stored.sha256 });

    const transcript = await vault.getContact(v.db, stored.transcript!.contactId);
    expect(transcript).toMatchObject({ source: 'cdr', kind: 'call', from_address: CALLER, to_address: TRAP_NUMBERS[0], body: said });
    expect(transcript!.headers).toMatchObject({ 'x-cradle-call': call.id, 'x-cradle-transcript': 'command', 'x-cradle-recording': stored.recordingId, 'x-cradle-recording-sha256': stored.sha256 });

    await triagePending(v.db, { alertChannels: [] });
    const hits = await vault.listHits(v.db);
    const byEvent = new Map(hits.map((h) => [Number(h.event_id), h]));
    const codes = (id: number) => byEvent.get(id)!.reasons.map((r) => (r as { code?: string }).code);
    // The call itself said nothing the records show; its transcript names the mother and the birth date.
    expect(codes(call.id)).toEqual(['trap']);
    expect(codes(transcript!.id)).toEqual(expect.arrayContaining(['trap', 'names', 'birth-date']));
    expect(byEvent.get(transcript!.id)!.incident_id).toBe(byEvent.get(call.id)!.incident_id);

    // The same file again: nothing new, and the command is not run again.
    const again = await ingestRecordingFile(v.db, path.join(dir, '1764000902.1.wav'), ref, { transcriber: { command: ['/nonexistent/stt'] } });
    expect(again).toMatchObject({ duplicate: true, recordingId: stored.recordingId, transcript: { contactId: transcript!.id, duplicate: true }, warnings: [] });
  });

  it('a transcriber that fails, times out or says nothing is a warning; the recording is kept, no transcript', async () => {
    const call = await vault.recordContact(v.db, { source: 'cdr', providerId: '1764000999.7', kind: 'call', from: CALLER, to: TRAP_NUMBERS[0], occurredAt: new Date(Date.now() - 1_800_000), body: null, raw: Buffer.from('row2') });
    const ref = await resolveCall(v.db, String(call.id));
    const cases: [string[], RegExp][] = [
      [[script(dir, 'fail.sh', 'echo "model not found" >&2; echo partial; exit 3')], /transcriber fail\.sh exited with 3: model not found; no transcript stored/],
      [[script(dir, 'slow.sh', 'echo partial; exec sleep 30')], /transcriber slow\.sh took longer than 0 s; no transcript stored/],
      [[script(dir, 'mute.sh', 'echo "   "')], /transcriber mute\.sh wrote no text/],
      [['/nonexistent/whisper-cli', '-f', '{file}'], /transcriber whisper-cli could not be run: spawn \/nonexistent\/whisper-cli ENOENT/],
    ];
    const before = await vault.countContacts(v.db);
    for (const [i, [command, warning]] of cases.entries()) {
      const file = path.join(dir, `other${i}.wav`);
      fs.writeFileSync(file, Buffer.concat([wav, Buffer.from([i])]));
      const r = await ingestRecordingFile(v.db, file, ref, { transcriber: { command, timeoutMs: command[0].endsWith('slow.sh') ? 300 : undefined } });
      expect(r.transcript).toBeNull();
      expect(r.warnings).toHaveLength(1);
      expect(r.warnings[0]).toMatch(warning);
      expect(await vault.recordingAudio(v.db, r.recordingId)).toHaveLength(wav.length + 1);
    }
    expect(await vault.countContacts(v.db)).toBe(before);
  });

  it('cradle ingest cdr --recordings stores the file a row\'s userfield names; a name outside the folder is a warning', async () => {
    const monitor = path.join(dir, 'monitor');
    fs.mkdirSync(monitor);
    fs.writeFileSync(path.join(monitor, 'in-1764100000.9.wav'), wav);
    const row = (id: string, userfield: string) => `"","13700001111","13912345678","from-trunk","","SIP/trunk-1","SIP/201-2","Dial","SIP/201,30","2026-11-24 10:15:02","","2026-11-24 10:16:11",69,62,"ANSWERED","DOCUMENTATION","${id}","${userfield}"\n`;
    const csv = row('1764100000.9', 'in-1764100000.9.wav') + row('1764100001.1', '../said.wav') + row('1764100002.2', 'vip-customer') + row('1764100003.3', 'missing.wav');
    const r = await ingestCdr(v.db, Readable.from([csv]), { format: 'asterisk' }, { label: 'Master.csv', timeZone: 'Asia/Shanghai', region: 'CN', recordings: { dir: monitor } });
    expect(r).toMatchObject({ recorded: 4, recordings: 1, transcripts: 0 });
    expect(r.warnings).toEqual([`Master.csv:2: recording "../said.wav": no such file in ${monitor}`, `Master.csv:4: recording "missing.wav": no such file in ${monitor}`]);
    const call = await resolveCall(v.db, '1764100000.9');
    expect((await vault.recordingsOfContact(v.db, call.id)).map((x) => x.sha256)).toEqual([crypto.createHash('sha256').update(wav).digest('hex')]);
    fs.writeFileSync(path.join(dir, 'said.wav'), wav);
    const again = await ingestCdr(v.db, Readable.from([csv]), { format: 'asterisk' }, { label: 'Master.csv', timeZone: 'Asia/Shanghai', region: 'CN', recordings: { dir: monitor } });
    expect(again).toMatchObject({ duplicates: 4, recordings: 0 });
    expect(again.warnings[0]).toBe(`Master.csv:2: recording "../said.wav" is outside ${monitor}; not read`);
  });

  it('cradle ingest recording: JSON, and one-line errors for a missing call or file', async () => {
    await v.db.close();
    try {
      const cwd = dir;
      const run = (args: string[]) => cradleInProcess(['--vault', v.location.location, ...args], { cwd });
      fs.writeFileSync(path.join(dir, 'cli.wav'), Buffer.concat([wav, Buffer.from('cli')]));
      const ok = json<{ recordingId: number; sha256: string; duplicate: boolean; contactId: number; transcript: null }>(await run(['ingest', 'recording', 'cli.wav', '--call', '1764000902.1', '--json']));
      expect(ok).toMatchObject({ duplicate: false, transcript: null, sha256: crypto.createHash('sha256').update(Buffer.concat([wav, Buffer.from('cli')])).digest('hex') });
      const text = await run(['ingest', 'recording', 'cli.wav', '--call', '1764000902.1']);
      expect(text.stdout).toMatch(/^cli\.wav: \d+ bytes, sha256 [0-9a-f]{64}; already in the vault as recording \d+ of call \d+\n$/);
      const noCall = await run(['ingest', 'recording', 'cli.wav', '--call', 'nope']);
      expect([noCall.code, noCall.stderr]).toEqual([1, `cradle: --call "nope": no such call in the vault (give a contact id, or the call's uniqueid or CallSid)\n`]);
      const noFile = await run(['ingest', 'recording', 'gone.wav', '--call', '1764000902.1']);
      expect([noFile.code, noFile.stderr]).toEqual([1, 'cradle: gone.wav: cannot read the recording: no such file\n']);
    } finally {
      v.db = await (await import('../../src/db/index.js')).openDatabase(v.location.location, { role: 'vault' });
    }
  });
});
