/** An order's life in Crossdock; the names are part of the public contract. */
export const ORDER_STATUSES = ['accepted', 'submitted', 'confirmed', 'rejected', 'on_hold', 'cancelled', 'failed'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

// A failed (dead-lettered) or rejected order can be replayed, and then goes back to submitted.
const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  accepted: ['submitted', 'confirmed', 'rejected', 'failed', 'on_hold', 'cancelled'],
  on_hold: ['accepted', 'cancelled'],
  submitted: ['confirmed', 'rejected', 'failed', 'cancelled'],
  confirmed: ['cancelled'],
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
