import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSapB1Simulator, defaultSapB1Data, type SapB1Simulator } from './sap-b1-simulator.js';

// The simulator as a client other than Crossdock's sees it: plain HTTP, checked against SAP's published payloads.
const sapFixture = (name: string) => JSON.parse(readFileSync(new URL(`../../../test/fixtures/sap_b1/${name}`, import.meta.url), 'utf8'));

let sim: SapB1Simulator;
let base: string;

beforeAll(async () => {
  sim = createSapB1Simulator({ data: { items: Array.from({ length: 45 }, (_, i) => ({ ...defaultSapB1Data().items[i % 10]!, ItemCode: `A${String(i + 1).padStart(5, '0')}` })) } });
  base = await sim.listen();
});
afterAll(() => sim.close());

async function login(version: 'v1' | 'v2' = 'v1', url = base): Promise<{ cookie: string; response: Response; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/b1s/${version}/Login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ CompanyDB: 'SBODEMOUS', UserName: 'manager', Password: '1234' }) });
  const cookie = response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { cookie, response, body: (await response.json()) as Record<string, unknown> };
}

async function sl(path: string, cookie: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: { cookie, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

describe('SAP Business One simulator', () => {
  it('logs in as the manual shows: B1SESSION and ROUTEID cookies, the session\'s id, version and timeout; Logout ends it', async () => {
    const { response, body, cookie } = await login();
    expect(response.status).toBe(200);
    const documented = sapFixture('login_response.json');
    expect(Object.keys(body).sort()).toEqual(Object.keys(documented).sort());
    expect(body).toMatchObject({ SessionTimeout: 30, SessionId: expect.any(String) });
    const cookies = response.headers.getSetCookie();
    expect(cookies).toEqual([`B1SESSION=${body.SessionId};HttpOnly;`, 'ROUTEID=.node1; path=/b1s']);
    expect((await sl('/b1s/v1/Items?$top=1', cookie)).status).toBe(200);
    expect(sim.state.requests.at(-1)).toMatchObject({ session: body.SessionId, routeId: '.node1' });
    expect((await sl('/b1s/v1/Logout', cookie, { method: 'POST' })).status).toBe(204);
    expect((await sl('/b1s/v1/Items?$top=1', cookie)).status).toBe(401);
  });

  it('answers an unknown or expired session with 401 and code 301, in each version\'s envelope', async () => {
    const v1 = await sl('/b1s/v1/Orders', 'B1SESSION=nope');
    expect(v1).toMatchObject({ status: 401 });
    expect(v1.body).toEqual(sapFixture('error_invalid_session_401.json'));
    const v2 = await sl('/b1s/v2/Orders', 'B1SESSION=nope');
    expect(v2.body).toEqual({ error: { code: '301', message: 'Invalid session or session already timeout.' } });
    // A session idle for longer than the setting has ended.
    const { cookie } = await login();
    await fetch(`${base}/_control/settings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionIdleSeconds: 0.05 }) });
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await sl('/b1s/v1/Orders', cookie)).status).toBe(401);
    } finally {
      await fetch(`${base}/_control/settings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionIdleSeconds: 1800 }) });
    }
  });

  it('refuses credentials other than the ones it was given, with SAP\'s login error', async () => {
    const strict = createSapB1Simulator({ password: 'right' });
    const url = await strict.listen();
    try {
      const { response, body } = await login('v1', url);
      expect(response.status).toBe(401);
      expect(body).toEqual(sapFixture('error_login_failed.json'));
    } finally {
      await strict.close();
    }
  });

  it('pages collections by 20 unless the client asks (Preference-Applied), with v1\'s and v2\'s next links', async () => {
    const { cookie } = await login();
    const first = await sl('/b1s/v1/Items?$select=ItemCode', cookie);
    expect(first.body.value).toHaveLength(20);
    expect(first.body['odata.nextLink']).toBe('/b1s/v1/Items?$select=ItemCode&$skip=20');
    const second = await sl(first.body['odata.nextLink'], cookie);
    expect(second.body.value[0]).toEqual({ ItemCode: 'A00021' });
    const last = await sl(`/b1s/v1/Items?$select=ItemCode&$skip=40`, cookie);
    expect(last.body.value).toHaveLength(5);
    expect(last.body).not.toHaveProperty('odata.nextLink');
    const asked = await sl('/b1s/v1/Items?$select=ItemCode', cookie, { headers: { prefer: 'odata.maxpagesize=50' } });
    expect(asked.body.value).toHaveLength(45);
    expect(asked.headers.get('preference-applied')).toBe('odata.maxpagesize=50');
    expect((await sl('/b1s/v1/Items?$select=ItemCode', cookie, { headers: { 'B1S-PageSize': '0' } })).body.value).toHaveLength(45);
    const v2 = await sl('/b1s/v2/Items?$select=ItemCode', cookie, { headers: { prefer: 'odata.maxpagesize=30' } });
    expect(v2.body['@odata.nextLink']).toBe('Items?$select=ItemCode&$skip=30');
    expect(v2.body['@odata.context']).toBe('$metadata#Items');
    // The manual's page has the same keys.
    expect(Object.keys(sapFixture('orders_list_page_v1.json'))).toEqual(['value', 'odata.nextLink']);
  });

  it('filters (eq, ge, gt, and, or, parentheses), selects, orders and refuses an unknown property', async () => {
    const { cookie } = await login();
    const filter = encodeURIComponent("ItemCode eq 'A00001' or (ItemCode ge 'A00044' and ItemCode gt 'A00043')");
    const found = await sl(`/b1s/v1/Items?$filter=${filter}&$select=ItemCode&$orderby=ItemCode desc`, cookie);
    expect(found.body.value).toEqual([{ ItemCode: 'A00045' }, { ItemCode: 'A00044' }, { ItemCode: 'A00001' }]);
    const customers = await sl(`/b1s/v1/BusinessPartners?$filter=${encodeURIComponent("CardType eq 'cCustomer'")}&$select=CardCode`, cookie);
    expect(customers.body.value.map((p: { CardCode: string }) => p.CardCode)).toEqual(['c00001', 'c00002', 'c00003', 'c00004']);
    const unknown = await sl(`/b1s/v1/Items?$filter=${encodeURIComponent("Colour eq 'red'")}`, cookie);
    expect(unknown).toMatchObject({ status: 400, body: { error: { code: -1000, message: { value: "Property 'Colour' of 'Item' is invalid" } } } });
    expect((await sl(`/b1s/v1/Items?$filter=${encodeURIComponent('ItemCode eq')}`, cookie)).status).toBe(400);
  });

  it('takes SAP\'s example order (numbers as strings), commits its stock, and cancels it once; refuses what SAP refuses', async () => {
    const { cookie } = await login();
    const committed = () => sim.state.items.get('A00001')!.ItemWarehouseInfoCollection.find((w) => w.WarehouseCode === '01')!.Committed;
    const documented = sapFixture('orders_create_request_postman.json');
    const unknownCustomer = await sl('/b1s/v1/Orders', cookie, { method: 'POST', body: documented });
    expect(unknownCustomer).toMatchObject({ status: 400, body: { error: { code: -10, message: { lang: 'en-us', value: "Invalid BP code 'C20000'" } } } });
    const before = committed();
    const created = await sl('/b1s/v1/Orders', cookie, { method: 'POST', body: { ...documented, CardCode: 'c00001', NumAtCard: 'PO-1' } });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`Orders(${created.body.DocEntry})`);
    expect(created.body).toMatchObject({ CardCode: 'c00001', NumAtCard: 'PO-1', DocumentStatus: 'bost_Open', Cancelled: 'tNO', DocCurrency: '$', DocumentLines: [{ ItemCode: 'A00001', Quantity: 100, UnitPrice: 30, WarehouseCode: '01' }] });
    expect(committed()).toBe(before + 100);
    const byReference = await sl(`/b1s/v1/Orders?$filter=${encodeURIComponent("NumAtCard eq 'PO-1'")}&$select=DocEntry,DocNum`, cookie);
    expect(byReference.body.value).toEqual([{ DocEntry: created.body.DocEntry, DocNum: created.body.DocNum }]);
    expect((await sl(`/b1s/v1/Orders(${created.body.DocEntry})/Cancel`, cookie, { method: 'POST' })).status).toBe(204);
    expect(committed()).toBe(before);
    expect((await sl(`/b1s/v1/Orders(${created.body.DocEntry})/Cancel`, cookie, { method: 'POST' })).status).toBe(400);
    for (const [body, message] of [
      [{ CardCode: 'c00001', DocDueDate: '2026-12-01', DocumentLines: [] }, 'at least one row'],
      [{ CardCode: 'c00001', DocDueDate: '2026-12-01', DocumentLines: [{ ItemCode: 'X1', Quantity: 1 }] }, "Invalid item code 'X1'"],
      [{ CardCode: 'c00001', DocDueDate: '2026-12-01', DocumentLines: [{ ItemCode: 'A00001', Quantity: 1, WarehouseCode: '09' }] }, "Invalid warehouse code '09'"],
      [{ CardCode: 'c00001', DocumentLines: [{ ItemCode: 'A00001', Quantity: 1 }] }, 'delivery date'],
      [{ CardCode: 'c00002', DocDueDate: '2026-12-01', DocumentLines: [{ ItemCode: 'A00001', Quantity: 1 }] }, 'inactive'],
    ] as const) {
      const refused = await sl('/b1s/v2/Orders', cookie, { method: 'POST', body });
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toContain(message);
    }
  });

  it('a delivery based on an order takes its stock and its commitment, and closes the order', async () => {
    const { cookie } = await login();
    const row = () => sim.state.items.get('A00002')!.ItemWarehouseInfoCollection.find((w) => w.WarehouseCode === '02')!;
    const { InStock, Committed } = row();
    const order = await sl('/b1s/v1/Orders', cookie, { method: 'POST', body: { CardCode: 'c00001', DocDueDate: '2026-12-01', DocumentLines: [{ ItemCode: 'A00002', Quantity: 3, WarehouseCode: '02' }] } });
    expect(row()).toMatchObject({ InStock, Committed: Committed + 3 });
    const delivery = await sl('/b1s/v1/DeliveryNotes', cookie, { method: 'POST', body: { CardCode: 'c00001', DocumentLines: [{ BaseType: 17, BaseEntry: order.body.DocEntry, BaseLine: 0, Quantity: 3 }] } });
    expect(delivery.status).toBe(201);
    expect(delivery.body.DocumentLines[0]).toMatchObject({ ItemCode: 'A00002', WarehouseCode: '02', BaseType: 17, BaseEntry: order.body.DocEntry, BaseLine: 0 });
    expect(row()).toMatchObject({ InStock: InStock - 3, Committed });
    expect(sim.state.documents.Orders.get(order.body.DocEntry)).toMatchObject({ DocumentStatus: 'bost_Close', Cancelled: 'tNO' });
    const listed = await sl('/b1s/v1/DeliveryNotes?$select=DocEntry,CardCode', cookie);
    expect(listed.body.value).toContainEqual({ DocEntry: delivery.body.DocEntry, CardCode: 'c00001' });
    // An invoice of the delivery moves no stock again.
    await sl('/b1s/v1/Invoices', cookie, { method: 'POST', body: { CardCode: 'c00001', DocumentLines: [{ BaseType: 15, BaseEntry: delivery.body.DocEntry, BaseLine: 0, Quantity: 3 }] } });
    expect(row().InStock).toBe(InStock - 3);
  });

  it('a delivery carries TrackingNumber and Comments, may be patched later, is found by UpdateDate, and cancelled gives its order back', async () => {
    const { cookie } = await login();
    const row = () => sim.state.items.get('A00004')!.ItemWarehouseInfoCollection.find((w) => w.WarehouseCode === '01')!;
    const { InStock, Committed } = row();
    const order = await sl('/b1s/v1/Orders', cookie, { method: 'POST', body: { CardCode: 'c00001', NumAtCard: 'PO-TRACK', DocDueDate: '2026-12-01', DocumentLines: [{ ItemCode: 'A00004', Quantity: 5, WarehouseCode: '01' }] } });
    const delivery = await sl('/b1s/v1/DeliveryNotes', cookie, {
      method: 'POST',
      body: { CardCode: 'c00001', TrackingNumber: '1Z999AA10123456784', Comments: 'Crossdock shipment s-1', DocumentLines: [{ BaseType: 17, BaseEntry: order.body.DocEntry, BaseLine: 0, Quantity: 2 }] },
    });
    expect(delivery.body).toMatchObject({ TrackingNumber: '1Z999AA10123456784', Comments: 'Crossdock shipment s-1', Cancelled: 'tNO', CancelStatus: 'csNo' });
    expect(sim.state.documents.Orders.get(order.body.DocEntry)!.DocumentLines[0]).toMatchObject({ Quantity: 5, RemainingOpenQuantity: 3, LineStatus: 'bost_Open' });
    // More than the order line has open is refused.
    const over = await sl('/b1s/v1/DeliveryNotes', cookie, { method: 'POST', body: { CardCode: 'c00001', DocumentLines: [{ BaseType: 17, BaseEntry: order.body.DocEntry, BaseLine: 0, Quantity: 4 }] } });
    expect(over.status).toBe(400);
    expect(over.body.error.message.value).toContain('exceeds the open quantity');

    const today = delivery.body.UpdateDate;
    const byDay = await sl(`/b1s/v1/DeliveryNotes?$filter=${encodeURIComponent(`UpdateDate ge '${today}' and Comments eq 'Crossdock shipment s-1'`)}&$select=DocEntry,TrackingNumber`, cookie);
    expect(byDay.body.value).toEqual([{ DocEntry: delivery.body.DocEntry, TrackingNumber: '1Z999AA10123456784' }]);
    const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    expect((await sl(`/b1s/v1/DeliveryNotes?$filter=${encodeURIComponent(`UpdateDate ge '${tomorrow}'`)}`, cookie)).body.value).toEqual([]);

    expect((await sl(`/b1s/v2/DeliveryNotes(${delivery.body.DocEntry})`, cookie, { method: 'PATCH', body: { TrackingNumber: '1Z-NEW' } })).status).toBe(204);
    expect(sim.state.documents.DeliveryNotes.get(delivery.body.DocEntry)!.TrackingNumber).toBe('1Z-NEW');
    expect((await sl(`/b1s/v2/DeliveryNotes(${delivery.body.DocEntry})`, cookie, { method: 'PATCH', body: { DocTotal: 0 } })).status).toBe(400);

    expect((await sl(`/b1s/v1/DeliveryNotes(${delivery.body.DocEntry})/Cancel`, cookie, { method: 'POST' })).status).toBe(204);
    const notes = [...sim.state.documents.DeliveryNotes.values()].filter((d) => d.DocumentLines[0]!.BaseEntry === order.body.DocEntry);
    expect(notes.map((d) => [d.DocEntry === delivery.body.DocEntry, d.Cancelled, d.CancelStatus])).toEqual([[true, 'tYES', 'csYes'], [false, 'tNO', 'csCancellation']]);
    expect(sim.state.documents.Orders.get(order.body.DocEntry)!.DocumentLines[0]).toMatchObject({ RemainingOpenQuantity: 5, LineStatus: 'bost_Open' });
    expect(row()).toMatchObject({ InStock, Committed: Committed + 5 });
    expect((await sl(`/b1s/v1/DeliveryNotes(${delivery.body.DocEntry})/Cancel`, cookie, { method: 'POST' })).status).toBe(400);
    // Nothing is based on the order any more: it can be cancelled, as SAP's cancelled document (csYes).
    expect((await sl(`/b1s/v1/Orders(${order.body.DocEntry})/Cancel`, cookie, { method: 'POST' })).status).toBe(204);
    expect(sim.state.documents.Orders.get(order.body.DocEntry)).toMatchObject({ Cancelled: 'tYES', CancelStatus: 'csYes' });
    expect(row()).toMatchObject({ InStock, Committed });
  });

  it('a clerk delivers part of an order through the control API, with a tracking number', async () => {
    const { cookie } = await login();
    const order = await sl('/b1s/v1/Orders', cookie, { method: 'POST', body: { CardCode: 'c00001', DocDueDate: '2026-12-01', DocumentLines: [{ ItemCode: 'A00005', Quantity: 3 }, { ItemCode: 'A00006', Quantity: 1 }] } });
    const deliver = (body: unknown) => fetch(`${base}/_control/orders/${order.body.DocEntry}/deliver`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const part = await deliver({ DocumentLines: [{ BaseLine: 0, Quantity: 1 }], TrackingNumber: 'T-1' });
    expect(await part.json()).toMatchObject({ TrackingNumber: 'T-1', DocumentLines: [{ ItemCode: 'A00005', Quantity: 1, BaseType: 17, BaseEntry: order.body.DocEntry, BaseLine: 0 }] });
    const rest = await (await deliver({})).json() as { DocumentLines: Array<{ ItemCode: string; Quantity: number }> };
    expect(rest.DocumentLines.map((l) => [l.ItemCode, l.Quantity])).toEqual([['A00005', 2], ['A00006', 1]]);
    expect(sim.state.documents.Orders.get(order.body.DocEntry)!.DocumentStatus).toBe('bost_Close');
  });

  it('keeps special prices per item and business partner, with their periods and quantity breaks', async () => {
    const { cookie } = await login();
    const created = await sl('/b1s/v1/SpecialPrices', cookie, { method: 'POST', body: { ItemCode: 'A00003', CardCode: 'c00001', Price: 88.5, Currency: '$' } });
    expect(created).toMatchObject({ status: 201, body: { ItemCode: 'A00003', CardCode: 'c00001', Price: 88.5, PriceListNum: 1, Valid: 'tYES' } });
    const one = await sl("/b1s/v1/SpecialPrices(ItemCode='A00003',CardCode='c00001')", cookie);
    expect(one.body).toMatchObject({ Price: 88.5 });
    const again = await sl('/b1s/v1/SpecialPrices', cookie, { method: 'POST', body: { ItemCode: 'A00003', CardCode: 'c00001', Price: 1 } });
    expect(again).toMatchObject({ status: 400, body: { error: { code: -2035 } } });
    // The seed's: c00001 pays 95 for A00001, 90 over this year, 85 from 10 units then.
    const year = new Date().getUTCFullYear();
    const all = (await sl('/b1s/v1/SpecialPrices', cookie)).body.value as Array<Record<string, unknown>>;
    expect(all.map((p) => [p.ItemCode, p.CardCode])).toEqual([['A00001', 'c00001'], ['A00003', 'c00001']]);
    expect(all[0]).toMatchObject({
      Price: 95, Currency: '$',
      SpecialPriceDataAreas: [{ RowNumber: 0, BPCode: 'c00001', ItemNo: 'A00001', DateFrom: `${year}-01-01`, Dateto: `${year}-12-31`, SpecialPrice: 90, PriceCurrency: '$',
        SpecialPriceQuantityAreas: [{ SPDARowNumber: 0, Quantity: 10, SpecialPrice: 85, PriceCurrency: '$' }] }],
    });
  });

  it('keeps price lists, and each item\'s row in every list (no price: 0 without a currency)', async () => {
    const { cookie } = await login();
    const lists = await sl('/b1s/v1/PriceLists?$select=PriceListNo,PriceListName,BasePriceList,Factor', cookie);
    expect(lists.body.value).toEqual([
      { PriceListNo: 1, PriceListName: 'Base Price', BasePriceList: 1, Factor: 1 },
      { PriceListNo: 2, PriceListName: 'Wholesale', BasePriceList: 1, Factor: 0.8 },
      { PriceListNo: 3, PriceListName: 'Purchase Price', BasePriceList: 3, Factor: 1 },
    ]);
    expect((await sl('/b1s/v1/PriceLists(2)', cookie)).body).toMatchObject({ PriceListName: 'Wholesale', Active: 'tYES' });
    const item = await sl("/b1s/v1/Items('A00002')?$select=ItemCode,ItemPrices", cookie);
    expect(item.body.ItemPrices).toEqual([
      { PriceList: 1, Price: 125, Currency: '$', BasePriceList: 1, Factor: 1 },
      { PriceList: 2, Price: 100, Currency: '$', BasePriceList: 1, Factor: 0.8 },
      { PriceList: 3, Price: 0, Currency: null, BasePriceList: 3, Factor: 1 },
    ]);
  });

  it('loses the answer of a create it committed, answers a fault, and is down in maintenance (HTML 503, Retry-After)', async () => {
    const { cookie } = await login();
    const post = (control: string, body: unknown) => fetch(`${base}/_control/${control}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await post('lose-next-create', {});
    const orders = sim.state.documents.Orders.size;
    await expect(sl('/b1s/v1/Orders', cookie, { method: 'POST', body: { CardCode: 'c00001', NumAtCard: 'PO-LOST', DocDueDate: '2026-12-01', DocumentLines: [{ ItemCode: 'A00001', Quantity: 1 }] } })).rejects.toThrow();
    expect(sim.state.documents.Orders.size).toBe(orders + 1);
    await post('fault', { status: 502, body: '<html>Bad Gateway</html>', contentType: 'text/html' });
    const fault = await fetch(`${base}/b1s/v1/Items`, { headers: { cookie } });
    expect([fault.status, await fault.text()]).toEqual([502, '<html>Bad Gateway</html>']);
    await post('maintenance', { on: true, retryAfterSeconds: 60 });
    try {
      const down = await fetch(`${base}/b1s/v1/Login`, { method: 'POST' });
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('60');
      expect(await down.text()).toContain('Service Unavailable');
    } finally {
      await post('maintenance', { on: false });
    }
  });

  it('mounted under a prefix, sets its cookie path and writes its next links under it', async () => {
    const mounted = createSapB1Simulator();
    const host = Fastify();
    await host.register(mounted.plugin, { prefix: '/simulators/sap-b1' });
    await host.listen({ port: 0, host: '127.0.0.1' });
    try {
      const url = `http://127.0.0.1:${(host.server.address() as { port: number }).port}/simulators/sap-b1`;
      const { response, cookie } = await login('v1', url);
      expect(response.headers.getSetCookie()[1]).toBe('ROUTEID=.node1; path=/simulators/sap-b1/b1s');
      const page = await fetch(`${url}/b1s/v1/Items?$select=ItemCode`, { headers: { cookie, prefer: 'odata.maxpagesize=4' } }).then((r) => r.json() as Promise<Record<string, unknown>>);
      expect(page['odata.nextLink']).toBe('/simulators/sap-b1/b1s/v1/Items?$select=ItemCode&$skip=4');
    } finally {
      await host.close();
    }
  });
});

describe('SAP Business One simulator: prices and tax of documents', () => {
  const settings = (body: Record<string, unknown>) => fetch(`${base}/_control/settings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const orderOf = async (cookie: string, CardCode: string, DocumentLines: Array<Record<string, unknown>>) =>
    (await sl('/b1s/v1/Orders', cookie, { method: 'POST', body: { CardCode, DocDueDate: '2026-12-01', DocumentLines } })).body;

  it('a line without a price takes the partner\'s special price (the period that holds, the quantity break reached), else its list\'s period and volume discount, else its list\'s price', async () => {
    const { cookie } = await login();
    // c00001: the seed's special price of A00001 (90 this year, 85 from 10 units); the Base Price list otherwise.
    const own = await orderOf(cookie, 'c00001', [
      { ItemCode: 'A00001', Quantity: 2 }, { ItemCode: 'A00001', Quantity: 12 }, { ItemCode: 'A00002', Quantity: 1 }, { ItemCode: 'A00005', Quantity: 1, UnitPrice: 9.99 },
    ]);
    expect(own.DocumentLines.map((l: Record<string, number>) => [l.UnitPrice, l.Price])).toEqual([[90, 90], [85, 85], [125, 125], [9.99, 9.99]]);
    // c00003 buys from Wholesale (80 % of the base), where a period and volume discount of the list (`*2`) prices A00004.
    await fetch(`${base}/_control/special-prices/*2/A00004`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Price: 50 }) });
    const wholesale = await orderOf(cookie, 'c00003', [{ ItemCode: 'A00002', Quantity: 1 }, { ItemCode: 'A00004', Quantity: 1 }]);
    expect(wholesale.DocumentLines.map((l: Record<string, number>) => l.Price)).toEqual([100, 50]);
  });

  it('taxes each line at the rate, rounded to the cent: VatSum their sum, DocTotal the lines\' totals and VatSum; another rate, other tax', async () => {
    const { cookie } = await login();
    const lines = [{ ItemCode: 'A00001', Quantity: 2 }, { ItemCode: 'A00001', Quantity: 12 }, { ItemCode: 'A00002', Quantity: 1 }, { ItemCode: 'A00005', Quantity: 1, UnitPrice: 9.99 }];
    const taxed = await orderOf(cookie, 'c00001', lines);
    // 8.25 %: 14.85, 84.15, 10.3125 → 10.31, 0.824175 → 0.82.
    expect(taxed.DocumentLines.map((l: Record<string, number>) => [l.LineTotal, l.TaxPercentagePerRow, l.TaxTotal])).toEqual([[180, 8.25, 14.85], [1020, 8.25, 84.15], [125, 8.25, 10.31], [9.99, 8.25, 0.82]]);
    expect(taxed).toMatchObject({ VatSum: 110.13, DocTotal: 1445.12 });
    // The fields are SAP's own.
    for (const field of ['VatSum', 'DocTotal']) expect(sapFixture('order_get_v1_trimmed.json')).toHaveProperty(field);
    for (const field of ['LineTotal', 'TaxPercentagePerRow', 'TaxTotal', 'UnitPrice', 'Price']) expect(sapFixture('order_get_v1_trimmed.json').DocumentLines[0]).toHaveProperty(field);
    await settings({ taxRatePercent: 20 });
    try {
      expect(await orderOf(cookie, 'c00001', lines)).toMatchObject({ VatSum: 267, DocTotal: 1601.99 });
    } finally {
      await settings({ taxRatePercent: 8.25 });
    }
    // A goods receipt is made out to no partner: no tax.
    const receipt = await sl('/b1s/v1/InventoryGenEntries', cookie, { method: 'POST', body: { DocumentLines: [{ ItemCode: 'A00002', Quantity: 2, WarehouseCode: '01', UnitPrice: 10.5 }] } });
    expect(receipt.body).toMatchObject({ VatSum: 0, DocTotal: 21, DocumentLines: [{ LineTotal: 21, TaxTotal: 0 }] });
  });
});

describe('SAP Business One simulator: business partners', () => {
  // The PATCH an SAP Community answer shows, and the create of SAP's hackathon Postman collection (CardType as a letter).
  const COMMUNITY_PATCH = { CardName: 'Updated customer name' };
  const POSTMAN_CREATE = { CardCode: 'c001', CardName: 'c001', CardType: 'C' };

  it('takes the published PATCH and create; a new partner\'s first address of each type becomes its default', async () => {
    const { cookie } = await login('v2');
    expect((await sl("/b1s/v2/BusinessPartners('c00002')", cookie, { method: 'PATCH', body: COMMUNITY_PATCH })).status).toBe(204);
    expect(sim.state.businessPartners.get('c00002')).toMatchObject({ ...COMMUNITY_PATCH, Frozen: 'tYES', CreditLimit: 10_000 });
    const created = await sl('/b1s/v2/BusinessPartners', cookie, { method: 'POST', body: { ...POSTMAN_CREATE, BPAddresses: [{ AddressName: 'HQ', AddressType: 'bo_BillTo', Street: '1 Main St', Country: 'US' }] } });
    expect(created).toMatchObject({ status: 201, body: { CardCode: 'c001', CardType: 'cCustomer', BilltoDefault: 'HQ', ShipToDefault: null, PayTermsGrpCode: -1, BPAddresses: [{ AddressName: 'HQ', RowNum: 0, BPCode: 'c001' }] } });
  });

  it('merges BPAddresses on PATCH (by RowNum, else by name and type; new ones added; the others kept) unless B1S-ReplaceCollectionsOnPatch is true', async () => {
    const { cookie } = await login();
    const read = async () => (await sl("/b1s/v1/BusinessPartners('c00001')?$select=CardCode,BilltoDefault,ShipToDefault,BPAddresses", cookie)).body;
    const before = await read();
    expect(Object.keys(before).filter((k) => k !== 'odata.metadata')).toEqual(['CardCode', 'BilltoDefault', 'ShipToDefault', 'BPAddresses']);
    expect(before.BPAddresses.map((a: Record<string, unknown>) => [a.RowNum, a.AddressType, a.AddressName])).toEqual([[0, 'bo_BillTo', 'Bill To'], [1, 'bo_ShipTo', 'Ship To'], [2, 'bo_ShipTo', 'West Coast']]);
    const patch = (body: unknown, headers: Record<string, string> = {}) => sl("/b1s/v1/BusinessPartners('c00001')", cookie, { method: 'PATCH', body, headers });
    expect((await patch({ BPAddresses: [{ RowNum: 1, ZipCode: '07114' }, { AddressName: 'West Coast', AddressType: 'bo_ShipTo', City: 'Alameda' }, { AddressName: 'Chicago', City: 'Chicago' }] })).status).toBe(204);
    const merged = (await read()).BPAddresses;
    expect(merged.map((a: Record<string, unknown>) => [a.RowNum, a.AddressName, a.City, a.ZipCode])).toEqual([[0, 'Bill To', 'New York', '10016'], [1, 'Ship To', 'Newark', '07114'], [2, 'West Coast', 'Alameda', '94607'], [3, 'Chicago', 'Chicago', null]]);
    // Refused whole: a default that names no address of its type, a value too long, payment terms SAP does not have.
    expect((await patch({ ShipToDefault: 'Nowhere', EmailAddress: 'x@example.com' })).status).toBe(400);
    expect((await patch({ BPAddresses: [{ RowNum: 0, State: 'Georgia' }] })).body.error.message.value).toBe("Value too long in property 'State' of 'BPAddress'");
    expect((await patch({ PayTermsGrpCode: 99 })).body.error.message.value).toBe('Invalid payment terms code 99');
    expect(sim.state.businessPartners.get('c00001')!.EmailAddress).toBe('orders@earthshaker.example');
    // Replaced: the addresses not sent are gone, and a default that went with them moves to the first left.
    const first = await patch({ BPAddresses: [{ AddressName: 'Bill To', AddressType: 'bo_BillTo', Street: '12 Park Avenue' }, { AddressName: 'Chicago', City: 'Chicago' }] }, { 'B1S-ReplaceCollectionsOnPatch': 'true' }); expect([first.status, first.body]).toEqual([204, undefined]);
    expect(await read()).toMatchObject({ BilltoDefault: 'Bill To', ShipToDefault: 'Chicago', BPAddresses: [{ AddressName: 'Bill To', RowNum: 0 }, { AddressName: 'Chicago', RowNum: 1 }] });
  });

  it('refuses a CardCode taken as SAP does (code -10, the error shape of the manual\'s refusals) and one longer than 15 characters; creates and PATCHes stamp the partner', async () => {
    const { cookie } = await login();
    const taken = await sl('/b1s/v1/BusinessPartners', cookie, { method: 'POST', body: { CardCode: 'c00001', CardName: 'Again', CardType: 'cCustomer' } });
    expect(taken.status).toBe(400);
    expect(Object.keys(taken.body.error)).toEqual(Object.keys(sapFixture('error_item_exists_400.json').error));
    expect(taken.body).toEqual({
      error: {
        code: -10, innererror: { context: null, trace: null },
        message: { lang: 'en-us', value: "1320000140 - Business partner code 'c00001' already assigned to a business partner; enter a unique business partner code" },
      },
    });
    const v2 = await sl('/b1s/v2/BusinessPartners', cookie, { method: 'POST', body: { CardCode: 'c00001', CardType: 'cCustomer' } });
    expect(v2.body).toEqual({ error: { code: '-10', message: expect.stringContaining('already assigned to a business partner') } });
    const long = await sl('/b1s/v1/BusinessPartners', cookie, { method: 'POST', body: { CardCode: 'C'.repeat(16), CardType: 'cCustomer' } });
    expect(long.body.error.message.value).toBe("Value too long in property 'CardCode' of 'BusinessPartner'");

    const today = new Date().toISOString().slice(0, 10);
    const made = await sl('/b1s/v1/BusinessPartners', cookie, {
      method: 'POST',
      body: { CardCode: 'c20001', CardName: 'Fabrikam', CardType: 'cCustomer', BilltoDefault: 'Bill To', ShipToDefault: 'Dock', BPAddresses: [
        { AddressName: 'Bill To', AddressType: 'bo_BillTo', Street: '1 Main St', City: 'Seattle', Country: 'US' },
        { AddressName: 'Yard', AddressType: 'bo_ShipTo', Street: '2 Pier Rd', City: 'Tacoma', Country: 'US' },
        { AddressName: 'Dock', AddressType: 'bo_ShipTo', Street: '3 Pier Rd', City: 'Tacoma', Country: 'US' },
      ] },
    });
    expect(made).toMatchObject({ status: 201, body: { BilltoDefault: 'Bill To', ShipToDefault: 'Dock', UpdateDate: today, UpdateTime: expect.stringMatching(/^\d{2}:\d{2}:\d{2}$/) } });
    // An ERP user's edit (the control API) may date it; a PATCH stamps it with the server's clock again.
    expect((await fetch(`${base}/_control/business-partners/c20001`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Phone1: '+1 206 555 0100', UpdateDate: '2026-01-02', UpdateTime: '08:00:00' }) })).status).toBe(200);
    expect(sim.state.businessPartners.get('c20001')).toMatchObject({ Phone1: '+1 206 555 0100', UpdateDate: '2026-01-02', ShipToDefault: 'Dock' });
    expect((await sl("/b1s/v1/BusinessPartners('c20001')", cookie, { method: 'PATCH', body: { EmailAddress: 'ap@fabrikam.example' } })).status).toBe(204);
    expect(sim.state.businessPartners.get('c20001')).toMatchObject({ EmailAddress: 'ap@fabrikam.example', UpdateDate: today });
  });

  it('serves PaymentTermsTypes, which PayTermsGrpCode names', async () => {
    const { cookie } = await login('v2');
    const found = await sl(`/b1s/v2/PaymentTermsTypes?$filter=${encodeURIComponent("PaymentTermsGroupName eq 'Net 60'")}&$select=GroupNumber,PaymentTermsGroupName`, cookie);
    expect(found.body.value).toEqual([{ GroupNumber: 2, PaymentTermsGroupName: 'Net 60' }]);
    expect((await sl('/b1s/v2/PaymentTermsTypes(-1)', cookie)).body).toMatchObject({ GroupNumber: -1, PaymentTermsGroupName: '- Cash Basic -' });
    expect((await sl("/b1s/v2/BusinessPartners('c00003')?$select=PayTermsGrpCode", cookie)).body.PayTermsGrpCode).toBe(-1);
  });
});
