import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { PgBoss } from 'pg-boss';
import { LOGGER } from '../observability/observability.module.js';
import type { Logger } from '../observability/logger.js';
import { isTracing, TRACEPARENT_ONLY } from '../observability/tracing.js';

export const BOSS_SETTINGS = Symbol('BOSS_SETTINGS');
export interface BossSettings {
  databaseUrl: string;
  /** Workers consume jobs only in the worker and all roles; every role can send. */
  work: boolean;
  shutdownTimeoutMs: number;
  /** As the service's own pool: a query unanswered this long drops its connection. */
  queryTimeoutMs?: number;
  /** How often pg-boss looks for jobs whose worker stopped heartbeating. */
  superviseIntervalSeconds: number;
}

export const BOSS_SCHEMA = 'pgboss';

/** pg-boss on the service's database, in its own schema; it creates and migrates that schema itself. */
@Injectable()
export class BossService implements OnModuleInit, OnApplicationShutdown {
  readonly boss: PgBoss;
  private running = false;

  constructor(
    @Inject(BOSS_SETTINGS) private readonly settings: BossSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    // pg-boss hands its options to pg.Pool as they are: the pool's own settings ride along.
    const pool = { keepAlive: true, ...(settings.queryTimeoutMs === undefined ? {} : { query_timeout: settings.queryTimeoutMs }) };
    this.boss = new PgBoss({
      ...pool,
      connectionString: settings.databaseUrl,
      schema: BOSS_SCHEMA,
      application_name: 'crossdock-queue',
      max: 10,
      connectionTimeoutMillis: 3_000,
      supervise: settings.work,
      schedule: settings.work,
      useListenNotify: true,
      superviseIntervalSeconds: settings.superviseIntervalSeconds,
      monitorIntervalSeconds: settings.superviseIntervalSeconds,
      // Its spans and the trace context on its jobs only when tracing: off, its fetches skip the column and it
      // wraps nothing. W3C traceparent only, so that no baggage lands in job rows.
      openTelemetry: isTracing() ? { enabled: true, propagateContext: true, propagator: TRACEPARENT_ONLY } : { enabled: false },
    });
    this.boss.on('error', (error: Error) => this.logger.warn({ err: error }, 'queue error'));
  }

  async onModuleInit(): Promise<void> {
    await this.boss.start();
    this.running = true;
  }

  isRunning(): boolean {
    return this.running;
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.boss.stop({ graceful: true, close: true, timeout: this.settings.shutdownTimeoutMs });
  }
}
