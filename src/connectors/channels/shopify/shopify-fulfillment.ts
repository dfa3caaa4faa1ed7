/**
 * A shipment as Shopify fulfillments, decided from what the order holds in Shopify now. `fulfillmentCreate` is not
 * idempotent, so the plan is made from the order's fulfilled quantities: a line is fulfilled up to what Crossdock's
 * shipments of the order have shipped of it, never beyond. The same shipment sent again (a retry, a redelivery
 * after a crash between the call and its record) finds its quantities fulfilled and creates nothing.
 */

/** What a store's delivery of `shipment.created` / `shipment.updated` carries. */
export interface ShipmentForShopify {
  shipmentId: string;
  channelOrderId: string;
  status: string;
  carrier: string | null;
  trackingNumber: string | null;
  trackingUrl: string | null;
  /** The tracking number the shipment had before this event: the fulfillment that carries it gets the new one. */
  previousTrackingNumber: string | null;
  lines: Array<{ lineId: string; sku: string; quantity: number }>;
  /** Per order line, what every shipment of the order that is not cancelled has shipped, this one included. */
  shippedTotals: Array<{ lineId: string; sku: string; quantity: number }>;
}

/** The order as Shopify holds it (ids are GraphQL ids). */
export interface ShopifyOrderFulfillment {
  orderId: string;
  lineItems: Array<{ id: string; sku: string | null; quantity: number; unfulfilledQuantity: number }>;
  fulfillmentOrders: Array<{ id: string; status: string; locationId: string | null; lineItems: Array<{ id: string; lineItemId: string; remainingQuantity: number }> }>;
  fulfillments: Array<{ id: string; createdAt: string; trackingNumbers: string[]; lineItemIds: string[] }>;
}

export interface FulfillmentCreate {
  locationId: string | null;
  lineItemsByFulfillmentOrder: Array<{ fulfillmentOrderId: string; fulfillmentOrderLineItems: Array<{ id: string; quantity: number }> }>;
}

export type FulfillmentPlan =
  | { ok: true; creates: FulfillmentCreate[]; trackingUpdate?: string; ours: string[] }
  | { ok: false; reason: string };

// Fulfillment orders that can still be fulfilled.
const OPEN = new Set(['OPEN', 'IN_PROGRESS', 'SCHEDULED']);

export function lineItemGid(lineId: string): string {
  return lineId.startsWith('gid://') ? lineId : `gid://shopify/LineItem/${lineId}`;
}

export function orderGid(channelOrderId: string): string {
  return channelOrderId.startsWith('gid://') ? channelOrderId : `gid://shopify/Order/${channelOrderId}`;
}

export function planFulfillment(shipment: ShipmentForShopify, order: ShopifyOrderFulfillment): FulfillmentPlan {
  const ours = order.fulfillments.filter((f) => shipment.trackingNumber !== null && f.trackingNumbers.includes(shipment.trackingNumber)).map((f) => f.id);
  if (shipment.status === 'cancelled') return { ok: true, creates: [], ours };
  // What is still to fulfil, per Shopify line item, and where.
  const wanted = new Map<string, number>();
  for (const total of shipment.shippedTotals) {
    const item = order.lineItems.find((l) => l.id === lineItemGid(total.lineId)) ?? order.lineItems.find((l) => l.sku === total.sku);
    if (!item) return { ok: false, reason: `order line ${total.lineId} (${total.sku}) is not on Shopify order ${order.orderId}` };
    if (!Number.isInteger(total.quantity)) return { ok: false, reason: `Shopify fulfils whole units; line ${total.lineId} (${total.sku}) ships ${total.quantity}` };
    const fulfilled = item.quantity - item.unfulfilledQuantity;
    const need = Math.min(total.quantity, item.quantity) - fulfilled;
    if (need > 0) wanted.set(item.id, (wanted.get(item.id) ?? 0) + need);
  }
  const byFulfillmentOrder = new Map<string, { locationId: string | null; items: Array<{ id: string; quantity: number }> }>();
  for (const [lineItemId, need] of wanted) {
    let left = need;
    for (const fulfillmentOrder of order.fulfillmentOrders.filter((f) => OPEN.has(f.status))) {
      for (const line of fulfillmentOrder.lineItems.filter((l) => l.lineItemId === lineItemId && l.remainingQuantity > 0)) {
        const take = Math.min(left, line.remainingQuantity);
        if (take <= 0) continue;
        const group = byFulfillmentOrder.get(fulfillmentOrder.id) ?? { locationId: fulfillmentOrder.locationId, items: [] };
        byFulfillmentOrder.set(fulfillmentOrder.id, group);
        group.items.push({ id: line.id, quantity: take });
        left -= take;
      }
    }
    if (left > 0) return { ok: false, reason: `Shopify order ${order.orderId} has ${need - left} of line item ${lineItemId} left to fulfil, the shipments need ${need}` };
  }
  // One fulfillment per location: Shopify takes the fulfillment orders of one location in one call.
  const byLocation = new Map<string, FulfillmentCreate>();
  for (const [fulfillmentOrderId, { locationId, items }] of byFulfillmentOrder) {
    const create = byLocation.get(String(locationId)) ?? { locationId, lineItemsByFulfillmentOrder: [] };
    byLocation.set(String(locationId), create);
    create.lineItemsByFulfillmentOrder.push({ fulfillmentOrderId, fulfillmentOrderLineItems: items });
  }
  const creates = [...byLocation.values()];
  if (creates.length > 0 || shipment.trackingNumber === null || ours.length > 0) return { ok: true, creates, ours };
  // Nothing to fulfil, and no fulfillment carries the tracking number: the one that carried the previous one
  // gets it; without a previous one, the latest untracked fulfillment of this shipment's lines.
  const shipmentItems = new Set(shipment.lines.map((l) => lineItemGid(l.lineId)));
  const carrier = shipment.previousTrackingNumber !== null
    ? order.fulfillments.find((f) => f.trackingNumbers.includes(shipment.previousTrackingNumber!))
    : [...order.fulfillments].reverse().find((f) => f.trackingNumbers.length === 0 && f.lineItemIds.every((id) => shipmentItems.has(id)));
  return carrier ? { ok: true, creates, trackingUpdate: carrier.id, ours: [carrier.id] } : { ok: true, creates, ours };
}
