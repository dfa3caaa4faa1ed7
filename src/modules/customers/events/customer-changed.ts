import type { CustomerFields } from '../domain/customer.js';

/** The public event of a customer's change (contract v1: `customer.changed`). */
export const CUSTOMER_CHANGED = 'customer.changed';

export interface CustomerChanged {
  accountNumber: string;
  /** The fields this version changed. */
  changed: string[];
  customer: CustomerFields;
  version: number;
}
