/** An order line as shipments see it: one per line id (a line split over warehouses counts once, whole). */
export interface OrderLine {
  lineId: string;
  sku: string;
  quantity: number;
}

/** A line of a shipment event: the order line by its id, else by SKU. */
export interface ShippedLine {
  sku: string;
  quantity: number;
  lineId?: string;
}

export type Match = { ok: true; lines: Array<{ lineId: string; sku: string; quantity: number }> } | { ok: false; reason: string };

// Quantities are numeric(18, 3): anything below a thousandth is rounding.
const EPSILON = 0.0005;

/**
 * Places a shipment's lines on the order's: a line with a line id on that line, one without on the order's lines
 * of its SKU that have quantity left, in their order. `shippedBefore`: per line id, what the order's other
 * shipments (not cancelled) shipped. A line the order does not have, or more than is left, is refused whole
 * with the reason, for an operator to see.
 */
export function matchLines(order: readonly OrderLine[], shippedBefore: ReadonlyMap<string, number>, lines: readonly ShippedLine[]): Match {
  const left = new Map(order.map((l) => [l.lineId, l.quantity - (shippedBefore.get(l.lineId) ?? 0)]));
  const placed = new Map<string, number>();
  const take = (lineId: string, quantity: number) => {
    left.set(lineId, left.get(lineId)! - quantity);
    placed.set(lineId, (placed.get(lineId) ?? 0) + quantity);
  };
  for (const line of lines) {
    if (line.lineId !== undefined) {
      const target = order.find((l) => l.lineId === line.lineId);
      if (!target) return { ok: false, reason: `line ${line.lineId} is not on the order` };
      if (target.sku !== line.sku) return { ok: false, reason: `line ${line.lineId} is ${target.sku} on the order, not ${line.sku}` };
      if (line.quantity > left.get(target.lineId)! + EPSILON) {
        return { ok: false, reason: `ships ${line.quantity} of line ${line.lineId} (${line.sku}), and ${round(Math.max(0, left.get(target.lineId)!))} of it is left to ship` };
      }
      take(target.lineId, line.quantity);
      continue;
    }
    const candidates = order.filter((l) => l.sku === line.sku);
    if (candidates.length === 0) return { ok: false, reason: `${line.sku} is not on the order` };
    const available = candidates.reduce((sum, l) => sum + Math.max(0, left.get(l.lineId)!), 0);
    if (line.quantity > available + EPSILON) return { ok: false, reason: `ships ${line.quantity} of ${line.sku}, and ${round(available)} of it is left to ship` };
    let rest = line.quantity;
    for (const candidate of candidates) {
      const part = Math.min(rest, Math.max(0, left.get(candidate.lineId)!));
      if (part > 0) take(candidate.lineId, part);
      rest -= part;
      if (rest <= EPSILON) break;
    }
  }
  return { ok: true, lines: order.filter((l) => placed.has(l.lineId)).map((l) => ({ lineId: l.lineId, sku: l.sku, quantity: round(placed.get(l.lineId)!) })) };
}

/** Where the order stands once `shipped` (per line id, every shipment not cancelled) left the warehouse. */
export function shippingStatus(order: readonly OrderLine[], shipped: ReadonlyMap<string, number>): 'shipped' | 'partially_shipped' | 'unshipped' {
  if (order.every((l) => (shipped.get(l.lineId) ?? 0) >= l.quantity - EPSILON)) return 'shipped';
  return order.some((l) => (shipped.get(l.lineId) ?? 0) > EPSILON) ? 'partially_shipped' : 'unshipped';
}

function round(quantity: number): number {
  return Math.round(quantity * 1000) / 1000;
}
