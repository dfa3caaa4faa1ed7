import { Injectable, type OnModuleInit } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Sql, Tx } from '../../../../platform/database/transaction.js';
import { unfinished } from '../../../../platform/delivery/chain.js';
import { Destinations, type DeliveryOutcome } from '../../../../platform/delivery/destinations.js';
import { ProblemException } from '../../../../platform/http/problem.js';
import { recordTrace } from '../../../../platform/observability/trace.js';
import { Outbox } from '../../../../platform/outbox/outbox.js';
import { ERP_MESSAGE_TYPES, type ErpCancelResult, type ErpCreateResult, type ErpSalesOrder } from '../../../../connectors/erp/erp-contract.js';
import { EntityIdsQuery, ErpRouteQuery, RecordErpAnswerCommand, RecordXrefCommand } from '../../../migration-coexistence/index.js';
import { OrderStatusLog } from '../order-status-log.js';

/** What the ERP needs of an order. */
export interface OrderForErp {
  id: string;
  /** The order's correlation id (else the work in progress's). */
  correlationId?: string;
  reference: string;
  customerAccount: string;
  orderDate: string;
  lines: Array<{ sku: string; quantity: number; unitPrice: number; warehouse: string | null }>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Sends orders to the ERP through the outbox (to the backend that the routing of `orders` names, and its
 * shadow), and turns what the ERP answered into the order's status: submitted on the first call, confirmed
 * with the ERP's number, rejected with its message, failed when retries ran out.
 */
@Injectable()
export class ErpSubmission implements OnModuleInit {
  constructor(
    private readonly outbox: Outbox,
    private readonly deliveries: Destinations,
    private readonly statusLog: OrderStatusLog,
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
  ) {}

  onModuleInit(): void {
    this.deliveries.onOutcome(ERP_MESSAGE_TYPES.createSalesOrder, (tx, outcome) => this.created(tx, outcome));
    this.deliveries.onOutcome(ERP_MESSAGE_TYPES.cancelSalesOrder, (tx, outcome) => this.cancelled(tx, outcome));
  }

  /** The ERP backends orders go to now: the routed primary first, then its shadow. */
  async destinations(sql: Sql): Promise<string[]> {
    const route = await this.queries.execute(new ErpRouteQuery('orders', sql));
    if (route) return route.destinations;
    throw new ProblemException(503, 'orders-not-routed', 'Orders are not routed',
      'No ERP backend is routed for orders; an administrator must set PUT /v1/admin/routing/orders', { retryAfter: 60 });
  }

  /** In the caller's transaction, to the given backends (from `destinations`); the first must be each order's `erp_backend_id`. */
  async submit(sql: Sql, orders: readonly OrderForErp[], destinations: string[]): Promise<void> {
    await this.outbox.addMany(sql, orders.map((order) => {
      const payload: ErpSalesOrder = {
        externalDocumentNumber: order.reference,
        customerNumber: order.customerAccount,
        orderDate: order.orderDate,
        lines: order.lines.map((line) => ({ lineObjectNumber: line.sku, quantity: line.quantity, unitPrice: line.unitPrice, warehouse: line.warehouse })),
      };
      return {
        message: { type: ERP_MESSAGE_TYPES.createSalesOrder, kind: 'command' as const, key: order.id, payload: { ...payload }, correlationId: order.correlationId },
        destinations,
      };
    }));
  }

  /** The order's lines as the ERP is sent them, in their order. */
  async linesOf(sql: Sql, orderId: string): Promise<OrderForErp['lines']> {
    const { rows } = await sql.query<OrderForErp['lines'][number]>(
      `select sku, quantity::float8 as quantity, unit_price::float8 as "unitPrice", warehouse from sales_order_line where order_id = $1 order by position`, [orderId],
    );
    return rows;
  }

  /**
   * Sends a confirmed order to its backend again, as it was sent first (the same reference, so the connector's
   * look-up by reference finds an order there before it creates one), in the caller's transaction: the ERP no
   * longer has it (`why`). Written in the order's history and trace. Not sent, and why answered, when the order is
   * no longer only confirmed, is being cancelled, belongs to another backend, or has a message to it still on its way
   * (a resubmission not settled yet, or dead-lettered and waiting for a person).
   */
  async resubmit(tx: Tx, reference: string, destination: string, why: string): Promise<{ orderId?: string; resubmitted: boolean; reason?: string }> {
    const { rows: [order] } = await tx.query<{ id: string; status: string; customer_account: string; order_date: string; correlation_id: string; erp_backend_id: string; cancel_requested_at: Date | null }>(
      `select id, status, customer_account, created_at::date::text as order_date, correlation_id, erp_backend_id, cancel_requested_at from sales_order where reference = $1 for update`, [reference],
    );
    if (!order) return { resubmitted: false, reason: `there is no order ${reference}` };
    const refusal = order.status !== 'confirmed' ? `the order is ${order.status} now`
      : order.cancel_requested_at ? 'the order is being cancelled'
        : `erp:${order.erp_backend_id}` !== destination ? `the order belongs to ERP backend ${order.erp_backend_id} now`
          : (await this.inMotion(tx, order.id, destination)) ? 'a message of the order to this backend is still on its way (or dead-lettered)' : undefined;
    if (refusal) return { orderId: order.id, resubmitted: false, reason: refusal };
    const lines = await this.linesOf(tx, order.id);
    await this.submit(tx, [{ id: order.id, reference, customerAccount: order.customer_account, orderDate: order.order_date, lines, correlationId: order.correlation_id }], [destination]);
    await tx.query('insert into sales_order_status (order_id, status, reason) values ($1, $2, $3)', [order.id, order.status, `sent to the ERP again: ${why}`]);
    await recordTrace(tx, [{ correlationId: order.correlation_id, destination, step: 'reconciled', detail: { repair: 'resubmit', reference, why } }]);
    return { orderId: order.id, resubmitted: true };
  }

  /** Whether a message of the order to the backend is unfinished: pending, waiting, queued, sending, or dead. */
  private async inMotion(sql: Sql, orderId: string, destination: string): Promise<boolean> {
    const { rows } = await sql.query(`select 1 from outbox o where o.destination = $1 and o.key = $2 and ${unfinished('o')} limit 1`, [destination, orderId]);
    return rows.length > 0;
  }

  /** Asks the ERP backends that were sent the order to delete it; runs after the create, in key order. */
  async requestCancel(sql: Sql, orderId: string, reference: string): Promise<void> {
    const { rows } = await sql.query<{ destination: string }>(
      `select distinct destination from outbox where key = $1 and type = $2`, [orderId, ERP_MESSAGE_TYPES.createSalesOrder],
    );
    // Where a backend's id of the order is known already, its connector acts on it rather than looking it up.
    const ids = await this.queries.execute(new EntityIdsQuery(sql, 'order', { canonicalId: orderId }));
    const erpOrders = Object.fromEntries(Object.entries(ids?.backends ?? {}).map(([backend, id]) => [backend, { erpOrderId: id.erpId, erpOrderRef: id.erpRef }]));
    await this.outbox.add(sql, { type: ERP_MESSAGE_TYPES.cancelSalesOrder, kind: 'command', key: orderId, payload: { externalDocumentNumber: reference, erpOrders } }, rows.map((r) => r.destination));
  }

  private async created(tx: Tx, outcome: DeliveryOutcome): Promise<void> {
    const orderId = outcome.delivery.key;
    const owning = await this.fromOwningBackend(tx, orderId, outcome.delivery.destination);
    if (outcome.event === 'delivered' && UUID.test(orderId)) {
      const result = outcome.result as ErpCreateResult;
      await this.commands.execute(new RecordXrefCommand(tx, 'order', outcome.delivery.destination.slice('erp:'.length), [{ canonicalId: orderId, erpId: result.erpOrderId, erpRef: result.erpOrderRef }]));
    }
    if (outcome.event === 'delivered' || outcome.event === 'dead') await this.recordShadowed(tx, orderId, outcome, owning);
    if (!owning) return;
    const submittedAt = outcome.attemptedAt;
    if (outcome.event === 'replayed') {
      await this.statusLog.move(tx, orderId, 'submitted', { reason: 'replayed' });
      return;
    }
    if (outcome.attemptedAt) await this.statusLog.move(tx, orderId, 'submitted', { at: submittedAt });
    if (outcome.event === 'delivered') {
      const result = outcome.result as ErpCreateResult;
      const confirmed = await this.statusLog.move(tx, orderId, 'confirmed', { erpOrderRef: result.erpOrderRef, erpOrderId: result.erpOrderId });
      if (!confirmed) await this.recordErpOrderAgain(tx, orderId, result);
    } else if (outcome.event === 'dead') {
      const reason = outcome.failure?.message ?? 'the ERP did not take the order';
      await this.statusLog.move(tx, orderId, outcome.failure?.class === 'permanent' ? 'rejected' : 'failed', { reason });
    }
  }

  /**
   * A create delivered for an order confirmed before (sent again: the ERP had lost it): the ERP's new number and id
   * are the order's now; its history says so and its channel hears it. Nothing when the ERP answered the order it had.
   */
  private async recordErpOrderAgain(tx: Tx, orderId: string, result: ErpCreateResult): Promise<void> {
    const { rows: [changed] } = await tx.query<{ status: string; was: string }>(
      `with before as (select id, erp_order_ref from sales_order where id = $1 for update)
       update sales_order o set erp_order_ref = $2, erp_order_id = $3, updated_at = clock_timestamp() from before
        where o.id = before.id and o.status in ('confirmed', 'partially_shipped', 'shipped') and before.erp_order_ref is not null
          and (before.erp_order_ref <> $2 or o.erp_order_id is distinct from $3)
        returning o.status, before.erp_order_ref as was`,
      [orderId, result.erpOrderRef, result.erpOrderId],
    );
    if (!changed) return;
    await this.statusLog.erpOrderChanged(tx, orderId, `the ERP holds the order again, as ${result.erpOrderRef}${changed.was !== result.erpOrderRef ? ` (it was ${changed.was})` : ''}`);
  }

  private async cancelled(tx: Tx, outcome: DeliveryOutcome): Promise<void> {
    const orderId = outcome.delivery.key;
    if (!(await this.fromOwningBackend(tx, orderId, outcome.delivery.destination))) return;
    if (outcome.event === 'delivered') {
      const deleted = (outcome.result as ErpCancelResult | undefined)?.deleted;
      await this.statusLog.move(tx, orderId, 'cancelled', { reason: deleted ? 'cancelled; the ERP order was deleted' : 'cancelled; the ERP had no such order' });
    } else if (outcome.event === 'dead') {
      await tx.query('update sales_order set cancel_requested_at = null, cancel_refused_reason = $2, updated_at = clock_timestamp() where id = $1', [
        orderId, outcome.failure?.message ?? 'the ERP refused to delete the order',
      ]);
    }
  }

  /**
   * An order sent to a primary and a shadow: each one's answer (the order as it holds it, or why it refused) goes to
   * the coexistence report, and the shadow's nowhere else.
   */
  private async recordShadowed(tx: Tx, orderId: string, outcome: DeliveryOutcome, owning: boolean): Promise<void> {
    if (!UUID.test(orderId)) return;
    const { rows: [sent] } = await tx.query<{ n: number }>(
      'select count(distinct destination)::int as n from outbox where key = $1 and type = $2', [orderId, ERP_MESSAGE_TYPES.createSalesOrder],
    );
    if ((sent?.n ?? 0) < 2) return;
    const answer = outcome.event === 'delivered'
      ? { facts: (outcome.result as ErpCreateResult | undefined)?.facts ?? null }
      : { failure: outcome.failure?.message ?? 'the ERP did not take the order' };
    await this.commands.execute(new RecordErpAnswerCommand(tx, 'orders', orderId, outcome.delivery.destination.slice('erp:'.length), owning ? 'primary' : 'shadow', answer));
  }

  /** Shadow backends' answers are recorded in the outbox and the coexistence report, not in the order. */
  private async fromOwningBackend(tx: Tx, orderId: string, destination: string): Promise<boolean> {
    if (!UUID.test(orderId)) return false;
    const { rows: [order] } = await tx.query<{ erp_backend_id: string }>('select erp_backend_id from sales_order where id = $1', [orderId]);
    return order !== undefined && destination === `erp:${order.erp_backend_id}`;
  }
}
