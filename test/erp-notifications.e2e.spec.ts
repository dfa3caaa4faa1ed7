import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from './support/messaging.js';
import { bcBackend, ordersWorld, type OrdersWorld } from './support/orders.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// Customers pushed by Business Central: the subscription Crossdock keeps (handshake, renewal, a lapse), the
// notices it reads back, and accounts it creates there.
let t: TestApp;
let w: OrdersWorld;
let portalKey: string;
let publicUrl: string;

const LIFETIME_SECONDS = 6;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
async function put(path: string, body: unknown): Promise<void> {
  const answer = await t.request('PUT', path, { body });
  if (answer.status >= 300) throw new Error(`${path}: ${answer.status} ${answer.text}`);
}
const control = async (method: string, path: string, body?: unknown) => {
  const answer = await fetch(`${w.simUrl}/_control/${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return answer.json() as Promise<any>;
};
const liveSubscriptions = async () => ((await control('GET', 'subscriptions')) as Array<{ subscriptionId: string; expired: boolean; notificationUrl: string; expirationDateTime: string }>).filter((s) => !s.expired);
const customer = async (number: string) => (await t.request('GET', `/v1/customers/${number}`)).body;

beforeAll(async () => {
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  t = await startTestApp({
    env: {
      LOG_LEVEL: 'warn', PORT: String(port), CROSSDOCK_PUBLIC_URL: publicUrl, CROSSDOCK_ERP_SUBSCRIPTION_CHECK_SECONDS: '1',
      CROSSDOCK_ERP_SUBSCRIPTION_RENEW_BEFORE_SECONDS: '3', CROSSDOCK_CUSTOMER_SYNC_SECONDS: '3600', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '50',
    },
  });
  w = await ordersWorld(t, { sim: { subscriptionLifetimeSeconds: LIFETIME_SECONDS, notificationDelayMs: 50, collectionThreshold: 3 } });
  await put('/v1/admin/routing/customers', { mode: 'cloud', primary: 'bc' });
  portalKey = (await t.request('POST', '/v1/admin/channels/portal/api-keys', { body: { scopes: ['customers:read', 'customers:write'] } })).body.key;
  await waitUntil('Business Central is subscribed', async () => (await liveSubscriptions()).length === 1, 15_000);
});
afterAll(async () => {
  await t?.close();
  await w?.close();
});

describe('the subscription', () => {
  it('is made with the validation-token handshake, at the public URL, for the customers of the company', async () => {
    const [subscription] = await liveSubscriptions();
    expect(subscription!.notificationUrl).toBe(`${publicUrl}/v1/webhooks/erp/bc`);
    const handshakes = (await control('GET', 'handshakes')) as Array<{ url: string; problem?: string }>;
    expect(handshakes.length).toBeGreaterThan(0);
    expect(handshakes.every((h) => h.problem === undefined && h.url.startsWith(`${publicUrl}/v1/webhooks/erp/bc`))).toBe(true);
    // The handshake alone: the token comes back as it is, as text.
    const echo = await fetch(`${publicUrl}/v1/webhooks/erp/bc?validationToken=abc-123`, { method: 'POST' });
    expect(echo.status).toBe(200);
    expect(echo.headers.get('content-type')).toContain('text/plain');
    expect(await echo.text()).toBe('abc-123');
  });

  it('is renewed before it expires, the handshake repeated, and never lapses', async () => {
    const [first] = await liveSubscriptions();
    const handshakesBefore = ((await control('GET', 'handshakes')) as unknown[]).length;
    await waitUntil('a renewal', async () => {
      const [now] = await liveSubscriptions();
      return Boolean(now) && Date.parse(now!.expirationDateTime) > Date.parse(first!.expirationDateTime);
    }, 15_000);
    const [renewed] = await liveSubscriptions();
    expect(renewed!.subscriptionId).toBe(first!.subscriptionId);
    expect(((await control('GET', 'handshakes')) as unknown[]).length).toBeGreaterThan(handshakesBefore);
    // Past the first expiry, it is still the same subscription, live.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(first!.expirationDateTime) - Date.now() + 500)));
    expect((await liveSubscriptions()).map((s) => s.subscriptionId)).toEqual([first!.subscriptionId]);
    expect((await t.sql('select renewed_at from erp_subscription where backend_id = $1', ['bc']))[0].renewed_at).not.toBeNull();
  });

  it('lapsed (the ERP dropped it), is made anew and followed by a pull, so that what changed meanwhile arrives', async () => {
    const [old] = await liveSubscriptions();
    await control('POST', `subscriptions/${old!.subscriptionId}/expire`);
    // Changed while nothing is notified.
    await control('PUT', 'customers/30000', { creditLimit: 3333 });
    await waitUntil('a new subscription', async () => (await liveSubscriptions()).some((s) => s.subscriptionId !== old!.subscriptionId), 15_000);
    await waitUntil('the change made during the lapse', async () => (await customer('30000')).customer.creditLimit === 3333, 15_000);
  });
});

describe('notices', () => {
  it("bring a change made in Business Central to the record, read back through the pipeline, with no pull", async () => {
    const syncedAt = async (number: string) => (await t.sql("select synced_at::text as at from customer_account where erp_backend_id = 'bc' and number = $1", [number]))[0].at;
    const otherBefore = await syncedAt('10000');
    await control('PUT', 'customers/20000', { creditLimit: 7777, phoneNumber: '+1 312 555 0100' });
    await waitUntil('the new credit limit', async () => (await customer('20000')).customer.creditLimit === 7777, 15_000);
    expect((await customer('20000')).provenance.creditLimit).toMatchObject({ system: 'erp', source: 'erp:bc' });
    // Only that customer was read: the others were not pulled again.
    expect(await syncedAt('10000')).toBe(otherBefore);
    // The intake's read model is as fresh: it has the new limit too.
    expect((await t.sql("select credit_limit::float as limit from customer_account where erp_backend_id = 'bc' and number = '20000'"))[0].limit).toBe(7777);
  });

  it("do not loop: our own write's notice is read back as an echo, and nothing is written again", async () => {
    const sentAt = Date.now();
    const answer = await t.request('PUT', '/v1/customers/20000', { token: portalKey, body: { email: 'orders@trey.example' } });
    expect(answer.status).toBe(200);
    await waitUntil('Business Central has the email', () => w.sim.state.customers.get('20000')!.email === 'orders@trey.example', 15_000);
    await waitUntil('Business Central notified our own write', async () => ((await control('GET', 'notifications')) as Array<{ at: string }>).some((n) => Date.parse(n.at) > sentAt), 15_000);
    await waitUntil('the notice is read back', async () => (await t.sql("select 1 from outbox where type = 'erp.customer.noticed' and status <> 'delivered'")).length === 0, 15_000);
    const version = (await customer('20000')).version;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await customer('20000')).version).toBe(version);
    expect(await t.sql("select 1 from outbox where type = 'erp.customer.update' and key = 'customer:20000'")).toHaveLength(1);
  });

  it('of many changes at once come as one collection, answered by a pull', async () => {
    for (const n of ['60001', '60002', '60003', '60004']) await control('PUT', `customers/${n}`, { displayName: `Batch ${n}` });
    await waitUntil('a collection notice', async () => ((await control('GET', 'notifications')) as Array<{ body: { value: Array<{ changeType: string }> } }>).some((n) => n.body.value.some((v) => v.changeType === 'collection')), 15_000);
    await waitUntil('every customer of the batch', async () => (await customer('60004')).customer?.name === 'Batch 60004', 15_000);
    expect((await customer('60001')).customer.name).toBe('Batch 60001');
  });

  it('of a deletion take the customer out of the read model: no more orders for it', async () => {
    expect(await t.sql("select 1 from customer_account where erp_backend_id = 'bc' and number = '60004'")).toHaveLength(1);
    await control('DELETE', 'customers/60004');
    await waitUntil('the deletion', async () => (await t.sql("select 1 from customer_account where erp_backend_id = 'bc' and number = '60004'")).length === 0, 15_000);
  });

  it('are trusted only for our subscription and with its secret; each once; a body that is not one is refused', async () => {
    const [subscription] = await liveSubscriptions();
    const [{ client_state: secret }] = await t.sql('select client_state from erp_subscription where backend_id = $1', ['bc']);
    const resource = `api/v2.0/companies(${bcBackend(w.simUrl).config.companyId})/customers(${w.sim.state.customers.get('10000')!.id})`;
    const notice = (over: Record<string, unknown> = {}) => ({ subscriptionId: subscription!.subscriptionId, clientState: secret, resource, changeType: 'updated', lastModifiedDateTime: '2026-12-05T10:00:00Z', expirationDateTime: subscription!.expirationDateTime, ...over });
    const send = (body: unknown) => t.request('POST', '/v1/webhooks/erp/bc', { token: null, body });
    expect((await send({ value: [notice({ clientState: 'guessed' }), notice({ subscriptionId: 'someone-else' })] })).body).toEqual({ accepted: 0, duplicates: 0, ignored: 2 });
    expect((await send({ value: [notice()] })).body).toEqual({ accepted: 1, duplicates: 0, ignored: 0 });
    expect((await send({ value: [notice()] })).body).toEqual({ accepted: 0, duplicates: 1, ignored: 0 });
    expect((await send({ value: 'nope' })).status).toBe(400);
    expect((await send({ value: [notice({ changeType: 'exploded' })] })).status).toBe(400);
    expect((await t.request('POST', '/v1/webhooks/erp/nowhere', { token: null, body: { value: [] } })).status).toBe(404);
  });
});

describe('a new account', () => {
  const account = { name: 'Northwind Traders', email: 'buyer@northwind.example', phone: '+1 206 555 0150', billingAddress: { line1: '1 Pike St', city: 'Seattle', region: 'WA', postalCode: '98101', country: 'US' } };

  it('is refused while the ERP does not accept new accounts', async () => {
    const answer = await t.request('PUT', '/v1/customers/NW-1', { token: portalKey, body: account });
    expect(answer.status).toBe(404);
    expect(answer.body.detail).toContain('acceptNewCustomers');
    expect(w.sim.state.customers.has('NW-1')).toBe(false);
  });

  it('is created in the ERP once where it accepts them, and its notice comes back as an echo', async () => {
    const backend = bcBackend(w.simUrl);
    await put('/v1/admin/erp-backends/bc', { ...backend, config: { ...backend.config, acceptNewCustomers: true } });
    const answer = await t.request('PUT', '/v1/customers/NW-1', { token: portalKey, body: account });
    expect(answer.status).toBe(200);
    await waitUntil('Business Central has the account', () => w.sim.state.customers.has('NW-1'), 15_000);
    expect(w.sim.state.customers.get('NW-1')).toMatchObject({ displayName: 'Northwind Traders', email: 'buyer@northwind.example', phoneNumber: '+12065550150', addressLine1: '1 Pike St', city: 'Seattle', country: 'US' });
    await waitUntil('the ERP id recorded', async () => Boolean((await customer('NW-1')).systemIds['erp:bc']), 15_000);
    expect((await customer('NW-1')).systemIds['erp:bc']).toBe(w.sim.state.customers.get('NW-1')!.id);
    await waitUntil('the notice is read back', async () => (await t.sql("select 1 from outbox where type = 'erp.customer.noticed' and status <> 'delivered'")).length === 0, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Created once; nothing written back after the ERP's notice of it.
    expect((await t.sql("select type from outbox where key = 'customer:NW-1' and type like 'erp.customer.%'")).map((r) => r.type)).toEqual(['erp.customer.create']);
    expect([...w.sim.state.customers.values()].filter((c) => c.number === 'NW-1')).toHaveLength(1);
  });
});
