import type { Metrics } from '../observability/metrics.js';
import type { TraceStep } from '../observability/trace.js';
import type { Delivery } from '../outbox/message.js';
import type { DeliveryResult, DestinationHandler } from './destinations.js';
import { classify, type FailureDetail } from './outcome.js';

/** What one call to a target came to: a classified failure or the target's answer, and its trace step. */
export interface CallOutcome {
  failure?: FailureDetail;
  attempt: TraceStep;
  result?: DeliveryResult;
  startedAt: Date;
}

/** Calls the target once under the call timeout; never throws: a failure comes back classified. */
export async function callTarget(handler: DestinationHandler, delivery: Delivery, timeoutMs: number, metrics: Metrics, probe: boolean): Promise<CallOutcome> {
  const startedAt = new Date();
  const started = performance.now();
  let failure: FailureDetail | undefined;
  let result: DeliveryResult | undefined;
  try {
    result = (await handler.deliver(delivery, AbortSignal.timeout(timeoutMs))) ?? undefined;
  } catch (error) {
    failure = classify(error);
  }
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  const labels = { flow: delivery.type, destination: delivery.destination };
  metrics.deliveryAttempts.inc({ ...labels, outcome: failure?.class ?? 'delivered' });
  if (!failure) metrics.deliveryLatency.observe(labels, (Date.now() - delivery.createdAt.getTime()) / 1000);
  const attempt: TraceStep = {
    correlationId: delivery.correlationId,
    messageId: delivery.messageId,
    deliveryId: delivery.deliveryId,
    destination: delivery.destination,
    step: 'attempt',
    latencyMs,
    detail: { outcome: failure?.class ?? 'delivered', attempt: delivery.attempt, status: failure?.status, message: failure?.message, probe },
  };
  return { failure, attempt, result, startedAt };
}
