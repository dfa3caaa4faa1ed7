import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../database/pg-pool.js';

/**
 * The timeline of one transaction: every step of every message that carries its correlation id. A command's
 * `stored` step is read from its outbox row (kept `CROSSDOCK_RETENTION_OUTBOX_DAYS` once finished), the other steps
 * from `trace_event`.
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
                 -- A command's stored step is its outbox row: written in the producer's transaction, as the step was.
                 select created_at, null, 'stored', message_id, delivery_id, destination, null, jsonb_build_object('type', type, 'key', key),
                        nullif(substr(trace_context, 4, 32), '')
                   from outbox where correlation_id = $1 and kind = 'command') s
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
