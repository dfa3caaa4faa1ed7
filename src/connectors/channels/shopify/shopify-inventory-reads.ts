import { Injectable } from '@nestjs/common';
import { levelsPageCost, levelsPageSize, type BulkOperation } from './shopify-admin.client.js';
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
 * of the store's levels at the channel's warehouses, or the whole store through a bulk operation, and the SKU and
 * warehouses of one level a webhook names.
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
   * Starts the bulk read of the store's inventory (governed, 10 points); the operation this read started before, when
   * it is still running.
   */
  async startBulkStock(channelId: string): Promise<BulkOperation> {
    const store = await this.reads.store(channelId);
    return this.reads.read(store, 10, (client, signal) => client.startBulkInventoryRead(signal));
  }

  /** A bulk operation as the store reports it now (governed, 1 point); null when it has no such operation. */
  async bulkOperation(channelId: string, id: string): Promise<BulkOperation | null> {
    const store = await this.reads.store(channelId);
    return this.reads.read(store, 1, (client, signal) => client.bulkOperation(id, signal));
  }

  /**
   * What a COMPLETED bulk read found: each SKU's figures at `warehouses`, in the file's order, the first item of a SKU
   * kept (as publishing finds it). The download is a GET of the result's signed URL, not an Admin API call: it is
   * neither governed nor paced.
   */
  async bulkStock(channelId: string, warehouses: readonly string[], operation: BulkOperation): Promise<StoreStock[]> {
    const store = await this.reads.store(channelId);
    const locations = locationsOf(store.config, warehouses);
    const locationIds = [...locations.keys()];
    if (locationIds.length === 0 || operation.url === null) return [];
    const items = await store.client.bulkInventoryResult(operation.url, locationIds);
    const known = this.skusOf(channelId);
    const seen = new Set<string>();
    const stock: StoreStock[] = [];
    for (const item of items) {
      if (!item.sku) continue;
      remember(known, item.inventoryItemId, item.sku);
      if (seen.has(item.sku)) continue;
      seen.add(item.sku);
      const byWarehouse: Record<string, number> = {};
      item.available.forEach((available, n) => {
        if (available !== null) for (const warehouse of locations.get(locationIds[n]!)!) byWarehouse[warehouse] = available;
      });
      stock.push({ sku: item.sku, byWarehouse });
    }
    return stock;
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
/** Whether the store is reconciled by a bulk operation (`config.reconcileRead: 'bulk'`) rather than in pages. */
export function readsInBulk(store: { config: Record<string, unknown> }): boolean {
  return (store.config as Partial<ShopifyConfig>).reconcileRead === 'bulk';
}

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
