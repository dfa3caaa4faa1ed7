/** A requested line, as the channel sent it. */
export interface RequestedLine {
  lineId: string;
  sku: string;
  quantity: number;
  unitPrice: number;
}

/** A line, or the part of one, that one warehouse ships. */
export interface AllocatedLine extends RequestedLine {
  warehouse: string | null;
  backordered: boolean;
}

export interface AllocationPolicy {
  /** The channel's eligible warehouses, in its order of preference. */
  warehouses: readonly string[];
  oversell: 'reject' | 'backorder';
}

/** Available quantity per warehouse for a SKU; undefined while Crossdock keeps no stock figures. */
export type StockLookup = (sku: string, warehouse: string) => number | undefined;

export type Allocation = { ok: true; lines: AllocatedLine[] } | { ok: false; shortSkus: string[] };

const SCALE = 1000; // quantities carry at most 3 decimals

/**
 * Splits each line over the channel's eligible warehouses by available stock, preferring one warehouse that
 * can ship the whole line, then filling from the warehouses in order. Without stock figures a line goes to
 * the first warehouse. What no warehouse can ship is refused (`reject`) or backordered at the first
 * warehouse (`backorder`). Stock taken by one line is not offered to the next.
 */
export function allocateLines(lines: readonly RequestedLine[], policy: AllocationPolicy, stock: StockLookup = () => undefined): Allocation {
  const first = policy.warehouses[0] ?? null;
  const taken = new Map<string, number>();
  const available = (sku: string, warehouse: string): number | undefined => {
    const figure = stock(sku, warehouse);
    return figure === undefined ? undefined : Math.max(0, Math.round(figure * SCALE) - (taken.get(`${sku}\u0000${warehouse}`) ?? 0));
  };
  const take = (sku: string, warehouse: string, scaled: number) => taken.set(`${sku}\u0000${warehouse}`, (taken.get(`${sku}\u0000${warehouse}`) ?? 0) + scaled);
  const allocated: AllocatedLine[] = [];
  const short = new Set<string>();
  for (const line of lines) {
    const known = policy.warehouses.filter((w) => available(line.sku, w) !== undefined);
    if (known.length === 0) {
      allocated.push({ ...line, warehouse: first, backordered: false });
      continue;
    }
    let missing = Math.round(line.quantity * SCALE);
    const whole = known.find((w) => available(line.sku, w)! >= missing);
    const sources = whole ? [whole] : known;
    for (const warehouse of sources) {
      if (missing === 0) break;
      const part = Math.min(missing, available(line.sku, warehouse)!);
      if (part === 0) continue;
      take(line.sku, warehouse, part);
      allocated.push({ ...line, quantity: part / SCALE, warehouse, backordered: false });
      missing -= part;
    }
    if (missing > 0) {
      short.add(line.sku);
      allocated.push({ ...line, quantity: missing / SCALE, warehouse: first, backordered: true });
    }
  }
  if (short.size > 0 && policy.oversell === 'reject') return { ok: false, shortSkus: [...short] };
  return { ok: true, lines: allocated };
}

/** The order's value: Σ quantity × unit price, exact to 4 decimals. */
export function orderTotal(lines: readonly Pick<RequestedLine, 'quantity' | 'unitPrice'>[]): number {
  const scaled = lines.reduce((sum, line) => sum + BigInt(Math.round(line.quantity * 1e3)) * BigInt(Math.round(line.unitPrice * 1e4)), 0n);
  return Number((scaled + 500n) / 1000n) / 1e4;
}
