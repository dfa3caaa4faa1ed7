import { classifyHttpStatus, excerpt, TargetError } from '../../../platform/delivery/outcome.js';
import { httpCall } from '../../../platform/http/http-client.js';
import { expectShape, parseJsonAnswer, type Shape } from '../../answer-shape.js';
import type { GovernedCall } from '../erp-contract.js';
import { absentOn404 } from '../erp-direct.js';
import type { BusinessCentralConfig } from './business-central.config.js';

const SCOPE = 'https://api.businesscentral.dynamics.com/.default';
// A token is renewed this long before it expires, so that no call starts with one about to lapse.
const TOKEN_MARGIN_MS = 60_000;
// Keys per query joined by `or`: 20 terms of Code[20] (item numbers) or Code[35] (references) keep the URL under 2 KB.
const ITEMS_PER_QUERY = 20;
const API_PATH = /\/api\/v2\.0$/;
/** Business Central's keys: an id from elsewhere (the cross-reference) reaches a URL only in this form. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ANALYTICS_API_PATH = '/api/microsoft/analytics/v1.0';

export interface SalesOrderLineInput {
  lineObjectNumber: string;
  quantity: number;
  unitPrice: number;
  locationId?: string;
}

export interface SalesOrderInput {
  /** Crossdock's order reference: how a retry finds an order it already created. */
  externalDocumentNumber: string;
  customerNumber: string;
  orderDate?: string;
  lines: SalesOrderLineInput[];
}

/** A sales order; as ensureSalesOrder answers it, with its totals and lines too, which bcOrderFacts checks and reads. */
export interface BcSalesOrder {
  id: string;
  number: string;
  externalDocumentNumber: string;
  customerNumber: string;
  status: string;
  '@odata.etag'?: string;
}

/** An item as the v2.0 `items` entity gives it; `inventory` is the item's total over all locations. */
export interface BcItem {
  id: string;
  number: string;
  /** ISO 8601 with milliseconds, as Business Central sends it. */
  lastModifiedDateTime: string;
  inventory: number;
}

export interface BcLocation {
  id: string;
  code: string;
  displayName: string;
}

/** Item number to location code to on-hand quantity. */
export type InventoryByLocation = Map<string, Map<string, number>>;

interface ODataPage<T> {
  value: T[];
  '@odata.nextLink'?: string;
}

/** Runs one request of a read: on the caller's signal, or as one governed call of a pull. */
type RunRequest = <T>(work: (signal: AbortSignal | undefined) => Promise<T>) => Promise<T>;

/** An order line as posting a shipment reads it; `shipQuantity` is Business Central's "Qty. to Ship". */
export interface BcSalesOrderLine {
  id: string;
  sequence?: number;
  lineType: string;
  lineObjectNumber?: string;
  quantity: number;
  shippedQuantity?: number;
  shipQuantity?: number;
  locationId?: string | null;
  '@odata.etag'?: string;
}

/** A sales order read with its lines (`$expand=salesOrderLines`), as reconciliation compares it. */
export interface BcSalesOrderWithLines extends BcSalesOrder {
  salesOrderLines: Array<{ lineType: string; lineObjectNumber?: string | null; quantity: number }>;
}

/** A posted sales shipment with its lines (`$expand=salesShipmentLines`). API v2.0 gives neither its location nor its tracking. */
export interface BcSalesShipment {
  id: string;
  number: string;
  externalDocumentNumber?: string | null;
  orderNumber?: string | null;
  postingDate?: string | null;
  lastModifiedDateTime: string;
  salesShipmentLines?: BcSalesShipmentLine[];
}

export interface BcSalesShipmentLine {
  lineType?: string;
  lineObjectNumber?: string;
  quantity: number;
  /** Not in API v2.0; read when a backend's page carries one. */
  locationId?: string | null;
  locationCode?: string | null;
}

/** A row of a company's custom page of shipment tracking (the Sales Shipment Header's fields API v2.0 leaves out). */
export interface BcShipmentTracking {
  number: string;
  packageTrackingNo?: string | null;
  shippingAgentCode?: string | null;
}

/** The properties of API v2.0's customer that Crossdock reads and writes, beyond its number and name. */
interface BcCustomerContact {
  email?: string | null;
  phoneNumber?: string | null;
  taxRegistrationNumber?: string | null;
  addressLine1?: string | null;
  addressLine2?: string | null;
  city?: string | null;
  state?: string | null;
  country?: string | null;
  postalCode?: string | null;
  /** A paymentTerms id; the blank GUID for none. */
  paymentTermsId?: string | null;
}

export interface BcCustomer extends BcCustomerContact {
  id: string;
  number: string;
  displayName: string;
  blocked?: string;
  creditLimit?: number;
  lastModifiedDateTime?: string | null;
  /** With `$expand=customerFinancialDetail`: the customer's balance among its figures (checked by the caller). */
  customerFinancialDetail?: { balance?: unknown } | null;
}

/** A customer as writing one reads it: the properties Crossdock writes, and the etag the PATCH must carry. */
export interface BcCustomerRecord extends BcCustomerContact {
  id: string;
  number: string;
  '@odata.etag': string;
  displayName?: string | null;
}

/** A webhook subscription as API v2.0's `subscriptions` gives it. */
export interface BcSubscription {
  subscriptionId: string;
  notificationUrl: string;
  resource: string;
  clientState?: string | null;
  /** ISO 8601 (checked). */
  expirationDateTime: string;
  '@odata.etag': string;
}

/** What a subscription is made or renewed with. */
export interface BcSubscriptionRequest {
  notificationUrl: string;
  resource: string;
  clientState: string;
}

const SYSTEM = 'Business Central';
const SALES_ORDER: Shape = { id: 'string', number: 'string', externalDocumentNumber: 'string?', '@odata.etag': 'string?' };
const SALES_ORDER_LINE: Shape = {
  id: 'string', sequence: 'number?', lineType: 'string', lineObjectNumber: 'string?', quantity: 'number', shippedQuantity: 'number?', shipQuantity: 'number?',
  locationId: 'string?', '@odata.etag': 'string?',
};
const ORDER_LINE_READ: Shape = { lineType: 'string', lineObjectNumber: 'string?', quantity: 'number' };
const SALES_SHIPMENT: Shape = {
  id: 'string', number: 'string', externalDocumentNumber: 'string?', orderNumber: 'string?', postingDate: 'string?', lastModifiedDateTime: 'string', salesShipmentLines: 'array?',
};
const SALES_SHIPMENT_LINE: Shape = { lineType: 'string?', lineObjectNumber: 'string?', quantity: 'number', locationId: 'string?', locationCode: 'string?' };
const SHIPMENT_TRACKING: Shape = { number: 'string', packageTrackingNo: 'string?', shippingAgentCode: 'string?' };
const CUSTOMER: Shape = {
  id: 'string', number: 'string', displayName: 'string?', blocked: 'string?', creditLimit: 'number?', email: 'string?', phoneNumber: 'string?', taxRegistrationNumber: 'string?',
  addressLine1: 'string?', addressLine2: 'string?', city: 'string?', state: 'string?', country: 'string?', postalCode: 'string?', paymentTermsId: 'string?',
  lastModifiedDateTime: 'string?', customerFinancialDetail: 'object?',
};
const SUBSCRIPTION: Shape = { subscriptionId: 'string', notificationUrl: 'string', resource: 'string', clientState: 'string?', expirationDateTime: 'string', '@odata.etag': 'string' };
const CUSTOMER_RECORD: Shape = {
  id: 'string', number: 'string', '@odata.etag': 'string', displayName: 'string?', email: 'string?', phoneNumber: 'string?', taxRegistrationNumber: 'string?',
  addressLine1: 'string?', addressLine2: 'string?', city: 'string?', state: 'string?', country: 'string?', postalCode: 'string?', paymentTermsId: 'string?',
};

/**
 * Business Central API v2.0, as a service-to-service client: OAuth2 client credentials with the token cached
 * until shortly before it expires and renewed once on a 401; every answer other than 2xx becomes a
 * TargetError classified for delivery (400 with BC's message: permanent; 401 after renewal, 408, 429, 5xx:
 * retryable or throttled).
 */
export class BusinessCentralClient {
  private token?: { value: string; expiresAt: number };
  private readonly baseUrl: string;
  private readonly analyticsBaseUrl?: string;
  private readonly tokenUrl: string;

  constructor(
    private readonly config: BusinessCentralConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.baseUrl = (config.baseUrl ?? `https://api.businesscentral.dynamics.com/v2.0/${config.tenantId}/${config.environment}/api/v2.0`).replace(/\/$/, '');
    this.tokenUrl = config.tokenUrl ?? `https://login.microsoftonline.com/${config.tenantId}/oauth2/v2.0/token`;
    this.analyticsBaseUrl = config.analyticsBaseUrl?.replace(/\/$/, '') ?? (API_PATH.test(this.baseUrl) ? this.baseUrl.replace(API_PATH, ANALYTICS_API_PATH) : undefined);
  }

  /** The order whose externalDocumentNumber is `reference`, if Business Central has one. */
  async findSalesOrder(reference: string, signal?: AbortSignal): Promise<BcSalesOrder | undefined> {
    return this.firstSalesOrder({ $filter: `externalDocumentNumber eq ${odataString(reference)}` }, signal);
  }

  /** The order whose number (Business Central's own) is `number`, if there is one. */
  async findSalesOrderByNumber(number: string, signal?: AbortSignal): Promise<BcSalesOrder | undefined> {
    return this.firstSalesOrder({ $filter: `number eq ${odataString(number)}` }, signal);
  }

  /** The order of id `id` (Business Central's key), if there is one; none for an id that is not a GUID. */
  async salesOrderById(id: string, signal?: AbortSignal): Promise<BcSalesOrder | undefined> {
    if (!GUID.test(id)) return undefined;
    return absentOn404(async () => expectShape<BcSalesOrder>(SYSTEM, 'a sales order', await this.request('GET', `/salesOrders(${id})`, undefined, signal), SALES_ORDER));
  }

  /** The order's lines, each with its etag, in their order. */
  async salesOrderLines(orderId: string, signal?: AbortSignal): Promise<BcSalesOrderLine[]> {
    const lines = await this.allPages<BcSalesOrderLine>(this.companyUrl(`/salesOrders(${orderId})/salesOrderLines`), 'a sales order line', SALES_ORDER_LINE, signal);
    return lines.toSorted((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0));
  }

  /**
   * Sets a line's "Qty. to Ship" (`shipQuantity`), with the line's etag. A 412 (the line changed since it was
   * read) is retryable: the next attempt reads the order again.
   */
  async setShipQuantity(orderId: string, line: BcSalesOrderLine, quantity: number, signal?: AbortSignal): Promise<void> {
    try {
      await this.request('PATCH', `/salesOrders(${orderId})/salesOrderLines(${line.id})`, { shipQuantity: quantity }, signal, { 'if-match': line['@odata.etag'] ?? '*' });
    } catch (error) {
      if (error instanceof TargetError && error.details.status === 412) throw new TargetError('retryable', error.message, error.details);
      throw error;
    }
  }

  /** Calls a bound action of the order (`Microsoft.NAV.shipAndInvoice`), which posts what its lines' shipQuantity say. */
  async postSalesOrderAction(orderId: string, action: string, signal?: AbortSignal): Promise<void> {
    await this.request('POST', `/salesOrders(${orderId})/Microsoft.NAV.${action}`, undefined, signal);
  }

  /** The posted shipments of an order, with their lines: by the order's number, or by its externalDocumentNumber (copied onto them). */
  async salesShipmentsOf(order: { orderNumber: string } | { externalDocumentNumber: string }, signal?: AbortSignal): Promise<BcSalesShipment[]> {
    const filter = 'orderNumber' in order ? `orderNumber eq ${odataString(order.orderNumber)}` : `externalDocumentNumber eq ${odataString(order.externalDocumentNumber)}`;
    return this.salesShipments(odataQuery({ $filter: filter, $expand: 'salesShipmentLines' }), signal);
  }

  /** The posted shipments changed after `since` (all when undefined), with their lines, oldest change first. */
  async salesShipmentsChangedSince(since: Date | undefined, signal?: AbortSignal): Promise<BcSalesShipment[]> {
    const query = odataQuery({ ...(since ? { $filter: `lastModifiedDateTime gt ${since.toISOString()}` } : {}), $expand: 'salesShipmentLines', $orderby: 'lastModifiedDateTime' });
    return (await this.salesShipments(query, signal)).toSorted((a, b) => Date.parse(a.lastModifiedDateTime) - Date.parse(b.lastModifiedDateTime));
  }

  /**
   * The tracking of the shipments numbered, from the company's custom page (`page`: an entity set under the
   * company of this API, or `publisher/group/version/entitySet`), `ITEMS_PER_QUERY` numbers a request.
   */
  async shipmentTracking(page: string, numbers: readonly string[], signal?: AbortSignal): Promise<Map<string, BcShipmentTracking>> {
    const tracking = new Map<string, BcShipmentTracking>();
    for (let i = 0; i < numbers.length; i += ITEMS_PER_QUERY) {
      const query = odataQuery({ $filter: anyOf('number', numbers.slice(i, i + ITEMS_PER_QUERY)) });
      for (const row of await this.allPages<BcShipmentTracking>(`${this.customPageUrl(page)}?${query}`, 'a shipment tracking row', SHIPMENT_TRACKING, signal)) tracking.set(row.number, row);
    }
    return tracking;
  }

  /**
   * Creates the order with its lines in one request (deep insert), answered as Business Central then holds it:
   * its totals, and its lines (`$expand=salesOrderLines`) with the prices and amounts it applied.
   */
  async createSalesOrder(order: SalesOrderInput, signal?: AbortSignal): Promise<BcSalesOrder> {
    return expectShape<BcSalesOrder>(SYSTEM, 'the created sales order', await this.request<unknown>('POST', `/salesOrders?${odataQuery({ $expand: 'salesOrderLines' })}`, {
      externalDocumentNumber: order.externalDocumentNumber,
      customerNumber: order.customerNumber,
      ...(order.orderDate ? { orderDate: order.orderDate } : {}),
      salesOrderLines: order.lines.map((line) => ({
        lineType: 'Item',
        lineObjectNumber: line.lineObjectNumber,
        quantity: line.quantity,
        unitPrice: line.unitPrice,
        ...(line.locationId ? { locationId: line.locationId } : {}),
      })),
    }, signal), SALES_ORDER);
  }

  /**
   * Creates the order unless one with the same reference exists: a crash between Business Central's create
   * and Crossdock's record of it, or a replay, finds the first order instead of making a second. Either way the
   * order comes with its totals and lines, from the one request each way makes.
   */
  async ensureSalesOrder(order: SalesOrderInput, signal?: AbortSignal): Promise<{ order: BcSalesOrder; created: boolean }> {
    const existing = await this.firstSalesOrder({ $filter: `externalDocumentNumber eq ${odataString(order.externalDocumentNumber)}`, $expand: 'salesOrderLines' }, signal);
    if (existing) return { order: existing, created: false };
    return { order: await this.createSalesOrder(order, signal), created: true };
  }

  async deleteSalesOrder(id: string, etag = '*', signal?: AbortSignal): Promise<void> {
    await this.request('DELETE', `/salesOrders(${id})`, undefined, signal, { 'if-match': etag });
  }

  /**
   * The orders whose externalDocumentNumber is one of `references`, with their lines (`$expand=salesOrderLines`),
   * `ITEMS_PER_QUERY` references a request joined by `or`, each page one request run by `run` (a governed call).
   */
  async salesOrdersWithReferences(references: readonly string[], run: RunRequest): Promise<BcSalesOrderWithLines[]> {
    const orders: BcSalesOrderWithLines[] = [];
    for (let i = 0; i < references.length; i += ITEMS_PER_QUERY) {
      const query = odataQuery({ $filter: anyOf('externalDocumentNumber', references.slice(i, i + ITEMS_PER_QUERY)), $expand: 'salesOrderLines' });
      for (const record of await this.everyPage(this.companyUrl(`/salesOrders?${query}`), 'a sales order', run, { ...SALES_ORDER, salesOrderLines: 'array' })) {
        const order = record as BcSalesOrderWithLines;
        for (const line of order.salesOrderLines) expectShape(SYSTEM, `a line of sales order ${order.number}`, line, ORDER_LINE_READ);
        orders.push(order);
      }
    }
    return orders;
  }

  /** Which of `references` posted shipments carry (copied from their orders), `ITEMS_PER_QUERY` a request, each page one request run by `run`. */
  async referencesShipped(references: readonly string[], run: RunRequest): Promise<Set<string>> {
    const shipped = new Set<string>();
    for (let i = 0; i < references.length; i += ITEMS_PER_QUERY) {
      const query = odataQuery({ $filter: anyOf('externalDocumentNumber', references.slice(i, i + ITEMS_PER_QUERY)), $select: 'externalDocumentNumber' });
      for (const record of await this.everyPage(this.companyUrl(`/salesShipments?${query}`), 'a sales shipment', run, { externalDocumentNumber: 'string?' })) {
        const reference = (record as { externalDocumentNumber?: string | null }).externalDocumentNumber;
        if (reference) shipped.add(reference);
      }
    }
    return shipped;
  }

  /** Every customer, each with its financial detail (the balance) in the same pages: one request a page. */
  async listCustomers(signal?: AbortSignal): Promise<{ value: BcCustomer[] }> {
    return { value: await this.allPages<BcCustomer>(this.companyUrl(`/customers?${odataQuery({ $expand: 'customerFinancialDetail' })}`), 'a customer', CUSTOMER, signal) };
  }

  /** The customer whose number is `number`, with its etag, if Business Central has one. */
  async findCustomer(number: string, signal?: AbortSignal): Promise<BcCustomerRecord | undefined> {
    const query = odataQuery({ $filter: `number eq ${odataString(number)}` });
    const found = expectShape<{ value: unknown[] }>(SYSTEM, 'a customers page', await this.request('GET', `/customers?${query}`, undefined, signal), { value: 'array' });
    return found.value.length === 0 ? undefined : expectShape<BcCustomerRecord>(SYSTEM, 'a customer', found.value[0], CUSTOMER_RECORD);
  }

  /** The customer of id `id` (Business Central's key), with its etag, if there is one; none for an id that is not a GUID. */
  async customerRecordById(id: string, signal?: AbortSignal): Promise<BcCustomerRecord | undefined> {
    if (!GUID.test(id)) return undefined;
    return absentOn404(async () => expectShape<BcCustomerRecord>(SYSTEM, 'a customer', await this.request('GET', `/customers(${id})`, undefined, signal), CUSTOMER_RECORD));
  }

  /**
   * Writes `changes` to the customer with the etag it was read with (`If-Match`): the customer as it is now, or
   * undefined when Business Central answers 412 (someone changed it since it was read).
   */
  async patchCustomer(id: string, etag: string, changes: Record<string, string>, signal?: AbortSignal): Promise<BcCustomerRecord | undefined> {
    try {
      return expectShape<BcCustomerRecord>(SYSTEM, 'the updated customer', await this.request('PATCH', `/customers(${id})`, changes, signal, { 'if-match': etag }), CUSTOMER_RECORD);
    } catch (error) {
      if (error instanceof TargetError && error.details.status === 412) return undefined;
      throw error;
    }
  }

  /** The customer whose id is `id`, with its financial detail (the balance), if Business Central has one. */
  async customerById(id: string, signal?: AbortSignal): Promise<BcCustomer | undefined> {
    const query = odataQuery({ $expand: 'customerFinancialDetail' });
    return absentOn404(async () => expectShape<BcCustomer>(SYSTEM, 'a customer', await this.request('GET', `/customers(${id})?${query}`, undefined, signal), CUSTOMER));
  }

  /**
   * Creates the customer numbered `number` with `properties`: the customer as created, or undefined when Business
   * Central answers 400 that one of that number already exists.
   */
  async createCustomer(number: string, properties: Record<string, string>, signal?: AbortSignal): Promise<BcCustomerRecord | undefined> {
    try {
      return expectShape<BcCustomerRecord>(SYSTEM, 'the created customer', await this.request('POST', '/customers', { number, ...properties }, signal), CUSTOMER_RECORD);
    } catch (error) {
      if (error instanceof TargetError && error.details.status === 400 && /already exists/i.test(error.message)) return undefined;
      throw error;
    }
  }

  /** Every payment terms' code, by its id in small letters. */
  async paymentTermsCodes(signal?: AbortSignal): Promise<Map<string, string>> {
    const terms = await this.allPages<{ id: string; code: string }>(this.companyUrl(`/paymentTerms?${odataQuery({ $select: 'id,code' })}`), 'payment term', { id: 'string', code: 'string' }, signal);
    return new Map(terms.map((t) => [t.id.toLowerCase(), t.code]));
  }

  /** The id of the payment terms whose code is `code`, if Business Central has them. */
  async findPaymentTermsId(code: string, signal?: AbortSignal): Promise<string | undefined> {
    const query = odataQuery({ $filter: `code eq ${odataString(code)}` });
    const found = expectShape<{ value: unknown[] }>(SYSTEM, 'a paymentTerms page', await this.request('GET', `/paymentTerms?${query}`, undefined, signal), { value: 'array' });
    return found.value.length === 0 ? undefined : expectShape<{ id: string }>(SYSTEM, 'payment terms', found.value[0], { id: 'string', code: 'string' }).id;
  }

  /**
   * Every item whose `lastModifiedDateTime` is after `since` (every item when `since` is undefined), over all
   * of Business Central's pages.
   */
  async itemsChangedSince(since: Date | undefined, signal?: AbortSignal): Promise<BcItem[]> {
    const query = odataQuery({ $select: 'id,number,lastModifiedDateTime,inventory', ...(since ? { $filter: `lastModifiedDateTime gt ${since.toISOString()}` } : {}) });
    const items = await this.allPages<BcItem>(this.companyUrl(`/items?${query}`), 'an item', { id: 'string', number: 'string', lastModifiedDateTime: 'string', inventory: 'number?' }, signal);
    return items.map(({ id, number, lastModifiedDateTime, inventory }) => ({ id, number, lastModifiedDateTime, inventory }));
  }

  /**
   * The numbers of the items that have item ledger entries written after `since`, each with the time of its
   * newest one: every posting that moves stock (receipt, shipment, adjustment, transfer) writes such an entry,
   * whether or not it touches the item record itself.
   */
  async itemsPostedSince(since: Date, signal?: AbortSignal): Promise<Map<string, string>> {
    const query = odataQuery({ $filter: `lastModifiedDateTime gt ${since.toISOString()}`, $select: 'itemNumber,lastModifiedDateTime' });
    const entries = await this.allPages<{ itemNumber: string; lastModifiedDateTime: string }>(this.companyUrl(`/itemLedgerEntries?${query}`), 'an item ledger entry', { itemNumber: 'string', lastModifiedDateTime: 'string' }, signal);
    const newest = new Map<string, string>();
    for (const entry of entries) {
      const seen = newest.get(entry.itemNumber);
      if (seen === undefined || Date.parse(entry.lastModifiedDateTime) > Date.parse(seen)) newest.set(entry.itemNumber, entry.lastModifiedDateTime);
    }
    return newest;
  }

  /**
   * On-hand per location of each item: the sum of `quantity` of its item ledger entries per `locationCode`,
   * which is how Business Central computes an item's inventory. The v2.0 `itemLedgerEntries` entity has no
   * location, so this reads the analytics API's, whose entries carry `locationCode`. Every item asked for is
   * in the answer, with no locations when it has no entries; a location absent from an item's map holds 0.
   */
  async inventoryByLocation(itemNumbers: string[], signal?: AbortSignal): Promise<InventoryByLocation> {
    const onHand: InventoryByLocation = new Map(itemNumbers.map((number) => [number, new Map()]));
    const numbers = [...onHand.keys()];
    for (let i = 0; i < numbers.length; i += ITEMS_PER_QUERY) {
      const batch = numbers.slice(i, i + ITEMS_PER_QUERY);
      const query = odataQuery({ $filter: anyOf('itemNo', batch), $select: 'itemNo,locationCode,quantity' });
      const entries = await this.allPages<{ itemNo: string; locationCode: string; quantity: number }>(this.analyticsUrl(`/itemLedgerEntries?${query}`), 'an item ledger entry', { itemNo: 'string', locationCode: 'string', quantity: 'number' }, signal);
      for (const entry of entries) {
        const locations = onHand.get(entry.itemNo);
        // Quantities are decimals of up to 5 places: keep binary fractions from showing in the sums.
        if (locations) locations.set(entry.locationCode, Math.round(((locations.get(entry.locationCode) ?? 0) + entry.quantity) * 1e5) / 1e5);
      }
    }
    return onHand;
  }

  /**
   * What the open sales orders hold of each item per location (location id; '' for none): quantity less what
   * is already shipped, over the orders not fully shipped. With the ledger's on-hand, it makes the figure
   * that includes every order Business Central has.
   */
  async openOrderQuantities(signal?: AbortSignal): Promise<{ quantities: Map<string, Map<string, number>>; newestChange: string | undefined }> {
    const query = odataQuery({ $filter: 'fullyShipped eq false', $expand: 'salesOrderLines' });
    const orders = await this.allPages<{ lastModifiedDateTime?: string; salesOrderLines?: Array<{ lineType: string; lineObjectNumber: string; locationId?: string | null; quantity: number; shippedQuantity?: number }> }>(
      this.companyUrl(`/salesOrders?${query}`), 'a sales order', { lastModifiedDateTime: 'string?', salesOrderLines: 'array?' }, signal,
    );
    const quantities = new Map<string, Map<string, number>>();
    let newestChange: string | undefined;
    for (const order of orders) {
      if (order.lastModifiedDateTime && (!newestChange || Date.parse(order.lastModifiedDateTime) > Date.parse(newestChange))) newestChange = order.lastModifiedDateTime;
      for (const line of order.salesOrderLines ?? []) {
        expectShape(SYSTEM, 'a sales order line', line, { lineType: 'string', lineObjectNumber: 'string?', quantity: 'number', shippedQuantity: 'number?', locationId: 'string?' });
        if (line.lineType !== 'Item') continue;
        const open = line.quantity - (line.shippedQuantity ?? 0);
        if (open <= 0) continue;
        const byLocation = quantities.get(line.lineObjectNumber) ?? new Map<string, number>();
        quantities.set(line.lineObjectNumber, byLocation);
        const location = line.locationId ?? '';
        byLocation.set(location, (byLocation.get(location) ?? 0) + open);
      }
    }
    return { quantities, newestChange };
  }

  /** Every item's unitPrice, as Business Central sent them (the caller checks each), each page one governed call. */
  async itemUnitPrices(call: GovernedCall): Promise<unknown[]> {
    return this.everyPage(this.companyUrl(`/items?${odataQuery({ $select: 'number,unitPrice' })}`), 'an item', call);
  }

  /** Every row of a custom API page (named as for shipmentTracking), as Business Central sent them, each page one governed call. */
  async customPageRows(page: string, call: GovernedCall): Promise<unknown[]> {
    return this.everyPage(this.customPageUrl(page), `a row of ${page}`, call);
  }

  async listLocations(signal?: AbortSignal): Promise<BcLocation[]> {
    const locations = await this.allPages<BcLocation>(this.companyUrl(`/locations?${odataQuery({ $select: 'id,code,displayName' })}`), 'a location', { id: 'string', code: 'string', displayName: 'string?' }, signal);
    return locations.map(({ id, code, displayName }) => ({ id, code, displayName }));
  }

  /** Creates a webhook subscription, at the API's root; Business Central's handshake with the notification URL comes before its answer. */
  async createSubscription(subscription: BcSubscriptionRequest, signal?: AbortSignal): Promise<BcSubscription> {
    return subscriptionOf(await this.request('POST', `${this.baseUrl}/subscriptions`, subscription, signal));
  }

  /** The subscription, if Business Central still has it (it drops one that expired). */
  async findSubscription(id: string, signal?: AbortSignal): Promise<BcSubscription | undefined> {
    return absentOn404(async () => subscriptionOf(await this.request('GET', this.subscriptionUrl(id), undefined, signal)));
  }

  /**
   * Renews the subscription (a PATCH with its etag; the handshake again, a new expiry): as it is now, or
   * undefined when Business Central no longer has it. A stale etag is Business Central's 412, thrown.
   */
  async renewSubscription(id: string, etag: string, subscription: BcSubscriptionRequest, signal?: AbortSignal): Promise<BcSubscription | undefined> {
    return absentOn404(async () => subscriptionOf(await this.request('PATCH', this.subscriptionUrl(id), subscription, signal, { 'if-match': etag })));
  }

  /** Deletes the subscription with its etag; nothing when Business Central no longer has it. A stale etag is Business Central's 412, thrown. */
  async deleteSubscription(id: string, etag: string, signal?: AbortSignal): Promise<void> {
    await absentOn404(() => this.request('DELETE', this.subscriptionUrl(id), undefined, signal, { 'if-match': etag }));
  }

  /** The first order of salesOrders read with `options` (a `$filter`, and `$expand` where asked), if any. */
  private async firstSalesOrder(options: Record<string, string>, signal?: AbortSignal): Promise<BcSalesOrder | undefined> {
    const found = expectShape<{ value: unknown[] }>(SYSTEM, 'a salesOrders page', await this.request('GET', `/salesOrders?${odataQuery(options)}`, undefined, signal), { value: 'array' });
    return found.value.length === 0 ? undefined : expectShape<BcSalesOrder>(SYSTEM, 'a sales order', found.value[0], SALES_ORDER);
  }

  /** A subscription's URL: its id is a string key, in single quotes. */
  private subscriptionUrl(id: string): string {
    return `${this.baseUrl}/subscriptions(${encodeURIComponent(odataString(id))})`;
  }


  private async salesShipments(query: string, signal?: AbortSignal): Promise<BcSalesShipment[]> {
    const shipments = await this.allPages<BcSalesShipment>(this.companyUrl(`/salesShipments?${query}`), 'a sales shipment', SALES_SHIPMENT, signal);
    for (const shipment of shipments) {
      if (Number.isNaN(Date.parse(shipment.lastModifiedDateTime))) throw new TargetError('retryable', `${SYSTEM} answered sales shipment ${shipment.number} with a lastModifiedDateTime that is not a time: ${excerpt(shipment.lastModifiedDateTime)}`);
      for (const line of shipment.salesShipmentLines ?? []) expectShape(SYSTEM, `a line of sales shipment ${shipment.number}`, line, SALES_SHIPMENT_LINE);
    }
    return shipments;
  }

  /** A custom API page's entity set: under this API's company, or under its own API route beside `/api/v2.0`. */
  private customPageUrl(page: string): string {
    const at = page.lastIndexOf('/');
    if (at < 0) return this.companyUrl(`/${page}`);
    // A setting every poll would fail on: wait for the configuration to be fixed rather than give up.
    if (!API_PATH.test(this.baseUrl)) throw new TargetError('retryable', `the custom page ${page} names an API route, and baseUrl does not end with /api/v2.0 to put it beside`);
    return `${this.baseUrl.replace(API_PATH, `/api/${page.slice(0, at)}`)}/companies(${this.config.companyId})/${page.slice(at + 1)}`;
  }

  /** A collection with every page Business Central splits it into, all on the caller's signal, each record of `shape`. */
  private async allPages<T>(url: string, what: string, shape: Shape, signal?: AbortSignal): Promise<T[]> {
    return (await this.everyPage(url, what, (work) => work(signal), shape)) as T[];
  }

  /**
   * A collection with every page, following `@odata.nextLink` to the last, each page's request run by `run`;
   * each record checked against `shape` as its page comes, when there is one, else left to the caller.
   */
  private async everyPage(url: string, what: string, run: RunRequest, shape?: Shape): Promise<unknown[]> {
    const all: unknown[] = [];
    for (let next: string | undefined = url; next !== undefined; ) {
      const at: string = next;
      const page: ODataPage<unknown> = expectShape<ODataPage<unknown>>(SYSTEM, `a page of ${what}s`, await run((signal) => this.request<unknown>('GET', at, undefined, signal)), { value: 'array', '@odata.nextLink': 'string?' });
      for (const record of page.value) all.push(shape ? expectShape(SYSTEM, what, record, shape) : record);
      const link = page['@odata.nextLink'];
      next = link === undefined ? undefined : new URL(link, url).href;
      // The access token goes only where the API is.
      if (next !== undefined && new URL(next).origin !== new URL(url).origin) {
        throw new TargetError('retryable', `Business Central sent a next link to another host: ${new URL(next).origin}`);
      }
    }
    return all;
  }

  private companyUrl(path: string): string {
    return `${this.baseUrl}/companies(${this.config.companyId})${path}`;
  }

  private analyticsUrl(path: string): string {
    // A setting every request would fail on: wait for the configuration to be fixed rather than give up.
    if (!this.analyticsBaseUrl) throw new TargetError('retryable', 'analyticsBaseUrl is not set and cannot be derived from baseUrl');
    return `${this.analyticsBaseUrl}/companies(${this.config.companyId})${path}`;
  }

  /** One call to the API: `target` is a path under the company (`/salesOrders`) or a whole URL (a next link). */
  private async request<T>(method: string, target: string, body?: unknown, signal?: AbortSignal, headers: Record<string, string> = {}): Promise<T> {
    const url = /^https?:\/\//.test(target) ? target : this.companyUrl(target);
    for (let renewed = false; ; renewed = true) {
      const token = await this.accessToken(renewed, signal);
      const response = await httpCall(url, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      const text = response.text;
      if (response.status === 401 && !renewed) continue;
      const failure = classifyHttpStatus(response.status, text, response.header('retry-after'));
      if (failure) {
        // A 401 even with a fresh token is not the message's fault: the credentials or the service are.
        const failureClass = response.status === 401 ? 'retryable' : failure.class;
        throw new TargetError(failureClass, `Business Central answered ${response.status}: ${odataMessage(text) ?? failure.message}`, {
          status: response.status,
          bodyExcerpt: excerpt(text),
          retryAfterMs: failure.retryAfterMs,
        });
      }
      return (text ? parseJsonAnswer(SYSTEM, response.status, text) : undefined) as T;
    }
  }

  private async accessToken(renew: boolean, signal?: AbortSignal): Promise<string> {
    if (!renew && this.token && this.token.expiresAt - TOKEN_MARGIN_MS > this.now()) return this.token.value;
    const response = await httpCall(this.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: this.config.clientId, client_secret: this.config.clientSecret, scope: SCOPE }).toString(),
      signal,
    });
    const text = response.text;
    if (response.status < 200 || response.status >= 300) {
      const failure = classifyHttpStatus(response.status, text, response.header('retry-after'));
      // Wrong credentials are a configuration problem that every message would hit: wait for a fix, do not dead-letter.
      throw new TargetError(failure?.class === 'throttled' ? 'throttled' : 'retryable', `token endpoint answered ${response.status}`, { status: response.status, bodyExcerpt: excerpt(text) });
    }
    const body = expectShape<{ access_token: string; expires_in: number }>(SYSTEM, 'the token', parseJsonAnswer(`${SYSTEM}'s token endpoint`, response.status, text), { access_token: 'string', expires_in: 'number' });
    this.token = { value: body.access_token, expiresAt: this.now() + body.expires_in * 1000 };
    return this.token.value;
  }
}

/** A subscription Business Central answered, checked: its expiry a time. */
function subscriptionOf(answer: unknown): BcSubscription {
  const subscription = expectShape<BcSubscription>(SYSTEM, 'a subscription', answer, SUBSCRIPTION);
  if (Number.isNaN(Date.parse(subscription.expirationDateTime))) {
    throw new TargetError('retryable', `${SYSTEM} answered subscription ${subscription.subscriptionId} with an expirationDateTime that is not a time: ${excerpt(subscription.expirationDateTime)}`);
  }
  return subscription;
}

/** OData system query options, each value percent-encoded (spaces as %20, never `+`). */
function odataQuery(options: Record<string, string>): string {
  return Object.entries(options).map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
}

/** A `$filter` that holds when `field` is any of `values`: `field eq 'a' or field eq 'b'`. */
function anyOf(field: string, values: readonly string[]): string {
  return values.map((value) => `${field} eq ${odataString(value)}`).join(' or ');
}

/** A string literal for an OData `$filter`: quoted, with quotes doubled. */
function odataString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The message of an OData error body, `{"error": {"code", "message"}}`. */
export function odataMessage(text: string): string | undefined {
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' ? message.replace(/\s+CorrelationId:.*$/s, '').trim() : undefined;
  } catch {
    return undefined;
  }
}
