import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyCompany } from '../src/simulators/demo-simulators.js';
import { createSapB1Simulator } from '../src/simulators/sap-b1/sap-b1-simulator.js';
import { waitUntil } from './support/messaging.js';
import { bcBackend, orderBody, ordersWorld, submitOrder, waitForStatus, type OrdersWorld } from './support/orders.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// Orders while SAP Business One (legacy) does the real work and Business Central shadows it: both answers compared,
// mismatches filed by category, the shadow's troubles kept to itself, and the cutover gated on readiness.
let t: TestApp;
let w: OrdersWorld;
const sap = createSapB1Simulator({ data: legacyCompany(), latencyMs: [1, 5], companyDb: 'SBODEMOUS', userName: 'manager', password: 'sap-secret' });
let sapUrl: string;

const SHADOW = { mode: 'shadow', primary: 'sap', shadow: 'bc' };
async function put(path: string, body: unknown): Promise<void> {
  const answer = await t.request('PUT', path, { body });
  if (answer.status >= 300) throw new Error(`${path}: ${answer.status} ${answer.text}`);
}
const sapControl = (path: string, body: unknown, method = 'POST') => fetch(`${sapUrl}/_control/${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const bcControl = (path: string, body: unknown) => fetch(`${w.simUrl}/_control/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const compared = async (orderId: string) => (await t.sql('select matched, mismatches from coexistence_comparison where domain = $1 and transaction = $2', ['orders', orderId]))[0];
const diffsOf = async (orderId: string) => (await t.request('GET', `/v1/coexistence/diffs?domain=orders&transaction=${orderId}`)).body.items as Array<Record<string, any>>;
const ordersReport = async () => (await t.request('GET', '/v1/coexistence/report?domain=orders')).body.domains[0];
async function confirmedOrder(over: Record<string, unknown> = {}): Promise<string> {
  const answer = await submitOrder(t, w.portalKey, orderBody(over));
  expect(answer.status).toBe(202);
  await waitForStatus(t, answer.body.orderId, 'confirmed');
  return answer.body.orderId;
}

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100', CROSSDOCK_DELIVERY_MAX_DELAY_MS: '500', CROSSDOCK_CIRCUIT_OPEN_MS: '1000' } });
  w = await ordersWorld(t);
  sapUrl = await sap.listen();
  await put('/v1/admin/erp-backends/sap', {
    kind: 'sap-b1', role: 'legacy',
    config: { baseUrl: `${sapUrl}/b1s/v1`, companyDb: 'SBODEMOUS', username: 'manager', password: 'sap-secret', warehouseCodes: { 'WH-EAST': '01', 'WH-WEST': '02' }, currencies: { $: 'USD' } },
    limits: { ratePerSecond: 50, burst: 20, concurrency: 4 }, maintenanceWindows: [],
  });
  expect((await t.request('POST', '/v1/admin/erp-backends/sap/sync/customers')).status).toBe(200);
  await put('/v1/admin/routing/orders', SHADOW);
});
afterAll(async () => {
  await t?.close();
  await w?.close();
  await sap.close();
});

describe('orders in shadow', () => {
  it('are made for real by the primary, and the same order in the shadow: both answers compared, here a match', async () => {
    const orderId = await confirmedOrder({ currency: 'USD' });
    const [order] = await t.sql('select erp_backend_id, erp_order_ref, reference from sales_order where id = $1', [orderId]);
    expect(order!.erp_backend_id).toBe('sap');
    expect([...sap.state.documents.Orders.values()].filter((o) => o.NumAtCard === order!.reference).map((o) => String(o.DocNum))).toEqual([order!.erp_order_ref]);
    await waitUntil('the shadow has the order too', () => [...w.sim.state.orders.values()].some((o) => o.externalDocumentNumber === order!.reference), 15_000);
    await waitUntil('both answers compared', async () => Boolean(await compared(orderId)), 15_000);
    expect(await compared(orderId)).toEqual({ matched: true, mismatches: 0 });
    expect(await diffsOf(orderId)).toEqual([]);
    // The shadow's answer reached nothing: the order's history names only the primary's reference.
    const history = (await t.request('GET', `/v1/orders/${orderId}`)).body;
    expect(history).toMatchObject({ status: 'confirmed', erpOrderRef: order!.erp_order_ref });
    // The cross-reference knows the order in both ERPs, by either side's id.
    const bcOrder = [...w.sim.state.orders.values()].find((o) => o.externalDocumentNumber === order!.reference)!;
    const ids = (await t.request('GET', `/v1/coexistence/xref/order/${orderId}`)).body;
    expect(ids).toMatchObject({ entity: 'order', canonicalId: orderId, backends: { sap: { erpRef: order!.erp_order_ref }, bc: { erpId: bcOrder.id, erpRef: bcOrder.number } } });
    expect((await t.request('GET', `/v1/coexistence/xref/order/${bcOrder.number}?backend=bc`)).body.canonicalId).toBe(orderId);
    expect((await t.request('GET', '/v1/coexistence/xref/order/nope?backend=bc')).status).toBe(404);
    // And the accounts, as each ERP's pull read them.
    const account = (await t.request('GET', '/v1/coexistence/xref/customer/10000')).body;
    expect(account.backends).toMatchObject({ bc: { erpId: w.sim.state.customers.get('10000')!.id }, sap: { erpId: '10000' } });
  });

  it('files a mismatch by category, with both sides: the ERPs tax differently', async () => {
    await sapControl('settings', { taxRatePercent: 20 });
    try {
      const orderId = await confirmedOrder({ currency: 'USD' });
      await waitUntil('both answers compared', async () => Boolean(await compared(orderId)), 15_000);
      expect(await compared(orderId)).toMatchObject({ matched: false });
      const diffs = await diffsOf(orderId);
      const tax = diffs.find((d) => d.category === 'tax')!;
      expect(tax).toMatchObject({ field: 'totalTax', primaryBackend: 'sap', shadowBackend: 'bc' });
      expect(Number(tax.primary)).toBeGreaterThan(Number(tax.shadow));
      expect((await t.request('GET', '/v1/coexistence/diffs?domain=orders&category=tax')).body.items.some((d: any) => d.transaction === orderId)).toBe(true);
      expect((await ordersReport()).mismatchesByCategory.tax).toBeGreaterThan(0);
    } finally {
      await sapControl('settings', { taxRatePercent: 8.25 });
    }
  });

  it("keeps the shadow's refusal to itself: a missing answer in the report, the order confirmed, no dead letter in the primary's flow", async () => {
    // An account only the legacy ERP has.
    await sapControl('business-partners/SAP-ONLY', { CardName: 'Legacy Only Ltd', CardType: 'cCustomer', Currency: '$' }, 'PUT');
    expect((await t.request('POST', '/v1/admin/erp-backends/sap/sync/customers')).status).toBe(200);
    const orderId = await confirmedOrder({ currency: 'USD', customer: { accountNumber: 'SAP-ONLY' } });
    await waitUntil('the shadow\'s refusal compared', async () => Boolean(await compared(orderId)), 15_000);
    expect(await diffsOf(orderId)).toEqual([expect.objectContaining({ category: 'missing', field: 'shadow', primary: 'answered' })]);
    expect((await t.request('GET', `/v1/orders/${orderId}`)).body.status).toBe('confirmed');
    expect((await t.request('GET', '/v1/ops/dead-letters?destination=erp:sap')).body.items).toEqual([]);
    expect((await t.request('GET', '/v1/ops/dead-letters?destination=erp:bc')).body.items.length).toBeGreaterThan(0);
  });

  it('never waits for a shadow that is down: confirmed by the primary at once, compared once the shadow is back', async () => {
    await bcControl('maintenance', { on: true });
    let orderId: string;
    try {
      orderId = await confirmedOrder({ currency: 'USD' });
      expect(await compared(orderId)).toBeUndefined();
    } finally {
      await bcControl('maintenance', { on: false });
    }
    await waitUntil('compared once the shadow answers', async () => Boolean(await compared(orderId!)), 30_000);
    expect(await compared(orderId!)).toEqual({ matched: true, mismatches: 0 });
  });
});

describe('the cross-reference at work', () => {
  it('cancels an order in both ERPs by the ids it recorded, with no look-up by reference', async () => {
    const orderId = await confirmedOrder({ currency: 'USD' });
    await waitUntil('both ids recorded', async () => Object.keys((await t.request('GET', `/v1/coexistence/xref/order/${orderId}`)).body.backends ?? {}).length === 2, 15_000);
    const [{ reference }] = await t.sql<{ reference: string }>('select reference from sales_order where id = $1', [orderId]);
    const sapBefore = sap.state.requests.length;
    const bcBefore = w.sim.state.requests.length;
    const cancel = await t.request('POST', `/v1/orders/${orderId}/cancel`, { token: w.portalKey });
    expect(cancel.body.status).toBe('cancelled');
    await waitUntil('the shadow\'s order deleted too', () => ![...w.sim.state.orders.values()].some((o) => o.externalDocumentNumber === reference), 15_000);
    const sapOrder = [...sap.state.documents.Orders.values()].find((o) => o.NumAtCard === reference)!;
    expect(sapOrder.Cancelled).toBe('tYES');
    const sapCalls = sap.state.requests.slice(sapBefore).filter((r) => r.path.includes('Orders'));
    expect(sapCalls.map((r) => `${r.method} ${r.path.replace(/^\/b1s\/v[12]\//, '')}`)).toEqual([`POST Orders(${sapOrder.DocEntry})/Cancel`]);
    expect(w.sim.state.requests.slice(bcBefore).filter((r) => r.path.includes('salesOrders')).map((r) => r.method)).toEqual(['DELETE']);
  });
});

describe('the operations search', () => {
  it('finds a transaction by any of its ids, with where to see the rest', async () => {
    const orderId = await confirmedOrder({ currency: 'USD' });
    const [order] = await t.sql<{ reference: string; channel_order_id: string; erp_order_ref: string; correlation_id: string }>(
      'select reference, channel_order_id, erp_order_ref, correlation_id from sales_order where id = $1', [orderId],
    );
    const search = async (q: string) => (await t.request('GET', `/v1/ops/search?q=${encodeURIComponent(q)}`)).body.results as Array<Record<string, any>>;
    for (const [q, matched] of [[orderId, 'orderId'], [order!.reference, 'reference'], [order!.channel_order_id, 'channelOrderId'], [order!.erp_order_ref, 'erpOrderRef']] as const) {
      expect(await search(q), q).toEqual([expect.objectContaining({ kind: 'order', id: orderId, matched, correlationId: order!.correlation_id, links: [`/v1/ops/trace/${order!.correlation_id}`, `/v1/orders/${orderId}`] })]);
    }
    expect(await search(order!.correlation_id)).toEqual([expect.objectContaining({ kind: 'correlation', links: [`/v1/ops/trace/${order!.correlation_id}`] })]);
    expect(await search('10000')).toEqual([expect.objectContaining({ kind: 'customer', id: '10000' })]);
    expect(await search('nothing-here')).toEqual([]);
    expect((await t.request('GET', '/v1/ops/search?q=')).status).toBe(400);
  });
});

describe('stock', () => {
  it('has one authority: the shadow\'s figures are compared, never applied; another backend is refused', async () => {
    const bc = bcBackend(w.simUrl);
    await put('/v1/admin/erp-backends/bc', { ...bc, config: { ...bc.config, locationCodes: { 'WH-EAST': 'EAST', 'WH-WEST': 'WEST' } } });
    await put('/v1/admin/routing/inventory', { mode: 'shadow', primary: 'bc', shadow: 'sap' });
    const positions = async () => t.sql<{ source: string; n: number }>('select source, count(*)::int as n from stock_position group by source order by source');
    // The backend's new settings reach its connector within the directory's few seconds of caching.
    await waitUntil('the primary\'s stock applied', async () => (await t.request('POST', '/v1/admin/erp-backends/bc/sync/stock')).status === 200 && (await positions()).length > 0, 15_000, 500);
    const applied = await positions();
    expect(applied.map((r) => r.source)).toEqual(['erp:bc']);
    // The operations search finds the SKU, its positions summed.
    expect((await t.request('GET', '/v1/ops/search?q=1896-S')).body.results).toEqual([expect.objectContaining({ kind: 'sku', id: '1896-S', links: ['/v1/inventory/1896-S'] })]);
    // The legacy ERP's committed quantities differ: its open orders (every test's) are not Business Central's.
    const compared = await t.request('POST', '/v1/admin/erp-backends/sap/sync/stock');
    expect(compared.status).toBe(200);
    expect(compared.body).toMatchObject({ backendId: 'sap', applied: 0 });
    expect(compared.body.compared).toBeGreaterThan(0);
    expect(await positions()).toEqual(applied);
    const report = (await t.request('GET', '/v1/coexistence/report?domain=inventory')).body.domains[0];
    expect(report).toMatchObject({ mode: 'shadow', compared: compared.body.compared });
    const [diff] = (await t.request('GET', '/v1/coexistence/diffs?domain=inventory&category=stock')).body.items;
    expect(diff).toMatchObject({ category: 'stock', primaryBackend: 'bc', shadowBackend: 'sap' });
    expect(['onHand', 'reserved']).toContain(diff.field);

    // Levels pushed by a source that stands for an ERP: the shadow's are compared, never applied; the primary's apply.
    const sourceKey = async (id: string, erpBackend?: string) => {
      await put(`/v1/admin/sources/${id}`, { name: id, ...(erpBackend ? { erpBackend } : {}) });
      return (await t.request('POST', `/v1/admin/sources/${id}/api-keys`, { body: { scopes: ['inventory:write'] } })).body.key as string;
    };
    const [sapAddOn, bcAddOn, otherAddOn] = [await sourceKey('sap-addon', 'sap'), await sourceKey('bc-addon', 'bc'), await sourceKey('other-addon', 'nav-old')];
    const level = (eventId: string, onHand: number) => ({ items: [{ eventId, sku: '1896-S', warehouse: 'WH-EAST', onHand, occurredAt: new Date().toISOString() }] });
    const figure = async () => (await t.sql("select on_hand::float8 as n from stock_position where sku = '1896-S' and warehouse = 'WH-EAST'"))[0]?.n;
    const before = await figure();
    const fromShadow = await t.request('POST', '/v1/inventory/levels', { token: sapAddOn, body: level('sap-push-1', 4321) });
    expect(fromShadow.status).toBe(202);
    expect(fromShadow.body).toMatchObject({ accepted: 0, compared: 1, errors: [] });
    expect(await figure()).toBe(before);
    // The position's comparison now holds the shadow's pushed figure beside the primary's.
    const pushed = (await t.request('GET', `/v1/coexistence/diffs?domain=inventory&transaction=${encodeURIComponent('1896-S@WH-EAST')}`)).body.items;
    expect(pushed).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'onHand', shadowBackend: 'sap' })]));
    expect(JSON.stringify(pushed)).toContain('4321');
    const movement = await t.request('POST', '/v1/inventory/movements', { token: sapAddOn, body: { items: [{ eventId: 'sap-move-1', sku: '1896-S', warehouse: 'WH-EAST', delta: 5, sequence: 1 }] } });
    expect(movement.body.errors[0].message).toContain('report its levels to compare them');
    expect(await figure()).toBe(before);
    const fromOther = await t.request('POST', '/v1/inventory/levels', { token: otherAddOn, body: level('other-push-1', 7) });
    expect(fromOther.body.accepted).toBe(0);
    expect(fromOther.body.errors[0].message).toContain('not the authority for stock');
    const fromPrimary = await t.request('POST', '/v1/inventory/levels', { token: bcAddOn, body: level('bc-push-1', 1234) });
    expect(fromPrimary.body).toMatchObject({ accepted: 1, errors: [] });
    expect(await figure()).toBe(1234);

    // Neither primary nor shadow: not the authority.
    await put('/v1/admin/routing/inventory', { mode: 'cloud', primary: 'bc' });
    const refused = await t.request('POST', '/v1/admin/erp-backends/sap/sync/stock');
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain('not the authority for stock');
    const pushedRefused = await t.request('POST', '/v1/inventory/levels', { token: sapAddOn, body: level('sap-push-2', 99) });
    expect(pushedRefused.body.errors[0].message).toContain('not the authority for stock');
    expect(await figure()).toBe(1234);
  });
});

describe('the cutover', () => {
  it('is refused while readiness is not met, with the figures; forced, it goes and is audited; the rollback is the same switch back', async () => {
    await put('/v1/admin/coexistence/readiness/orders', { threshold: 1, windowHours: 1, minTransactions: 1 });
    const report = await ordersReport();
    expect(report).toMatchObject({ mode: 'shadow', primary: 'sap', shadow: 'bc', readiness: { ready: false, threshold: 1 } });
    expect(report.compared).toBeGreaterThanOrEqual(4);
    expect(report.matchRate).toBeLessThan(1);
    const refused = await t.request('PUT', '/v1/admin/routing/orders', { body: { mode: 'cloud', primary: 'bc' } });
    expect(refused.status).toBe(409);
    expect(refused.body.readiness).toMatchObject({ ready: false, threshold: 1, compared: report.compared, matched: report.matched });
    expect((await t.request('GET', '/v1/admin/routing/orders')).body.mode).toBe('shadow');
    const forced = await t.request('PUT', '/v1/admin/routing/orders', { body: { mode: 'cloud', primary: 'bc', force: true } });
    expect(forced.status).toBe(200);
    const [entry] = await t.sql("select after from audit_entry where resource_type = 'routing' and resource_id = 'orders' order by id desc limit 1");
    expect(entry!.after).toMatchObject({ mode: 'cloud', primary: 'bc', forced: expect.stringContaining('below') });
    // New orders go to the cloud ERP alone.
    const orderId = await confirmedOrder({ currency: 'USD' });
    expect((await t.sql('select erp_backend_id from sales_order where id = $1', [orderId]))[0]!.erp_backend_id).toBe('bc');
    // Rollback.
    expect((await t.request('PUT', '/v1/admin/routing/orders', { body: SHADOW })).status).toBe(200);
    expect((await ordersReport()).mode).toBe('shadow');
  });

  it('under load: orders in flight finish where they started, none lost, none made twice, each order real in one ERP only', async () => {
    const answers: Array<Promise<{ status: number; body: any }>> = [];
    for (let i = 0; i < 30; i++) {
      answers.push(submitOrder(t, w.portalKey, orderBody({ currency: 'USD' })));
      if (i === 14) answers.push(t.request('PUT', '/v1/admin/routing/orders', { body: { mode: 'legacy', primary: 'sap' } }).then((a) => ({ status: a.status, body: { switched: true } })));
    }
    const settled = await Promise.all(answers);
    const orders = settled.filter((a) => !a.body.switched);
    expect(orders.every((a) => a.status === 202)).toBe(true);
    const ids = orders.map((a) => a.body.orderId as string);
    await waitUntil('every order confirmed', async () => (await t.sql("select count(*)::int as n from sales_order where id = any($1::uuid[]) and status = 'confirmed'", [ids]))[0]!.n === ids.length, 30_000);
    const rows = await t.sql<{ id: string; reference: string; erp_backend_id: string }>('select id, reference, erp_backend_id from sales_order where id = any($1::uuid[])', [ids]);
    expect(rows.every((r) => r.erp_backend_id === 'sap')).toBe(true);
    for (const row of rows) {
      expect([...sap.state.documents.Orders.values()].filter((o) => o.NumAtCard === row.reference)).toHaveLength(1);
      expect([...w.sim.state.orders.values()].filter((o) => o.externalDocumentNumber === row.reference).length).toBeLessThanOrEqual(1);
    }
    // The orders made before the switch went to the shadow too; none after it did.
    const shadowed = await t.sql<{ key: string }>("select distinct key from outbox where type = 'erp.sales-order.create' and destination = 'erp:bc' and key = any($1::text[])", [ids]);
    expect(shadowed.length).toBeLessThan(ids.length);
  });
});
