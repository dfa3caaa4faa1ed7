/** The public event of a channel's price of a SKU (contract v1: `price.changed`). */
export const PRICE_CHANGED = 'price.changed';

export interface PriceChanged {
  channelId: string;
  sku: string;
  currency: string;
  /** null: no price holds any more (the last one ended). */
  unitPrice: number | null;
  /** The list the price comes from (null when withdrawn). */
  priceList: string | null;
  /** `list` or `base` (a channel's price is never a customer's own). */
  source: 'list' | 'base' | null;
  /** When the price ends, if it does. */
  validTo: string | null;
  version: number;
  asOf: string;
  /** Shopify: the store's B2B price list this fixed price goes to (a channel's own price goes to the variant). */
  shopifyPriceListId?: string;
}
