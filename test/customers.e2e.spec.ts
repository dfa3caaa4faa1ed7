import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signShopifyBody } from '../src/connectors/channels/shopify/shopify-webhooks.js';
import { createShopifySimulator } from '../src/simulators/shopify/shopify-simulator.js';
import { FaultTarget, TARGET_SECRET } from './support/fault-target.js';
import { waitUntil } from './support/messaging.js';
import { ordersWorld, type OrdersWorld } from './support/orders.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// The canonical customer: pulled from the ERP, changed by a portal and a CRM under field ownership, checked for
// quality, and published to a subscriber.
let t: TestApp;
let w: OrdersWorld;
let crm: FaultTarget;
let portalKey: string;
let erpKey: string;

async function put(path: string, body: unknown): Promise<void> {
  const answer = await t.request('PUT', path, { body });
  if (answer.status >= 300) throw new Error(`${path}: ${answer.status} ${answer.text}`);
}
const change = (account: string, body: unknown, token = portalKey) => t.request('PUT', `/v1/customers/${account}`, { token, body });
const published = (account: string) => crm.effects.filter((e) => e.type === 'customer.changed' && e.data.accountNumber === account).map((e) => e.data);

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '50' } });
  crm = new FaultTarget();
  await crm.start();
  // A CRM that takes every customer's changes.
  await put('/v1/admin/channels/crm-hook', {
    kind: 'webhook', config: { url: crm.url, secret: TARGET_SECRET, subscribe: ['customer.changed'] },
    inventory: { warehouses: ['WH-EAST'], safetyStock: 0, allocationPercent: 100 }, oversell: 'reject',
  });
  // The ERP's customers are pulled as the world is set up.
  w = await ordersWorld(t);
  portalKey = (await t.request('POST', '/v1/admin/channels/portal/api-keys', { body: { scopes: ['customers:read', 'customers:write'] } })).body.key;
  await put('/v1/admin/sources/erp-side', { name: 'ERP-side system', kind: 'erp' });
  erpKey = (await t.request('POST', '/v1/admin/sources/erp-side/api-keys', { body: { scopes: ['customers:write'] } })).body.key;
});
afterAll(async () => {
  await t?.close();
  await w?.close();
  await crm?.stop();
});

describe('the canonical customer', () => {
  it("is filled from the ERP pull, with who changed each field and the ERP's id", async () => {
    const answer = await t.request('GET', '/v1/customers/10000', { token: portalKey });
    expect(answer.status).toBe(200);
    expect(answer.body.customer).toMatchObject({ name: 'Adatum Corporation', creditLimit: 100000, balanceDue: 1200, blocked: '' });
    expect(answer.body.provenance.creditLimit).toMatchObject({ system: 'erp', source: 'erp:bc' });
    expect(Object.keys(answer.body.systemIds)).toEqual(['erp:bc']);
    expect((await t.request('GET', '/v1/customers/99999', { token: portalKey })).status).toBe(404);
  });

  it("takes a channel's change of the fields it owns, normalised, and publishes only what changed", async () => {
    const before = (await t.request('GET', '/v1/customers/20000')).body.version;
    const answer = await change('20000', { email: 'Buyer@Trey.EXAMPLE', phone: '(425) 555-0100', shippingAddress: { line1: '1 Main St', city: 'Redmond', country: 'us' } });
    expect(answer.status).toBe(200);
    expect(answer.body.customer).toMatchObject({ email: 'Buyer@trey.example', phone: '+14255550100', shippingAddress: { country: 'US' } });
    expect(answer.body.version).toBeGreaterThan(before);
    await waitUntil('the CRM hears the change', () => published('20000').some((d) => d.version === answer.body.version), 10_000);
    expect(published('20000').at(-1)).toMatchObject({ changed: ['email', 'phone', 'shippingAddress'], customer: { phone: '+14255550100' } });
    // The same change again changes nothing and publishes nothing.
    const again = await change('20000', { email: 'Buyer@trey.example' });
    expect(again.body).toMatchObject({ version: answer.body.version, applied: [], unchanged: ['email'] });
  });

  it('refuses a field the caller does not own, naming it, and changes nothing', async () => {
    const before = (await t.request('GET', '/v1/customers/20000')).body;
    const answer = await change('20000', { creditLimit: 1_000_000, email: 'other@trey.example' });
    expect(answer.status).toBe(409);
    expect(answer.body.fields).toEqual(['creditLimit']);
    expect(answer.body.detail).toContain('creditLimit is owned by erp');
    expect((await t.request('GET', '/v1/customers/20000')).body).toMatchObject({ version: before.version, customer: before.customer });
  });

  it('refuses a record that breaks a quality rule, with the rule', async () => {
    const email = await change('40000', { email: 'not an email' });
    expect(email.status).toBe(400);
    expect(email.body.errors).toEqual([expect.objectContaining({ field: 'email', message: expect.stringMatching(/^email: /) })]);
    const phone = await change('40000', { phone: '+1 555' });
    expect(phone.body.errors).toEqual([expect.objectContaining({ field: 'phone', message: expect.stringMatching(/^phone: /) })]);
    const country = await change('40000', { shippingAddress: { line1: 'x', city: 'y', country: 'ZZ' } });
    expect(country.body.errors).toEqual([expect.objectContaining({ field: 'shippingAddress', message: expect.stringMatching(/^country: /) })]);
  });

  it('flags another account with the same email, without refusing it', async () => {
    const answer = await change('40000', { email: 'buyer@trey.example' });
    expect(answer.status).toBe(200);
    expect(answer.body.duplicates).toEqual([{ field: 'email', accountNumber: '20000' }]);
  });
});

describe('conflicts', () => {
  /** The ERP side has seen email `seen`, then a channel changed it: the ERP now sends its own change. */
  async function bothChanged(account: string, seen: string, channelValue: string) {
    await put('/v1/admin/customer-ownership', { fields: { email: 'erp' } });
    expect((await change(account, { email: seen }, erpKey)).status).toBe(200);
    await put('/v1/admin/customer-ownership', { fields: { email: 'channel' } });
    expect((await change(account, { email: channelValue })).status).toBe(200);
  }

  it("recognises the ERP sending back what it last saw as an echo, not a change", async () => {
    await bothChanged('10000', 'a@adatum.example', 'b@adatum.example');
    const echo = await change('10000', { email: 'a@adatum.example' }, erpKey);
    expect(echo.status).toBe(200);
    expect(echo.body).toMatchObject({ echoes: ['email'], applied: [], customer: { email: 'b@adatum.example' } });
  });

  it("owner-wins: keeps the owner's value and records the conflict with both values", async () => {
    const answer = await change('10000', { email: 'c@adatum.example' }, erpKey);
    expect(answer.status).toBe(200);
    expect(answer.body.customer.email).toBe('b@adatum.example');
    expect(answer.body.conflicts).toEqual([{ field: 'email', owner: 'channel', current: 'b@adatum.example', incoming: 'c@adatum.example', resolution: 'owner-wins' }]);
    const all = (await t.request('GET', '/v1/ops/customer-conflicts?status=all&accountNumber=10000')).body.items;
    expect(all[0]).toMatchObject({ field: 'email', status: 'resolved', resolution: 'owner-wins', current: 'b@adatum.example', incoming: 'c@adatum.example' });
  });

  it('manual: holds the field for an operator, who resolves it by choosing a side (audited)', async () => {
    await put('/v1/admin/customer-ownership', { fields: { email: 'channel' }, onConflict: 'manual' });
    try {
      await bothChanged('40000', 'd@alpine.example', 'e@alpine.example');
      const held = await change('40000', { email: 'f@alpine.example' }, erpKey);
      expect(held.body.conflicts).toEqual([expect.objectContaining({ field: 'email', resolution: 'held' })]);
      // While held, even the owner's change waits.
      expect((await change('40000', { email: 'g@alpine.example' })).body).toMatchObject({ held: ['email'], customer: { email: 'e@alpine.example' } });
      const [open] = (await t.request('GET', '/v1/ops/customer-conflicts?accountNumber=40000')).body.items;
      expect(open).toMatchObject({ field: 'email', status: 'open', current: 'e@alpine.example', incoming: 'f@alpine.example' });
      const resolved = await t.request('POST', `/v1/ops/customer-conflicts/${open.id}/resolve`, { body: { choose: 'incoming', reason: 'the ERP has the right contact' } });
      expect(resolved.status).toBe(200);
      expect((await t.request('GET', '/v1/customers/40000')).body.customer.email).toBe('f@alpine.example');
      expect((await t.request('POST', `/v1/ops/customer-conflicts/${open.id}/resolve`, { body: { choose: 'current', reason: 'again' } })).status).toBe(409);
      const audit = (await t.request('GET', '/v1/admin/audit?resourceType=customer-conflict')).body;
      expect(JSON.stringify(audit)).toContain('the ERP has the right contact');
    } finally {
      await put('/v1/admin/customer-ownership', { fields: {}, onConflict: 'owner-wins' });
    }
  });
});

describe('to the ERP', () => {
  const bcCustomer = (number: string) => w.sim.state.customers.get(number)!;
  const control = (path: string, body: unknown) => fetch(`${w.simUrl}/_control/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it("writes a channel's change to Business Central, over a concurrent edit there, and takes the ERP's echo as one", async () => {
    await put('/v1/admin/routing/customers', { mode: 'cloud', primary: 'bc' });
    // Someone edits the customer in Business Central just before our write: the etag we read is stale.
    await control('customers/20000/edit-before-next-patch', { fields: { website: 'https://trey.example' } });
    const answer = await change('20000', { email: 'orders@trey.example', phone: '+1 425 555 0199' });
    expect(answer.status).toBe(200);
    await waitUntil('Business Central has the new email and phone', () => bcCustomer('20000').email === 'orders@trey.example' && bcCustomer('20000').phoneNumber === '+14255550199', 15_000);
    // The other user's change stays.
    expect(bcCustomer('20000')).toMatchObject({ website: 'https://trey.example' });
    const delivered = await t.sql("select status, attempts from outbox where type = 'erp.customer.update' and key = 'customer:20000' order by id desc limit 1");
    expect(delivered).toEqual([{ status: 'delivered', attempts: expect.any(Number) }]);
    // The next pull reads the ERP's customers again: nothing of it is a change of the record.
    const version = (await t.request('GET', '/v1/customers/20000')).body.version;
    expect((await t.request('POST', '/v1/admin/erp-backends/bc/sync/customers')).status).toBe(200);
    expect((await t.request('GET', '/v1/customers/20000')).body.version).toBe(version);
  });

  it("writes an operator's resolution of a conflict with the ERP to the ERP", async () => {
    await put('/v1/admin/customer-ownership', { fields: { phone: 'channel' }, onConflict: 'manual' });
    try {
      // The ERP side last saw one phone; the portal changed it; the ERP now sends a third.
      await put('/v1/admin/customer-ownership', { fields: { phone: 'erp' } });
      expect((await change('20000', { phone: '+1 425 555 0101' }, erpKey)).status).toBe(200);
      await put('/v1/admin/customer-ownership', { fields: { phone: 'channel' } });
      expect((await change('20000', { phone: '+1 425 555 0102' })).status).toBe(200);
      expect((await change('20000', { phone: '+1 425 555 0103' }, erpKey)).body.conflicts).toEqual([expect.objectContaining({ field: 'phone', resolution: 'held' })]);
      const [open] = (await t.request('GET', '/v1/ops/customer-conflicts?accountNumber=20000')).body.items;
      expect((await t.request('POST', `/v1/ops/customer-conflicts/${open.id}/resolve`, { body: { choose: 'value', value: 12, reason: 'typo' } })).status).toBe(400);
      expect((await t.request('POST', `/v1/ops/customer-conflicts/${open.id}/resolve`, { body: { choose: 'value', value: '+1 425 555 0104', reason: 'called the buyer' } })).status).toBe(200);
      await waitUntil('Business Central has the phone the operator chose', () => bcCustomer('20000').phoneNumber === '+14255550104', 15_000);
    } finally {
      await put('/v1/admin/customer-ownership', { fields: { phone: 'channel' }, onConflict: 'owner-wins' });
    }
  });

  it('sends the ERP nothing of what the ERP itself changed', async () => {
    // First the pull settles what the earlier tests left apart (the email an ERP-side key sent is not the one
    // Business Central holds: the owner's value is written there), so that only the ERP's own change is new.
    expect((await t.request('POST', '/v1/admin/erp-backends/bc/sync/customers')).status).toBe(200);
    await waitUntil('the updates are delivered', async () => (await t.sql("select 1 from outbox where type like 'erp.customer.%' and status <> 'delivered'")).length === 0, 15_000);
    const [{ last }] = await t.sql("select coalesce(max(id), 0)::text as last from outbox where type like 'erp.customer.%'");
    await fetch(`${w.simUrl}/_control/customers/10000`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ creditLimit: 123_456 }) });
    expect((await t.request('POST', '/v1/admin/erp-backends/bc/sync/customers')).status).toBe(200);
    expect((await t.request('GET', '/v1/customers/10000')).body.customer.creditLimit).toBe(123456);
    const sent = await t.sql("select payload from outbox where type like 'erp.customer.%' and id > $1", [last]);
    expect(sent.map((r) => r.payload)).toEqual([]);
  });
});

describe("a store's customers webhooks", () => {
  const SECRET = 'store-webhook-secret';
  // Without its updated_at, a delivery is ordered by its X-Shopify-Triggered-At: a clock a second on at each.
  const fixture = { ...JSON.parse(readFileSync(new URL('./fixtures/shopify/webhook_customers_update.json', import.meta.url), 'utf8')), updated_at: undefined };
  let clock = Date.now();
  const tick = () => new Date((clock = Math.max(clock, Date.now()) + 1000)).toISOString();
  const deliver = (topic: string, body: unknown) => {
    const raw = JSON.stringify(body);
    return t.request('POST', '/v1/webhooks/shopify/store', {
      token: null, rawBody: raw,
      headers: { 'x-shopify-topic': topic, 'x-shopify-hmac-sha256': signShopifyBody(SECRET, raw), 'x-shopify-webhook-id': `wh-${Math.random()}`, 'x-shopify-triggered-at': tick() },
    });
  };

  const store = createShopifySimulator({ accessToken: 'shpat_test', latencyMs: [1, 3] });
  beforeAll(async () => {
    const url = await store.listen();
    await put('/v1/admin/channels/store', {
      kind: 'shopify', inventory: { warehouses: ['WH-EAST'], safetyStock: 0, allocationPercent: 100 }, oversell: 'reject',
      config: {
        shopDomain: 'store.myshopify.com', apiVersion: '2025-07', accessToken: 'shpat_test', webhookSecret: SECRET, adminApiBaseUrl: `${url}/admin/api/2025-07`,
        customerAccount: { source: 'customer-tag', tagPrefix: 'erp:', fallback: '40000' },
      },
    });
  });
  afterAll(() => store.close());

  it("takes a B2B customer's contact details from the store, its id too, and leaves alone what the store does not own", async () => {
    const body = { ...fixture, tags: 'wholesale, erp:10000', email: 'Bob@Biller.com', phone: '+1 613 555 0142', first_name: 'Not', last_name: 'Adatum' };
    const answer = await deliver('customers/update', body);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ outcome: 'customer', accountNumber: '10000', applied: ['email', 'phone', 'shippingAddress'] });
    const customer = (await t.request('GET', '/v1/customers/10000')).body;
    expect(customer.customer).toMatchObject({ email: 'Bob@biller.com', phone: '+16135550142', shippingAddress: { line1: "151 O'Connor Street", city: 'Ottawa', country: 'CA' }, name: 'Adatum Corporation' });
    expect(customer.systemIds['shopify:store']).toBe('gid://shopify/Customer/706405506930370084');
    expect(customer.provenance.email).toMatchObject({ system: 'channel', source: 'shopify:store' });
  });

  it("writes another side's change to the store that knows the customer, and the store's own back as the newest version", async () => {
    const storeId = 'gid://shopify/Customer/706405506930370084';
    const mutations = () => store.state.customerMutations.length;
    const before = mutations();
    // The portal (another channel) changes the email: the store hears it.
    expect((await change('10000', { email: 'ap@adatum.example' })).status).toBe(200);
    await waitUntil('the store has the new email', () => store.customer(storeId)?.email === 'ap@adatum.example', 10_000);
    expect(store.customer(storeId)).toMatchObject({ firstName: 'Adatum', lastName: 'Corporation' });
    // The ERP changes the name: the store hears it too.
    await fetch(`${w.simUrl}/_control/customers/10000`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ displayName: 'Adatum Corp.' }) });
    expect((await t.request('POST', '/v1/admin/erp-backends/bc/sync/customers')).status).toBe(200);
    await waitUntil('the store has the new name', () => store.customer(storeId)?.lastName === 'Corp.', 10_000);
    // The store's own change comes back to it as the newest version, so that an older one queued for it cannot
    // land after it (a store that holds it already is written nothing new).
    const sent = mutations();
    expect(sent).toBeGreaterThan(before);
    expect((await deliver('customers/update', { ...fixture, tags: 'erp:10000', email: 'shop@adatum.example', phone: '+1 613 555 0142' })).body).toMatchObject({ applied: ['email'] });
    await waitUntil('the newest version at the store', () => store.customer(storeId)?.email === 'shop@adatum.example', 10_000);
  });

  it("takes a late echo of an older version it was sent, after a later change from elsewhere, as stale", async () => {
    const storeId = 'gid://shopify/Customer/706405506930370084';
    expect((await change('10000', { email: 'first@adatum.example' })).status).toBe(200);
    await waitUntil('the store has the first email', () => store.customer(storeId)?.email === 'first@adatum.example', 10_000);
    // The store's webhook of that write, sent as the store made it, is late: another channel changes the email first.
    const echoOfFirst = { ...fixture, tags: 'erp:10000', email: 'first@adatum.example', phone: '+1 613 555 0142', updated_at: new Date().toISOString() };
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await change('10000', { email: 'second@adatum.example' })).status).toBe(200);
    await waitUntil('the store has the second email', () => store.customer(storeId)?.email === 'second@adatum.example', 10_000);
    await waitUntil('the write is settled', async () => (await t.sql("select 1 from state_outbox where destination = 'channel:store' and key = 'customer:10000' union all select 1 from state_inflight where destination = 'channel:store' and key = 'customer:10000'")).length === 0, 10_000);
    expect((await deliver('customers/update', echoOfFirst)).body).toEqual({ outcome: 'stale', accountNumber: '10000' });
    expect((await t.request('GET', '/v1/customers/10000')).body.customer.email).toBe('second@adatum.example');
    // A merchant's edit made after our write is the store's change.
    expect((await deliver('customers/update', { ...echoOfFirst, email: 'shop@adatum.example', updated_at: tick() })).body).toMatchObject({ outcome: 'customer', applied: ['email'] });
  });

  it("takes only what the store holds, and one of the store's customers per account", async () => {
    // No phone, no address at the store: the record keeps its own.
    expect((await deliver('customers/update', { ...fixture, tags: 'erp:10000', email: 'shop@adatum.example', phone: null, default_address: null })).body).toMatchObject({ applied: [] });
    expect((await t.request('GET', '/v1/customers/10000')).body.customer).toMatchObject({ phone: '+16135550142', shippingAddress: { city: 'Ottawa' } });
    // Another buyer of the same company, tagged with its account: the first one recorded speaks for it.
    const other = await deliver('customers/update', { ...fixture, id: 1, admin_graphql_api_id: 'gid://shopify/Customer/1', tags: 'erp:10000', email: 'other@adatum.example' });
    expect(other.body).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('gid://shopify/Customer/706405506930370084') });
    expect((await t.request('GET', '/v1/customers/10000')).body.customer.email).toBe('shop@adatum.example');
  });

  it('keeps a web shopper (no account of its own) out of the customers, and refuses a record that breaks a rule', async () => {
    expect((await deliver('customers/create', { ...fixture, tags: '' })).body).toMatchObject({ outcome: 'ignored' });
    const bad = await deliver('customers/update', { ...fixture, tags: 'erp:10000', email: 'not an email' });
    expect(bad.body).toMatchObject({ outcome: 'refused', accountNumber: '10000', errors: [expect.objectContaining({ field: 'email', rule: 'email' })] });
    expect((await t.request('GET', '/v1/customers/10000')).body.customer.email).toBe('shop@adatum.example');
  });

  it("orders a store's webhooks by the customer's updated_at: an older one after a newer is stale, a duplicate changes nothing", async () => {
    const earlier = { ...fixture, tags: 'erp:10000', email: 'older@adatum.example', updated_at: tick() };
    const later = { ...fixture, tags: 'erp:10000', email: 'newest@adatum.example', updated_at: tick() };
    expect((await deliver('customers/update', later)).body).toMatchObject({ outcome: 'customer', applied: ['email'] });
    const version = (await t.request('GET', '/v1/customers/10000')).body.version;
    expect((await deliver('customers/update', earlier)).body).toEqual({ outcome: 'stale', accountNumber: '10000' });
    expect((await deliver('customers/update', later)).body).toMatchObject({ outcome: 'customer', applied: [] });
    expect((await t.request('GET', '/v1/customers/10000')).body).toMatchObject({ version, customer: { email: 'newest@adatum.example' } });
    await deliver('customers/update', { ...later, email: 'shop@adatum.example', updated_at: tick() });
  });

  it('holds a record that breaks a rule as an exception that never reaches the ERP, until it is corrected and retried', async () => {
    const erpEmail = async () => ((await (await fetch(`${w.simUrl}/_control/customers/10000`)).json()) as { email: string }).email;
    // What the earlier tests sent the ERP has arrived: from here on, nothing is to reach it until the fix.
    const recordEmail = (await t.request('GET', '/v1/customers/10000')).body.customer.email;
    await waitUntil('the ERP holds the record\'s email', async () => (await erpEmail()) === recordEmail, 10_000);
    const erpBefore = await erpEmail();
    const bad = await deliver('customers/update', { ...fixture, tags: 'erp:10000', email: 'still not an email', phone: '+1 613 555 0199' });
    expect(bad.body).toMatchObject({ outcome: 'refused', exceptionId: expect.any(String) });
    // A second bad change from the same store replaces the held one: one open exception per account and source.
    const again = await deliver('customers/update', { ...fixture, tags: 'erp:10000', email: 'nope@', phone: '+1 613 555 0199' });
    expect(again.body.exceptionId).toBe(bad.body.exceptionId);
    const [held] = (await t.request('GET', '/v1/ops/exceptions?domain=customer')).body.exceptions.filter((e: any) => e.accountNumber === '10000');
    expect(held).toMatchObject({ id: bad.body.exceptionId, domain: 'customer', source: 'shopify:store', subject: '10000', system: 'channel', route: 'webhook', payload: { email: 'nope@' } });
    expect(held.reason).toContain('email');
    expect(held.violations).toEqual([expect.objectContaining({ field: 'email', rule: 'email' })]);
    // As it is, it breaks the rule again: still held, the attempt counted.
    expect((await t.request('POST', `/v1/ops/exceptions/${held.id}/retry`)).body).toMatchObject({ domain: 'customer', closed: false, reason: expect.stringContaining('email') });
    // A correction that is not a customer's fields is refused and changes nothing.
    expect((await t.request('POST', `/v1/ops/exceptions/${held.id}/retry`, { body: { payload: { mood: 'happy' } } })).status).toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await erpEmail()).toBe(erpBefore);
    const fixed = await t.request('POST', `/v1/ops/exceptions/${held.id}/retry`, { body: { payload: { ...held.payload, email: 'buyer@adatum.example' } } });
    expect(fixed.body).toMatchObject({ domain: 'customer', closed: true, applied: expect.arrayContaining(['email', 'phone']) });
    expect((await t.request('GET', '/v1/customers/10000')).body.customer).toMatchObject({ email: 'buyer@adatum.example', phone: '+16135550199' });
    await waitUntil('the ERP has the corrected email', async () => (await erpEmail()) === 'buyer@adatum.example', 10_000);
    expect((await t.request('GET', '/v1/ops/exceptions?domain=customer')).body.exceptions.filter((e: any) => e.accountNumber === '10000')).toEqual([]);
    expect((await t.sql(`select action from audit_entry where resource_type = 'exception' and resource_id = $1 order by id`, [held.id])).map((r) => r.action)).toEqual(['retry', 'retry']);
  });

  it('dismisses a held record; a later good change from the same store closes what it held', async () => {
    const first = await deliver('customers/update', { ...fixture, tags: 'erp:10000', email: 'bad@@adatum', phone: '+1 613 555 0199' });
    const dismissed = await t.request('POST', `/v1/ops/exceptions/${first.body.exceptionId}/dismiss`);
    expect(dismissed.body).toMatchObject({ domain: 'customer', resolution: 'dismissed' });
    const second = await deliver('customers/update', { ...fixture, tags: 'erp:10000', email: 'bad@@adatum', phone: '+1 613 555 0199' });
    expect(second.body.exceptionId).not.toBe(first.body.exceptionId);
    expect((await deliver('customers/update', { ...fixture, tags: 'erp:10000', email: 'buyer2@adatum.example', phone: '+1 613 555 0199' })).body).toMatchObject({ outcome: 'customer', applied: expect.arrayContaining(['email']) });
    expect((await t.sql('select resolution from customer_exception where id = $1', [second.body.exceptionId]))[0].resolution).toBe('applied');
  });
});

describe("a store's B2B companies", () => {
  const SECRET = 'company-webhook-secret';
  const COMPANY = 'gid://shopify/Company/9100';
  const LOCATION = 'gid://shopify/CompanyLocation/9101';
  const store = createShopifySimulator({ accessToken: 'shpat_test', latencyMs: [1, 3], companies: [] });
  let storeUrl: string;
  beforeAll(async () => {
    storeUrl = await store.listen();
    await put('/v1/admin/channels/b2b-store', {
      kind: 'shopify', inventory: { warehouses: ['WH-EAST'], safetyStock: 0, allocationPercent: 100 }, oversell: 'reject',
      config: { shopDomain: 'b2b.myshopify.com', apiVersion: '2025-07', accessToken: 'shpat_test', webhookSecret: SECRET, adminApiBaseUrl: `${storeUrl}/admin/api/2025-07` },
    });
    // Trey Research (20000) as the store's company, its external id the account number.
    const seeded = await fetch(`${storeUrl}/_control/companies`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: COMPANY, name: 'Trey Research', externalId: '20000', locations: [{ id: LOCATION, name: 'Chicago', phone: '+13125550100' }] }),
    });
    expect(seeded.status).toBe(201);
    await fetch(`${storeUrl}/_control/webhooks/subscription`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: `${t.baseUrl}/v1/webhooks/shopify/b2b-store`, secret: SECRET }) });
  });
  afterAll(() => store.close());

  const received = async (topic: string) => ((await (await fetch(`${storeUrl}/_control/webhooks/sent`)).json()) as Array<{ topic: string; deliveries: Array<{ status: number; body?: string }> }>)
    .filter((w) => w.topic === topic).flatMap((w) => w.deliveries.map((d) => d.body && JSON.parse(d.body)));

  it("takes a merchant's edit of a location (what the store owns) and knows the account by its company and location", async () => {
    const edit = await fetch(`${storeUrl}/_control/company-locations/9101`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone: '+1 312 555 0111', shippingAddress: { address1: '1 Dock Road', city: 'Chicago', zoneCode: 'IL', countryCode: 'US', zip: '60601' }, taxRegistrationId: 'NOT-OURS' }),
    });
    expect(edit.status).toBe(200);
    const [answer] = await received('company_locations/update');
    // The tax id is the ERP's: left out, with a trace; the phone and shipping address are the store's.
    expect(answer).toMatchObject({ outcome: 'customer', accountNumber: '20000', applied: ['phone', 'shippingAddress'], refused: ['taxId'] });
    const customer = (await t.request('GET', '/v1/customers/20000')).body;
    expect(customer.customer).toMatchObject({ phone: '+13125550111', shippingAddress: { line1: '1 Dock Road', city: 'Chicago', region: 'IL', country: 'US' }, taxId: null });
    expect(customer.systemIds).toMatchObject({ 'shopify-company:b2b-store': COMPANY, 'shopify-location:b2b-store': LOCATION });
    expect(customer.provenance.phone).toMatchObject({ system: 'channel', source: 'shopify:b2b-store/location' });
  });

  it("writes another side's change to the company and its location, and takes the store's echo of it as no change", async () => {
    await fetch(`${w.simUrl}/_control/customers/20000`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ displayName: 'Trey Research Inc.' }) });
    expect((await t.request('POST', '/v1/admin/erp-backends/bc/sync/customers')).status).toBe(200);
    await waitUntil('the store has the new name', async () => ((await (await fetch(`${storeUrl}/_control/companies/9100`)).json()) as { name: string }).name === 'Trey Research Inc.', 10_000);
    const location = (await (await fetch(`${storeUrl}/_control/company-locations/9101`)).json()) as { phone: string; shippingAddress: { address1: string } | null };
    expect(location).toMatchObject({ phone: '+13125550111', shippingAddress: { address1: '1 Dock Road' } });
    // The store's webhooks of our own writes come back: nothing in them is new.
    await waitUntil('the echo of the rename', async () => (await received('companies/update')).length > 0, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Older than our write to the store (stale), or what the record holds: nothing in them is taken.
    const echoes = [(await received('companies/update')).at(-1), (await received('company_locations/update')).at(-1)];
    expect(echoes.every((a) => a.outcome === 'stale' || (a.outcome === 'customer' && a.applied.length === 0))).toBe(true);
    const version = (await t.request('GET', '/v1/customers/20000')).body.version;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await t.request('GET', '/v1/customers/20000')).body.version).toBe(version);
  });
});

