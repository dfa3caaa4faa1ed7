import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../platform/database/pg-pool.js';
import { inTransaction, type Tx } from '../../platform/database/transaction.js';
import { IntegrationEvents } from '../../platform/outbox/integration-events.js';
import type { CustomerPull, ErpCustomer } from '../../connectors/erp/erp-contract.js';
import { ErpDestination } from '../../connectors/erp/erp-destination.js';
import { CustomersSynced } from './events/customers-synced.js';

/**
 * The customer read model: what each ERP backend says of its customers, pulled from the ERP so that the order
 * intake never has to call it. Each pull replaces the backend's figures and announces CustomersSynced, in one
 * transaction.
 */
@Injectable()
export class CustomerDirectory {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly erp: ErpDestination,
    private readonly events: IntegrationEvents,
  ) {}

  /** When the backend's customers were last pulled, by any instance. */
  async lastSynced(backendId: string): Promise<Date | null> {
    const { rows: [row] } = await this.pool.query<{ at: Date | null }>('select max(synced_at) as at from customer_account where erp_backend_id = $1', [backendId]);
    return row?.at ?? null;
  }

  /**
   * Pulls every customer of the backend now (through its governor) and stores them. Customers the ERP's answer
   * did not describe well enough keep their last figures, and are listed with the reason.
   */
  async sync(backendId: string): Promise<{ backendId: string; customers: number; rejected: CustomerPull['rejected']; syncedAt: Date }> {
    const { customers, rejected } = await this.erp.customers(backendId);
    const syncedAt = await inTransaction(this.pool, async (tx) => {
      const at = await this.store(tx, backendId, customers);
      await this.events.publish(tx, new CustomersSynced(backendId, customers.map((c) => c.number)), backendId);
      return at;
    });
    return { backendId, customers: customers.length, rejected, syncedAt };
  }

  private async store(tx: Tx, backendId: string, customers: ErpCustomer[]): Promise<Date> {
    const { rows: [row] } = await tx.query<{ at: Date }>(
      `with upserted as (
         insert into customer_account (erp_backend_id, number, erp_id, name, blocked, credit_limit, balance_due, price_list, synced_at)
         select $1, c.number, c."erpId", c.name, coalesce(c.blocked, ''), c."creditLimit", c."balanceDue", c."priceList", clock_timestamp()
           from jsonb_to_recordset($2::jsonb) as c(number text, "erpId" text, name text, blocked text, "creditLimit" numeric, "balanceDue" numeric, "priceList" text)
         on conflict (erp_backend_id, number) do update
           set erp_id = excluded.erp_id, name = excluded.name, blocked = excluded.blocked, credit_limit = excluded.credit_limit,
               balance_due = excluded.balance_due, price_list = excluded.price_list, synced_at = excluded.synced_at
         returning synced_at)
       select coalesce(max(synced_at), clock_timestamp()) as at from upserted`,
      [backendId, JSON.stringify(customers)],
    );
    return row!.at;
  }
}
