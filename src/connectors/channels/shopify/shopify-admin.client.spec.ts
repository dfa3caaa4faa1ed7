import { describe, expect, it } from 'vitest';
import { TargetError } from '../../../platform/delivery/outcome.js';
import { QueryCostPacer } from './shopify-admin.client.js';

function pacer(maxWaitMs = 2000) {
  let now = 1_000_000;
  return { pacer: new QueryCostPacer(maxWaitMs, () => now), advance: (ms: number) => (now += ms) };
}

describe('QueryCostPacer', () => {
  it('lets a call through until an answer has told the bucket', () => {
    expect(pacer().pacer.waitFor(500)).toBe(0);
  });

  it('projects the refill since the last answer, less the calls in flight', async () => {
    const { pacer: p, advance } = pacer();
    p.settle(0, { maximumAvailable: 100, currentlyAvailable: 10, restoreRate: 50 });
    expect(p.waitFor(30)).toBe(400);
    advance(400);
    expect(p.waitFor(30)).toBe(0);
    await p.admit(20);
    // 30 available, 20 of them in flight: 30 more need 0.4 s.
    expect(p.waitFor(30)).toBe(400);
    p.settle(20, { maximumAvailable: 100, currentlyAvailable: 5, restoreRate: 50 });
    expect(p.waitFor(30)).toBe(500);
    advance(10_000);
    // Never more than the bucket holds.
    expect(p.waitFor(100)).toBe(0);
    expect(p.waitFor(150)).toBe(0);
  });

  it('hands a wait beyond its bound to the caller as throttled, with the wait', async () => {
    const { pacer: p } = pacer(1000);
    p.settle(0, { maximumAvailable: 1000, currentlyAvailable: 0, restoreRate: 50 });
    const error = await p.admit(100).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TargetError);
    expect(error).toMatchObject({ failureClass: 'throttled', details: { retryAfterMs: 2000 } });
  });

  it('waits for a call that fits after a short wait, then lets it go', async () => {
    const p = new QueryCostPacer(1000, Date.now);
    p.settle(0, { maximumAvailable: 1000, currentlyAvailable: 0, restoreRate: 1000 });
    await expect(p.admit(20)).resolves.toBeUndefined();
  });

  it('computes a THROTTLED answer\'s wait from the requested cost and the restore rate', () => {
    // Shopify's documented example: 752 requested, 666 available, 50 a second.
    expect(QueryCostPacer.retryAfterMs(752, { maximumAvailable: 1000, currentlyAvailable: 666, restoreRate: 50 })).toBe(1720);
    expect(QueryCostPacer.retryAfterMs(10, { maximumAvailable: 2000, currentlyAvailable: 50, restoreRate: 100 })).toBe(10);
  });
});
