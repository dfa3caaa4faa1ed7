import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { Sql } from '../../../platform/database/transaction.js';
import { Outbox } from '../../../platform/outbox/outbox.js';
import { ChannelsQuery, type Channel } from '../../configuration/index.js';
import { effectivePrice, type PriceEntry } from '../domain/effective-price.js';
import { PRICE_CHANGED, type PriceChanged } from '../events/price-changed.js';
import { instant, priceEntries } from '../queries/price-entries.js';

/** A channel's own price of a SKU as republished. */
export interface RepublishedPrice {
  sku: string;
  unitPrice: number | null;
  priceList: string | null;
  version: number;
}

/** What a channel is given of one SKU: its own price (key ''), or a B2B list's fixed price (key: the list). */
interface Figure {
  channel: Channel;
  priceKey: string;
  sku: string;
  unitPrice: number | null;
  priceList: string | null;
  source: 'list' | 'base' | null;
  validTo: string | null;
  shopifyPriceListId?: string;
}

/**
 * Recomputes the prices channels sell at for SKUs whose prices changed (or started, or ended), in the caller's
 * transaction (which holds the SKUs' price locks), and publishes each changed one as a `price.changed` state
 * message: the newest version per (channel, key) is delivered, never an older one after it, and one equal to the
 * last delivered is skipped. A channel's own price is the effective price of one unit at its list and currency,
 * without a customer; a Shopify channel's mapped B2B lists get each list's own price of one unit.
 */
@Injectable()
export class PricePublisher {
  constructor(
    private readonly outbox: Outbox,
    private readonly queries: QueryBus,
  ) {}

  /** `onlyChannels`: recompute these channels' prices only (a channel added, or given other settings). */
  async recompute(sql: Sql, skus: readonly string[], onlyChannels?: ReadonlySet<string>): Promise<number> {
    const channels = (await this.queries.execute(new ChannelsQuery(sql))).filter((c) => c.pricing && (!onlyChannels || onlyChannels.has(c.id)));
    return (await this.publish(sql, channels, skus, false)).length;
  }

  /**
   * Publishes the channel's own price of each SKU again as a new version, changed or not (a B2B list's fixed price
   * is left as it is): reconciliation's repair of a price the channel was found holding otherwise. The caller holds
   * the SKUs' price locks.
   */
  async republish(sql: Sql, channel: Channel, skus: readonly string[]): Promise<RepublishedPrice[]> {
    if (!channel.pricing) return [];
    const published = await this.publish(sql, [channel], skus, true);
    return published.map(({ sku, unitPrice, priceList, version }) => ({ sku, unitPrice, priceList, version }));
  }

  /** Computes the channels' prices of the SKUs and publishes those that changed; `again`: each channel's own price, changed or not. */
  private async publish(sql: Sql, channels: readonly Channel[], skus: readonly string[], again: boolean): Promise<Array<Figure & { version: number }>> {
    if (channels.length === 0 || skus.length === 0) return [];
    const { bySku, now } = await priceEntries(sql, skus, [...new Set(channels.map((c) => c.pricing!.currency))]);
    const figures: Figure[] = [];
    for (const sku of skus) {
      const entries = bySku.get(sku) ?? [];
      for (const channel of channels) {
        const { priceList, currency } = channel.pricing!;
        figures.push(figureOf(channel, '', sku, entries, { quantity: 1, at: now, currency, channelList: priceList }));
        if (again || channel.kind !== 'shopify') continue;
        // The store's B2B price lists (its connector's `priceLists`: Crossdock list to Shopify PriceList id).
        const shopifyPriceLists = (channel.config.priceLists ?? {}) as Record<string, string>;
        for (const [list, shopifyPriceListId] of Object.entries(shopifyPriceLists)) {
          const own = entries.filter((e) => e.priceList === list && e.customer === null);
          figures.push({ ...figureOf(channel, list, sku, own, { quantity: 1, at: now, currency, channelList: list }), shopifyPriceListId });
        }
      }
    }
    // One statement: compares every figure with the stored one, and stores, under a new version, those that
    // changed (all, `again`). A SKU never priced for a channel is not "withdrawn": nothing is stored or sent for it.
    const { rows: stored } = await sql.query<{ i: number; version: string; now: string }>(
      `with v as (select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::text[], $7::timestamptz[], $8::text[])
                          with ordinality as v(c, k, s, cur, p, l, vt, tg, i)),
            changed as (
              select v.* from v
                join channel ch on ch.id = v.c
                left join channel_price cp on cp.channel_id = v.c and cp.price_key = v.k and cp.sku = v.s
               where $9::boolean
                  or (cp.sku is null and v.p is not null)
                  or (cp.sku is not null and (cp.unit_price is distinct from v.p or cp.price_list is distinct from v.l or cp.currency <> v.cur
                                              or cp.valid_to is distinct from v.vt or cp.target <> v.tg))),
            up as (
              insert into channel_price (channel_id, price_key, sku, currency, unit_price, price_list, valid_to, target, version, computed_at)
              select c, k, s, cur, p, l, vt, tg, nextval('price_version_seq'), clock_timestamp() from changed order by i
              on conflict (channel_id, price_key, sku) do update
                set currency = excluded.currency, unit_price = excluded.unit_price, price_list = excluded.price_list, valid_to = excluded.valid_to,
                    target = excluded.target, version = excluded.version, computed_at = excluded.computed_at
              returning channel_id, price_key, sku, version)
       select changed.i::int as i, up.version, to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as now
         from up join changed on changed.c = up.channel_id and changed.k = up.price_key and changed.s = up.sku order by changed.i`,
      [
        figures.map((f) => f.channel.id), figures.map((f) => f.priceKey), figures.map((f) => f.sku), figures.map((f) => f.channel.pricing!.currency),
        figures.map((f) => f.unitPrice), figures.map((f) => f.priceList), figures.map((f) => f.validTo), figures.map((f) => f.shopifyPriceListId ?? ''), again,
      ],
    );
    if (stored.length === 0) return [];
    const asOf = stored[0]!.now;
    const messages = stored.flatMap((row) => {
      const figure = figures[row.i - 1]!;
      // API channels read their prices; there is nothing to push to them.
      if (figure.channel.kind === 'api') return [];
      const version = Number(row.version);
      const payload: PriceChanged = {
        channelId: figure.channel.id, sku: figure.sku, currency: figure.channel.pricing!.currency, unitPrice: figure.unitPrice, priceList: figure.priceList,
        source: figure.source, validTo: figure.validTo, version, asOf, ...(figure.shopifyPriceListId ? { shopifyPriceListId: figure.shopifyPriceListId } : {}),
      };
      return [{
        message: {
          type: PRICE_CHANGED, kind: 'state' as const, key: priceKeyOf(figure.priceKey, figure.sku), version, payload: { ...payload },
          // What the channel holds of it: a new end, or another B2B price list, is a change too.
          stateValue: JSON.stringify([payload.currency, payload.unitPrice, payload.priceList, payload.validTo, payload.shopifyPriceListId ?? '']),
        },
        destinations: [`channel:${figure.channel.id}`],
      }];
    });
    await this.outbox.addMany(sql, messages);
    return stored.map((row) => ({ ...figures[row.i - 1]!, version: Number(row.version) }));
  }
}

function figureOf(channel: Channel, priceKey: string, sku: string, entries: readonly PriceEntry[], question: Parameters<typeof effectivePrice>[1]): Figure {
  const found = effectivePrice(entries, question);
  if (!found) return { channel, priceKey, sku, unitPrice: null, priceList: null, source: null, validTo: null };
  return { channel, priceKey, sku, unitPrice: found.entry.unitPrice, priceList: found.entry.priceList, source: found.source === 'base' ? 'base' : 'list', validTo: instant(found.entry.validTo) };
}

/**
 * The state key of a channel's price of a SKU: distinct from its stock's key (the SKU) on the same channel. A B2B
 * list's price carries the list, escaped so that no list and SKU can make another's key.
 */
export function priceKeyOf(priceList: string, sku: string): string {
  return priceList === '' ? `price:${sku}` : `price@${encodeURIComponent(priceList)}:${sku}`;
}

/** What a channel's prices depend on besides the prices: when it changes, every SKU's price is recomputed for it. */
export function pricingSettingOf(channel: Channel): string {
  return JSON.stringify([channel.pricing, channel.kind === 'shopify' ? (channel.config.priceLists ?? {}) : {}]);
}
