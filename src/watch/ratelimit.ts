// A token bucket per key (the remote address): `burst` requests at once, refilled at `perSecond`.
// Over the limit the caller answers 429 with Retry-After: a provider retries, nothing is dropped silently.

export interface RateLimit {
  perSecond: number;
  burst: number;
}

export type Take = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = 0;

  constructor(private readonly limit: RateLimit) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw new Error('rate limit needs perSecond > 0 and burst >= 1');
  }

  /** Take one token for `key` at time `nowMs`. */
  take(key: string, nowMs: number): Take {
    this.sweep(nowMs);
    const b = this.buckets.get(key) ?? { tokens: this.limit.burst, at: nowMs };
    b.tokens = Math.min(this.limit.burst, b.tokens + (Math.max(0, nowMs - b.at) / 1000) * this.limit.perSecond);
    b.at = nowMs;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / this.limit.perSecond)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Forget buckets that have refilled completely, so many addresses do not grow the map forever. */
  private sweep(nowMs: number): void {
    if (nowMs - this.lastSweep < 60_000) return;
    this.lastSweep = nowMs;
    const full = (this.limit.burst / this.limit.perSecond) * 1000;
    for (const [key, b] of this.buckets) if (nowMs - b.at >= full) this.buckets.delete(key);
  }
}
