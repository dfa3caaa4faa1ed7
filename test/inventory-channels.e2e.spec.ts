import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifySimulator, type ShopifySimulator } from '../src/simulators/shopify/shopify-simulator.js';
import { TARGET_SECRET } from './support/fault-target.js';
import { waitUntil } from './support/messaging.js';
import { orderBody, ordersWorld, submitOrder, type OrdersWorld } from './support/orders.js';
import { startTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
let w: OrdersWorld;
let sourceKey: string;
const stores: Record<string, { sim: ShopifySimulator; url: string }> = {};

const LOCATIONS = { 'WH-EAST': 'gid://shopify/Location/1', 'WH-WEST': 'gid://shopify/Location/2' };
const shopifyChannel = (url: string, inventory: Record<string, unknown>, locations: Record<string, string> = LOCATIONS) => ({
  kind: 'shopify',
  config: { shopDomain: 'store.myshopify.com', apiVersion: '2025-07', accessToken: 'shpat_test', webhookSecret: 'secret', adminApiBaseUrl: `${url}/admin/api/2025-07`, locations },
  inventory,
  oversell: 'backorder',
  limits: { ratePerSecond: 50, burst: 50, concurrency: 2 },
});

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100' } });
  w = await ordersWorld(t);
  for (const name of ['one', 'two', 'tiny', 'bad']) {
    const sim = createShopifySimulator({ accessToken: 'shpat_test', latencyMs: [2, 8] });
    stores[name] = { sim, url: await sim.listen() };
  }
  const put = async (path: string, body: unknown) => {
    const answer = await t.request('PUT', path, { body });
    if (answer.status >= 300) throw new Error(`${path}: ${answer.text}`);
  };
  // The seed scenario: three warehouses; a B2B portal that refuses to oversell; two stores with their own rules.
  await put('/v1/admin/channels/portal', {
    kind: 'webhook', config: { url: w.portal.url, secret: TARGET_SECRET },
    inventory: { warehouses: ['WH-EAST', 'WH-WEST', 'WH-CENTRAL'], safetyStock: 0, allocationPercent: 100 }, oversell: 'reject',
    limits: { ratePerSecond: 200, burst: 200, concurrency: 8 },
  });
  await put('/v1/admin/channels/shop-one', shopifyChannel(stores.one!.url, { warehouses: ['WH-EAST', 'WH-WEST'], safetyStock: 2, allocationPercent: 100 }));
  await put('/v1/admin/channels/shop-two', shopifyChannel(stores.two!.url, { warehouses: ['WH-EAST'], safetyStock: 0, allocationPercent: 50 }));
  await put('/v1/admin/sources/erp-stock', { name: 'ERP stock' });
  sourceKey = (await t.request('POST', '/v1/admin/sources/erp-stock/api-keys', { body: { scopes: ['inventory:write'] } })).body.key;
});
afterAll(async () => {
  await t?.close();
  await w?.close();
  for (const store of Object.values(stores)) await store.sim.close();
});

let event = 0;
const levels = (items: Array<[string, string, number]>) =>
  t.request('POST', '/v1/inventory/levels', { token: sourceKey, body: { items: items.map(([sku, warehouse, onHand]) => ({ eventId: `c-${++event}`, sku, warehouse, onHand, sequence: event })) } });

/** The quantity a store holds now for a SKU at a location. */
function held(store: string, sku: string, location: string): number | undefined {
  const sim = stores[store]!.sim;
  const item = [...sim.state.items.values()].find((i) => i.sku === sku);
  return item?.levels.get(location)?.available;
}
const portalLatest = (sku: string) => {
  const figures = w.portal.effects.filter((e) => e.type === 'inventory.availability.changed' && e.subject === sku).map((e) => e.data);
  return figures.at(-1)?.available;
};
const control = (path: string, body: unknown) => fetch(`${w.simUrl}/_control/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('the seed scenario: a promotion sells a SKU out in one warehouse', () => {
  it('moves every channel\'s figure, refuses the portal order that would oversell, all while the ERP is in maintenance', async () => {
    expect((await levels([['1896-S', 'WH-EAST', 10], ['1896-S', 'WH-WEST', 5], ['1896-S', 'WH-CENTRAL', 4]])).body.accepted).toBe(3);
    await waitUntil('first figures everywhere', () =>
      portalLatest('1896-S') === 19 && held('one', '1896-S', LOCATIONS['WH-EAST']) === 9 && held('one', '1896-S', LOCATIONS['WH-WEST']) === 4
      && held('two', '1896-S', LOCATIONS['WH-EAST']) === 5, 15_000);

    await control('maintenance', { on: true });
    try {
      const burst = await Promise.all(Array.from({ length: 5 }, () => submitOrder(t, w.portalKey, orderBody({ lines: [{ lineId: '1', sku: '1896-S', quantity: 2, unitPrice: 100 }] }))));
      expect(burst.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
      // Warehouse EAST is sold out: the portal has 9 left (WEST and CENTRAL), store one 3 (WEST less its safety
      // stock), store two, which sells from EAST only, none.
      await waitUntil('sold-out figures everywhere', () =>
        portalLatest('1896-S') === 9 && held('one', '1896-S', LOCATIONS['WH-EAST']) === 0 && held('one', '1896-S', LOCATIONS['WH-WEST']) === 3
        && held('two', '1896-S', LOCATIONS['WH-EAST']) === 0, 15_000);
      const oversell = await submitOrder(t, w.portalKey, orderBody({ lines: [{ lineId: '1', sku: '1896-S', quantity: 10, unitPrice: 100 }] }));
      expect(oversell.status).toBe(422);
      expect(oversell.body.skus).toEqual(['1896-S']);
      const [{ n: confirmed }] = await t.sql<{ n: number }>("select count(*)::int as n from sales_order where status = 'confirmed' and id = any($1::uuid[])", [burst.map((a) => a.body.orderId)]);
      expect(confirmed).toBe(0);
    } finally {
      await control('maintenance', { on: false });
    }
    // Every update went to each store compare-and-set, and none was refused.
    for (const store of ['one', 'two']) expect(stores[store]!.sim.state.mutations.every((m) => m.applied && m.userErrors.length === 0)).toBe(true);
    // The SKU's view says what each channel was last sent (a store's quantities per location summed), at which
    // version; an API channel, which reads its figures, was sent none.
    const pushed = ['portal', 'shop-one', 'shop-two'];
    const portalVersion = w.portal.effects.filter((e) => e.type === 'inventory.availability.changed' && e.subject === '1896-S').at(-1)!.data.version;
    let view: Array<{ channelId: string; available: number; version: number; publishedAvailable: number | null; publishedVersion: number | null; publishedAt: string | null }> = [];
    await waitUntil('last sent figures recorded', async () => {
      view = (await t.request('GET', '/v1/inventory/1896-S')).body.channels.filter((c: { channelId: string }) => pushed.includes(c.channelId));
      return view.length === pushed.length && view.every((c) => c.publishedVersion === c.version);
    });
    expect(Object.fromEntries(view.map((c) => [c.channelId, c.publishedAvailable]))).toEqual({ portal: 9, 'shop-one': 3, 'shop-two': 0 });
    expect(view.find((c) => c.channelId === 'portal')!.publishedVersion).toBe(portalVersion);
    expect(view.every((c) => c.publishedAt !== null)).toBe(true);
  });
});

describe('publishing to Shopify', () => {
  it('slows down on THROTTLED and cost limits instead of failing', async () => {
    const tiny = stores.tiny!;
    await fetch(`${tiny.url}/_control/bucket`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ maximumAvailable: 60, restoreRate: 20, currentlyAvailable: 60 }) });
    await t.request('PUT', '/v1/admin/channels/shop-tiny', { body: shopifyChannel(tiny.url, { warehouses: ['WH-EAST'], safetyStock: 0, allocationPercent: 100 }) });
    await new Promise((r) => setTimeout(r, 5_100)); // the channel list cache
    const skus = ['1900-S', '1906-S', '1908-S', '1920-S', '1928-S', '1936-S', '1953-W', '1964-W', '1968-S'];
    expect((await levels(skus.map((sku, i) => [sku, 'WH-EAST', 10 + i]))).body.accepted).toBe(skus.length);
    await waitUntil('every SKU in the tiny store', () => skus.every((sku, i) => held('tiny', sku, LOCATIONS['WH-EAST']) === 10 + i), 60_000, 200);
    const [{ dead, charged }] = await t.sql<{ dead: number; charged: number }>(
      "select count(*) filter (where status = 'dead')::int as dead, coalesce(max(attempts), 0)::int as charged from outbox where destination = 'channel:shop-tiny'",
    );
    expect(dead).toBe(0);
    expect(charged).toBe(0);
  });

  it('dead-letters what Shopify refuses (userErrors), with Shopify\'s message', async () => {
    const bad = stores.bad!;
    await t.request('PUT', '/v1/admin/channels/shop-bad', { body: shopifyChannel(bad.url, { warehouses: ['WH-CENTRAL'], safetyStock: 0, allocationPercent: 100 }, { 'WH-CENTRAL': 'gid://shopify/Location/1' }) });
    await new Promise((r) => setTimeout(r, 5_100));
    // Counted in grams, say: more than a Shopify location can hold.
    await levels([['1953-W', 'WH-CENTRAL', 2_000_000_000]]);
    await waitUntil('dead letter', async () => (await t.request('GET', '/v1/ops/dead-letters?destination=channel:shop-bad')).body.items.length > 0, 20_000);
    const [letter] = (await t.request('GET', '/v1/ops/dead-letters?destination=channel:shop-bad')).body.items;
    expect(letter.errorClass).toBe('permanent');
    expect(letter.lastError).toMatch(/can't be higher than 1,000,000,000/);
  });
});
