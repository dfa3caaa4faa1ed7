import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Sql } from '../../../../platform/database/transaction.js';
import { ProblemException, problems } from '../../../../platform/http/problem.js';
import { currentCorrelationId } from '../../../../platform/observability/correlation.js';
import type { Channel } from '../../../configuration/index.js';
import { CustomerStandingQuery } from '../../../customers/index.js';
import { ReserveStockCommand, SellableStockQuery } from '../../../inventory/index.js';
import { allocateLines, orderTotal } from '../../domain/allocation.js';
import { checkCustomer } from '../../domain/customer-check.js';
import type { OrderStatus } from '../../domain/order-status.js';
import type { CreateOrderDto } from '../../api/order.dto.js';
import { ErpSubmission } from '../submit-to-erp/erp-submission.js';

export interface AcceptedOrder {
  orderId: string;
  status: OrderStatus;
  correlationId: string;
}

export interface AcceptOptions {
  source: 'api' | 'shopify';
  /** The channel-side time of the event that created it (Shopify's X-Shopify-Triggered-At). */
  channelEventAt?: Date;
}

/**
 * The order intake, in the caller's transaction (with the Idempotency-Key or the inbox record that makes it
 * happen once): checks the customer against the read model, places each line in a warehouse, stores the
 * order with its lines and history, and queues it for the ERP unless it is held.
 */
@Injectable()
export class AcceptOrder {
  constructor(
    private readonly submission: ErpSubmission,
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  async accept(sql: Sql, channel: Channel, request: CreateOrderDto, options: AcceptOptions): Promise<AcceptedOrder> {
    const orderId = randomUUID();
    const correlationId = currentCorrelationId() ?? orderId;
    const destinations = await this.submission.destinations(sql);
    const backend = destinations[0]!.slice('erp:'.length);
    const accountNumber = request.customer.accountNumber;
    const total = orderTotal(request.lines);
    const standing = await this.queries.execute(new CustomerStandingQuery(backend, accountNumber, sql));
    const verdict = checkCustomer(accountNumber, standing ?? undefined, total);
    if (verdict.verdict === 'refuse') throw new ProblemException(422, 'customer-blocked', 'Customer blocked', verdict.reason, { accountNumber });
    // What the channel may sell, per warehouse; the SKUs stay locked until the reservations below commit.
    const { bySku } = await this.queries.execute(new SellableStockQuery(sql, channel.inventory, request.lines.map((l) => l.sku)));
    const sellable = (sku: string, warehouse: string) => (bySku[sku] ? (bySku[sku][warehouse] ?? 0) : undefined);
    const allocation = allocateLines(request.lines, { warehouses: channel.inventory.warehouses, oversell: channel.oversell }, sellable);
    if (!allocation.ok) {
      throw new ProblemException(422, 'insufficient-stock', 'Not enough stock', `Not enough stock for ${allocation.shortSkus.join(', ')} in the channel's warehouses`, { skus: allocation.shortSkus });
    }
    const held = verdict.verdict === 'hold';
    const status: OrderStatus = held ? 'on_hold' : 'accepted';
    const history = [{ status: 'accepted', reason: verdict.verified ? null : `customer ${accountNumber} is not in the read model; left for the ERP to verify` }];
    if (held) history.push({ status: 'on_hold', reason: verdict.reason });
    const lines = allocation.lines.map((line, position) => ({ ...line, position, metadata: { channelId: channel.id, channelKind: channel.kind } }));
    const { rows: [stored] } = await sql.query<{ reference: string; order_date: string }>(
      `with o as (
         insert into sales_order (id, channel_id, channel_order_id, source, customer_account, customer_verified, erp_backend_id, currency, total,
                                  ship_to, requested_ship_date, notes, status, status_reason, hold_reason, channel_event_at, correlation_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13, $14, $15, $16, $17)
         on conflict (channel_id, channel_order_id) do nothing
         returning id, reference, created_at::date::text as order_date),
       l as (
         insert into sales_order_line (order_id, position, line_id, sku, warehouse, quantity, unit_price, backordered, metadata)
         select o.id, x.position, x."lineId", x.sku, x.warehouse, x.quantity, x."unitPrice", x.backordered, x.metadata
           from o, jsonb_to_recordset($18::jsonb) as x(position int, "lineId" text, sku text, warehouse text, quantity numeric, "unitPrice" numeric, backordered boolean, metadata jsonb)),
       h as (
         insert into sales_order_status (order_id, status, reason)
         select o.id, x.status, x.reason from o, rows from (jsonb_to_recordset($19::jsonb) as (status text, reason text)) with ordinality as x(status, reason, n) order by x.n)
       select reference, order_date from o`,
      [
        orderId, channel.id, request.channelOrderId, options.source, accountNumber, verdict.verified, backend, request.currency, total,
        JSON.stringify(request.shipTo), request.requestedShipDate ?? null, request.notes ?? null, status, held ? verdict.reason : null,
        held ? 'credit-limit' : null, options.channelEventAt ?? null, correlationId, JSON.stringify(lines), JSON.stringify(history),
      ],
    );
    if (!stored) {
      const { rows: [existing] } = await sql.query<{ id: string }>('select id from sales_order where channel_id = $1 and channel_order_id = $2', [channel.id, request.channelOrderId]);
      throw problems.conflict(`Channel ${channel.id} already sent order ${request.channelOrderId}: it is order ${existing?.id}`, { orderId: existing?.id, channelOrderId: request.channelOrderId });
    }
    const reserved = allocation.lines.filter((l) => !l.backordered && l.warehouse !== null).map((l) => ({ sku: l.sku, warehouse: l.warehouse!, quantity: l.quantity }));
    await this.commands.execute(new ReserveStockCommand(sql, orderId, reserved, Object.keys(bySku)));
    if (!held) {
      await this.submission.submit(sql, {
        id: orderId, reference: stored.reference, customerAccount: accountNumber, orderDate: stored.order_date, lines: allocation.lines,
      }, destinations);
    }
    return { orderId, status, correlationId };
  }
}
