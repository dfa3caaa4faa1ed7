import type { Delivery } from '../../../platform/outbox/message.js';
import type { PostalAddress } from '../../postal-address.js';

/** A customer's change (the customers module's contract v1), sent to each store that knows the customer. */
export const CUSTOMER_CHANGED = 'customer.changed';

/** An address as `customer.changed` carries it (the customers module's Address; connectors do not import modules). */
export type CustomerAddress = PostalAddress;

/** Shopify's MailingAddressInput, as far as Crossdock fills it. */
export interface MailingAddressInput {
  address1: string;
  address2?: string;
  city: string;
  zip?: string;
  provinceCode?: string;
  countryCode: string;
}

/** Shopify's CustomerSetInput, as far as Crossdock fills it. */
export interface CustomerSetInput {
  email?: string;
  phone?: string;
  /** null clears a first name left from an earlier, longer name. */
  firstName?: string | null;
  lastName?: string;
  addresses?: MailingAddressInput[];
}

/** A `customer.changed` delivery as one `customerSet` call: the store's customer and what it is to hold. */
export interface CustomerSet {
  accountNumber: string;
  /** gid://shopify/Customer/…: the identifier, so customerSet updates and never creates. */
  customerId: string;
  input: CustomerSetInput;
}

const CUSTOMER_GID = /^gid:\/\/shopify\/Customer\/\d+$/;
const E164 = /^\+[1-9]\d{1,14}$/;

/** The `customerSet` a `customer.changed` delivery stands for, or why it cannot be sent (the message is malformed). */
export function readCustomerChange(delivery: Delivery): CustomerSet | string {
  const p = delivery.payload;
  const accountNumber = typeof p.accountNumber === 'string' ? p.accountNumber : '';
  if (accountNumber === '') return 'customer.changed without an accountNumber';
  if (typeof p.shopifyCustomerId !== 'string' || !CUSTOMER_GID.test(p.shopifyCustomerId)) {
    return `customer.changed of ${accountNumber} names no Shopify customer: ${JSON.stringify(p.shopifyCustomerId)}`;
  }
  const customer = p.customer;
  if (customer === null || typeof customer !== 'object' || Array.isArray(customer)) return `customer.changed of ${accountNumber} without its customer`;
  const input = toCustomerSetInput(customer as Record<string, unknown>);
  if (typeof input === 'string') return `customer ${accountNumber}: ${input}`;
  return { accountNumber, customerId: p.shopifyCustomerId, input };
}

/**
 * The customer's fields as CustomerSetInput. A null email, phone, name or address is left out rather than cleared:
 * customerSet leaves an omitted field as it is, and a store's customer without an email or phone may be one
 * the store cannot reach any more. The customer's address is its shipping address, else its billing address;
 * it replaces the customer's addresses, since customerSet deletes the ones a list does not include.
 */
export function toCustomerSetInput(customer: Record<string, unknown>): CustomerSetInput | string {
  const input: CustomerSetInput = {};
  const { email, phone, name } = customer;
  if (email !== null && email !== undefined) {
    if (typeof email !== 'string' || !email.includes('@')) return `email is not an email address: ${JSON.stringify(email)}`;
    input.email = email;
  }
  if (phone !== null && phone !== undefined) {
    if (typeof phone !== 'string' || !E164.test(phone)) return `phone is not an E.164 number: ${JSON.stringify(phone)}`;
    input.phone = phone;
  }
  if (name !== null && name !== undefined) {
    if (typeof name !== 'string') return `name is not text: ${JSON.stringify(name)}`;
    Object.assign(input, splitName(name));
  }
  const shipping = readAddress(customer.shippingAddress, 'shippingAddress');
  if (typeof shipping === 'string') return shipping;
  const billing = readAddress(customer.billingAddress, 'billingAddress');
  if (typeof billing === 'string') return billing;
  const address = shipping ?? billing;
  if (address) input.addresses = [toMailingAddress(address)];
  return input;
}

/**
 * A name as Shopify's first and last names: everything before the last space is the first name, a single word
 * the last name (and the first name cleared). A blank name is none: {}.
 */
export function splitName(name: string): Pick<CustomerSetInput, 'firstName' | 'lastName'> {
  const words = name.trim().split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) return {};
  const lastName = words.pop()!;
  return { firstName: words.length > 0 ? words.join(' ') : null, lastName };
}

export function toMailingAddress(address: CustomerAddress): MailingAddressInput {
  return {
    address1: address.line1,
    ...(address.line2 ? { address2: address.line2 } : {}),
    city: address.city,
    ...(address.postalCode ? { zip: address.postalCode } : {}),
    ...(address.region ? { provinceCode: address.region } : {}),
    countryCode: address.country,
  };
}

function readAddress(value: unknown, field: string): CustomerAddress | null | string {
  if (value === null || value === undefined) return null;
  const a = value as Partial<Record<keyof CustomerAddress, unknown>>;
  if (typeof value !== 'object' || Array.isArray(value) || typeof a.line1 !== 'string' || typeof a.city !== 'string') return `${field} is not an address: ${JSON.stringify(value)}`;
  if (typeof a.country !== 'string' || !/^[A-Z]{2}$/.test(a.country)) return `${field} has no ISO country code: ${JSON.stringify(a.country)}`;
  for (const optional of ['line2', 'postalCode', 'region'] as const) {
    if (a[optional] !== null && a[optional] !== undefined && typeof a[optional] !== 'string') return `${field}.${optional} is not text: ${JSON.stringify(a[optional])}`;
  }
  return a as CustomerAddress;
}
