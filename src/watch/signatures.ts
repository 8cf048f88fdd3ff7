import crypto from 'node:crypto';

// Webhook signature checks, pure: each takes the secret, what arrived and the time, and says whether
// the request is the provider's. Comparisons are constant-time; nothing here logs or keeps a secret.

export type Verdict = { ok: true } | { ok: false; reason: string };

/** How far a signed timestamp may be from our clock (either way) before the request is a replay. */
export const REPLAY_WINDOW_SECONDS = 5 * 60;

/** Constant-time equality of two strings; unequal lengths are unequal without comparing contents. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) return false;
  return crypto.timingSafeEqual(x, y);
}

// ---------- Twilio ----------

/**
 * Twilio's signature, as Twilio documents it: the full URL Twilio requested (scheme, host, path and
 * query string), then each POST parameter sorted by name, name and value appended with no separators;
 * HMAC-SHA1 keyed with the auth token; base64. A name given several times is sorted by value.
 */
export function twilioSignature(authToken: string, url: string, params: readonly (readonly [string, string])[]): string {
  const sorted = [...params].sort(([an, av], [bn, bv]) => compareCodePoints(an, bn) || compareCodePoints(av, bv));
  let data = url;
  for (const [name, value] of sorted) data += name + value;
  return crypto.createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d) return d;
  }
  return x.length - y.length;
}

/**
 * The URL with and without its scheme's default port: Twilio signs the URL as configured, and some of
 * its requests carry an explicit :443 (or drop it). Other ports are kept as they are.
 */
export function twilioUrlVariants(url: string): string[] {
  const m = /^(https?):\/\/([^/?#@]*@)?([^/?#:]+|\[[^\]]+\])(:\d+)?(.*)$/i.exec(url);
  if (!m) return [url];
  const [, scheme, userInfo = '', host, port, rest] = m;
  const defaultPort = scheme.toLowerCase() === 'https' ? ':443' : ':80';
  if (port && port !== defaultPort) return [url];
  const bare = `${scheme}://${userInfo}${host}${rest}`;
  const withPort = `${scheme}://${userInfo}${host}${defaultPort}${rest}`;
  return port ? [url, bare] : [url, withPort];
}

export function verifyTwilio(authToken: string, header: string | undefined, url: string, params: readonly (readonly [string, string])[]): Verdict {
  if (!header) return { ok: false, reason: 'missing X-Twilio-Signature' };
  // Every variant is computed and compared, so the time taken does not depend on which one matched.
  let match = false;
  for (const candidate of twilioUrlVariants(url)) match = safeEqual(header, twilioSignature(authToken, candidate, params)) || match;
  return match ? { ok: true } : { ok: false, reason: 'X-Twilio-Signature does not match' };
}

// ---------- timestamps ----------

function checkTimestamp(value: string | undefined, header: string, now: Date): Verdict {
  if (!value) return { ok: false, reason: `missing ${header}` };
  if (!/^\d{1,12}$/.test(value.trim())) return { ok: false, reason: `${header} is not unix seconds` };
  const skew = Math.abs(now.getTime() / 1000 - Number(value.trim()));
  if (skew > REPLAY_WINDOW_SECONDS) return { ok: false, reason: `${header} is outside the ${REPLAY_WINDOW_SECONDS / 60}-minute window` };
  return { ok: true };
}

// ---------- Telnyx ----------

// An Ed25519 SubjectPublicKeyInfo is this fixed DER prefix followed by the 32-byte raw key.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Telnyx's public key as its portal gives it (base64 of the raw 32 bytes); throws when it is not one. */
export function telnyxPublicKey(base64: string): crypto.KeyObject {
  const raw = Buffer.from(base64.trim(), 'base64');
  if (raw.length !== 32 || raw.toString('base64').replace(/=+$/, '') !== base64.trim().replace(/=+$/, '')) {
    throw new Error('not a base64-encoded 32-byte Ed25519 public key');
  }
  return crypto.createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** Telnyx: Ed25519 over `${timestamp}|${raw body}`, signature base64 in telnyx-signature-ed25519. */
export function verifyTelnyx(key: crypto.KeyObject, signature: string | undefined, timestamp: string | undefined, raw: Buffer, now: Date): Verdict {
  if (!signature) return { ok: false, reason: 'missing telnyx-signature-ed25519' };
  const fresh = checkTimestamp(timestamp, 'telnyx-timestamp', now);
  if (!fresh.ok) return fresh;
  const sig = Buffer.from(signature.trim(), 'base64');
  if (sig.length !== 64) return { ok: false, reason: 'telnyx-signature-ed25519 is not a 64-byte signature' };
  const signed = Buffer.concat([Buffer.from(`${timestamp!.trim()}|`, 'utf8'), raw]);
  let valid = false;
  try {
    valid = crypto.verify(null, signed, key, sig);
  } catch {
    valid = false;
  }
  return valid ? { ok: true } : { ok: false, reason: 'telnyx-signature-ed25519 does not match' };
}

// ---------- generic ----------

/** The generic webhook's signature: hex HMAC-SHA256 of `${timestamp}.${raw body}`. */
export function genericSignature(secret: string, timestamp: string, raw: Buffer): string {
  return crypto.createHmac('sha256', secret).update(Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), raw])).digest('hex');
}

export function verifyGeneric(secret: string, signature: string | undefined, timestamp: string | undefined, raw: Buffer, now: Date): Verdict {
  if (!signature) return { ok: false, reason: 'missing X-Cradle-Signature' };
  const fresh = checkTimestamp(timestamp, 'X-Cradle-Timestamp', now);
  if (!fresh.ok) return fresh;
  const expected = genericSignature(secret, timestamp!.trim(), raw);
  return safeEqual(signature.trim().toLowerCase(), expected) ? { ok: true } : { ok: false, reason: 'X-Cradle-Signature does not match' };
}
