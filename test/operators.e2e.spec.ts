import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/test-app.js';

// Operators: people who work the operations API with keys of their own (ops:read, ops:write), so that they need
// not hold the admin token; the server enforces what each key may do.
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn' } });
});
afterAll(async () => {
  await t?.close();
});

const keyOf = async (scopes: string[]) => {
  const answer = await t.request('POST', '/v1/admin/operators/dana/api-keys', { body: { scopes, name: 'console' } });
  expect(answer.status, answer.text).toBe(201);
  return answer.body.key as string;
};

describe('operators', () => {
  it('are configured by the admin, audited, and given keys of the ops scopes only', async () => {
    expect((await t.request('PUT', '/v1/admin/operators/dana', { body: { name: 'Dana Ops' } })).status).toBe(201);
    expect((await t.request('GET', '/v1/admin/operators/dana')).body).toMatchObject({ id: 'dana', name: 'Dana Ops' });
    expect((await t.request('PUT', '/v1/admin/operators/dana', { body: {} })).status).toBe(400);
    const wrong = await t.request('POST', '/v1/admin/operators/dana/api-keys', { body: { scopes: ['ops:read', 'orders:write'] } });
    expect(wrong.status).toBe(400);
    expect(JSON.stringify(wrong.body.errors)).toContain('orders:write');
    expect((await t.request('POST', '/v1/admin/operators/ghost/api-keys', { body: { scopes: ['ops:read'] } })).status).toBe(404);
    // A channel's key never carries an ops scope.
    await t.request('PUT', '/v1/admin/channels/portal', { body: { kind: 'api', config: {}, inventory: { warehouses: ['WH-EAST'], safetyStock: 0, allocationPercent: 100 }, oversell: 'reject' } });
    expect((await t.request('POST', '/v1/admin/channels/portal/api-keys', { body: { scopes: ['ops:read'] } })).status).toBe(400);
    const audited = await t.sql("select action from audit_entry where resource_type = 'operator' and resource_id = 'dana'");
    expect(audited.map((r) => r.action)).toEqual(['create']);
  });

  it('read with ops:read, act with ops:write, and reach nothing else', async () => {
    const reader = await keyOf(['ops:read']);
    const writer = await keyOf(['ops:read', 'ops:write']);
    for (const path of ['/v1/ops/flows', '/v1/ops/dead-letters', '/v1/ops/exceptions', '/v1/ops/customer-conflicts', '/v1/coexistence/report', '/v1/ops/blocked-keys']) {
      expect((await t.request('GET', path, { token: reader })).status, path).toBe(200);
    }
    const replay = { flow: 'erp.sales-order.create', limit: 10 };
    const refused = await t.request('POST', '/v1/ops/dead-letters/replay', { token: reader, body: replay });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain('ops:write');
    expect((await t.request('POST', '/v1/ops/dead-letters/replay', { token: writer, body: replay })).status).toBe(202);
    expect((await t.request('POST', '/v1/ops/exceptions/123456/dismiss', { token: writer })).status).toBe(404);
    // Not the admin API, not a channel's.
    expect((await t.request('GET', '/v1/admin/channels', { token: writer })).status).toBe(403);
    expect((await t.request('GET', '/v1/orders?channelOrderId=x', { token: writer })).status).toBe(403);
    expect((await t.request('GET', '/v1/me', { token: reader })).body).toMatchObject({ type: 'operator', id: 'dana', scopes: ['ops:read'] });
  });

  it('lose their keys when revoked or removed', async () => {
    const key = await keyOf(['ops:read']);
    const [listed] = (await t.request('GET', '/v1/admin/operators/dana/api-keys')).body.filter((k: any) => key.startsWith(k.prefix));
    expect((await t.request('DELETE', `/v1/admin/operators/dana/api-keys/${listed.id}`)).status).toBe(200);
    expect((await t.request('GET', '/v1/ops/flows', { token: key })).status).toBe(401);
    const other = await keyOf(['ops:read']);
    expect((await t.request('DELETE', '/v1/admin/operators/dana')).status).toBe(204);
    expect((await t.request('GET', '/v1/ops/flows', { token: other })).status).toBe(401);
  });
});
