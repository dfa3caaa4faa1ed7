import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { createBusinessCentralSimulator } from '../../src/simulators/business-central/bc-simulator.js';
import { TARGET_SECRET } from './fault-target.js';
import { bcBackend } from './orders.js';
import type { RequestOptions, Answer } from './test-app.js';

/** A request a simulated system received: what the service sent it, with its W3C `traceparent` header. */
export interface Heard {
  method: string;
  url: string;
  traceparent: string | undefined;
  body: any;
}

/** The trace id a `traceparent` names. */
export const traceIdIn = (traceparent: string | undefined) => traceparent?.split('-')[1];

/** The Business Central simulator behind a host that notes every request's headers and body. */
export async function listeningErp() {
  const sim = createBusinessCentralSimulator({ clientId: 'crossdock', clientSecret: 'secret-1', ratePerSecond: 200, latencyMs: [1, 3] });
  const heard: Heard[] = [];
  const host = Fastify({ logger: false });
  host.addHook('preHandler', async (request) => {
    heard.push({ method: request.method, url: request.url, traceparent: header(request.headers.traceparent), body: request.body });
  });
  await host.register(sim.plugin);
  await host.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(host.server.address() as AddressInfo).port}`;
  return {
    url,
    heard,
    /** The sales order creates the ERP received for an order reference. */
    creates: (reference: string) => heard.filter((h) => h.method === 'POST' && h.url.split('?')[0]!.endsWith('/salesOrders') && h.body?.externalDocumentNumber === reference),
    close: async () => {
      await host.close();
      await sim.close();
    },
  };
}

/** A webhook subscriber that answers 204 to everything and notes what it was sent. */
export async function listeningSubscriber() {
  const heard: Heard[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      heard.push({ method: req.method!, url: req.url!, traceparent: header(req.headers.traceparent), body: JSON.parse(Buffer.concat(chunks).toString() || 'null') });
      res.writeHead(204).end();
    });
  });
  const url = await listen(server);
  return {
    url: `${url}/events`,
    heard,
    /** The events about an order. */
    eventsOf: (orderId: string) => heard.filter((h) => h.body?.data?.orderId === orderId),
    close: () => close(server),
  };
}

/** One span as an OTLP/HTTP JSON export carries it, with its scope's name and its attributes flattened. */
export interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  scope: string;
  /** The resource's service.name. */
  service: string;
  attributes: Record<string, unknown>;
  links: Array<{ traceId: string; spanId: string }>;
}

/** A collector's OTLP/HTTP endpoint (JSON encoding) that keeps every span it is sent. */
export async function listeningCollector() {
  const spans: ExportedSpan[] = [];
  let exports = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      if (req.url === '/v1/traces') {
        exports++;
        for (const resource of JSON.parse(body.toString()).resourceSpans ?? []) {
          const service = attributesOf(resource.resource?.attributes)['service.name'] as string;
          for (const scoped of resource.scopeSpans ?? []) {
            for (const span of scoped.spans ?? []) {
              spans.push({
                traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId || undefined, name: span.name, kind: span.kind,
                scope: scoped.scope?.name, service, attributes: attributesOf(span.attributes),
                links: (span.links ?? []).map((l: any) => ({ traceId: l.traceId, spanId: l.spanId })),
              });
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const url = await listen(server);
  return { url, spans, exports: () => exports, close: () => close(server) };
}

type Request = (method: string, path: string, opts?: RequestOptions) => Promise<Answer>;

/**
 * Routes orders to the listening ERP (backend `bc`), and makes a webhook channel `portal` on the listening
 * subscriber, with its API key: what an order needs to go from the intake to the ERP and back to its channel.
 */
export async function routeOrders(request: Request, erpUrl: string, subscriberUrl: string): Promise<string> {
  const put = async (path: string, body: unknown) => {
    const answer = await request('PUT', path, { body });
    if (answer.status >= 300) throw new Error(`${path}: ${answer.status} ${answer.text}`);
  };
  await put('/v1/admin/erp-backends/bc', bcBackend(erpUrl, { ratePerSecond: 200, burst: 200, concurrency: 8 }));
  await put('/v1/admin/routing/orders', { mode: 'cloud', primary: 'bc' });
  await put('/v1/admin/channels/portal', {
    kind: 'webhook', config: { url: subscriberUrl, secret: TARGET_SECRET },
    inventory: { warehouses: ['WH-EAST', 'WH-WEST'], safetyStock: 0, allocationPercent: 100 }, oversell: 'backorder',
    limits: { ratePerSecond: 500, burst: 500, concurrency: 16 },
  });
  const sync = await request('POST', '/v1/admin/erp-backends/bc/sync/customers');
  if (sync.status !== 200) throw new Error(`customer sync: ${sync.status} ${sync.text}`);
  const key = await request('POST', '/v1/admin/channels/portal/api-keys', { body: { scopes: ['orders:write', 'orders:read'] } });
  return key.body.key as string;
}

function attributesOf(attributes: Array<{ key: string; value?: Record<string, unknown> }> | undefined): Record<string, unknown> {
  return Object.fromEntries((attributes ?? []).map((a) => [a.key, Object.values(a.value ?? {})[0]]));
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
