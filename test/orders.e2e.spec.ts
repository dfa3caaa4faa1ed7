import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from './support/messaging.js';
import { bcBackend, erpOrdersWithReference, orderBody, ordersWorld, submitOrder, waitForStatus, type OrdersWorld } from './support/orders.js';
import { startTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
let w: OrdersWorld;

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100', CROSSDOCK_DELIVERY_MAX_ATTEMPTS: '3' } });
  w = await ordersWorld(t);
});
afterAll(async () => {
  await t?.close();
  await w?.close();
});

const eventsOf = (orderId: string) => w.portal.effects.filter((e) => e.type === 'order.status.changed' && e.data.orderId === orderId).map((e) => e.data);

describe('order intake to Business Central', () => {
  it('takes an order to confirmed, with history, ERP number, warehouses, and every change sent signed to the channel', async () => {
    const body = orderBody();
    const answer = await submitOrder(t, w.portalKey, body);
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ orderId: expect.any(String), status: 'accepted', correlationId: answer.headers.get('x-correlation-id') });
    const order = await waitForStatus(t, answer.body.orderId, 'confirmed');
    expect(order.history.map((h: { status: string }) => h.status)).toEqual(['accepted', 'submitted', 'confirmed']);
    expect(order.erpOrderRef).toMatch(/^S-ORD\d+$/);
    expect(order.customer).toEqual({ accountNumber: '10000', verified: true });
    expect(order.lines).toEqual([
      { lineId: '1', sku: '1896-S', quantity: 2, unitPrice: 100.5, warehouse: 'WH-EAST', backordered: false },
      { lineId: '2', sku: '1900-S', quantity: 1.5, unitPrice: 20, warehouse: 'WH-EAST', backordered: false },
    ]);
    const [inErp, ...more] = erpOrdersWithReference(w.sim, order.reference);
    expect(more).toEqual([]);
    expect(inErp).toMatchObject({ number: order.erpOrderRef, customerNumber: '10000' });
    expect(inErp!.salesOrderLines.map((l) => [l.lineObjectNumber, l.quantity, l.unitPrice])).toEqual([['1896-S', 2, 100.5], ['1900-S', 1.5, 20]]);
    await waitUntil('status events', () => eventsOf(order.orderId).length === 2);
    expect(eventsOf(order.orderId)).toEqual([
      { orderId: order.orderId, channelOrderId: body.channelOrderId, status: 'submitted' },
      { orderId: order.orderId, channelOrderId: body.channelOrderId, status: 'confirmed', erpOrderRef: order.erpOrderRef },
    ]);
    expect(w.portal.badSignatures).toBe(0);
    // Found by the channel's own id too.
    const found = await t.request('GET', `/v1/orders?channelOrderId=${encodeURIComponent(body.channelOrderId)}`, { token: w.portalKey });
    expect(found.body.orderId).toBe(order.orderId);
  });

  it('answers a replayed Idempotency-Key with the same result, and a reused one with another body with 409', async () => {
    const body = orderBody();
    const first = await submitOrder(t, w.portalKey, body, 'key-replay');
    const again = await submitOrder(t, w.portalKey, body, 'key-replay');
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const reused = await submitOrder(t, w.portalKey, orderBody(), 'key-replay');
    expect(reused.status).toBe(409);
    expect(reused.body.type).toMatch(/idempotency-key-reused$/);
    const duplicate = await submitOrder(t, w.portalKey, body, 'another-key');
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.orderId).toBe(first.body.orderId);
    expect(duplicate.body.detail).toContain(first.body.orderId);
    const [{ n }] = await t.sql<{ n: number }>('select count(*)::int as n from sales_order where channel_order_id = $1', [body.channelOrderId]);
    expect(n).toBe(1);
  });

  it('makes one order and one ERP order of 20 concurrent requests with one key', async () => {
    const body = orderBody();
    const answers = await Promise.all(Array.from({ length: 20 }, () => submitOrder(t, w.portalKey, body, 'key-concurrent')));
    const accepted = answers.filter((a) => a.status === 202);
    expect(accepted.length).toBeGreaterThan(0);
    // The ones that found the first still in progress are told to retry; none made a second order.
    expect(answers.every((a) => a.status === 202 || (a.status === 409 && /in progress/.test(a.body.detail)))).toBe(true);
    expect(new Set(accepted.map((a) => a.body.orderId)).size).toBe(1);
    const order = await waitForStatus(t, accepted[0]!.body.orderId, 'confirmed');
    expect(erpOrdersWithReference(w.sim, order.reference)).toHaveLength(1);
    const [{ n }] = await t.sql<{ n: number }>('select count(*)::int as n from sales_order where channel_order_id = $1', [body.channelOrderId]);
    expect(n).toBe(1);
  });

  it('refuses invalid orders naming every field, and stores nothing', async () => {
    const before = await t.sql('select count(*)::int as n from sales_order');
    const answer = await submitOrder(t, w.portalKey, orderBody({
      channelOrderId: 'x'.repeat(65),
      currency: 'EURO',
      lines: [
        { lineId: '1', sku: '', quantity: 0, unitPrice: 1.00001 },
        { lineId: '1', sku: 'A', quantity: 1.0001, unitPrice: -1 },
      ],
      shipTo: { country: 'XX' },
    }));
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    const fields = answer.body.errors.map((e: { field: string }) => e.field);
    for (const field of ['channelOrderId', 'currency', 'lines', 'lines[0].sku', 'lines[0].quantity', 'lines[0].unitPrice', 'lines[1].quantity', 'lines[1].unitPrice', 'shipTo.country']) {
      expect(fields).toContain(field);
    }
    const tooMany = await submitOrder(t, w.portalKey, orderBody({ lines: Array.from({ length: 501 }, (_, i) => ({ lineId: String(i), sku: 'A', quantity: 1, unitPrice: 1 })) }));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors.map((e: { field: string }) => e.field)).toContain('lines');
    // Numbers written with an exponent and no '.' (1e-7) are a field's error, not the service's.
    const tiny = await submitOrder(t, w.portalKey, orderBody({ lines: [{ lineId: '1', sku: 'A', quantity: 1e-7, unitPrice: -4e-323 }] }));
    expect(tiny.status).toBe(400);
    expect(tiny.body.errors).toEqual(expect.arrayContaining([
      { field: 'lines[0].quantity', message: 'quantity must be a number with at most 3 decimals' },
      { field: 'lines[0].unitPrice', message: 'unitPrice must be a number with at most 4 decimals' },
    ]));
    const noKey = await t.request('POST', '/v1/orders', { token: w.portalKey, body: orderBody() });
    expect(noKey.status).toBe(400);
    expect(noKey.body.errors[0].field).toBe('Idempotency-Key');
    expect(await t.sql('select count(*)::int as n from sales_order')).toEqual(before);
  });

  it('refuses a blocked customer with 422 customer-blocked', async () => {
    const answer = await submitOrder(t, w.portalKey, orderBody({ customer: { accountNumber: '30000' } }));
    expect(answer.status).toBe(422);
    expect(answer.body.type).toMatch(/customer-blocked$/);
    expect(answer.body.detail).toContain('30000');
  });

  it('holds an order over the credit limit, sends nothing, and confirms it once released', async () => {
    const answer = await submitOrder(t, w.portalKey, orderBody({ customer: { accountNumber: '20000' } }));
    expect(answer.body.status).toBe('on_hold');
    const orderId = answer.body.orderId;
    const held = (await t.request('GET', `/v1/orders/${orderId}`)).body;
    expect(held.statusReason).toMatch(/credit limit/);
    await new Promise((r) => setTimeout(r, 500));
    expect(erpOrdersWithReference(w.sim, held.reference)).toEqual([]);
    expect((await t.request('POST', `/v1/orders/${orderId}/release`, { token: w.portalKey })).status).toBe(403);
    const released = await t.request('POST', `/v1/orders/${orderId}/release`);
    expect(released.status).toBe(200);
    const order = await waitForStatus(t, orderId, 'confirmed');
    expect(order.history.map((h: { status: string }) => h.status)).toEqual(['accepted', 'on_hold', 'accepted', 'submitted', 'confirmed']);
    expect(erpOrdersWithReference(w.sim, held.reference)).toHaveLength(1);
    expect((await t.request('POST', `/v1/orders/${orderId}/release`)).status).toBe(409);
  });

  it('lifts a credit hold when a customer update from the ERP allows the order', async () => {
    const answer = await submitOrder(t, w.portalKey, orderBody({ customer: { accountNumber: '20000' } }));
    expect(answer.body.status).toBe('on_hold');
    await fetch(`${w.simUrl}/_control/customers/20000`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ creditLimit: 50_000 }) });
    expect((await t.request('POST', '/v1/admin/erp-backends/bc/sync/customers')).body.customers).toBeGreaterThan(0);
    const order = await waitForStatus(t, answer.body.orderId, 'confirmed');
    expect(order.history.map((h: { reason: string | null }) => h.reason)).toContain('credit hold lifted by the ERP customer figures');
    await fetch(`${w.simUrl}/_control/customers/20000`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ creditLimit: 5_000 }) });
    await t.request('POST', '/v1/admin/erp-backends/bc/sync/customers');
  });

  it('ends an order the ERP refuses (unknown item) as rejected with the ERP\'s message, and one for an unknown customer too', async () => {
    const badItem = await submitOrder(t, w.portalKey, orderBody({ lines: [{ lineId: '1', sku: 'NO-SUCH-ITEM', quantity: 1, unitPrice: 1 }] }));
    const rejected = await waitForStatus(t, badItem.body.orderId, 'rejected');
    expect(rejected.statusReason).toMatch(/NO-SUCH-ITEM/);
    expect(eventsOf(rejected.orderId).length).toBeGreaterThanOrEqual(0);
    const unknown = await submitOrder(t, w.portalKey, orderBody({ customer: { accountNumber: '99999' } }));
    expect(unknown.status).toBe(202);
    const order = await waitForStatus(t, unknown.body.orderId, 'rejected');
    expect(order.customer).toEqual({ accountNumber: '99999', verified: false });
    expect(order.statusReason).toMatch(/Customer does not exist/);
    await waitUntil('rejection sent to the channel', () => eventsOf(order.orderId).some((e) => e.status === 'rejected' && /Customer/.test(e.reason)));
  });

  it('shows a channel only its own orders', async () => {
    const answer = await submitOrder(t, w.portalKey, orderBody());
    const orderId = answer.body.orderId;
    expect((await t.request('GET', `/v1/orders/${orderId}`, { token: w.portalKey })).status).toBe(200);
    const other = await t.request('GET', `/v1/orders/${orderId}`, { token: w.otherKey });
    expect(other.status).toBe(404);
    expect(other.text).not.toContain('portal');
    const body = (await t.request('GET', `/v1/orders/${orderId}`)).body;
    expect((await t.request('GET', `/v1/orders?channelOrderId=${body.channelOrderId}`, { token: w.otherKey })).status).toBe(404);
    expect((await t.request('POST', `/v1/orders/${orderId}/cancel`, { token: w.otherKey })).status).toBe(404);
  });

  it('cancels a held order locally, and a confirmed one by deleting it in the ERP', async () => {
    const held = await submitOrder(t, w.portalKey, orderBody({ customer: { accountNumber: '20000' } }));
    const cancelled = await t.request('POST', `/v1/orders/${held.body.orderId}/cancel`, { token: w.portalKey });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', cancellation: 'done' });
    expect((await t.request('POST', `/v1/orders/${held.body.orderId}/release`)).status).toBe(409);

    const answer = await submitOrder(t, w.portalKey, orderBody());
    const confirmed = await waitForStatus(t, answer.body.orderId, 'confirmed');
    const [made] = erpOrdersWithReference(w.sim, confirmed.reference);
    expect(made).toBeDefined();
    const before = w.sim.state.requests.length;
    const cancel = await t.request('POST', `/v1/orders/${confirmed.orderId}/cancel`, { token: w.portalKey });
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('cancelled');
    expect(erpOrdersWithReference(w.sim, confirmed.reference)).toEqual([]);
    // The order's id in the ERP came from the cross-reference: deleted by it, with no look-up by reference.
    const calls = w.sim.state.requests.slice(before).filter((r) => r.path.includes('salesOrders'));
    expect(calls.map((r) => `${r.method} ${r.status}`)).toEqual(['DELETE 204']);
    expect(calls[0]!.path).toContain(made!.id);
    await waitUntil('cancel sent to the channel', () => eventsOf(confirmed.orderId).some((e) => e.status === 'cancelled'));
    // Cancelling again changes nothing.
    expect((await t.request('POST', `/v1/orders/${confirmed.orderId}/cancel`, { token: w.portalKey })).status).toBe(200);
  });

  it('answers 409 with the ERP\'s reason when it refuses to delete an order', async () => {
    const answer = await submitOrder(t, w.portalKey, orderBody());
    const confirmed = await waitForStatus(t, answer.body.orderId, 'confirmed');
    const [inErp] = erpOrdersWithReference(w.sim, confirmed.reference);
    const shipped = await fetch(`${w.simUrl}/_control/orders/${inErp!.id}/ship`, { method: 'POST' });
    expect(shipped.status).toBe(200);
    const cancel = await t.request('POST', `/v1/orders/${confirmed.orderId}/cancel`, { token: w.portalKey });
    expect(cancel.status).toBe(409);
    expect(cancel.body.type).toMatch(/cancel-refused$/);
    expect(cancel.body.detail).toMatch(/shipped/i);
    const after = (await t.request('GET', `/v1/orders/${confirmed.orderId}`)).body;
    expect(after.status).toBe('confirmed');
    expect(erpOrdersWithReference(w.sim, confirmed.reference)).toHaveLength(1);
  });
});

describe('a channel that took orders', () => {
  it('cannot be deleted: 409 with the reason, and the channel and its orders stay', async () => {
    const answer = await submitOrder(t, w.otherKey, orderBody());
    expect(answer.status).toBe(202);
    const refused = await t.request('DELETE', '/v1/admin/channels/other');
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain('is still referred to by its orders');
    expect((await t.request('GET', '/v1/admin/channels/other')).status).toBe(200);
    expect((await t.request('GET', `/v1/orders/${answer.body.orderId}`)).status).toBe(200);
  });
});

describe('an order before any backend is routed for orders', () => {
  let s: TestApp;
  beforeAll(async () => {
    s = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_ROLE: 'api' } });
  });
  afterAll(() => s.close());

  it('is refused with 503 orders-not-routed and Retry-After, stores nothing, and its key is taken once orders are routed', async () => {
    await s.request('PUT', '/v1/admin/channels/lonely', {
      body: { kind: 'api', config: {}, inventory: { warehouses: ['WH-WEST'], safetyStock: 0, allocationPercent: 100 }, oversell: 'backorder' },
    });
    const key = (await s.request('POST', '/v1/admin/channels/lonely/api-keys', { body: { scopes: ['orders:write', 'orders:read'] } })).body.key as string;
    const refused = await submitOrder(s, key, orderBody({ channelOrderId: 'UNROUTED-1' }), 'idem-unrouted');
    expect(refused.status).toBe(503);
    expect(refused.body.type).toMatch(/orders-not-routed$/);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(await s.sql('select 1 from sales_order union all select 1 from idempotency_record union all select 1 from outbox')).toEqual([]);

    expect((await s.request('PUT', '/v1/admin/erp-backends/bc', { body: bcBackend('http://127.0.0.1:9') })).status).toBeLessThan(300);
    expect((await s.request('PUT', '/v1/admin/routing/orders', { body: { mode: 'cloud', primary: 'bc' } })).status).toBeLessThan(300);
    const taken = await submitOrder(s, key, orderBody({ channelOrderId: 'UNROUTED-1' }), 'idem-unrouted');
    expect(taken.status).toBe(202);
    expect(await s.sql("select destination from outbox where type = 'erp.sales-order.create'")).toEqual([{ destination: 'erp:bc' }]);
  });
});
