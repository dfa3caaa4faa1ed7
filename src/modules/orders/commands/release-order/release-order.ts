import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { AuditLog } from '../../../../platform/audit/audit-log.js';
import { IntegrationEvents } from '../../../../platform/outbox/integration-events.js';
import type pg from 'pg';
import { PG_POOL } from '../../../../platform/database/pg-pool.js';
import { inTransaction, type Tx } from '../../../../platform/database/transaction.js';
import { problems } from '../../../../platform/http/problem.js';
import { LOGGER } from '../../../../platform/observability/observability.module.js';
import type { Logger } from '../../../../platform/observability/logger.js';
import { ChannelQuery } from '../../../configuration/index.js';
import { CustomerStandingQuery, CustomersSynced } from '../../../customers/index.js';
import { checkCustomer } from '../../domain/customer-check.js';
import { OrderStatusLog } from '../order-status-log.js';
import { ErpSubmission } from '../submit-to-erp/erp-submission.js';

/** Lets a held order go to the ERP: an operator's release, or a customer update that lifts the credit hold. */
@Injectable()
export class ReleaseOrder {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly statusLog: OrderStatusLog,
    private readonly submission: ErpSubmission,
    private readonly queries: QueryBus,
    private readonly audit: AuditLog,
  ) {}

  /** An operator's release, with the reason they gave, in the order's history and the audit log. */
  async release(orderId: string, actor: string, why?: string): Promise<void> {
    const released = await inTransaction(this.pool, async (tx) => {
      const done = await this.releaseIn(tx, orderId, `released by ${actor}${why ? `: ${why}` : ''}`);
      if (done) await this.audit.recordInTransaction(tx, { actor, action: 'release', resourceType: 'order', resourceId: orderId, before: { status: 'on_hold' }, after: { status: 'accepted', ...(why ? { reason: why } : {}) } });
      return done;
    });
    if (released === undefined) throw problems.notFound(`Order ${orderId}`);
    if (!released) throw problems.conflict(`Order ${orderId} is not on hold`);
  }

  /** Re-checks every held order of the backend against the refreshed read model; returns how many went. */
  async reviewHolds(backendId: string): Promise<number> {
    const { rows } = await this.pool.query<{ id: string }>(`select id from sales_order where erp_backend_id = $1 and status = 'on_hold' and hold_reason = 'credit-limit' order by created_at`, [backendId]);
    let released = 0;
    for (const { id } of rows) {
      const went = await inTransaction(this.pool, async (tx) => {
        const { rows: [order] } = await tx.query<{ customer_account: string; total: string; channel_id: string; price_mismatch: unknown[] | null }>(
          `select customer_account, total, channel_id, price_mismatch from sales_order where id = $1 and status = 'on_hold' and hold_reason = 'credit-limit' for update`, [id],
        );
        if (!order) return false;
        const standing = (await this.queries.execute(new CustomerStandingQuery(backendId, [order.customer_account], tx))).get(order.customer_account);
        const verdict = checkCustomer(order.customer_account, standing, Number(order.total));
        if (verdict.verdict !== 'accept') return false;
        // A mispriced order of a channel that holds them waits for an operator still, now for its prices.
        if (order.price_mismatch && (await this.queries.execute(new ChannelQuery(order.channel_id, tx)))?.pricing?.onMismatch === 'hold') {
          const reason = 'credit hold lifted by the ERP customer figures; held for its prices, which differ from the effective prices';
          await tx.query(`update sales_order set hold_reason = 'price-mismatch', status_reason = $2, updated_at = clock_timestamp() where id = $1`, [id, reason]);
          await tx.query(`insert into sales_order_status (order_id, status, reason) values ($1, 'on_hold', $2)`, [id, reason]);
          return false;
        }
        return this.releaseIn(tx, id, 'credit hold lifted by the ERP customer figures');
      });
      if (went) released++;
    }
    return released;
  }

  /** undefined: no such order; false: not on hold. */
  private async releaseIn(tx: Tx, orderId: string, reason: string): Promise<boolean | undefined> {
    const { rows: [order] } = await tx.query<{ status: string; reference: string; customer_account: string; order_date: string }>(
      'select status, reference, customer_account, created_at::date::text as order_date from sales_order where id = $1 for update', [orderId],
    );
    if (!order) return undefined;
    if (!(await this.statusLog.move(tx, orderId, 'accepted', { reason }))) return false;
    const lines = await this.submission.linesOf(tx, orderId);
    const destinations = await this.submission.destinations(tx);
    // Routing may have moved since the intake: the order now belongs to the backend it is sent to.
    await tx.query('update sales_order set erp_backend_id = $2 where id = $1', [orderId, destinations[0]!.slice('erp:'.length)]);
    await this.submission.submit(tx, [{ id: orderId, reference: order.reference, customerAccount: order.customer_account, orderDate: order.order_date, lines }], destinations);
    return true;
  }
}

/** Held orders are checked again whenever a backend's customer figures are refreshed (durably: see CustomersSynced). */
@Injectable()
export class LiftCreditHolds implements OnModuleInit {
  constructor(
    private readonly events: IntegrationEvents,
    private readonly release: ReleaseOrder,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.events.subscribe('orders', CustomersSynced, (event) => this.handle(event));
  }

  /** Idempotent: each held order is checked against the figures as they are now. A failure is retried. */
  async handle(event: CustomersSynced): Promise<void> {
    const released = await this.release.reviewHolds(event.backendId);
    if (released > 0) this.logger.info({ backendId: event.backendId, released }, 'credit holds lifted after a customer update');
  }
}
