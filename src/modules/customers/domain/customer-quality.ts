import { isEmail, isISO31661Alpha2 } from 'class-validator';
// The max metadata validates the digits of each numbering plan; the default (min) mostly checks lengths only, so
// it would pass numbers like a German 0151 mobile one digit short. Its extra ~65 kB costs nothing on a server.
import { isSupportedCountry, parsePhoneNumberFromString, validatePhoneNumberLength, type CountryCode } from 'libphonenumber-js/max';
import { CUSTOMER_FIELDS, type Address, type CustomerField, type CustomerFields } from './customer.js';

export interface QualityViolation {
  field: CustomerField | 'accountNumber';
  rule: 'required' | 'email' | 'phone' | 'country' | 'range';
  message: string;
}

const ACCOUNT_NUMBER_MAX = 64;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The rules a customer must meet before anything is written elsewhere, and its values in their one canonical form
 * (email with a lower-case domain, phone in E.164, upper-case country codes), so that systems writing the same
 * thing differently do not look like a change. A value that breaks a rule is left as given in `normalized`.
 * Violations come account number first, then in CUSTOMER_FIELDS order.
 */
export function checkCustomerQuality(accountNumber: string, fields: CustomerFields): { normalized: CustomerFields; violations: QualityViolation[] } {
  const violations: QualityViolation[] = [...checkAccountNumber(accountNumber)];
  const billingAddress = fields.billingAddress && normalizeAddress(fields.billingAddress);
  const shippingAddress = fields.shippingAddress && normalizeAddress(fields.shippingAddress);
  const email = checkEmail(fields.email);
  const phone = checkPhone(fields.phone, phoneCountry(billingAddress, shippingAddress));
  const byField: Partial<Record<CustomerField, QualityViolation[]>> = {
    name: fields.name === null || fields.name.trim() === '' ? [violation('name', 'required', `name ${show(fields.name)} is empty; expected the customer's name`)] : [],
    email: email.violations,
    phone: phone.violations,
    billingAddress: checkAddress('billingAddress', fields.billingAddress, billingAddress),
    shippingAddress: checkAddress('shippingAddress', fields.shippingAddress, shippingAddress),
    creditLimit: checkAmount('creditLimit', fields.creditLimit, 0),
    balanceDue: checkAmount('balanceDue', fields.balanceDue, -Infinity),
  };
  for (const field of CUSTOMER_FIELDS) violations.push(...(byField[field] ?? []));
  return { normalized: { ...fields, email: email.value, phone: phone.value, billingAddress, shippingAddress }, violations };
}

function checkAccountNumber(accountNumber: string): QualityViolation[] {
  const problem =
    accountNumber.trim() === '' ? 'is empty'
    : accountNumber.length > ACCOUNT_NUMBER_MAX ? `is ${accountNumber.length} characters long`
    : CONTROL_CHARACTERS.test(accountNumber) ? 'contains control characters'
    : undefined;
  if (problem === undefined) return [];
  return [violation('accountNumber', 'required', `account number ${show(accountNumber)} ${problem}; expected 1 to ${ACCOUNT_NUMBER_MAX} printable characters`)];
}

// A blank email or phone is how most systems say "none" (Business Central sends ""): the record holds null.
function checkEmail(email: string | null): { value: string | null; violations: QualityViolation[] } {
  if (email === null || email.trim() === '') return { value: null, violations: [] };
  const trimmed = email.trim();
  if (!isEmail(trimmed)) {
    return { value: email, violations: [violation('email', 'email', `email ${show(email)} is not a valid email address; expected local-part@domain, such as jane.doe@example.com`)] };
  }
  const at = trimmed.lastIndexOf('@');
  return { value: trimmed.slice(0, at + 1) + trimmed.slice(at + 1).toLowerCase(), violations: [] };
}

const PHONE_PROBLEMS: Record<string, string> = {
  NOT_A_NUMBER: 'not a number',
  TOO_SHORT: 'too short',
  TOO_LONG: 'too long',
  INVALID_LENGTH: 'wrong number of digits',
};

/** E.164 keeps no extension: a number given with one is stored without it. */
function checkPhone(phone: string | null, country: CountryCode | undefined): { value: string | null; violations: QualityViolation[] } {
  if (phone === null || phone.trim() === '') return { value: null, violations: [] };
  // extract: false: the whole value must be the number, not a number found somewhere in a text.
  const parsed = parsePhoneNumberFromString(phone, { defaultCountry: country, extract: false });
  if (parsed?.isValid()) return { value: parsed.number, violations: [] };
  const reason = validatePhoneNumberLength(phone, { defaultCountry: country });
  const expected = `expected the number in international format, with + and the country code${country ? `, or in ${country}'s national format` : ''}`;
  if (reason === 'INVALID_COUNTRY') {
    const problem = phone.trim().startsWith('+') ? 'has a country code no country uses' : 'has no country code and the customer has no address country to take it from';
    return { value: phone, violations: [violation('phone', 'phone', `phone ${show(phone)} ${problem}; ${expected}`)] };
  }
  const where = parsed?.country ?? country;
  const detail = reason && PHONE_PROBLEMS[reason] ? ` (${PHONE_PROBLEMS[reason]})` : '';
  const message = `phone ${show(phone)} is not a valid phone number${where ? ` for ${where}` : ''}${detail}; ${expected}`;
  return { value: phone, violations: [violation('phone', 'phone', message)] };
}

/** A number without a country code takes the billing address's country, else the shipping address's. */
function phoneCountry(...addresses: Array<Address | null>): CountryCode | undefined {
  for (const address of addresses) {
    const country = address?.country;
    if (typeof country === 'string' && isSupportedCountry(country)) return country;
  }
  return undefined;
}

function normalizeAddress(address: Address): Address {
  const country = typeof address.country === 'string' ? address.country.trim().toUpperCase() : address.country;
  return isISO31661Alpha2(country) && country !== address.country ? { ...address, country } : address;
}

function checkAddress(field: 'billingAddress' | 'shippingAddress', given: Address | null, normalized: Address | null): QualityViolation[] {
  if (given === null || normalized === null) return [];
  const name = field === 'billingAddress' ? 'billing address' : 'shipping address';
  const found: QualityViolation[] = [];
  const missing = (['line1', 'city', 'country'] as const).filter((part) => typeof given[part] !== 'string' || given[part].trim() === '');
  if (missing.length > 0) found.push(violation(field, 'required', `${name} has no ${missing.join(', ')}; expected line1, city and country`));
  if (!missing.includes('country') && !isISO31661Alpha2(normalized.country)) {
    found.push(violation(field, 'country', `${name} country ${show(given.country)} is not an ISO 3166-1 alpha-2 code; expected two letters, such as US, GB or DE`));
  }
  return found;
}

function checkAmount(field: 'creditLimit' | 'balanceDue', amount: number, min: number): QualityViolation[] {
  if (typeof amount !== 'number' || !Number.isFinite(amount)) return [violation(field, 'range', `${field} ${show(amount)} is not a finite number; expected an amount`)];
  if (amount < min) return [violation(field, 'range', `${field} ${show(amount)} is negative; expected ${min} or more`)];
  return [];
}

function violation(field: QualityViolation['field'], rule: QualityViolation['rule'], message: string): QualityViolation {
  return { field, rule, message };
}

function show(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value) ?? String(value);
}
