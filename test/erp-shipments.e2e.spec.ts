import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusinessCentralErp } from '../src/connectors/erp/business-central/business-central.delivery.js';
import type { BusinessCentralConfig } from '../src/connectors/erp/business-central/business-central.config.js';
import type { ErpShipment, GovernedCall } from '../src/connectors/erp/erp-contract.js';
import type { SapB1Config } from '../src/connectors/erp/sap-b1/sap-b1.config.js';
import { SapB1Erp } from '../src/connectors/erp/sap-b1/sap-b1.delivery.js';
import { TargetError } from '../src/platform/delivery/outcome.js';
import { createBusinessCentralSimulator, type BusinessCentralSimulator } from '../src/simulators/business-central/bc-simulator.js';
import { createSapB1Simulator, type SapB1Simulator } from '../src/simulators/sap-b1/sap-b1-simulator.js';

// Each ERP connector posting shipments against its simulator and polling the shipments made there: idempotent by
// quantities (the same shipment twice, a lost answer), over-shipment refused, and a user's own shipment read back.
const call: GovernedCall = (work) => work(AbortSignal.timeout(10_000));
const signal = () => AbortSignal.timeout(10_000);
const sapFixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/sap_b1/${name}`, import.meta.url), 'utf8'));
const EAST = '5e1d0c3a-0000-4000-8000-00000000ea57';
const WEST = '5e1d0c3a-0000-4000-8000-00000000e057';

async function failureOf(promise: Promise<unknown>): Promise<TargetError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TargetError);
  return error as TargetError;
}

async function control(base: string, path: string, body: unknown = {}, method = 'POST'): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}/_control/${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

let serial = 0;
const shipment = (reference: string, totals: Record<string, number>, fields: Partial<ErpShipment> = {}): ErpShipment => ({
  shipmentId: `shp-${++serial}`,
  externalDocumentNumber: reference,
  erpOrderRef: null,
  carrier: 'UPS',
  trackingNumber: `1Z${serial}`,
  shippedAt: '2026-12-05T10:00:00Z',
  lines: Object.entries(totals).map(([sku, quantity]) => ({ sku, quantity })),
  shippedTotals: Object.entries(totals).map(([sku, quantity]) => ({ sku, quantity })),
  ...fields,
});

describe('Business Central: posting shipments and polling them', () => {
  let sim: BusinessCentralSimulator;
  let base: string;
  let erp: BusinessCentralErp;
  const config = (overrides: Partial<BusinessCentralConfig> = {}): BusinessCentralConfig => ({
    tenantId: 'tenant-1', environment: 'production', companyId: 'c0ffee00-0000-0000-0000-000000000001', clientId: 'crossdock', clientSecret: 'secret-1',
    baseUrl: `${base}/v2.0/tenant-1/production/api/v2.0`, tokenUrl: `${base}/oauth2/v2.0/token`,
    locations: { 'WH-EAST': EAST, 'WH-WEST': WEST }, locationCodes: { 'WH-EAST': 'EAST', 'WH-WEST': 'WEST' },
    shipmentTrackingPage: 'contoso/shipping/v1.0/salesShipmentTracking',
    ...overrides,
  });
  const orderOf = (reference: string) => [...sim.state.orders.values()].find((o) => o.externalDocumentNumber === reference);
  const shipmentsOf = (orderNumber: string) => [...sim.state.shipments.values()].filter((s) => s.orderNumber === orderNumber);
  const shippedOf = (reference: string) => Object.fromEntries(orderOf(reference)!.salesOrderLines.map((l) => [l.lineObjectNumber, l.shippedQuantity]));
  const createOrder = (reference: string, lines: Array<{ lineObjectNumber: string; quantity: number; warehouse?: string }>) =>
    erp.createSalesOrder({ externalDocumentNumber: reference, customerNumber: '10000', lines: lines.map((l) => ({ ...l, unitPrice: 10 })) }, signal());
  const onHand = (itemNumber: string, locationCode: string) => sim.state.ledger.filter((e) => e.itemNumber === itemNumber && e.locationCode === locationCode).reduce((sum, e) => sum + e.quantity, 0);

  beforeAll(async () => {
    sim = createBusinessCentralSimulator({ clientId: 'crossdock', clientSecret: 'secret-1', ratePerSecond: 1000, concurrency: 50, shipmentTrackingPage: 'contoso/shipping/v1.0/salesShipmentTracking', shipAction: 'ship' });
    base = await sim.listen();
    erp = new BusinessCentralErp(config());
  });
  afterAll(() => sim.close());

  it('posts a partial shipment, then the rest: Qty. to Ship on the lines, the posting action, a posted shipment each time', async () => {
    const created = await createOrder('CD-BC-SHIP-1', [{ lineObjectNumber: '1896-S', quantity: 5, warehouse: 'WH-EAST' }, { lineObjectNumber: '1900-S', quantity: 2, warehouse: 'WH-WEST' }]);
    const eastBefore = onHand('1896-S', 'EAST');
    const from = sim.state.requests.length;
    const first = await erp.postShipment(shipment('CD-BC-SHIP-1', { '1896-S': 2 }, { erpOrderRef: created.erpOrderRef }), signal());
    expect(first).toMatchObject({ posted: true, erpShipmentRef: expect.stringMatching(/^S-SHP\d+$/), erpOrderRef: created.erpOrderRef });
    // Both lines had their remainder as Qty. to Ship (Business Central's default): one set to 2, the other to 0.
    const calls = sim.state.requests.slice(from).map((r) => `${r.method} ${r.path.replace(/^.*\/companies\([^)]+\)/, '')}`);
    expect(calls.filter((c) => c.startsWith('PATCH'))).toHaveLength(2);
    expect(calls).toContain(`POST /salesOrders(${created.erpOrderId})/Microsoft.NAV.shipAndInvoice`);
    expect(shippedOf('CD-BC-SHIP-1')).toEqual({ '1896-S': 2, '1900-S': 0 });
    expect(onHand('1896-S', 'EAST')).toBe(eastBefore - 2);
    expect(shipmentsOf(created.erpOrderRef).map((s) => s.salesShipmentLines.map((l) => [l.lineObjectNumber, l.quantity]))).toEqual([[['1896-S', 2]]]);

    const rest = await erp.postShipment(shipment('CD-BC-SHIP-1', { '1896-S': 5, '1900-S': 2 }, { erpOrderRef: created.erpOrderRef }), signal());
    expect(rest.posted).toBe(true);
    expect(rest.erpShipmentRef).not.toBe(first.erpShipmentRef);
    expect(shipmentsOf(created.erpOrderRef).map((s) => s.salesShipmentLines.map((l) => [l.lineObjectNumber, l.quantity]))).toEqual([[['1896-S', 2]], [['1896-S', 3], ['1900-S', 2]]]);
    // Shipped and invoiced in full: posting deleted the order, as Business Central does.
    expect(orderOf('CD-BC-SHIP-1')).toBeUndefined();
    expect(onHand('1896-S', 'EAST')).toBe(eastBefore - 5);
    // Sent again after that, the shipment finds its quantities in the posted shipments: nothing more.
    const again = await erp.postShipment(shipment('CD-BC-SHIP-1', { '1896-S': 5, '1900-S': 2 }, { erpOrderRef: created.erpOrderRef }), signal());
    expect(again).toMatchObject({ posted: false, erpShipmentRef: null });
    expect(shipmentsOf(created.erpOrderRef)).toHaveLength(2);
  });

  it('the same shipment twice posts once: the second finds the quantities shipped and answers posted: false', async () => {
    const created = await createOrder('CD-BC-TWICE', [{ lineObjectNumber: '1906-S', quantity: 4, warehouse: 'WH-EAST' }]);
    const same = shipment('CD-BC-TWICE', { '1906-S': 3 });
    const first = await erp.postShipment(same, signal());
    expect(first).toMatchObject({ posted: true, facts: { lines: [{ sku: '1906-S', quantity: 3 }] } });
    const from = sim.state.requests.length;
    // What the order holds as shipped is answered alike, posted or found so.
    expect(await erp.postShipment(same, signal())).toEqual({ erpShipmentRef: null, posted: false, erpOrderRef: created.erpOrderRef, facts: first.facts });
    expect(sim.state.requests.slice(from).some((r) => r.method !== 'GET')).toBe(false);
    expect(shippedOf('CD-BC-TWICE')).toEqual({ '1906-S': 3 });
    expect(shipmentsOf(created.erpOrderRef)).toHaveLength(1);
  });

  it('reads the order by the id the cross-reference has, with no look-up; without it, or with one of another order, looks it up', async () => {
    const created = await createOrder('CD-BC-KNOWN', [{ lineObjectNumber: '1906-S', quantity: 4 }]);
    const other = await createOrder('CD-BC-OTHER', [{ lineObjectNumber: '1906-S', quantity: 4 }]);
    const lookUps = (from: number) => sim.state.requests.slice(from).filter((r) => r.method === 'GET' && r.path.endsWith('/salesOrders')).length;
    let from = sim.state.requests.length;
    expect(await erp.postShipment(shipment('CD-BC-KNOWN', { '1906-S': 1 }, { erpOrderId: created.erpOrderId, erpOrderRef: created.erpOrderRef }), signal())).toMatchObject({ posted: true });
    expect(lookUps(from)).toBe(0);
    // An id that names another order (or none, or is no GUID) is not taken: the order is found by its number.
    for (const erpOrderId of [other.erpOrderId, '00000000-0000-4000-8000-000000000000', "x') or (1 eq 1"]) {
      from = sim.state.requests.length;
      expect(await erp.postShipment(shipment('CD-BC-KNOWN', { '1906-S': 2 }, { erpOrderId, erpOrderRef: created.erpOrderRef }), signal())).toMatchObject({ erpOrderRef: created.erpOrderRef });
      expect(lookUps(from)).toBe(1);
    }
    expect(shippedOf('CD-BC-KNOWN')).toEqual({ '1906-S': 2 });
    expect(shippedOf('CD-BC-OTHER')).toEqual({ '1906-S': 0 });
  });

  it('a posting whose answer was lost: the retry posts nothing, and Business Central holds the quantities once', async () => {
    const created = await createOrder('CD-BC-LOST', [{ lineObjectNumber: '1908-S', quantity: 6, warehouse: 'WH-WEST' }]);
    const lost = shipment('CD-BC-LOST', { '1908-S': 4 });
    await control(base, 'lose-next-action', { count: 1 });
    const failure = await failureOf(erp.postShipment(lost, signal()));
    expect(failure.failureClass).toBe('retryable');
    expect(shippedOf('CD-BC-LOST')).toEqual({ '1908-S': 4 });
    expect(await erp.postShipment(lost, signal())).toMatchObject({ posted: false });
    expect(shippedOf('CD-BC-LOST')).toEqual({ '1908-S': 4 });
    expect(shipmentsOf(created.erpOrderRef)).toHaveLength(1);
  });

  it('more than the order has open is permanent and posts nothing; an order Business Central does not have is retryable', async () => {
    const created = await createOrder('CD-BC-OVER', [{ lineObjectNumber: '1920-S', quantity: 2 }]);
    const over = await failureOf(erp.postShipment(shipment('CD-BC-OVER', { '1920-S': 3 }), signal()));
    expect(over.failureClass).toBe('permanent');
    expect(over.message).toBe(`Business Central order ${created.erpOrderRef} has 2 of item 1920-S open to ship; the shipments need 3 more`);
    const unknownItem = await failureOf(erp.postShipment(shipment('CD-BC-OVER', { '1928-S': 1 }), signal()));
    expect(unknownItem).toMatchObject({ failureClass: 'permanent', message: `Business Central order ${created.erpOrderRef} has no line for item 1928-S` });
    expect(shipmentsOf(created.erpOrderRef)).toHaveLength(0);
    const missing = await failureOf(erp.postShipment(shipment('CD-BC-NOT-YET', { '1920-S': 1 }), signal()));
    expect(missing.failureClass).toBe('retryable');
    expect(missing.message).toContain('no sales order CD-BC-NOT-YET');
  });

  it('a company\'s own posting action is called by name, and ships without invoicing', async () => {
    const created = await createOrder('CD-BC-ACTION', [{ lineObjectNumber: '1936-S', quantity: 2 }]);
    const custom = new BusinessCentralErp(config({ shipmentPostingAction: 'ship' }));
    expect((await custom.postShipment(shipment('CD-BC-ACTION', { '1936-S': 2 }), signal())).posted).toBe(true);
    expect(sim.state.requests.some((r) => r.path.endsWith(`/salesOrders(${created.erpOrderId})/Microsoft.NAV.ship`) && r.status === 204)).toBe(true);
    // Shipped, not invoiced: the order stays.
    expect(orderOf('CD-BC-ACTION')).toMatchObject({ fullyShipped: true, salesOrderLines: [expect.objectContaining({ shippedQuantity: 2, invoicedQuantity: 0 })] });
  });

  it('polls the shipments an ERP user posted: lines, tracking from the custom page, the order\'s number and reference; through moves', async () => {
    const start = await erp.shipmentsSince(call, undefined);
    const created = await createOrder('CD-BC-POLL', [{ lineObjectNumber: '1953-W', quantity: 3, warehouse: 'WH-EAST' }, { lineObjectNumber: '1964-W', quantity: 1, warehouse: 'WH-WEST' }]);
    const posted = await control(base, `orders/${created.erpOrderId}/ship`, { lines: [{ lineObjectNumber: '1953-W', quantity: 2 }], packageTrackingNo: '1Z999AA10123456784', shippingAgentCode: 'UPS' });
    expect(posted.status).toBe(200);
    const changes = await erp.shipmentsSince(call, start.through);
    expect(changes.shipments).toEqual([{
      documentId: posted.body.salesShipment.id,
      number: posted.body.salesShipment.number,
      erpOrderRef: created.erpOrderRef,
      externalDocumentNumber: 'CD-BC-POLL',
      carrier: 'UPS',
      trackingNumber: '1Z999AA10123456784',
      cancelled: false,
      shippedAt: posted.body.salesShipment.postingDate,
      changedAt: posted.body.salesShipment.lastModifiedDateTime,
      // API v2.0's shipment lines carry no location.
      lines: [{ sku: '1953-W', quantity: 2, warehouse: null }],
      crossdockShipmentId: null,
    }]);
    expect(changes.through!.getTime()).toBeGreaterThan(start.through?.getTime() ?? 0);
    expect(sim.state.requests.some((r) => r.path.includes('/api/contoso/shipping/v1.0/companies(') && r.path.endsWith('/salesShipmentTracking'))).toBe(true);
    // Nothing new: nothing read, through stays.
    expect(await erp.shipmentsSince(call, changes.through)).toEqual({ shipments: [], through: changes.through });
    // A tracking number changed on the posted shipment afterwards changes it: read again, with the new number.
    await control(base, `shipments/${posted.body.salesShipment.number}`, { packageTrackingNo: '1Z999AA10123456785' }, 'PATCH');
    const later = await erp.shipmentsSince(call, changes.through);
    expect(later.shipments.map((s) => [s.number, s.trackingNumber])).toEqual([[posted.body.salesShipment.number, '1Z999AA10123456785']]);
    expect(later.through!.getTime()).toBeGreaterThan(changes.through!.getTime());
    // Without the custom page, no tracking, and the page is not asked.
    const plain = await new BusinessCentralErp(config({ shipmentTrackingPage: undefined })).shipmentsSince(call, changes.through);
    expect(plain.shipments.map((s) => [s.trackingNumber, s.carrier])).toEqual([[null, null]]);
  });

  it('a crossdock posting shows in the poll too, oldest change first', async () => {
    const { through } = await erp.shipmentsSince(call, undefined);
    await createOrder('CD-BC-POLL-2', [{ lineObjectNumber: '1968-S', quantity: 2 }]);
    const ours = await erp.postShipment(shipment('CD-BC-POLL-2', { '1968-S': 1 }), signal());
    const user = await control(base, `orders/${orderOf('CD-BC-POLL-2')!.id}/ship`, {});
    const changes = await erp.shipmentsSince(call, through);
    expect(changes.shipments.map((s) => [s.number, s.lines])).toEqual([
      [ours.erpShipmentRef, [{ sku: '1968-S', quantity: 1, warehouse: null }]],
      [user.body.salesShipment.number, [{ sku: '1968-S', quantity: 1, warehouse: null }]],
    ]);
  });
});

describe('SAP Business One: posting delivery notes and polling them', () => {
  let sim: SapB1Simulator;
  let base: string;
  let erp: SapB1Erp;
  const config = (overrides: Partial<SapB1Config> = {}, version: 'v1' | 'v2' = 'v1'): SapB1Config => ({
    baseUrl: `${base}/b1s/${version}`, companyDb: 'SBODEMOUS', username: 'manager', password: 'secret-1', warehouseCodes: { 'WH-EAST': '01', 'WH-WEST': '02' }, ...overrides,
  });
  const orderOf = (reference: string) => [...sim.state.documents.Orders.values()].find((o) => o.NumAtCard === reference)!;
  const notesOf = (docEntry: number) => [...sim.state.documents.DeliveryNotes.values()].filter((d) => d.DocumentLines.some((l) => l.BaseEntry === docEntry && l.BaseType === 17));
  const deliveredOf = (reference: string) => orderOf(reference).DocumentLines.map((l) => [l.ItemCode, l.Quantity - l.RemainingOpenQuantity]);
  const stockOf = (itemCode: string, warehouse: string) => sim.state.items.get(itemCode)!.ItemWarehouseInfoCollection.find((w) => w.WarehouseCode === warehouse)!;
  const createOrder = (reference: string, lines: Array<{ lineObjectNumber: string; quantity: number; warehouse?: string }>) =>
    erp.createSalesOrder({ externalDocumentNumber: reference, customerNumber: 'c00001', orderDate: '2026-12-01', lines: lines.map((l) => ({ ...l, unitPrice: 10 })) }, signal());

  beforeAll(async () => {
    sim = createSapB1Simulator({ companyDb: 'SBODEMOUS', userName: 'manager', password: 'secret-1' });
    base = await sim.listen();
    erp = new SapB1Erp(config());
  });
  afterAll(async () => {
    await erp.close();
    await sim.close();
  });

  it('posts a partial delivery, then the rest: based on the order\'s lines, with the tracking number and the shipment in Comments', async () => {
    const created = await createOrder('CD-SAP-SHIP-1', [{ lineObjectNumber: 'A00001', quantity: 5, warehouse: 'WH-EAST' }, { lineObjectNumber: 'A00002', quantity: 2, warehouse: 'WH-WEST' }]);
    const inStock = stockOf('A00001', '01').InStock;
    const first = shipment('CD-SAP-SHIP-1', { A00001: 2 });
    const answer = await erp.postShipment(first, signal());
    expect(answer).toMatchObject({ posted: true, erpShipmentRef: expect.stringMatching(/^\d+$/), erpOrderRef: created.erpOrderRef });
    const sent = sim.state.requests.filter((r) => r.method === 'POST' && r.path === '/b1s/v1/DeliveryNotes').at(-1)!.body;
    expect(sent).toEqual({
      CardCode: 'c00001', Comments: `Crossdock shipment ${first.shipmentId}`, TrackingNumber: first.trackingNumber,
      DocumentLines: [{ BaseType: 17, BaseEntry: Number(created.erpOrderId), BaseLine: 0, Quantity: 2 }],
    });
    // The shape SAP's integrations post: each line copied from an order line; the fields read back are SAP's.
    const published = sapFixture('delivery_note_create_request.json');
    expect(Object.keys(published)).toContain('CardCode');
    for (const field of ['BaseType', 'BaseEntry', 'BaseLine', 'Quantity', 'WarehouseCode']) expect(published.DocumentLines[0]).toHaveProperty(field);
    const order = sapFixture('order_get_v1_trimmed.json');
    for (const field of ['DocEntry', 'DocNum', 'NumAtCard', 'CardCode', 'Cancelled', 'DocumentStatus', 'TrackingNumber', 'Comments', 'UpdateDate', 'UpdateTime']) expect(order).toHaveProperty(field);
    for (const field of ['LineNum', 'ItemCode', 'Quantity', 'RemainingOpenQuantity', 'LineStatus', 'WarehouseCode', 'BaseType', 'BaseEntry']) expect(order.DocumentLines[0]).toHaveProperty(field);
    expect(deliveredOf('CD-SAP-SHIP-1')).toEqual([['A00001', 2], ['A00002', 0]]);
    expect(stockOf('A00001', '01')).toMatchObject({ InStock: inStock - 2, Committed: 3 });

    const rest = await erp.postShipment(shipment('CD-SAP-SHIP-1', { A00001: 5, A00002: 2 }, { erpOrderRef: created.erpOrderRef }), signal());
    expect(rest.posted).toBe(true);
    expect(notesOf(Number(created.erpOrderId)).map((n) => n.DocumentLines.map((l) => [l.ItemCode, l.Quantity]))).toEqual([[['A00001', 2]], [['A00001', 3], ['A00002', 2]]]);
    expect(orderOf('CD-SAP-SHIP-1').DocumentStatus).toBe('bost_Close');
    expect(stockOf('A00001', '01')).toMatchObject({ InStock: inStock - 5, Committed: 0 });
  });

  it('the same shipment twice posts once; the second answers the delivery note it made, posted: false', async () => {
    const created = await createOrder('CD-SAP-TWICE', [{ lineObjectNumber: 'A00003', quantity: 4, warehouse: 'WH-EAST' }]);
    const same = shipment('CD-SAP-TWICE', { A00003: 3 });
    const first = await erp.postShipment(same, signal());
    expect(first.facts).toEqual({ lines: [{ sku: 'A00003', quantity: 3 }] });
    const from = sim.state.requests.length;
    expect(await erp.postShipment(same, signal())).toEqual({ erpShipmentRef: first.erpShipmentRef, posted: false, erpOrderRef: created.erpOrderRef, facts: first.facts });
    expect(sim.state.requests.slice(from).some((r) => r.method === 'POST' && !r.path.endsWith('/Login'))).toBe(false);
    expect(deliveredOf('CD-SAP-TWICE')).toEqual([['A00003', 3]]);
    expect(notesOf(Number(created.erpOrderId))).toHaveLength(1);
  });

  it('reads the order by the DocEntry the cross-reference has, with no look-up; without it, or with one of another order, looks it up', async () => {
    const created = await createOrder('CD-SAP-KNOWN', [{ lineObjectNumber: 'A00003', quantity: 4 }]);
    const other = await createOrder('CD-SAP-OTHER', [{ lineObjectNumber: 'A00003', quantity: 4 }]);
    const orderReads = (from: number) => sim.state.requests.slice(from).filter((r) => r.method === 'GET' && /\/Orders/.test(r.path)).map((r) => `${r.path.replace(/^\/b1s\/v1\//, '')}${r.query.includes('$filter') ? ' by filter' : ''}`);
    let from = sim.state.requests.length;
    expect(await erp.postShipment(shipment('CD-SAP-KNOWN', { A00003: 1 }, { erpOrderId: created.erpOrderId }), signal())).toMatchObject({ posted: true, facts: { lines: [{ sku: 'A00003', quantity: 1 }] } });
    expect(orderReads(from)).toEqual([`Orders(${created.erpOrderId})`]);
    for (const erpOrderId of [other.erpOrderId, '999999', 'DocEntry']) {
      from = sim.state.requests.length;
      expect(await erp.postShipment(shipment('CD-SAP-KNOWN', { A00003: 2 }, { erpOrderId }), signal())).toMatchObject({ erpOrderRef: created.erpOrderRef });
      expect(orderReads(from).at(-1)).toBe('Orders by filter');
    }
    expect(deliveredOf('CD-SAP-KNOWN')).toEqual([['A00003', 2]]);
    expect(deliveredOf('CD-SAP-OTHER')).toEqual([['A00003', 0]]);
  });

  it('a delivery note whose answer was lost: the retry posts nothing, and SAP holds the quantities once', async () => {
    const created = await createOrder('CD-SAP-LOST', [{ lineObjectNumber: 'A00004', quantity: 6, warehouse: 'WH-WEST' }]);
    const lost = shipment('CD-SAP-LOST', { A00004: 4 });
    await control(base, 'lose-next-create', { count: 1 });
    expect((await failureOf(erp.postShipment(lost, signal()))).failureClass).toBe('retryable');
    expect(deliveredOf('CD-SAP-LOST')).toEqual([['A00004', 4]]);
    const retry = await erp.postShipment(lost, signal());
    expect(retry).toMatchObject({ posted: false, erpShipmentRef: String(notesOf(Number(created.erpOrderId))[0]!.DocNum) });
    expect(deliveredOf('CD-SAP-LOST')).toEqual([['A00004', 4]]);
    expect(notesOf(Number(created.erpOrderId))).toHaveLength(1);
  });

  it('more than the order has open, and a cancelled order, are permanent; an order SAP does not have is retryable', async () => {
    const created = await createOrder('CD-SAP-OVER', [{ lineObjectNumber: 'A00005', quantity: 2, warehouse: 'WH-EAST' }]);
    const over = await failureOf(erp.postShipment(shipment('CD-SAP-OVER', { A00005: 3 }), signal()));
    expect(over).toMatchObject({ failureClass: 'permanent', message: `SAP Business One order ${created.erpOrderRef} has 2 of item A00005 open to ship; the shipments need 3 more` });
    expect(notesOf(Number(created.erpOrderId))).toHaveLength(0);
    await erp.cancelSalesOrder('CD-SAP-OVER', signal());
    const cancelled = await failureOf(erp.postShipment(shipment('CD-SAP-OVER', { A00005: 1 }), signal()));
    expect(cancelled.failureClass).toBe('permanent');
    expect(cancelled.message).toContain('(cancelled) has 0 of item A00005 open');
    const missing = await failureOf(erp.postShipment(shipment('CD-SAP-NOT-YET', { A00005: 1 }, { erpOrderRef: '999999' }), signal()));
    expect(missing.failureClass).toBe('retryable');
    expect(missing.message).toContain('no order 999999');
  });

  it('ships from the warehouse the shipment names when the order line had another', async () => {
    const created = await createOrder('CD-SAP-WAREHOUSE', [{ lineObjectNumber: 'A00006', quantity: 3, warehouse: 'WH-EAST' }]);
    const west = stockOf('A00006', '02').InStock;
    const moved = shipment('CD-SAP-WAREHOUSE', { A00006: 3 }, { lines: [{ sku: 'A00006', quantity: 3, warehouse: 'WH-WEST' }] });
    expect((await erp.postShipment(moved, signal())).posted).toBe(true);
    expect(notesOf(Number(created.erpOrderId))[0]!.DocumentLines).toMatchObject([{ ItemCode: 'A00006', Quantity: 3, WarehouseCode: '02' }]);
    expect(stockOf('A00006', '02').InStock).toBe(west - 3);
    expect(stockOf('A00006', '01').Committed).toBe(0);
  });

  it('polls the delivery notes an ERP user made: lines, tracking number, the order\'s DocNum and NumAtCard; through moves; a cancelled one comes as cancelled', async () => {
    for (const version of ['v1', 'v2'] as const) {
      const reader = new SapB1Erp(config({}, version));
      const reference = `CD-SAP-POLL-${version}`;
      const start = await reader.shipmentsSince(call, undefined);
      const created = await createOrder(reference, [{ lineObjectNumber: 'A00007', quantity: 3, warehouse: 'WH-WEST' }, { lineObjectNumber: 'A00008', quantity: 1, warehouse: 'WH-EAST' }]);
      const delivered = await control(base, `orders/${created.erpOrderId}/deliver`, { DocumentLines: [{ BaseLine: 0, Quantity: 2 }], TrackingNumber: '1Z999AA10123456784' });
      expect(delivered.status).toBe(200);
      const changes = await reader.shipmentsSince(call, start.through);
      const record = changes.shipments.find((s) => s.documentId === String(delivered.body.DocEntry));
      expect(record).toEqual({
        documentId: String(delivered.body.DocEntry),
        number: String(delivered.body.DocNum),
        erpOrderRef: created.erpOrderRef,
        externalDocumentNumber: reference,
        carrier: null,
        trackingNumber: '1Z999AA10123456784',
        cancelled: false,
        shippedAt: delivered.body.DocDate,
        changedAt: `${delivered.body.UpdateDate}T${delivered.body.UpdateTime}.000Z`,
        lines: [{ sku: 'A00007', quantity: 2, warehouse: 'WH-WEST' }],
        crossdockShipmentId: null,
      });
      expect(changes.through!.getTime()).toBeGreaterThanOrEqual(new Date(record!.changedAt).getTime());
      if (start.through) expect(changes.through!.getTime()).toBeGreaterThanOrEqual(start.through.getTime());
      // Cancelled in SAP: the note comes again as cancelled, and the cancellation document is no shipment of its own.
      const cancel = await fetch(`${base}/b1s/${version}/DeliveryNotes(${delivered.body.DocEntry})/Cancel`, { method: 'POST', headers: { cookie: await sessionCookie(version) } });
      expect(cancel.status).toBe(204);
      const after = await reader.shipmentsSince(call, changes.through);
      expect(after.shipments.filter((s) => s.erpOrderRef === created.erpOrderRef).map((s) => [s.documentId, s.cancelled])).toEqual([[String(delivered.body.DocEntry), true]]);
      expect(deliveredOf(reference)).toEqual([['A00007', 0], ['A00008', 0]]);
      await reader.close();
    }
  });

  it('a delivery note Crossdock posted carries its shipment id back, and a tracking number added later moves it', async () => {
    const { through } = await erp.shipmentsSince(call, undefined);
    await createOrder('CD-SAP-OURS', [{ lineObjectNumber: 'A00009', quantity: 2, warehouse: 'WH-EAST' }]);
    const ours = shipment('CD-SAP-OURS', { A00009: 2 }, { trackingNumber: null });
    const posted = await erp.postShipment(ours, signal());
    const changes = await erp.shipmentsSince(call, through);
    const record = changes.shipments.find((s) => s.number === posted.erpShipmentRef)!;
    expect(record).toMatchObject({ crossdockShipmentId: ours.shipmentId, trackingNumber: null, externalDocumentNumber: 'CD-SAP-OURS', lines: [{ sku: 'A00009', quantity: 2, warehouse: 'WH-EAST' }] });
    // SAP stamps to the second: wait for the next one, so that the patch is a later change.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const patched = await fetch(`${base}/b1s/v1/DeliveryNotes(${posted.erpShipmentId})`, {
      method: 'PATCH', headers: { cookie: await sessionCookie('v1'), 'content-type': 'application/json' }, body: JSON.stringify({ TrackingNumber: '1Z-LATER' }),
    });
    expect(patched.status).toBe(204);
    const later = await erp.shipmentsSince(call, changes.through);
    expect(later.shipments.find((s) => s.number === posted.erpShipmentRef)).toMatchObject({ trackingNumber: '1Z-LATER', crossdockShipmentId: ours.shipmentId });
    expect(later.through!.getTime()).toBeGreaterThan(changes.through!.getTime());
  });

  async function sessionCookie(version: 'v1' | 'v2'): Promise<string> {
    const response = await fetch(`${base}/b1s/${version}/Login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ CompanyDB: 'SBODEMOUS', UserName: 'manager', Password: 'secret-1' }) });
    return response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  }
});
