import type { PostalAddress } from '../postal-address.js';

/**
 * What Crossdock asks of any ERP, in its own words: the message types an ERP destination takes and what they
 * carry, and the reads made outside the queues. Each connector maps these to its system's calls.
 */
export const ERP_MESSAGE_TYPES = {
  createSalesOrder: 'erp.sales-order.create', cancelSalesOrder: 'erp.sales-order.cancel', postShipment: 'erp.shipment.post', updateCustomer: 'erp.customer.update',
  createCustomer: 'erp.customer.create',
} as const;

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
  /** The order as the ERP holds it after the create, where the connector reads it (compared in shadow mode). */
  facts?: ErpOrderFacts;
  /** Why the facts could not be read (the order is created all the same). */
  factsProblem?: string;
  [key: string]: unknown;
}

/**
 * An order as an ERP holds it, in Crossdock's words: what two ERPs are compared on while one shadows the other
 * (docs/COEXISTENCE.md). Amounts in the order's currency, as the ERP computed them.
 */
export interface ErpOrderFacts {
  customerNumber: string;
  /** ISO 4217, as the ERP holds the order's currency (its local currency named, not blank). */
  currency: string;
  lines: Array<{
    sku: string;
    quantity: number;
    /** The unit price the ERP applied. */
    unitPrice: number;
    /** Crossdock's warehouse code of the line's location or warehouse, where the connector maps it back. */
    warehouse?: string | null;
    /** The line's amount before tax, after the line's own discount (an order or document discount, freight, are not in it). */
    amount: number;
  }>;
  totalExcludingTax: number;
  totalTax: number;
  totalIncludingTax: number;
}

/**
 * An order an ERP holds under one of Crossdock's references, as reconciliation compares it with what Crossdock sent
 * (docs/ORDERS.md, Reconciliation): its number and id, whether the ERP cancelled it, and its item lines.
 */
export interface ErpOrderRecord {
  /** Crossdock's reference, as the ERP holds it (Business Central's externalDocumentNumber, SAP Business One's NumAtCard). */
  externalDocumentNumber: string;
  erpOrderRef: string;
  erpOrderId: string;
  /** Cancelled in the ERP: SAP Business One keeps a cancelled order (Business Central deletes one). */
  cancelled: boolean;
  /** Its item lines in the ERP's order: the ERP's item number and quantity. */
  lines: Array<{ sku: string; quantity: number }>;
}

/** What an ERP holds for references read together. */
export interface ErpOrdersByReference {
  /** Every order the ERP holds under any of the references: none for a reference it lacks, two for a duplicate. */
  orders: ErpOrderRecord[];
  /**
   * References the ERP holds no order for because it posted them in full: Business Central deletes a sales order
   * once it is shipped and invoiced in full, leaving its posted documents. Such an order is not missing.
   */
  postedInFull: string[];
}

/** An order's id (and number) in one ERP, as the cross-reference of ids recorded it at its create. */
export interface KnownErpOrder {
  erpOrderId: string;
  erpOrderRef?: string | null;
}

export interface ErpCancelResult {
  /** false when the ERP had no such order. */
  deleted: boolean;
  [key: string]: unknown;
}

/**
 * A shipment the warehouse made, to be posted in the ERP against the sales order it ships (a backend with
 * `erpPosting: ship`). Posting is idempotent by quantities: the connector ships, per item, only what
 * `shippedTotals` exceeds what the ERP already holds as shipped on the order, so the same shipment posted again
 * (a retry after a lost answer, a redelivery after a crash) posts nothing.
 */
export interface ErpShipment {
  /** Crossdock's shipment id (carried on the ERP's document where the ERP has room for it). */
  shipmentId: string;
  /** The order as the ERP knows it: Crossdock's reference (externalDocumentNumber / NumAtCard) and the ERP's own number. */
  externalDocumentNumber: string;
  erpOrderRef: string | null;
  /**
   * The order's id in this ERP, from the cross-reference of ids where it is recorded: the connector reads the order
   * by it, and looks it up by number or reference only when the ERP no longer has an order of that id and reference.
   */
  erpOrderId?: string | null;
  carrier: string | null;
  trackingNumber: string | null;
  shippedAt: string;
  /** This shipment's quantities, per item (`sku` is the ERP's item number) and Crossdock warehouse. */
  lines: Array<{ sku: string; quantity: number; warehouse?: string | null }>;
  /** Per item, what every shipment of the order that is not cancelled has shipped, this one included. */
  shippedTotals: Array<{ sku: string; quantity: number }>;
}

export interface ErpShipmentResult {
  /** The ERP's document for the shipment (Business Central's posted shipment number, SAP's DeliveryNote DocNum). */
  erpShipmentRef: string | null;
  /** false when the ERP already held these quantities as shipped (nothing posted). */
  posted: boolean;
  /** The order as the ERP holds it shipped after the posting (compared in shadow mode). */
  facts?: ErpShipmentFacts;
  [key: string]: unknown;
}

/**
 * What an ERP holds as shipped of an order once a shipment is posted, per item (those shipped at all), in its words:
 * what two ERPs are compared on while one shadows the other (docs/COEXISTENCE.md). The same whether this posting
 * shipped or found its quantities shipped already, so a retry answers what the first try would have.
 */
export interface ErpShipmentFacts {
  lines: Array<{ sku: string; quantity: number }>;
}

/** A shipment the ERP recorded (a Business Central posted sales shipment, a SAP Business One delivery note). */
export interface ErpShipmentRecord {
  /** The ERP's id of the document, stable across its changes. */
  documentId: string;
  /** The ERP's document number. */
  number: string;
  /** The order it ships: the ERP's order number, and Crossdock's reference where the ERP carries it. */
  erpOrderRef: string | null;
  externalDocumentNumber: string | null;
  carrier: string | null;
  trackingNumber: string | null;
  /** The document was cancelled in the ERP. */
  cancelled: boolean;
  shippedAt: string;
  /** When the document last changed in the ERP: the poll's cursor. */
  changedAt: string;
  lines: Array<{ sku: string; quantity: number; warehouse?: string | null }>;
  /** The Crossdock shipment it was posted for, when the document carries it. */
  crossdockShipmentId: string | null;
}

/** Shipment documents changed since a time, and the newest change seen (where the next read starts). */
export interface ShipmentChanges {
  shipments: ErpShipmentRecord[];
  through: Date | undefined;
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
  /** The price list the ERP gives the customer (as ErpPrice names lists), where it has one. */
  priceList?: string | null;
  /**
   * The rest of what the ERP holds of the customer, as it holds it (the canonical record checks and normalises it:
   * a phone number as the ERP keeps it, made E.164 there). Absent: the connector does not read it; null: blank.
   */
  email?: string | null;
  phone?: string | null;
  taxId?: string | null;
  billingAddress?: ErpAddress | null;
  shippingAddress?: ErpAddress | null;
  /** Business Central's payment terms code; SAP Business One's payment terms group name. */
  paymentTerms?: string | null;
  /** When the ERP last changed the customer (ISO 8601), where it says. */
  modifiedAt?: string;
}

/** A postal address (the canonical customer's). */
export type ErpAddress = PostalAddress;

/**
 * Fields of a customer changed on another side (a channel, a CRM), to be written in the ERP: only the fields named
 * are written, the others left as the ERP has them. Idempotent: writing the same values again changes nothing.
 */
export interface ErpCustomerUpdate {
  /** The account number (Business Central's customer number, SAP Business One's CardCode). */
  number: string;
  /**
   * The account's id in this ERP, from the cross-reference of ids where it is recorded: the connector reads the
   * account by it, and looks it up by number only when the ERP has no account of that id and number.
   */
  erpId?: string | null;
  fields: Partial<{
    name: string | null;
    email: string | null;
    /** E.164. */
    phone: string | null;
    taxId: string | null;
    billingAddress: ErpAddress | null;
    shippingAddress: ErpAddress | null;
    /** Business Central's payment terms code; SAP Business One's payment terms group name. */
    paymentTerms: string | null;
  }>;
}

export interface ErpCustomerUpdateResult {
  /** false when the ERP held these values already. */
  updated: boolean;
  /** The fields the ERP now holds as sent (written, or found so). */
  written?: string[];
  /** The fields the ERP could not take (no room for them in this ERP), with why. */
  skipped?: Array<{ field: string; reason: string }>;
  [key: string]: unknown;
}

/**
 * A new account, to be created in the ERP (a backend that accepts new accounts: `acceptNewCustomers`). Idempotent by
 * the account number: when the ERP holds it already (a retry after a lost answer), the fields are written as
 * updateCustomer would, and `created` is false.
 */
export interface ErpCustomerCreate {
  number: string;
  /** As ErpCustomerUpdate's: an account the cross-reference knows in this ERP already (a create sent again). */
  erpId?: string | null;
  fields: ErpCustomerUpdate['fields'];
}

export interface ErpCustomerCreateResult extends ErpCustomerUpdateResult {
  /** The ERP's own id of the account (Business Central's GUID, SAP Business One's CardCode). */
  erpId: string;
  /** false when the account was there already. */
  created: boolean;
}

/** A subscription to the ERP's change notifications (Business Central's `subscriptions`), as the ERP answered it. */
export interface ErpChangeSubscription {
  id: string;
  /** The entity set watched, as the ERP names it (`/api/v2.0/companies(...)/customers`). */
  resource: string;
  notificationUrl: string;
  clientState: string;
  /** ISO 8601: when the ERP stops notifying unless the subscription is renewed. */
  expiresAt: string;
  /** The ERP's version of the subscription, which a renewal must name. */
  etag: string;
}

/** One change an ERP notified: the changed record's resource and what happened to it; nothing of its content. */
export interface ErpChangeNotice {
  subscriptionId: string;
  clientState: string;
  /** A record (`.../customers(<id>)`), or for `collection` the set with its filter. */
  resource: string;
  changeType: 'created' | 'updated' | 'deleted' | 'collection';
  lastModifiedDateTime: string;
  /** The ERP's id of the record the resource names (absent for `collection`): what a deletion is known by. */
  recordId?: string;
}

/**
 * Change notifications an ERP pushes (Business Central webhooks). The ERP checks the notification URL before it
 * creates or renews a subscription: it calls it with a `validationToken` query parameter, which must be answered
 * 200 with the token as the body within 5 seconds.
 */
export interface ErpChangeNotifications {
  /** Subscribes to changes of an entity set (`customers`); the ERP's handshake with notificationUrl happens inside. */
  subscribe(call: GovernedCall, request: { entity: 'customers'; notificationUrl: string; clientState: string }): Promise<ErpChangeSubscription>;
  /** Extends the subscription's expiry (the ERP repeats the handshake); null when the ERP no longer has it. */
  renew(call: GovernedCall, subscription: ErpChangeSubscription): Promise<ErpChangeSubscription | null>;
  /** Ends the subscription; nothing when the ERP no longer has it. */
  unsubscribe(call: GovernedCall, subscription: ErpChangeSubscription): Promise<void>;
  /** The notifications of a webhook's body, or why the body is not one. */
  parse(body: unknown): ErpChangeNotice[] | string;
}

/** The customers a pull read, and those it could not read (their last figures stand). */
export interface CustomerPull {
  customers: ErpCustomer[];
  rejected: Array<{ number: string; problem: string }>;
}

/** The price list of an item's base price (Business Central's item unit price; SAP Business One's base list). */
export const BASE_PRICE_LIST = 'base';

/**
 * A price the ERP holds, in Crossdock's words: what `POST /v1/prices` takes, without the event id and ordering
 * (a pull is a snapshot, dated by its start).
 */
export interface ErpPrice {
  /** The list the price belongs to (BASE_PRICE_LIST for the item's base price; else the ERP's list name or code). */
  priceList: string;
  sku: string;
  /** ISO 4217. */
  currency: string;
  /** Per unit, not negative. */
  unitPrice: number;
  /** The quantity break: the price applies from this quantity up (0: any quantity). */
  minQuantity: number;
  /** The ERP's customer number (SAP CardCode) for a customer-specific price; null for a list price. */
  customer: string | null;
  /** ISO dates or date-times; null when open-ended. validTo is exclusive. */
  validFrom: string | null;
  validTo: string | null;
}

/** Every price the backend holds (a snapshot), and what it could not read or map. */
export interface PricePull {
  prices: ErpPrice[];
  rejected: Array<{ sku: string; problem: string }>;
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
  /**
   * Deletes (or cancels) the order Crossdock's reference names. `known`: its id and number in this ERP from the
   * cross-reference of ids, when recorded: the connector acts on it directly, and looks the order up by reference
   * only when the ERP refuses that (an id gone stale, an order already cancelled).
   */
  cancelSalesOrder(externalDocumentNumber: string, signal: AbortSignal, known?: KnownErpOrder): Promise<ErpCancelResult>;
  customers(call: GovernedCall): Promise<CustomerPull>;
  /**
   * The orders the ERP holds under Crossdock's references (any number of them), read in batches, each request one
   * governed call: how reconciliation finds an order deleted, duplicated or changed in the ERP by hand.
   */
  ordersByReference(call: GovernedCall, references: readonly string[]): Promise<ErpOrdersByReference>;
  /**
   * Positions changed since `since` (all when undefined). `lastReserved`: what the last reads found held by the
   * ERP's open orders, per SKU and warehouse, so that an order created, shipped or deleted is read again.
   */
  stockSince(call: GovernedCall, since: Date | undefined, lastReserved: ReadonlyMap<string, Readonly<Record<string, number>>>): Promise<StockChanges>;
  /** Posts a shipment against its sales order (see ErpShipment: idempotent by quantities); absent where the connector cannot. */
  postShipment?(shipment: ErpShipment, signal: AbortSignal): Promise<ErpShipmentResult>;
  /** Shipment documents changed since `since` (all when undefined), oldest change first. */
  shipmentsSince?(call: GovernedCall, since: Date | undefined): Promise<ShipmentChanges>;
  /** Writes a customer's fields changed elsewhere (see ErpCustomerUpdate); absent where the connector cannot. */
  updateCustomer?(update: ErpCustomerUpdate, signal: AbortSignal): Promise<ErpCustomerUpdateResult>;
  /** Creates a new account (see ErpCustomerCreate); absent where the connector cannot. */
  createCustomer?(customer: ErpCustomerCreate, signal: AbortSignal): Promise<ErpCustomerCreateResult>;
  /** One customer, read by the resource a change notification named; null when the ERP no longer has it. */
  customerAt?(call: GovernedCall, resource: string): Promise<ErpCustomer | null>;
  /** The ERP's change notifications; absent where it pushes none (SAP Business One is polled). */
  changeNotifications?: ErpChangeNotifications;
  /** Every price the backend holds: base prices, price lists, customer-specific prices (see ErpPrice). */
  prices?(call: GovernedCall): Promise<PricePull>;
  /** Ends what the connector holds open with the ERP (SAP Business One's session), when it is replaced or at shutdown. */
  close?(): Promise<void>;
}
