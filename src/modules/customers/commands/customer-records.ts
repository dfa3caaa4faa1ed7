import { Injectable, type OnModuleInit } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Sql } from '../../../platform/database/transaction.js';
import { ProblemException, problems } from '../../../platform/http/problem.js';
import { Destinations, type DeliveryOutcome } from '../../../platform/delivery/destinations.js';
import { Outbox } from '../../../platform/outbox/outbox.js';
import { ERP_MESSAGE_TYPES, type ErpCustomerCreate, type ErpCustomerUpdate } from '../../../connectors/erp/erp-contract.js';
import { currentCorrelationId } from '../../../platform/observability/correlation.js';
import { ChannelsQuery, ErpBackendQuery } from '../../configuration/index.js';
import { EntityIdsQuery, ErpRouteQuery, RecordXrefCommand } from '../../migration-coexistence/index.js';
import { CUSTOMER_FIELDS, DEFAULT_OWNERSHIP, ERP_WRITABLE_FIELDS, type CustomerChange, type CustomerField, type CustomerFields, type Ownership } from '../domain/customer.js';
import { applyMerge, mergeCustomerChange, sameValue, type MergeResult } from '../domain/customer-merge.js';
import { checkCustomerQuality, type QualityViolation } from '../domain/customer-quality.js';
import { CUSTOMER_CHANGED, type CustomerChanged } from '../events/customer-changed.js';

/** The key of an account's commands to the ERP: `customer:<account number>`. */
const ACCOUNT_KEY = 'customer:';

/** An id a system knows an account by: `erp:<backend>`, `shopify:<store>` (its customer), `shopify-company:<store>`, `shopify-location:<store>`. */
export interface SystemId {
  key: string;
  id: string;
}

/** How a change reached Crossdock: the API answers refusals; a webhook or a poll is not there to hear them. */
export type ChangeRoute = 'api' | 'webhook' | 'poll';

/** A customer as the API shows it. */
export interface CustomerView {
  accountNumber: string;
  customer: CustomerFields;
  version: number;
  provenance: Record<string, { system: string; source: string; at: string }>;
  systemIds: Record<string, string>;
  updatedAt: string;
}

export interface ChangeOptions {
  /** An operator's resolution of a conflict: nothing is recorded as seen by the field's owner. */
  operator?: boolean;
  /** Fields to write to the ERP whoever changed them (a resolution the ERP has not seen). */
  alsoToErp?: CustomerField[];
  /** When the source made the change (a webhook's time): one older than the source's newest applied is stale. */
  occurredAt?: Date;
}

export interface ChangeOutcome {
  /** The sending system knows the account by another of its records (this change was left out). */
  foreign?: string;
  /** The account is not known, and the ERP routed for customers does not take new ones (this change was left out). */
  unknownAccount?: string;
  /** The open exception the change is held in, when it broke a quality rule (by webhook or poll). */
  exceptionId?: string;
  /** The source sent a newer change already (by occurredAt): this one was left out. */
  stale?: boolean;
  view: CustomerView | null;
  merge: MergeResult;
  /** The change broke a quality rule: nothing was written (the route decides where it goes). */
  violations: QualityViolation[];
  /** Another account with the same email or tax id. */
  duplicates: Array<{ field: 'email' | 'taxId'; accountNumber: string }>;
}

/**
 * The canonical customers: each change judged field by field (ownership, echoes, conflicts), checked for quality,
 * and written with its version, provenance and `customer.changed` in the caller's transaction.
 */
@Injectable()
export class CustomerRecords implements OnModuleInit {
  constructor(
    private readonly outbox: Outbox,
    private readonly queries: QueryBus,
    private readonly destinations: Destinations,
    private readonly commands: CommandBus,
  ) {}

  onModuleInit(): void {
    this.destinations.onOutcome(ERP_MESSAGE_TYPES.updateCustomer, (tx, outcome) => this.erpUpdated(tx, outcome));
    this.destinations.onOutcome(ERP_MESSAGE_TYPES.createCustomer, (tx, outcome) => this.erpUpdated(tx, outcome));
    this.destinations.onOutcomes(CUSTOMER_CHANGED, (tx, outcomes) => this.storesWritten(tx, outcomes));
  }

  /**
   * A version written to a store: the store's webhooks older than now are older than our write (an echo of an
   * earlier version we sent it, arriving late, must not undo a later change from elsewhere). Per store source
   * (its customers, its companies, its locations), in customer_source_clock.
   */
  private async storesWritten(sql: Sql, outcomes: DeliveryOutcome[]): Promise<void> {
    const rows = outcomes.filter((o) => o.event === 'delivered' && o.delivery.destination.startsWith('channel:') && o.delivery.payload).flatMap((o) => {
      const store = `shopify:${o.delivery.destination.slice('channel:'.length)}`;
      const account = String(o.delivery.payload!.accountNumber);
      return [
        ...(o.delivery.payload!.shopifyCustomerId ? [[account, store]] : []),
        ...(o.delivery.payload!.shopifyCompanyId ? [[account, `${store}/company`], [account, `${store}/location`]] : []),
      ];
    });
    if (rows.length === 0) return;
    await sql.query(
      `insert into customer_source_clock (account_number, source, occurred_at)
       select a, s, clock_timestamp() from unnest($1::text[], $2::text[]) as v(a, s)
       on conflict (account_number, source) do update set occurred_at = greatest(customer_source_clock.occurred_at, excluded.occurred_at)`,
      [rows.map((r) => r[0]), rows.map((r) => r[1])],
    );
  }

  async ownership(sql: Pick<Sql, 'query'>): Promise<Ownership> {
    const { rows: [row] } = await sql.query<{ fields: Ownership['fields']; on_conflict: Ownership['onConflict'] }>('select fields, on_conflict from customer_ownership where id = 1');
    return row ? { fields: { ...DEFAULT_OWNERSHIP.fields, ...row.fields }, onConflict: row.on_conflict } : DEFAULT_OWNERSHIP;
  }

  async setOwnership(sql: Sql, ownership: Ownership): Promise<void> {
    await sql.query(
      `insert into customer_ownership (id, fields, on_conflict) values (1, $1, $2)
       on conflict (id) do update set fields = excluded.fields, on_conflict = excluded.on_conflict, updated_at = clock_timestamp()`,
      [JSON.stringify(ownership.fields), ownership.onConflict],
    );
  }

  async view(sql: Sql, accountNumber: string): Promise<CustomerView | null> {
    const { rows: [row] } = await sql.query<CustomerView>(
      `select account_number as "accountNumber", fields as customer, version::int as version, provenance, system_ids as "systemIds",
              to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "updatedAt"
         from customer where account_number = $1`,
      [accountNumber],
    );
    return row ?? null;
  }

  /**
   * Judges and applies one system's change of one account. Through the API, fields the system does not own are
   * refused (409) and a record breaking a quality rule too (422); by webhook or poll they are left out, and the
   * outcome says why. `systemId`: the id the sending system knows the account by.
   */
  async change(sql: Sql, accountNumber: string, change: CustomerChange, route: ChangeRoute, source: string, systemId?: SystemId | SystemId[], options: ChangeOptions = {}): Promise<ChangeOutcome> {
    const ids = systemId === undefined ? [] : Array.isArray(systemId) ? systemId : [systemId];
    await sql.query(`select pg_advisory_xact_lock(hashtextextended('customer:' || $1, 0))`, [accountNumber]);
    const ownership = await this.ownership(sql);
    const { rows: [state] } = await sql.query<{ fields: CustomerFields | null; seen: Partial<CustomerFields> | null; held: CustomerField[] | null; ids: Record<string, string> | null }>(
      `select c.fields, s.seen, c.system_ids as ids,
              (select array_agg(field) from customer_conflict x where x.account_number = $1 and x.status = 'open') as held
         from (select 1) one
         left join customer c on c.account_number = $1
         left join customer_sync s on s.account_number = $1 and s.system = $2`,
      [accountNumber, change.system],
    );
    const current = state?.fields ?? null;
    const unknownAccount = current || change.system === 'erp' ? undefined : await this.refusesNewAccounts(sql);
    if (unknownAccount) {
      if (route === 'api') throw new ProblemException(404, 'not-found', 'Not found', `Customer ${accountNumber} does not exist, and ${unknownAccount}: make the account in the ERP first`);
      return { view: null, merge: { applied: {}, unchanged: [], echoes: [], refused: [], conflicts: [], held: [] }, violations: [], duplicates: [], unknownAccount };
    }
    // Another of the system's records claims an account it already knows by another id (two buyers of one company
    // tagged with its account in a store): the first one recorded speaks for it.
    const foreign = ids.map((id) => state?.ids?.[id.key]).find((known, i) => known !== undefined && known !== ids[i]!.id);
    if (foreign) {
      return { view: await this.view(sql, accountNumber), merge: { applied: {}, unchanged: [], echoes: [], refused: [], conflicts: [], held: [] }, violations: [], duplicates: [], foreign };
    }
    const idsJson = ids.length > 0 ? JSON.stringify(Object.fromEntries(ids.map((id) => [id.key, id.id]))) : null;
    if (options.occurredAt && !(await this.newestOfSource(sql, accountNumber, source, options.occurredAt))) {
      return { view: await this.view(sql, accountNumber), merge: { applied: {}, unchanged: [], echoes: [], refused: [], conflicts: [], held: [] }, violations: [], duplicates: [], stale: true };
    }
    // The change's values as the record would hold them (E.164, lower-case domains...), so that a system sending its
    // own format of an unchanged value is not taken for a change.
    const formatted = checkCustomerQuality(accountNumber, applyMerge(current, change.fields)).normalized;
    const incoming = { ...change, fields: Object.fromEntries(Object.keys(change.fields).map((f) => [f, formatted[f as CustomerField]])) as Partial<CustomerFields> };
    const merge = mergeCustomerChange({ current, lastSeen: state?.seen ?? {}, held: new Set(state?.held ?? []), ownership, change: incoming });
    if (route === 'api' && merge.refused.length > 0) {
      throw new ProblemException(409, 'not-owner', 'Not the owner', `${change.system} does not own ${merge.refused.join(', ')} of customer ${accountNumber}: ${merge.refused.map((f) => `${f} is owned by ${ownership.fields[f]}`).join('; ')}`, { fields: merge.refused });
    }
    const { normalized, violations } = checkCustomerQuality(accountNumber, applyMerge(current, merge.applied));
    if (violations.length > 0) {
      if (route === 'api') throw problems.validation(violations.map((v) => ({ field: v.field, message: `${v.rule}: ${v.message}` })));
      const exceptionId = await this.hold(sql, accountNumber, change, source, ids, route, violations);
      return { view: await this.view(sql, accountNumber), merge, violations, duplicates: [], exceptionId };
    }
    // A change from this source that applies makes its held one moot (it was newer, or the held one's fix).
    await sql.query(`update customer_exception set resolved_at = clock_timestamp(), resolution = 'applied', attempts = attempts + 1, last_tried_at = clock_timestamp()
                      where account_number = $1 and source = $2 and resolved_at is null`, [accountNumber, source]);
    // What the record gains: the fields whose value differs from the record's (normalisation may make two equal).
    const changed = CUSTOMER_FIELDS.filter((f) => !current || !sameValue(current[f], normalized[f]));
    await this.recordConflicts(sql, accountNumber, change, source, merge);
    if (changed.length > 0 || !current) {
      const provenance = Object.fromEntries(changed.map((f) => [f, { system: change.system, source, at: new Date().toISOString() }]));
      await sql.query(
        `insert into customer (account_number, fields, provenance, system_ids, version)
         values ($1, $2, $3, coalesce($4::jsonb, '{}'), nextval('customer_version_seq'))
         on conflict (account_number) do update
           set fields = excluded.fields, provenance = customer.provenance || excluded.provenance,
               system_ids = customer.system_ids || coalesce($4::jsonb, '{}'), version = excluded.version, updated_at = clock_timestamp()`,
        [accountNumber, JSON.stringify(normalized), JSON.stringify(provenance), idsJson],
      );
    } else if (idsJson) {
      await sql.query(`update customer set system_ids = system_ids || $2::jsonb where account_number = $1`, [accountNumber, idsJson]);
    }
    // What the sending system holds now: what it sent (applied or not); an operator's resolution is no system's.
    // The ERP's own change of a field it does not own (refused) is not what it saw from Crossdock: kept out, it stays
    // a refusal at every pull, and reconciliation can tell it (changed-in-erp) from an update the ERP missed.
    const seen = options.operator ? {} : route === 'poll' ? withoutFields(incoming.fields, merge.refused) : incoming.fields;
    await sql.query(
      `insert into customer_sync (account_number, system, seen) values ($1, $2, $3)
       on conflict (account_number, system) do update set seen = customer_sync.seen || excluded.seen, synced_at = clock_timestamp()`,
      [accountNumber, change.system, JSON.stringify(seen)],
    );
    const view = (await this.view(sql, accountNumber))!;
    if (changed.length > 0) await this.publish(sql, view, changed);
    await this.toErp(sql, view, change, changed, merge, options.alsoToErp ?? [], !current);
    return { view, merge, violations: [], duplicates: await this.duplicates(sql, accountNumber, normalized) };
  }

  private async recordConflicts(sql: Sql, accountNumber: string, change: CustomerChange, source: string, merge: MergeResult): Promise<void> {
    if (merge.conflicts.length === 0) return;
    await sql.query(
      `insert into customer_conflict (account_number, field, owner, system, source, current, incoming, status, resolution, resolved_at)
       select $1, c.field, c.owner, $2, $3, c.current, c.incoming, case when c.resolution = 'held' then 'open' else 'resolved' end,
              case when c.resolution = 'held' then null else c.resolution end, case when c.resolution = 'held' then null else clock_timestamp() end
         from jsonb_to_recordset($4::jsonb) as c(field text, owner text, current jsonb, incoming jsonb, resolution text)
       on conflict (account_number, field) where status = 'open' do nothing`,
      [accountNumber, change.system, source, JSON.stringify(merge.conflicts)],
    );
  }

  /**
   * Writes to the ERP routed for customers what another system changed (the fields the ERP does not own, that it
   * can hold), and, where the ERP sent a value that lost to its owner's, the owner's value again: a command in the
   * account's chain, so that its writes arrive in order. What the ERP is sent is what it has seen, once delivered.
   * The ERP's id of the account rides along where the cross-reference has it: its connector reads the account by it.
   */
  private async toErp(sql: Sql, view: CustomerView, change: CustomerChange, changed: CustomerField[], merge: MergeResult, also: CustomerField[], created: boolean): Promise<void> {
    const fields = new Set<CustomerField>([...(change.system === 'erp' ? [] : changed), ...also]);
    if (change.system === 'erp') for (const conflict of merge.conflicts) if (conflict.resolution === 'owner-wins') fields.add(conflict.field);
    const written = [...fields].filter((f) => ERP_WRITABLE_FIELDS.has(f) && !(created && view.customer[f] === null));
    // A new account (refusesNewAccounts let it through) is created; its later changes follow it in its chain.
    await this.sendToErp(sql, view, written, created && change.system !== 'erp' ? ERP_MESSAGE_TYPES.createCustomer : ERP_MESSAGE_TYPES.updateCustomer);
  }

  /**
   * The record's values of `fields` to the ERP routed for customers again, as toErp sends them (an update in the
   * account's chain): reconciliation found the ERP still holding what it last saw before they changed. The
   * destination it went to; undefined when no ERP is routed for customers or no field is one an ERP write carries.
   */
  async resendToErp(sql: Sql, accountNumber: string, fields: CustomerField[]): Promise<{ destination: string; fields: CustomerField[] } | undefined> {
    await sql.query(`select pg_advisory_xact_lock(hashtextextended('customer:' || $1, 0))`, [accountNumber]);
    const view = await this.view(sql, accountNumber);
    const written = fields.filter((f) => ERP_WRITABLE_FIELDS.has(f));
    if (!view || written.length === 0) return undefined;
    const destination = await this.sendToErp(sql, view, written, ERP_MESSAGE_TYPES.updateCustomer);
    return destination ? { destination, fields: written } : undefined;
  }

  private async sendToErp(sql: Sql, view: CustomerView, written: CustomerField[], type: string): Promise<string | undefined> {
    if (written.length === 0) return undefined;
    const route = await this.queries.execute(new ErpRouteQuery('customers', sql));
    if (!route) return undefined;
    const erpId = (await this.queries.execute(new EntityIdsQuery(sql, 'customer', { canonicalId: view.accountNumber })))?.backends[route.primary]?.erpId ?? null;
    const write: ErpCustomerUpdate | ErpCustomerCreate = { number: view.accountNumber, erpId, fields: Object.fromEntries(written.map((f) => [f, view.customer[f]])) };
    await this.outbox.add(sql, { type, kind: 'command', key: `${ACCOUNT_KEY}${view.accountNumber}`, payload: { ...write } }, [`erp:${route.primary}`]);
    return `erp:${route.primary}`;
  }

  /** Records the change's time as the source's newest; false when the source sent a newer one already (equal is not older). */
  private async newestOfSource(sql: Sql, accountNumber: string, source: string, occurredAt: Date): Promise<boolean> {
    const { rowCount } = await sql.query(
      `insert into customer_source_clock (account_number, source, occurred_at) values ($1, $2, $3)
       on conflict (account_number, source) do update set occurred_at = excluded.occurred_at where customer_source_clock.occurred_at <= excluded.occurred_at`,
      [accountNumber, source, occurredAt],
    );
    return rowCount === 1;
  }

  /**
   * Why an account Crossdock does not know cannot be made by another system: the ERP routed for customers does not
   * accept new accounts (`acceptNewCustomers`). Undefined when it does, or when no ERP is routed for customers.
   */
  private async refusesNewAccounts(sql: Sql): Promise<string | undefined> {
    const route = await this.queries.execute(new ErpRouteQuery('customers', sql));
    if (!route) return undefined;
    const backend = await this.queries.execute(new ErpBackendQuery(route.primary, sql));
    return backend?.acceptNewCustomers ? undefined : `ERP backend ${route.primary} does not accept new accounts (acceptNewCustomers)`;
  }

  /**
   * A change by webhook or poll that broke a quality rule, held whole as an exception (one open per account and
   * source: a newer change from the source replaces the held one), to be fixed and retried, or dismissed.
   */
  private async hold(sql: Sql, accountNumber: string, change: CustomerChange, source: string, ids: SystemId[], route: ChangeRoute, violations: QualityViolation[]): Promise<string> {
    const reason = violations.map((v) => `${v.field}: ${v.rule}: ${v.message}`).join('; ');
    const { rows: [held] } = await sql.query<{ id: string }>(
      `insert into customer_exception (account_number, source, change, system_id, violations, reason, correlation_id)
       values ($1, $2, $3, $4, $5, $6, $7)
       on conflict (account_number, source) where resolved_at is null
       do update set change = excluded.change, system_id = excluded.system_id, violations = excluded.violations, reason = excluded.reason,
                     correlation_id = excluded.correlation_id, received_at = clock_timestamp()
       returning id::text`,
      [accountNumber, source, JSON.stringify({ ...change, route }), ids.length > 0 ? JSON.stringify(ids) : null, JSON.stringify(violations), reason, currentCorrelationId() ?? null],
    );
    return held!.id;
  }

  /**
   * An update or creation the ERP took: the ERP has now seen those values (its echo of them is known as such), and
   * the account is known by the ERP's id for it (in its record and the cross-reference).
   */
  private async erpUpdated(sql: Sql, outcome: DeliveryOutcome): Promise<void> {
    if (outcome.event !== 'delivered') return;
    const erpId = (outcome.result as { erpId?: unknown } | undefined)?.erpId;
    if (typeof erpId === 'string') {
      const accountNumber = outcome.delivery.key.slice(ACCOUNT_KEY.length);
      await this.commands.execute(new RecordXrefCommand(sql, 'customer', outcome.delivery.destination.slice('erp:'.length), [{ canonicalId: accountNumber, erpId }]));
      await sql.query(
        `update customer c set system_ids = c.system_ids || jsonb_build_object($2::text, $3::text)
           from outbox o where o.delivery_id = $1 and c.account_number = o.payload->>'number'`,
        [outcome.delivery.deliveryId, outcome.delivery.destination, erpId],
      );
    }
    // The fields the ERP took (a connector names them; a field it had no room for was not seen).
    const written = (outcome.result as { written?: string[] } | undefined)?.written ?? null;
    await sql.query(
      `insert into customer_sync (account_number, system, seen)
       select o.payload->>'number', 'erp', (select coalesce(jsonb_object_agg(f.key, f.value), '{}') from jsonb_each(o.payload->'fields') f
                                            where $2::text[] is null or f.key = any($2::text[]))
         from outbox o join customer c on c.account_number = o.payload->>'number'
        where o.delivery_id = $1
       on conflict (account_number, system) do update set seen = customer_sync.seen || excluded.seen, synced_at = clock_timestamp()`,
      [outcome.delivery.deliveryId, written],
    );
  }

  /**
   * The record to one channel again, as a new version of its own (reconciliation found it holding otherwise): a
   * store (`asStore`, with the ids it knows the account by) or a webhook subscriber. A version from the records'
   * sequence, so that it goes after what the channel was sent and before any later change; the record keeps its own. Undefined when the record
   * is gone, or the store no longer knows the account.
   */
  async republishTo(sql: Sql, accountNumber: string, channelId: string, changed: CustomerField[], asStore: boolean): Promise<{ version: number } | undefined> {
    await sql.query(`select pg_advisory_xact_lock(hashtextextended('customer:' || $1, 0))`, [accountNumber]);
    const view = await this.view(sql, accountNumber);
    if (!view) return undefined;
    const ids = asStore ? storeIdsOf(view, channelId) : {};
    if (asStore && Object.keys(ids).length === 0) return undefined;
    const { rows: [next] } = await sql.query<{ version: number }>(`select nextval('customer_version_seq')::int as version`);
    // The event's version is the new one: a subscriber that keeps the newest version of each account takes it.
    const payload: CustomerChanged = { accountNumber, changed, customer: view.customer, version: next!.version };
    await this.outbox.add(sql, { type: CUSTOMER_CHANGED, kind: 'state', key: `customer:${accountNumber}`, version: next!.version, payload: { ...payload, ...ids } }, [`channel:${channelId}`]);
    return { version: next!.version };
  }

  /** Other accounts with the same email or tax id: flagged, not refused (two accounts of one company are common). */
  private async duplicates(sql: Sql, accountNumber: string, fields: CustomerFields): Promise<ChangeOutcome['duplicates']> {
    if (!fields.email && !fields.taxId) return [];
    const { rows } = await sql.query<{ field: 'email' | 'taxId'; account_number: string }>(
      `select 'email' as field, account_number from customer where lower(fields->>'email') = lower($2) and account_number <> $1
       union all
       select 'taxId', account_number from customer where fields->>'taxId' = $3 and account_number <> $1
       order by 1, 2 limit 20`,
      [accountNumber, fields.email, fields.taxId],
    );
    return rows.map((r) => ({ field: r.field, accountNumber: r.account_number }));
  }

  /**
   * `customer.changed` to the webhook subscribers that take it, and to each store that knows the customer (by its
   * id there): the newest version per account, never an older one after it.
   */
  private async publish(sql: Sql, view: CustomerView, changed: CustomerField[]): Promise<void> {
    const channels = await this.queries.execute(new ChannelsQuery(sql));
    const subscribers = channels.filter((c) => c.kind === 'webhook' && ((c.config.subscribe as string[] | undefined) ?? []).includes(CUSTOMER_CHANGED));
    // The store a change came from too: a version queued for it before must not land after this one (writing what
    // it holds changes nothing, and its webhook then finds the record unchanged).
    const storeIds = (storeId: string) => storeIdsOf(view, storeId);
    const stores = channels.filter((c) => c.kind === 'shopify' && (view.systemIds[`shopify:${c.id}`] || view.systemIds[`shopify-company:${c.id}`]));
    const payload: CustomerChanged = { accountNumber: view.accountNumber, changed, customer: view.customer, version: view.version };
    const message = (extra: Record<string, unknown> = {}) => ({ type: CUSTOMER_CHANGED, kind: 'state' as const, key: `customer:${view.accountNumber}`, version: view.version, payload: { ...payload, ...extra } });
    await this.outbox.addMany(sql, [
      ...(subscribers.length > 0 ? [{ message: message(), destinations: subscribers.map((c) => `channel:${c.id}`) }] : []),
      ...stores.map((c) => ({ message: message(storeIds(c.id)), destinations: [`channel:${c.id}`] })),
    ]);
  }
}

function withoutFields(fields: Partial<CustomerFields>, left: readonly CustomerField[]): Partial<CustomerFields> {
  return Object.fromEntries(Object.entries(fields).filter(([f]) => !left.includes(f as CustomerField))) as Partial<CustomerFields>;
}

/** The ids a store knows the account by: as a customer (a B2B buyer), as a company (and its location), or both. */
function storeIdsOf(view: CustomerView, storeId: string): Record<string, string> {
  return Object.fromEntries(Object.entries({
    shopifyCustomerId: view.systemIds[`shopify:${storeId}`], shopifyCompanyId: view.systemIds[`shopify-company:${storeId}`],
    shopifyCompanyLocationId: view.systemIds[`shopify-company:${storeId}`] ? view.systemIds[`shopify-location:${storeId}`] : undefined,
  }).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
