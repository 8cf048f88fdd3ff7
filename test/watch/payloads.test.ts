import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '../../src/config/index.js';
import { maskDigits } from '../../src/lib/phone.js';
import { genericContact, parseForm, parseJson, telnyxContact, twilioContact, type Arrival } from '../../src/watch/payloads.js';
import { RateLimiter } from '../../src/watch/ratelimit.js';
import { normalisePublicUrl, watchSecrets } from '../../src/watch/settings.js';

const arrival = (raw = 'x'): Arrival => ({ raw: Buffer.from(raw), headers: { 'content-type': 'x' }, remoteAddr: '127.0.0.1', receivedAt: new Date('2026-11-28T12:00:00Z') });

describe('provider payloads into contact events', () => {
  it('reads Twilio SMS forms', () => {
    const form = parseForm(Buffer.from('MessageSid=SM1&From=%2B8613900001111&To=%2B8613800002222&Body=%E7%8E%8B%E4%B8%BD%E5%8D%8E+%E5%AE%9D%E5%AE%9D'));
    expect(form.ok).toBe(true);
    const c = twilioContact('sms', form.ok ? form.value : [], arrival());
    expect(c).toMatchObject({ ok: true, value: { source: 'twilio-sms', providerId: 'SM1', kind: 'sms', from: '+8613900001111', to: '+8613800002222', body: '王丽华 宝宝' } });
    expect(twilioContact('sms', [['To', '+1']], arrival())).toEqual({ ok: false, reason: 'no MessageSid parameter' });
    expect(twilioContact('sms', [['MessageSid', 'SM1']], arrival())).toEqual({ ok: false, reason: 'no To parameter' });
    expect(parseForm(Buffer.from([0x42, 0x6f, 0x64, 0x79, 0x3d, 0xff]))).toMatchObject({ ok: false });
    expect(parseForm(Buffer.from('Body=100%'))).toMatchObject({ ok: false });
  });

  it('keeps a call, its transcription, its gather and its status callback as separate events', () => {
    const call: [string, string][] = [['CallSid', 'CA1'], ['From', '+8613900001111'], ['To', '+8613800002222'], ['CallStatus', 'ringing']];
    const id = (extra: [string, string][]) => {
      const names = new Set(extra.map(([n]) => n));
      const c = twilioContact('call', [...call.filter(([n]) => !names.has(n)), ...extra], arrival());
      return c.ok ? [c.value.providerId, c.value.body] : c.reason;
    };
    expect(id([])).toEqual(['CA1', null]);
    expect(id([['TranscriptionSid', 'TR1'], ['TranscriptionText', '你好，王丽华在吗']])).toEqual(['CA1:transcription:TR1', '你好，王丽华在吗']);
    expect(id([['SpeechResult', '宝宝满月']])).toEqual(['CA1:gather', '宝宝满月']);
    expect(id([['CallStatus', 'completed']])).toEqual(['CA1:status:completed', null]);
  });

  it('reads Telnyx message and call events', () => {
    const msg = { data: { id: 'evt-1', event_type: 'message.received', occurred_at: '2026-11-28T11:59:58.000+00:00', payload: { from: { phone_number: '+8613900001111' }, to: [{ phone_number: '+8613800002222' }], text: '宝宝写真' } } };
    expect(telnyxContact(msg, arrival())).toMatchObject({ ok: true, value: { source: 'telnyx', providerId: 'evt-1', kind: 'sms', from: '+8613900001111', to: '+8613800002222', body: '宝宝写真', occurredAt: new Date('2026-11-28T11:59:58Z') } });
    const call = { data: { id: 'evt-2', event_type: 'call.initiated', payload: { from: '+8613900001111', to: '+8613800002222' } } };
    expect(telnyxContact(call, arrival())).toMatchObject({ ok: true, value: { kind: 'call', from: '+8613900001111', to: '+8613800002222', occurredAt: arrival().receivedAt } });
    expect(telnyxContact({ data: { id: 'evt-3', event_type: 'number_order.complete', payload: {} } }, arrival())).toMatchObject({ ok: true, value: { kind: 'other', to: '' } });
    expect(telnyxContact({ data: { event_type: 'message.received' } }, arrival())).toEqual({ ok: false, reason: 'no data.id' });
    expect(telnyxContact({ data: { id: 'e', event_type: 'message.received', payload: {} } }, arrival())).toEqual({ ok: false, reason: 'no data.payload.to' });
    expect(telnyxContact([], arrival())).toMatchObject({ ok: false });
  });

  it('reads the generic event and says what is wrong with a bad one', () => {
    expect(genericContact({ id: 'v1', kind: 'visit', from: null, to: '+8613800002222', occurredAt: '2026-11-27T09:00:00Z', body: 'a man asked for 王丽华 at the door' }, arrival())).toMatchObject({
      ok: true,
      value: { source: 'generic', providerId: 'v1', kind: 'visit', from: null, occurredAt: new Date('2026-11-27T09:00:00Z') },
    });
    const bad = genericContact({ id: '', kind: 'fax', to: '' }, arrival());
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.reason).toMatch(/id: .*kind: .*from: .*to: /);
    expect(parseJson(Buffer.from('{"a":'))).toMatchObject({ ok: false });
  });

  it('masks all but the last four digits of numbers in log lines', () => {
    expect(maskDigits('from +8613900001111 to 138-0000-2222')).toBe('from +*********1111 to ***-****-2222');
    expect(maskDigits('/webhooks/twilio/sms')).toBe('/webhooks/twilio/sms');
  });
});

describe('rate limiting', () => {
  it('allows a burst, then answers how long to wait, refilling over time, per address', () => {
    const limiter = new RateLimiter({ perSecond: 2, burst: 3 });
    const t = 1_000_000;
    expect([1, 2, 3].map(() => limiter.take('a', t).ok)).toEqual([true, true, true]);
    expect(limiter.take('a', t)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(limiter.take('b', t).ok).toBe(true);
    expect(limiter.take('a', t + 499).ok).toBe(false);
    expect(limiter.take('a', t + 1000).ok).toBe(true);
    const slow = new RateLimiter({ perSecond: 0.1, burst: 1 });
    slow.take('a', t);
    expect(slow.take('a', t)).toEqual({ ok: false, retryAfterSeconds: 10 });
  });

  it('forgets addresses whose buckets are full again', () => {
    const limiter = new RateLimiter({ perSecond: 10, burst: 10 });
    for (let i = 0; i < 100; i++) limiter.take(`10.0.0.${i}`, 0);
    limiter.take('x', 120_000);
    expect(limiter.size).toBe(1);
  });
});

describe('watch settings', () => {
  it('takes secrets from the environment before the config', () => {
    const config = { twilioAuthToken: 'from-config', webhookSecret: 'cfg-secret' };
    expect(watchSecrets({ TWILIO_AUTH_TOKEN: 'from-env', CRADLE_WEBHOOK_SECRET: '' }, config)).toEqual({ twilioAuthToken: 'from-env', telnyxPublicKey: undefined, webhookSecret: 'cfg-secret', forwarders: [] });
    expect(watchSecrets({}, undefined)).toEqual({ twilioAuthToken: undefined, telnyxPublicKey: undefined, webhookSecret: undefined, forwarders: [] });
  });

  it('keeps the public URL as the provider sees it, without a trailing slash', () => {
    expect(normalisePublicUrl('https://traps.example.org/')).toBe('https://traps.example.org');
    expect(normalisePublicUrl('https://traps.example.org:8443/cradle')).toBe('https://traps.example.org:8443/cradle');
    expect(() => normalisePublicUrl('ftp://x')).toThrow(/http/);
    expect(() => normalisePublicUrl('https://x.org/?a=1')).toThrow(/query/);
    expect(() => normalisePublicUrl('nope')).toThrow(/not a URL/);
  });

  it('accepts a watch section in the config, and refuses unknown keys in it', () => {
    const base = { hospitals: { main: { target: 't', mapping: 'm.json', wards: ['A'], districts: ['B'] } } };
    const config = parseConfig({ ...base, watch: { port: 9000, publicUrl: 'https://traps.example.org', rateLimit: { perSecond: 5, burst: 10 } } }, 'cradle.config.json');
    expect(config.watch).toEqual({ port: 9000, publicUrl: 'https://traps.example.org', rateLimit: { perSecond: 5, burst: 10 } });
    expect(parseConfig(base, 'c.json').watch).toBeUndefined();
    expect(() => parseConfig({ ...base, watch: { prot: 1 } }, 'c.json')).toThrow(/watch/);
    expect(() => parseConfig({ ...base, watch: { publicUrl: 'ftp://x' } }, 'c.json')).toThrow(/watch.publicUrl/);
  });
});
