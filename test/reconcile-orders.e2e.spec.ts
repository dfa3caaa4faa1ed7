import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimSalesOrder } from '../src/simulators/business-central/bc-simulator.js';
import { legacyCompany } from '../src/simulators/demo-simulators.js';
import { createSapB1Simulator } from '../src/simulators/sap-b1/sap-b1-simulator.js';
import { waitUntil } from './support/messaging.js';
import { bcBackend, erpOrdersWithReference, orderBody, ordersWorld, orderStatus, submitOrder, waitForStatus, type OrdersWorld } from './support/orders.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// The orders domain's reconciliation with the ERPs: an order deleted by hand in the ERP is sent again, once; a
// duplicate, a change made in the ERP, or a cancel there is reported and left alone (the ERP is the system of
// record for its own orders), kept as one open finding until it is gone; on demand and on the schedule.
let t: TestApp;
let w: OrdersWorld;
const sap = createSapB1Simulator({ data: legacyCompany(), latencyMs: [1, 5], companyDb: 'SBODEMOUS', userName: 'manager', password: 'sap-secret' });
let sapUrl: string;

async function put(path: string, body: unknown): Promise<void> {
  const answer = await t.request('PUT', path, { body });
  if (answer.status >= 300) throw new Error(`${path}: ${answer.status} ${answer.text}`);
}

/** An order of the portal, confirmed by the ERP the orders are routed to. */
async function confirmedOrder(): Promise<{ orderId: string; reference: string; erpOrderRef: string; correlationId: string }> {
  const answer = await submitOrder(t, w.portalKey, orderBody());
  expect(answer.status).toBe(202);
  const order = await waitForStatus(t, answer.body.orderId, 'confirmed');
  return { orderId: order.orderId, reference: order.reference, erpOrderRef: order.erpOrderRef, correlationId: order.correlationId };
}

/** A run of the orders' reconciliation with one backend now, answered once it has ended. */
async function reconcile(target = 'erp:bc'): Promise<any> {
  const answer = await t.request('POST', `/v1/admin/reconcile/orders?target=${encodeURIComponent(target)}&wait=true`);
  expect(answer.status).toBe(202);
  expect(answer.body.runs).toHaveLength(1);
  const { run } = answer.body.runs[0];
  expect(run).toMatchObject({ domain: 'orders', target, status: 'finished' });
  return run;
}

async function findingsOf(runId: string, key: string): Promise<any[]> {
  const answer = await t.request('GET', `/v1/ops/reconciliation/runs/${runId}`);
  expect(answer.status).toBe(200);
  return answer.body.findings.filter((f: any) => f.key === key);
}

const waiting = async (key: string) => ((await t.request('GET', '/v1/ops/reconciliation?domain=orders')).body.waiting as any[]).filter((f) => f.key === key);
const createsOf = async (orderId: string) => (await t.sql<{ n: number }>(`select count(*)::int as n from outbox where key = $1 and type = 'erp.sales-order.create'`, [orderId]))[0]!.n;
const bcOrderOf = (reference: string): SimSalesOrder => {
  const [order, ...more] = erpOrdersWithReference(w.sim, reference);
  expect(more).toEqual([]);
  return order!;
};

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_RECONCILE_TICK_MS: '200', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100', CROSSDOCK_DELIVERY_MAX_DELAY_MS: '500' } });
  w = await ordersWorld(t);
  sapUrl = await sap.listen();
});
afterAll(async () => {
  await t?.close();
  await w?.close();
  await sap.close();
});

describe('orders reconciled with Business Central', () => {
  it('resubmits an order deleted by hand in the ERP, once: the ERP ends with one order for the reference', async () => {
    const order = await confirmedOrder();
    const kept = await confirmedOrder();
    w.sim.state.orders.delete(bcOrderOf(order.reference).id);
    // Slow answers keep the resubmission on its way while the second run starts: it must not send it again.
    w.sim.settings.latencyMs = [700, 700];
    let first: any;
    let second: any;
    try {
      first = await reconcile();
      second = await reconcile();
    } finally {
      w.sim.settings.latencyMs = [2, 10];
    }
    expect(first).toMatchObject({ compared: 2, drifted: 1, repaired: 1, waiting: 0 });
    // The resubmission still on its way to the ERP: the second run leaves the order out rather than send it again.
    expect(second).toMatchObject({ compared: 1, drifted: 0 });
    expect(await findingsOf(first.id, order.reference)).toEqual([expect.objectContaining({
      class: 'missing-in-erp', repair: 'resubmit', status: 'repaired', actual: null,
      expected: { erpOrderRef: order.erpOrderRef, lines: { '1896-S': 2, '1900-S': 1.5 } },
      detail: expect.objectContaining({ orderId: order.orderId, resubmitted: true }),
    })]);
    expect(await findingsOf(first.id, kept.reference)).toEqual([]);
    expect(await findingsOf(second.id, order.reference)).toEqual([]);

    await waitUntil('the ERP has the order again', () => erpOrdersWithReference(w.sim, order.reference).length === 1, 15_000);
    const again = bcOrderOf(order.reference);
    expect(again.number).not.toBe(order.erpOrderRef);
    expect(again.salesOrderLines.map((l) => [l.lineObjectNumber, l.quantity])).toEqual([['1896-S', 2], ['1900-S', 1.5]]);
    await waitUntil('the order knows its new ERP number', async () => (await orderStatus(t, order.orderId)).erpOrderRef === again.number, 15_000);
    const view = await orderStatus(t, order.orderId);
    expect(view.status).toBe('confirmed');
    expect(view.history.slice(-2).map((h: any) => [h.status, h.reason])).toEqual([
      ['confirmed', expect.stringMatching(/^sent to the ERP again: the ERP no longer has order .+ \(reconciliation\)$/)],
      ['confirmed', `the ERP holds the order again, as ${again.number} (it was ${order.erpOrderRef})`],
    ]);
    expect(await createsOf(order.orderId)).toBe(2);
    // The portal hears the order's new ERP number, its status unchanged.
    await waitUntil('the portal hears the new ERP number', () => w.portal.effects.some((e) => e.type === 'order.status.changed' && e.data.orderId === order.orderId && e.data.erpOrderRef === again.number), 10_000);
    expect(w.portal.effects.filter((e) => e.type === 'order.status.changed' && e.data.orderId === order.orderId).map((e) => [e.data.status, e.data.erpOrderRef]).slice(-1)).toEqual([['confirmed', again.number]]);
    const steps = await t.sql<{ step: string }>(`select step from trace_event where correlation_id = $1 order by id`, [order.correlationId]);
    expect(steps.map((s) => s.step)).toContain('reconciled');
    const audited = await t.sql(`select action, resource_id from audit_entry where resource_type = 'reconcile:orders'`);
    expect(audited).toEqual([{ action: 'resubmit', resource_id: order.reference }]);

    // Put right: the next run finds nothing, and the ERP still has one order for the reference.
    const third = await reconcile();
    expect(await findingsOf(third.id, order.reference)).toEqual([]);
    expect(third).toMatchObject({ drifted: 0, repaired: 0 });
    expect(erpOrdersWithReference(w.sim, order.reference)).toHaveLength(1);
    expect(await createsOf(order.orderId)).toBe(2);
  });

  it('reports a duplicate in the ERP and leaves it alone, until a person removes one', async () => {
    const order = await confirmedOrder();
    const original = bcOrderOf(order.reference);
    const copy: SimSalesOrder = structuredClone(original);
    copy.id = crypto.randomUUID();
    copy.number = `${original.number}-COPY`;
    w.sim.state.orders.set(copy.id, copy);

    const first = await reconcile();
    expect(first).toMatchObject({ drifted: 1, repaired: 0, waiting: 1 });
    expect(await findingsOf(first.id, order.reference)).toEqual([expect.objectContaining({
      class: 'duplicated-in-erp', repair: 'report', status: 'waiting', expected: { erpOrderRef: order.erpOrderRef },
      actual: [{ erpOrderRef: original.number, erpOrderId: original.id }, { erpOrderRef: copy.number, erpOrderId: copy.id }],
    })]);
    expect(erpOrdersWithReference(w.sim, order.reference)).toHaveLength(2);
    expect(await createsOf(order.orderId)).toBe(1);
    expect(await waiting(order.reference)).toEqual([expect.objectContaining({ class: 'duplicated-in-erp', target: 'erp:bc' })]);

    w.sim.state.orders.delete(copy.id);
    const after = await reconcile();
    expect(after).toMatchObject({ drifted: 0 });
    expect(await waiting(order.reference)).toEqual([]);
    expect((await t.sql(`select status from reconcile_finding where key = $1`, [order.reference])).map((r) => r.status)).toEqual(['closed']);
  });

  it('reports a quantity changed in the ERP, never changes it back or resubmits, keeps one open finding, and closes it once the ERP matches again', async () => {
    const order = await confirmedOrder();
    const line = bcOrderOf(order.reference).salesOrderLines.find((l) => l.lineObjectNumber === '1896-S')!;
    line.quantity = 5;

    const first = await reconcile();
    expect(first).toMatchObject({ drifted: 1, repaired: 0, waiting: 1 });
    const [finding] = await findingsOf(first.id, order.reference);
    expect(finding).toMatchObject({
      class: 'changed-in-erp', repair: 'report', status: 'waiting',
      expected: { lines: { '1896-S': 2, '1900-S': 1.5 } }, actual: { erpOrderRef: order.erpOrderRef, lines: { '1896-S': 5, '1900-S': 1.5 } },
      detail: { orderId: order.orderId, status: 'confirmed', why: expect.stringContaining('other items or quantities') },
    });
    const second = await reconcile();
    expect(second).toMatchObject({ drifted: 1, repaired: 0, waiting: 0 }); // the same drift: still the one finding
    expect(await findingsOf(second.id, order.reference)).toEqual([expect.objectContaining({ id: finding.id, status: 'waiting' })]);
    expect(await waiting(order.reference)).toEqual([expect.objectContaining({ id: finding.id, class: 'changed-in-erp', actual: finding.actual })]);
    const report = (await t.request('GET', '/v1/ops/reconciliation?domain=orders')).body;
    expect(report.domains).toContain('orders');
    expect(report.runs[0]).toMatchObject({ id: second.id, domain: 'orders', target: 'erp:bc', trigger: 'demand', drifted: 1 });
    // Left alone: the ERP keeps the person's quantity, one order, and nothing was sent again.
    expect(bcOrderOf(order.reference).salesOrderLines.find((l) => l.lineObjectNumber === '1896-S')!.quantity).toBe(5);
    expect(await createsOf(order.orderId)).toBe(1);
    expect((await orderStatus(t, order.orderId)).status).toBe('confirmed');

    line.quantity = 2; // a person put it back
    const third = await reconcile();
    expect(await findingsOf(third.id, order.reference)).toEqual([]);
    expect(await waiting(order.reference)).toEqual([]);
    expect((await t.sql(`select status from reconcile_finding where key = $1`, [order.reference])).map((r) => r.status)).toEqual(['closed']);
  });

  it('finds nothing missing in an order Business Central posted in full (shipped and invoiced: gone from its sales orders)', async () => {
    const order = await confirmedOrder();
    const granted = await fetch(`${w.simUrl}/oauth2/v2.0/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'crossdock', client_secret: 'secret-1', scope: 'api' }).toString(),
    });
    const { access_token: token } = (await granted.json()) as { access_token: string };
    const company = `${w.simUrl}/v2.0/t1/production/api/v2.0/companies(c0ffee00-0000-0000-0000-000000000001)`;
    const posted = await fetch(`${company}/salesOrders(${bcOrderOf(order.reference).id})/Microsoft.NAV.shipAndInvoice`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(posted.status).toBe(204);
    expect(erpOrdersWithReference(w.sim, order.reference)).toEqual([]);
    const from = w.sim.state.requests.length;
    const run = await reconcile();
    // Not among the sales orders, the reference was looked for among the posted shipments, and found there.
    expect(w.sim.state.requests.slice(from).filter((r) => r.method === 'GET').map((r) => r.path.replace(/^.*\/companies\([^)]*\)/, ''))).toEqual(['/salesOrders', '/salesShipments']);
    expect(await findingsOf(run.id, order.reference)).toEqual([]);
    expect(run).toMatchObject({ drifted: 0, repaired: 0 });
    expect(await createsOf(order.orderId)).toBe(1);
  });

  it('starts the runs in the background when not asked to wait', async () => {
    const started = await t.request('POST', '/v1/admin/reconcile/orders');
    expect(started.status).toBe(202);
    expect(started.body.runs).toEqual([{ domain: 'orders', target: 'erp:bc' }]);
    await waitUntil('the run ended', async () => {
      const [run] = (await t.request('GET', '/v1/ops/reconciliation?domain=orders')).body.runs;
      return run?.status === 'finished';
    }, 15_000);
  });
});

describe('orders reconciled with SAP Business One', () => {
  it('finds an order missing, cancelled or changed in SAP: sends the missing one again, once, and reports the others', async () => {
    await put('/v1/admin/erp-backends/sap', {
      kind: 'sap-b1', role: 'legacy',
      config: { baseUrl: `${sapUrl}/b1s/v1`, companyDb: 'SBODEMOUS', username: 'manager', password: 'sap-secret', warehouseCodes: { 'WH-EAST': '01', 'WH-WEST': '02' }, currencies: { $: 'USD' } },
      limits: { ratePerSecond: 50, burst: 20, concurrency: 4 }, maintenanceWindows: [],
    });
    expect((await t.request('POST', '/v1/admin/erp-backends/sap/sync/customers')).status).toBe(200);
    await put('/v1/admin/routing/orders', { mode: 'legacy', primary: 'sap' });
    const sapOrders = (reference: string) => [...sap.state.documents.Orders.values()].filter((o) => o.NumAtCard === reference);
    const [lost, cancelled, changed] = [await confirmedOrder(), await confirmedOrder(), await confirmedOrder()];
    sap.state.documents.Orders.delete(sapOrders(lost.reference)[0]!.DocEntry);
    sapOrders(cancelled.reference)[0]!.Cancelled = 'tYES';
    sapOrders(changed.reference)[0]!.DocumentLines[1]!.Quantity = 3;

    const first = await reconcile('erp:sap');
    expect(first).toMatchObject({ compared: 3, drifted: 3, repaired: 1, waiting: 2 });
    expect(await findingsOf(first.id, lost.reference)).toEqual([expect.objectContaining({ class: 'missing-in-erp', repair: 'resubmit', status: 'repaired' })]);
    expect(await findingsOf(first.id, cancelled.reference)).toEqual([expect.objectContaining({
      class: 'changed-in-erp', repair: 'report', status: 'waiting', actual: expect.objectContaining({ cancelled: true }),
    })]);
    expect(await findingsOf(first.id, changed.reference)).toEqual([expect.objectContaining({
      class: 'changed-in-erp', repair: 'report', status: 'waiting', actual: { erpOrderRef: changed.erpOrderRef, lines: { '1896-S': 2, '1900-S': 3 } },
    })]);
    await waitUntil('SAP has the lost order again', () => sapOrders(lost.reference).length === 1, 15_000);
    await waitUntil('the order knows its new SAP number', async () => (await orderStatus(t, lost.orderId)).erpOrderRef === String(sapOrders(lost.reference)[0]!.DocNum), 15_000);

    const second = await reconcile('erp:sap');
    expect(second).toMatchObject({ drifted: 2, repaired: 0, waiting: 0 });
    expect(sapOrders(lost.reference)).toHaveLength(1);
    expect(sapOrders(cancelled.reference).map((o) => o.Cancelled)).toEqual(['tYES']);
    expect(await createsOf(cancelled.orderId)).toBe(1);
    expect(await createsOf(changed.orderId)).toBe(1);
    // Business Central, no longer routed for orders nor scheduled, is no target any more.
    expect((await t.request('POST', '/v1/admin/reconcile/orders?wait=true')).body.runs.map((r: any) => r.target)).toEqual(['erp:sap']);
  });
});

describe('the schedule', () => {
  it('runs a backend whose reconcile.orders sets an interval, and repairs what it finds', async () => {
    await put('/v1/admin/erp-backends/bc2', bcBackend(w.simUrl));
    expect((await t.request('POST', '/v1/admin/erp-backends/bc2/sync/customers')).status).toBe(200);
    await put('/v1/admin/routing/orders', { mode: 'cloud', primary: 'bc2' });
    const order = await confirmedOrder();
    w.sim.state.orders.delete(bcOrderOf(order.reference).id);
    await put('/v1/admin/erp-backends/bc2', { ...bcBackend(w.simUrl), reconcile: { orders: { intervalMinutes: 1 } } });

    let run: any;
    await waitUntil('a scheduled run of bc2 ended', async () => {
      run = (await t.request('GET', '/v1/ops/reconciliation?domain=orders')).body.runs.find((r: any) => r.target === 'erp:bc2' && r.trigger === 'schedule');
      return run?.status === 'finished';
    }, 15_000);
    expect(run).toMatchObject({ compared: 1, drifted: 1, repaired: 1 });
    await waitUntil('the ERP has the order again', () => erpOrdersWithReference(w.sim, order.reference).length === 1, 15_000);
  });
});
