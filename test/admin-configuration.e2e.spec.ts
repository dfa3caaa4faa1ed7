import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleChannel, sampleErpBackend, startTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe('ERP backends', () => {
  it('PUT creates (201), replaces (200), GET reads with secrets masked, DELETE removes (204)', async () => {
    const created = await t.request('PUT', '/v1/admin/erp-backends/bc', { body: sampleErpBackend() });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'bc', kind: 'business-central', role: 'cloud', config: { clientSecret: '********', tenantId: 'tenant-1' } });
    const replaced = await t.request('PUT', '/v1/admin/erp-backends/bc', { body: sampleErpBackend({ limits: { ratePerSecond: 1, burst: 1, concurrency: 1 } }) });
    expect(replaced.status).toBe(200);
    expect((await t.request('GET', '/v1/admin/erp-backends/bc')).body.limits).toEqual({ ratePerSecond: 1, burst: 1, concurrency: 1 });
    expect((await t.request('GET', '/v1/admin/erp-backends')).body.map((b: { id: string }) => b.id)).toContain('bc');
    expect((await t.request('DELETE', '/v1/admin/erp-backends/bc')).status).toBe(204);
    expect((await t.request('GET', '/v1/admin/erp-backends/bc')).status).toBe(404);
    expect((await t.request('DELETE', '/v1/admin/erp-backends/bc')).status).toBe(404);
  });

  it('an unknown kind is a 400 naming kind', async () => {
    const answer = await t.request('PUT', '/v1/admin/erp-backends/x', { body: sampleErpBackend({ kind: 'oracle-ebs' }) });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ field: 'kind', message: 'kind must be one of business-central, sap-b1' }]);
  });

  it("validates config by the connector's rules and maintenance windows by their own", async () => {
    const answer = await t.request('PUT', '/v1/admin/erp-backends/x', {
      body: sampleErpBackend({
        kind: 'sap-b1',
        config: { baseUrl: 'ftp//nope', companyDb: 'SBO' },
        maintenanceWindows: [{ timeZone: 'Mars/Olympus', start: '25:00', end: '02:00' }],
      }),
    });
    expect(answer.status).toBe(400);
    const fields = answer.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['maintenanceWindows[0].timeZone', 'maintenanceWindows[0].start']));
    const configAnswer = await t.request('PUT', '/v1/admin/erp-backends/x', { body: sampleErpBackend({ kind: 'sap-b1', config: { baseUrl: 'ftp//nope', companyDb: 'SBO' } }) });
    expect(configAnswer.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['config.baseUrl', 'config.username', 'config.password']));
    expect((await t.request('GET', '/v1/admin/erp-backends/x')).status).toBe(404);
  });

  it('cannot be deleted while routing names it', async () => {
    await t.request('PUT', '/v1/admin/erp-backends/routed', { body: sampleErpBackend() });
    expect((await t.request('PUT', '/v1/admin/routing/pricing', { body: { mode: 'cloud', primary: 'routed' } })).status).toBe(201);
    const answer = await t.request('DELETE', '/v1/admin/erp-backends/routed');
    expect(answer.status).toBe(409);
    expect(answer.body.detail).toContain('pricing');
  });
});

describe('routing', () => {
  it('routes a domain to a backend of the matching role, and shadow mode to two backends', async () => {
    await t.request('PUT', '/v1/admin/erp-backends/sap', {
      body: sampleErpBackend({ kind: 'sap-b1', role: 'legacy', config: { baseUrl: 'https://b1.example.com/b1s/v1', companyDb: 'SBO', username: 'u', password: 'p' } }),
    });
    await t.request('PUT', '/v1/admin/erp-backends/bc2', { body: sampleErpBackend() });
    expect((await t.request('PUT', '/v1/admin/routing/orders', { body: { mode: 'legacy', primary: 'sap' } })).status).toBe(201);
    const shadow = await t.request('PUT', '/v1/admin/routing/orders', { body: { mode: 'shadow', primary: 'sap', shadow: 'bc2' } });
    expect(shadow.status).toBe(200);
    expect((await t.request('GET', '/v1/admin/routing/orders')).body).toMatchObject({ domain: 'orders', mode: 'shadow', primary: 'sap', shadow: 'bc2' });
    expect((await t.request('GET', '/v1/admin/routing')).body.map((r: { domain: string }) => r.domain)).toContain('orders');
  });

  it('refuses incoherent rules and unknown domains', async () => {
    const wrongRole = await t.request('PUT', '/v1/admin/routing/customers', { body: { mode: 'cloud', primary: 'sap' } });
    expect(wrongRole.status).toBe(400);
    expect(wrongRole.body.errors[0]).toMatchObject({ field: 'primary' });
    expect((await t.request('PUT', '/v1/admin/routing/customers', { body: { mode: 'shadow', primary: 'sap' } })).status).toBe(400);
    expect((await t.request('PUT', '/v1/admin/routing/customers', { body: { mode: 'legacy', primary: 'ghost' } })).status).toBe(400);
    expect((await t.request('PUT', '/v1/admin/routing/payroll', { body: { mode: 'legacy', primary: 'sap' } })).status).toBe(400);
    expect((await t.request('GET', '/v1/admin/routing/customers')).status).toBe(404);
  });
});

describe('channels and sources', () => {
  it('channels of each kind validate their own config', async () => {
    const shopify = await t.request('PUT', '/v1/admin/channels/shop', {
      body: sampleChannel({ kind: 'shopify', config: { shopDomain: 'acme.myshopify.com', apiVersion: '2025-07', accessToken: 'shpat_x', webhookSecret: 'wh' } }),
    });
    expect(shopify.status).toBe(201);
    expect(shopify.body.config).toMatchObject({ accessToken: '********', webhookSecret: '********', shopDomain: 'acme.myshopify.com' });
    const api = await t.request('PUT', '/v1/admin/channels/portal', { body: sampleChannel({ kind: 'api', config: {} }) });
    expect(api.body).toMatchObject({ kind: 'api' });
    expect(api.status).toBe(201);
    const wrong = await t.request('PUT', '/v1/admin/channels/bad', { body: sampleChannel({ kind: 'shopify', config: { shopDomain: 'acme.com' } }) });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['config.shopDomain', 'config.accessToken']));
  });

  it('sources: create, read, delete', async () => {
    expect((await t.request('PUT', '/v1/admin/sources/wms', { body: { name: 'WMS' } })).status).toBe(201);
    expect((await t.request('GET', '/v1/admin/sources/wms')).body).toMatchObject({ id: 'wms', name: 'WMS', kind: null });
    expect((await t.request('DELETE', '/v1/admin/sources/wms')).status).toBe(204);
  });

  it('issuing a key for a principal that does not exist is a 404', async () => {
    expect((await t.request('POST', '/v1/admin/channels/ghost/api-keys', { body: { scopes: ['orders:read'] } })).status).toBe(404);
  });

  it('concurrent creation of one id gives one row and no error', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => t.request('PUT', '/v1/admin/channels/racy', { body: sampleChannel() })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    const rows = await t.sql("select count(*)::int as n from audit_entry where resource_id = 'racy'");
    expect(rows[0].n).toBe(1);
  });
});

describe('audit log', () => {
  it('records who changed what, when, before and after; unchanged PUTs are not recorded', async () => {
    await t.request('PUT', '/v1/admin/sources/erp', { body: { name: 'ERP' }, headers: { 'x-actor': 'jane.doe', 'x-correlation-id': 'audit-check-1' } });
    await t.request('PUT', '/v1/admin/sources/erp', { body: { name: 'ERP' } });
    await t.request('PUT', '/v1/admin/sources/erp', { body: { name: 'ERP main' } });
    const audit = await t.request('GET', '/v1/admin/audit?resourceType=source&resourceId=erp');
    expect(audit.status).toBe(200);
    expect(audit.body.items).toHaveLength(2);
    const [update, create] = audit.body.items;
    expect(update).toMatchObject({ action: 'update', actor: 'admin', before: { name: 'ERP' }, after: { name: 'ERP main' } });
    expect(create).toMatchObject({ action: 'create', actor: 'admin:jane.doe', before: null, after: { name: 'ERP' }, correlationId: 'audit-check-1' });
    expect(new Date(create.at).getTime()).toBeLessThanOrEqual(new Date(update.at).getTime());
  });

  it('pages with a cursor', async () => {
    const first = await t.request('GET', '/v1/admin/audit?limit=2');
    expect(first.body.items).toHaveLength(2);
    const second = await t.request('GET', `/v1/admin/audit?limit=2&cursor=${first.body.nextCursor}`);
    expect(Number(second.body.items[0].id)).toBeLessThan(Number(first.body.items[1].id));
    expect((await t.request('GET', '/v1/admin/audit?limit=9999')).status).toBe(400);
  });
});
