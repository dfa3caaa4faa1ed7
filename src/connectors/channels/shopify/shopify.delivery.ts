import type { DeliveryResult } from '../../../platform/delivery/destinations.js';
import { TargetError } from '../../../platform/delivery/outcome.js';
import type { Delivery } from '../../../platform/outbox/message.js';
import { ShopifyAdminClient } from './shopify-admin.client.js';
import { orderGid, planFulfillment, type ShipmentForShopify } from './shopify-fulfillment.js';
import type { ShopifyConfig } from './shopify.config.js';

// The public event of a channel's available-to-sell; a Shopify store takes it as quantities per location.
const AVAILABILITY_CHANGED = 'inventory.availability.changed';
// A shipment of one of the store's orders, as fulfillments.
const SHIPMENT_TYPES = new Set(['shipment.created', 'shipment.updated']);

/** The delivery adapter of kind `shopify`: what a store is sent, as Admin GraphQL calls. */
export class ShopifyDelivery {
  private readonly client: ShopifyAdminClient;

  constructor(private readonly config: ShopifyConfig) {
    this.client = new ShopifyAdminClient(config);
  }

  async deliver(channelId: string, delivery: Delivery, signal: AbortSignal): Promise<DeliveryResult> {
    if (SHIPMENT_TYPES.has(delivery.type)) return this.fulfil(delivery.payload as unknown as ShipmentForShopify, signal);
    if (delivery.type !== AVAILABILITY_CHANGED) throw new TargetError('permanent', `channel ${channelId} of kind shopify does not take ${delivery.type} pushes`);
    return this.publishAvailability(delivery, signal);
  }

  /**
   * Sets the SKU's available quantity at each location of the store. The figures last delivered are what
   * Shopify should still hold: a difference is a change made in Shopify meanwhile, detected and reported.
   * A SKU the store does not sell, or a warehouse without a location, is nothing to publish.
   */
  private async publishAvailability(delivery: Delivery, signal: AbortSignal): Promise<DeliveryResult> {
    const sku = String(delivery.payload.sku);
    const byWarehouse = (delivery.payload.byWarehouse ?? {}) as Record<string, number>;
    const previous = delivery.previousValue ? (JSON.parse(delivery.previousValue) as Record<string, number>) : {};
    const changes = Object.entries(byWarehouse).map(([warehouse, quantity]) => ({ sku, warehouse, quantity, previous: previous[warehouse] }));
    const result = await this.client.setAvailable(changes, { referenceDocumentUri: `crossdock://deliveries/${delivery.deliveryId}`, signal });
    return { ...result };
  }

  /**
   * A shipment as fulfillments: the order's fulfillment orders are read first and only what the order's
   * shipments have shipped beyond what Shopify holds as fulfilled is created, one fulfillment per location, with
   * the tracking number; a later tracking number goes to the fulfillment that carried the earlier one. Answers
   * the fulfillments that are the shipment's, so that their webhooks are known as ours.
   */
  private async fulfil(shipment: ShipmentForShopify, signal: AbortSignal): Promise<DeliveryResult> {
    const order = await this.client.fulfillmentState(orderGid(shipment.channelOrderId), signal);
    if (!order) throw new TargetError('permanent', `Shopify has no order ${shipment.channelOrderId}`);
    const plan = planFulfillment(shipment, order);
    if (!plan.ok) throw new TargetError('permanent', plan.reason);
    const tracking = { number: shipment.trackingNumber, company: shipment.carrier, url: shipment.trackingUrl };
    const notify = this.config.notifyCustomer ?? true;
    const created: string[] = [];
    for (const create of plan.creates) created.push(await this.client.createFulfillment(create, tracking, notify, signal));
    if (plan.trackingUpdate) await this.client.updateTracking(plan.trackingUpdate, tracking, notify, signal);
    return { shipmentId: shipment.shipmentId, fulfillmentIds: [...new Set([...plan.ours, ...created])], created: created.length, ...(plan.trackingUpdate ? { trackingUpdated: plan.trackingUpdate } : {}) };
  }
}
