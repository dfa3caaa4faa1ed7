import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleChannel, startTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
const writtenRows = async () => {
  const [row] = await t.sql<{ channels: number; audit: number }>(
    'select (select count(*) from channel)::int as channels, (select count(*) from audit_entry)::int as audit',
  );
  return row;
};

beforeAll(async () => {
  t = await startTestApp({ env: { CROSSDOCK_BODY_LIMIT_BYTES: '4096' } });
});
afterAll(() => t.close());

function expectProblem(answer: { status: number; headers: Headers; body: any }, status: number) {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(answer.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  expect(JSON.stringify(answer.body)).not.toMatch(/at .*\.(js|ts):\d+|select |insert |stack/i);
}

describe('bad input is answered with problem+json and changes nothing', () => {
  it('malformed JSON: 400', async () => {
    const answer = await t.request('PUT', '/v1/admin/channels/shop', { rawBody: '{"kind": "webhook",' });
    expectProblem(answer, 400);
    expect(answer.body.type).toMatch(/malformed-json$/);
    expect(await writtenRows()).toEqual({ channels: 0, audit: 0 });
  });

  it('wrong types: 400 naming each field', async () => {
    const answer = await t.request('PUT', '/v1/admin/channels/shop', {
      body: sampleChannel({ oversell: 'sometimes', inventory: { warehouses: 'WH-EAST', safetyStock: -1, allocationPercent: '100' } }),
    });
    expectProblem(answer, 400);
    const fields = answer.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['oversell', 'inventory.warehouses', 'inventory.safetyStock', 'inventory.allocationPercent']));
    expect(await writtenRows()).toEqual({ channels: 0, audit: 0 });
  });

  it('unknown fields: 400 naming them', async () => {
    const answer = await t.request('PUT', '/v1/admin/channels/shop', { body: { ...sampleChannel(), colour: 'blue' } });
    expectProblem(answer, 400);
    expect(answer.body.errors).toContainEqual({ field: 'colour', message: 'colour is not a known field' });
    expect(await writtenRows()).toEqual({ channels: 0, audit: 0 });
  });

  it('a body that is not an object: 400', async () => {
    const answer = await t.request('PUT', '/v1/admin/channels/shop', { body: [sampleChannel()] });
    expectProblem(answer, 400);
    expect(await writtenRows()).toEqual({ channels: 0, audit: 0 });
  });

  it('connector config checked by its kind: 400 naming config fields', async () => {
    const answer = await t.request('PUT', '/v1/admin/channels/shop', {
      body: sampleChannel({ config: { url: 'not a url', secret: 'plain', extra: 1 } }),
    });
    expectProblem(answer, 400);
    expect(answer.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['config.url', 'config.secret', 'config.extra']));
    expect(await writtenRows()).toEqual({ channels: 0, audit: 0 });
  });

  it('an oversized body: 413', async () => {
    const answer = await t.request('PUT', '/v1/admin/channels/shop', {
      body: sampleChannel({ name: 'x'.repeat(5000) }),
    });
    expectProblem(answer, 413);
    expect(await writtenRows()).toEqual({ channels: 0, audit: 0 });
  });

  it('an invalid id in the path: 400', async () => {
    const answer = await t.request('PUT', '/v1/admin/channels/bad%20id!', { body: sampleChannel() });
    expectProblem(answer, 400);
    expect(answer.body.errors[0].field).toBe('id');
  });

  it('an unknown route: 404', async () => {
    expectProblem(await t.request('GET', '/v1/nowhere'), 404);
    expectProblem(await t.request('DELETE', '/health/live'), 404);
  });

  it('an unsupported content type: 415', async () => {
    const answer = await t.request('PUT', '/v1/admin/channels/shop', { rawBody: 'kind=webhook', headers: { 'content-type': 'text/plain' } });
    expectProblem(answer, 415);
    expect(await writtenRows()).toEqual({ channels: 0, audit: 0 });
  });
});

describe('correlation id', () => {
  it('returns the caller id on the response, in problems and in the log lines of the request', async () => {
    const answer = await t.request('GET', '/v1/admin/channels/absent', { headers: { 'x-correlation-id': 'order-4711.try-1' } });
    expect(answer.status).toBe(404);
    expect(answer.headers.get('x-correlation-id')).toBe('order-4711.try-1');
    expect(answer.body.correlationId).toBe('order-4711.try-1');
    const lines = t.logs.map((l) => JSON.parse(l)).filter((l) => l.correlationId === 'order-4711.try-1');
    expect(lines.some((l) => l.msg === 'request' && l.status === 404)).toBe(true);
  });

  it('generates one when absent or unsafe', async () => {
    const absent = await t.request('GET', '/health/live');
    expect(absent.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await t.request('GET', '/health/live', { headers: { 'x-correlation-id': 'has spaces <script>' } });
    expect(unsafe.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('operations endpoints', () => {
  it('/health/live and /health/ready answer without auth', async () => {
    expect((await t.request('GET', '/health/live', { token: null })).status).toBe(200);
    const ready = await t.request('GET', '/health/ready', { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body.details).toMatchObject({ database: { status: 'up' }, queue: { status: 'up' } });
  });

  it('/metrics exports process metrics and the HTTP histogram by route pattern and status', async () => {
    await t.request('GET', '/v1/admin/channels/absent');
    const metrics = await t.request('GET', '/metrics', { token: null });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('crossdock_process_cpu_seconds_total');
    expect(metrics.text).toMatch(/crossdock_http_request_duration_seconds_count\{method="GET",route="\/v1\/admin\/channels\/:id",status="404"\} [1-9]/);
  });

  it('/console sends a visitor without a session to its sign-in page, served with the security headers', async () => {
    const page = await fetch(`${t.baseUrl}/console`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/console/login');
    const login = await t.request('GET', '/console/login', { token: null });
    expect(login.status).toBe(200);
    expect(login.headers.get('content-type')).toMatch(/text\/html/);
    expect(login.text).toContain('name="token"');
    expect(login.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(login.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('/docs-json is the OpenAPI document generated from the DTOs', async () => {
    const doc = await t.request('GET', '/docs-json', { token: null });
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/admin/channels/{id}', '/v1/admin/erp-backends/{id}', '/v1/admin/routing/{domain}']));
    expect(doc.body.components.schemas.ChannelDto.required).toEqual(expect.arrayContaining(['kind', 'config', 'inventory', 'oversell']));
    expect((await t.request('GET', '/docs', { token: null })).status).toBe(200);
  });
});
