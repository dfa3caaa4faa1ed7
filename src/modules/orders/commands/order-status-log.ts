import { Injectable } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Sql } from '../../../platform/database/transaction.js';
import { Outbox } from '../../../platform/outbox/outbox.js';
import { ChannelQuery } from '../../configuration/index.js';
import { ConfirmStockReservationCommand, EndStockReservationCommand } from '../../inventory/index.js';
import { statusesBefore, type OrderStatus } from '../domain/order-status.js';
import { ORDER_STATUS_CHANGED, type OrderStatusChanged } from '../events/order-status-changed.js';

export interface StatusChange {
  reason?: string | null;
  erpOrderRef?: string;
  erpOrderId?: string;
  /** When it happened, if not now (a submission is dated by the ERP call that made it). */
  at?: Date;
}

/**
 * Moves an order from one status to the next, in the caller's transaction: the order, its history and the
 * `order.status.changed` event to its channel are written together. A move the order's current status does
 * not allow changes nothing.
 */
@Injectable()
export class OrderStatusLog {
  constructor(
    private readonly outbox: Outbox,
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  /** True when the order moved. */
  async move(sql: Sql, orderId: string, to: OrderStatus, change: StatusChange = {}): Promise<boolean> {
    const { rows: [order] } = await sql.query<{ channel_id: string; channel_order_id: string; erp_order_ref: string | null; correlation_id: string }>(
      `update sales_order set status = $2, status_reason = $3, erp_order_ref = coalesce($4, erp_order_ref), erp_order_id = coalesce($5, erp_order_id),
              hold_reason = case when $2 = 'on_hold' then hold_reason end, updated_at = clock_timestamp()
        where id = $1 and status = any($6::text[])
        returning channel_id, channel_order_id, erp_order_ref, correlation_id`,
      [orderId, to, change.reason ?? null, change.erpOrderRef ?? null, change.erpOrderId ?? null, statusesBefore(to)],
    );
    if (!order) return false;
    await sql.query('insert into sales_order_status (order_id, status, reason, at) values ($1, $2, $3, coalesce($4, clock_timestamp()))', [
      orderId, to, change.reason ?? null, change.at ?? null,
    ]);
    // The order's stock: free again when it will not ship; held until the ERP's figures include it when confirmed.
    if (to === 'cancelled' || to === 'rejected') await this.commands.execute(new EndStockReservationCommand(sql, orderId, `order ${to}`));
    if (to === 'confirmed') await this.commands.execute(new ConfirmStockReservationCommand(sql, orderId));
    await this.tell(sql, orderId, order, to, change.reason);
    return true;
  }

  /**
   * The order's ERP number changed while its status did not (the ERP lost the order and took it again): its
   * history says so, and a webhook channel hears it as `order.status.changed` with the same status and the new
   * `erpOrderRef`, so that it never keeps a number the ERP no longer knows.
   */
  async erpOrderChanged(sql: Sql, orderId: string, reason: string): Promise<void> {
    const { rows: [order] } = await sql.query<{ status: OrderStatus; channel_id: string; channel_order_id: string; erp_order_ref: string | null; correlation_id: string }>(
      'select status, channel_id, channel_order_id, erp_order_ref, correlation_id from sales_order where id = $1', [orderId],
    );
    if (!order) return;
    await sql.query('insert into sales_order_status (order_id, status, reason) values ($1, $2, $3)', [orderId, order.status, reason]);
    await this.tell(sql, orderId, order, order.status, reason);
  }

  /** Webhook channels hear of it; an API channel reads the order, and a Shopify order's status stays in Shopify. */
  private async tell(sql: Sql, orderId: string, order: { channel_id: string; channel_order_id: string; erp_order_ref: string | null; correlation_id: string }, status: OrderStatus, reason: string | null | undefined): Promise<void> {
    const channel = await this.queries.execute(new ChannelQuery(order.channel_id, sql));
    if (channel?.kind !== 'webhook') return;
    const event: OrderStatusChanged = {
      orderId,
      channelOrderId: order.channel_order_id,
      status,
      ...(order.erp_order_ref ? { erpOrderRef: order.erp_order_ref } : {}),
      ...(reason ? { reason } : {}),
    };
    await this.outbox.add(sql, { type: ORDER_STATUS_CHANGED, kind: 'command', key: orderId, payload: { ...event }, correlationId: order.correlation_id }, [`channel:${order.channel_id}`]);
  }
}
