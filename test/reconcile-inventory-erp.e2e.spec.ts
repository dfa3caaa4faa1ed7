import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bcBackend, ordersWorld, type OrdersWorld } from './support/orders.js';
import { startTestApp, syncNow, type TestApp } from './support/test-app.js';

// Inventory's reconciliation with its system of record: Business Central's stock (the routing of inventory names it)
// against the positions Crossdock holds from it; a change the poll has not brought is applied as the ERP's figure.
let t: TestApp;
let w: OrdersWorld;
let wmsKey: string;

beforeAll(async () => {
  // The stock is polled only when the test asks.
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_STOCK_POLL_SECONDS: '86400', CROSSDOCK_RECONCILE_TICK_MS: '3600000' } });
  w = await ordersWorld(t);
  const backend = bcBackend(w.simUrl);
  const put = await t.request('PUT', '/v1/admin/erp-backends/bc', { body: { ...backend, config: { ...backend.config, locationCodes: { 'WH-EAST': 'EAST', 'WH-WEST': 'WEST' } } } });
  expect(put.status).toBe(200);
  expect((await t.request('PUT', '/v1/admin/routing/inventory', { body: { mode: 'cloud', primary: 'bc' } })).status).toBeLessThan(300);
  expect((await t.request('PUT', '/v1/admin/sources/wms', { body: { name: 'WMS' } })).status).toBe(201);
  wmsKey = (await t.request('POST', '/v1/admin/sources/wms/api-keys', { body: { scopes: ['inventory:write'] } })).body.key;
  await new Promise((r) => setTimeout(r, 5_100)); // configuration is cached for 5 s
  expect((await syncNow(t, '/v1/admin/erp-backends/bc/sync/stock')).body).toMatchObject({ accepted: 20 });
});
afterAll(async () => {
  await t?.close();
  await w?.close();
});

const positionOf = async (sku: string, warehouse: string) => (await t.request('GET', `/v1/inventory/${sku}`)).body.positions.find((p: { warehouse: string }) => p.warehouse === warehouse);
const portalFigure = async (sku: string) => (await t.request('GET', `/v1/inventory/${sku}`)).body.channels.find((c: { channelId: string }) => c.channelId === 'portal').available;
const reconcileErp = async () => {
  const answer = await t.request('POST', '/v1/admin/reconcile/inventory?target=erp:bc&wait=true');
  expect(answer.status, answer.text).toBe(202);
  expect(answer.body.runs.map((r: { target: string }) => r.target)).toEqual(['erp:bc']);
  return answer.body.runs[0].run;
};

describe('a run over the ERP that is the authority for stock', () => {
  it("applies the ERP's figure where Crossdock's position differs, and leaves another source's positions alone", async () => {
    const before = await positionOf('1900-S', 'WH-EAST');
    const figure = await portalFigure('1900-S');
    // An adjustment posted in the ERP that no poll has brought yet.
    const adjusted = await fetch(`${w.simUrl}/_control/stock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ itemNumber: '1900-S', locationCode: 'EAST', quantity: -5 }) });
    expect(adjusted.status).toBe(200);
    // A warehouse system reports another SKU's position in a mapped warehouse: that position is the WMS's.
    const wms = await t.request('POST', '/v1/inventory/levels', { token: wmsKey, body: { items: [{ eventId: 'wms-1', sku: '1896-S', warehouse: 'WH-WEST', onHand: 999, occurredAt: new Date().toISOString() }] } });
    expect(wms.body).toMatchObject({ accepted: 1 });

    const run = await reconcileErp();
    expect(run).toMatchObject({ domain: 'inventory', target: 'erp:bc', status: 'finished', pages: 1, compared: 19, drifted: 1, repaired: 1, waiting: 0 });
    expect(await positionOf('1900-S', 'WH-EAST')).toMatchObject({ onHand: before.onHand - 5 });
    expect(await portalFigure('1900-S')).toBe(figure - 5);
    expect(await positionOf('1896-S', 'WH-WEST')).toMatchObject({ onHand: 999 });
    const detail = (await t.request('GET', `/v1/ops/reconciliation/runs/${run.id}`)).body;
    expect(detail.findings.map((f: any) => [f.key, f.class, f.repair, f.status, f.expected, f.actual, f.detail.applied])).toEqual([
      ['1900-S@WH-EAST', 'source-differs', 'recompute', 'repaired', { onHand: before.onHand - 5, reserved: 0 }, { onHand: before.onHand, reserved: 0 }, true],
    ]);

    expect(await reconcileErp()).toMatchObject({ status: 'finished', compared: 19, drifted: 0, repaired: 0 });
    // The poll that follows finds the ERP's figure applied already: nothing newer to apply.
    expect((await syncNow(t, '/v1/admin/erp-backends/bc/sync/stock')).body).toMatchObject({ errors: [] });
    expect(await positionOf('1900-S', 'WH-EAST')).toMatchObject({ onHand: before.onHand - 5 });
  });
});
