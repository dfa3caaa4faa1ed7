import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';

export interface OrderView {
  orderId: string;
  channelId: string;
  channelOrderId: string;
  reference: string;
  status: string;
  statusReason: string | null;
  /** Why the order is on hold: `credit-limit` or `price-mismatch`. */
  holdReason: string | null;
  /** The lines whose unit price differed from the effective price when the order came in (flagged or held). */
  priceMismatch: unknown[] | null;
  customer: { accountNumber: string; verified: boolean };
  currency: string;
  total: number;
  shipTo: Record<string, unknown>;
  requestedShipDate: string | null;
  notes: string | null;
  erpBackendId: string;
  erpOrderRef: string | null;
  lines: Array<{ lineId: string; sku: string; quantity: number; unitPrice: number; warehouse: string | null; backordered: boolean }>;
  history: Array<{ status: string; reason: string | null; at: Date }>;
  shipments: unknown[];
  cancellation: { requestedAt: Date | null; refusedReason: string | null } | null;
  correlationId: string;
  createdAt: Date;
  updatedAt: Date;
}

export type OrderSummary = Pick<OrderView, 'orderId' | 'channelId' | 'channelOrderId' | 'reference' | 'status' | 'statusReason' | 'holdReason' | 'currency' | 'total' | 'erpBackendId' | 'erpOrderRef' | 'correlationId' | 'createdAt' | 'updatedAt'> & { accountNumber: string };

const VIEW = `
  select o.id as "orderId", o.channel_id as "channelId", o.channel_order_id as "channelOrderId", o.reference, o.status,
         o.status_reason as "statusReason", o.hold_reason as "holdReason", o.price_mismatch as "priceMismatch", jsonb_build_object('accountNumber', o.customer_account, 'verified', o.customer_verified) as customer,
         o.currency, o.total::float8 as total, o.ship_to as "shipTo", to_char(o.requested_ship_date, 'YYYY-MM-DD') as "requestedShipDate", o.notes,
         o.erp_backend_id as "erpBackendId", o.erp_order_ref as "erpOrderRef",
         (select coalesce(jsonb_agg(jsonb_build_object('lineId', l.line_id, 'sku', l.sku, 'quantity', l.quantity, 'unitPrice', l.unit_price,
                   'warehouse', l.warehouse, 'backordered', l.backordered) order by l.position), '[]') from sales_order_line l where l.order_id = o.id) as lines,
         (select coalesce(jsonb_agg(jsonb_build_object('status', h.status, 'reason', h.reason, 'at', h.at) order by h.id), '[]') from sales_order_status h where h.order_id = o.id) as history,
         case when o.cancel_requested_at is not null or o.cancel_refused_reason is not null
              then jsonb_build_object('requestedAt', o.cancel_requested_at, 'refusedReason', o.cancel_refused_reason) end as cancellation,
         o.correlation_id as "correlationId", o.created_at as "createdAt", o.updated_at as "updatedAt"
    from sales_order o`;

/** Orders as channels and operators read them; a channel is only ever shown its own. */
@Injectable()
export class OrderQuery {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** `channelId` undefined: any channel's (operators). */
  async byId(orderId: string, channelId?: string): Promise<OrderView | undefined> {
    const { rows: [row] } = await this.pool.query(`${VIEW} where o.id = $1 and ($2::text is null or o.channel_id = $2)`, [orderId, channelId ?? null]);
    return row && toView(row);
  }

  /**
   * The newest orders first, optionally of one status and one channel, a page at a time (the cursor is the last
   * reference number of the page before): what an operator scans for what needs attention.
   */
  async list(filter: { status?: string; channelId?: string }, limit: number, before?: string): Promise<{ items: OrderSummary[]; nextCursor: string | null }> {
    const { rows } = await this.pool.query<OrderSummary>(
      `select o.id as "orderId", o.channel_id as "channelId", o.channel_order_id as "channelOrderId", o.reference, o.status,
              o.status_reason as "statusReason", o.hold_reason as "holdReason", o.customer_account as "accountNumber", o.currency,
              o.total::float8 as total, o.erp_backend_id as "erpBackendId", o.erp_order_ref as "erpOrderRef",
              o.correlation_id as "correlationId", o.created_at as "createdAt", o.updated_at as "updatedAt"
         from sales_order o
        where ($1::text is null or o.status = $1) and ($2::text is null or o.channel_id = $2) and ($3::text is null or o.reference < 'CD-' || lpad($3::text, 9, '0'))
        order by o.reference desc limit $4`,
      [filter.status ?? null, filter.channelId ?? null, before ?? null, limit + 1],
    );
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? String(Number(items.at(-1)!.reference.slice('CD-'.length))) : null };
  }

  async byChannelOrderId(channelId: string, channelOrderId: string): Promise<OrderView | undefined> {
    const { rows: [row] } = await this.pool.query(`${VIEW} where o.channel_id = $1 and o.channel_order_id = $2`, [channelId, channelOrderId]);
    return row && toView(row);
  }
}

function toView(row: Omit<OrderView, 'shipments'> & { lines: Array<Record<string, unknown>> }): OrderView {
  return {
    ...row,
    lines: row.lines.map((l) => ({ ...l, quantity: Number(l.quantity), unitPrice: Number(l.unitPrice) })) as OrderView['lines'],
    shipments: [],
  };
}
