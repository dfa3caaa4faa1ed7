/** Sent to a channel when its available-to-sell for a SKU changes (CloudEvents type; public contract). */
export const AVAILABILITY_CHANGED = 'inventory.availability.changed';

export interface AvailabilityChanged {
  channelId: string;
  sku: string;
  available: number;
  version: number;
  asOf: string;
  /** Shopify channels: the figure per warehouse, for their locations. */
  byWarehouse?: Record<string, number>;
}
