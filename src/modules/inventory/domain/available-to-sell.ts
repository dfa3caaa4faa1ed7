/** A source's view of one SKU in one warehouse. */
export interface StockPosition {
  warehouse: string;
  onHand: number;
  /** What the source itself holds back (its own reservations, quality hold...). */
  reserved: number;
}

/** A channel's inventory rules. */
export interface ChannelStockRules {
  /** Eligible warehouses, in order of preference. */
  warehouses: readonly string[];
  safetyStock: number;
  /** Share of what is left offered to the channel, 0-100. */
  allocationPercent: number;
}

export interface AvailableToSell {
  available: number;
  /** The same figure spread over the eligible warehouses (for channels that keep stock per location). */
  byWarehouse: Record<string, number>;
}

const SCALE = 1000; // quantities carry at most 3 decimals

/**
 * Available-to-sell of one SKU for one channel:
 * floor((Σ over eligible warehouses of max(0, onHand − reserved − open reservations) − safetyStock) × allocation%),
 * never below 0, and never above the whole units the warehouses hold between them (0.999 here and 0.999 there
 * make no unit to sell: no warehouse could ship it). Warehouses without a position count as empty.
 */
export function availableToSell(rules: ChannelStockRules, positions: readonly StockPosition[], openReservations: Readonly<Record<string, number>> = {}): AvailableToSell {
  const eligible = new Set(rules.warehouses);
  const free = new Map<string, number>();
  for (const position of positions) {
    if (!eligible.has(position.warehouse)) continue;
    const scaled = Math.round(position.onHand * SCALE) - Math.round(position.reserved * SCALE) - Math.round((openReservations[position.warehouse] ?? 0) * SCALE);
    free.set(position.warehouse, (free.get(position.warehouse) ?? 0) + Math.max(0, scaled));
  }
  const total = [...free.values()].reduce((sum, f) => sum + f, 0);
  const afterSafety = Math.max(0, total - Math.round(rules.safetyStock * SCALE));
  // Percent as an integer of hundredths, so that the product stays exact.
  const wholeUnits = [...free.values()].reduce((sum, f) => sum + Math.floor(f / SCALE), 0);
  const available = Math.min(wholeUnits, Math.floor((afterSafety * Math.round(rules.allocationPercent * 100)) / (100 * 100 * SCALE)));
  return { available, byWarehouse: spread(available, rules.warehouses, free) };
}

/**
 * Spreads `total` over the warehouses in proportion to their free stock (largest remainder, ties to the
 * preferred warehouse): the parts add up to `total` and none exceeds its warehouse's whole free units.
 */
export function spread(total: number, warehouses: readonly string[], free: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(warehouses.map((w) => [w, 0]));
  const sum = warehouses.reduce((s, w) => s + (free.get(w) ?? 0), 0);
  if (total <= 0 || sum === 0) return out;
  const shares = warehouses.map((w, i) => {
    const exact = (total * (free.get(w) ?? 0)) / sum;
    return { w, i, whole: Math.floor(exact), rest: exact - Math.floor(exact), cap: Math.floor((free.get(w) ?? 0) / SCALE) };
  });
  let left = total;
  for (const share of shares) {
    out[share.w] = Math.min(share.whole, share.cap);
    left -= out[share.w]!;
  }
  for (const share of [...shares].sort((a, b) => b.rest - a.rest || a.i - b.i)) {
    if (left === 0) break;
    const room = share.cap - out[share.w]!;
    const add = Math.min(room, left);
    out[share.w]! += add;
    left -= add;
  }
  return out;
}
