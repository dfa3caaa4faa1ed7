/** Sent to the order's webhook channel when a shipment is first applied, and when it changes after. */
export const SHIPMENT_CREATED = 'shipment.created';
export const SHIPMENT_UPDATED = 'shipment.updated';

/** The contract's fields of `shipment.created` / `shipment.updated`. */
export interface ShipmentChanged {
  orderId: string;
  channelOrderId: string;
  shipmentId: string;
  status: string;
  carrier: string | null;
  trackingNumber: string | null;
  trackingUrl: string | null;
  lines: Array<{ lineId: string; sku: string; quantity: number }>;
  /** Some of the order is still to ship. */
  partial: boolean;
}

/** What a store (Shopify) is sent besides: enough to fulfil exactly what is shipped, whatever it already holds. */
export interface ShipmentForStore extends ShipmentChanged {
  /** The tracking number the shipment had before this event: the fulfillment that carries it gets the new one. */
  previousTrackingNumber: string | null;
  /** Per order line, what every shipment of the order that is not cancelled has shipped, this one included. */
  shippedTotals: Array<{ lineId: string; sku: string; quantity: number }>;
}
