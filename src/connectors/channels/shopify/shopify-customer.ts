import { accountNumberOf, type AccountNumberSource } from './shopify-order.js';

/** The fields of Shopify's `customers/create` and `customers/update` webhook bodies that Crossdock keeps. */
export interface ShopifyCustomer {
  id: string | number;
  admin_graphql_api_id?: string;
  email?: string | null;
  phone?: string | null;
  tags?: string | null;
  default_address?: { address1?: string | null; address2?: string | null; city?: string | null; zip?: string | null; province_code?: string | null; country_code?: string | null } | null;
}

/** What a store says of one of its customers, in Crossdock's words. */
export interface StoreCustomer {
  accountNumber: string;
  /** The store's id of the customer. */
  customerId: string;
  /** Only what the store holds: a blank email or phone, or an incomplete address, is not a change to nothing. */
  fields: {
    email?: string;
    phone?: string;
    shippingAddress?: { line1: string; line2: string | null; city: string; postalCode: string | null; region: string | null; country: string };
  };
}

/**
 * A store's customer as the ERP account it stands for, by the store's `customerAccount` rule; undefined for a
 * customer with no account of its own (a web shopper: the rule's fallback house account is for orders only). The
 * customer's default address is its shipping address.
 */
export function toStoreCustomer(customer: ShopifyCustomer, source: AccountNumberSource): StoreCustomer | undefined {
  const accountNumber = accountNumberOf({ id: String(customer.id), email: customer.email, customer: { email: customer.email, tags: customer.tags } }, { ...source, fallback: undefined });
  if (!accountNumber) return undefined;
  const address = customer.default_address;
  const shippingAddress = address?.address1 && address.city && address.country_code
    ? { line1: address.address1, line2: address.address2 ?? null, city: address.city, postalCode: address.zip ?? null, region: address.province_code ?? null, country: address.country_code }
    : undefined;
  return {
    accountNumber,
    customerId: customer.admin_graphql_api_id ?? `gid://shopify/Customer/${customer.id}`,
    fields: {
      ...(customer.email?.trim() ? { email: customer.email } : {}),
      ...(customer.phone?.trim() ? { phone: customer.phone } : {}),
      ...(shippingAddress ? { shippingAddress } : {}),
    },
  };
}
