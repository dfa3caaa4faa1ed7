import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { CqrsModule } from '@nestjs/cqrs';
import { ScheduleModule } from '@nestjs/schedule';
import type { MigrationObject } from '@mikro-orm/core';
import { AuditEntryEntity } from './platform/audit/audit-entry.entity.js';
import { ormOptions } from './platform/database/orm-options.js';
import { DEFAULT_DELIVERY_SETTINGS } from './platform/delivery/delivery-settings.js';
import { MessagingModule } from './platform/messaging.module.js';
import { HealthModule } from './platform/health/health.module.js';
import type { Logger } from './platform/observability/logger.js';
import type { Metrics } from './platform/observability/metrics.js';
import { ObservabilityModule } from './platform/observability/observability.module.js';
import { ApiKeyEntity } from './platform/security/api-key.entity.js';
import { ALERT_SETTINGS } from './platform/alerting/alert-settings.js';
import { ApiKeys } from './platform/security/api-keys.js';
import { CONSOLE_SESSION_SETTINGS, ConsoleSessions, type ConsoleSessionOptions } from './platform/security/console-sessions.js';
import { AuthGuard, SECURITY_SETTINGS, type SecuritySettings } from './platform/security/auth.guard.js';
import { WhoAmIController } from './platform/security/whoami.controller.js';
import { SecretBox } from './platform/security/secret-box.js';
import { Instances, SERVES_API } from './platform/security/instances.js';
import { CONFIGURATION_ENTITIES, ConfigurationApiModule, ConfigurationModule } from './modules/configuration/configuration.module.js';
import { MigrationCoexistenceModule, RoutingEntity } from './modules/migration-coexistence/migration-coexistence.module.js';
import { ConnectorsModule } from './connectors/connectors.module.js';
import { CustomersModule } from './modules/customers/customers.module.js';
import { InventoryModule } from './modules/inventory/inventory.module.js';
import { OpsModule } from './modules/ops/ops.module.js';
import { OrdersModule } from './modules/orders/orders.module.js';
import { PricingModule } from './modules/pricing/pricing.module.js';
import { ShipmentsModule } from './modules/shipments/shipments.module.js';
import type { Env, Role } from './config/env.js';

/** The secret box every module seals and opens stored secrets with. */
@Module({})
class SecretsModule {}

export interface AppModuleOptions {
  role: Role;
  databaseUrl: string;
  migrations: MigrationObject[];
  logger: Logger;
  metrics: Metrics;
  security: SecuritySettings;
  secretBox: SecretBox;
  shutdownTimeoutMs: number;
  databaseQueryTimeoutMs: number;
  delivery: Env['delivery'];
  retention: Env['retention'];
  orders: Env['orders'];
  inventory: Env['inventory'];
  shipments: Env['shipments'];
  pricing: Env['pricing'];
  customers: Env['customers'];
  alerts: Env['alerts'];
  reconciliation: Env['reconciliation'];
  traceUrl?: string;
  /** Modules added to the service (embedding it, tests). */
  additionalModules?: Array<Type | DynamicModule>;
}

const ENTITIES = [ApiKeyEntity, AuditEntryEntity, ...CONFIGURATION_ENTITIES, RoutingEntity];

/** Platform modules always; the HTTP API modules in the api and all roles (workers serve health and metrics). */
@Module({})
export class AppModule {
  static register(options: AppModuleOptions): DynamicModule {
    const serveApi = options.role !== 'worker';
    return {
      module: AppModule,
      global: true,
      imports: [
        ObservabilityModule.register(options.logger, options.metrics),
        { module: SecretsModule, global: true, providers: [{ provide: SecretBox, useValue: options.secretBox }], exports: [SecretBox] },
        MikroOrmModule.forRoot({
          ...ormOptions({ databaseUrl: options.databaseUrl, migrations: options.migrations, queryTimeoutMs: options.databaseQueryTimeoutMs }),
          entities: ENTITIES,
          registerRequestContext: false,
        }),
        MessagingModule.register({
          databaseUrl: options.databaseUrl,
          queryTimeoutMs: options.databaseQueryTimeoutMs,
          boss: { databaseUrl: options.databaseUrl, queryTimeoutMs: options.databaseQueryTimeoutMs, work: options.role !== 'api', shutdownTimeoutMs: options.shutdownTimeoutMs, superviseIntervalSeconds: options.delivery.superviseIntervalSeconds },
          delivery: {
            ...DEFAULT_DELIVERY_SETTINGS,
            work: options.role !== 'api',
            retry: { maxAttempts: options.delivery.maxAttempts, baseDelayMs: options.delivery.baseDelayMs, maxDelayMs: options.delivery.maxDelayMs },
            callTimeoutMs: options.delivery.callTimeoutMs,
            stateLeaseMs: options.delivery.callTimeoutMs * 2 + 10_000,
            concurrencyPerQueue: options.delivery.concurrencyPerQueue,
            heartbeatSeconds: options.delivery.heartbeatSeconds,
            superviseIntervalSeconds: options.delivery.superviseIntervalSeconds,
            jobRetryMaxSeconds: options.delivery.jobRetryMaxSeconds,
            jobRetentionSeconds: options.retention.jobDays * 24 * 3600,
          },
          governor: {
            circuit: { failureThreshold: options.delivery.circuitFailures, openMs: options.delivery.circuitOpenMs },
            leaseMs: options.delivery.callTimeoutMs * 2,
          },
          retention: options.retention,
          reconciliation: { tickMs: options.reconciliation.tickMs, scheduled: options.role !== 'api' },
        }),
        ScheduleModule.forRoot(),
        HealthModule.register(options.migrations),
        CqrsModule.forRoot(),
        ConfigurationModule,
        ConnectorsModule,
        MigrationCoexistenceModule.register({ serveApi }),
        CustomersModule.register({
          intervalMs: options.orders.customerSyncSeconds * 1000, enabled: options.role !== 'api', serveApi,
          notifications: {
            publicUrl: options.customers.publicUrl, checkMs: options.customers.subscriptionCheckSeconds * 1000,
            renewBeforeMs: options.customers.renewBeforeSeconds * 1000, enabled: options.role !== 'api',
          },
        }),
        InventoryModule.register({ serveApi, poll: { intervalMs: options.inventory.stockPollSeconds * 1000, enabled: options.role !== 'api' } }),
        OrdersModule.register({ ...options.orders, serveApi }),
        ShipmentsModule.register({ serveApi, retryParked: options.role !== 'api', poll: { intervalMs: options.shipments.pollSeconds * 1000, enabled: options.role !== 'api' } }),
        PricingModule.register({ serveApi, pollMs: options.pricing.pollSeconds * 1000, clockMs: options.pricing.clockMs, enabled: options.role !== 'api' }),
        ...(serveApi ? [ConfigurationApiModule, OpsModule.register({ traceUrl: options.traceUrl })] : []),
        ...(options.additionalModules ?? []),
      ],
      controllers: serveApi ? [WhoAmIController] : [],
      providers: [
        { provide: SECURITY_SETTINGS, useValue: options.security },
        { provide: ALERT_SETTINGS, useValue: options.alerts },
        { provide: CONSOLE_SESSION_SETTINGS, useValue: { adminToken: options.security.adminToken, ...options.security.consoleSession } satisfies ConsoleSessionOptions },
        ApiKeys,
        ConsoleSessions,
        Instances,
        { provide: SERVES_API, useValue: serveApi },
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [ApiKeys, ConsoleSessions, ALERT_SETTINGS],
    };
  }
}
