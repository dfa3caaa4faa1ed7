import { isDeepStrictEqual } from 'node:util';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type pg from 'pg';
import { answersFigures, WebhookReads } from '../../../connectors/channels/webhook/webhook-reads.js';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import type { Tx } from '../../../platform/database/transaction.js';
import { settledStates } from '../../../platform/delivery/delivered-states.js';
import { reconcileTarget, Reconcilers, type ComparedPage, type Finding, type Reconciler, type ReconcileTarget } from '../../../platform/reconciliation/reconcilers.js';
import { ChannelQuery, ChannelsQuery, type Channel } from '../../configuration/index.js';
import { CustomerRecords } from '../commands/customer-records.js';
import { CUSTOMER_FIELDS, type CustomerField, type CustomerFields } from '../domain/customer.js';
import { CUSTOMER_CHANGED } from '../events/customer-changed.js';

const CHANNEL_DIFFERS = 'channel-differs';
const CHANGED_IN_CHANNEL = 'changed-in-channel';
const KEY = 'customer:';

/**
 * The customers' comparison with the webhook subscribers that take `customer.changed` and answer what they hold
 * (`config.readUrl`; `channel:<id>`, on demand, on a schedule where `reconcile.customers` is set): each account the
 * subscriber holds, against the record it was last sent, field by field. Its version tells whose the difference is:
 * an older version than the one delivered is a delivery it lost (`channel-differs`, repaired by `republish`: the
 * record sent again as a new version); the version delivered with other values is its own edit of its copy, which
 * Crossdock cannot judge (the subscriber's changes come in by `PUT /v1/customers/{n}`): `changed-in-channel`, reported.
 * Not compared: accounts never sent to it, and those with a newer version on its way or delivered after the read.
 */
@Injectable()
export class SubscriberCustomersReconciler implements Reconciler, OnModuleInit {
  readonly domain = 'customers';

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly reconcilers: Reconcilers,
    private readonly queries: QueryBus,
    private readonly subscribers: WebhookReads,
    private readonly records: CustomerRecords,
  ) {}

  onModuleInit(): void {
    this.reconcilers.register(this);
  }

  async targets(): Promise<ReconcileTarget[]> {
    const channels = await this.queries.execute(new ChannelsQuery());
    return channels.filter(readable).map((c) => reconcileTarget(`channel:${c.id}`, c.reconcile, 'customers'));
  }

  async compare(target: string, cursor: string | null): Promise<ComparedPage> {
    const channel = await this.channelOf(target);
    if (!channel || !readable(channel)) return { compared: 0, findings: [], nextCursor: null };
    const { rows: [{ now }] } = (await this.pool.query<{ now: Date }>('select clock_timestamp() as now')) as { rows: Array<{ now: Date }> };
    const page = await this.subscribers.page(channel.id, CUSTOMER_CHANGED, cursor);
    const held = new Map(page.items.filter((item) => item.key.startsWith(KEY)).map((item) => [item.key, item]));
    const settled = (await settledStates(this.pool, target, [...held.keys()], now)).filter((row) => row.comparable);
    const { rows: records } = await this.pool.query<{ account_number: string; fields: CustomerFields }>(
      'select account_number, fields from customer where account_number = any($1::text[])', [settled.map((row) => row.key.slice(KEY.length))],
    );
    const byAccount = new Map(records.map((r) => [r.account_number, r.fields]));
    let compared = 0;
    const findings: Finding[] = [];
    for (const row of settled) {
      const accountNumber = row.key.slice(KEY.length);
      const record = byAccount.get(accountNumber);
      const item = held.get(row.key)!;
      const copy = item.data.customer as Partial<CustomerFields> | undefined;
      if (!record || !copy || typeof copy !== 'object') continue;
      compared++;
      const fields = CUSTOMER_FIELDS.filter((f) => !isDeepStrictEqual(copy[f] ?? null, record[f] ?? null));
      if (fields.length === 0) continue;
      const lost = item.version !== null && item.version < Number(row.version);
      findings.push({
        key: accountNumber, ...(lost ? { class: CHANNEL_DIFFERS, repair: 'republish' as const } : { class: CHANGED_IN_CHANNEL, repair: 'report' as const }),
        expected: Object.fromEntries(fields.map((f) => [f, record[f] ?? null])), actual: Object.fromEntries(fields.map((f) => [f, copy[f] ?? null])),
        detail: { fields, heldVersion: item.version, sentVersion: Number(row.version) },
      });
    }
    return { compared, findings, nextCursor: page.next };
  }

  /** The record to the subscriber again as a new version, in the run's transaction; `report` never comes here. */
  async repair(tx: Tx, target: string, finding: Finding): Promise<Record<string, unknown>> {
    const channel = await this.channelOf(target, tx);
    if (!channel) return { republished: false, reason: `${target} is no longer a channel` };
    const sent = await this.records.republishTo(tx, finding.key, channel.id, (finding.detail?.fields ?? []) as CustomerField[], false);
    return sent ? { republished: true, version: sent.version } : { republished: false, reason: 'the account is gone' };
  }

  private async channelOf(target: string, tx?: Tx): Promise<Channel | undefined> {
    if (!target.startsWith('channel:')) return undefined;
    return (await this.queries.execute(new ChannelQuery(target.slice('channel:'.length), tx))) ?? undefined;
  }

}

/** A webhook subscriber of `customer.changed` that answers what it holds. */
function readable(channel: Channel): boolean {
  return answersFigures(channel) && ((channel.config.subscribe as string[] | undefined) ?? []).includes(CUSTOMER_CHANGED);
}
