import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../database/pg-pool.js';

/**
 * The timeline of one transaction: every step of every message that carries its correlation id. A command's
 * `stored`, `relayed` and `delivered` steps are read from its outbox row (kept `CROSSDOCK_RETENTION_OUTBOX_DAYS` once
 * finished), the other steps from `trace_event`.
 */
@Injectable()
export class TraceQuery {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async timeline(correlationId: string) {
    const [steps, deliveries] = await Promise.all([
      this.pool.query(
        `select at, step, message_id as "messageId", delivery_id as "deliveryId", destination, latency_ms as "latencyMs", detail, trace_id as "traceId"
           from (select at, id, step, message_id, delivery_id, destination, latency_ms, detail, trace_id from trace_event where correlation_id = $1
                 union all
                 -- A command's steps kept on its outbox row, each written with the change it records: stored by the
                 -- producer's transaction, relayed by the relay's, delivered by the settling one.
                 select step.at, null, step.step, o.message_id, o.delivery_id, o.destination, step.latency_ms, step.detail,
                        coalesce(step.trace_id, nullif(substr(o.trace_context, 4, 32), ''))
                   from outbox o
                  cross join lateral (values
                    ('stored', o.created_at, null::float8, jsonb_build_object('type', o.type, 'key', o.key), null::text),
                    ('relayed', o.relayed_at, extract(epoch from o.relayed_at - o.created_at)::float8 * 1000, jsonb_build_object('placement', o.relayed_as), null),
                    ('delivered', o.delivered_at, (o.delivery ->> 'latencyMs')::float8, o.delivery - 'latencyMs' - 'traceId', o.delivery ->> 'traceId')
                  ) as step(step, at, latency_ms, detail, trace_id)
                  where o.correlation_id = $1 and o.kind = 'command' and step.at is not null
                    and (step.step <> 'relayed' or o.relayed_as is not null) and (step.step <> 'delivered' or o.delivery is not null)) s
          order by at, id nulls first limit 5000`,
        [correlationId],
      ),
      this.pool.query(
        `select message_id as "messageId", delivery_id as "deliveryId", type, key, destination, status, attempts, created_at as "createdAt", delivered_at as "deliveredAt", payload
           from (select id, message_id, delivery_id, type, key, destination, status, attempts, created_at, delivered_at, payload from outbox where correlation_id = $1
                 union all
                 select null, message_id, delivery_id, type, key, destination, 'queued', attempts, created_at, null, payload from state_outbox where correlation_id = $1
                 union all
                 select null, message_id, delivery_id, type, key, destination, 'sending', attempts, created_at, null, payload from state_inflight where correlation_id = $1) d
          order by id nulls last, created_at`,
        [correlationId],
      ),
    ]);
    if (steps.rowCount === 0 && deliveries.rowCount === 0) return undefined;
    // The OpenTelemetry traces the transaction went through (tracing on), the first one first: the intake's.
    const traceIds = [...new Set(steps.rows.map((s) => s.traceId as string | null).filter((id) => id !== null))];
    return { correlationId, traceIds, deliveries: deliveries.rows, timeline: steps.rows };
  }
}
