import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShopifyAdminClient } from '../src/connectors/channels/shopify/shopify-admin.client.js';
import { sendWebhook, toCloudEvent } from '../src/connectors/channels/webhook/webhook-sender.js';
import { BusinessCentralClient } from '../src/connectors/erp/business-central/business-central.client.js';
import { classify, TargetError } from '../src/platform/delivery/outcome.js';
import { httpCall } from '../src/platform/http/http-client.js';
import { MisbehavingTarget, type Misbehaviour } from './support/misbehaving-target.js';

// Every connector against a target that answers what no documentation promises: each surprise is a
// classified TargetError with the target's text, never a TypeError, and a huge body is not read into memory.
let target: MisbehavingTarget;
let url: string;

beforeAll(async () => {
  target = new MisbehavingTarget();
  url = await target.start();
});
afterAll(async () => target?.stop());

const businessCentral = () => new BusinessCentralClient({
  tenantId: 't1', environment: 'production', companyId: 'c0ffee00-0000-0000-0000-000000000001', clientId: 'crossdock', clientSecret: 'secret',
  baseUrl: `${url}/v2.0/t1/production/api/v2.0`, tokenUrl: `${url}/oauth2/v2.0/token`,
} as never);
const shopify = () => new ShopifyAdminClient({ shopDomain: 'store.myshopify.com', apiVersion: '2025-07', accessToken: 'shpat', webhookSecret: 's', adminApiBaseUrl: `${url}/admin/api/2025-07`, locations: { 'WH-1': 'gid://shopify/Location/1' } } as never);
const webhook = (signal: AbortSignal) => sendWebhook({ url: `${url}/hook`, secret: 'whsec_c2VjcmV0LWtleS0wMTIzNDU2Nzg5' } as never, toCloudEvent({
  deliveryId: 'd-1', messageId: 'm-1', type: 'inventory.availability.changed', kind: 'state', key: 'SKU-1', destination: 'channel:x', payload: { sku: 'SKU-1', available: 3 },
  version: 1, correlationId: 'c-1', causationId: null, attempt: 1, previousValue: null, createdAt: new Date(),
}), signal);

const calls: Record<string, (signal: AbortSignal) => Promise<unknown>> = {
  'Business Central customers': (signal) => businessCentral().listCustomers(signal),
  'Business Central items': (signal) => businessCentral().itemsChangedSince(undefined, signal),
  'Business Central order look-up': (signal) => businessCentral().findSalesOrder('CD-1', signal),
  'Shopify inventory': (signal) => shopify().setAvailable([{ sku: 'SKU-1', warehouse: 'WH-1', quantity: 3, previous: 2 }], { referenceDocumentUri: 'crossdock://x', signal }),
};

async function failure(call: (signal: AbortSignal) => Promise<unknown>, timeoutMs = 5_000): Promise<TargetError | Error> {
  try {
    await call(AbortSignal.timeout(timeoutMs));
  } catch (error) {
    return error as Error;
  }
  throw new Error('the call succeeded');
}

const surprises: Array<[string, Misbehaviour]> = [
  ['a truncated body', { kind: 'truncated', body: '{"value": [{"id": "1", "num' }],
  ['an HTML error page with 200', { kind: 'html', status: 200 }],
  ['an HTML error page with 502', { kind: 'html', status: 502 }],
  ['a collection that is not an array', { kind: 'json', body: { value: 'none' } }],
  ['records of the wrong types', { kind: 'json', body: { value: [{ id: 1, number: 2, displayName: null, creditLimit: 'lots', lastModifiedDateTime: 5, inventory: 'x', externalDocumentNumber: 3 }], data: 'x' } }],
  ['a bare string', { kind: 'json', body: 'hello' }],
  ['a reset connection', { kind: 'reset' }],
];

describe('connectors against a target that misbehaves', () => {
  for (const [name, call] of Object.entries(calls)) {
    it.each(surprises)(`${name}: %s is a classified error, never a TypeError`, async (_label, behaviour) => {
      target.behaviour = behaviour;
      const error = await failure(call);
      expect(error).not.toBeInstanceOf(TypeError);
      expect(error).toBeInstanceOf(TargetError);
      expect(['retryable', 'throttled', 'permanent']).toContain((error as TargetError).failureClass);
      expect(error.message.length).toBeGreaterThan(10);
    });
  }

  it('an empty page is an empty answer, not an error', async () => {
    target.behaviour = { kind: 'json', body: { value: [] } };
    expect(await businessCentral().listCustomers(AbortSignal.timeout(5_000))).toEqual({ value: [] });
    expect(await businessCentral().findSalesOrder('CD-1', AbortSignal.timeout(5_000))).toBeUndefined();
  });

  it('a target that accepts the connection and never answers is a timeout, classified retryable', async () => {
    target.behaviour = { kind: 'silent' };
    for (const call of [...Object.values(calls), webhook]) {
      const started = Date.now();
      const error = await failure(call, 300);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(classify(error).class).toBe('retryable');
    }
  });

  it('a webhook subscriber that resets the connection or answers HTML is retried, not a crash', async () => {
    for (const behaviour of [{ kind: 'reset' }, { kind: 'html', status: 503 }, { kind: 'truncated', body: 'x' }] as Misbehaviour[]) {
      target.behaviour = behaviour;
      expect(classify(await failure(webhook)).class).toBe('retryable');
    }
  });

  it('an answer read in many chunks comes back whole, a character split between two chunks included', async () => {
    const body = { names: Array.from({ length: 40_000 }, (_, i) => `Müller & Søn ${i} — 株式会社`) };
    target.behaviour = { kind: 'json', body };
    const answer = await httpCall(`${url}/many`, { method: 'GET' });
    expect(answer.text.length).toBeGreaterThan(1024 * 1024);
    expect(JSON.parse(answer.text)).toEqual(body);
  });

  it('a 50 MB answer is refused: unread when its length is declared, after a bounded read when not (a webhook\'s 2xx is taken, its body skipped), and memory stays bounded', async () => {
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    try {
      target.behaviour = { kind: 'huge', megabytes: 50, declared: true };
      const unread = await failure(calls['Business Central customers']!, 20_000);
      expect(unread).toBeInstanceOf(TargetError);
      expect(unread.message).toMatch(/larger than .* allowed \(Content-Length\)/);
      target.behaviour = { kind: 'huge', megabytes: 50 };
      const read = await failure(calls['Shopify inventory']!, 20_000);
      expect(read).toBeInstanceOf(TargetError);
      expect(read.message).toMatch(/larger than .* read/);
      await webhook(AbortSignal.timeout(20_000));
    } finally {
      clearInterval(sampler);
    }
    expect(peak - before).toBeLessThan(40 * 1024 * 1024);
  });
});
