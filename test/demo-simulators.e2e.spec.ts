import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigurationFile } from '../src/config/config-file.js';
import { ShopifyAdminClient } from '../src/connectors/channels/shopify/shopify-admin.client.js';
import type { ShopifyConfig } from '../src/connectors/channels/shopify/shopify.config.js';
import { signWebhook } from '../src/connectors/channels/webhook/standard-webhooks.js';
import type { ConfigurationDocument } from '../src/modules/configuration/index.js';
import { freePort } from '../src/platform/database/embedded-postgres.js';
import { TargetError } from '../src/platform/delivery/outcome.js';
import { startService, waitForStatus, type ServiceProcess } from './support/processes.js';
import { ADMIN_TOKEN, freshDatabase } from './support/test-app.js';

// The demo process (no DATABASE_URL, no CROSSDOCK_CONFIG) on an empty data directory, and beside it one on a
// database of its own, which is not in demo mode.
const dirs: string[] = [];
let demo: ServiceProcess;
let regular: ServiceProcess;
let demoUrl: string;
let regularUrl: string;
let configuration: ConfigurationDocument;
let demoDir: string;

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'crossdock-demo-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as the postgres user when the tests run as root
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  const [demoPort, regularPort] = [await freePort(), await freePort()];
  demoUrl = `http://127.0.0.1:${demoPort}`;
  regularUrl = `http://127.0.0.1:${regularPort}`;
  // What the demo process loads, so that the test uses the same credentials and secret without repeating them.
  configuration = loadConfigurationFile(fileURLToPath(new URL('../src/config/demo.yaml', import.meta.url)), { PORT: String(demoPort) });
  demoDir = tempDir();
  // The demo ERP's weekly maintenance window, moved to a day three days off, so that the suite does not depend on
  // the hour it runs at.
  demo = startService({ PORT: String(demoPort), CROSSDOCK_DATA_DIR: demoDir, CROSSDOCK_DEMO_MAINTENANCE_DAY: dayAfter(3) });
  regular = startService({ PORT: String(regularPort), CROSSDOCK_DATA_DIR: tempDir(), DATABASE_URL: await freshDatabase(), CROSSDOCK_ADMIN_TOKEN: ADMIN_TOKEN });
  await Promise.all([waitForStatus(`${demoUrl}/health/ready`, 200, demo, 60_000), waitForStatus(`${regularUrl}/health/ready`, 200, regular)]);
});

afterAll(async () => {
  for (const service of [demo, regular]) {
    if (service?.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function token(config: Record<string, unknown>, clientSecret = String(config.clientSecret)): Promise<Response> {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: String(config.clientId), client_secret: clientSecret, scope: 'https://api.businesscentral.dynamics.com/.default' });
  return fetch(String(config.tokenUrl), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
}

/** A call to the demo process, with its admin token unless another is given. */
async function call(method: string, path: string, body?: unknown, token = readFileSync(join(demoDir, 'admin-token'), 'utf8').trim()) {
  const response = await fetch(demoUrl + path, {
    method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json().catch(() => undefined)) as any };
}

describe('demo mode serves the simulators under /simulators on its own port', () => {
  it('answers as Business Central at the demo backend\'s URLs, for the demo backend\'s credentials only', async () => {
    const bc = configuration.erpBackends['bc-cloud']!.config;
    expect(String(bc.tokenUrl)).toBe(`${demoUrl}/simulators/business-central/oauth2/v2.0/token`);

    const refused = await token(bc, 'not-the-secret');
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'invalid_client' });
    const granted = await token(bc);
    expect(granted.status).toBe(200);
    const { access_token: accessToken, token_type: tokenType } = (await granted.json()) as { access_token: string; token_type: string };
    expect(tokenType).toBe('Bearer');

    const customersUrl = `${bc.baseUrl}/companies(${bc.companyId})/customers`;
    const anonymous = await fetch(customersUrl);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'Authentication_InvalidCredentials' } });
    const customers = await fetch(customersUrl, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(customers.status).toBe(200);
    expect(customers.headers.get('content-type')).toMatch(/^application\/json; odata\.metadata="?minimal/);
    const { value } = (await customers.json()) as { value: Array<{ number: string }> };
    expect(value.map((c) => c.number)).toEqual(['10000', '20000', '30000', '40000']);

    // The simulator sees paths relative to where it is mounted, as Business Central's own.
    const requests = (await (await fetch(`${demoUrl}/simulators/business-central/_control/requests`)).json()) as Array<{ path: string; status: number }>;
    expect(requests.at(-1)).toMatchObject({ path: `/v2.0/demo-tenant/production/api/v2.0/companies(${bc.companyId})/customers`, status: 200 });
  });

  it('answers as Shopify\'s Admin API at the demo shop\'s URL, for the demo shop\'s access token only', async () => {
    const shop = configuration.channels['demo-shop']!.config as unknown as ShopifyConfig;
    expect(shop.adminApiBaseUrl).toBe(`${demoUrl}/simulators/shopify/admin/api/2025-07`);
    const ids = await new ShopifyAdminClient(shop).inventoryItemIds(['1896-S', 'NOPE-1']);
    expect([...ids.keys()]).toEqual(['1896-S']);
    expect(ids.get('1896-S')).toMatch(/^gid:\/\/shopify\/InventoryItem\/\d+$/);

    const refused = await new ShopifyAdminClient({ ...shop, accessToken: 'not-the-token' }).inventoryItemIds(['1896-S']).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TargetError);
    expect((refused as TargetError).details.status).toBe(401);
  });

  it('records each delivery to the portal\'s webhook receiver, with whether its signature holds', async () => {
    const portal = configuration.channels['demo-portal']!.config;
    const url = String(portal.url);
    expect(url).toBe(`${demoUrl}/simulators/webhook-receiver/portal`);
    // Spacing that a parse and re-serialisation would change: the signature must be checked over the bytes sent.
    const body = '{"specversion": "1.0",  "type": "order.status.changed", "data": {"status": "confirmed"}}';
    const timestamp = Math.floor(Date.now() / 1000);
    const deliver = (id: string, secret: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(secret, id, timestamp, body) },
        body,
      });
    const signed = `msg_${Date.now()}_signed`;
    const forged = `msg_${Date.now()}_forged`;
    expect((await deliver(signed, String(portal.secret))).status).toBe(204);
    expect((await deliver(forged, 'whsec_bm90LXRoZS1wb3J0YWwta2V5')).status).toBe(204);

    const listed = await fetch(url);
    expect(listed.status).toBe(200);
    const received = (await listed.json()) as Array<{ webhookId: string; valid: boolean; body: unknown }>;
    const mine = received.filter((r) => r.webhookId === signed || r.webhookId === forged);
    expect(mine).toEqual([
      expect.objectContaining({ webhookId: signed, valid: true, body: JSON.parse(body) }),
      expect.objectContaining({ webhookId: forged, valid: false }),
    ]);
    expect((await fetch(`${demoUrl}/simulators/webhook-receiver/nobody`)).status).toBe(404);
  });

  it('routes orders to the SAP Business One simulator of sap-legacy at runtime: customers pulled, an order placed there once', async () => {
    expect((await call('PUT', '/v1/admin/routing/orders', { mode: 'legacy', primary: 'sap-legacy' })).status).toBe(200);
    try {
      expect((await call('POST', '/v1/admin/erp-backends/sap-legacy/sync/customers')).status).toBe(200);
      const { body: { key } } = await call('POST', '/v1/admin/channels/demo-portal/api-keys', { scopes: ['orders:write', 'orders:read'] });
      const order = {
        channelOrderId: `SAP-DEMO-${Date.now()}`, customer: { accountNumber: '10000' }, currency: 'EUR',
        lines: [{ lineId: '1', sku: '1896-S', quantity: 1, unitPrice: 100 }],
        shipTo: { name: 'Adatum Corporation', line1: 'Hauptstraße 12', city: 'Berlin', postalCode: '10115', country: 'DE' },
      };
      const response = await fetch(`${demoUrl}/v1/orders`, {
        method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': order.channelOrderId }, body: JSON.stringify(order),
      });
      expect(response.status).toBe(202);
      const { orderId } = (await response.json()) as { orderId: string };
      let placed: any;
      for (let i = 0; i < 150 && placed?.status !== 'confirmed'; i++) {
        await new Promise((r) => setTimeout(r, 200));
        placed = (await call('GET', `/v1/orders/${orderId}`)).body;
      }
      expect(placed.status).toBe('confirmed');
      const sap = (await (await fetch(`${demoUrl}/simulators/sap-b1/_control/state`)).json()) as { orders: Array<{ NumAtCard: string; DocNum: number }> };
      const inSap = sap.orders.filter((o) => o.NumAtCard === placed.reference);
      expect(inSap).toHaveLength(1);
      expect(placed.erpOrderRef).toBe(String(inSap[0]!.DocNum));
    } finally {
      expect((await call('PUT', '/v1/admin/routing/orders', { mode: 'shadow', primary: 'sap-legacy', shadow: 'bc-cloud' })).status).toBe(200);
    }
  });

  it('starts mid-migration: orders made in the legacy ERP and shadowed by Business Central, and the report shows where the two disagree', async () => {
    const report = async () => (await call('GET', '/v1/coexistence/report')).body.domains as Array<{ domain: string; mode: string; compared: number; mismatchesByCategory: Record<string, number> }>;
    const of = async (domain: string) => (await report()).find((d) => d.domain === domain)!;
    expect(await of('orders')).toMatchObject({ mode: 'shadow' });
    const { body: { key } } = await call('POST', '/v1/admin/channels/demo-portal/api-keys', { scopes: ['orders:write'] });
    const order = {
      channelOrderId: `SHADOW-DEMO-${Date.now()}`, customer: { accountNumber: '10000' }, currency: 'USD',
      lines: [{ lineId: '1', sku: '1896-S', quantity: 1, unitPrice: 100 }],
      shipTo: { name: 'Adatum Corporation', line1: '192 Market Square', city: 'Atlanta', postalCode: '31772', country: 'US' },
    };
    const placed = await fetch(`${demoUrl}/v1/orders`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': order.channelOrderId }, body: JSON.stringify(order),
    });
    expect(placed.status).toBe(202);
    const deadline = Date.now() + 30_000;
    const settled = async () => (await of('orders')).compared > 0 && ((await of('customers')).mismatchesByCategory.field ?? 0) > 0 && ((await of('pricing')).mismatchesByCategory.price ?? 0) > 0;
    while (!(await settled()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await settled()).toBe(true);
    // School of Fine Art is blocked in Business Central, not in the legacy ERP; the legacy ERP prices 1900-S otherwise.
    const blocks = (await call('GET', '/v1/coexistence/diffs?domain=customers&transaction=30000')).body.items;
    expect(blocks).toEqual([expect.objectContaining({ category: 'field', field: 'blocked', primary: 'All', shadow: '', primaryBackend: 'bc-cloud', shadowBackend: 'sap-legacy' })]);
    const prices = (await call('GET', '/v1/coexistence/diffs?domain=pricing&category=price&limit=500')).body.items as Array<{ transaction: string; primary: number; shadow: number }>;
    expect(prices.some((d) => d.transaction.includes('|1900-S|') && d.shadow === 199.9)).toBe(true);
  });

  it("prices the demo ERP's items for the portal, a customer's own price and quantity break too, and carries a price change to the portal and the store", async () => {
    const { body: { key } } = await call('POST', '/v1/admin/channels/demo-portal/api-keys', { scopes: ['prices:read'] });
    const price = async (query: string) => (await call('GET', `/v1/prices?${query}`, undefined, key)).body?.items?.[0];
    // The first pull runs shortly after start.
    const deadline = Date.now() + 30_000;
    while ((await price('sku=1896-S'))?.unitPrice !== 95 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await price('sku=1896-S')).toMatchObject({ unitPrice: 95, priceList: 'S00001', source: 'list' });
    expect(await price('sku=1896-S&customer=10000')).toMatchObject({ unitPrice: 90, source: 'customer' });
    expect(await price('sku=1896-S&customer=10000&quantity=12')).toMatchObject({ unitPrice: 85, minQuantity: 10 });

    // The ERP changes a base price; the next pull carries it to the store's variant and the portal (which sells at
    // the base price where its list has none).
    await fetch(`${demoUrl}/simulators/business-central/_control/items/1900-S`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ unitPrice: 133 }) });
    expect((await call('POST', '/v1/admin/erp-backends/bc-cloud/sync/prices')).status).toBe(200);
    const storeAndPortal = async () => {
      const state = (await (await fetch(`${demoUrl}/simulators/shopify/_control/state`)).json()) as { variants: Array<{ sku: string; price: string }> };
      const portal = (await (await fetch(String(configuration.channels['demo-portal']!.config.url))).json()) as Array<{ body: { type: string; data: { sku: string; unitPrice: number } } }>;
      return {
        store: state.variants.find((v) => v.sku === '1900-S')?.price,
        portal: portal.filter((r) => r.body?.type === 'price.changed' && r.body.data.sku === '1900-S').at(-1)?.body.data.unitPrice,
      };
    };
    const until = Date.now() + 30_000;
    while (JSON.stringify(await storeAndPortal()) !== JSON.stringify({ store: '133.00', portal: 133 }) && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
    expect(await storeAndPortal()).toEqual({ store: '133.00', portal: 133 });
  });

  it("carries a portal's edit of a customer's email to the demo ERP and the demo store, and the ERP's new credit limit to the portal", async () => {
    const until = async (what: string, check: () => Promise<boolean>) => {
      const deadline = Date.now() + 30_000;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    // The customers are pulled from the demo ERP at start.
    await until('the demo customers pulled', async () => (await call('GET', '/v1/customers/20000')).status === 200);
    // The demo store has Trey Research's buyer, tagged with its account: its customers/update webhook tells Crossdock.
    const shop = `${demoUrl}/simulators/shopify`;
    const buyer = 'gid://shopify/Customer/20000';
    const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post(`${shop}/_control/customers`, { id: buyer, firstName: 'Trey', lastName: 'Research', email: 'buyer@trey.example' })).status).toBe(201);
    const sent = await post(`${shop}/_control/webhooks/send`, {
      url: `${demoUrl}/v1/webhooks/shopify/demo-shop`, secret: String(configuration.channels['demo-shop']!.config.webhookSecret), topic: 'customers/update',
      payload: { id: 20000, admin_graphql_api_id: buyer, email: 'buyer@trey.example', first_name: 'Trey', last_name: 'Research', tags: 'erp:20000', default_address: null },
    });
    expect(sent.status).toBe(200);
    await until('the store\'s buyer is known', async () => (await call('GET', '/v1/customers/20000')).body.systemIds?.['shopify:demo-shop'] === buyer);

    const { body: { key } } = await call('POST', '/v1/admin/channels/demo-portal/api-keys', { scopes: ['customers:read', 'customers:write'] });
    const edited = await call('PUT', '/v1/customers/20000', { email: 'purchasing@trey.example' }, key);
    expect(edited.status).toBe(200);
    const erpCustomer = async () => (await (await fetch(`${demoUrl}/simulators/business-central/_control/customers/20000`)).json()) as { email: string };
    await until('the demo ERP has the email', async () => (await erpCustomer())?.email === 'purchasing@trey.example');
    const storeCustomers = async () => (await (await fetch(`${shop}/_control/customers`)).json()) as Array<{ id: string; email: string }>;
    await until('the demo store has the email', async () => (await storeCustomers()).find((c) => c.id === buyer)?.email === 'purchasing@trey.example');

    await fetch(`${demoUrl}/simulators/business-central/_control/customers/20000`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ creditLimit: 25_000 }) });
    expect((await call('POST', '/v1/admin/erp-backends/bc-cloud/sync/customers')).status).toBe(200);
    const portal = String(configuration.channels['demo-portal']!.config.url);
    await until('the portal hears the new credit limit', async () => {
      const received = (await (await fetch(portal)).json()) as Array<{ body: { type: string; data: { accountNumber: string; changed: string[]; customer: { creditLimit: number } } } }>;
      return received.some((r) => r.body?.type === 'customer.changed' && r.body.data.accountNumber === '20000' && r.body.data.customer.creditLimit === 25_000 && r.body.data.changed.includes('creditLimit'));
    });

    // The portal answers what it holds (readUrl): reconciled now, it holds every customer as it was last sent.
    await until('the portal has every customer it was sent', async () => {
      const run = await call('POST', '/v1/admin/reconcile/customers?target=channel:demo-portal&wait=true');
      return run.body.runs?.[0]?.run?.status === 'finished' && run.body.runs[0].run.drifted === 0 && run.body.runs[0].run.compared > 0;
    });
  });

  it('keeps the simulators out of the API document, and out of a service that is not in demo mode', async () => {
    const document = (await (await fetch(`${demoUrl}/docs-json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths)).toContain('/v1/admin/channels/{id}');
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/simulators'))).toEqual([]);

    const bc = configuration.erpBackends['bc-cloud']!.config;
    const elsewhere = await token({ ...bc, tokenUrl: String(bc.tokenUrl).replace(demoUrl, regularUrl) });
    expect(elsewhere.status).toBe(404);
    expect((await fetch(`${regularUrl}/simulators/webhook-receiver/portal`)).status).toBe(404);
  });
});

/** The three-letter name of the day `days` after today in Berlin, the demo window's time zone. */
function dayAfter(days: number): string {
  const weekday = new Intl.DateTimeFormat('en-US', { weekday: 'short', timeZone: 'Europe/Berlin' }).format(new Date(Date.now() + days * 86_400_000));
  return weekday.toLowerCase();
}
