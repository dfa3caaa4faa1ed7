import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../../../platform/database/pg-pool.js';
import { inTransaction, type Tx } from '../../../../platform/database/transaction.js';
import { BossService } from '../../../../platform/delivery/boss.service.js';
import { queueNextInChains } from '../../../../platform/delivery/chain.js';
import { ProblemException, problems } from '../../../../platform/http/problem.js';
import { ERP_MESSAGE_TYPES } from '../../../../connectors/erp/erp-contract.js';
import type { OrderStatus } from '../../domain/order-status.js';
import { OrderStatusLog } from '../order-status-log.js';
import { ErpSubmission } from '../submit-to-erp/erp-submission.js';

export const ORDERS_SETTINGS = Symbol('ORDERS_SETTINGS');
export interface OrdersSettings {
  /** How long a cancel request waits for the ERP's answer before it answers 202. */
  cancelWaitMs: number;
  /**
   * The intake's group commit: at most this many orders a transaction, and this many transactions at once (a
   * lane past the first only for a full batch).
   */
  intakeBatch: number;
  intakeLanes: number;
  /** How long a free lane waits for more orders after a busy batch (ms). */
  intakeGatherMs: number;
}

export type CancelResult = { outcome: 'cancelled' } | { outcome: 'pending' };

const POLL_MS = 100;

/**
 * Cancels an order. One the ERP has never been called for is cancelled here, and its queued submission
 * discarded. Otherwise the ERP may have it: a cancel command follows the create to the same backends (after
 * it, in key order), finds the order by its reference and deletes it; the caller waits for that answer for
 * a while. An ERP that refuses (an order already shipped, say) makes it a 409 with the ERP's reason.
 */
@Injectable()
export class CancelOrder {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly boss: BossService,
    private readonly statusLog: OrderStatusLog,
    private readonly submission: ErpSubmission,
    @Inject(ORDERS_SETTINGS) private readonly settings: OrdersSettings,
  ) {}

  /** `channelId` undefined: an operator, for any channel's order. */
  async cancel(orderId: string, channelId: string | undefined, actor: string): Promise<CancelResult> {
    const local = await inTransaction(this.pool, (tx) => this.requestIn(tx, orderId, channelId, actor));
    if (local === 'cancelled') return { outcome: 'cancelled' };
    return this.awaitErp(orderId);
  }

  /**
   * The cancellation's decision and its records, in the caller's transaction: 'cancelled' when done here,
   * 'requested' when the ERP has been asked. Throws 404, or 409 when it cannot be cancelled now.
   */
  async requestIn(tx: Tx, orderId: string, channelId: string | undefined, actor: string): Promise<'cancelled' | 'requested'> {
    // The outbox rows first, then the order: the order in which a delivery's settlement takes them.
    const { rows: creates } = await tx.query<{ id: string; status: string; destination: string; kind: 'command' }>(
      `select id, status, destination, kind from outbox where key = $1 and type = any($2::text[]) and status not in ('delivered', 'discarded', 'superseded') for update`,
      [orderId, [ERP_MESSAGE_TYPES.createSalesOrder, ERP_MESSAGE_TYPES.cancelSalesOrder]],
    );
    const { rows: [order] } = await tx.query<{ status: OrderStatus; reference: string; cancel_requested_at: Date | null }>(
      'select status, reference, cancel_requested_at from sales_order where id = $1 and ($2::text is null or channel_id = $2) for update',
      [orderId, channelId ?? null],
    );
    if (!order) throw problems.notFound(`Order ${orderId}`);
    if (order.status === 'cancelled') return 'cancelled';
    if (order.status === 'rejected') throw problems.conflict(`Order ${orderId} was rejected by the ERP; there is nothing to cancel`);
    if (creates.some((row) => row.status === 'sending')) {
      throw new ProblemException(409, 'order-being-submitted', 'Order being sent to the ERP', `Order ${orderId} is being sent to the ERP right now; retry in a few seconds`, { retryAfter: 2 });
    }
    if (order.status === 'accepted' || order.status === 'on_hold') {
      // Never called: no ERP has it.
      await this.discard(tx, orderId, creates);
      await this.statusLog.move(tx, orderId, 'cancelled', { reason: `cancelled by ${actor} before it reached the ERP` });
      return 'cancelled';
    }
    if (order.cancel_requested_at === null) {
      // A dead submission or an earlier refused cancel would hold the new command back: set them aside.
      await this.discard(tx, orderId, creates.filter((row) => row.status === 'dead'));
      await tx.query('update sales_order set cancel_requested_at = clock_timestamp(), cancel_refused_reason = null where id = $1', [orderId]);
      await this.submission.requestCancel(tx, orderId, order.reference);
    }
    return 'requested';
  }

  private async discard(tx: Tx, key: string, rows: Array<{ id: string; destination: string; kind: 'command' }>): Promise<void> {
    if (rows.length === 0) return;
    await tx.query(`update outbox set status = 'discarded', finished_at = clock_timestamp() where id = any($1::bigint[])`, [rows.map((r) => r.id)]);
    // Destinations in one order, as the relay takes their chains' locks.
    for (const destination of [...new Set(rows.map((r) => r.destination))].sort()) await queueNextInChains(tx, this.boss.boss, destination, [key]);
  }

  private async awaitErp(id: string): Promise<CancelResult> {
    const deadline = Date.now() + this.settings.cancelWaitMs;
    for (;;) {
      const { rows: [order] } = await this.pool.query<{ status: string; cancel_refused_reason: string | null }>(
        'select status, cancel_refused_reason from sales_order where id = $1', [id],
      );
      if (order?.status === 'cancelled') return { outcome: 'cancelled' };
      if (order?.cancel_refused_reason) {
        throw new ProblemException(409, 'cancel-refused', 'The ERP refused the cancellation', order.cancel_refused_reason, { orderId: id });
      }
      if (Date.now() >= deadline) return { outcome: 'pending' };
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
