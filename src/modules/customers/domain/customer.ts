/** The canonical customer's fields, in the order the API shows them. */
export const CUSTOMER_FIELDS = [
  'name', 'email', 'phone', 'billingAddress', 'shippingAddress', 'taxId', 'blocked', 'creditLimit', 'balanceDue', 'priceList', 'paymentTerms',
] as const;
export type CustomerField = (typeof CUSTOMER_FIELDS)[number];

/** The fields an ERP connector writes (the commercial terms are the ERP's own). */
export const ERP_WRITABLE_FIELDS: ReadonlySet<CustomerField> = new Set<CustomerField>(['name', 'email', 'phone', 'taxId', 'billingAddress', 'shippingAddress', 'paymentTerms']);

/** Who changes customers: the ERP, a sales channel (portal, store), a CRM. */
export type CustomerSystem = 'erp' | 'channel' | 'crm';

export interface Address {
  line1: string;
  line2?: string | null;
  city: string;
  postalCode?: string | null;
  region?: string | null;
  /** ISO 3166-1 alpha-2. */
  country: string;
}

export interface CustomerFields {
  name: string | null;
  email: string | null;
  /** E.164 once checked. */
  phone: string | null;
  billingAddress: Address | null;
  shippingAddress: Address | null;
  taxId: string | null;
  /** Business Central's blocked: blank, Ship, Invoice or All. */
  blocked: string;
  creditLimit: number;
  balanceDue: number;
  priceList: string | null;
  paymentTerms: string | null;
}

export interface Ownership {
  fields: Record<CustomerField, CustomerSystem>;
  onConflict: 'owner-wins' | 'manual';
}

/** Until an administrator says otherwise: the ERP owns the commercial terms, the channels the contact details. */
export const DEFAULT_OWNERSHIP: Ownership = {
  fields: {
    name: 'erp', email: 'channel', phone: 'channel', billingAddress: 'erp', shippingAddress: 'channel', taxId: 'erp',
    blocked: 'erp', creditLimit: 'erp', balanceDue: 'erp', priceList: 'erp', paymentTerms: 'erp',
  },
  onConflict: 'owner-wins',
};

/** A change of some fields, from one system. */
export interface CustomerChange {
  system: CustomerSystem;
  fields: Partial<CustomerFields>;
}
