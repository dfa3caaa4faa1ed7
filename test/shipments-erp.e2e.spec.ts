import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyCompany } from '../src/simulators/demo-simulators.js';
import { FIRST_POLL_AFTER_MS } from '../src/modules/shipments/commands/erp-shipments.js';
import { createSapB1Simulator } from '../src/simulators/sap-b1/sap-b1-simulator.js';
import { waitUntil } from './support/messaging.js';
import { bcBackend, orderBody, ordersWorld, submitOrder, waitForStatus, type OrdersWorld } from './support/orders.js';
import { startTestApp, syncNow, type TestApp } from './support/test-app.js';

// Shipments and the ERP, through the service: the warehouse's shipments posted in the ERP (erpPosting: ship), and
// the ERP's own shipment documents polled in as shipments, with Crossdock's own postings known as such.
let t: TestApp;
let w: OrdersWorld;
let wmsKey: string;
let sapBase: string;
const sap = createSapB1Simulator({ data: legacyCompany(), latencyMs: [1, 5], companyDb: 'SBODEMOUS', userName: 'manager', password: 'sap-secret' });

beforeAll(async () => {
  // Polled on demand only: a scheduled poll between two steps of a test would read what the test's own poll is to find.
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100', CROSSDOCK_DELIVERY_MAX_DELAY_MS: '500', CROSSDOCK_CIRCUIT_OPEN_MS: '1000', CROSSDOCK_SHIPMENT_POLL_SECONDS: '3600' } });
  const started = Date.now(); // the service's recurring work is scheduled by now
  w = await ordersWorld(t);
  const bc = bcBackend(w.simUrl);
  expect((await t.request('PUT', '/v1/admin/erp-backends/bc', { body: { ...bc, config: { ...bc.config, erpPosting: 'ship' } } })).status).toBe(200);
  const sapUrl = await sap.listen();
  sapBase = sapUrl;
  const backend = await t.request('PUT', '/v1/admin/erp-backends/sap', {
    body: {
      kind: 'sap-b1', role: 'legacy',
      config: { baseUrl: `${sapUrl}/b1s/v1`, companyDb: 'SBODEMOUS', username: 'manager', password: 'sap-secret', warehouseCodes: { 'WH-EAST': '01', 'WH-WEST': '02' }, currencies: { $: 'USD', EUR: 'EUR' }, erpPosting: 'ship' },
      limits: { ratePerSecond: 50, burst: 20, concurrency: 4 }, maintenanceWindows: [],
    },
  });
  expect(backend.status).toBe(201);
  expect((await t.request('PUT', '/v1/admin/sources/wms', { body: { name: 'Warehouse system' } })).status).toBe(201);
  wmsKey = (await t.request('POST', '/v1/admin/sources/wms/api-keys', { body: { scopes: ['shipments:write', 'shipments:read'] } })).body.key;
  // The service's first scheduled poll comes this long after its start, before shipments are routed here (the
  // interval is an hour): past it, only the tests poll.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + FIRST_POLL_AFTER_MS + 500 - Date.now())));
});
afterAll(async () => {
  await t?.close();
  await w?.close();
  await sap.close();
});

let sequence = 0;
const ship = (orderId: string, shipmentId: string, lines: Array<{ lineId: string; sku: string; quantity: number }>) => t.request('POST', '/v1/shipments/events', {
  token: wmsKey,
  body: { eventId: `evt-${process.pid}-${++sequence}`, orderId, shipmentId, status: 'shipped', carrier: 'DHL', trackingNumber: `TRK-${shipmentId}`, lines, occurredAt: new Date(Date.UTC(2026, 11, 5, 12, 0, sequence)).toISOString() },
});
const erpPosting = async (shipmentId: string) => (await t.sql<{ erp_posting: string | null; erp_shipment_ref: string | null }>('select erp_posting, erp_shipment_ref from shipment where id = $1', [shipmentId]))[0];
const posted = (shipmentId: string) => waitUntil(`shipment ${shipmentId} posted in the ERP`, async () => (await erpPosting(shipmentId))?.erp_posting === 'posted', 20_000);
const poll = async (backendId: string) => {
  const answer = await syncNow(t, `/v1/admin/erp-backends/${backendId}/sync/shipments`);
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
};
async function confirmedOrder(): Promise<{ orderId: string; erpOrderRef: string; erpOrderId: string; reference: string }> {
  const answer = await submitOrder(t, w.portalKey, orderBody());
  expect(answer.status).toBe(202);
  await waitForStatus(t, answer.body.orderId, 'confirmed');
  const [row] = await t.sql<{ erp_order_ref: string; erp_order_id: string; reference: string }>('select erp_order_ref, erp_order_id, reference from sales_order where id = $1', [answer.body.orderId]);
  return { orderId: answer.body.orderId, erpOrderRef: row!.erp_order_ref, erpOrderId: row!.erp_order_id, reference: row!.reference };
}

describe('erpPosting', () => {
  it('is none or ship, refused otherwise with the field named', async () => {
    const bc = bcBackend(w.simUrl);
    const answer = await t.request('PUT', '/v1/admin/erp-backends/bc', { body: { ...bc, config: { ...bc.config, erpPosting: 'always' } } });
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body.errors)).toContain('config.erpPosting');
  });
});

describe('shipments and Business Central', () => {
  beforeAll(async () => {
    expect([200, 201]).toContain((await t.request('PUT', '/v1/admin/routing/shipments', { body: { mode: 'cloud', primary: 'bc' } })).status);
  });

  it("posts the warehouse's partial and final shipments once each, and the poll knows them as Crossdock's", async () => {
    const { orderId, erpOrderRef } = await confirmedOrder();
    await poll('bc'); // what the ERP held before
    expect((await ship(orderId, `S-${orderId}-1`, [{ lineId: '1', sku: '1896-S', quantity: 1 }])).body.outcome).toBe('applied');
    await posted(`S-${orderId}-1`);
    expect((await ship(orderId, `S-${orderId}-2`, [{ lineId: '1', sku: '1896-S', quantity: 1 }, { lineId: '2', sku: '1900-S', quantity: 1.5 }])).body.outcome).toBe('applied');
    await posted(`S-${orderId}-2`);

    const documents = [...w.sim.state.shipments.values()].filter((s) => s.orderNumber === erpOrderRef);
    expect(documents).toHaveLength(2);
    const shipped = documents.flatMap((d) => d.salesShipmentLines.map((l) => [l.lineObjectNumber, l.quantity]));
    expect(shipped.sort()).toEqual([['1896-S', 1], ['1896-S', 1], ['1900-S', 1.5]]);
    expect((await erpPosting(`S-${orderId}-1`))!.erp_shipment_ref).toBe(documents.sort((a, b) => a.number.localeCompare(b.number))[0]!.number);

    const result = await poll('bc');
    expect(result).toMatchObject({ ours: 2, outcomes: { applied: 0, parked: 0 } });
    const [{ n }] = await t.sql<{ n: number }>('select count(*)::int as n from shipment where order_id = $1', [orderId]);
    expect(n).toBe(2);
    expect((await t.request('GET', `/v1/orders/${orderId}`)).body.status).toBe('shipped');
  });

  it('posts once when the answer to the posting is lost and the posting is sent again', async () => {
    const { orderId, erpOrderRef } = await confirmedOrder();
    await fetch(`${w.simUrl}/_control/lose-next-action`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ count: 1 }) });
    expect((await ship(orderId, `S-${orderId}-lost`, [{ lineId: '1', sku: '1896-S', quantity: 2 }])).body.outcome).toBe('applied');
    await posted(`S-${orderId}-lost`);
    const [{ attempts }] = await t.sql<{ attempts: number }>(`select attempts from outbox where type = 'erp.shipment.post' and key = $1`, [orderId]);
    expect(attempts).toBeGreaterThan(0);
    const documents = [...w.sim.state.shipments.values()].filter((s) => s.orderNumber === erpOrderRef);
    expect(documents.flatMap((d) => d.salesShipmentLines.map((l) => [l.lineObjectNumber, l.quantity]))).toEqual([['1896-S', 2]]);
  });

  it("takes a shipment posted in Business Central by its own users to the order's channel, and posts nothing back", async () => {
    const { orderId, erpOrderId, erpOrderRef } = await confirmedOrder();
    await poll('bc');
    const made = await fetch(`${w.simUrl}/_control/orders/${erpOrderId}/ship`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ lines: [{ lineObjectNumber: '1896-S', quantity: 2 }] }) });
    expect(made.status).toBe(200);
    const number = ((await made.json()) as { salesShipment: { number: string } }).salesShipment.number;
    const result = await poll('bc');
    expect(result).toMatchObject({ outcomes: { applied: 1 } });
    const shipmentId = `erp:bc:${number}`;
    expect((await t.request('GET', `/v1/shipments/${encodeURIComponent(shipmentId)}`)).body).toMatchObject({ orderId, status: 'shipped' });
    await waitForStatus(t, orderId, 'partially_shipped');
    await waitUntil('the portal told', async () => w.portal.effects.some((e) => e.type === 'shipment.created' && e.data.shipmentId === shipmentId), 15_000);
    // Polled again: the same document is not a second shipment.
    expect(await poll('bc')).toMatchObject({ read: 0 });
    const [{ n }] = await t.sql<{ n: number }>(`select count(*)::int as n from outbox where type = 'erp.shipment.post' and key = $1`, [orderId]);
    expect(n).toBe(0);
    expect([...w.sim.state.shipments.values()].filter((s) => s.orderNumber === erpOrderRef)).toHaveLength(1);
  });
});

describe('shipments and SAP Business One', () => {
  beforeAll(async () => {
    expect((await t.request('POST', '/v1/admin/erp-backends/sap/sync/customers')).status).toBe(200);
    expect((await t.request('PUT', '/v1/admin/routing/orders', { body: { mode: 'legacy', primary: 'sap' } })).status).toBe(200);
    expect((await t.request('PUT', '/v1/admin/routing/shipments', { body: { mode: 'legacy', primary: 'sap' } })).status).toBe(200);
  });

  it('posts delivery notes based on the order with the tracking number, once, and polls in those of SAP users', async () => {
    const { orderId, erpOrderId } = await confirmedOrder();
    await poll('sap');
    expect((await ship(orderId, `S-${orderId}-sap`, [{ lineId: '1', sku: '1896-S', quantity: 2 }])).body.outcome).toBe('applied');
    await posted(`S-${orderId}-sap`);
    const notes = [...sap.state.documents.DeliveryNotes.values()].filter((d) => d.DocumentLines.some((l) => l.BaseEntry === Number(erpOrderId)));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ TrackingNumber: `TRK-S-${orderId}-sap`, Comments: expect.stringContaining(`S-${orderId}-sap`) });
    expect(notes[0]!.DocumentLines.map((l) => [l.ItemCode, l.Quantity, l.BaseType])).toEqual([['1896-S', 2, 17]]);
    expect(await poll('sap')).toMatchObject({ ours: 1, outcomes: { applied: 0 } });

    // The rest delivered in SAP by one of its users: polled in as a shipment of source erp:sap.
    const rest = await fetch(`${sapBase}/_control/orders/${erpOrderId}/deliver`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ TrackingNumber: 'SAP-TRK-9' }) });
    expect(rest.status).toBe(200);
    const note = (await rest.json()) as { DocNum: number };
    expect(await poll('sap')).toMatchObject({ outcomes: { applied: 1 } });
    expect((await t.request('GET', `/v1/shipments/${encodeURIComponent(`erp:sap:${note.DocNum}`)}`)).body).toMatchObject({ orderId, trackingNumber: 'SAP-TRK-9' });
    await waitForStatus(t, orderId, 'shipped');
    expect([...sap.state.documents.DeliveryNotes.values()].filter((d) => d.DocumentLines.some((l) => l.BaseEntry === Number(erpOrderId)))).toHaveLength(2);
  });
});
