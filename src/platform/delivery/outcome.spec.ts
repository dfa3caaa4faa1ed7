import { describe, expect, it } from 'vitest';
import { classify, classifyHttpStatus, parseRetryAfter, TargetError } from './outcome.js';

describe('classifyHttpStatus', () => {
  it.each([
    [200, undefined],
    [201, undefined],
    [400, 'permanent'],
    [404, 'permanent'],
    [422, 'permanent'],
    [301, 'retryable'],
    [308, 'retryable'],
    [408, 'retryable'],
    [429, 'throttled'],
    [500, 'retryable'],
    [503, 'retryable'],
  ])('%i is %s', (status, expected) => {
    expect(classifyHttpStatus(status, 'body')?.class).toBe(expected);
  });

  it('takes a 503 with Retry-After as an announced outage: throttled, not a failure', () => {
    expect(classifyHttpStatus(503, 'maintenance', '5')).toMatchObject({ class: 'throttled', retryAfterMs: 5000 });
    expect(classifyHttpStatus(503, 'down', null)?.class).toBe('retryable');
  });

  it('keeps an excerpt of the body and the Retry-After of a 429', () => {
    const failure = classifyHttpStatus(429, 'x'.repeat(2000), '7');
    expect(failure?.retryAfterMs).toBe(7000);
    expect(failure?.bodyExcerpt?.length).toBeLessThan(600);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter(undefined)).toBe(1000);
    expect(parseRetryAfter('soon')).toBe(1000);
  });
});

describe('classify', () => {
  it('trusts a TargetError and treats anything else as retryable', () => {
    expect(classify(new TargetError('permanent', 'no such customer', { status: 400 }))).toMatchObject({ class: 'permanent', status: 400 });
    expect(classify(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toMatchObject({ class: 'retryable', message: 'ECONNREFUSED: connect' });
    expect(classify(new DOMException('timed out', 'TimeoutError')).class).toBe('retryable');
    expect(classify('weird').class).toBe('retryable');
  });
});
