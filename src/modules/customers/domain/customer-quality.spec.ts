import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Address, CustomerFields } from './customer.js';
import { checkCustomerQuality, type QualityViolation } from './customer-quality.js';

const NEW_YORK: Address = { line1: '350 Fifth Avenue', city: 'New York', postalCode: '10118', region: 'NY', country: 'US' };
const LONDON: Address = { line1: '221B Baker Street', line2: null, city: 'London', postalCode: 'NW1 6XE', country: 'GB' };
const BERLIN: Address = { line1: 'Platz der Republik 1', city: 'Berlin', postalCode: '11011', country: 'DE' };
const customer = (over: Partial<CustomerFields> = {}): CustomerFields => ({
  name: 'Northwind Traders', email: 'orders@northwind.example', phone: '+12125550123', billingAddress: NEW_YORK, shippingAddress: NEW_YORK,
  taxId: '13-3456789', blocked: '', creditLimit: 10_000, balanceDue: -25.5, priceList: 'RETAIL', paymentTerms: 'NET30', ...over,
});
const check = (over: Partial<CustomerFields>, accountNumber = 'C-10000') => checkCustomerQuality(accountNumber, customer(over));
const rules = (violations: QualityViolation[]) => violations.map(({ field, rule }) => `${field}:${rule}`);

describe('the quality of a customer', () => {
  it('passes a good record as it is', () => {
    expect(check({})).toEqual({ normalized: customer(), violations: [] });
  });

  it('requires an account number of 1 to 64 printable characters, and a name', () => {
    for (const accountNumber of ['', '   ', 'C'.repeat(65), 'C-1\u0000', 'C-1\n2']) {
      expect(rules(check({}, accountNumber).violations), JSON.stringify(accountNumber)).toEqual(['accountNumber:required']);
    }
    expect(check({}, 'C'.repeat(64)).violations).toEqual([]);
    expect(check({}, '').violations[0]?.message).toBe('account number "" is empty; expected 1 to 64 printable characters');
    expect(check({}, 'C'.repeat(65)).violations[0]?.message).toContain('is 65 characters long');
    for (const name of [null, '', '  ']) expect(rules(check({ name }).violations)).toEqual(['name:required']);
  });

  it('checks the syntax of an email, and keeps it trimmed with its domain in lower case', () => {
    expect(check({ email: '  Nancy.Davolio@NorthWind.Example ' }).normalized.email).toBe('Nancy.Davolio@northwind.example');
    expect(check({ email: 'jörg.müller@Bücher.DE' }).normalized.email).toBe('jörg.müller@bücher.de');
    expect(check({ email: null }).normalized.email).toBeNull();
    expect(check({ email: '  ' })).toEqual({ normalized: customer({ email: null }), violations: [] });
    for (const email of ['nancy@northwind', 'nancy@@northwind.example', 'Nancy Davolio <nancy@northwind.example>', 'nancy.northwind.example', 'nancy@localhost']) {
      const result = check({ email });
      expect(rules(result.violations), email).toEqual(['email:email']);
      expect(result.normalized.email).toBe(email);
    }
    expect(check({ email: 'nancy@northwind' }).violations[0]?.message).toBe('email "nancy@northwind" is not a valid email address; expected local-part@domain, such as jane.doe@example.com');
  });

  it("stores a phone in E.164, a national number taking the billing address's country, else the shipping address's", () => {
    expect(check({ phone: '(212) 555-0123' }).normalized.phone).toBe('+12125550123');
    expect(check({ phone: '212.555.0123', billingAddress: { ...NEW_YORK, country: 'us' } }).normalized.phone).toBe('+12125550123');
    expect(check({ phone: '020 7946 0958', billingAddress: LONDON }).normalized.phone).toBe('+442079460958');
    expect(check({ phone: '030 901820', billingAddress: BERLIN }).normalized.phone).toBe('+4930901820');
    expect(check({ phone: '0151 23456789', billingAddress: null, shippingAddress: BERLIN }).normalized.phone).toBe('+4915123456789');
    expect(check({ phone: '0151 23456789', billingAddress: { ...NEW_YORK, country: 'USA' }, shippingAddress: BERLIN }).normalized.phone).toBe('+4915123456789');
    // A number in international format keeps its own country, whatever the address.
    expect(check({ phone: '+44 20 7946 0958', billingAddress: NEW_YORK }).normalized.phone).toBe('+442079460958');
    expect(check({ phone: '0049 30 901820', billingAddress: LONDON }).normalized.phone).toBe('+4930901820');
    // E.164 has no extension.
    expect(check({ phone: '(212) 555-0123 ext. 42' }).normalized.phone).toBe('+12125550123');
    expect(check({ phone: ' ' })).toEqual({ normalized: customer({ phone: null }), violations: [] });
  });

  it('refuses a phone that is not a valid number, with what is wrong with it', () => {
    const invalid = (phone: string, over: Partial<CustomerFields> = {}) => {
      const result = check({ phone, ...over });
      expect(rules(result.violations), phone).toEqual(['phone:phone']);
      expect(result.normalized.phone).toBe(phone);
      return result.violations[0]!.message;
    };
    expect(invalid('+1 555')).toBe(`phone "+1 555" is not a valid phone number for US (too short); expected the number in international format, with + and the country code, or in US's national format`);
    expect(invalid('555-0100')).toMatch(/^phone "555-0100" is not a valid phone number for US \(too short\)/);
    expect(invalid('(555) 555-5555')).toMatch(/^phone "\(555\) 555-5555" is not a valid phone number for US;/);
    // One digit short for a German mobile number: the default metadata would take it, the max metadata does not.
    expect(invalid('0151 1234567', { billingAddress: BERLIN })).toMatch(/^phone "0151 1234567" is not a valid phone number for DE/);
    expect(invalid('07700 900123', { billingAddress: LONDON })).toMatch(/for GB/);
    expect(invalid('call 212 555 0123')).toMatch(/is not a valid phone number for US \(not a number\)/);
    expect(invalid('020 7946 0958', { billingAddress: null, shippingAddress: null })).toBe(
      'phone "020 7946 0958" has no country code and the customer has no address country to take it from; expected the number in international format, with + and the country code',
    );
    expect(invalid('+999 1234 5678')).toMatch(/has a country code no country uses/);
  });

  it('needs line1, city and an ISO 3166-1 alpha-2 country in an address, upper-casing a country given in lower case', () => {
    expect(check({ billingAddress: { ...LONDON, country: 'gb' }, shippingAddress: { ...BERLIN, country: ' de ' } }).normalized).toEqual(
      customer({ billingAddress: LONDON, shippingAddress: BERLIN }),
    );
    const usa = check({ billingAddress: { ...NEW_YORK, country: 'USA' }, shippingAddress: { ...LONDON, country: 'UK' } });
    expect(usa.violations).toEqual([
      { field: 'billingAddress', rule: 'country', message: 'billing address country "USA" is not an ISO 3166-1 alpha-2 code; expected two letters, such as US, GB or DE' },
      { field: 'shippingAddress', rule: 'country', message: 'shipping address country "UK" is not an ISO 3166-1 alpha-2 code; expected two letters, such as US, GB or DE' },
    ]);
    expect(usa.normalized.billingAddress?.country).toBe('USA');
    expect(check({ shippingAddress: { ...LONDON, line1: ' ', city: '', country: '' } }).violations).toEqual([
      { field: 'shippingAddress', rule: 'required', message: 'shipping address has no line1, city, country; expected line1, city and country' },
    ]);
    expect(check({ billingAddress: null, shippingAddress: null }).violations).toEqual([]);
  });

  it('needs finite amounts and a credit limit of at least 0; a balance due may be negative', () => {
    expect(check({ creditLimit: 0, balanceDue: -1200 }).violations).toEqual([]);
    expect(check({ creditLimit: -1 }).violations).toEqual([{ field: 'creditLimit', rule: 'range', message: 'creditLimit -1 is negative; expected 0 or more' }]);
    expect(check({ creditLimit: Number.NaN, balanceDue: Infinity }).violations).toEqual([
      { field: 'creditLimit', rule: 'range', message: 'creditLimit NaN is not a finite number; expected an amount' },
      { field: 'balanceDue', rule: 'range', message: 'balanceDue Infinity is not a finite number; expected an amount' },
    ]);
  });

  it('lists the violations account number first, then in the order of the fields', () => {
    const result = checkCustomerQuality('', customer({
      name: '', email: 'x@', phone: '12', billingAddress: { ...NEW_YORK, country: 'XX' }, shippingAddress: { ...LONDON, city: '' }, creditLimit: -5, balanceDue: Number.NaN,
    }));
    expect(rules(result.violations)).toEqual([
      'accountNumber:required', 'name:required', 'email:email', 'phone:phone', 'billingAddress:country', 'shippingAddress:required', 'creditLimit:range', 'balanceDue:range',
    ]);
  });

  it('is idempotent: the normalized record checks again to itself, with no new violations', () => {
    const address = fc.record({
      line1: fc.constantFrom('350 Fifth Avenue', '', ' '),
      line2: fc.constantFrom(null, 'Suite 100'),
      city: fc.constantFrom('New York', 'London', ''),
      country: fc.constantFrom('US', 'us', 'gb', ' GB ', 'De', 'de', 'USA', 'UK', 'XX', ''),
    }, { requiredKeys: ['line1', 'city', 'country'] });
    const fields: fc.Arbitrary<CustomerFields> = fc.record({
      name: fc.constantFrom(null, '', ' ', 'Northwind Traders'),
      email: fc.constantFrom(null, '', ' Nancy@NorthWind.Example ', 'nancy@northwind.example', 'nancy@northwind', 'a b@c.d', '"x y"@Example.COM'),
      phone: fc.constantFrom(null, '', '(212) 555-0123', '020 7946 0958', '030 901820', '0151 1234567', '+44 20 7946 0958', '+1 555', '+12125550123 ext. 9', 'hello', '0049 30 901820'),
      billingAddress: fc.option(address, { nil: null }),
      shippingAddress: fc.option(address, { nil: null }),
      taxId: fc.constantFrom(null, 'DE123456789'),
      blocked: fc.constantFrom('', 'All'),
      creditLimit: fc.oneof(fc.double(), fc.constantFrom(0, -0, 5000)),
      balanceDue: fc.oneof(fc.double(), fc.constantFrom(0, -25.5)),
      priceList: fc.constantFrom(null, 'RETAIL'),
      paymentTerms: fc.constantFrom(null, 'NET30'),
    });
    const accountNumber = fc.constantFrom('C-10000', '', 'C\u0007', 'x'.repeat(70));
    fc.assert(
      fc.property(accountNumber, fields, (number, given) => {
        const first = checkCustomerQuality(number, given);
        const again = checkCustomerQuality(number, first.normalized);
        expect(again.normalized).toEqual(first.normalized);
        expect(rules(first.violations)).toEqual(expect.arrayContaining(rules(again.violations)));
      }),
      { numRuns: 2000 },
    );
  });
});
