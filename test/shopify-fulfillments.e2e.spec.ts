import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from './support/messaging.js';
import { ordersWorld, waitForStatus, type OrdersWorld } from './support/orders.js';
import { storeShipment as shipment, storeWorld, type StoreWorld } from './support/shopify-store.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// Shipments of a Shopify store's orders become fulfillments in the store (the Shopify simulator), exactly once.
let t: TestApp;
let w: OrdersWorld;
let s: StoreWorld;

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100', CROSSDOCK_DELIVERY_MAX_DELAY_MS: '400', CROSSDOCK_CIRCUIT_OPEN_MS: '1000' } });
  w = await ordersWorld(t);
  s = await storeWorld(t);
});
afterAll(async () => {
  await t?.close();
  await w?.close();
  await s?.close();
});

describe('shipments as Shopify fulfillments', () => {
  it('fulfils a partial then the complete shipment, each once with its tracking; a later tracking number goes to the same fulfillment', async () => {
    const { orderId, legacyId, lineIds } = await s.confirmedStoreOrder();
    expect((await s.send(shipment(legacyId, `SH-${legacyId}-1`, [{ lineId: lineIds[0], sku: '1896-S', quantity: 1 }]))).body.outcome).toBe('applied');
    await waitUntil('the first fulfillment', async () => (await s.storeOrder(legacyId)).fulfillments.length === 1, 15_000);
    expect((await s.send(shipment(legacyId, `SH-${legacyId}-2`, [{ lineId: lineIds[0], sku: '1896-S', quantity: 3 }, { lineId: lineIds[1], sku: '1900-S', quantity: 2 }], {}, 10))).body.outcome).toBe('applied');
    await waitUntil('the second fulfillment', async () => (await s.storeOrder(legacyId)).fulfillments.length === 2, 15_000);
    expect((await s.send(shipment(legacyId, `SH-${legacyId}-1`, [{ lineId: lineIds[0], sku: '1896-S', quantity: 1 }], { trackingNumber: 'TRK-CHANGED' }, 20))).body.outcome).toBe('applied');
    await waitUntil('the tracking update', async () => (await s.storeOrder(legacyId)).fulfillments[0]!.trackingInfo[0]?.number === 'TRK-CHANGED', 15_000);

    const order = await s.storeOrder(legacyId);
    expect(order.fulfillments).toHaveLength(2);
    expect(order.fulfillments.map((f) => f.lineItems.map((l) => [l.sku, l.quantity]))).toEqual([[['1896-S', 1]], [['1896-S', 3], ['1900-S', 2]]]);
    expect(order.fulfillments[1]!.trackingInfo).toEqual([{ number: `TRK-SH-${legacyId}-2`, company: 'DHL', url: null }]);
    expect(order.lineItems.map((l) => l.fulfilled)).toEqual([4, 2]);
    expect((await t.request('GET', `/v1/orders/${orderId}`)).body.status).toBe('shipped');
    expect(await s.storeDeliveries(orderId)).toEqual({ delivered: 3 });

    // Our own fulfillment coming back as a webhook is recognised: no shipment of its own.
    const first = order.fulfillments[0]!;
    const echo = await s.webhook('fulfillments/create', {
      id: first.id.split('/').pop(), admin_graphql_api_id: first.id, order_id: legacyId, status: 'success', tracking_number: 'TRK-CHANGED', tracking_company: 'DHL',
      line_items: [{ id: lineIds[0], sku: '1896-S', quantity: 1 }],
    });
    expect(echo.body.outcome).toBe('recorded');
    await waitUntil('the echo handled', async () => (await t.sql<{ n: number }>(`select count(*)::int as n from outbox where destination = 'internal:shipments' and status = 'delivered' and key = $1`, [`shop|${legacyId}`]))[0]!.n === 1, 15_000);
    const [{ n }] = await t.sql<{ n: number }>(`select count(*)::int as n from shipment s join sales_order o on o.id = s.order_id where o.id = $1`, [orderId]);
    expect(n).toBe(2);
  });

  it('while Shopify is down the warehouse still gets its 202 at once, and the fulfillment arrives once when it is back', async () => {
    const { orderId, legacyId, lineIds } = await s.confirmedStoreOrder();
    await s.control('faults', { downForMs: 3_000 });
    const started = Date.now();
    const answer = await s.send(shipment(legacyId, `SH-${legacyId}-down`, [{ lineId: lineIds[0], sku: '1896-S', quantity: 4 }, { lineId: lineIds[1], sku: '1900-S', quantity: 2 }]));
    expect(answer.status).toBe(202);
    expect(Date.now() - started).toBeLessThan(2_000);
    await waitUntil('the outage answered', async () => s.shop.state.requests.some((r) => r.status === 503), 10_000);
    expect((await s.storeOrder(legacyId)).fulfillments).toHaveLength(0);
    await waitUntil('the fulfillment after the outage', async () => (await s.storeDeliveries(orderId)).delivered === 1, 20_000);
    const order = await s.storeOrder(legacyId);
    expect(order.fulfillments).toHaveLength(1);
    expect(order.lineItems.map((l) => l.fulfilled)).toEqual([4, 2]);
  });

  it('a call whose answer is lost after Shopify applied it is not a second fulfillment', async () => {
    const { orderId, legacyId, lineIds } = await s.confirmedStoreOrder();
    await s.control('faults', { loseAnswers: 1 });
    await s.send(shipment(legacyId, `SH-${legacyId}-lost`, [{ lineId: lineIds[0], sku: '1896-S', quantity: 2 }]));
    await waitUntil('delivered after the lost answer', async () => (await s.storeDeliveries(orderId)).delivered === 1, 20_000);
    const [{ attempts }] = await t.sql<{ attempts: number }>(`select attempts from outbox where destination = 'channel:shop' and key = $1`, [orderId]);
    expect(attempts).toBeGreaterThan(0);
    const order = await s.storeOrder(legacyId);
    expect(order.fulfillments).toHaveLength(1);
    expect(order.lineItems.map((l) => l.fulfilled)).toEqual([2, 0]);
    // The redelivery found its fulfillment and recorded it as the shipment's.
    const recorded = await t.sql<{ fulfillment_id: string }>(`select fulfillment_id from shipment_channel_fulfillment where shipment_id = $1`, [`SH-${legacyId}-lost`]);
    expect(recorded.map((r) => r.fulfillment_id)).toEqual([order.fulfillments[0]!.id]);
  });

  it("dead-letters a fulfillment Shopify refuses, with Shopify's message", async () => {
    const { orderId, legacyId, lineIds } = await s.confirmedStoreOrder();
    await s.control('faults', { refuseFulfillments: 'Fulfillment order is on hold.' });
    try {
      await s.send(shipment(legacyId, `SH-${legacyId}-refused`, [{ lineId: lineIds[1], sku: '1900-S', quantity: 1 }]));
      await waitUntil('dead-lettered', async () => (await s.storeDeliveries(orderId)).dead === 1, 15_000);
    } finally {
      await s.control('faults', { refuseFulfillments: null });
    }
    const [dead] = await t.sql<{ errors: Array<{ class: string; message: string }> }>(`select errors from outbox where destination = 'channel:shop' and key = $1 and status = 'dead'`, [orderId]);
    expect(dead!.errors.at(-1)).toMatchObject({ class: 'permanent' });
    expect(dead!.errors.at(-1)!.message).toContain('Fulfillment order is on hold.');
    expect((await s.storeOrder(legacyId)).fulfillments).toHaveLength(0);
  });

  it("applies a merchant's own fulfillment in the store as a shipment, and sends nothing back to the store", async () => {
    const { orderId, legacyId, lineIds } = await s.confirmedStoreOrder();
    const answer = await s.webhook('fulfillments/create', {
      id: '990001', admin_graphql_api_id: 'gid://shopify/Fulfillment/990001', order_id: legacyId, status: 'success', tracking_number: 'MERCHANT-1', tracking_company: 'UPS',
      line_items: [{ id: lineIds[1], sku: '1900-S', quantity: 2 }],
    });
    expect(answer.body.outcome).toBe('recorded');
    await waitForStatus(t, orderId, 'partially_shipped');
    const shipmentView = (await t.request('GET', `/v1/shipments/shopify:shop:990001`)).body;
    expect(shipmentView).toMatchObject({ orderId, trackingNumber: 'MERCHANT-1', carrier: 'UPS' });
    expect(await s.storeDeliveries(orderId)).toEqual({});
  });
});
