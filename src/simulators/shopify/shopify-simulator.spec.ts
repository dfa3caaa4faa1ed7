import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCompanyWebhook } from '../../connectors/channels/shopify/shopify-companies.js';
import { parseShopifyJson, readInventoryLevelWebhook, verifyShopifyHmac } from '../../connectors/channels/shopify/shopify-webhooks.js';
import { createShopifySimulator, DEFAULT_COMPANIES, type ShopifySimulator } from './shopify-simulator.js';

const fixtureText = (name: string) => readFileSync(new URL(`../../../test/fixtures/shopify/${name}`, import.meta.url), 'utf8');
const SECRET = 'company-webhooks-secret';
const TOKEN = 'shpat_companies';
const EXAMPLE_COMPANY = 'gid://shopify/Company/408372092144951419';
const EXAMPLE_LOCATION = 'gid://shopify/CompanyLocation/408372092144951419';

/** A webhook receiver: every delivery it took, and a wait for the next ones. */
function receiver() {
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const waiters: Array<() => void> = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.end('ok');
      for (const wake of waiters.splice(0)) wake();
    });
  });
  return {
    received,
    listen: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    /** Waits until `count` deliveries have arrived since `from`, and answers them. */
    async since(from: number, count: number) {
      const deadline = Date.now() + 5000;
      while (received.length < from + count && Date.now() < deadline) await new Promise<void>((wake) => { waiters.push(wake); setTimeout(wake, 100); });
      return received.slice(from);
    },
  };
}

let sim: ShopifySimulator;
let base: string;
let hookUrl: string;
const hook = receiver();

beforeAll(async () => {
  hookUrl = await hook.listen();
  sim = createShopifySimulator({ accessToken: TOKEN, shopDomain: 'b2b.myshopify.com', webhooks: { url: hookUrl, secret: SECRET } });
  base = await sim.listen();
});
afterAll(async () => {
  await sim.close();
  await hook.close();
});

async function graphql(query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const response = await fetch(`${base}/admin/api/2025-07/graphql.json`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-shopify-access-token': TOKEN }, body: JSON.stringify({ query, variables }) });
  expect(response.status).toBe(200);
  return response.json();
}

async function control(path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

/** The keys of an object and of the objects in it, as paths: the shape of a body, not its values. */
function shapeOf(value: unknown, path = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, inner]) => [`${path}${key}`, ...shapeOf(inner, `${path}${key}.`)]).sort();
}

const COMPANY_QUERY = `query Company($id: ID!) {
  company(id: $id) {
    id name externalId
    locations(first: 5) { nodes { id name phone taxSettings { taxRegistrationId } billingAddress { id address1 address2 city zip zoneCode countryCode } shippingAddress { id address1 city countryCode } } }
  }
}`;

describe('companies and their locations', () => {
  it("holds Shopify's example company by default, read with its locations by GraphQL and on the control API", async () => {
    const { data } = await graphql(COMPANY_QUERY, { id: EXAMPLE_COMPANY });
    expect(data.company).toMatchObject({
      id: EXAMPLE_COMPANY, name: 'Example Company', externalId: '123456789',
      locations: { nodes: [{ id: EXAMPLE_LOCATION, name: 'Montreal', phone: '555-555-5555', taxSettings: { taxRegistrationId: '1214214141' }, billingAddress: { address1: '175 Sherbrooke Street West', zoneCode: 'QC', countryCode: 'CA' } }] },
    });
    // billingSameAsShipping: one address.
    expect(data.company.locations.nodes[0].billingAddress.id).toBe(data.company.locations.nodes[0].shippingAddress.id);
    expect((await control('/_control/companies/408372092144951419')).body).toMatchObject({ externalId: '123456789', locations: [{ id: EXAMPLE_LOCATION }] });
    expect((await control('/_control/companies/1')).status).toBe(404);
  });

  it("answers a location with the fields of Shopify's companyLocationCreate example", async () => {
    const example = JSON.parse(fixtureText('graphql_companyLocationCreate_response.json')).data.companyLocationCreate.companyLocation;
    const { data } = await graphql(`query { companyLocation(id: "${EXAMPLE_LOCATION}") {
      id name company { contactRoles(first: 10) { edges { node { id name } } } }
      billingAddress { address1 address2 city countryCode phone province recipient zip zoneCode }
      buyerExperienceConfiguration { paymentTermsTemplate { id } } taxRegistrationId
    } }`);
    expect(shapeOf(data.companyLocation)).toEqual(shapeOf(example));
    expect(data.companyLocation.company.contactRoles.edges.map((e: any) => e.node.name)).toEqual(['Location admin', 'Ordering only']);
  });

  it("creates a company and its location with Shopify's companyCreate example, and sends their create webhooks", async () => {
    const from = hook.received.length;
    const { data } = await graphql(JSON.parse(fixtureText('graphql_companyCreate_request.json')).query);
    const created = data.companyCreate;
    expect(created.userErrors).toEqual([]);
    expect(created.company).toMatchObject({ name: 'Name', locations: { edges: [{ node: { name: 'Address' } }] }, contactRoles: { edges: [{ node: { name: 'Location admin' } }, { node: { name: 'Ordering only' } }] } });
    const held = sim.company(created.company.id)!;
    expect(held.locations[0]).toMatchObject({ phone: '111', shippingAddress: { address1: 'Address', address2: 'Address 2', zip: '1111', city: 'City', countryCode: 'US', recipient: 'Recipient' } });
    expect(held.locations[0]!.billingAddress).toEqual(held.locations[0]!.shippingAddress);

    const sent = await hook.since(from, 2);
    expect(sent.map((d) => d.headers['x-shopify-topic'])).toEqual(['companies/create', 'company_locations/create']);
    // No external id yet: nothing Crossdock keeps.
    expect(readCompanyWebhook('companies/create', JSON.parse(sent[0]!.body))).toBeNull();
  });

  it('sends a signed company_locations/update of the fixture\'s shape when a merchant edits a location, and none when nothing changes', async () => {
    const from = hook.received.length;
    const edited = await control('/_control/company-locations/408372092144951419', { phone: '+15145550100', billingAddress: { address1: '1 Rue Sainte-Catherine', city: 'Montreal', zip: 'H2X 1Z4', zoneCode: 'QC', countryCode: 'CA' } });
    expect(edited.status).toBe(200);
    expect(edited.body.webhooks).toEqual([expect.objectContaining({ topic: 'company_locations/update', deliveries: [expect.objectContaining({ status: 200 })] })]);

    const [delivery] = await hook.since(from, 1);
    expect(delivery!.headers).toMatchObject({ 'x-shopify-topic': 'company_locations/update', 'x-shopify-shop-domain': 'b2b.myshopify.com', 'x-shopify-api-version': '2025-07' });
    expect(verifyShopifyHmac(SECRET, delivery!.body, delivery!.headers['x-shopify-hmac-sha256'] as string)).toBe(true);
    const body = parseShopifyJson(delivery!.body);
    expect(shapeOf(body)).toEqual(shapeOf(JSON.parse(fixtureText('webhook_company_locations_create.json'))));
    expect(readCompanyWebhook('company_locations/update', body)).toEqual({
      accountNumber: '123456789', companyId: EXAMPLE_COMPANY, locationId: EXAMPLE_LOCATION,
      fields: {
        phone: '+15145550100', taxId: '1214214141',
        billingAddress: { line1: '1 Rue Sainte-Catherine', line2: null, city: 'Montreal', postalCode: 'H2X 1Z4', region: 'QC', country: 'CA' },
        shippingAddress: { line1: '175 Sherbrooke Street West', line2: null, city: 'Montreal', postalCode: 'H3A 0G4', region: 'QC', country: 'CA' },
      },
    });
    // The billing address was the shipping address too: the shipping address keeps it, the billing address is a new one.
    const location = sim.company(EXAMPLE_COMPANY)!.locations[0]!;
    expect(location.billingAddress!.id).not.toBe(location.shippingAddress!.id);

    const again = await control('/_control/company-locations/408372092144951419', { phone: '+15145550100' });
    expect(again.body.webhooks).toEqual([]);
  });

  it("sends a companies/update of the fixture's shape when a merchant renames a company", async () => {
    const from = hook.received.length;
    const edited = await control('/_control/companies/408372092144951419', { name: 'Example Company Ltd' });
    expect(edited.body.company).toMatchObject({ name: 'Example Company Ltd' });
    const [delivery] = await hook.since(from, 1);
    expect(shapeOf(JSON.parse(delivery!.body))).toEqual(shapeOf(JSON.parse(fixtureText('webhook_companies_update.json'))));
    expect(readCompanyWebhook('companies/update', JSON.parse(delivery!.body))).toEqual({ accountNumber: '123456789', companyId: EXAMPLE_COMPANY, fields: { name: 'Example Company Ltd' } });
    expect((await control('/_control/companies/408372092144951419', { name: ' ' })).status).toBe(422);
  });

  it('sends one webhook per company or location an app\'s request changed, with what it holds after the request', async () => {
    const company = sim.addCompany({ name: 'Contoso', externalId: 'C-200', locations: [{ name: 'Leeds' }] });
    const locationId = company.locations[0]!.id;
    const from = hook.received.length;
    const { data } = await graphql(`mutation Writes($companyId: ID!, $locationId: ID!) {
      a: companyUpdate(companyId: $companyId, input: { name: "Contoso Ltd" }) { company { id } userErrors { field message } }
      b: companyLocationAssignAddress(locationId: $locationId, address: { address1: "1 Dock Rd", city: "Leeds", countryCode: GB }, addressTypes: [BILLING, SHIPPING]) { addresses { id } userErrors { field message } }
      c: companyLocationUpdate(companyLocationId: $locationId, input: { phone: "+441132220000" }) { companyLocation { id } userErrors { field message } }
      d: companyLocationTaxSettingsUpdate(companyLocationId: $locationId, taxRegistrationId: "GB123") { companyLocation { taxSettings { taxRegistrationId } } userErrors { field message } }
    }`, { companyId: company.id, locationId });
    expect([data.a, data.b, data.c, data.d].flatMap((p) => p.userErrors)).toEqual([]);

    const sent = await hook.since(from, 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(hook.received.length - from).toBe(2);
    expect(sent.map((d) => readCompanyWebhook(String(d.headers['x-shopify-topic']), JSON.parse(d.body)))).toEqual([
      { accountNumber: 'C-200', companyId: company.id, fields: { name: 'Contoso Ltd' } },
      {
        accountNumber: 'C-200', companyId: company.id, locationId,
        fields: { phone: '+441132220000', taxId: 'GB123', billingAddress: { line1: '1 Dock Rd', line2: null, city: 'Leeds', postalCode: null, region: null, country: 'GB' }, shippingAddress: { line1: '1 Dock Rd', line2: null, city: 'Leeds', postalCode: null, region: null, country: 'GB' } },
      },
    ]);
    expect(sim.state.companyMutations.slice(-4).map((m) => [m.mutation, m.changed])).toEqual([['companyUpdate', true], ['companyLocationAssignAddress', true], ['companyLocationUpdate', true], ['companyLocationTaxSettingsUpdate', true]]);
  });

  it('answers a company or location it does not have, or a country that is none, with userErrors and changes nothing', async () => {
    const requests = sim.state.webhooks.length;
    const { data } = await graphql(`mutation {
      a: companyUpdate(companyId: "gid://shopify/Company/1", input: { name: "X" }) { company { id } userErrors { code field message } }
      b: companyLocationUpdate(companyLocationId: "gid://shopify/CompanyLocation/1", input: { phone: "+15145550100" }) { companyLocation { id } userErrors { code field message } }
      c: companyLocationAssignAddress(locationId: "${EXAMPLE_LOCATION}", address: { address1: "1 Main St", city: "Nowhere", countryCode: XX }, addressTypes: [SHIPPING]) { addresses { id } userErrors { code field message } }
      d: companyLocationTaxSettingsUpdate(companyLocationId: "gid://shopify/CompanyLocation/1", taxRegistrationId: "1") { companyLocation { id } userErrors { code field message } }
    }`);
    expect(data).toEqual({
      a: { company: null, userErrors: [{ code: 'RESOURCE_NOT_FOUND', field: ['companyId'], message: 'Resource requested does not exist.' }] },
      b: { companyLocation: null, userErrors: [{ code: 'RESOURCE_NOT_FOUND', field: ['companyLocationId'], message: 'Resource requested does not exist.' }] },
      c: { addresses: null, userErrors: [{ code: 'INVALID', field: ['address', 'countryCode'], message: 'Country code is invalid.' }] },
      d: { companyLocation: null, userErrors: [{ code: 'RESOURCE_NOT_FOUND', field: ['companyLocationId'], message: 'Resource requested does not exist.' }] },
    });
    expect(sim.company(EXAMPLE_COMPANY)!.locations[0]!.shippingAddress).toMatchObject({ address1: '175 Sherbrooke Street West' });
    await new Promise((r) => setTimeout(r, 50));
    expect(sim.state.webhooks.length).toBe(requests);
  });

  it('refuses an input field its type does not define, as GraphQL does', async () => {
    const answer = await graphql(`mutation { companyLocationUpdate(companyLocationId: "${EXAMPLE_LOCATION}", input: { taxRegistrationId: "1" }) { userErrors { message } } }`);
    expect(answer.errors).toEqual([expect.objectContaining({ extensions: { code: 'INVALID_VARIABLE' }, message: expect.stringContaining('Field is not defined on CompanyLocationUpdateInput') })]);
  });

  it('keeps the webhooks it sent, and stops sending them when the subscription is removed', async () => {
    expect((await control('/_control/webhooks/sent')).body.length).toBe(sim.state.webhooks.length);
    expect((await control('/_control/webhooks/subscription', { url: null })).body).toEqual({ url: null });
    const from = hook.received.length;
    const edited = await control('/_control/company-locations/408372092144951419', { taxRegistrationId: 'CA-1' });
    expect(edited.body.webhooks).toEqual([expect.objectContaining({ topic: 'company_locations/update', deliveries: [] })]);
    expect(hook.received.length).toBe(from);
    expect((await control('/_control/webhooks/subscription', { url: 'http://127.0.0.1:1/webhooks' })).status).toBe(400);
  });

  it('seeds companies from the options and the control API', async () => {
    const own = createShopifySimulator({ companies: [{ name: 'Seeded', externalId: 'S-1', locations: [{ phone: '+15145550199' }] }] });
    expect([...own.state.companies.values()].map((c) => c.name)).toEqual(['Seeded']);
    expect([...own.state.companyLocations.values()]).toMatchObject([{ name: 'Seeded', phone: '+15145550199', billingAddress: null }]);
    expect(DEFAULT_COMPANIES[0]!.externalId).toBe('123456789');
    const added = await control('/_control/companies', { name: 'Fabrikam', externalId: 'F-1', locations: [{ name: 'Main', taxRegistrationId: 'US-9' }] });
    expect(added.status).toBe(201);
    expect(sim.company(added.body.id)).toMatchObject({ externalId: 'F-1', locations: [{ name: 'Main', taxRegistrationId: 'US-9' }] });
    expect((await control('/_control/companies', { id: 'gid://shopify/Customer/1' })).status).toBe(400);
  });
});

describe('inventory levels of a whole store', () => {
  const LEVELS = `query Levels($first: Int!, $after: String, $l0: ID!) {
    inventoryItems(first: $first, after: $after) { nodes { id sku level0: inventoryLevel(locationId: $l0) { quantities(names: ["available"]) { name quantity } } } pageInfo { hasNextPage endCursor } }
  }`;

  it('pages through every inventory item with its levels, at the calculated cost of what was asked', async () => {
    const own = createShopifySimulator({ accessToken: TOKEN, variants: ['A-1', 'A-2', 'A-3'].map((sku, i) => ({ sku, available: { 'gid://shopify/Location/1': i } })) });
    const url = await own.listen();
    try {
      const read = async (after: string | null) => (await (await fetch(`${url}/admin/api/2025-07/graphql.json`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-shopify-access-token': TOKEN },
        body: JSON.stringify({ query: LEVELS, variables: { first: 2, after, l0: 'gid://shopify/Location/2' } }),
      })).json()) as any;
      const first = await read(null);
      // Not stocked at location 2: each level is null.
      expect(first.data.inventoryItems.nodes.map((n: any) => [n.sku, n.level0])).toEqual([['A-1', null], ['A-2', null]]);
      expect(first.extensions.cost).toMatchObject({ requestedQueryCost: 2 + 2 * 3, actualQueryCost: 2 + 2 * 2 });
      const second = await read(first.data.inventoryItems.pageInfo.endCursor);
      expect(second.data.inventoryItems).toMatchObject({ nodes: [{ sku: 'A-3' }], pageInfo: { hasNextPage: false } });
    } finally {
      await own.close();
    }
  });

  it("sends inventory_levels/update of a merchant's edit and of an app's change to a subscription that names the topic", async () => {
    expect((await control('/_control/webhooks/subscription', { url: hookUrl, secret: SECRET, topics: 'all' })).status).toBe(400);
    expect((await control('/_control/webhooks/subscription', { url: hookUrl, secret: SECRET, topics: ['inventory_levels/update'] })).status).toBe(200);
    const from = hook.received.length;
    const [variant] = (await control('/_control/state')).body.variants;
    const edited = await fetch(`${base}/_control/inventory-levels`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku: variant.sku, locationId: 'gid://shopify/Location/2', available: 7 }),
    });
    expect(((await edited.json()) as any).webhooks).toEqual([expect.objectContaining({ topic: 'inventory_levels/update', deliveries: [expect.objectContaining({ status: 200 })] })]);
    const { data } = await graphql(`mutation Set($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { code } } }`, {
      input: { name: 'available', reason: 'correction', quantities: [{ inventoryItemId: variant.inventoryItemId, locationId: 'gid://shopify/Location/2', quantity: 4, compareQuantity: 7 }] },
    });
    expect(data.inventorySetQuantities.userErrors).toEqual([]);
    const sent = await hook.since(from, 2);
    expect(sent.map((d) => d.headers['x-shopify-topic'])).toEqual(['inventory_levels/update', 'inventory_levels/update']);
    expect(sent.every((d) => verifyShopifyHmac(SECRET, d.body, String(d.headers['x-shopify-hmac-sha256'])))).toBe(true);
    const levels = sent.map((d) => readInventoryLevelWebhook(parseShopifyJson(d.body) as Record<string, unknown>));
    expect(levels).toEqual([7, 4].map((available) => ({ inventoryItemId: variant.inventoryItemId.split('/').pop(), locationId: '2', available, updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) })));
    // The fields of Shopify's own example body.
    expect(Object.keys(JSON.parse(sent[0]!.body)).sort()).toEqual(Object.keys(JSON.parse(fixtureText('webhook_inventory_levels_update.docs-2024-01.json'))).sort());
  });
});
