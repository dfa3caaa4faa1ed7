import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from './standard-webhooks.js';

// The example of the Standard Webhooks specification (github.com/standard-webhooks/standard-webhooks, spec/standard-webhooks.md).
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const timestamp = 1614265330;
const body = '{"test": 2432232314}';

describe('Standard Webhooks signatures', () => {
  it('match the specification example', () => {
    expect(signWebhook(secret, id, timestamp, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verify a signature among several, and refuse a changed body, a wrong key or a stale timestamp', () => {
    const signature = `v1,bm9wZQ== ${signWebhook(secret, id, timestamp, body)}`;
    const now = timestamp * 1000;
    expect(verifyWebhook(secret, { id, timestamp: String(timestamp), signature }, body, 300, now)).toBe(true);
    expect(verifyWebhook(secret, { id, timestamp: String(timestamp), signature }, body + ' ', 300, now)).toBe(false);
    expect(verifyWebhook('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', { id, timestamp: String(timestamp), signature }, body, 300, now)).toBe(false);
    expect(verifyWebhook(secret, { id, timestamp: String(timestamp), signature }, body, 300, now + 301_000)).toBe(false);
  });
});
