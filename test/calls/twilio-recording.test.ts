import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import twilio from 'twilio';
import type { Family } from '../../src/domain/index.js';
import { recordingTranscriber } from '../../src/ingest/transcribe.js';
import { triagePending } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { startWatch, type WatchHandle } from '../../src/watch/server.js';
import { scratchDir } from '../helpers/db.js';
import { createTrapVault, TRAP_NUMBERS, type TrapVault } from '../ingest/trap-vault.js';
import { CALLER, plantCallCanary, script } from './helpers.js';

// Twilio recordings through the real watch server: the RecordingStatusCallback (signed as Twilio
// signs) is stored and answered, the audio fetched from RecordingUrl on a local HTTP server standing
// for api.twilio.com (HTTP basic with the AccountSid and auth token), transcribed by the user's
// command; a transcribeCallback's TranscriptionText is a contact of the call too.

const TOKEN = 'twilio-auth-token-for-tests-0002';
const ACCOUNT = 'AC0123456789abcdef0123456789abcdef';
const PUBLIC = 'https://traps.example.org';
const form = (params: Record<string, string>) => new URLSearchParams(params).toString();

describe('Twilio recordings', () => {
  let v: TrapVault;
  let watch: WatchHandle;
  let media: http.Server;
  let mediaUrl: string;
  let family: Family;
  const served: { auth: string | undefined; path: string }[] = [];
  const audio = crypto.randomBytes(2048);
  const logs: string[] = [];

  beforeAll(async () => {
    v = await createTrapVault('pglite', 'twrec');
    family = await plantCallCanary(v.db, TRAP_NUMBERS[0], 'c-tw');
    media = http.createServer((req, res) => {
      served.push({ auth: req.headers.authorization, path: req.url ?? '' });
      if (req.headers.authorization !== `Basic ${Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64')}`) return void res.writeHead(401).end();
      if (req.url?.endsWith('/REgone')) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'audio/x-wav' }).end(audio);
    });
    await new Promise<void>((r) => media.listen(0, '127.0.0.1', r));
    mediaUrl = `http://127.0.0.1:${(media.address() as AddressInfo).port}`;
    const dir = scratchDir('twrec');
    const stt = script(dir, 'stt.sh', `test -s "$1" || exit 9\nprintf '%s' '您好，${family.mother.name.full}女士，宝宝的百日照我们免费拍'`);
    watch = await startWatch(v.db, {
      port: 0, publicUrl: PUBLIC, secrets: { twilioAuthToken: TOKEN }, log: (l) => logs.push(l),
      recordings: { origins: [mediaUrl], transcribe: recordingTranscriber({ command: [stt, '{file}'] }) },
    });
  });
  afterAll(async () => {
    await watch?.close();
    await new Promise((r) => media?.close(r));
    await v?.close();
  });

  const post = (params: Record<string, string>, signature?: string) =>
    fetch(`${watch.url}/webhooks/twilio/recording`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature ?? twilio.getExpectedTwilioSignature(TOKEN, `${PUBLIC}/webhooks/twilio/recording`, params) },
      body: form(params),
    });
  /** The background fetch and transcription are done when the recording has its audio and the transcript is in. */
  const settled = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 500 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
  };

  it('stores the recording of a call the voice webhook saw, fetches its audio with the account credentials, and its transcript names the family', async () => {
    const call = await vault.recordContact(v.db, { source: 'twilio-voice', providerId: 'CA1', kind: 'call', from: CALLER, to: TRAP_NUMBERS[0], occurredAt: new Date(Date.now() - 60_000), body: null, raw: Buffer.from('CallSid=CA1') });
    const params = { AccountSid: ACCOUNT, CallSid: 'CA1', RecordingSid: 'RE1', RecordingUrl: `${mediaUrl}/2010-04-01/Accounts/${ACCOUNT}/Recordings/RE1`, RecordingStatus: 'completed', RecordingDuration: '14', RecordingChannels: '1', RecordingSource: 'RecordVerb' };
    const bad = await post(params, 'not-the-signature');
    expect(bad.status).toBe(403);
    expect(await vault.recordingsOfContact(v.db, call.id)).toEqual([]);

    const res = await post(params);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/<Response\/>$/);
    await settled(async () => (await vault.countContacts(v.db)) === 2);
    const [rec] = await vault.recordingsOfContact(v.db, call.id);
    expect(rec).toMatchObject({ source: 'twilio', provider_id: 'RE1', duration_seconds: 14, content_type: 'audio/x-wav', sha256: crypto.createHash('sha256').update(audio).digest('hex'), fetch_error: null });
    expect(await vault.recordingAudio(v.db, rec.id)).toEqual(audio);
    expect(served.at(-1)!.path).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Recordings/RE1`);

    // A retry of the callback stores nothing new and fetches nothing.
    const fetches = served.length;
    expect((await post(params)).status).toBe(200);
    expect(await vault.recordingsOfContact(v.db, call.id)).toHaveLength(1);
    expect(served).toHaveLength(fetches);

    await triagePending(v.db, { alertChannels: [] });
    const hits = await vault.listHits(v.db);
    const transcript = hits.find((h) => Number(h.event_id) !== call.id)!;
    expect(transcript.reasons.map((r) => (r as { code?: string }).code)).toContain('names');
    expect((await vault.getContact(v.db, Number(transcript.event_id)))!.headers).toMatchObject({ 'x-cradle-call': call.id, 'x-cradle-transcript': 'command', 'x-cradle-recording': rec.id });
  });

  it("records a <Record> action's call from the callback when the voice webhook did not; the provider's transcription is a contact of the call", async () => {
    const params = { AccountSid: ACCOUNT, CallSid: 'CA2', From: CALLER, To: TRAP_NUMBERS[0], CallStatus: 'completed', RecordingSid: 'RE2', RecordingUrl: `${mediaUrl}/2010-04-01/Accounts/${ACCOUNT}/Recordings/REgone`, RecordingDuration: '3', Digits: 'hangup' };
    expect((await post(params)).status).toBe(200);
    const call = await vault.findCall(v.db, { source: 'twilio-voice', providerId: 'CA2' });
    expect(call).toMatchObject({ kind: 'call', from_address: CALLER, to_address: TRAP_NUMBERS[0] });
    await settled(async () => (await vault.recordingsOfContact(v.db, call!.id))[0]?.fetch_error !== null);
    expect((await vault.recordingsOfContact(v.db, call!.id))[0]).toMatchObject({ sha256: null, fetch_error: 'gave up: HTTP 404 from ' + mediaUrl });
    expect(logs.some((l) => l.includes('could not fetch its audio: HTTP 404'))).toBe(true);

    const transcribed = { AccountSid: ACCOUNT, CallSid: 'CA2', From: CALLER, To: TRAP_NUMBERS[0], RecordingSid: 'RE2', RecordingUrl: params.RecordingUrl, TranscriptionSid: 'TR2', TranscriptionStatus: 'completed', TranscriptionText: `${family.mother.name.full}在吗`, TranscriptionUrl: 'x' };
    expect((await post(transcribed)).status).toBe(200);
    const t = await vault.findCall(v.db, { source: 'twilio-voice', providerId: 'CA2:transcription:TR2' });
    expect(t).not.toBeNull();
    expect((await vault.getContact(v.db, t!.id))).toMatchObject({ body: transcribed.TranscriptionText, from_address: CALLER, headers: expect.objectContaining({ 'x-cradle-call': call!.id, 'x-cradle-transcript': 'provider' }) });
  });

  it('refuses a callback without CallSid (400), and one for an unknown call without To (422); never fetches from another origin', async () => {
    expect((await post({ RecordingSid: 'RE3' })).status).toBe(400);
    expect((await post({ CallSid: 'CA-unknown', RecordingSid: 'RE4', RecordingUrl: `${mediaUrl}/x` })).status).toBe(422);
    await vault.recordContact(v.db, { source: 'twilio-voice', providerId: 'CA5', kind: 'call', from: CALLER, to: TRAP_NUMBERS[0], occurredAt: new Date(), body: null, raw: Buffer.from('CallSid=CA5') });
    const fetches = served.length;
    expect((await post({ AccountSid: ACCOUNT, CallSid: 'CA5', RecordingSid: 'RE5', RecordingUrl: 'http://169.254.169.254/latest/meta-data' })).status).toBe(200);
    const call = await vault.findCall(v.db, { source: 'twilio-voice', providerId: 'CA5' });
    await settled(async () => (await vault.recordingsOfContact(v.db, call!.id))[0]?.fetch_error !== null);
    expect((await vault.recordingsOfContact(v.db, call!.id))[0].fetch_error).toMatch(/^gave up: RecordingUrl's origin http:\/\/169\.254\.169\.254 is not among watch\.recordingOrigins/);
    expect(served).toHaveLength(fetches);
    expect(logs.join('\n')).not.toContain(TOKEN);
  });
});
