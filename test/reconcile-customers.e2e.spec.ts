import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signShopifyBody } from '../src/connectors/channels/shopify/shopify-webhooks.js';
import { createShopifySimulator } from '../src/simulators/shopify/shopify-simulator.js';
import { waitUntil } from './support/messaging.js';
import { ordersWorld, type OrdersWorld } from './support/orders.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// The customers' reconciliation with the ERP routed for them (Business Central): a field the ERP owns that no pull
// brought is applied, an update of ours the ERP missed is sent again, and the ERP's own change of a field it does not
// own is reported and left alone. And with a Shopify store: a merchant's edit of a customer that Crossdock writes
// there, made without a webhook, is written over by the record again.
let t: TestApp;
let w: OrdersWorld;
let portalKey: string;

beforeAll(async () => {
  // The ERP's customers are pulled only when the test asks; reconciliation runs only when asked.
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_CUSTOMER_SYNC_SECONDS: '86400', CROSSDOCK_RECONCILE_TICK_MS: '3600000', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '50' } });
  w = await ordersWorld(t);
  portalKey = (await t.request('POST', '/v1/admin/channels/portal/api-keys', { body: { scopes: ['customers:read', 'customers:write'] } })).body.key;
  // A portal's change made while no ERP was routed for customers: nothing was sent, the ERP never saw it.
  expect((await t.request('PUT', '/v1/customers/40000', { token: portalKey, body: { email: 'buyer@alpine.example' } })).status).toBe(200);
  expect((await t.request('PUT', '/v1/admin/routing/customers', { body: { mode: 'cloud', primary: 'bc' } })).status).toBeLessThan(300);
});
afterAll(async () => {
  await t?.close();
  await w?.close();
});

const bc = (number: string) => w.sim.state.customers.get(number)!;
const record = async (number: string) => (await t.request('GET', `/v1/customers/${number}`)).body;
const editInBc = async (number: string, fields: Record<string, unknown>) => {
  const answer = await fetch(`${w.simUrl}/_control/customers/${number}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fields) });
  expect(answer.status).toBe(200);
};
const lastErpWrite = async () => (await t.sql<{ last: string }>("select coalesce(max(id), 0)::text as last from outbox where type like 'erp.customer.%'"))[0]!.last;
const erpWritesSince = async (last: string) => (await t.sql("select key, payload from outbox where type like 'erp.customer.%' and id > $1", [last])).map((r) => [r.key, r.payload.fields]);
const settled = () => waitUntil('the writes to the ERP are delivered', async () => (await t.sql("select 1 from outbox where type like 'erp.customer.%' and status <> 'delivered'")).length === 0, 15_000);
const reconcile = async (target = 'erp:bc') => {
  const answer = await t.request('POST', `/v1/admin/reconcile/customers?target=${encodeURIComponent(target)}&wait=true`);
  expect(answer.status, answer.text).toBe(202);
  expect(answer.body.runs.map((r: { target: string }) => r.target)).toEqual([target]);
  expect(answer.body.runs[0].run).toMatchObject({ domain: 'customers', target, status: 'finished', pages: 1 });
  return answer.body.runs[0].run;
};
const findings = async (runId: string) =>
  (await t.request('GET', `/v1/ops/reconciliation/runs/${runId}`)).body.findings.map((f: any) => [f.key, f.class, f.repair, f.status, f.expected, f.actual]);
const waiting = async () => ((await t.request('GET', '/v1/ops/reconciliation?domain=customers')).body.waiting as any[]).map((f) => [f.key, f.class, f.target]);

describe('a run over the ERP routed for customers', () => {
  it('sends the ERP again the update it never got, in the account’s chain, and then finds nothing', async () => {
    expect(bc('40000').email).toBe('');
    const last = await lastErpWrite();
    const run = await reconcile();
    // The four accounts of Business Central are compared; only the email the ERP never got differs.
    expect(run).toMatchObject({ compared: 4, drifted: 1, repaired: 1, waiting: 0 });
    expect(await findings(run.id)).toEqual([['40000', 'target-differs', 'republish', 'repaired', { email: 'buyer@alpine.example' }, { email: null }]]);
    expect(await erpWritesSince(last)).toEqual([['customer:40000', { email: 'buyer@alpine.example' }]]);
    await waitUntil('Business Central has the email', () => bc('40000').email === 'buyer@alpine.example', 15_000);
    await settled();
    expect(await reconcile()).toMatchObject({ compared: 4, drifted: 0, repaired: 0 });
  });

  it("applies what an ERP user changed in a field the ERP owns, as the pull would, and the record's version follows", async () => {
    const before = await record('10000');
    expect(before.customer).toMatchObject({ name: 'Adatum Corporation', creditLimit: 100000 });
    const last = await lastErpWrite();
    // Changed by hand in Business Central; no pull has run since.
    await editInBc('10000', { displayName: 'Adatum Corporation Ltd', creditLimit: 250_000 });

    const run = await reconcile();
    expect(run).toMatchObject({ compared: 4, drifted: 1, repaired: 1, waiting: 0 });
    expect(await findings(run.id)).toEqual([
      ['10000', 'source-differs', 'recompute', 'repaired', { name: 'Adatum Corporation Ltd', creditLimit: 250000 }, { name: 'Adatum Corporation', creditLimit: 100000 }],
    ]);
    const after = await record('10000');
    expect(after.customer).toMatchObject({ name: 'Adatum Corporation Ltd', creditLimit: 250000 });
    expect(after.version).toBeGreaterThan(before.version);
    expect(after.provenance.creditLimit).toMatchObject({ system: 'erp', source: 'erp:bc' });
    // The intake's read model too, as the pull writes it.
    expect(await t.sql("select name, credit_limit::float8 as limit from customer_account where erp_backend_id = 'bc' and number = '10000'")).toEqual([{ name: 'Adatum Corporation Ltd', limit: 250000 }]);
    // The ERP's own change is not written back to it.
    expect(await erpWritesSince(last)).toEqual([]);
    expect(await reconcile()).toMatchObject({ compared: 4, drifted: 0, repaired: 0 });
  });

  it('reports a field the ERP does not own that an ERP user changed, leaves it alone, and keeps one open finding across a pull and a second run', async () => {
    const before = await record('20000');
    expect(before.customer.email).toBeNull();
    const last = await lastErpWrite();
    // The email is the channels'; someone types one into Business Central.
    await editInBc('20000', { email: 'ap@trey.example' });

    const first = await reconcile();
    expect(first).toMatchObject({ compared: 4, drifted: 1, repaired: 0, waiting: 1 });
    expect(await findings(first.id)).toEqual([['20000', 'changed-in-erp', 'report', 'waiting', { email: null }, { email: 'ap@trey.example' }]]);
    // A pull in between takes it no more than the run did; it is still the ERP's own change, not an update it missed.
    expect((await t.request('POST', '/v1/admin/erp-backends/bc/sync/customers')).status).toBe(200);
    const second = await reconcile();
    expect(second).toMatchObject({ compared: 4, drifted: 1, repaired: 0, waiting: 0 });
    expect(await waiting()).toEqual([['20000', 'changed-in-erp', 'erp:bc']]);

    expect(await record('20000')).toMatchObject({ version: before.version, customer: { email: null } });
    expect(await erpWritesSince(last)).toEqual([]);
    expect(bc('20000').email).toBe('ap@trey.example');
  });
});

describe("a run over a Shopify store's customers", () => {
  const SECRET = 'store-webhook-secret';
  const STORE_ID = 'gid://shopify/Customer/706405506930370084';
  const store = createShopifySimulator({ accessToken: 'shpat_test', latencyMs: [1, 3] });
  const storeSettled = () => waitUntil('the store has every version', async () =>
    (await t.sql("select 1 from state_outbox where destination = 'channel:store' union all select 1 from state_inflight where destination = 'channel:store'")).length === 0, 10_000);

  beforeAll(async () => {
    const url = await store.listen();
    const answer = await t.request('PUT', '/v1/admin/channels/store', {
      body: {
        kind: 'shopify', inventory: { warehouses: ['WH-EAST'], safetyStock: 0, allocationPercent: 100 }, oversell: 'reject',
        config: {
          shopDomain: 'store.myshopify.com', apiVersion: '2025-07', accessToken: 'shpat_test', webhookSecret: SECRET, adminApiBaseUrl: `${url}/admin/api/2025-07`,
          customerAccount: { source: 'customer-tag', tagPrefix: 'erp:' },
        },
      },
    });
    expect(answer.status, answer.text).toBeLessThan(300);
    // The store's buyer of School of Fine Art (30000) changes its contact: the account is known there from now on,
    // and the store is sent the record.
    const body = JSON.stringify({
      id: 706405506930370084, admin_graphql_api_id: STORE_ID, tags: 'erp:30000', email: 'office@fineart.example', phone: '+1 613 555 0142',
      first_name: 'Bob', last_name: 'Biller', updated_at: new Date().toISOString(),
      default_address: { address1: "151 O'Connor Street", city: 'Ottawa', province_code: 'ON', country_code: 'CA', zip: 'K2P 2L8' },
    });
    const webhook = await t.request('POST', '/v1/webhooks/shopify/store', {
      token: null, rawBody: body,
      headers: { 'x-shopify-topic': 'customers/update', 'x-shopify-hmac-sha256': signShopifyBody(SECRET, body), 'x-shopify-webhook-id': 'wh-reconcile-1', 'x-shopify-triggered-at': new Date().toISOString() },
    });
    expect(webhook.body).toMatchObject({ outcome: 'customer', accountNumber: '30000', applied: ['email', 'phone', 'shippingAddress'] });
    await waitUntil('the store has the record', () => store.customer(STORE_ID)?.lastName === 'Art', 10_000);
    await storeSettled();
  });
  afterAll(() => store.close());

  it("republishes the record over a merchant's edit of a field the channels do not own, the store having sent no webhook of it", async () => {
    // As the store was sent it: nothing differs.
    expect(await reconcile('channel:store')).toMatchObject({ compared: 1, drifted: 0 });
    const sent = store.customer(STORE_ID)!;
    expect(sent).toMatchObject({ firstName: 'School of Fine', lastName: 'Art', email: 'office@fineart.example', phone: '+16135550142' });
    // A merchant renames the buyer in the admin (the name is the ERP's); the webhook is lost.
    store.addCustomer({ ...sent, firstName: 'Bob', lastName: 'Biller' });
    const version = (await record('30000')).version;

    const run = await reconcile('channel:store');
    expect(run).toMatchObject({ compared: 1, drifted: 1, repaired: 1, waiting: 0 });
    expect(await findings(run.id)).toEqual([[
      '30000', 'channel-differs', 'republish', 'repaired',
      { 'customer.name': { firstName: 'School of Fine', lastName: 'Art' } },
      { 'customer.name': { firstName: 'Bob', lastName: 'Biller' } },
    ]]);
    await waitUntil('the store holds the record again', () => store.customer(STORE_ID)?.lastName === 'Art', 10_000);
    expect(store.customer(STORE_ID)).toMatchObject({ firstName: 'School of Fine', lastName: 'Art', addresses: [{ address1: "151 O'Connor Street", zip: 'K2P 2L8' }] });
    // The record itself did not change.
    expect((await record('30000')).version).toBe(version);
    await storeSettled();
    expect(await reconcile('channel:store')).toMatchObject({ compared: 1, drifted: 0, repaired: 0 });
  });

  it("reports a merchant's edit of a field the channels own, never overwrites it, and closes the finding once the store agrees again", async () => {
    const sent = store.customer(STORE_ID)!;
    // The merchant moves the buyer's address (the channels' to change) and renames it; the webhook is lost.
    store.addCustomer({ ...sent, lastName: 'Biller', addresses: [{ address1: '1 Elgin Street', city: 'Ottawa', zip: 'K2P 1L4', provinceCode: 'ON', countryCode: 'CA' }] });
    const version = (await record('30000')).version;

    const run = await reconcile('channel:store');
    expect(run).toMatchObject({ compared: 1, drifted: 1, repaired: 0, waiting: 1 });
    const [finding] = await findings(run.id);
    expect(finding!.slice(0, 4)).toEqual(['30000', 'changed-in-channel', 'report', 'waiting']);
    expect(finding![5]).toMatchObject({ 'customer.shippingAddress': { address1: '1 Elgin Street' }, 'customer.name': { lastName: 'Biller' } });
    // Left alone: nothing sent to the store, the record unchanged.
    await storeSettled();
    expect(store.customer(STORE_ID)).toMatchObject({ lastName: 'Biller', addresses: [{ address1: '1 Elgin Street' }] });
    expect((await record('30000')).version).toBe(version);
    // Found again: still one finding waiting for a person.
    expect(await reconcile('channel:store')).toMatchObject({ drifted: 1, repaired: 0 });
    expect((await waiting()).filter(([, cls]) => cls === 'changed-in-channel')).toEqual([['30000', 'changed-in-channel', 'channel:store']]);

    // A person puts the store back: the next run closes the finding.
    store.addCustomer(sent);
    expect(await reconcile('channel:store')).toMatchObject({ compared: 1, drifted: 0 });
    expect((await waiting()).filter(([, cls]) => cls === 'changed-in-channel')).toEqual([]);
  });
});
