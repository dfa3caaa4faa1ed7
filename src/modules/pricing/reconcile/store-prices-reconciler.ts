import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type pg from 'pg';
import { ShopifyPriceReads, type StorePrice } from '../../../connectors/channels/shopify/shopify-price-reads.js';
import { answersFigures, WebhookReads } from '../../../connectors/channels/webhook/webhook-reads.js';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import type { Tx } from '../../../platform/database/transaction.js';
import { recordHeldState, settledStates } from '../../../platform/delivery/delivered-states.js';
import { reconcileTarget, Reconcilers, type ComparedPage, type Finding, type Reconciler, type ReconcileTarget } from '../../../platform/reconciliation/reconcilers.js';
import { ChannelQuery, ChannelsQuery, type Channel } from '../../configuration/index.js';
import { lockPrices } from '../commands/price-locks.js';
import { priceKeyOf, PricePublisher } from '../commands/price-publisher.js';

const CHANNEL_DIFFERS = 'channel-differs';
/** The state event a webhook subscriber holds its prices by. */
const PRICE_EVENT = 'price.changed';

/** What a channel-differs finding carries for its repair: the version and state the store was last sent, and what it holds. */
interface SentDetail {
  sentVersion: string;
  sent: SentPrice;
  held: number;
}

/** A delivered price's state, as PricePublisher stores it: currency, unit price, list, end, Shopify price list. */
type SentPrice = [string, number | null, string | null, string | null, string];

/**
 * Pricing's reconciliation with the channels that sell at Crossdock's prices (`channel:<id>`, a channel with
 * `pricing`) and can be read: each Shopify store's variants' own prices, and each webhook subscriber's prices where
 * it answers them (`config.readUrl`), read a page at a time, against the price Crossdock last delivered to it
 * (`delivered_version`, key `price:<sku>`). A SKU whose newer price is still on its way (queued or being sent),
 * or that was delivered after the page was read, is not compared: the store will get it, or has it. Neither is a
 * price the store cannot hold: a withdrawn one (Shopify keeps a variant's price) or one in another currency than the
 * store's. A difference is the store's (`channel-differs`, a merchant's edit or another app's), repaired by
 * republishing Crossdock's current price as a new version, after recording the store's price as what it holds, so
 * that the republished price is sent rather than taken for unchanged. B2B price lists' fixed prices
 * (`price@<list>:<sku>`) are not compared. Every such store can be reconciled on demand; on a schedule, those whose
 * `reconcile.prices` says how often.
 */
@Injectable()
export class StorePricesReconciler implements Reconciler, OnModuleInit {
  readonly domain = 'prices';

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly reconcilers: Reconcilers,
    private readonly queries: QueryBus,
    private readonly reads: ShopifyPriceReads,
    private readonly subscribers: WebhookReads,
    private readonly publisher: PricePublisher,
  ) {}

  onModuleInit(): void {
    this.reconcilers.register(this);
  }

  async targets(): Promise<ReconcileTarget[]> {
    const channels = await this.queries.execute(new ChannelsQuery());
    return channels.filter(readable).map((c) => reconcileTarget(`channel:${c.id}`, c.reconcile, 'prices'));
  }

  async compare(target: string, cursor: string | null): Promise<ComparedPage> {
    const channel = await this.channelOf(target);
    // A channel deleted, no longer readable, or no longer priced since the run began: nothing left to compare.
    if (!channel || !readable(channel)) return { compared: 0, findings: [], nextCursor: null };
    // What was delivered after the channel's prices were read is newer than them: not compared.
    const { rows: [{ now }] } = (await this.pool.query<{ now: Date }>('select clock_timestamp() as now')) as { rows: Array<{ now: Date }> };
    if (channel.kind === 'shopify') {
      const page = await this.reads.pricePage(channel.id, cursor);
      return { ...(await this.drift(channel, page.prices, page.currency, now)), nextCursor: page.next };
    }
    // A subscriber holds each price as the event it applied last: its unit price, in the channel's currency.
    const currency = channel.pricing!.currency;
    const page = await this.subscribers.page(channel.id, PRICE_EVENT, cursor);
    const prices = page.items.flatMap((item) =>
      item.key.startsWith('price:') && item.data.currency === currency && typeof item.data.unitPrice === 'number' ? [{ sku: item.key.slice('price:'.length), price: String(item.data.unitPrice) }] : []);
    return { ...(await this.drift(channel, prices, currency, now)), nextCursor: page.next };
  }

  /**
   * The store's prices against what it was last sent, one statement for the lot. Findings come in SKU order, the
   * order in which their repairs take the SKUs' price locks.
   */
  private async drift(channel: Channel, prices: readonly StorePrice[], currency: string, readAt: Date): Promise<{ compared: number; findings: Finding[] }> {
    if (prices.length === 0) return { compared: 0, findings: [] };
    const held = new Map(prices.map((p) => [priceKeyOf('', p.sku), p]));
    const rows = await settledStates(this.pool, `channel:${channel.id}`, [...held.keys()], readAt);
    let compared = 0;
    const findings: Finding[] = [];
    for (const row of rows) {
      const sent = sentPrice(row.value);
      if (!row.comparable || !sent || sent[0] !== currency || sent[1] === null) continue;
      compared++;
      const store = held.get(row.key)!;
      const holds = Number(store.price);
      if (holds === sent[1]) continue;
      const detail: SentDetail = { sentVersion: row.version, sent, held: holds };
      findings.push({ key: store.sku, class: CHANNEL_DIFFERS, expected: sent[1], actual: holds, repair: 'republish', detail: { ...detail, currency } });
    }
    return { compared, findings };
  }

  /**
   * In the run's transaction, under the SKU's price lock: the store's price becomes the figure the dispatcher
   * compares with (unless a newer version was delivered since), and Crossdock's current price is published as a new
   * version, which the store gets next.
   */
  async repair(tx: Tx, target: string, finding: Finding): Promise<Record<string, unknown>> {
    const channel = await this.channelOf(target, tx);
    if (!channel?.pricing) return { republished: false, reason: `${target} is no longer a channel with prices` };
    const sku = finding.key;
    await lockPrices(tx, [sku]);
    const { sentVersion, sent, held } = finding.detail as unknown as SentDetail;
    const holds: SentPrice = [sent[0], held, sent[2], sent[3], sent[4]];
    await recordHeldState(tx, target, priceKeyOf('', sku), sentVersion, JSON.stringify(holds));
    const [price] = await this.publisher.republish(tx, channel, [sku]);
    if (!price) return { republished: false, reason: 'the channel is gone' };
    return { republished: true, version: price.version, unitPrice: price.unitPrice, priceList: price.priceList };
  }

  private async channelOf(target: string, tx?: Tx): Promise<Channel | undefined> {
    if (!target.startsWith('channel:')) return undefined;
    return (await this.queries.execute(new ChannelQuery(target.slice('channel:'.length), tx))) ?? undefined;
  }

}

/** A channel with prices that can be read: a Shopify store, or a webhook subscriber that answers its figures. */
function readable(channel: Channel): boolean {
  return !!channel.pricing && (channel.kind === 'shopify' || answersFigures(channel));
}

/** The state a price was delivered with; undefined when it is not one PricePublisher wrote. */
function sentPrice(value: string | null): SentPrice | undefined {
  if (value === null) return undefined;
  try {
    const parsed = JSON.parse(value) as unknown;
    if (!Array.isArray(parsed) || parsed.length !== 5 || typeof parsed[0] !== 'string' || !(parsed[1] === null || typeof parsed[1] === 'number')) return undefined;
    return parsed as SentPrice;
  } catch {
    return undefined;
  }
}
