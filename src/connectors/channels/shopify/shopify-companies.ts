import { isDeepStrictEqual } from 'node:util';
import type { Delivery } from '../../../platform/outbox/message.js';
import type { PostalAddress } from '../../postal-address.js';
import { toCustomerSetInput } from './shopify-customers.js';

/** The webhook topics of a store's B2B companies that Crossdock reads. */
export const COMPANY_TOPICS: ReadonlySet<string> = new Set(['companies/create', 'companies/update', 'company_locations/create', 'company_locations/update']);

/** What a store says of one of its B2B companies, or of one of its locations, in Crossdock's words. */
export interface StoreCompany {
  /** The company's external id: the ERP account number it stands for. */
  accountNumber: string;
  /** gid://shopify/Company/… */
  companyId: string;
  /** gid://shopify/CompanyLocation/…: what a location's webhook is about. */
  locationId?: string;
  /**
   * Only what the store holds: a company's name; a location's phone, addresses and tax registration id. A blank
   * value, or an address without its street, city or country, is not a change to nothing.
   */
  fields: {
    name?: string;
    phone?: string;
    billingAddress?: Required<PostalAddress>;
    shippingAddress?: Required<PostalAddress>;
    taxId?: string;
  };
}

/** A payload that is not what Shopify sends for its topic. */
class Malformed extends Error {}

type Body = Record<string, unknown>;

/**
 * A `companies/*` or `company_locations/*` webhook body as the account it stands for: null when the company has
 * no external id (nothing to keep), or why the body cannot be read. A location's account is its company's.
 */
export function readCompanyWebhook(topic: string, payload: unknown): StoreCompany | null | string {
  if (!COMPANY_TOPICS.has(topic)) return `${topic} is not a company topic`;
  try {
    const body = record(payload, 'the body is not an object');
    return topic.startsWith('companies/') ? readCompany(body) : readLocation(body);
  } catch (error) {
    if (error instanceof Malformed) return `${topic}: ${error.message}`;
    throw error;
  }
}

function readCompany(body: Body): StoreCompany | null {
  const companyId = gidOf(body, 'Company', '');
  const accountNumber = text(body, 'external_id', '');
  if (accountNumber === undefined) return null;
  const name = text(body, 'name', '');
  return { accountNumber, companyId, fields: name === undefined ? {} : { name } };
}

function readLocation(body: Body): StoreCompany | null {
  const locationId = gidOf(body, 'CompanyLocation', '');
  const company = record(body.company, 'without its company');
  const companyId = gidOf(company, 'Company', 'company.');
  const accountNumber = text(company, 'external_id', 'company.');
  if (accountNumber === undefined) return null;
  const phone = text(body, 'phone', '');
  const billingAddress = address(body, 'billing_address');
  const shippingAddress = address(body, 'shipping_address');
  const taxSettings = optionalRecord(body, 'tax_settings');
  const taxRegistration = optionalRecord(body, 'tax_registration');
  const taxId = (taxSettings && text(taxSettings, 'tax_registration_id', 'tax_settings.')) ?? (taxRegistration && text(taxRegistration, 'tax_id', 'tax_registration.'));
  return {
    accountNumber,
    companyId,
    locationId,
    fields: {
      ...(phone !== undefined ? { phone } : {}),
      ...(billingAddress ? { billingAddress } : {}),
      ...(shippingAddress ? { shippingAddress } : {}),
      ...(taxId ? { taxId } : {}),
    },
  };
}

/** A company address of a webhook; undefined without its street, city or country (not a value). */
function address(body: Body, key: string): Required<PostalAddress> | undefined {
  const a = optionalRecord(body, key);
  if (!a) return undefined;
  const path = `${key}.`;
  const line1 = text(a, 'address1', path);
  const city = text(a, 'city', path);
  const country = text(a, 'country_code', path);
  const [line2, postalCode, region] = [text(a, 'address2', path), text(a, 'zip', path), text(a, 'zone_code', path)];
  if (line1 === undefined || city === undefined || country === undefined) return undefined;
  return { line1, line2: line2 ?? null, city, postalCode: postalCode ?? null, region: region ?? null, country };
}

/** The object's admin_graphql_api_id, else the gid of its numeric id. */
function gidOf(body: Body, type: string, path: string): string {
  const gid = body.admin_graphql_api_id ?? (body.id === undefined || body.id === null ? undefined : `gid://shopify/${type}/${String(body.id)}`);
  if (typeof gid !== 'string' || !new RegExp(`^gid://shopify/${type}/\\d+$`).test(gid)) throw new Malformed(`${path}admin_graphql_api_id is not a ${type} id: ${JSON.stringify(gid)}`);
  return gid;
}

/** A text field; undefined when absent, null or blank. */
function text(body: Body, key: string, path: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new Malformed(`${path}${key} is not text: ${JSON.stringify(value)}`);
  return value.trim() === '' ? undefined : value;
}

function record(value: unknown, why: string): Body {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Malformed(why);
  return value as Body;
}

function optionalRecord(body: Body, key: string): Body | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  return record(value, `${key} is not an object: ${JSON.stringify(value)}`);
}

// ---- Out: a customer's change as the writes to its company and location ----

/** The customer's fields a company and its location hold, by Crossdock's names. */
export type CompanyField = 'name' | 'billingAddress' | 'shippingAddress' | 'phone' | 'taxId';

export type CompanyAddressType = 'BILLING' | 'SHIPPING';

/** Shopify's CompanyAddressInput, as far as Crossdock fills it. */
export interface CompanyAddressInput {
  address1: string;
  address2?: string;
  city: string;
  zip?: string;
  zoneCode?: string;
  countryCode: string;
}

/** One mutation of a company's writes, with its arguments as Shopify names them. */
export type CompanyWrite =
  | { mutation: 'companyUpdate'; args: { companyId: string; input: { name: string } } }
  | { mutation: 'companyLocationAssignAddress'; args: { locationId: string; address: CompanyAddressInput; addressTypes: CompanyAddressType[] } }
  | { mutation: 'companyLocationUpdate'; args: { companyLocationId: string; input: { phone: string } } }
  | { mutation: 'companyLocationTaxSettingsUpdate'; args: { companyLocationId: string; taxRegistrationId: string } };

/** A `customer.changed` delivery as the writes to the store's company (its name) and location (the rest). */
export interface CompanyChange {
  accountNumber: string;
  /** gid://shopify/Company/… */
  companyId: string;
  /** gid://shopify/CompanyLocation/…; without it only the company's name is written. */
  locationId?: string;
  /** In order; none when the change carries nothing the company or location holds. */
  writes: CompanyWrite[];
  /** The customer's fields the writes carry. */
  fields: CompanyField[];
}

const COMPANY_GID = /^gid:\/\/shopify\/Company\/\d+$/;
const LOCATION_GID = /^gid:\/\/shopify\/CompanyLocation\/\d+$/;

/** The company writes a `customer.changed` delivery stands for, or why they cannot be sent (the message is malformed). */
export function readCompanyChange(delivery: Delivery): CompanyChange | string {
  const p = delivery.payload;
  const accountNumber = typeof p.accountNumber === 'string' ? p.accountNumber : '';
  if (accountNumber === '') return 'customer.changed without an accountNumber';
  if (typeof p.shopifyCompanyId !== 'string' || !COMPANY_GID.test(p.shopifyCompanyId)) {
    return `customer.changed of ${accountNumber} names no Shopify company: ${JSON.stringify(p.shopifyCompanyId)}`;
  }
  const locationId = p.shopifyCompanyLocationId ?? undefined;
  if (locationId !== undefined && (typeof locationId !== 'string' || !LOCATION_GID.test(locationId))) {
    return `customer.changed of ${accountNumber} names no Shopify company location: ${JSON.stringify(locationId)}`;
  }
  const customer = p.customer;
  if (customer === null || typeof customer !== 'object' || Array.isArray(customer)) return `customer.changed of ${accountNumber} without its customer`;
  const planned = toCompanyWrites(customer as Record<string, unknown>, p.shopifyCompanyId, locationId);
  if (typeof planned === 'string') return `customer ${accountNumber}: ${planned}`;
  return { accountNumber, companyId: p.shopifyCompanyId, ...(locationId ? { locationId } : {}), ...planned };
}

/**
 * The customer's fields as company writes: the name with companyUpdate; at the location, each address with
 * companyLocationAssignAddress (one call for both when they are the same), the phone with companyLocationUpdate,
 * the tax id with companyLocationTaxSettingsUpdate. A null or blank field is left out rather than cleared, as
 * for a customer; the phone and addresses are checked as a customer's are.
 */
function toCompanyWrites(customer: Record<string, unknown>, companyId: string, locationId?: string): Pick<CompanyChange, 'writes' | 'fields'> | string {
  const { phone, billingAddress, shippingAddress } = customer;
  const checked = toCustomerSetInput({ phone, billingAddress, shippingAddress });
  if (typeof checked === 'string') return checked;
  for (const key of ['name', 'taxId']) {
    if (customer[key] !== null && customer[key] !== undefined && typeof customer[key] !== 'string') return `${key} is not text: ${JSON.stringify(customer[key])}`;
  }
  const name = customer.name as string | null | undefined;
  const taxId = customer.taxId as string | null | undefined;

  const writes: CompanyWrite[] = [];
  const fields: CompanyField[] = [];
  if (name?.trim()) {
    writes.push({ mutation: 'companyUpdate', args: { companyId, input: { name } } });
    fields.push('name');
  }
  if (!locationId) return { writes, fields };
  const billing = billingAddress ? toCompanyAddress(billingAddress as PostalAddress) : undefined;
  const shipping = shippingAddress ? toCompanyAddress(shippingAddress as PostalAddress) : undefined;
  if (billing && shipping && isDeepStrictEqual(billing, shipping)) {
    writes.push({ mutation: 'companyLocationAssignAddress', args: { locationId, address: billing, addressTypes: ['BILLING', 'SHIPPING'] } });
  } else {
    if (billing) writes.push({ mutation: 'companyLocationAssignAddress', args: { locationId, address: billing, addressTypes: ['BILLING'] } });
    if (shipping) writes.push({ mutation: 'companyLocationAssignAddress', args: { locationId, address: shipping, addressTypes: ['SHIPPING'] } });
  }
  if (billing) fields.push('billingAddress');
  if (shipping) fields.push('shippingAddress');
  if (typeof phone === 'string') {
    writes.push({ mutation: 'companyLocationUpdate', args: { companyLocationId: locationId, input: { phone } } });
    fields.push('phone');
  }
  if (taxId?.trim()) {
    writes.push({ mutation: 'companyLocationTaxSettingsUpdate', args: { companyLocationId: locationId, taxRegistrationId: taxId } });
    fields.push('taxId');
  }
  return { writes, fields };
}

export function toCompanyAddress(address: PostalAddress): CompanyAddressInput {
  return {
    address1: address.line1,
    ...(address.line2 ? { address2: address.line2 } : {}),
    city: address.city,
    ...(address.postalCode ? { zip: address.postalCode } : {}),
    ...(address.region ? { zoneCode: address.region } : {}),
    countryCode: address.country,
  };
}
