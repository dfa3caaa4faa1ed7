/**
 * Token buckets keyed by principal, in this process: O(1) per request (one map lookup and arithmetic),
 * unlike a sliding log or a database round trip. `share` is this process's part of the limit (1/N with N
 * instances serving the API), so that N instances behind a balancer admit the key's rate, not N times it.
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
    private readonly share: () => number = () => 1,
  ) {}

  /** Takes one token for `key`: 0 when allowed, otherwise the seconds to wait before a token is free. */
  take(key: string): number {
    const now = this.now();
    const share = this.share();
    const rate = this.ratePerSecond * share;
    const burst = Math.max(1, this.burst * share);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: burst, updatedAt: now };
      this.buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * rate);
      bucket.updatedAt = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rate));
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }
}
