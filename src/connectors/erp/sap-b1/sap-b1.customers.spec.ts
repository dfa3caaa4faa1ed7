import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TargetError } from '../../../platform/delivery/outcome.js';
import { createSapB1Simulator, defaultSapB1Data, type SapB1Simulator, type SimBusinessPartner } from '../../../simulators/sap-b1/sap-b1-simulator.js';
import type { ErpAddress, ErpCustomerCreate, ErpCustomerUpdate, GovernedCall } from '../erp-contract.js';
import { customerWriteProblem, readPartnerRecord, sapCustomerFields, sapPartnerCreate, sapPartnerPatch, type SapPartnerRecord } from './sap-b1.customers.js';
import { SapB1Erp } from './sap-b1.delivery.js';

// A customer's fields both ways in SAP Business One: as the pull reads them and as the PATCH and the POST of
// BusinessPartners write them, pure; then the connector against the Service Layer simulator in both versions: only
// what differs is PATCHed, BPAddresses merged (the others kept); a create looked up first, idempotent by CardCode.
const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/sap_b1/${name}`, import.meta.url), 'utf8');
const CREDENTIALS = { companyDb: 'SBODEMOUS', username: 'manager', password: 'secret-1' };
const signal = () => AbortSignal.timeout(10_000);
const seed = () => structuredClone(defaultSapB1Data().businessPartners.find((p) => p.CardCode === 'c00001')!);

let sim: SapB1Simulator;
let base: string;
let from = 0;

beforeAll(async () => {
  sim = createSapB1Simulator({ companyDb: CREDENTIALS.companyDb, userName: CREDENTIALS.username, password: CREDENTIALS.password });
  base = await sim.listen();
});
afterAll(() => sim.close());
beforeEach(() => {
  from = sim.state.requests.length;
});

const erp = (version: 'v1' | 'v2' = 'v1') => new SapB1Erp({ baseUrl: `${base}/b1s/${version}`, ...CREDENTIALS });
const update = (number: string, fields: ErpCustomerUpdate['fields']): ErpCustomerUpdate => ({ number, fields });
const create = (number: string, fields: ErpCustomerCreate['fields']): ErpCustomerCreate => ({ number, fields });
const call: GovernedCall = (work) => work(signal());
const calls = () => sim.state.requests.slice(from).filter((r) => !r.path.endsWith('/Login')).map((r) => `${r.method} ${r.path.replace(/^\/b1s\/v[12]\//, '')}`);
const patches = () => sim.state.requests.slice(from).filter((r) => r.method === 'PATCH');
const partner = (code: string) => sim.state.businessPartners.get(code)!;
const address = (code: string, name: string, type = 'bo_ShipTo') => partner(code).BPAddresses.find((a) => a.AddressName === name && a.AddressType === type);

async function control(path: string, body: unknown, method = 'POST'): Promise<void> {
  const response = await fetch(`${base}/_control/${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
}

/** Business partner `code` set back to the seed's c00001 (its addresses and terms), with `fields` over it. */
async function given(code: string, fields: Partial<SimBusinessPartner> = {}): Promise<void> {
  const { CardCode: _c, UpdateDate: _d, UpdateTime: _t, ...rest } = seed();
  await control(`business-partners/${code}`, { ...rest, BPAddresses: rest.BPAddresses.map(({ RowNum: _r, BPCode: _b, ...a }) => a), ...fields }, 'PUT');
  from = sim.state.requests.length;
}

async function failureOf(promise: Promise<unknown>): Promise<TargetError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TargetError);
  return error as TargetError;
}

/** The seed's c00001 as the connector reads it. */
const record = (fields: Partial<SapPartnerRecord> = {}): SapPartnerRecord => {
  const { CardCode, CardName, CardType, EmailAddress, Phone1, FederalTaxID, PayTermsGrpCode, BilltoDefault, ShipToDefault, BPAddresses } = seed();
  return { ...readPartnerRecord({ CardCode, CardName, CardType, EmailAddress, Phone1, FederalTaxID, PayTermsGrpCode, BilltoDefault, ShipToDefault, BPAddresses }), ...fields };
};
const billTo: ErpAddress = { line1: '12 Park Avenue', city: 'New York', postalCode: '10016', region: 'NY', country: 'US' };
const shipTo: ErpAddress = { line1: '400 Industrial Way', line2: 'Dock 2', city: 'Newark', postalCode: '07105', region: 'NJ', country: 'US' };

describe('SAP Business One customer update: the PATCH', () => {
  it('writes only the fields that differ, to their properties; blank and null are the same; null clears', () => {
    const fields = { name: 'Earthshaker Corporation', email: 'ap@earthshaker.example', phone: '+12125550101', taxId: null, billingAddress: billTo, shippingAddress: shipTo };
    expect(sapPartnerPatch(update('c00001', fields), record(), undefined)).toEqual({
      patch: { EmailAddress: 'ap@earthshaker.example', Phone1: '+12125550101', FederalTaxID: '' }, written: ['email', 'phone', 'taxId'], skipped: [],
    });
    expect(sapPartnerPatch(update('c00001', fields), record({ EmailAddress: 'ap@earthshaker.example', Phone1: '+12125550101', FederalTaxID: null }), undefined).written).toEqual([]);
  });

  it('changes the default address of each type, sending its RowNum, name and type and only the properties that differ; countries in capitals', () => {
    const moved = { ...shipTo, line1: '1 Port Road', line2: null, country: 'us' };
    const { patch, written } = sapPartnerPatch(update('c00001', { shippingAddress: moved, billingAddress: { ...billTo, country: 'us' } }), record(), undefined);
    expect(written).toEqual(['shippingAddress']);
    expect(patch).toEqual({ BPAddresses: [{ RowNum: 1, BPCode: 'c00001', AddressName: 'Ship To', AddressType: 'bo_ShipTo', Street: '1 Port Road', Block: '' }] });
    // The default ship-to is the one ShipToDefault names, not the first.
    const other = sapPartnerPatch(update('c00001', { shippingAddress: moved }), record({ ShipToDefault: 'West Coast' }), undefined).patch.BPAddresses as Array<Record<string, unknown>>;
    expect(other[0]).toMatchObject({ RowNum: 2, AddressName: 'West Coast', Street: '1 Port Road', City: 'Newark', ZipCode: '07105', State: 'NJ' });
  });

  it('adds an address of a type the partner has none of, named as SAP names them, and makes it the default', () => {
    const { patch } = sapPartnerPatch(update('c00002', { billingAddress: billTo }), record({ CardCode: 'c00002', BilltoDefault: null, ShipToDefault: null, BPAddresses: [] }), undefined);
    expect(patch).toEqual({
      BilltoDefault: 'Bill To',
      BPAddresses: [{ AddressName: 'Bill To', AddressType: 'bo_BillTo', BPCode: 'c00002', Street: '12 Park Avenue', Block: '', City: 'New York', ZipCode: '10016', State: 'NY', Country: 'US' }],
    });
  });

  it('skips, with the reason, a null name, a null address, a null or unknown payment terms and a region SAP cannot hold; payment terms by GroupNumber', () => {
    const { patch, skipped } = sapPartnerPatch(update('c00001', {
      name: null, billingAddress: null, paymentTerms: null, shippingAddress: { ...shipTo, region: 'New Jersey' },
    }), record(), undefined);
    expect(patch).toEqual({});
    expect(skipped.map((s) => s.field)).toEqual(['name', 'billingAddress', 'paymentTerms', 'shippingAddress']);
    expect(skipped[1]!.reason).toMatch(/B1S-ReplaceCollectionsOnPatch: true, which replaces the whole collection/);
    expect(skipped[3]!.reason).toMatch(/up to 3 characters\), and the region is "New Jersey"/);
    expect(sapPartnerPatch(update('c00001', { paymentTerms: 'Net 90' }), record(), undefined).skipped[0]!.reason).toBe('SAP Business One has no payment terms named "Net 90" (PaymentTermsTypes)');
    expect(sapPartnerPatch(update('c00001', { paymentTerms: 'Net 60' }), record(), 2).patch).toEqual({ PayTermsGrpCode: 2 });
    expect(sapPartnerPatch(update('c00001', { paymentTerms: 'Net 30' }), record(), 1).written).toEqual([]);
  });
});

describe('SAP Business One customer update against the simulator', () => {
  for (const version of ['v1', 'v2'] as const) {
    it(`${version}: writes what differs in one PATCH that merges BPAddresses: the bill-to and the default ship-to changed, the other ship-to kept; the same again changes nothing`, async () => {
      await given('c00001');
      const fields: ErpCustomerUpdate['fields'] = {
        name: 'Earthshaker Corporation', email: 'ap@earthshaker.example', phone: '+12125550101',
        billingAddress: { ...billTo, line1: '14 Park Avenue', line2: 'Floor 3' }, shippingAddress: { ...shipTo, postalCode: '07114' }, paymentTerms: 'Net 60',
      };
      expect(await erp(version).updateCustomer(update('c00001', fields), signal())).toEqual({ updated: true, written: ['email', 'phone', 'billingAddress', 'shippingAddress', 'paymentTerms'] });
      expect(calls()).toEqual(['GET PaymentTermsTypes', "GET BusinessPartners('c00001')", "PATCH BusinessPartners('c00001')"]);
      const [patch] = patches();
      expect(patch).toMatchObject({ status: 204, replaceCollections: 'false' });
      expect(patch!.body).toEqual({
        EmailAddress: 'ap@earthshaker.example', Phone1: '+12125550101', PayTermsGrpCode: 2,
        BPAddresses: [
          { RowNum: 0, BPCode: 'c00001', AddressName: 'Bill To', AddressType: 'bo_BillTo', Street: '14 Park Avenue', Block: 'Floor 3' },
          { RowNum: 1, BPCode: 'c00001', AddressName: 'Ship To', AddressType: 'bo_ShipTo', ZipCode: '07114' },
        ],
      });
      expect(partner('c00001')).toMatchObject({ CardName: 'Earthshaker Corporation', EmailAddress: 'ap@earthshaker.example', Phone1: '+12125550101', PayTermsGrpCode: 2, BilltoDefault: 'Bill To', ShipToDefault: 'Ship To' });
      expect(partner('c00001').BPAddresses.map((a) => [a.AddressType, a.AddressName, a.Street, a.Block, a.ZipCode])).toEqual([
        ['bo_BillTo', 'Bill To', '14 Park Avenue', 'Floor 3', '10016'],
        ['bo_ShipTo', 'Ship To', '400 Industrial Way', 'Dock 2', '07114'],
        ['bo_ShipTo', 'West Coast', '88 Harbor Blvd', null, '94607'],
      ]);

      from = sim.state.requests.length;
      expect(await erp(version).updateCustomer(update('c00001', fields), signal())).toEqual({ updated: false });
      expect(patches()).toEqual([]);
    });
  }

  it('reads the partner with the fields it compares, and its addresses', async () => {
    await given('c00001');
    await erp().updateCustomer(update('c00001', { email: 'orders@earthshaker.example' }), signal());
    const read = sim.state.requests.slice(from).find((r) => r.method === 'GET')!;
    expect(read.query).toBe('$select=CardCode,CardName,CardType,EmailAddress,Phone1,FederalTaxID,PayTermsGrpCode,BilltoDefault,ShipToDefault,BPAddresses');
    expect(patches()).toEqual([]);
  });

  it('gives a partner without addresses its bill-to and ship-to, each its type\'s default', async () => {
    await given('c00004', { BPAddresses: [], BilltoDefault: null, ShipToDefault: null });
    expect(await erp().updateCustomer(update('c00004', { billingAddress: billTo, shippingAddress: shipTo }), signal())).toEqual({ updated: true, written: ['billingAddress', 'shippingAddress'] });
    expect(partner('c00004')).toMatchObject({ BilltoDefault: 'Bill To', ShipToDefault: 'Ship To' });
    expect(address('c00004', 'Bill To', 'bo_BillTo')).toMatchObject({ Street: '12 Park Avenue', City: 'New York', ZipCode: '10016', State: 'NY', Country: 'US' });
    expect(address('c00004', 'Ship To')).toMatchObject({ Street: '400 Industrial Way', Block: 'Dock 2', City: 'Newark' });
    expect((await erp().updateCustomer(update('c00004', { billingAddress: billTo, shippingAddress: shipTo }), signal())).updated).toBe(false);
  });

  it('a change another user makes between our read and our PATCH stays, unless it is a field we write (no etag: the last write wins)', async () => {
    await given('c00001');
    await control('business-partners/c00001/edit-before-next-patch', {
      fields: { Phone1: '+1 212 555 0199', EmailAddress: 'someone.else@earthshaker.example', BPAddresses: [{ AddressName: 'Chicago', AddressType: 'bo_ShipTo', Street: '5 Lake St', City: 'Chicago', Country: 'US' }] },
    });
    expect(await erp().updateCustomer(update('c00001', { email: 'ap@earthshaker.example', shippingAddress: { ...shipTo, line1: '1 Port Road' } }), signal())).toMatchObject({ updated: true });
    expect(partner('c00001')).toMatchObject({ EmailAddress: 'ap@earthshaker.example', Phone1: '+1 212 555 0199' });
    expect(partner('c00001').BPAddresses.map((a) => [a.AddressName, a.Street])).toEqual([['Bill To', '12 Park Avenue'], ['Ship To', '1 Port Road'], ['West Coast', '88 Harbor Blvd'], ['Chicago', '5 Lake St']]);
  });

  it('skips what SAP has no room for, with the reason, and writes the rest', async () => {
    await given('c00001');
    const result = await erp().updateCustomer(update('c00001', { billingAddress: null, paymentTerms: 'Net 90', taxId: '98-7654321' }), signal());
    expect(result).toMatchObject({ updated: true, written: ['taxId'] });
    expect(result.skipped!.map((s) => s.field)).toEqual(['billingAddress', 'paymentTerms']);
    expect(address('c00001', 'Bill To', 'bo_BillTo')).toBeDefined();
    expect(partner('c00001')).toMatchObject({ FederalTaxID: '98-7654321', PayTermsGrpCode: 1 });
  });

  it('a partner SAP does not have, or one that is not a customer, is permanent, naming it', async () => {
    const missing = await failureOf(erp().updateCustomer(update('c99999', { email: 'x@example.com' }), signal()));
    expect(missing.failureClass).toBe('permanent');
    expect(missing.message).toContain('no business partner c99999');
    const supplier = await failureOf(erp('v2').updateCustomer(update('v00001', { email: 'x@example.com' }), signal()));
    expect(supplier).toMatchObject({ failureClass: 'permanent', message: expect.stringContaining('v00001 is not a customer (CardType cSupplier)') });
    expect(patches()).toEqual([]);
  });

  it('a value SAP refuses (longer than its field) is permanent, with SAP\'s message', async () => {
    await given('c00001');
    const error = await failureOf(erp().updateCustomer(update('c00001', { phone: `+1${'2'.repeat(20)}` }), signal()));
    expect(error).toMatchObject({ failureClass: 'permanent', message: expect.stringContaining("Value too long in property 'Phone1'") });
  });
});

describe('SAP Business One customer fields as the pull reads them, and the create: pure', () => {
  const TERMS = new Map([[-1, '- Cash Basic -'], [1, 'Net 30'], [2, 'Net 60']]);
  const seedBillTo = { line1: '12 Park Avenue', line2: null, city: 'New York', postalCode: '10016', region: 'NY', country: 'US' };

  it('reads the contact fields, the default bill-to and ship-to, the payment terms by name, and when SAP changed the partner', () => {
    expect(sapCustomerFields({ ...record(), UpdateDate: '2026-02-18', UpdateTime: '13:15:34' }, TERMS)).toEqual({
      email: 'orders@earthshaker.example', phone: '+1 212 555 0101', taxId: '12-3456789', paymentTerms: 'Net 30', billingAddress: seedBillTo,
      shippingAddress: { line1: '400 Industrial Way', line2: 'Dock 2', city: 'Newark', postalCode: '07105', region: 'NJ', country: 'US' },
      modifiedAt: '2026-02-18T13:15:34.000Z',
    });
  });

  it('blank text is null; the ship-to ShipToDefault names, else the first of its type; an address without its street, city or country is none; terms SAP\'s table lacks are left out', () => {
    const blank = sapCustomerFields(record({ EmailAddress: '', Phone1: '  ', FederalTaxID: null, PayTermsGrpCode: null, BilltoDefault: 'Gone', ShipToDefault: 'West Coast' }), TERMS);
    expect(blank).toEqual({
      email: null, phone: null, taxId: null, paymentTerms: null, billingAddress: seedBillTo,
      shippingAddress: { line1: '88 Harbor Blvd', line2: null, city: 'Oakland', postalCode: '94607', region: 'CA', country: 'US' },
    });
    const [bill, ship] = record().BPAddresses!;
    expect(sapCustomerFields(record({ BPAddresses: [{ ...bill!, City: ' ' }, { ...ship!, Country: null }], PayTermsGrpCode: 42 }), TERMS)).toEqual({
      email: 'orders@earthshaker.example', phone: '+1 212 555 0101', taxId: '12-3456789', billingAddress: null, shippingAddress: null,
    });
    expect(sapCustomerFields(record({ BPAddresses: [] }), TERMS)).toMatchObject({ billingAddress: null, shippingAddress: null });
  });

  it('what the pull reads, written back, changes nothing: the PATCH and the pull give the fields the same meaning', () => {
    const { modifiedAt: _m, ...read } = sapCustomerFields(record({ ShipToDefault: 'West Coast', PayTermsGrpCode: 2 }), TERMS);
    expect(sapPartnerPatch(update('c00001', read), record({ ShipToDefault: 'West Coast', PayTermsGrpCode: 2 }), 2)).toEqual({ patch: {}, written: [], skipped: [] });
  });

  it('creates a customer (CardType cCustomer) with its fields as the PATCH writes them, its addresses each its type\'s default; without a name, the number', () => {
    const fields = { name: 'Northwind Traders', email: 'ap@northwind.example', phone: '+494055501', taxId: 'DE123456789', billingAddress: billTo, shippingAddress: shipTo, paymentTerms: 'Net 60' };
    expect(sapPartnerCreate(create('c10001', fields), 2)).toEqual({
      patch: {
        CardCode: 'c10001', CardName: 'Northwind Traders', CardType: 'cCustomer', EmailAddress: 'ap@northwind.example', Phone1: '+494055501', FederalTaxID: 'DE123456789',
        PayTermsGrpCode: 2, BilltoDefault: 'Bill To', ShipToDefault: 'Ship To',
        BPAddresses: [
          { AddressName: 'Bill To', AddressType: 'bo_BillTo', BPCode: 'c10001', Street: '12 Park Avenue', Block: '', City: 'New York', ZipCode: '10016', State: 'NY', Country: 'US' },
          { AddressName: 'Ship To', AddressType: 'bo_ShipTo', BPCode: 'c10001', Street: '400 Industrial Way', Block: 'Dock 2', City: 'Newark', ZipCode: '07105', State: 'NJ', Country: 'US' },
        ],
      },
      written: ['name', 'email', 'phone', 'taxId', 'billingAddress', 'shippingAddress', 'paymentTerms'],
      skipped: [],
    });
    // A new account has nothing to clear: null fields are left out, and SAP gives it its default terms.
    expect(sapPartnerCreate(create('c10002', { name: null, email: null, billingAddress: null, paymentTerms: null }), undefined)).toEqual({
      patch: { CardCode: 'c10002', CardName: 'c10002', CardType: 'cCustomer' }, written: [], skipped: [],
    });
    const { skipped } = sapPartnerCreate(create('c10003', { name: '', paymentTerms: 'Net 90', shippingAddress: { ...shipTo, region: 'New Jersey' } }), undefined);
    expect(skipped.map((s) => s.field)).toEqual(['paymentTerms', 'shippingAddress']);
  });

  it.each([
    ['a blank number', { number: ' ', fields: {} }, 'the account number is " ", not a code'],
    ['no number', { fields: {} }, 'the account number is undefined, not a code'],
    ['fields that are not an object', { number: 'c1', fields: null }, 'the fields are not an object'],
    ['a name that is not text', { number: 'c1', fields: { name: 42 } }, 'name is 42, not text'],
    ['an address that is text', { number: 'c1', fields: { billingAddress: '12 Park Avenue' } }, 'billingAddress is not an address with its line1, city and country'],
    ['an address without its city', { number: 'c1', fields: { shippingAddress: { ...shipTo, city: '' } } }, 'shippingAddress is not an address with its line1, city and country'],
    ['an address with a postal code that is a number', { number: 'c1', fields: { shippingAddress: { ...shipTo, postalCode: 7105 } } }, 'shippingAddress is not an address'],
  ])('%s cannot be written', (_label, write, problem) => {
    expect(customerWriteProblem(write as unknown as ErpCustomerCreate)).toContain(problem);
  });

  it('a write of text, null and whole addresses can be', () => {
    expect(customerWriteProblem(create('c1', { name: 'N', email: null, billingAddress: null, shippingAddress: { ...shipTo, line2: undefined, region: null }, paymentTerms: 'Net 30' }))).toBeUndefined();
  });
});

describe('SAP Business One customer create against the simulator', () => {
  const fields: ErpCustomerCreate['fields'] = {
    name: 'Northwind Traders', email: 'ap@northwind.example', phone: '+494055501', taxId: 'DE123456789', billingAddress: billTo, shippingAddress: shipTo, paymentTerms: 'Net 60',
  };
  const posts = () => sim.state.requests.slice(from).filter((r) => r.method === 'POST' && r.path.endsWith('/BusinessPartners'));

  for (const version of ['v1', 'v2'] as const) {
    it(`${version}: looks the code up, then POSTs the partner with its addresses; the pull reads back what was sent; again, nothing is created or changed`, async () => {
      const code = `N${version}01`;
      expect(await erp(version).createCustomer(create(code, fields), signal())).toEqual({
        created: true, updated: true, erpId: code, written: ['name', 'email', 'phone', 'taxId', 'billingAddress', 'shippingAddress', 'paymentTerms'],
      });
      expect(calls()).toEqual([`GET BusinessPartners('${code}')`, 'GET PaymentTermsTypes', 'POST BusinessPartners']);
      expect(posts()[0]).toMatchObject({ status: 201 });
      expect(partner(code)).toMatchObject({
        CardType: 'cCustomer', CardName: 'Northwind Traders', EmailAddress: 'ap@northwind.example', Phone1: '+494055501', FederalTaxID: 'DE123456789', PayTermsGrpCode: 2,
        BilltoDefault: 'Bill To', ShipToDefault: 'Ship To',
      });
      expect(partner(code).BPAddresses.map((a) => [a.AddressType, a.AddressName, a.Street, a.Block, a.City, a.ZipCode, a.State, a.Country])).toEqual([
        ['bo_BillTo', 'Bill To', '12 Park Avenue', '', 'New York', '10016', 'NY', 'US'],
        ['bo_ShipTo', 'Ship To', '400 Industrial Way', 'Dock 2', 'Newark', '07105', 'NJ', 'US'],
      ]);
      const read = (await erp(version).customers(call)).customers.find((c) => c.number === code)!;
      expect(read).toMatchObject({ name: fields.name, email: fields.email, phone: fields.phone, taxId: fields.taxId, paymentTerms: 'Net 60', billingAddress: { ...billTo, line2: null }, shippingAddress: shipTo });

      from = sim.state.requests.length;
      const partners = sim.state.businessPartners.size;
      expect(await erp(version).createCustomer(create(code, fields), signal())).toEqual({ created: false, updated: false, erpId: code });
      expect(calls()).toEqual([`GET BusinessPartners('${code}')`, 'GET PaymentTermsTypes']);
      expect(sim.state.businessPartners.size).toBe(partners);
    });
  }

  it('a partner SAP has already (a retry after a lost answer) gets what differs written, as an update: created false', async () => {
    await control('lose-next-create', { count: 1 });
    const lost = await failureOf(erp().createCustomer(create('N00002', fields), signal()));
    expect(lost.failureClass).toBe('retryable');
    expect(partner('N00002')).toMatchObject({ CardName: 'Northwind Traders' });
    expect(await erp().createCustomer(create('N00002', { ...fields, email: 'billing@northwind.example' }), signal())).toEqual({ created: false, updated: true, erpId: 'N00002', written: ['email'] });
    expect(posts()).toHaveLength(1);
    expect(partner('N00002').EmailAddress).toBe('billing@northwind.example');
  });

  for (const version of ['v1', 'v2'] as const) {
    it(`${version}: another writer creates the partner between the look-up and the POST: SAP refuses the code as taken, and the create falls back to the update`, async () => {
      // The other writer's partner is there, and the look-up meets it missing, as it would a moment earlier.
      await given(`N${version}03`, { EmailAddress: 'someone.else@northwind.example' });
      await control('fault', { status: 404, body: fixture('error_not_found_2028.json') });
      const result = await erp(version).createCustomer(create(`N${version}03`, fields), signal());
      expect(result).toMatchObject({ created: false, updated: true, erpId: `N${version}03` });
      expect(result.written).toEqual(expect.arrayContaining(['email', 'phone', 'taxId', 'paymentTerms']));
      expect(calls()).toEqual([
        `GET BusinessPartners('N${version}03')`, 'GET PaymentTermsTypes', 'POST BusinessPartners', `GET BusinessPartners('N${version}03')`, `PATCH BusinessPartners('N${version}03')`,
      ]);
      const refused = posts()[0]!;
      expect(refused.status).toBe(400);
      expect(partner(`N${version}03`)).toMatchObject({ EmailAddress: 'ap@northwind.example', Phone1: '+494055501', PayTermsGrpCode: 2 });
    });
  }

  it('malformed input is permanent before any call; a value SAP refuses is permanent with SAP\'s message, not taken for the code taken', async () => {
    const malformed = await failureOf(erp().createCustomer(create('N00004', { billingAddress: { ...billTo, city: '' } }), signal()));
    expect(malformed).toMatchObject({ failureClass: 'permanent', message: expect.stringContaining('billingAddress is not an address with its line1, city and country') });
    expect(await failureOf(erp().createCustomer({ number: '', fields: {} }, signal()))).toMatchObject({ failureClass: 'permanent' });
    expect(await failureOf(erp().updateCustomer(update('c00001', { name: 7 as unknown as string }), signal()))).toMatchObject({ failureClass: 'permanent', message: expect.stringContaining('name is 7, not text') });
    expect(calls()).toEqual([]);
    const long = await failureOf(erp('v2').createCustomer(create('N'.repeat(16), fields), signal()));
    expect(long).toMatchObject({ failureClass: 'permanent', details: { status: 400 }, message: expect.stringContaining("Value too long in property 'CardCode'") });
    const phone = await failureOf(erp().createCustomer(create('N00005', { ...fields, phone: `+1${'2'.repeat(20)}` }), signal()));
    expect(phone).toMatchObject({ failureClass: 'permanent', message: expect.stringContaining("Value too long in property 'Phone1'") });
    expect(sim.state.businessPartners.has('N00005')).toBe(false);
  });

  it('the code of a partner that is not a customer is permanent, naming it', async () => {
    const supplier = await failureOf(erp().createCustomer(create('v00001', fields), signal()));
    expect(supplier).toMatchObject({ failureClass: 'permanent', message: expect.stringContaining('v00001 is not a customer (CardType cSupplier)') });
    expect(posts()).toEqual([]);
  });
});
