import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type pg from 'pg';
import { ACCOUNTS_PER_READ, ShopifyCustomerReads, storeAccountDrift, type StoreAccountRef } from '../../../connectors/channels/shopify/shopify-customer-reads.js';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import type { Tx } from '../../../platform/database/transaction.js';
import { reconcileTarget, Reconcilers, type ComparedPage, type Finding, type Reconciler, type ReconcileTarget } from '../../../platform/reconciliation/reconcilers.js';
import { ChannelQuery, ChannelsQuery } from '../../configuration/index.js';
import { CustomerRecords } from '../commands/customer-records.js';
import type { CustomerField, CustomerFields } from '../domain/customer.js';

const CHANNEL_DIFFERS = 'channel-differs';
const CHANGED_IN_CHANNEL = 'changed-in-channel';

interface KnownAccount {
  accountNumber: string;
  ids: Record<string, string>;
}

/**
 * The customers' comparison with each Shopify store (`channel:<id>`; every store on demand, on a schedule those
 * whose `reconcile.customers` says how often): the accounts the store knows (its customer, its company and location
 * in `systemIds`), a page at a time in account order, read by id through the channel's governor, against the record
 * as Crossdock writes it there (storeAccountDrift, the delivery's own mapping). A store holding otherwise a field the
 * channels do not own (a merchant's or another app's edit of a name, a billing address, a tax id) is `channel-differs`,
 * repaired by `republish`: the record sent to that store again as a new version. A store holding otherwise a field
 * the channels own (by default email, phone, shipping address) holds a channel owner's edit whose webhook was lost:
 * overwriting it would lose it, and the store's terms are not the record's, so the account is `changed-in-channel`,
 * reported with all its drift and left alone (a republish would send every field) until a person takes the edit in
 * (`PUT /v1/customers/{n}`) or puts the store right. Not compared: an account the store was never sent (what it holds is its own until the first
 * version), one with a version on its way or held by a dead letter, or delivered after the store was read.
 */
@Injectable()
export class StoreCustomersReconciler implements Reconciler, OnModuleInit {
  readonly domain = 'customers';

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly reconcilers: Reconcilers,
    private readonly queries: QueryBus,
    private readonly reads: ShopifyCustomerReads,
    private readonly records: CustomerRecords,
  ) {}

  onModuleInit(): void {
    this.reconcilers.register(this);
  }

  async targets(): Promise<ReconcileTarget[]> {
    const channels = await this.queries.execute(new ChannelsQuery());
    return channels.filter((c) => c.kind === 'shopify').map((c) => reconcileTarget(`channel:${c.id}`, c.reconcile, 'customers'));
  }

  async compare(target: string, cursor: string | null): Promise<ComparedPage> {
    const channelId = await this.storeOf(target);
    if (!channelId) return { compared: 0, findings: [], nextCursor: null };
    const { rows: page } = await this.pool.query<KnownAccount>(
      `select account_number as "accountNumber", system_ids as ids from customer
        where (system_ids ? $1 or system_ids ? $2) and account_number > coalesce($3::text, '')
        order by account_number limit $4`,
      [`shopify:${channelId}`, `shopify-company:${channelId}`, cursor, ACCOUNTS_PER_READ],
    );
    const nextCursor = page.length < ACCOUNTS_PER_READ ? null : page.at(-1)!.accountNumber;
    if (page.length === 0) return { compared: 0, findings: [], nextCursor };
    const { rows: [{ now: readAt }] } = (await this.pool.query<{ now: Date }>('select clock_timestamp() as now')) as { rows: Array<{ now: Date }> };
    const refs: StoreAccountRef[] = page.map((a) => {
      const companyId = a.ids[`shopify-company:${channelId}`];
      return {
        accountNumber: a.accountNumber, customerId: a.ids[`shopify:${channelId}`], companyId,
        locationId: companyId ? a.ids[`shopify-location:${channelId}`] : undefined,
      };
    });
    const held = await this.reads.accounts(channelId, refs);
    // Read after the store: the record, where the store was sent it before the read and nothing newer is on its way
    // (a change since is queued, in flight, or was delivered after the read: the store is getting it).
    const { rows: settled } = await this.pool.query<{ key: string; fields: CustomerFields }>(
      `select dv.key, c.fields from delivered_version dv
         join customer c on 'customer:' || c.account_number = dv.key
        where dv.destination = $1 and dv.key = any($2::text[]) and dv.delivered_at <= $3
          and not exists (select 1 from state_outbox s where s.destination = dv.destination and s.key = dv.key)
          and not exists (select 1 from state_inflight i where i.destination = dv.destination and i.key = dv.key)
          and not exists (select 1 from outbox o where o.destination = dv.destination and o.key = dv.key and o.status = 'dead')`,
      [target, page.map((a) => `customer:${a.accountNumber}`), readAt],
    );
    const records = new Map(settled.map((r) => [r.key.slice('customer:'.length), r.fields]));
    const ownership = await this.records.ownership(this.pool);
    let compared = 0;
    const findings: Finding[] = [];
    page.forEach((account, i) => {
      const record = records.get(account.accountNumber);
      if (!record) return;
      compared++;
      const drift = storeAccountDrift(record as unknown as Record<string, unknown>, held[i]!);
      if (drift.length === 0) return;
      const channelOwned = drift.some((d) => ownership.fields[d.field as CustomerField] === 'channel');
      findings.push({
        key: account.accountNumber, ...(channelOwned ? { class: CHANGED_IN_CHANNEL, repair: 'report' as const } : { class: CHANNEL_DIFFERS, repair: 'republish' as const }),
        expected: Object.fromEntries(drift.map((d) => [`${d.on}.${d.field}`, d.expected])),
        actual: Object.fromEntries(drift.map((d) => [`${d.on}.${d.field}`, d.actual])),
        detail: { fields: [...new Set(drift.map((d) => d.field))] },
      });
    });
    return { compared, findings, nextCursor };
  }

  /** The record to the store again as a new version, in the run's transaction. */
  async repair(tx: Tx, target: string, finding: Finding): Promise<Record<string, unknown>> {
    const channelId = await this.storeOf(target, tx);
    if (!channelId) return { republished: false, reason: `${target} is no longer a Shopify store` };
    const fields = (finding.detail?.fields ?? []) as CustomerField[];
    const sent = await this.records.republishTo(tx, finding.key, channelId, fields, true);
    return sent ? { republished: true, version: sent.version } : { republished: false, reason: 'the store no longer knows the account' };
  }

  private async storeOf(target: string, tx?: Tx): Promise<string | undefined> {
    if (!target.startsWith('channel:')) return undefined;
    const channel = await this.queries.execute(new ChannelQuery(target.slice('channel:'.length), tx));
    return channel?.kind === 'shopify' ? channel.id : undefined;
  }
}
