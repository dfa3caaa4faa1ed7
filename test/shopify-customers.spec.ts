import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ShopifyConfig } from '../src/connectors/channels/shopify/shopify.config.js';
import { ShopifyDelivery } from '../src/connectors/channels/shopify/shopify.delivery.js';
import { TargetError } from '../src/platform/delivery/outcome.js';
import type { Delivery } from '../src/platform/outbox/message.js';
import { createShopifySimulator, type SimCustomer, type ShopifySimulator } from '../src/simulators/shopify/shopify-simulator.js';

const TOKEN = 'shpat_customers';
const SEEDED = 'gid://shopify/Customer/706405506930370084';

let sim: ShopifySimulator;
let base: string;

beforeAll(async () => {
  sim = createShopifySimulator({ accessToken: TOKEN, latencyMs: [1, 4] });
  base = await sim.listen();
});
afterAll(() => sim.close());
beforeEach(() => control('/_control/bucket', { maximumAvailable: 2000, restoreRate: 100, currentlyAvailable: 2000 }));

/** A fresh adapter: its own cost pacer, which knows nothing of the bucket the simulator was just given. */
const store = () =>
  new ShopifyDelivery({ shopDomain: 'customers.myshopify.com', apiVersion: '2025-07', accessToken: TOKEN, webhookSecret: 'secret', adminApiBaseUrl: `${base}/admin/api/2025-07` } satisfies ShopifyConfig, { sharedPacer: false });
const signal = () => AbortSignal.timeout(30_000);

async function control(path: string, body: unknown): Promise<any> {
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBeLessThan(300);
  return response.json();
}

let sequence = 0;
/** A customer.changed delivery as the customers module publishes it to a store that knows the customer. */
function changed(shopifyCustomerId: string, customer: Record<string, unknown> = {}): Delivery {
  const n = ++sequence;
  const payload = {
    accountNumber: `C${n}`,
    changed: ['name', 'phone', 'shippingAddress'],
    customer: {
      name: 'Mary Ann Evans', email: `mary.${n}@example.com`, phone: '+442079460000',
      billingAddress: { line1: '1 Invoice Row', city: 'Coventry', country: 'GB' },
      shippingAddress: { line1: '99 Priory Place', line2: 'Floor 2', city: 'Coventry', postalCode: 'CV1 5FB', region: 'WAR', country: 'GB' },
      taxId: null, blocked: '', creditLimit: 0, balanceDue: 0, priceList: null, paymentTerms: null,
      ...customer,
    },
    version: n,
    shopifyCustomerId,
  };
  return {
    deliveryId: `customer-${n}`, messageId: `m-${n}`, type: 'customer.changed', kind: 'state', key: `customer:${payload.accountNumber}`, destination: 'channel:shop',
    payload, version: n, correlationId: `c-${n}`, causationId: null, attempt: 1, previousValue: null, createdAt: new Date(),
  };
}

describe('customer.changed to a Shopify store', () => {
  it('sets the fields on the store customer: the name split, the shipping address mapped, the E.164 phone', async () => {
    const delivery = changed(SEEDED, { phone: '+442079460001' });
    const result = await store().deliver('shop', delivery, signal());

    expect(result).toEqual({ accountNumber: delivery.payload.accountNumber, customerId: SEEDED, fieldsSet: ['email', 'phone', 'firstName', 'lastName', 'addresses'] });
    expect(sim.customer(SEEDED)).toMatchObject({
      firstName: 'Mary Ann', lastName: 'Evans', email: (delivery.payload.customer as { email: string }).email, phone: '+442079460001',
      addresses: [{ address1: '99 Priory Place', address2: 'Floor 2', city: 'Coventry', zip: 'CV1 5FB', provinceCode: 'WAR', countryCode: 'GB' }],
    } satisfies Partial<SimCustomer>);
    expect(sim.state.customerMutations.at(-1)).toMatchObject({ identifier: { id: SEEDED }, applied: true, changed: true });
  });

  it('changes nothing when the same change comes again', async () => {
    const { id } = sim.addCustomer({ firstName: 'Old', lastName: 'Name', email: 'old@example.com' });
    const delivery = changed(id, { name: 'Acme', phone: '+442079460002', shippingAddress: null });
    const adapter = store();
    await adapter.deliver('shop', delivery, signal());
    const first = sim.customer(id)!;
    expect(first).toMatchObject({ firstName: null, lastName: 'Acme', addresses: [{ address1: '1 Invoice Row', city: 'Coventry', countryCode: 'GB' }] });

    await adapter.deliver('shop', { ...delivery, attempt: 2 }, signal());
    expect(sim.customer(id)).toEqual(first);
    expect(sim.state.customerMutations.at(-1)).toMatchObject({ customerId: id, applied: true, changed: false });
  });

  it("leaves a null email and phone as the store has them", async () => {
    const added = await control('/_control/customers', { firstName: 'Kept', lastName: 'Contact', email: 'kept@example.com', phone: '+15145550100' });
    await store().deliver('shop', changed(added.id, { email: null, phone: null }), signal());
    expect(sim.customer(added.id)).toMatchObject({ email: 'kept@example.com', phone: '+15145550100', lastName: 'Evans' });
    expect(sim.state.customerMutations.at(-1)!.input).not.toHaveProperty('email');
  });

  it('refuses a customer the store does not have as permanent, naming it', async () => {
    const missing = 'gid://shopify/Customer/1';
    const failure = await store().deliver('shop', changed(missing), signal()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TargetError);
    expect(failure).toMatchObject({ failureClass: 'permanent', message: `Shopify has no customer ${missing}: NOT_FOUND: Resource matching the identifier was not found. (identifier.id)` });
    expect(sim.customer(missing)).toBeUndefined();
  });

  it("refuses what Shopify refuses as permanent, with its message and field", async () => {
    const { id } = sim.addCustomer({ email: 'taken@example.com' });
    const failure = await store().deliver('shop', changed(SEEDED, { email: 'taken@example.com' }), signal()).catch((e: unknown) => e);
    expect(failure).toMatchObject({ failureClass: 'permanent', message: `Shopify refused customerSet of ${SEEDED}: TAKEN: Email has already been taken (input.email)` });
    expect(sim.customer(id)!.email).toBe('taken@example.com');
  });

  it('refuses a malformed change before calling the store', async () => {
    const requests = sim.state.requests.length;
    const failure = await store().deliver('shop', changed(SEEDED, { phone: '020 7946 0000' }), signal()).catch((e: unknown) => e);
    expect(failure).toMatchObject({ failureClass: 'permanent', message: expect.stringContaining('phone is not an E.164 number') });
    expect(sim.state.requests.length).toBe(requests);
  });

  it('shows the customers on the control state', async () => {
    const state = (await (await fetch(`${base}/_control/state`)).json()) as { customers: SimCustomer[] };
    expect(state.customers.map((c) => c.id)).toContain(SEEDED);
  });
});

describe('query cost', () => {
  it('paces the calls to the bucket, so that none is throttled, and every customer lands', async () => {
    const customers = await control('/_control/customers', Array.from({ length: 6 }, (_, i) => ({ email: `paced.${i}@example.com` })));
    // 6 calls of 10 points, at once, in a bucket of 20 that restores 100 a second.
    await control('/_control/bucket', { maximumAvailable: 20, restoreRate: 100, currentlyAvailable: 20 });
    const requests = sim.state.requests.length;
    const adapter = store();
    await Promise.all(customers.map((c: SimCustomer, i: number) => adapter.deliver('shop', changed(c.id, { phone: `+1514555020${i}` }), signal())));

    const sent = sim.state.requests.slice(requests);
    expect(sent.filter((r) => r.throttled)).toEqual([]);
    expect(sent).toHaveLength(6);
    expect(customers.map((c: SimCustomer) => sim.customer(c.id)!.lastName)).toEqual(Array(6).fill('Evans'));
  });

  it('surfaces a THROTTLED answer as throttled with the wait, and the change lands when retried after it', async () => {
    const { id } = sim.addCustomer({});
    await control('/_control/bucket', { currentlyAvailable: 0, restoreRate: 50 });
    const adapter = store();
    const delivery = changed(id);
    const failure = await adapter.deliver('shop', delivery, signal()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TargetError);
    expect(failure).toMatchObject({ failureClass: 'throttled', details: { retryAfterMs: expect.any(Number) } });
    expect(sim.state.requests.at(-1)).toMatchObject({ throttled: true });
    expect(sim.customer(id)!.lastName).toBeNull();

    await new Promise((r) => setTimeout(r, (failure as TargetError).details.retryAfterMs));
    await adapter.deliver('shop', { ...delivery, attempt: 2 }, signal());
    expect(sim.customer(id)!.lastName).toBe('Evans');
  });
});
