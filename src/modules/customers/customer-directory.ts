import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../platform/database/pg-pool.js';
import { inTransaction, type Tx } from '../../platform/database/transaction.js';
import { IntegrationEvents } from '../../platform/outbox/integration-events.js';
import type { CustomerPull, ErpCustomer } from '../../connectors/erp/erp-contract.js';
import { ErpDestination } from '../../connectors/erp/erp-destination.js';
import { CustomersSynced } from './events/customers-synced.js';
import { CustomerRecords } from './commands/customer-records.js';
import type { CustomerFields } from './domain/customer.js';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ErpRouteQuery, RecordErpAnswerCommand, RecordXrefCommand } from '../migration-coexistence/index.js';
import { LOGGER } from '../../platform/observability/observability.module.js';
import type { Logger } from '../../platform/observability/logger.js';

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
    private readonly records: CustomerRecords,
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
    @Inject(LOGGER) private readonly logger: Logger,
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
    const syncedAt = await inTransaction(this.pool, (tx) => this.apply(tx, backendId, customers));
    return { backendId, customers: customers.length, rejected, syncedAt };
  }

  /**
   * The ERP's word on some of its customers (a pull's, or one a change notification named): the read model, the
   * canonical record and CustomersSynced, in the caller's transaction.
   */
  async apply(tx: Tx, backendId: string, customers: ErpCustomer[]): Promise<Date> {
    const at = await this.store(tx, backendId, customers);
    await this.commands.execute(new RecordXrefCommand(tx, 'customer', backendId, customers.map((c) => ({ canonicalId: c.number, erpId: c.erpId }))));
    await this.canonical(tx, backendId, customers);
    await this.shadowed(tx, backendId, customers);
    if (customers.length > 0) await this.events.publish(tx, new CustomersSynced(backendId, customers.map((c) => c.number)), backendId);
    return at;
  }

  /**
   * A customer the ERP deleted (by its id there): gone from the read model, so that the intake no longer takes
   * orders for it; the canonical record stays (other systems may still hold the account) and the deletion is said.
   */
  async deleted(tx: Tx, backendId: string, erpId: string): Promise<string | undefined> {
    const { rows: [gone] } = await tx.query<{ number: string }>('delete from customer_account where erp_backend_id = $1 and erp_id = $2 returning number', [backendId, erpId]);
    if (gone) {
      await this.events.publish(tx, new CustomersSynced(backendId, [gone.number]), backendId);
      this.logger.warn({ backendId, accountNumber: gone.number }, 'the ERP deleted a customer: no more orders are taken for it; its canonical record stays');
    }
    return gone?.number;
  }

  /**
   * The ERP's word on each customer, as a change of the canonical record by the ERP (what the ERP does not own is
   * judged as any other system's change). A record that breaks a quality rule is held as an exception.
   */
  private async canonical(tx: Tx, backendId: string, customers: ErpCustomer[]): Promise<void> {
    // One ERP speaks for the canonical customers: the one routed for `customers` (any, while none is).
    const route = await this.queries.execute(new ErpRouteQuery('customers', tx));
    if (route && route.primary !== backendId) return;
    const source = `erp:${backendId}`;
    for (const customer of customers) {
      const outcome = await this.records.change(tx, customer.number, { system: 'erp', fields: erpFields(customer) }, 'poll', source, { key: source, id: customer.erpId });
      if (outcome.violations.length > 0) this.logger.warn({ backendId, accountNumber: customer.number, violations: outcome.violations, exceptionId: outcome.exceptionId }, 'an ERP customer breaks a quality rule; held as an exception, its record left as it was');
    }
  }

  /**
   * While customers are routed in shadow mode, what the primary and the shadow say of each account goes to the
   * coexistence report: the terms the two ERPs must agree on before the cutover (name, block, credit limit, balance).
   */
  private async shadowed(tx: Tx, backendId: string, customers: ErpCustomer[]): Promise<void> {
    const route = await this.queries.execute(new ErpRouteQuery('customers', tx));
    if (route?.mode !== 'shadow' || (backendId !== route.primary && backendId !== route.shadow)) return;
    const role = backendId === route.primary ? 'primary' : 'shadow';
    for (const customer of customers) {
      const facts = { name: customer.name, blocked: comparableBlock(customer.blocked), creditLimit: customer.creditLimit, balanceDue: customer.balanceDue };
      await this.commands.execute(new RecordErpAnswerCommand(tx, 'customers', customer.number, backendId, role, { facts }));
    }
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

/**
 * A block as both ERPs can say it: SAP Business One's only block, Frozen, stops everything, as Business Central's
 * `All` does (the coexistence value map's default pairing); blank is no block.
 */
function comparableBlock(blocked: string | undefined): string {
  const value = (blocked ?? '').trim();
  return value === 'Frozen' ? 'All' : value;
}

/** What the ERP says of a customer, as canonical fields: those its connector reads (an absent one is not a change). */
export function erpFields(customer: ErpCustomer): Partial<CustomerFields> {
  const fields: Partial<CustomerFields> = {
    name: customer.name, blocked: (customer.blocked ?? '').trim(), creditLimit: customer.creditLimit, balanceDue: customer.balanceDue, priceList: customer.priceList ?? null,
  };
  const optional = { email: customer.email, phone: customer.phone, taxId: customer.taxId, billingAddress: customer.billingAddress, shippingAddress: customer.shippingAddress, paymentTerms: customer.paymentTerms };
  for (const [field, value] of Object.entries(optional)) if (value !== undefined) Object.assign(fields, { [field]: value });
  return fields;
}
