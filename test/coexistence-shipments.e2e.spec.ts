import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIRST_POLL_AFTER_MS } from '../src/modules/shipments/commands/erp-shipments.js';
import { legacyCompany } from '../src/simulators/demo-simulators.js';
import { createSapB1Simulator } from '../src/simulators/sap-b1/sap-b1-simulator.js';
import { waitUntil } from './support/messaging.js';
import { bcBackend, orderBody, ordersWorld, submitOrder, waitForStatus, type OrdersWorld } from './support/orders.js';
import { startTestApp, syncNow, type TestApp } from './support/test-app.js';

// Shipments while SAP Business One (legacy) does the real work and Business Central shadows it: the warehouse's
// shipment posted in both, the answers compared, the shadow's kept to the report; and the cross-reference of ids at
// work: each connector reads the order (or the account) by the id recorded for it, and looks it up only without one.
let t: TestApp;
let w: OrdersWorld;
let wmsKey: string;
let customersKey: string;
let sapUrl: string;
const sap = createSapB1Simulator({ data: legacyCompany(), latencyMs: [1, 5], companyDb: 'SBODEMOUS', userName: 'manager', password: 'sap-secret' });

async function put(path: string, body: unknown): Promise<void> {
  const answer = await t.request('PUT', path, { body });
  if (answer.status >= 300) throw new Error(`${path}: ${answer.status} ${answer.text}`);
}
const bcControl = (path: string, body: unknown) => fetch(`${w.simUrl}/_control/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const compared = async (shipmentId: string) => (await t.sql('select matched, mismatches from coexistence_comparison where domain = $1 and transaction = $2', ['shipments', shipmentId]))[0];
const diffsOf = async (shipmentId: string) => (await t.request('GET', `/v1/coexistence/diffs?domain=shipments&transaction=${encodeURIComponent(shipmentId)}`)).body.items as Array<Record<string, any>>;
const posting = async (shipmentId: string) => (await t.sql<{ erp_posting: string | null; erp_shipment_ref: string | null }>('select erp_posting, erp_shipment_ref from shipment where id = $1', [shipmentId]))[0];
const xrefOf = async (entity: string, id: string) => (await t.request('GET', `/v1/coexistence/xref/${entity}/${encodeURIComponent(id)}`)).body;
/** The requests since `from`: method and path (SAP: with its query) under the company or version root. */
const sapCalls = (from: number) => sap.state.requests.slice(from).map((r) => `${r.method} ${r.path.replace(/^\/b1s\/v[12]\//, '')}${r.query ? `?${r.query}` : ''}`);
const bcCalls = (from: number) => w.sim.state.requests.slice(from).map((r) => `${r.method} ${r.path.replace(/^.*\/companies\([^)]*\)/, '')}`);

let sequence = 0;
const ship = (orderId: string, shipmentId: string, lines: Array<{ lineId: string; sku: string; quantity: number }>) => t.request('POST', '/v1/shipments/events', {
  token: wmsKey,
  body: { eventId: `evt-${process.pid}-${++sequence}`, orderId, shipmentId, status: 'shipped', carrier: 'DHL', trackingNumber: `TRK-${shipmentId}`, lines, occurredAt: new Date(Date.UTC(2026, 11, 6, 12, 0, sequence)).toISOString() },
});

/** An order confirmed by the primary, and made in the shadow too: both ERPs' ids of it in the cross-reference. */
async function orderInBoth(): Promise<{ orderId: string; reference: string; sapEntry: string; bcId: string; bcNumber: string }> {
  const answer = await submitOrder(t, w.portalKey, orderBody({ currency: 'USD' }));
  expect(answer.status).toBe(202);
  const orderId = answer.body.orderId as string;
  await waitForStatus(t, orderId, 'confirmed');
  await waitUntil('both ERPs\' ids recorded', async () => Object.keys((await xrefOf('order', orderId)).backends ?? {}).length === 2, 15_000);
  const { backends } = await xrefOf('order', orderId);
  const [{ reference }] = await t.sql<{ reference: string }>('select reference from sales_order where id = $1', [orderId]);
  return { orderId, reference: reference!, sapEntry: backends.sap.erpId, bcId: backends.bc.erpId, bcNumber: backends.bc.erpRef };
}

beforeAll(async () => {
  // Polled and pulled on demand only: a scheduled read between two steps would show in the simulators' request logs.
  t = await startTestApp({
    env: {
      LOG_LEVEL: 'warn', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100', CROSSDOCK_DELIVERY_MAX_DELAY_MS: '500', CROSSDOCK_CIRCUIT_OPEN_MS: '1000',
      CROSSDOCK_SHIPMENT_POLL_SECONDS: '3600', CROSSDOCK_CUSTOMER_SYNC_SECONDS: '3600',
    },
  });
  const started = Date.now(); // the service's recurring work is scheduled by now
  w = await ordersWorld(t);
  const bc = bcBackend(w.simUrl);
  await put('/v1/admin/erp-backends/bc', { ...bc, config: { ...bc.config, erpPosting: 'ship' } });
  sapUrl = await sap.listen();
  await put('/v1/admin/erp-backends/sap', {
    kind: 'sap-b1', role: 'legacy',
    config: { baseUrl: `${sapUrl}/b1s/v1`, companyDb: 'SBODEMOUS', username: 'manager', password: 'sap-secret', warehouseCodes: { 'WH-EAST': '01', 'WH-WEST': '02' }, currencies: { $: 'USD' }, erpPosting: 'ship' },
    limits: { ratePerSecond: 50, burst: 20, concurrency: 4 }, maintenanceWindows: [],
  });
  expect((await t.request('POST', '/v1/admin/erp-backends/sap/sync/customers')).status).toBe(200);
  await put('/v1/admin/routing/orders', { mode: 'shadow', primary: 'sap', shadow: 'bc' });
  await put('/v1/admin/routing/shipments', { mode: 'shadow', primary: 'sap', shadow: 'bc' });
  await put('/v1/admin/sources/wms', { name: 'Warehouse system' });
  wmsKey = (await t.request('POST', '/v1/admin/sources/wms/api-keys', { body: { scopes: ['shipments:write', 'shipments:read'] } })).body.key;
  customersKey = (await t.request('POST', '/v1/admin/channels/portal/api-keys', { body: { scopes: ['customers:read', 'customers:write'] } })).body.key;
  // The service's first scheduled shipment poll comes this long after its start (the interval is an hour): past it,
  // only the tests poll.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + FIRST_POLL_AFTER_MS + 500 - Date.now())));
});
afterAll(async () => {
  await t?.close();
  await w?.close();
  await sap.close();
});

describe('shipments in shadow', () => {
  it('are posted for real by the primary and the same in the shadow, each read by the ids recorded: compared, here a match', async () => {
    const { orderId, reference, sapEntry, bcId, bcNumber } = await orderInBoth();
    const sapFrom = sap.state.requests.length;
    const bcFrom = w.sim.state.requests.length;
    const shipmentId = `S-${orderId}-1`;
    expect((await ship(orderId, shipmentId, [{ lineId: '1', sku: '1896-S', quantity: 1 }])).body.outcome).toBe('applied');
    await waitUntil('both answers compared', async () => Boolean(await compared(shipmentId)), 20_000);
    expect(await compared(shipmentId)).toEqual({ matched: true, mismatches: 0 });
    expect(await diffsOf(shipmentId)).toEqual([]);

    // Posted in both ERPs.
    const notes = [...sap.state.documents.DeliveryNotes.values()].filter((d) => d.DocumentLines.some((l) => l.BaseEntry === Number(sapEntry)));
    expect(notes.map((n) => n.DocumentLines.map((l) => [l.ItemCode, l.Quantity]))).toEqual([[['1896-S', 1]]]);
    const bcShipments = [...w.sim.state.shipments.values()].filter((s) => s.orderNumber === bcNumber);
    expect(bcShipments.flatMap((s) => s.salesShipmentLines.map((l) => [l.lineObjectNumber, l.quantity]))).toEqual([['1896-S', 1]]);
    // The shipment records the primary's document alone; the cross-reference knows both.
    expect(await posting(shipmentId)).toEqual({ erp_posting: 'posted', erp_shipment_ref: String(notes[0]!.DocNum) });
    expect((await xrefOf('shipment', shipmentId)).backends).toMatchObject({ sap: { erpId: String(notes[0]!.DocEntry), erpRef: String(notes[0]!.DocNum) }, bc: { erpRef: bcShipments[0]!.number } });

    // Each connector read the order by its id, with no look-up by number or reference.
    const sapOrders = sapCalls(sapFrom).filter((c) => /^\w+ Orders/.test(c));
    expect(sapOrders).toEqual([expect.stringMatching(new RegExp(`^GET Orders\\(${sapEntry}\\)\\?`))]);
    const bcOrders = bcCalls(bcFrom).filter((c) => c.includes('/salesOrders'));
    expect(bcOrders[0]).toBe(`GET /salesOrders(${bcId})`);
    expect(bcOrders.at(-1)).toBe(`POST /salesOrders(${bcId})/Microsoft.NAV.shipAndInvoice`);
    expect(bcOrders.every((c) => c.startsWith(`GET /salesOrders(${bcId})`) || c.startsWith(`PATCH /salesOrders(${bcId})/salesOrderLines(`) || c.startsWith('POST'))).toBe(true);
    expect([...w.sim.state.orders.values()].find((o) => o.id === bcId)?.externalDocumentNumber).toBe(reference);

    const report = (await t.request('GET', '/v1/coexistence/report?domain=shipments')).body.domains[0];
    expect(report).toMatchObject({ domain: 'shipments', mode: 'shadow', primary: 'sap', shadow: 'bc' });
    expect(report.compared).toBeGreaterThanOrEqual(1);
  });

  it('files what the ERPs hold apart, by category, and the shadow\'s answer changes neither the shipment nor the order', async () => {
    const { orderId, bcId, sapEntry } = await orderInBoth();
    // A Business Central user shipped the whole order there already: the shadow holds more shipped than the primary.
    expect((await bcControl(`orders/${bcId}/ship`, { lines: [{ lineObjectNumber: '1896-S', quantity: 2 }, { lineObjectNumber: '1900-S', quantity: 1.5 }] })).status).toBe(200);
    const shipmentId = `S-${orderId}-apart`;
    expect((await ship(orderId, shipmentId, [{ lineId: '1', sku: '1896-S', quantity: 1 }])).body.outcome).toBe('applied');
    await waitUntil('both answers compared', async () => Boolean(await compared(shipmentId)), 20_000);
    expect(await compared(shipmentId)).toEqual({ matched: false, mismatches: 2 });
    const diffs = await diffsOf(shipmentId);
    expect(diffs.map((d) => ({ category: d.category, field: d.field, primary: d.primary, shadow: d.shadow, primaryBackend: d.primaryBackend, shadowBackend: d.shadowBackend })).sort((a, b) => a.field.localeCompare(b.field))).toEqual([
      { category: 'quantity', field: 'lines[1896-S].quantity', primary: 1, shadow: 2, primaryBackend: 'sap', shadowBackend: 'bc' },
      { category: 'line', field: 'lines[1900-S]', primary: null, shadow: { quantity: 1.5 }, primaryBackend: 'sap', shadowBackend: 'bc' },
    ].sort((a, b) => a.field.localeCompare(b.field)));
    expect((await t.request('GET', '/v1/coexistence/diffs?domain=shipments&category=line')).body.items.some((d: any) => d.transaction === shipmentId)).toBe(true);
    const report = (await t.request('GET', '/v1/coexistence/report?domain=shipments')).body.domains[0];
    expect(report.mismatchesByCategory).toMatchObject({ quantity: expect.any(Number), line: expect.any(Number) });
    expect(report.matchRate).toBeLessThan(1);

    // The shipment and the order heard the primary alone: SAP's delivery note, one line of two partly shipped.
    const [note] = [...sap.state.documents.DeliveryNotes.values()].filter((d) => d.DocumentLines.some((l) => l.BaseEntry === Number(sapEntry)));
    expect(await posting(shipmentId)).toEqual({ erp_posting: 'posted', erp_shipment_ref: String(note!.DocNum) });
    expect((await t.request('GET', `/v1/orders/${orderId}`)).body.status).toBe('partially_shipped');
    expect((await t.request('GET', `/v1/shipments/${encodeURIComponent(shipmentId)}`)).body).toMatchObject({ status: 'shipped', lines: [expect.objectContaining({ sku: '1896-S', quantity: 1 })] });
  });

  it('never waits for a shadow that is down: posted by the primary, no dead letter anywhere, compared once the shadow is back', async () => {
    const { orderId } = await orderInBoth();
    const shipmentId = `S-${orderId}-down`;
    await bcControl('maintenance', { on: true });
    try {
      expect((await ship(orderId, shipmentId, [{ lineId: '2', sku: '1900-S', quantity: 1.5 }])).body.outcome).toBe('applied');
      await waitUntil('posted by the primary', async () => (await posting(shipmentId))?.erp_posting === 'posted', 20_000);
      await waitForStatus(t, orderId, 'partially_shipped');
      expect(await compared(shipmentId)).toBeUndefined();
      const [{ waiting }] = await t.sql<{ waiting: number }>(
        "select count(*)::int as waiting from outbox where type = 'erp.shipment.post' and destination = 'erp:bc' and key = $1 and status <> 'delivered'", [orderId],
      );
      expect(waiting).toBe(1);
    } finally {
      await bcControl('maintenance', { on: false });
    }
    await waitUntil('compared once the shadow answers', async () => Boolean(await compared(shipmentId)), 30_000);
    expect(await compared(shipmentId)).toEqual({ matched: true, mismatches: 0 });
    expect((await t.request('GET', '/v1/ops/dead-letters?destination=erp:sap')).body.items).toEqual([]);
    expect((await t.request('GET', '/v1/ops/dead-letters?destination=erp:bc')).body.items).toEqual([]);
    expect(await posting(shipmentId)).toMatchObject({ erp_posting: 'posted' });
  });
});

describe('the cross-reference at work', () => {
  it('falls back to the look-up when it has no id of the order, or one the ERP no longer has', async () => {
    const { orderId, bcNumber, reference } = await orderInBoth();
    const [{ erp_order_ref: sapNumber }] = await t.sql<{ erp_order_ref: string }>('select erp_order_ref from sales_order where id = $1', [orderId]);
    // No id of the order in SAP; a stale one in Business Central.
    await t.sql("delete from entity_xref where entity = 'order' and canonical_id = $1 and backend_id = 'sap'", [orderId]);
    await t.sql("update entity_xref set erp_id = $2 where entity = 'order' and canonical_id = $1 and backend_id = 'bc'", [orderId, randomUUID()]);
    const sapFrom = sap.state.requests.length;
    const bcFrom = w.sim.state.requests.length;
    const shipmentId = `S-${orderId}-lookup`;
    expect((await ship(orderId, shipmentId, [{ lineId: '1', sku: '1896-S', quantity: 2 }])).body.outcome).toBe('applied');
    await waitUntil('both answers compared', async () => Boolean(await compared(shipmentId)), 20_000);
    expect(await compared(shipmentId)).toEqual({ matched: true, mismatches: 0 });
    expect(sapCalls(sapFrom).filter((c) => /^GET Orders/.test(c))).toEqual([expect.stringContaining(`$filter=DocNum eq ${sapNumber}`)]);
    const bcOrderCalls = bcCalls(bcFrom).filter((c) => c.startsWith('GET /salesOrders'));
    expect(bcOrderCalls.slice(0, 2)).toEqual([expect.stringMatching(/^GET \/salesOrders\([0-9a-f-]{36}\)$/), 'GET /salesOrders']);
    expect([...w.sim.state.shipments.values()].filter((s) => s.orderNumber === bcNumber && s.externalDocumentNumber === reference)).toHaveLength(1);
  });

  it("writes an account in Business Central by the id it recorded, falling back to the look-up by number when the id is stale", async () => {
    await put('/v1/admin/routing/customers', { mode: 'cloud', primary: 'bc' });
    const account = w.sim.state.customers.get('10000')!;
    expect((await xrefOf('customer', '10000')).backends.bc.erpId).toBe(account.id);
    const write = async (email: string) => {
      const from = w.sim.state.requests.length;
      expect((await t.request('PUT', '/v1/customers/10000', { token: customersKey, body: { email } })).status).toBe(200);
      await waitUntil('Business Central has the email', () => w.sim.state.customers.get('10000')!.email === email, 15_000);
      return bcCalls(from).filter((c) => c.includes('/customers'));
    };
    expect(await write('ap@adatum.example')).toEqual([`GET /customers(${account.id})`, `PATCH /customers(${account.id})`]);
    await t.sql("update entity_xref set erp_id = $1 where entity = 'customer' and canonical_id = '10000' and backend_id = 'bc'", [randomUUID()]);
    const calls = await write('billing@adatum.example');
    expect(calls.slice(0, 2)).toEqual([expect.stringMatching(/^GET \/customers\([0-9a-f-]{36}\)$/), 'GET /customers']);
    expect(calls.at(-1)).toBe(`PATCH /customers(${account.id})`);
  });
});

describe('after the switch', () => {
  it("the former shadow's poll knows the postings Crossdock made there as its own, and takes its users' shipments to the right order", async () => {
    // An order a Business Central user ships in part before the switch: Crossdock knows the order there by the cross-reference alone.
    const { orderId, bcId } = await orderInBoth();
    expect((await bcControl(`orders/${bcId}/ship`, { lines: [{ lineObjectNumber: '1900-S', quantity: 1.5 }] })).status).toBe(200);
    await put('/v1/admin/routing/shipments', { mode: 'cloud', primary: 'bc' });
    const shipmentsBefore = (await t.sql<{ n: number }>('select count(*)::int as n from shipment'))[0]!.n;
    const poll = await syncNow(t, '/v1/admin/erp-backends/bc/sync/shipments');
    expect(poll.status, poll.text).toBe(200);
    const ours = (await t.sql<{ n: number }>("select count(*)::int as n from entity_xref where entity = 'shipment' and backend_id = 'bc'"))[0]!.n;
    expect(ours).toBeGreaterThanOrEqual(3);
    // Its postings are known; the whole-order shipment a user made in the earlier test ships more than that order has left (an exception); this one applies.
    expect(poll.body).toMatchObject({ ours, outcomes: { applied: 1, parked: 1 } });
    expect((await t.sql<{ n: number }>('select count(*)::int as n from shipment'))[0]!.n).toBe(shipmentsBefore + 1);
    const [made] = await t.sql<{ id: string; order_id: string }>("select id, order_id from shipment where source = 'erp:bc'");
    expect(made).toMatchObject({ order_id: orderId });
    await waitForStatus(t, orderId, 'partially_shipped');
  });
});
