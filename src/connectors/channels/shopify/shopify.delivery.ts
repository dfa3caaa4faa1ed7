import type { DeliveryResult } from '../../../platform/delivery/destinations.js';
import { TargetError } from '../../../platform/delivery/outcome.js';
import type { Delivery } from '../../../platform/outbox/message.js';
import { ShopifyAdminClient } from './shopify-admin.client.js';
import type { ShopifyConfig } from './shopify.config.js';

// The public event of a channel's available-to-sell; a Shopify store takes it as quantities per location.
const AVAILABILITY_CHANGED = 'inventory.availability.changed';

/** The delivery adapter of kind `shopify`: what a store is sent, as Admin GraphQL calls. */
export class ShopifyDelivery {
  private readonly client: ShopifyAdminClient;

  constructor(config: ShopifyConfig) {
    this.client = new ShopifyAdminClient(config);
  }

  async deliver(channelId: string, delivery: Delivery, signal: AbortSignal): Promise<DeliveryResult> {
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
}
