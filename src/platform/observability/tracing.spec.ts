import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { spanContextOf, traceIdOf, traceparentOf, TRACEPARENT_ONLY, tracingRequested } from './tracing.js';

describe('tracingRequested', () => {
  it.each([
    [{}, false],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
    [{ OTEL_TRACES_EXPORTER: 'console' }, true],
    [{ OTEL_TRACES_EXPORTER: 'none' }, false],
    [{ OTEL_TRACES_EXPORTER: ' ' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'TRUE' }, false],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'false' }, true],
    [{ OTEL_METRICS_EXPORTER: 'otlp', OTEL_SERVICE_NAME: 'crossdock' }, false],
  ])('%j: %s', (env, expected) => {
    expect(tracingRequested(env)).toBe(expected);
  });
});

describe('the stored traceparent', () => {
  const spanContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true };

  it('is W3C Trace Context, read back as the same span context', () => {
    const traceparent = traceparentOf(spanContext);
    expect(traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    expect(spanContextOf(traceparent)).toEqual(spanContext);
    expect(traceIdOf(traceparent)).toBe(spanContext.traceId);
    expect(traceIdOf(null)).toBeNull();
  });

  it.each([null, '', 'garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x'])('refuses %j', (value) => {
    expect(spanContextOf(value)).toBeUndefined();
  });

  it("is all pg-boss's propagator writes on a job: no baggage", () => {
    const carrier: Record<string, string> = {};
    TRACEPARENT_ONLY.inject(trace.setSpanContext(ROOT_CONTEXT, spanContext), carrier, defaultTextMapSetter);
    expect(carrier).toEqual({ traceparent: traceparentOf(spanContext) });
    expect(trace.getSpanContext(TRACEPARENT_ONLY.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter))).toEqual(spanContext);
  });
});
