import { Inject, Injectable } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';

/** A shipment as the API shows it. */
export interface ShipmentView {
  shipmentId: string;
  orderId: string;
  channelOrderId: string;
  status: string;
  carrier: string | null;
  trackingNumber: string | null;
  trackingUrl: string | null;
  occurredAt: string;
  version: number;
  lines: Array<{ lineId: string; sku: string; quantity: number }>;
}

/** The shipments of an order, oldest first (for `GET /v1/orders/{orderId}`). */
export class ShipmentsOfOrderQuery extends Query<ShipmentView[]> {
  constructor(readonly orderId: string) {
    super();
  }
}

const SELECT = `select s.id as "shipmentId", s.order_id as "orderId", o.channel_order_id as "channelOrderId", s.status, s.carrier,
         s.tracking_number as "trackingNumber", s.tracking_url as "trackingUrl", s.occurred_at as "occurredAt", s.version,
         coalesce((select json_agg(json_build_object('lineId', l.line_id, 'sku', l.sku, 'quantity', l.quantity::float8) order by l.position)
                     from shipment_line l where l.shipment_id = s.id), '[]') as lines
    from shipment s join sales_order o on o.id = s.order_id`;

@Injectable()
export class Shipments {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** `owner`: a channel sees the shipments of its own orders, a source those it reported; none for the admin token. */
  async byId(shipmentId: string, owner?: { channelId: string } | { source: string }): Promise<ShipmentView | undefined> {
    const [clause, value] = owner === undefined ? ['$2::text is null', null] : 'channelId' in owner ? ['o.channel_id = $2', owner.channelId] : ['s.source = $2', owner.source];
    const { rows: [shipment] } = await this.pool.query<ShipmentView>(`${SELECT} where s.id = $1 and ${clause}`, [shipmentId, value]);
    return shipment;
  }

  async ofOrder(orderId: string): Promise<ShipmentView[]> {
    return (await this.pool.query<ShipmentView>(`${SELECT} where s.order_id = $1 order by s.created_at, s.id`, [orderId])).rows;
  }
}

@QueryHandler(ShipmentsOfOrderQuery)
export class ShipmentsOfOrderHandler implements IQueryHandler<ShipmentsOfOrderQuery, ShipmentView[]> {
  constructor(private readonly shipments: Shipments) {}

  execute({ orderId }: ShipmentsOfOrderQuery): Promise<ShipmentView[]> {
    return this.shipments.ofOrder(orderId);
  }
}
