import type { OrderStatus } from './order-status.js';

/** An order Crossdock placed in an ERP (confirmed there once), as reconciliation compares it. */
export interface PlacedOrder {
  reference: string;
  status: OrderStatus;
  /** The ERP's number of the order, as the ERP confirmed it. */
  erpOrderRef: string;
  /** The lines as sent: a split line comes as its parts, one per warehouse. */
  lines: ReadonlyArray<{ sku: string; quantity: number }>;
}

/** An order the ERP holds under the same reference. */
export interface HeldOrder {
  erpOrderRef: string;
  erpOrderId: string;
  cancelled: boolean;
  lines: ReadonlyArray<{ sku: string; quantity: number }>;
}

/** Quantity per SKU, the SKUs sorted: how two orders' lines are compared (a line split by warehouse, or by a person, is the same order). */
export type Quantities = Record<string, number>;

export type OrderDrift =
  | { class: 'missing-in-erp'; repair: 'resubmit' | 'report'; expected: { erpOrderRef: string; lines: Quantities }; actual: null; why: string }
  | { class: 'duplicated-in-erp'; repair: 'report'; expected: { erpOrderRef: string }; actual: Array<{ erpOrderRef: string; erpOrderId: string }>; why: string }
  | { class: 'changed-in-erp'; repair: 'report'; expected: { lines: Quantities }; actual: { erpOrderRef: string; lines: Quantities; cancelled?: true }; why: string };

/**
 * How the ERP's holding of an order differs from what Crossdock placed there, by the ERP's rule as system of record
 * for its own orders; null when it does not.
 * - Not there (and not posted in full, which removes a Business Central order): `missing-in-erp`, sent again when
 *   the order is only confirmed; an order shipping already is reported, since sending it again would have the ERP
 *   ship it again.
 * - Two live orders under one reference: `duplicated-in-erp`, reported (which to keep is a person's decision).
 * - One, with other items or quantities, or cancelled in the ERP: `changed-in-erp`, reported and left alone.
 */
export function erpOrderDrift(placed: PlacedOrder, held: readonly HeldOrder[], postedInFull: boolean): OrderDrift | null {
  const sent = quantities(placed.lines);
  const live = held.filter((order) => !order.cancelled);
  if (live.length > 1) {
    return {
      class: 'duplicated-in-erp', repair: 'report', expected: { erpOrderRef: placed.erpOrderRef },
      actual: live.map(({ erpOrderRef, erpOrderId }) => ({ erpOrderRef, erpOrderId })),
      why: `the ERP holds ${live.length} orders under reference ${placed.reference}: ${live.map((order) => order.erpOrderRef).join(', ')}`,
    };
  }
  const [one] = live;
  if (one) {
    const holds = quantities(one.lines);
    if (sameQuantities(sent, holds)) return null;
    return { class: 'changed-in-erp', repair: 'report', expected: { lines: sent }, actual: { erpOrderRef: one.erpOrderRef, lines: holds }, why: `the ERP's order ${one.erpOrderRef} holds other items or quantities than were sent` };
  }
  const cancelled = held.at(-1);
  if (cancelled) {
    return {
      class: 'changed-in-erp', repair: 'report', expected: { lines: sent }, actual: { erpOrderRef: cancelled.erpOrderRef, lines: quantities(cancelled.lines), cancelled: true },
      why: `the ERP's order ${cancelled.erpOrderRef} was cancelled in the ERP`,
    };
  }
  if (postedInFull) return null;
  const shipping = placed.status !== 'confirmed';
  return {
    class: 'missing-in-erp', repair: shipping ? 'report' : 'resubmit', expected: { erpOrderRef: placed.erpOrderRef, lines: sent }, actual: null,
    why: shipping
      ? `the ERP no longer has order ${placed.erpOrderRef}, which is ${placed.status.replace('_', ' ')}: sending it again would have the ERP ship it again`
      : `the ERP no longer has order ${placed.erpOrderRef}`,
  };
}

/** Quantity per SKU, summed over the lines, to 5 decimal places (the ERPs' precision), SKUs sorted. */
export function quantities(lines: ReadonlyArray<{ sku: string; quantity: number }>): Quantities {
  const sums = new Map<string, number>();
  for (const { sku, quantity } of lines) sums.set(sku, (sums.get(sku) ?? 0) + quantity);
  return Object.fromEntries([...sums].toSorted(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([sku, sum]) => [sku, Math.round(sum * 1e5) / 1e5]));
}

function sameQuantities(a: Quantities, b: Quantities): boolean {
  const skus = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...skus].every((sku) => (a[sku] ?? 0) === (b[sku] ?? 0));
}
