import type { ReconcileSchedules } from '../../../../platform/reconciliation/reconcilers.js';
import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type pg from 'pg';
import { PG_POOL } from '../../../../platform/database/pg-pool.js';
import type { Sql } from '../../../../platform/database/transaction.js';

/** An ERP backend as other modules need it: its kind and role, never its settings. */
export interface ErpBackend {
  id: string;
  kind: string;
  role: 'legacy' | 'cloud';
  /** `ship`: shipments from elsewhere (a warehouse) are posted in this ERP against their orders. */
  erpPosting: 'none' | 'ship';
  /** Accounts first made elsewhere are created in this ERP (`acceptNewCustomers`). */
  acceptNewCustomers: boolean;
  /** Per domain, how often it is reconciled with this backend. */
  reconcile: ReconcileSchedules | null;
}

const COLUMNS = `id, kind, role, case when config->>'erpPosting' = 'ship' then 'ship' else 'none' end as "erpPosting",
  coalesce(config->>'acceptNewCustomers' = 'true', false) as "acceptNewCustomers", reconcile`;

/** An ERP backend (null when there is none); `sql`: read in the caller's transaction, not on a connection of its own. */
export class ErpBackendQuery extends Query<ErpBackend | null> {
  constructor(
    readonly backendId: string,
    readonly sql?: Sql,
  ) {
    super();
  }
}

/** Every ERP backend, by id. */
export class ErpBackendsQuery extends Query<ErpBackend[]> {}

@QueryHandler(ErpBackendQuery)
export class ErpBackendHandler implements IQueryHandler<ErpBackendQuery, ErpBackend | null> {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async execute({ backendId, sql }: ErpBackendQuery): Promise<ErpBackend | null> {
    const text = `select ${COLUMNS} from erp_backend where id = $1`;
    const { rows: [backend] } = sql ? await sql.query<ErpBackend>(text, [backendId]) : await this.pool.query<ErpBackend>(text, [backendId]);
    return backend ?? null;
  }
}

@QueryHandler(ErpBackendsQuery)
export class ErpBackendsHandler implements IQueryHandler<ErpBackendsQuery, ErpBackend[]> {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async execute(): Promise<ErpBackend[]> {
    const { rows } = await this.pool.query<ErpBackend>(`select ${COLUMNS} from erp_backend order by id`);
    return rows;
  }
}
