import crypto from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import twilio from 'twilio';
import { genericSignature, safeEqual, telnyxPublicKey, twilioSignature, twilioUrlVariants, verifyGeneric, verifyTelnyx, verifyTwilio } from '../../src/watch/signatures.js';

// The signature checks against independent signers: the official twilio package, Node's Ed25519.

const TOKEN = '12345678901234567890123456789012';
const URL_ = 'https://traps.example.org/webhooks/twilio/sms?hospital=gulou';
const PARAMS: [string, string][] = [
  ['ToCountry', 'CN'],
  ['Body', '您好，请问是王丽华的宝宝吗？ 满月照 50% off & more'],
  ['From', '+8613900001111'],
  ['To', '+8613800002222'],
  ['MessageSid', 'SM0123456789abcdef0123456789abcdef'],
  ['AccountSid', 'AC0123456789abcdef0123456789abcdef'],
  ['NumMedia', '0'],
  ['SmsStatus', 'received'],
];

describe('Twilio signatures', () => {
  it('match what the official twilio package computes, and what its validator accepts', () => {
    const ours = twilioSignature(TOKEN, URL_, PARAMS);
    expect(ours).toBe(twilio.getExpectedTwilioSignature(TOKEN, URL_, Object.fromEntries(PARAMS)));
    expect(twilio.validateRequest(TOKEN, ours, URL_, Object.fromEntries(PARAMS))).toBe(true);
    // And the other way round: a signature the package made passes our check.
    const theirs = twilio.getExpectedTwilioSignature(TOKEN, URL_, Object.fromEntries(PARAMS));
    expect(verifyTwilio(TOKEN, theirs, URL_, PARAMS)).toEqual({ ok: true });
  });

  it('does not depend on the order the parameters arrive in', () => {
    expect(twilioSignature(TOKEN, URL_, [...PARAMS].reverse())).toBe(twilioSignature(TOKEN, URL_, PARAMS));
  });

  it('fails for another token, URL, parameter value, or a missing header', () => {
    const sig = twilioSignature(TOKEN, URL_, PARAMS);
    expect(verifyTwilio('x' + TOKEN.slice(1), sig, URL_, PARAMS)).toMatchObject({ ok: false });
    expect(verifyTwilio(TOKEN, sig, URL_.replace('gulou', 'other'), PARAMS)).toMatchObject({ ok: false });
    expect(verifyTwilio(TOKEN, sig, 'http://127.0.0.1:8787/webhooks/twilio/sms?hospital=gulou', PARAMS)).toMatchObject({ ok: false });
    const changed = PARAMS.map(([n, v]): [string, string] => [n, n === 'Body' ? v + '!' : v]);
    expect(verifyTwilio(TOKEN, sig, URL_, changed)).toMatchObject({ ok: false, reason: 'X-Twilio-Signature does not match' });
    expect(verifyTwilio(TOKEN, undefined, URL_, PARAMS)).toEqual({ ok: false, reason: 'missing X-Twilio-Signature' });
    expect(verifyTwilio(TOKEN, 'short', URL_, PARAMS)).toMatchObject({ ok: false });
  });

  it('accepts the URL with or without the default port, as the official validator does', () => {
    expect(twilioUrlVariants('https://t.example.org/a?b=1')).toEqual(['https://t.example.org/a?b=1', 'https://t.example.org:443/a?b=1']);
    expect(twilioUrlVariants('https://t.example.org:443/a')).toEqual(['https://t.example.org:443/a', 'https://t.example.org/a']);
    expect(twilioUrlVariants('http://t.example.org:8080/a')).toEqual(['http://t.example.org:8080/a']);
    const withPort = twilio.getExpectedTwilioSignature(TOKEN, 'https://traps.example.org:443/webhooks/twilio/sms?hospital=gulou', Object.fromEntries(PARAMS));
    expect(verifyTwilio(TOKEN, withPort, URL_, PARAMS)).toEqual({ ok: true });
  });
});

describe('Telnyx signatures', () => {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  // Telnyx gives its public key as base64 of the raw 32 bytes: the end of the SPKI encoding.
  const rawKey = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
  const key = telnyxPublicKey(rawKey);
  const body = Buffer.from(JSON.stringify({ data: { id: 'evt-1', event_type: 'message.received' } }));
  const now = new Date('2026-11-28T12:00:00Z');
  const ts = String(Math.floor(now.getTime() / 1000));
  const sign = (t: string, b: Buffer) => crypto.sign(null, Buffer.concat([Buffer.from(`${t}|`), b]), privateKey).toString('base64');

  it('verifies Ed25519 over "timestamp|body" with the raw base64 public key', () => {
    expect(verifyTelnyx(key, sign(ts, body), ts, body, now)).toEqual({ ok: true });
  });

  it('rejects another body, another key, a stale or future timestamp, and missing headers', () => {
    expect(verifyTelnyx(key, sign(ts, body), ts, Buffer.concat([body, Buffer.from(' ')]), now)).toMatchObject({ ok: false });
    const other = crypto.generateKeyPairSync('ed25519');
    const otherSig = crypto.sign(null, Buffer.concat([Buffer.from(`${ts}|`), body]), other.privateKey).toString('base64');
    expect(verifyTelnyx(key, otherSig, ts, body, now)).toMatchObject({ ok: false, reason: 'telnyx-signature-ed25519 does not match' });
    const stale = String(Number(ts) - 301);
    expect(verifyTelnyx(key, sign(stale, body), stale, body, now)).toMatchObject({ ok: false, reason: expect.stringMatching(/5-minute window/) });
    const future = String(Number(ts) + 301);
    expect(verifyTelnyx(key, sign(future, body), future, body, now)).toMatchObject({ ok: false });
    const edge = String(Number(ts) - 299);
    expect(verifyTelnyx(key, sign(edge, body), edge, body, now)).toEqual({ ok: true });
    expect(verifyTelnyx(key, undefined, ts, body, now)).toMatchObject({ ok: false, reason: 'missing telnyx-signature-ed25519' });
    expect(verifyTelnyx(key, sign(ts, body), undefined, body, now)).toMatchObject({ ok: false, reason: 'missing telnyx-timestamp' });
    expect(verifyTelnyx(key, 'bm90IGEgc2lnbmF0dXJl', ts, body, now)).toMatchObject({ ok: false });
  });

  it('refuses a public key that is not 32 base64 bytes', () => {
    expect(() => telnyxPublicKey('dG9vIHNob3J0')).toThrow(/32-byte/);
    expect(() => telnyxPublicKey('not base64 at all!!')).toThrow(/32-byte/);
  });
});

describe('generic HMAC signatures', () => {
  const secret = 'generic-shared-secret';
  const body = Buffer.from('{"id":"e1","kind":"visit","from":null,"to":"+8613800002222"}');
  const now = new Date('2026-11-28T12:00:00Z');
  const ts = String(Math.floor(now.getTime() / 1000));

  it('is hex HMAC-SHA256 of "timestamp.body"', () => {
    const expected = crypto.createHmac('sha256', secret).update(`${ts}.${body.toString()}`).digest('hex');
    expect(genericSignature(secret, ts, body)).toBe(expected);
    expect(verifyGeneric(secret, expected, ts, body, now)).toEqual({ ok: true });
    expect(verifyGeneric(secret, expected.toUpperCase(), ts, body, now)).toEqual({ ok: true });
  });

  it('rejects another secret, body or timestamp, a replay outside the window, and missing headers', () => {
    const sig = genericSignature(secret, ts, body);
    expect(verifyGeneric('other', sig, ts, body, now)).toMatchObject({ ok: false });
    expect(verifyGeneric(secret, sig, ts, Buffer.from(body.toString() + ' '), now)).toMatchObject({ ok: false });
    expect(verifyGeneric(secret, sig, String(Number(ts) + 1), body, now)).toMatchObject({ ok: false });
    const old = String(Number(ts) - 600);
    expect(verifyGeneric(secret, genericSignature(secret, old, body), old, body, now)).toMatchObject({ ok: false, reason: expect.stringMatching(/window/) });
    expect(verifyGeneric(secret, sig, 'yesterday', body, now)).toMatchObject({ ok: false, reason: 'X-Cradle-Timestamp is not unix seconds' });
    expect(verifyGeneric(secret, undefined, ts, body, now)).toMatchObject({ ok: false, reason: 'missing X-Cradle-Signature' });
  });

  it('compares in constant time without throwing on unequal lengths', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('é', 'e')).toBe(false);
  });
});
