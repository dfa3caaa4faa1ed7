import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from './support/messaging.js';
import { orderBody, ordersWorld, submitOrder, waitForStatus, type OrdersWorld } from './support/orders.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './support/test-app.js';

// The console's sessions and their guards, over HTTP: sign-in, the cookie, CSRF on every action, the roles of
// operator keys enforced by the server, revocation, and the security headers. The browser test drives the pages.
let t: TestApp;
let w: OrdersWorld;
let reader: string;
let writer: string;

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100', CROSSDOCK_DELIVERY_MAX_ATTEMPTS: '2' } });
  w = await ordersWorld(t);
  expect((await t.request('PUT', '/v1/admin/operators/ines', { body: { name: 'Ines' } })).status).toBe(201);
  const key = async (scopes: string[]) => (await t.request('POST', '/v1/admin/operators/ines/api-keys', { body: { scopes } })).body.key as string;
  reader = await key(['ops:read']);
  writer = await key(['ops:read', 'ops:write']);
});
afterAll(async () => {
  await t?.close();
  await w?.close();
});

interface Browser {
  cookie: string;
  get(path: string): Promise<{ status: number; text: string; location: string | null; headers: Headers }>;
  post(path: string, form: Record<string, string>, headers?: Record<string, string>): Promise<{ status: number; text: string; location: string | null }>;
}

/** A client that keeps the session cookie, as a browser does. */
async function signIn(token: string): Promise<Browser> {
  const answer = await fetch(`${t.baseUrl}/console/login`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ token }) });
  expect(answer.status, await answer.clone().text()).toBe(303);
  const setCookie = answer.headers.get('set-cookie')!;
  expect(setCookie).toMatch(/^crossdock_session=[A-Za-z0-9_-]{43}; Path=\/console; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
  expect(setCookie).not.toContain(token);
  const cookie = setCookie.split(';')[0]!;
  const get = async (path: string) => {
    const r = await fetch(t.baseUrl + path, { headers: { cookie }, redirect: 'manual' });
    return { status: r.status, text: await r.text(), location: r.headers.get('location'), headers: r.headers };
  };
  const post = async (path: string, form: Record<string, string>, headers: Record<string, string> = {}) => {
    const r = await fetch(t.baseUrl + path, { method: 'POST', headers: { cookie, ...headers }, body: new URLSearchParams(form), redirect: 'manual' });
    return { status: r.status, text: await r.text(), location: r.headers.get('location') };
  };
  return { cookie, get, post };
}

const csrfOf = (page: string) => /name="_csrf" value="([^"]+)"/.exec(page)![1]!;

async function rejectedOrder(customer = '99999') {
  const body = orderBody({ customer: { accountNumber: customer } });
  const accepted = await submitOrder(t, w.portalKey, body);
  expect(accepted.status).toBe(202);
  await waitForStatus(t, accepted.body.orderId, 'rejected');
  return { orderId: accepted.body.orderId as string, channelOrderId: body.channelOrderId };
}

describe('console sessions', () => {
  it('signs in with an operator key or the admin token only, and keeps neither in the browser', async () => {
    const bad = await fetch(`${t.baseUrl}/console/login`, { method: 'POST', body: new URLSearchParams({ token: 'cdk_nope_nope' }) });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    const channel = await fetch(`${t.baseUrl}/console/login`, { method: 'POST', body: new URLSearchParams({ token: w.portalKey }) });
    expect(channel.status).toBe(401);
    expect(await channel.text()).toContain('operator key');
    const admin = await signIn(ADMIN_TOKEN);
    const overview = await admin.get('/console');
    expect(overview.status).toBe(200);
    expect(overview.text).toContain('Flows');
    expect(overview.text).toContain('Delay objectives');
    const reconciliation = await admin.get('/console/reconciliation');
    expect(reconciliation.status).toBe(200);
    expect(reconciliation.text).toContain('Waiting for a person');
    for (const [header, value] of [
      ['content-security-policy', "default-src 'none'"], ['x-frame-options', 'DENY'], ['x-content-type-options', 'nosniff'],
      ['referrer-policy', 'same-origin'], ['cache-control', 'no-store'],
    ]) expect(overview.headers.get(header!), header).toContain(value);
    // The page loads nothing from elsewhere: its script and styles are served by the service itself.
    expect([...overview.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).filter((u) => /^(https?:)?\/\//.test(u!))).toEqual([]);
    expect((await admin.get('/console/assets/htmx.min.js')).text).toContain('htmx');
  });

  it('refuses an action without the session\'s CSRF token, or from another origin, and the API refuses a cookie without it', async () => {
    const { orderId } = await rejectedOrder();
    const browser = await signIn(writer);
    const page = await browser.get(`/console/orders/${orderId}`);
    expect(page.status).toBe(200);
    const [, deadId] = /action="\/console\/dead-letters\/([0-9a-f-]{36})\/replay"/.exec(page.text)!;
    const csrf = csrfOf(page.text);
    expect((await browser.post(`/console/dead-letters/${deadId}/replay`, { reason: 'try', edited: 'no' })).status).toBe(403);
    expect((await browser.post(`/console/dead-letters/${deadId}/replay`, { _csrf: 'x'.repeat(43), reason: 'try', edited: 'no' })).status).toBe(403);
    expect((await browser.post(`/console/dead-letters/${deadId}/replay`, { _csrf: csrf, reason: 'try', edited: 'no' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await browser.post(`/console/dead-letters/${deadId}/replay`, { _csrf: csrf, edited: 'no' })).status).toBe(400); // no reason
    // The API itself, called with the session's cookie (as the console does in-process), wants the token in a header.
    const direct = await fetch(`${t.baseUrl}/v1/ops/dead-letters/${deadId}/discard`, { method: 'POST', headers: { cookie: browser.cookie, 'content-type': 'application/json' }, body: '{}' });
    expect(direct.status).toBe(403);
    expect((await t.sql('select status from outbox where delivery_id = $1', [deadId]))[0].status).toBe('dead');
    // And the JSON API takes no form posts.
    const form = await fetch(`${t.baseUrl}/v1/ops/dead-letters/${deadId}/discard`, { method: 'POST', headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'reason=x' });
    expect(form.status).toBe(415);
    // With all of it, the replay goes through, audited with its reason.
    const done = await browser.post(`/console/dead-letters/${deadId}/replay`, { _csrf: csrf, reason: 'checked with the ERP team', edited: 'no', back: `/console/orders/${orderId}` });
    expect(done.status).toBe(303);
    expect(done.location).toBe(`/console/orders/${orderId}?notice=replayed`);
    const [audit] = await t.sql("select actor, after from audit_entry where action = 'replay' and resource_id = $1", [deadId]);
    expect(audit).toMatchObject({ actor: 'operator:ines', after: { reason: 'checked with the ERP team' } });
  });

  it('shows a read-only operator no actions, and the server refuses theirs', async () => {
    const { orderId } = await rejectedOrder();
    const browser = await signIn(reader);
    const page = await browser.get(`/console/orders/${orderId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('(read only)');
    expect(page.text).not.toMatch(/action="\/console\/dead-letters\/[0-9a-f-]+\/replay"/);
    const [{ delivery_id: deadId }] = await t.sql("select delivery_id from outbox where status = 'dead' and correlation_id = (select correlation_id from sales_order where id = $1)", [orderId]);
    const refused = await browser.post(`/console/dead-letters/${deadId}/replay`, { _csrf: csrfOf(page.text), reason: 'trying', edited: 'no' });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('ops:write');
    expect((await t.sql('select status from outbox where delivery_id = $1', [deadId]))[0].status).toBe('dead');
    expect(await t.sql("select 1 from audit_entry where resource_id = $1", [deadId])).toEqual([]);
  });

  it('ends with its key\'s revocation, and at sign-out', async () => {
    const key = (await t.request('POST', '/v1/admin/operators/ines/api-keys', { body: { scopes: ['ops:read'] } })).body.key as string;
    const browser = await signIn(key);
    expect((await browser.get('/console/dead-letters')).status).toBe(200);
    const [listed] = (await t.request('GET', '/v1/admin/operators/ines/api-keys')).body.filter((k: any) => key.startsWith(k.prefix));
    expect((await t.request('DELETE', `/v1/admin/operators/ines/api-keys/${listed.id}`)).status).toBe(200);
    const after = await browser.get('/console/dead-letters');
    expect(after.status).toBe(303);
    expect(after.location).toBe('/console/login');

    const other = await signIn(reader);
    const page = await other.get('/console');
    const out = await other.post('/console/logout', { _csrf: csrfOf(page.text) });
    expect(out.status).toBe(303);
    expect((await other.get('/console')).location).toBe('/console/login');
  });

  it('lists orders by status and dead letters by flow and class, with the count a bulk action would touch', async () => {
    const { orderId, channelOrderId } = await rejectedOrder('99997');
    const browser = await signIn(reader);
    const rejected = await browser.get('/console/orders?status=rejected');
    expect(rejected.text).toContain(`/console/orders/${orderId}`);
    const confirmed = await browser.get('/console/orders?status=confirmed');
    expect(confirmed.text).not.toContain(`/console/orders/${orderId}`);
    const search = await browser.get(`/console/search?q=${encodeURIComponent(channelOrderId)}`);
    expect(search.status).toBe(303);
    expect(search.location).toBe(`/console/orders/${orderId}`);
    await waitUntil('grouped', async () => (await t.request('GET', '/v1/ops/dead-letters/groups?errorClass=permanent', { token: reader })).body.total > 0);
    const groups = await t.request('GET', '/v1/ops/dead-letters/groups?errorClass=permanent', { token: reader });
    const [{ n }] = await t.sql("select count(*)::int as n from outbox where status = 'dead' and error_class = 'permanent'");
    expect(groups.body.total).toBe(n);
    expect(groups.body.groups[0]).toMatchObject({ flow: 'erp.sales-order.create', destination: 'erp:bc', errorClass: 'permanent', count: n });
    const page = await browser.get('/console/dead-letters?errorClass=permanent');
    expect(page.text).toContain('erp.sales-order.create');
  });

  it('corrects and retries an exception, and dismisses another, each with a reason', async () => {
    expect((await t.request('PUT', '/v1/admin/sources/wms', { body: { name: 'Warehouse system' } })).status).toBe(201);
    const wmsKey = (await t.request('POST', '/v1/admin/sources/wms/api-keys', { body: { scopes: ['shipments:write'] } })).body.key as string;
    const accepted = await submitOrder(t, w.portalKey, orderBody());
    const orderId = accepted.body.orderId as string;
    await waitForStatus(t, orderId, 'confirmed');
    const shipment = (shipmentId: string, lines: unknown[]) => ({
      eventId: `evt-${shipmentId}`, orderId, shipmentId, status: 'shipped', carrier: 'DHL', trackingNumber: `TRK-${shipmentId}`, lines, occurredAt: new Date().toISOString(),
    });
    const post = (body: unknown) => t.request('POST', '/v1/shipments/events', { token: wmsKey, body });
    expect((await post(shipment(`S-${orderId}-over`, [{ sku: '1896-S', quantity: 5, lineId: '1' }]))).body.exception).toBe(true);
    expect((await post(shipment(`S-${orderId}-odd`, [{ sku: 'NOPE', quantity: 1 }]))).body.exception).toBe(true);

    const browser = await signIn(writer);
    const page = await browser.get('/console/exceptions?domain=shipment');
    expect(page.status).toBe(200);
    const ids = [...page.text.matchAll(/id="exception-(\d+)"/g)].map((m) => m[1]!);
    const held = await t.request('GET', '/v1/ops/exceptions?domain=shipment', { token: reader });
    const over = held.body.exceptions.find((e: any) => e.shipmentId?.endsWith('-over'));
    const odd = held.body.exceptions.find((e: any) => e.shipmentId?.endsWith('-odd'));
    expect(ids).toEqual(expect.arrayContaining([over.id, odd.id]));
    const csrf = csrfOf(page.text);
    // A correction that is still wrong stays open, with the domain's reason on the page.
    const stillWrong = await browser.post(`/console/exceptions/${over.id}/retry`, { _csrf: csrf, reason: 'try 3', edited: 'yes', payload: JSON.stringify({ ...over.payload, lines: [{ sku: '1896-S', quantity: 3, lineId: '1' }] }) });
    expect(stillWrong.status).toBe(422);
    expect(stillWrong.text).toContain('Still not applied');
    const notJson = await browser.post(`/console/exceptions/${over.id}/retry`, { _csrf: csrf, reason: 'typo', edited: 'yes', payload: '{"lines": [' });
    expect(notJson.status).toBe(400);
    const fixed = await browser.post(`/console/exceptions/${over.id}/retry`, {
      _csrf: csrf, reason: 'the WMS counted cartons, not units', edited: 'yes',
      payload: JSON.stringify({ ...over.payload, lines: [{ sku: '1896-S', quantity: 2, lineId: '1' }, { sku: '1900-S', quantity: 1.5, lineId: '2' }] }),
    });
    expect(fixed.status).toBe(303);
    expect(fixed.location).toBe('/console/exceptions?notice=retried');
    await waitForStatus(t, orderId, 'shipped');
    const dismissed = await browser.post(`/console/exceptions/${odd.id}/dismiss`, { _csrf: csrf, reason: 'test scan of a sample' });
    expect(dismissed.status).toBe(303);
    const audits = await t.sql("select action, resource_id, after->>'reason' as reason from audit_entry where resource_type = 'exception' and resource_id = any($1) order by id", [[over.id, odd.id]]);
    expect(audits.filter((a) => a.reason === 'the WMS counted cartons, not units' || a.reason === 'test scan of a sample').map((a) => [a.action, a.resource_id]))
      .toEqual([['retry', over.id], ['dismiss', odd.id]]);
    expect((await t.request('GET', '/v1/ops/exceptions?domain=shipment', { token: reader })).body.exceptions.filter((e: any) => [over.id, odd.id].includes(e.id))).toEqual([]);
  });
});
