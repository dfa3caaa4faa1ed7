import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { DeliveredStates } from '../../../platform/delivery/delivered-states.js';

/** Stock as operators and channels read it; a channel only ever sees its own figures. */
@Injectable()
export class InventoryQuery {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly delivered: DeliveredStates,
  ) {}

  async sku(sku: string) {
    const [positions, reservations, channels] = await Promise.all([
      this.pool.query(
        `select warehouse, on_hand::float8 as "onHand", reserved::float8 as reserved, ordering, sequence::text as sequence, occurred_at as "occurredAt",
                source, updated_at as "updatedAt" from stock_position where sku = $1 order by warehouse`, [sku],
      ),
      this.pool.query(
        `select order_id as "orderId", warehouse, quantity::float8 as quantity, created_at as "createdAt", confirmed_at as "confirmedAt"
           from stock_reservation where sku = $1 and ended_at is null order by id`, [sku],
      ),
      this.pool.query<{ channelId: string; available: number; byWarehouse: Record<string, number>; version: number; computedAt: Date }>(
        `select channel_id as "channelId", available::int as available, by_warehouse as "byWarehouse", version::int as version, computed_at as "computedAt"
           from channel_availability where sku = $1 order by channel_id`, [sku],
      ),
    ]);
    if (positions.rows.length === 0 && reservations.rows.length === 0) return undefined;
    const published = await this.delivered.of(sku, channels.rows.map((c) => `channel:${c.channelId}`));
    return {
      sku,
      positions: positions.rows,
      openReservations: reservations.rows,
      channels: channels.rows.map((channel) => {
        const last = published.get(`channel:${channel.channelId}`);
        return { ...channel, publishedAvailable: last ? publishedFigure(last.value) : null, publishedVersion: last?.version ?? null, publishedAt: last?.deliveredAt ?? null };
      }),
    };
  }

  async availability(channelId: string, skus: string[]) {
    const { rows } = await this.pool.query<{ sku: string; available: number; version: number; asOf: string }>(
      `select sku, available::int as available, version::int as version, computed_at as "asOf" from channel_availability where channel_id = $1 and sku = any($2::text[])`,
      [channelId, skus],
    );
    const bySku = new Map(rows.map((r) => [r.sku, r]));
    // A SKU of which no stock is known reads as 0, marked unknown.
    return skus.map((sku) => bySku.get(sku) ?? { sku, available: 0, version: null, asOf: null, unknown: true });
  }
}

/** The figure a channel was sent, from its state value: the number, or a store's quantities per location summed. */
function publishedFigure(value: string | null): number | null {
  if (value === null) return null;
  if (!value.startsWith('{')) return Number(value);
  return Object.values(JSON.parse(value) as Record<string, number>).reduce((sum, quantity) => sum + quantity, 0);
}
