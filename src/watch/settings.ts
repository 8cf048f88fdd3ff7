import type { WatchConfig } from '../config/index.js';
import type { Forwarder } from './forwarders.js';
import type { RateLimit } from './ratelimit.js';
import type { Transcriber } from '../lib/transcribe.js';

// Where `cradle watch` gets its secrets: the environment first, then the config's `watch` section.
// A source without its secret is not configured: its route answers 503, never accepts unsigned data.

export interface WatchSecrets {
  twilioAuthToken?: string;
  telnyxPublicKey?: string;
  webhookSecret?: string;
  /** The forwarding apps with their secrets; one without a secret is left out (its route answers 503). */
  forwarders?: Forwarder[];
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8787;
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 100, burst: 200 };

export function watchSecrets(env: NodeJS.ProcessEnv, config: WatchConfig | undefined): WatchSecrets {
  const pick = (name: string, fromConfig: string | undefined) => (env[name] || undefined) ?? fromConfig;
  return {
    twilioAuthToken: pick('TWILIO_AUTH_TOKEN', config?.twilioAuthToken),
    telnyxPublicKey: pick('TELNYX_PUBLIC_KEY', config?.telnyxPublicKey),
    webhookSecret: pick('CRADLE_WEBHOOK_SECRET', config?.webhookSecret),
    forwarders: Object.entries(config?.forwarders ?? {}).flatMap(([name, f]) => {
      const secret = pick(forwarderSecretVariable(name), f.secret);
      return secret ? [{ name, app: f.app, secret, to: f.to, region: f.region ?? 'CN', fields: f.fields ?? {} }] : [];
    }),
  };
}

/** The environment variable holding a forwarder's secret: CRADLE_FORWARDER_<NAME>_SECRET. */
export function forwarderSecretVariable(name: string): string {
  return `CRADLE_FORWARDER_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_SECRET`;
}

/** The public base URL without a trailing slash; throws on anything but an http(s) URL without query. */
export function normalisePublicUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`"${text}" is not a URL (e.g. https://traps.example.org)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`"${text}" is not an http(s) URL`);
  if (url.search || url.hash) throw new Error(`"${text}": give the base URL without a query or fragment`);
  return text.trim().replace(/\/+$/, '');
}

/** The speech-to-text command configured for call recordings (watch.transcribe), if any. */
export function transcriberOf(config: WatchConfig | undefined): Transcriber | undefined {
  const t = config?.transcribe;
  return t ? { command: t.command, timeoutMs: t.timeoutSeconds === undefined ? undefined : t.timeoutSeconds * 1000 } : undefined;
}

/** Where Twilio recordings are fetched from unless the config says otherwise. */
export const DEFAULT_RECORDING_ORIGINS = ['https://api.twilio.com'];
