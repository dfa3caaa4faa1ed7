import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { TargetError } from '../../../platform/delivery/outcome.js';
import { createBcNotificationReceiver, type BcNotificationReceiver } from '../../../simulators/business-central/bc-notification-receiver.js';
import { createBusinessCentralSimulator, type BusinessCentralSimulator, type SimCustomer } from '../../../simulators/business-central/bc-simulator.js';
import type { ErpChangeNotice, ErpCustomerUpdate, GovernedCall } from '../erp-contract.js';
import type { BcCustomer, BcCustomerRecord } from './business-central.client.js';
import { BLANK_GUID, bcCustomerChanges, bcCustomerNumberProblem, bcCustomerWrite, bcErpCustomer, bcPaymentTermsCode } from './business-central.customers.js';
import { BusinessCentralErp } from './business-central.delivery.js';

// A customer's fields between Crossdock and Business Central: the mappings, pure; then the connector against the
// simulator, which keeps an etag per customer, answers 412 on a stale one, lets a test change the customer behind
// our back, and notifies changes of customers to a webhook subscriber.
const COMPANY = 'c0ffee00-0000-0000-0000-000000000001';
const TERMS = { '14 DAYS': '7a5f2c10-0000-4000-8000-000000000014', '30 DAYS': '7a5f2c10-0000-4000-8000-000000000030', CM: '7a5f2c10-0000-4000-8000-0000000000c3' };
const signal = () => AbortSignal.timeout(10_000);
const call: GovernedCall = (work) => work(signal());

let sim: BusinessCentralSimulator;
let base: string;
let erp: BusinessCentralErp;
let from = 0;

beforeAll(async () => {
  sim = createBusinessCentralSimulator({ clientId: 'crossdock', clientSecret: 'secret-1', ratePerSecond: 1000, concurrency: 50, collectionThreshold: 5 });
  base = await sim.listen();
  erp = new BusinessCentralErp({
    tenantId: 'tenant-1', environment: 'production', companyId: COMPANY, clientId: 'crossdock', clientSecret: 'secret-1',
    baseUrl: `${base}/v2.0/tenant-1/production/api/v2.0`, tokenUrl: `${base}/oauth2/v2.0/token`,
  });
});
afterAll(() => sim.close());
beforeEach(() => {
  from = sim.state.requests.length;
});

/** The calls made since the test started, as `METHOD /entity(...)`. */
const calls = () => sim.state.requests.slice(from).map((r) => `${r.method} ${r.path.replace(/^.*\/companies\([^)]+\)/, '')}`);
const patches = () => sim.state.requests.slice(from).filter((r) => r.method === 'PATCH');
const customer = (number: string) => sim.state.customers.get(number)!;

async function control(path: string, body: unknown, method = 'POST'): Promise<void> {
  const response = await fetch(`${base}/_control/${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
}

/** A customer of the simulator's, as `fields` say (made or changed through the control API), as it is now. */
async function given(number: string, fields: Partial<SimCustomer>): Promise<SimCustomer> {
  await control(`customers/${number}`, fields, 'PUT');
  return { ...customer(number) };
}

async function failureOf(promise: Promise<unknown>): Promise<TargetError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TargetError);
  return error as TargetError;
}

const update = (number: string, fields: ErpCustomerUpdate['fields']): ErpCustomerUpdate => ({ number, fields });
const record = (fields: Partial<BcCustomerRecord> = {}): BcCustomerRecord => ({ id: 'c1', number: '10000', '@odata.etag': 'W/"1"', ...fields });

describe('Business Central customer update: the mapping', () => {
  it('maps each field to its property, an address to the customer\'s own, and clears with blanks where a field is null', () => {
    const write = bcCustomerWrite(update('10000', {
      name: 'Adatum Corp.', email: null, phone: '+14045550101', taxId: 'US-58-1234567',
      billingAddress: { line1: '1 Peachtree St', line2: null, city: 'Atlanta', region: 'GA', postalCode: '30303', country: 'US' }, paymentTerms: null,
    }), undefined);
    expect(write.skipped).toEqual([]);
    expect(Object.fromEntries(write.properties.map((p) => [p.property, p.value]))).toEqual({
      displayName: 'Adatum Corp.', email: '', phoneNumber: '+14045550101', taxRegistrationNumber: 'US-58-1234567',
      addressLine1: '1 Peachtree St', addressLine2: '', city: 'Atlanta', state: 'GA', postalCode: '30303', country: 'US', paymentTermsId: BLANK_GUID,
    });
    const blank = bcCustomerWrite(update('10000', { billingAddress: null }), undefined).properties;
    expect(blank.map((p) => [p.property, p.value])).toEqual(['addressLine1', 'addressLine2', 'city', 'state', 'country', 'postalCode'].map((p) => [p, '']));
  });

  it('skips what Business Central has no room for, with the reason: a ship-to address, an unknown payment terms code, a null name', () => {
    const { properties, skipped } = bcCustomerWrite(update('10000', {
      name: null, shippingAddress: { line1: 'Dock 4', city: 'Atlanta', country: 'US' }, paymentTerms: '45 DAYS', email: 'ap@adatum.example',
    }), undefined);
    expect(properties.map((p) => p.property)).toEqual(['email']);
    expect(skipped.map((s) => s.field)).toEqual(['name', 'shippingAddress', 'paymentTerms']);
    expect(skipped[1]!.reason).toMatch(/Ship-to Address table, which API v2\.0 does not publish/);
    expect(skipped[2]!.reason).toBe('Business Central has no payment terms with code "45 DAYS"');
    // A value absent from the update is not touched; one that cannot be a code is not looked up.
    expect(bcCustomerWrite(update('10000', { email: undefined }), undefined)).toEqual({ properties: [], skipped: [] });
    expect([bcPaymentTermsCode(' 30 days '), bcPaymentTermsCode(''), bcPaymentTermsCode('NET 30 DAYS EOM')]).toEqual(['30 DAYS', undefined, undefined]);
  });

  it('changes only what differs: blank is absent, codes in capitals, payment terms by id', () => {
    const write = bcCustomerWrite(update('10000', {
      email: 'ap@adatum.example', phone: null, billingAddress: { line1: '192 Market Square', city: 'Atlanta', region: 'GA', postalCode: 'sw1a 1aa', country: 'gb' }, paymentTerms: null,
    }), undefined);
    const held = record({ email: 'robert.townes@contoso.com', addressLine1: '192 Market Square', addressLine2: '', city: 'Atlanta', state: 'GA', postalCode: 'SW1A 1AA', country: 'GB', paymentTermsId: BLANK_GUID });
    expect(bcCustomerChanges(write, held)).toEqual({ changes: { email: 'ap@adatum.example' }, fields: ['email'] });
    expect(bcCustomerChanges(write, { ...held, email: 'ap@adatum.example' })).toEqual({ changes: {}, fields: [] });
    expect(bcCustomerChanges(write, { ...held, email: 'ap@adatum.example', postalCode: 'SW1A 2AA', paymentTermsId: TERMS.CM.toUpperCase() })).toEqual({
      changes: { postalCode: 'SW1A 1AA', paymentTermsId: BLANK_GUID }, fields: ['billingAddress', 'paymentTerms'],
    });
    const terms = bcCustomerWrite(update('10000', { paymentTerms: 'cm' }), TERMS.CM);
    expect(bcCustomerChanges(terms, record({ paymentTermsId: TERMS.CM.toUpperCase() })).fields).toEqual([]);
  });
});

describe('Business Central customer update against the simulator', () => {
  it('writes the fields, PATCHing only the differing properties with the etag it read; the same update again changes nothing', async () => {
    const before = await given('10000', {
      displayName: 'Adatum Corporation', email: 'robert.townes@contoso.com', phoneNumber: '', taxRegistrationNumber: '', addressLine1: '192 Market Square', addressLine2: '',
      city: 'Atlanta', state: 'GA', country: 'US', postalCode: '31772', paymentTermsId: TERMS['30 DAYS'],
    });
    from = sim.state.requests.length;
    const fields: ErpCustomerUpdate['fields'] = {
      name: 'Adatum Corporation', email: 'ap@adatum.example', phone: '+14045550101', billingAddress: { line1: '192 Market Square', line2: 'Suite 200', city: 'Atlanta', region: 'GA', postalCode: '31772', country: 'US' },
      paymentTerms: '14 days',
    };
    expect(await erp.updateCustomer(update('10000', fields), signal())).toEqual({ updated: true, etagRetries: 0, written: ['email', 'phone', 'billingAddress', 'paymentTerms'] });
    expect(calls()).toEqual(['GET /paymentTerms', 'GET /customers', `PATCH /customers(${before.id})`]);
    expect(patches()[0]).toMatchObject({ ifMatch: before.etag, status: 200, body: { email: 'ap@adatum.example', phoneNumber: '+14045550101', addressLine2: 'Suite 200', paymentTermsId: TERMS['14 DAYS'] } });
    expect(Object.keys(patches()[0]!.body as object).sort()).toEqual(['addressLine2', 'email', 'paymentTermsId', 'phoneNumber']);
    expect(customer('10000')).toMatchObject({ email: 'ap@adatum.example', phoneNumber: '+14045550101', addressLine2: 'Suite 200', paymentTermsId: TERMS['14 DAYS'], displayName: 'Adatum Corporation' });
    expect(customer('10000').etag).not.toBe(before.etag);

    from = sim.state.requests.length;
    expect(await erp.updateCustomer(update('10000', fields), signal())).toEqual({ updated: false });
    expect(calls()).toEqual(['GET /paymentTerms', 'GET /customers']);
  });

  it('clears where a field is null: the tax id blank, the payment terms the blank GUID, the address blank', async () => {
    await given('20000', { taxRegistrationNumber: 'US-36-0000001', paymentTermsId: TERMS['30 DAYS'], addressLine1: '153 Thomas Drive', city: 'Chicago', country: 'US' });
    from = sim.state.requests.length;
    expect(await erp.updateCustomer(update('20000', { taxId: null, paymentTerms: null, billingAddress: null }), signal())).toMatchObject({ updated: true });
    expect(customer('20000')).toMatchObject({ taxRegistrationNumber: '', paymentTermsId: BLANK_GUID, addressLine1: '', city: '', country: '' });
    // Nothing is looked up for a null payment terms.
    expect(calls()).toEqual(['GET /customers', expect.stringMatching(/^PATCH \/customers\(/)]);
    expect((await erp.updateCustomer(update('20000', { taxId: null, paymentTerms: null, billingAddress: null }), signal())).updated).toBe(false);
  });

  it('holds codes as Business Central does (in capitals): a postal code written in small letters is not written again', async () => {
    await given('40000', { postalCode: '', country: '' });
    const address = { line1: '10 Downing St', city: 'London', postalCode: 'sw1a 2aa', country: 'gb' };
    expect((await erp.updateCustomer(update('40000', { billingAddress: address }), signal())).updated).toBe(true);
    expect(customer('40000')).toMatchObject({ postalCode: 'SW1A 2AA', country: 'GB' });
    from = sim.state.requests.length;
    expect(await erp.updateCustomer(update('40000', { billingAddress: address }), signal())).toEqual({ updated: false });
    expect(patches()).toEqual([]);
  });

  it('a customer changed behind our back between our read and our PATCH: 412, read again and merged again; our fields win, the other change stays', async () => {
    const before = await given('10000', { email: 'robert.townes@contoso.com', phoneNumber: '', website: '' });
    // Another user changes the email (which we send too) and the phone and website (which we do not) just before our PATCH arrives.
    await control('customers/10000/edit-before-next-patch', { fields: { email: 'someone.else@adatum.example', phoneNumber: '+14045550199', website: 'adatum.example' } });
    from = sim.state.requests.length;
    expect(await erp.updateCustomer(update('10000', { email: 'ap@adatum.example', taxId: 'US-58-1234567' }), signal())).toEqual({ updated: true, etagRetries: 1, written: ['email', 'taxId'] });
    expect(calls()).toEqual(['GET /customers', `PATCH /customers(${before.id})`, 'GET /customers', `PATCH /customers(${before.id})`]);
    const [stale, fresh] = patches();
    expect(stale).toMatchObject({ status: 412, ifMatch: before.etag });
    expect(fresh!.status).toBe(200);
    expect(fresh!.ifMatch).not.toBe(before.etag);
    expect(fresh!.body).toEqual({ email: 'ap@adatum.example', taxRegistrationNumber: 'US-58-1234567' });
    expect(customer('10000')).toMatchObject({ email: 'ap@adatum.example', taxRegistrationNumber: 'US-58-1234567', phoneNumber: '+14045550199', website: 'adatum.example' });
  });

  it('an injected 412 is read again and PATCHed again; an edit that already made our change ends with nothing to write', async () => {
    await given('10000', { email: 'robert.townes@contoso.com' });
    await control('stale-next-patch', { count: 1 });
    from = sim.state.requests.length;
    expect(await erp.updateCustomer(update('10000', { email: 'billing@adatum.example' }), signal())).toEqual({ updated: true, etagRetries: 1, written: ['email'] });
    expect(patches().map((p) => p.status)).toEqual([412, 200]);

    await control('customers/10000/edit-before-next-patch', { fields: { email: 'orders@adatum.example' } });
    from = sim.state.requests.length;
    expect(await erp.updateCustomer(update('10000', { email: 'orders@adatum.example' }), signal())).toEqual({ updated: false, etagRetries: 1 });
    expect(patches().map((p) => p.status)).toEqual([412]);
  });

  it('three PATCHes that each meet a change: a retryable error, and nothing written', async () => {
    await given('10000', { email: 'robert.townes@contoso.com' });
    await control('customers/10000/edit-before-next-patch', { fields: { phoneNumber: '+14045550123' }, count: 3 });
    from = sim.state.requests.length;
    const error = await failureOf(erp.updateCustomer(update('10000', { email: 'ap@adatum.example' }), signal()));
    expect(error.failureClass).toBe('retryable');
    expect(error.message).toMatch(/customer 10000 changed between each read and PATCH of 3/);
    expect(patches().map((p) => p.status)).toEqual([412, 412, 412]);
    expect(customer('10000').email).toBe('robert.townes@contoso.com');
    // The next attempt, once the other user is done, writes it.
    expect((await erp.updateCustomer(update('10000', { email: 'ap@adatum.example' }), signal())).updated).toBe(true);
  });

  it('skips the shipping address and an unknown payment terms code with the reason, and writes the rest', async () => {
    await given('20000', { phoneNumber: '', paymentTermsId: TERMS['30 DAYS'] });
    const result = await erp.updateCustomer(update('20000', { shippingAddress: { line1: 'Dock 4', city: 'Chicago', country: 'US' }, paymentTerms: '45 DAYS', phone: '+13125550100' }), signal());
    expect(result).toMatchObject({ updated: true, written: ['phone'] });
    expect(result.skipped!.map((s) => s.field)).toEqual(['shippingAddress', 'paymentTerms']);
    expect(result.skipped![0]!.reason).toMatch(/^API v2\.0's customer has one address/);
    expect(customer('20000').paymentTermsId).toBe(TERMS['30 DAYS']);
    // Only skipped fields: nothing to write, still said.
    expect(await erp.updateCustomer(update('20000', { shippingAddress: null }), signal())).toMatchObject({ updated: false, skipped: [{ field: 'shippingAddress' }] });
  });

  it('a customer Business Central does not have is permanent, naming it', async () => {
    from = sim.state.requests.length;
    const error = await failureOf(erp.updateCustomer(update('99999', { email: 'x@example.com' }), signal()));
    expect(error.failureClass).toBe('permanent');
    expect(error.message).toContain('no customer 99999');
    expect(patches()).toEqual([]);
  });

  it('a value Business Central refuses (longer than its field) is permanent, with its message', async () => {
    const error = await failureOf(erp.updateCustomer(update('40000', { taxId: 'X'.repeat(21) }), signal()));
    expect(error.failureClass).toBe('permanent');
    expect(error.message).toMatch(/must be less than or equal to 20 characters/);
  });
});

describe('Business Central customer read: the mapping', () => {
  const bc = (fields: Partial<BcCustomer> = {}): BcCustomer => ({
    id: 'c1', number: '10000', displayName: 'Adatum Corporation', blocked: ' ', creditLimit: 0, email: '', phoneNumber: '', taxRegistrationNumber: '', addressLine1: '',
    addressLine2: '', city: '', state: '', country: '', postalCode: '', paymentTermsId: BLANK_GUID, lastModifiedDateTime: '2020-08-21T07:38:44.293Z', ...fields,
  });
  const codes = new Map([[TERMS['30 DAYS'], '30 DAYS']]);

  it('maps the contact, tax id, address and payment terms code; blank is null, the address null when it has no line 1, city or country', () => {
    expect(bcErpCustomer(bc({
      email: 'robert.townes@contoso.com', phoneNumber: '(555) 555-1234', taxRegistrationNumber: 'US-58-1234567', addressLine1: '192 Market Square', city: 'Atlanta', state: 'GA',
      country: 'US', postalCode: '31772', paymentTermsId: TERMS['30 DAYS'].toUpperCase(), customerFinancialDetail: { balance: 12.5 },
    }), codes)).toEqual({
      erpId: 'c1', number: '10000', name: 'Adatum Corporation', blocked: ' ', creditLimit: 0, balanceDue: 12.5, email: 'robert.townes@contoso.com', phone: '(555) 555-1234',
      taxId: 'US-58-1234567', billingAddress: { line1: '192 Market Square', line2: null, city: 'Atlanta', region: 'GA', postalCode: '31772', country: 'US' },
      paymentTerms: '30 DAYS', modifiedAt: '2020-08-21T07:38:44.293Z',
    });
    const blank = bcErpCustomer(bc({ email: ' ', phoneNumber: null, postalCode: '31772' }), codes);
    expect(blank).toMatchObject({ email: null, phone: null, taxId: null, billingAddress: null, paymentTerms: null });
    expect(blank).not.toHaveProperty('shippingAddress');
    // Part of an address: what it lacks stays blank, for the canonical record's check to name.
    expect(bcErpCustomer(bc({ city: 'Atlanta' }), codes)).toMatchObject({ billingAddress: { line1: '', line2: null, city: 'Atlanta', region: null, postalCode: null, country: '' } });
  });

  it('leaves out what it cannot read: payment terms that are not listed, a time that is not one; refuses a credit limit without a balance', () => {
    const unlisted = bcErpCustomer(bc({ paymentTermsId: TERMS.CM }), codes);
    expect(unlisted).not.toHaveProperty('paymentTerms');
    expect(bcErpCustomer(bc({ lastModifiedDateTime: 'soon' }), codes)).not.toHaveProperty('modifiedAt');
    expect(bcErpCustomer(bc({ lastModifiedDateTime: '2020-08-21T07:38:44Z' }), codes)).toMatchObject({ modifiedAt: '2020-08-21T07:38:44.000Z' });
    expect(bcErpCustomer(bc({ creditLimit: 5000, customerFinancialDetail: {} }), codes)).toBe('its credit limit needs a balance, and customerFinancialDetail had none');
  });

  it('takes a new account\'s number only as Business Central would hold it: a code of up to 20 capitals', () => {
    expect(bcCustomerNumberProblem('C-10001')).toBeUndefined();
    expect(bcCustomerNumberProblem('c-10001')).toBe('Business Central would hold customer number "c-10001" as "C-10001" (a code: capitals, no blanks around)');
    expect(bcCustomerNumberProblem(' C1')).toMatch(/as "C1"/);
    expect(bcCustomerNumberProblem('')).toMatch(/^a Business Central customer number is 1 to 20 characters/);
    expect(bcCustomerNumberProblem('X'.repeat(21))).toMatch(/^a Business Central customer number is 1 to 20 characters/);
  });
});

describe('Business Central customers read and created against the simulator', () => {
  it('reads every customer with its contact, address, payment terms code and time: the payment terms listed once a pull', async () => {
    await given('10000', {
      email: 'robert.townes@contoso.com', phoneNumber: '', taxRegistrationNumber: 'US-58-1234567', addressLine1: '192 Market Square', addressLine2: '', city: 'Atlanta',
      state: 'GA', country: 'US', postalCode: '31772', paymentTermsId: TERMS['30 DAYS'],
    });
    await given('40000', { addressLine1: '', city: '', country: '', postalCode: '', paymentTermsId: BLANK_GUID });
    const { customers, rejected } = await erp.customers(call);
    expect(rejected).toEqual([]);
    expect(calls()).toEqual(['GET /customers', 'GET /paymentTerms']);
    const adatum = customers.find((c) => c.number === '10000')!;
    expect(adatum).toEqual({
      erpId: customer('10000').id, number: '10000', name: customer('10000').displayName, blocked: ' ', creditLimit: customer('10000').creditLimit, balanceDue: customer('10000').balanceDue,
      email: 'robert.townes@contoso.com', phone: null, taxId: 'US-58-1234567',
      billingAddress: { line1: '192 Market Square', line2: null, city: 'Atlanta', region: 'GA', postalCode: '31772', country: 'US' },
      paymentTerms: '30 DAYS', modifiedAt: customer('10000').lastModifiedDateTime,
    });
    expect(customers.find((c) => c.number === '40000')).toMatchObject({ billingAddress: null, paymentTerms: null });
  });

  it('creates an account with its fields, payment terms by id; the same create again finds it and writes nothing (created: false)', async () => {
    const fields: ErpCustomerUpdate['fields'] = {
      name: 'Northwind Traders', email: 'orders@northwind.example', phone: '+12125550123', taxId: null,
      billingAddress: { line1: '10 Hudson Yards', city: 'New York', region: 'NY', postalCode: '10001', country: 'us' }, shippingAddress: { line1: 'Dock 2', city: 'Newark', country: 'US' },
      paymentTerms: '14 days',
    };
    const created = await erp.createCustomer({ number: 'NW-1', fields }, signal());
    expect(created).toEqual({
      created: true, updated: true, erpId: customer('NW-1').id, written: ['name', 'email', 'phone', 'taxId', 'billingAddress', 'paymentTerms'],
      skipped: [{ field: 'shippingAddress', reason: expect.stringMatching(/^API v2\.0's customer has one address/) }],
    });
    expect(calls()).toEqual(['GET /paymentTerms', 'GET /customers', 'POST /customers']);
    // Only what is not blank is sent.
    expect(sim.state.requests.at(-1)!.body).toEqual({
      number: 'NW-1', displayName: 'Northwind Traders', email: 'orders@northwind.example', phoneNumber: '+12125550123', addressLine1: '10 Hudson Yards', city: 'New York',
      state: 'NY', country: 'US', postalCode: '10001', paymentTermsId: TERMS['14 DAYS'],
    });
    expect(customer('NW-1')).toMatchObject({ displayName: 'Northwind Traders', country: 'US', paymentTermsId: TERMS['14 DAYS'], taxRegistrationNumber: '' });

    from = sim.state.requests.length;
    const again = await erp.createCustomer({ number: 'NW-1', fields }, signal());
    expect(again).toEqual({ created: false, updated: false, erpId: created.erpId, skipped: created.skipped });
    expect(calls()).toEqual(['GET /paymentTerms', 'GET /customers']);
    expect([...sim.state.customers.values()].filter((c) => c.number === 'NW-1')).toHaveLength(1);

    // Created already, with other values: they are written as an update writes them.
    const changed = await erp.createCustomer({ number: 'NW-1', fields: { email: 'ap@northwind.example' } }, signal());
    expect(changed).toEqual({ created: false, updated: true, etagRetries: 0, written: ['email'], erpId: created.erpId });
    expect(customer('NW-1').email).toBe('ap@northwind.example');
  });

  it('a create that races another (400 "already exists") writes the fields over the account the other made', async () => {
    await control('customers/NW-2/create-before-next-post', { fields: { displayName: 'Made in Business Central', website: 'northwind.example' } });
    const result = await erp.createCustomer({ number: 'NW-2', fields: { name: 'Northwind East', email: 'east@northwind.example' } }, signal());
    expect(result).toEqual({ created: false, updated: true, etagRetries: 0, written: ['name', 'email'], erpId: customer('NW-2').id });
    expect(calls()).toEqual(['GET /customers', 'POST /customers', 'GET /customers', `PATCH /customers(${customer('NW-2').id})`]);
    expect(sim.state.requests.slice(from).filter((r) => r.method === 'POST').map((r) => r.status)).toEqual([400]);
    expect(customer('NW-2')).toMatchObject({ displayName: 'Northwind East', email: 'east@northwind.example', website: 'northwind.example' });
  });

  it('refuses a number Business Central would hold otherwise, before any call', async () => {
    const error = await failureOf(erp.createCustomer({ number: 'nw-3', fields: { name: 'Northwind West' } }, signal()));
    expect(error.failureClass).toBe('permanent');
    expect(error.message).toMatch(/would hold customer number "nw-3" as "NW-3"/);
    expect(calls()).toEqual([]);
  });
});

describe('Business Central change notifications against the simulator', () => {
  const RESOURCE = `/api/v2.0/companies(${COMPANY})/customers`;
  const notifications = () => erp.changeNotifications!;
  let receiver: BcNotificationReceiver;
  let hooks: string;

  beforeAll(async () => {
    receiver = createBcNotificationReceiver();
    hooks = await receiver.listen();
  });
  afterAll(() => receiver.close());
  beforeEach(() => {
    sim.state.subscriptions.clear();
    receiver.answerHandshakes('echo');
  });

  const subscribe = (path: string) => notifications().subscribe(call, { entity: 'customers', notificationUrl: `${hooks}${path}`, clientState: 'crossdock-state' });
  /** The notices of the batches the receiver got at `path`, each read by the connector. */
  const noticesAt = (path: string): ErpChangeNotice[] =>
    receiver.received.batches.filter((b) => b.path === path).flatMap((b) => {
      const read = notifications().parse(b.body);
      if (typeof read === 'string') throw new Error(read);
      return read;
    });

  it('subscribes to the company\'s customers at the API\'s root, the handshake answered; a handshake that fails is Business Central\'s 400', async () => {
    const subscription = await subscribe('/hooks/subscribe');
    expect(subscription).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/), resource: RESOURCE, notificationUrl: `${hooks}/hooks/subscribe`, clientState: 'crossdock-state',
      expiresAt: new Date(sim.state.subscriptions.get(subscription.id)!.expiresAt).toISOString(), etag: sim.state.subscriptions.get(subscription.id)!.etag,
    });
    expect(sim.state.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v2.0/tenant-1/production/api/v2.0/subscriptions', status: 201 });
    expect(receiver.received.handshakes.at(-1)!.path).toBe('/hooks/subscribe');

    receiver.answerHandshakes('wrong');
    const error = await failureOf(subscribe('/hooks/refused'));
    expect(error).toMatchObject({ failureClass: 'permanent', details: { status: 400 } });
    expect(error.message).toMatch(/^Business Central answered 400: The subscription was not created: the handshake with the notificationUrl failed/);
    expect([...sim.state.subscriptions.values()].map((s) => s.subscriptionId)).toEqual([subscription.id]);
  });

  it('renews with the etag: the handshake again, a later expiry; held with a stale etag, it renews the subscription as it is now; expired, null', async () => {
    const subscription = await subscribe('/hooks/renew');
    const handshakes = receiver.received.handshakes.length;
    const renewed = (await notifications().renew(call, subscription))!;
    expect(receiver.received.handshakes.length).toBe(handshakes + 1);
    expect(Date.parse(renewed.expiresAt)).toBeGreaterThan(Date.parse(subscription.expiresAt));
    expect(renewed).toMatchObject({ id: subscription.id, resource: RESOURCE, clientState: 'crossdock-state' });
    expect(renewed.etag).not.toBe(subscription.etag);
    expect(sim.state.requests.at(-1)).toMatchObject({ method: 'PATCH', path: `/v2.0/tenant-1/production/api/v2.0/subscriptions('${subscription.id}')`, ifMatch: subscription.etag, status: 200 });

    // Another instance renewed it since this one read it: 412, read again, renewed with the etag it has now.
    from = sim.state.requests.length;
    const again = (await notifications().renew(call, subscription))!;
    expect(sim.state.requests.slice(from).map((r) => `${r.method} ${r.status}`)).toEqual(['PATCH 412', 'GET 200', 'PATCH 200']);
    expect(Date.parse(again.expiresAt)).toBeGreaterThan(Date.parse(renewed.expiresAt));

    await control(`subscriptions/${subscription.id}/expire`, {});
    expect(await notifications().renew(call, again)).toBeNull();
  });

  it('unsubscribes with the etag, a stale one too; a subscription gone already is fine', async () => {
    const subscription = await subscribe('/hooks/unsubscribe');
    await notifications().renew(call, subscription);
    from = sim.state.requests.length;
    await notifications().unsubscribe(call, subscription);
    expect(sim.state.requests.slice(from).map((r) => `${r.method} ${r.status}`)).toEqual(['DELETE 412', 'GET 200', 'DELETE 204']);
    expect(sim.state.subscriptions.has(subscription.id)).toBe(false);
    from = sim.state.requests.length;
    await notifications().unsubscribe(call, subscription);
    expect(sim.state.requests.slice(from).map((r) => `${r.method} ${r.status}`)).toEqual(['DELETE 404']);
  });

  it('a customer changed in Business Central: an updated notice, whose resource customerAt reads back with the new values', async () => {
    const subscription = await subscribe('/hooks/changes');
    await given('20000', { email: 'ap@trey.example', phoneNumber: '+13125550100', city: 'Evanston', paymentTermsId: TERMS.CM });
    await vi.waitFor(() => expect(noticesAt('/hooks/changes')).toHaveLength(1), { timeout: 5000 });
    const [notice] = noticesAt('/hooks/changes');
    const trey = customer('20000');
    expect(notice).toEqual({
      subscriptionId: subscription.id, clientState: 'crossdock-state', resource: `api/v2.0/companies(${COMPANY})/customers(${trey.id})`, changeType: 'updated',
      lastModifiedDateTime: trey.lastModifiedDateTime, recordId: trey.id,
    });
    from = sim.state.requests.length;
    const read = await erp.customerAt!(call, notice!.resource);
    expect(read).toMatchObject({ erpId: trey.id, number: '20000', email: 'ap@trey.example', phone: '+13125550100', billingAddress: { city: 'Evanston' }, paymentTerms: 'CM', balanceDue: trey.balanceDue, modifiedAt: trey.lastModifiedDateTime });
    expect(calls()).toEqual([`GET /customers(${trey.id})`, 'GET /paymentTerms']);
    // The same with a leading slash, as the collection's resource is written.
    expect(await erp.customerAt!(call, `/${notice!.resource}`)).toEqual(read);
  });

  it('a customer deleted in Business Central: a deleted notice, and customerAt answers null', async () => {
    await given('NW-9', { displayName: 'Short-lived' });
    const gone = customer('NW-9');
    await subscribe('/hooks/deleted');
    await fetch(`${base}/_control/customers/NW-9`, { method: 'DELETE' });
    await vi.waitFor(() => expect(noticesAt('/hooks/deleted')).toHaveLength(1), { timeout: 5000 });
    const [notice] = noticesAt('/hooks/deleted');
    expect(notice).toMatchObject({ changeType: 'deleted', resource: `api/v2.0/companies(${COMPANY})/customers(${gone.id})` });
    expect(await erp.customerAt!(call, notice!.resource)).toBeNull();
  });

  it('many customers changed in one batch: one collection notice; an expired subscription is sent nothing more', async () => {
    const subscription = await subscribe('/hooks/collection');
    for (const number of ['10000', '20000', '30000', '40000', 'NW-1', 'NW-2']) await given(number, { website: 'bulk.example' });
    await vi.waitFor(() => expect(noticesAt('/hooks/collection')).toHaveLength(1), { timeout: 5000 });
    const [collection] = noticesAt('/hooks/collection');
    expect(collection).toMatchObject({ subscriptionId: subscription.id, changeType: 'collection', resource: expect.stringMatching(/^\/api\/v2\.0\/companies\(.*\)\/customers\?\$filter=lastModifiedDateTime%20gt%20/) });
    // Not a customer: customerAt refuses it rather than read it.
    expect((await failureOf(erp.customerAt!(call, collection!.resource))).failureClass).toBe('permanent');

    await control(`subscriptions/${subscription.id}/expire`, {});
    await given('10000', { website: 'after.example' });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(noticesAt('/hooks/collection')).toHaveLength(1);
  });

  it('customerAt refuses a resource that is not a customer of the configured company, before any call', async () => {
    const id = customer('10000').id;
    for (const resource of [`api/v2.0/companies(7dbba574-5f69-4167-a43e-fb975045de15)/customers(${id})`, `api/v2.0/companies(${COMPANY})/items(${id})`, `api/v2.0/companies(${COMPANY})/customers(10000)`]) {
      const error = await failureOf(erp.customerAt!(call, resource));
      expect(error.failureClass).toBe('permanent');
      expect(error.message).toContain(`is not a customer of Business Central company ${COMPANY}`);
    }
    expect(calls()).toEqual([]);
  });
});
