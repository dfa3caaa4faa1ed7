import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bcBackend, orderBody, ordersWorld, submitOrder, waitForStatus, type OrdersWorld } from './support/orders.js';
import { startTestApp, syncNow, type TestApp } from './support/test-app.js';

// The simulator's locations.
const EAST_ID = '5e1d0c3a-0000-4000-8000-00000000ea57';
const WEST_ID = '5e1d0c3a-0000-4000-8000-00000000e057';

let t: TestApp;
let w: OrdersWorld;

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn' } });
  w = await ordersWorld(t);
  const backend = bcBackend(w.simUrl);
  const put = await t.request('PUT', '/v1/admin/erp-backends/bc', { body: { ...backend, config: { ...backend.config, locationCodes: { 'WH-EAST': 'EAST', 'WH-WEST': 'WEST' }, locations: { 'WH-EAST': EAST_ID, 'WH-WEST': WEST_ID } } } });
  expect(put.status).toBe(200);
  expect((await t.request('PUT', '/v1/admin/routing/inventory', { body: { mode: 'cloud', primary: 'bc' } })).status).toBeLessThan(300);
  await new Promise((r) => setTimeout(r, 5_100)); // configuration is cached for 5 s
});
afterAll(async () => {
  await t?.close();
  await w?.close();
});

const poll = async () => {
  const answer = await syncNow(t, '/v1/admin/erp-backends/bc/sync/stock');
  expect(answer.status).toBe(200);
  return answer.body;
};
const positions = async (sku: string) =>
  Object.fromEntries((await t.request('GET', `/v1/inventory/${sku}`)).body.positions.map((p: { warehouse: string; onHand: number }) => [p.warehouse, p.onHand]));

describe('stock polled from Business Central', () => {
  it('reads every item at first, then only what changed, per mapped location', async () => {
    const first = await poll();
    // 10 items in the simulator, 2 mapped warehouses.
    expect(first).toMatchObject({ accepted: 20, duplicate: 0, stale: 0, errors: [] });
    expect(await positions('1896-S')).toEqual({ 'WH-EAST': 40, 'WH-WEST': 20 });
    expect((await poll()).accepted).toBe(0);

    const adjusted = await fetch(`${w.simUrl}/_control/stock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ itemNumber: '1900-S', locationCode: 'EAST', quantity: -5 }) });
    expect(adjusted.status).toBe(200);
    const second = await poll();
    expect(second.accepted).toBe(2);
    expect(await positions('1900-S')).toEqual({ 'WH-EAST': 37, 'WH-WEST': 21 });
    const portal = (await t.request('GET', '/v1/inventory/1900-S')).body.channels.find((c: { channelId: string }) => c.channelId === 'portal');
    expect(portal.available).toBe(58);
  });

  it('counts an order the ERP has exactly once: held by Crossdock until a read includes it, then by the ERP until shipped', async () => {
    await poll();
    const portalFigure = async () => (await t.request('GET', '/v1/inventory/1920-S')).body.channels.find((c: { channelId: string }) => c.channelId === 'portal').available;
    const before = await portalFigure();
    const answer = await submitOrder(t, w.portalKey, orderBody({ lines: [{ lineId: '1', sku: '1920-S', quantity: 3, unitPrice: 10 }] }));
    const order = await waitForStatus(t, answer.body.orderId, 'confirmed');
    expect(await portalFigure()).toBe(before - 3);
    // The next read sees the order in the ERP (its open order holds 3 at EAST): Crossdock's reservation ends.
    expect((await poll()).accepted).toBe(2);
    expect((await t.request('GET', '/v1/inventory/1920-S')).body.positions.find((p: { warehouse: string }) => p.warehouse === 'WH-EAST').reserved).toBe(3);
    expect((await t.sql("select count(*)::int as n from stock_reservation where order_id = $1 and ended_at is null", [order.orderId]))[0].n).toBe(0);
    expect(await portalFigure()).toBe(before - 3);
    // Shipped: the ledger takes the 3 off on-hand and the open order no longer holds them.
    const [inErp] = [...w.sim.state.orders.values()].filter((o) => o.externalDocumentNumber === order.reference);
    await fetch(`${w.simUrl}/_control/orders/${inErp!.id}/ship`, { method: 'POST' });
    await poll();
    const east = (await t.request('GET', '/v1/inventory/1920-S')).body.positions.find((p: { warehouse: string }) => p.warehouse === 'WH-EAST');
    expect(east.reserved).toBe(0);
    expect(await portalFigure()).toBe(before - 3);
  });

  it('unmapped backends and unknown ones are told apart', async () => {
    expect((await t.request('POST', '/v1/admin/erp-backends/ghost/sync/stock')).status).toBe(404);
  });
});
