import { Injectable } from '@nestjs/common';
import { variantPricesPageCost, variantPricesPageSize } from './shopify-admin.client.js';
import { ShopifyStoreReads } from './shopify-store-reads.js';

/** What a store holds as one SKU's own price: a decimal string, in the store's currency. */
export interface StorePrice {
  sku: string;
  price: string;
}

export interface StorePricePage {
  /** Variants read, with a SKU or not. */
  read: number;
  /** The store's currency, in which its variants are priced. */
  currency: string;
  /** One a SKU: the page's first variant with it (publishing, too, takes the first variant it finds). */
  prices: StorePrice[];
  /** Where the next page starts (Shopify's cursor); null after the last. */
  next: string | null;
}

/**
 * Reads of a Shopify store's prices for reconciliation, through ShopifyStoreReads (governed, cost-paced): a page of
 * the store's variants with their own prices. B2B price lists' fixed prices are not read.
 */
@Injectable()
export class ShopifyPriceReads {
  constructor(private readonly reads: ShopifyStoreReads) {}

  /** One page of the store's variants with their prices; `after`: the `next` of the page before, null for the first. */
  async pricePage(channelId: string, after: string | null): Promise<StorePricePage> {
    const store = await this.reads.store(channelId);
    const first = variantPricesPageSize(store.config.reconcilePageSize);
    const page = await this.reads.read(store, variantPricesPageCost(first), (client, signal) => client.variantPricesPage(after, first, signal));
    const seen = new Set<string>();
    const prices: StorePrice[] = [];
    for (const variant of page.variants) {
      if (!variant.sku || seen.has(variant.sku)) continue;
      seen.add(variant.sku);
      prices.push({ sku: variant.sku, price: variant.price });
    }
    return { read: page.variants.length, currency: page.currency, prices, next: page.next };
  }
}
