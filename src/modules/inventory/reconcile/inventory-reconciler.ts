import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type pg from 'pg';
import { BULK_OPERATION_ENDED } from '../../../connectors/channels/shopify/shopify-admin.client.js';
import { readsInBulk, ShopifyInventoryReads, type StoreStock } from '../../../connectors/channels/shopify/shopify-inventory-reads.js';
import { answersFigures, WebhookReads } from '../../../connectors/channels/webhook/webhook-reads.js';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import type { Tx } from '../../../platform/database/transaction.js';
import { recordHeldState, settledStates } from '../../../platform/delivery/delivered-states.js';
import { reconcileTarget, Reconcilers, type ComparedPage, type Finding, type Reconciler, type ReconcileTarget } from '../../../platform/reconciliation/reconcilers.js';
import { ChannelQuery, ChannelsQuery, type Channel } from '../../configuration/index.js';
import { AvailabilityPublisher } from '../commands/availability-publisher.js';
import { lockSkus } from '../commands/stock-locks.js';
import { channelDrift, type HeldStock } from '../domain/store-drift.js';

const CHANNEL_DIFFERS = 'channel-differs';
/** The state event a webhook subscriber holds its figures by. */
const AVAILABILITY_EVENT = 'inventory.availability.changed';
/** A store read in bulk: the run's checkpoint is `bulk:<operation id>`, then `bulk:<operation id>:<offset>` of the result. */
const BULK_CURSOR = /^bulk:(gid:\/\/shopify\/BulkOperation\/\d+)(?::(\d+))?$/;
/** SKUs of a bulk result compared a page: one statement, one transaction of findings and repairs. */
const BULK_SLICE = 1_000;
/**
 * The longest one page waits on a running bulk operation before the run records its checkpoint and asks again: a page
 * holds no transaction meanwhile, and a run cut short resumes with the same operation.
 */
const BULK_WAIT_MS = 3_000;
const BULK_POLL_MS = { first: 100, most: 1_000 };
/** Bulk results kept in memory, by operation: the run's, and another store's run besides. */
const BULK_RESULTS_KEPT = 2;

/**
 * What a channel-differs finding carries for its repair: the version the channel was last sent, and what it holds
 * in the form that delivery was recorded in (so that the republished figure is compared with it, not with the sent one).
 */
interface SentDetail {
  sentVersion: string;
  held: string;
}

/**
 * Inventory's reconciliation with the channels that can be read (`channel:<id>`): each Shopify store's `available`
 * figures per location (in pages, or from one bulk operation where `config.reconcileRead` says so), and each webhook
 * subscriber's figures where it answers them (`config.readUrl`), read a page at a time, against what Crossdock last
 * delivered to it (`delivered_version`). A SKU whose newer figure is still on its way (queued or being sent) is not
 * compared: the channel will get it. A difference is the channel's
 * (`channel-differs`: a merchant's edit, another app's, a delivery the subscriber lost) and is repaired by
 * republishing Crossdock's current figure as a new version, after recording what the channel was found holding, so
 * that the republished figure is sent (not taken for unchanged), and set compare-and-set against a store's own
 * figure. Every such channel can be reconciled on demand; on a schedule, those whose `reconcile.inventory` says how
 * often. API channels read their figures from Crossdock: nothing to compare.
 */
@Injectable()
export class InventoryReconciler implements Reconciler, OnModuleInit {
  readonly domain = 'inventory';

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly reconcilers: Reconcilers,
    private readonly queries: QueryBus,
    private readonly reads: ShopifyInventoryReads,
    private readonly subscribers: WebhookReads,
    private readonly availability: AvailabilityPublisher,
  ) {}

  /** A completed bulk read's SKUs and when it began, by channel and operation: its slices are compared without downloading it again. */
  private readonly bulkResults = new Map<string, { readAt: Date; stock: StoreStock[] }>();

  onModuleInit(): void {
    this.reconcilers.register(this);
  }

  async targets(): Promise<ReconcileTarget[]> {
    const channels = await this.queries.execute(new ChannelsQuery());
    return channels.filter(readable).map((c) => reconcileTarget(`channel:${c.id}`, c.reconcile, 'inventory'));
  }

  async compare(target: string, cursor: string | null): Promise<ComparedPage> {
    const channel = await this.channelOf(target);
    // A channel deleted, or no longer one that can be read, since the run began: nothing left to compare.
    if (!channel || !readable(channel)) return { compared: 0, findings: [], nextCursor: null };
    // A run keeps the way it began reading (its cursor says which), whatever the setting says since.
    if (channel.kind === 'shopify' && (cursor === null ? readsInBulk(channel) : cursor.startsWith('bulk:'))) return this.compareBulk(channel, cursor);
    // What was delivered after the channel's figures were read is newer than them: not compared.
    const { rows: [{ now }] } = (await this.pool.query<{ now: Date }>('select clock_timestamp() as now')) as { rows: Array<{ now: Date }> };
    const held = new Map<string, HeldStock>();
    let next: string | null;
    if (channel.kind === 'shopify') {
      const page = await this.reads.stockPage(channel.id, channel.inventory.warehouses, cursor);
      for (const item of page.stock) if (!held.has(item.sku)) held.set(item.sku, { byWarehouse: item.byWarehouse }); // the first of two items with one SKU, as publishing finds them
      next = page.next;
    } else {
      const page = await this.subscribers.page(channel.id, AVAILABILITY_EVENT, cursor);
      for (const item of page.items) if (typeof item.data.available === 'number') held.set(item.key, { available: item.data.available });
      next = page.next;
    }
    return { ...(await this.drift(this.pool, channel, held, now)), nextCursor: next };
  }

  /**
   * A store read through one bulk operation (`config.reconcileRead: 'bulk'`): the first page starts it and records
   * it as the checkpoint; the next ones wait on it, a few seconds a page, and then compare its result a slice at a
   * time. Its figures count as read when the operation was created: what was delivered since is not compared. A
   * result downloaded is kept for the run's next slices; after a restart it is downloaded again (its URL stays valid
   * for a week). An operation that FAILED, was CANCELED or EXPIRED fails the run with Shopify's reason.
   */
  private async compareBulk(channel: Channel, cursor: string | null): Promise<ComparedPage> {
    if (cursor === null) {
      const operation = await this.reads.startBulkStock(channel.id);
      return { compared: 0, findings: [], nextCursor: `bulk:${operation.id}` };
    }
    const match = BULK_CURSOR.exec(cursor);
    if (!match) throw new Error(`the run's checkpoint ${cursor} names no bulk operation`);
    const operationId = match[1]!;
    const offset = Number(match[2] ?? 0);
    const result = await this.bulkResult(channel, operationId);
    if (!result) return { compared: 0, findings: [], nextCursor: cursor };
    const slice = result.stock.slice(offset, offset + BULK_SLICE);
    const end = offset + slice.length;
    const next = end < result.stock.length ? `bulk:${operationId}:${end}` : null;
    if (next === null) this.bulkResults.delete(`${channel.id} ${operationId}`);
    const held = new Map<string, HeldStock>(slice.map((item) => [item.sku, { byWarehouse: item.byWarehouse }]));
    return { ...(await this.drift(this.pool, channel, held, result.readAt)), nextCursor: next };
  }

  /** The bulk operation's result once it has completed; undefined while it runs still, after a few seconds' wait. */
  private async bulkResult(channel: Channel, operationId: string): Promise<{ readAt: Date; stock: StoreStock[] } | undefined> {
    const key = `${channel.id} ${operationId}`;
    const kept = this.bulkResults.get(key);
    if (kept) return kept;
    const deadline = Date.now() + BULK_WAIT_MS;
    for (let wait = BULK_POLL_MS.first; ; wait = Math.min(wait * 2, BULK_POLL_MS.most)) {
      const operation = await this.reads.bulkOperation(channel.id, operationId);
      if (!operation) throw new Error(`Shopify has no bulk operation ${operationId}`);
      if (operation.status === 'COMPLETED') {
        const result = { readAt: new Date(operation.createdAt), stock: await this.reads.bulkStock(channel.id, channel.inventory.warehouses, operation) };
        if (this.bulkResults.size >= BULK_RESULTS_KEPT) this.bulkResults.delete(this.bulkResults.keys().next().value!);
        this.bulkResults.set(key, result);
        return result;
      }
      if (BULK_OPERATION_ENDED.has(operation.status)) {
        throw new Error(`Shopify's bulk read of the store ended ${operation.status}${operation.errorCode ? ` (${operation.errorCode})` : ''}: ${operationId}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait, left)));
    }
  }

  /**
   * The channel's figures against what it was last sent, one statement for the lot: a SKU it was never sent, whose
   * newer figure is on its way, or that was sent after `readAt` (when the channel's figures were read) is not compared.
   * Findings come in SKU order, the order in which their repairs take the SKUs' locks.
   */
  async drift(sql: Pick<Tx, 'query'>, channel: Channel, held: ReadonlyMap<string, HeldStock>, readAt: Date | null): Promise<{ compared: number; findings: Finding[] }> {
    const destination = `channel:${channel.id}`;
    if (held.size === 0) return { compared: 0, findings: [] };
    const rows = await settledStates(sql, destination, [...held.keys()], readAt);
    let compared = 0;
    const findings: Finding[] = [];
    for (const row of rows) {
      const compare = row.comparable ? channelDrift(row.value, held.get(row.key)!, channel.inventory.warehouses) : undefined;
      if (!compare) continue;
      compared++;
      const drift = compare.drift;
      if (!drift) continue;
      const detail: SentDetail = { sentVersion: row.version, held: drift.heldValue };
      findings.push({ key: row.key, class: CHANNEL_DIFFERS, expected: drift.expected, actual: drift.actual, repair: 'republish', detail: { ...detail } });
    }
    return { compared, findings };
  }

  /**
   * In the run's transaction, under the SKU's lock: what the channel was found holding becomes the figure the
   * dispatcher compares with (unless a newer version was delivered since), and Crossdock's current figure is
   * published as a new version, which the channel gets next.
   */
  async repair(tx: Tx, target: string, finding: Finding): Promise<Record<string, unknown>> {
    const channel = await this.channelOf(target, tx);
    if (!channel) return { republished: false, reason: `${target} is no longer a channel` };
    const sku = finding.key;
    await lockSkus(tx, [sku]);
    const { sentVersion, held } = finding.detail as unknown as SentDetail;
    await recordHeldState(tx, target, sku, sentVersion, held);
    const [figure] = await this.availability.republish(tx, channel, [sku]);
    if (!figure) return { republished: false, reason: 'no stock position of the SKU is known' };
    return { republished: true, version: figure.version, available: figure.available, byWarehouse: figure.byWarehouse };
  }

  private async channelOf(target: string, tx?: Tx): Promise<Channel | undefined> {
    if (!target.startsWith('channel:')) return undefined;
    return (await this.queries.execute(new ChannelQuery(target.slice('channel:'.length), tx))) ?? undefined;
  }

}

/** A channel whose figures can be read: a Shopify store, or a webhook subscriber that answers them. */
function readable(channel: Channel): boolean {
  return channel.kind === 'shopify' || answersFigures(channel);
}
