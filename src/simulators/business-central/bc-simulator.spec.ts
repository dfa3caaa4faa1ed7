import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBusinessCentralSimulator, type BusinessCentralSimulator } from './bc-simulator.js';

// The simulator's sales order lines, posting action and posted shipments as a client other than Crossdock's sees
// them: plain HTTP, checked against Microsoft's documented examples.
const bcFixture = (name: string) => JSON.parse(readFileSync(new URL(`../../../test/fixtures/business_central/${name}`, import.meta.url), 'utf8'));
const COMPANY = 'c0ffee00-0000-0000-0000-000000000001';

let sim: BusinessCentralSimulator;
let base: string;
let token: string;

beforeAll(async () => {
  sim = createBusinessCentralSimulator({ ratePerSecond: 1000, shipmentTrackingPage: 'salesShipmentTracking' });
  base = await sim.listen();
  const answer = await fetch(`${base}/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&client_id=a&client_secret=b' });
  token = ((await answer.json()) as { access_token: string }).access_token;
});
afterAll(() => sim.close());

async function api(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}, root = 'v2.0') {
  const response = await fetch(`${base}/v2.0/tenant/production/api/${root}/companies(${COMPANY})${path}`, {
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
});
