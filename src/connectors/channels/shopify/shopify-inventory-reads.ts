import { Injectable } from '@nestjs/common';
import { levelsPageCost, levelsPageSize } from './shopify-admin.client.js';
import type { ShopifyConfig } from './shopify.config.js';
import { gid, ShopifyStoreReads } from './shopify-store-reads.js';

/** What a store holds of one SKU: its `available` figure per Crossdock warehouse, where the warehouse's location stocks it. */
export interface StoreStock {
  sku: string;
  byWarehouse: Record<string, number>;
}

export interface StoreStockPage {
  /** Inventory items read, with a SKU or not. */
  read: number;
  stock: StoreStock[];
  /** Where the next page starts (Shopify's cursor); null after the last. */
  next: string | null;
}

// Inventory items whose SKU is known, per store: enough for a large catalogue, bounded all the same.
const SKUS_KEPT = 200_000;

/**
 * Reads of a Shopify store's inventory for reconciliation, through ShopifyStoreReads (governed, cost-paced): a page
 * of the store's levels at the channel's warehouses, and the SKU and warehouses of one level a webhook names.
 */
@Injectable()
export class ShopifyInventoryReads {
  private readonly skus = new Map<string, Map<string, string>>();

  constructor(private readonly reads: ShopifyStoreReads) {
    reads.onStoreChanged((channelId) => this.skus.delete(channelId));
  }

  /**
   * One page of the store's items with their figures at `warehouses` (those mapped to a location in
   * `config.locations`); `after`: the `next` of the page before, null for the first.
   */
  async stockPage(channelId: string, warehouses: readonly string[], after: string | null): Promise<StoreStockPage> {
    const store = await this.reads.store(channelId);
    const locations = locationsOf(store.config, warehouses);
    const locationIds = [...locations.keys()];
    if (locationIds.length === 0) return { read: 0, stock: [], next: null };
    const first = levelsPageSize(locationIds.length, store.config.reconcilePageSize);
    const page = await this.reads.read(store, levelsPageCost(locationIds.length, first), (client, signal) => client.inventoryLevelsPage(locationIds, after, first, signal));
    const known = this.skusOf(channelId);
    const stock: StoreStock[] = [];
    for (const item of page.items) {
      if (!item.sku) continue;
      remember(known, item.inventoryItemId, item.sku);
      const byWarehouse: Record<string, number> = {};
      item.available.forEach((available, n) => {
        if (available !== null) for (const warehouse of locations.get(locationIds[n]!)!) byWarehouse[warehouse] = available;
      });
      stock.push({ sku: item.sku, byWarehouse });
    }
    return { read: page.items.length, stock, next: page.next };
  }

  /**
   * The SKU of the item and the warehouses (of `warehouses`) of the location that a store's webhook names by their
   * ids (numeric, as webhooks send them, or GraphQL's gids). The SKU is asked of the store unless a read of this
   * process has seen the item; null when the store has no such item or it has no SKU.
   */
  async levelOf(channelId: string, inventoryItemId: string, locationId: string, warehouses: readonly string[]): Promise<{ sku: string | null; warehouses: string[] }> {
    const store = await this.reads.store(channelId);
    const location = gid('Location', locationId);
    const at = [...locationsOf(store.config, warehouses)].find(([id]) => id === location)?.[1] ?? [];
    if (at.length === 0) return { sku: null, warehouses: [] };
    const item = gid('InventoryItem', inventoryItemId);
    const known = this.skusOf(channelId);
    let sku = known.get(item) ?? null;
    if (sku === null) {
      sku = await this.reads.read(store, null, (client, signal) => client.inventoryItemSku(item, signal));
      if (sku !== null) remember(known, item, sku);
    }
    return { sku, warehouses: at };
  }

  private skusOf(channelId: string): Map<string, string> {
    let known = this.skus.get(channelId);
    if (!known) this.skus.set(channelId, (known = new Map()));
    return known;
  }
}

/** Location id to the warehouses of `warehouses` that `config.locations` maps to it, in the warehouses' order. */
function locationsOf(config: ShopifyConfig, warehouses: readonly string[]): Map<string, string[]> {
  const byLocation = new Map<string, string[]>();
  for (const warehouse of warehouses) {
    const location = config.locations?.[warehouse];
    if (location) byLocation.set(location, [...(byLocation.get(location) ?? []), warehouse]);
  }
  return byLocation;
}

function remember(known: Map<string, string>, item: string, sku: string): void {
  if (known.size >= SKUS_KEPT && !known.has(item)) known.delete(known.keys().next().value!);
  known.set(item, sku);
}
