import { Injectable } from '@nestjs/common';
import type { Sql } from '../../../platform/database/transaction.js';
import { Outbox } from '../../../platform/outbox/outbox.js';
import { QueryBus } from '@nestjs/cqrs';
import { ChannelsQuery, type Channel } from '../../configuration/index.js';
import { availableToSell, type StockPosition } from '../domain/available-to-sell.js';
import { AVAILABILITY_CHANGED, type AvailabilityChanged } from '../events/availability-changed.js';

const DEFAULT_LOW_STOCK = 5;
// Zero-crossings and low stock go first: they are what oversells.
const URGENT_PRIORITY = 10;

/** A figure published to a channel, under its version. */
export interface PublishedFigure {
  sku: string;
  available: number;
  byWarehouse: Record<string, number>;
  version: number;
}

export interface StockPicture {
  positions: Map<string, StockPosition[]>;
  openReservations: Map<string, Record<string, number>>;
}

/**
 * Recomputes channels' available-to-sell for SKUs whose stock picture changed, in the caller's transaction
 * (which holds the SKUs' locks), and publishes each changed figure as a state message: the newest version per
 * (channel, SKU) is delivered, an older one never after it, and one equal to the last delivered is skipped.
 */
@Injectable()
export class AvailabilityPublisher {
  constructor(
    private readonly outbox: Outbox,
    private readonly queries: QueryBus,
  ) {}

  /** Positions and open reservations of the SKUs, as this transaction sees them. */
  async picture(sql: Sql, skus: readonly string[]): Promise<StockPicture> {
    const positions = new Map<string, StockPosition[]>();
    const openReservations = new Map<string, Record<string, number>>();
    if (skus.length === 0) return { positions, openReservations };
    // One round trip: positions, then open reservations per warehouse (their total, kept by the database).
    const { rows } = await sql.query<{ kind: 'position' | 'reservation'; sku: string; warehouse: string; on_hand: number; reserved: number }>(
      `select 'position' as kind, sku, warehouse, on_hand::float8 as on_hand, reserved::float8 as reserved from stock_position where sku = any($1::text[])
       union all
       select 'reservation', sku, warehouse, quantity::float8, 0 from stock_reserved where sku = any($1::text[]) and quantity <> 0`,
      [skus],
    );
    for (const row of rows) {
      if (row.kind === 'reservation') {
        openReservations.set(row.sku, { ...openReservations.get(row.sku), [row.warehouse]: row.on_hand });
        continue;
      }
      const list = positions.get(row.sku) ?? [];
      if (list.length === 0) positions.set(row.sku, list);
      list.push({ warehouse: row.warehouse, onHand: row.on_hand, reserved: row.reserved });
    }
    return { positions, openReservations };
  }

  /**
   * SKUs without any position are left alone: nothing is known of them, and 0 would be a claim. `known`: the
   * caller's picture says which SKUs have positions (the transaction holds their locks), saving a read.
   */
  async recompute(sql: Sql, skus: readonly string[], known?: ReadonlySet<string>): Promise<number> {
    const channels = (await this.queries.execute(new ChannelsQuery(sql))).filter((c) => c.inventory.warehouses.length > 0);
    if (known) skus = skus.filter((sku) => known.has(sku));
    return (await this.publish(sql, channels, skus, false)).length;
  }

  /**
   * The channel's current figures of the SKUs published again, each as a new version even where it is unchanged:
   * the channel was found holding another figure than the one it was last sent. The caller holds the SKUs' locks.
   */
  async republish(sql: Sql, channel: Channel, skus: readonly string[]): Promise<PublishedFigure[]> {
    if (channel.inventory.warehouses.length === 0) return [];
    return this.publish(sql, [channel], skus, true);
  }

  /** Computes the channels' figures of the SKUs and publishes those that changed (all of them when `again`). */
  private async publish(sql: Sql, channels: readonly Channel[], skus: readonly string[], again: boolean): Promise<PublishedFigure[]> {
    if (channels.length === 0 || skus.length === 0) return [];
    const picture = await this.picture(sql, skus);
    const withStock = skus.filter((sku) => picture.positions.has(sku));
    if (withStock.length === 0) return [];
    const figures: Array<{ channel: Channel; sku: string; available: number; byWarehouse: Record<string, number> }> = [];
    for (const sku of withStock) {
      for (const channel of channels) figures.push({ channel, sku, ...availableToSell(channel.inventory, picture.positions.get(sku)!, picture.openReservations.get(sku)) });
    }
    // One statement: compares every figure with the stored one, and stores, under a new version, those that changed.
    const { rows: stored } = await sql.query<{ i: number; version: string; previous: string | null; now: string }>(
      `with v as (select * from unnest($1::text[], $2::text[], $3::bigint[], $4::jsonb[]) with ordinality as v(c, s, a, w, i)),
            changed as (
              select v.*, ca.available as previous from v
                join channel ch on ch.id = v.c -- a channel deleted since the list of channels was read is left out
                left join channel_availability ca on ca.channel_id = v.c and ca.sku = v.s
               where $5 or ca.available is distinct from v.a),
            up as (
              insert into channel_availability (channel_id, sku, available, by_warehouse, version, computed_at)
              select c, s, a, w, nextval('availability_version_seq'), clock_timestamp() from changed order by i
              on conflict (channel_id, sku) do update
                set available = excluded.available, by_warehouse = excluded.by_warehouse, version = excluded.version, computed_at = excluded.computed_at
              returning channel_id, sku, version)
       select changed.i::int as i, up.version, changed.previous,
              to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as now
         from up join changed on changed.c = up.channel_id and changed.s = up.sku order by changed.i`,
      [figures.map((f) => f.channel.id), figures.map((f) => f.sku), figures.map((f) => f.available), figures.map((f) => JSON.stringify(f.byWarehouse)), again],
    );
    if (stored.length === 0) return [];
    const now = stored[0]!.now;
    const changes = stored.map((row) => ({ ...figures[row.i - 1]!, version: Number(row.version), previous: row.previous === null ? undefined : Number(row.previous) }));
    const messages = changes.flatMap((change) => {
      // API channels read their figures; there is nothing to push to them.
      if (change.channel.kind === 'api') return [];
      const { version } = change;
      const shopify = change.channel.kind === 'shopify';
      const payload: AvailabilityChanged = { channelId: change.channel.id, sku: change.sku, available: change.available, version, asOf: now, ...(shopify ? { byWarehouse: change.byWarehouse } : {}) };
      const low = change.channel.inventory.lowStockThreshold ?? DEFAULT_LOW_STOCK;
      const crossesZero = (change.previous ?? 0) > 0 !== change.available > 0;
      return [{
        message: {
          type: AVAILABILITY_CHANGED, kind: 'state' as const, key: change.sku, version, payload: { ...payload },
          priority: crossesZero || change.available <= low ? URGENT_PRIORITY : 0,
          stateValue: shopify ? JSON.stringify(change.byWarehouse) : String(change.available),
        },
        destinations: [`channel:${change.channel.id}`],
      }];
    });
    await this.outbox.addMany(sql, messages);
    return changes.map(({ sku, available, byWarehouse, version }) => ({ sku, available, byWarehouse, version }));
  }
}
