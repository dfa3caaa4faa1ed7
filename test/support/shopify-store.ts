import { expect } from 'vitest';
import { signShopifyBody } from '../../src/connectors/channels/shopify/shopify-webhooks.js';
import { createShopifySimulator, type ShopifySimulator, type SimOrder } from '../../src/simulators/shopify/shopify-simulator.js';
import { waitForStatus } from './orders.js';
import type { TestApp } from './test-app.js';

const SECRET = 'shopify-app-secret-for-fulfillments';

export interface StoreWorld {
  shop: ShopifySimulator;
  shopUrl: string;
  /** The simulator's control API: GET without a body, POST with one. */
  control: (path: string, body?: unknown) => Promise<any>;
  storeOrder: (legacyId: string) => Promise<SimOrder>;
  /** A Shopify webhook to the `shop` channel, signed as the store signs it. */
  webhook: (topic: string, payload: unknown, eventId?: string) => ReturnType<TestApp['request']>;
  /** An order taken by the store (4 x 1896-S, 2 x 1900-S), brought in by its webhook and confirmed by the ERP. */
  confirmedStoreOrder: () => Promise<{ orderId: string; legacyId: string; lineIds: [string, string] }>;
  /** A warehouse shipment event of a store order. */
  send: (event: unknown) => ReturnType<TestApp['request']>;
  /** The `shop` channel's delivery rows of an order, by status. */
  storeDeliveries: (orderId: string) => Promise<Record<string, number>>;
  close: () => Promise<void>;
}

/** A simulated Shopify store as the channel `shop`, and a warehouse source `wms`, on the app `t`. */
export async function storeWorld(t: TestApp): Promise<StoreWorld> {
  const shop = createShopifySimulator();
  const shopUrl = await shop.listen();
  const put = await t.request('PUT', '/v1/admin/channels/shop', {
    body: {
      kind: 'shopify',
      config: { shopDomain: 'fulfil.myshopify.com', apiVersion: '2025-07', accessToken: 'shpat_test', webhookSecret: SECRET, adminApiBaseUrl: `${shopUrl}/admin/api/2025-07`, customerAccount: { source: 'customer-tag', fallback: '10000' } },
      inventory: { warehouses: ['WH-WEST'], safetyStock: 0, allocationPercent: 100 },
      oversell: 'backorder',
      limits: { ratePerSecond: 50, burst: 50, concurrency: 4 },
    },
  });
  expect(put.status).toBe(201);
  expect((await t.request('PUT', '/v1/admin/sources/wms', { body: { name: 'Warehouse system' } })).status).toBe(201);
  const wmsKey = (await t.request('POST', '/v1/admin/sources/wms/api-keys', { body: { scopes: ['shipments:write', 'shipments:read'] } })).body.key as string;

  const control = async (path: string, body?: unknown) => {
    const response = await fetch(`${shopUrl}/_control/${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return response.json() as Promise<any>;
  };
  const webhook = (topic: string, payload: unknown, eventId = `evt-${Math.random()}`) => {
    const body = JSON.stringify(payload);
    return t.request('POST', '/v1/webhooks/shopify/shop', {
      token: null, rawBody: body,
      headers: { 'x-shopify-topic': topic, 'x-shopify-hmac-sha256': signShopifyBody(SECRET, body), 'x-shopify-shop-domain': 'fulfil.myshopify.com', 'x-shopify-event-id': eventId, 'x-shopify-triggered-at': new Date().toISOString() },
    });
  };
  let sequence = 0;
  const confirmedStoreOrder = async () => {
    const n = ++sequence;
    const legacyId = String(820_000_000_000 + (process.pid % 10_000) * 1000 + n);
    const lineIds: [string, string] = [String(1_300_000_000 + n * 10), String(1_300_000_000 + n * 10 + 1)];
    await control('orders', { id: legacyId, lineItems: [{ id: lineIds[0], sku: '1896-S', quantity: 4 }, { id: lineIds[1], sku: '1900-S', quantity: 2 }] });
    const answer = await webhook('orders/create', {
      id: legacyId, email: 'buyer@example.com', currency: 'EUR',
      shipping_address: { name: 'Buyer', address1: '1 Main St', city: 'Springfield', zip: '12345', country_code: 'US' },
      line_items: [{ id: lineIds[0], sku: '1896-S', quantity: 4, price: '10.00' }, { id: lineIds[1], sku: '1900-S', quantity: 2, price: '5.00' }],
    });
    expect(answer.body, JSON.stringify(answer.body)).toMatchObject({ outcome: 'created' });
    await waitForStatus(t, answer.body.orderId, 'confirmed');
    return { orderId: answer.body.orderId as string, legacyId, lineIds };
  };
  return {
    shop, shopUrl, control, webhook, confirmedStoreOrder,
    storeOrder: (legacyId) => control(`orders/${legacyId}`),
    send: (event) => t.request('POST', '/v1/shipments/events', { token: wmsKey, body: event }),
    storeDeliveries: async (orderId) => {
      const rows = await t.sql<{ status: string; n: number }>(`select status, count(*)::int as n from outbox where destination = 'channel:shop' and key = $1 group by status`, [orderId]);
      return Object.fromEntries(rows.map((r) => [r.status, r.n]));
    },
    close: () => shop.close(),
  };
}

/** A shipment event of a store order, `at` seconds after a fixed time. */
export const storeShipment = (legacyId: string, shipmentId: string, lines: Array<{ lineId: string; sku: string; quantity: number }>, over: Record<string, unknown> = {}, at = 0) => ({
  eventId: `ship-${shipmentId}-${Math.random()}`, channelOrderId: legacyId, shipmentId, status: 'shipped', carrier: 'DHL', trackingNumber: `TRK-${shipmentId}`, lines,
  occurredAt: new Date(Date.UTC(2026, 11, 5, 10, 0, at)).toISOString(), ...over,
});
