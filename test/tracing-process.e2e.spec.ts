import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from './support/messaging.js';
import { restartableService, type RestartableService } from './support/orders-process.js';
import { orderBody, waitForStatus } from './support/orders.js';
import { freshDatabase } from './support/test-app.js';
import { listeningCollector, listeningErp, listeningSubscriber, routeOrders, traceIdIn, type ExportedSpan } from './support/traced-world.js';

// The built service with its preload, as `npm start` and the image run it: `--import dist/instrumentation.js`.
const PRELOAD = `--import=${fileURLToPath(new URL('../dist/instrumentation.js', import.meta.url))}`;
const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

const closing: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

let collector: Awaited<ReturnType<typeof listeningCollector>> | undefined;
afterAll(async () => collector?.close());

/** The service on a fresh database, its orders routed to a listening ERP and channel; one order confirmed. */
async function orderThrough(env: Record<string, string>) {
  const erp = await listeningErp();
  const subscriber = await listeningSubscriber();
  closing.push(() => erp.close(), () => subscriber.close());
  const service: RestartableService = await restartableService({ DATABASE_URL: await freshDatabase(), LOG_LEVEL: 'warn', NODE_OPTIONS: PRELOAD, ...env });
  closing.push(() => service.stop());
  await service.start();
  const key = await routeOrders(service.request, erp.url, subscriber.url);
  const answer = await service.request('POST', '/v1/orders', { token: key, body: orderBody(), headers: { 'idempotency-key': 'traced-order' } });
  expect(answer.status, service.output()).toBe(202);
  const order = await waitForStatus(service.app, answer.body.orderId, 'confirmed');
  await waitUntil('the channel told of the confirmation', () => subscriber.eventsOf(order.orderId).length === 2);
  const creates = erp.creates(order.reference);
  expect(creates).toHaveLength(1);
  return { service, order, create: creates[0]!, events: subscriber.eventsOf(order.orderId), erp };
}

describe('the built service started with its preload', () => {
  it('exports one trace from the HTTP intake to the ERP call over OTLP when an endpoint is set: the server, pg, the outbox, the relay, the job and undici', async () => {
    collector = await listeningCollector();
    const { service, order, create, events } = await orderThrough({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    const traceId = traceIdIn(create.traceparent)!;
    expect(create.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const callId = create.traceparent!.split('-')[2];
    await waitUntil('the ERP call exported', () => collector!.spans.some((s) => s.spanId === callId));
    const inTrace = collector.spans.filter((s) => s.traceId === traceId);
    const byId = new Map(inTrace.map((s) => [s.spanId, s]));
    const ancestors = (span: ExportedSpan) => {
      const chain: ExportedSpan[] = [];
      for (let parent = byId.get(span.parentSpanId ?? ''); parent; parent = byId.get(parent.parentSpanId ?? '')) chain.push(parent);
      return chain;
    };
    const named = (name: string) => inTrace.filter((s) => s.name === name);

    // The HTTP server span exists only when the instrumentation ran before Fastify loaded http: the preload's order.
    const [intake, ...others] = inTrace.filter((s) => s.kind === SERVER && s.scope === '@opentelemetry/instrumentation-http' && s.attributes['http.route'] === '/v1/orders');
    expect(others).toEqual([]);
    expect(intake!.service).toBe('crossdock');
    expect(inTrace.filter((s) => s.scope === '@opentelemetry/instrumentation-pg' && ancestors(s).includes(intake!)).length).toBeGreaterThan(0);
    expect(inTrace.some((s) => s.scope === '@fastify/otel' && s.attributes['http.route'] === '/v1/orders')).toBe(true);

    const [stored] = named('store erp.sales-order.create');
    expect(stored).toMatchObject({ kind: PRODUCER, attributes: expect.objectContaining({ 'messaging.message.conversation_id': order.correlationId }) });
    expect(ancestors(stored!)).toContain(intake);
    expect(named('relay erp:bc')[0]?.parentSpanId).toBe(stored!.spanId);
    const [delivered] = named('deliver erp.sales-order.create');
    expect(delivered).toMatchObject({ kind: CONSUMER, parentSpanId: stored!.spanId });
    const call = byId.get(callId!);
    expect(call).toMatchObject({ kind: CLIENT, scope: '@opentelemetry/instrumentation-undici' });
    expect(ancestors(call!)).toContain(delivered);
    // The job: pg-boss's process span, its trace carried on the job row from the relay's insert.
    await waitUntil('the job exported', () => delivered!.links.some((l) => collector!.spans.some((s) => s.spanId === l.spanId)));
    const job = collector.spans.find((s) => delivered!.links.some((l) => l.spanId === s.spanId))!;
    expect(job).toMatchObject({ scope: 'pg-boss', name: 'process deliver/erp/bc', kind: CONSUMER });
    expect(collector.spans.find((s) => s.spanId === job.parentSpanId)).toMatchObject({ scope: 'pg-boss', name: 'insert deliver/erp/bc', kind: PRODUCER });

    for (const event of events) expect(traceIdIn(event.traceparent)).toBe(traceId);
    // Readiness probes are not traced.
    expect(collector.spans.filter((s) => Object.values(s.attributes).some((v) => String(v).includes('/health/')))).toEqual([]);
    const timeline = (await service.request('GET', `/v1/ops/trace/${order.correlationId}`)).body;
    expect(timeline.traceIds).toEqual([traceId]);
  });

  it('with no OTEL_* variable, starts no SDK: no call carries a traceparent and the timeline names no trace', async () => {
    const { service, order, events, erp } = await orderThrough({});
    expect(erp.heard.length).toBeGreaterThan(0);
    expect(erp.heard.filter((h) => h.traceparent !== undefined)).toEqual([]);
    expect(events.filter((e) => e.traceparent !== undefined)).toEqual([]);
    const timeline = (await service.request('GET', `/v1/ops/trace/${order.correlationId}`)).body;
    expect(timeline.traceIds).toEqual([]);
    expect(timeline.timeline.length).toBeGreaterThan(0);
    expect(timeline.timeline.filter((s: { traceId: string | null }) => s.traceId !== null)).toEqual([]);
  });
});
