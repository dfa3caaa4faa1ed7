/**
 * What Crossdock asks of any ERP, in its own words: the message types an ERP destination takes and what they
 * carry, and the reads made outside the queues. Each connector maps these to its system's calls.
 */
export const ERP_MESSAGE_TYPES = { createSalesOrder: 'erp.sales-order.create', cancelSalesOrder: 'erp.sales-order.cancel' } as const;

/** A sales order as Crossdock sends it to any ERP: lines name Crossdock's warehouse, mapped per backend. */
export interface ErpSalesOrder {
  /** Crossdock's order reference, the ERP's idempotency key (Business Central's externalDocumentNumber). */
  externalDocumentNumber: string;
  customerNumber: string;
  orderDate?: string;
  lines: Array<{ lineObjectNumber: string; quantity: number; unitPrice: number; warehouse?: string | null }>;
}

/** What the ERP answered to a create: its own number and id for the order. */
export interface ErpCreateResult {
  erpOrderRef: string;
  erpOrderId: string;
  /** false when the order was already there (a retry after a lost answer, or a replay). */
  created: boolean;
  [key: string]: unknown;
}

export interface ErpCancelResult {
  /** false when the ERP had no such order. */
  deleted: boolean;
  [key: string]: unknown;
}

/** Stock of one SKU in one Crossdock warehouse, as the ERP reports it. */
export interface ErpStockLevel {
  sku: string;
  warehouse: string;
  onHand: number;
  /** What the ERP's open orders hold. */
  reserved: number;
  /** When the ERP's figure last changed (its newest posting or record change). */
  occurredAt: string;
}

/** A customer as the ERP keeps it, in Crossdock's words. */
export interface ErpCustomer {
  erpId: string;
  number: string;
  name: string;
  blocked: string;
  creditLimit: number;
  balanceDue: number;
}

/** The customers a pull read, and those it could not read (their last figures stand). */
export interface CustomerPull {
  customers: ErpCustomer[];
  rejected: Array<{ number: string; problem: string }>;
}

/** Runs one call to the backend, admitted by its governor and bounded in time. */
export type GovernedCall = <T>(work: (signal: AbortSignal) => Promise<T>) => Promise<T>;

/** Stock positions changed since a time, and the newest change seen (where the next read starts). */
export interface StockChanges {
  levels: Array<Omit<ErpStockLevel, 'occurredAt'>>;
  through: Date | undefined;
}

/** One ERP system behind Crossdock's contract: one implementation per connector kind. */
export interface ErpConnector {
  createSalesOrder(order: ErpSalesOrder, signal: AbortSignal): Promise<ErpCreateResult>;
  cancelSalesOrder(externalDocumentNumber: string, signal: AbortSignal): Promise<ErpCancelResult>;
  customers(call: GovernedCall): Promise<CustomerPull>;
  /**
   * Positions changed since `since` (all when undefined). `lastReserved`: what the last reads found held by the
   * ERP's open orders, per SKU and warehouse, so that an order created, shipped or deleted is read again.
   */
  stockSince(call: GovernedCall, since: Date | undefined, lastReserved: ReadonlyMap<string, Readonly<Record<string, number>>>): Promise<StockChanges>;
  /** Ends what the connector holds open with the ERP (SAP Business One's session), when it is replaced or at shutdown. */
  close?(): Promise<void>;
}
