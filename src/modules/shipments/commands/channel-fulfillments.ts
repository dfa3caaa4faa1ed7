import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import type { Sql } from '../../../platform/database/transaction.js';
import { Destinations, type DeliveryOutcome } from '../../../platform/delivery/destinations.js';
import { TargetError } from '../../../platform/delivery/outcome.js';
import { IntegrationEvents } from '../../../platform/outbox/integration-events.js';
import { LOGGER } from '../../../platform/observability/observability.module.js';
import type { Logger } from '../../../platform/observability/logger.js';
import { ChannelFulfillmentReported } from '../../orders/index.js';
import { SHIPMENT_CREATED, SHIPMENT_UPDATED } from '../events/shipment-changed.js';
import { ShipmentIntake } from './shipment-intake.js';

/**
 * A store's fulfillments against Crossdock's shipments. When a shipment's delivery to a store settles, the store's
 * fulfillments that are the shipment's are recorded (in the settling transaction). A fulfillment the store then
 * reports (Shopify's `fulfillments/create` webhook) is ours when it is recorded so, or carries the tracking number
 * of one of the order's shipments; while a shipment of the order has not settled with the store yet, the report
 * waits (retried) rather than be taken for a merchant's. Any other is a merchant's fulfillment in the store: it is
 * applied as a shipment from that store, which is never sent back to it.
 */
@Injectable()
export class ChannelFulfillments implements OnModuleInit {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly destinations: Destinations,
    private readonly events: IntegrationEvents,
    private readonly intake: ShipmentIntake,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    for (const type of [SHIPMENT_CREATED, SHIPMENT_UPDATED]) this.destinations.onOutcome(type, (tx, outcome) => this.settled(tx, outcome));
    this.events.subscribe('shipments', ChannelFulfillmentReported, (event) => this.reported(event));
  }

  private async settled(tx: Sql, outcome: DeliveryOutcome): Promise<void> {
    const result = outcome.result as { shipmentId?: string; fulfillmentIds?: string[] } | undefined;
    if (outcome.event !== 'delivered' || !result?.shipmentId || !outcome.delivery.destination.startsWith('channel:')) return;
    const channelId = outcome.delivery.destination.slice('channel:'.length);
    await tx.query('insert into shipment_channel_sync (shipment_id, channel_id) values ($1, $2) on conflict do nothing', [result.shipmentId, channelId]);
    await tx.query(
      `insert into shipment_channel_fulfillment (channel_id, fulfillment_id, shipment_id)
       select $1, f, $2 from unnest($3::text[]) as f on conflict do nothing`,
      [channelId, result.shipmentId, result.fulfillmentIds ?? []],
    );
  }

  private async reported(event: ChannelFulfillmentReported): Promise<void> {
    const { rows: [known] } = await this.pool.query<{ shipment_id: string }>(
      'select shipment_id from shipment_channel_fulfillment where channel_id = $1 and fulfillment_id = $2', [event.channelId, event.fulfillmentId],
    );
    if (known || event.status === 'error' || event.status === 'failure') return;
    // The order's shipments from elsewhere than this store: one with the same tracking number is this one.
    const { rows: shipments } = await this.pool.query<{ id: string; tracking_number: string | null; synced: boolean }>(
      `select s.id, s.tracking_number, exists (select 1 from shipment_channel_sync y where y.shipment_id = s.id and y.channel_id = $1) as synced
         from shipment s join sales_order o on o.id = s.order_id
        where o.channel_id = $1 and o.channel_order_id = $2 and s.source <> $3 and s.status <> 'cancelled'`,
      [event.channelId, event.channelOrderId, `shopify:${event.channelId}`],
    );
    const same = shipments.find((s) => event.trackingNumber !== null && s.tracking_number === event.trackingNumber);
    if (same) {
      await this.pool.query('insert into shipment_channel_fulfillment (channel_id, fulfillment_id, shipment_id) values ($1, $2, $3) on conflict do nothing', [event.channelId, event.fulfillmentId, same.id]);
      return;
    }
    const unsettled = shipments.filter((s) => !s.synced);
    if (unsettled.length > 0) throw new TargetError('retryable', `shipment ${unsettled[0]!.id} of the order is still on its way to the store: the fulfillment may be its own`);
    const outcome = await this.intake.receive(`shopify:${event.channelId}`, {
      eventId: `${event.fulfillmentId}|${event.status}|${event.trackingNumber ?? ''}`,
      channelOrderId: event.channelOrderId,
      shipmentId: `shopify:${event.channelId}:${event.fulfillmentId.split('/').pop()}`,
      status: event.status === 'cancelled' ? 'cancelled' : 'shipped',
      ...(event.carrier ? { carrier: event.carrier } : {}),
      ...(event.trackingNumber ? { trackingNumber: event.trackingNumber } : {}),
      ...(event.trackingUrl ? { trackingUrl: event.trackingUrl } : {}),
      lines: event.lines.map((l) => ({ ...l })),
      occurredAt: event.occurredAt,
    });
    this.logger.info({ channelId: event.channelId, fulfillmentId: event.fulfillmentId, outcome: outcome.outcome }, "a store's own fulfillment applied as a shipment");
  }
}
