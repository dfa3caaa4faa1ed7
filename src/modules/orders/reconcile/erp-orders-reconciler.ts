import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type pg from 'pg';
import { ErpDestination } from '../../../connectors/erp/erp-destination.js';
import type { ErpOrderRecord } from '../../../connectors/erp/erp-contract.js';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { inTransaction, type Tx } from '../../../platform/database/transaction.js';
import { unfinished } from '../../../platform/delivery/chain.js';
import { reconcileTarget, Reconcilers, type ComparedPage, type Finding, type Reconciler, type ReconcileTarget } from '../../../platform/reconciliation/reconcilers.js';
import { ErpBackendsQuery } from '../../configuration/index.js';
import { ErpRouteQuery } from '../../migration-coexistence/index.js';
import { ErpSubmission } from '../commands/submit-to-erp/erp-submission.js';
import { erpOrderDrift, type PlacedOrder } from '../domain/erp-order-drift.js';

/** How far back orders are compared: older ones have long been shipped, invoiced and archived in the ERP. */
export const ORDERS_LOOK_BACK_DAYS = 30;
/** Orders a page: their references are read from the ERP in batches of 20, each a governed call. */
const PAGE_SIZE = 100;
/** The statuses of an order the ERP confirmed, and has not been cancelled since. */
const PLACED = ['confirmed', 'partially_shipped', 'shipped'];

/**
 * The `orders` domain's comparison with each ERP backend (`erp:<id>`): the orders Crossdock placed there (confirmed
 * once, within ORDERS_LOOK_BACK_DAYS, not being cancelled and with nothing of theirs on the way to it), a page at a
 * time in reference order, against what the ERP holds under their references, read in batches through its connector
 * and governor. A confirmed order the ERP lost is sent again (ErpSubmission.resubmit); a duplicate, a change made in
 * the ERP, or a shipping order it lost is reported (erpOrderDrift). Targets: every backend whose `reconcile.orders`
 * sets an interval, and the primary of the orders' routing, on demand.
 */
@Injectable()
export class ErpOrdersReconciler implements Reconciler, OnModuleInit {
  readonly domain = 'orders';

  constructor(
    private readonly reconcilers: Reconcilers,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly queries: QueryBus,
    private readonly erp: ErpDestination,
    private readonly submission: ErpSubmission,
  ) {}

  onModuleInit(): void {
    this.reconcilers.register(this);
  }

  async targets(): Promise<ReconcileTarget[]> {
    const backends = await this.queries.execute(new ErpBackendsQuery());
    const route = await inTransaction(this.pool, (tx) => this.queries.execute(new ErpRouteQuery('orders', tx)));
    return backends
      .filter((backend) => backend.reconcile?.orders || backend.id === route?.primary)
      .map((backend) => reconcileTarget(`erp:${backend.id}`, backend.reconcile, 'orders'));
  }

  async compare(target: string, cursor: string | null): Promise<ComparedPage> {
    const { rows: placed } = await this.pool.query<PlacedOrder & { orderId: string }>(
      `select o.id as "orderId", o.reference, o.status, o.erp_order_ref as "erpOrderRef",
              (select coalesce(jsonb_agg(jsonb_build_object('sku', l.sku, 'quantity', l.quantity::float8) order by l.position), '[]') from sales_order_line l where l.order_id = o.id) as lines
         from sales_order o
        where o.erp_backend_id = $1 and o.status = any($2::text[]) and o.erp_order_ref is not null and o.cancel_requested_at is null
          and o.created_at >= clock_timestamp() - make_interval(days => $3) and o.reference > coalesce($4::text, '')
          and not exists (select 1 from outbox m where m.destination = $5 and m.key = o.id::text and ${unfinished('m')})
        order by o.reference limit $6`,
      [target.slice('erp:'.length), PLACED, ORDERS_LOOK_BACK_DAYS, cursor, target, PAGE_SIZE],
    );
    const nextCursor = placed.length < PAGE_SIZE ? null : placed.at(-1)!.reference;
    if (placed.length === 0) return { compared: 0, findings: [], nextCursor };
    const held = await this.erp.ordersByReference(target.slice('erp:'.length), placed.map((order) => order.reference));
    const byReference = Map.groupBy(held.orders, (order: ErpOrderRecord) => order.externalDocumentNumber.toUpperCase());
    const postedInFull = new Set(held.postedInFull.map((reference) => reference.toUpperCase()));
    const findings: Finding[] = [];
    for (const order of placed) {
      const reference = order.reference.toUpperCase();
      const drift = erpOrderDrift(order, byReference.get(reference) ?? [], postedInFull.has(reference));
      if (!drift) continue;
      const { why, ...finding } = drift;
      findings.push({ key: order.reference, ...finding, detail: { orderId: order.orderId, status: order.status, why } });
    }
    return { compared: placed.length, findings, nextCursor };
  }

  /** Only `missing-in-erp` comes here (the rest is reported): the order is sent to that backend again. */
  async repair(tx: Tx, target: string, finding: Finding): Promise<Record<string, unknown>> {
    if (finding.class !== 'missing-in-erp') return { skipped: `${finding.class} is not repaired` };
    const why = typeof finding.detail?.why === 'string' ? finding.detail.why : 'the ERP no longer has it';
    return this.submission.resubmit(tx, finding.key, target, `${why} (reconciliation)`);
  }
}
