import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Sql } from '../../../../platform/database/transaction.js';

/** A customer's standing as the ERP last reported it. */
export interface CustomerStanding {
  number: string;
  name: string | null;
  blocked: string;
  creditLimit: number;
  balanceDue: number;
  syncedAt: Date;
}

/** Customers of an ERP backend, from the read model, in the caller's transaction; by account number, the known ones. */
export class CustomerStandingQuery extends Query<Map<string, CustomerStanding>> {
  constructor(
    readonly backendId: string,
    readonly accountNumbers: readonly string[],
    readonly sql: Sql,
  ) {
    super();
  }
}

@QueryHandler(CustomerStandingQuery)
export class CustomerStandingHandler implements IQueryHandler<CustomerStandingQuery, Map<string, CustomerStanding>> {
  async execute({ backendId, accountNumbers, sql }: CustomerStandingQuery): Promise<Map<string, CustomerStanding>> {
    const { rows } = await sql.query<CustomerStanding>(
      `select number, name, blocked, credit_limit::float8 as "creditLimit", balance_due::float8 as "balanceDue", synced_at as "syncedAt"
         from customer_account where erp_backend_id = $1 and number = any($2::text[])`,
      [backendId, [...new Set(accountNumbers)]],
    );
    return new Map(rows.map((row) => [row.number, row]));
  }
}
