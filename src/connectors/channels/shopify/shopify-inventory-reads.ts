import { Injectable } from '@nestjs/common';
import { Destinations } from '../../../platform/delivery/destinations.js';
import { classify, TargetError } from '../../../platform/delivery/outcome.js';
import { backoffDelay, DEFAULT_RETRY_POLICY } from '../../../platform/delivery/retry-policy.js';
import { TargetDirectory } from '../../../platform/delivery/target-directory.js';
import { Governor, TargetUnavailableError } from '../../../platform/governor/governor.js';
import { levelsPageCost, levelsPageSize, ShopifyAdminClient } from './shopify-admin.client.js';
import type { ShopifyConfig } from './shopify.config.js';

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

const CALL_TIMEOUT_MS = 15_000;
// A long read waits until the bucket holds its page and this share of the bucket besides: the store's deliveries
// (availability, prices) keep room to go while a whole store is read.
const SPARE_FOR_DELIVERIES = 0.25;
// A read waits for the bucket rather than fail a run that has pages to go.
const READ_MAX_WAIT_MS = 60_000;
// Tries of one read that the store or the governor turns away for a while (an outage, a pause, a 5xx).
const READ_TRIES = 6;
// Inventory items whose SKU is known, per store: enough for a large catalogue, bounded all the same.
const SKUS_KEPT = 200_000;

/**
 * Reads of a Shopify store's inventory for reconciliation, outside the delivery queues: a page of the store's
 * levels at the channel's warehouses, and the SKU and warehouses of one level a webhook names. Every call is
 * admitted by the channel's governor (its rate, concurrency, circuit and pauses, shared with the deliveries) and
 * paced by Shopify's query cost, leaving a share of the bucket to the deliveries.
 */
@Injectable()
export class ShopifyInventoryReads {
  private readonly clients = new Map<string, { config: string; client: ShopifyAdminClient }>();
  private readonly skus = new Map<string, Map<string, string>>();

  constructor(
    private readonly targets: TargetDirectory,
    private readonly governor: Governor,
    private readonly destinations: Destinations,
  ) {}

  /**
   * One page of the store's items with their figures at `warehouses` (those mapped to a location in
   * `config.locations`); `after`: the `next` of the page before, null for the first.
   */
  async stockPage(channelId: string, warehouses: readonly string[], after: string | null): Promise<StoreStockPage> {
    const { config, client } = await this.store(channelId);
    const locations = locationsOf(config, warehouses);
    const locationIds = [...locations.keys()];
    if (locationIds.length === 0) return { read: 0, stock: [], next: null };
    const first = levelsPageSize(locationIds.length, config.reconcilePageSize);
    await client.untilAvailable(levelsPageCost(locationIds.length, first), SPARE_FOR_DELIVERIES);
    const page = await this.governed(channelId, (signal) => client.inventoryLevelsPage(locationIds, after, first, signal));
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
    const { config, client } = await this.store(channelId);
    const location = gid('Location', locationId);
    const at = [...locationsOf(config, warehouses)].find(([id]) => id === location)?.[1] ?? [];
    if (at.length === 0) return { sku: null, warehouses: [] };
    const item = gid('InventoryItem', inventoryItemId);
    const known = this.skusOf(channelId);
    let sku = known.get(item) ?? null;
    if (sku === null) {
      sku = await this.governed(channelId, (signal) => client.inventoryItemSku(item, signal));
      if (sku !== null) remember(known, item, sku);
    }
    return { sku, warehouses: at };
  }

  /**
   * One call under the channel's governor; a refusal for a while (an outage, a pause, Shopify's throttling) is
   * waited out and tried again a few times before it fails the read.
   */
  private async governed<T>(channelId: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const handler = this.destinations.handlerOf('channel');
    if (!handler) throw new TargetError('permanent', 'this instance does not reach channels');
    const limits = await handler.limits(channelId);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.governor.call(`channel:${channelId}`, limits, () => work(AbortSignal.timeout(CALL_TIMEOUT_MS)));
      } catch (error) {
        const failure = classify(error);
        if (failure.class === 'permanent' || attempt >= READ_TRIES) throw error;
        const waitMs = error instanceof TargetUnavailableError ? error.waitMs : (failure.retryAfterMs ?? backoffDelay(DEFAULT_RETRY_POLICY, attempt));
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  /** The channel's settings and a client of its own for reads, kept while the settings are unchanged. */
  private async store(channelId: string): Promise<{ config: ShopifyConfig; client: ShopifyAdminClient }> {
    const channel = await this.targets.channel(channelId);
    if (!channel || channel.kind !== 'shopify') throw new TargetError('permanent', `channel ${channelId} is not a Shopify store`);
    const config = channel.config as unknown as ShopifyConfig;
    const text = JSON.stringify(config);
    let kept = this.clients.get(channelId);
    if (kept?.config !== text) {
      kept = { config: text, client: new ShopifyAdminClient(config, { maxWaitMs: READ_MAX_WAIT_MS }) };
      this.clients.set(channelId, kept);
      this.skus.delete(channelId);
    }
    return { config, client: kept.client };
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

/** A webhook's numeric id as GraphQL's gid; a gid stays as it is. */
function gid(type: string, id: string): string {
  return id.startsWith('gid://') ? id : `gid://shopify/${type}/${id}`;
}

function remember(known: Map<string, string>, item: string, sku: string): void {
  if (known.size >= SKUS_KEPT && !known.has(item)) known.delete(known.keys().next().value!);
  known.set(item, sku);
}
