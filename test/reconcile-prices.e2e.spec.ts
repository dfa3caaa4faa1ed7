import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBusinessCentralSimulator } from '../src/simulators/business-central/bc-simulator.js';
import { createShopifySimulator } from '../src/simulators/shopify/shopify-simulator.js';
import { FaultTarget, TARGET_SECRET } from './support/fault-target.js';
import { waitUntil } from './support/messaging.js';
import { bcBackend } from './support/orders.js';
import { startTestApp, syncNow, type TestApp } from './support/test-app.js';

// Pricing's reconciliation: a merchant's price edit in a Shopify store found by a run over the store and put right
// with a new version; a price whose newer version is still on its way not taken for drift; prices changed, added and
// withdrawn by hand in Business Central found by a run over the ERP and applied as the pull would, the store and a
// webhook portal following; the report of both.
let t: TestApp;
let portalKey: string;
const bc = createBusinessCentralSimulator({ clientId: 'crossdock', clientSecret: 'secret-1', ratePerSecond: 100, customerPricesApi: 'contoso/pricing/v1.0/customerPrices' });
const store = createShopifySimulator({ accessToken: 'shpat_prices', latencyMs: [1, 3] });
const portal = new FaultTarget();
let bcUrl: string;
let storeUrl: string;

// The simulators' items and their base prices in Business Central: 1896-S 100, 1900-S 125, ... 1968-S 325.
const ITEMS = ['1896-S', '1900-S', '1906-S', '1908-S', '1920-S', '1928-S', '1936-S', '1953-W', '1964-W', '1968-S'];
const BASE = Object.fromEntries(ITEMS.map((sku, i) => [sku, 100 + 25 * i]));

async function put(path: string, body: unknown): Promise<void> {
  const answer = await t.request('PUT', path, { body });
  if (answer.status >= 300) throw new Error(`${path}: ${answer.status} ${answer.text}`);
}
const bcControl = (method: string, path: string, body?: unknown) =>
  fetch(`${bcUrl}/_control/${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
const storeControl = (path: string, body: unknown) => fetch(`${storeUrl}/_control/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
/** A merchant sets a variant's price in the store's admin. */
const merchantPrices = (sku: string, price: string) => {
  const variant = [...store.state.variants.values()].find((v) => v.sku === sku)!;
  variant.price = price;
};
const storeDelivered = async () => (await t.sql<{ n: number }>("select count(*)::int as n from delivered_version where destination = 'channel:store' and key like 'price:%'"))[0]!.n;
const versionOf = async (sku: string) => Number((await t.sql<{ version: string }>("select version from channel_price where channel_id = 'store' and price_key = '' and sku = $1", [sku]))[0]!.version);
const deliveredVersionOf = async (sku: string) => Number((await t.sql<{ version: string }>("select version from delivered_version where destination = 'channel:store' and key = $1", [`price:${sku}`]))[0]!.version);
const portalPrice = (sku: string) => portal.effects.filter((e) => e.type === 'price.changed' && e.data.sku === sku).at(-1)?.data.unitPrice;
const priceReads = () => store.state.requests.filter((r) => r.name === 'CrossdockStorePrices');
const reconcile = async (target?: string) => {
  const answer = await t.request('POST', `/v1/admin/reconcile/prices?wait=true${target ? `&target=${target}` : ''}`);
  expect(answer.status, answer.text).toBe(202);
  return answer.body.runs as Array<{ target: string; run: any }>;
};
const reconcileOne = async (target: string) => {
  const runs = await reconcile(target);
  expect(runs.map((r) => r.target)).toEqual([target]);
  return runs[0]!.run;
};

beforeAll(async () => {
  bcUrl = await bc.listen();
  storeUrl = await store.listen();
  await portal.start();
  // Prices are pulled only when the test asks, and reconciled only when it asks.
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_PRICE_POLL_SECONDS: '86400', CROSSDOCK_RECONCILE_TICK_MS: '3600000', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '50' } });
  // The schedule's first pull comes 2 s after the start: past it, no pull brings the ERP's changes before a run does.
  const firstPullOver = Date.now() + 3_000;
  const backend = bcBackend(bcUrl, { ratePerSecond: 50, burst: 20, concurrency: 4 });
  await put('/v1/admin/erp-backends/bc', { ...backend, config: { ...backend.config, currency: 'USD', customerPricesApi: 'contoso/pricing/v1.0/customerPrices' } });
  await put('/v1/admin/routing/pricing', { mode: 'cloud', primary: 'bc' });
  const inventory = { warehouses: ['WH-EAST'], safetyStock: 0, allocationPercent: 100 };
  await put('/v1/admin/channels/portal', {
    kind: 'webhook', config: { url: portal.url, secret: TARGET_SECRET }, inventory, oversell: 'reject',
    pricing: { priceList: 'S00001', currency: 'USD' }, limits: { ratePerSecond: 200, burst: 200, concurrency: 8 },
  });
  await put('/v1/admin/channels/store', {
    kind: 'shopify', inventory, oversell: 'reject', pricing: { priceList: 'base', currency: 'USD' }, limits: { ratePerSecond: 50, burst: 50, concurrency: 4 },
    config: { shopDomain: 'prices.myshopify.com', apiVersion: '2025-07', accessToken: 'shpat_prices', webhookSecret: 'secret', adminApiBaseUrl: `${storeUrl}/admin/api/2025-07`, reconcilePageSize: 4 },
  });
  const pulled = await syncNow(t, '/v1/admin/erp-backends/bc/sync/prices');
  expect(pulled.body).toMatchObject({ backendId: 'bc', read: 14, errors: [], rejected: [] });
  await waitUntil('the store holds every base price', async () => ITEMS.every((sku) => store.variantPrice(sku) === `${BASE[sku]}.00`) && (await storeDelivered()) === ITEMS.length, 20_000);
  await waitUntil('the portal holds its list price', () => portalPrice('1896-S') === 95 && portalPrice('1968-S') === 325, 15_000);
  portalKey = (await t.request('POST', '/v1/admin/channels/portal/api-keys', { body: { scopes: ['prices:read'] } })).body.key;
  await new Promise((r) => setTimeout(r, Math.max(0, firstPullOver - Date.now())));
});
afterAll(async () => {
  await t?.close();
  await Promise.all([bc.close(), store.close(), portal.stop()]);
});

describe('a run over a Shopify store', () => {
  it("finds a merchant's price edits, republishes Crossdock's prices as new versions, and finds nothing the next time", async () => {
    const before = { '1906-S': await versionOf('1906-S'), '1953-W': await versionOf('1953-W') };
    merchantPrices('1906-S', '1.00');
    merchantPrices('1953-W', '999.99');
    const readsBefore = priceReads().length;

    const run = await reconcileOne('channel:store');
    expect(run).toMatchObject({ domain: 'prices', target: 'channel:store', trigger: 'demand', status: 'finished', compared: 10, drifted: 2, repaired: 2, waiting: 0 });
    // Ten variants, four a page: three reads of 2 + 4 (the page) + 1 (the shop's currency) points.
    expect(run.pages).toBe(3);
    expect(priceReads().length - readsBefore).toBe(3);
    expect(priceReads().every((r) => r.requestedCost === 7 && !r.throttled)).toBe(true);

    await waitUntil("the store holds Crossdock's prices again", () => store.variantPrice('1906-S') === '150.00' && store.variantPrice('1953-W') === '275.00', 15_000);
    for (const sku of ['1906-S', '1953-W'] as const) {
      expect(await versionOf(sku)).toBeGreaterThan(before[sku]);
      await waitUntil(`${sku}'s new version delivered`, async () => (await deliveredVersionOf(sku)) === (await versionOf(sku)), 10_000);
    }
    const detail = (await t.request('GET', `/v1/ops/reconciliation/runs/${run.id}`)).body;
    expect(detail.findings.map((f: any) => [f.key, f.class, f.repair, f.status, f.expected, f.actual, f.detail.republished])).toEqual([
      ['1906-S', 'channel-differs', 'republish', 'repaired', 150, 1, true],
      ['1953-W', 'channel-differs', 'republish', 'repaired', 275, 999.99, true],
    ]);
    expect(detail.findings[0].detail).toMatchObject({ version: await versionOf('1906-S'), unitPrice: 150, priceList: 'base' });

    const again = await reconcileOne('channel:store');
    expect(again).toMatchObject({ status: 'finished', compared: 10, drifted: 0, repaired: 0 });
    const audited = await t.sql("select action, resource_id from audit_entry where resource_type = 'reconcile:prices' order by id");
    expect(audited).toEqual([{ action: 'republish', resource_id: '1906-S' }, { action: 'republish', resource_id: '1953-W' }]);
  });

  it('leaves a price whose newer version is on its way: not drift, the store gets it', async () => {
    // The store applies the next price at once and answers it late: the price is in flight while the run reads.
    expect((await storeControl('faults', { mutationAnswerDelayMs: 2_000 })).status).toBe(200);
    try {
      expect((await bcControl('PUT', 'items/1964-W', { unitPrice: 301 })).status).toBe(200);
      expect((await syncNow(t, '/v1/admin/erp-backends/bc/sync/prices')).body).toMatchObject({ read: 14, errors: [] });
      await waitUntil('the new price set, its answer on its way', async () => store.variantPrice('1964-W') === '301.00'
        && (await t.sql("select 1 from state_inflight where destination = 'channel:store' and key = 'price:1964-W'")).length === 1, 10_000, 20);

      const run = await reconcileOne('channel:store');
      expect(run).toMatchObject({ status: 'finished', compared: 9, drifted: 0, repaired: 0 });
    } finally {
      await storeControl('faults', { mutationAnswerDelayMs: 0 });
    }
    await waitUntil("1964-W's new version delivered", async () => (await deliveredVersionOf('1964-W')) === (await versionOf('1964-W')), 10_000);
  });
});

describe('a run over the ERP routed for pricing', () => {
  it('applies prices changed or added by hand in Business Central, deletes the one it withdrew, and the channels follow', async () => {
    await bcControl('PUT', 'items/1908-S', { unitPrice: 199 }).then((r) => expect(r.status).toBe(200));
    await bcControl('PUT', 'price-list-lines/10000', { unitPrice: 93 }).then((r) => expect(r.status).toBe(200));
    await bcControl('PUT', 'price-list-lines/60000', { priceListCode: 'S00001', itemNo: '1900-S', customerNo: '', unitPrice: 120, minimumQuantity: 0 }).then((r) => expect(r.status).toBeLessThan(300));
    await bcControl('DELETE', 'price-list-lines/30000').then((r) => expect(r.status).toBe(200));
    const year = new Date().getUTCFullYear();

    const run = await reconcileOne('erp:bc');
    // Fourteen prices read (one of them new) and the one Crossdock holds that the ERP no longer does.
    expect(run).toMatchObject({ domain: 'prices', target: 'erp:bc', status: 'finished', pages: 1, compared: 15, drifted: 4, repaired: 4, waiting: 0 });
    const detail = (await t.request('GET', `/v1/ops/reconciliation/runs/${run.id}`)).body;
    expect(detail.findings.map((f: any) => [f.key, f.class, f.repair, f.status, f.expected, f.actual, f.detail.applied ?? f.detail.deleted])).toEqual([
      ['S00001|1896-S|USD|*|0|*', 'source-differs', 'recompute', 'repaired', { unitPrice: 93, validTo: null }, { unitPrice: 95, validTo: null }, true],
      [`S00002|1896-S|USD|10000|10|${year}-01-01T00:00:00.000Z`, 'source-differs', 'recompute', 'repaired', null, { unitPrice: 85, validTo: `${year + 1}-01-01T00:00:00.000Z` }, true],
      ['S00001|1900-S|USD|*|0|*', 'source-differs', 'recompute', 'repaired', { unitPrice: 120, validTo: null }, null, true],
      ['base|1908-S|USD|*|0|*', 'source-differs', 'recompute', 'repaired', { unitPrice: 199, validTo: null }, { unitPrice: 175, validTo: null }, true],
    ]);
    const held = await t.sql("select price_list, sku, customer, min_quantity::float8 as q, unit_price::float8 as p from price_entry where source = 'erp:bc' and (sku = '1896-S' or price_list = 'S00001' or sku = '1908-S') order by sku, price_list collate \"C\", customer, min_quantity");
    expect(held).toEqual([
      { price_list: 'S00001', sku: '1896-S', customer: '', q: 0, p: 93 },
      { price_list: 'S00002', sku: '1896-S', customer: '10000', q: 0, p: 90 },
      { price_list: 'base', sku: '1896-S', customer: '', q: 0, p: 100 },
      { price_list: 'S00001', sku: '1900-S', customer: '', q: 0, p: 120 },
      { price_list: 'base', sku: '1908-S', customer: '', q: 0, p: 199 },
    ]);
    // Recomputed and published: the store sells 1908-S at its new base price, the portal at its list's new prices.
    await waitUntil('the store has the new base price', () => store.variantPrice('1908-S') === '199.00', 15_000);
    await waitUntil("1908-S's new version delivered", async () => (await deliveredVersionOf('1908-S')) === (await versionOf('1908-S')), 10_000);
    await waitUntil("the portal has its list's prices", () => portalPrice('1896-S') === 93 && portalPrice('1900-S') === 120 && portalPrice('1908-S') === 199, 15_000);
    // The customer's quantity break is gone: from 10 units Adatum pays its own 90.
    const [lookUp] = (await t.request('GET', '/v1/prices?sku=1896-S&customer=10000&quantity=12', { token: portalKey })).body.items;
    expect(lookUp).toMatchObject({ unitPrice: 90, minQuantity: 0 });

    expect(await reconcileOne('erp:bc')).toMatchObject({ status: 'finished', compared: 14, drifted: 0, repaired: 0 });
    // The pull that follows finds the ERP's prices held already: nothing withdrawn.
    expect((await syncNow(t, '/v1/admin/erp-backends/bc/sync/prices')).body).toMatchObject({ read: 14, withdrawn: 0, errors: [] });
  });
});

describe('the report', () => {
  it("shows each run's figures, newest first, for both targets", async () => {
    const runs = await reconcile();
    expect(Object.fromEntries(runs.map((r) => [r.target, [r.run.status, r.run.compared, r.run.drifted, r.run.repaired]]))).toEqual({ 'channel:store': ['finished', 10, 0, 0], 'erp:bc': ['finished', 14, 0, 0] });

    const report = await t.request('GET', '/v1/ops/reconciliation?domain=prices');
    expect(report.status).toBe(200);
    expect(report.body.domains).toContain('prices');
    const byTarget = (target: string) => report.body.runs.filter((r: any) => r.target === target).map((r: any) => [r.trigger, r.compared, r.drifted, r.repaired]);
    expect(byTarget('channel:store')).toEqual([['demand', 10, 0, 0], ['demand', 9, 0, 0], ['demand', 10, 0, 0], ['demand', 10, 2, 2]]);
    expect(byTarget('erp:bc')).toEqual([['demand', 14, 0, 0], ['demand', 14, 0, 0], ['demand', 15, 4, 4]]);
    expect(report.body.runs.every((r: any) => r.domain === 'prices' && r.status === 'finished')).toBe(true);
    expect(report.body.waiting).toEqual([]);
    const metrics = (await t.request('GET', '/metrics', { token: null })).text;
    expect(metrics).toMatch(/crossdock_reconcile_repairs_total\{domain="prices",target="channel:store",class="channel-differs"\} 2/);
    expect(metrics).toMatch(/crossdock_reconcile_repairs_total\{domain="prices",target="erp:bc",class="source-differs"\} 4/);
  });
});
