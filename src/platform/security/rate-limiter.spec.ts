import { describe, expect, it } from 'vitest';
import { TokenBucketLimiter } from './rate-limiter.js';

describe('TokenBucketLimiter', () => {
  it('allows a burst, then refuses with the wait until the next token', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter(2, 3, () => now);
    expect([limiter.take('k'), limiter.take('k'), limiter.take('k')]).toEqual([0, 0, 0]);
    expect(limiter.take('k')).toBe(1);
    now = 500; // half a second refills one token at 2/s
    expect(limiter.take('k')).toBe(0);
    expect(limiter.take('k')).toBeGreaterThan(0);
  });

  it('keeps keys apart', () => {
    const limiter = new TokenBucketLimiter(1, 1, () => 0);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(1);
    expect(limiter.take('b')).toBe(0);
  });

  it('never holds more than the burst however long it idles', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter(10, 2, () => now);
    limiter.take('k');
    now = 1_000_000;
    expect([limiter.take('k'), limiter.take('k'), limiter.take('k')]).toEqual([0, 0, 1]);
  });

  it('answers a wait of whole seconds, at least 1, scaled by the rate', () => {
    const limiter = new TokenBucketLimiter(0.1, 1, () => 0);
    limiter.take('k');
    expect(limiter.take('k')).toBe(10);
  });
});

describe('TokenBucketLimiter shared between instances', () => {
  it('admits this instance its share of the rate and the burst', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter(10, 10, () => now, () => 0.5);
    const admitted = Array.from({ length: 10 }, () => limiter.take('k')).filter((wait) => wait === 0).length;
    expect(admitted).toBe(5);
    now = 1000;
    expect(Array.from({ length: 10 }, () => limiter.take('k')).filter((wait) => wait === 0).length).toBe(5);
  });
});
