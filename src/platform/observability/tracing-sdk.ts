import type { IncomingMessage } from 'node:http';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK, type NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { tracingStarted } from './tracing.js';

// Probes and scrapes come every few seconds and say nothing about a transaction.
const UNTRACED_PATH = /^\/(health\/|metrics(\?|$))/;

/**
 * Starts the OpenTelemetry SDK for traces: the exporter, sampler and resource from the standard OTEL_* variables
 * (or the given span processors, for tests), and the instrumentations of what a transaction passes through:
 * incoming HTTP and Fastify's routes, PostgreSQL (only inside a trace), and undici, whose calls to the ERPs and
 * channels carry `traceparent`. Metrics stay with Prometheus and logs with pino unless OTEL_METRICS_EXPORTER or
 * OTEL_LOGS_EXPORTER ask for more. Under ESM the modules it patches must not be loaded yet: see instrumentation.ts.
 */
export function startTracing(options: { spanProcessors?: SpanProcessor[] } = {}): NodeSDK {
  const configuration: Partial<NodeSDKConfiguration> = {
    serviceName: process.env.OTEL_SERVICE_NAME || /(^|,)\s*service\.name=/.test(process.env.OTEL_RESOURCE_ATTRIBUTES ?? '') ? undefined : 'crossdock',
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request: IncomingMessage) => UNTRACED_PATH.test(request.url ?? ''),
        // Outgoing calls go through undici; the OTLP exporter's own calls need no span.
        disableOutgoingRequestInstrumentation: true,
      }),
      // Made once per process: a second instance would decorate Fastify twice.
      new FastifyOtelInstrumentation({ registerOnInitialization: true, instrumentHooks: false, ignorePaths: (route) => UNTRACED_PATH.test(route.url ?? '') }),
      // The queue's polls and the relay's passes run outside any trace: no span for those.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      new UndiciInstrumentation(),
    ],
    ...(process.env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
    ...(process.env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}),
  };
  const sdk = new NodeSDK(configuration);
  sdk.start();
  tracingStarted(() => sdk.shutdown());
  return sdk;
}
