import { Injectable } from '@nestjs/common';
import { Command, CommandHandler, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Sql } from '../../../../platform/database/transaction.js';
import { availableToSell } from '../../domain/available-to-sell.js';
import { SellableStockQuery, type ReservedLine, type SellableStock } from '../../queries/sellable-stock/sellable-stock.js';
import { AvailabilityPublisher } from '../availability-publisher.js';
import { lockSkus } from '../stock-locks.js';

/** An accepted order's line parts, held at once. */
export interface OrderReservation {
  orderId: string;
  lines: readonly ReservedLine[];
}

/**
 * Accepted orders hold their lines' stock, in the intake's transaction; `knownSkus`: the SKUs the same
 * transaction's SellableStockQuery found stock for (they are locked already).
 */
export class ReserveStockCommand extends Command<void> {
  constructor(
    readonly sql: Sql,
    readonly orders: readonly OrderReservation[],
    readonly knownSkus?: readonly string[],
  ) {
    super();
  }
}

/** The order will not ship (cancelled or rejected): its stock is available again, in the caller's transaction. */
export class EndStockReservationCommand extends Command<void> {
  constructor(
    readonly sql: Sql,
    readonly orderId: string,
    readonly reason: string,
  ) {
    super();
  }
}

/**
 * A shipment took these quantities of the order's SKUs (`shippedAt` null: the shipment was cancelled), in the
 * shipment's transaction. The parts it took stay reserved until the warehouse's first level from after
 * `shippedAt` counts the goods as gone; the same shipment again replaces what it marked before.
 */
export class ShipStockReservationCommand extends Command<void> {
  constructor(
    readonly sql: Sql,
    readonly orderId: string,
    readonly shipmentId: string,
    readonly lines: ReadonlyArray<{ sku: string; quantity: number }>,
    readonly shippedAt: Date | null,
  ) {
    super();
  }
}

/** The ERP has the order: its reservation lasts until the ERP's own figures include it. */
export class ConfirmStockReservationCommand extends Command<void> {
  constructor(
    readonly sql: Sql,
    readonly orderId: string,
  ) {
    super();
  }
}

/**
 * Crossdock's own reservations: an accepted order holds its lines' stock at once, so that every channel's
 * figure falls before the ERP has seen the order. Each ends exactly once: released when the order is
 * cancelled or rejected, or covered when a level newer than the ERP's confirmation arrives (docs/INVENTORY.md).
 */
@Injectable()
export class StockReservations {
  constructor(private readonly availability: AvailabilityPublisher) {}

  /** Takes the SKUs' locks, held until the caller's transaction ends. */
  async sellable(sql: Sql, skus: readonly string[]): Promise<SellableStock> {
    const locked = await lockSkus(sql, skus);
    const { positions, openReservations } = await this.availability.picture(sql, locked);
    const taken = new Map<string, Record<string, number>>();
    return {
      knownSkus: [...positions.keys()],
      forChannel: (rules, sku) => {
        const held = positions.get(sku);
        if (!held) return undefined;
        const open = { ...openReservations.get(sku) };
        for (const [warehouse, quantity] of Object.entries(taken.get(sku) ?? {})) open[warehouse] = (open[warehouse] ?? 0) + quantity;
        return availableToSell(rules, held, open).byWarehouse;
      },
      take: (lines) => {
        for (const line of lines) {
          const bySku = taken.get(line.sku) ?? {};
          bySku[line.warehouse] = (bySku[line.warehouse] ?? 0) + line.quantity;
          taken.set(line.sku, bySku);
        }
      },
    };
  }

  /** `knownSkus`: what the same transaction read before (its SKUs are locked): skips reading it again. */
  async reserve(sql: Sql, orders: readonly OrderReservation[], knownSkus?: readonly string[]): Promise<void> {
    const parts = orders.flatMap((o) => o.lines.filter((l) => l.quantity > 0).map((l) => ({ ...l, orderId: o.orderId })));
    if (parts.length === 0) return;
    const skus = knownSkus ? [...new Set(parts.map((l) => l.sku))] : await lockSkus(sql, parts.map((l) => l.sku));
    await sql.query(
      `insert into stock_reservation (order_id, sku, warehouse, quantity) select o, s, w, q from unnest($1::uuid[], $2::text[], $3::text[], $4::numeric[]) as x(o, s, w, q)`,
      [parts.map((l) => l.orderId), parts.map((l) => l.sku), parts.map((l) => l.warehouse), parts.map((l) => l.quantity)],
    );
    await this.availability.recompute(sql, skus, knownSkus ? new Set(knownSkus) : undefined);
  }

  /** The order is cancelled or rejected: its stock is available again. */
  async release(sql: Sql, orderId: string, reason: string): Promise<void> {
    const { rows } = await sql.query<{ sku: string }>('select distinct sku from stock_reservation where order_id = $1 and ended_at is null', [orderId]);
    if (rows.length === 0) return;
    const skus = await lockSkus(sql, rows.map((r) => r.sku));
    const ended = await sql.query('update stock_reservation set ended_at = clock_timestamp(), end_reason = $2 where order_id = $1 and ended_at is null', [orderId, reason]);
    if ((ended.rowCount ?? 0) > 0) await this.availability.recompute(sql, skus);
  }

  /** Marks the shipped parts of the order's open reservations, splitting a reservation a shipment took part of. */
  async ship(sql: Sql, orderId: string, shipmentId: string, lines: ReadonlyArray<{ sku: string; quantity: number }>, shippedAt: Date | null): Promise<void> {
    // The goods left when the shipment was first seen shipping; a later update (in transit, a new tracking number) does not move that.
    const { rows: [{ at }] } = await sql.query<{ at: Date | string }>(
      `with prior as (select min(shipped_at) as first from stock_reservation where order_id = $1 and shipment_id = $2 and ended_at is null),
            unmarked as (update stock_reservation set shipped_at = null, shipment_id = null where order_id = $1 and shipment_id = $2 and ended_at is null)
       select least(first, $3::timestamptz) as at from prior`,
      [orderId, shipmentId, shippedAt],
    );
    if (shippedAt === null || lines.length === 0) return;
    const { rows: open } = await sql.query<{ id: string; sku: string; quantity: number }>(
      `select id::text, sku, quantity::float8 as quantity from stock_reservation
        where order_id = $1 and ended_at is null and shipment_id is null and sku = any($2::text[]) order by id for update`,
      [orderId, [...new Set(lines.map((l) => l.sku))]],
    );
    const whole: string[] = [];
    const split: Array<{ id: string; taken: number }> = [];
    const left = new Map<string, number>();
    for (const line of lines) left.set(line.sku, (left.get(line.sku) ?? 0) + Math.round(line.quantity * 1000));
    for (const row of open) {
      const wanted = left.get(row.sku) ?? 0;
      if (wanted <= 0) continue;
      const quantity = Math.round(row.quantity * 1000);
      if (quantity <= wanted) whole.push(row.id);
      else split.push({ id: row.id, taken: wanted / 1000 });
      left.set(row.sku, wanted - Math.min(quantity, wanted));
    }
    // Marking whole reservations leaves every SKU's reserved total as it is: shipments of one SKU do not wait for
    // each other. Splitting one moves the totals (a row's quantity down, a new row's up), so it takes the SKUs'
    // locks, in their order, as every other writer of the totals does.
    if (split.length > 0) await lockSkus(sql, open.filter((row) => split.some((s) => s.id === row.id)).map((row) => row.sku));
    // One statement: whole reservations marked; a reservation shipped in part keeps the rest, and its shipped part becomes a row of its own.
    await sql.query(
      `with marked as (
         update stock_reservation set shipped_at = $1, shipment_id = $2 where id = any($3::bigint[])),
       parts as (
         update stock_reservation r set quantity = r.quantity - x.taken from unnest($4::bigint[], $5::numeric[]) as x(id, taken) where r.id = x.id
         returning r.order_id, r.sku, r.warehouse, x.taken, r.confirmed_at)
       insert into stock_reservation (order_id, sku, warehouse, quantity, confirmed_at, shipped_at, shipment_id)
       select order_id, sku, warehouse, taken, confirmed_at, $1, $2 from parts`,
      [at, shipmentId, whole, split.map((s) => s.id), split.map((s) => s.taken)],
    );
  }

  /** The ERP has the order: its reservation lasts until the ERP's own figures include it. */
  async confirm(sql: Sql, orderId: string): Promise<void> {
    await sql.query('update stock_reservation set confirmed_at = clock_timestamp() where order_id = $1 and ended_at is null and confirmed_at is null', [orderId]);
  }
}

@QueryHandler(SellableStockQuery)
export class SellableStockHandler implements IQueryHandler<SellableStockQuery, SellableStock> {
  constructor(private readonly reservations: StockReservations) {}

  execute({ sql, skus }: SellableStockQuery): Promise<SellableStock> {
    return this.reservations.sellable(sql, skus);
  }
}

@CommandHandler(ReserveStockCommand)
export class ReserveStockHandler implements ICommandHandler<ReserveStockCommand, void> {
  constructor(private readonly reservations: StockReservations) {}

  execute({ sql, orders, knownSkus }: ReserveStockCommand): Promise<void> {
    return this.reservations.reserve(sql, orders, knownSkus);
  }
}

@CommandHandler(EndStockReservationCommand)
export class EndStockReservationHandler implements ICommandHandler<EndStockReservationCommand, void> {
  constructor(private readonly reservations: StockReservations) {}

  execute({ sql, orderId, reason }: EndStockReservationCommand): Promise<void> {
    return this.reservations.release(sql, orderId, reason);
  }
}

@CommandHandler(ShipStockReservationCommand)
export class ShipStockReservationHandler implements ICommandHandler<ShipStockReservationCommand, void> {
  constructor(private readonly reservations: StockReservations) {}

  execute({ sql, orderId, shipmentId, lines, shippedAt }: ShipStockReservationCommand): Promise<void> {
    return this.reservations.ship(sql, orderId, shipmentId, lines, shippedAt);
  }
}

@CommandHandler(ConfirmStockReservationCommand)
export class ConfirmStockReservationHandler implements ICommandHandler<ConfirmStockReservationCommand, void> {
  constructor(private readonly reservations: StockReservations) {}

  execute({ sql, orderId }: ConfirmStockReservationCommand): Promise<void> {
    return this.reservations.confirm(sql, orderId);
  }
}
