import { Controller, Get, Inject, Module, type DynamicModule } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { ApiTags } from '@nestjs/swagger';
import { MikroORM } from '@mikro-orm/postgresql';
import type { MigrationObject } from '@mikro-orm/core';
import { BossService } from '../delivery/boss.service.js';
import { pendingMigrations } from '../database/migrate.js';
import { Access } from '../security/principal.js';

const MIGRATIONS = Symbol('MIGRATIONS');
const CHECK_TIMEOUT_MS = 2_000;

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly orm: MikroORM,
    private readonly boss: BossService,
    @Inject(MIGRATIONS) private readonly migrations: MigrationObject[],
  ) {}

  /** The process answers; an orchestrator restarts it when this fails. */
  @Get('live')
  @Access('public')
  live() {
    return { status: 'ok' };
  }

  /** The process can do its work: database reachable, schema up to date, queue running. */
  @Get('ready')
  @Access('public')
  @HealthCheck()
  ready() {
    return this.health.check([
      () =>
        this.indicators
          .check('database')
          .attempt(async () => {
            const pending = await pendingMigrations(
              (sql) => this.orm.em.getConnection().execute(sql) as Promise<Array<{ name: string }>>,
              this.migrations,
            );
            if (pending.length > 0) throw new Error(`migrations not applied: ${pending.join(', ')}`);
          })
          .withTimeout(CHECK_TIMEOUT_MS),
      () =>
        this.indicators.check('queue').attempt(() => {
          if (!this.boss.isRunning()) throw new Error('pg-boss is not running');
        }),
    ]);
  }
}

@Module({})
export class HealthModule {
  static register(migrations: MigrationObject[]): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false, errorLogStyle: 'json' })],
      controllers: [HealthController],
      providers: [{ provide: MIGRATIONS, useValue: migrations }],
    };
  }
}
