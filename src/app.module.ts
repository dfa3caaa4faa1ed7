import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import type { MigrationObject } from '@mikro-orm/core';
import { AuditEntryEntity } from './platform/audit/audit-entry.entity.js';
import { ormOptions } from './platform/database/orm-options.js';
import { BOSS_SETTINGS, BossService, type BossSettings } from './platform/delivery/boss.service.js';
import { HealthModule } from './platform/health/health.module.js';
import type { Logger } from './platform/observability/logger.js';
import type { Metrics } from './platform/observability/metrics.js';
import { ObservabilityModule } from './platform/observability/observability.module.js';
import { ApiKeyEntity } from './platform/security/api-key.entity.js';
import { ApiKeys } from './platform/security/api-keys.js';
import { AuthGuard, SECURITY_SETTINGS, type SecuritySettings } from './platform/security/auth.guard.js';
import { WhoAmIController } from './platform/security/whoami.controller.js';
import {
  ChannelEntity, ConfigurationModule, ErpBackendEntity, RoutingEntity, SourceSystemEntity,
} from './modules/configuration/index.js';
import { OpsModule } from './modules/ops/index.js';
import type { Role } from './config/env.js';

export interface AppModuleOptions {
  role: Role;
  databaseUrl: string;
  migrations: MigrationObject[];
  logger: Logger;
  metrics: Metrics;
  security: SecuritySettings;
  shutdownTimeoutMs: number;
  /** Modules added to the service (embedding it, tests). */
  additionalModules?: Array<Type | DynamicModule>;
}

const ENTITIES = [ApiKeyEntity, AuditEntryEntity, ErpBackendEntity, ChannelEntity, SourceSystemEntity, RoutingEntity];

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
        MikroOrmModule.forRoot({
          ...ormOptions({ databaseUrl: options.databaseUrl, migrations: options.migrations }),
          entities: ENTITIES,
          registerRequestContext: false,
        }),
        HealthModule.register(options.migrations),
        ...(serveApi ? [ConfigurationModule, OpsModule] : []),
        ...(options.additionalModules ?? []),
      ],
      controllers: serveApi ? [WhoAmIController] : [],
      providers: [
        { provide: BOSS_SETTINGS, useValue: { databaseUrl: options.databaseUrl, work: options.role !== 'api', shutdownTimeoutMs: options.shutdownTimeoutMs } satisfies BossSettings },
        { provide: SECURITY_SETTINGS, useValue: options.security },
        BossService,
        ApiKeys,
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [BossService, ApiKeys],
    };
  }
}
