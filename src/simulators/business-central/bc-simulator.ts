import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { parseJsonBodies, standaloneServer } from '../standalone.js';

/**
 * A Dynamics 365 Business Central API v2.0 look-alike for the demo, the tests and the benchmarks: the OAuth2
 * token endpoint, customers (found by `$filter`, PATCHed with their etag: 412 when it is stale, created, deleted),
 * webhook subscriptions to customers (the handshake, expiry and renewal, notifications in batches, a
 * `collection` past a threshold: see customerChanged), paymentTerms, items, locations, itemLedgerEntries,
 * salesOrders (with lines, deep insert, DELETE, a line's `shipQuantity` patched with its etag, and the bound
 * action `Microsoft.NAV.shipAndInvoice`; each line priced, taxed and summed into the order's totals as Business
 * Central does: see toLine and touch), the posted salesShipments with their salesShipmentLines, the analytics
 * API's itemLedgerEntries (the ones that carry a location), and, when set, custom API pages of shipment tracking
 * and of prices (the Price List Lines, which API v2.0 leaves out). Collections take `$filter` (comparisons, `or`
 * over one field, `and`), `$select`, `$expand` of lines, and are split into pages joined by `@odata.nextLink`
 * with a `$skiptoken`. It behaves like the real service where it matters to an integration: latency, 429 with
 * Retry-After past a rate limit, 5 requests processed at once, 503 in maintenance, OData validation errors,
 * tokens that expire. A control API under `/_control` lets tests change all of that, post stock, ship orders as
 * a user of Business Central would, lose the answer of a posting, set prices, change or delete a customer behind
 * the client's back (between its read and its PATCH too), make a subscription expire, and read what was created
 * and the notifications sent. It runs on its own (`listen`, `npm run sim:bc`) or mounted in another Fastify
 * instance under a prefix (`plugin`, the demo).
 */
export interface BusinessCentralSimulatorOptions {
  latencyMs?: [number, number];
  /** Requests per second before 429 (the real limit is 6,000 per 5 minutes per user). */
  ratePerSecond?: number;
  /** Requests processed at once before 429 (the real service: 5). */
  concurrency?: number;
  tokenLifetimeSeconds?: number;
  clientId?: string;
  clientSecret?: string;
  /** Requests kept in `state.requests`, the oldest dropped first (all of them unless set). */
  keepRequests?: number;
  /** Entities per page of a collection before `@odata.nextLink` (the real service: 20,000). */
  pageSize?: number;
  /** The company's data in place of the seed (defaultSimulatorData), e.g. thousands of customers for a benchmark. */
  data?: Partial<ReturnType<typeof defaultSimulatorData>>;
  /**
   * A custom API page of the posted shipments' tracking (`number`, `packageTrackingNo`, `shippingAgentCode`), as a
   * company publishes one: its entity set under the company of API v2.0 (`salesShipmentTracking`), or under an API
   * route of its own (`contoso/shipping/v1.0/salesShipmentTracking`). None unless set, as in a plain company.
   */
  shipmentTrackingPage?: string;
  /** A custom bound action of salesOrders that ships without invoicing (`ship`), as a company may publish; none unless set. */
  shipAction?: string;
  /**
   * A custom API page of the Price List Lines (see SimPriceListLine), named as `shipmentTrackingPage` is
   * (`customerPrices`, or `contoso/pricing/v1.0/customerPrices`). None unless set, as in a plain company.
   */
  customerPricesApi?: string;
  /** How long a webhook subscription lasts from its creation or last renewal (Business Central: 3 days). */
  subscriptionLifetimeSeconds?: number;
  /**
   * How long changes are gathered before they are sent, one batch per notification URL (Business Central waits
   * about 30 seconds; the simulator 100 ms unless set).
   */
  notificationDelayMs?: number;
  /** More records of a subscription changed in one batch than this: one `collection` notification instead (Business Central: 1000). */
  collectionThreshold?: number;
  /** How long the notification URL has to answer a handshake or a notification (Business Central: 5 seconds). */
  receiverTimeoutMs?: number;
  /**
   * The sales tax rate of every order line, in percent (8.25 unless set): a line's tax is its amount times the rate,
   * rounded to the cent, as Business Central computes a line's tax from its tax area and group.
   */
  taxRatePercent?: number;
}

/**
 * A customer as API v2.0's entity shows it (its one address, the customer's own), with the balance its financial
 * detail shows; `etag` is its `@odata.etag`, new at every change, as Business Central's record version is.
 */
/** The address and contact fields customers and locations share. */
export interface SimContact {
  addressLine1: string;
  addressLine2: string;
  city: string;
  state: string;
  /** Code[10]: Business Central stores codes in capitals. */
  country: string;
  /** Code[20]. */
  postalCode: string;
  phoneNumber: string;
  email: string;
  website: string;
}

export interface SimCustomer extends SimContact {
  id: string;
  number: string;
  displayName: string;
  blocked: ' ' | 'Ship' | 'Invoice' | 'All';
  creditLimit: number;
  balanceDue: number;
  taxRegistrationNumber: string;
  /** A paymentTerms id, or the blank GUID for none. */
  paymentTermsId: string;
  lastModifiedDateTime: string;
  etag: string;
}

/** A customer of the seed or of `data`: what is not given is blank. */
export type SimCustomerSeed = Pick<SimCustomer, 'id' | 'number' | 'displayName' | 'blocked' | 'creditLimit' | 'balanceDue'> & Partial<SimCustomer>;

/** API v2.0's paymentTerms entity: what a customer's paymentTermsId names. */
export interface SimPaymentTerms {
  id: string;
  code: string;
  displayName: string;
  dueDateCalculation: string;
  discountDateCalculation: string;
  discountPercent: number;
  calculateDiscountOnCreditMemos: boolean;
  lastModifiedDateTime: string;
}

export interface SimItem {
  id: string;
  number: string;
  displayName: string;
  unitPrice: number;
  /** On-hand over all locations: the sum of the item's ledger entries, as Business Central's flow field. */
  inventory: number;
  lastModifiedDateTime: string;
}

/**
 * A Price List Line as a company's custom API page shows it: a list's price of an item, a customer's when
 * `customerNo` is set, in `currencyCode` (blank: the local currency), from `minimumQuantity` up, from
 * `startingDate` to `endingDate` included (blank dates are 0001-01-01).
 */
export interface SimPriceListLine {
  id: string;
  lineNo: number;
  priceListCode: string;
  itemNo: string;
  customerNo: string;
  currencyCode: string;
  unitPrice: number;
  minimumQuantity: number;
  startingDate: string;
  endingDate: string;
}

export interface SimLocation extends SimContact {
  id: string;
  code: string;
  displayName: string;
  contact: string;
  lastModifiedDateTime: string;
}

/** Enum values as the API spells them: `Positive Adjmt.` is `Positive_x0020_Adjmt_x002E_`. */
export type SimEntryType = 'Positive_x0020_Adjmt_x002E_' | 'Negative_x0020_Adjmt_x002E_' | 'Sale';

export interface SimItemLedgerEntry {
  id: string;
  entryNumber: number;
  itemNumber: string;
  /** Not in the v2.0 entity; the analytics API's entity has it. Blank is Business Central's blank location. */
  locationCode: string;
  postingDate: string;
  entryType: SimEntryType;
  sourceNumber: string;
  sourceType: '_x0020_' | 'Customer';
  documentNumber: string;
  documentType: '_x0020_' | 'Sales_x0020_Shipment';
  description: string;
  quantity: number;
  salesAmountActual: number;
  costAmountActual: number;
  lastModifiedDateTime: string;
}

export interface SimSalesOrderLine {
  id: string;
  documentId: string;
  sequence: number;
  lineType: 'Item';
  lineObjectNumber: string;
  description: string;
  quantity: number;
  unitPrice: number;
  /** quantity × unitPrice, rounded to the cent (no line discount is modelled); then its tax at taxPercent, rounded to the cent. */
  amountExcludingTax: number;
  taxPercent: number;
  totalTaxAmount: number;
  amountIncludingTax: number;
  locationId?: string;
  /** Business Central's "Qty. to Ship": the remainder unless set, and the remainder again after each posting. */
  shipQuantity: number;
  /** Business Central's shippedQuantity: posted by a shipment. */
  shippedQuantity: number;
  invoicedQuantity: number;
  etag: string;
}

export interface SimSalesShipmentLine {
  id: string;
  documentId: string;
  documentNo: string;
  sequence: number;
  lineType: 'Item';
  lineObjectNumber: string;
  description: string;
  unitOfMeasureCode: string;
  unitPrice: number;
  quantity: number;
  discountPercent: number;
  taxPercent: number;
  shipmentDate: string;
  /** Not in the v2.0 entity (the table has it): where the quantity left from, for the ledger. */
  locationCode: string;
}

/** A posted sales shipment. Package tracking and shipping agent are the table's, not API v2.0's: the custom page shows them. */
export interface SimSalesShipment {
  id: string;
  number: string;
  externalDocumentNumber: string;
  orderNumber: string;
  customerId: string;
  customerNumber: string;
  customerName: string;
  postingDate: string;
  lastModifiedDateTime: string;
  packageTrackingNo: string;
  shippingAgentCode: string;
  salesShipmentLines: SimSalesShipmentLine[];
}

export interface SimSalesOrder {
  id: string;
  number: string;
  externalDocumentNumber: string;
  orderDate: string;
  customerNumber: string;
  customerId: string;
  status: 'Draft' | 'Open';
  /** BC's fullyShipped: a shipped order can no longer be deleted. */
  fullyShipped: boolean;
  /** The company's local currency, named as API v2.0 names it: the simulator's customers have no currency of their own. */
  currencyCode: string;
  /** The sums of the lines' amounts and taxes (no invoice discount is modelled). */
  totalAmountExcludingTax: number;
  totalTaxAmount: number;
  totalAmountIncludingTax: number;
  lastModifiedDateTime: string;
  etag: string;
  salesOrderLines: SimSalesOrderLine[];
}

/**
 * A webhook subscription (API v2.0's `subscriptions`, at the API's root, not under a company): to a company's
 * customers, the one entity set the simulator notifies changes of. Gone from the API once expired.
 */
export interface SimSubscription {
  subscriptionId: string;
  notificationUrl: string;
  /** As the subscriber gave it. */
  resource: string;
  /** The company the resource names: its notifications name records under it. */
  companyId: string;
  clientState: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  createdAt: string;
  lastModifiedDateTime: string;
  etag: string;
}

export type SimChangeType = 'created' | 'updated' | 'deleted' | 'collection';

/** One notification as Business Central sends it, in a batch `{"value": [...]}`. */
export interface SimChangeNotice {
  subscriptionId: string;
  clientState: string;
  expirationDateTime: string;
  /** A record (`api/v2.0/companies(...)/customers(...)`), or for `collection` the entity set with a `$filter`. */
  resource: string;
  changeType: SimChangeType;
  lastModifiedDateTime: string;
}

/** A POST to a notification URL, a batch or a handshake, and how the receiver answered (status 0: it did not). */
export interface SimWebhookCall {
  at: string;
  url: string;
  /** The batch; none for a handshake. */
  body?: { value: SimChangeNotice[] };
  status: number;
  /** The start of the receiver's answer. */
  answer?: string;
  /** Why the call failed, or why a handshake did not pass. */
  problem?: string;
}

/** A customer's change waiting for its batch: the latest kind of change, and when. */
interface PendingChange {
  changeType: Exclude<SimChangeType, 'collection'>;
  at: string;
}

interface State {
  customers: Map<string, SimCustomer>;
  /** By code. */
  paymentTerms: Map<string, SimPaymentTerms>;
  items: Map<string, SimItem>;
  locations: Map<string, SimLocation>;
  /** Item ledger entries in the order they were posted. */
  ledger: SimItemLedgerEntry[];
  orders: Map<string, SimSalesOrder>;
  /** Posted sales shipments by id, in the order they were posted. */
  shipments: Map<string, SimSalesShipment>;
  priceListLines: Map<number, SimPriceListLine>;
  tokens: Map<string, number>;
  maintenance: boolean;
  nextOrderNumber: number;
  nextShipmentNumber: number;
  /** The last time stamp given out, so that every change is later than the one before. */
  lastStamp: number;
  /** Every request, for tests that count the rate at the ERP and read what was sent (the body of a POST or PATCH, the If-Match of a PATCH or DELETE). */
  requests: Array<{ at: number; method: string; path: string; status: number; body?: unknown; ifMatch?: string }>;
  inFlight: number;
  windowStart: number;
  windowCount: number;
  /** The next this-many requests are answered 429, once `throttleAfter` more have passed. */
  throttleNext: number;
  throttleAfter: number;
  /** The next this-many posting actions are applied, and their answers lost (the connection drops). */
  loseNextActions: number;
  /** Per customer number: the changes another user makes just before each of the next PATCHes of that customer arrives. */
  editsBeforePatch: Map<string, Array<Partial<SimCustomer>>>;
  /** The next this-many PATCHes of a customer answer 412 as if the record had changed, without changing it. */
  staleNextPatches: number;
  /** Per customer number: the customer another user creates just before the next POST of that number arrives. */
  createsBeforePost: Map<string, Partial<SimCustomer>>;
  /** The next number of the customers' number series, for a POST without one. */
  nextCustomerNumber: number;
  /** By subscriptionId, expired ones too (for the control API). */
  subscriptions: Map<string, SimSubscription>;
  /** The changes of the batch each notification URL is to be sent: per subscription, per customer id. */
  pendingChanges: Map<string, Map<string, Map<string, PendingChange>>>;
  /** The batches sent, and the handshakes made, oldest first, with their answers. */
  notifications: SimWebhookCall[];
  handshakes: SimWebhookCall[];
  /** The timers of the batches waiting, and the signal that ends the calls to receivers: both stop at close. */
  batchTimers: Set<NodeJS.Timeout>;
  closing: AbortController;
}

const ODATA = 'application/json; odata.metadata=minimal';
/** The company's local currency, which API v2.0 names where a record's own currency code is blank. */
const LOCAL_CURRENCY = 'USD';
/** Business Central writes a blank date as the first day of year 1. */
const BLANK_DATE = '0001-01-01';

/** Locations with fixed ids, so that a configuration can name them. */
const SEED_LOCATIONS: Array<[code: string, id: string, displayName: string]> = [
  ['EAST', '5e1d0c3a-0000-4000-8000-00000000ea57', 'East Warehouse'],
  ['WEST', '5e1d0c3a-0000-4000-8000-00000000e057', 'West Warehouse'],
  ['CENTRAL', '5e1d0c3a-0000-4000-8000-0000000ce472', 'Central Warehouse'],
];

/** Payment terms with fixed ids, so that a test can name them: code, id, display name, due date formula. */
const SEED_PAYMENT_TERMS: Array<[code: string, id: string, displayName: string, dueDateCalculation: string]> = [
  ['14 DAYS', '7a5f2c10-0000-4000-8000-000000000014', 'Net 14 days', '14D'],
  ['30 DAYS', '7a5f2c10-0000-4000-8000-000000000030', 'Net 30 days', '30D'],
  ['CM', '7a5f2c10-0000-4000-8000-0000000000c3', 'Current Month', 'CM'],
];

export function defaultSimulatorData() {
  const paymentTerms = SEED_PAYMENT_TERMS.map(([code, id, displayName, dueDateCalculation]) => ({ id, code, displayName, dueDateCalculation }));
  const thirtyDays = paymentTerms[1]!.id;
  // Adatum with the address, email and terms of Microsoft's documented customer (api-reference/v2.0 dynamics_customer_get).
  const customers: SimCustomerSeed[] = [
    {
      id: randomUUID(), number: '10000', displayName: 'Adatum Corporation', blocked: ' ', creditLimit: 100_000, balanceDue: 1_200,
      addressLine1: '192 Market Square', city: 'Atlanta', state: 'GA', country: 'US', postalCode: '31772', email: 'robert.townes@contoso.com', paymentTermsId: thirtyDays,
    },
    { id: randomUUID(), number: '20000', displayName: 'Trey Research', blocked: ' ', creditLimit: 5_000, balanceDue: 4_900, addressLine1: '153 Thomas Drive', city: 'Chicago', state: 'IL', country: 'US', postalCode: '61236', paymentTermsId: thirtyDays },
    { id: randomUUID(), number: '30000', displayName: 'School of Fine Art', blocked: 'All', creditLimit: 0, balanceDue: 0 },
    { id: randomUUID(), number: '40000', displayName: 'Alpine Ski House', blocked: ' ', creditLimit: 0, balanceDue: 0 },
  ];
  const itemNumbers = ['1896-S', '1900-S', '1906-S', '1908-S', '1920-S', '1928-S', '1936-S', '1953-W', '1964-W', '1968-S'];
  const items = itemNumbers.map((number, i) => ({ id: randomUUID(), number, displayName: `Item ${number}`, unitPrice: 100 + i * 25 }));
  const locations = SEED_LOCATIONS.map(([code, id, displayName]) => ({ id, code, displayName }));
  // Wholesale's price of 1896-S for everyone; Adatum's own over the current year (UTC), less from 10 units; 1900-S in euros.
  const year = new Date().getUTCFullYear();
  const thisYear = { startingDate: `${year}-01-01`, endingDate: `${year}-12-31` };
  const priceListLines = [
    priceListLine(10000, { priceListCode: 'S00001', itemNo: '1896-S', unitPrice: 95 }),
    priceListLine(20000, { priceListCode: 'S00002', itemNo: '1896-S', customerNo: '10000', unitPrice: 90, ...thisYear }),
    priceListLine(30000, { priceListCode: 'S00002', itemNo: '1896-S', customerNo: '10000', unitPrice: 85, minimumQuantity: 10, ...thisYear }),
    priceListLine(40000, { priceListCode: 'S00003', itemNo: '1900-S', currencyCode: 'EUR', unitPrice: 110 }),
  ];
  // Opening stock, posted as positive adjustments when the simulator starts.
  const openingStock = itemNumbers.flatMap((itemNumber, i) => [
    { itemNumber, locationCode: 'EAST', quantity: 40 + 2 * i },
    { itemNumber, locationCode: 'WEST', quantity: 20 + i },
    { itemNumber, locationCode: 'CENTRAL', quantity: 10 },
  ]);
  return { customers, items, locations, openingStock, priceListLines, paymentTerms };
}

export function createBusinessCentralSimulator(options: BusinessCentralSimulatorOptions = {}) {
  const settings = {
    latencyMs: options.latencyMs ?? [0, 0],
    ratePerSecond: options.ratePerSecond ?? 20,
    concurrency: options.concurrency ?? 5,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3599,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    keepRequests: options.keepRequests ?? Number.POSITIVE_INFINITY,
    pageSize: options.pageSize ?? 100,
    shipmentTrackingPage: options.shipmentTrackingPage,
    shipAction: options.shipAction,
    customerPricesApi: options.customerPricesApi,
    subscriptionLifetimeSeconds: options.subscriptionLifetimeSeconds ?? 3 * 24 * 3600,
    notificationDelayMs: options.notificationDelayMs ?? 100,
    collectionThreshold: options.collectionThreshold ?? 1000,
    receiverTimeoutMs: options.receiverTimeoutMs ?? 5000,
    taxRatePercent: options.taxRatePercent ?? 8.25,
  };
  const data = { ...defaultSimulatorData(), ...options.data };
  const state: State = {
    customers: new Map(),
    paymentTerms: new Map(),
    items: new Map(),
    locations: new Map(),
    ledger: [],
    orders: new Map(),
    shipments: new Map(),
    priceListLines: new Map(data.priceListLines.map((line) => [line.lineNo, { ...line }])),
    tokens: new Map(),
    maintenance: false,
    nextOrderNumber: 101001,
    nextShipmentNumber: 102001,
    lastStamp: 0,
    requests: [],
    inFlight: 0,
    windowStart: Date.now(),
    windowCount: 0,
    throttleNext: 0,
    throttleAfter: 0,
    loseNextActions: 0,
    editsBeforePatch: new Map(),
    staleNextPatches: 0,
    createsBeforePost: new Map(),
    nextCustomerNumber: 1,
    subscriptions: new Map(),
    pendingChanges: new Map(),
    notifications: [],
    handshakes: [],
    batchTimers: new Set(),
    closing: new AbortController(),
  };
  const started = stamp(state);
  for (const customer of data.customers) state.customers.set(customer.number, newCustomer(customer, started));
  for (const terms of data.paymentTerms) state.paymentTerms.set(terms.code, { discountDateCalculation: '', discountPercent: 0, calculateDiscountOnCreditMemos: false, ...terms, lastModifiedDateTime: started });
  for (const item of data.items) state.items.set(item.number, { ...item, inventory: 0, lastModifiedDateTime: started });
  for (const location of data.locations) state.locations.set(location.code, newLocation(location, started));
  for (const opening of data.openingStock) postAdjustment(state, opening.itemNumber, opening.locationCode, opening.quantity, 'START');

  /** The simulator's routes, for any Fastify instance: at its root (`listen`), or under a prefix of a host's. */
  const plugin: FastifyPluginAsync = async (instance) => {
    // Its own parsers and errors, so that it answers alike whatever the host has set up.
    parseJsonBodies(instance);
    instance.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
    instance.setErrorHandler((error: FastifyError, _request, reply) => {
      const status = error.statusCode ?? 500;
      return reply.status(status).headers({ 'content-type': ODATA }).send(JSON.stringify(odataError(status >= 500 ? 'Internal_ServerError' : 'BadRequest', error.message)));
    });

    instance.post('/oauth2/v2.0/token', async (request, reply) => {
      const form = (request.body ?? {}) as Record<string, string>;
      if (form.grant_type !== 'client_credentials' || !form.client_id || !form.client_secret) {
        return reply.status(400).send({ error: 'invalid_request', error_description: 'AADSTS900144: The request body must contain grant_type, client_id and client_secret.' });
      }
      if ((settings.clientId && form.client_id !== settings.clientId) || (settings.clientSecret && form.client_secret !== settings.clientSecret)) {
        return reply.status(401).send({ error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
      }
      const token = randomUUID();
      state.tokens.set(token, Date.now() + settings.tokenLifetimeSeconds * 1000);
      return { token_type: 'Bearer', expires_in: settings.tokenLifetimeSeconds, ext_expires_in: settings.tokenLifetimeSeconds, access_token: token };
    });

    // Control API for tests and the demo: not part of Business Central.
    instance.get('/_control/state', async () => ({
      maintenance: state.maintenance, orders: [...state.orders.values()], shipments: [...state.shipments.values()], ledgerEntries: state.ledger.length, requests: state.requests.length,
    }));
    instance.get('/_control/requests', async () => state.requests);
    instance.get('/_control/customers/:number', async (request, reply) => {
      const customer = state.customers.get((request.params as { number: string }).number);
      return customer ?? reply.status(404).send({ error: 'no such customer' });
    });
    instance.post('/_control/maintenance', async (request) => {
      state.maintenance = Boolean((request.body as { on?: boolean } | undefined)?.on);
      return { maintenance: state.maintenance };
    });
    instance.post('/_control/throttle', async (request) => {
      const body = request.body as { next?: number; after?: number } | undefined;
      state.throttleNext = Number(body?.next ?? 1);
      state.throttleAfter = Number(body?.after ?? 0);
      return { throttleNext: state.throttleNext, throttleAfter: state.throttleAfter };
    });
    instance.post('/_control/expire-tokens', async () => {
      state.tokens.clear();
      return { expired: true };
    });
    // An item as given; `inventory` is reached by an adjustment at the blank location, as Business Central's
    // items API does when it is patched, and `lastModifiedDateTime`, when given, is kept as given.
    instance.put('/_control/items/:number', async (request) => {
      const number = (request.params as { number: string }).number;
      const { inventory, lastModifiedDateTime, ...fields } = (request.body ?? {}) as Partial<SimItem>;
      const existing = state.items.get(number);
      const item: SimItem = { id: randomUUID(), displayName: number, unitPrice: 0, inventory: 0, ...existing, ...fields, number, lastModifiedDateTime: stamp(state) };
      state.items.set(number, item);
      if (typeof inventory === 'number' && inventory !== item.inventory) postAdjustment(state, number, '', inventory - item.inventory, number);
      if (lastModifiedDateTime) item.lastModifiedDateTime = lastModifiedDateTime;
      return item;
    });
    instance.put('/_control/locations/:code', async (request) => {
      const code = (request.params as { code: string }).code;
      const location = newLocation({ ...state.locations.get(code), ...(request.body as Partial<SimLocation>), code }, stamp(state));
      state.locations.set(code, location);
      return location;
    });
    // A stock adjustment: an item ledger entry of `quantity` (negative to take stock out) at `locationCode`.
    instance.post('/_control/stock', async (request, reply) => {
      const { itemNumber, locationCode = '', quantity } = (request.body ?? {}) as { itemNumber?: string; locationCode?: string; quantity?: number };
      if (!itemNumber || !state.items.has(itemNumber)) return reply.status(404).send({ error: `no item ${itemNumber}` });
      if (locationCode !== '' && !state.locations.has(locationCode)) return reply.status(400).send({ error: `no location ${locationCode}` });
      if (typeof quantity !== 'number' || !Number.isFinite(quantity) || quantity === 0) return reply.status(400).send({ error: 'quantity must be a number other than 0' });
      return postAdjustment(state, itemNumber, locationCode, quantity, 'ADJ');
    });
    // Ships the order as a user of Business Central posts "Ship": what every line has left, or the quantities
    // given per item (`lines`), with a package tracking number and shipping agent when given. A posted sales
    // shipment, its item ledger entries (a sale taking the quantity out of the line's location) and the lines'
    // shippedQuantity, without invoicing. Creating the order posts nothing; shipping it twice posts once.
    instance.post('/_control/orders/:id/ship', async (request, reply) => {
      const order = state.orders.get((request.params as { id: string }).id);
      if (!order) return reply.status(404).send({ error: 'no such order' });
      const body = (request.body ?? {}) as { lines?: Array<{ lineObjectNumber?: string; quantity?: number }>; packageTrackingNo?: string; shippingAgentCode?: string };
      const quantities = new Map(order.salesOrderLines.map((line) => [line.id, round(line.quantity - line.shippedQuantity)]));
      if (body.lines) {
        for (const line of order.salesOrderLines) quantities.set(line.id, 0);
        for (const wanted of body.lines) {
          let left = Number(wanted.quantity ?? 0);
          for (const line of order.salesOrderLines.filter((l) => l.lineObjectNumber === wanted.lineObjectNumber)) {
            const take = Math.min(left, round(line.quantity - line.shippedQuantity - quantities.get(line.id)!));
            quantities.set(line.id, round(quantities.get(line.id)! + take));
            left = round(left - take);
          }
          if (left > 0) return reply.status(400).send({ error: `order ${order.number} has not ${wanted.quantity} of ${wanted.lineObjectNumber} left to ship` });
        }
      }
      const shipment = [...quantities.values()].some((q) => q > 0)
        ? postSalesShipment(state, order, quantities, { invoice: false, packageTrackingNo: body.packageTrackingNo, shippingAgentCode: body.shippingAgentCode })
        : undefined;
      if (typeof shipment === 'string') return reply.status(400).send({ error: shipment });
      return { ...order, salesShipment: shipment ?? null };
    });
    // Package tracking filled in on a posted shipment afterwards ("Update Document"): the shipment changes.
    instance.patch('/_control/shipments/:number', async (request, reply) => {
      const shipment = [...state.shipments.values()].find((s) => s.number === (request.params as { number: string }).number);
      if (!shipment) return reply.status(404).send({ error: 'no such shipment' });
      const body = (request.body ?? {}) as { packageTrackingNo?: string; shippingAgentCode?: string };
      Object.assign(shipment, pick(body, ['packageTrackingNo', 'shippingAgentCode']), { lastModifiedDateTime: stamp(state) });
      return shipment;
    });
    // The next `count` posting actions are applied and their answers never arrive, as a gateway's timeout would drop them.
    instance.post('/_control/lose-next-action', async (request) => {
      state.loseNextActions = Number((request.body as { count?: number } | undefined)?.count ?? 1);
      return { loseNextActions: state.loseNextActions };
    });
    // A price list line as given, made or changed (fields as the custom prices page shows them, taken as sent).
    instance.put('/_control/price-list-lines/:lineNo', async (request, reply) => {
      const lineNo = Number((request.params as { lineNo: string }).lineNo);
      if (!Number.isInteger(lineNo) || lineNo < 1) return reply.status(400).send({ error: 'a line number is a whole number of 1 or more' });
      const line = { ...(state.priceListLines.get(lineNo) ?? priceListLine(lineNo, {})), ...(request.body as Partial<SimPriceListLine>), lineNo };
      state.priceListLines.set(lineNo, line);
      return line;
    });
    instance.delete('/_control/price-list-lines/:lineNo', async (request) => ({ deleted: state.priceListLines.delete(Number((request.params as { lineNo: string }).lineNo)) }));
    // A customer made or changed as a user of Business Central would: a change, so a new etag and lastModifiedDateTime.
    instance.put('/_control/customers/:number', async (request) => {
      const number = (request.params as { number: string }).number;
      const { etag: _e, lastModifiedDateTime: _l, ...body } = (request.body ?? {}) as Partial<SimCustomer>;
      const existing = state.customers.get(number);
      const customer = newCustomer({ id: randomUUID(), displayName: number, blocked: ' ', creditLimit: 0, balanceDue: 0, ...existing, ...body, number }, stamp(state));
      state.customers.set(number, customer);
      customerChanged(state, settings, customer.id, existing ? 'updated' : 'created', customer.lastModifiedDateTime);
      return customer;
    });
    // A customer deleted as a user of Business Central would.
    instance.delete('/_control/customers/:number', async (request, reply) => {
      const customer = state.customers.get((request.params as { number: string }).number);
      if (!customer) return reply.status(404).send({ error: 'no such customer' });
      deleteCustomer(state, settings, customer);
      return { deleted: true };
    });
    // Every webhook subscription, the expired ones too, with when each expires.
    instance.get('/_control/subscriptions', async () => [...state.subscriptions.values()].map((s) => ({ ...subscriptionView(s), expired: s.expiresAt <= Date.now() })));
    // The subscription expires now: no more notifications, and the API no longer has it.
    instance.post('/_control/subscriptions/:id/expire', async (request, reply) => {
      const subscription = state.subscriptions.get((request.params as { id: string }).id);
      if (!subscription) return reply.status(404).send({ error: 'no such subscription' });
      subscription.expiresAt = Math.min(subscription.expiresAt, Date.now());
      return { ...subscriptionView(subscription), expired: true };
    });
    // The batches of notifications sent and the handshakes made, each with the receiver's answer.
    instance.get('/_control/notifications', async () => state.notifications);
    instance.get('/_control/handshakes', async () => state.handshakes);
    // Another user changes the customer (`fields`) just before each of the next `count` PATCHes of it arrives: those
    // PATCHes carry an etag that is stale by then, and are answered 412.
    instance.post('/_control/customers/:number/edit-before-next-patch', async (request, reply) => {
      const number = (request.params as { number: string }).number;
      if (!state.customers.has(number)) return reply.status(404).send({ error: `no customer ${number}` });
      const body = (request.body ?? {}) as { fields?: Partial<SimCustomer>; count?: number };
      const edits = Array.from({ length: Number(body.count ?? 1) }, () => ({ ...body.fields }));
      state.editsBeforePatch.set(number, edits);
      return { number, edits: edits.length };
    });
    // Another user creates the customer (with `fields`) just before the next POST of its number arrives: that POST
    // finds the number taken, as a create racing another would.
    instance.post('/_control/customers/:number/create-before-next-post', async (request) => {
      const number = (request.params as { number: string }).number;
      state.createsBeforePost.set(number, { ...(request.body as { fields?: Partial<SimCustomer> } | undefined)?.fields });
      return { number };
    });
    // The next `count` PATCHes of a customer are answered 412 as if it had changed meanwhile, without changing it.
    instance.post('/_control/stale-next-patch', async (request) => {
      state.staleNextPatches = Number((request.body as { count?: number } | undefined)?.count ?? 1);
      return { staleNextPatches: state.staleNextPatches };
    });

    instance.all('/*', async (request, reply) => {
      const started = Date.now();
      const path = request.url.slice(instance.prefix.length).split('?')[0]!;
      const answer = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
        const ifMatch = request.headers['if-match'];
        state.requests.push({
          at: started, method: request.method, path, status, ...(request.method === 'POST' || request.method === 'PATCH' ? { body: request.body } : {}),
          ...((request.method === 'PATCH' || request.method === 'DELETE') && typeof ifMatch === 'string' ? { ifMatch } : {}),
        });
        if (state.requests.length > settings.keepRequests) state.requests.splice(0, state.requests.length - settings.keepRequests);
        void reply.status(status).headers({ 'content-type': ODATA, ...headers });
        return body === undefined ? reply.send() : reply.send(JSON.stringify(body));
      };
      const limited = admit(state, settings);
      if (limited) return answer(429, odataError('Application_TooManyRequests', limited), { 'retry-after': '1' });
      state.inFlight++;
      try {
        const [min, max] = settings.latencyMs;
        if (max > 0) await sleep(min + Math.random() * (max - min));
        if (state.maintenance) return answer(503, odataError('Application_ServiceUnavailable', 'The service is under maintenance. Try again later.'), { 'retry-after': '5' });
        const auth = request.headers.authorization?.replace(/^Bearer /, '');
        const expiresAt = auth ? state.tokens.get(auth) : undefined;
        if (!expiresAt || expiresAt < Date.now()) return answer(401, odataError('Authentication_InvalidCredentials', 'The credentials provided are incorrect'));
        const drop = () => {
          state.requests.push({ at: started, method: request.method, path, status: 0 });
          reply.hijack();
          request.raw.socket.destroy();
        };
        return await route(state, settings, request, path, answer, drop);
      } finally {
        state.inFlight--;
      }
    });
  };

  const server = standaloneServer(plugin);
  /** `listen` serves the simulator on its own; `close` also drops the batches not sent yet and ends calls to receivers. */
  const close = async () => {
    state.closing.abort();
    for (const timer of state.batchTimers) clearTimeout(timer);
    state.batchTimers.clear();
    await server.close();
  };
  return { plugin, state, settings, listen: server.listen, close };
}

export type BusinessCentralSimulator = ReturnType<typeof createBusinessCentralSimulator>;

type Answer = (status: number, body?: unknown, headers?: Record<string, string>) => FastifyReply;

// The standard API (`api/v2.0`), the analytics API (`api/microsoft/analytics/v1.0`) and custom API routes
// (`api/<publisher>/<group>/<version>`), under one company: an entity set, its key, a navigation or a bound
// action (`Microsoft.NAV.shipAndInvoice`), and the key of a navigation's entity.
const COMPANY_PATH = /^\/v2\.0\/[^/]+\/[^/]+\/api\/(v2\.0|[\w-]+\/[\w-]+\/v\d+\.\d+)\/companies\(([^)]+)\)\/(\w+)(?:\(([^)]+)\))?(?:\/([\w.]+)(?:\(([^)]+)\))?)?$/;
const BOUND_ACTION = /^Microsoft\.NAV\.(\w+)$/;

// Webhook subscriptions, at the API's root, each keyed by its id in single quotes: `subscriptions('{id}')`.
const SUBSCRIPTIONS_PATH = /^\/v2\.0\/[^/]+\/[^/]+\/api\/v2\.0\/subscriptions(?:\(([^)]*)\))?$/;

type WebhookSettings = { subscriptionLifetimeSeconds: number; notificationDelayMs: number; collectionThreshold: number; receiverTimeoutMs: number };
type Settings = WebhookSettings & { pageSize: number; shipmentTrackingPage?: string; shipAction?: string; customerPricesApi?: string; taxRatePercent: number };

function route(state: State, settings: Settings, request: FastifyRequest, path: string, answer: Answer, drop: () => void): FastifyReply | void | Promise<FastifyReply> {
  const subscriptions = SUBSCRIPTIONS_PATH.exec(decodeURIComponent(path));
  if (subscriptions) return subscriptionRoute(state, settings, request, subscriptions[1], answer);
  const match = COMPANY_PATH.exec(decodeURIComponent(path));
  const notFound = () => answer(404, odataError('BadRequest_ResourceNotFound', `Resource not found for the segment '${path}'.`));
  if (!match) return notFound();
  const [, api, , entity, key, navigation, navigationKey] = match;
  const query = new URLSearchParams(request.url.split('?')[1] ?? '');
  const list = (type: string, rows: Array<Record<string, unknown>>, sortKey: string) => {
    const page = collectionPage(request, query, rows, sortKey, settings.pageSize);
    return typeof page === 'string' ? answer(400, odataError('BadRequest', page.replace('{type}', `Microsoft.NAV.${type}`))) : answer(200, page);
  };
  const tracking = customPageAt(settings.shipmentTrackingPage);
  if (tracking && api === tracking.api && entity === tracking.entitySet && request.method === 'GET' && !key) {
    return list('salesShipmentTracking', [...state.shipments.values()].map(trackingView), 'number');
  }
  const prices = customPageAt(settings.customerPricesApi);
  if (prices && api === prices.api && entity === prices.entitySet && request.method === 'GET' && !key) {
    return list('customerPrice', [...state.priceListLines.values()].map((line) => ({ ...line })), 'lineNo');
  }
  if (api === 'microsoft/analytics/v1.0') {
    return entity === 'itemLedgerEntries' && request.method === 'GET' && !key ? list('itemLedgerEntry', state.ledger.map(analyticsEntryView), 'entryNo') : notFound();
  }
  if (api !== 'v2.0') return notFound();
  if (entity === 'salesShipments' && request.method === 'GET') {
    const expand = query.get('$expand') === 'salesShipmentLines';
    if (!key) return list('salesShipment', [...state.shipments.values()].map((s) => shipmentView(s, expand)), 'lastModifiedDateTime');
    const shipment = state.shipments.get(key);
    if (!shipment) return answer(404, odataError('Internal_RecordNotFound', 'The Sales Shipment Header does not exist.'));
    if (navigation === 'salesShipmentLines' && !navigationKey) return list('salesShipmentLine', shipment.salesShipmentLines.map(shipmentLineView), 'sequence');
    if (!navigation) return answer(200, shipmentView(shipment, expand));
  }
  if (entity === 'customers' && request.method === 'GET' && !key) {
    const withDetail = query.get('$expand') === 'customerFinancialDetail';
    return list('customer', [...state.customers.values()].map((c) => ({ ...customerView(c), ...(withDetail ? { customerFinancialDetail: financialDetailView(c) } : {}) })), 'number');
  }
  if (entity === 'customers' && request.method === 'POST' && !key) return createCustomer(state, settings, (request.body ?? {}) as Record<string, unknown>, answer);
  if (entity === 'customers' && key && !navigation && ['GET', 'PATCH', 'DELETE'].includes(request.method)) {
    const customer = [...state.customers.values()].find((c) => c.id === key);
    if (!customer) return answer(404, odataError('Internal_RecordNotFound', 'The Customer does not exist.'));
    if (request.method === 'PATCH') return patchCustomer(state, settings, customer, request, answer);
    if (request.method === 'GET') {
      return answer(200, { ...customerView(customer), ...(query.get('$expand') === 'customerFinancialDetail' ? { customerFinancialDetail: financialDetailView(customer) } : {}) });
    }
    const ifMatch = request.headers['if-match'];
    if (ifMatch && ifMatch !== '*' && ifMatch !== customer.etag) return answer(412, odataError('Request_EntityChanged', 'Could not delete, the record was changed by another user.'));
    deleteCustomer(state, settings, customer);
    return answer(204);
  }
  if (entity === 'paymentTerms' && request.method === 'GET') {
    if (!key) return list('paymentTerm', [...state.paymentTerms.values()].map((t) => ({ ...t })), 'code');
    const terms = [...state.paymentTerms.values()].find((t) => t.id === key);
    return terms ? answer(200, { ...terms }) : answer(404, odataError('Internal_RecordNotFound', 'The Payment Terms does not exist.'));
  }
  // The customer's single financial detail, as API v2.0 documents it (one object, not a collection).
  if (entity === 'customers' && request.method === 'GET' && key && navigation === 'customerFinancialDetail') {
    const customer = [...state.customers.values()].find((c) => c.id === key);
    if (!customer) return answer(404, odataError('Internal_RecordNotFound', 'The Customer does not exist.'));
    return answer(200, financialDetailView(customer));
  }
  if (request.method === 'GET' && !key) {
    if (entity === 'items') return list('item', [...state.items.values()].map(itemView), 'number');
    if (entity === 'locations') return list('location', [...state.locations.values()].map((l) => ({ ...l })), 'code');
    if (entity === 'itemLedgerEntries') return list('itemLedgerEntry', state.ledger.map(entryView), 'entryNumber');
  }
  if (entity === 'salesOrders') {
    if (request.method === 'GET' && !key) {
      const expand = query.get('$expand') === 'salesOrderLines';
      return list('salesOrder', [...state.orders.values()].map((o) => orderView(o, expand)), 'number');
    }
    if (request.method === 'GET' && key && !navigation) {
      const order = state.orders.get(key);
      return order ? answer(200, orderView(order, query.get('$expand') === 'salesOrderLines')) : answer(404, odataError('Internal_RecordNotFound', 'The Sales Header does not exist.'));
    }
    if (request.method === 'POST' && !key) return createOrder(state, settings, request.body as Record<string, unknown>, query.get('$expand') === 'salesOrderLines', answer);
    if (request.method === 'DELETE' && key && !navigation) {
      const order = state.orders.get(key);
      if (!order) return answer(404, odataError('Internal_RecordNotFound', 'The Sales Header does not exist.'));
      const ifMatch = request.headers['if-match'];
      if (ifMatch && ifMatch !== '*' && ifMatch !== order.etag) return answer(412, odataError('Request_EntityChanged', 'Could not delete, the record was changed by another user.'));
      if (order.fullyShipped) return answer(400, odataError('Application_DialogException', `Order ${order.number} cannot be deleted because it has been shipped.`));
      state.orders.delete(key);
      return answer(204);
    }
    if (request.method === 'POST' && key && navigation === 'salesOrderLines' && !navigationKey) {
      const order = state.orders.get(key);
      if (!order) return answer(404, odataError('Internal_RecordNotFound', 'The Sales Header does not exist.'));
      const line = toLine(state, settings, order, request.body as Record<string, unknown>, order.salesOrderLines.length);
      if (typeof line === 'string') return answer(400, odataError('Internal_RecordNotFound', line));
      order.salesOrderLines.push(line);
      touch(order);
      return answer(201, lineView(line));
    }
    if (key && navigation === 'salesOrderLines') {
      const order = state.orders.get(key);
      if (!order) return answer(404, odataError('Internal_RecordNotFound', 'The Sales Header does not exist.'));
      if (request.method === 'GET' && !navigationKey) return list('salesOrderLine', order.salesOrderLines.map(lineView), 'sequence');
      const line = order.salesOrderLines.find((l) => l.id === navigationKey);
      if (navigationKey && !line) return answer(404, odataError('Internal_RecordNotFound', 'The Sales Line does not exist.'));
      if (request.method === 'GET' && line) return answer(200, lineView(line));
      if (request.method === 'PATCH' && line) return patchLine(order, line, request, answer);
    }
    const action = navigation ? BOUND_ACTION.exec(navigation)?.[1] : undefined;
    if (request.method === 'POST' && key && action && !navigationKey) {
      const order = state.orders.get(key);
      if (!order) return answer(404, odataError('Internal_RecordNotFound', 'The Sales Header does not exist.'));
      // shipAndInvoice is API v2.0's only posting action of salesOrders; a company may publish one that only ships.
      if (action !== 'shipAndInvoice' && action !== settings.shipAction) return answer(400, odataError('BadRequest_NotFound', `The action '${action}' is not bound to 'Microsoft.NAV.salesOrder'.`));
      const quantities = new Map(order.salesOrderLines.map((line) => [line.id, line.shipQuantity]));
      if (![...quantities.values()].some((q) => q > 0)) return answer(400, odataError('Internal_ApplicationError', 'There is nothing to post.'));
      const posted = postSalesShipment(state, order, quantities, { invoice: action === 'shipAndInvoice' });
      if (typeof posted === 'string') return answer(400, odataError('Internal_ValidationError', posted));
      if (state.loseNextActions > 0) {
        state.loseNextActions--;
        return drop();
      }
      return answer(204);
    }
  }
  return answer(405, odataError('BadRequest_MethodNotAllowed', `'${request.method}' requests for '${entity}' are not allowed.`));
}

/** A deep insert: the order with its lines, answered with them only when asked (`$expand=salesOrderLines`), as Business Central answers. */
function createOrder(state: State, settings: Settings, body: Record<string, unknown>, withLines: boolean, answer: Answer): FastifyReply {
  const customerNumber = String(body.customerNumber ?? '');
  const customer = state.customers.get(customerNumber);
  if (!customer) return answer(400, odataError('Internal_RecordNotFound', `The Customer does not exist. Identification fields and values: No.='${customerNumber}'`));
  if (customer.blocked === 'All' || customer.blocked === 'Ship') {
    return answer(400, odataError('Internal_ValidationError', `You cannot create this type of document when Customer ${customerNumber} is blocked with type ${customer.blocked}`));
  }
  const id = randomUUID();
  const order: SimSalesOrder = {
    id,
    number: `S-ORD${state.nextOrderNumber++}`,
    externalDocumentNumber: String(body.externalDocumentNumber ?? ''),
    orderDate: String(body.orderDate ?? new Date().toISOString().slice(0, 10)),
    customerNumber,
    customerId: customer.id,
    status: 'Draft',
    fullyShipped: false,
    currencyCode: LOCAL_CURRENCY,
    totalAmountExcludingTax: 0,
    totalTaxAmount: 0,
    totalAmountIncludingTax: 0,
    lastModifiedDateTime: new Date().toISOString(),
    etag: '',
    salesOrderLines: [],
  };
  const lines = Array.isArray(body.salesOrderLines) ? (body.salesOrderLines as Array<Record<string, unknown>>) : [];
  for (const [i, raw] of lines.entries()) {
    const line = toLine(state, settings, order, raw, i);
    if (typeof line === 'string') return answer(400, odataError('Internal_RecordNotFound', line));
    order.salesOrderLines.push(line);
  }
  touch(order);
  state.orders.set(id, order);
  return answer(201, orderView(order, withLines), { etag: order.etag, location: `salesOrders(${id})` });
}

/**
 * An order line as Business Central makes one: the unitPrice sent, or else the best price (see bestPrice); its
 * amount, quantity × unitPrice, and its tax at the simulator's rate, each rounded to the cent. A string is the refusal.
 */
function toLine(state: State, settings: Settings, order: SimSalesOrder, raw: Record<string, unknown>, index: number): SimSalesOrderLine | string {
  const number = String(raw.lineObjectNumber ?? '');
  const item = state.items.get(number);
  if (raw.lineType !== 'Item' || !item) return `The Item does not exist. Identification fields and values: No.='${number}'`;
  const quantity = Number(raw.quantity);
  if (!(quantity > 0)) return `Quantity must be positive in Sales Line Document Type='Order',Document No.='${order.number}',Line No.='${(index + 1) * 10000}'`;
  const unitPrice = raw.unitPrice === undefined ? bestPrice(state, order, item, quantity) : Number(raw.unitPrice);
  const amountExcludingTax = cents(quantity * unitPrice);
  const totalTaxAmount = cents((amountExcludingTax * settings.taxRatePercent) / 100);
  return {
    id: randomUUID(),
    documentId: order.id,
    sequence: (index + 1) * 10000,
    lineType: 'Item',
    lineObjectNumber: number,
    description: item.displayName,
    quantity,
    unitPrice,
    amountExcludingTax,
    taxPercent: settings.taxRatePercent,
    totalTaxAmount,
    amountIncludingTax: cents(amountExcludingTax + totalTaxAmount),
    ...(raw.locationId ? { locationId: String(raw.locationId) } : {}),
    // Sales & Receivables' "Default Quantity to Ship" of Remainder: a new line ships all of itself unless told otherwise.
    shipQuantity: quantity,
    shippedQuantity: 0,
    invoicedQuantity: 0,
    etag: newEtag(),
  };
}

/**
 * The unit price Business Central finds for a line sent without one: the best (lowest) of the item's price list
 * lines for the order's customer or for every customer, in the local currency, holding on the order's date, whose
 * minimum quantity the line reaches; the item's unitPrice when none applies.
 */
function bestPrice(state: State, order: SimSalesOrder, item: SimItem, quantity: number): number {
  const holds = (line: SimPriceListLine) =>
    (line.startingDate === BLANK_DATE || line.startingDate <= order.orderDate) && (line.endingDate === BLANK_DATE || order.orderDate <= line.endingDate);
  const prices = [...state.priceListLines.values()]
    .filter((line) => line.itemNo === item.number && (line.customerNo === '' || line.customerNo === order.customerNumber) && line.currencyCode === '' && line.minimumQuantity <= quantity && holds(line))
    .map((line) => line.unitPrice);
  return prices.length > 0 ? Math.min(...prices) : item.unitPrice;
}

/** PATCH of an order line: its "Qty. to Ship", checked as Business Central validates it, with the line's etag. */
function patchLine(order: SimSalesOrder, line: SimSalesOrderLine, request: FastifyRequest, answer: Answer): FastifyReply {
  const ifMatch = request.headers['if-match'];
  if (!ifMatch) return answer(400, odataError('Internal_ValidationError', 'A PATCH request requires the If-Match header.'));
  if (ifMatch !== '*' && ifMatch !== line.etag) return answer(412, odataError('Request_EntityChanged', 'Could not update, the record was changed by another user.'));
  const body = (request.body ?? {}) as Record<string, unknown>;
  const unsupported = Object.keys(body).find((field) => field !== 'shipQuantity');
  if (unsupported) return answer(400, odataError('BadRequest', `The simulator patches shipQuantity only, not '${unsupported}'.`));
  const shipQuantity = Number(body.shipQuantity);
  const outstanding = round(line.quantity - line.shippedQuantity);
  if (!Number.isFinite(shipQuantity) || shipQuantity < 0) return answer(400, odataError('Internal_ValidationError', `Qty. to Ship must not be negative in Sales Line Document Type='Order',Document No.='${order.number}',Line No.='${line.sequence}'`));
  if (shipQuantity > outstanding) return answer(400, odataError('Internal_ValidationError', `You cannot ship more than ${outstanding} units.`));
  line.shipQuantity = shipQuantity;
  line.etag = newEtag();
  touch(order);
  return answer(200, lineView(line));
}

/** What API v2.0's customer lets a client write, with the length of each field in the Customer table (Code fields in capitals). */
const CUSTOMER_WRITABLE: Record<string, { length: number; code?: boolean }> = {
  displayName: { length: 100 }, addressLine1: { length: 100 }, addressLine2: { length: 50 }, city: { length: 30 }, state: { length: 30 },
  country: { length: 10, code: true }, postalCode: { length: 20, code: true }, phoneNumber: { length: 30 }, email: { length: 80 }, website: { length: 80 },
  taxRegistrationNumber: { length: 20 },
};
const BLANK_GUID = '00000000-0000-0000-0000-000000000000';
/** The properties of API v2.0's customer entity. */
const CUSTOMER_ENTITY = new Set(Object.keys(customerView(newCustomer({ id: '', number: '', displayName: '', blocked: ' ', creditLimit: 0, balanceDue: 0 }, ''))));

/**
 * PATCH of a customer, as API v2.0 takes it: the If-Match header required (Business Central's own answer when it
 * is missing), 412 on a stale etag, only the entity's properties, each within its field's length, codes in
 * capitals, a paymentTermsId that names payment terms (or the blank GUID); every PATCH a change (a new etag).
 * Another user's edit set up by the control API lands first.
 */
function patchCustomer(state: State, settings: WebhookSettings, customer: SimCustomer, request: FastifyRequest, answer: Answer): FastifyReply {
  const edits = state.editsBeforePatch.get(customer.number);
  const edit = edits?.shift();
  if (edits?.length === 0) state.editsBeforePatch.delete(customer.number);
  if (edit) {
    Object.assign(customer, edit, { lastModifiedDateTime: stamp(state), etag: newEtag() });
    customerChanged(state, settings, customer.id, 'updated', customer.lastModifiedDateTime);
  }
  const ifMatch = request.headers['if-match'];
  if (!ifMatch) return answer(400, odataError('BadRequest_InvalidToken', 'Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.'));
  const injected = state.staleNextPatches > 0;
  if (injected) state.staleNextPatches--;
  if (injected || (ifMatch !== '*' && ifMatch !== customer.etag)) return answer(412, odataError('Request_EntityChanged', 'Could not update, the record was changed by another user.'));
  const changes = customerProperties(state, (request.body ?? {}) as Record<string, unknown>);
  if (typeof changes === 'string') return answer(400, odataError('BadRequest', changes));
  Object.assign(customer, changes, { lastModifiedDateTime: stamp(state), etag: newEtag() });
  customerChanged(state, settings, customer.id, 'updated', customer.lastModifiedDateTime);
  return answer(200, customerView(customer));
}

/**
 * POST of a customer, as API v2.0 takes it: its `number` (Code[20], in capitals), or the next of the simulator's
 * number series when it has none, and the properties a PATCH takes, checked alike. A number taken is Business
 * Central's 400. Another user's create set up by the control API lands first.
 */
function createCustomer(state: State, settings: WebhookSettings, body: Record<string, unknown>, answer: Answer): FastifyReply {
  const { number: given, ...properties } = body;
  const number = given === undefined ? nextCustomerNumber(state) : String(given).toUpperCase();
  if (number === '' || number.length > 20) return answer(400, odataError('BadRequest', `The length of the string is ${number.length}, but it must be between 1 and 20 characters. Value: ${number}`));
  const racing = state.createsBeforePost.get(number);
  state.createsBeforePost.delete(number);
  if (racing && !state.customers.has(number)) {
    const other = newCustomer({ id: randomUUID(), displayName: number, blocked: ' ', creditLimit: 0, balanceDue: 0, ...racing, number }, stamp(state));
    state.customers.set(number, other);
    customerChanged(state, settings, other.id, 'created', other.lastModifiedDateTime);
  }
  if (state.customers.has(number)) return answer(400, odataError('Internal_EntityWithSameKeyExists', `The record in table Customer already exists. Identification fields and values: No.='${number}'`));
  const fields = customerProperties(state, properties);
  if (typeof fields === 'string') return answer(400, odataError('BadRequest', fields));
  const customer = newCustomer({ id: randomUUID(), number, displayName: '', blocked: ' ', creditLimit: 0, balanceDue: 0, ...fields }, stamp(state));
  state.customers.set(number, customer);
  customerChanged(state, settings, customer.id, 'created', customer.lastModifiedDateTime);
  return answer(201, customerView(customer), { etag: customer.etag, location: `customers(${customer.id})` });
}

/**
 * The customer's properties a PATCH or POST writes, as Business Central checks them: only the entity's, each
 * within its field's length, codes in capitals, a paymentTermsId that names payment terms (or the blank GUID).
 * A string is the refusal.
 */
function customerProperties(state: State, body: Record<string, unknown>): Partial<SimCustomer> | string {
  const changes: Partial<SimCustomer> = {};
  for (const [property, value] of Object.entries(body)) {
    if (!CUSTOMER_ENTITY.has(property)) {
      return `The property '${property}' does not exist on type 'Microsoft.NAV.customer'. Make sure to only use property names that are defined by the type.`;
    }
    if (property === 'paymentTermsId') {
      const id = String(value ?? BLANK_GUID);
      if (id !== BLANK_GUID && ![...state.paymentTerms.values()].some((t) => t.id === id)) return 'The "paymentTermsId" does not match to a Payment Term.';
      changes.paymentTermsId = id;
      continue;
    }
    const field = CUSTOMER_WRITABLE[property];
    if (!field) return `The simulator does not write '${property}' of a customer.`;
    const text = String(value ?? '');
    if (text.length > field.length) return `The length of the string is ${text.length}, but it must be less than or equal to ${field.length} characters. Value: ${text}`;
    Object.assign(changes, { [property]: field.code ? text.toUpperCase() : text });
  }
  return changes;
}

/** The next number of the customers' number series (`C00001`, ...) that no customer has. */
function nextCustomerNumber(state: State): string {
  for (;;) {
    const number = `C${String(state.nextCustomerNumber++).padStart(5, '0')}`;
    if (!state.customers.has(number)) return number;
  }
}

function deleteCustomer(state: State, settings: WebhookSettings, customer: SimCustomer): void {
  state.customers.delete(customer.number);
  customerChanged(state, settings, customer.id, 'deleted', stamp(state));
}

/** The user a subscription is made by: the one of Microsoft's documented example. */
const SUBSCRIBER = '00000000-0000-0000-0000-000000000001';
/** The resource of a subscription: an entity set of a company of API v2.0, relative or absolute. */
const SUBSCRIBABLE = /^(?:https?:\/\/[^/]+\/(?:[^?#]*\/)?|\/)?api\/v2\.0\/companies\(([^)]+)\)\/(\w+)$/;
const CLIENT_STATE_LENGTH = 2048;

/**
 * `subscriptions` as API v2.0 serves them: the live ones listed, one created after a handshake with its
 * notification URL (201; 400 naming why when the handshake fails), one read, renewed by a PATCH with its etag
 * (required, 412 when stale; the handshake again, and a new expiry and etag), or deleted with its etag.
 */
async function subscriptionRoute(state: State, settings: WebhookSettings, request: FastifyRequest, key: string | undefined, answer: Answer): Promise<FastifyReply> {
  const body = (request.body ?? {}) as Record<string, unknown>;
  if (key === undefined) {
    if (request.method === 'GET') return answer(200, { value: [...state.subscriptions.values()].filter(isLive).map(subscriptionView) });
    if (request.method === 'POST') return createSubscription(state, settings, body, answer);
    return answer(405, odataError('BadRequest_MethodNotAllowed', `'${request.method}' requests for 'subscriptions' are not allowed.`));
  }
  const id = /^'(.+)'$/.exec(key)?.[1];
  if (id === undefined) return answer(400, odataError('BadRequest', `The key '${key}' is not valid for subscriptions: a subscription id is a string, in single quotes.`));
  const subscription = state.subscriptions.get(id);
  if (!subscription || !isLive(subscription)) return answer(404, odataError('Internal_RecordNotFound', 'The API Webhook Subscription does not exist.'));
  if (request.method === 'GET') return answer(200, subscriptionView(subscription));
  if (request.method !== 'PATCH' && request.method !== 'DELETE') return answer(405, odataError('BadRequest_MethodNotAllowed', `'${request.method}' requests for 'subscriptions' are not allowed.`));
  const ifMatch = request.headers['if-match'];
  if (!ifMatch) return answer(400, odataError('BadRequest_InvalidToken', 'Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.'));
  const stale = () => ifMatch !== '*' && ifMatch !== subscription.etag;
  if (stale()) return answer(412, odataError('Request_EntityChanged', 'Could not update, the record was changed by another user.'));
  if (request.method === 'DELETE') {
    state.subscriptions.delete(id);
    return answer(204);
  }
  const fields = subscriptionFields({ notificationUrl: subscription.notificationUrl, resource: subscription.resource, clientState: subscription.clientState, ...body });
  if (typeof fields === 'string') return answer(400, odataError('BadRequest', fields));
  const problem = await handshake(state, settings, fields.notificationUrl);
  if (problem) return answer(400, odataError('BadRequest', `The subscription was not renewed: the handshake with the notificationUrl failed: ${problem}.`));
  // Changed or deleted by another request while the handshake was under way.
  if (stale() || !state.subscriptions.has(id)) return answer(412, odataError('Request_EntityChanged', 'Could not update, the record was changed by another user.'));
  const at = stamp(state);
  Object.assign(subscription, fields, { expiresAt: Date.parse(at) + settings.subscriptionLifetimeSeconds * 1000, lastModifiedDateTime: at, etag: newEtag() });
  return answer(200, subscriptionView(subscription));
}

async function createSubscription(state: State, settings: WebhookSettings, body: Record<string, unknown>, answer: Answer): Promise<FastifyReply> {
  const fields = subscriptionFields(body);
  if (typeof fields === 'string') return answer(400, odataError('BadRequest', fields));
  const problem = await handshake(state, settings, fields.notificationUrl);
  if (problem) return answer(400, odataError('BadRequest', `The subscription was not created: the handshake with the notificationUrl failed: ${problem}.`));
  const at = stamp(state);
  const subscription: SimSubscription = {
    subscriptionId: randomUUID().replaceAll('-', ''), ...fields, expiresAt: Date.parse(at) + settings.subscriptionLifetimeSeconds * 1000, createdAt: at, lastModifiedDateTime: at, etag: newEtag(),
  };
  state.subscriptions.set(subscription.subscriptionId, subscription);
  return answer(201, subscriptionView(subscription), { etag: subscription.etag, location: `subscriptions('${subscription.subscriptionId}')` });
}

/** What a POST or PATCH of a subscription sets, checked: an absolute notification URL, a company's customers, a clientState of up to 2048 characters. A string is the refusal. */
function subscriptionFields(body: Record<string, unknown>): Pick<SimSubscription, 'notificationUrl' | 'resource' | 'companyId' | 'clientState'> | string {
  const other = Object.keys(body).find((property) => !['notificationUrl', 'resource', 'clientState'].includes(property));
  if (other) return `The simulator takes notificationUrl, resource and clientState of a subscription, not '${other}'.`;
  const { notificationUrl, resource, clientState = '' } = body;
  if (typeof notificationUrl !== 'string' || !/^https?:\/\//i.test(notificationUrl) || !URL.canParse(notificationUrl)) return 'The notificationUrl must be an absolute http or https URL.';
  const match = typeof resource === 'string' ? SUBSCRIBABLE.exec(resource) : null;
  if (!match) return `The resource ${JSON.stringify(resource)} is not an entity set of a company of this API, such as /api/v2.0/companies({id})/customers.`;
  if (match[2] !== 'customers') return `The simulator notifies changes of customers only, not of '${match[2]}'.`;
  if (typeof clientState !== 'string' || clientState.length > CLIENT_STATE_LENGTH) return `The clientState must be a string of at most ${CLIENT_STATE_LENGTH} characters.`;
  return { notificationUrl, resource: resource as string, companyId: match[1]!, clientState };
}

function isLive(subscription: SimSubscription): boolean {
  return subscription.expiresAt > Date.now();
}

/** The subscription entity as API v2.0 shows it (Microsoft's documented example), with its etag. */
function subscriptionView(subscription: SimSubscription) {
  return {
    '@odata.etag': subscription.etag, subscriptionId: subscription.subscriptionId, notificationUrl: subscription.notificationUrl, resource: subscription.resource, userId: SUBSCRIBER,
    lastModifiedDateTime: subscription.lastModifiedDateTime, clientState: subscription.clientState, expirationDateTime: new Date(subscription.expiresAt).toISOString(),
    systemCreatedAt: subscription.createdAt, systemCreatedBy: SUBSCRIBER, systemModifiedAt: subscription.lastModifiedDateTime, systemModifiedBy: SUBSCRIBER,
  };
}

/**
 * Business Central's handshake before it creates or renews a subscription: a POST to the notification URL with a
 * `validationToken` query parameter, to be answered 200 with exactly the token as the body in time. Undefined
 * when it passed, else why not.
 */
async function handshake(state: State, settings: WebhookSettings, notificationUrl: string): Promise<string | undefined> {
  const token = randomUUID();
  const url = `${notificationUrl}${notificationUrl.includes('?') ? '&' : '?'}validationToken=${encodeURIComponent(token)}`;
  const answer = await postToReceiver(state, settings, url);
  const problem = typeof answer === 'string' ? answer
    : answer.status !== 200 ? `it answered ${answer.status}, not 200`
    : answer.text !== token ? 'it answered 200 without the validationToken as its body' : undefined;
  state.handshakes.push({ at: new Date().toISOString(), url, ...receiverAnswer(answer), ...(problem ? { problem } : {}) });
  return problem;
}

/**
 * A change of a customer, for every live subscription: it joins the batch of the subscription's notification
 * URL, started by the first change and sent `notificationDelayMs` later. Changes of one customer in one batch
 * make one notification: the latest change, and `created` while the customer is new.
 */
function customerChanged(state: State, settings: WebhookSettings, customerId: string, changeType: PendingChange['changeType'], at: string): void {
  for (const subscription of state.subscriptions.values()) {
    if (!isLive(subscription)) continue;
    const url = subscription.notificationUrl;
    let batch = state.pendingChanges.get(url);
    if (!batch) {
      batch = new Map();
      state.pendingChanges.set(url, batch);
      const timer = setTimeout(() => {
        state.batchTimers.delete(timer);
        void sendBatch(state, settings, url);
      }, settings.notificationDelayMs);
      state.batchTimers.add(timer);
    }
    const changes = batch.get(subscription.subscriptionId) ?? new Map<string, PendingChange>();
    batch.set(subscription.subscriptionId, changes);
    const before = changes.get(customerId)?.changeType;
    changes.set(customerId, { changeType: before === 'created' && changeType === 'updated' ? 'created' : changeType, at });
  }
}

/** Posts a notification URL's batch, `{"value": [...]}`, the notifications of the subscriptions still live. */
async function sendBatch(state: State, settings: WebhookSettings, url: string): Promise<void> {
  const batch = state.pendingChanges.get(url);
  state.pendingChanges.delete(url);
  const value: SimChangeNotice[] = [];
  for (const [subscriptionId, changes] of batch ?? []) {
    const subscription = state.subscriptions.get(subscriptionId);
    if (subscription && isLive(subscription)) value.push(...notices(subscription, changes, settings.collectionThreshold));
  }
  if (value.length === 0) return;
  const body = { value };
  const answer = await postToReceiver(state, settings, url, body);
  state.notifications.push({ at: new Date().toISOString(), url, body, ...receiverAnswer(answer) });
}

/**
 * A subscription's notifications of a batch: one per customer changed, or, when more than `threshold` changed,
 * one `collection` whose resource filters the customers changed since just before the first change (a deleted
 * customer is not among them, as in Business Central).
 */
function notices(subscription: SimSubscription, changes: ReadonlyMap<string, PendingChange>, threshold: number): SimChangeNotice[] {
  const of = { subscriptionId: subscription.subscriptionId, clientState: subscription.clientState, expirationDateTime: new Date(subscription.expiresAt).toISOString() };
  const customers = `api/v2.0/companies(${subscription.companyId})/customers`;
  if (changes.size > threshold) {
    const times = [...changes.values()].map((change) => Date.parse(change.at));
    const since = new Date(Math.min(...times) - 1).toISOString();
    return [{ ...of, resource: `/${customers}?$filter=lastModifiedDateTime%20gt%20${since}`, changeType: 'collection', lastModifiedDateTime: new Date(Math.max(...times)).toISOString() }];
  }
  return [...changes].map(([id, change]) => ({ ...of, resource: `${customers}(${id})`, changeType: change.changeType, lastModifiedDateTime: change.at }));
}

/** A POST to a subscriber, bounded by `receiverTimeoutMs` and by the simulator's close: its answer, or why there is none. */
async function postToReceiver(state: State, settings: WebhookSettings, url: string, body?: unknown): Promise<{ status: number; text: string } | string> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      signal: AbortSignal.any([AbortSignal.timeout(settings.receiverTimeoutMs), state.closing.signal]),
    });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    const { name, message } = error as Error;
    return name === 'TimeoutError' ? `it did not answer within ${settings.receiverTimeoutMs} ms` : `it could not be reached (${message})`;
  }
}

function receiverAnswer(answer: { status: number; text: string } | string): Pick<SimWebhookCall, 'status' | 'answer' | 'problem'> {
  return typeof answer === 'string' ? { status: 0, problem: answer } : { status: answer.status, answer: answer.text.slice(0, 500) };
}

/** A customer with blank fields (no address, no payment terms) where `seed` gives none, and a fresh etag. */
function newCustomer(seed: SimCustomerSeed, at: string): SimCustomer {
  const blank = { addressLine1: '', addressLine2: '', city: '', state: '', country: '', postalCode: '', phoneNumber: '', email: '', website: '', taxRegistrationNumber: '', paymentTermsId: BLANK_GUID };
  return { ...blank, ...seed, lastModifiedDateTime: at, etag: newEtag() };
}

/** A time stamp later than every one before it, so that `lastModifiedDateTime gt` tells changes apart. */
function stamp(state: State): string {
  state.lastStamp = Math.max(Date.now(), state.lastStamp + 1);
  return new Date(state.lastStamp).toISOString();
}

function newLocation(fields: Partial<SimLocation> & { code: string }, at: string): SimLocation {
  const blank = { contact: '', addressLine1: '', addressLine2: '', city: '', state: '', country: '', postalCode: '', phoneNumber: '', email: '', website: '' };
  return { id: randomUUID(), displayName: fields.code, ...blank, ...fields, lastModifiedDateTime: at };
}

type Posting = Pick<SimItemLedgerEntry, 'itemNumber' | 'locationCode' | 'quantity' | 'entryType' | 'sourceType' | 'sourceNumber' | 'documentType' | 'documentNumber'>;

/**
 * Writes an item ledger entry and moves the item's inventory by its quantity. Business Central computes
 * inventory from the entries and does not promise that a posting modifies the item record; the simulator
 * touches the item too, so that a poll of changed items sees the posting.
 */
function post(state: State, posting: Posting): SimItemLedgerEntry {
  const item = state.items.get(posting.itemNumber)!;
  const at = stamp(state);
  const entry: SimItemLedgerEntry = {
    id: randomUUID(),
    entryNumber: state.ledger.length + 1,
    postingDate: at.slice(0, 10),
    description: '',
    salesAmountActual: 0,
    costAmountActual: 0,
    ...posting,
    lastModifiedDateTime: at,
  };
  state.ledger.push(entry);
  item.inventory = Math.round((item.inventory + posting.quantity) * 1e5) / 1e5;
  item.lastModifiedDateTime = at;
  return entry;
}

function postAdjustment(state: State, itemNumber: string, locationCode: string, quantity: number, documentNumber: string): SimItemLedgerEntry {
  const entryType = quantity > 0 ? 'Positive_x0020_Adjmt_x002E_' : 'Negative_x0020_Adjmt_x002E_';
  return post(state, { itemNumber, locationCode, quantity, entryType, sourceType: '_x0020_', sourceNumber: '', documentType: '_x0020_', documentNumber });
}

/**
 * Posts the shipment of `quantities` (order line id to quantity), as Business Central's sales posting does: a
 * posted sales shipment with a line per line shipped, a sale entry in the item ledger taking the quantity out of
 * the line's location, the lines' shippedQuantity up (and invoicedQuantity with `invoice`), "Qty. to Ship" back
 * to what is left. An order shipped and invoiced in full is deleted, as posting deletes it. A string is the
 * refusal.
 */
function postSalesShipment(state: State, order: SimSalesOrder, quantities: ReadonlyMap<string, number>, options: { invoice: boolean; packageTrackingNo?: string; shippingAgentCode?: string }): SimSalesShipment | string {
  for (const line of order.salesOrderLines) {
    if ((quantities.get(line.id) ?? 0) > round(line.quantity - line.shippedQuantity)) return `You cannot ship more than ${round(line.quantity - line.shippedQuantity)} units.`;
  }
  const customer = state.customers.get(order.customerNumber);
  const number = `S-SHP${state.nextShipmentNumber++}`;
  const codeOf = (locationId?: string) => [...state.locations.values()].find((l) => l.id === locationId)?.code ?? '';
  const shipment: SimSalesShipment = {
    id: randomUUID(), number, externalDocumentNumber: order.externalDocumentNumber, orderNumber: order.number, customerId: order.customerId, customerNumber: order.customerNumber,
    customerName: customer?.displayName ?? '', postingDate: new Date().toISOString().slice(0, 10), lastModifiedDateTime: '',
    packageTrackingNo: options.packageTrackingNo ?? '', shippingAgentCode: options.shippingAgentCode ?? '', salesShipmentLines: [],
  };
  for (const line of order.salesOrderLines) {
    const quantity = quantities.get(line.id) ?? 0;
    if (quantity <= 0) continue;
    const locationCode = codeOf(line.locationId);
    post(state, {
      itemNumber: line.lineObjectNumber, locationCode, quantity: -quantity, entryType: 'Sale', sourceType: 'Customer', sourceNumber: order.customerNumber,
      documentType: 'Sales_x0020_Shipment', documentNumber: number,
    });
    shipment.salesShipmentLines.push({
      id: randomUUID(), documentId: shipment.id, documentNo: number, sequence: line.sequence, lineType: 'Item', lineObjectNumber: line.lineObjectNumber,
      description: line.description, unitOfMeasureCode: 'PCS', unitPrice: line.unitPrice, quantity, discountPercent: 0, taxPercent: line.taxPercent, shipmentDate: shipment.postingDate, locationCode,
    });
    line.shippedQuantity = round(line.shippedQuantity + quantity);
    if (options.invoice) line.invoicedQuantity = line.shippedQuantity;
  }
  for (const line of order.salesOrderLines) {
    line.shipQuantity = round(line.quantity - line.shippedQuantity);
    line.etag = newEtag();
  }
  shipment.lastModifiedDateTime = stamp(state);
  state.shipments.set(shipment.id, shipment);
  order.fullyShipped = order.salesOrderLines.every((line) => line.shippedQuantity >= line.quantity);
  touch(order);
  if (order.fullyShipped && order.salesOrderLines.every((line) => line.invoicedQuantity >= line.quantity)) state.orders.delete(order.id);
  return shipment;
}

/** A change of the order: its totals summed again from its lines, a new etag and lastModifiedDateTime. */
function touch(order: SimSalesOrder): void {
  order.totalAmountExcludingTax = cents(order.salesOrderLines.reduce((sum, l) => sum + l.amountExcludingTax, 0));
  order.totalTaxAmount = cents(order.salesOrderLines.reduce((sum, l) => sum + l.totalTaxAmount, 0));
  order.totalAmountIncludingTax = cents(order.totalAmountExcludingTax + order.totalTaxAmount);
  order.lastModifiedDateTime = new Date().toISOString();
  order.etag = newEtag();
}

function newEtag(): string {
  return `W/"JzQ0OzE${Math.random().toString(36).slice(2, 12)}Ow=="`;
}

function orderView(order: SimSalesOrder, withLines: boolean) {
  const { etag, salesOrderLines, ...rest } = order;
  return { '@odata.etag': etag, ...rest, ...(withLines ? { salesOrderLines: salesOrderLines.map(lineView) } : {}) };
}

function lineView(line: SimSalesOrderLine) {
  const { etag, ...rest } = line;
  return { '@odata.etag': etag, ...rest };
}

/** The v2.0 entity: no package tracking or shipping agent, and its lines without their location. */
function shipmentView(shipment: SimSalesShipment, withLines: boolean) {
  const { packageTrackingNo: _p, shippingAgentCode: _s, salesShipmentLines, ...rest } = shipment;
  const address = Object.fromEntries(['sellTo', 'billTo', 'shipTo'].flatMap((party) => ['AddressLine1', 'AddressLine2', 'City', 'Country', 'State', 'PostCode'].map((field) => [`${party}${field}`, ''])));
  return {
    ...rest, invoiceDate: rest.postingDate, dueDate: rest.postingDate, customerPurchaseOrderReference: '', billToCustomerId: rest.customerId, billToName: rest.customerName,
    billToCustomerNumber: rest.customerNumber, shipToName: rest.customerName, shipToContact: '', ...address, currencyCode: LOCAL_CURRENCY, paymentTermsCode: '', shipmentMethodCode: '',
    salesperson: '', pricesIncludeTax: false, phoneNumber: '', email: '',
    ...(withLines ? { salesShipmentLines: salesShipmentLines.map(shipmentLineView) } : {}),
  };
}

function shipmentLineView(line: SimSalesShipmentLine) {
  const { locationCode: _l, ...rest } = line;
  return rest;
}

/** A row of the custom tracking page: the fields of the Sales Shipment Header that API v2.0 leaves out. */
function trackingView(shipment: SimSalesShipment) {
  return { id: shipment.id, number: shipment.number, packageTrackingNo: shipment.packageTrackingNo, shippingAgentCode: shipment.shippingAgentCode, lastModifiedDateTime: shipment.lastModifiedDateTime };
}

/** Where a custom page is served: its API route (`v2.0` for a bare entity set) and entity set. */
function customPageAt(page: string | undefined): { api: string; entitySet: string } | undefined {
  if (!page) return undefined;
  const at = page.lastIndexOf('/');
  return at < 0 ? { api: 'v2.0', entitySet: page } : { api: page.slice(0, at), entitySet: page.slice(at + 1) };
}

/** A price list line with blank fields (a blank date is 0001-01-01) where `fields` gives none. */
function priceListLine(lineNo: number, fields: Partial<SimPriceListLine>): SimPriceListLine {
  return {
    id: randomUUID(), lineNo, priceListCode: '', itemNo: '', customerNo: '', currencyCode: '', unitPrice: 0, minimumQuantity: 0, startingDate: BLANK_DATE, endingDate: BLANK_DATE,
    ...fields,
  };
}

function pick(body: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  return Object.fromEntries(fields.filter((f) => body[f] !== undefined).map((f) => [f, body[f]]));
}

/** Quantities are decimals of up to 5 places: keep binary fractions from showing. */
function round(value: number): number {
  return Math.round(value * 1e5) / 1e5;
}

/** An amount rounded to the cent, as Business Central rounds amounts in a currency of two decimals. */
function cents(value: number): number {
  // Half a cent goes up: the binary fraction of a product (1.005 held as 1.00499…) is cut off at 12 digits first.
  return Math.round(Number((value * 100).toPrecision(12))) / 100;
}

/** API v2.0's customer: the record's etag as `@odata.etag`, the balance in its financial detail only. */
function customerView(customer: SimCustomer) {
  const { balanceDue: _b, etag, paymentTermsId, lastModifiedDateTime, ...rest } = customer;
  return { '@odata.etag': etag, ...rest, type: 'Company', taxLiable: false, currencyCode: LOCAL_CURRENCY, paymentTermsId, lastModifiedDateTime };
}

function financialDetailView(customer: SimCustomer) {
  return { id: customer.id, number: customer.number, balance: customer.balanceDue, totalSalesExcludingTax: 0, overdueAmount: 0 };
}

function itemView(item: SimItem) {
  return { type: 'Inventory', blocked: false, baseUnitOfMeasureCode: 'PCS', ...item };
}

/** The v2.0 entity: no location. */
function entryView(entry: SimItemLedgerEntry) {
  const { locationCode: _l, ...rest } = entry;
  return rest;
}

/** The analytics API's entity: other names, and the location. */
function analyticsEntryView(entry: SimItemLedgerEntry) {
  return {
    entryNo: entry.entryNumber,
    entryType: entry.entryType,
    sourceType: entry.sourceType,
    sourceNo: entry.sourceNumber,
    documentNo: entry.documentNumber,
    documentType: entry.documentType,
    postingDate: entry.postingDate,
    itemNo: entry.itemNumber,
    locationCode: entry.locationCode,
    quantity: entry.quantity,
    unitOfMeasureCode: 'PCS',
    positive: entry.quantity > 0,
    costAmountActual: entry.costAmountActual,
    salesAmountActual: entry.salesAmountActual,
  };
}

/**
 * One page of a collection: `$filter`, then ordered by `sortKey`, from after `$skiptoken`, at most `pageSize`,
 * with `@odata.nextLink` when more follow, then `$select`. A string is the error of a bad query, with `{type}`
 * where the entity type's name goes.
 */
function collectionPage(request: FastifyRequest, query: URLSearchParams, rows: Array<Record<string, unknown>>, sortKey: string, pageSize: number) {
  const unknownField = (field: string) => rows.length > 0 && !(field in rows[0]!) ? `Could not find a property named '${field}' on type '{type}'.` : undefined;
  const filterText = query.get('$filter');
  const filter = filterText ? parseFilter(filterText) : undefined;
  if (typeof filter === 'string') return filter;
  for (const clause of filter?.clauses ?? []) {
    const error = unknownField(clause.field);
    if (error) return error;
  }
  const select = query.get('$select')?.split(',').map((f) => f.trim());
  for (const field of select ?? []) {
    const error = unknownField(field);
    if (error) return error;
  }
  let matching = filter ? rows.filter((row) => (filter.join === 'or' ? filter.clauses.some((c) => holds(row, c)) : filter.clauses.every((c) => holds(row, c)))) : rows;
  matching = matching.toSorted((a, b) => compare(a[sortKey], b[sortKey]));
  const token = query.get('$skiptoken');
  if (token !== null) {
    let after: unknown;
    try {
      after = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    } catch {
      return `The skip token '${token}' is not valid.`;
    }
    matching = matching.filter((row) => compare(row[sortKey], after) > 0);
  }
  const page = matching.slice(0, pageSize);
  const value = select ? page.map((row) => Object.fromEntries(select.map((f) => [f, row[f]]))) : page;
  if (matching.length <= pageSize) return { value };
  const next = new URLSearchParams(query);
  next.set('$skiptoken', Buffer.from(JSON.stringify(page.at(-1)![sortKey])).toString('base64url'));
  const nextQuery = [...next].map(([name, v]) => `${name}=${encodeURIComponent(v)}`).join('&');
  return { value, '@odata.nextLink': `${request.protocol}://${request.headers.host}${request.url.split('?')[0]}?${nextQuery}` };
}

interface FilterClause {
  field: string;
  operator: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
  /** A string literal, or a number, date/time or boolean as written (unquoted). */
  literal: { text: string } | { number: number } | { time: number } | { bool: boolean };
}

const CLAUSE = /\s*(\w+)\s+(eq|ne|gt|ge|lt|le)\s+(?:'((?:[^']|'')*)'|(\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2}))?)|(-?\d+(?:\.\d+)?)|(true|false))\s*/y;
const JOIN = /(and|or)\s+/y;

/**
 * The `$filter` subset an integration uses: comparisons of a field with a literal, joined all by `and` or all
 * by `or`; like Business Central, `or` only over one field. A string is the error to answer with.
 */
function parseFilter(filter: string): { clauses: FilterClause[]; join: 'and' | 'or' } | string {
  const clauses: FilterClause[] = [];
  const joins = new Set<string>();
  CLAUSE.lastIndex = 0;
  for (let at = 0; ; ) {
    CLAUSE.lastIndex = at;
    const match = CLAUSE.exec(filter);
    if (!match) return `Syntax error at position ${at} in '${filter}'.`;
    const [, field, operator, text, time, number, bool] = match;
    const literal = text !== undefined ? { text: text.replaceAll("''", "'") } : time !== undefined ? { time: Date.parse(time) } : bool !== undefined ? { bool: bool === 'true' } : { number: Number(number) };
    clauses.push({ field: field!, operator: operator as FilterClause['operator'], literal });
    at = CLAUSE.lastIndex;
    if (at === filter.length) break;
    JOIN.lastIndex = at;
    const join = JOIN.exec(filter);
    if (!join) return `Syntax error at position ${at} in '${filter}'.`;
    joins.add(join[1]!);
    at = JOIN.lastIndex;
  }
  if (joins.size > 1) return `The filter '${filter}' mixes 'and' and 'or', which this simulator does not read.`;
  const join = joins.has('or') ? 'or' : 'and';
  if (join === 'or' && new Set(clauses.map((c) => c.field)).size > 1) return `The filter '${filter}' uses 'or' over different fields, which is not supported.`;
  return { clauses, join };
}

function holds(row: Record<string, unknown>, clause: FilterClause): boolean {
  const value = row[clause.field];
  const { literal } = clause;
  if ('bool' in literal) return (clause.operator === 'eq') === (Boolean(value) === literal.bool);
  const order = 'text' in literal ? compare(String(value), literal.text) : 'time' in literal ? compare(Date.parse(String(value)), literal.time) : compare(Number(value), literal.number);
  return { eq: order === 0, ne: order !== 0, gt: order > 0, ge: order >= 0, lt: order < 0, le: order <= 0 }[clause.operator];
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [x, y] = [String(a), String(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

function admit(state: State, settings: { ratePerSecond: number; concurrency: number }): string | undefined {
  if (state.throttleNext > 0) {
    if (state.throttleAfter > 0) state.throttleAfter--;
    else {
      state.throttleNext--;
      return 'Too many requests were made to the service. Try again later.';
    }
  }
  const now = Date.now();
  if (now - state.windowStart >= 1000) {
    state.windowStart = now;
    state.windowCount = 0;
  }
  if (state.windowCount >= settings.ratePerSecond) return 'Too many requests were made to the service. Try again later.';
  if (state.inFlight >= settings.concurrency) return 'Too many concurrent requests. Maximum 5 are processed at once.';
  state.windowCount++;
  return undefined;
}

function odataError(code: string, message: string) {
  return { error: { code, message: `${message}  CorrelationId:  ${randomUUID()}.` } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
