/** A customer as the ERP last told Crossdock (the read model), as the order intake needs it. */
export interface CustomerStanding {
  /** Business Central: blank, "Ship", "Invoice" or "All". */
  blocked: string;
  /** 0 means no limit. */
  creditLimit: number;
  balanceDue: number;
}

export type CustomerVerdict =
  | { verdict: 'accept'; verified: boolean }
  | { verdict: 'hold'; verified: true; reason: string }
  | { verdict: 'refuse'; reason: string };

/**
 * The intake's customer check, from the read model only (never the ERP): a blocked customer is refused; one
 * whose balance due plus this order exceeds the credit limit is held; an account the read model does not
 * know is accepted unverified, for the ERP to accept or reject.
 */
export function checkCustomer(accountNumber: string, customer: CustomerStanding | undefined, orderTotal: number): CustomerVerdict {
  if (!customer) return { verdict: 'accept', verified: false };
  if (customer.blocked.trim() !== '') return { verdict: 'refuse', reason: `customer ${accountNumber} is blocked (${customer.blocked.trim()}) in the ERP` };
  if (customer.creditLimit > 0 && customer.balanceDue + orderTotal > customer.creditLimit) {
    return {
      verdict: 'hold',
      verified: true,
      reason: `credit limit ${customer.creditLimit} exceeded: balance due ${customer.balanceDue} plus this order ${orderTotal}`,
    };
  }
  return { verdict: 'accept', verified: true };
}
