import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type pg from 'pg';
import { PG_POOL } from '../../../../platform/database/pg-pool.js';
import type { RoutingDomain } from '../../domain/routing.js';

/** The domains routed to an ERP backend, as primary or shadow (a backend in use cannot be deleted). */
export class BackendRoutesQuery extends Query<RoutingDomain[]> {
  constructor(readonly backendId: string) {
    super();
  }
}

@QueryHandler(BackendRoutesQuery)
export class BackendRoutesHandler implements IQueryHandler<BackendRoutesQuery, RoutingDomain[]> {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async execute({ backendId }: BackendRoutesQuery): Promise<RoutingDomain[]> {
    const { rows } = await this.pool.query<{ domain: RoutingDomain }>(
      'select domain from routing where primary_backend_id = $1 or shadow_backend_id = $1 order by domain', [backendId],
    );
    return rows.map((r) => r.domain);
  }
}
