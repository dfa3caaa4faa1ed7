import { Inject, Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import type pg from 'pg';
import { PG_POOL } from './database/pg-pool.js';
import { withSessionLock } from './database/session-lock.js';
import { DELIVERY_SETTINGS, type DeliverySettings } from './delivery/delivery-settings.js';
import { LOGGER } from './observability/observability.module.js';
import type { Logger } from './observability/logger.js';

export const RETENTION = Symbol('RETENTION');
export interface Retention {
  outboxDays: number;
  traceDays: number;
  inboxDays: number;
  idempotencyDays: number;
}

const BATCH = 1_000;
const HOUSEKEEPING_LOCK = 'crossdock:housekeeping'; // one instance prunes at a time

/**
 * Prunes what has served its time, in batches of short transactions so that no table is locked for long:
 * finished outbox rows (never dead ones), traces, inbox entries, idempotency records, expired leases.
 */
@Injectable()
export class Housekeeping {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(RETENTION) private readonly retention: Retention,
    @Inject(DELIVERY_SETTINGS) private readonly settings: DeliverySettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Interval('housekeeping', 60_000)
  async scheduled(): Promise<void> {
    if (!this.settings.work) return;
    await this.prune().catch((error: unknown) => this.logger.warn({ err: error }, 'housekeeping failed; it runs again in a minute'));
  }

  async prune(): Promise<Record<string, number> | undefined> {
    return withSessionLock(this.pool, HOUSEKEEPING_LOCK, async () => {
      const pruned = {
        outbox: await this.batches(`delete from outbox where id in (select id from outbox where status in ('delivered', 'discarded', 'superseded') and finished_at < clock_timestamp() - $1 * interval '1 day' limit ${BATCH})`, this.retention.outboxDays),
        trace: await this.batches(`delete from trace_event where id in (select id from trace_event where at < clock_timestamp() - $1 * interval '1 day' limit ${BATCH})`, this.retention.traceDays),
        inbox: await this.batches(`delete from inbox where ctid in (select ctid from inbox where received_at < clock_timestamp() - $1 * interval '1 day' limit ${BATCH})`, this.retention.inboxDays),
        idempotency: await this.batches(`delete from idempotency_record where ctid in (select ctid from idempotency_record where created_at < clock_timestamp() - $1 * interval '1 day' limit ${BATCH})`, this.retention.idempotencyDays),
        leases: (await this.pool.query(`delete from governor_lease where expires_at < clock_timestamp() - interval '1 minute'`)).rowCount ?? 0,
        consoleSessions: (await this.pool.query(`delete from console_session where expires_at < clock_timestamp()`)).rowCount ?? 0,
      };
      if (Object.values(pruned).some((n) => n > 0)) this.logger.info({ pruned }, 'housekeeping pruned old rows');
      return pruned;
    });
  }

  private async batches(sql: string, days: number): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = (await this.pool.query(sql, [days])).rowCount ?? 0;
      total += deleted;
      if (deleted < BATCH) return total;
    }
  }
}
