import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import type pg from 'pg';
import { Gauge } from 'prom-client';
import { openBreaches } from '../alerting/slo-breaches.js';
import { PG_POOL } from '../database/pg-pool.js';
import { Metrics } from '../observability/metrics.js';
import { DelayObjectives, flowObjectives, type FlowObjective } from './delay-objectives.js';

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
    @Optional() private readonly objectives?: DelayObjectives,
  ) {}

  async read(): Promise<FlowStat[]> {
    return (await this.pool.query<FlowStat>(STATS_SQL)).rows;
  }

  /** Each flow held to a delay objective, with its oldest age now (from `stats` when given, else read now). */
  async objectiveFlows(stats?: FlowStat[]): Promise<FlowObjective[]> {
    const objectives = await this.objectives?.byDestination();
    if (!objectives || objectives.size === 0) return [];
    return flowObjectives(stats ?? (await this.read()), objectives);
  }

  /** Queue depth, oldest age and the delay objectives are read from the database when Prometheus scrapes. */
  onModuleInit(): void {
    const stats = this;
    // One read per scrape, shared by the gauges collected in it.
    const shared = <T>(read: () => Promise<T>) => {
      let last: Promise<T> | undefined;
      return () => (last ??= read().finally(() => setTimeout(() => (last = undefined), 0)));
    };
    const once = shared(() => stats.read());
    const objectiveFlows = shared(async () => {
      const [flows, open] = await Promise.all([once().then((s) => stats.objectiveFlows(s)), openBreaches(stats.pool)]);
      return { flows, open };
    });
    const registry = this.metrics.registry;
    // A gauge filled afresh at each scrape; left empty when the database does not answer.
    const gauge = (name: string, help: string, labelNames: string[], fill: (set: (labels: Record<string, string>, value: number) => void) => Promise<void>) =>
      new Gauge({
        name, help, labelNames, registers: [registry],
        async collect() {
          this.reset();
          await fill((labels, value) => this.set(labels, value)).catch(() => this.reset());
        },
      });
    gauge('crossdock_queue_depth', 'Messages not yet delivered, by flow, destination and state', ['flow', 'destination', 'state'], async (set) => {
      for (const s of await once()) {
        for (const state of ['waiting', 'queued', 'sending', 'dead'] as const) set({ flow: s.flow, destination: s.destination, state }, s[state]);
      }
    });
    gauge('crossdock_oldest_waiting_seconds', 'Age of the oldest message not yet delivered, by flow and destination', ['flow', 'destination'], async (set) => {
      for (const s of await once()) set({ flow: s.flow, destination: s.destination }, s.oldestWaitingSeconds ?? 0);
    });
    gauge('crossdock_flow_slo_max_age_seconds', 'Delay objective: the age the oldest message not yet delivered should stay within, by flow and destination', ['flow', 'destination'], async (set) => {
      for (const f of (await objectiveFlows()).flows) set({ flow: f.flow, destination: f.destination }, f.maxAgeSeconds);
    });
    gauge('crossdock_flow_slo_breached', 'Whether a breach of the delay objective is open (1) or not (0), by flow and destination', ['flow', 'destination'], async (set) => {
      const { flows, open } = await objectiveFlows();
      for (const f of flows) set({ flow: f.flow, destination: f.destination }, 0);
      for (const b of open) set({ flow: b.flow, destination: b.destination }, 1);
    });
  }
}
