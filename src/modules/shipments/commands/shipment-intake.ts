import { Inject, Injectable } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { inTransaction, type Sql } from '../../../platform/database/transaction.js';
import { unfinished } from '../../../platform/delivery/chain.js';
import { Inbox } from '../../../platform/inbox/inbox.js';
import { currentCorrelationId } from '../../../platform/observability/correlation.js';
import { Outbox } from '../../../platform/outbox/outbox.js';
import { ChannelsQuery, ErpBackendQuery } from '../../configuration/index.js';
import { ERP_MESSAGE_TYPES, type ErpShipment } from '../../../connectors/erp/erp-contract.js';
import { ShipStockReservationCommand } from '../../inventory/index.js';
import { EntityIdsQuery, ErpRouteQuery, type EntityIds } from '../../migration-coexistence/index.js';
import { OrderForShipmentQuery, RecordShippingCommand, type OrderForShipment } from '../../orders/index.js';
import { matchLines, shippingStatus } from '../domain/matching.js';
import { SHIPMENT_CREATED, SHIPMENT_UPDATED, type ShipmentChanged, type ShipmentForStore } from '../events/shipment-changed.js';

/** A shipment event as the warehouse or the ERP reports it (the contract's fields). */
export interface ShipmentEvent {
  eventId: string;
  orderId?: string;
  channelOrderId?: string;
  erpOrderRef?: string;
  shipmentId: string;
  status: 'shipped' | 'in_transit' | 'delivered' | 'cancelled';
  carrier?: string;
  trackingNumber?: string;
  trackingUrl?: string;
  lines: Array<{ sku: string; quantity: number; lineId?: string }>;
  occurredAt: string;
}

/** What the intake decided of an applied event, as the channels hear it. */
interface Announced {
  source: string;
  lines: ShipmentChanged['lines'];
  partial: boolean;
  created: boolean;
  previousTrackingNumber: string | null;
  /** Per order line, what every shipment of the order that is not cancelled has shipped, this one included. */
  shipped: Map<string, number>;
}

/** `parked`: kept, and applied when it can: its order arrives, or an operator retries it after a fix (`reason`). */
export type ShipmentOutcome = { outcome: 'applied' | 'duplicate' | 'stale' } | { outcome: 'parked'; reason: string; exception: boolean };

/**
 * Shipments in: each event once (the inbox, by source and event id), in the order it happened per shipment (an
 * older `occurredAt` is stale), matched to its order's lines. The shipment, the order's status and the
 * `shipment.created` / `shipment.updated` event to the order's channel are written in one transaction. An
 * event whose order is not known yet is parked and applied when it is; one that can never apply as it is (a
 * line the order does not have, more than is left to ship) is held as an exception with its reason.
 */
@Injectable()
export class ShipmentIntake {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly inbox: Inbox,
    private readonly outbox: Outbox,
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
  ) {}

  receive(source: string, event: ShipmentEvent): Promise<ShipmentOutcome> {
    return inTransaction(this.pool, async (tx) => {
      if (!(await this.inbox.accept(tx, source, event.eventId))) return { outcome: 'duplicate' };
      const outcome = await this.apply(tx, source, event);
      if (outcome.outcome === 'parked') await this.hold(tx, source, event, outcome);
      return outcome;
    });
  }

  /**
   * Applies a held event again; answers what became of it (a parked one stays held, its attempt counted).
   * `record`: what the caller writes with the outcome, in the same transaction (an operator's retry is audited).
   * `corrected`: an operator's fix of the event, applied and kept in its place. `kind`: only a hold of that kind.
   */
  async retry(holdId: string, record?: (tx: Sql, outcome: ShipmentOutcome) => Promise<void>, corrected?: ShipmentEvent, kind?: 'exception'): Promise<ShipmentOutcome | undefined> {
    return inTransaction(this.pool, async (tx) => {
      const { rows: [held] } = await tx.query<{ source: string; event: ShipmentEvent }>(
        `select source, event from shipment_hold where id = $1 and resolved_at is null and ($2::text is null or kind = $2) for update skip locked`, [holdId, kind ?? null],
      );
      if (!held) return undefined;
      // A corrected event keeps the held one's id: it is the same event, fixed.
      const event = corrected ? { ...corrected, eventId: held.event.eventId } : held.event;
      if (corrected) await tx.query('update shipment_hold set event = $2, shipment_id = $3 where id = $1', [holdId, JSON.stringify(event), event.shipmentId]);
      const outcome = await this.apply(tx, held.source, event);
      if (outcome.outcome === 'parked') {
        await tx.query(`update shipment_hold set kind = $2, reason = $3, attempts = attempts + 1, last_tried_at = clock_timestamp() where id = $1`, [
          holdId, outcome.exception ? 'exception' : 'parked', outcome.reason,
        ]);
      } else {
        await tx.query(`update shipment_hold set resolved_at = clock_timestamp(), resolution = $2, attempts = attempts + 1, last_tried_at = clock_timestamp() where id = $1`, [holdId, outcome.outcome]);
      }
      await record?.(tx, outcome);
      return outcome;
    });
  }

  private async apply(tx: Sql, source: string, event: ShipmentEvent): Promise<ShipmentOutcome> {
    const { order, ambiguous } = await this.queries.execute(new OrderForShipmentQuery(tx, event));
    const named = event.orderId ?? event.channelOrderId ?? event.erpOrderRef;
    if (ambiguous) return { outcome: 'parked', exception: true, reason: `channelOrderId ${named} is used by ${ambiguous} orders of different channels; name the order by orderId or erpOrderRef` };
    if (!order) return { outcome: 'parked', exception: false, reason: `order ${named} is not known yet` };
    const occurredAt = new Date(event.occurredAt);
    const { rows: [existing] } = await tx.query<{ order_id: string; stale: boolean; tracking_number: string | null }>(
      'select order_id, $2::timestamptz < occurred_at as stale, tracking_number from shipment where id = $1 for update', [event.shipmentId, occurredAt],
    );
    if (existing && existing.order_id !== order.orderId) {
      return { outcome: 'parked', exception: true, reason: `shipment ${event.shipmentId} belongs to order ${existing.order_id}, not to ${order.orderId}` };
    }
    if (existing?.stale) return { outcome: 'stale' };
    const shippedBefore = await this.shippedByOthers(tx, order.orderId, event.shipmentId);
    const match = event.status === 'cancelled' ? { ok: true as const, lines: await this.linesOf(tx, event.shipmentId, event.lines) } : matchLines(order.lines, shippedBefore, event.lines);
    if (!match.ok) return { outcome: 'parked', exception: true, reason: match.reason };

    const correlationId = currentCorrelationId() ?? `shipment:${event.shipmentId}`;
    await tx.query(
      `insert into shipment (id, source, order_id, status, carrier, tracking_number, tracking_url, occurred_at, correlation_id)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       on conflict (id) do update set status = excluded.status, carrier = coalesce(excluded.carrier, shipment.carrier),
         tracking_number = coalesce(excluded.tracking_number, shipment.tracking_number), tracking_url = coalesce(excluded.tracking_url, shipment.tracking_url),
         occurred_at = excluded.occurred_at, version = shipment.version + 1, updated_at = clock_timestamp()`,
      [event.shipmentId, source, order.orderId, event.status, event.carrier ?? null, event.trackingNumber ?? null, event.trackingUrl ?? null, occurredAt, correlationId],
    );
    await tx.query('delete from shipment_line where shipment_id = $1', [event.shipmentId]);
    await tx.query(
      `insert into shipment_line (shipment_id, position, line_id, sku, quantity) select $1, n - 1, l, s, q from unnest($2::text[], $3::text[], $4::numeric[]) with ordinality as x(l, s, q, n)`,
      [event.shipmentId, match.lines.map((l) => l.lineId), match.lines.map((l) => l.sku), match.lines.map((l) => l.quantity)],
    );

    // The shipped quantities stay reserved until the warehouse's next level counts them as gone.
    const cancelled = event.status === 'cancelled';
    await this.commands.execute(new ShipStockReservationCommand(tx, order.orderId, event.shipmentId, cancelled ? [] : match.lines, cancelled ? null : occurredAt));
    const shipped = new Map(shippedBefore);
    if (event.status !== 'cancelled') for (const line of match.lines) shipped.set(line.lineId, (shipped.get(line.lineId) ?? 0) + line.quantity);
    const status = shippingStatus(order.lines, shipped);
    if (status !== 'unshipped') await this.commands.execute(new RecordShippingCommand(tx, order.orderId, status, `shipment ${event.shipmentId} ${event.status}`));
    const shipment = { source, lines: match.lines, partial: status !== 'shipped', created: existing === undefined, previousTrackingNumber: existing?.tracking_number ?? null, shipped };
    await this.announce(tx, order, event, shipment, correlationId);
    await this.postToErp(tx, order, event, shipment, correlationId);
    return { outcome: 'applied' };
  }

  /**
   * The order's channel hears of the shipment: a webhook channel as a `shipment.created` / `shipment.updated`
   * event, a Shopify store as fulfillments (in order per order, so that each reads what the one before fulfilled;
   * never back to the store it came from). So does every webhook subscriber that asked for the event type for all
   * orders (`config.subscribe`).
   */
  private async announce(tx: Sql, order: OrderForShipment, event: ShipmentEvent, shipment: Announced, correlationId: string): Promise<void> {
    const type = shipment.created ? SHIPMENT_CREATED : SHIPMENT_UPDATED;
    const channels = await this.queries.execute(new ChannelsQuery(tx));
    const payload: ShipmentChanged = {
      orderId: order.orderId, channelOrderId: order.channelOrderId, shipmentId: event.shipmentId, status: event.status,
      carrier: event.carrier ?? null, trackingNumber: event.trackingNumber ?? null, trackingUrl: event.trackingUrl ?? null, lines: shipment.lines, partial: shipment.partial,
    };
    const webhooks = channels
      .filter((c) => c.kind === 'webhook' && (c.id === order.channelId || ((c.config.subscribe as string[] | undefined) ?? []).includes(type)))
      .map((c) => `channel:${c.id}`);
    if (webhooks.length > 0) await this.outbox.add(tx, { type, kind: 'command', key: event.shipmentId, payload: { ...payload }, correlationId }, webhooks);
    const store = channels.find((c) => c.kind === 'shopify' && c.id === order.channelId && shipment.source !== `shopify:${c.id}`);
    if (!store) return;
    const skuOf = new Map(order.lines.map((l) => [l.lineId, l.sku]));
    const forStore: ShipmentForStore = {
      ...payload, previousTrackingNumber: shipment.previousTrackingNumber,
      shippedTotals: [...shipment.shipped].filter(([, quantity]) => quantity > 0).map(([lineId, quantity]) => ({ lineId, sku: skuOf.get(lineId) ?? '', quantity })),
    };
    await this.outbox.add(tx, { type, kind: 'command', key: order.orderId, payload: { ...forStore }, correlationId }, [`channel:${store.id}`]);
  }

  /**
   * The ERP hears of a shipment that comes from elsewhere (the warehouse, a store) when the order's backend says
   * `erpPosting: ship`: a command in the order's own chain, so after its create. The connector posts only what the
   * ERP does not hold as shipped yet (`shippedTotals`), so the same shipment again posts nothing. A cancelled
   * shipment is not posted: reversing a posted shipment is a person's decision in the ERP. Each backend is sent its
   * own id and number of the order from the cross-reference, so that its connector reads the order by them. While
   * shipments are routed in shadow mode, the shadow is sent the same posting in its own chain (see shadowOf), and
   * both answers go to the coexistence report (`coexistenceRole`).
   */
  private async postToErp(tx: Sql, order: OrderForShipment, event: ShipmentEvent, shipment: Announced, correlationId: string): Promise<void> {
    if (!order.erpBackendId || shipment.source === `erp:${order.erpBackendId}` || event.status === 'cancelled') return;
    const backend = await this.queries.execute(new ErpBackendQuery(order.erpBackendId, tx));
    if (backend?.erpPosting !== 'ship') return;
    const bySku = new Map<string, number>();
    const skuOf = new Map(order.lines.map((l) => [l.lineId, l.sku]));
    for (const [lineId, quantity] of shipment.shipped) {
      const sku = skuOf.get(lineId);
      if (sku !== undefined) bySku.set(sku, (bySku.get(sku) ?? 0) + quantity);
    }
    const ids = (await this.queries.execute(new EntityIdsQuery(tx, 'order', { canonicalId: order.orderId })))?.backends ?? {};
    const posting = (backendId: string, erpOrderRef: string | null): ErpShipment => ({
      shipmentId: event.shipmentId, externalDocumentNumber: order.reference, erpOrderRef, erpOrderId: ids[backendId]?.erpId ?? null,
      carrier: event.carrier ?? null, trackingNumber: event.trackingNumber ?? null, shippedAt: event.occurredAt,
      lines: shipment.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
      shippedTotals: [...bySku].map(([sku, quantity]) => ({ sku, quantity })),
    });
    const shadow = await this.shadowOf(tx, order.orderId, order.erpBackendId, ids);
    const message = (payload: ErpShipment, role?: 'primary' | 'shadow') => ({
      type: ERP_MESSAGE_TYPES.postShipment, kind: 'command' as const, key: order.orderId, payload: { ...payload, ...(role ? { coexistenceRole: role } : {}) }, correlationId,
    });
    await this.outbox.addMany(tx, [
      { message: message(posting(order.erpBackendId, order.erpOrderRef ?? ids[order.erpBackendId]?.erpRef ?? null), shadow ? 'primary' : undefined), destinations: [`erp:${order.erpBackendId}`] },
      // The shadow's own number of the order, never the primary's: the two ERPs number their orders apart.
      ...(shadow ? [{ message: message(posting(shadow, ids[shadow]?.erpRef ?? null), 'shadow'), destinations: [`erp:${shadow}`] }] : []),
    ]);
    await tx.query(`update shipment set erp_posting = 'pending' where id = $1`, [event.shipmentId]);
  }

  /**
   * The backend a posting is shadowed in: while shipments are routed in shadow mode, their shadow, when it is not the
   * order's own backend, takes postings (`erpPosting: ship`), and has the order (the cross-reference knows it there,
   * or its create is on its way there: the posting follows it in the order's chain).
   */
  private async shadowOf(tx: Sql, orderId: string, orderBackendId: string, ids: EntityIds['backends']): Promise<string | undefined> {
    const route = await this.queries.execute(new ErpRouteQuery('shipments', tx));
    const shadow = route?.shadow;
    if (!shadow || shadow === orderBackendId) return undefined;
    if ((await this.queries.execute(new ErpBackendQuery(shadow, tx)))?.erpPosting !== 'ship') return undefined;
    if (ids[shadow]) return shadow;
    const { rows } = await tx.query(
      `select 1 from outbox o where o.destination = $1 and o.key = $2 and o.type = $3 and ${unfinished('o')} and o.status <> 'dead' limit 1`,
      [`erp:${shadow}`, orderId, ERP_MESSAGE_TYPES.createSalesOrder],
    );
    return rows.length > 0 ? shadow : undefined;
  }

  /** Per order line, what the order's other shipments (not cancelled) shipped. */
  private async shippedByOthers(tx: Sql, orderId: string, shipmentId: string): Promise<Map<string, number>> {
    const { rows } = await tx.query<{ line_id: string; quantity: number }>(
      `select l.line_id, sum(l.quantity)::float8 as quantity from shipment s join shipment_line l on l.shipment_id = s.id
        where s.order_id = $1 and s.id <> $2 and s.status <> 'cancelled' group by l.line_id`,
      [orderId, shipmentId],
    );
    return new Map(rows.map((r) => [r.line_id, r.quantity]));
  }

  /** A cancelled shipment keeps the lines it had (or, never seen before, none). */
  private async linesOf(tx: Sql, shipmentId: string, fallback: ShipmentEvent['lines']): Promise<ShipmentChanged['lines']> {
    const { rows } = await tx.query<{ line_id: string; sku: string; quantity: number }>('select line_id, sku, quantity::float8 as quantity from shipment_line where shipment_id = $1 order by position', [shipmentId]);
    return rows.length > 0 ? rows.map((r) => ({ lineId: r.line_id, sku: r.sku, quantity: r.quantity })) : fallback.filter((l) => l.lineId !== undefined).map((l) => ({ lineId: l.lineId!, sku: l.sku, quantity: l.quantity }));
  }

  private async hold(tx: Sql, source: string, event: ShipmentEvent, outcome: Extract<ShipmentOutcome, { outcome: 'parked' }>): Promise<void> {
    await tx.query(
      `insert into shipment_hold (source, event_id, shipment_id, kind, reason, event, correlation_id) values ($1, $2, $3, $4, $5, $6::jsonb, $7)`,
      [source, event.eventId, event.shipmentId, outcome.exception ? 'exception' : 'parked', outcome.reason, JSON.stringify(event), currentCorrelationId() ?? `shipment:${event.shipmentId}`],
    );
  }
}
