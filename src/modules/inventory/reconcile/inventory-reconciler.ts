import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type pg from 'pg';
import { ShopifyInventoryReads, type StoreStock } from '../../../connectors/channels/shopify/shopify-inventory-reads.js';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import type { Tx } from '../../../platform/database/transaction.js';
import { reconcileTarget, Reconcilers, type ComparedPage, type Finding, type Reconciler, type ReconcileTarget } from '../../../platform/reconciliation/reconcilers.js';
import { ChannelQuery, ChannelsQuery, type Channel } from '../../configuration/index.js';
import { AvailabilityPublisher } from '../commands/availability-publisher.js';
import { lockSkus } from '../commands/stock-locks.js';
import { heldFigures, readFigures, storeDrift } from '../domain/store-drift.js';

const CHANNEL_DIFFERS = 'channel-differs';

/** What a channel-differs finding carries for its repair: the version and figures the channel was last sent. */
interface SentDetail {
  sentVersion: string;
  sent: Record<string, number>;
}

/**
 * Inventory's reconciliation with the Shopify stores (`channel:<id>`): each store's `available` figures, read a page of
 * items at a time, against what Crossdock last delivered to it (`delivered_version`). A SKU whose newer figure is
 * still on its way (queued or being sent) is not compared: the store will get it. A difference is the store's
 * (`channel-differs`, a merchant's edit or another app's) and is repaired by republishing Crossdock's current figure
 * as a new version, after recording what the store was found holding, so that the republished figure is sent (not
 * taken for unchanged) and set compare-and-set against the store's own figure. Every Shopify store can be
 * reconciled on demand; on a schedule, those whose `reconcile.inventory` says how often.
 */
@Injectable()
export class InventoryReconciler implements Reconciler, OnModuleInit {
  readonly domain = 'inventory';

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly reconcilers: Reconcilers,
    private readonly queries: QueryBus,
    private readonly reads: ShopifyInventoryReads,
    private readonly availability: AvailabilityPublisher,
  ) {}

  onModuleInit(): void {
    this.reconcilers.register(this);
  }

  async targets(): Promise<ReconcileTarget[]> {
    const channels = await this.queries.execute(new ChannelsQuery());
    return channels.filter((c) => c.kind === 'shopify').map((c) => reconcileTarget(`channel:${c.id}`, c.reconcile, 'inventory'));
  }

  async compare(target: string, cursor: string | null): Promise<ComparedPage> {
    const channel = await this.storeOf(target);
    // A store deleted, or no longer a store, since the run began: nothing left to compare.
    if (!channel) return { compared: 0, findings: [], nextCursor: null };
    // What was delivered after the store's figures were read is newer than them: not compared.
    const { rows: [{ now }] } = (await this.pool.query<{ now: Date }>('select clock_timestamp() as now')) as { rows: Array<{ now: Date }> };
    const page = await this.reads.stockPage(channel.id, channel.inventory.warehouses, cursor);
    return { ...(await this.drift(this.pool, channel, page.stock, now)), nextCursor: page.next };
  }

  /**
   * The store's figures against what it was last sent, one statement for the lot: a SKU it was never sent, whose
   * newer figure is on its way, or that was sent after `readAt` (when the store's figures were read) is not compared.
   * Findings come in SKU order, the order in which their repairs take the SKUs' locks.
   */
  async drift(sql: Pick<Tx, 'query'>, channel: Channel, stock: readonly StoreStock[], readAt: Date | null): Promise<{ compared: number; findings: Finding[] }> {
    const destination = `channel:${channel.id}`;
    const held = new Map<string, StoreStock>();
    for (const item of stock) if (!held.has(item.sku)) held.set(item.sku, item); // the first of two items with one SKU, as publishing finds them
    if (held.size === 0) return { compared: 0, findings: [] };
    const { rows } = await sql.query<{ key: string; version: string; value: string | null; comparable: boolean }>(
      `select dv.key, dv.version::text as version, dv.state_value as value,
              not exists (select 1 from state_outbox s where s.destination = dv.destination and s.key = dv.key)
              and not exists (select 1 from state_inflight i where i.destination = dv.destination and i.key = dv.key)
              and ($3::timestamptz is null or dv.delivered_at <= $3) as comparable
         from delivered_version dv where dv.destination = $1 and dv.key = any($2::text[])`,
      [destination, [...held.keys()], readAt],
    );
    let compared = 0;
    const findings: Finding[] = [];
    for (const row of rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
      const sent = readFigures(row.value);
      if (!row.comparable || !sent) continue;
      compared++;
      const drift = storeDrift(sent, held.get(row.key)!.byWarehouse, channel.inventory.warehouses);
      if (!drift) continue;
      const detail: SentDetail = { sentVersion: row.version, sent };
      findings.push({ key: row.key, class: CHANNEL_DIFFERS, expected: drift.expected, actual: drift.actual, repair: 'republish', detail: { ...detail } });
    }
    return { compared, findings };
  }

  /**
   * In the run's transaction, under the SKU's lock: what the store was found holding becomes the figure the
   * dispatcher compares with (unless a newer version was delivered since), and Crossdock's current figure is
   * published as a new version, which the store gets next.
   */
  async repair(tx: Tx, target: string, finding: Finding): Promise<Record<string, unknown>> {
    const channel = await this.storeOf(target, tx);
    if (!channel) return { republished: false, reason: `${target} is no longer a Shopify store` };
    const sku = finding.key;
    await lockSkus(tx, [sku]);
    const { sentVersion, sent } = finding.detail as unknown as SentDetail;
    const held = heldFigures(sent, { expected: finding.expected as Record<string, number>, actual: finding.actual as Record<string, number> });
    await tx.query('update delivered_version set state_value = $4 where destination = $1 and key = $2 and version = $3', [target, sku, sentVersion, JSON.stringify(held)]);
    const [figure] = await this.availability.republish(tx, channel, [sku]);
    if (!figure) return { republished: false, reason: 'no stock position of the SKU is known' };
    return { republished: true, version: figure.version, available: figure.available, byWarehouse: figure.byWarehouse };
  }

  private async storeOf(target: string, tx?: Tx): Promise<Channel | undefined> {
    if (!target.startsWith('channel:')) return undefined;
    const channel = await this.queries.execute(new ChannelQuery(target.slice('channel:'.length), tx));
    return channel?.kind === 'shopify' ? channel : undefined;
  }
}
