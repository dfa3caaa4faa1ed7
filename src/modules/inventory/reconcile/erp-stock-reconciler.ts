import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type pg from 'pg';
import { ErpDestination } from '../../../connectors/erp/erp-destination.js';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { inTransaction, type Tx } from '../../../platform/database/transaction.js';
import type { IntakeCounts } from '../../../platform/http/batch-items.js';
import { reconcileTarget, Reconcilers, type ComparedPage, type Finding, type Reconciler, type ReconcileTarget } from '../../../platform/reconciliation/reconcilers.js';
import { ErpBackendQuery } from '../../configuration/index.js';
import { ErpRouteQuery } from '../../migration-coexistence/index.js';
import { StockIntake } from '../commands/stock-intake.js';

const SOURCE_DIFFERS = 'source-differs';

/** A position as the ERP holds it, and where and when it was read, for the repair. */
interface ErpFigure {
  sku: string;
  warehouse: string;
  onHand: number;
  reserved: number;
  readAt: string;
}

/**
 * Inventory's reconciliation with its system of record: the ERP backend that the routing of `inventory` names
 * (`erp:<id>`; on a schedule when its `reconcile.inventory` says how often). Its whole stock is read through the
 * connector's stock read, the one the poll uses (governed; it pages inside, so a run is one page), and compared
 * with the positions Crossdock holds from it (source `erp:<id>`). A position the ERP holds otherwise, or that
 * Crossdock lacks, is `source-differs`, repaired by `recompute`: the ERP's figure applied as a level of the ERP dated
 * by the start of the read, as the poll applies it, which recomputes and publishes the channels' figures. A
 * position another source reports (a WMS) is not the ERP's to correct, and one applied after the read began is
 * newer than what was read: neither is compared.
 */
@Injectable()
export class ErpStockReconciler implements Reconciler, OnModuleInit {
  readonly domain = 'inventory';

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly reconcilers: Reconcilers,
    private readonly queries: QueryBus,
    private readonly erp: ErpDestination,
    private readonly intake: StockIntake,
  ) {}

  onModuleInit(): void {
    this.reconcilers.register(this);
  }

  async targets(): Promise<ReconcileTarget[]> {
    const route = await inTransaction(this.pool, (tx) => this.queries.execute(new ErpRouteQuery('inventory', tx)));
    if (!route) return [];
    const backend = await this.queries.execute(new ErpBackendQuery(route.primary));
    return [reconcileTarget(`erp:${route.primary}`, backend?.reconcile, 'inventory')];
  }

  async compare(target: string): Promise<ComparedPage> {
    const backendId = target.slice('erp:'.length);
    const source = `erp:${backendId}`;
    const { rows: [{ readAt }] } = (await this.pool.query<{ readAt: string }>(`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "readAt"`)) as { rows: Array<{ readAt: string }> };
    const { levels } = await this.erp.stockSince(backendId, undefined, new Map());
    const { rows } = await this.pool.query<{ i: string; on_hand: number | null; reserved: number | null; comparable: boolean }>(
      `select v.i::text as i, p.on_hand::float8 as on_hand, p.reserved::float8 as reserved,
              p.sku is null or (p.source = $3 and coalesce(p.occurred_at, p.updated_at) <= $4::timestamptz) as comparable
         from unnest($1::text[], $2::text[]) with ordinality as v(sku, warehouse, i)
         left join stock_position p on p.sku = v.sku and p.warehouse = v.warehouse`,
      [levels.map((l) => l.sku), levels.map((l) => l.warehouse), source, readAt],
    );
    let compared = 0;
    const findings: Array<Finding & { detail: ErpFigure }> = [];
    for (const row of rows) {
      if (!row.comparable) continue;
      compared++;
      const level = levels[Number(row.i) - 1]!;
      if (row.on_hand === level.onHand && row.reserved === level.reserved) continue;
      findings.push({
        key: `${level.sku}@${level.warehouse}`, class: SOURCE_DIFFERS, repair: 'recompute',
        expected: { onHand: level.onHand, reserved: level.reserved }, actual: row.on_hand === null ? null : { onHand: row.on_hand, reserved: row.reserved },
        detail: { sku: level.sku, warehouse: level.warehouse, onHand: level.onHand, reserved: level.reserved, readAt },
      });
    }
    // By SKU, the order in which the repairs take the SKUs' locks.
    findings.sort((a, b) => (a.detail.sku < b.detail.sku ? -1 : a.detail.sku > b.detail.sku ? 1 : a.detail.warehouse < b.detail.warehouse ? -1 : 1));
    return { compared, findings: findings.map((f) => ({ ...f, detail: { ...f.detail } })), nextCursor: null };
  }

  /** The ERP's figure as a level of the ERP, in the run's transaction; a newer one applied since wins (stale). */
  async repair(tx: Tx, target: string, finding: Finding): Promise<Record<string, unknown>> {
    const { sku, warehouse, onHand, reserved, readAt } = finding.detail as unknown as ErpFigure;
    const counts: IntakeCounts = { accepted: 0, duplicate: 0, stale: 0, errors: [] };
    const level = { index: 0, eventId: `reconcile|${sku}|${warehouse}|${readAt}`, sku, warehouse, onHand, reserved, occurredAt: readAt };
    await this.intake.applyLevels(tx, target, [level], counts);
    return { applied: counts.accepted === 1, ...(counts.stale ? { stale: true } : {}), ...(counts.errors.length ? { errors: counts.errors } : {}) };
  }
}
