import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../database/pg-pool.js';

export interface LatencyPoint {
  /** The minute's start. */
  minute: Date;
  destination: string;
  delivered: number;
  /** The target's answer time, median and 95th percentile, in milliseconds. */
  p50Ms: number;
  p95Ms: number;
}

/**
 * Deliveries per minute and destination over the last hour, with how long the targets took to answer: states'
 * from their `delivered` steps, commands' from their outbox rows.
 */
@Injectable()
export class FlowLatency {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async lastHour(): Promise<LatencyPoint[]> {
    const { rows } = await this.pool.query<LatencyPoint>(
      `select date_trunc('minute', at) as minute, destination, count(*)::int as delivered,
              round(percentile_cont(0.5) within group (order by latency_ms))::float8 as "p50Ms",
              round(percentile_cont(0.95) within group (order by latency_ms))::float8 as "p95Ms"
         from (select at, destination, latency_ms from trace_event
                where at > clock_timestamp() - interval '1 hour' and step = 'delivered' and latency_ms is not null and destination is not null
               union all
               -- A command's delivered step is kept on its outbox row (TraceQuery).
               select delivered_at, destination, (delivery ->> 'latencyMs')::float8 from outbox
                where finished_at > clock_timestamp() - interval '1 hour' and status = 'delivered' and delivery ->> 'latencyMs' is not null) d
        group by 1, 2 order by 1, 2`,
    );
    return rows;
  }
}
