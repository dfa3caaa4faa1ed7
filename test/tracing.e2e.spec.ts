import { context, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopTracing } from '../src/platform/observability/tracing.js';
import { startTracing } from '../src/platform/observability/tracing-sdk.js';
import { waitUntil } from './support/messaging.js';
import { orderBody, submitOrder, waitForStatus } from './support/orders.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { listeningErp, listeningSubscriber, routeOrders, traceIdIn } from './support/traced-world.js';

// In this process the SDK starts after pg, Fastify and http were loaded, so only what needs no module patching
// is seen (Fastify's routes and undici, through diagnostics channels, and the service's own spans): enough for the
// journey of a message. tracing-process.e2e.spec.ts runs the built service with its preload, as deployed.
const exporter = new InMemorySpanExporter();
let t: TestApp;
let erp: Awaited<ReturnType<typeof listeningErp>>;
let subscriber: Awaited<ReturnType<typeof listeningSubscriber>>;
let key: string;

beforeAll(async () => {
  startTracing({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  t = await startTestApp({ env: { LOG_LEVEL: 'warn' } });
  erp = await listeningErp();
  subscriber = await listeningSubscriber();
  key = await routeOrders(t.request, erp.url, subscriber.url);
});
afterAll(async () => {
  await t?.close();
  await erp?.close();
  await subscriber?.close();
  await stopTracing();
});

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;
const spans = () => exporter.getFinishedSpans();
const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const one = <T>(found: T[], what: string): T => {
  expect(found, what).toHaveLength(1);
  return found[0]!;
};

describe('an order traced from the HTTP intake to the ERP call', () => {
  it('is one trace: the request, the outbox, the relay, the job and the connector call, whose traceparent the ERP and the channel receive', async () => {
    const answer = await submitOrder(t, key, orderBody());
    expect(answer.status).toBe(202);
    const { orderId, correlationId } = answer.body;
    const order = await waitForStatus(t, orderId, 'confirmed');
    await waitUntil('the channel told of the confirmation', () => subscriber.eventsOf(orderId).length === 2);

    // The ERP received one create, carrying a traceparent; everything below hangs from that trace.
    const create = one(erp.creates(order.reference), 'sales order creates');
    expect(create.traceparent).toMatch(TRACEPARENT);
    const traceId = traceIdIn(create.traceparent)!;
    const inTrace = spans().filter((s) => s.spanContext().traceId === traceId);
    const byId = new Map(inTrace.map((s) => [idOf(s), s]));
    const ancestors = (span: ReadableSpan) => {
      const chain: ReadableSpan[] = [];
      for (let parent = byId.get(parentOf(span) ?? ''); parent; parent = byId.get(parentOf(parent) ?? '')) chain.push(parent);
      return chain;
    };

    const intake = one(inTrace.filter((s) => s.kind === SpanKind.SERVER && s.attributes['http.route'] === '/v1/orders'), 'the intake request');
    const stored = one(inTrace.filter((s) => s.name === 'store erp.sales-order.create'), 'the outbox write');
    expect(stored.kind).toBe(SpanKind.PRODUCER);
    expect(stored.attributes['messaging.message.conversation_id']).toBe(correlationId);
    expect(ancestors(stored)).toContain(intake);
    const relayed = one(inTrace.filter((s) => s.name === 'relay erp:bc'), 'the relay');
    expect(parentOf(relayed)).toBe(idOf(stored));
    const delivered = one(inTrace.filter((s) => s.name === 'deliver erp.sales-order.create'), 'the delivery');
    expect(delivered).toMatchObject({ kind: SpanKind.CONSUMER, attributes: expect.objectContaining({ 'messaging.destination.name': 'erp:bc', 'crossdock.delivery.outcome': 'delivered' }) });
    expect(parentOf(delivered)).toBe(idOf(stored));
    // The job that carried it: pg-boss's span, in the relay's trace of its own, linked from the delivery.
    const jobLink = delivered.links.find((l) => l.attributes?.['crossdock.link'] === 'job');
    const job = spans().find((s) => idOf(s) === jobLink?.context.spanId);
    expect(job).toMatchObject({ name: 'process deliver/erp/bc', kind: SpanKind.CONSUMER, instrumentationScope: expect.objectContaining({ name: 'pg-boss' }) });
    // The connector's HTTP call is the delivery's child, and the span the ERP was told it came from.
    const call = one(inTrace.filter((s) => s.kind === SpanKind.CLIENT && idOf(s) === create.traceparent!.split('-')[2]), 'the ERP call');
    expect(ancestors(call)).toContain(delivered);

    // What the outcome caused, the order's status for its channel, goes on in the same trace, out to the webhook.
    const events = subscriber.eventsOf(orderId);
    expect(events.map((e) => e.body.data.status)).toEqual(['submitted', 'confirmed']);
    for (const event of events) expect(traceIdIn(event.traceparent)).toBe(traceId);

    // The timeline names the trace, for the console to link to.
    const timeline = (await t.request('GET', `/v1/ops/trace/${correlationId}`)).body;
    expect(timeline.traceIds[0]).toBe(traceId);
    const erpSteps = timeline.timeline.filter((s: { destination: string }) => s.destination === 'erp:bc');
    expect(erpSteps.map((s: { step: string }) => s.step)).toEqual(['stored', 'relayed', 'delivered']);
    for (const step of erpSteps) expect(step.traceId).toBe(traceId);
  });

  it("keeps each request's own trace when the intake writes many orders in one transaction", async () => {
    const tracer = trace.getTracer('test');
    // Concurrent orders share a transaction (a second lane opens only for a full batch), run in one request's context.
    const sent = await Promise.all(Array.from({ length: 12 }, async () => {
      const client = tracer.startSpan('client', undefined, ROOT_CONTEXT);
      const answer = await context.with(trace.setSpan(ROOT_CONTEXT, client), () => submitOrder(t, key, orderBody()));
      client.end();
      expect(answer.status).toBe(202);
      return { traceId: client.spanContext().traceId, orderId: answer.body.orderId as string };
    }));
    for (const { traceId, orderId } of sent) {
      const order = await waitForStatus(t, orderId, 'confirmed');
      const create = one(erp.creates(order.reference), 'sales order creates');
      expect(traceIdIn(create.traceparent)).toBe(traceId);
    }
    const stores = spans().filter((s) => s.name === 'store erp.sales-order.create' && sent.some((o) => o.traceId === s.spanContext().traceId));
    expect(stores).toHaveLength(sent.length);
  });
});
