import type { Sql } from '../../platform/database/transaction.js';
import type { RoutingDomain } from './domain/routing.js';

/**
 * A subscription resolver: the ERP backend that the routing of `domain` names, and in shadow mode the shadow
 * backend too. Read in the producer's transaction, so a message goes where routing pointed when it was made.
 */
export function routedErpBackends(domain: RoutingDomain) {
  return async (sql: Sql): Promise<string[]> => {
    const { rows: [rule] } = await sql.query<{ mode: string; primary: string; shadow: string | null }>(
      'select mode, primary_backend_id as "primary", shadow_backend_id as shadow from routing where domain = $1', [domain],
    );
    if (!rule) throw new Error(`no routing is configured for domain ${domain}`);
    return [`erp:${rule.primary}`, ...(rule.mode === 'shadow' && rule.shadow ? [`erp:${rule.shadow}`] : [])];
  };
}
