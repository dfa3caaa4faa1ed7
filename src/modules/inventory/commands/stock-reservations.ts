import { Injectable } from '@nestjs/common';
import type { Sql } from '../../../platform/database/transaction.js';
import type { ChannelEntity } from '../../configuration/index.js';
import { availableToSell } from '../domain/available-to-sell.js';
import { AvailabilityPublisher } from './availability-publisher.js';
import { lockSkus } from './stock-locks.js';

/** What a channel may sell per SKU and warehouse (undefined: no stock known), and the SKUs with stock. */
export interface Sellable {
  lookup: (sku: string, warehouse: string) => number | undefined;
  knownSkus: ReadonlySet<string>;
}

/** A line part an order takes from a warehouse. */
export interface ReservedLine {
  sku: string;
  warehouse: string;
  quantity: number;
}

/**
 * Crossdock's own reservations: an accepted order holds its lines' stock at once, so that every channel's
 * figure falls before the ERP has seen the order. Each ends exactly once: released when the order is
 * cancelled or rejected, or covered when a level newer than the ERP's confirmation arrives (docs/INVENTORY.md).
 */
@Injectable()
export class StockReservations {
  constructor(private readonly availability: AvailabilityPublisher) {}

  /**
   * What the channel may sell of each SKU per warehouse, for the intake's split; undefined where no stock is
   * known. Takes the SKUs' locks, held until the intake commits its reservations.
   */
  async sellable(sql: Sql, channel: ChannelEntity, skus: readonly string[]): Promise<Sellable> {
    const locked = await lockSkus(sql, skus);
    const picture = await this.availability.picture(sql, locked);
    const figures = new Map<string, Record<string, number>>();
    for (const [sku, positions] of picture.positions) figures.set(sku, availableToSell(channel.inventory, positions, picture.openReservations.get(sku)).byWarehouse);
    return { lookup: (sku, warehouse) => figures.get(sku)?.[warehouse] ?? (figures.has(sku) ? 0 : undefined), knownSkus: new Set(figures.keys()) };
  }

  /** `sellable`: what the same transaction read before (its SKUs are locked): skips reading it again. */
  async reserve(sql: Sql, orderId: string, lines: readonly ReservedLine[], sellable?: Sellable): Promise<void> {
    const parts = lines.filter((l) => l.quantity > 0);
    if (parts.length === 0) return;
    const skus = sellable ? [...new Set(parts.map((l) => l.sku))] : await lockSkus(sql, parts.map((l) => l.sku));
    await sql.query(
      `insert into stock_reservation (order_id, sku, warehouse, quantity) select $1, s, w, q from unnest($2::text[], $3::text[], $4::numeric[]) as x(s, w, q)`,
      [orderId, parts.map((l) => l.sku), parts.map((l) => l.warehouse), parts.map((l) => l.quantity)],
    );
    await this.availability.recompute(sql, skus, sellable?.knownSkus);
  }

  /** The order is cancelled or rejected: its stock is available again. */
  async release(sql: Sql, orderId: string, reason: string): Promise<void> {
    const { rows } = await sql.query<{ sku: string }>('select distinct sku from stock_reservation where order_id = $1 and ended_at is null', [orderId]);
    if (rows.length === 0) return;
    const skus = await lockSkus(sql, rows.map((r) => r.sku));
    const ended = await sql.query('update stock_reservation set ended_at = clock_timestamp(), end_reason = $2 where order_id = $1 and ended_at is null', [orderId, reason]);
    if ((ended.rowCount ?? 0) > 0) await this.availability.recompute(sql, skus);
  }

  /** The ERP has the order: its reservation lasts until the ERP's own figures include it. */
  async confirm(sql: Sql, orderId: string): Promise<void> {
    await sql.query('update stock_reservation set confirmed_at = clock_timestamp() where order_id = $1 and ended_at is null and confirmed_at is null', [orderId]);
  }
}
