import { Module, type DynamicModule } from '@nestjs/common';
import { DATABASE_QUERY_TIMEOUT_MS, DATABASE_URL, pgPoolProvider, PG_POOL } from './database/pg-pool.js';
import { BOSS_SETTINGS, BossService, type BossSettings } from './delivery/boss.service.js';
import { DeliveryQueues } from './delivery/delivery-queues.js';
import { DELIVERY_SETTINGS, type DeliverySettings } from './delivery/delivery-settings.js';
import { DeliveryWorker } from './delivery/delivery-worker.js';
import { Destinations } from './delivery/destinations.js';
import { DeadLetters } from './delivery/dead-letters.js';
import { DeliveredStates } from './delivery/delivered-states.js';
import { FlowLatency } from './delivery/flow-latency.js';
import { Reconcilers } from './reconciliation/reconcilers.js';
import { ReconciliationRuns } from './reconciliation/reconciliation-runs.js';
import { RECONCILIATION_SETTINGS, ReconciliationScheduler, type ReconciliationSettings } from './reconciliation/reconciliation-scheduler.js';
import { FlowStats } from './delivery/flow-stats.js';
import { AuditLog } from './audit/audit-log.js';
import { ExceptionSources } from './exceptions/exception-sources.js';
import { SearchSources } from './search/search-sources.js';
import { TraceQuery } from './observability/trace-query.js';
import { Housekeeping, RETENTION, type Retention } from './housekeeping.js';
import { TableCare } from './table-care.js';
import { IdempotencyKeys } from './inbox/idempotency.js';
import { Inbox } from './inbox/inbox.js';
import { GovernedReads } from './governor/governed-reads.js';
import { Governor, GOVERNOR_SETTINGS, type GovernorSettings } from './governor/governor.js';
import { IntegrationEvents } from './outbox/integration-events.js';
import { Outbox } from './outbox/outbox.js';
import { OutboxSignals } from './outbox/outbox-signals.js';
import { Relay } from './outbox/relay.js';
import { StateDispatcher } from './delivery/state-dispatcher.js';
import { Subscriptions } from './outbox/subscriptions.js';

export interface MessagingOptions {
  databaseUrl: string;
  /** CROSSDOCK_DB_QUERY_TIMEOUT_MS: also the bound of the signal listener's heartbeat. */
  queryTimeoutMs: number;
  boss: BossSettings;
  delivery: DeliverySettings;
  governor: GovernorSettings;
  retention: Retention;
  reconciliation: ReconciliationSettings;
}

/** The outbox, its relay, the delivery workers and the governor: written once, used by every module. */
@Module({})
export class MessagingModule {
  static register(options: MessagingOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      providers: [
        { provide: DATABASE_URL, useValue: options.databaseUrl },
        { provide: DATABASE_QUERY_TIMEOUT_MS, useValue: options.queryTimeoutMs },
        { provide: BOSS_SETTINGS, useValue: options.boss },
        { provide: DELIVERY_SETTINGS, useValue: options.delivery },
        { provide: GOVERNOR_SETTINGS, useValue: options.governor },
        { provide: RETENTION, useValue: options.retention },
        { provide: RECONCILIATION_SETTINGS, useValue: options.reconciliation },
        pgPoolProvider,
        BossService,
        Subscriptions,
        OutboxSignals,
        Outbox,
        IntegrationEvents,
        Destinations,
        ExceptionSources,
        SearchSources,
        DeliveryQueues,
        Governor, GovernedReads,
        Relay,
        DeliveryWorker,
        StateDispatcher,
        AuditLog,
        DeadLetters,
        DeliveredStates,
        FlowStats,
        FlowLatency,
        TraceQuery,
        Inbox,
        IdempotencyKeys,
        Housekeeping,
        TableCare,
        Reconcilers,
        ReconciliationRuns,
        ReconciliationScheduler,
      ],
      exports: [PG_POOL, DATABASE_URL, BossService, Subscriptions, OutboxSignals, Outbox, IntegrationEvents, StateDispatcher, Destinations, ExceptionSources, SearchSources, DeliveryQueues, Governor, GovernedReads, Relay, DeadLetters, DeliveredStates, FlowStats, FlowLatency, TraceQuery, AuditLog, Inbox, IdempotencyKeys, Housekeeping, TableCare, Reconcilers, ReconciliationRuns, ReconciliationScheduler],
    };
  }
}
