import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ShopifyAdminClient, type AvailableChange } from '../src/connectors/channels/shopify/shopify-admin.client.js';
import { verifyShopifyHmac } from '../src/connectors/channels/shopify/shopify-webhooks.js';
import type { ShopifyConfig } from '../src/connectors/channels/shopify/shopify.config.js';
import { TargetError } from '../src/platform/delivery/outcome.js';
import { createShopifySimulator, type RecordedMutation, type ShopifySimulator } from '../src/simulators/shopify/shopify-simulator.js';

const TOKEN = 'shpat_test_token';
const EAST = 'gid://shopify/Location/1';
const WEST = 'gid://shopify/Location/2';
const fixture = (name: string) => readFileSync(new URL(`./fixtures/shopify/${name}`, import.meta.url), 'utf8');

let sim: ShopifySimulator;
let base: string;

beforeAll(async () => {
  sim = createShopifySimulator({ accessToken: TOKEN, shopDomain: 'acme-eu.myshopify.com', apiVersion: '2025-07' });
  base = await sim.listen();
});
afterAll(() => sim.close());
beforeEach(() => control('POST', '/_control/bucket', { maximumAvailable: 2000, restoreRate: 100, currentlyAvailable: 2000 }));

function config(apiVersion = '2025-07', overrides: Partial<ShopifyConfig> = {}): ShopifyConfig {
  return {
    shopDomain: 'acme-eu.myshopify.com',
    apiVersion,
    accessToken: TOKEN,
    webhookSecret: 'webhook-secret',
    adminApiBaseUrl: `${base}/admin/api/${apiVersion}`,
    locations: { 'WH-EAST': EAST, 'WH-WEST': WEST },
    ...overrides,
  };
}

async function control<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  expect(response.status).toBeLessThan(300);
  return (await response.json()) as T;
}

async function failureOf(promise: Promise<unknown>): Promise<TargetError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TargetError);
  return error as TargetError;
}

function levelOf(sku: string, locationId: string): number | undefined {
  const variant = [...sim.state.variants.values()].find((v) => v.sku === sku)!;
  return sim.state.items.get(variant.inventoryItemId)!.levels.get(locationId)?.available;
}

/** What the simulator records from now on. */
function since() {
  const requests = sim.state.requests.length;
  const mutations = sim.state.mutations.length;
  return { requests: () => sim.state.requests.slice(requests), mutations: (): RecordedMutation[] => sim.state.mutations.slice(mutations) };
}

async function addVariants(prefix: string, count: number, available?: Record<string, number>): Promise<string[]> {
  const skus = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
  await control('POST', '/_control/variants', skus.map((sku) => ({ sku, ...(available ? { available } : {}) })));
  return skus;
}

describe('Shopify Admin client against the simulator', () => {
  it('finds inventory items by SKU, exactly, and asks Shopify once per SKU', async () => {
    await control('POST', '/_control/variants', { sku: 'A "QUOTED" (SKU)' });
    const client = new ShopifyAdminClient(config());
    const log = since();
    const ids = await client.inventoryItemIds(['1896-S', '1900-S', 'NOPE-1', '1896-S', 'A "QUOTED" (SKU)']);
    const expected = (sku: string) => [...sim.state.variants.values()].find((v) => v.sku === sku)!.inventoryItemId;
    expect(ids).toEqual(new Map([['1896-S', expected('1896-S')], ['1900-S', expected('1900-S')], ['A "QUOTED" (SKU)', expected('A "QUOTED" (SKU)')]]));
    expect(log.requests()).toHaveLength(1);

    const again = await client.inventoryItemIds(['1900-S', 'NOPE-1', '1896-S']);
    expect(again).toEqual(new Map([['1900-S', expected('1900-S')], ['1896-S', expected('1896-S')]]));
    expect(log.requests()).toHaveLength(1);
  });

  it('sets 600 quantities in three mutations of at most 250, each a compare-and-set against the previous figure', async () => {
    const skus = await addVariants('BATCH', 300);
    const changes: AvailableChange[] = skus.flatMap((sku, i) => [
      { sku, warehouse: 'WH-EAST', quantity: i + 1, previous: 0 },
      { sku, warehouse: 'WH-WEST', quantity: 1000 + i, previous: 0 },
    ]);
    const client = new ShopifyAdminClient(config());
    const log = since();
    const result = await client.setAvailable(changes, { referenceDocumentUri: 'gid://crossdock/InventoryPublication/batch-1' });

    expect(result).toMatchObject({ updated: 600, concurrentChanges: 0, unknownSkus: [], unmappedWarehouses: [], notStocked: [] });
    const mutations = log.mutations();
    expect(mutations.map((m) => [m.applied, m.quantities.length])).toEqual([[true, 250], [true, 250], [true, 100]]);
    expect(mutations.every((m) => m.name === 'available' && m.referenceDocumentUri === 'gid://crossdock/InventoryPublication/batch-1')).toBe(true);
    expect(mutations.every((m) => m.quantities.every((q) => q.before === 0))).toBe(true);
    expect(levelOf(skus[0]!, EAST)).toBe(1);
    expect(levelOf(skus[299]!, WEST)).toBe(1299);
    // 300 SKUs looked up 50 at a time, then the three mutations.
    expect(log.requests().map((r) => r.operation)).toEqual([...Array(6).fill('query'), 'mutation', 'mutation', 'mutation']);
  });

  it('detects a quantity changed in Shopify since Crossdock set it, reports it, and sets its own figure against the new one', async () => {
    const client = new ShopifyAdminClient(config());
    await client.setAvailable([{ sku: '1906-S', warehouse: 'WH-EAST', quantity: 10, previous: 0 }], { referenceDocumentUri: 'gid://crossdock/InventoryPublication/1' });
    // A sale in Shopify takes 3.
    await control('PUT', '/_control/inventory-levels', { sku: '1906-S', locationId: EAST, available: 7 });

    const log = since();
    const result = await client.setAvailable(
      [
        { sku: '1906-S', warehouse: 'WH-EAST', quantity: 12, previous: 10 },
        { sku: '1908-S', warehouse: 'WH-EAST', quantity: 5, previous: 0 },
      ],
      { referenceDocumentUri: 'gid://crossdock/InventoryPublication/2' },
    );
    expect(result).toMatchObject({ updated: 2, concurrentChanges: 1, concurrent: [{ sku: '1906-S', warehouse: 'WH-EAST', expected: 10, found: 7, quantity: 12 }] });
    expect(log.mutations().map((m) => ({ applied: m.applied, errors: m.userErrors, before: m.quantities.map((q) => q.before) }))).toEqual([
      { applied: false, errors: ['COMPARE_QUANTITY_STALE'], before: [7, 0] },
      { applied: true, errors: [], before: [7, 0] },
    ]);
    expect([levelOf('1906-S', EAST), levelOf('1908-S', EAST)]).toEqual([12, 5]);
  });

  it('reads the current figure first where Crossdock has set none, and counts a figure already in place as done', async () => {
    await control('PUT', '/_control/inventory-levels', { sku: '1920-S', locationId: WEST, available: 3 });
    await control('PUT', '/_control/inventory-levels', { sku: '1928-S', locationId: WEST, available: 8 });
    const client = new ShopifyAdminClient(config());
    const log = since();
    const result = await client.setAvailable(
      [
        { sku: '1920-S', warehouse: 'WH-WEST', quantity: 9 },
        { sku: '1928-S', warehouse: 'WH-WEST', quantity: 8 },
      ],
      { referenceDocumentUri: 'gid://crossdock/InventoryPublication/3' },
    );
    expect(result).toMatchObject({ updated: 2, concurrentChanges: 0 });
    expect(log.mutations()).toEqual([expect.objectContaining({ applied: true, quantities: [expect.objectContaining({ sku: '1920-S', quantity: 9, before: 3 })] })]);
    expect(levelOf('1920-S', WEST)).toBe(9);
  });

  it('skips and reports SKUs the store does not have, warehouses without a location and items not stocked there', async () => {
    const [eastOnly] = await addVariants('EASTONLY', 1, { [EAST]: 4 });
    const client = new ShopifyAdminClient(config());
    const result = await client.setAvailable(
      [
        { sku: 'NOT-IN-SHOPIFY', warehouse: 'WH-EAST', quantity: 1 },
        { sku: '1936-S', warehouse: 'WH-CENTRAL', quantity: 1 },
        { sku: eastOnly!, warehouse: 'WH-WEST', quantity: 2 },
        { sku: eastOnly!, warehouse: 'WH-EAST', quantity: 6 },
      ],
      { referenceDocumentUri: 'gid://crossdock/InventoryPublication/4' },
    );
    expect(result).toMatchObject({ updated: 1, unknownSkus: ['NOT-IN-SHOPIFY'], unmappedWarehouses: ['WH-CENTRAL'], notStocked: [{ sku: eastOnly, warehouse: 'WH-WEST' }] });
    expect(levelOf(eastOnly!, EAST)).toBe(6);
  });

  it('turns userErrors into a permanent failure with Shopify\'s message, naming the quantity', async () => {
    const client = new ShopifyAdminClient(config());
    const failure = await failureOf(client.setAvailable([{ sku: '1953-W', warehouse: 'WH-EAST', quantity: -1, previous: 0 }], { referenceDocumentUri: 'gid://crossdock/InventoryPublication/5' }));
    expect(failure.failureClass).toBe('permanent');
    expect(failure.message).toContain("INVALID_QUANTITY_NEGATIVE: The quantity can't be negative. (1953-W at WH-EAST)");
    expect(levelOf('1953-W', EAST)).toBe(0);
  });

  it('treats a refused access token as retryable: every call would fail alike until the configuration is fixed', async () => {
    const failure = await failureOf(new ShopifyAdminClient(config('2025-07', { accessToken: 'shpat_revoked' })).inventoryItemIds(['1896-S']));
    expect(failure.failureClass).toBe('retryable');
    expect(failure.details.status).toBe(401);
  });
});

describe('query cost', () => {
  it('answers THROTTLED in the shape Shopify documents, with the bucket in extensions.cost', async () => {
    await control('POST', '/_control/bucket', { currentlyAvailable: 0, restoreRate: 50 });
    const response = await fetch(`${base}/admin/api/2025-07/graphql.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': TOKEN },
      body: JSON.stringify({ query: '{ productVariants(first: 10, query: "sku:1896-S") { nodes { id sku inventoryItem { id } } } }' }),
    });
    const body = (await response.json()) as any;
    const documented = JSON.parse(fixture('graphql_throttled.body.json'));
    expect(body.errors).toEqual(documented.errors);
    expect(Object.keys(body.extensions.cost).sort()).toEqual(Object.keys(documented.extensions.cost).sort());
    expect(body.extensions.cost).toMatchObject({ requestedQueryCost: 2 + 10 * 2, actualQueryCost: null, throttleStatus: { maximumAvailable: 2000, restoreRate: 50 } });
  });

  it('makes a THROTTLED answer a throttled failure, to be retried when the bucket holds the call again', async () => {
    await control('POST', '/_control/bucket', { currentlyAvailable: 0, restoreRate: 50 });
    const client = new ShopifyAdminClient(config());
    const failure = await failureOf(client.inventoryItemIds(['1964-W']));
    expect(failure.failureClass).toBe('throttled');
    // 4 points at 50 a second: 80 ms, less what restored before the answer.
    expect(failure.details.retryAfterMs).toBeGreaterThan(0);
    expect(failure.details.retryAfterMs).toBeLessThanOrEqual(80);
    expect(sim.state.requests.at(-1)).toMatchObject({ throttled: true, requestedCost: 4 });

    await new Promise((r) => setTimeout(r, failure.details.retryAfterMs));
    expect((await client.inventoryItemIds(['1964-W'])).has('1964-W')).toBe(true);
  });

  it('hands a wait longer than its bound to the caller without calling Shopify', async () => {
    await control('POST', '/_control/bucket', { currentlyAvailable: 10, restoreRate: 1 });
    const client = new ShopifyAdminClient(config(), { maxWaitMs: 2000 });
    await client.inventoryItemIds(['1968-S']);
    const log = since();
    const skus = await addVariants('SLOW', 50);
    const failure = await failureOf(client.inventoryItemIds(skus));
    expect(failure.failureClass).toBe('throttled');
    // 102 points wanted, about 6 left, 1 a second.
    expect(failure.details.retryAfterMs).toBeGreaterThan(90_000);
    expect(log.requests()).toEqual([]);
  });

  it('paces a burst of calls so that none is throttled when the bucket can refill in time', async () => {
    const skus = ['1896-S', '1900-S', '1906-S', '1908-S', '1920-S', '1928-S', '1936-S', '1953-W', '1964-W', '1968-S'];
    const burst = skus.flatMap((sku) => [['WH-EAST', EAST], ['WH-WEST', WEST]].map(([warehouse, location]) => ({ sku, warehouse: warehouse!, location: location! })));
    // The same burst sent as is overflows a bucket of 60 points (20 mutations of 10).
    await control('POST', '/_control/bucket', { maximumAvailable: 60, restoreRate: 100, currentlyAvailable: 60 });
    const unpaced = since();
    await Promise.all(
      burst.map(() =>
        fetch(`${base}/admin/api/2025-07/graphql.json`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-shopify-access-token': TOKEN },
          body: JSON.stringify({ query: 'mutation { inventorySetQuantities(input: {name: "available", reason: "correction", quantities: []}) { userErrors { code } } }' }),
        }),
      ),
    );
    expect(unpaced.requests().filter((r) => r.throttled).length).toBeGreaterThan(0);

    await control('POST', '/_control/bucket', { maximumAvailable: 60, restoreRate: 100, currentlyAvailable: 60 });
    const client = new ShopifyAdminClient(config(), { maxWaitMs: 2000 });
    await client.inventoryItemIds(skus);
    const paced = since();
    const results = await Promise.all(
      burst.map(({ sku, warehouse, location }, i) =>
        client.setAvailable([{ sku, warehouse, quantity: 500 + i, previous: levelOf(sku, location)! }], { referenceDocumentUri: `gid://crossdock/InventoryPublication/burst-${i}` }),
      ),
    );
    expect(results.every((r) => r.updated === 1 && r.concurrentChanges === 0)).toBe(true);
    expect(paced.requests().filter((r) => r.throttled)).toEqual([]);
    expect(paced.mutations().filter((m) => m.applied)).toHaveLength(burst.length);
    expect(burst.map(({ sku, location }) => levelOf(sku, location))).toEqual(burst.map((_, i) => 500 + i));
  });
});

describe('API version 2026-04: changeFromQuantity and idempotency keys', () => {
  it('sends changeFromQuantity with an @idempotent key, and a repeated call is recognised rather than applied twice', async () => {
    const client = new ShopifyAdminClient(config('2026-04'));
    const log = since();
    const change = [{ sku: '1896-S', warehouse: 'WH-WEST', quantity: 15, previous: levelOf('1896-S', WEST)! }];
    const first = await client.setAvailable(change, { referenceDocumentUri: 'gid://crossdock/InventoryPublication/6' });
    const again = await client.setAvailable(change, { referenceDocumentUri: 'gid://crossdock/InventoryPublication/6' });
    expect([first.updated, again.updated, again.concurrentChanges]).toEqual([1, 1, 0]);
    const mutations = log.mutations();
    expect(mutations).toHaveLength(1);
    expect(mutations[0]).toMatchObject({ apiVersion: '2026-04', applied: true, idempotencyKey: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(log.requests().filter((r) => r.operation === 'mutation')).toHaveLength(2);
    expect(levelOf('1896-S', WEST)).toBe(15);
  });

  it('detects a concurrent change through CHANGE_FROM_QUANTITY_STALE', async () => {
    const client = new ShopifyAdminClient(config('2026-04'));
    await control('PUT', '/_control/inventory-levels', { sku: '1900-S', locationId: WEST, available: 2 });
    const log = since();
    const result = await client.setAvailable([{ sku: '1900-S', warehouse: 'WH-WEST', quantity: 20, previous: 4 }], { referenceDocumentUri: 'gid://crossdock/InventoryPublication/7' });
    expect(result).toMatchObject({ updated: 1, concurrentChanges: 1, concurrent: [{ expected: 4, found: 2, quantity: 20 }] });
    expect(log.mutations().map((m) => m.userErrors)).toEqual([['CHANGE_FROM_QUANTITY_STALE'], []]);
    expect(levelOf('1900-S', WEST)).toBe(20);
  });

  it('refuses the inputs each version does not know, as Shopify\'s schema does', async () => {
    const item = [...sim.state.variants.values()].find((v) => v.sku === '1896-S')!.inventoryItemId;
    const send = async (version: string, quantity: Record<string, unknown>, directive = '') => {
      const response = await fetch(`${base}/admin/api/${version}/graphql.json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-shopify-access-token': TOKEN },
        body: JSON.stringify({
          query: `mutation Set($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) ${directive} { userErrors { code field message } } }`,
          variables: { input: { name: 'available', reason: 'correction', quantities: [{ inventoryItemId: item, locationId: EAST, quantity: 1, ...quantity }] } },
        }),
      });
      return (await response.json()) as { errors?: Array<{ extensions: { code: string } }>; data?: { inventorySetQuantities: { userErrors: Array<{ code: string }> } } };
    };
    expect((await send('2025-07', { changeFromQuantity: null })).errors?.[0]?.extensions.code).toBe('INVALID_VARIABLE');
    expect((await send('2025-07', {})).data?.inventorySetQuantities.userErrors.map((e) => e.code)).toEqual(['COMPARE_QUANTITY_REQUIRED']);
    expect((await send('2026-04', { compareQuantity: 0 }, '@idempotent(key: "k-1")')).errors?.[0]?.extensions.code).toBe('INVALID_VARIABLE');
    expect((await send('2026-04', { changeFromQuantity: null })).errors).toHaveLength(1);
    expect((await send('2026-04', { changeFromQuantity: 999 }, '@idempotent(key: "k-2")')).data?.inventorySetQuantities.userErrors.map((e) => e.code)).toEqual(['CHANGE_FROM_QUANTITY_STALE']);
  });
});

describe('webhook sender', () => {
  let receiver: Server;
  let receiverUrl: string;
  const received: Array<{ headers: IncomingHttpHeaders; body: Buffer }> = [];

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ headers: request.headers, body: Buffer.concat(chunks) });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/webhooks`;
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  beforeEach(() => {
    received.length = 0;
  });

  it('signs each delivery over the exact bytes sent, as Shopify does (the published test vector)', async () => {
    const vector = JSON.parse(fixture('webhook_headers_and_hmac.json')).computed_test_vector;
    const body = fixture(vector.body_file);
    const sent = await control('POST', '/_control/webhooks/send', { url: receiverUrl, secret: vector.secret, topic: 'inventory_levels/update', payload: body });
    expect(sent.deliveries).toEqual([expect.objectContaining({ status: 200 })]);
    expect(received).toHaveLength(1);
    expect(received[0]!.body.toString('utf8')).toBe(body);
    expect(received[0]!.headers['x-shopify-hmac-sha256']).toBe(vector['X-Shopify-Hmac-Sha256']);
    expect(received[0]!.headers).toMatchObject({ 'x-shopify-topic': 'inventory_levels/update', 'x-shopify-shop-domain': 'acme-eu.myshopify.com', 'x-shopify-api-version': '2025-07' });
  });

  it('sends copies of one event with one event id and their own webhook ids, and stale retries on demand', async () => {
    const order = fixture('rest_order.shopify_python_api.json');
    const payload = JSON.stringify(JSON.parse(order).order);
    const sent = await control('POST', '/_control/webhooks/send', { url: receiverUrl, secret: 'app-secret', topic: 'orders/create', payload: JSON.parse(payload), copies: 3 });
    const stale = await control('POST', '/_control/webhooks/send', {
      url: receiverUrl, secret: 'app-secret', topic: 'orders/create', payload: JSON.parse(payload), eventId: sent.eventId, triggeredAt: '2024-01-01T00:00:00.000Z',
    });

    expect(received).toHaveLength(4);
    for (const delivery of received) {
      expect(verifyShopifyHmac('app-secret', delivery.body, String(delivery.headers['x-shopify-hmac-sha256']))).toBe(true);
      expect(verifyShopifyHmac('another-secret', delivery.body, String(delivery.headers['x-shopify-hmac-sha256']))).toBe(false);
      expect(delivery.headers['x-shopify-event-id']).toBe(sent.eventId);
      expect(delivery.headers['x-shopify-topic']).toBe('orders/create');
    }
    const webhookIds = received.map((d) => d.headers['x-shopify-webhook-id']);
    expect(new Set(webhookIds).size).toBe(4);
    expect(webhookIds).toEqual([...sent.deliveries, ...stale.deliveries].map((d: { webhookId: string }) => d.webhookId));
    expect(received.map((d) => d.headers['x-shopify-triggered-at'])).toEqual([sent.triggeredAt, sent.triggeredAt, sent.triggeredAt, '2024-01-01T00:00:00.000Z']);
    expect(JSON.parse(received[0]!.body.toString('utf8')).id).toBe(JSON.parse(payload).id);
  });
});
