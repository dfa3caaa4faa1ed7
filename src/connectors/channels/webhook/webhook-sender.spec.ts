import { describe, expect, it } from 'vitest';
import { batchWebhookId } from './webhook-sender.js';

describe('batch webhook ids', () => {
  it('are the same for the same events in any order, and differ when an event differs', () => {
    const ids = ['0f1d6a3e-0000-4000-8000-000000000001', '0f1d6a3e-0000-4000-8000-000000000002', '0f1d6a3e-0000-4000-8000-000000000003'];
    expect(batchWebhookId(ids)).toBe(batchWebhookId([...ids].reverse()));
    expect(batchWebhookId(ids)).not.toBe(batchWebhookId(ids.slice(0, 2)));
    expect(batchWebhookId(ids)).toMatch(/^batch_[A-Za-z0-9_-]{32}$/);
  });
});
