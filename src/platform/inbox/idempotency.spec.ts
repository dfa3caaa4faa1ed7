import { describe, expect, it } from 'vitest';
import { hashRequest } from './idempotency.js';

describe('hashRequest', () => {
  it('ignores key order and undefined fields, and sees every value', () => {
    expect(hashRequest({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(hashRequest({ b: { d: 'x', c: [1, 2] }, a: 1, e: undefined }));
    expect(hashRequest({ a: 1 })).not.toBe(hashRequest({ a: 2 }));
    expect(hashRequest({ lines: [1, 2] })).not.toBe(hashRequest({ lines: [2, 1] }));
    expect(hashRequest({ a: '1' })).not.toBe(hashRequest({ a: 1 }));
  });
});
