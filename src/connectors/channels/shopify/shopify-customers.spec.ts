import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../../platform/outbox/message.js';
import { readCustomerChange, splitName, toCustomerSetInput, toMailingAddress } from './shopify-customers.js';

const CUSTOMER = 'gid://shopify/Customer/706405506930370084';
const address = (over: Record<string, unknown> = {}) => ({ line1: '1 Dock Rd', line2: 'Unit 4', city: 'Leeds', postalCode: 'LS1 1AA', region: 'WYK', country: 'GB', ...over });
const customer = (over: Record<string, unknown> = {}) => ({
  name: 'Ada Lovelace', email: 'ada@example.com', phone: '+441132220000', billingAddress: address({ line1: '9 Bill St' }), shippingAddress: address(),
  taxId: 'GB123', blocked: '', creditLimit: 1000, balanceDue: 0, priceList: null, paymentTerms: '30D', ...over,
});

function delivery(payload: Record<string, unknown>): Delivery {
  return {
    deliveryId: 'd-1', messageId: 'm-1', type: 'customer.changed', kind: 'state', key: 'customer:C1', destination: 'channel:shop',
    payload, version: 1, correlationId: 'c-1', causationId: null, attempt: 1, previousValue: null, createdAt: new Date(),
  };
}

describe('splitName', () => {
  it.each([
    ['Ada Lovelace', { firstName: 'Ada', lastName: 'Lovelace' }],
    ['Mary Ann van Dyke', { firstName: 'Mary Ann van', lastName: 'Dyke' }],
    ['  Grace   Brewster  Hopper ', { firstName: 'Grace Brewster', lastName: 'Hopper' }],
    ['Acme', { firstName: null, lastName: 'Acme' }],
    ['   ', {}],
    ['', {}],
  ])('%j', (name, expected) => expect(splitName(name)).toEqual(expected));

  it('keeps every word, in order, and never gives an empty part', () => {
    const word = fc.stringMatching(/^[^\s]{1,8}$/);
    fc.assert(fc.property(fc.array(word, { minLength: 1, maxLength: 6 }), (words) => {
      const { firstName, lastName } = splitName(words.join(' '));
      expect([firstName, lastName].filter((p) => p !== null).join(' ')).toBe(words.join(' '));
      expect(lastName).toBe(words.at(-1));
      expect(firstName === null || firstName!.length > 0).toBe(true);
    }));
  });
});

describe('toCustomerSetInput', () => {
  it('maps the name, email, E.164 phone and the shipping address', () => {
    expect(toCustomerSetInput(customer())).toEqual({
      email: 'ada@example.com', phone: '+441132220000', firstName: 'Ada', lastName: 'Lovelace',
      addresses: [{ address1: '1 Dock Rd', address2: 'Unit 4', city: 'Leeds', zip: 'LS1 1AA', provinceCode: 'WYK', countryCode: 'GB' }],
    });
  });

  it('takes the billing address when there is no shipping address, and sends no address when there is neither', () => {
    expect(toCustomerSetInput(customer({ shippingAddress: null }))).toMatchObject({ addresses: [{ address1: '9 Bill St' }] });
    expect(toCustomerSetInput(customer({ shippingAddress: null, billingAddress: null }))).not.toHaveProperty('addresses');
  });

  it('leaves out a null email, phone or name rather than clearing them', () => {
    expect(toCustomerSetInput(customer({ email: null, phone: null, name: null }))).toEqual({ addresses: [expect.any(Object)] });
  });

  it('leaves out the optional address parts that are missing', () => {
    expect(toMailingAddress({ line1: 'A', city: 'B', country: 'US', line2: null, postalCode: '', region: undefined })).toEqual({ address1: 'A', city: 'B', countryCode: 'US' });
  });

  it.each([
    [{ phone: '0113 222 0000' }, 'phone is not an E.164 number'],
    [{ email: 'not-an-email' }, 'email is not an email address'],
    [{ name: 42 }, 'name is not text'],
    [{ shippingAddress: address({ country: 'United Kingdom' }) }, 'shippingAddress has no ISO country code'],
    [{ billingAddress: { city: 'Leeds' } }, 'billingAddress is not an address'],
    [{ shippingAddress: address({ postalCode: 12345 }) }, 'shippingAddress.postalCode is not text'],
  ])('refuses %j', (over, message) => expect(toCustomerSetInput(customer(over))).toEqual(expect.stringContaining(message)));
});

describe('readCustomerChange', () => {
  const payload = (over: Record<string, unknown> = {}) => ({ accountNumber: 'C1', changed: ['name'], customer: customer(), version: 3, shopifyCustomerId: CUSTOMER, ...over });

  it('reads the store customer and its input', () => {
    expect(readCustomerChange(delivery(payload()))).toEqual({ accountNumber: 'C1', customerId: CUSTOMER, input: toCustomerSetInput(customer()) });
  });

  it.each([
    [{ accountNumber: undefined }, 'customer.changed without an accountNumber'],
    [{ shopifyCustomerId: '706405506930370084' }, 'customer.changed of C1 names no Shopify customer: "706405506930370084"'],
    [{ shopifyCustomerId: undefined }, 'customer.changed of C1 names no Shopify customer: undefined'],
    [{ customer: null }, 'customer.changed of C1 without its customer'],
    [{ customer: customer({ phone: '12' }) }, 'customer C1: phone is not an E.164 number: "12"'],
  ])('refuses %j', (over, message) => expect(readCustomerChange(delivery(payload(over)))).toBe(message));
});
