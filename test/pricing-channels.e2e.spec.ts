import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBusinessCentralSimulator } from '../src/simulators/business-central/bc-simulator.js';
import { legacyCompany } from '../src/simulators/demo-simulators.js';
import { createSapB1Simulator } from '../src/simulators/sap-b1/sap-b1-simulator.js';
import { createShopifySimulator } from '../src/simulators/shopify/shopify-simulator.js';
import { FaultTarget, TARGET_SECRET } from './support/fault-target.js';
import { waitUntil } from './support/messaging.js';
import { bcBackend } from './support/orders.js';
import { startTestApp, syncNow, type TestApp } from './support/test-app.js';

// Prices pulled from the ERP on demand, looked up by a portal, and pushed to a webhook portal and a Shopify store.
let t: TestApp;
let portalKey: string;
const bc = createBusinessCentralSimulator({ clientId: 'crossdock', clientSecret: 'secret-1', ratePerSecond: 100, customerPricesApi: 'contoso/pricing/v1.0/customerPrices' });
const sap = createSapB1Simulator({ data: legacyCompany(), companyDb: 'SBODEMOUS', userName: 'manager', password: 'sap-secret' });
const store = createShopifySimulator({ accessToken: 'shpat_test', latencyMs: [1, 4] });
const portal = new FaultTarget();
const YEAR = new Date().getUTCFullYear();

async function put(path: string, body: unknown): Promise<void> {
  const answer = await t.request('PUT', path, { body });
  if (answer.status >= 300) throw new Error(`${path}: ${answer.status} ${answer.text}`);
}
const control = (url: string, method: string, path: string, body?: unknown) =>
  fetch(`${url}/_control/${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
const pull = async (backend: string) => {
  const answer = await syncNow(t, `/v1/admin/erp-backends/${backend}/sync/prices`);
  expect(answer.status).toBe(200);
  return answer.body;
};
const lookUp = async (query: string) => (await t.request('GET', `/v1/prices?${query}`, { token: portalKey })).body.items;
const portalPrices = (sku: string) => portal.effects.filter((e) => e.type === 'price.changed' && e.data.sku === sku).map((e) => e.data);

let bcUrl: string;
let storeUrl: string;
beforeAll(async () => {
  bcUrl = await bc.listen();
  const sapUrl = await sap.listen();
  storeUrl = await store.listen();
  await portal.start();
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '50' } });
  const backend = bcBackend(bcUrl, { ratePerSecond: 50, burst: 20, concurrency: 4 });
  await put('/v1/admin/erp-backends/bc', { ...backend, config: { ...backend.config, currency: 'USD', customerPricesApi: 'contoso/pricing/v1.0/customerPrices' } });
  await put('/v1/admin/erp-backends/sap', {
    kind: 'sap-b1', role: 'legacy', limits: { ratePerSecond: 50, burst: 20, concurrency: 4 }, maintenanceWindows: [],
    config: { baseUrl: `${sapUrl}/b1s/v1`, companyDb: 'SBODEMOUS', username: 'manager', password: 'sap-secret', warehouseCodes: { 'WH-EAST': '01' }, currencies: { $: 'USD' } },
  });
  await put('/v1/admin/routing/pricing', { mode: 'cloud', primary: 'bc' });
  const inventory = { warehouses: ['WH-EAST'], safetyStock: 0, allocationPercent: 100 };
  await put('/v1/admin/channels/portal', {
    kind: 'webhook', config: { url: portal.url, secret: TARGET_SECRET }, inventory, oversell: 'reject',
    pricing: { priceList: 'S00001', currency: 'USD' }, limits: { ratePerSecond: 200, burst: 200, concurrency: 8 },
  });
  await put('/v1/admin/channels/store', {
    kind: 'shopify', inventory, oversell: 'reject', pricing: { priceList: 'base', currency: 'USD' }, limits: { ratePerSecond: 50, burst: 50, concurrency: 2 },
    config: {
      shopDomain: 'store.myshopify.com', apiVersion: '2025-07', accessToken: 'shpat_test', webhookSecret: 'secret', adminApiBaseUrl: `${storeUrl}/admin/api/2025-07`,
      // The store's B2B catalog sells at list S00001; a second mapping names a price list the store does not have.
      priceLists: { S00001: 'gid://shopify/PriceList/1', S00002: 'gid://shopify/PriceList/404' },
    },
  });
  portalKey = (await t.request('POST', '/v1/admin/channels/portal/api-keys', { body: { scopes: ['prices:read'] } })).body.key;
});
afterAll(async () => {
  await t?.close();
  await Promise.all([bc.close(), sap.close(), store.close(), portal.stop()]);
});

describe('prices from Business Central', () => {
  it('pulls base prices and the custom page, answers look-ups from them, and pushes them to the portal and the store', async () => {
    const pulled = await pull('bc');
    expect(pulled).toMatchObject({ backendId: 'bc', withdrawn: 0, errors: [], rejected: [] });
    expect(pulled.read).toBeGreaterThan(4);

    const [listed] = await lookUp('sku=1896-S');
    expect(listed).toMatchObject({ unitPrice: 95, priceList: 'S00001', source: 'list' });
    const [own] = await lookUp('sku=1896-S&customer=10000');
    expect(own).toMatchObject({ unitPrice: 90, priceList: 'S00002', source: 'customer', validFrom: `${YEAR}-01-01T00:00:00.000Z`, validTo: `${YEAR + 1}-01-01T00:00:00.000Z` });
    expect((await lookUp('sku=1896-S&customer=10000&quantity=12'))[0]).toMatchObject({ unitPrice: 85, minQuantity: 10 });
    expect((await lookUp('sku=1900-S'))[0]).toMatchObject({ priceList: 'base', source: 'base' });

    await waitUntil('the portal has the list price', () => portalPrices('1896-S').at(-1)?.unitPrice === 95, 15_000);
    await waitUntil('the store has the base price and the B2B price', () => store.variantPrice('1896-S') === '100.00' && store.fixedPrices('gid://shopify/PriceList/1')!['1896-S'] !== undefined, 15_000);
    expect(store.fixedPrices('gid://shopify/PriceList/1')!['1896-S']).toMatchObject({ amount: '95.00', currencyCode: 'USD' });
  });

  it('publishes a change made in the ERP at the next pull, and withdraws a price the ERP no longer holds', async () => {
    await control(bcUrl, 'PUT', 'items/1896-S', { unitPrice: 111 });
    await control(bcUrl, 'DELETE', 'price-list-lines/10000');
    const pulled = await pull('bc');
    expect(pulled.withdrawn).toBe(1);
    await waitUntil('the store has the new base price', () => store.variantPrice('1896-S') === '111.00', 15_000);
    // The portal's list price is gone: it sells at the base price now.
    await waitUntil('the portal falls back to the base price', () => portalPrices('1896-S').at(-1)?.unitPrice === 111, 15_000);
    expect(portalPrices('1896-S').at(-1)).toMatchObject({ priceList: 'base', source: 'base' });
    await waitUntil('the B2B fixed price withdrawn', () => store.fixedPrices('gid://shopify/PriceList/1')!['1896-S'] === undefined, 15_000);
    const versions = portalPrices('1896-S').map((d) => d.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
  });

  it('keeps the prices of an item whose record the ERP answered unreadable, instead of withdrawing them', async () => {
    await control(bcUrl, 'PUT', 'price-list-lines/40000', { priceListCode: 'S00003', itemNo: '1900-S', customerNo: '', currencyCode: 'EURO', unitPrice: 110, minimumQuantity: 0 });
    const pulled = await pull('bc');
    expect(pulled.rejected).toEqual([expect.objectContaining({ sku: '1900-S' })]);
    expect(pulled.withdrawn).toBe(0);
    expect(await t.sql("select unit_price::float8 as p from price_entry where sku = '1900-S' and price_list = 'S00003'")).toEqual([{ p: 110 }]);
  });

  it("dead-letters a price the store refuses, with Shopify's message, and delivers the others", async () => {
    // S00002 holds only customer prices, so nothing is published for it; give it a list price.
    await control(bcUrl, 'PUT', 'price-list-lines/50000', { priceListCode: 'S00002', itemNo: '1900-S', customerNo: '', unitPrice: 70, minimumQuantity: 0 });
    await pull('bc');
    const dead = () => t.sql("select errors from outbox where destination = 'channel:store' and key = 'price@S00002:1900-S' and status = 'dead'");
    await waitUntil('the refused price dead-lettered', async () => (await dead()).length > 0, 15_000);
    expect(JSON.stringify((await dead())[0].errors)).toMatch(/price list/i);
    // The same pull's other prices were delivered: nothing else of the store is dead.
    expect(await t.sql("select key from outbox where destination = 'channel:store' and status = 'dead' and key <> 'price@S00002:1900-S'")).toEqual([]);
  });
});

describe('prices from SAP Business One', () => {
  it('pulls the price lists and a business partner\'s special prices with their period and quantity break', async () => {
    await put('/v1/admin/routing/pricing', { mode: 'legacy', primary: 'sap' });
    const pulled = await pull('sap');
    expect(pulled).toMatchObject({ backendId: 'sap', errors: [], rejected: [] });
    const entries = await t.sql("select price_list, customer, min_quantity::float8 as q, unit_price::float8 as p from price_entry where source = 'erp:sap' and sku = '1896-S' order by customer, min_quantity, unit_price");
    expect(entries).toEqual(expect.arrayContaining([
      { price_list: 'base', customer: '', q: 0, p: 100 },
      { price_list: 'Wholesale', customer: '', q: 0, p: 80 },
      { price_list: 'base', customer: '10000', q: 10, p: 85 },
    ]));
  });
});

