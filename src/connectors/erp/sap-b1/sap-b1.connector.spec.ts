import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TargetError } from '../../../platform/delivery/outcome.js';
import { createSapB1Simulator, defaultSapB1Data, type SapB1Simulator, type SimBusinessPartner } from '../../../simulators/sap-b1/sap-b1-simulator.js';
import type { ErpOrderFacts, ErpSalesOrder, GovernedCall } from '../erp-contract.js';
import type { SapB1Config } from './sap-b1.config.js';
import { SapB1Erp } from './sap-b1.delivery.js';
import { sapOrderFacts } from './sap-b1.orders.js';

// The connector against the Service Layer simulator, started in this process on a free port, in both versions.
const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/sap_b1/${name}`, import.meta.url), 'utf8');
const call: GovernedCall = (work) => work(AbortSignal.timeout(10_000));
const signal = () => AbortSignal.timeout(10_000);
const CREDENTIALS = { companyDb: 'SBODEMOUS', username: 'manager', password: 'secret-1' };

let sim: SapB1Simulator;
let base: string;

function config(overrides: Partial<SapB1Config> = {}, version: 'v1' | 'v2' = 'v1', url = base): SapB1Config {
  return { baseUrl: `${url}/b1s/${version}`, ...CREDENTIALS, warehouseCodes: { 'WH-EAST': '01', 'WH-WEST': '02' }, currencies: { '$': 'USD', 'EUR': 'EUR' }, ...overrides };
}

async function control(path: string, body: unknown = {}, url = base): Promise<unknown> {
  const response = await fetch(`${url}/_control/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return response.json();
}

async function failureOf(promise: Promise<unknown>): Promise<TargetError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).not.toBeInstanceOf(TypeError);
  expect(error).toBeInstanceOf(TargetError);
  return error as TargetError;
}

const order = (reference: string, lines: ErpSalesOrder['lines'] = [{ lineObjectNumber: 'A00001', quantity: 2, unitPrice: 99.5, warehouse: 'WH-WEST' }], customerNumber = 'c00001'): ErpSalesOrder =>
  ({ externalDocumentNumber: reference, customerNumber, orderDate: '2026-11-30', lines });
const ordersOf = (s: SapB1Simulator, reference: string) => [...s.state.documents.Orders.values()].filter((o) => o.NumAtCard === reference);
const requestsSince = (s: SapB1Simulator, from: number) => s.state.requests.slice(from);
const committed = (s: SapB1Simulator, itemCode: string, warehouse: string) => s.state.items.get(itemCode)!.ItemWarehouseInfoCollection.find((w) => w.WarehouseCode === warehouse)!.Committed;

beforeAll(async () => {
  sim = createSapB1Simulator({ companyDb: CREDENTIALS.companyDb, userName: CREDENTIALS.username, password: CREDENTIALS.password });
  base = await sim.listen();
});
afterAll(() => sim.close());
beforeEach(async () => {
  await control('maintenance', { on: false });
  await control('fault', { count: 0 });
});

describe('SAP Business One session', () => {
  it('logs in once with the company, user and password, sends its session on every call, and logs out on close', async () => {
    const from = sim.state.requests.length;
    const erp = new SapB1Erp(config());
    await erp.createSalesOrder(order('CD-SESSION-1'), signal());
    await erp.customers(call);
    const requests = requestsSince(sim, from);
    const logins = requests.filter((r) => r.path === '/b1s/v1/Login');
    expect(logins).toHaveLength(1);
    expect(logins[0]!.body).toEqual({ CompanyDB: 'SBODEMOUS', UserName: 'manager', Password: 'secret-1' });
    const session = [...sim.state.sessions.keys()].at(-1);
    const calls = requests.filter((r) => r.path !== '/b1s/v1/Login');
    expect(calls.map((r) => r.path)).toEqual(['/b1s/v1/Orders', '/b1s/v1/Orders', '/b1s/v1/BusinessPartners', '/b1s/v1/PriceLists', '/b1s/v1/PaymentTermsTypes']);
    for (const request of calls) expect(request.session).toBe(session);
    // ROUTEID, the load balancer's node, goes back with every call too.
    for (const request of calls) expect(request.routeId).toMatch(/^\.node/);
    await erp.close();
    expect(sim.state.requests.at(-1)).toMatchObject({ method: 'POST', path: '/b1s/v1/Logout', status: 204, session });
    expect(sim.state.sessions.has(session!)).toBe(false);
  });

  it('puts every cookie SAP set in the Cookie header, and B1SESSION from the Login body when SAP set none', async () => {
    const { sessionCookie } = await import('./sap-b1.client.js');
    const exchange = JSON.parse(fixture('login_response.http.json'));
    expect(sessionCookie(exchange.headers['Set-Cookie'], exchange.body.SessionId)).toBe(exchange.followUpRequestHeaders.Cookie);
    expect(sessionCookie([], 'abc')).toBe('B1SESSION=abc');
    expect(sessionCookie(['ROUTEID=.node2; path=/b1s', 'junk'], 'abc')).toBe('ROUTEID=.node2; B1SESSION=abc');
  });

  it('a session that ends in the middle of a burst of creates: one new login for all, every order once, none lost', async () => {
    const erp = new SapB1Erp(config());
    await erp.customers(call);
    const from = sim.state.requests.length;
    // Sessions end after 25 more calls: in the middle of the 60 the 30 creates make.
    await control('expire-sessions', { afterRequests: 25 });
    const references = Array.from({ length: 30 }, (_, i) => `CD-BURST-${i}`);
    const results = await Promise.all(references.map((reference) => erp.createSalesOrder(order(reference), signal())));
    expect(results.every((r) => r.created)).toBe(true);
    expect(new Set(results.map((r) => r.erpOrderId)).size).toBe(30);
    for (const reference of references) expect(ordersOf(sim, reference)).toHaveLength(1);
    const requests = requestsSince(sim, from);
    expect(requests.filter((r) => r.status === 401).length).toBeGreaterThan(0);
    expect(requests.filter((r) => r.path.endsWith('/Login'))).toHaveLength(1);
  });

  it('renews the session before SessionTimeout runs out, without waiting for a 401', async () => {
    let now = Date.now();
    const erp = new SapB1Erp(config(), () => now);
    const from = sim.state.requests.length;
    await erp.customers(call);
    now += 10 * 60_000;
    await erp.customers(call);
    expect(requestsSince(sim, from).filter((r) => r.path.endsWith('/Login'))).toHaveLength(1);
    // 30 minutes idle from the last call end it; at 29.5 the connector logs in first.
    now += 29.5 * 60_000;
    await erp.customers(call);
    const requests = requestsSince(sim, from);
    expect(requests.filter((r) => r.path.endsWith('/Login'))).toHaveLength(2);
    expect(requests.some((r) => r.status === 401)).toBe(false);
    expect(requests.at(-1)!.session).toBe([...sim.state.sessions.keys()].at(-1));
  });

  it('an expired session (SAP\'s 401 with code 301, v1 and v2) logs in again and repeats the call once', async () => {
    for (const version of ['v1', 'v2'] as const) {
      const erp = new SapB1Erp(config({}, version));
      await erp.customers(call);
      await control('expire-sessions');
      const from = sim.state.requests.length;
      const { customers } = await erp.customers(call);
      expect(customers.map((c) => c.number)).toContain('c00001');
      expect(requestsSince(sim, from).map((r) => [r.path.replace(/^\/b1s\/v\d/, ''), r.status])).toEqual([['/BusinessPartners', 401], ['/Login', 200], ['/BusinessPartners', 200], ['/PriceLists', 200], ['/PaymentTermsTypes', 200]]);
    }
    // The manual's own 401 body, and B1SLayer's mock of one without a code, take the same path.
    for (const body of [fixture('error_invalid_session_401.json'), fixture('error_invalid_session_b1slayer_test_mock.json')]) {
      const erp = new SapB1Erp(config());
      await erp.customers(call);
      await control('fault', { status: 401, body });
      expect((await erp.customers(call)).customers.length).toBeGreaterThan(0);
    }
  });

  it('a 401 again after a new login, and a refused login, are retryable with SAP\'s text', async () => {
    const erp = new SapB1Erp(config());
    await erp.customers(call);
    await control('fault', { status: 401, body: fixture('error_invalid_session_401.json'), count: 2 });
    const twice = await failureOf(erp.customers(call));
    expect(twice).toMatchObject({ failureClass: 'retryable', details: { status: 401 } });
    expect(twice.message).toContain('Invalid session or session already timeout. (code 301)');
    const wrong = await failureOf(new SapB1Erp(config({ password: 'wrong' })).customers(call));
    expect(wrong.failureClass).toBe('retryable');
    expect(wrong.message).toContain('Login failed (code 100000027)');
  });
});

describe('SAP Business One orders', () => {
  it('creates the order with its lines (CardCode, NumAtCard, dates, WarehouseCode from the map): erpOrderRef is DocNum, erpOrderId DocEntry', async () => {
    const before = committed(sim, 'A00002', '02');
    const result = await new SapB1Erp(config()).createSalesOrder(order('CD-MAP-1', [
      { lineObjectNumber: 'A00002', quantity: 3, unitPrice: 120, warehouse: 'WH-WEST' },
      { lineObjectNumber: 'A00003', quantity: 1, unitPrice: 10.25, warehouse: null },
    ]), signal());
    const [stored] = ordersOf(sim, 'CD-MAP-1');
    expect(result).toMatchObject({ erpOrderRef: String(stored!.DocNum), erpOrderId: String(stored!.DocEntry), created: true });
    expect(result.erpOrderRef).not.toBe(result.erpOrderId);
    const sent = sim.state.requests.findLast((r) => r.method === 'POST' && r.path === '/b1s/v1/Orders')!.body as Record<string, unknown>;
    expect(sent).toEqual({
      CardCode: 'c00001', NumAtCard: 'CD-MAP-1', DocDate: '2026-11-30', DocDueDate: '2026-11-30',
      DocumentLines: [{ ItemCode: 'A00002', Quantity: 3, UnitPrice: 120, WarehouseCode: '02' }, { ItemCode: 'A00003', Quantity: 1, UnitPrice: 10.25 }],
    });
    // The fields of SAP's own example of an order are the ones sent.
    const documented = JSON.parse(fixture('orders_create_request_postman.json'));
    expect(Object.keys(sent)).toEqual(expect.arrayContaining(Object.keys(documented).filter((k) => k !== 'TaxCode')));
    expect(Object.keys((sent.DocumentLines as object[])[0]!)).toEqual(expect.arrayContaining(['ItemCode', 'Quantity', 'UnitPrice']));
    expect(committed(sim, 'A00002', '02')).toBe(before + 3);
  });

  it('a create whose answer was lost after SAP committed it is found by NumAtCard on the retry, not made twice', async () => {
    const erp = new SapB1Erp(config());
    await control('lose-next-create');
    const lost = await failureOf(erp.createSalesOrder(order('CD-LOST-1'), signal()));
    expect(lost.failureClass).toBe('retryable');
    expect(ordersOf(sim, 'CD-LOST-1')).toHaveLength(1);
    const retry = await erp.createSalesOrder(order('CD-LOST-1'), signal());
    expect(retry).toMatchObject({ erpOrderRef: String(ordersOf(sim, 'CD-LOST-1')[0]!.DocNum), erpOrderId: String(ordersOf(sim, 'CD-LOST-1')[0]!.DocEntry), created: false });
    expect(ordersOf(sim, 'CD-LOST-1')).toHaveLength(1);
  });

  it('looks references up with their quotes escaped, as opaque strings', async () => {
    const erp = new SapB1Erp(config());
    const reference = "CD-O'Hara-00042";
    const first = await erp.createSalesOrder(order(reference), signal());
    const again = await erp.createSalesOrder(order(reference), signal());
    expect(again).toEqual({ ...first, created: false });
    expect(typeof first.erpOrderId).toBe('string');
    expect(sim.state.requests.findLast((r) => r.method === 'GET')!.query).toContain("$filter=NumAtCard eq 'CD-O''Hara-00042'");
  });

  it('cancels an order (Orders(n)/Cancel), releasing what it committed; again is done already; an unknown reference is deleted false', async () => {
    const erp = new SapB1Erp(config());
    const before = committed(sim, 'A00004', '01');
    await erp.createSalesOrder(order('CD-CANCEL-1', [{ lineObjectNumber: 'A00004', quantity: 5, unitPrice: 1, warehouse: 'WH-EAST' }]), signal());
    expect(committed(sim, 'A00004', '01')).toBe(before + 5);
    const [stored] = ordersOf(sim, 'CD-CANCEL-1');
    expect(await erp.cancelSalesOrder('CD-CANCEL-1', signal())).toEqual({ deleted: true, erpOrderRef: String(stored!.DocNum) });
    expect(sim.state.requests.findLast((r) => r.method === 'POST')).toMatchObject({ path: `/b1s/v1/Orders(${stored!.DocEntry})/Cancel`, status: 204 });
    expect(stored).toMatchObject({ Cancelled: 'tYES', DocumentStatus: 'bost_Close' });
    expect(committed(sim, 'A00004', '01')).toBe(before);
    expect(await erp.cancelSalesOrder('CD-CANCEL-1', signal())).toEqual({ deleted: true, erpOrderRef: String(stored!.DocNum), alreadyCancelled: true });
    expect(await erp.cancelSalesOrder('CD-NEVER-SENT', signal())).toEqual({ deleted: false });
    // By the id the cross-reference recorded: cancelled directly; refused there (cancelled already, or an id gone
    // stale), found by its reference as above.
    const direct = await erp.createSalesOrder(order('CD-CANCEL-2'), signal());
    const known = { erpOrderId: direct.erpOrderId, erpOrderRef: direct.erpOrderRef };
    const from = sim.state.requests.length;
    expect(await erp.cancelSalesOrder('CD-CANCEL-2', signal(), known)).toEqual({ deleted: true, erpOrderRef: direct.erpOrderRef, byKnownId: true });
    expect(sim.state.requests.slice(from).map((r) => `${r.method} ${r.path}`)).toEqual([`POST /b1s/v1/Orders(${direct.erpOrderId})/Cancel`]);
    expect(await erp.cancelSalesOrder('CD-CANCEL-2', signal(), known)).toEqual({ deleted: true, erpOrderRef: direct.erpOrderRef, alreadyCancelled: true });
    expect(await erp.cancelSalesOrder('CD-NEVER-SENT', signal(), { erpOrderId: '999999' })).toEqual({ deleted: false });
    // The cancelled order still answers for its reference: a replayed create does not undo the cancel.
    expect(await erp.createSalesOrder(order('CD-CANCEL-1'), signal())).toMatchObject({ erpOrderId: String(stored!.DocEntry), created: false });
  });

  it('reads the orders of many references, 20 a governed call, cancelled ones flagged, a duplicate as two, a reference SAP lacks as none', async () => {
    const erp = new SapB1Erp(config());
    const references = Array.from({ length: 22 }, (_, i) => `CD-READ-${i}`);
    for (const reference of references.slice(0, 21)) await erp.createSalesOrder(order(reference, [{ lineObjectNumber: 'A00002', quantity: 3, unitPrice: 1, warehouse: 'WH-EAST' }]), signal());
    await erp.cancelSalesOrder('CD-READ-1', signal());
    const [copied] = ordersOf(sim, 'CD-READ-2');
    sim.state.documents.Orders.set(copied!.DocEntry + 100_000, { ...structuredClone(copied!), DocEntry: copied!.DocEntry + 100_000, DocNum: copied!.DocNum + 100_000 });
    let calls = 0;
    const from = sim.state.requests.length;
    const read = await erp.ordersByReference((work) => (calls++, call(work)), references);
    expect(calls).toBe(2);
    expect(sim.state.requests.slice(from).filter((r) => r.path === '/b1s/v1/Orders')).toHaveLength(2);
    expect(read.postedInFull).toEqual([]);
    expect(read.orders.filter((o) => o.externalDocumentNumber === 'CD-READ-0')).toEqual([{
      externalDocumentNumber: 'CD-READ-0', erpOrderRef: String(ordersOf(sim, 'CD-READ-0')[0]!.DocNum), erpOrderId: String(ordersOf(sim, 'CD-READ-0')[0]!.DocEntry), cancelled: false,
      lines: [{ sku: 'A00002', quantity: 3 }],
    }]);
    expect(read.orders.filter((o) => o.externalDocumentNumber === 'CD-READ-1').map((o) => o.cancelled)).toEqual([true]);
    expect(read.orders.filter((o) => o.externalDocumentNumber === 'CD-READ-2')).toHaveLength(2);
    expect(read.orders.filter((o) => o.externalDocumentNumber === 'CD-READ-21')).toEqual([]);
    expect(new Set(read.orders.map((o) => o.externalDocumentNumber)).size).toBe(21);
  });

  it('a line in a warehouse the map lacks is a retryable error before any call; with a currency, DocCurrency is SAP\'s code', async () => {
    const erp = new SapB1Erp(config());
    const from = sim.state.requests.length;
    const unmapped = await failureOf(erp.createSalesOrder(order('CD-WH-1', [{ lineObjectNumber: 'A00001', quantity: 1, unitPrice: 1, warehouse: 'WH-NORTH' }]), signal()));
    expect(unmapped.failureClass).toBe('retryable');
    expect(unmapped.message).toContain('WH-NORTH');
    expect(sim.state.requests.length).toBe(from);
    await erp.createSalesOrder({ ...order('CD-CUR-1'), currency: 'USD' } as ErpSalesOrder, signal());
    expect(ordersOf(sim, 'CD-CUR-1')[0]!.DocCurrency).toBe('$');
  });

  it('SAP\'s validation errors are permanent with SAP\'s text, in v1 and v2', async () => {
    for (const version of ['v1', 'v2'] as const) {
      const erp = new SapB1Erp(config({}, version));
      const unknownItem = await failureOf(erp.createSalesOrder(order(`CD-BAD-ITEM-${version}`, [{ lineObjectNumber: 'NOPE-1', quantity: 1, unitPrice: 1 }]), signal()));
      expect(unknownItem).toMatchObject({ failureClass: 'permanent', details: { status: 400 } });
      expect(unknownItem.message).toBe("SAP Business One answered 400: Invalid item code 'NOPE-1' in line 1 (code -10)");
      const unknownCustomer = await failureOf(erp.createSalesOrder(order(`CD-BAD-BP-${version}`, undefined, 'c99999'), signal()));
      expect(unknownCustomer.failureClass).toBe('permanent');
      expect(unknownCustomer.message).toContain("Invalid BP code 'c99999'");
      const frozen = await failureOf(erp.createSalesOrder(order(`CD-FROZEN-${version}`, undefined, 'c00002'), signal()));
      expect(frozen.message).toContain('inactive');
      const noLines = await failureOf(erp.createSalesOrder(order(`CD-EMPTY-${version}`, []), signal()));
      expect(noLines.failureClass).toBe('permanent');
    }
  });

  it('reads SAP\'s text out of the error envelopes of the fixtures, v1 and v2, with a numeric or a text code', async () => {
    const erp = new SapB1Erp(config());
    const v2 = JSON.stringify({ error: { code: '-10', message: "Item code 'i002' already exists" } });
    for (const [status, body, text, failureClass] of [
      [400, fixture('error_item_exists_400.json'), "Item code 'i002' already exists (code -10)", 'permanent'],
      [400, v2, "Item code 'i002' already exists (code -10)", 'permanent'],
      [404, fixture('error_not_found_2028.json'), 'No matching records found (ODBC -2028) (code -2028)', 'permanent'],
      [500, JSON.stringify({ error: { code: -1, message: { lang: 'en-us', value: 'Internal error (-1) occurred' } } }), 'Internal error (-1) occurred (code -1)', 'retryable'],
      [400, JSON.stringify({ error: { code: { odd: true }, message: 42 } }), 'the target refused the message with 400', 'permanent'],
    ] as const) {
      await control('fault', { status, body });
      const error = await failureOf(erp.createSalesOrder(order(`CD-ENVELOPE-${status}`), signal()));
      expect(error.message).toBe(`SAP Business One answered ${status}: ${text}`);
      expect(error.failureClass).toBe(failureClass);
    }
  });
});

describe('SAP Business One order facts', () => {
  const documented = () => JSON.parse(fixture('order_get_v1_trimmed.json'));
  // c00001 is in '$': three lines, one without a warehouse (SAP puts it in its first, 01).
  const facts = (reference: string) => order(reference, [
    { lineObjectNumber: 'A00002', quantity: 3, unitPrice: 120, warehouse: 'WH-WEST' },
    { lineObjectNumber: 'A00003', quantity: 1, unitPrice: 10.25, warehouse: null },
    { lineObjectNumber: 'A00001', quantity: 2.5, unitPrice: 19.99, warehouse: 'WH-EAST' },
  ]);
  // LineTotal to the cent (49.975 → 49.98); 8.25 % of each: 29.70, 0.845625 → 0.85, 4.12335 → 4.12.
  const factsAt8_25: ErpOrderFacts = {
    customerNumber: 'c00001',
    currency: 'USD',
    lines: [
      { sku: 'A00002', quantity: 3, unitPrice: 120, warehouse: 'WH-WEST', amount: 360 },
      { sku: 'A00003', quantity: 1, unitPrice: 10.25, warehouse: 'WH-EAST', amount: 10.25 },
      { sku: 'A00001', quantity: 2.5, unitPrice: 19.99, warehouse: 'WH-EAST', amount: 49.98 },
    ],
    totalExcludingTax: 420.23,
    totalTax: 34.67,
    totalIncludingTax: 454.9,
  };

  it('reads SAP\'s documented order: DocTotal with tax, VatSum, the total before tax their difference, DocCurrency in ISO, each line\'s UnitPrice and LineTotal', () => {
    expect(sapOrderFacts(documented(), { '$': 'USD' }, { 'WH-EAST': '01' })).toEqual({
      customerNumber: '1',
      currency: 'USD',
      lines: [{ sku: '33', quantity: 100, unitPrice: 30, warehouse: 'WH-EAST', amount: 3000 }],
      totalExcludingTax: 3000,
      totalTax: 549,
      totalIncludingTax: 3549,
    } satisfies ErpOrderFacts);
    // A warehouse the map lacks is none; a currency the table cannot name, or a figure missing, is a problem said.
    expect(sapOrderFacts(documented(), { '$': 'USD' }, {})).toMatchObject({ lines: [{ warehouse: null }] });
    expect(sapOrderFacts(documented(), {}, {})).toBe('order 2103 is in currency "$", which the currency table cannot name');
    expect(sapOrderFacts({ ...documented(), VatSum: undefined }, { '$': 'USD' }, {})).toBe('SAP Business One answered order 2103 of an unexpected shape: VatSum is missing');
    const [line] = documented().DocumentLines;
    expect(sapOrderFacts({ ...documented(), DocumentLines: [{ ...line, LineTotal: '3000' }] }, { '$': 'USD' }, {}))
      .toBe('SAP Business One answered a line of order 2103 of an unexpected shape: LineTotal is string, expected number');
  });

  it('answers the created order as SAP holds it, from the create\'s own answer (v1 and v2): no call more', async () => {
    for (const version of ['v1', 'v2'] as const) {
      const reference = `CD-FACTS-${version}`;
      const from = sim.state.requests.length;
      const result = await new SapB1Erp(config({}, version)).createSalesOrder(facts(reference), signal());
      const [stored] = ordersOf(sim, reference);
      expect(result).toEqual({ erpOrderRef: String(stored!.DocNum), erpOrderId: String(stored!.DocEntry), created: true, facts: factsAt8_25 });
      expect(stored).toMatchObject({ DocTotal: 454.9, VatSum: 34.67 });
      expect(requestsSince(sim, from).map((r) => `${r.method} ${r.path}`)).toEqual([`POST /b1s/${version}/Login`, `GET /b1s/${version}/Orders`, `POST /b1s/${version}/Orders`]);
    }
  });

  it('a retry that finds the order a lost answer left there answers the same facts, from its one look-up', async () => {
    const erp = new SapB1Erp(config());
    await erp.customers(call);
    await control('lose-next-create');
    await failureOf(erp.createSalesOrder(facts('CD-FACTS-LOST'), signal()));
    const from = sim.state.requests.length;
    const retry = await erp.createSalesOrder(facts('CD-FACTS-LOST'), signal());
    expect(retry).toMatchObject({ created: false, facts: factsAt8_25 });
    const reads = requestsSince(sim, from);
    expect(reads.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /b1s/v1/Orders']);
    expect(/\$select=([^&]*)/.exec(reads[0]!.query)![1]!.split(',')).toEqual(expect.arrayContaining(['DocCurrency', 'DocTotal', 'VatSum', 'DocumentLines']));
  });

  it('SAP taxing at another rate answers other tax and totals; an order in another currency names it; a currency the table lacks leaves the order made, its facts said unreadable', async () => {
    const erp = new SapB1Erp(config());
    await control('settings', { taxRatePercent: 0 });
    try {
      expect((await erp.createSalesOrder(facts('CD-FACTS-UNTAXED'), signal())).facts).toEqual({ ...factsAt8_25, totalTax: 0, totalIncludingTax: 420.23 });
    } finally {
      await control('settings', { taxRatePercent: 8.25 });
    }
    // Microchips Ltd buys in euros.
    const euros = await erp.createSalesOrder({ ...facts('CD-FACTS-EUR'), customerNumber: 'c00004' }, signal());
    expect(euros.facts).toMatchObject({ customerNumber: 'c00004', currency: 'EUR', totalIncludingTax: 454.9 });
    const unnamed = await new SapB1Erp(config({ currencies: { EUR: 'EUR' } })).createSalesOrder(facts('CD-FACTS-UNNAMED'), signal());
    expect(unnamed).toEqual({
      erpOrderRef: expect.any(String), erpOrderId: expect.any(String), created: true, factsProblem: `order ${unnamed.erpOrderRef} is in currency "$", which the currency table cannot name`,
    });
    expect(ordersOf(sim, 'CD-FACTS-UNNAMED')).toHaveLength(1);
  });
});

describe('SAP Business One when SAP is down or answers what no documentation promises', () => {
  it('SAP down for a while (503): throttled with its Retry-After (or 5 s), no retry of its own, nothing created; then the order goes in once', async () => {
    const erp = new SapB1Erp(config());
    await erp.customers(call);
    await control('maintenance', { on: true, retryAfterSeconds: 30 });
    const from = sim.state.requests.length;
    const down = await failureOf(erp.createSalesOrder(order('CD-DOWN-1'), signal()));
    expect(down).toMatchObject({ failureClass: 'throttled', details: { status: 503, retryAfterMs: 30_000 } });
    // A connector without a session meets the outage at its login: throttled too.
    const fresh = await failureOf(new SapB1Erp(config()).customers(call));
    expect(fresh).toMatchObject({ failureClass: 'throttled', details: { status: 503 } });
    await control('maintenance', { on: true });
    expect(await failureOf(erp.cancelSalesOrder('CD-DOWN-1', signal()))).toMatchObject({ failureClass: 'throttled', details: { retryAfterMs: 5_000 } });
    expect(requestsSince(sim, from)).toHaveLength(3);
    expect(ordersOf(sim, 'CD-DOWN-1')).toHaveLength(0);
    await control('maintenance', { on: false });
    expect(await erp.createSalesOrder(order('CD-DOWN-1'), signal())).toMatchObject({ created: true });
    expect(ordersOf(sim, 'CD-DOWN-1')).toHaveLength(1);
  });

  const surprises: Array<[string, Record<string, unknown>]> = [
    ['a truncated body', { body: '{"value": [{"DocEntry": 1, "Doc' }],
    ['an HTML error page with 200', { status: 200, body: '<!DOCTYPE html><html><body><h1>Proxy Error</h1></body></html>', contentType: 'text/html' }],
    ['an HTML error page with 502', { status: 502, body: '<html><body>Bad Gateway</body></html>', contentType: 'text/html' }],
    ['a collection that is not an array', { body: '{"value": "none"}' }],
    ['records of the wrong types', { body: JSON.stringify({ value: [{ DocEntry: '1', DocNum: null, ItemCode: 5, ItemWarehouseInfoCollection: 'x', DocumentLines: 3 }] }) }],
    ['a bare string', { body: '"hello"' }],
    ['a next link that is not text', { body: JSON.stringify({ value: [], 'odata.nextLink': 5 }) }],
    ['a next link to another host', { body: JSON.stringify({ value: [], '@odata.nextLink': 'https://elsewhere.example/steal?x=1' }) }],
    ['an empty body', { body: '' }],
    ['a reset connection', { reset: true }],
  ];
  const calls: Record<string, (erp: SapB1Erp) => Promise<unknown>> = {
    'order create': (erp) => erp.createSalesOrder(order('CD-SURPRISE'), signal()),
    'order cancel': (erp) => erp.cancelSalesOrder('CD-SURPRISE', signal()),
    'stock': (erp) => erp.stockSince(call, undefined),
    'customers': (erp) => erp.customers(call),
  };
  for (const [name, run] of Object.entries(calls)) {
    // A customer record of the wrong shape is rejected, not an error (see the customers' tests).
    it.each(surprises.filter(([label]) => name !== 'customers' || label !== 'records of the wrong types'))(`${name}: %s is a classified TargetError, never a TypeError`, async (_label, fault) => {
      const erp = new SapB1Erp(config());
      await erp.customers(call);
      await control('fault', fault);
      const error = await failureOf(run(erp));
      expect(['retryable', 'throttled', 'permanent']).toContain(error.failureClass);
      expect(error.message).toMatch(/SAP Business One|failed/);
    });
  }

  it('follows SAP\'s v1 next link (the manual\'s page) under the configured root, whatever prefix it names', async () => {
    const erp = new SapB1Erp(config());
    await erp.customers(call);
    await control('fault', { body: fixture('orders_list_page_v1.json') });
    const from = sim.state.requests.length;
    // The manual's page names orders 7, 8 and 26: the first, not cancelled, answers for the reference. Its page
    // carries no more of them than their numbers: the order stands, and its facts are said to be unreadable.
    expect(await erp.createSalesOrder(order('CD-NEXT-LINK'), signal())).toEqual({
      erpOrderRef: '2', erpOrderId: '7', created: false, factsProblem: 'SAP Business One answered order 2 of an unexpected shape: CardCode is missing',
    });
    const [, second] = requestsSince(sim, from);
    expect(second).toMatchObject({ method: 'GET', path: '/b1s/v1/Orders', query: '$skip=20', status: 200 });
  });

  it('escapes a next link written with its spaces and quotes as they are', async () => {
    const erp = new SapB1Erp(config());
    await erp.customers(call);
    await control('fault', { body: JSON.stringify({ value: [], 'odata.nextLink': "/b1s/v1/BusinessPartners?$filter=CardType eq 'cCustomer'&$select=CardCode&$skip=20" }) });
    const from = sim.state.requests.length;
    await erp.customers(call);
    const [, second] = requestsSince(sim, from);
    expect(second).toMatchObject({ path: '/b1s/v1/BusinessPartners', query: "$filter=CardType eq 'cCustomer'&$select=CardCode&$skip=20", status: 200 });
  });
});

describe('SAP Business One customers', () => {
  it('maps customer business partners (not suppliers) with their standing, their price list named as prices name it, their contact fields and default addresses, currency through the table', async () => {
    const { customers, rejected } = await new SapB1Erp(config()).customers(call);
    expect(rejected).toEqual([]);
    expect(customers.map((c) => c.number)).not.toContain('v00001');
    const byNumber = new Map(customers.map((c) => [c.number, c]));
    expect(byNumber.get('c00001')).toEqual({
      erpId: 'c00001', number: 'c00001', name: 'Earthshaker Corporation', blocked: '', creditLimit: 50_000, balanceDue: 12_500.5,
      currency: 'USD', email: 'orders@earthshaker.example', phone: '+1 212 555 0101', taxId: '12-3456789', priceList: 'base', paymentTerms: 'Net 30',
      billingAddress: { line1: '12 Park Avenue', line2: null, city: 'New York', postalCode: '10016', region: 'NY', country: 'US' },
      shippingAddress: { line1: '400 Industrial Way', line2: 'Dock 2', city: 'Newark', postalCode: '07105', region: 'NJ', country: 'US' },
      modifiedAt: '2026-01-05T09:00:00.000Z',
    });
    // SAP's blanks: no contact fields, no addresses, its own "- Cash Basic -" terms.
    expect(byNumber.get('c00003')).toMatchObject({ email: null, phone: null, taxId: null, billingAddress: null, shippingAddress: null, paymentTerms: '- Cash Basic -' });
    expect(byNumber.get('c00003')).toMatchObject({ priceList: 'Wholesale' });
    expect(byNumber.get('c00002')).toMatchObject({ blocked: 'Frozen', creditLimit: 10_000, balanceDue: 9_800 });
    // `##` is SAP's "all currencies": no one currency to name.
    expect(byNumber.get('c00003')).not.toHaveProperty('currency');
    expect(byNumber.get('c00004')).toMatchObject({ currency: 'EUR' });
  });

  it('rejects a record of the wrong shape with the reason, and keeps the others', async () => {
    const page = { value: [
      { CardCode: 'c1', CardName: 'Good', Frozen: 'tNO', CreditLimit: 10, CurrentAccountBalance: 2 },
      { CardCode: 'c2', CardName: 'Bad limit', CreditLimit: 'lots' },
      { CardCode: 'c3', Frozen: 'maybe' },
      { CardName: 'No code' },
      null,
    ] };
    const erp = new SapB1Erp(config());
    await erp.customers(call);
    await control('fault', { body: JSON.stringify(page) });
    const { customers, rejected } = await erp.customers(call);
    expect(customers.map((c) => c.number)).toEqual(['c1']);
    expect(rejected.map((r) => r.number)).toEqual(['c2', 'c3', '(no CardCode)', '(no CardCode)']);
    expect(rejected[0]!.problem).toContain('CreditLimit is string, expected number');
    expect(rejected[1]!.problem).toContain('"maybe"');
  });

  it('reads the default bill-to and ship-to (else the first of each type), blank text as null, the payment terms by name, and when SAP last changed the partner', async () => {
    const own = createSapB1Simulator({ data: { businessPartners: defaultSapB1Data().businessPartners.slice(0, 1) } });
    const url = await own.listen();
    // An ERP user edits the partner (the control API stamps it as SAP does).
    const edit = async (code: string, body: unknown) => {
      const response = await fetch(`${url}/_control/business-partners/${code}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(response.status).toBe(200);
    };
    try {
      await edit('c00001', { ShipToDefault: 'West Coast', EmailAddress: '', Phone1: '  ', FederalTaxID: null, PayTermsGrpCode: 2 });
      await edit('c00002', {
        CardName: 'Mashina Corporation', BilltoDefault: null, ShipToDefault: null, PayTermsGrpCode: 42, UpdateDate: '2026-03-02', UpdateTime: '7:05:09',
        BPAddresses: [
          { AddressName: 'Billing', AddressType: 'bo_BillTo', Street: '1 Main St', City: ' ', Country: 'DE' },
          { AddressName: 'Dock A', AddressType: 'bo_ShipTo', Street: '2 Quay', Block: '', City: 'Hamburg', ZipCode: '', State: '', Country: 'DE' },
          { AddressName: 'Dock B', AddressType: 'bo_ShipTo', Street: '3 Quay', City: 'Hamburg', Country: 'DE' },
        ],
      });
      const from = own.state.requests.length;
      const { customers, rejected } = await new SapB1Erp(config({}, 'v2', url)).customers(call);
      expect(rejected).toEqual([]);
      const [earthshaker, mashina] = customers;
      const stamped = own.state.businessPartners.get('c00001')!;
      expect(earthshaker).toMatchObject({
        email: null, phone: null, taxId: null, paymentTerms: 'Net 60', modifiedAt: `${stamped.UpdateDate}T${stamped.UpdateTime}.000Z`,
        billingAddress: { line1: '12 Park Avenue', line2: null, city: 'New York', postalCode: '10016', region: 'NY', country: 'US' },
        shippingAddress: { line1: '88 Harbor Blvd', line2: null, city: 'Oakland', postalCode: '94607', region: 'CA', country: 'US' },
      });
      // No default named: the first of each type; a bill-to without its city is none; terms SAP's table lacks are left out.
      expect(mashina).toMatchObject({ billingAddress: null, shippingAddress: { line1: '2 Quay', line2: null, city: 'Hamburg', postalCode: null, region: null, country: 'DE' }, modifiedAt: '2026-03-02T07:05:09.000Z' });
      expect(mashina).not.toHaveProperty('paymentTerms');
      const reads = own.state.requests.slice(from);
      expect(reads.map((r) => r.path)).toEqual(['/b1s/v2/Login', '/b1s/v2/BusinessPartners', '/b1s/v2/PriceLists', '/b1s/v2/PaymentTermsTypes']);
      expect(/\$select=([^&]*)/.exec(reads[1]!.query)![1]!.split(',')).toEqual(expect.arrayContaining(['PayTermsGrpCode', 'BilltoDefault', 'ShipToDefault', 'BPAddresses', 'UpdateDate', 'UpdateTime']));
    } finally {
      await own.close();
    }
  });

  for (const version of ['v1', 'v2'] as const) {
    it.each([0, 20, 21, 45])(`${version}: %i customers come in pages of 20, one request a page`, async (count) => {
      const partner = defaultSapB1Data().businessPartners[0]!;
      const businessPartners: SimBusinessPartner[] = [
        ...Array.from({ length: count }, (_, i) => ({ ...partner, CardCode: `c${String(i + 1).padStart(5, '0')}` })),
        { ...partner, CardCode: 'v00001', CardType: 'cSupplier' as const },
      ];
      const paged = createSapB1Simulator({ data: { businessPartners } });
      const url = await paged.listen();
      try {
        const { customers } = await new SapB1Erp(config({ pageSize: 20 }, version, url)).customers(call);
        expect(customers.map((c) => c.number)).toEqual(businessPartners.slice(0, count).map((p) => p.CardCode));
        const pages = paged.state.requests.filter((r) => r.path.endsWith('/BusinessPartners'));
        expect(pages).toHaveLength(Math.max(1, Math.ceil(count / 20)));
        expect(pages.map((r) => /\$skip=(\d+)/.exec(r.query)?.[1] ?? '0')).toEqual(pages.map((_, i) => String(i * 20)));
        for (const request of pages) expect(request.prefer).toBe('odata.maxpagesize=20');
        // The payment terms are named from one read of the table, whatever the pages.
        expect(paged.state.requests.filter((r) => r.path.endsWith('/PaymentTermsTypes'))).toHaveLength(1);
      } finally {
        await paged.close();
      }
    });
  }
});

describe('SAP Business One stock', () => {
  let stock: SapB1Simulator;
  let url: string;
  beforeAll(async () => {
    stock = createSapB1Simulator();
    url = await stock.listen();
  });
  afterAll(() => stock.close());

  it('reads InStock as on-hand and Committed as reserved per mapped warehouse, and then only what changed: orders, receipts, deliveries, item changes', async () => {
    const erp = new SapB1Erp(config({ pageSize: 4 }, 'v2', url));
    const first = await erp.stockSince(call, undefined, new Map());
    expect(first.levels).toHaveLength(20);
    expect(first.levels).toContainEqual({ sku: 'A00003', warehouse: 'WH-EAST', onHand: 44, reserved: 0 });
    expect(first.levels).toContainEqual({ sku: 'A00003', warehouse: 'WH-WEST', onHand: 22, reserved: 0 });
    expect(first.through).toEqual(new Date('2026-01-05T09:00:00Z'));

    // An order commits stock without touching the item's UpdateDate: its document sends the item to be read.
    const created = await erp.createSalesOrder(order('CD-STOCK-1', [{ lineObjectNumber: 'A00003', quantity: 4, unitPrice: 1, warehouse: 'WH-WEST' }]), signal());
    const afterOrder = await erp.stockSince(call, first.through, new Map());
    expect(afterOrder.levels).toContainEqual({ sku: 'A00003', warehouse: 'WH-EAST', onHand: 44, reserved: 0 });
    expect(afterOrder.levels).toContainEqual({ sku: 'A00003', warehouse: 'WH-WEST', onHand: 22, reserved: 4 });
    expect(afterOrder.through!.getTime()).toBeGreaterThan(first.through!.getTime());

    await fetch(`${url}/_control/stock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ItemCode: 'A00005', WarehouseCode: '01', Quantity: 7 }) });
    await fetch(`${url}/_control/orders/${created.erpOrderId}/deliver`, { method: 'POST' });
    await fetch(`${url}/_control/items/A00007`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ItemName: 'Renamed' }) });
    const later = await erp.stockSince(call, afterOrder.through, new Map());
    const skus = new Set(later.levels.map((l) => l.sku));
    expect(skus).toEqual(new Set(['A00003', 'A00005', 'A00007']));
    expect(later.levels).toContainEqual({ sku: 'A00003', warehouse: 'WH-WEST', onHand: 18, reserved: 0 });
    expect(later.levels).toContainEqual({ sku: 'A00005', warehouse: 'WH-EAST', onHand: 48 + 7, reserved: 0 });
    expect(later.through!.getTime()).toBeGreaterThanOrEqual(afterOrder.through!.getTime());
  });

  it('the first read starts the next one from the newest document, not the newest item record', async () => {
    const fresh = createSapB1Simulator();
    const freshUrl = await fresh.listen();
    try {
      const erp = new SapB1Erp(config({}, 'v1', freshUrl));
      await erp.createSalesOrder(order('CD-STOCK-2', [{ lineObjectNumber: 'A00009', quantity: 1, unitPrice: 1, warehouse: 'WH-EAST' }]), signal());
      const first = await erp.stockSince(call, undefined, new Map());
      const [stored] = ordersOf(fresh, 'CD-STOCK-2');
      expect(first.through).toEqual(new Date(`${stored!.UpdateDate}T${stored!.UpdateTime}Z`));
      expect(first.levels).toContainEqual({ sku: 'A00009', warehouse: 'WH-EAST', onHand: 56, reserved: 1 });
    } finally {
      await fresh.close();
    }
  });

  it('reads nothing without a warehouse map, and 21 items over pages of 20', async () => {
    expect(await new SapB1Erp(config({ warehouseCodes: {} }, 'v1', url)).stockSince(call, undefined, new Map())).toEqual({ levels: [], through: undefined });
    const items = Array.from({ length: 21 }, (_, i) => ({ ...defaultSapB1Data().items[0]!, ItemCode: `B${String(i).padStart(5, '0')}` }));
    const paged = createSapB1Simulator({ data: { items } });
    const pagedUrl = await paged.listen();
    try {
      const { levels } = await new SapB1Erp(config({ pageSize: 20, warehouseCodes: { 'WH-EAST': '01' } }, 'v1', pagedUrl)).stockSince(call, undefined, new Map());
      expect(levels.map((l) => l.sku)).toEqual(items.map((i) => i.ItemCode));
      expect(paged.state.requests.filter((r) => r.path === '/b1s/v1/Items')).toHaveLength(2);
    } finally {
      await paged.close();
    }
  });
});
