import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../../platform/outbox/message.js';
import { readCompanyChange, readCompanyWebhook, toCompanyAddress, type StoreCompany } from './shopify-companies.js';
import { parseShopifyJson } from './shopify-webhooks.js';

const fixtureText = (name: string) => readFileSync(new URL(`../../../../test/fixtures/shopify/${name}`, import.meta.url), 'utf8');
const COMPANY_UPDATE = JSON.parse(fixtureText('webhook_companies_update.json')) as Record<string, unknown>;
const LOCATION_CREATE = JSON.parse(fixtureText('webhook_company_locations_create.json')) as Record<string, any>;

const COMPANY = 'gid://shopify/Company/408372092144951419';
const LOCATION = 'gid://shopify/CompanyLocation/408372092144951419';
const MONTREAL = { line1: '175 Sherbrooke Street West', line2: null, city: 'Montreal', postalCode: 'H3A 0G4', region: 'QC', country: 'CA' };

const location = (over: Record<string, unknown> = {}) => ({ ...structuredClone(LOCATION_CREATE), ...over });

describe('readCompanyWebhook', () => {
  it.each(['companies/update', 'companies/create'])("reads %s (Shopify's example) as the account of its external id, with the company's name", (topic) => {
    expect(readCompanyWebhook(topic, COMPANY_UPDATE)).toEqual({ accountNumber: '123456789', companyId: COMPANY, fields: { name: 'Example Company' } } satisfies StoreCompany);
  });

  it.each(['company_locations/create', 'company_locations/update'])("reads %s (Shopify's example) as its company's account, with the location's phone, addresses and tax id", (topic) => {
    expect(readCompanyWebhook(topic, LOCATION_CREATE)).toEqual({
      accountNumber: '123456789', companyId: COMPANY, locationId: LOCATION,
      fields: { phone: '555-555-5555', billingAddress: MONTREAL, shippingAddress: MONTREAL, taxId: '1214214141' },
    } satisfies StoreCompany);
  });

  it('reads the raw body as the webhook controller parses it, ids exact', () => {
    expect(readCompanyWebhook('company_locations/create', parseShopifyJson(fixtureText('webhook_company_locations_create.json')))).toEqual(readCompanyWebhook('company_locations/create', LOCATION_CREATE));
    // An external id sent as a number keeps its digits.
    expect(readCompanyWebhook('companies/update', parseShopifyJson('{"external_id": 12345678901234567890, "id": 7, "name": "Acme"}'))).toMatchObject({ accountNumber: '12345678901234567890', companyId: 'gid://shopify/Company/7' });
  });

  it.each([
    ['companies/update', { ...COMPANY_UPDATE, external_id: null }],
    ['companies/update', { ...COMPANY_UPDATE, external_id: '  ' }],
    ['companies/create', { ...COMPANY_UPDATE, external_id: undefined }],
    // A location's own external id is not its company's account.
    ['company_locations/update', location({ company: { ...LOCATION_CREATE.company, external_id: null } })],
  ])('is nothing to keep without an external id (%s)', (topic, payload) => expect(readCompanyWebhook(topic, payload)).toBeNull());

  it('takes the tax id of the tax registration when the tax settings have none', () => {
    expect(readCompanyWebhook('company_locations/update', location({ tax_settings: { tax_registration_id: null } }))).toMatchObject({ fields: { taxId: '1214214141' } });
    expect(readCompanyWebhook('company_locations/update', location({ tax_settings: null, tax_registration: { tax_id: 'GB999' } }))).toMatchObject({ fields: { taxId: 'GB999' } });
    expect((readCompanyWebhook('company_locations/update', location({ tax_settings: null, tax_registration: null })) as StoreCompany).fields).not.toHaveProperty('taxId');
  });

  it('keeps only what the store holds: blanks and incomplete addresses are not values', () => {
    const read = readCompanyWebhook('company_locations/update', location({
      phone: ' ',
      billing_address: { ...LOCATION_CREATE.billing_address, address1: null },
      shipping_address: { ...LOCATION_CREATE.shipping_address, country_code: '' },
      tax_settings: { tax_registration_id: '' },
      tax_registration: null,
    }));
    expect(read).toEqual({ accountNumber: '123456789', companyId: COMPANY, locationId: LOCATION, fields: {} });
    expect(readCompanyWebhook('companies/update', { ...COMPANY_UPDATE, name: null })).toMatchObject({ fields: {} });
  });

  it('maps every part of an address, blank optional parts as null', () => {
    const shipping = { address1: '1 Dock Rd', address2: 'Unit 4', city: 'Leeds', zip: '', zone_code: 'WYK', country_code: 'GB' };
    expect(readCompanyWebhook('company_locations/update', location({ shipping_address: shipping, billing_address: null }))).toMatchObject({
      fields: { shippingAddress: { line1: '1 Dock Rd', line2: 'Unit 4', city: 'Leeds', postalCode: null, region: 'WYK', country: 'GB' } },
    });
  });

  it.each([
    ['orders/create', COMPANY_UPDATE, 'orders/create is not a company topic'],
    ['companies/update', [COMPANY_UPDATE], 'companies/update: the body is not an object'],
    ['companies/update', { ...COMPANY_UPDATE, admin_graphql_api_id: undefined }, 'companies/update: admin_graphql_api_id is not a Company id: undefined'],
    ['companies/update', { ...COMPANY_UPDATE, admin_graphql_api_id: LOCATION }, `companies/update: admin_graphql_api_id is not a Company id: "${LOCATION}"`],
    ['companies/update', { ...COMPANY_UPDATE, name: 42 }, 'companies/update: name is not text: 42'],
    ['company_locations/update', location({ company: undefined }), 'company_locations/update: without its company'],
    ['company_locations/update', location({ company: { external_id: 'A' } }), 'company_locations/update: company.admin_graphql_api_id is not a Company id: undefined'],
    ['company_locations/update', location({ billing_address: 'Montreal' }), 'company_locations/update: billing_address is not an object: "Montreal"'],
    ['company_locations/update', location({ shipping_address: { ...LOCATION_CREATE.shipping_address, zip: 12345 } }), 'company_locations/update: shipping_address.zip is not text: 12345'],
    ['company_locations/update', location({ tax_settings: { tax_registration_id: 7 } }), 'company_locations/update: tax_settings.tax_registration_id is not text: 7'],
  ])('refuses %s %j', (topic, payload, message) => expect(readCompanyWebhook(topic, payload)).toBe(message));

  it('reads any body without throwing: a reading, nothing to keep, or why not', () => {
    fc.assert(fc.property(fc.constantFrom(...['companies/create', 'companies/update', 'company_locations/create', 'company_locations/update']), fc.anything(), (topic, payload) => {
      const read = readCompanyWebhook(topic, payload);
      expect(read === null || typeof read === 'string' || typeof read.accountNumber === 'string').toBe(true);
    }));
  });

  it('reads back the address Crossdock wrote: the store echoes it unchanged', () => {
    const part = fc.option(fc.stringMatching(/^\S[^\n]{0,20}$/), { nil: null });
    const postal = fc.record({ line1: fc.stringMatching(/^\S[^\n]{0,30}$/), line2: part, city: fc.stringMatching(/^\S[^\n]{0,20}$/), postalCode: part, region: part, country: fc.stringMatching(/^[A-Z]{2}$/) });
    fc.assert(fc.property(postal, (address) => {
      const written = toCompanyAddress(address);
      // As Shopify's webhook carries what companyLocationAssignAddress set.
      const echoed = { address1: written.address1, address2: written.address2 ?? null, city: written.city, zip: written.zip ?? null, zone_code: written.zoneCode ?? null, country_code: written.countryCode };
      expect(readCompanyWebhook('company_locations/update', location({ billing_address: echoed }))).toMatchObject({ fields: { billingAddress: address } });
    }));
  });
});

let sequence = 0;
function delivery(payload: Record<string, unknown>): Delivery {
  const n = ++sequence;
  return {
    deliveryId: `d-${n}`, messageId: `m-${n}`, type: 'customer.changed', kind: 'state', key: 'customer:C1', destination: 'channel:shop',
    payload, version: n, correlationId: `c-${n}`, causationId: null, attempt: 1, previousValue: null, createdAt: new Date(),
  };
}

const address = (over: Record<string, unknown> = {}) => ({ line1: '1 Dock Rd', line2: 'Unit 4', city: 'Leeds', postalCode: 'LS1 1AA', region: 'WYK', country: 'GB', ...over });
const customer = (over: Record<string, unknown> = {}) => ({
  name: 'Adatum Corporation', email: 'ap@adatum.example', phone: '+441132220000', billingAddress: address({ line1: '9 Bill St', line2: null }), shippingAddress: address(),
  taxId: 'GB123456789', blocked: '', creditLimit: 1000, balanceDue: 0, priceList: null, paymentTerms: '30D', ...over,
});
const payload = (over: Record<string, unknown> = {}) => ({ accountNumber: 'C1', changed: ['name'], customer: customer(), version: 3, shopifyCompanyId: COMPANY, shopifyCompanyLocationId: LOCATION, ...over });

describe('readCompanyChange', () => {
  it("plans the company's name and the location's addresses, phone and tax id", () => {
    expect(readCompanyChange(delivery(payload()))).toEqual({
      accountNumber: 'C1', companyId: COMPANY, locationId: LOCATION,
      writes: [
        { mutation: 'companyUpdate', args: { companyId: COMPANY, input: { name: 'Adatum Corporation' } } },
        { mutation: 'companyLocationAssignAddress', args: { locationId: LOCATION, address: { address1: '9 Bill St', city: 'Leeds', zip: 'LS1 1AA', zoneCode: 'WYK', countryCode: 'GB' }, addressTypes: ['BILLING'] } },
        { mutation: 'companyLocationAssignAddress', args: { locationId: LOCATION, address: { address1: '1 Dock Rd', address2: 'Unit 4', city: 'Leeds', zip: 'LS1 1AA', zoneCode: 'WYK', countryCode: 'GB' }, addressTypes: ['SHIPPING'] } },
        { mutation: 'companyLocationUpdate', args: { companyLocationId: LOCATION, input: { phone: '+441132220000' } } },
        { mutation: 'companyLocationTaxSettingsUpdate', args: { companyLocationId: LOCATION, taxRegistrationId: 'GB123456789' } },
      ],
      fields: ['name', 'billingAddress', 'shippingAddress', 'phone', 'taxId'],
    });
  });

  it('assigns one address as both when the billing and shipping addresses are the same', () => {
    const change = readCompanyChange(delivery(payload({ customer: customer({ billingAddress: address({ line2: '' }), shippingAddress: address({ line2: null }) }) })));
    expect(change).toMatchObject({ fields: ['name', 'billingAddress', 'shippingAddress', 'phone', 'taxId'] });
    const assigns = (change as { writes: Array<{ mutation: string; args: Record<string, unknown> }> }).writes.filter((w) => w.mutation === 'companyLocationAssignAddress');
    expect(assigns).toEqual([{ mutation: 'companyLocationAssignAddress', args: { locationId: LOCATION, address: toCompanyAddress(address({ line2: null })), addressTypes: ['BILLING', 'SHIPPING'] } }]);
  });

  it("writes only the company's name without a location", () => {
    expect(readCompanyChange(delivery(payload({ shopifyCompanyLocationId: undefined })))).toEqual({
      accountNumber: 'C1', companyId: COMPANY, writes: [{ mutation: 'companyUpdate', args: { companyId: COMPANY, input: { name: 'Adatum Corporation' } } }], fields: ['name'],
    });
    expect(readCompanyChange(delivery(payload({ shopifyCompanyLocationId: null })))).not.toHaveProperty('locationId');
  });

  it('leaves out a null or blank field rather than clearing it', () => {
    const change = readCompanyChange(delivery(payload({ customer: customer({ name: '  ', phone: null, billingAddress: null, shippingAddress: null, taxId: null }) })));
    expect(change).toEqual({ accountNumber: 'C1', companyId: COMPANY, locationId: LOCATION, writes: [], fields: [] });
    expect(readCompanyChange(delivery(payload({ customer: customer({ taxId: '', billingAddress: null }) })))).toMatchObject({ fields: ['name', 'shippingAddress', 'phone'] });
  });

  it('leaves out the optional address parts that are missing', () => {
    expect(toCompanyAddress({ line1: 'A', city: 'B', country: 'US', line2: null, postalCode: '', region: undefined })).toEqual({ address1: 'A', city: 'B', countryCode: 'US' });
  });

  it.each([
    [{ accountNumber: undefined }, 'customer.changed without an accountNumber'],
    [{ shopifyCompanyId: '408372092144951419' }, 'customer.changed of C1 names no Shopify company: "408372092144951419"'],
    [{ shopifyCompanyId: LOCATION }, `customer.changed of C1 names no Shopify company: "${LOCATION}"`],
    [{ shopifyCompanyLocationId: COMPANY }, `customer.changed of C1 names no Shopify company location: "${COMPANY}"`],
    [{ customer: null }, 'customer.changed of C1 without its customer'],
    [{ customer: customer({ phone: '0113 222 0000' }) }, 'customer C1: phone is not an E.164 number: "0113 222 0000"'],
    [{ customer: customer({ billingAddress: address({ country: 'United Kingdom' }) }) }, 'customer C1: billingAddress has no ISO country code: "United Kingdom"'],
    [{ customer: customer({ shippingAddress: { city: 'Leeds' } }) }, 'customer C1: shippingAddress is not an address: {"city":"Leeds"}'],
    [{ customer: customer({ name: 42 }) }, 'customer C1: name is not text: 42'],
    [{ customer: customer({ taxId: ['GB1'] }) }, 'customer C1: taxId is not text: ["GB1"]'],
  ])('refuses %j', (over, message) => expect(readCompanyChange(delivery(payload(over)))).toBe(message));
});
