/** The price list of an item's base price. */
export const BASE_LIST = 'base';

/** A price as Crossdock holds it. */
export interface PriceEntry {
  priceList: string;
  sku: string;
  currency: string;
  /** An ERP account number for a customer-specific price; null for a list price. */
  customer: string | null;
  /** The quantity break: the price applies from this quantity up. */
  minQuantity: number;
  /** Epoch milliseconds; -Infinity and Infinity when open-ended. validTo is exclusive. */
  validFrom: number;
  validTo: number;
  unitPrice: number;
  source: string;
}

/** Who asks, for what and when. */
export interface PriceQuestion {
  quantity: number;
  /** Epoch milliseconds. */
  at: number;
  currency: string;
  /** The channel's list. */
  channelList: string;
  /** The customer's account number and the list the ERP gives the customer, when a customer asks. */
  customer?: { number: string; priceList?: string | null };
}

export type PriceSource = 'customer' | 'list' | 'base';

export interface EffectivePrice {
  entry: PriceEntry;
  source: PriceSource;
}

/**
 * The effective unit price: the customer's own price beats the customer's price list, which beats the channel's
 * list, which beats the item's base price. Within each, only prices in the question's currency and valid at its
 * moment count, and of those the largest quantity break not above the quantity; a tie goes to the later start,
 * then to the lower price, then to the list name, so that the answer never depends on the order prices arrived
 * in. Negative prices are never answered.
 */
export function effectivePrice(entries: readonly PriceEntry[], question: PriceQuestion): EffectivePrice | undefined {
  const applicable = entries.filter((e) => e.currency === question.currency && e.validFrom <= question.at && question.at < e.validTo && e.minQuantity <= question.quantity && e.unitPrice >= 0);
  const customer = question.customer;
  const tiers: Array<{ source: PriceSource; matches: (e: PriceEntry) => boolean }> = [
    { source: 'customer', matches: (e) => customer !== undefined && e.customer === customer.number },
    { source: 'list', matches: (e) => e.customer === null && !!customer?.priceList && e.priceList === customer.priceList },
    { source: 'list', matches: (e) => e.customer === null && e.priceList === question.channelList && e.priceList !== BASE_LIST },
    { source: 'base', matches: (e) => e.customer === null && e.priceList === BASE_LIST },
  ];
  for (const { source, matches } of tiers) {
    const best = applicable.filter(matches).sort(byPreference)[0];
    if (best) return { entry: best, source };
  }
  return undefined;
}

/** The largest break first; then the later start, the lower price, the list name: a total order on what differs. */
function byPreference(a: PriceEntry, b: PriceEntry): number {
  return compare(b.minQuantity, a.minQuantity) || compare(b.validFrom, a.validFrom) || compare(a.unitPrice, b.unitPrice) || compare(a.priceList, b.priceList) || compare(a.validTo, b.validTo);
}

// Infinite bounds compare too (a subtraction would give NaN).
function compare<T extends number | string>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether a price offered differs from the effective one by more than the tolerance (absolute per unit, or percent of it). */
export function priceDiffers(offered: number, effective: number, tolerance: { amount: number; percent: number }): boolean {
  const allowed = Math.max(tolerance.amount, (effective * tolerance.percent) / 100);
  return Math.abs(offered - effective) > allowed + 1e-9;
}
