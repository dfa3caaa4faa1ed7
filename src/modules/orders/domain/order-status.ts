/** An order's life in Crossdock; the names are part of the public contract. */
export const ORDER_STATUSES = ['accepted', 'submitted', 'confirmed', 'partially_shipped', 'shipped', 'rejected', 'on_hold', 'cancelled', 'failed'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

// A failed (dead-lettered) or rejected order can be replayed, and then goes back to submitted. The warehouse may
// ship before the ERP's confirmation is back; once shipping, an order never goes back to an earlier status.
const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  accepted: ['submitted', 'confirmed', 'partially_shipped', 'shipped', 'rejected', 'failed', 'on_hold', 'cancelled'],
  on_hold: ['accepted', 'cancelled'],
  submitted: ['confirmed', 'partially_shipped', 'shipped', 'rejected', 'failed', 'cancelled'],
  confirmed: ['partially_shipped', 'shipped', 'cancelled'],
  partially_shipped: ['shipped'],
  shipped: ['partially_shipped'],
  rejected: ['submitted'],
  failed: ['submitted', 'confirmed', 'rejected', 'cancelled'],
  cancelled: [],
};

export function canMove(from: OrderStatus, to: OrderStatus): boolean {
  return NEXT[from].includes(to);
}

/** The statuses an order can reach `to` from. */
export function statusesBefore(to: OrderStatus): OrderStatus[] {
  return ORDER_STATUSES.filter((from) => canMove(from, to));
}
