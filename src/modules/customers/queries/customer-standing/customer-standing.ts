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

/** A customer of an ERP backend, from the read model, in the caller's transaction; null when not known. */
export class CustomerStandingQuery extends Query<CustomerStanding | null> {
  constructor(
    readonly backendId: string,
    readonly accountNumber: string,
    readonly sql: Sql,
  ) {
    super();
  }
}

@QueryHandler(CustomerStandingQuery)
export class CustomerStandingHandler implements IQueryHandler<CustomerStandingQuery, CustomerStanding | null> {
  async execute({ backendId, accountNumber, sql }: CustomerStandingQuery): Promise<CustomerStanding | null> {
    const { rows: [row] } = await sql.query<CustomerStanding>(
      `select number, name, blocked, credit_limit::float8 as "creditLimit", balance_due::float8 as "balanceDue", synced_at as "syncedAt"
         from customer_account where erp_backend_id = $1 and number = $2`,
      [backendId, accountNumber],
    );
    return row ?? null;
  }
}
