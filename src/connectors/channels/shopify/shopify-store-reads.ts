import { Injectable } from '@nestjs/common';
import { TargetError } from '../../../platform/delivery/outcome.js';
import { TargetDirectory } from '../../../platform/delivery/target-directory.js';
import { GovernedReads } from '../../../platform/governor/governed-reads.js';
import { ShopifyAdminClient } from './shopify-admin.client.js';
import type { ShopifyConfig } from './shopify.config.js';

// A long read waits until the bucket holds its page and this share of the bucket besides: the store's deliveries
// (availability, prices, customers) keep room to go while a whole store is read.
const SPARE_FOR_DELIVERIES = 0.25;
// A read waits for its page's cost (and the deliveries' share) before it asks to be admitted, outside the pacer's
// turn: the pacer is the deliveries' too, so a read must not hold their turn through a long wait. Admitted, it waits
// no longer than a delivery would; past that it is throttled, and GovernedReads tries it again after the wait.

/** A store's settings and the client of this process's reads from it. */
export interface ShopifyStore {
  channelId: string;
  config: ShopifyConfig;
  client: ShopifyAdminClient;
}

/**
 * Reads of a Shopify store outside the delivery queues (reconciliation's pages, a webhook's look-up): every call is
 * admitted by the channel's governor (its rate, concurrency, circuit and pauses, shared with the deliveries) and,
 * where its cost is known, paced by Shopify's query cost, leaving a share of the bucket to the deliveries. One client
 * per store for reads in a process, kept while the channel's settings are unchanged; it paces by the same view of the
 * store's bucket as the deliveries' client (`sharedPacer`), so that each counts the other's calls.
 */
@Injectable()
export class ShopifyStoreReads {
  private readonly clients = new Map<string, { config: string; store: ShopifyStore }>();
  private readonly changeListeners: Array<(channelId: string) => void> = [];

  constructor(
    private readonly targets: TargetDirectory,
    private readonly governed: GovernedReads,
  ) {}

  /** The channel's settings and client for reads; a permanent failure when the channel is not a Shopify store. */
  async store(channelId: string): Promise<ShopifyStore> {
    const channel = await this.targets.channel(channelId);
    if (!channel || channel.kind !== 'shopify') throw new TargetError('permanent', `channel ${channelId} is not a Shopify store`);
    const config = channel.config as unknown as ShopifyConfig;
    const text = JSON.stringify(config);
    let kept = this.clients.get(channelId);
    if (kept?.config !== text) {
      kept = { config: text, store: { channelId, config, client: new ShopifyAdminClient(config, { sharedPacer: true }) } };
      this.clients.set(channelId, kept);
      for (const listener of this.changeListeners) listener(channelId);
    }
    return kept.store;
  }

  /** Called when a store's settings changed, so that what was learnt from it under the old ones is forgotten. */
  onStoreChanged(listener: (channelId: string) => void): void {
    this.changeListeners.push(listener);
  }

  /**
   * One read: when `cost` is given, first waits until the store's bucket holds it and a share for the deliveries;
   * then the call under the channel's governor (GovernedReads).
   */
  async read<T>(store: ShopifyStore, cost: number | null, work: (client: ShopifyAdminClient, signal: AbortSignal) => Promise<T>): Promise<T> {
    if (cost !== null) await store.client.untilAvailable(cost, SPARE_FOR_DELIVERIES);
    return this.governed.call(`channel:${store.channelId}`, (signal) => work(store.client, signal));
  }
}

/** A webhook's numeric id as GraphQL's gid; a gid stays as it is. */
export function gid(type: string, id: string): string {
  return id.startsWith('gid://') ? id : `gid://shopify/${type}/${id}`;
}
