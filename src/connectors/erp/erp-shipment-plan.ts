import type { ErpShipment, ErpShipmentFacts } from './erp-contract.js';

/**
 * What an ERP posting of a shipment ships, decided from what the ERP's order holds now (pure). Idempotent by
 * quantities: per item, only what `shippedTotals` exceeds what the order already shows as shipped, so the same
 * shipment planned again after its posting (a retry after a lost answer, a redelivery) ships nothing.
 */

/** A line of the ERP's sales order, in the ERP's keys (Business Central's line id, SAP's LineNum). */
export interface ErpOrderLineToShip {
  key: string;
  sku: string;
  /** What the ERP holds as shipped (delivered) of the line. */
  shipped: number;
  /** What the line can still ship: 0 when it is closed. */
  open: number;
  /** Where the line ships from in the ERP's words (location id, warehouse code); '' for none. */
  place: string;
}

export interface PlannedLine {
  key: string;
  sku: string;
  quantity: number;
  /** The ERP place the shipment names for this item when it is not the line's own (SAP delivers from another warehouse). */
  from?: string;
}

export type ErpShipmentPlan = { ok: true; lines: PlannedLine[] } | { ok: false; reason: string };

/**
 * The order lines to ship and how much of each. Lines in the place the shipment names for an item are filled
 * first, then the others, each in the order's order. `placeOf` maps a Crossdock warehouse to the ERP's place.
 * More than the order has open is refused with the reason; an item the order lacks too.
 */
export function planErpShipment(
  shipment: Pick<ErpShipment, 'lines' | 'shippedTotals'>,
  orderLines: readonly ErpOrderLineToShip[],
  placeOf: (warehouse: string) => string | undefined,
  orderName: string,
): ErpShipmentPlan {
  const totals = new Map<string, number>();
  for (const total of shipment.shippedTotals) totals.set(total.sku, round((totals.get(total.sku) ?? 0) + total.quantity));
  const planned: PlannedLine[] = [];
  for (const [sku, total] of totals) {
    const lines = orderLines.filter((line) => line.sku === sku);
    if (lines.length === 0) {
      if (total > 0) return { ok: false, reason: `${orderName} has no line for item ${sku}` };
      continue;
    }
    const need = round(total - lines.reduce((sum, line) => sum + line.shipped, 0));
    if (need <= 0) continue;
    const open = round(lines.reduce((sum, line) => sum + Math.max(0, line.open), 0));
    if (need > open) return { ok: false, reason: `${orderName} has ${open} of item ${sku} open to ship; the shipments need ${need} more` };
    const places = new Set(shipment.lines.filter((line) => line.sku === sku && line.warehouse).map((line) => placeOf(line.warehouse!)).filter((p): p is string => p !== undefined));
    const from = places.size === 1 ? [...places][0] : undefined;
    const ordered = [...lines.filter((line) => places.has(line.place)), ...lines.filter((line) => !places.has(line.place))];
    let left = need;
    for (const line of ordered) {
      const take = round(Math.min(left, Math.max(0, line.open)));
      if (take <= 0) continue;
      planned.push({ key: line.key, sku, quantity: take, ...(from !== undefined && from !== line.place ? { from } : {}) });
      left = round(left - take);
      if (left <= 0) break;
    }
  }
  return { ok: true, lines: planned };
}

/**
 * What the order holds as shipped once the planned lines are posted, per item shipped at all, by item number: the
 * facts of a posting (ErpShipmentFacts), the same whether the plan ships or finds everything shipped already.
 */
export function shippedAfter(orderLines: readonly ErpOrderLineToShip[], planned: readonly PlannedLine[]): ErpShipmentFacts {
  const shipped = new Map<string, number>();
  for (const line of orderLines) shipped.set(line.sku, round((shipped.get(line.sku) ?? 0) + line.shipped));
  for (const line of planned) shipped.set(line.sku, round((shipped.get(line.sku) ?? 0) + line.quantity));
  return shippedFacts(shipped);
}

/** Shipped quantities per item as facts: the items shipped at all, by item number. */
export function shippedFacts(shipped: ReadonlyMap<string, number>): ErpShipmentFacts {
  return { lines: [...shipped].filter(([, quantity]) => quantity > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([sku, quantity]) => ({ sku, quantity })) };
}

/** Quantities are decimals of a few places: keep binary fractions from showing in sums and differences. */
function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
