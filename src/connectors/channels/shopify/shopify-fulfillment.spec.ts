import { describe, expect, it } from 'vitest';
import { planFulfillment, type ShipmentForShopify, type ShopifyOrderFulfillment } from './shopify-fulfillment.js';

const L = (n: number) => `gid://shopify/LineItem/${n}`;

/** Line 1 (A x4) split over two locations (3 at L1, 1 at L2); line 2 (B x2) at L1. */
function order(fulfilled: { a1?: number; a2?: number; b?: number } = {}, fulfillments: ShopifyOrderFulfillment['fulfillments'] = []): ShopifyOrderFulfillment {
  const { a1 = 0, a2 = 0, b = 0 } = fulfilled;
  return {
    orderId: 'gid://shopify/Order/1',
    lineItems: [
      { id: L(1), sku: 'A', quantity: 4, unfulfilledQuantity: 4 - a1 - a2 },
      { id: L(2), sku: 'B', quantity: 2, unfulfilledQuantity: 2 - b },
    ],
    fulfillmentOrders: [
      { id: 'FO1', status: a1 === 3 && b === 2 ? 'CLOSED' : 'OPEN', locationId: 'LOC1', lineItems: [{ id: 'FO1-A', lineItemId: L(1), remainingQuantity: 3 - a1 }, { id: 'FO1-B', lineItemId: L(2), remainingQuantity: 2 - b }] },
      { id: 'FO2', status: a2 === 1 ? 'CLOSED' : 'OPEN', locationId: 'LOC2', lineItems: [{ id: 'FO2-A', lineItemId: L(1), remainingQuantity: 1 - a2 }] },
    ],
    fulfillments,
  };
}

function shipment(over: Partial<ShipmentForShopify> = {}): ShipmentForShopify {
  return {
    shipmentId: 'S1', channelOrderId: '1', status: 'shipped', carrier: 'DHL', trackingNumber: 'T1', trackingUrl: null, previousTrackingNumber: null,
    lines: [{ lineId: '1', sku: 'A', quantity: 4 }], shippedTotals: [{ lineId: '1', sku: 'A', quantity: 4 }], ...over,
  };
}

describe('planFulfillment', () => {
  it('fulfils a line split over locations with one fulfillment per location', () => {
    const plan = planFulfillment(shipment(), order());
    expect(plan).toEqual({
      ok: true, ours: [],
      creates: [
        { locationId: 'LOC1', lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: 'FO1', fulfillmentOrderLineItems: [{ id: 'FO1-A', quantity: 3 }] }] },
        { locationId: 'LOC2', lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: 'FO2', fulfillmentOrderLineItems: [{ id: 'FO2-A', quantity: 1 }] }] },
      ],
    });
  });

  it('creates nothing for quantities Shopify already holds as fulfilled, whoever fulfilled them', () => {
    expect(planFulfillment(shipment(), order({ a1: 3, a2: 1 }))).toEqual({ ok: true, creates: [], ours: [] });
    const rest = planFulfillment(shipment(), order({ a1: 2 }));
    expect(rest.ok && rest.creates.flatMap((c) => c.lineItemsByFulfillmentOrder.flatMap((g) => g.fulfillmentOrderLineItems))).toEqual([{ id: 'FO1-A', quantity: 1 }, { id: 'FO2-A', quantity: 1 }]);
  });

  it('matches a line by SKU when its id is not a Shopify line item, and refuses one the order does not have', () => {
    const bySku = planFulfillment(shipment({ lines: [{ lineId: 'x', sku: 'B', quantity: 2 }], shippedTotals: [{ lineId: 'x', sku: 'B', quantity: 2 }] }), order());
    expect(bySku.ok && bySku.creates).toEqual([{ locationId: 'LOC1', lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: 'FO1', fulfillmentOrderLineItems: [{ id: 'FO1-B', quantity: 2 }] }] }]);
    expect(planFulfillment(shipment({ shippedTotals: [{ lineId: 'y', sku: 'Z', quantity: 1 }] }), order())).toMatchObject({ ok: false, reason: expect.stringContaining('(Z) is not on Shopify order') });
    expect(planFulfillment(shipment({ shippedTotals: [{ lineId: '1', sku: 'A', quantity: 1.5 }] }), order())).toMatchObject({ ok: false, reason: expect.stringContaining('whole units') });
  });

  it('never fulfils beyond the ordered quantity, and refuses when the fulfillment orders hold less than is needed', () => {
    expect(planFulfillment(shipment({ shippedTotals: [{ lineId: '1', sku: 'A', quantity: 9 }] }), order({ a1: 3, a2: 1 }))).toEqual({ ok: true, creates: [], ours: [] });
    const closed = order();
    closed.fulfillmentOrders[1]!.status = 'ON_HOLD';
    expect(planFulfillment(shipment(), closed)).toMatchObject({ ok: false, reason: expect.stringContaining('has 3 of line item') });
  });

  it('moves a changed tracking number to the fulfillment that carried the previous one', () => {
    const done = order({ a1: 3, a2: 1 }, [
      { id: 'F1', createdAt: '2026-12-05T10:00:00Z', trackingNumbers: ['T0'], lineItemIds: [L(1)] },
      { id: 'F2', createdAt: '2026-12-05T10:01:00Z', trackingNumbers: ['OTHER'], lineItemIds: [L(1)] },
    ]);
    expect(planFulfillment(shipment({ trackingNumber: 'T1', previousTrackingNumber: 'T0' }), done)).toEqual({ ok: true, creates: [], trackingUpdate: 'F1', ours: ['F1'] });
    // Already carrying it: nothing to do.
    expect(planFulfillment(shipment({ trackingNumber: 'OTHER', previousTrackingNumber: 'T0' }), done)).toEqual({ ok: true, creates: [], ours: ['F2'] });
    // No previous number: the latest untracked fulfillment of the shipment's lines.
    const untracked = order({ a1: 3, a2: 1 }, [{ id: 'F3', createdAt: '2026-12-05T10:00:00Z', trackingNumbers: [], lineItemIds: [L(1)] }]);
    expect(planFulfillment(shipment({ trackingNumber: 'T9' }), untracked)).toEqual({ ok: true, creates: [], trackingUpdate: 'F3', ours: ['F3'] });
  });

  it('plans nothing for a cancelled shipment', () => {
    expect(planFulfillment(shipment({ status: 'cancelled' }), order())).toEqual({ ok: true, creates: [], ours: [] });
  });
});
