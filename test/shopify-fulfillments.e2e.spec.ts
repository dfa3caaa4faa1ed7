import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signShopifyBody } from '../src/connectors/channels/shopify/shopify-webhooks.js';
import { createShopifySimulator, type ShopifySimulator, type SimOrder } from '../src/simulators/shopify/shopify-simulator.js';
import { waitUntil } from './support/messaging.js';
import { ordersWorld, waitForStatus, type OrdersWorld } from './support/orders.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// Shipments of a Shopify store's orders become fulfillments in the store (the Shopify simulator), exactly once.
const SECRET = 'shopify-app-secret-for-fulfillments';
let t: TestApp;
let w: OrdersWorld;
let shop: ShopifySimulator;
let shopUrl: string;
let wmsKey: string;

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100', CROSSDOCK_DELIVERY_MAX_DELAY_MS: '400', CROSSDOCK_CIRCUIT_OPEN_MS: '1000' } });
  w = await ordersWorld(t);
  shop = createShopifySimulator();
  shopUrl = await shop.listen();
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
  wmsKey = (await t.request('POST', '/v1/admin/sources/wms/api-keys', { body: { scopes: ['shipments:write', 'shipments:read'] } })).body.key;
});
afterAll(async () => {
  await t?.close();
  await w?.close();
  await shop?.close();
});

const control = async (path: string, body?: unknown) => {
  const response = await fetch(`${shopUrl}/_control/${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return response.json() as Promise<any>;
};
const storeOrder = async (legacyId: string): Promise<SimOrder> => control(`orders/${legacyId}`);

function webhook(topic: string, payload: unknown, eventId = `evt-${Math.random()}`) {
  const body = JSON.stringify(payload);
  return t.request('POST', '/v1/webhooks/shopify/shop', {
    token: null, rawBody: body,
    headers: { 'x-shopify-topic': topic, 'x-shopify-hmac-sha256': signShopifyBody(SECRET, body), 'x-shopify-shop-domain': 'fulfil.myshopify.com', 'x-shopify-event-id': eventId, 'x-shopify-triggered-at': new Date().toISOString() },
  });
}

let sequence = 0;
/** An order taken by the store (4 x 1896-S, 2 x 1900-S), arrived in Crossdock by its webhook and confirmed by the ERP. */
async function confirmedStoreOrder(): Promise<{ orderId: string; legacyId: string; lineIds: [string, string] }> {
  const n = ++sequence;
  const legacyId = String(820_000_000_000 + process.pid * 100 + n);
  const lineIds: [string, string] = [String(1_300_000_000 + n * 10), String(1_300_000_000 + n * 10 + 1)];
  await control('orders', { id: legacyId, lineItems: [{ id: lineIds[0], sku: '1896-S', quantity: 4 }, { id: lineIds[1], sku: '1900-S', quantity: 2 }] });
  const answer = await webhook('orders/create', {
    id: legacyId, email: 'buyer@example.com', currency: 'EUR',
    shipping_address: { name: 'Buyer', address1: '1 Main St', city: 'Springfield', zip: '12345', country_code: 'US' },
    line_items: [{ id: lineIds[0], sku: '1896-S', quantity: 4, price: '10.00' }, { id: lineIds[1], sku: '1900-S', quantity: 2, price: '5.00' }],
  });
  expect(answer.body, JSON.stringify(answer.body)).toMatchObject({ outcome: 'created' });
  await waitForStatus(t, answer.body.orderId, 'confirmed');
  return { orderId: answer.body.orderId, legacyId, lineIds };
}

const shipment = (legacyId: string, shipmentId: string, lines: Array<{ lineId: string; sku: string; quantity: number }>, over: Record<string, unknown> = {}, at = 0) => ({
  eventId: `ship-${shipmentId}-${Math.random()}`, channelOrderId: legacyId, shipmentId, status: 'shipped', carrier: 'DHL', trackingNumber: `TRK-${shipmentId}`, lines,
  occurredAt: new Date(Date.UTC(2026, 11, 5, 10, 0, at)).toISOString(), ...over,
});
const send = (event: unknown) => t.request('POST', '/v1/shipments/events', { token: wmsKey, body: event });

/** The store's delivery rows of a shipment's order, by status. */
async function storeDeliveries(orderId: string): Promise<Record<string, number>> {
  const rows = await t.sql<{ status: string; n: number }>(`select status, count(*)::int as n from outbox where destination = 'channel:shop' and key = $1 group by status`, [orderId]);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

describe('shipments as Shopify fulfillments', () => {
  it('fulfils a partial then the complete shipment, each once with its tracking; a later tracking number goes to the same fulfillment', async () => {
    const { orderId, legacyId, lineIds } = await confirmedStoreOrder();
    expect((await send(shipment(legacyId, `SH-${legacyId}-1`, [{ lineId: lineIds[0], sku: '1896-S', quantity: 1 }]))).body.outcome).toBe('applied');
    await waitUntil('the first fulfillment', async () => (await storeOrder(legacyId)).fulfillments.length === 1, 15_000);
    expect((await send(shipment(legacyId, `SH-${legacyId}-2`, [{ lineId: lineIds[0], sku: '1896-S', quantity: 3 }, { lineId: lineIds[1], sku: '1900-S', quantity: 2 }], {}, 10))).body.outcome).toBe('applied');
    await waitUntil('the second fulfillment', async () => (await storeOrder(legacyId)).fulfillments.length === 2, 15_000);
    expect((await send(shipment(legacyId, `SH-${legacyId}-1`, [{ lineId: lineIds[0], sku: '1896-S', quantity: 1 }], { trackingNumber: 'TRK-CHANGED' }, 20))).body.outcome).toBe('applied');
    await waitUntil('the tracking update', async () => (await storeOrder(legacyId)).fulfillments[0]!.trackingInfo[0]?.number === 'TRK-CHANGED', 15_000);

    const order = await storeOrder(legacyId);
    expect(order.fulfillments).toHaveLength(2);
    expect(order.fulfillments.map((f) => f.lineItems.map((l) => [l.sku, l.quantity]))).toEqual([[['1896-S', 1]], [['1896-S', 3], ['1900-S', 2]]]);
    expect(order.fulfillments[1]!.trackingInfo).toEqual([{ number: `TRK-SH-${legacyId}-2`, company: 'DHL', url: null }]);
    expect(order.lineItems.map((l) => l.fulfilled)).toEqual([4, 2]);
    expect((await t.request('GET', `/v1/orders/${orderId}`)).body.status).toBe('shipped');
    expect(await storeDeliveries(orderId)).toEqual({ delivered: 3 });

    // Our own fulfillment coming back as a webhook is recognised: no shipment of its own.
    const first = order.fulfillments[0]!;
    const echo = await webhook('fulfillments/create', {
      id: first.id.split('/').pop(), admin_graphql_api_id: first.id, order_id: legacyId, status: 'success', tracking_number: 'TRK-CHANGED', tracking_company: 'DHL',
      line_items: [{ id: lineIds[0], sku: '1896-S', quantity: 1 }],
    });
    expect(echo.body.outcome).toBe('recorded');
    await waitUntil('the echo handled', async () => (await t.sql<{ n: number }>(`select count(*)::int as n from outbox where destination = 'internal:shipments' and status = 'delivered' and key = $1`, [`shop|${legacyId}`]))[0]!.n === 1, 15_000);
    const [{ n }] = await t.sql<{ n: number }>(`select count(*)::int as n from shipment s join sales_order o on o.id = s.order_id where o.id = $1`, [orderId]);
    expect(n).toBe(2);
  });

  it('while Shopify is down the warehouse still gets its 202 at once, and the fulfillment arrives once when it is back', async () => {
    const { orderId, legacyId, lineIds } = await confirmedStoreOrder();
    await control('faults', { downForMs: 3_000 });
    const started = Date.now();
    const answer = await send(shipment(legacyId, `SH-${legacyId}-down`, [{ lineId: lineIds[0], sku: '1896-S', quantity: 4 }, { lineId: lineIds[1], sku: '1900-S', quantity: 2 }]));
    expect(answer.status).toBe(202);
    expect(Date.now() - started).toBeLessThan(2_000);
    await waitUntil('the outage answered', async () => shop.state.requests.some((r) => r.status === 503), 10_000);
    expect((await storeOrder(legacyId)).fulfillments).toHaveLength(0);
    await waitUntil('the fulfillment after the outage', async () => (await storeDeliveries(orderId)).delivered === 1, 20_000);
    const order = await storeOrder(legacyId);
    expect(order.fulfillments).toHaveLength(1);
    expect(order.lineItems.map((l) => l.fulfilled)).toEqual([4, 2]);
  });

  it('a call whose answer is lost after Shopify applied it is not a second fulfillment', async () => {
    const { orderId, legacyId, lineIds } = await confirmedStoreOrder();
    await control('faults', { loseAnswers: 1 });
    await send(shipment(legacyId, `SH-${legacyId}-lost`, [{ lineId: lineIds[0], sku: '1896-S', quantity: 2 }]));
    await waitUntil('delivered after the lost answer', async () => (await storeDeliveries(orderId)).delivered === 1, 20_000);
    const [{ attempts }] = await t.sql<{ attempts: number }>(`select attempts from outbox where destination = 'channel:shop' and key = $1`, [orderId]);
    expect(attempts).toBeGreaterThan(0);
    const order = await storeOrder(legacyId);
    expect(order.fulfillments).toHaveLength(1);
    expect(order.lineItems.map((l) => l.fulfilled)).toEqual([2, 0]);
    // The redelivery found its fulfillment and recorded it as the shipment's.
    const recorded = await t.sql<{ fulfillment_id: string }>(`select fulfillment_id from shipment_channel_fulfillment where shipment_id = $1`, [`SH-${legacyId}-lost`]);
    expect(recorded.map((r) => r.fulfillment_id)).toEqual([order.fulfillments[0]!.id]);
  });

  it("dead-letters a fulfillment Shopify refuses, with Shopify's message", async () => {
    const { orderId, legacyId, lineIds } = await confirmedStoreOrder();
    await control('faults', { refuseFulfillments: 'Fulfillment order is on hold.' });
    try {
      await send(shipment(legacyId, `SH-${legacyId}-refused`, [{ lineId: lineIds[1], sku: '1900-S', quantity: 1 }]));
      await waitUntil('dead-lettered', async () => (await storeDeliveries(orderId)).dead === 1, 15_000);
    } finally {
      await control('faults', { refuseFulfillments: null });
    }
    const [dead] = await t.sql<{ errors: Array<{ class: string; message: string }> }>(`select errors from outbox where destination = 'channel:shop' and key = $1 and status = 'dead'`, [orderId]);
    expect(dead!.errors.at(-1)).toMatchObject({ class: 'permanent' });
    expect(dead!.errors.at(-1)!.message).toContain('Fulfillment order is on hold.');
    expect((await storeOrder(legacyId)).fulfillments).toHaveLength(0);
  });

  it("applies a merchant's own fulfillment in the store as a shipment, and sends nothing back to the store", async () => {
    const { orderId, legacyId, lineIds } = await confirmedStoreOrder();
    const answer = await webhook('fulfillments/create', {
      id: '990001', admin_graphql_api_id: 'gid://shopify/Fulfillment/990001', order_id: legacyId, status: 'success', tracking_number: 'MERCHANT-1', tracking_company: 'UPS',
      line_items: [{ id: lineIds[1], sku: '1900-S', quantity: 2 }],
    });
    expect(answer.body.outcome).toBe('recorded');
    await waitForStatus(t, orderId, 'partially_shipped');
    const shipmentView = (await t.request('GET', `/v1/shipments/shopify:shop:990001`)).body;
    expect(shipmentView).toMatchObject({ orderId, trackingNumber: 'MERCHANT-1', carrier: 'UPS' });
    expect(await storeDeliveries(orderId)).toEqual({});
  });
});
