import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type pg from 'pg';
import type { ErpChangeSubscription } from '../../connectors/erp/erp-contract.js';
import { ErpDestination } from '../../connectors/erp/erp-destination.js';
import { PG_POOL } from '../../platform/database/pg-pool.js';
import { inTransaction } from '../../platform/database/transaction.js';
import { Inbox } from '../../platform/inbox/inbox.js';
import type { Logger } from '../../platform/observability/logger.js';
import { LOGGER } from '../../platform/observability/observability.module.js';
import { IntegrationEvents } from '../../platform/outbox/integration-events.js';
import { startRecurring } from '../../platform/recurring.js';
import { ErpBackendsQuery } from '../configuration/index.js';
import { CustomerDirectory } from './customer-directory.js';
import { ErpCustomerNoticed } from './events/erp-customer-noticed.js';

export const ERP_NOTIFICATION_SETTINGS = Symbol('ERP_NOTIFICATION_SETTINGS');
export interface ErpNotificationSettings {
  /** Where the ERPs reach this service; without it no ERP is asked for notifications. */
  publicUrl?: string;
  checkMs: number;
  /** A subscription is renewed once it expires within this. */
  renewBeforeMs: number;
  /** Keep subscriptions on this instance (the worker and all roles). */
  enabled: boolean;
}

const ENTITY = 'customers';
const FIRST_CHECK_AFTER_MS = 2_000;

/** What became of a backend's subscription at a check. */
export type SubscriptionStep = 'none' | 'kept' | 'subscribed' | 'renewed' | 'resubscribed' | 'busy';

/** What a notification's body held: accepted (new), duplicates, and notices that are not ours (wrong subscription or secret). */
export interface NoticeReceipt {
  accepted: number;
  duplicates: number;
  ignored: number;
}

/**
 * Customers pushed by the ERP (Business Central webhooks, docs/CUSTOMERS.md "In"): each backend whose connector has
 * change notifications is subscribed to its customers, at `CROSSDOCK_PUBLIC_URL/v1/webhooks/erp/{backendId}`, and the
 * subscription renewed before it expires; one that lapsed is made anew and followed by a pull, since what changed in
 * between was not notified. A notification carries only the changed record's resource: each is accepted once (the
 * inbox), checked against the subscription's id and secret, and read back through the governor by a durable event, so
 * that an ERP that cannot answer now is read later, and the newest state is what is applied whatever the order the
 * notifications came in. `collection` (many changed) is a pull.
 */
@Injectable()
export class ErpCustomerNotifications implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private recurring?: ReturnType<typeof startRecurring>;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly erp: ErpDestination,
    private readonly queries: QueryBus,
    private readonly inbox: Inbox,
    private readonly events: IntegrationEvents,
    private readonly directory: CustomerDirectory,
    @Inject(ERP_NOTIFICATION_SETTINGS) private readonly settings: ErpNotificationSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.events.subscribe('customers', ErpCustomerNoticed, (event) => this.readBack(event));
  }

  onApplicationBootstrap(): void {
    if (!this.settings.enabled || !this.settings.publicUrl) return;
    this.recurring = startRecurring(async () => void (await this.maintainAll()), {
      firstAfterMs: FIRST_CHECK_AFTER_MS, everyMs: this.settings.checkMs, onError: (error) => this.logger.warn({ err: error }, 'checking ERP subscriptions failed'),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.recurring?.stop();
  }

  /** Every backend's subscription, checked now (each on its own: one ERP down does not hold the others). */
  async maintainAll(): Promise<Record<string, SubscriptionStep>> {
    const steps: Record<string, SubscriptionStep> = {};
    for (const backend of await this.queries.execute(new ErpBackendsQuery())) {
      try {
        steps[backend.id] = await this.maintain(backend.id);
      } catch (error) {
        this.logger.warn({ err: error, backendId: backend.id }, 'the ERP subscription could not be made or renewed; customers still come by the pull');
      }
    }
    return steps;
  }

  /**
   * Makes sure the backend notifies its customers' changes, until after the next check: subscribes, renews, or
   * subscribes anew (and pulls) when the ERP lost or expired the subscription or it names another URL. Once across
   * instances: a backend another instance is checking is left to it (`busy`).
   */
  async maintain(backendId: string): Promise<SubscriptionStep> {
    if (!this.settings.publicUrl) return 'none';
    const access = await this.erp.changeNotifications(backendId);
    if (!access) return 'none';
    const { notifications, call } = access;
    const notificationUrl = `${this.settings.publicUrl}/v1/webhooks/erp/${encodeURIComponent(backendId)}`;
    const step = await inTransaction(this.pool, async (tx): Promise<SubscriptionStep> => {
      const { rows: [locked] } = await tx.query<{ ok: boolean }>(`select pg_try_advisory_xact_lock(hashtextextended('erp-subscription:' || $1, 0)) as ok`, [backendId]);
      if (!locked?.ok) return 'busy';
      const { rows: [row] } = await tx.query<{ subscription: ErpChangeSubscription }>('select subscription from erp_subscription where backend_id = $1 and entity = $2', [backendId, ENTITY]);
      const current = row?.subscription;
      const expiresIn = current ? Date.parse(current.expiresAt) - Date.now() : 0;
      let next: ErpChangeSubscription | null = null;
      let result: SubscriptionStep = 'kept';
      if (current && current.notificationUrl === notificationUrl && expiresIn > this.settings.renewBeforeMs) return 'kept';
      if (current && current.notificationUrl === notificationUrl && expiresIn > 0) {
        next = await notifications.renew(call, current);
        result = 'renewed';
      }
      if (!next) {
        // Lapsed, lost by the ERP, or for another address: a new one (the old one ended where the ERP still has it).
        if (current) await notifications.unsubscribe(call, current).catch((error) => this.logger.warn({ err: error, backendId }, 'ending the old ERP subscription failed'));
        // Lower-case hex: Business Central may answer the clientState lower-cased, and notifications then carry that.
        const clientState = randomBytes(32).toString('hex');
        next = await notifications.subscribe(call, { entity: ENTITY, notificationUrl, clientState });
        result = current ? 'resubscribed' : 'subscribed';
      }
      await tx.query(
        `insert into erp_subscription (backend_id, entity, subscription, client_state, expires_at) values ($1, $2, $3, $4, $5)
         on conflict (backend_id, entity) do update set subscription = excluded.subscription, client_state = excluded.client_state,
           expires_at = excluded.expires_at, renewed_at = case when $6 then clock_timestamp() else erp_subscription.renewed_at end`,
        [backendId, ENTITY, JSON.stringify(next), next.clientState, next.expiresAt, result === 'renewed'],
      );
      return result;
    });
    if (step === 'subscribed' || step === 'resubscribed') {
      this.logger.info({ backendId, step }, 'subscribed to the ERP\'s customer changes');
      // What changed before the subscription (or while it had lapsed) was not notified: read it all.
      await this.directory.sync(backendId);
    }
    return step;
  }

  /**
   * A notification's body for the backend: each notice of its subscription, with its secret, accepted once and
   * read back later. Undefined when the backend has no notifications; a string when the body is not one.
   */
  async receive(backendId: string, body: unknown): Promise<NoticeReceipt | string | undefined> {
    const access = await this.erp.changeNotifications(backendId).catch(() => undefined);
    if (!access) return undefined;
    const notices = access.notifications.parse(body);
    if (typeof notices === 'string') return notices;
    return inTransaction(this.pool, async (tx) => {
      const { rows: [row] } = await tx.query<{ subscription: ErpChangeSubscription; client_state: string }>(
        'select subscription, client_state from erp_subscription where backend_id = $1 and entity = $2', [backendId, ENTITY],
      );
      const receipt: NoticeReceipt = { accepted: 0, duplicates: 0, ignored: 0 };
      for (const notice of notices) {
        if (!row || notice.subscriptionId !== row.subscription.id || !sameSecret(notice.clientState, row.client_state)) {
          receipt.ignored++;
          continue;
        }
        const eventId = `${notice.subscriptionId}|${notice.changeType}|${notice.resource}|${notice.lastModifiedDateTime}`;
        if (!(await this.inbox.accept(tx, `erp:${backendId}`, eventId))) {
          receipt.duplicates++;
          continue;
        }
        const key = notice.changeType === 'collection' ? `${backendId}|customers` : `${backendId}|${notice.recordId ?? notice.resource}`;
        await this.events.publish(tx, new ErpCustomerNoticed(backendId, notice.resource, notice.changeType, notice.recordId ?? null), key);
        receipt.accepted++;
      }
      if (receipt.accepted > 0) await tx.query('update erp_subscription set notified_at = clock_timestamp() where backend_id = $1 and entity = $2', [backendId, ENTITY]);
      if (receipt.ignored > 0) this.logger.warn({ backendId, ignored: receipt.ignored }, 'notifications for another subscription, or without its secret, were ignored');
      return receipt;
    });
  }

  /** One notice, read back: the customer as the ERP holds it now (a deletion when it holds it no more); many, a pull. */
  private async readBack(event: ErpCustomerNoticed): Promise<void> {
    if (event.changeType === 'collection') {
      await this.directory.sync(event.backendId);
      return;
    }
    const customer = event.changeType === 'deleted' ? null : await this.erp.customerAt(event.backendId, event.resource);
    await inTransaction(this.pool, async (tx) => {
      if (customer) await this.directory.apply(tx, event.backendId, [customer]);
      else if (event.recordId) await this.directory.deleted(tx, event.backendId, event.recordId);
    });
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
