import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifySimulator, type ShopifySimulator } from '../src/simulators/shopify/shopify-simulator.js';
import { waitUntil } from './support/messaging.js';
import { storeReconciliation } from './support/store-reconciliation.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// Inventory's reconciliation with a Shopify store: a merchant's edit in the store found by a run and put right with a
// new version; the same edit told by the store's inventory_levels/update webhook put right at once; a figure whose
// newer version is still on its way not taken for drift; the report.
let t: TestApp;
let shop: ShopifySimulator;
let shopUrl: string;
let sourceKey: string;

const SECRET = 'shopify-app-secret-for-reconciliation';
const EAST = 'gid://shopify/Location/1';
const WEST = 'gid://shopify/Location/2';
const SKUS = ['RC-01', 'RC-02', 'RC-03', 'RC-04', 'RC-05', 'RC-06'];
// What the store is sent of each SKU: its on-hand per warehouse, the channel selling all of it.
const STOCK: Record<string, { east: number; west: number }> = Object.fromEntries(SKUS.map((sku, i) => [sku, { east: 10 + i, west: 3 + i }]));

beforeAll(async () => {
  // A failed delivery waits 3 to 6 s before its next try: long enough to find its figure still on its way.
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_RECONCILE_TICK_MS: '3600000', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '6000', CROSSDOCK_DELIVERY_MAX_DELAY_MS: '6000' } });
  shop = createShopifySimulator({ accessToken: 'shpat_reconcile', variants: [...SKUS, 'NOT-OURS'].map((sku) => ({ sku })), latencyMs: [1, 3] });
  shopUrl = await shop.listen();
  const put = async (path: string, body: unknown) => {
    const answer = await t.request('PUT', path, { body });
    if (answer.status >= 300) throw new Error(`${path}: ${answer.text}`);
  };
  await put('/v1/admin/channels/shop', {
    kind: 'shopify',
    config: {
      shopDomain: 'reconcile.myshopify.com', apiVersion: '2025-07', accessToken: 'shpat_reconcile', webhookSecret: SECRET,
      adminApiBaseUrl: `${shopUrl}/admin/api/2025-07`, locations: { 'WH-EAST': EAST, 'WH-WEST': WEST }, reconcilePageSize: 4,
    },
    inventory: { warehouses: ['WH-EAST', 'WH-WEST'], safetyStock: 0, allocationPercent: 100 },
    oversell: 'backorder',
    limits: { ratePerSecond: 50, burst: 50, concurrency: 4 },
  });
  await put('/v1/admin/sources/erp-stock', { name: 'ERP stock' });
  sourceKey = (await t.request('POST', '/v1/admin/sources/erp-stock/api-keys', { body: { scopes: ['inventory:write'] } })).body.key;
  expect((await levels(SKUS.flatMap((sku) => [[sku, 'WH-EAST', STOCK[sku]!.east], [sku, 'WH-WEST', STOCK[sku]!.west]] as Array<[string, string, number]>))).body.accepted).toBe(12);
  await waitUntil('the store holds every figure', async () => SKUS.every((sku) => held(sku, EAST) === STOCK[sku]!.east && held(sku, WEST) === STOCK[sku]!.west) && (await sentCount()) === SKUS.length, 20_000);
});
afterAll(async () => {
  await t?.close();
  await shop?.close();
});

let event = 0;
function levels(items: Array<[string, string, number]>) {
  return t.request('POST', '/v1/inventory/levels', { token: sourceKey, body: { items: items.map(([sku, warehouse, onHand]) => ({ eventId: `rc-${++event}`, sku, warehouse, onHand, sequence: event })) } });
}
const { held, merchantSets, control, sentCount, versionOf, deliveredVersionOf, reconcileNow } = storeReconciliation(() => t, () => shop, () => shopUrl);
const levelReads = () => shop.state.requests.filter((r) => r.name === 'CrossdockInventoryLevels');

describe('a run over a Shopify store', () => {
  it("finds a merchant's edits, republishes Crossdock's figures as new versions, and finds nothing the next time", async () => {
    const before = { 'RC-02': await versionOf('RC-02'), 'RC-05': await versionOf('RC-05') };
    await merchantSets('RC-02', WEST, 99);
    await merchantSets('RC-05', EAST, 0);
    const readsBefore = levelReads().length;

    const run = await reconcileNow();
    expect(run).toMatchObject({ domain: 'inventory', target: 'channel:shop', trigger: 'demand', status: 'finished', compared: 6, drifted: 2, repaired: 2, waiting: 0 });
    // Seven items (one not Crossdock's), four a page, two locations each.
    expect(run.pages).toBe(2);
    expect(levelReads().length - readsBefore).toBe(2);
    expect(levelReads().every((r) => r.requestedCost === 2 + 4 * 5 && !r.throttled)).toBe(true);

    await waitUntil('the store holds Crossdock\'s figures again', () => held('RC-02', WEST) === STOCK['RC-02']!.west && held('RC-05', EAST) === STOCK['RC-05']!.east, 15_000);
    for (const sku of ['RC-02', 'RC-05'] as const) {
      expect(await versionOf(sku)).toBeGreaterThan(before[sku]);
      await waitUntil(`${sku}'s new version delivered`, async () => (await deliveredVersionOf(sku)) === (await versionOf(sku)), 10_000);
    }
    // Set from the figure the store was found holding (compare-and-set): no concurrent change met, no second try.
    for (const [sku, location, found] of [['RC-02', WEST, 99], ['RC-05', EAST, 0]] as const) {
      const repair = shop.state.mutations.filter((m) => m.quantities.some((q) => q.sku === sku)).at(-1)!;
      expect(repair).toMatchObject({ applied: true, userErrors: [] });
      expect(repair.quantities.find((q) => q.locationId === location)).toMatchObject({ before: found, quantity: location === EAST ? STOCK[sku]!.east : STOCK[sku]!.west });
    }

    const again = await reconcileNow();
    expect(again).toMatchObject({ status: 'finished', compared: 6, drifted: 0, repaired: 0 });

    const report = await t.request('GET', '/v1/ops/reconciliation?domain=inventory');
    expect(report.body.domains).toContain('inventory');
    expect(report.body.runs.slice(0, 2).map((r: any) => [r.id, r.compared, r.drifted, r.repaired])).toEqual([[again.id, 6, 0, 0], [run.id, 6, 2, 2]]);
    const detail = await t.request('GET', `/v1/ops/reconciliation/runs/${run.id}`);
    expect(detail.body.findings.map((f: any) => [f.key, f.class, f.repair, f.status, f.expected, f.actual])).toEqual([
      ['RC-02', 'channel-differs', 'republish', 'repaired', { 'WH-WEST': STOCK['RC-02']!.west }, { 'WH-WEST': 99 }],
      ['RC-05', 'channel-differs', 'republish', 'repaired', { 'WH-EAST': STOCK['RC-05']!.east }, { 'WH-EAST': 0 }],
    ]);
    expect(detail.body.findings[0].detail).toMatchObject({ republished: true, version: await versionOf('RC-02'), byWarehouse: { 'WH-EAST': STOCK['RC-02']!.east, 'WH-WEST': STOCK['RC-02']!.west } });
    const audited = await t.sql("select action, resource_id from audit_entry where resource_type = 'reconcile:inventory' order by id");
    expect(audited).toEqual([{ action: 'republish', resource_id: 'RC-02' }, { action: 'republish', resource_id: 'RC-05' }]);
    expect((await t.request('GET', '/metrics', { token: null })).text).toMatch(/crossdock_reconcile_repairs_total\{domain="inventory",target="channel:shop",class="channel-differs"\} 2/);
  });

  it('leaves a figure whose newer version is still on its way: not drift, the store gets it', async () => {
    await merchantSets('RC-04', EAST, 77);
    // The store is down when the SKU's next figure is sent: that version waits for its next try.
    await control('faults', { downForMs: 1500 });
    const downUntil = Date.now() + 1500;
    await levels([['RC-04', 'WH-EAST', 30]]);
    await waitUntil('the new figure tried and put back', async () => (await t.sql("select 1 from state_outbox where destination = 'channel:shop' and key = 'RC-04' and attempts > 0")).length === 1, 10_000, 50);
    await new Promise((r) => setTimeout(r, Math.max(0, downUntil - Date.now() + 100)));

    const run = await reconcileNow();
    expect(run).toMatchObject({ status: 'finished', compared: 5, drifted: 0, repaired: 0 });
    await waitUntil('the next try sets the new figure', () => held('RC-04', EAST) === 30, 30_000, 250);
  });
});

describe("the store's inventory_levels/update webhook", () => {
  it("puts a merchant's edit right at once, and takes Crossdock's own changes coming back for what they are", async () => {
    expect((await control('webhooks/subscription', { url: `${t.baseUrl}/v1/webhooks/shopify/shop`, secret: SECRET, topics: ['inventory_levels/update'] })).status).toBe(200);
    const version = await versionOf('RC-03');
    const webhooks = await merchantSets('RC-03', EAST, 42);
    expect(webhooks.map((w) => [w.topic, w.deliveries.map((d) => [d.status, JSON.parse(d.body!).outcome])])).toEqual([['inventory_levels/update', [[200, 'recorded']]]]);

    await waitUntil('the store holds Crossdock\'s figure again', () => held('RC-03', EAST) === STOCK['RC-03']!.east, 15_000);
    expect(await versionOf('RC-03')).toBeGreaterThan(version);
    // The repair's own change comes back as a webhook too: checked, and no finding.
    await waitUntil('every level told checked', async () => (await t.sql("select 1 from outbox where destination = 'internal:inventory' and status <> 'delivered'")).length === 0
      && shop.state.webhooks.filter((w) => w.topic === 'inventory_levels/update').length === 2, 15_000);
    await waitUntil('its version delivered', async () => (await deliveredVersionOf('RC-03')) === (await versionOf('RC-03')), 10_000);
    const pushed = await t.sql("select id::text, compared::int, drifted::int, repaired::int, status from reconcile_run where domain = 'inventory' and trigger = 'pushed' order by id");
    expect(pushed).toEqual([{ id: expect.any(String), compared: 1, drifted: 1, repaired: 1, status: 'finished' }]);
    const [finding] = await t.sql('select key, class, expected, actual, status from reconcile_finding where run_id = $1', [pushed[0].id]);
    expect(finding).toEqual({ key: 'RC-03', class: 'channel-differs', expected: { 'WH-EAST': STOCK['RC-03']!.east }, actual: { 'WH-EAST': 42 }, status: 'repaired' });

    // A level of an item that is not Crossdock's is checked and left alone.
    await merchantSets('NOT-OURS', WEST, 5);
    await waitUntil('checked', async () => (await t.sql("select 1 from outbox where destination = 'internal:inventory' and status <> 'delivered'")).length === 0
      && (await t.sql("select 1 from outbox where destination = 'internal:inventory'")).length === 3, 15_000);
    expect(await t.sql("select count(*)::int as n from reconcile_run where trigger = 'pushed'")).toEqual([{ n: 1 }]);
  });
});
