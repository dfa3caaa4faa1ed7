import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signShopifyBody, verifyShopifyHmac, parseShopifyJson } from '../src/connectors/channels/shopify/shopify-webhooks.js';
import { erpOrdersWithReference, ordersWorld, waitForStatus, type OrdersWorld } from './support/orders.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const SECRET = 'shopify-app-secret-for-tests';
const fixture = JSON.parse(readFileSync(new URL('./fixtures/shopify/rest_order.shopify_python_api.json', import.meta.url), 'utf8')).order;
const hmacVector = JSON.parse(readFileSync(new URL('./fixtures/shopify/webhook_headers_and_hmac.json', import.meta.url), 'utf8')).computed_test_vector;

let t: TestApp;
let w: OrdersWorld;

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100' } });
  w = await ordersWorld(t);
  for (const sku of ['IPOD2008GREEN', 'IPOD2008RED', 'IPOD2008BLACK']) {
    await fetch(`${w.simUrl}/_control/items/${sku}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ displayName: `iPod ${sku}`, unitPrice: 199 }) });
  }
  const put = await t.request('PUT', '/v1/admin/channels/shop', {
    body: {
      kind: 'shopify',
      config: {
        shopDomain: 'acme-eu.myshopify.com', apiVersion: '2026-04', accessToken: 'shpat_test', webhookSecret: SECRET,
        customerAccount: { source: 'email', emails: { 'bob.norman@hostmail.com': '10000' } },
      },
      inventory: { warehouses: ['WH-WEST'], safetyStock: 0, allocationPercent: 100 },
      oversell: 'backorder',
    },
  });
  expect(put.status).toBe(201);
});
afterAll(async () => {
  await t?.close();
  await w?.close();
});

/** Posts a Shopify delivery signed with `secret`. */
function deliver(topic: string, body: string, headers: Record<string, string> = {}, secret = SECRET) {
  return t.request('POST', '/v1/webhooks/shopify/shop', {
    token: null,
    rawBody: body,
    headers: {
      'x-shopify-topic': topic,
      'x-shopify-hmac-sha256': signShopifyBody(secret, body),
      'x-shopify-shop-domain': 'acme-eu.myshopify.com',
      'x-shopify-api-version': '2026-04',
      'x-shopify-webhook-id': `wh-${Math.random()}`,
      'x-shopify-triggered-at': new Date().toISOString(),
      ...headers,
    },
  });
}

describe('Shopify webhooks', () => {
  it('verifies signatures as Shopify computes them (the published test vector)', () => {
    const body = readFileSync(new URL(`./fixtures/shopify/${hmacVector.body_file}`, import.meta.url));
    expect(verifyShopifyHmac(hmacVector.secret, body, hmacVector['X-Shopify-Hmac-Sha256'])).toBe(true);
    expect(verifyShopifyHmac(hmacVector.secret, Buffer.concat([body, Buffer.from(' ')]), hmacVector['X-Shopify-Hmac-Sha256'])).toBe(false);
    expect(verifyShopifyHmac('other-secret', body, hmacVector['X-Shopify-Hmac-Sha256'])).toBe(false);
  });

  it('keeps ids beyond 2^53 exact', () => {
    const parsed = parseShopifyJson('{"id": 12345678901234567890, "line_items": [{"id": 98765432109876543210, "quantity": 2, "price": "1.50"}]}') as any;
    expect(parsed.id).toBe('12345678901234567890');
    expect(parsed.line_items[0]).toEqual({ id: '98765432109876543210', quantity: 2, price: '1.50' });
  });

  it('turns orders/create from the fixture into an ERP order with the right lines, once for three deliveries of one event', async () => {
    const body = JSON.stringify({ ...fixture, id: 820982911946154508 }).replace('820982911946154500', '820982911946154508');
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await deliver('orders/create', body, { 'x-shopify-event-id': 'event-create-1' }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.map((a) => a.body.outcome)).toEqual(['created', 'duplicate', 'duplicate']);
    const [{ n }] = await t.sql<{ n: number }>("select count(*)::int as n from sales_order where channel_id = 'shop'");
    expect(n).toBe(1);
    const order = await waitForStatus(t, answers[0]!.body.orderId, 'confirmed');
    expect(order.channelOrderId).toBe('820982911946154508');
    expect(order.customer.accountNumber).toBe('10000');
    expect(order.currency).toBe('USD');
    expect(order.lines.map((l: any) => [l.lineId, l.sku, l.quantity, l.unitPrice, l.warehouse])).toEqual([
      ['466157049', 'IPOD2008GREEN', 1, 199, 'WH-WEST'],
      ['518995019', 'IPOD2008RED', 1, 199, 'WH-WEST'],
      ['703073504', 'IPOD2008BLACK', 1, 199, 'WH-WEST'],
    ]);
    const [inErp, ...more] = erpOrdersWithReference(w.sim, order.reference);
    expect(more).toEqual([]);
    expect(inErp!.customerNumber).toBe('10000');
    expect(inErp!.salesOrderLines.map((l) => [l.lineObjectNumber, l.quantity, l.unitPrice])).toEqual([
      ['IPOD2008GREEN', 1, 199], ['IPOD2008RED', 1, 199], ['IPOD2008BLACK', 1, 199],
    ]);
  });

  it('answers a bad signature with 401 and stores nothing', async () => {
    const before = await t.sql("select (select count(*) from sales_order) as orders, (select count(*) from inbox) as inbox");
    const body = JSON.stringify({ ...fixture, id: 1111 });
    const forged = await deliver('orders/create', body, {}, 'not-the-secret');
    expect(forged.status).toBe(401);
    expect(forged.headers.get('content-type')).toContain('application/problem+json');
    const unsigned = await deliver('orders/create', body, { 'x-shopify-hmac-sha256': '' });
    expect(unsigned.status).toBe(401);
    const tampered = await t.request('POST', '/v1/webhooks/shopify/shop', {
      token: null, rawBody: body.replace('"quantity":1', '"quantity":100'),
      headers: { 'x-shopify-topic': 'orders/create', 'x-shopify-hmac-sha256': signShopifyBody(SECRET, body), 'x-shopify-webhook-id': 'x' },
    });
    expect(tampered.status).toBe(401);
    expect(await t.sql("select (select count(*) from sales_order) as orders, (select count(*) from inbox) as inbox")).toEqual(before);
  });

  it('cancels on orders/cancelled, ignores a stale retry and records other topics as ignored', async () => {
    const created = await deliver('orders/create', JSON.stringify({ ...fixture, id: 2222 }), { 'x-shopify-event-id': 'event-create-2222' });
    expect(created.body.outcome).toBe('created');
    await waitForStatus(t, created.body.orderId, 'confirmed');
    const cancelledAt = new Date();
    const cancelled = await deliver('orders/cancelled', JSON.stringify({ ...fixture, id: 2222, cancelled_at: cancelledAt.toISOString() }), {
      'x-shopify-event-id': 'event-cancel-2222', 'x-shopify-triggered-at': cancelledAt.toISOString(),
    });
    expect(cancelled.body.outcome).toBe('cancel-requested');
    const order = await waitForStatus(t, created.body.orderId, 'cancelled');
    expect(erpOrdersWithReference(w.sim, order.reference)).toEqual([]);
    const stale = await deliver('orders/cancelled', JSON.stringify({ ...fixture, id: 2222 }), {
      'x-shopify-event-id': 'event-cancel-2222-older', 'x-shopify-triggered-at': new Date(cancelledAt.getTime() - 60_000).toISOString(),
    });
    expect(stale.body.outcome).toBe('stale');
    const other = await deliver('products/update', JSON.stringify({ id: 1 }));
    expect(other.body.outcome).toBe('ignored');
    const [trace] = await t.sql("select count(*)::int as n from trace_event where step = 'received' and detail->>'outcome' = 'ignored' and detail->>'topic' = 'products/update'");
    expect(trace.n).toBe(1);
  });

  it('records an order it cannot take as refused and answers 200, so Shopify does not retry it for days', async () => {
    const noSku = { ...fixture, id: 3333, line_items: fixture.line_items.map((l: any) => ({ ...l, sku: '' })) };
    const answer = await deliver('orders/create', JSON.stringify(noSku));
    expect(answer.status).toBe(200);
    expect(answer.body.outcome).toBe('refused');
    expect(answer.body.errors.map((e: any) => e.field)).toContain('lines[0].sku');
    const noAccount = await deliver('orders/create', JSON.stringify({ ...fixture, id: 3334, email: 'nobody@example.com', customer: { ...fixture.customer, email: 'nobody@example.com', tags: '' } }));
    expect(noAccount.body.outcome).toBe('refused');
    expect((await t.sql("select count(*)::int as n from sales_order where channel_order_id in ('3333', '3334')"))[0].n).toBe(0);
  });
});
