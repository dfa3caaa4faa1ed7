import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Sql } from '../../../../platform/database/transaction.js';
import type { RoutingDomain, RoutingMode } from '../../domain/routing.js';

/** Where a domain's ERP traffic goes now: the primary backend, and in `shadow` mode the shadow as well. */
export interface ErpRoute {
  domain: RoutingDomain;
  mode: RoutingMode;
  primary: string;
  shadow: string | null;
  /** The outbox destinations, primary first: `erp:<primary>`, then `erp:<shadow>` in shadow mode. */
  destinations: string[];
}

/**
 * The route of `domain`, read in the caller's transaction so that a message goes where routing pointed when
 * it was made; null when the domain is not routed.
 */
export class ErpRouteQuery extends Query<ErpRoute | null> {
  constructor(
    readonly domain: RoutingDomain,
    readonly sql: Sql,
  ) {
    super();
  }
}

@QueryHandler(ErpRouteQuery)
export class ErpRouteHandler implements IQueryHandler<ErpRouteQuery, ErpRoute | null> {
  async execute({ domain, sql }: ErpRouteQuery): Promise<ErpRoute | null> {
    const { rows: [rule] } = await sql.query<{ mode: RoutingMode; primary: string; shadow: string | null }>(
      'select mode, primary_backend_id as "primary", shadow_backend_id as shadow from routing where domain = $1', [domain],
    );
    if (!rule) return null;
    const shadow = rule.mode === 'shadow' ? rule.shadow : null;
    return { domain, ...rule, destinations: [`erp:${rule.primary}`, ...(shadow ? [`erp:${shadow}`] : [])] };
  }
}
