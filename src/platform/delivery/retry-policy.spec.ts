import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_RETRY_POLICY } from './retry-policy.js';

describe('backoffDelay', () => {
  it('doubles from the base delay, with jitter in the upper half', () => {
    expect(backoffDelay(DEFAULT_RETRY_POLICY, 1, () => 0)).toBe(500);
    expect(backoffDelay(DEFAULT_RETRY_POLICY, 1, () => 1)).toBe(1000);
    expect(backoffDelay(DEFAULT_RETRY_POLICY, 4, () => 1)).toBe(8000);
  });

  it('never exceeds the cap and never goes below half of it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, r) => {
        const delay = backoffDelay(DEFAULT_RETRY_POLICY, attempt, () => r);
        return delay <= DEFAULT_RETRY_POLICY.maxDelayMs && delay >= 500;
      }),
    );
  });
});
