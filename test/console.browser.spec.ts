import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderBody, ordersWorld, submitOrder, waitForStatus, type OrdersWorld } from './support/orders.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './support/test-app.js';

// The console in a real browser: Debian's Chromium (installed by .ci/run when missing), driven by playwright-core,
// which downloads no browser of its own. With CROSSDOCK_CONSOLE_SCREENSHOTS=1 it also refreshes the screenshots
// of the main pages in docs/console/.
const CHROMIUM = process.env.CROSSDOCK_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = process.env.CROSSDOCK_CONSOLE_SCREENSHOTS === '1' ? join(import.meta.dirname, '..', 'docs', 'console') : undefined;

let t: TestApp;
let w: OrdersWorld;
let browser: Browser;
let writer: string;
let reader: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium package (apt-get install -y chromium)`);
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100', CROSSDOCK_DELIVERY_MAX_ATTEMPTS: '2' } });
  w = await ordersWorld(t);
  expect((await t.request('PUT', '/v1/admin/operators/olu', { body: { name: 'Olu' } })).status).toBe(201);
  const key = async (scopes: string[]) => (await t.request('POST', '/v1/admin/operators/olu/api-keys', { body: { scopes } })).body.key as string;
  writer = await key(['ops:read', 'ops:write']);
  reader = await key(['ops:read']);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await w?.close();
});

async function signedIn(token: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${t.baseUrl}/console`);
  await expect.poll(() => page.url()).toBe(`${t.baseUrl}/console/login`);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${t.baseUrl}/console`);
  // The token is nowhere the page's script could read it: not in the URL, not in a cookie it can see, not in storage.
  expect(page.url()).not.toContain(token);
  expect(await page.evaluate('document.cookie')).toBe('');
  expect(await page.evaluate('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })')).not.toContain(token.slice(-12));
  return page;
}

async function shot(page: Page, name: string) {
  if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function rejectedOrder(customer: string) {
  const body = orderBody({ customer: { accountNumber: customer } });
  const accepted = await submitOrder(t, w.portalKey, body);
  expect(accepted.status).toBe(202);
  await waitForStatus(t, accepted.body.orderId, 'rejected');
  return { orderId: accepted.body.orderId as string, channelOrderId: body.channelOrderId };
}

/** A customer the ERP did not have when the orders came, added there since (as an ERP user would). */
async function addErpCustomer(number: string) {
  const { access_token: token } = (await fetch(`${w.simUrl}/oauth2/v2.0/token`, {
    method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'crossdock', client_secret: 'secret-1' }),
  }).then((r) => r.json())) as { access_token: string };
  const created = await fetch(`${w.simUrl}/v2.0/t1/production/api/v2.0/companies(c0ffee00-0000-0000-0000-000000000001)/customers`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ number, displayName: `Customer ${number}` }),
  });
  expect(created.status).toBe(201);
}

describe('the console in a browser', () => {
  it('finds a dead-lettered order by its channel order id, edits its payload, replays it, and sees it confirmed', async () => {
    const { orderId, channelOrderId } = await rejectedOrder('99999');
    const page = await signedIn(writer);
    await shot(page, 'overview');

    await page.getByRole('searchbox', { name: 'Search' }).fill(channelOrderId);
    await page.getByRole('button', { name: 'Find' }).click();
    await page.waitForURL(`${t.baseUrl}/console/orders/${orderId}`);
    await expect.poll(() => page.locator('#order-status').textContent()).toBe('rejected');
    await expect.poll(() => page.getByText("The Customer does not exist. Identification fields and values: No.='99999'").count()).toBeGreaterThan(0);
    await shot(page, 'order-dead-lettered');

    // The ERP has no customer 99999: the order was meant for 10000. Edit the payload, give the reason, replay.
    const payload = page.getByLabel('Payload');
    const edited = (await payload.inputValue()).replace('"customerNumber": "99999"', '"customerNumber": "10000"');
    expect(edited).toContain('"customerNumber": "10000"');
    await payload.fill(edited);
    await page.getByLabel('Reason for replay').fill('wrong account on the portal; 10000 confirmed by sales');
    await page.getByRole('button', { name: 'Edit and replay' }).click();
    await page.waitForURL(`${t.baseUrl}/console/orders/${orderId}?notice=replayed`);
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Replayed');

    await expect.poll(async () => {
      await page.reload();
      return page.locator('#order-status').textContent();
    }, { timeout: 30_000, interval: 250 }).toBe('confirmed');
    await shot(page, 'order-confirmed');
    const [inErp, ...more] = erpOrdersFor(await orderReference(orderId));
    expect(more).toEqual([]);
    expect(inErp!.customerNumber).toBe('10000');
    const [audit] = await t.sql("select actor, after from audit_entry where action = 'replay' order by id desc limit 1");
    expect(audit).toMatchObject({ actor: 'operator:olu', after: { reason: 'wrong account on the portal; 10000 confirmed by sales', payload: { customerNumber: '10000' } } });
    await page.context().close();
  });

  it('replays every dead letter a filter selects, after showing how many and asking why', async () => {
    const orders = [await rejectedOrder('77777'), await rejectedOrder('77777'), await rejectedOrder('77777')];
    const stray = await rejectedOrder('66666'); // another customer, still unknown: its letter must stay dead
    await addErpCustomer('77777');
    const page = await signedIn(writer);
    await page.getByRole('link', { name: 'Dead letters' }).click();
    await page.getByLabel('Class').selectOption('permanent');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/errorClass=permanent/);
    expect(await page.locator('#bulk-count').textContent()).toBe('4');
    await shot(page, 'dead-letters');

    // Narrow the filter to the three that can now go through: by their key's shape is not a filter, so take the
    // stray one out of the way first, with a reason, from its own transaction page.
    await page.goto(`${t.baseUrl}/console/orders/${stray.orderId}`);
    await page.getByLabel('Reason for Skip (discard)').fill('customer 66666 is closed; the portal was told');
    await page.getByRole('button', { name: 'Skip (discard)' }).click();
    await page.waitForURL(/notice=discarded/);

    await page.goto(`${t.baseUrl}/console/dead-letters?errorClass=permanent&flow=erp.sales-order.create`);
    expect(await page.locator('#bulk-count').textContent()).toBe('3');
    await page.getByRole('button', { name: 'Replay all matching…' }).click();
    expect(await page.locator('#confirm-count').textContent()).toBe('3');
    await shot(page, 'bulk-confirm');
    await page.getByLabel('Reason for Replay 3').fill('customer 77777 created in the ERP');
    await page.getByRole('button', { name: 'Replay 3' }).click();
    await page.waitForURL(/notice=bulk-replayed/);
    for (const order of orders) await waitForStatus(t, order.orderId, 'confirmed');
    for (const order of orders) expect(erpOrdersFor(await orderReference(order.orderId))).toHaveLength(1);
    expect((await t.sql("select status from outbox where status = 'dead'")).length).toBe(0);
    const audits = await t.sql("select after->>'reason' as reason from audit_entry where action = 'replay' and after->>'reason' = 'customer 77777 created in the ERP'");
    expect(audits).toHaveLength(3);
    await page.context().close();
  });

  it('shows a read-only operator the pages but no actions, and the server refuses them', async () => {
    const { orderId } = await rejectedOrder('55555');
    const page = await signedIn(reader);
    await page.goto(`${t.baseUrl}/console/orders/${orderId}`);
    await expect.poll(() => page.locator('#order-status').textContent()).toBe('rejected');
    expect(await page.getByText('(read only)').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Edit and replay' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /Skip/ }).count()).toBe(0);
    // A form forged in the page (with the session's own CSRF token) is still refused by the API's role check.
    const [{ delivery_id: deadId }] = await t.sql("select delivery_id from outbox where status = 'dead' and correlation_id = (select correlation_id from sales_order where id = $1)", [orderId]);
    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    const status = await page.evaluate(async ({ deadId, csrf }) => {
      const response = await fetch(`/console/dead-letters/${deadId}/replay`, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, reason: 'forged', edited: 'no' }) });
      return response.status;
    }, { deadId, csrf });
    expect(status).toBe(403);
    expect((await t.sql('select status from outbox where delivery_id = $1', [deadId]))[0].status).toBe('dead');
    for (const path of ['/console', '/console/orders?status=rejected', '/console/exceptions', '/console/migration', '/console/skus/1896-S']) {
      const response = await page.goto(`${t.baseUrl}${path}`);
      expect(response?.status(), path).toBe(200);
      if (path === '/console/skus/1896-S') await shot(page, 'sku');
      if (path === '/console/orders?status=rejected') await shot(page, 'orders');
    }
    await page.context().close();
  });

  it('signs the admin in too, and ends the session at sign-out', async () => {
    const page = await signedIn(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${t.baseUrl}/console/login`);
    await page.goto(`${t.baseUrl}/console/dead-letters`);
    expect(page.url()).toBe(`${t.baseUrl}/console/login`);
    await page.context().close();
  });
});

async function orderReference(orderId: string): Promise<string> {
  return (await t.sql('select reference from sales_order where id = $1', [orderId]))[0].reference;
}

function erpOrdersFor(reference: string) {
  return [...w.sim.state.orders.values()].filter((o) => o.externalDocumentNumber === reference);
}
