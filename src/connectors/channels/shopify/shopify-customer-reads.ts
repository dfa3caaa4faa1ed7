import { isDeepStrictEqual } from 'node:util';
import { Injectable } from '@nestjs/common';
import type { PostalAddress } from '../../postal-address.js';
import { toCompanyAddress, type CompanyAddressInput } from './shopify-companies.js';
import { toCustomerSetInput, type MailingAddressInput } from './shopify-customers.js';
import { ShopifyStoreReads } from './shopify-store-reads.js';

/** An account as a store knows it: its customer there, its B2B company and the company's location. */
export interface StoreAccountRef {
  accountNumber: string;
  customerId?: string;
  companyId?: string;
  locationId?: string;
}

/** What a store holds of one account, by the ids it was asked for; null: the store has no such record. */
export interface StoreAccount {
  accountNumber: string;
  customer?: Record<string, unknown> | null;
  company?: Record<string, unknown> | null;
  location?: Record<string, unknown> | null;
}

/** One field of the account the store holds otherwise than Crossdock sends it, in Shopify's terms. */
export interface StoreFieldDrift {
  /** Crossdock's field (the customer's address stands for its shipping address, else its billing address). */
  field: string;
  /** Where the store keeps it: `customer`, `company` or `location`. */
  on: 'customer' | 'company' | 'location';
  expected: unknown;
  actual: unknown;
}

// Shopify's calculated cost of one record of each kind: the object and each object inside it.
const CUSTOMER_COST = 2;
const COMPANY_COST = 1;
const LOCATION_COST = 4;
/** The accounts read in one query; at most 50 × 7 points, well under the 1,000 a query may cost. */
export const ACCOUNTS_PER_READ = 50;

/**
 * Reads of a store's customers and B2B companies for reconciliation, through ShopifyStoreReads (the channel's
 * governor, paced by the query's cost): the records of a page of accounts, by the ids Crossdock knows them by there.
 */
@Injectable()
export class ShopifyCustomerReads {
  constructor(private readonly reads: ShopifyStoreReads) {}

  async accounts(channelId: string, refs: readonly StoreAccountRef[]): Promise<StoreAccount[]> {
    if (refs.length > ACCOUNTS_PER_READ) throw new Error(`at most ${ACCOUNTS_PER_READ} accounts a read, not ${refs.length}`);
    const ids = {
      customers: refs.flatMap((r) => (r.customerId ? [r.customerId] : [])),
      companies: refs.flatMap((r) => (r.companyId ? [r.companyId] : [])),
      locations: refs.flatMap((r) => (r.locationId ? [r.locationId] : [])),
    };
    const cost = ids.customers.length * CUSTOMER_COST + ids.companies.length * COMPANY_COST + ids.locations.length * LOCATION_COST;
    if (cost === 0) return refs.map((r) => ({ accountNumber: r.accountNumber }));
    const store = await this.reads.store(channelId);
    const found = await this.reads.read(store, cost, (client, signal) => client.recordsByIds(ids, cost, signal));
    return refs.map((r) => ({
      accountNumber: r.accountNumber,
      ...(r.customerId ? { customer: found.get(r.customerId) ?? null } : {}),
      ...(r.companyId ? { company: found.get(r.companyId) ?? null } : {}),
      ...(r.locationId ? { location: found.get(r.locationId) ?? null } : {}),
    }));
  }
}

/**
 * The fields of `customer` (a `customer.changed`'s customer) that the store holds otherwise than Crossdock writes
 * them (customerSet for its customer; companyUpdate and the location's writes for its company): the same mapping
 * the delivery uses, so that only what a republish would change is drift. A field the record holds no value for is
 * not compared (a write never clears it); an email is compared without regard to case (Shopify keeps it in small
 * letters). A record the store no longer has is not compared: a republish cannot bring it back.
 */
export function storeAccountDrift(customer: Record<string, unknown>, held: StoreAccount): StoreFieldDrift[] {
  const drift: StoreFieldDrift[] = [];
  const differs = (field: string, on: StoreFieldDrift['on'], expected: unknown, actual: unknown, same = isDeepStrictEqual(expected, actual)) => {
    if (!same) drift.push({ field, on, expected, actual: actual ?? null });
  };
  const input = toCustomerSetInput(customer);
  if (typeof input === 'string') return []; // not a record a store can be sent
  if (held.customer) {
    const c = held.customer;
    if (input.email !== undefined) differs('email', 'customer', input.email, c.email, typeof c.email === 'string' && c.email.toLowerCase() === input.email.toLowerCase());
    if (input.phone !== undefined) differs('phone', 'customer', input.phone, c.phone);
    if (input.lastName !== undefined) {
      differs('name', 'customer', { firstName: input.firstName ?? null, lastName: input.lastName }, { firstName: blankToNull(c.firstName), lastName: blankToNull(c.lastName) });
    }
    if (input.addresses?.[0]) {
      differs(customer.shippingAddress ? 'shippingAddress' : 'billingAddress', 'customer', input.addresses[0], heldMailingAddress(c.defaultAddress));
    }
  }
  if (held.company && typeof customer.name === 'string' && customer.name.trim()) differs('name', 'company', customer.name, held.company.name);
  if (held.location) {
    const l = held.location;
    if (input.phone !== undefined) differs('phone', 'location', input.phone, l.phone);
    for (const field of ['billingAddress', 'shippingAddress'] as const) {
      const address = customer[field] as PostalAddress | null | undefined;
      if (address) differs(field, 'location', toCompanyAddress(address), heldCompanyAddress(l[field]));
    }
    const taxId = typeof customer.taxId === 'string' && customer.taxId.trim() ? customer.taxId : undefined;
    const heldTaxId = (l.taxSettings as { taxRegistrationId?: unknown } | null | undefined)?.taxRegistrationId;
    if (taxId !== undefined) differs('taxId', 'location', taxId, heldTaxId);
  }
  return drift;
}

/** A customer's default address as MailingAddressInput, as toMailingAddress writes one (blank parts left out). */
function heldMailingAddress(value: unknown): MailingAddressInput | null {
  if (value === null || typeof value !== 'object') return null;
  const a = value as Record<string, unknown>;
  return withoutBlanks({ address1: a.address1, address2: a.address2, city: a.city, zip: a.zip, provinceCode: a.provinceCode, countryCode: a.countryCodeV2 }) as unknown as MailingAddressInput;
}

/** A location's address as CompanyAddressInput, as toCompanyAddress writes one. */
function heldCompanyAddress(value: unknown): CompanyAddressInput | null {
  if (value === null || typeof value !== 'object') return null;
  const a = value as Record<string, unknown>;
  return withoutBlanks({ address1: a.address1, address2: a.address2, city: a.city, zip: a.zip, zoneCode: a.zoneCode, countryCode: a.countryCode }) as unknown as CompanyAddressInput;
}

function withoutBlanks(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => typeof v === 'string' && v.trim() !== ''));
}

function blankToNull(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}
