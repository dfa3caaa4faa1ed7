import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BusinessCentralClient } from '../src/connectors/erp/business-central/business-central.client.js';
import { BusinessCentralConfig } from '../src/connectors/erp/business-central/business-central.config.js';
import { TargetError } from '../src/platform/delivery/outcome.js';
import { validatePlain } from '../src/platform/http/field-errors.js';
import { createBusinessCentralSimulator, type BusinessCentralSimulator } from '../src/simulators/business-central/bc-simulator.js';

const COMPANY = 'c0ffee00-0000-0000-0000-000000000001';
const PAGE_SIZE = 4;

let sim: BusinessCentralSimulator;
let base: string;
let client: BusinessCentralClient;

const config = (overrides: Record<string, unknown> = {}) => ({
  tenantId: 'tenant-1',
  environment: 'production',
  companyId: COMPANY,
  clientId: 'crossdock',
  clientSecret: 'secret-1',
  baseUrl: `${base}/v2.0/tenant-1/production/api/v2.0`,
  tokenUrl: `${base}/oauth2/v2.0/token`,
  ...overrides,
});

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/business_central/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

async function control(path: string, body: unknown, method = 'POST') {
  const response = await fetch(`${base}/_control/${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A GET straight to the simulated API, as Business Central answers it (`api` is `v2.0` or `microsoft/analytics/v1.0`). */
async function rawGet(api: string, path: string) {
  const token = await fetch(`${base}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'crossdock', client_secret: 'secret-1' }),
  });
  const { access_token } = (await token.json()) as { access_token: string };
  const response = await fetch(`${base}/v2.0/tenant-1/production/api/${api}/companies(${COMPANY})${path}`, { headers: { authorization: `Bearer ${access_token}` } });
  return { status: response.status, body: (await response.json()) as { value: Array<Record<string, unknown>>; '@odata.nextLink'?: string; error?: { message: string } } };
}

async function failureOf(promise: Promise<unknown>): Promise<TargetError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TargetError);
  return error as TargetError;
}

const requestsTo = (suffix: string) => sim.state.requests.filter((r) => r.method === 'GET' && r.path.endsWith(suffix));
const newest = (items: Array<{ lastModifiedDateTime: string }>) => new Date(Math.max(...items.map((i) => Date.parse(i.lastModifiedDateTime))));
const asObject = (byLocation: Map<string, Map<string, number>>) => Object.fromEntries([...byLocation].map(([item, locations]) => [item, Object.fromEntries(locations)]));

beforeEach(async () => {
  sim = createBusinessCentralSimulator({ clientId: 'crossdock', clientSecret: 'secret-1', ratePerSecond: 1000, pageSize: PAGE_SIZE });
  base = await sim.listen();
  client = new BusinessCentralClient(config());
});
afterEach(() => sim.close());

describe('Business Central items changed since a time', () => {
  it('reads every item when no time is given, following @odata.nextLink over several pages', async () => {
    const items = await client.itemsChangedSince(undefined);
    expect(items.map((i) => i.number)).toEqual([...sim.state.items.keys()].toSorted());
    expect(items).toHaveLength(10);
    expect(requestsTo('/items')).toHaveLength(Math.ceil(10 / PAGE_SIZE));
    const desk = items.find((i) => i.number === '1896-S')!;
    // The seeded opening stock: 40 at EAST, 20 at WEST, 10 at CENTRAL.
    expect(desk).toEqual({ id: sim.state.items.get('1896-S')!.id, number: '1896-S', lastModifiedDateTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/), inventory: 70 });
  });

  it('returns only the items touched after the time, and not one touched at it', async () => {
    const since = newest(await client.itemsChangedSince(undefined));
    expect(await client.itemsChangedSince(since)).toEqual([]);

    await control('stock', { itemNumber: '1900-S', locationCode: 'EAST', quantity: 5 });
    await control('stock', { itemNumber: '1964-W', locationCode: 'WEST', quantity: -2 });
    const changed = await client.itemsChangedSince(since);
    expect(changed.map((i) => [i.number, i.inventory])).toEqual([['1900-S', 42 + 21 + 10 + 5], ['1964-W', 56 + 28 + 10 - 2]]);
    for (const item of changed) expect(Date.parse(item.lastModifiedDateTime)).toBeGreaterThan(since.getTime());

    // `gt`: the item modified exactly at the time is not changed since it.
    const at = new Date(changed.find((i) => i.number === '1964-W')!.lastModifiedDateTime);
    expect(await client.itemsChangedSince(at)).toEqual([]);
    expect((await client.itemsChangedSince(new Date(at.getTime() - 1))).map((i) => i.number)).toEqual(['1964-W']);
  });

  it('finds the items with ledger entries written after a time, with the newest entry\'s time', async () => {
    const since = newest(await client.itemsChangedSince(undefined));
    await control('stock', { itemNumber: '1908-S', locationCode: 'EAST', quantity: 3 });
    const last = await control('stock', { itemNumber: '1908-S', locationCode: 'CENTRAL', quantity: -1 });
    await control('stock', { itemNumber: '1920-S', locationCode: '', quantity: 7 });
    const posted = await client.itemsPostedSince(since);
    expect([...posted.keys()].toSorted()).toEqual(['1908-S', '1920-S']);
    expect(posted.get('1908-S')).toBe(last.body.lastModifiedDateTime);
  });
});

describe('Business Central on-hand per location', () => {
  it('sums item ledger entries per location, takes a shipment\'s entries off, and not an unshipped order\'s', async () => {
    const locations = await client.listLocations();
    const idOf = (code: string) => locations.find((l) => l.code === code)!.id;
    const before = await client.inventoryByLocation(['1896-S', '1900-S', '1906-S', 'NO-SUCH-ITEM']);
    expect(asObject(before)).toEqual({
      '1896-S': { EAST: 40, WEST: 20, CENTRAL: 10 },
      '1900-S': { EAST: 42, WEST: 21, CENTRAL: 10 },
      '1906-S': { EAST: 44, WEST: 22, CENTRAL: 10 },
      'NO-SUCH-ITEM': {},
    });

    const { order } = await client.ensureSalesOrder({
      externalDocumentNumber: 'CD-SHIP-1',
      customerNumber: '10000',
      lines: [
        { lineObjectNumber: '1896-S', quantity: 3, unitPrice: 10, locationId: idOf('EAST') },
        { lineObjectNumber: '1900-S', quantity: 2.5, unitPrice: 10, locationId: idOf('WEST') },
        { lineObjectNumber: '1906-S', quantity: 1, unitPrice: 10 },
      ],
    });
    expect(asObject(await client.inventoryByLocation(['1896-S', '1900-S', '1906-S']))).toEqual({
      '1896-S': { EAST: 40, WEST: 20, CENTRAL: 10 },
      '1900-S': { EAST: 42, WEST: 21, CENTRAL: 10 },
      '1906-S': { EAST: 44, WEST: 22, CENTRAL: 10 },
    });

    const since = newest(await client.itemsChangedSince(undefined));
    expect((await control(`orders/${order.id}/ship`, {})).status).toBe(200);
    // Shipping again posts nothing more.
    expect((await control(`orders/${order.id}/ship`, {})).status).toBe(200);
    const after = await client.inventoryByLocation(['1896-S', '1900-S', '1906-S']);
    expect(asObject(after)).toEqual({
      '1896-S': { EAST: 37, WEST: 20, CENTRAL: 10 },
      '1900-S': { EAST: 42, WEST: 18.5, CENTRAL: 10 },
      // A line without a location ships from Business Central's blank location, which may go negative.
      '1906-S': { EAST: 44, WEST: 22, CENTRAL: 10, '': -1 },
    });
    const sales = sim.state.ledger.filter((e) => e.entryType === 'Sale');
    expect(sales.map((e) => [e.itemNumber, e.locationCode, e.quantity, e.documentType])).toEqual([
      ['1896-S', 'EAST', -3, 'Sales_x0020_Shipment'],
      ['1900-S', 'WEST', -2.5, 'Sales_x0020_Shipment'],
      ['1906-S', '', -1, 'Sales_x0020_Shipment'],
    ]);

    // The shipment shows as item changes, and each item's total is the sum over its locations.
    const changed = await client.itemsChangedSince(since);
    expect(changed.map((i) => i.number)).toEqual(['1896-S', '1900-S', '1906-S']);
    for (const item of changed) {
      expect(item.inventory).toBe([...after.get(item.number)!.values()].reduce((a, b) => a + b, 0));
    }
  });

  it('asks for item numbers in batches and follows every page of each', async () => {
    const numbers = Array.from({ length: 25 }, (_, i) => `BULK-${String(i + 1).padStart(2, '0')}`);
    for (const [i, number] of numbers.entries()) {
      await control(`items/${number}`, { displayName: number }, 'PUT');
      await control('stock', { itemNumber: number, locationCode: 'EAST', quantity: i + 1 });
      await control('stock', { itemNumber: number, locationCode: 'WEST', quantity: 100 });
      await control('stock', { itemNumber: number, locationCode: 'WEST', quantity: -1 });
    }
    // A quote in an item number is doubled in the filter, not read as its end.
    await control(`items/${encodeURIComponent("O'NEIL-1")}`, {}, 'PUT');
    await control('stock', { itemNumber: "O'NEIL-1", locationCode: 'CENTRAL', quantity: 4 });
    await control('stock', { itemNumber: "O'NEIL-1", locationCode: 'EAST', quantity: 0.1 });
    await control('stock', { itemNumber: "O'NEIL-1", locationCode: 'EAST', quantity: 0.2 });

    const onHand = await client.inventoryByLocation([...numbers, "O'NEIL-1"]);
    expect(onHand.size).toBe(26);
    numbers.forEach((number, i) => expect(Object.fromEntries(onHand.get(number)!)).toEqual({ EAST: i + 1, WEST: 99 }));
    // Decimal quantities add up as decimals: 0.1 + 0.2 is 0.3.
    expect(Object.fromEntries(onHand.get("O'NEIL-1")!)).toEqual({ CENTRAL: 4, EAST: 0.3 });
    // 26 numbers in two batches (20 and 6) of 60 and 18 entries, at 4 a page.
    expect(requestsTo(`/api/microsoft/analytics/v1.0/companies(${COMPANY})/itemLedgerEntries`)).toHaveLength(15 + 5);
  });

  it('reads the locations and the ledger through the documented entities and fields', async () => {
    // The v2.0 entity has exactly the documented fields: no location, which is why on-hand per location is read from the analytics API.
    const documented = Object.keys(fixture('bc_v2_itemLedgerEntry_get.response.json')).filter((k) => k !== '@odata.etag').toSorted();
    const v2 = await rawGet('v2.0', '/itemLedgerEntries');
    expect(v2.status).toBe(200);
    expect(v2.body['@odata.nextLink']).toMatch(/\$skiptoken=/);
    for (const entry of v2.body.value) expect(Object.keys(entry).toSorted()).toEqual(documented);
    const byLocation = await rawGet('v2.0', `/itemLedgerEntries?$filter=${encodeURIComponent("locationCode eq 'EAST'")}`);
    expect(byLocation.status).toBe(400);
    expect(byLocation.body.error?.message).toContain("Could not find a property named 'locationCode'");

    const analyticsFields = Object.keys(fixture('bc_analytics_itemLedgerEntry_get.response.json'));
    const analytics = await rawGet('microsoft/analytics/v1.0', '/itemLedgerEntries');
    for (const entry of analytics.body.value) {
      expect(analyticsFields).toEqual(expect.arrayContaining(Object.keys(entry)));
      expect(entry).toEqual(expect.objectContaining({ itemNo: expect.any(String), locationCode: expect.any(String), quantity: expect.any(Number) }));
    }

    const locationFields = Object.keys(fixture('bc_v2_location_get.response.json'));
    const seeded = await rawGet('v2.0', '/locations');
    for (const location of seeded.body.value) expect(Object.keys(location)).toEqual(expect.arrayContaining(locationFields));
  });
});

describe('Business Central fixtures served by the simulator', () => {
  it('parses Microsoft\'s item example', async () => {
    const item = fixture('bc_v2_item_get.response.json');
    await control(`items/${item.number}`, item, 'PUT');
    const read = (await client.itemsChangedSince(undefined)).find((i) => i.number === item.number);
    expect(read).toEqual({ id: item.id, number: item.number, lastModifiedDateTime: item.lastModifiedDateTime, inventory: item.inventory });
    // Its inventory was reached by an adjustment at the blank location.
    const onHand = (await client.inventoryByLocation([String(item.number)])).get(String(item.number))!;
    expect([...onHand.values()].reduce((a, b) => a + b, 0)).toBe(item.inventory);
    // Modified in 2020: not among the items changed since the day after.
    const changed = await client.itemsChangedSince(new Date(Date.parse(String(item.lastModifiedDateTime)) + 86_400_000));
    expect(changed.map((i) => i.number)).not.toContain(item.number);
    expect(changed).toHaveLength(9);
  });

  it('parses Microsoft\'s location example', async () => {
    const location = fixture('bc_v2_location_get.response.json');
    await control(`locations/${location.code}`, location, 'PUT');
    const locations = await client.listLocations();
    expect(locations).toContainEqual({ id: location.id, code: 'MAIN', displayName: 'Main Warehouse' });
    expect(locations.map((l) => l.code)).toEqual(['CENTRAL', 'EAST', 'MAIN', 'WEST']);
  });

  it('follows @odata.nextLink for customers too', async () => {
    sim.settings.pageSize = 3;
    const customers = await client.listCustomers();
    expect(customers.value.map((c) => c.number)).toEqual(['10000', '20000', '30000', '40000']);
    expect(requestsTo('/customers')).toHaveLength(2);
  });
});

describe('Business Central inventory errors', () => {
  it('a 429 on a later page is throttled, with Retry-After, and nothing half-read is returned', async () => {
    await control('throttle', { next: 1, after: 1 });
    const throttled = await failureOf(client.itemsChangedSince(undefined));
    expect(throttled).toMatchObject({ failureClass: 'throttled', details: { status: 429, retryAfterMs: 1000 } });
    expect(requestsTo('/items').map((r) => r.status)).toEqual([200, 429]);
    expect(await client.itemsChangedSince(undefined)).toHaveLength(10);
  });

  it('maintenance is throttled; an expired token is renewed and the read goes on', async () => {
    await control('maintenance', { on: true });
    const down = await failureOf(client.inventoryByLocation(['1896-S']));
    expect(down).toMatchObject({ failureClass: 'throttled', details: { status: 503, retryAfterMs: 5000 } });
    await control('maintenance', { on: false });
    await control('expire-tokens', {});
    expect(Object.fromEntries((await client.inventoryByLocation(['1896-S'])).get('1896-S')!)).toEqual({ EAST: 40, WEST: 20, CENTRAL: 10 });
  });

  it('an environment without the analytics API answers 404: permanent, with Business Central\'s message', async () => {
    const elsewhere = new BusinessCentralClient(config({ analyticsBaseUrl: `${base}/v2.0/tenant-1/production/api/contoso/stock/v1.0` }));
    const missing = await failureOf(elsewhere.inventoryByLocation(['1896-S']));
    expect(missing).toMatchObject({ failureClass: 'permanent', details: { status: 404 } });
    expect(missing.message).toContain('Resource not found for the segment');
    // A base URL the analytics URL cannot be derived from, and none set: a configuration to fix, not a message to give up on.
    const proxied = new BusinessCentralClient(config({ baseUrl: `${base}/bc-proxy` }));
    expect((await failureOf(proxied.inventoryByLocation(['1896-S']))).failureClass).toBe('retryable');
  });

  it('does not follow a next link to another host', async () => {
    const seen: string[] = [];
    const impostor: Server = createServer((request, response) => {
      seen.push(`${request.method} ${request.url}`);
      response.setHeader('content-type', 'application/json');
      if (request.url?.startsWith('/token')) return response.end(JSON.stringify({ access_token: 'token-1', expires_in: 3600 }));
      response.end(JSON.stringify({ value: [{ id: '1', number: 'A', lastModifiedDateTime: '2024-01-01T00:00:00Z', inventory: 1 }], '@odata.nextLink': 'http://127.0.0.2:9/items?$skiptoken=x' }));
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(impostor.address() as { port: number }).port}`;
      const lured = new BusinessCentralClient(config({ baseUrl: `${url}/api/v2.0`, tokenUrl: `${url}/token` }));
      const error = await failureOf(lured.itemsChangedSince(undefined));
      expect(error).toMatchObject({ failureClass: 'retryable', message: expect.stringContaining('http://127.0.0.2:9') });
      expect(seen).toEqual(['POST /token', `GET /api/v2.0/companies(${COMPANY})/items?$select=id%2Cnumber%2ClastModifiedDateTime%2Cinventory`]);
    } finally {
      await new Promise((resolve) => impostor.close(resolve));
    }
  });
});

describe('Business Central configuration for inventory', () => {
  const valid = { tenantId: 't', environment: 'production', companyId: COMPANY, clientId: 'c', clientSecret: 's' };

  it('takes warehouse to location code, blank included, and refuses codes that are not strings of up to 10 characters', () => {
    expect(validatePlain(BusinessCentralConfig, { ...valid, locationCodes: { 'WH-EAST': 'EAST', 'WH-MAIN': '' } }).errors).toEqual([]);
    for (const locationCodes of [{ 'WH-EAST': 12 }, { 'WH-EAST': 'ELEVENCHARS' }, ['EAST'], 'EAST']) {
      expect(validatePlain(BusinessCentralConfig, { ...valid, locationCodes }).errors).toEqual([
        { field: 'locationCodes', message: 'locationCodes must map each warehouse code to a string of at most 10 characters' },
      ]);
    }
    expect(validatePlain(BusinessCentralConfig, { ...valid, analyticsBaseUrl: 'not a url' }).errors.map((e) => e.field)).toEqual(['analyticsBaseUrl']);
  });
});
