import {
  context, createContextKey, isSpanContextValid, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace,
  type Attributes, type Context, type Link, type Span, type SpanContext, type TextMapPropagator,
} from '@opentelemetry/api';
import { currentCorrelationId } from './correlation.js';

/**
 * OpenTelemetry tracing, off unless the standard OTEL_* variables ask for it. The SDK is started by the preload
 * (src/instrumentation.ts, tracing-sdk.ts); everything here is the API only, and each entry point answers at once
 * while tracing is off, so that the messaging path pays a boolean test and a null column per message.
 */

/**
 * Whether the environment asks for traces: OTEL_TRACES_EXPORTER names an exporter (not `none`), or an OTLP endpoint
 * is set (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). OTEL_SDK_DISABLED=true wins over both.
 * Unlike the SDK's own default (otlp to localhost), nothing at all means off.
 */
export function tracingRequested(env: Record<string, string | undefined>): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = env.OTEL_TRACES_EXPORTER?.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (exporters && exporters.length > 0) return !exporters.includes('none');
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim());
}

let tracing = false;
let stopSdk: (() => Promise<void>) | undefined;

/** Called once an SDK is registered (the preload; tests): from then on, messages carry their trace context. */
export function tracingStarted(stop: () => Promise<void>): void {
  tracing = true;
  stopSdk = stop;
}

export function isTracing(): boolean {
  return tracing;
}

/** Exports the spans still buffered and stops the SDK; nothing when tracing is off. */
export async function stopTracing(): Promise<void> {
  const stop = stopSdk;
  stopSdk = undefined;
  tracing = false;
  await stop?.().catch(() => undefined);
}

const tracer = trace.getTracer('crossdock');

// W3C Trace Context, version 00: what is stored with a message and what the target sees in `traceparent`.
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function traceparentOf(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-${(spanContext.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

export function spanContextOf(traceparent: string | null | undefined): SpanContext | undefined {
  const match = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (!match) return undefined;
  const spanContext = { traceId: match[1]!, spanId: match[2]!, traceFlags: parseInt(match[3]!, 16), isRemote: true };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** The trace id of a stored traceparent (null when there is none). */
export function traceIdOf(traceparent: string | null | undefined): string | null {
  return traceparent ? traceparent.slice(3, 35) : null;
}

/** The trace id of the span in progress, when tracing. */
export function activeTraceId(): string | undefined {
  if (!tracing) return undefined;
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/** The context a stored message's later work continues: its producer's span as the parent, or a new trace. */
export function contextOf(traceparent: string | null | undefined): Context {
  const spanContext = spanContextOf(traceparent);
  return spanContext ? trace.setSpanContext(ROOT_CONTEXT, spanContext) : ROOT_CONTEXT;
}

/**
 * For pg-boss's own propagation (its job rows): `traceparent` only, so that no baggage is written into the queue
 * whatever OTEL_PROPAGATORS says.
 */
export const TRACEPARENT_ONLY: TextMapPropagator = {
  inject(ctx, carrier, setter) {
    const spanContext = trace.getSpanContext(ctx);
    if (spanContext && isSpanContextValid(spanContext)) setter.set(carrier, 'traceparent', traceparentOf(spanContext));
  },
  extract(ctx, carrier, getter) {
    const value = getter.get(carrier, 'traceparent');
    const spanContext = spanContextOf(Array.isArray(value) ? value[0] : value);
    return spanContext ? trace.setSpanContext(ctx, spanContext) : ctx;
  },
  fields: () => ['traceparent'],
};

// Work one transaction does for many callers (a group commit, a settled batch): each caller's trace by its correlation id.
const ADOPTED = createContextKey('crossdock: traceparents by correlation id');

/** The caller's correlation id and span, to hand to a transaction that works for several callers at once. */
export function ownTraceContext(): readonly [string, string] | undefined {
  if (!tracing) return undefined;
  const correlationId = currentCorrelationId();
  const spanContext = trace.getActiveSpan()?.spanContext();
  return correlationId !== undefined && spanContext && isSpanContextValid(spanContext) ? [correlationId, traceparentOf(spanContext)] : undefined;
}

/** Runs `work` where the messages stored for these correlation ids continue these traces. */
export function withTraceContexts<T>(entries: Iterable<readonly [string, string] | undefined>, work: () => T): T {
  if (!tracing) return work();
  const adopted = new Map<string, string>();
  for (const entry of entries) if (entry) adopted.set(entry[0], entry[1]);
  return adopted.size === 0 ? work() : context.with(context.active().setValue(ADOPTED, adopted), work);
}

/** Runs `work` outside any trace: a relay pass that a producer's commit woke up is not part of the producer's trace. */
export function outsideTraces<T>(work: () => T): T {
  return tracing ? context.with(ROOT_CONTEXT, work) : work();
}

const MESSAGING = { 'messaging.system': 'crossdock' } as const;

export interface MessageToStore {
  correlationId: string;
  /** The message belongs to the work in progress (its correlation id is the ambient one, or none was given). */
  ambient: boolean;
  type: string;
}

/**
 * Opens the PRODUCER span that starts each stored message's journey: under the span in progress for the work's
 * own messages, under the adopted trace of another caller's (withTraceContexts), else in a new trace per
 * correlation id; one span per trace for a batch. Answers each message's traceparent, in order; `end` closes the
 * spans once the messages are written, or could not be.
 */
export function startStoreSpans(messages: readonly MessageToStore[]): { traceparents: string[]; end(error?: unknown): void } {
  const adopted = context.active().getValue(ADOPTED) as Map<string, string> | undefined;
  const groups = new Map<string, { parent: Context; types: Set<string>; correlationIds: Set<string>; count: number; span?: Span }>();
  const groupOf = messages.map((message) => {
    const traceparent = adopted?.get(message.correlationId);
    const key = traceparent !== undefined ? `adopted:${traceparent}` : message.ambient ? 'ambient' : `new:${message.correlationId}`;
    let group = groups.get(key);
    if (!group) {
      const parent = traceparent !== undefined ? contextOf(traceparent) : message.ambient ? context.active() : ROOT_CONTEXT;
      groups.set(key, (group = { parent, types: new Set(), correlationIds: new Set(), count: 0 }));
    }
    group.types.add(message.type);
    group.correlationIds.add(message.correlationId);
    group.count++;
    return group;
  });
  for (const group of groups.values()) {
    const [type] = group.types;
    const [correlationId] = group.correlationIds;
    const attributes: Attributes = { ...MESSAGING, 'messaging.operation.type': 'send', 'messaging.operation.name': 'store' };
    if (group.count > 1) attributes['messaging.batch.message_count'] = group.count;
    if (group.correlationIds.size === 1) attributes['messaging.message.conversation_id'] = correlationId!;
    group.span = tracer.startSpan(group.types.size === 1 ? `store ${type}` : 'store messages', { kind: SpanKind.PRODUCER, attributes }, group.parent);
  }
  return {
    traceparents: groupOf.map((group) => traceparentOf(group.span!.spanContext())),
    end(error) {
      for (const { span } of groups.values()) {
        if (error !== undefined) failed(span!, error);
        span!.end();
      }
    },
  };
}

/** The relay's step in a message's trace: from its claim until its job (or its place behind its chain) is written. */
export function recordRelaySpan(traceparent: string, startedAt: number, attributes: { destination: string; deliveryId: string; placement: string; waitMs: number }): void {
  tracer.startSpan(`relay ${attributes.destination}`, {
    kind: SpanKind.INTERNAL,
    startTime: startedAt,
    attributes: {
      ...MESSAGING, 'messaging.destination.name': attributes.destination, 'messaging.message.id': attributes.deliveryId,
      'crossdock.relay.placement': attributes.placement, 'crossdock.outbox.wait_ms': attributes.waitMs,
    },
  }, contextOf(traceparent)).end();
}

export interface DeliveryToTrace {
  deliveryId: string;
  type: string;
  destination: string;
  correlationId: string;
  attempt: number;
  traceContext?: string | null;
}

/**
 * The CONSUMER span of one call to a target, a child of the message's stored context (a new trace when it has
 * none). It links the span in progress (pg-boss's job) and, for a batch call, the other messages' traces. Work
 * run in the answered context (the connector's HTTP calls) is its child.
 */
export function startDeliverySpan(delivery: DeliveryToTrace, probe: boolean, batch: readonly DeliveryToTrace[] = []): { span: Span; context: Context } {
  const parent = contextOf(delivery.traceContext);
  const links: Link[] = [];
  const job = trace.getActiveSpan()?.spanContext();
  if (job && isSpanContextValid(job)) links.push({ context: job, attributes: { 'crossdock.link': 'job' } });
  const seen = new Set([delivery.traceContext]);
  for (const other of batch) {
    const spanContext = seen.has(other.traceContext) ? undefined : spanContextOf(other.traceContext);
    seen.add(other.traceContext);
    if (spanContext) links.push({ context: spanContext, attributes: { 'crossdock.link': 'batched-message' } });
  }
  const attributes: Attributes = {
    ...MESSAGING, 'messaging.operation.type': 'process', 'messaging.operation.name': 'deliver',
    'messaging.destination.name': delivery.destination, 'messaging.message.id': delivery.deliveryId,
    'messaging.message.conversation_id': delivery.correlationId, 'crossdock.message.type': delivery.type,
    'crossdock.delivery.attempt': delivery.attempt, 'crossdock.delivery.probe': probe,
  };
  if (batch.length > 1) attributes['messaging.batch.message_count'] = batch.length;
  const span = tracer.startSpan(`deliver ${delivery.type}`, { kind: SpanKind.CONSUMER, attributes, links }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends a delivery span with the call's outcome class (`delivered`, `retryable`, `throttled`, `permanent`). */
export function endDeliverySpan(span: Span, outcome: string, failure?: { message: string; status?: number }): void {
  span.setAttribute('crossdock.delivery.outcome', outcome);
  if (failure?.status !== undefined) span.setAttribute('http.response.status_code', failure.status);
  if (failure) {
    span.setAttribute('error.type', outcome);
    span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
  }
  span.end();
}

function failed(span: Span, error: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  if (error instanceof Error) span.recordException(error);
}
