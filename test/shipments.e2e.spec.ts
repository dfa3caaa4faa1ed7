import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultTarget, TARGET_SECRET } from './support/fault-target.js';
import { ParkedShipments } from '../src/modules/shipments/commands/parked-shipments.js';
import { waitUntil } from './support/messaging.js';
import { orderBody, ordersWorld, submitOrder, waitForStatus, type OrdersWorld } from './support/orders.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// Shipments from the warehouse (a source system) to the orders they ship, and on to the order's webhook channel.
let t: TestApp;
let w: OrdersWorld;
let wmsKey: string;
// A CRM that takes every order's new shipments, and nothing else.
const crm = new FaultTarget();

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn' } });
  w = await ordersWorld(t);
  expect((await t.request('PUT', '/v1/admin/sources/wms', { body: { name: 'Warehouse system' } })).status).toBe(201);
  wmsKey = (await t.request('POST', '/v1/admin/sources/wms/api-keys', { body: { scopes: ['shipments:write', 'shipments:read'] } })).body.key;
  await crm.start();
  const subscriber = await t.request('PUT', '/v1/admin/channels/crm', {
    body: { kind: 'webhook', config: { url: crm.url, secret: TARGET_SECRET, subscribe: ['shipment.created'] }, inventory: { warehouses: [], safetyStock: 0, allocationPercent: 100 }, oversell: 'reject' },
  });
  expect(subscriber.status).toBe(201);
});
afterAll(async () => {
  await t.close();
  await w.close();
  await crm.stop();
});

let sequence = 0;
/** A shipment event of the order (lines 1896-S x2 on line 1, 1900-S x1.5 on line 2), `at` seconds after a fixed time. */
const shipmentEvent = (orderId: string, shipmentId: string, over: Record<string, unknown> = {}, at = 0) => ({
  eventId: `evt-${process.pid}-${++sequence}`, orderId, shipmentId, status: 'shipped', carrier: 'DHL', trackingNumber: `TRK-${shipmentId}`,
  lines: [{ sku: '1896-S', quantity: 2, lineId: '1' }, { sku: '1900-S', quantity: 1.5, lineId: '2' }],
  occurredAt: new Date(Date.UTC(2026, 11, 2, 10, 0, at)).toISOString(), ...over,
});
const send = (event: unknown) => t.request('POST', '/v1/shipments/events', { token: wmsKey, body: event });

async function confirmedOrder(over: Record<string, unknown> = {}): Promise<string> {
  const answer = await submitOrder(t, w.portalKey, orderBody(over));
  expect(answer.status).toBe(202);
  await waitForStatus(t, answer.body.orderId, 'confirmed');
  return answer.body.orderId;
}

const portalEvents = (shipmentId: string) => w.portal.effects.filter((e) => e.type.startsWith('shipment.') && e.data.shipmentId === shipmentId);

describe('shipments in', () => {
  it('applies an event once, however often and in whatever order it comes; an older one is stale', async () => {
    const orderId = await confirmedOrder();
    const first = shipmentEvent(orderId, `S-${orderId}-1`, {}, 0);
    const later = shipmentEvent(orderId, `S-${orderId}-1`, { status: 'delivered' }, 60);
    const answers = [await send(first), await send(first), await send(later), await send(first), await send({ ...first, eventId: `${first.eventId}-again` })];
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    expect(answers.map((a) => a.body.outcome)).toEqual(['applied', 'duplicate', 'applied', 'duplicate', 'stale']);
    expect((await t.request('GET', `/v1/orders/${orderId}`)).body.status).toBe('shipped');
    const shipment = (await t.request('GET', `/v1/shipments/S-${orderId}-1`, { token: wmsKey })).body;
    expect(shipment).toMatchObject({ orderId, status: 'delivered', trackingNumber: `TRK-S-${orderId}-1`, version: 2 });
    await waitUntil('the portal heard both', () => portalEvents(`S-${orderId}-1`).length === 2);
    expect(portalEvents(`S-${orderId}-1`).map((e) => [e.type, e.data.status])).toEqual([['shipment.created', 'shipped'], ['shipment.updated', 'delivered']]);
    // The CRM asked for new shipments of every order: it has the created one, once, and not the update.
    await waitUntil('the CRM heard of it', () => crm.effects.some((e) => e.data.shipmentId === `S-${orderId}-1`));
    await new Promise((r) => setTimeout(r, 300));
    expect(crm.effects.filter((e) => e.data.shipmentId === `S-${orderId}-1`).map((e) => e.type)).toEqual(['shipment.created']);
  });

  it('ships an order in two parts: partially shipped, then shipped, the channel told each time; a tracking number changed later', async () => {
    const orderId = await confirmedOrder();
    const part1 = await send(shipmentEvent(orderId, `S-${orderId}-a`, { lines: [{ sku: '1896-S', quantity: 1 }] }));
    expect(part1.body.outcome).toBe('applied');
    expect((await t.request('GET', `/v1/orders/${orderId}`)).body.status).toBe('partially_shipped');
    const part2 = await send(shipmentEvent(orderId, `S-${orderId}-b`, { lines: [{ sku: '1896-S', quantity: 1 }, { sku: '1900-S', quantity: 1.5 }] }, 10));
    expect(part2.body.outcome).toBe('applied');
    const shipped = (await t.request('GET', `/v1/orders/${orderId}`)).body;
    expect(shipped.status).toBe('shipped');
    expect(shipped.shipments.map((x: any) => [x.shipmentId, x.lines.length])).toEqual([[`S-${orderId}-a`, 1], [`S-${orderId}-b`, 2]]);
    const retracked = await send(shipmentEvent(orderId, `S-${orderId}-a`, { lines: [{ sku: '1896-S', quantity: 1 }], trackingNumber: 'TRK-NEW' }, 20));
    expect(retracked.body.outcome).toBe('applied');
    await waitUntil('the portal heard all three', () => portalEvents(`S-${orderId}-a`).length + portalEvents(`S-${orderId}-b`).length === 3);
    expect(portalEvents(`S-${orderId}-a`).map((e) => [e.type, e.data.partial, e.data.trackingNumber])).toEqual([['shipment.created', true, `TRK-S-${orderId}-a`], ['shipment.updated', false, 'TRK-NEW']]);
    expect(portalEvents(`S-${orderId}-b`)[0]!.data).toMatchObject({ orderId, partial: false, lines: [{ lineId: '1', sku: '1896-S', quantity: 1 }, { lineId: '2', sku: '1900-S', quantity: 1.5 }] });
    const statuses = w.portal.effects.filter((e) => e.type === 'order.status.changed' && e.data.orderId === orderId).map((e) => e.data.status);
    expect(statuses.slice(-2)).toEqual(['partially_shipped', 'shipped']);
  });

  it('takes three times as many shipments at once as the service has connections, each applied, none refused', async () => {
    const orderIds: string[] = [];
    for (let i = 0; i < 30; i++) {
      const answer = await submitOrder(t, w.portalKey, orderBody());
      expect(answer.status).toBe(202);
      orderIds.push(answer.body.orderId);
    }
    const answers = await Promise.all(orderIds.map((orderId) => send(shipmentEvent(orderId, `S-${orderId}-many`))));
    expect(answers.map((a) => `${a.status} ${a.body.outcome}`)).toEqual(orderIds.map(() => '202 applied'));
  });

  it('parks a shipment that comes before its order, and applies it once the order is there', async () => {
    const body = orderBody();
    const early = await send({ ...shipmentEvent('', 'S-early'), orderId: undefined, channelOrderId: body.channelOrderId });
    expect(early.body).toMatchObject({ shipmentId: 'S-early', outcome: 'parked', exception: false });
    const answer = await submitOrder(t, w.portalKey, body);
    expect(answer.status).toBe(202);
    await t.app.get(ParkedShipments).retryParked();
    await waitForStatus(t, answer.body.orderId, 'shipped');
    expect((await t.request('GET', '/v1/shipments/S-early', { token: wmsKey })).body.orderId).toBe(answer.body.orderId);
  });

  it('holds an over-shipment or an unknown line as an exception an operator sees, retries, corrects or dismisses', async () => {
    const orderId = await confirmedOrder();
    const over = await send(shipmentEvent(orderId, `S-${orderId}-over`, { lines: [{ sku: '1896-S', quantity: 5, lineId: '1' }] }));
    expect(over.body).toMatchObject({ outcome: 'parked', exception: true, reason: 'ships 5 of line 1 (1896-S), and 2 of it is left to ship' });
    const unknown = await send(shipmentEvent(orderId, `S-${orderId}-odd`, { lines: [{ sku: 'NOPE', quantity: 1 }] }));
    expect(unknown.body.reason).toBe('NOPE is not on the order');
    const listed = (await t.request('GET', '/v1/ops/exceptions?domain=shipment')).body.exceptions.filter((e: any) => e.event.orderId === orderId);
    expect(listed.map((e: any) => e.reason).sort()).toEqual(['NOPE is not on the order', 'ships 5 of line 1 (1896-S), and 2 of it is left to ship']);
    expect(listed.every((e: any) => e.domain === 'shipment' && e.payload.orderId === orderId)).toBe(true);
    const [overHeld, unknownHeld] = [listed.find((e: any) => e.shipmentId.endsWith('-over')), listed.find((e: any) => e.shipmentId.endsWith('-odd'))];
    // Nothing was applied: the order is not shipping, its channel heard nothing of these.
    expect((await t.request('GET', `/v1/orders/${orderId}`)).body.status).toBe('confirmed');
    const retried = await t.request('POST', `/v1/ops/exceptions/${overHeld.id}/retry`);
    expect(retried.body).toMatchObject({ domain: 'shipment', closed: false, outcome: 'parked', exception: true });
    // A correction that is not a shipment event is refused, and changes nothing.
    const malformed = await t.request('POST', `/v1/ops/exceptions/${overHeld.id}/retry`, { body: { payload: { ...overHeld.payload, lines: [] } } });
    expect(malformed.status).toBe(400);
    const corrected = await t.request('POST', `/v1/ops/exceptions/${overHeld.id}/retry`, { body: { payload: { ...overHeld.payload, lines: [{ sku: '1896-S', quantity: 2, lineId: '1' }, { sku: '1900-S', quantity: 1.5, lineId: '2' }] } } });
    expect(corrected.body).toMatchObject({ domain: 'shipment', closed: true, outcome: 'applied' });
    await waitForStatus(t, orderId, 'shipped');
    const dismissed = await t.request('POST', `/v1/ops/exceptions/${unknownHeld.id}/dismiss`);
    expect(dismissed.body).toEqual({ id: unknownHeld.id, domain: 'shipment', resolution: 'dismissed' });
    expect((await t.request('POST', `/v1/ops/exceptions/${unknownHeld.id}/dismiss`)).status).toBe(404);
    const still = (await t.request('GET', '/v1/ops/exceptions')).body.exceptions.filter((e: any) => e.event?.orderId === orderId);
    expect(still).toEqual([]);
    expect((await t.sql(`select action from audit_entry where resource_type = 'exception' and resource_id = any($1::text[]) order by id`, [[overHeld.id, unknownHeld.id]])).map((r) => r.action)).toEqual(['retry', 'retry', 'dismiss']);
  });

  it('refuses what is not a shipment: no order named, two named, a channel key, a bad body; nothing recorded', async () => {
    const orderId = await confirmedOrder();
    const event = shipmentEvent(orderId, `S-${orderId}-bad`);
    expect((await send({ ...event, orderId: undefined })).status).toBe(400);
    expect((await send({ ...event, channelOrderId: 'x' })).status).toBe(400);
    expect((await send({ ...event, lines: [] })).status).toBe(400);
    expect((await send({ ...event, status: 'lost' })).status).toBe(400);
    expect((await t.request('POST', '/v1/shipments/events', { token: w.portalKey, body: event })).status).toBe(403);
    expect(await t.sql('select id from shipment where id = $1', [`S-${orderId}-bad`])).toEqual([]);
  });

  it("keeps the shipped quantities reserved until the warehouse's next level counts them gone: the figure never rises in between", async () => {
    expect((await t.request('PUT', '/v1/admin/sources/erp-stock', { body: { name: 'ERP stock' } })).status).toBe(201);
    const stockKey = (await t.request('POST', '/v1/admin/sources/erp-stock/api-keys', { body: { scopes: ['inventory:write'] } })).body.key;
    let n = 0;
    const level = async (onHand: number, at: Date) => {
      const answer = await t.request('POST', '/v1/inventory/levels', { token: stockKey, body: { items: [{ eventId: `ship-level-${process.pid}-${++n}`, sku: '1936-S', warehouse: 'WH-EAST', onHand, occurredAt: at.toISOString() }] } });
      expect(answer.body.accepted).toBe(1);
    };
    const figure = async () => (await t.request('GET', '/v1/inventory/1936-S')).body.channels.find((c: { channelId: string }) => c.channelId === 'portal').available;
    const open = async () => (await t.sql<{ reserved: number; shipped: number }>(
      `select coalesce(sum(quantity) filter (where shipment_id is null), 0)::float8 as reserved, coalesce(sum(quantity) filter (where shipment_id is not null), 0)::float8 as shipped
         from stock_reservation where sku = '1936-S' and ended_at is null`))[0]!;
    const start = Date.now();
    await level(10, new Date(start - 60_000));
    // The ERP in maintenance: the order is not confirmed, so only the shipment can end its reservation.
    await fetch(`${w.simUrl}/_control/maintenance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ on: true }) });
    try {
      const answer = await submitOrder(t, w.portalKey, orderBody({ lines: [{ lineId: '1', sku: '1936-S', quantity: 4, unitPrice: 10 }] }));
      expect(answer.status).toBe(202);
      const orderId = answer.body.orderId;
      expect(await figure()).toBe(6);
      const shippedAt = new Date(start - 30_000);
      const event = { eventId: `ship-res-${process.pid}-1`, orderId, shipmentId: `S-${orderId}-res`, status: 'shipped', carrier: 'DHL', trackingNumber: 'TRK-R',
        lines: [{ sku: '1936-S', quantity: 1, lineId: '1' }], occurredAt: shippedAt.toISOString() };
      expect((await send(event)).body.outcome).toBe('applied');
      expect(await open()).toEqual({ reserved: 3, shipped: 1 });
      expect(await figure()).toBe(6);
      // A level from before the shipment still has the goods: the shipped part stays reserved (not counted zero times).
      await level(10, new Date(shippedAt.getTime() - 1_000));
      expect(await open()).toEqual({ reserved: 3, shipped: 1 });
      expect(await figure()).toBe(6);
      // The same shipment again, later (in transit): it marks the same part, from the same time.
      expect((await send({ ...event, eventId: `ship-res-${process.pid}-2`, status: 'in_transit', occurredAt: new Date(start - 10_000).toISOString() })).body.outcome).toBe('applied');
      expect(await open()).toEqual({ reserved: 3, shipped: 1 });
      const [{ at }] = await t.sql<{ at: Date }>("select shipped_at as at from stock_reservation where sku = '1936-S' and shipment_id is not null and ended_at is null");
      expect(new Date(at).getTime()).toBe(shippedAt.getTime());
      // The warehouse's level from after the shipment counts the unit gone: the shipped part ends once (not counted twice).
      await level(9, new Date(shippedAt.getTime() + 1_000));
      expect(await open()).toEqual({ reserved: 3, shipped: 0 });
      expect(await figure()).toBe(6);
      const [{ ended }] = await t.sql<{ ended: number }>("select count(*)::int as ended from stock_reservation where sku = '1936-S' and shipment_id is not null and ended_at is not null");
      expect(ended).toBe(1);
      const [{ total }] = await t.sql<{ total: number }>("select coalesce(sum(quantity), 0)::float8 as total from stock_reserved where sku = '1936-S'");
      expect(total).toBe(3);
    } finally {
      await fetch(`${w.simUrl}/_control/maintenance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ on: false }) });
    }
  });

  it("marks a shipment of two lines of one SKU against that SKU's reservations together", async () => {
    await fetch(`${w.simUrl}/_control/maintenance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ on: true }) });
    try {
      const answer = await submitOrder(t, w.portalKey, orderBody({ lines: [{ lineId: '1', sku: '1953-W', quantity: 2, unitPrice: 10 }, { lineId: '2', sku: '1953-W', quantity: 3, unitPrice: 10 }] }));
      expect(answer.status).toBe(202);
      const orderId = answer.body.orderId;
      const event = { eventId: `ship-two-${process.pid}`, orderId, shipmentId: `S-${orderId}-two`, status: 'shipped', carrier: 'DHL', trackingNumber: 'TRK-2',
        lines: [{ sku: '1953-W', quantity: 1, lineId: '1' }, { sku: '1953-W', quantity: 2, lineId: '2' }], occurredAt: new Date().toISOString() };
      expect((await send(event)).body.outcome).toBe('applied');
      const [marks] = await t.sql<{ shipped: number; reserved: number }>(
        `select coalesce(sum(quantity) filter (where shipment_id is not null), 0)::float8 as shipped, coalesce(sum(quantity) filter (where shipment_id is null), 0)::float8 as reserved
           from stock_reservation where order_id = $1 and ended_at is null`, [orderId]);
      expect(marks).toEqual({ shipped: 3, reserved: 2 });
    } finally {
      await fetch(`${w.simUrl}/_control/maintenance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ on: false }) });
    }
  });
});
