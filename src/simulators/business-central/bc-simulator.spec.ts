import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBcNotificationReceiver, type BcNotificationReceiver } from './bc-notification-receiver.js';
import { createBusinessCentralSimulator, type BusinessCentralSimulator, type SimChangeNotice } from './bc-simulator.js';

// The simulator's sales order lines, posting action and posted shipments as a client other than Crossdock's sees
// them: plain HTTP, checked against Microsoft's documented examples.
const bcFixture = (name: string) => JSON.parse(readFileSync(new URL(`../../../test/fixtures/business_central/${name}`, import.meta.url), 'utf8'));
// Microsoft's documented webhook payloads, in the shared fixtures beside the repository.
const sharedFixture = (name: string) => JSON.parse(readFileSync(new URL(`../../../test/fixtures/business_central/${name}`, import.meta.url), 'utf8'));
const COMPANY = 'c0ffee00-0000-0000-0000-000000000001';

let sim: BusinessCentralSimulator;
let base: string;
let token: string;

beforeAll(async () => {
  // Webhooks made small for the tests: batches sent 200 ms after their first change, a collection past 3 customers, 300 ms to answer.
  sim = createBusinessCentralSimulator({
    ratePerSecond: 1000, shipmentTrackingPage: 'salesShipmentTracking', notificationDelayMs: 200, collectionThreshold: 3, receiverTimeoutMs: 300,
  });
  base = await sim.listen();
  const answer = await fetch(`${base}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=a&client_secret=b' });
  token = ((await answer.json()) as { access_token: string }).access_token;
});
afterAll(() => sim.close());

async function api(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}, root = 'v2.0') {
  return apiRoot(`/companies(${COMPANY})${path}`, init, root);
}

/** A request under the API's root (`subscriptions` are there, not under a company). */
async function apiRoot(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}, root = 'v2.0') {
  const response = await fetch(`${base}/v2.0/tenant/production/api/${root}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const createOrder = async (externalDocumentNumber: string, lines: Array<{ lineObjectNumber: string; quantity: number }>) =>
  (await api('/salesOrders', { method: 'POST', body: { externalDocumentNumber, customerNumber: '10000', salesOrderLines: lines.map((l) => ({ lineType: 'Item', ...l })) } })).body;

describe('Business Central simulator: shipping sales orders', () => {
  it('gives order lines the documented quantities: the remainder to ship, nothing shipped or invoiced, each with its etag', async () => {
    const order = await createOrder('SIM-LINES', [{ lineObjectNumber: '1896-S', quantity: 4 }]);
    const lines = await api(`/salesOrders(${order.id})/salesOrderLines`);
    expect(lines.status).toBe(200);
    const [line] = lines.body.value;
    const documented = bcFixture('bc_v2_salesOrderLine_create.response.json');
    for (const field of ['shipQuantity', 'shippedQuantity', 'invoicedQuantity']) expect(documented).toHaveProperty(field);
    expect(line).toMatchObject({ lineObjectNumber: '1896-S', quantity: 4, shipQuantity: 4, shippedQuantity: 0, invoicedQuantity: 0, '@odata.etag': expect.stringMatching(/^W\//) });
    expect(line).not.toHaveProperty('etag');
    expect((await api(`/salesOrders(${order.id})/salesOrderLines(${line.id})`)).body).toEqual(line);
  });

  it('patches Qty. to Ship with the line\'s etag only, and never beyond what the line has left', async () => {
    const order = await createOrder('SIM-PATCH', [{ lineObjectNumber: '1900-S', quantity: 3 }]);
    const [line] = (await api(`/salesOrders(${order.id})/salesOrderLines`)).body.value;
    const patch = (body: unknown, etag?: string) => api(`/salesOrders(${order.id})/salesOrderLines(${line.id})`, { method: 'PATCH', body, headers: etag ? { 'if-match': etag } : {} });
    expect((await patch({ shipQuantity: 1 })).status).toBe(400);
    expect((await patch({ shipQuantity: 4 }, line['@odata.etag'])).body.error.message).toMatch(/^You cannot ship more than 3 units\./);
    const patched = await patch({ shipQuantity: 1 }, line['@odata.etag']);
    expect(patched).toMatchObject({ status: 200, body: { shipQuantity: 1 } });
    expect(patched.body['@odata.etag']).not.toBe(line['@odata.etag']);
    // The etag read before the change is stale now.
    expect((await patch({ shipQuantity: 2 }, line['@odata.etag']))).toMatchObject({ status: 412, body: { error: { code: 'Request_EntityChanged' } } });
    expect((await patch({ quantity: 9 }, patched.body['@odata.etag'])).status).toBe(400);
  });

  it('shipAndInvoice posts a shipment of the lines\' Qty. to Ship, moves stock, and deletes the order once shipped and invoiced in full', async () => {
    const order = await createOrder('SIM-POST', [{ lineObjectNumber: '1906-S', quantity: 3 }, { lineObjectNumber: '1908-S', quantity: 1 }]);
    const lines = (await api(`/salesOrders(${order.id})/salesOrderLines`)).body.value;
    await api(`/salesOrders(${order.id})/salesOrderLines(${lines[0].id})`, { method: 'PATCH', body: { shipQuantity: 2 }, headers: { 'if-match': lines[0]['@odata.etag'] } });
    await api(`/salesOrders(${order.id})/salesOrderLines(${lines[1].id})`, { method: 'PATCH', body: { shipQuantity: 0 }, headers: { 'if-match': lines[1]['@odata.etag'] } });
    const inventory = sim.state.items.get('1906-S')!.inventory;
    expect((await api(`/salesOrders(${order.id})/Microsoft.NAV.shipAndInvoice`, { method: 'POST' })).status).toBe(204);
    expect(sim.state.items.get('1906-S')!.inventory).toBe(inventory - 2);
    const after = (await api(`/salesOrders(${order.id})/salesOrderLines`)).body.value;
    expect(after.map((l: Record<string, number>) => [l.shippedQuantity, l.invoicedQuantity, l.shipQuantity])).toEqual([[2, 2, 1], [0, 0, 1]]);

    const shipments = await api(`/salesShipments?$filter=${encodeURIComponent(`orderNumber eq '${order.number}'`)}&$expand=salesShipmentLines`);
    expect(shipments.body.value).toHaveLength(1);
    const [shipment] = shipments.body.value;
    expect(shipment).toMatchObject({ orderNumber: order.number, externalDocumentNumber: 'SIM-POST', customerNumber: '10000', salesShipmentLines: [{ lineObjectNumber: '1906-S', quantity: 2, documentNo: shipment.number }] });
    // The documented entity's fields, and neither tracking nor a line's location, which API v2.0 does not have.
    for (const field of Object.keys(bcFixture('bc_v2_salesShipment_get.response.json'))) expect(shipment).toHaveProperty(field);
    expect(shipment).not.toHaveProperty('packageTrackingNo');
    expect(shipment.salesShipmentLines[0]).not.toHaveProperty('locationCode');
    expect(Object.keys(shipment.salesShipmentLines[0]).sort()).toEqual(Object.keys(bcFixture('bc_v2_salesShipmentLine_get.response.json')).sort());
    const since = (await api(`/salesShipments?$filter=${encodeURIComponent(`lastModifiedDateTime gt ${shipment.lastModifiedDateTime}`)}`)).body.value;
    expect(since.map((s: { number: string }) => s.number)).not.toContain(shipment.number);

    // Nothing to ship is refused; the rest, shipped and invoiced, ends the order.
    await api(`/salesOrders(${order.id})/salesOrderLines(${after[0].id})`, { method: 'PATCH', body: { shipQuantity: 0 }, headers: { 'if-match': after[0]['@odata.etag'] } });
    await api(`/salesOrders(${order.id})/salesOrderLines(${after[1].id})`, { method: 'PATCH', body: { shipQuantity: 0 }, headers: { 'if-match': after[1]['@odata.etag'] } });
    expect((await api(`/salesOrders(${order.id})/Microsoft.NAV.shipAndInvoice`, { method: 'POST' })).body.error.message).toMatch(/^There is nothing to post\./);
    const zeroed = (await api(`/salesOrders(${order.id})/salesOrderLines`)).body.value;
    await api(`/salesOrders(${order.id})/salesOrderLines(${zeroed[0].id})`, { method: 'PATCH', body: { shipQuantity: 1 }, headers: { 'if-match': zeroed[0]['@odata.etag'] } });
    await api(`/salesOrders(${order.id})/salesOrderLines(${zeroed[1].id})`, { method: 'PATCH', body: { shipQuantity: 1 }, headers: { 'if-match': zeroed[1]['@odata.etag'] } });
    expect((await api(`/salesOrders(${order.id})/Microsoft.NAV.shipAndInvoice`, { method: 'POST' })).status).toBe(204);
    expect((await api(`/salesOrders(${order.id})`)).status).toBe(404);
    expect(sim.state.shipments.size).toBeGreaterThanOrEqual(2);
    // API v2.0 has no other posting action.
    const other = await createOrder('SIM-ACTION', [{ lineObjectNumber: '1920-S', quantity: 1 }]);
    expect((await api(`/salesOrders(${other.id})/Microsoft.NAV.ship`, { method: 'POST' })).status).toBe(400);
  });

  it('a user ships part of an order and fills in tracking later: the custom page shows it, and the shipment changes', async () => {
    const order = await createOrder('SIM-USER', [{ lineObjectNumber: '1928-S', quantity: 5 }]);
    const control = (path: string, body: unknown, method = 'POST') => fetch(`${base}/_control/${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: await r.json() as any }));
    const shipped = await control(`orders/${order.id}/ship`, { lines: [{ lineObjectNumber: '1928-S', quantity: 2 }], packageTrackingNo: 'T-1', shippingAgentCode: 'UPS' });
    expect(shipped.body.salesShipment.salesShipmentLines.map((l: { quantity: number }) => l.quantity)).toEqual([2]);
    expect((await control(`orders/${order.id}/ship`, { lines: [{ lineObjectNumber: '1928-S', quantity: 4 }] })).status).toBe(400);
    const number = shipped.body.salesShipment.number;
    const tracking = await api(`/salesShipmentTracking?$filter=${encodeURIComponent(`number eq '${number}'`)}`);
    expect(tracking.body.value).toEqual([expect.objectContaining({ number, packageTrackingNo: 'T-1', shippingAgentCode: 'UPS' })]);
    const patched = await control(`shipments/${number}`, { packageTrackingNo: 'T-2' }, 'PATCH');
    expect(patched.body.lastModifiedDateTime > shipped.body.salesShipment.lastModifiedDateTime).toBe(true);
    expect((await api(`/salesShipmentTracking?$filter=${encodeURIComponent(`number eq '${number}'`)}`)).body.value[0].packageTrackingNo).toBe('T-2');
    // The rest, then nothing left: a second shipment, then none.
    expect((await control(`orders/${order.id}/ship`, {})).body.salesShipment.salesShipmentLines.map((l: { quantity: number }) => l.quantity)).toEqual([3]);
    expect((await control(`orders/${order.id}/ship`, {})).body.salesShipment).toBeNull();
    // The page is the company's own: not under another API route.
    expect((await api('/salesShipmentTracking', {}, 'contoso/shipping/v1.0')).status).toBe(404);
  });
});

describe('Business Central simulator: pricing and taxing sales orders', () => {
  const post = (body: Record<string, unknown>, expand = true) => api(`/salesOrders${expand ? '?$expand=salesOrderLines' : ''}`, { method: 'POST', body });
  const itemLines = (lines: Array<Record<string, unknown>>) => lines.map((l) => ({ lineType: 'Item', ...l }));

  it('a line without unitPrice takes the best price list price for the customer, else the item\'s; each line taxed, rounded to the cent; the totals summed', async () => {
    const created = await post({
      externalDocumentNumber: 'SIM-PRICE-1', customerNumber: '10000',
      salesOrderLines: itemLines([
        // Everyone's 95, Adatum's own 90 over the year, 85 from 10 units.
        { lineObjectNumber: '1896-S', quantity: 2 },
        { lineObjectNumber: '1896-S', quantity: 10 },
        // No price list line: the item's unitPrice.
        { lineObjectNumber: '1906-S', quantity: 1 },
        // A price sent is the price.
        { lineObjectNumber: '1900-S', quantity: 1, unitPrice: 7 },
      ]),
    });
    expect(created.status).toBe(201);
    // 8.25 %: 14.85, 70.125 → 70.13, 12.375 → 12.38, 0.5775 → 0.58.
    expect(created.body.salesOrderLines.map((l: Record<string, number>) => [l.unitPrice, l.amountExcludingTax, l.taxPercent, l.totalTaxAmount, l.amountIncludingTax])).toEqual([
      [90, 180, 8.25, 14.85, 194.85], [85, 850, 8.25, 70.13, 920.13], [150, 150, 8.25, 12.38, 162.38], [7, 7, 8.25, 0.58, 7.58],
    ]);
    expect(created.body).toMatchObject({ currencyCode: 'USD', totalAmountExcludingTax: 1187, totalTaxAmount: 97.94, totalAmountIncludingTax: 1284.94 });
    // Each property is one Microsoft documents.
    for (const field of ['amountExcludingTax', 'taxPercent', 'totalTaxAmount', 'amountIncludingTax']) expect(bcFixture('bc_v2_salesOrderLine_create.response.json')).toHaveProperty(field);
  });

  it('another customer gets everyone\'s price, a price in another currency is not the order\'s, and a changed item price is the next order\'s', async () => {
    const lines = itemLines([{ lineObjectNumber: '1896-S', quantity: 2 }, { lineObjectNumber: '1900-S', quantity: 1 }, { lineObjectNumber: '1968-S', quantity: 1 }]);
    const before = await post({ externalDocumentNumber: 'SIM-PRICE-2', customerNumber: '20000', salesOrderLines: lines });
    expect(before.body.salesOrderLines.map((l: { unitPrice: number }) => l.unitPrice)).toEqual([95, 125, 325]);
    await fetch(`${base}/_control/items/1968-S`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ unitPrice: 140 }) });
    const after = await post({ externalDocumentNumber: 'SIM-PRICE-3', customerNumber: '20000', salesOrderLines: lines });
    expect(after.body.salesOrderLines.map((l: { unitPrice: number }) => l.unitPrice)).toEqual([95, 125, 140]);
    expect(after.body.totalAmountExcludingTax).toBe(before.body.totalAmountExcludingTax - 185);
  });

  it('answers a deep insert with its lines only when asked ($expand=salesOrderLines), and a GET likewise', async () => {
    const plain = await post({ externalDocumentNumber: 'SIM-EXPAND', customerNumber: '10000', salesOrderLines: itemLines([{ lineObjectNumber: '1896-S', quantity: 1 }]) }, false);
    expect(plain.status).toBe(201);
    expect(plain.body).not.toHaveProperty('salesOrderLines');
    // 7.425 of tax: half a cent goes up.
    expect(plain.body.totalAmountIncludingTax).toBe(97.43);
    const found = await api(`/salesOrders?$filter=${encodeURIComponent("externalDocumentNumber eq 'SIM-EXPAND'")}&$expand=salesOrderLines`);
    expect(found.body.value[0].salesOrderLines).toEqual([expect.objectContaining({ lineObjectNumber: '1896-S', unitPrice: 90, amountExcludingTax: 90, totalTaxAmount: 7.43 })]);
  });
});

describe('Business Central simulator: the custom prices page', () => {
  it('serves no prices page unless asked; when asked, the seeded price list lines, filtered and changed through the control API', async () => {
    expect((await api('/customerPrices')).status).toBe(405);
    const priced = createBusinessCentralSimulator({ ratePerSecond: 1000, customerPricesApi: 'contoso/pricing/v1.0/customerPrices' });
    const url = await priced.listen();
    try {
      const answer = await fetch(`${url}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=a&client_secret=b' });
      const bearer = { authorization: `Bearer ${((await answer.json()) as { access_token: string }).access_token}` };
      const page = async (query = '') => (await (await fetch(`${url}/v2.0/tenant/production/api/contoso/pricing/v1.0/companies(${COMPANY})/customerPrices${query}`, { headers: bearer })).json()) as { value: Array<Record<string, unknown>> };
      const year = new Date().getUTCFullYear();
      expect((await page()).value.map(({ id: _id, ...line }) => line)).toEqual([
        { lineNo: 10000, priceListCode: 'S00001', itemNo: '1896-S', customerNo: '', currencyCode: '', unitPrice: 95, minimumQuantity: 0, startingDate: '0001-01-01', endingDate: '0001-01-01' },
        { lineNo: 20000, priceListCode: 'S00002', itemNo: '1896-S', customerNo: '10000', currencyCode: '', unitPrice: 90, minimumQuantity: 0, startingDate: `${year}-01-01`, endingDate: `${year}-12-31` },
        { lineNo: 30000, priceListCode: 'S00002', itemNo: '1896-S', customerNo: '10000', currencyCode: '', unitPrice: 85, minimumQuantity: 10, startingDate: `${year}-01-01`, endingDate: `${year}-12-31` },
        { lineNo: 40000, priceListCode: 'S00003', itemNo: '1900-S', customerNo: '', currencyCode: 'EUR', unitPrice: 110, minimumQuantity: 0, startingDate: '0001-01-01', endingDate: '0001-01-01' },
      ]);
      expect((await page(`?$filter=${encodeURIComponent("customerNo eq '10000'")}`)).value.map((l) => l.lineNo)).toEqual([20000, 30000]);
      const control = (lineNo: number, method: string, body?: unknown) =>
        fetch(`${url}/_control/price-list-lines/${lineNo}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
      expect(await (await control(20000, 'PUT', { unitPrice: 88 })).json()).toMatchObject({ lineNo: 20000, customerNo: '10000', unitPrice: 88 });
      expect(await (await control(40000, 'DELETE')).json()).toEqual({ deleted: true });
      expect((await page()).value.map((l) => [l.lineNo, l.unitPrice])).toEqual([[10000, 95], [20000, 88], [30000, 85]]);
    } finally {
      await priced.close();
    }
  });
});

describe('Business Central simulator: customers', () => {
  // Microsoft's documented customer (api-reference/v2.0 dynamics_customer_get) and its PATCH example (dynamics_customer_update).
  const DOCUMENTED_CUSTOMER = [
    'id', 'number', 'displayName', 'type', 'addressLine1', 'addressLine2', 'city', 'state', 'country', 'postalCode', 'phoneNumber', 'email', 'website', 'taxLiable',
    'taxRegistrationNumber', 'currencyCode', 'paymentTermsId', 'blocked', 'lastModifiedDateTime',
  ];
  const DOCUMENTED_PATCH = { displayName: 'Coho Winery Inc.', phoneNumber: '(555) 555-1234' };
  const byNumber = async (number: string) => (await api(`/customers?$filter=${encodeURIComponent(`number eq '${number}'`)}`)).body.value[0];

  it('finds a customer by number with its etag and the documented properties; PATCH needs the etag, and a stale one is 412', async () => {
    const adatum = await byNumber('10000');
    for (const property of DOCUMENTED_CUSTOMER) expect(adatum).toHaveProperty(property);
    expect(adatum).toMatchObject({ displayName: 'Adatum Corporation', addressLine1: '192 Market Square', city: 'Atlanta', state: 'GA', country: 'US', email: 'robert.townes@contoso.com' });
    expect(adatum['@odata.etag']).toMatch(/^W\//);
    const patch = (body: unknown, etag?: string) => api(`/customers(${adatum.id})`, { method: 'PATCH', body, headers: etag ? { 'if-match': etag } : {} });
    // Business Central's answer without If-Match.
    expect(await patch(DOCUMENTED_PATCH)).toMatchObject({ status: 400, body: { error: { code: 'BadRequest_InvalidToken' } } });
    const patched = await patch(DOCUMENTED_PATCH, adatum['@odata.etag']);
    expect(patched).toMatchObject({ status: 200, body: { ...DOCUMENTED_PATCH, addressLine1: '192 Market Square' } });
    expect(patched.body['@odata.etag']).not.toBe(adatum['@odata.etag']);
    expect(await patch({ displayName: 'Adatum' }, adatum['@odata.etag'])).toMatchObject({ status: 412, body: { error: { code: 'Request_EntityChanged' } } });
    expect((await api(`/customers(${adatum.id})`)).body).toEqual(patched.body);
    await patch({ displayName: 'Adatum Corporation', phoneNumber: '' }, patched.body['@odata.etag']);
  });

  it('takes codes in capitals, refuses a property it does not have, a value longer than its field, and payment terms it does not have', async () => {
    const customer = await byNumber('40000');
    const patch = async (body: unknown) => api(`/customers(${customer.id})`, { method: 'PATCH', body, headers: { 'if-match': '*' } });
    expect((await patch({ postalCode: 'sw1a 2aa', country: 'gb' })).body).toMatchObject({ postalCode: 'SW1A 2AA', country: 'GB' });
    expect((await patch({ shipToAddresses: [] })).body.error.message).toMatch(/^The property 'shipToAddresses' does not exist on type 'Microsoft\.NAV\.customer'/);
    expect((await patch({ city: 'X'.repeat(31) })).body.error.message).toMatch(/^The length of the string is 31, but it must be less than or equal to 30 characters/);
    expect((await patch({ paymentTermsId: '7a5f2c10-0000-4000-8000-000000000099' })).status).toBe(400);
    const terms = (await api(`/paymentTerms?$filter=${encodeURIComponent("code eq 'CM'")}`)).body.value;
    expect(terms).toEqual([expect.objectContaining({ id: '7a5f2c10-0000-4000-8000-0000000000c3', code: 'CM', displayName: 'Current Month' })]);
    expect((await patch({ paymentTermsId: terms[0].id })).body.paymentTermsId).toBe(terms[0].id);
  });

  it('a change through the control API gives the customer a new etag; an edit set up for the next PATCH lands first and makes it 412', async () => {
    const before = await byNumber('20000');
    await fetch(`${base}/_control/customers/20000`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ website: 'trey.example' }) });
    const after = await byNumber('20000');
    expect(after).toMatchObject({ website: 'trey.example', displayName: 'Trey Research' });
    expect(after['@odata.etag']).not.toBe(before['@odata.etag']);
    expect(Date.parse(after.lastModifiedDateTime)).toBeGreaterThan(Date.parse(before.lastModifiedDateTime));
    await fetch(`${base}/_control/customers/20000/edit-before-next-patch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fields: { email: 'other@trey.example' } }) });
    expect((await api(`/customers(${after.id})`, { method: 'PATCH', body: { phoneNumber: '1' }, headers: { 'if-match': after['@odata.etag'] } })).status).toBe(412);
    expect(await byNumber('20000')).toMatchObject({ email: 'other@trey.example', phoneNumber: '' });
  });

  it('creates a customer by POST with its number and properties, checked as a PATCH is; a number taken is 400, as Business Central answers', async () => {
    const created = await api('/customers', {
      method: 'POST',
      body: {
        number: 'new-1', displayName: 'New One', email: 'new@example.com', phoneNumber: '+14045550111', addressLine1: '1 Main St', city: 'Atlanta', country: 'us',
        taxRegistrationNumber: 'US-1', paymentTermsId: '7a5f2c10-0000-4000-8000-000000000014',
      },
    });
    expect(created).toMatchObject({ status: 201, body: { number: 'NEW-1', displayName: 'New One', country: 'US', paymentTermsId: '7a5f2c10-0000-4000-8000-000000000014' } });
    expect(await byNumber('NEW-1')).toEqual(created.body);
    expect(await api('/customers', { method: 'POST', body: { number: 'NEW-1', displayName: 'Again' } })).toMatchObject({
      status: 400, body: { error: { code: 'Internal_EntityWithSameKeyExists', message: expect.stringMatching(/^The record in table Customer already exists\. Identification fields and values: No\.='NEW-1'/) } },
    });
    expect((await api('/customers', { method: 'POST', body: { number: 'NEW-2', shipToAddresses: [] } })).status).toBe(400);
    expect(await byNumber('NEW-2')).toBeUndefined();
    // Without a number: the next of the number series.
    expect((await api('/customers', { method: 'POST', body: { displayName: 'Numbered' } })).body.number).toBe('C00001');
    expect((await api(`/customers(${created.body.id})`, { method: 'DELETE' })).status).toBe(204);
    expect(await byNumber('NEW-1')).toBeUndefined();
  });
});

describe('Business Central simulator: webhook subscriptions', () => {
  const CUSTOMERS = `/api/v2.0/companies(${COMPANY})/customers`;
  let receiver: BcNotificationReceiver;
  let hooks: string;

  beforeAll(async () => {
    receiver = createBcNotificationReceiver();
    hooks = await receiver.listen();
  });
  afterAll(() => receiver.close());
  beforeEach(() => {
    // Each test with its own subscriptions: the earlier ones are gone, and what they had waiting with them.
    sim.state.subscriptions.clear();
    receiver.answerHandshakes('echo');
  });

  const subscribe = (path: string, fields: Record<string, unknown> = {}) =>
    apiRoot('/subscriptions', { method: 'POST', body: { notificationUrl: `${hooks}${path}`, resource: CUSTOMERS, clientState: 'secret-state', ...fields } });
  const control = async (path: string, method = 'GET', body?: unknown) => {
    const response = await fetch(`${base}/_control/${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
    return response.json() as Promise<any>;
  };
  const batchesTo = (path: string) => receiver.received.batches.filter((b) => b.path === path).map((b) => (b.body as { value: SimChangeNotice[] }).value);
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('creates a subscription once its notification URL answers the handshake with the token: as documented, at the API\'s root, for three days', async () => {
    const created = await subscribe('/hooks/created?receiver=a');
    expect(created.status).toBe(201);
    const handshake = receiver.received.handshakes.at(-1)!;
    expect(handshake.path).toBe('/hooks/created');
    expect(sim.state.handshakes.at(-1)).toEqual({ at: expect.any(String), url: `${hooks}/hooks/created?receiver=a&validationToken=${handshake.token}`, status: 200, answer: handshake.token });
    expect(Object.keys(created.body).sort()).toEqual(['@odata.etag', ...Object.keys(sharedFixture('bc_v2_subscription_response.json'))].sort());
    expect(created.body).toMatchObject({ notificationUrl: `${hooks}/hooks/created?receiver=a`, resource: CUSTOMERS, clientState: 'secret-state', subscriptionId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const lifetime = Date.parse(created.body.expirationDateTime) - Date.now();
    expect(lifetime).toBeGreaterThan(3 * 24 * 3600_000 - 60_000);
    expect(lifetime).toBeLessThanOrEqual(3 * 24 * 3600_000);
    const id = created.body.subscriptionId;
    expect((await apiRoot('/subscriptions')).body.value).toEqual([created.body]);
    expect((await apiRoot(`/subscriptions('${id}')`)).body).toEqual(created.body);
    // The key is a string: in quotes, as Business Central wants it.
    expect((await apiRoot(`/subscriptions(${id})`)).status).toBe(400);
    expect((await apiRoot("/subscriptions('0123')")).status).toBe(404);
    // Microsoft's example request, as it is.
    const example = sharedFixture('bc_v2_subscription_create_request.json');
    expect(await subscribe('/hooks/example', { resource: example.resource, clientState: example.clientState })).toMatchObject({ status: 201, body: { resource: example.resource } });
  });

  it('creates none when the handshake fails, saying why: an answer without the token, an error, an answer too late; nor for other than customers', async () => {
    const refused = async (answer: Parameters<BcNotificationReceiver['answerHandshakes']>[0], why: RegExp) => {
      receiver.answerHandshakes(answer);
      const subscription = await subscribe('/hooks/refused');
      expect(subscription.status).toBe(400);
      expect(subscription.body.error.message).toMatch(why);
    };
    await refused('wrong', /^The subscription was not created: the handshake with the notificationUrl failed: it answered 200 without the validationToken as its body\./);
    await refused('refuse', /it answered 500, not 200/);
    await refused({ echoAfterMs: 600 }, /it did not answer within 300 ms/);
    expect(sim.state.handshakes.slice(-3).map((h) => [h.status, h.problem !== undefined])).toEqual([[200, true], [500, true], [0, true]]);
    expect((await apiRoot('/subscriptions')).body.value).toEqual([]);
    receiver.answerHandshakes('echo');
    const handshakes = receiver.received.handshakes.length;
    expect((await subscribe('/hooks/items', { resource: `/api/v2.0/companies(${COMPANY})/items` })).body.error.message).toMatch(/customers only, not of 'items'/);
    expect((await subscribe('/hooks/refused', { notificationUrl: 'hooks/refused' })).body.error.message).toMatch(/notificationUrl must be an absolute/);
    expect((await subscribe('/hooks/refused', { clientState: 'x'.repeat(2049) })).status).toBe(400);
    // Refused before any handshake.
    expect(receiver.received.handshakes.length).toBe(handshakes);
  });

  it('renews by a PATCH with the etag: the handshake again, a later expiry, a new etag; a stale etag is 412, none 400; DELETE takes the etag too', async () => {
    const created = (await subscribe('/hooks/renewed')).body;
    const at = `/subscriptions('${created.subscriptionId}')`;
    const handshakes = receiver.received.handshakes.length;
    const renewal = { notificationUrl: created.notificationUrl, resource: created.resource, clientState: created.clientState };
    expect((await apiRoot(at, { method: 'PATCH', body: renewal })).body.error.code).toBe('BadRequest_InvalidToken');
    const renewed = await apiRoot(at, { method: 'PATCH', body: renewal, headers: { 'if-match': created['@odata.etag'] } });
    expect(renewed.status).toBe(200);
    expect(receiver.received.handshakes.length).toBe(handshakes + 1);
    expect(Date.parse(renewed.body.expirationDateTime)).toBeGreaterThan(Date.parse(created.expirationDateTime));
    expect(renewed.body['@odata.etag']).not.toBe(created['@odata.etag']);
    expect(await apiRoot(at, { method: 'PATCH', body: renewal, headers: { 'if-match': created['@odata.etag'] } })).toMatchObject({ status: 412, body: { error: { code: 'Request_EntityChanged' } } });
    // A renewal whose handshake fails leaves the subscription as it was.
    receiver.answerHandshakes('refuse');
    expect((await apiRoot(at, { method: 'PATCH', body: renewal, headers: { 'if-match': renewed.body['@odata.etag'] } })).body.error.message).toMatch(/^The subscription was not renewed: .*answered 500/);
    expect((await apiRoot(at)).body).toEqual(renewed.body);
    expect((await apiRoot(at, { method: 'DELETE', headers: { 'if-match': created['@odata.etag'] } })).status).toBe(412);
    expect((await apiRoot(at, { method: 'DELETE', headers: { 'if-match': renewed.body['@odata.etag'] } })).status).toBe(204);
    expect((await apiRoot(at)).status).toBe(404);
  });

  it('sends the changes of customers in one batch per notification URL after the delay: created, updated, deleted, one notice per customer and subscription', async () => {
    await control('customers/WH-2', 'PUT', { displayName: 'Webhook Two' });
    const gone = sim.state.customers.get('WH-2')!;
    const first = (await subscribe('/hooks/batch')).body;
    const second = (await subscribe('/hooks/batch', { clientState: 'other-state' })).body;
    const created = (await api('/customers', { method: 'POST', body: { number: 'WH-1', displayName: 'Webhook One' } })).body;
    const trey = sim.state.customers.get('20000')!;
    await api(`/customers(${trey.id})`, { method: 'PATCH', body: { phoneNumber: '+13125550100' }, headers: { 'if-match': '*' } });
    // A change of a customer created in the same batch: still `created`.
    await control('customers/WH-1', 'PUT', { email: 'one@example.com' });
    await control('customers/WH-2', 'DELETE');
    expect(batchesTo('/hooks/batch')).toEqual([]);
    await vi.waitFor(() => expect(batchesTo('/hooks/batch')).toHaveLength(1), { timeout: 2000 });
    const [batch] = batchesTo('/hooks/batch');
    const customers = `api/v2.0/companies(${COMPANY})/customers`;
    const noticesOf = (subscription: typeof first) => [
      { resource: `${customers}(${created.id})`, changeType: 'created', lastModifiedDateTime: sim.state.customers.get('WH-1')!.lastModifiedDateTime },
      { resource: `${customers}(${trey.id})`, changeType: 'updated', lastModifiedDateTime: sim.state.customers.get('20000')!.lastModifiedDateTime },
      { resource: `${customers}(${gone.id})`, changeType: 'deleted', lastModifiedDateTime: expect.any(String) },
    ].map((notice) => ({ subscriptionId: subscription.subscriptionId, clientState: subscription.clientState, expirationDateTime: subscription.expirationDateTime, ...notice }));
    expect(batch).toEqual([...noticesOf(first), ...noticesOf(second)]);
    // Microsoft's documented notification has these fields and no others.
    expect(Object.keys(batch![0]!).sort()).toEqual(Object.keys(sharedFixture('bc_v2_webhook_notification_batch.json').value[1]).sort());
    await pause(300);
    expect(batchesTo('/hooks/batch')).toHaveLength(1);
    expect(sim.state.notifications.at(-1)).toMatchObject({ url: `${hooks}/hooks/batch`, status: 202, body: { value: batch } });
  });

  it('past the threshold of customers changed in one batch: one collection notice, whose filter reads them', async () => {
    const subscription = (await subscribe('/hooks/collection')).body;
    for (const number of ['10000', '20000', '30000', '40000']) await control(`customers/${number}`, 'PUT', { website: 'collection.example' });
    await vi.waitFor(() => expect(batchesTo('/hooks/collection')).toHaveLength(1), { timeout: 2000 });
    const [[notice, ...others]] = batchesTo('/hooks/collection') as [SimChangeNotice[]];
    expect(others).toEqual([]);
    expect(notice).toMatchObject({ subscriptionId: subscription.subscriptionId, changeType: 'collection', lastModifiedDateTime: sim.state.customers.get('40000')!.lastModifiedDateTime });
    expect(notice!.resource).toMatch(new RegExp(`^/api/v2\\.0/companies\\(${COMPANY}\\)/customers\\?\\$filter=lastModifiedDateTime%20gt%20\\d{4}-`));
    const changed = await api(`/customers${notice!.resource.slice(notice!.resource.indexOf('?'))}`);
    expect(changed.body.value.map((c: { number: string }) => c.number)).toEqual(['10000', '20000', '30000', '40000']);
  });

  it('an expired subscription is sent nothing, not even the changes it had waiting, and is gone from the API', async () => {
    const subscription = (await subscribe('/hooks/expired')).body;
    expect(await control('subscriptions')).toEqual([{ ...subscription, expired: false }]);
    await control('customers/10000', 'PUT', { website: 'before-expiry.example' });
    expect(await control(`subscriptions/${subscription.subscriptionId}/expire`, 'POST')).toMatchObject({ subscriptionId: subscription.subscriptionId, expired: true });
    await control('customers/10000', 'PUT', { website: 'after-expiry.example' });
    await pause(400);
    expect(batchesTo('/hooks/expired')).toEqual([]);
    const at = `/subscriptions('${subscription.subscriptionId}')`;
    expect((await apiRoot(at)).status).toBe(404);
    expect((await apiRoot(at, { method: 'PATCH', body: {}, headers: { 'if-match': subscription['@odata.etag'] } })).status).toBe(404);
    expect((await apiRoot('/subscriptions')).body.value).toEqual([]);
    expect(await control('subscriptions')).toEqual([expect.objectContaining({ subscriptionId: subscription.subscriptionId, expired: true })]);
  });
});
