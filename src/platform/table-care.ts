import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import type pg from 'pg';
import { PG_POOL } from './database/pg-pool.js';
import { withSessionLock } from './database/session-lock.js';
import { BOSS_SCHEMA } from './delivery/boss.service.js';
import { DELIVERY_SETTINGS, type DeliverySettings } from './delivery/delivery-settings.js';
import { LOGGER } from './observability/observability.module.js';
import type { Logger } from './observability/logger.js';

/**
 * The tables the queues rewrite all the time (and pg-boss's, whose jobs are created, fetched and completed):
 * every delivery updates its outbox row several times, takes and frees a governor lease, and state rows are
 * overwritten many times a second. Their dead rows are what the
 * next claim, lease count and chain probe must step over, so they are vacuumed as soon as they pile up.
 */
export const QUEUE_TABLES = [
  'outbox', 'state_outbox', 'state_inflight', 'delivered_version', 'channel_availability', 'stock_reserved', 'governor_state', 'governor_lease', 'trace_event', 'idempotency_record', 'inbox',
] as const;

const LOCK = 'crossdock:table-care';
// Vacuumed when its dead rows pass this many, or this share of its live rows if that is more.
const DEAD_ROWS = 5_000;
const DEAD_SHARE = 0.1;
// Analyzed when the rows changed since its last analyze pass this many plus this share of its live rows
// (autoanalyze's defaults).
const ANALYZE_ROWS = 50;
const ANALYZE_SHARE = 0.1;
// A vacuum of a large outbox may take minutes: past the service's query timeout, which is for requests.
const VACUUM_TIMEOUT_MS = 30 * 60_000;

/**
 * Vacuums (and analyzes) the queue tables whose dead rows passed the threshold, every 10 seconds, one instance
 * at a time. PostgreSQL's autovacuum does the same where it is on, with the per-table settings the migrations
 * give these tables; this keeps them lean on a server where it is off or behind (a long outage's backlog
 * draining at a thousand deliveries a second). `vacuum (skip_locked)`: a table autovacuum is busy with is left
 * to it. Then it analyzes any other table of the service (or pg-boss) whose rows changed since its last analyze
 * past autoanalyze's threshold, so that the plans of a new or fast-growing table follow its size.
 */
@Injectable()
export class TableCare implements OnApplicationBootstrap {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(DELIVERY_SETTINGS) private readonly settings: DeliverySettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.settings.work) return;
    const { rows: [setting] } = await this.pool.query<{ autovacuum: string }>(`select current_setting('autovacuum') as autovacuum`).catch(() => ({ rows: [] }));
    if (setting?.autovacuum === 'off') {
      this.logger.warn('autovacuum is off on this PostgreSQL server: Crossdock vacuums its queue tables itself, but every other table bloats; turn autovacuum on (docs/MESSAGING.md, "A long outage")');
    }
  }

  @Interval('table-care', 10_000)
  async scheduled(): Promise<void> {
    if (!this.settings.work) return;
    await this.care().catch((error: unknown) => this.logger.warn({ err: error }, 'vacuuming or analyzing the tables failed; it is tried again in 10 seconds'));
  }

  /**
   * Vacuums the queue tables that need it now, then analyzes every other table whose statistics are stale;
   * answers which it vacuumed or analyzed and how long each took (ms).
   */
  async care(): Promise<Record<string, number> | undefined> {
    return withSessionLock(this.pool, LOCK, async (client) => {
      const { rows } = await client.query<{ table: string }>(
        `select format('%I.%I', schemaname, relname) as table from pg_stat_user_tables
          where ((schemaname = current_schema() and relname = any($1::text[])) or schemaname = $4)
            and n_dead_tup > greatest($2::bigint, $3::float8 * n_live_tup)
          order by n_dead_tup desc`,
        [QUEUE_TABLES, DEAD_ROWS, DEAD_SHARE, BOSS_SCHEMA],
      );
      const vacuumed: Record<string, number> = {};
      for (const { table } of rows) {
        const started = performance.now();
        await client.query({ text: `vacuum (analyze, skip_locked) ${table}`, query_timeout: VACUUM_TIMEOUT_MS } as pg.QueryConfig);
        vacuumed[table] = Math.round(performance.now() - started);
      }
      if (rows.length > 0) this.logger.debug({ vacuumed }, 'queue tables vacuumed');
      // Statistics that still describe a table as it was when new make plans for it as if it were small (a
      // sequential scan where it has since grown to millions of rows), and a prepared statement keeps its plan
      // until the table is analyzed. Autovacuum analyzes a table once its changes pass this threshold, but only
      // where it is on, and a minute after at the earliest.
      const { rows: stale } = await client.query<{ table: string }>(
        `select format('%I.%I', schemaname, relname) as table from pg_stat_user_tables
          where (schemaname = current_schema() or schemaname = $1)
            and n_mod_since_analyze > $2::bigint + $3::float8 * n_live_tup
            and not (format('%I.%I', schemaname, relname) = any($4::text[]))
          order by n_mod_since_analyze desc`,
        [BOSS_SCHEMA, ANALYZE_ROWS, ANALYZE_SHARE, Object.keys(vacuumed)],
      );
      for (const { table } of stale) {
        const started = performance.now();
        await client.query({ text: `analyze (skip_locked) ${table}`, query_timeout: VACUUM_TIMEOUT_MS } as pg.QueryConfig);
        vacuumed[table] = Math.round(performance.now() - started);
      }
      if (stale.length > 0) this.logger.debug({ analyzed: stale.map((r) => r.table) }, 'tables analyzed');
      return vacuumed;
    });
  }
}
