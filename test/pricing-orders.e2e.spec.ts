import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET_SECRET } from './support/fault-target.js';
import { waitUntil } from './support/messaging.js';
import { erpOrdersWithReference, orderBody, ordersWorld, submitOrder, waitForStatus, type OrdersWorld } from './support/orders.js';
import { startTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
let w: OrdersWorld;

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn' } });
  w = await ordersWorld(t);
  await t.request('PUT', '/v1/admin/sources/erp-prices', { body: { name: 'ERP prices' } });
  const sourceKey = (await t.request('POST', '/v1/admin/sources/erp-prices/api-keys', { body: { scopes: ['prices:write'] } })).body.key;
  // The order body's lines: 1896-S at 100.5 (the effective price) and 1900-S at 20 (the effective price is 25).
  const answer = await t.request('POST', '/v1/prices', {
    token: sourceKey,
    body: { items: [
      { eventId: 'o-1', priceList: 'base', sku: '1896-S', currency: 'EUR', unitPrice: 100.5, sequence: 1 },
      { eventId: 'o-2', priceList: 'base', sku: '1900-S', currency: 'EUR', unitPrice: 25, sequence: 1 },
    ] },
  });
  expect(answer.body).toMatchObject({ accepted: 2, errors: [] });
});
afterAll(async () => {
  await t?.close();
  await w?.close();
});

/** The portal checks prices with this policy from now on. */
async function portalChecks(pricing: Record<string, unknown>): Promise<void> {
  const answer = await t.request('PUT', '/v1/admin/channels/portal', {
    body: {
      kind: 'webhook', config: { url: w.portal.url, secret: TARGET_SECRET },
      inventory: { warehouses: ['WH-EAST', 'WH-WEST'], safetyStock: 0, allocationPercent: 100 }, oversell: 'backorder',
      limits: { ratePerSecond: 200, burst: 200, concurrency: 8 }, pricing: { priceList: 'PORTAL', currency: 'EUR', ...pricing },
    },
  });
  expect(answer.status).toBeLessThan(300);
}

describe('the order intake checks prices by the channel\'s policy', () => {
  it('refuses an order whose line differs from the effective price, naming the line, and stores nothing', async () => {
    await portalChecks({ onMismatch: 'refuse' });
    const body = orderBody();
    const answer = await submitOrder(t, w.portalKey, body);
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ type: expect.stringContaining('price-mismatch') });
    expect(answer.body.lines).toEqual([{ lineId: '2', sku: '1900-S', quantity: 1.5, unitPrice: 20, effectivePrice: 25, priceList: 'base', source: 'base' }]);
    expect(await t.sql('select id from sales_order where channel_order_id = $1', [body.channelOrderId])).toEqual([]);
    // Within the tolerance (25%), the same order goes.
    await portalChecks({ onMismatch: 'refuse', tolerancePercent: 25 });
    expect((await submitOrder(t, w.portalKey, orderBody())).status).toBe(202);
  }, 30_000);

  it('holds it from the ERP until an operator releases it', async () => {
    await portalChecks({ onMismatch: 'hold' });
    const body = orderBody();
    const answer = await submitOrder(t, w.portalKey, body);
    expect(answer.status).toBe(202);
    expect(answer.body.status).toBe('on_hold');
    const held = await waitForStatus(t, answer.body.orderId, 'on_hold');
    expect(held).toMatchObject({ holdReason: 'price-mismatch', priceMismatch: [{ lineId: '2', effectivePrice: 25 }] });
    await new Promise((r) => setTimeout(r, 500));
    expect(erpOrdersWithReference(w.sim, held.reference)).toHaveLength(0);
    // A refresh of the customer figures releases credit holds, not this one.
    expect((await t.request('POST', '/v1/admin/erp-backends/bc/sync/customers')).status).toBe(200);
    expect((await t.request('GET', `/v1/orders/${answer.body.orderId}`)).body.status).toBe('on_hold');
    expect((await t.request('POST', `/v1/orders/${answer.body.orderId}/release`)).status).toBeLessThan(300);
    await waitForStatus(t, answer.body.orderId, 'confirmed');
    expect(erpOrdersWithReference(w.sim, held.reference)).toHaveLength(1);
  }, 30_000);

  it('holds a mispriced order over its credit limit for its prices once the credit hold lifts', async () => {
    await portalChecks({ onMismatch: 'hold' });
    // Trey Research (20000): a balance of 4,900 against a limit of 5,000.
    const answer = await submitOrder(t, w.portalKey, orderBody({ customer: { accountNumber: '20000' } }));
    expect(answer.body.status).toBe('on_hold');
    expect((await t.request('GET', `/v1/orders/${answer.body.orderId}`)).body).toMatchObject({ holdReason: 'credit-limit' });
    await fetch(`${w.simUrl}/_control/customers/20000`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ creditLimit: 1_000_000 }) });
    expect((await t.request('POST', '/v1/admin/erp-backends/bc/sync/customers')).status).toBe(200);
    await waitUntil('the order held for its prices', async () => (await t.request('GET', `/v1/orders/${answer.body.orderId}`)).body.holdReason === 'price-mismatch', 10_000);
    const order = (await t.request('GET', `/v1/orders/${answer.body.orderId}`)).body;
    expect(order.status).toBe('on_hold');
    expect(order.history.map((h: { status: string }) => h.status)).toEqual(['accepted', 'on_hold', 'on_hold']);
  }, 30_000);

  it('accepts and flags it, and sends it to the ERP', async () => {
    await portalChecks({ onMismatch: 'flag' });
    const answer = await submitOrder(t, w.portalKey, orderBody());
    expect(answer.status).toBe(202);
    const confirmed = await waitForStatus(t, answer.body.orderId, 'confirmed');
    expect(confirmed.priceMismatch).toEqual([{ lineId: '2', sku: '1900-S', quantity: 1.5, unitPrice: 20, effectivePrice: 25, priceList: 'base', source: 'base' }]);
    expect(confirmed.history[0].reason).toContain('flagged: price differs');
    // A correct order carries no flag.
    const right = await submitOrder(t, w.portalKey, orderBody({ lines: [{ lineId: '1', sku: '1896-S', quantity: 1, unitPrice: 100.5 }] }));
    expect((await waitForStatus(t, right.body.orderId, 'confirmed')).priceMismatch).toBeNull();
  }, 30_000);
});
