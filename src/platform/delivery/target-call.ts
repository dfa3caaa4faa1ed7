import { context } from '@opentelemetry/api';
import type { Metrics } from '../observability/metrics.js';
import type { TraceStep } from '../observability/trace.js';
import { endDeliverySpan, isTracing, startDeliverySpan, traceIdOf, traceparentOf } from '../observability/tracing.js';
import type { Delivery } from '../outbox/message.js';
import type { DeliveryResult, DestinationHandler } from './destinations.js';
import { classify, type FailureDetail } from './outcome.js';

/** What one call to a target came to: a classified failure or the target's answer, and its trace step. */
export interface CallOutcome {
  failure?: FailureDetail;
  attempt: TraceStep;
  result?: DeliveryResult;
  startedAt: Date;
  /** The call's span, when tracing: what the settling transaction stores on the message's behalf continues it. */
  traceparent?: string;
}

/**
 * Calls the target once under the call timeout; never throws: a failure comes back classified. When tracing, the
 * call is a span of the message's trace (`batch`: all the deliveries of a batch call, the first being `delivery`).
 */
export async function callTarget(handler: DestinationHandler, delivery: Delivery, timeoutMs: number, metrics: Metrics, probe: boolean, batch?: readonly Delivery[]): Promise<CallOutcome> {
  const traced = isTracing() ? startDeliverySpan(delivery, probe, batch) : undefined;
  const startedAt = new Date();
  const started = performance.now();
  let failure: FailureDetail | undefined;
  let result: DeliveryResult | undefined;
  try {
    const call = () => handler.deliver(delivery, AbortSignal.timeout(timeoutMs));
    result = (await (traced ? context.with(traced.context, call) : call())) ?? undefined;
  } catch (error) {
    failure = classify(error);
  }
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  const labels = { flow: delivery.type, destination: delivery.destination };
  metrics.deliveryAttempts.inc({ ...labels, outcome: failure?.class ?? 'delivered' });
  if (!failure) metrics.deliveryLatency.observe(labels, (Date.now() - delivery.createdAt.getTime()) / 1000);
  if (traced) endDeliverySpan(traced.span, failure?.class ?? 'delivered', failure);
  const spanContext = traced?.span.spanContext();
  const attempt: TraceStep = {
    correlationId: delivery.correlationId,
    messageId: delivery.messageId,
    deliveryId: delivery.deliveryId,
    destination: delivery.destination,
    step: 'attempt',
    latencyMs,
    traceId: spanContext?.traceId ?? traceIdOf(delivery.traceContext),
    detail: { outcome: failure?.class ?? 'delivered', attempt: delivery.attempt, status: failure?.status, message: failure?.message, probe },
  };
  return { failure, attempt, result, startedAt, traceparent: spanContext && traceparentOf(spanContext) };
}
