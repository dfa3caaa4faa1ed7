import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Sql } from '../../../../platform/database/transaction.js';

/** How a shipment names its order: Crossdock's id, the channel's order id, or the ERP's reference. */
export interface OrderReference {
  orderId?: string;
  channelOrderId?: string;
  erpOrderRef?: string;
}

/** An order as its shipments see it, its lines one per line id (a line split over warehouses counts whole). */
export interface OrderForShipment {
  orderId: string;
  channelId: string;
  channelOrderId: string;
  status: string;
  /** Crossdock's reference, which the ERP keeps as the order's external document number. */
  reference: string;
  /** The ERP backend the order went to, and the ERP's number for it once confirmed. */
  erpBackendId: string | null;
  erpOrderRef: string | null;
  lines: Array<{ lineId: string; sku: string; quantity: number }>;
}

/**
 * The order a shipment names, locked for the shipment's transaction; `ambiguous` when a channel order id is
 * used by orders of several channels (the shipment must name it another way).
 */
export class OrderForShipmentQuery extends Query<{ order?: OrderForShipment; ambiguous?: number }> {
  constructor(
    readonly sql: Sql,
    readonly reference: OrderReference,
  ) {
    super();
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@QueryHandler(OrderForShipmentQuery)
export class OrderForShipmentHandler implements IQueryHandler<OrderForShipmentQuery, { order?: OrderForShipment; ambiguous?: number }> {
  async execute({ sql, reference }: OrderForShipmentQuery): Promise<{ order?: OrderForShipment; ambiguous?: number }> {
    const [column, value] = reference.orderId !== undefined
      ? ['id', UUID.test(reference.orderId) ? reference.orderId : null]
      : reference.channelOrderId !== undefined ? ['channel_order_id', reference.channelOrderId] : ['erp_order_ref', reference.erpOrderRef ?? null];
    if (value === null) return {};
    const { rows } = await sql.query<{ id: string; channel_id: string; channel_order_id: string; status: string; reference: string; erp_backend_id: string | null; erp_order_ref: string | null }>(
      `select id, channel_id, channel_order_id, status, reference, erp_backend_id, erp_order_ref from sales_order where ${column} = $1 order by id limit 3 for update`,
      [value],
    );
    if (rows.length === 0) return {};
    if (rows.length > 1) return { ambiguous: rows.length };
    const [order] = rows as [(typeof rows)[0]];
    const { rows: lines } = await sql.query<{ line_id: string; sku: string; quantity: number }>(
      `select line_id, min(sku) as sku, sum(quantity)::float8 as quantity from sales_order_line where order_id = $1 group by line_id order by min(position)`,
      [order.id],
    );
    return {
      order: {
        orderId: order.id, channelId: order.channel_id, channelOrderId: order.channel_order_id, status: order.status,
        reference: order.reference, erpBackendId: order.erp_backend_id, erpOrderRef: order.erp_order_ref, lines: lines.map((l) => ({ lineId: l.line_id, sku: l.sku, quantity: l.quantity })),
      },
    };
  }
}
