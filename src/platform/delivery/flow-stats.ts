import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type pg from 'pg';
import { Gauge } from 'prom-client';
import { PG_POOL } from '../database/pg-pool.js';
import { Metrics } from '../observability/metrics.js';

export interface FlowStat {
  flow: string;
  destination: string;
  waiting: number;
  queued: number;
  sending: number;
  dead: number;
  /** Age of the oldest message not yet delivered (pending, waiting, queued or sending), in seconds. */
  oldestWaitingSeconds: number | null;
  deliveredLastHour: number;
}

// Commands from the outbox; states from the last-value queue (pending: queued, or waiting while deferred or
// backing off), whose "delivered in the last hour" counts keys brought up to date, and dead states from the outbox.
// delivered_version is scanned: it has no index on delivered_at, so that every delivery updates its row in place.
const STATS_SQL = `
  with commands as (
    select type as flow, destination,
           count(*) filter (where status in ('pending', 'waiting'))::int as waiting,
           count(*) filter (where status = 'queued')::int as queued,
           count(*) filter (where status = 'sending')::int as sending,
           count(*) filter (where status = 'dead')::int as dead,
           min(created_at) filter (where status in ('pending', 'waiting', 'queued', 'sending')) as oldest,
           count(*) filter (where status = 'delivered' and delivered_at > clock_timestamp() - interval '1 hour')::int as delivered
      from outbox
     where status in ('pending', 'waiting', 'queued', 'sending', 'dead') or delivered_at > clock_timestamp() - interval '1 hour'
     group by type, destination),
  states as (
    select type as flow, destination,
           count(*) filter (where next_attempt_at > clock_timestamp())::int as waiting,
           count(*) filter (where next_attempt_at <= clock_timestamp())::int as queued,
           0 as sending, 0 as dead, min(least(created_at, next_attempt_at)) as oldest, 0 as delivered
      from state_outbox group by type, destination
    union all
    select type, destination, 0, 0, count(*)::int, 0, min(created_at), 0 from state_inflight group by type, destination
    union all
    select type, destination, 0, 0, 0, 0, null, count(*)::int
      from delivered_version where delivered_at > clock_timestamp() - interval '1 hour' and type is not null group by type, destination)
  select flow, destination, sum(waiting)::int as waiting, sum(queued)::int as queued, sum(sending)::int as sending, sum(dead)::int as dead,
         extract(epoch from clock_timestamp() - min(oldest))::float8 as "oldestWaitingSeconds", sum(delivered)::int as "deliveredLastHour"
    from (select * from commands union all select * from states) f
   group by flow, destination
   order by flow, destination`;

/** Each flow (message type) to each destination: what waits, what is dead, how old the oldest is. */
@Injectable()
export class FlowStats implements OnModuleInit {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly metrics: Metrics,
  ) {}

  async read(): Promise<FlowStat[]> {
    return (await this.pool.query<FlowStat>(STATS_SQL)).rows;
  }

  /** Queue depth and oldest age are read from the database when Prometheus scrapes. */
  onModuleInit(): void {
    const stats = this;
    let last: Promise<FlowStat[]> | undefined;
    const once = () => (last ??= stats.read().finally(() => setTimeout(() => (last = undefined), 0)));
    new Gauge({
      name: 'crossdock_queue_depth',
      help: 'Messages not yet delivered, by flow, destination and state',
      labelNames: ['flow', 'destination', 'state'],
      registers: [this.metrics.registry],
      async collect() {
        this.reset();
        for (const s of await once().catch(() => [])) {
          for (const state of ['waiting', 'queued', 'sending', 'dead'] as const) this.set({ flow: s.flow, destination: s.destination, state }, s[state]);
        }
      },
    });
    new Gauge({
      name: 'crossdock_oldest_waiting_seconds',
      help: 'Age of the oldest message not yet delivered, by flow and destination',
      labelNames: ['flow', 'destination'],
      registers: [this.metrics.registry],
      async collect() {
        this.reset();
        for (const s of await once().catch(() => [])) this.set({ flow: s.flow, destination: s.destination }, s.oldestWaitingSeconds ?? 0);
      },
    });
  }
}
