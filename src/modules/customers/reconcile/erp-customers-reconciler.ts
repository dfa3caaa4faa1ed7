import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type pg from 'pg';
import type { ErpCustomer } from '../../../connectors/erp/erp-contract.js';
import { ErpDestination } from '../../../connectors/erp/erp-destination.js';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { inTransaction, type Tx } from '../../../platform/database/transaction.js';
import { unfinished } from '../../../platform/delivery/chain.js';
import { reconcileTarget, Reconcilers, type ComparedPage, type Finding, type Reconciler, type ReconcileTarget } from '../../../platform/reconciliation/reconcilers.js';
import { ErpBackendQuery } from '../../configuration/index.js';
import { ErpRouteQuery } from '../../migration-coexistence/index.js';
import { CustomerRecords } from '../commands/customer-records.js';
import { CustomerDirectory, erpFields } from '../customer-directory.js';
import { ERP_WRITABLE_FIELDS, type CustomerField, type CustomerFields } from '../domain/customer.js';
import { erpCustomerDrift, type FieldDrift } from '../domain/customer-drift.js';

export const SOURCE_DIFFERS = 'source-differs';
export const TARGET_DIFFERS = 'target-differs';
export const CHANGED_IN_ERP = 'changed-in-erp';

/** What a source-differs finding carries for its repair: the ERP's customer as read, and when the read began. */
interface ReadDetail {
  customer: ErpCustomer;
  readAt: string;
  fields: CustomerField[];
}

interface AccountState {
  number: string;
  fields: CustomerFields | null;
  seen: Partial<CustomerFields> | null;
  held: CustomerField[] | null;
  /** An open quality exception from this ERP: a person fixes it there (docs/CUSTOMERS.md). */
  excepted: boolean;
  /** A write of Crossdock's to the ERP is on its way, or held by a dead letter in the account's chain. */
  moving: boolean;
  /** The record changed, or something was exchanged with the ERP, after the ERP's read began. */
  newer: boolean;
}

/**
 * The `customers` domain's comparison with its system of record: the ERP backend that the routing of `customers`
 * names (`erp:<id>`; on a schedule when its `reconcile.customers` says how often). Its customers are read through
 * the connector's read, the one the pull uses (governed; it pages inside, so a run is one page), and each is judged
 * field by field as the pull would judge it (erpCustomerDrift):
 * - a field the ERP owns that differs, or an account Crossdock lacks: `source-differs`, repaired by `recompute`:
 *   the ERP's customer applied as the pull applies it (CustomerDirectory.apply: the read model, and the record by
 *   CustomerRecords.change, route `poll`, source `erp:<id>`), so that the record, its version and the channels follow;
 * - a field owned elsewhere that the ERP still holds as it last saw it from Crossdock: it missed our update,
 *   `target-differs`, repaired by `republish`: the record's value sent again (erp.customer.update, in the account's chain);
 * - a field owned elsewhere that the ERP changed itself: `changed-in-erp`, reported and left alone (Crossdock does
 *   not overwrite its system of record's user without a person).
 * Not compared: an account whose record changed or was exchanged with the ERP after the read began (what was read
 * is older than it), nor, on the target side, one with a write to the ERP still on its way (or held by a dead
 * letter): the gap is what that write closes. An account held as a quality exception from this ERP is a person's.
 */
@Injectable()
export class ErpCustomersReconciler implements Reconciler, OnModuleInit {
  readonly domain = 'customers';

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly reconcilers: Reconcilers,
    private readonly queries: QueryBus,
    private readonly erp: ErpDestination,
    private readonly records: CustomerRecords,
    private readonly directory: CustomerDirectory,
  ) {}

  onModuleInit(): void {
    this.reconcilers.register(this);
  }

  async targets(): Promise<ReconcileTarget[]> {
    const primary = await this.primary();
    if (!primary) return [];
    const backend = await this.queries.execute(new ErpBackendQuery(primary));
    return [reconcileTarget(`erp:${primary}`, backend?.reconcile, 'customers')];
  }

  async compare(target: string): Promise<ComparedPage> {
    const backendId = target.slice('erp:'.length);
    // Routed elsewhere since the run began: this ERP no longer speaks for the canonical customers.
    if ((await this.primary()) !== backendId) return { compared: 0, findings: [], nextCursor: null };
    const { rows: [{ readAt }] } = (await this.pool.query<{ readAt: string }>(`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "readAt"`)) as { rows: Array<{ readAt: string }> };
    // Customers it could not describe fully (rejected) are not compared: the pull keeps their last figures too.
    const { customers } = await this.erp.customers(backendId);
    if (customers.length === 0) return { compared: 0, findings: [], nextCursor: null };
    const source = `erp:${backendId}`;
    const { rows } = await this.pool.query<AccountState>(
      `select v.number, c.fields, s.seen,
              (select array_agg(x.field) from customer_conflict x where x.account_number = v.number and x.status = 'open') as held,
              exists (select 1 from customer_exception e where e.account_number = v.number and e.source = $2 and e.resolved_at is null) as excepted,
              exists (select 1 from outbox m where m.destination = $2 and m.key = 'customer:' || v.number and ${unfinished('m')}) as moving,
              coalesce(c.updated_at > $3::timestamptz or s.synced_at > $3::timestamptz, false) as newer
         from unnest($1::text[]) as v(number)
         left join customer c on c.account_number = v.number
         left join customer_sync s on s.account_number = v.number and s.system = 'erp'`,
      [customers.map((c) => c.number), source, readAt],
    );
    const byNumber = new Map(rows.map((row) => [row.number, row]));
    const ownership = await this.records.ownership(this.pool);
    let compared = 0;
    const findings: Finding[] = [];
    for (const customer of [...customers].sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0))) {
      const state = byNumber.get(customer.number);
      if (!state || state.newer || state.excepted) continue;
      compared++;
      const drift = erpCustomerDrift({
        accountNumber: customer.number, erp: erpFields(customer), current: state.fields, lastSeen: state.seen ?? {},
        held: new Set(state.held ?? []), ownership, writable: ERP_WRITABLE_FIELDS,
      });
      const key = customer.number;
      if (drift.source.length > 0) {
        const detail: ReadDetail = { customer, readAt, fields: drift.source.map((d) => d.field) };
        findings.push({ key, class: SOURCE_DIFFERS, repair: 'recompute', expected: erpSide(drift.source), actual: drift.missing ? null : recordSide(drift.source), detail: { ...detail } });
      }
      if (state.moving) continue;
      if (drift.target.length > 0) {
        findings.push({ key, class: TARGET_DIFFERS, repair: 'republish', expected: recordSide(drift.target), actual: erpSide(drift.target), detail: { fields: drift.target.map((d) => d.field) } });
      }
      if (drift.changedInErp.length > 0) {
        findings.push({
          key, class: CHANGED_IN_ERP, repair: 'report', expected: recordSide(drift.changedInErp), actual: erpSide(drift.changedInErp),
          detail: { fields: drift.changedInErp.map((d) => d.field), lastSeen: Object.fromEntries(drift.changedInErp.map((d) => [d.field, state.seen?.[d.field] ?? null])) },
        });
      }
    }
    return { compared, findings, nextCursor: null };
  }

  /** In the run's transaction; `report` never comes here. */
  async repair(tx: Tx, target: string, finding: Finding): Promise<Record<string, unknown>> {
    const backendId = target.slice('erp:'.length);
    if (finding.class === SOURCE_DIFFERS) {
      const { customer, readAt } = finding.detail as unknown as ReadDetail;
      await tx.query(`select pg_advisory_xact_lock(hashtextextended('customer:' || $1, 0))`, [customer.number]);
      // A pull or a notice brought the ERP's word on the account after this read: what was read is older than it.
      const { rows: [since] } = await tx.query<{ newer: boolean }>(`select synced_at > $2::timestamptz as newer from customer_sync where account_number = $1 and system = 'erp'`, [customer.number, readAt]);
      if (since?.newer) return { applied: false, stale: true };
      await this.directory.apply(tx, backendId, [customer]);
      const view = await this.records.view(tx, customer.number);
      return { applied: true, version: view?.version ?? null };
    }
    if (finding.class === TARGET_DIFFERS) {
      const fields = (finding.detail?.fields ?? []) as CustomerField[];
      const sent = await this.records.resendToErp(tx, finding.key, fields);
      return sent ? { republished: true, ...sent } : { republished: false, reason: 'no ERP is routed for customers, or none of the fields is one an ERP write carries' };
    }
    return { skipped: `${finding.class} is not repaired` };
  }

  private async primary(): Promise<string | undefined> {
    const route = await inTransaction(this.pool, (tx) => this.queries.execute(new ErpRouteQuery('customers', tx)));
    return route?.primary;
  }
}

const erpSide = (drift: FieldDrift[]) => Object.fromEntries(drift.map((d) => [d.field, d.erp ?? null]));
const recordSide = (drift: FieldDrift[]) => Object.fromEntries(drift.map((d) => [d.field, d.record ?? null]));
