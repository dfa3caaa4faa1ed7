import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { erpOrdersWithReference, orderBody, ordersWorld, submitOrder, waitForStatus, type OrdersWorld } from './support/orders.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// The customer module's CustomersSynced reaches the orders module through the outbox (internal:orders), so a
// process that stored new customer figures and died before orders reacted loses nothing: the next worker reacts.
let api: TestApp | undefined;
let worker: TestApp | undefined;
let w: OrdersWorld;

beforeAll(async () => {
  // Role api: it serves the admin API and stores what it is told, but no worker runs in it.
  const started = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_ROLE: 'api' } });
  api = started;
  w = await ordersWorld(started);
});
afterAll(async () => {
  await worker?.close();
  await api?.close();
  await w?.close();
});

describe('an integration event between modules', () => {
  it('survives the loss of the process that published it, and is handled once a worker runs', async () => {
    const held = await submitOrder(api!, w.portalKey, orderBody({ customer: { accountNumber: '20000' } }));
    expect(held.body.status).toBe('on_hold');
    await fetch(`${w.simUrl}/_control/customers/20000`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ creditLimit: 50_000 }) });
    expect((await api!.request('POST', '/v1/admin/erp-backends/bc/sync/customers')).status).toBe(200);

    // Stored with the figures, to the orders module; nothing has handled it.
    const pending = await api!.sql<{ destination: string; status: string; key: string }>(
      `select destination, status, key from outbox where type = 'customers.synced' order by id desc limit 1`,
    );
    expect(pending).toEqual([{ destination: 'internal:orders', status: 'pending', key: 'bc' }]);
    expect((await api!.request('GET', `/v1/orders/${held.body.orderId}`)).body.status).toBe('on_hold');

    // The publishing process goes away; a worker starts on the same database and reacts.
    const databaseUrl = api!.databaseUrl;
    await api!.close();
    api = undefined;
    worker = await startTestApp({ databaseUrl, env: { LOG_LEVEL: 'warn', CROSSDOCK_ROLE: 'all' } });
    const order = await waitForStatus(worker, held.body.orderId, 'confirmed');
    expect(order.history.map((h: { reason: string | null }) => h.reason)).toContain('credit hold lifted by the ERP customer figures');
    expect(erpOrdersWithReference(w.sim, order.reference)).toHaveLength(1);
    const delivered = await worker.sql<{ status: string; n: number }>(`select status, count(*)::int as n from outbox where type = 'customers.synced' group by status`);
    expect(delivered.every((row) => row.status === 'delivered')).toBe(true);
    // The trace shows the hand-over from one module to the other.
    const [{ correlation_id: correlationId }] = await worker.sql<{ correlation_id: string }>(`select correlation_id from outbox where type = 'customers.synced' order by id desc limit 1`);
    const trace = await worker.request('GET', `/v1/ops/trace/${encodeURIComponent(correlationId)}`);
    const steps = (trace.body as { timeline: Array<{ step: string; destination: string }> }).timeline.filter((s) => s.destination === 'internal:orders').map((s) => s.step);
    expect(steps).toEqual(['stored', 'relayed', 'delivered']);
  });
});
