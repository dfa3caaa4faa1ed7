import type { Delivery } from '../../../platform/outbox/message.js';

/** A price of a channel's SKU, as the pricing module publishes it per channel and key. */
export const PRICE_CHANGED = 'price.changed';
/** Shopify refuses input arrays longer than this (https://shopify.dev/docs/api/usage/limits). */
export const MAX_PRICES_PER_CALL = 250;

export interface PriceChange {
  deliveryId: string;
  sku: string;
  currency: string;
  /** null: the SKU has no price left in the list. */
  unitPrice: number | null;
  priceList: string;
  asOf: string;
  minQuantity?: number;
  /** The B2B catalog's price list the price goes to, resolved by the publisher; absent: the variant's own price. */
  shopifyPriceListId?: string;
}

/** The price a `price.changed` delivery carries, or why it cannot be published (the message is malformed). */
export function readPriceChange(delivery: Delivery): PriceChange | string {
  const p = delivery.payload;
  if (typeof p.sku !== 'string' || p.sku === '') return 'price.changed without a sku';
  if (typeof p.currency !== 'string' || !/^[A-Z]{3}$/.test(p.currency)) return `price of ${p.sku} without a currency code`;
  const unitPrice = p.unitPrice ?? null;
  if (unitPrice !== null && !(typeof unitPrice === 'number' && Number.isFinite(unitPrice) && unitPrice >= 0)) return `price of ${p.sku} is not a price: ${JSON.stringify(p.unitPrice)}`;
  if (p.shopifyPriceListId !== undefined && (typeof p.shopifyPriceListId !== 'string' || !p.shopifyPriceListId.startsWith('gid://shopify/PriceList/'))) {
    return `price of ${p.sku} names no Shopify price list: ${JSON.stringify(p.shopifyPriceListId)}`;
  }
  return {
    deliveryId: delivery.deliveryId,
    sku: p.sku,
    currency: p.currency,
    unitPrice,
    priceList: String(p.priceList ?? ''),
    asOf: String(p.asOf ?? ''),
    ...(typeof p.minQuantity === 'number' ? { minQuantity: p.minQuantity } : {}),
    ...(p.shopifyPriceListId ? { shopifyPriceListId: p.shopifyPriceListId } : {}),
  };
}

/**
 * One price per target (a variant, or a variant in a price list): Shopify may refuse a variant twice in one call.
 * The latest `asOf` wins, then the later in the batch; the deliveries it replaces share its fate.
 */
export function newestPerTarget<T extends { change: PriceChange }>(items: readonly T[], targetOf: (item: T) => string): Array<T & { deliveryIds: string[] }> {
  const kept = new Map<string, T & { deliveryIds: string[] }>();
  for (const item of items) {
    const key = targetOf(item);
    const earlier = kept.get(key);
    const deliveryIds = [...(earlier?.deliveryIds ?? []), item.change.deliveryId];
    kept.set(key, earlier && Date.parse(earlier.change.asOf) > Date.parse(item.change.asOf) ? { ...earlier, deliveryIds } : { ...item, deliveryIds });
  }
  return [...kept.values()];
}

/**
 * An amount as Shopify's Decimal and Money inputs take it: a string, without a double's noise (0.1 + 0.2 is
 * "0.30"), with at least the currency's minor digits ("12.50", "1200" in JPY). Finer prices keep their digits:
 * rounding them is the store's call, not ours.
 */
export function formatAmount(value: number, currency: string): string {
  return Number(value.toPrecision(15)).toLocaleString('en-US', { useGrouping: false, minimumFractionDigits: minorDigits(currency), maximumFractionDigits: 20 });
}

function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/**
 * The entry of a call's input array that a userError is about: the index its field path gives after the array's
 * name (`["prices", "3", "variantId"]`), else the one variant id that its path or message names; undefined
 * when it names none (the price list, the product) and so concerns the whole call.
 */
export function entryOfUserError(error: { field?: string[] | null; message: string }, input: string, variantIds: readonly string[]): number | undefined {
  const field = error.field ?? [];
  const at = field.indexOf(input);
  const index = at >= 0 && /^\d+$/.test(field[at + 1] ?? '') ? Number(field[at + 1]) : -1;
  if (index >= 0 && index < variantIds.length) return index;
  const named = variantIds.flatMap((id, i) => (field.includes(id) || names(error.message, id) ? [i] : []));
  return named.length === 1 ? named[0] : undefined;
}

/** Whether a message names the variant, by gid or by its number. */
function names(message: string, variantId: string): boolean {
  const number = variantId.split('/').pop()!;
  return message.includes(variantId) || (/^\d+$/.test(number) && new RegExp(`(^|\\D)${number}(\\D|$)`).test(message));
}
