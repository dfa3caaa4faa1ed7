import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TargetError } from '../../../platform/delivery/outcome.js';
import { createBusinessCentralSimulator, type BusinessCentralSimulator, type SimCustomer } from '../../../simulators/business-central/bc-simulator.js';
import type { ErpCustomerUpdate } from '../erp-contract.js';
import type { BcCustomerRecord } from './business-central.client.js';
import { BLANK_GUID, bcCustomerChanges, bcCustomerWrite, bcPaymentTermsCode } from './business-central.customers.js';
import { BusinessCentralErp } from './business-central.delivery.js';

// Writing a customer's fields to Business Central: the mapping, pure; then the connector against the simulator,
// which keeps an etag per customer, answers 412 on a stale one, and lets a test change the customer behind our back.
const COMPANY = 'c0ffee00-0000-0000-0000-000000000001';
const TERMS = { '14 DAYS': '7a5f2c10-0000-4000-8000-000000000014', '30 DAYS': '7a5f2c10-0000-4000-8000-000000000030', CM: '7a5f2c10-0000-4000-8000-0000000000c3' };
const signal = () => AbortSignal.timeout(10_000);

let sim: BusinessCentralSimulator;
let base: string;
let erp: BusinessCentralErp;
let from = 0;

beforeAll(async () => {
  sim = createBusinessCentralSimulator({ clientId: 'crossdock', clientSecret: 'secret-1', ratePerSecond: 1000, concurrency: 50 });
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
