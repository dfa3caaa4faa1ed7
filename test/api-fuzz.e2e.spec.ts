import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './support/test-app.js';
import { orderBody, ordersWorld, submitOrder, type OrdersWorld } from './support/orders.js';

// Random requests over every operation of the OpenAPI document: random and mutated bodies, headers, path
// segments, query strings and content types. No answer is a 5xx, and a refused request writes nothing.
// TEST_FUZZ_REQUESTS scales it.
const REQUESTS = Number(process.env.TEST_FUZZ_REQUESTS ?? 10_000);

let t: TestApp;
let w: OrdersWorld;
let fastify: FastifyInstance;
let sourceKey: string;
let orderId: string;
let operations: Array<{ method: string; path: string }>;

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'fatal', CROSSDOCK_ROLE: 'api', CROSSDOCK_API_KEY_RATE_PER_SECOND: '1000000', CROSSDOCK_API_KEY_RATE_BURST: '1000000' } });
  w = await ordersWorld(t);
  await t.request('PUT', '/v1/admin/sources/wms', { body: { name: 'WMS' } });
  sourceKey = (await t.request('POST', '/v1/admin/sources/wms/api-keys', { body: { scopes: ['inventory:write', 'inventory:read', 'shipments:write'] } })).body.key;
  orderId = (await submitOrder(t, w.portalKey, orderBody())).body.orderId;
  fastify = t.app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  const document = (await t.request('GET', '/docs-json', { token: null })).body as { paths: Record<string, Record<string, unknown>> };
  operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })));
}, 120_000);
afterAll(async () => {
  await t?.close();
  await w?.close();
});

// What a refused request must leave alone (role api: no worker writes meanwhile).
const COUNTED = ['sales_order', 'sales_order_line', 'stock_position', 'stock_reservation', 'inbox', 'idempotency_record', 'channel', 'erp_backend',
  'source_system', 'routing', 'api_key', 'audit_entry', 'outbox', 'state_outbox', 'customer_account'];
const counts = async () => JSON.stringify(await t.sql(`select ${COUNTED.map((table) => `(select count(*) from ${table})::int as ${table}`).join(', ')}`));

const valid: Record<string, () => unknown> = {
  'POST /v1/orders': () => orderBody(),
  'POST /v1/inventory/levels': () => ({ items: [{ eventId: 'e-1', sku: '1896-S', warehouse: 'WH-EAST', onHand: 5, sequence: 1 }] }),
  'POST /v1/inventory/movements': () => ({ items: [{ eventId: 'm-1', sku: '1896-S', warehouse: 'WH-EAST', delta: -1 }] }),
  'PUT /v1/admin/channels/{id}': () => ({ kind: 'api', config: {}, inventory: { warehouses: ['WH-EAST'], safetyStock: 0, allocationPercent: 100 }, oversell: 'reject' }),
  'PUT /v1/admin/sources/{id}': () => ({ name: 'A source' }),
  'PUT /v1/admin/routing/{domain}': () => ({ mode: 'cloud', primary: 'bc' }),
  'POST /v1/admin/channels/{id}/api-keys': () => ({ scopes: ['orders:read'] }),
};

const strange = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', '..', '%00', '%2e%2e%2f', 'null', '-1', '1e309', 'ä̈', '\u202e', 'a'.repeat(3000), '<script>', "' or 1=1 --"),
  fc.uuid(),
);
const segment = fc.oneof(fc.constantFrom('portal', 'other', 'bc', 'wms', 'orders', 'inventory', '1896-S'), fc.constant('ORDER'), strange);
const jsonish = fc.jsonValue({ maxDepth: 4 });

function mutate(body: unknown): fc.Arbitrary<unknown> {
  if (body === null || typeof body !== 'object') return jsonish;
  const keys = Object.keys(body as object);
  return fc.oneof(
    fc.constant(body),
    fc.record({ key: fc.constantFrom(...keys), value: jsonish }).map(({ key, value }) => ({ ...(body as object), [key]: value })),
    fc.constantFrom(...keys).map((key) => Object.fromEntries(Object.entries(body as object).filter(([k]) => k !== key))),
    fc.record({ key: fc.string({ maxLength: 12 }), value: jsonish }).map(({ key, value }) => ({ ...(body as object), [key]: value })),
    fc.constant(Array.isArray(body) ? {} : [body]),
  );
}

const request = fc.record({
  operation: fc.nat(),
  segments: fc.array(segment, { minLength: 4, maxLength: 4 }),
  query: fc.option(fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(fc.string({ maxLength: 30 }), strange), { maxKeys: 3 }), { nil: undefined }),
  auth: fc.constantFrom('none', 'admin', 'channel', 'other', 'source', 'garbage', 'basic'),
  contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined),
  body: fc.oneof(fc.constant(undefined), jsonish.map((v) => JSON.stringify(v)), fc.string({ unit: 'binary', maxLength: 200 }), fc.constant('{"a":'), fc.constant('\ufeff{}')),
  mutateValid: fc.boolean(),
  idempotencyKey: fc.option(fc.oneof(fc.string({ maxLength: 80 }), fc.constant('x'.repeat(500))), { nil: undefined }),
  correlationId: fc.option(strange, { nil: undefined }),
  seed: fc.nat(),
});

describe('every public endpoint under random input', () => {
  it(`answers ${REQUESTS} random requests without a 5xx, and a refused one writes nothing`, { timeout: 600_000 }, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(fc.asyncProperty(request, async (r) => {
      const operation = operations[r.operation % operations.length]!;
      let i = 0;
      const path = operation.path.replace(/\{[^}]+\}/g, (name) => {
        const value = r.segments[i++]!;
        return encodeURIComponent(value === 'ORDER' || name === '{orderId}' && r.seed % 2 === 0 ? orderId : value);
      });
      const query = r.query ? `?${new URLSearchParams(r.query).toString()}` : '';
      const template = valid[`${operation.method} ${operation.path}`];
      const payload = r.mutateValid && template ? JSON.stringify(fc.sample(mutate(template()), { numRuns: 1, seed: r.seed })[0]) : r.body;
      const tokens: Record<string, string | undefined> = {
        none: undefined, admin: `Bearer ${ADMIN_TOKEN}`, channel: `Bearer ${w.portalKey}`, other: `Bearer ${w.otherKey}`,
        source: `Bearer ${sourceKey}`, garbage: 'Bearer cdk_x_y', basic: 'Basic YWRtaW46YWRtaW4=',
      };
      const headers: Record<string, string> = {};
      if (tokens[r.auth]) headers.authorization = tokens[r.auth]!;
      if (r.contentType && payload !== undefined) headers['content-type'] = r.contentType;
      if (r.idempotencyKey !== undefined) headers['idempotency-key'] = r.idempotencyKey.replace(/[^\t\x20-\x7e]/g, '');
      if (r.correlationId !== undefined) headers['x-correlation-id'] = r.correlationId.replace(/[^\t\x20-\x7e]/g, '');
      const before = await counts();
      const answer = await fastify.inject({ method: operation.method as 'GET', url: path + query, headers, ...(payload !== undefined && operation.method !== 'GET' ? { payload } : {}) });
      statuses.set(answer.statusCode, (statuses.get(answer.statusCode) ?? 0) + 1);
      if (answer.statusCode >= 500) throw new Error(`${operation.method} ${path}${query} answered ${answer.statusCode}: ${answer.body.slice(0, 300)}`);
      if (answer.statusCode >= 400) {
        const after = await counts();
        if (after !== before) throw new Error(`${operation.method} ${path} was refused with ${answer.statusCode} but wrote: ${before} -> ${after}`);
      }
    }), { numRuns: REQUESTS, seed: 20261202 });
    // The runs reached past the guards and the validation into the handlers.
    expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(0);
    expect((statuses.get(400) ?? 0) + (statuses.get(422) ?? 0)).toBeGreaterThan(0);
    expect(operations.length).toBeGreaterThan(20);
  });
});
