import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TargetError } from '../../../platform/delivery/outcome.js';
import type { Delivery } from '../../../platform/outbox/message.js';
import { createShopifySimulator, type ShopifySimulator } from '../../../simulators/shopify/shopify-simulator.js';
import { levelsPageCost, levelsPageSize, QueryCostPacer, ShopifyAdminClient } from './shopify-admin.client.js';
import { readCompanyWebhook, type StoreCompany } from './shopify-companies.js';
import { parseShopifyJson, verifyShopifyHmac } from './shopify-webhooks.js';
import type { ShopifyConfig } from './shopify.config.js';
import { ShopifyDelivery } from './shopify.delivery.js';

function pacer(maxWaitMs = 2000) {
  let now = 1_000_000;
  return { pacer: new QueryCostPacer(maxWaitMs, () => now), advance: (ms: number) => (now += ms) };
}

describe('QueryCostPacer', () => {
  it('lets a call through until an answer has told the bucket', () => {
    expect(pacer().pacer.waitFor(500)).toBe(0);
  });

  it('projects the refill since the last answer, less the calls in flight', async () => {
    const { pacer: p, advance } = pacer();
    p.settle(0, { maximumAvailable: 100, currentlyAvailable: 10, restoreRate: 50 });
    expect(p.waitFor(30)).toBe(400);
    advance(400);
    expect(p.waitFor(30)).toBe(0);
    await p.admit(20);
    // 30 available, 20 of them in flight: 30 more need 0.4 s.
    expect(p.waitFor(30)).toBe(400);
    p.settle(20, { maximumAvailable: 100, currentlyAvailable: 5, restoreRate: 50 });
    expect(p.waitFor(30)).toBe(500);
    advance(10_000);
    // Never more than the bucket holds.
    expect(p.waitFor(100)).toBe(0);
    expect(p.waitFor(150)).toBe(0);
  });

  it('hands a wait beyond its bound to the caller as throttled, with the wait', async () => {
    const { pacer: p } = pacer(1000);
    p.settle(0, { maximumAvailable: 1000, currentlyAvailable: 0, restoreRate: 50 });
    const error = await p.admit(100).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TargetError);
    expect(error).toMatchObject({ failureClass: 'throttled', details: { retryAfterMs: 2000 } });
  });

  it('waits for a call that fits after a short wait, then lets it go', async () => {
    const p = new QueryCostPacer(1000, Date.now);
    p.settle(0, { maximumAvailable: 1000, currentlyAvailable: 0, restoreRate: 1000 });
    await expect(p.admit(20)).resolves.toBeUndefined();
  });

  it('leaves a share of the bucket to other calls when asked to', async () => {
    const { pacer: p, advance } = pacer();
    p.settle(0, { maximumAvailable: 2000, currentlyAvailable: 800, restoreRate: 100 });
    expect(p.waitFor(752)).toBe(0);
    // 752 and a quarter of the bucket: 1,252 points, 4.52 s of refill away.
    expect(p.waitFor(752, 0.25)).toBe(4520);
    const stop = new AbortController();
    let done = false;
    const waited = p.until(752, 0.25, stop.signal).then(() => (done = true), () => undefined);
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    stop.abort();
    await waited;
    advance(4520);
    expect(p.waitFor(752, 0.25)).toBe(0);
    await p.until(752, 0.25);
  });

  it("is one per store and app for the clients that share it, so that a read sees the deliveries' answers", async () => {
    const sim = createShopifySimulator({ accessToken: 'shpat_shared', variants: [{ sku: 'S-1', available: { 'gid://shopify/Location/1': 5 } }] });
    const base = await sim.listen();
    try {
      const config = { shopDomain: 'shared.myshopify.com', apiVersion: '2025-07', accessToken: 'shpat_shared', webhookSecret: 's', adminApiBaseUrl: `${base}/admin/api/2025-07` };
      const endpoint = `${base}/admin/api/2025-07/graphql.json`;
      const delivering = new ShopifyAdminClient(config, { sharedPacer: true });
      const reading = new ShopifyAdminClient(config, { sharedPacer: true, maxWaitMs: 60_000 });
      const alone = new ShopifyAdminClient(config);
      expect(QueryCostPacer.shared(endpoint, 'shpat_shared')).toBe(QueryCostPacer.shared(endpoint, 'shpat_shared'));
      expect(QueryCostPacer.shared(endpoint, 'shpat_other')).not.toBe(QueryCostPacer.shared(endpoint, 'shpat_shared'));
      // The bucket nearly empty and slow to refill: the delivering client's answer says so.
      await fetch(`${base}/_control/bucket`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ maximumAvailable: 1000, restoreRate: 1, currentlyAvailable: 30 }) });
      await delivering.inventoryItemIds(['S-1']);
      // The reading client now waits for 500 points; one of its own would not know the bucket yet.
      expect(QueryCostPacer.shared(endpoint, 'shpat_shared').waitFor(500)).toBeGreaterThan(400_000);
      const stop = new AbortController();
      let waited = false;
      const until = reading.untilAvailable(500, 0, stop.signal).then(() => (waited = true), () => undefined);
      await new Promise((r) => setTimeout(r, 20));
      expect(waited).toBe(false);
      stop.abort();
      await until;
      await expect(alone.untilAvailable(500, 0)).resolves.toBeUndefined();
    } finally {
      await sim.close();
    }
  });

  it('computes a THROTTLED answer\'s wait from the requested cost and the restore rate', () => {
    // Shopify's documented example: 752 requested, 666 available, 50 a second.
    expect(QueryCostPacer.retryAfterMs(752, { maximumAvailable: 1000, currentlyAvailable: 666, restoreRate: 50 })).toBe(1720);
    expect(QueryCostPacer.retryAfterMs(10, { maximumAvailable: 2000, currentlyAvailable: 50, restoreRate: 100 })).toBe(10);
  });
});

describe('customer.changed to a store that holds the customer as a B2B company', () => {
  const TOKEN = 'shpat_companies';
  const SECRET = 'company-echo-secret';
  let sim: ShopifySimulator;
  let base: string;
  const webhooks: Array<{ topic: string; hmac: string; body: string }> = [];
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      webhooks.push({ topic: String(request.headers['x-shopify-topic']), hmac: String(request.headers['x-shopify-hmac-sha256']), body });
      response.end();
    });
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    sim = createShopifySimulator({ accessToken: TOKEN, latencyMs: [1, 4], webhooks: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, secret: SECRET } });
    base = await sim.listen();
  });
  afterAll(async () => {
    await sim.close();
    await new Promise((resolve) => receiver.close(resolve));
  });
  beforeEach(() => {
    const bucket = sim.state.bucket;
    Object.assign(bucket, { maximumAvailable: 2000, restoreRate: 100, available: 2000, at: Date.now() });
  });

  const store = () =>
    new ShopifyDelivery({ shopDomain: 'companies.myshopify.com', apiVersion: '2025-07', accessToken: TOKEN, webhookSecret: SECRET, adminApiBaseUrl: `${base}/admin/api/2025-07` } satisfies ShopifyConfig);
  const signal = () => AbortSignal.timeout(30_000);

  let sequence = 0;
  /** A store's company with one location, and the account it stands for. */
  function storeCompany() {
    const accountNumber = `B2B-${++sequence}`;
    const company = sim.addCompany({ name: 'Old name', externalId: accountNumber, locations: [{ name: 'Head office', phone: '+15145550000' }] });
    return { accountNumber, companyId: company.id, locationId: company.locations[0]!.id };
  }

  const customer = (over: Record<string, unknown> = {}) => ({
    name: 'Adatum Corporation', email: 'ap@adatum.example', phone: '+441132220000',
    billingAddress: { line1: '9 Invoice Row', line2: null, city: 'Leeds', postalCode: 'LS1 1AA', region: null, country: 'GB' },
    shippingAddress: { line1: '1 Dock Rd', line2: 'Unit 4', city: 'Leeds', postalCode: 'LS1 4BB', region: 'WYK', country: 'GB' },
    taxId: 'GB123456789', blocked: '', creditLimit: 0, balanceDue: 0, priceList: null, paymentTerms: null, ...over,
  });

  function changed(ids: Record<string, unknown>, over: Record<string, unknown> = {}): Delivery {
    const n = ++sequence;
    return {
      deliveryId: `company-${n}`, messageId: `m-${n}`, type: 'customer.changed', kind: 'state', key: `customer:${String(ids.accountNumber)}`, destination: 'channel:shop',
      payload: { changed: ['name'], customer: customer(over), version: n, ...ids }, version: n, correlationId: `c-${n}`, causationId: null, attempt: 1, previousValue: null, createdAt: new Date(),
    };
  }

  /** The store's webhooks since `from`, once `count` have come (they go after the answer). */
  async function webhooksSince(from: number, count: number) {
    const deadline = Date.now() + 5000;
    while (webhooks.length < from + count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 50));
    return webhooks.slice(from);
  }

  it("writes the name to the company and the addresses, phone and tax id to its location, in one request; the store's webhooks carry them back", async () => {
    const { accountNumber, companyId, locationId } = storeCompany();
    const delivery = changed({ accountNumber, shopifyCompanyId: companyId, shopifyCompanyLocationId: locationId });
    const [requests, from] = [sim.state.requests.length, webhooks.length];

    const result = await store().deliver('shop', delivery, signal());

    expect(result).toEqual({ accountNumber, companyId, locationId, fieldsSet: ['name', 'billingAddress', 'shippingAddress', 'phone', 'taxId'] });
    expect(sim.state.requests.slice(requests)).toEqual([expect.objectContaining({ operation: 'mutation', requestedCost: 50, throttled: false })]);
    expect(sim.company(companyId)).toMatchObject({
      name: 'Adatum Corporation',
      locations: [{
        phone: '+441132220000', taxRegistrationId: 'GB123456789',
        billingAddress: { address1: '9 Invoice Row', address2: null, city: 'Leeds', zip: 'LS1 1AA', zoneCode: null, countryCode: 'GB' },
        shippingAddress: { address1: '1 Dock Rd', address2: 'Unit 4', city: 'Leeds', zip: 'LS1 4BB', zoneCode: 'WYK', countryCode: 'GB' },
      }],
    });

    const sent = await webhooksSince(from, 2);
    expect(sent.map((w) => w.topic)).toEqual(['companies/update', 'company_locations/update']);
    for (const w of sent) expect(verifyShopifyHmac(SECRET, w.body, w.hmac)).toBe(true);
    const [company, location] = sent.map((w) => readCompanyWebhook(w.topic, parseShopifyJson(w.body)) as StoreCompany);
    // What the store says is what was written: the receiving side can know it for its own echo.
    const written = delivery.payload.customer as ReturnType<typeof customer>;
    expect(company).toEqual({ accountNumber, companyId, fields: { name: written.name } });
    expect(location).toEqual({ accountNumber, companyId, locationId, fields: { phone: written.phone, billingAddress: written.billingAddress, shippingAddress: written.shippingAddress, taxId: written.taxId } });
  });

  it('changes nothing, and the store sends nothing, when the same change comes again', async () => {
    const { accountNumber, companyId, locationId } = storeCompany();
    const delivery = changed({ accountNumber, shopifyCompanyId: companyId, shopifyCompanyLocationId: locationId }, { billingAddress: null });
    const adapter = store();
    const before = webhooks.length;
    await adapter.deliver('shop', delivery, signal());
    const first = sim.company(companyId);
    await webhooksSince(before, 2);
    const from = webhooks.length;

    await adapter.deliver('shop', { ...delivery, attempt: 2 }, signal());
    expect(sim.company(companyId)).toEqual(first);
    expect(sim.state.companyMutations.slice(-4).map((m) => m.changed)).toEqual([false, false, false, false]);
    expect(await webhooksSince(from, 0)).toEqual([]);
  });

  it("writes only the company's name without a location, and leaves null fields as the store has them", async () => {
    const { accountNumber, companyId } = storeCompany();
    const result = await store().deliver('shop', changed({ accountNumber, shopifyCompanyId: companyId }), signal());
    expect(result).toEqual({ accountNumber, companyId, fieldsSet: ['name'] });

    const { locationId, ...rest } = storeCompany();
    await store().deliver('shop', changed({ ...rest, shopifyCompanyId: rest.companyId, shopifyCompanyLocationId: locationId }, { phone: null, taxId: null, name: null }), signal());
    expect(sim.company(rest.companyId)).toMatchObject({ name: 'Old name', locations: [{ phone: '+15145550000', taxRegistrationId: null }] });
  });

  it('writes the customer and the company when the store holds both', async () => {
    const { accountNumber, companyId, locationId } = storeCompany();
    const customerId = sim.addCustomer({ email: 'before@adatum.example' }).id;
    const result = await store().deliver('shop', changed({ accountNumber, shopifyCustomerId: customerId, shopifyCompanyId: companyId, shopifyCompanyLocationId: locationId }), signal());
    expect(result).toEqual({
      accountNumber, customerId, fieldsSet: ['email', 'phone', 'firstName', 'lastName', 'addresses'],
      company: { companyId, locationId, fieldsSet: ['name', 'billingAddress', 'shippingAddress', 'phone', 'taxId'] },
    });
    expect(sim.customer(customerId)).toMatchObject({ email: 'ap@adatum.example', lastName: 'Corporation' });
    expect(sim.company(companyId)).toMatchObject({ name: 'Adatum Corporation' });
  });

  it("refuses what Shopify refuses as permanent, with its messages, mutations and fields", async () => {
    const { accountNumber, companyId } = storeCompany();
    const missing = 'gid://shopify/CompanyLocation/1';
    const failure = await store().deliver('shop', changed({ accountNumber, shopifyCompanyId: companyId, shopifyCompanyLocationId: missing }, { billingAddress: null, shippingAddress: null }), signal()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TargetError);
    expect(failure).toMatchObject({
      failureClass: 'permanent',
      message: `Shopify refused companyLocationUpdate of ${missing}: RESOURCE_NOT_FOUND: Resource requested does not exist. (companyLocationId); companyLocationTaxSettingsUpdate of ${missing}: RESOURCE_NOT_FOUND: Resource requested does not exist. (companyLocationId)`,
    });

    const { locationId, ...rest } = storeCompany();
    const country = await store().deliver('shop', changed({ accountNumber: rest.accountNumber, shopifyCompanyId: rest.companyId, shopifyCompanyLocationId: locationId }, { billingAddress: null, shippingAddress: { line1: '1 Main St', city: 'Nowhere', country: 'XX' } }), signal()).catch((e: unknown) => e);
    expect(country).toMatchObject({ failureClass: 'permanent', message: `Shopify refused companyLocationAssignAddress of ${locationId}: INVALID: Country code is invalid. (address.countryCode)` });
  });

  it('refuses a malformed change before calling the store', async () => {
    const { accountNumber, companyId } = storeCompany();
    const requests = sim.state.requests.length;
    const failure = await store().deliver('shop', changed({ accountNumber, shopifyCompanyId: companyId, shopifyCustomerId: 'not-a-gid' }), signal()).catch((e: unknown) => e);
    expect(failure).toMatchObject({ failureClass: 'permanent', message: 'customer.changed of ' + accountNumber + ' names no Shopify customer: "not-a-gid"' });
    const location = await store().deliver('shop', changed({ accountNumber, shopifyCompanyId: companyId, shopifyCompanyLocationId: 7 }), signal()).catch((e: unknown) => e);
    expect(location).toMatchObject({ failureClass: 'permanent', message: `customer.changed of ${accountNumber} names no Shopify company location: 7` });
    expect(sim.state.requests.length).toBe(requests);
  });

  it('surfaces a THROTTLED answer as throttled with the wait, and the change lands when retried after it', async () => {
    const { accountNumber, companyId, locationId } = storeCompany();
    Object.assign(sim.state.bucket, { available: 0, restoreRate: 100, at: Date.now() });
    const adapter = store();
    const delivery = changed({ accountNumber, shopifyCompanyId: companyId, shopifyCompanyLocationId: locationId });
    const failure = await adapter.deliver('shop', delivery, signal()).catch((e: unknown) => e);
    expect(failure).toMatchObject({ failureClass: 'throttled', details: { retryAfterMs: expect.any(Number) } });
    expect(sim.company(companyId)!.name).toBe('Old name');

    await new Promise((r) => setTimeout(r, (failure as TargetError).details.retryAfterMs));
    await adapter.deliver('shop', { ...delivery, attempt: 2 }, signal());
    expect(sim.company(companyId)!.name).toBe('Adatum Corporation');
  });
});

describe("reading a whole store's levels", () => {
  it('pages within one query\'s cost limit: 250 items at one location, fewer at more', () => {
    expect([1, 2, 3, 10].map((n) => levelsPageSize(n))).toEqual([250, 199, 142, 47]);
    expect(levelsPageSize(1, 4)).toBe(4);
    expect(levelsPageCost(2, levelsPageSize(2))).toBeLessThanOrEqual(1000);
    expect(levelsPageCost(1, 250)).toBe(752);
  });

  it('reads every item with its SKU and its available figure at each location (null where not stocked), page by page', async () => {
    const sim = createShopifySimulator({ accessToken: 'shpat_levels', variants: [
      { sku: 'L-1', available: { 'gid://shopify/Location/1': 5, 'gid://shopify/Location/2': 0 } },
      { sku: 'L-2', available: { 'gid://shopify/Location/2': 8 } },
      { sku: '' },
    ] });
    const base = await sim.listen();
    try {
      const client = new ShopifyAdminClient({ shopDomain: 'levels.myshopify.com', apiVersion: '2025-07', accessToken: 'shpat_levels', webhookSecret: 's', adminApiBaseUrl: `${base}/admin/api/2025-07` });
      const locations = ['gid://shopify/Location/1', 'gid://shopify/Location/2'];
      const first = await client.inventoryLevelsPage(locations, null, 2);
      expect(first.items.map((i) => [i.sku, i.available])).toEqual([['L-1', [5, 0]], ['L-2', [null, 8]]]);
      const second = await client.inventoryLevelsPage(locations, first.next, 2);
      expect(second).toEqual({ items: [{ inventoryItemId: expect.stringMatching(/^gid:\/\/shopify\/InventoryItem\//), sku: null, available: [0, 0] }], next: null });
      expect(sim.state.requests.map((r) => [r.name, r.requestedCost])).toEqual([['CrossdockInventoryLevels', levelsPageCost(2, 2)], ['CrossdockInventoryLevels', levelsPageCost(2, 2)]]);
      expect(await client.inventoryItemSku(first.items[1]!.inventoryItemId)).toBe('L-2');
      expect(await client.inventoryItemSku('gid://shopify/InventoryItem/1')).toBeNull();
    } finally {
      await sim.close();
    }
  });
});
