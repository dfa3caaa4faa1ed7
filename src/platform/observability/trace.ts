import type { Tx } from '../database/transaction.js';
import { currentCorrelationId } from './correlation.js';
import { activeTraceId } from './tracing.js';

/** One step of a message's journey, recorded with its correlation id in the transaction that made it happen. */
export interface TraceStep {
  correlationId: string;
  messageId?: string | null;
  deliveryId?: string | null;
  destination?: string | null;
  step: 'stored' | 'relayed' | 'deferred' | 'attempt' | 'retry-scheduled' | 'delivered' | 'dead-lettered' | 'superseded' | 'unchanged' | 'replayed' | 'discarded' | 'circuit' | 'received' | 'lease-expired' | 'reconciled';
  latencyMs?: number | null;
  detail?: Record<string, unknown> | null;
  /** The step's OpenTelemetry trace (tracing on); when not given, the span in progress's for a step of the work's own correlation id. */
  traceId?: string | null;
}

export async function recordTrace(tx: Pick<Tx, 'query'>, steps: readonly TraceStep[]): Promise<void> {
  if (steps.length === 0) return;
  const ambient = activeTraceId();
  const correlationId = ambient === undefined ? undefined : currentCorrelationId();
  await tx.query(
    `insert into trace_event (correlation_id, message_id, delivery_id, destination, step, latency_ms, detail, trace_id)
     select * from unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::float8[], $7::jsonb[], $8::text[])`,
    [
      steps.map((s) => s.correlationId),
      steps.map((s) => s.messageId ?? null),
      steps.map((s) => s.deliveryId ?? null),
      steps.map((s) => s.destination ?? null),
      steps.map((s) => s.step),
      steps.map((s) => s.latencyMs ?? null),
      steps.map((s) => (s.detail ? JSON.stringify(s.detail) : null)),
      steps.map((s) => s.traceId ?? (ambient !== undefined && s.correlationId === correlationId ? ambient : null)),
    ],
  );
}
