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
