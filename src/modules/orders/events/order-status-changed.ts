import type { OrderStatus } from '../domain/order-status.js';

/** Sent to the order's channel on every status change (CloudEvents type; part of the public contract). */
export const ORDER_STATUS_CHANGED = 'order.status.changed';

export interface OrderStatusChanged {
  orderId: string;
  channelOrderId: string;
  status: OrderStatus;
  erpOrderRef?: string;
  reason?: string;
}
