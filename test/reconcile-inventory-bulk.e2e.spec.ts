import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShopifyAdminClient } from '../src/connectors/channels/shopify/shopify-admin.client.js';
import type { ShopifyConfig } from '../src/connectors/channels/shopify/shopify.config.js';
import { createShopifySimulator, type ShopifySimulator } from '../src/simulators/shopify/shopify-simulator.js';
import { waitUntil } from './support/messaging.js';
import { storeReconciliation } from './support/store-reconciliation.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// Inventory's reconciliation with a Shopify store read through one bulk operation (`config.reconcileRead: 'bulk'`):
// a merchant's edit found and put right by a run that reads the store once, in bulk, and no page of it; a failed
// operation failing the run with Shopify's reason; a run cut short resumed from its checkpoint with its operation,
// its result downloaded again, the slices done not compared again.
let t: TestApp;
let shop: ShopifySimulator;
let shopUrl: string;
let sourceKey: string;

const EAST = 'gid://shopify/Location/1';
const WEST = 'gid://shopify/Location/2';
const SKUS = ['BK-01', 'BK-02', 'BK-03', 'BK-04', 'BK-05', 'BK-06'];
const STOCK: Record<string, { east: number; west: number }> = Object.fromEntries(SKUS.map((sku, i) => [sku, { east: 10 + i, west: 3 + i }]));
// Long enough that the run finds its operation running at least once.
const BULK_DELAY_MS = 200;

const config = () => ({
  shopDomain: 'bulk.myshopify.com', apiVersion: '2025-07', accessToken: 'shpat_bulk', webhookSecret: 'shopify-app-secret-for-bulk',
  adminApiBaseUrl: `${shopUrl}/admin/api/2025-07`, locations: { 'WH-EAST': EAST, 'WH-WEST': WEST }, reconcileRead: 'bulk' as const,
});

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_RECONCILE_TICK_MS: '3600000' } });
  shop = createShopifySimulator({ accessToken: 'shpat_bulk', variants: [...SKUS, 'NOT-OURS'].map((sku) => ({ sku })), latencyMs: [1, 3], bulkOperationDelayMs: BULK_DELAY_MS });
  shopUrl = await shop.listen();
  const put = async (path: string, body: unknown) => {
    const answer = await t.request('PUT', path, { body });
    if (answer.status >= 300) throw new Error(`${path}: ${answer.text}`);
  };
  await put('/v1/admin/channels/shop', {
    kind: 'shopify',
    config: config(),
    inventory: { warehouses: ['WH-EAST', 'WH-WEST'], safetyStock: 0, allocationPercent: 100 },
    oversell: 'backorder',
    limits: { ratePerSecond: 50, burst: 50, concurrency: 4 },
  });
  await put('/v1/admin/sources/erp-stock', { name: 'ERP stock' });
  sourceKey = (await t.request('POST', '/v1/admin/sources/erp-stock/api-keys', { body: { scopes: ['inventory:write'] } })).body.key;
  const items = SKUS.flatMap((sku, i) => [[sku, 'WH-EAST', STOCK[sku]!.east], [sku, 'WH-WEST', STOCK[sku]!.west]] as Array<[string, string, number]>)
    .map(([sku, warehouse, onHand], n) => ({ eventId: `bk-${n}`, sku, warehouse, onHand, sequence: 1 }));
  expect((await t.request('POST', '/v1/inventory/levels', { token: sourceKey, body: { items } })).body.accepted).toBe(12);
  await waitUntil('the store holds every figure', async () => SKUS.every((sku) => held(sku, EAST) === STOCK[sku]!.east && held(sku, WEST) === STOCK[sku]!.west) && (await sentCount()) === SKUS.length, 20_000);
});
afterAll(async () => {
  await t?.close();
  await shop?.close();
});

const { held, merchantSets, control, sentCount, versionOf, deliveredVersionOf, reconcileNow } = storeReconciliation(() => t, () => shop, () => shopUrl);
const requestsNamed = (name: string) => shop.state.requests.filter((r) => r.name === name).length;
const calls = () => ({ started: requestsNamed('CrossdockBulkInventory'), polled: requestsNamed('CrossdockBulkOperation'), pages: requestsNamed('CrossdockInventoryLevels') });
const bulkOperations = () => [...shop.state.bulkOperations.values()];
const putRight = async (skus: string[]) => {
  for (const sku of skus) await waitUntil(`${sku}'s new version delivered`, async () => (await deliveredVersionOf(sku)) === (await versionOf(sku)), 15_000);
};

describe('a run over a store read in bulk', () => {
  it("finds a merchant's edit with one bulk operation and no page read, republishes Crossdock's figure, and finds nothing the next time", async () => {
    const before = await versionOf('BK-02');
    await merchantSets('BK-02', WEST, 99);
    const callsBefore = calls();

    const run = await reconcileNow();
    expect(run).toMatchObject({ domain: 'inventory', target: 'channel:shop', status: 'finished', compared: 6, drifted: 1, repaired: 1, waiting: 0 });
    // The operation started (its checkpoint), then waited on and compared in one slice.
    expect(run.pages).toBe(2);
    const after = calls();
    expect(after.started - callsBefore.started).toBe(1);
    expect(after.pages - callsBefore.pages).toBe(0);
    expect(after.polled - callsBefore.polled).toBeGreaterThanOrEqual(2);
    expect(shop.state.requests.filter((r) => r.name === 'CrossdockBulkInventory').every((r) => r.requestedCost === 10)).toBe(true);
    expect(bulkOperations().map((op) => [op.status, op.downloads])).toEqual([['COMPLETED', 1]]);

    await waitUntil("the store holds Crossdock's figure again", () => held('BK-02', WEST) === STOCK['BK-02']!.west, 15_000);
    expect(await versionOf('BK-02')).toBeGreaterThan(before);
    await putRight(['BK-02']);
    const detail = await t.request('GET', `/v1/ops/reconciliation/runs/${run.id}`);
    expect(detail.body.findings.map((f: any) => [f.key, f.class, f.repair, f.status, f.expected, f.actual])).toEqual([
      ['BK-02', 'channel-differs', 'republish', 'repaired', { 'WH-WEST': STOCK['BK-02']!.west }, { 'WH-WEST': 99 }],
    ]);

    const again = await reconcileNow();
    expect(again).toMatchObject({ status: 'finished', compared: 6, drifted: 0, repaired: 0 });
    expect(calls().started - callsBefore.started).toBe(2);
    expect(calls().pages - callsBefore.pages).toBe(0);
  });

  it("fails the run with Shopify's reason when the operation fails, after waiting on it across pages", async () => {
    // Longer than one page waits on a running operation: the run records its checkpoint and waits again.
    expect((await control('faults', { failNextBulkOperation: 'INTERNAL_SERVER_ERROR', bulkOperationDelayMs: 3_500 })).status).toBe(200);
    try {
      const run = await reconcileNow();
      const failed = bulkOperations().at(-1)!;
      expect(failed).toMatchObject({ status: 'FAILED', errorCode: 'INTERNAL_SERVER_ERROR', downloads: 0 });
      expect(run).toMatchObject({ status: 'failed', compared: 0, drifted: 0 });
      expect(run.error).toBe(`Shopify's bulk read of the store ended FAILED (INTERNAL_SERVER_ERROR): ${failed.id}`);
      expect(run.cursor).toBe(`bulk:${failed.id}`);
      expect(run.pages).toBeGreaterThanOrEqual(2);
    } finally {
      await control('faults', { failNextBulkOperation: null, bulkOperationDelayMs: BULK_DELAY_MS });
    }
  });

  it('resumes a run cut short from its checkpoint: no second operation, the result downloaded again, the slices done not compared again', async () => {
    await merchantSets('BK-01', EAST, 50);
    await merchantSets('BK-06', WEST, 60);
    // A process started the store's bulk read and compared the result up to its fourth SKU, then died.
    const operation = await new ShopifyAdminClient(config() as ShopifyConfig).startBulkInventoryRead();
    await t.sql("insert into reconcile_run (domain, target, trigger, cursor, pages) values ('inventory', 'channel:shop', 'demand', $1, 3)", [`bulk:${operation.id}:3`]);
    const callsBefore = calls();

    const resumed = await reconcileNow();
    // BK-04 to BK-06 (and an item that is not Crossdock's): BK-01 was in the part compared before.
    expect(resumed).toMatchObject({ status: 'finished', compared: 3, drifted: 1, repaired: 1, pages: 4 });
    expect(calls().started).toBe(callsBefore.started);
    expect(calls().pages).toBe(callsBefore.pages);
    expect(shop.state.bulkOperations.get(operation.id)).toMatchObject({ status: 'COMPLETED', downloads: 1 });
    const detail = await t.request('GET', `/v1/ops/reconciliation/runs/${resumed.id}`);
    expect(detail.body.findings.map((f: any) => [f.key, f.actual])).toEqual([['BK-06', { 'WH-WEST': 60 }]]);
    await waitUntil("the store holds Crossdock's figure again", () => held('BK-06', WEST) === STOCK['BK-06']!.west, 15_000);
    await putRight(['BK-06']);

    // The next run reads the store afresh and finds the edit the cut-short run had passed.
    const next = await reconcileNow();
    expect(next).toMatchObject({ status: 'finished', compared: 6, drifted: 1, repaired: 1 });
    expect(calls().started).toBe(callsBefore.started + 1);
    await waitUntil("the store holds Crossdock's figure again", () => held('BK-01', EAST) === STOCK['BK-01']!.east, 15_000);
  });
});
