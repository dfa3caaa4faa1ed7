/** A channel's figures per warehouse. */
export type WarehouseFigures = Readonly<Record<string, number>>;

export interface StoreDrift {
  /** What the channel was last sent, where it holds another figure. */
  expected: Record<string, number>;
  /** What it holds there. */
  actual: Record<string, number>;
}

/**
 * Where a channel holds other figures than the ones it was last sent: the warehouses it still sells from that
 * both name; undefined when they agree. A warehouse the channel holds nothing for (an item not stocked at its
 * location) is not compared: nothing was set there.
 */
export function storeDrift(sent: WarehouseFigures, held: WarehouseFigures, warehouses: readonly string[]): StoreDrift | undefined {
  const expected: Record<string, number> = {};
  const actual: Record<string, number> = {};
  for (const warehouse of warehouses) {
    const was = sent[warehouse];
    const is = held[warehouse];
    if (was === undefined || is === undefined || was === is) continue;
    expected[warehouse] = was;
    actual[warehouse] = is;
  }
  return Object.keys(expected).length > 0 ? { expected, actual } : undefined;
}

/**
 * What the channel holds now, in the form of the figures it was sent (their warehouses in their order): the figures
 * sent, with those found otherwise replaced.
 */
export function heldFigures(sent: WarehouseFigures, drift: StoreDrift): Record<string, number> {
  return { ...sent, ...drift.actual };
}

/** Figures sent to a channel as the last-value queue keeps them (JSON per warehouse); undefined when they are not that. */
export function readFigures(value: string | null): Record<string, number> | undefined {
  if (value === null) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    return Object.values(parsed).every((n) => typeof n === 'number') ? (parsed as Record<string, number>) : undefined;
  } catch {
    return undefined;
  }
}

/** What a channel holds of a SKU, as its kind keeps it: per warehouse (a Shopify store's locations), or one figure (a webhook subscriber's `available`). */
export type HeldStock = { byWarehouse: WarehouseFigures } | { available: number };

/** A channel's drift, with what it holds in the form the last-value queue keeps what it was sent. */
export interface ChannelDrift extends StoreDrift {
  heldValue: string;
}

/**
 * What a channel holds against what it was last sent (`sentValue`, as the last-value queue keeps it: JSON per
 * warehouse for a store, the figure as text for a subscriber): `{}` when they agree, `{drift}` when not, undefined
 * when the two cannot be compared (a value of another shape).
 */
export function channelDrift(sentValue: string | null, held: HeldStock, warehouses: readonly string[]): { drift?: ChannelDrift } | undefined {
  if ('byWarehouse' in held) {
    const sent = readFigures(sentValue);
    if (!sent) return undefined;
    const drift = storeDrift(sent, held.byWarehouse, warehouses);
    return drift ? { drift: { ...drift, heldValue: JSON.stringify(heldFigures(sent, drift)) } } : {};
  }
  const sent = sentValue !== null && /^-?\d+(\.\d+)?$/.test(sentValue) ? Number(sentValue) : undefined;
  if (sent === undefined) return undefined;
  return sent === held.available ? {} : { drift: { expected: { available: sent }, actual: { available: held.available }, heldValue: String(held.available) } };
}
