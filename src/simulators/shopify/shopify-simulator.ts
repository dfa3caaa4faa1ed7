import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyPluginAsync } from 'fastify';
import { signShopifyBody } from '../../connectors/channels/shopify/shopify-webhooks.js';
import { defaultSimulatorData } from '../business-central/bc-simulator.js';
import { parseJsonBodies, standaloneServer } from '../standalone.js';
import { GraphQLSyntaxError, parseOperation, type GqlField, type GqlOperation, type GqlSelection } from './graphql-document.js';

/**
 * A Shopify Admin GraphQL API look-alike for the demo, the tests and the benchmarks: the inventory subset
 * (productVariants by SKU, inventory items (one, or a page of them) and their levels, locations,
 * `inventorySetQuantities` validated as Shopify does per API version: compareQuantity before 2026-01,
 * changeFromQuantity and `@idempotent` after), prices (`productVariantsBulkUpdate` of a variant's price, fixed prices
 * of B2B price lists), orders and fulfillments, customers (`customerSet` by id), B2B companies and their locations
 * (`companyCreate`, `companyUpdate`, `companyLocationUpdate`, `companyLocationAssignAddress`,
 * `companyLocationTaxSettingsUpdate`), bulk query operations (`bulkOperationRunQuery`, `currentBulkOperation`,
 * `node(id:)`, their JSONL served under `/_bulk/`), behind the calculated query cost limit (a leaky bucket, THROTTLED with
 * `extensions.cost`), with latency. It also sends signed webhooks as a store would, duplicates and stale retries
 * included, and, to the subscription set, a `companies/*` or `company_locations/*` webhook of each change to a
 * company or location, an app's mutation's as well as a merchant's, and an `inventory_levels/update` of each quantity
 * changed when the subscription names that topic. A control API under `/_control` lets tests change quantities,
 * companies and locations as a merchant would, set the bucket, add variants and price lists and customers and
 * companies, and read every request, mutation, price, customer, company and webhook sent. It runs on its own
 * (`listen`, `npm run sim:shopify`) or mounted under a prefix (the demo).
 */
export interface ShopifySimulatorOptions {
  /** The only access token accepted; any non-empty token when unset. */
  accessToken?: string;
  /** The store named in webhooks. */
  shopDomain?: string;
  /** The API version named in webhooks. */
  apiVersion?: string;
  /** The store's currency, in which its variants are priced (USD by default). */
  currency?: string;
  /** The B2B price lists (by default gid://shopify/PriceList/1 in USD). */
  priceLists?: Array<{ id: string; currency: string; name?: string }>;
  /** Bucket size in points (2,000 on the standard plan, as its answers report). */
  maximumAvailable?: number;
  /** Points restored per second (100 on the standard plan). */
  restoreRate?: number;
  latencyMs?: [number, number];
  locations?: Array<{ id: string; name: string }>;
  /** The catalogue; by default one variant per Business Central simulator item, stocked at every location. */
  variants?: SeedVariant[];
  /** The store's customers; by default {@link DEFAULT_CUSTOMERS}. */
  customers?: SeedCustomer[];
  /** The store's B2B companies with their locations; by default {@link DEFAULT_COMPANIES}. */
  companies?: SeedCompany[];
  /** Where the store sends its webhooks of companies and locations; none are sent when unset. */
  webhooks?: WebhookSubscription;
  /** Requests and mutations kept in `state.requests` and `state.mutations`, the oldest dropped first (all unless set). */
  keepRequests?: number;
  /** How long a bulk query operation runs before it completes (50 ms by default). */
  bulkOperationDelayMs?: number;
}

export interface SeedVariant {
  sku: string;
  title?: string;
  /** The product it is a variant of; a product of its own when absent. */
  productId?: string;
  /** Its price in the store's currency, a decimal string ("0.00" when absent). */
  price?: string;
  /** `available` per location id; stocked at every location with 0 when absent. */
  available?: Record<string, number>;
}

export interface SeedCustomer {
  /** gid://shopify/Customer/…; a new one when absent. */
  id?: string;
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  phone?: string | null;
  addresses?: SimMailingAddress[];
}

/** A customer's address: MailingAddressInput's fields as set (country and province by code). */
export interface SimMailingAddress {
  address1?: string | null;
  address2?: string | null;
  city?: string | null;
  company?: string | null;
  zip?: string | null;
  provinceCode?: string | null;
  countryCode?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  phone?: string | null;
}

export interface SimCustomer {
  id: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  phone: string | null;
  addresses: SimMailingAddress[];
  updatedAt: string;
}

/** A customerSet as the store received it. */
export interface RecordedCustomerMutation {
  at: string;
  identifier: Record<string, unknown> | null;
  input: Record<string, unknown>;
  /** The customer it set, when it found or created one. */
  customerId?: string;
  applied: boolean;
  /** Whether it changed any field (a repeat of the same values does not). */
  changed: boolean;
  userErrors: string[];
}

/** A company location's address: CompanyAddressInput's fields (the country and region by code). */
export interface CompanyAddressFields {
  address1?: string | null;
  address2?: string | null;
  city?: string | null;
  zip?: string | null;
  zoneCode?: string | null;
  countryCode?: string | null;
  recipient?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  phone?: string | null;
}

/** A location's address as the store holds it, every field set (null where none): one may be both of its addresses. */
export type SimCompanyAddress = { id: string } & { [K in keyof CompanyAddressFields]-?: string | null };

export interface SeedCompanyLocation {
  /** gid://shopify/CompanyLocation/…; a new one when absent. */
  id?: string;
  /** The company's name when absent. */
  name?: string;
  externalId?: string | null;
  phone?: string | null;
  billingAddress?: CompanyAddressFields | null;
  shippingAddress?: CompanyAddressFields | null;
  /** One address, the shipping address, for both (`billingAddress` ignored). */
  billingSameAsShipping?: boolean;
  taxRegistrationId?: string | null;
}

export interface SeedCompany {
  /** gid://shopify/Company/…; a new one when absent. */
  id?: string;
  name?: string;
  /** Where an integration keeps its own key: Crossdock's is the ERP account number. */
  externalId?: string | null;
  note?: string | null;
  locations?: SeedCompanyLocation[];
}

export interface SimCompany {
  id: string;
  name: string;
  externalId: string | null;
  note: string | null;
  customerSince: string;
  createdAt: string;
  updatedAt: string;
}

export interface SimCompanyLocation {
  id: string;
  companyId: string;
  name: string;
  externalId: string | null;
  phone: string | null;
  locale: string | null;
  note: string | null;
  billingAddress: SimCompanyAddress | null;
  shippingAddress: SimCompanyAddress | null;
  taxRegistrationId: string | null;
  taxExempt: boolean;
  taxExemptions: string[];
  createdAt: string;
  updatedAt: string;
}

/** A company or company location mutation as the store received it. */
export interface RecordedCompanyMutation {
  at: string;
  mutation: string;
  /** The company or location it names (the company created, for companyCreate). */
  target: string;
  args: Record<string, unknown>;
  applied: boolean;
  /** Whether it changed anything (a repeat of the same values does not, and sends no webhook). */
  changed: boolean;
  userErrors: string[];
}

/** An app's webhook subscription: where the store posts, and the secret it signs with. */
export interface WebhookSubscription {
  url: string;
  secret: string;
  /** The topics it takes; companies' and locations' (`companies/*`, `company_locations/*`) when absent. */
  topics?: string[];
}

/** The topic of a change to an inventory level, sent only to a subscription that names it. */
const LEVEL_TOPIC = 'inventory_levels/update';

/** A webhook the store sent of its own accord, after a change, with what the receiver answered. */
export interface StoreWebhook {
  at: string;
  topic: string;
  payload: Record<string, unknown>;
  eventId?: string;
  triggeredAt?: string;
  /** Empty when no subscription was set. */
  deliveries: Array<{ webhookId: string; status: number; body?: string; error?: string }>;
}

export interface SimLevel {
  available: number;
  onHand: number;
  updatedAt: string;
}

export interface SimInventoryItem {
  id: string;
  sku: string;
  variantId: string;
  levels: Map<string, SimLevel>;
}

export interface SimVariant {
  id: string;
  productId: string;
  sku: string;
  title: string;
  inventoryItemId: string;
  price: string;
}

/** A B2B catalog's price list: fixed prices by variant id. */
export interface SimPriceList {
  id: string;
  name: string;
  currency: string;
  fixedPrices: Map<string, { amount: string; currencyCode: string }>;
}

/** A price mutation as the store received it. */
export interface RecordedPriceMutation {
  at: string;
  mutation: 'productVariantsBulkUpdate' | 'priceListFixedPricesAdd' | 'priceListFixedPricesDelete';
  /** The product, or the price list. */
  target: string;
  /** Whether it changed anything: a call with userErrors changes nothing (unless allowPartialUpdates). */
  applied: boolean;
  userErrors: string[];
  /** The entries as sent: amounts exactly as they came (a string, or a number where a client sent one). */
  entries: Array<{ variantId: string; sku?: string; amount?: unknown; currencyCode?: unknown }>;
}

export interface RecordedMutation {
  at: string;
  apiVersion: string;
  idempotencyKey?: string;
  name: string;
  reason: string;
  referenceDocumentUri?: string;
  applied: boolean;
  userErrors: string[];
  quantities: Array<{ sku?: string; inventoryItemId: string; locationId: string; quantity: number; before?: number }>;
}

/**
 * A bulk query operation (`bulkOperationRunQuery`): RUNNING until its delay has passed, then COMPLETED, its result
 * read then from the store as it is and written as Shopify writes it (JSONL, a line a node, a nested connection's
 * nodes on lines of their own with `__parentId`), or FAILED as `/_control/faults` asked.
 */
export interface SimBulkOperation {
  id: string;
  query: string;
  status: 'CREATED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELED' | 'EXPIRED';
  errorCode: string | null;
  createdAt: string;
  completedAt: string | null;
  objectCount: number;
  rootObjectCount: number;
  fileSize: number | null;
  url: string | null;
  /** Times its result was downloaded. */
  downloads: number;
  /** The result, once completed. */
  jsonl?: string;
  /** When it ends, and how (the errorCode of a failure asked for). */
  endsAt: number;
  failWith?: string;
  selections: GqlSelection[];
  /** Where its result is served: the simulator's address, with its mount prefix. */
  base: string;
}

export interface RecordedRequest {
  at: number;
  apiVersion: string;
  operation?: 'query' | 'mutation';
  name?: string;
  status: number;
  requestedCost?: number;
  actualCost?: number | null;
  throttled: boolean;
}

interface Bucket {
  maximumAvailable: number;
  restoreRate: number;
  available: number;
  at: number;
}

interface State {
  locations: Map<string, { id: string; name: string }>;
  variants: Map<string, SimVariant>;
  /** Variants by SKU, in the order they were added: a large store's searches by SKU stay cheap. */
  variantsBySku: Map<string, SimVariant[]>;
  items: Map<string, SimInventoryItem>;
  bucket: Bucket;
  latencyMs: [number, number];
  mutations: RecordedMutation[];
  requests: RecordedRequest[];
  priceLists: Map<string, SimPriceList>;
  priceMutations: RecordedPriceMutation[];
  customers: Map<string, SimCustomer>;
  customerMutations: RecordedCustomerMutation[];
  companies: Map<string, SimCompany>;
  companyLocations: Map<string, SimCompanyLocation>;
  companyMutations: RecordedCompanyMutation[];
  webhookSubscription: WebhookSubscription | null;
  /** Companies and locations changed since their webhooks last went, with the topic each sends (the first change's). */
  pendingWebhooks: Map<string, string>;
  /** Inventory levels changed since their webhooks last went, as each change left them (kept only while subscribed). */
  pendingLevelWebhooks: Array<Record<string, unknown>>;
  webhooks: StoreWebhook[];
  /** Mutation fields run, by name (those of a throttled or unparsable request are not). */
  mutationCounts: Record<string, number>;
  idempotency: Map<string, { fingerprint: string; payload: GqlObject }>;
  nextId: number;
  orders: Map<string, SimOrder>;
  /** Until this time every Admin API call is answered 503 (a store that is down); 0 when up. */
  downUntil: number;
  /** The next this many mutations are applied, then their connection is dropped before the answer. */
  loseAnswers: number;
  /** When set, fulfillmentCreate answers this userError and creates nothing. */
  refuseFulfillments?: string;
  /** Each mutation is applied at once and answered this much later (a caller may die in between). */
  mutationAnswerDelayMs: number;
  /** Bulk query operations by id, in the order they were run. */
  bulkOperations: Map<string, SimBulkOperation>;
  bulkOperationDelayMs: number;
  /** When set, the next bulk query operation ends FAILED with this errorCode. */
  failNextBulkOperation?: string;
}

/** An order with its fulfillment orders (one per location its lines were assigned to) and fulfillments. */
export interface SimOrder {
  id: string;
  legacyId: string;
  lineItems: Array<{ id: string; sku: string; quantity: number; fulfilled: number }>;
  fulfillmentOrders: Array<{ id: string; locationId: string; lineItems: Array<{ id: string; lineItemId: string; totalQuantity: number; remaining: number }> }>;
  fulfillments: SimFulfillment[];
}

export interface SimFulfillment {
  id: string;
  createdAt: string;
  notifyCustomer: boolean;
  locationId: string;
  trackingInfo: Array<{ number: string | null; company: string | null; url: string | null }>;
  lineItems: Array<{ lineItemId: string; sku: string; quantity: number }>;
}

/** A GraphQL object: fields are values or resolvers of the field's arguments. */
type GqlObject = { __typename: string } & Record<string, unknown>;

/** An error that ends the operation: GraphQL's top-level `errors`. */
class GraphQLError extends Error {
  constructor(
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const MAX_QUERY_COST = 1000;
const MAX_PAGE_SIZE = 250;
const MAX_INPUT_ARRAY = 250;
const MUTATION_COST = 10;
/** Idempotency keys remembered, the oldest forgotten first (Shopify keeps them for a while, not for ever). */
const KEEP_IDEMPOTENCY_KEYS = 10_000;
const INVALID_TOKEN = '[API] Invalid API key or access token (unrecognized login or wrong password)';
/** The reasons inventorySetQuantities accepts. */
const REASONS = new Set([
  'correction', 'cycle_count_available', 'damaged', 'movement_created', 'movement_updated', 'movement_received', 'movement_canceled', 'other',
  'promotion', 'quality_control', 'received', 'reservation_created', 'reservation_deleted', 'reservation_updated', 'restock', 'safety_stock', 'shrinkage',
]);
/** The messages of InventorySetQuantitiesUserErrorCode, as Shopify's reference gives them. */
const USER_ERROR_MESSAGES: Record<string, string> = {
  CHANGE_FROM_QUANTITY_STALE: 'The changeFromQuantity value does not match persisted value.',
  COMPARE_QUANTITY_REQUIRED: 'The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity.',
  COMPARE_QUANTITY_STALE: 'The compareQuantity value does not match persisted value.',
  IDEMPOTENCY_KEY_PARAMETER_MISMATCH: 'The same idempotency key cannot be used with different operation parameters.',
  INVALID_INVENTORY_ITEM: 'The specified inventory item could not be found.',
  INVALID_LOCATION: 'The specified location could not be found.',
  INVALID_NAME: "The quantity name must be either 'available' or 'on_hand'.",
  INVALID_QUANTITY_NEGATIVE: "The quantity can't be negative.",
  INVALID_QUANTITY_TOO_HIGH: "The total quantity can't be higher than 1,000,000,000.",
  INVALID_REASON: 'The specified reason is invalid.',
  ITEM_NOT_STOCKED_AT_LOCATION: 'The specified inventory item is not stocked at the location.',
  NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR: 'The combination of inventoryItemId and locationId must be unique.',
};

export const DEFAULT_LOCATIONS = [
  { id: 'gid://shopify/Location/1', name: 'East warehouse' },
  { id: 'gid://shopify/Location/2', name: 'West warehouse' },
];

/** Shopify's documentation's example customer. */
export const DEFAULT_CUSTOMERS: SeedCustomer[] = [
  { id: 'gid://shopify/Customer/706405506930370084', firstName: 'Bob', lastName: 'Bobsen', email: 'bob@example.com', phone: '+13125551212', addresses: [{ address1: '123 Amoebobacterium St', city: 'Ottawa', zip: 'K2P0V6', provinceCode: 'ON', countryCode: 'CA' }] },
];

/** Shopify's documentation's example company, with its Montreal location (webhook_company_locations_create.json). */
export const DEFAULT_COMPANIES: SeedCompany[] = [
  {
    id: 'gid://shopify/Company/408372092144951419', name: 'Example Company', externalId: '123456789', note: 'This is an example company',
    locations: [{
      id: 'gid://shopify/CompanyLocation/408372092144951419', name: 'Montreal', externalId: '123456789', phone: '555-555-5555', taxRegistrationId: '1214214141', billingSameAsShipping: true,
      shippingAddress: { address1: '175 Sherbrooke Street West', city: 'Montreal', zip: 'H3A 0G4', zoneCode: 'QC', countryCode: 'CA', recipient: 'Adam Felix', phone: '+49738001239' },
    }],
  },
];

export const DEFAULT_PRICE_LISTS = [{ id: 'gid://shopify/PriceList/1', name: 'B2B USD', currency: 'USD' }];

/** The messages of ProductVariantsBulkUpdateUserErrorCode and PriceListPriceUserErrorCode, as Shopify's reference gives them. */
const PRICE_ERROR_MESSAGES: Record<string, string> = {
  PRODUCT_DOES_NOT_EXIST: 'Product does not exist.',
  PRODUCT_VARIANT_DOES_NOT_EXIST: 'Product variant does not exist.',
  PRODUCT_VARIANT_ID_MISSING: 'Product variant is missing ID attribute.',
  MUST_BE_FOR_THIS_PRODUCT: 'Input must be for this product.',
  GREATER_THAN_OR_EQUAL_TO: 'The price of the variant must be greater than or equal to zero.',
  PRICE_LIST_NOT_FOUND: "The price list doesn't exist.",
  PRICE_LIST_CURRENCY_MISMATCH: "The specified currency doesn't match the price list's currency.",
  VARIANT_NOT_FOUND: "A fixed price for the specified product variant doesn't exist.",
};

export function createShopifySimulator(options: ShopifySimulatorOptions = {}) {
  const settings = {
    accessToken: options.accessToken,
    shopDomain: options.shopDomain ?? 'crossdock-demo.myshopify.com',
    apiVersion: options.apiVersion ?? '2025-07',
    currency: options.currency ?? 'USD',
    keepRequests: options.keepRequests ?? Number.POSITIVE_INFINITY,
  };
  const maximumAvailable = options.maximumAvailable ?? 2000;
  const state: State = {
    locations: new Map((options.locations ?? DEFAULT_LOCATIONS).map((l) => [l.id, { ...l }])),
    variants: new Map(),
    variantsBySku: new Map(),
    items: new Map(),
    bucket: { maximumAvailable, restoreRate: options.restoreRate ?? 100, available: maximumAvailable, at: Date.now() },
    latencyMs: options.latencyMs ?? [0, 0],
    mutations: [],
    requests: [],
    priceLists: new Map((options.priceLists ?? DEFAULT_PRICE_LISTS).map((l) => [l.id, { id: l.id, name: l.name ?? l.id, currency: l.currency, fixedPrices: new Map() }])),
    priceMutations: [],
    customers: new Map(),
    customerMutations: [],
    companies: new Map(),
    companyLocations: new Map(),
    companyMutations: [],
    webhookSubscription: options.webhooks ?? null,
    pendingWebhooks: new Map(),
    pendingLevelWebhooks: [],
    webhooks: [],
    mutationCounts: {},
    idempotency: new Map(),
    nextId: 1,
    orders: new Map(),
    downUntil: 0,
    loseAnswers: 0,
    mutationAnswerDelayMs: 0,
    bulkOperations: new Map(),
    bulkOperationDelayMs: options.bulkOperationDelayMs ?? 50,
  };
  for (const seed of options.customers ?? DEFAULT_CUSTOMERS) addCustomer(state, seed);
  for (const seed of options.variants ?? defaultSimulatorData().items.map((item) => ({ sku: item.number, title: item.displayName }))) addVariant(state, seed);
  // After the variants, whose ids stay as they were before there were companies.
  for (const seed of options.companies ?? DEFAULT_COMPANIES) addCompany(state, seed);

  const plugin: FastifyPluginAsync = async (instance) => {
    parseJsonBodies(instance);
    instance.setErrorHandler((error: FastifyError, _request, reply) => reply.status(error.statusCode ?? 500).send({ errors: error.message }));

    instance.post<{ Params: { version: string } }>('/admin/api/:version/graphql.json', async (request, reply) => {
      const started = Date.now();
      const apiVersion = request.params.version;
      const record: RecordedRequest = { at: started, apiVersion, status: 200, throttled: false };
      const answer = (status: number, body: unknown) => {
        record.status = status;
        state.requests.push(record);
        for (const kept of [state.requests, state.mutations, state.priceMutations, state.customerMutations, state.companyMutations, state.webhooks]) if (kept.length > settings.keepRequests) kept.splice(0, kept.length - settings.keepRequests);
        return reply.status(status).headers({ 'content-type': 'application/json; charset=utf-8', 'x-shopify-api-version': apiVersion }).send(JSON.stringify(body));
      };
      const [min, max] = state.latencyMs;
      if (max > 0) await sleep(min + Math.random() * (max - min));
      if (Date.now() < state.downUntil) return answer(503, { errors: 'Service Unavailable' });
      const token = request.headers['x-shopify-access-token'];
      if (!token || (settings.accessToken !== undefined && token !== settings.accessToken)) return answer(401, { errors: INVALID_TOKEN });
      const body = (request.body ?? {}) as { query?: unknown; variables?: unknown; operationName?: unknown };
      if (typeof body.query !== 'string') return answer(400, { errors: { query: 'Required parameter missing or invalid' } });

      let operation: GqlOperation;
      try {
        const variables = body.variables && typeof body.variables === 'object' ? { ...(body.variables as Record<string, unknown>) } : {};
        operation = parseOperation(body.query, variables, typeof body.operationName === 'string' ? body.operationName : undefined);
      } catch (error) {
        if (!(error instanceof GraphQLSyntaxError)) throw error;
        return answer(200, { errors: [{ message: error.message, extensions: { code: 'PARSE_ERROR' } }] });
      }
      record.operation = operation.type;
      record.name = operation.name;
      const requested = requestedCost(operation);
      record.requestedCost = requested;
      const bucket = restore(state.bucket, Date.now());
      const cost = (actual: number | null) => ({
        requestedQueryCost: requested,
        actualQueryCost: actual,
        throttleStatus: { maximumAvailable: bucket.maximumAvailable, currentlyAvailable: Math.floor(bucket.available), restoreRate: bucket.restoreRate },
      });
      if (requested > MAX_QUERY_COST) {
        return answer(200, {
          errors: [{ message: `Query cost is ${requested}, which exceeds the single query max cost limit (${MAX_QUERY_COST}).`, extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost: MAX_QUERY_COST } }],
          extensions: { cost: cost(null) },
        });
      }
      if (requested > bucket.available) {
        record.throttled = true;
        return answer(200, {
          errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
          extensions: { cost: cost(null) },
        });
      }
      bucket.available -= requested;
      try {
        // The address the store serves bulk results at, under the prefix the simulator is mounted at.
        const bulkBase = `${request.protocol}://${request.headers.host ?? 'localhost'}${request.url.slice(0, request.url.indexOf('/admin/api/'))}`;
        const root = operation.type === 'mutation' ? mutationRoot(state, apiVersion, settings, bulkBase) : queryRoot(state, settings);
        const data = execute(operation.selections, root);
        const actual = operation.type === 'mutation' ? requested : actualCost(operation.selections, data);
        bucket.available = Math.min(bucket.maximumAvailable, bucket.available + requested - actual);
        record.actualCost = actual;
        if (operation.type === 'mutation' && state.mutationAnswerDelayMs > 0) await sleep(state.mutationAnswerDelayMs);
        if (operation.type === 'mutation' && state.loseAnswers > 0) {
          // Applied, but the answer never reaches the caller: a connection lost at the worst moment.
          state.loseAnswers--;
          request.raw.socket.destroy();
          return reply;
        }
        return answer(200, { data, extensions: { cost: cost(actual) } });
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        bucket.available = Math.min(bucket.maximumAvailable, bucket.available + requested);
        return answer(200, { errors: [{ message: error.message, extensions: error.extensions }], extensions: { cost: cost(0) } });
      } finally {
        // Shopify sends the webhooks of an app's own changes too: that is how an app meets its echoes.
        void publishWebhooks(state, settings);
      }
    });

    // Control API for tests and the demo: not part of Shopify.
    instance.get('/_control/state', async () => ({
      bucket: bucketView(restore(state.bucket, Date.now())),
      latencyMs: state.latencyMs,
      locations: [...state.locations.values()],
      variants: [...state.variants.values()].map((v) => variantView(state, v)),
      mutations: state.mutations.length,
      priceMutations: state.priceMutations.length,
      customerMutations: state.customerMutations.length,
      customers: [...state.customers.values()],
      companyMutations: state.companyMutations.length,
      companies: [...state.companies.values()].map((c) => companyView(state, c)),
      webhooks: state.webhooks.length,
      mutationCounts: state.mutationCounts,
      requests: state.requests.length,
    }));
    instance.get('/_control/requests', async () => state.requests);
    instance.get('/_control/bulk-operations', async () => [...state.bulkOperations.values()].map((op) => { settleBulkOperation(state, settings, op); return bulkOperationView(op); }));
    // A bulk operation's result, as the signed URL of Shopify's storage serves it (no access token).
    instance.get<{ Params: { file: string } }>('/_bulk/:file', async (request, reply) => {
      const op = state.bulkOperations.get(`gid://shopify/BulkOperation/${request.params.file.replace(/\.jsonl$/, '')}`);
      if (op) settleBulkOperation(state, settings, op);
      if (op?.jsonl === undefined) return reply.status(404).send({ errors: 'no such file' });
      op.downloads++;
      return reply.status(200).header('content-type', 'application/jsonl').send(op.jsonl);
    });
    instance.get('/_control/mutations', async () => state.mutations);
    instance.get('/_control/price-mutations', async () => state.priceMutations);
    instance.get('/_control/customers', async () => [...state.customers.values()]);
    instance.get('/_control/customer-mutations', async () => state.customerMutations);
    // One customer, or a list of them, as a storefront or a merchant creates them.
    instance.post('/_control/customers', async (request, reply) => {
      const seeds = [request.body ?? {}].flat() as SeedCustomer[];
      if (seeds.some((seed) => seed.id !== undefined && !CUSTOMER_GID.test(String(seed.id)))) return reply.status(400).send({ errors: 'id must be gid://shopify/Customer/<number>' });
      const added = seeds.map((seed) => addCustomer(state, seed));
      return reply.status(201).send(Array.isArray(request.body) ? added : added[0]);
    });
    instance.get('/_control/companies', async () => [...state.companies.values()].map((c) => companyView(state, c)));
    instance.get('/_control/company-mutations', async () => state.companyMutations);
    // A company with its locations, or a list of them, as a merchant sets them up (no webhooks).
    instance.post('/_control/companies', async (request, reply) => {
      const seeds = [request.body ?? {}].flat() as SeedCompany[];
      const badId = (id: unknown, gid: RegExp) => id !== undefined && !gid.test(String(id));
      if (seeds.some((seed) => badId(seed.id, COMPANY_GID) || (seed.locations ?? []).some((l) => badId(l.id, COMPANY_LOCATION_GID)))) {
        return reply.status(400).send({ errors: 'ids must be gid://shopify/Company/<number> and gid://shopify/CompanyLocation/<number>' });
      }
      const added = seeds.map((seed) => companyView(state, addCompany(state, seed)));
      return reply.status(201).send(Array.isArray(request.body) ? added : added[0]);
    });
    instance.get<{ Params: { id: string } }>('/_control/companies/:id', async (request, reply) => {
      const company = state.companies.get(`gid://shopify/Company/${request.params.id}`);
      return company ? companyView(state, company) : reply.status(404).send({ errors: 'no such company' });
    });
    // A merchant edits a company in the admin (CompanyInput's fields): its companies/update webhook goes before the answer.
    instance.post<{ Params: { id: string } }>('/_control/companies/:id', async (request, reply) => {
      const company = state.companies.get(`gid://shopify/Company/${request.params.id}`);
      if (!company) return reply.status(404).send({ errors: 'no such company' });
      const edit = (request.body ?? {}) as Args;
      const errors = companyErrors(state, edit, company, []);
      if (errors.length > 0) return reply.status(422).send({ errors });
      change(state, company, 'companies/update', () => setFields(company, edit, KEPT_COMPANY_FIELDS));
      return { company: companyView(state, company), webhooks: await publishWebhooks(state, settings) };
    });
    instance.get<{ Params: { id: string } }>('/_control/company-locations/:id', async (request, reply) => {
      const location = state.companyLocations.get(`gid://shopify/CompanyLocation/${request.params.id}`);
      return location ?? reply.status(404).send({ errors: 'no such company location' });
    });
    // A merchant edits a location in the admin: CompanyLocationUpdateInput's fields, `billingAddress` and
    // `shippingAddress` (CompanyAddressInput, null removes), `taxRegistrationId`. Its company_locations/update webhook
    // goes before the answer.
    instance.post<{ Params: { id: string } }>('/_control/company-locations/:id', async (request, reply) => {
      const location = state.companyLocations.get(`gid://shopify/CompanyLocation/${request.params.id}`);
      if (!location) return reply.status(404).send({ errors: 'no such company location' });
      const edit = (request.body ?? {}) as Args;
      const addresses = (['billingAddress', 'shippingAddress'] as const).filter((key) => edit[key] !== undefined);
      const errors = [...locationErrors(edit, []), ...addresses.flatMap((key) => (edit[key] === null ? [] : addressErrors(edit[key] as Args, [key])))];
      if (errors.length > 0) return reply.status(422).send({ errors });
      change(state, location, 'company_locations/update', () => {
        setFields(location, edit, KEPT_LOCATION_FIELDS);
        for (const key of addresses) {
          if (edit[key] === null) location[key] = null;
          else placeAddress(state, location, edit[key] as Args, [key === 'billingAddress' ? 'BILLING' : 'SHIPPING']);
        }
        if (edit.taxRegistrationId !== undefined) location.taxRegistrationId = (edit.taxRegistrationId as string | null) || null;
      });
      return { location, webhooks: await publishWebhooks(state, settings) };
    });
    // The app's subscription: where the store sends its webhooks (of companies and locations, or of the `topics` named); `url: null` stops them.
    instance.post('/_control/webhooks/subscription', async (request, reply) => {
      const body = (request.body ?? {}) as { url?: string | null; secret?: string; topics?: unknown };
      if (body.topics !== undefined && !(Array.isArray(body.topics) && body.topics.every((t) => typeof t === 'string'))) return reply.status(400).send({ errors: 'topics must be a list of topics' });
      if (body.url === null) state.webhookSubscription = null;
      else if (typeof body.url === 'string' && typeof body.secret === 'string') state.webhookSubscription = { url: body.url, secret: body.secret, ...(body.topics ? { topics: body.topics as string[] } : {}) };
      else return reply.status(400).send({ errors: 'url and secret are required (url null to stop)' });
      return { url: state.webhookSubscription?.url ?? null };
    });
    instance.get('/_control/webhooks/sent', async () => state.webhooks);
    instance.get('/_control/price-lists', async () => [...state.priceLists.values()].map((l) => priceListView(state, l)));
    // A price list of a B2B catalog, as a merchant creates one.
    instance.post('/_control/price-lists', async (request, reply) => {
      const body = (request.body ?? {}) as { id?: string; currency?: string; name?: string };
      if (typeof body.currency !== 'string' || !/^[A-Z]{3}$/.test(body.currency)) return reply.status(400).send({ errors: 'currency is required' });
      return reply.status(201).send(priceListView(state, addPriceList(state, body as { id?: string; currency: string; name?: string })));
    });
    instance.post('/_control/bucket', async (request) => {
      const body = (request.body ?? {}) as { maximumAvailable?: number; restoreRate?: number; currentlyAvailable?: number };
      const bucket = restore(state.bucket, Date.now());
      if (body.maximumAvailable !== undefined) bucket.maximumAvailable = Number(body.maximumAvailable);
      if (body.restoreRate !== undefined) bucket.restoreRate = Number(body.restoreRate);
      bucket.available = Math.min(bucket.maximumAvailable, body.currentlyAvailable !== undefined ? Number(body.currentlyAvailable) : bucket.available);
      return bucketView(bucket);
    });
    instance.post('/_control/latency', async (request) => {
      const body = (request.body ?? {}) as { minMs?: number; maxMs?: number };
      state.latencyMs = [Number(body.minMs ?? 0), Number(body.maxMs ?? body.minMs ?? 0)];
      return { latencyMs: state.latencyMs };
    });
    // One variant, or a list of them.
    instance.post('/_control/variants', async (request, reply) => {
      const seeds = [request.body ?? {}].flat() as Array<Partial<SeedVariant>>;
      if (seeds.some((seed) => typeof seed.sku !== 'string' || seed.sku === '')) return reply.status(400).send({ errors: 'sku is required' });
      const added = seeds.map((seed) => variantView(state, addVariant(state, { sku: seed.sku!, title: seed.title, available: seed.available, productId: seed.productId, price: seed.price })));
      return reply.status(201).send(Array.isArray(request.body) ? added : added[0]);
    });
    // A merchant or another app changes a quantity in Shopify.
    instance.put('/_control/inventory-levels', async (request, reply) => {
      const body = (request.body ?? {}) as { sku?: string; inventoryItemId?: string; locationId?: string; available?: number };
      const variant = body.sku === undefined ? undefined : variantBySku(state, body.sku);
      const item = state.items.get(body.inventoryItemId ?? variant?.inventoryItemId ?? '');
      if (!item) return reply.status(404).send({ errors: 'no such inventory item' });
      if (!body.locationId || !state.locations.has(body.locationId)) return reply.status(404).send({ errors: 'no such location' });
      const level = item.levels.get(body.locationId) ?? { available: 0, onHand: 0, updatedAt: '' };
      const available = Number(body.available ?? 0);
      Object.assign(level, { onHand: level.onHand + available - level.available, available, updatedAt: new Date().toISOString() });
      item.levels.set(body.locationId, level);
      levelChanged(state, item, body.locationId, level);
      // Its inventory_levels/update webhook goes before the answer, to a subscription that takes it.
      return { inventoryItemId: item.id, locationId: body.locationId, ...level, webhooks: await publishWebhooks(state, settings) };
    });
    // An order as a storefront took it: its lines go to one fulfillment order per location (the first by default).
    instance.post('/_control/orders', async (request, reply) => {
      const body = (request.body ?? {}) as { id?: string | number; lineItems?: Array<{ id?: string | number; sku?: string; quantity?: number; locationId?: string }> };
      const lines = body.lineItems ?? [];
      if (lines.length === 0 || lines.some((l) => typeof l.sku !== 'string' || !(Number(l.quantity) > 0))) return reply.status(400).send({ errors: 'lineItems with sku and quantity are required' });
      return reply.status(201).send(orderView(addOrder(state, body.id === undefined ? undefined : String(body.id), lines.map((l) => ({ ...l, id: l.id === undefined ? undefined : String(l.id), quantity: Number(l.quantity) })))));
    });
    instance.get<{ Params: { id: string } }>('/_control/orders/:id', async (request, reply) => {
      const order = state.orders.get(`gid://shopify/Order/${request.params.id}`);
      return order ? orderView(order) : reply.status(404).send({ errors: 'no such order' });
    });
    // The store is down for `downForMs` (503 to every Admin API call); `loseAnswers`: the next mutations apply,
    // unanswered; `refuseFulfillments`: a userError to every fulfillmentCreate; `mutationAnswerDelayMs`: applied, answered late.
    // `failNextBulkOperation`: the next bulk query operation ends FAILED with this errorCode (null: it completes);
    // `bulkOperationDelayMs`: how long bulk query operations run.
    instance.post('/_control/faults', async (request) => {
      const body = (request.body ?? {}) as {
        downForMs?: number; loseAnswers?: number; refuseFulfillments?: string | null; mutationAnswerDelayMs?: number; failNextBulkOperation?: string | null; bulkOperationDelayMs?: number;
      };
      if (body.failNextBulkOperation !== undefined) state.failNextBulkOperation = body.failNextBulkOperation ?? undefined;
      if (body.bulkOperationDelayMs !== undefined) state.bulkOperationDelayMs = Number(body.bulkOperationDelayMs);
      if (body.mutationAnswerDelayMs !== undefined) state.mutationAnswerDelayMs = Number(body.mutationAnswerDelayMs);
      if (body.refuseFulfillments !== undefined) state.refuseFulfillments = body.refuseFulfillments ?? undefined;
      if (body.downForMs !== undefined) state.downUntil = Number(body.downForMs) > 0 ? Date.now() + Number(body.downForMs) : 0;
      if (body.loseAnswers !== undefined) state.loseAnswers = Number(body.loseAnswers);
      return {
        downUntil: state.downUntil, loseAnswers: state.loseAnswers, refuseFulfillments: state.refuseFulfillments ?? null, mutationAnswerDelayMs: state.mutationAnswerDelayMs,
        failNextBulkOperation: state.failNextBulkOperation ?? null, bulkOperationDelayMs: state.bulkOperationDelayMs,
      };
    });
    instance.post('/_control/webhooks/send', async (request, reply) => {
      const body = (request.body ?? {}) as WebhookSendRequest;
      if (typeof body.url !== 'string' || typeof body.secret !== 'string' || typeof body.topic !== 'string' || body.payload === undefined) {
        return reply.status(400).send({ errors: 'url, secret, topic and payload are required' });
      }
      return sendWebhook(body, settings);
    });
  };

  const server = standaloneServer(plugin);
  return {
    plugin, state, settings, listen: server.listen, close: server.close,
    /** The price of the SKU's variant; undefined when the store has no such SKU. */
    variantPrice: (sku: string): string | undefined => variantBySku(state, sku)?.price,
    /** The customer as the store holds it; undefined when it has no such customer. */
    customer: (id: string): SimCustomer | undefined => structuredClone(state.customers.get(id)),
    /** Adds (or replaces) a customer, as a storefront or a merchant would. */
    addCustomer: (seed: SeedCustomer): SimCustomer => structuredClone(addCustomer(state, seed)),
    /** The company with its locations as the store holds them; undefined when it has no such company. */
    company: (id: string) => {
      const company = state.companies.get(id);
      return company && structuredClone(companyView(state, company));
    },
    /** Adds (or replaces) a company and its locations, as a merchant sets them up (no webhooks). */
    addCompany: (seed: SeedCompany) => structuredClone(companyView(state, addCompany(state, seed))),
    /** The fixed prices of a price list by SKU; undefined when there is no such list. */
    fixedPrices: (priceListId: string) => {
      const list = state.priceLists.get(priceListId);
      return list && priceListView(state, list).fixedPrices;
    },
  };
}

export type ShopifySimulator = ReturnType<typeof createShopifySimulator>;

export interface WebhookSendRequest {
  url: string;
  /** The app's webhook secret: the HMAC key. */
  secret: string;
  topic: string;
  /** The body: sent as is when a string (exact bytes), else as JSON. */
  payload: unknown;
  /** Deliveries of the same event (at-least-once delivery): each with its own webhook id, all with one event id. */
  copies?: number;
  /** When the event happened; an older time makes a stale retry. Default: now. */
  triggeredAt?: string;
  eventId?: string;
  shopDomain?: string;
  apiVersion?: string;
}

/** Posts the deliveries one after another, as Shopify signs them; answers what each receiver said. */
async function sendWebhook(request: WebhookSendRequest, defaults: { shopDomain: string; apiVersion: string }) {
  const raw = typeof request.payload === 'string' ? request.payload : JSON.stringify(request.payload);
  const eventId = request.eventId ?? randomUUID();
  const triggeredAt = request.triggeredAt ?? new Date().toISOString();
  const deliveries: Array<{ webhookId: string; status: number; body?: string; error?: string }> = [];
  for (let copy = 0; copy < Math.min(Math.max(1, Number(request.copies ?? 1)), 20); copy++) {
    const webhookId = randomUUID();
    try {
      const response = await fetch(request.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': request.topic,
          'x-shopify-hmac-sha256': signShopifyBody(request.secret, raw),
          'x-shopify-shop-domain': request.shopDomain ?? defaults.shopDomain,
          'x-shopify-api-version': request.apiVersion ?? defaults.apiVersion,
          'x-shopify-webhook-id': webhookId,
          'x-shopify-event-id': eventId,
          'x-shopify-triggered-at': triggeredAt,
        },
        body: raw,
        // Shopify gives a receiver 5 seconds.
        signal: AbortSignal.timeout(5000),
      });
      deliveries.push({ webhookId, status: response.status, body: (await response.text()).slice(0, 500) });
    } catch (error) {
      deliveries.push({ webhookId, status: 0, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return { eventId, triggeredAt, deliveries };
}

function addVariant(state: State, seed: SeedVariant): SimVariant {
  const n = state.nextId++;
  const variant: SimVariant = {
    id: `gid://shopify/ProductVariant/${44_000_000_000 + n}`,
    productId: seed.productId ?? `gid://shopify/Product/${8_000_000_000 + n}`,
    sku: seed.sku,
    title: seed.title ?? seed.sku,
    inventoryItemId: `gid://shopify/InventoryItem/${46_000_000_000 + n}`,
    price: seed.price ?? '0.00',
  };
  const now = new Date().toISOString();
  const stocked = seed.available ?? Object.fromEntries([...state.locations.keys()].map((id) => [id, 0]));
  const levels = new Map(Object.entries(stocked).map(([locationId, available]) => [locationId, { available, onHand: available, updatedAt: now }]));
  state.variants.set(variant.id, variant);
  state.variantsBySku.set(seed.sku, [...(state.variantsBySku.get(seed.sku) ?? []), variant]);
  state.items.set(variant.inventoryItemId, { id: variant.inventoryItemId, sku: seed.sku, variantId: variant.id, levels });
  return variant;
}

function variantView(state: State, variant: SimVariant) {
  const levels = state.items.get(variant.inventoryItemId)!.levels;
  return { ...variant, levels: Object.fromEntries([...levels].map(([locationId, level]) => [locationId, { available: level.available, onHand: level.onHand }])) };
}

function variantBySku(state: State, sku: string): SimVariant | undefined {
  return state.variantsBySku.get(sku)?.[0];
}

function addPriceList(state: State, list: { id?: string; currency: string; name?: string }): SimPriceList {
  const id = list.id ?? `gid://shopify/PriceList/${30_000_000_000 + state.nextId++}`;
  const priceList: SimPriceList = { id, name: list.name ?? id, currency: list.currency, fixedPrices: state.priceLists.get(id)?.fixedPrices ?? new Map() };
  state.priceLists.set(id, priceList);
  return priceList;
}

function priceListView(state: State, list: SimPriceList) {
  const bySku = [...list.fixedPrices].map(([variantId, price]) => [state.variants.get(variantId)?.sku ?? variantId, { variantId, ...price }] as const);
  return { id: list.id, name: list.name, currency: list.currency, fixedPrices: Object.fromEntries(bySku) };
}

function restore(bucket: Bucket, now: number): Bucket {
  bucket.available = Math.min(bucket.maximumAvailable, bucket.available + (bucket.restoreRate * (now - bucket.at)) / 1000);
  bucket.at = now;
  return bucket;
}

function bucketView(bucket: Bucket) {
  return { maximumAvailable: bucket.maximumAvailable, currentlyAvailable: Math.floor(bucket.available), restoreRate: bucket.restoreRate };
}

// ---- The schema subset, as objects whose fields resolve on demand ----

function queryRoot(state: State, settings: { shopDomain: string; currency: string }): GqlObject {
  return {
    __typename: 'QueryRoot',
    shop: { __typename: 'Shop', name: settings.shopDomain.split('.')[0], myshopifyDomain: settings.shopDomain, currencyCode: settings.currency },
    productVariants: (args: Args) => connection(matchingVariants(state, args.query).map((v) => variantNode(state, v)), args),
    inventoryItem: (args: Args) => itemNodeById(state, String(args.id)),
    // In the order items were added (Shopify's is by id, which grows the same way); `query` is not read.
    inventoryItems: (args: Args) => connection([...state.items.keys()], args, (id) => itemNodeById(state, id)!),
    location: (args: Args) => locationNode(state, String(args.id)),
    locations: (args: Args) => connection([...state.locations.keys()].map((id) => locationNode(state, id)!), args),
    order: (args: Args) => {
      const order = state.orders.get(String(args.id));
      return order ? orderNode(state, order) : null;
    },
    customer: (args: Args) => {
      const customer = state.customers.get(String(args.id));
      return customer ? customerNode(customer) : null;
    },
    company: (args: Args) => {
      const company = state.companies.get(String(args.id));
      return company ? companyNode(state, company) : null;
    },
    companyLocation: (args: Args) => {
      const location = state.companyLocations.get(String(args.id));
      return location ? companyLocationNode(state, location) : null;
    },
    node: (args: Args) => nodeById(state, String(args.id), settings),
    nodes: (args: Args) => (Array.isArray(args.ids) ? args.ids.map((id) => nodeById(state, String(id), settings)) : []),
    // The app's latest bulk query operation, whatever its status; null before the first.
    currentBulkOperation: (args: Args) => {
      if (args.type !== undefined && args.type !== 'QUERY') return null;
      const op = [...state.bulkOperations.values()].at(-1);
      return op ? bulkOperationNode(state, settings, op) : null;
    },
  };
}

function nodeById(state: State, id: string, settings: BulkSettings): GqlObject | null {
  const bulk = state.bulkOperations.get(id);
  if (bulk) return bulkOperationNode(state, settings, bulk);
  if (state.variants.has(id)) return variantNode(state, state.variants.get(id)!);
  if (state.companies.has(id)) return companyNode(state, state.companies.get(id)!);
  if (state.companyLocations.has(id)) return companyLocationNode(state, state.companyLocations.get(id)!);
  return itemNodeById(state, id) ?? locationNode(state, id);
}

function variantNode(state: State, variant: SimVariant): GqlObject {
  return {
    __typename: 'ProductVariant',
    id: variant.id,
    sku: variant.sku,
    title: variant.title,
    displayName: variant.title,
    price: variant.price,
    product: { __typename: 'Product', id: variant.productId, title: variant.title },
    inventoryItem: () => itemNodeById(state, variant.inventoryItemId),
  };
}

function itemNodeById(state: State, id: string): GqlObject | null {
  const item = state.items.get(id);
  if (!item) return null;
  const levelNode = (locationId: string, level: SimLevel): GqlObject => ({
    __typename: 'InventoryLevel',
    id: `gid://shopify/InventoryLevel/${numericId(locationId)}?inventory_item_id=${numericId(item.id)}`,
    updatedAt: level.updatedAt,
    location: () => locationNode(state, locationId),
    item: () => itemNodeById(state, item.id),
    quantities: (args: Args) =>
      (Array.isArray(args.names) ? args.names : []).map((name) => ({
        __typename: 'InventoryQuantity',
        name,
        quantity: name === 'available' ? level.available : name === 'on_hand' ? level.onHand : 0,
        updatedAt: level.updatedAt,
      })),
  });
  return {
    __typename: 'InventoryItem',
    id: item.id,
    sku: item.sku,
    tracked: true,
    variant: () => variantNode(state, state.variants.get(item.variantId)!),
    inventoryLevel: (args: Args) => {
      const level = item.levels.get(String(args.locationId));
      return level ? levelNode(String(args.locationId), level) : null;
    },
    inventoryLevels: (args: Args) => connection([...item.levels].map(([locationId, level]) => levelNode(locationId, level)), args),
  };
}

function locationNode(state: State, id: string): GqlObject | null {
  const location = state.locations.get(id);
  return location ? { __typename: 'Location', id: location.id, name: location.name, isActive: true } : null;
}

/** `sku:A OR sku:"B"`: the search terms this simulator understands; none given matches every variant. */
function matchingVariants(state: State, query: unknown): SimVariant[] {
  if (typeof query !== 'string' || query.trim() === '') return [...state.variants.values()];
  const skus = new Set<string>();
  for (const match of query.matchAll(/sku:(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^\s()]+))/g)) {
    skus.add((match[1] ?? match[2] ?? match[3] ?? '').replace(/\\(.)/g, '$1'));
  }
  // In the order the variants were added, as a scan of them all would find them.
  return [...skus].flatMap((sku) => state.variantsBySku.get(sku) ?? []).sort((a, b) => Number(numericId(a.id)) - Number(numericId(b.id)));
}

/** A page of `all` (made into nodes only for the page, so that a large store's pages stay cheap). */
function connection<T = GqlObject>(all: T[], args: Args, toNode: (item: T) => GqlObject = (item) => item as GqlObject): GqlObject {
  const first = args.first === undefined || args.first === null ? undefined : Number(args.first);
  const last = args.last === undefined || args.last === null ? undefined : Number(args.last);
  // A bulk operation reads every node of a connection: no page size is asked or checked.
  const unbounded = args[UNBOUNDED] === true;
  if (!unbounded && first === undefined && last === undefined) throw new GraphQLError('you must provide one of first or last', { code: 'BAD_REQUEST' });
  const size = unbounded ? all.length : (first ?? last)!;
  if (!unbounded && size > MAX_PAGE_SIZE) throw new GraphQLError(`The page size ${size} is greater than the maximum of ${MAX_PAGE_SIZE}.`, { code: 'BAD_REQUEST' });
  const cursor = (i: number) => Buffer.from(`cursor:${i}`).toString('base64');
  const after = typeof args.after === 'string' ? Number(Buffer.from(args.after, 'base64').toString().split(':')[1]) + 1 : 0;
  const start = first !== undefined ? after : Math.max(after, all.length - size);
  const page = all.slice(start, start + size).map(toNode);
  const end = start + page.length;
  return {
    __typename: 'Connection',
    nodes: page,
    edges: page.map((node, i) => ({ __typename: 'Edge', node, cursor: cursor(start + i) })),
    pageInfo: {
      __typename: 'PageInfo',
      hasNextPage: end < all.length,
      hasPreviousPage: start > 0,
      startCursor: page.length ? cursor(start) : null,
      endCursor: page.length ? cursor(end - 1) : null,
    },
  };
}

function mutationRoot(state: State, apiVersion: string, settings: BulkSettings, bulkBase: string): GqlObject {
  const resolvers: Record<string, (args: Args, field: GqlField) => GqlObject> = {
    bulkOperationRunQuery: (args) => runBulkQuery(state, settings, args.query, bulkBase),
    inventorySetQuantities: (args, field) => setQuantities(state, apiVersion, (args.input ?? {}) as SetQuantitiesInput, field),
    fulfillmentCreate: (args) => createFulfillment(state, (args.fulfillment ?? {}) as FulfillmentInput),
    fulfillmentTrackingInfoUpdate: (args) => updateTracking(state, String(args.fulfillmentId), (args.trackingInfoInput ?? {}) as TrackingInput),
    productVariantsBulkUpdate: (args) => updateVariants(state, String(args.productId ?? ''), args.variants, args.allowPartialUpdates === true),
    priceListFixedPricesAdd: (args) => addFixedPrices(state, String(args.priceListId ?? ''), args.prices),
    priceListFixedPricesDelete: (args) => deleteFixedPrices(state, String(args.priceListId ?? ''), args.variantIds),
    customerSet: (args) => setCustomer(state, (args.identifier ?? null) as Record<string, unknown> | null, (args.input ?? {}) as Record<string, unknown>),
    companyCreate: (args) => createCompany(state, args),
    companyUpdate: (args) => updateCompany(state, args),
    companyLocationUpdate: (args) => updateCompanyLocation(state, args),
    companyLocationAssignAddress: (args) => assignCompanyAddress(state, args),
    companyLocationTaxSettingsUpdate: (args) => updateTaxSettings(state, args),
  };
  const counted = Object.entries(resolvers).map(([name, resolve]) => [name, (args: Args, field: GqlField) => {
    state.mutationCounts[name] = (state.mutationCounts[name] ?? 0) + 1;
    return resolve(args, field);
  }]);
  return { __typename: 'Mutation', ...Object.fromEntries(counted) };
}

// ---- Customers ----

const CUSTOMER_GID = /^gid:\/\/shopify\/Customer\/\d+$/;

/** The GraphQL error of an input field its type does not define; `path` starts with the argument's name. */
function undefinedInputField(path: string, type: string): GraphQLError {
  const [argument, ...field] = path.split('.');
  return new GraphQLError(`Variable $${argument} of type ${type} was provided invalid value for ${field.join('.')} (Field is not defined on ${type})`, { code: 'INVALID_VARIABLE' });
}
const CUSTOMER_SET_INPUT_FIELDS = new Set(['addresses', 'email', 'firstName', 'lastName', 'locale', 'note', 'phone', 'tags', 'taxExempt', 'taxExemptions', 'id']);
const MAILING_ADDRESS_FIELDS = new Set(['address1', 'address2', 'city', 'company', 'countryCode', 'firstName', 'lastName', 'phone', 'provinceCode', 'zip', 'country', 'province']);
const CUSTOMER_SET_IDENTIFIER_FIELDS = new Set(['id', 'email', 'phone', 'customId']);
/** The customer fields this simulator keeps; the other CustomerSetInput fields are accepted and ignored. */
const KEPT_CUSTOMER_FIELDS = ['firstName', 'lastName', 'email', 'phone'] as const;

function addCustomer(state: State, seed: SeedCustomer): SimCustomer {
  const customer: SimCustomer = {
    id: seed.id ?? `gid://shopify/Customer/${9_000_000_000 + state.nextId++}`,
    firstName: seed.firstName ?? null,
    lastName: seed.lastName ?? null,
    email: seed.email ?? null,
    phone: seed.phone ?? null,
    addresses: (seed.addresses ?? []).map((a) => ({ ...a })),
    updatedAt: new Date().toISOString(),
  };
  state.customers.set(customer.id, customer);
  return customer;
}

function customerNode(customer: SimCustomer): GqlObject {
  const address = (a: SimMailingAddress): GqlObject => ({
    __typename: 'MailingAddress', address1: null, address2: null, city: null, company: null, zip: null, provinceCode: null, countryCodeV2: a.countryCode ?? null, firstName: null, lastName: null, phone: null, ...a,
  });
  return {
    __typename: 'Customer',
    id: customer.id,
    legacyResourceId: numericId(customer.id),
    firstName: customer.firstName,
    lastName: customer.lastName,
    displayName: [customer.firstName, customer.lastName].filter(Boolean).join(' ') || customer.email || '',
    email: customer.email,
    phone: customer.phone,
    updatedAt: customer.updatedAt,
    defaultAddress: customer.addresses[0] ? address(customer.addresses[0]) : null,
    addresses: () => customer.addresses.map(address),
  };
}

/**
 * customerSet as Shopify runs it: by id (NOT_FOUND when the store has none), by email or phone (an upsert), or
 * without an identifier (a new customer). Omitted fields stay as they are; `addresses` replaces the list.
 * Fields not defined on the input types are GraphQL errors; an invalid or taken email or phone a userError.
 */
function setCustomer(state: State, identifier: Record<string, unknown> | null, input: Record<string, unknown>): GqlObject {
  for (const key of Object.keys(identifier ?? {})) if (!CUSTOMER_SET_IDENTIFIER_FIELDS.has(key)) throw undefinedInputField(`identifier.${key}`, 'CustomerSetIdentifiers');
  for (const key of Object.keys(input)) if (!CUSTOMER_SET_INPUT_FIELDS.has(key)) throw undefinedInputField(`input.${key}`, 'CustomerSetInput');
  const addresses = input.addresses === undefined || input.addresses === null ? undefined : (input.addresses as Array<Record<string, unknown>>);
  if (addresses !== undefined && !Array.isArray(addresses)) throw new GraphQLError('Variable $input of type CustomerSetInput! was provided invalid value for addresses (Expected value to be a list)', { code: 'INVALID_VARIABLE' });
  addresses?.forEach((a, i) => {
    for (const key of Object.keys(a ?? {})) if (!MAILING_ADDRESS_FIELDS.has(key)) throw undefinedInputField(`input.addresses.${i}.${key}`, 'MailingAddressInput');
  });

  const errors: GqlObject[] = [];
  const error = (code: string, field: string[], message: string) => errors.push({ __typename: 'CustomerSetUserError', code, field, message });
  let customer: SimCustomer | undefined;
  if (identifier && 'id' in identifier) {
    customer = state.customers.get(String(identifier.id));
    if ('id' in input) error('ID_NOT_ALLOWED', ['input', 'id'], 'The id field is not allowed if identifier is provided.');
    if (!customer) error('NOT_FOUND', ['identifier', 'id'], 'Resource matching the identifier was not found.');
  } else if (identifier && ('email' in identifier || 'phone' in identifier)) {
    const key = 'email' in identifier ? 'email' : 'phone';
    if (input[key] !== identifier[key]) error(input[key] === undefined ? 'MISSING_FIELD_REQUIRED' : 'INPUT_MISMATCH', ['input', key], `The ${key} field must match the identifier.`);
    customer = [...state.customers.values()].find((c) => c[key] !== null && c[key]?.toLowerCase() === String(identifier[key]).toLowerCase());
  }
  const email = input.email;
  if (email !== undefined && email !== null && (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email))) error('INVALID', ['input', 'email'], 'Email is invalid');
  else if (typeof email === 'string' && [...state.customers.values()].some((c) => c !== customer && c.email?.toLowerCase() === email.toLowerCase())) error('TAKEN', ['input', 'email'], 'Email has already been taken');
  const phone = input.phone;
  if (phone !== undefined && phone !== null && (typeof phone !== 'string' || !/^\+[1-9]\d{1,14}$/.test(phone))) error('INVALID', ['input', 'phone'], 'Phone is invalid');
  else if (typeof phone === 'string' && [...state.customers.values()].some((c) => c !== customer && c.phone === phone)) error('TAKEN', ['input', 'phone'], 'Phone has already been taken');
  addresses?.forEach((a, i) => {
    const countryCode = a.countryCode ?? a.country;
    if (countryCode !== undefined && countryCode !== null && !/^[A-Z]{2}$/.test(String(countryCode))) error('INVALID', ['input', 'addresses', String(i), 'countryCode'], 'Country is invalid');
  });

  const record: RecordedCustomerMutation = { at: new Date().toISOString(), identifier, input: structuredClone(input), applied: errors.length === 0, changed: false, userErrors: errors.map((e) => String(e.code)) };
  state.customerMutations.push(record);
  if (errors.length > 0) return { __typename: 'CustomerSetPayload', customer: null, userErrors: errors };

  customer ??= addCustomer(state, {});
  const before = JSON.stringify({ ...customer, updatedAt: undefined });
  for (const field of KEPT_CUSTOMER_FIELDS) if (field in input) customer[field] = (input[field] as string | null) ?? null;
  if (addresses !== undefined) {
    customer.addresses = addresses.map((a) => {
      const { country, province, ...rest } = a as SimMailingAddress & { country?: string; province?: string };
      return { ...rest, ...(rest.countryCode === undefined && country !== undefined ? { countryCode: country } : {}), ...(rest.provinceCode === undefined && province !== undefined ? { provinceCode: province } : {}) };
    });
  }
  record.customerId = customer.id;
  record.changed = JSON.stringify({ ...customer, updatedAt: undefined }) !== before;
  if (record.changed) customer.updatedAt = record.at;
  return { __typename: 'CustomerSetPayload', customer: customerNode(customer), userErrors: [] };
}

// ---- B2B companies and their locations ----

const COMPANY_GID = /^gid:\/\/shopify\/Company\/\d+$/;
const COMPANY_LOCATION_GID = /^gid:\/\/shopify\/CompanyLocation\/\d+$/;
const COMPANY_CREATE_INPUT_FIELDS = new Set(['company', 'companyContact', 'companyLocation']);
const COMPANY_INPUT_FIELDS = new Set(['customerSince', 'externalId', 'name', 'note']);
const COMPANY_LOCATION_UPDATE_INPUT_FIELDS = new Set(['buyerExperienceConfiguration', 'externalId', 'locale', 'name', 'note', 'phone']);
const COMPANY_LOCATION_INPUT_FIELDS = new Set([...COMPANY_LOCATION_UPDATE_INPUT_FIELDS, 'billingAddress', 'billingSameAsShipping', 'shippingAddress', 'taxExempt', 'taxExemptions', 'taxRegistrationId']);
const COMPANY_ADDRESS_FIELDS = ['address1', 'address2', 'city', 'zip', 'zoneCode', 'countryCode', 'recipient', 'firstName', 'lastName', 'phone'] as const;
/** The fields this simulator keeps; the other input fields (customerSince, buyerExperienceConfiguration, a contact) are accepted and ignored. */
const KEPT_COMPANY_FIELDS = ['name', 'externalId', 'note'] as const;
const KEPT_LOCATION_FIELDS = ['name', 'externalId', 'phone', 'locale', 'note'] as const;
/** The roles every company has. */
const CONTACT_ROLES = ['Location admin', 'Ordering only'];
const REGION_NAMES = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });

type CompanyAddressType = 'BILLING' | 'SHIPPING';
/** A BusinessCustomerUserError, before it is an answer's object. */
type BusinessRefusal = { code: string; field: string[]; message: string };

function addCompany(state: State, seed: SeedCompany): SimCompany {
  const now = new Date().toISOString();
  const id = seed.id ?? `gid://shopify/Company/${20_000_000_000 + state.nextId++}`;
  const company: SimCompany = { id, name: seed.name ?? `Company ${numericId(id)}`, externalId: seed.externalId ?? null, note: seed.note ?? null, customerSince: now, createdAt: now, updatedAt: now };
  for (const location of locationsOf(state, id)) state.companyLocations.delete(location.id);
  state.companies.set(id, company);
  for (const location of seed.locations ?? []) addCompanyLocation(state, company, location);
  return company;
}

function addCompanyLocation(state: State, company: SimCompany, seed: SeedCompanyLocation): SimCompanyLocation {
  const now = new Date().toISOString();
  const shippingAddress = seed.shippingAddress ? storedAddress(state, seed.shippingAddress) : null;
  const location: SimCompanyLocation = {
    id: seed.id ?? `gid://shopify/CompanyLocation/${21_000_000_000 + state.nextId++}`,
    companyId: company.id,
    name: seed.name ?? company.name,
    externalId: seed.externalId ?? null,
    phone: seed.phone ?? null,
    locale: null,
    note: null,
    billingAddress: seed.billingSameAsShipping ? shippingAddress : seed.billingAddress ? storedAddress(state, seed.billingAddress) : null,
    shippingAddress,
    taxRegistrationId: seed.taxRegistrationId ?? null,
    taxExempt: false,
    taxExemptions: [],
    createdAt: now,
    updatedAt: now,
  };
  state.companyLocations.set(location.id, location);
  return location;
}

/** The address with every field set (null where the input has none), under `id` or a new one. */
function storedAddress(state: State, fields: CompanyAddressFields, id?: string): SimCompanyAddress {
  const address = Object.fromEntries(COMPANY_ADDRESS_FIELDS.map((key) => [key, fields[key] ?? null]));
  return { id: id ?? `gid://shopify/CompanyAddress/${22_000_000_000 + state.nextId++}`, ...address } as SimCompanyAddress;
}

/**
 * Sets the address of each type given: one address for both when both are; an address keeps its id while it
 * changes, unless it is also the address of a type not given (then that one keeps it).
 */
function placeAddress(state: State, location: SimCompanyLocation, fields: CompanyAddressFields, types: CompanyAddressType[]): SimCompanyAddress {
  const keys = types.map((t) => (t === 'BILLING' ? 'billingAddress' : 'shippingAddress'));
  const others = (['billingAddress', 'shippingAddress'] as const).filter((k) => !keys.includes(k)).map((k) => location[k]?.id);
  const id = keys.map((k) => location[k]?.id).find((existing) => existing !== undefined && !others.includes(existing));
  const address = storedAddress(state, fields, id);
  for (const key of keys) location[key] = address;
  return address;
}

function locationsOf(state: State, companyId: string): SimCompanyLocation[] {
  return [...state.companyLocations.values()].filter((l) => l.companyId === companyId);
}

function companyView(state: State, company: SimCompany) {
  return { ...company, locations: locationsOf(state, company.id) };
}

function setFields<T extends object>(entity: T, input: Args, keys: ReadonlyArray<keyof T & string>): void {
  for (const key of keys) if (input[key] !== undefined) (entity as Record<string, unknown>)[key] = input[key];
}

/**
 * Applies a change to a company or location. When it changed anything: a new updatedAt, and the entity's webhook
 * to go (`publishWebhooks`), one per entity however many changes come before it goes.
 */
function change(state: State, entity: SimCompany | SimCompanyLocation, topic: string, apply: () => void): boolean {
  const before = JSON.stringify({ ...entity, updatedAt: undefined });
  apply();
  if (JSON.stringify({ ...entity, updatedAt: undefined }) === before) return false;
  entity.updatedAt = new Date().toISOString();
  if (!state.pendingWebhooks.has(entity.id)) state.pendingWebhooks.set(entity.id, topic);
  return true;
}

/** A CompanyInput's refusals: a blank name, an external id another company has. */
function companyErrors(state: State, input: Args, company: SimCompany | undefined, path: string[]): BusinessRefusal[] {
  const errors: BusinessRefusal[] = [];
  if (input.name !== undefined && !(typeof input.name === 'string' && input.name.trim())) errors.push({ code: 'BLANK', field: [...path, 'name'], message: "Name can't be blank." });
  const externalId = input.externalId;
  if (typeof externalId === 'string' && [...state.companies.values()].some((c) => c !== company && c.externalId === externalId)) {
    errors.push({ code: 'TAKEN', field: [...path, 'externalId'], message: 'External ID has already been taken.' });
  }
  return errors;
}

function locationErrors(input: Args, path: string[]): BusinessRefusal[] {
  return input.name !== undefined && !(typeof input.name === 'string' && input.name.trim()) ? [{ code: 'BLANK', field: [...path, 'name'], message: "Name can't be blank." }] : [];
}

/** A CompanyAddressInput's refusal: a country code missing, or none of ISO 3166's. */
function addressErrors(address: Args, path: string[]): BusinessRefusal[] {
  const code = address.countryCode;
  if (code === undefined || code === null) return [{ code: 'REQUIRED', field: [...path, 'countryCode'], message: 'Country code is required.' }];
  if (countryName(code) === null) return [{ code: 'INVALID', field: [...path, 'countryCode'], message: 'Country code is invalid.' }];
  return [];
}

function countryName(code: unknown): string | null {
  return typeof code === 'string' && /^[A-Z]{2}$/.test(code) ? (REGION_NAMES.of(code) ?? null) : null;
}

function notFound(field: string): BusinessRefusal {
  return { code: 'RESOURCE_NOT_FOUND', field: [field], message: 'Resource requested does not exist.' };
}

/** An input object's fields as given, each one its type defines; else the GraphQL error Shopify answers. */
function inputObject(value: unknown, path: string, type: string, defined: Set<string>): Args {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GraphQLError(`Variable $${path.split('.')[0]} of type ${type}! was provided invalid value${path.includes('.') ? ` for ${path.split('.').slice(1).join('.')}` : ''} (Expected value to not be null)`, { code: 'INVALID_VARIABLE' });
  }
  for (const key of Object.keys(value)) if (!defined.has(key)) throw undefinedInputField(`${path}.${key}`, type);
  return value as Args;
}

function recordCompanyMutation(state: State, mutation: string, target: string, args: Args, errors: BusinessRefusal[], changed: boolean): GqlObject[] {
  state.companyMutations.push({ at: new Date().toISOString(), mutation, target, args: structuredClone(args), applied: errors.length === 0, changed, userErrors: errors.map((e) => e.code) });
  return errors.map((e) => ({ __typename: 'BusinessCustomerUserError', ...e }));
}

/** companyCreate: the company, and its location when given (billingSameAsShipping: one address for both). */
function createCompany(state: State, args: Args): GqlObject {
  const input = inputObject(args.input, 'input', 'CompanyCreateInput', COMPANY_CREATE_INPUT_FIELDS);
  const company = inputObject(input.company, 'input.company', 'CompanyInput', COMPANY_INPUT_FIELDS);
  const location = input.companyLocation === undefined || input.companyLocation === null ? undefined : inputObject(input.companyLocation, 'input.companyLocation', 'CompanyLocationInput', COMPANY_LOCATION_INPUT_FIELDS);
  const addresses = (['shippingAddress', 'billingAddress'] as const).filter((key) => location?.[key] !== undefined && location[key] !== null && !(key === 'billingAddress' && location.billingSameAsShipping === true));
  const addressInputs = addresses.map((key) => inputObject(location![key], `input.companyLocation.${key}`, 'CompanyAddressInput', new Set(COMPANY_ADDRESS_FIELDS)));
  const errors = [
    ...companyErrors(state, { name: null, ...company }, undefined, ['input', 'company']),
    ...(location ? locationErrors(location, ['input', 'companyLocation']) : []),
    ...addressInputs.flatMap((address, i) => addressErrors(address, ['input', 'companyLocation', addresses[i]!])),
  ];
  if (errors.length > 0) return { __typename: 'CompanyCreatePayload', company: null, userErrors: recordCompanyMutation(state, 'companyCreate', '', args, errors, false) };
  const created = addCompany(state, {
    name: company.name as string, externalId: company.externalId as string | undefined, note: company.note as string | undefined,
    locations: location ? [{ ...(location as SeedCompanyLocation), name: (location.name as string | undefined) ?? (company.name as string) }] : [],
  });
  state.pendingWebhooks.set(created.id, 'companies/create');
  for (const l of locationsOf(state, created.id)) state.pendingWebhooks.set(l.id, 'company_locations/create');
  return { __typename: 'CompanyCreatePayload', company: companyNode(state, created), userErrors: recordCompanyMutation(state, 'companyCreate', created.id, args, [], true) };
}

/** companyUpdate: the CompanyInput fields given are set, the others left as they are. */
function updateCompany(state: State, args: Args): GqlObject {
  const input = inputObject(args.input, 'input', 'CompanyInput', COMPANY_INPUT_FIELDS);
  const company = state.companies.get(String(args.companyId));
  const errors = company ? companyErrors(state, input, company, ['input']) : [notFound('companyId')];
  const changed = errors.length === 0 && change(state, company!, 'companies/update', () => setFields(company!, input, KEPT_COMPANY_FIELDS));
  const userErrors = recordCompanyMutation(state, 'companyUpdate', String(args.companyId), args, errors, changed);
  return { __typename: 'CompanyUpdatePayload', company: errors.length === 0 ? companyNode(state, company!) : null, userErrors };
}

/** companyLocationUpdate: the CompanyLocationUpdateInput fields given are set, the others left as they are. */
function updateCompanyLocation(state: State, args: Args): GqlObject {
  const input = inputObject(args.input, 'input', 'CompanyLocationUpdateInput', COMPANY_LOCATION_UPDATE_INPUT_FIELDS);
  const location = state.companyLocations.get(String(args.companyLocationId));
  const errors = location ? locationErrors(input, ['input']) : [notFound('companyLocationId')];
  const changed = errors.length === 0 && change(state, location!, 'company_locations/update', () => setFields(location!, input, KEPT_LOCATION_FIELDS));
  const userErrors = recordCompanyMutation(state, 'companyLocationUpdate', String(args.companyLocationId), args, errors, changed);
  return { __typename: 'CompanyLocationUpdatePayload', companyLocation: errors.length === 0 ? companyLocationNode(state, location!) : null, userErrors };
}

/** companyLocationAssignAddress: the address becomes the location's address of each type given. */
function assignCompanyAddress(state: State, args: Args): GqlObject {
  const address = inputObject(args.address, 'address', 'CompanyAddressInput', new Set(COMPANY_ADDRESS_FIELDS));
  const types = inputArray(args.addressTypes, 'addressTypes').map((type, i) => {
    if (type !== 'BILLING' && type !== 'SHIPPING') {
      throw new GraphQLError(`Variable $addressTypes of type [CompanyAddressType!]! was provided invalid value for ${i} (Expected "${String(type)}" to be one of: BILLING, SHIPPING)`, { code: 'INVALID_VARIABLE' });
    }
    return type as CompanyAddressType;
  });
  const location = state.companyLocations.get(String(args.locationId));
  const errors = location ? addressErrors(address, ['address']) : [notFound('locationId')];
  let placed: SimCompanyAddress | undefined;
  const changed = errors.length === 0 && change(state, location!, 'company_locations/update', () => (placed = placeAddress(state, location!, address, types)));
  const userErrors = recordCompanyMutation(state, 'companyLocationAssignAddress', String(args.locationId), args, errors, changed);
  return { __typename: 'CompanyLocationAssignAddressPayload', addresses: placed ? [companyAddressNode(placed)] : null, userErrors };
}

/** companyLocationTaxSettingsUpdate: the tax registration id (null removes it), exemption and exemptions given. */
function updateTaxSettings(state: State, args: Args): GqlObject {
  const location = state.companyLocations.get(String(args.companyLocationId));
  const errors = location ? [] : [notFound('companyLocationId')];
  const changed = errors.length === 0 && change(state, location!, 'company_locations/update', () => {
    if (args.taxRegistrationId !== undefined) location!.taxRegistrationId = (args.taxRegistrationId as string | null) || null;
    if (typeof args.taxExempt === 'boolean') location!.taxExempt = args.taxExempt;
    const removed = new Set(inputArray(args.exemptionsToRemove, 'exemptionsToRemove').map(String));
    location!.taxExemptions = [...new Set([...location!.taxExemptions, ...inputArray(args.exemptionsToAssign, 'exemptionsToAssign').map(String)])].filter((e) => !removed.has(e));
  });
  const userErrors = recordCompanyMutation(state, 'companyLocationTaxSettingsUpdate', String(args.companyLocationId), args, errors, changed);
  return { __typename: 'CompanyLocationTaxSettingsUpdatePayload', companyLocation: errors.length === 0 ? companyLocationNode(state, location!) : null, userErrors };
}

function companyNode(state: State, company: SimCompany): GqlObject {
  return {
    __typename: 'Company',
    id: company.id,
    name: company.name,
    externalId: company.externalId,
    note: company.note,
    customerSince: company.customerSince,
    createdAt: company.createdAt,
    updatedAt: company.updatedAt,
    locations: (args: Args) => connection(locationsOf(state, company.id).map((l) => companyLocationNode(state, l)), args),
    contactRoles: (args: Args) => connection(CONTACT_ROLES.map((name, i) => ({ __typename: 'CompanyContactRole', id: `gid://shopify/CompanyContactRole/${numericId(company.id)}${i + 1}`, name })), args),
  };
}

function companyLocationNode(state: State, location: SimCompanyLocation): GqlObject {
  return {
    __typename: 'CompanyLocation',
    id: location.id,
    name: location.name,
    externalId: location.externalId,
    phone: location.phone,
    locale: location.locale,
    note: location.note,
    createdAt: location.createdAt,
    updatedAt: location.updatedAt,
    company: () => companyNode(state, state.companies.get(location.companyId)!),
    billingAddress: location.billingAddress && companyAddressNode(location.billingAddress),
    shippingAddress: location.shippingAddress && companyAddressNode(location.shippingAddress),
    taxSettings: { __typename: 'CompanyLocationTaxSettings', taxRegistrationId: location.taxRegistrationId, taxExempt: location.taxExempt, taxExemptions: location.taxExemptions },
    // Deprecated for taxSettings, still answered.
    taxRegistrationId: location.taxRegistrationId,
    buyerExperienceConfiguration: { __typename: 'BuyerExperienceConfiguration', paymentTermsTemplate: null, checkoutToDraft: false, editableShippingAddress: false },
  };
}

/** The province's name is not known here: null (its code is `zoneCode`). */
function companyAddressNode(address: SimCompanyAddress): GqlObject {
  return { __typename: 'CompanyAddress', ...address, country: countryName(address.countryCode), province: null };
}

/** A company as its `companies/*` webhook carries it. */
function companyWebhookBody(company: SimCompany): Record<string, unknown> {
  return {
    name: company.name, note: company.note, external_id: company.externalId, main_contact_admin_graphql_api_id: null,
    created_at: company.createdAt, updated_at: company.updatedAt, customer_since: company.customerSince, admin_graphql_api_id: company.id,
  };
}

/** A location as its `company_locations/*` webhook carries it, with its company; a province's name is null. */
function locationWebhookBody(state: State, location: SimCompanyLocation): Record<string, unknown> {
  const company = state.companies.get(location.companyId)!;
  const address = (a: SimCompanyAddress | null) => a && {
    address1: a.address1, city: a.city, province: null, country: countryName(a.countryCode), zip: a.zip, recipient: a.recipient,
    first_name: a.firstName, last_name: a.lastName, address2: a.address2, phone: a.phone, zone_code: a.zoneCode, country_code: a.countryCode,
    created_at: location.createdAt, updated_at: location.updatedAt, admin_graphql_api_id: a.id, company_admin_graphql_api_id: company.id,
  };
  return {
    name: location.name, external_id: location.externalId, phone: location.phone, locale: location.locale,
    created_at: location.createdAt, updated_at: location.updatedAt, note: location.note, buyer_experience_configuration: null,
    admin_graphql_api_id: location.id, tax_exemptions: location.taxExemptions,
    tax_settings: { tax_registration_id: location.taxRegistrationId, tax_exempt: location.taxExempt, tax_exemptions: location.taxExemptions },
    company: companyWebhookBody(company),
    billing_address: address(location.billingAddress),
    shipping_address: address(location.shippingAddress),
    tax_registration: location.taxRegistrationId === null ? null : { tax_id: location.taxRegistrationId },
  };
}

/**
 * The webhook of each company and location changed since the last ones went, with what it holds now, sent one
 * after another to the subscription (when set) and kept in `state.webhooks`; answers them once sent.
 */
async function publishWebhooks(state: State, defaults: { shopDomain: string; apiVersion: string }): Promise<StoreWebhook[]> {
  const pending: Array<[string, Record<string, unknown>]> = [...state.pendingWebhooks].map(([id, topic]) => {
    const company = state.companies.get(id);
    return [topic, company ? companyWebhookBody(company) : locationWebhookBody(state, state.companyLocations.get(id)!)];
  });
  pending.push(...state.pendingLevelWebhooks.map((payload): [string, Record<string, unknown>] => [LEVEL_TOPIC, payload]));
  state.pendingWebhooks.clear();
  state.pendingLevelWebhooks = [];
  const sent: StoreWebhook[] = [];
  for (const [topic, payload] of pending) {
    const webhook: StoreWebhook = { at: new Date().toISOString(), topic, payload, deliveries: [] };
    state.webhooks.push(webhook);
    const subscription = state.webhookSubscription;
    if (subscription && (subscription.topics?.includes(topic) ?? topic !== LEVEL_TOPIC)) {
      Object.assign(webhook, await sendWebhook({ url: subscription.url, secret: subscription.secret, topic, payload }, defaults));
    }
    sent.push(webhook);
  }
  return sent;
}

/**
 * A level's quantity changed (a merchant's edit or an app's mutation): its `inventory_levels/update` webhook, with
 * the level as the change left it, goes with the next ones, when the subscription takes the topic.
 */
function levelChanged(state: State, item: SimInventoryItem, locationId: string, level: SimLevel): void {
  if (!state.webhookSubscription?.topics?.includes(LEVEL_TOPIC)) return;
  state.pendingLevelWebhooks.push({
    inventory_item_id: Number(numericId(item.id)),
    location_id: Number(numericId(locationId)),
    available: level.available,
    updated_at: level.updatedAt.replace(/\.\d{3}Z$/, 'Z'),
    admin_graphql_api_id: `gid://shopify/InventoryLevel/${numericId(locationId)}?inventory_item_id=${numericId(item.id)}`,
  });
}

// ---- Prices: variants' own, and fixed prices of price lists ----

interface VariantPriceInput {
  id?: string;
  price?: unknown;
}

interface FixedPriceInput {
  variantId?: string;
  price?: { amount?: unknown; currencyCode?: unknown };
}

/** As Shopify's Decimal and Money scalars read an amount: a decimal string or a number. */
function isDecimal(value: unknown): boolean {
  return (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) || (typeof value === 'number' && Number.isFinite(value));
}

function inputArray(value: unknown, variable: string): unknown[] {
  const entries = Array.isArray(value) ? value : [];
  if (entries.length > MAX_INPUT_ARRAY) {
    throw new GraphQLError(`The input array size of ${entries.length} is greater than the maximum allowed of ${MAX_INPUT_ARRAY}.`, { code: 'MAX_INPUT_SIZE_EXCEEDED', argumentName: variable });
  }
  return entries;
}

function priceUserError(typename: string, code: string, field: string[], message = PRICE_ERROR_MESSAGES[code]!): GqlObject {
  return { __typename: typename, code, field, message };
}

/** Sets the variants' prices; all or nothing unless `allowPartialUpdates`, as Shopify does. */
function updateVariants(state: State, productId: string, input: unknown, allowPartialUpdates: boolean): GqlObject {
  const variants = inputArray(input, 'variants') as VariantPriceInput[];
  variants.forEach((v, i) => {
    if (v.price !== undefined && v.price !== null && !isDecimal(v.price)) {
      throw new GraphQLError(`Variable $variants of type [ProductVariantsBulkInput!]! was provided invalid value for ${i}.price (Could not coerce value ${JSON.stringify(v.price)} to Money)`, { code: 'INVALID_VARIABLE' });
    }
  });
  const error = (code: string, field: string[]) => priceUserError('ProductVariantsBulkUpdateUserError', code, field);
  const errors: GqlObject[] = [];
  const planned: Array<{ variant: SimVariant; price?: string }> = [];
  const productExists = [...state.variants.values()].some((v) => v.productId === productId);
  if (!productExists) errors.push(error('PRODUCT_DOES_NOT_EXIST', ['productId']));
  else {
    variants.forEach((v, i) => {
      const path = (last: string) => ['variants', String(i), last];
      if (!v.id) return errors.push(error('PRODUCT_VARIANT_ID_MISSING', path('id')));
      const variant = state.variants.get(String(v.id));
      if (!variant) return errors.push(error('PRODUCT_VARIANT_DOES_NOT_EXIST', path('id')));
      if (variant.productId !== productId) return errors.push(error('MUST_BE_FOR_THIS_PRODUCT', path('id')));
      if (v.price !== undefined && v.price !== null && Number(v.price) < 0) return errors.push(error('GREATER_THAN_OR_EQUAL_TO', path('price')));
      planned.push({ variant, ...(v.price !== undefined && v.price !== null ? { price: String(v.price) } : {}) });
    });
  }
  const applied = planned.length > 0 && (errors.length === 0 || allowPartialUpdates);
  if (applied) for (const p of planned) if (p.price !== undefined) p.variant.price = p.price;
  recordPriceMutation(state, 'productVariantsBulkUpdate', productId, applied, errors, variants.map((v) => ({ variantId: String(v.id ?? ''), amount: v.price })));
  return {
    __typename: 'ProductVariantsBulkUpdatePayload',
    product: productExists ? { __typename: 'Product', id: productId } : null,
    productVariants: applied ? planned.map((p) => variantNode(state, p.variant)) : null,
    userErrors: errors,
  };
}

/** Creates or replaces fixed prices in a price list, in its currency; a call with any userError changes nothing. */
function addFixedPrices(state: State, priceListId: string, input: unknown): GqlObject {
  const prices = inputArray(input, 'prices') as FixedPriceInput[];
  prices.forEach((p, i) => {
    if (!isDecimal(p.price?.amount)) {
      throw new GraphQLError(`Variable $prices of type [PriceListPriceInput!]! was provided invalid value for ${i}.price.amount (Could not coerce value ${JSON.stringify(p.price?.amount)} to Decimal)`, { code: 'INVALID_VARIABLE' });
    }
  });
  const error = (code: string, field: string[], message?: string) => priceUserError('PriceListPriceUserError', code, field, message);
  const list = state.priceLists.get(priceListId);
  const errors: GqlObject[] = [];
  const planned: Array<{ variant: SimVariant; amount: string; currencyCode: string }> = [];
  if (!list) errors.push(error('PRICE_LIST_NOT_FOUND', ['priceListId']));
  else {
    prices.forEach((p, i) => {
      const variant = state.variants.get(String(p.variantId));
      // The reference gives no message for a variant that does not exist; this one says so.
      if (!variant) return errors.push(error('VARIANT_NOT_FOUND', ['prices', String(i), 'variantId'], "The product variant doesn't exist."));
      if (p.price?.currencyCode !== list.currency) return errors.push(error('PRICE_LIST_CURRENCY_MISMATCH', ['prices', String(i), 'price', 'currencyCode']));
      planned.push({ variant, amount: String(p.price.amount), currencyCode: list.currency });
    });
  }
  const applied = errors.length === 0;
  if (applied) for (const p of planned) list!.fixedPrices.set(p.variant.id, { amount: p.amount, currencyCode: p.currencyCode });
  recordPriceMutation(state, 'priceListFixedPricesAdd', priceListId, applied, errors, prices.map((p) => ({ variantId: String(p.variantId ?? ''), amount: p.price?.amount, currencyCode: p.price?.currencyCode })));
  return {
    __typename: 'PriceListFixedPricesAddPayload',
    prices: applied ? planned.map((p) => fixedPriceNode(state, p.variant, p)) : null,
    userErrors: errors,
  };
}

/** Deletes fixed prices; a variant without one in the list is a userError, and a call with any changes nothing. */
function deleteFixedPrices(state: State, priceListId: string, input: unknown): GqlObject {
  const variantIds = (inputArray(input, 'variantIds') as unknown[]).map(String);
  const list = state.priceLists.get(priceListId);
  const errors: GqlObject[] = [];
  if (!list) errors.push(priceUserError('PriceListPriceUserError', 'PRICE_LIST_NOT_FOUND', ['priceListId']));
  else variantIds.forEach((id, i) => !list.fixedPrices.has(id) && errors.push(priceUserError('PriceListPriceUserError', 'VARIANT_NOT_FOUND', ['variantIds', String(i)])));
  const applied = errors.length === 0;
  if (applied) for (const id of variantIds) list!.fixedPrices.delete(id);
  recordPriceMutation(state, 'priceListFixedPricesDelete', priceListId, applied, errors, variantIds.map((variantId) => ({ variantId })));
  return { __typename: 'PriceListFixedPricesDeletePayload', deletedFixedPriceVariantIds: applied ? variantIds : null, userErrors: errors };
}

function fixedPriceNode(state: State, variant: SimVariant, price: { amount: string; currencyCode: string }): GqlObject {
  return {
    __typename: 'PriceListPrice',
    price: { __typename: 'MoneyV2', amount: price.amount, currencyCode: price.currencyCode },
    compareAtPrice: null,
    originType: 'FIXED',
    variant: () => variantNode(state, variant),
  };
}

function recordPriceMutation(state: State, mutation: RecordedPriceMutation['mutation'], target: string, applied: boolean, errors: GqlObject[], entries: RecordedPriceMutation['entries']): void {
  state.priceMutations.push({
    at: new Date().toISOString(),
    mutation,
    target,
    applied,
    userErrors: errors.map((e) => String(e.code)),
    entries: entries.map((e) => ({ ...e, sku: state.variants.get(e.variantId)?.sku })),
  });
}

// ---- Orders, fulfillment orders and fulfillments ----

function addOrder(state: State, legacyId: string | undefined, lines: Array<{ id?: string; sku?: string; quantity: number; locationId?: string }>): SimOrder {
  const n = state.nextId++;
  const id = legacyId ?? String(5_000_000_000 + n);
  const order: SimOrder = { id: `gid://shopify/Order/${id}`, legacyId: id, lineItems: [], fulfillmentOrders: [], fulfillments: [] };
  const firstLocation = [...state.locations.keys()][0]!;
  for (const [i, line] of lines.entries()) {
    const lineItemId = `gid://shopify/LineItem/${line.id ?? String(13_000_000_000 + n * 100 + i)}`;
    order.lineItems.push({ id: lineItemId, sku: line.sku!, quantity: line.quantity, fulfilled: 0 });
    const locationId = line.locationId ?? firstLocation;
    let fulfillmentOrder = order.fulfillmentOrders.find((f) => f.locationId === locationId);
    if (!fulfillmentOrder) order.fulfillmentOrders.push((fulfillmentOrder = { id: `gid://shopify/FulfillmentOrder/${6_000_000_000 + n * 10 + order.fulfillmentOrders.length}`, locationId, lineItems: [] }));
    fulfillmentOrder.lineItems.push({ id: `gid://shopify/FulfillmentOrderLineItem/${16_000_000_000 + n * 100 + i}`, lineItemId, totalQuantity: line.quantity, remaining: line.quantity });
  }
  state.orders.set(order.id, order);
  return order;
}

function orderView(order: SimOrder) {
  return { ...order, fulfillmentOrders: order.fulfillmentOrders.map((f) => ({ ...f, status: fulfillmentOrderStatus(f) })) };
}

function fulfillmentOrderStatus(fulfillmentOrder: SimOrder['fulfillmentOrders'][number]): string {
  const remaining = fulfillmentOrder.lineItems.reduce((sum, l) => sum + l.remaining, 0);
  if (remaining === 0) return 'CLOSED';
  return fulfillmentOrder.lineItems.some((l) => l.remaining < l.totalQuantity) ? 'IN_PROGRESS' : 'OPEN';
}

function orderNode(state: State, order: SimOrder): GqlObject {
  const list = <T>(items: T[], args: Args) => items.slice(0, args.first === undefined ? items.length : Number(args.first));
  return {
    __typename: 'Order',
    id: order.id,
    legacyResourceId: order.legacyId,
    displayFulfillmentStatus: order.lineItems.every((l) => l.fulfilled >= l.quantity) ? 'FULFILLED' : order.lineItems.some((l) => l.fulfilled > 0) ? 'PARTIALLY_FULFILLED' : 'UNFULFILLED',
    lineItems: (args: Args) => connection(order.lineItems.map((l) => ({ __typename: 'LineItem', id: l.id, sku: l.sku, quantity: l.quantity, unfulfilledQuantity: l.quantity - l.fulfilled })), args),
    fulfillmentOrders: (args: Args) => connection(order.fulfillmentOrders.map((f) => ({
      __typename: 'FulfillmentOrder',
      id: f.id,
      status: fulfillmentOrderStatus(f),
      assignedLocation: { __typename: 'FulfillmentOrderAssignedLocation', location: () => locationNode(state, f.locationId) },
      lineItems: (inner: Args) => connection(f.lineItems.map((l) => ({
        __typename: 'FulfillmentOrderLineItem', id: l.id, totalQuantity: l.totalQuantity, remainingQuantity: l.remaining,
        lineItem: { __typename: 'LineItem', id: l.lineItemId, sku: order.lineItems.find((i) => i.id === l.lineItemId)?.sku ?? null },
      })), inner),
    })), args),
    fulfillments: (args: Args) => list(order.fulfillments, args).map((f) => fulfillmentNode(order, f)),
  };
}

function fulfillmentNode(order: SimOrder, fulfillment: SimFulfillment): GqlObject {
  return {
    __typename: 'Fulfillment',
    id: fulfillment.id,
    status: 'SUCCESS',
    createdAt: fulfillment.createdAt,
    trackingInfo: () => fulfillment.trackingInfo.map((t) => ({ __typename: 'FulfillmentTrackingInfo', ...t })),
    fulfillmentLineItems: (args: Args) => connection(fulfillment.lineItems.map((l) => ({
      __typename: 'FulfillmentLineItem', quantity: l.quantity, lineItem: { __typename: 'LineItem', id: l.lineItemId, sku: l.sku },
    })), args),
    order: { __typename: 'Order', id: order.id },
  };
}

interface TrackingInput {
  number?: string | null;
  company?: string | null;
  url?: string | null;
}

interface FulfillmentInput {
  notifyCustomer?: boolean;
  trackingInfo?: TrackingInput;
  lineItemsByFulfillmentOrder?: Array<{ fulfillmentOrderId?: string; fulfillmentOrderLineItems?: Array<{ id?: string; quantity?: number }> }>;
}

/** As Shopify: the fulfillment orders must belong to one order and one location, and each quantity be left to fulfil. */
function createFulfillment(state: State, input: FulfillmentInput): GqlObject {
  const payload = (fulfillment: GqlObject | null, errors: Array<{ field: string[]; message: string }>) => ({
    __typename: 'FulfillmentCreatePayload', fulfillment, userErrors: errors.map((e) => ({ __typename: 'UserError', ...e })),
  });
  if (state.refuseFulfillments) return payload(null, [{ field: ['fulfillment'], message: state.refuseFulfillments }]);
  const groups = input.lineItemsByFulfillmentOrder ?? [];
  if (groups.length === 0) return payload(null, [{ field: ['fulfillment', 'lineItemsByFulfillmentOrder'], message: 'Line items by fulfillment order must not be empty' }]);
  const found = groups.map((g) => {
    for (const order of state.orders.values()) {
      const fulfillmentOrder = order.fulfillmentOrders.find((f) => f.id === g.fulfillmentOrderId);
      if (fulfillmentOrder) return { order, fulfillmentOrder, group: g };
    }
    return undefined;
  });
  if (found.some((f) => !f)) return payload(null, [{ field: ['fulfillment'], message: 'Fulfillment order does not exist.' }]);
  const all = found as Array<NonNullable<(typeof found)[number]>>;
  const order = all[0]!.order;
  if (all.some((f) => f.order !== order)) return payload(null, [{ field: ['fulfillment'], message: 'All fulfillment orders must belong to the same order.' }]);
  if (new Set(all.map((f) => f.fulfillmentOrder.locationId)).size > 1) return payload(null, [{ field: ['fulfillment'], message: 'All fulfillment orders must be assigned to the same location.' }]);
  const planned: Array<{ line: SimOrder['fulfillmentOrders'][number]['lineItems'][number]; quantity: number }> = [];
  for (const { fulfillmentOrder, group } of all) {
    const items = group.fulfillmentOrderLineItems?.length ? group.fulfillmentOrderLineItems : fulfillmentOrder.lineItems.map((l) => ({ id: l.id, quantity: l.remaining }));
    for (const item of items) {
      const line = fulfillmentOrder.lineItems.find((l) => l.id === item.id);
      const quantity = Number(item.quantity);
      if (!line) return payload(null, [{ field: ['fulfillment'], message: `Fulfillment order line item ${item.id} does not exist.` }]);
      if (!Number.isInteger(quantity) || quantity <= 0 || quantity > line.remaining) {
        return payload(null, [{ field: ['fulfillment'], message: `Invalid fulfillment order line item quantity requested: ${quantity} of ${line.remaining} remaining.` }]);
      }
      if (quantity > 0) planned.push({ line, quantity });
    }
  }
  const fulfillment: SimFulfillment = {
    id: `gid://shopify/Fulfillment/${7_000_000_000 + state.nextId++}`,
    createdAt: new Date().toISOString(),
    notifyCustomer: input.notifyCustomer ?? false,
    locationId: all[0]!.fulfillmentOrder.locationId,
    trackingInfo: input.trackingInfo && (input.trackingInfo.number || input.trackingInfo.url) ? [{ number: input.trackingInfo.number ?? null, company: input.trackingInfo.company ?? null, url: input.trackingInfo.url ?? null }] : [],
    lineItems: [],
  };
  for (const { line, quantity } of planned) {
    line.remaining -= quantity;
    const lineItem = order.lineItems.find((l) => l.id === line.lineItemId)!;
    lineItem.fulfilled += quantity;
    fulfillment.lineItems.push({ lineItemId: lineItem.id, sku: lineItem.sku, quantity });
  }
  order.fulfillments.push(fulfillment);
  return payload(fulfillmentNode(order, fulfillment), []);
}

function updateTracking(state: State, fulfillmentId: string, input: TrackingInput): GqlObject {
  for (const order of state.orders.values()) {
    const fulfillment = order.fulfillments.find((f) => f.id === fulfillmentId);
    if (!fulfillment) continue;
    fulfillment.trackingInfo = [{ number: input.number ?? null, company: input.company ?? null, url: input.url ?? null }];
    return { __typename: 'FulfillmentTrackingInfoUpdatePayload', fulfillment: fulfillmentNode(order, fulfillment), userErrors: [] };
  }
  return { __typename: 'FulfillmentTrackingInfoUpdatePayload', fulfillment: null, userErrors: [{ __typename: 'UserError', field: ['fulfillmentId'], message: 'Fulfillment does not exist.' }] };
}

interface SetQuantitiesInput {
  name?: string;
  reason?: string;
  referenceDocumentUri?: string;
  ignoreCompareQuantity?: boolean;
  quantities?: Array<{ inventoryItemId?: string; locationId?: string; quantity?: number; compareQuantity?: number | null; changeFromQuantity?: number | null }>;
}

/**
 * Validates like Shopify: before 2026-01 each quantity needs `compareQuantity` (or `ignoreCompareQuantity`);
 * from 2026-01 `changeFromQuantity` (null: no check) overrides it; from 2026-04 it is the only form, required on
 * every quantity, and the mutation needs an `@idempotent` key. A call with any userError changes nothing.
 */
function setQuantities(state: State, apiVersion: string, input: SetQuantitiesInput, field: GqlField): GqlObject {
  const changeFromAccepted = apiVersion >= '2026-01';
  const changeFromRequired = apiVersion >= '2026-04';
  const quantities = Array.isArray(input.quantities) ? input.quantities : [];
  if (quantities.length > MAX_INPUT_ARRAY) {
    throw new GraphQLError(`The input array size of ${quantities.length} is greater than the maximum allowed of ${MAX_INPUT_ARRAY}.`, { code: 'MAX_INPUT_SIZE_EXCEEDED' });
  }
  const undefinedField = (path: string, type: string) =>
    new GraphQLError(`Variable $input of type InventorySetQuantitiesInput! was provided invalid value for ${path} (Field is not defined on ${type})`, { code: 'INVALID_VARIABLE' });
  if (changeFromRequired && 'ignoreCompareQuantity' in input) throw undefinedField('ignoreCompareQuantity', 'InventorySetQuantitiesInput');
  quantities.forEach((q, i) => {
    if (!changeFromAccepted && 'changeFromQuantity' in q) throw undefinedField(`quantities.${i}.changeFromQuantity`, 'InventoryQuantityInput');
    if (changeFromRequired && 'compareQuantity' in q) throw undefinedField(`quantities.${i}.compareQuantity`, 'InventoryQuantityInput');
  });
  const key = field.directives.find((d) => d.name === 'idempotent')?.args.key;
  if (changeFromRequired && typeof key !== 'string') throw new GraphQLError('The @idempotent directive with a key is required for inventorySetQuantities.', { code: 'BAD_REQUEST' });
  const fingerprint = JSON.stringify(input);
  if (typeof key === 'string') {
    const earlier = state.idempotency.get(key);
    if (earlier && earlier.fingerprint === fingerprint) return earlier.payload;
    if (earlier) return setQuantitiesPayload(null, [userError('IDEMPOTENCY_KEY_PARAMETER_MISMATCH', [])]);
  }

  const name = input.name ?? '';
  const errors: GqlObject[] = [];
  if (name !== 'available' && name !== 'on_hand') errors.push(userError('INVALID_NAME', ['input', 'name']));
  if (!REASONS.has(input.reason ?? '')) errors.push(userError('INVALID_REASON', ['input', 'reason']));
  const seen = new Set<string>();
  const planned: Array<{ item: SimInventoryItem; locationId: string; level: SimLevel; quantity: number; before: number }> = [];
  quantities.forEach((q, i) => {
    const path = (last: string) => ['input', 'quantities', String(i), last];
    const item = state.items.get(String(q.inventoryItemId));
    const locationId = String(q.locationId);
    const level = item?.levels.get(locationId);
    const quantity = Number(q.quantity);
    if (!item) return errors.push(userError('INVALID_INVENTORY_ITEM', path('inventoryItemId')));
    if (!state.locations.has(locationId)) return errors.push(userError('INVALID_LOCATION', path('locationId')));
    if (!level) return errors.push(userError('ITEM_NOT_STOCKED_AT_LOCATION', path('locationId')));
    if (seen.has(`${item.id}|${locationId}`)) return errors.push(userError('NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR', path('locationId')));
    seen.add(`${item.id}|${locationId}`);
    if (!(quantity >= 0)) return errors.push(userError('INVALID_QUANTITY_NEGATIVE', path('quantity')));
    if (quantity > 1_000_000_000) return errors.push(userError('INVALID_QUANTITY_TOO_HIGH', path('quantity')));
    const before = name === 'on_hand' ? level.onHand : level.available;
    if (changeFromAccepted && 'changeFromQuantity' in q) {
      if (q.changeFromQuantity !== null && q.changeFromQuantity !== before) return errors.push(userError('CHANGE_FROM_QUANTITY_STALE', path('changeFromQuantity')));
    } else if (changeFromRequired) {
      return errors.push(userError('COMPARE_QUANTITY_REQUIRED', path('changeFromQuantity'), 'The changeFromQuantity argument must be given to each quantity (null skips the check).'));
    } else if (!input.ignoreCompareQuantity) {
      if (q.compareQuantity === undefined || q.compareQuantity === null) return errors.push(userError('COMPARE_QUANTITY_REQUIRED', path('compareQuantity')));
      if (q.compareQuantity !== before) return errors.push(userError('COMPARE_QUANTITY_STALE', path('compareQuantity')));
    }
    planned.push({ item, locationId, level, quantity, before });
  });

  const at = new Date().toISOString();
  state.mutations.push({
    at,
    apiVersion,
    ...(typeof key === 'string' ? { idempotencyKey: key } : {}),
    name,
    reason: String(input.reason ?? ''),
    referenceDocumentUri: input.referenceDocumentUri,
    applied: errors.length === 0,
    userErrors: errors.map((e) => String(e.code)),
    quantities: quantities.map((q) => {
      const item = state.items.get(String(q.inventoryItemId));
      const level = item?.levels.get(String(q.locationId));
      const before = level && (name === 'on_hand' ? level.onHand : level.available);
      return { sku: item?.sku, inventoryItemId: String(q.inventoryItemId), locationId: String(q.locationId), quantity: Number(q.quantity), before };
    }),
  });
  let payload: GqlObject;
  if (errors.length > 0) {
    payload = setQuantitiesPayload(null, errors);
  } else {
    for (const p of planned) {
      const delta = p.quantity - p.before;
      p.level.available += delta;
      p.level.onHand += delta;
      p.level.updatedAt = at;
      if (delta !== 0) levelChanged(state, p.item, p.locationId, p.level);
    }
    payload = setQuantitiesPayload(
      {
        __typename: 'InventoryAdjustmentGroup',
        id: `gid://shopify/InventoryAdjustmentGroup/${state.mutations.length}`,
        createdAt: at,
        reason: input.reason,
        referenceDocumentUri: input.referenceDocumentUri ?? null,
        changes: planned.map((p) => ({
          __typename: 'InventoryChange',
          name,
          delta: p.quantity - p.before,
          quantityAfterChange: p.quantity,
          item: () => itemNodeById(state, p.item.id),
          location: () => locationNode(state, p.locationId),
        })),
      },
      [],
    );
  }
  if (typeof key === 'string') {
    state.idempotency.set(key, { fingerprint, payload });
    if (state.idempotency.size > KEEP_IDEMPOTENCY_KEYS) state.idempotency.delete(state.idempotency.keys().next().value!);
  }
  return payload;
}

function setQuantitiesPayload(group: GqlObject | null, userErrors: GqlObject[]): GqlObject {
  return { __typename: 'InventorySetQuantitiesPayload', inventoryAdjustmentGroup: group, userErrors };
}

function userError(code: string, field: string[], message = USER_ERROR_MESSAGES[code]!): GqlObject {
  return { __typename: 'InventorySetQuantitiesUserError', code, field, message };
}

// ---- Bulk query operations ----

/** What executing a bulk query needs of the store's settings (the query root's). */
type BulkSettings = { shopDomain: string; currency: string };
/** The argument a bulk query's fields carry, so that their connections are read whole. */
const UNBOUNDED = '__bulkUnbounded';
const BULK_ACTIVE = new Set(['CREATED', 'RUNNING']);

/**
 * bulkOperationRunQuery as Shopify runs it: the query is validated at once (a userError when it is not one Shopify
 * would run, or when the app's bulk query is still running: one at a time per shop), then runs in the background.
 */
function runBulkQuery(state: State, settings: BulkSettings, query: unknown, base: string): GqlObject {
  const refused = (message: string, code: string, field: string[] | null = ['query']) => ({
    __typename: 'BulkOperationRunQueryPayload', bulkOperation: null, userErrors: [{ __typename: 'BulkOperationUserError', code, field, message }],
  });
  for (const op of state.bulkOperations.values()) settleBulkOperation(state, settings, op);
  const running = [...state.bulkOperations.values()].find((op) => BULK_ACTIVE.has(op.status));
  if (running) return refused(`A bulk query operation for this app and shop is already in progress: ${running.id}.`, 'OPERATION_IN_PROGRESS', null);
  if (typeof query !== 'string') return refused('Invalid bulk query: the query is required', 'INVALID');
  let operation: GqlOperation;
  try {
    operation = parseOperation(query);
  } catch (error) {
    if (!(error instanceof GraphQLSyntaxError)) throw error;
    return refused(`Invalid bulk query: ${error.message}`, 'INVALID');
  }
  if (operation.type !== 'query') return refused('Invalid bulk query: bulk queries cannot contain mutations', 'INVALID');
  const roots = fields(operation.selections);
  if (roots.length === 0 || !roots.every((f) => connectionNodeSelections(f) !== undefined)) return refused('Invalid bulk query: the query must select a connection field at the top level', 'INVALID');
  const withoutId = roots.flatMap((f) => parentsWithoutId(f));
  if (withoutId.length > 0) return refused(`Invalid bulk query: the parent 'node' field for a nested connection must select the 'id' field. Connection fields without 'id': ${withoutId.join(', ')}.`, 'INVALID');
  const id = `gid://shopify/BulkOperation/${5_000_000_000 + state.nextId++}`;
  const op: SimBulkOperation = {
    id, query, status: 'CREATED', errorCode: null, createdAt: new Date().toISOString(), completedAt: null, objectCount: 0, rootObjectCount: 0, fileSize: null, url: null,
    downloads: 0, endsAt: Date.now() + state.bulkOperationDelayMs, failWith: state.failNextBulkOperation, selections: operation.selections, base,
  };
  state.failNextBulkOperation = undefined;
  state.bulkOperations.set(id, op);
  return { __typename: 'BulkOperationRunQueryPayload', bulkOperation: bulkOperationNode(state, settings, op, false), userErrors: [] };
}

/** Moves the operation on: RUNNING once created, and past its delay COMPLETED with its result (or FAILED). */
function settleBulkOperation(state: State, settings: BulkSettings, op: SimBulkOperation): void {
  if (!BULK_ACTIVE.has(op.status)) return;
  op.status = 'RUNNING';
  if (Date.now() < op.endsAt) return;
  if (op.failWith) {
    Object.assign(op, { status: 'FAILED', errorCode: op.failWith });
    return;
  }
  const lines: string[] = [];
  try {
    const root = queryRoot(state, settings);
    for (const field of fields(op.selections)) op.rootObjectCount += bulkLines(field, root, undefined, lines);
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    Object.assign(op, { status: 'FAILED', errorCode: 'INTERNAL_SERVER_ERROR' });
    return;
  }
  op.jsonl = lines.map((line) => `${line}\n`).join('');
  Object.assign(op, {
    status: 'COMPLETED', completedAt: new Date().toISOString(), objectCount: lines.length, fileSize: Buffer.byteLength(op.jsonl),
    // Shopify gives no file when the query found nothing.
    url: lines.length > 0 ? `${op.base}/_bulk/${numericId(op.id)}.jsonl` : null,
  });
}

/**
 * The JSONL lines of a connection's nodes: each node's fields on a line of its own (`edges { node }` and `nodes`
 * alike), its nested connections left out of it and their nodes written after it, each with `__parentId`, the
 * node's id. Answers how many nodes the connection had.
 */
function bulkLines(field: GqlField, source: GqlObject, parentId: string | undefined, lines: string[]): number {
  const nodeSelections = connectionNodeSelections(field)!;
  const raw = source[field.name];
  if (raw === undefined) throw new GraphQLError(`Field '${field.name}' doesn't exist on type '${source.__typename}'`, { code: 'undefinedField' });
  const page = (typeof raw === 'function' ? raw({ ...field.args, [UNBOUNDED]: true }, field) : raw) as { nodes?: GqlObject[] } | null;
  const nodes = page?.nodes ?? [];
  const nested = nodeSelections.filter((s): s is GqlField => s.kind === 'field' && connectionNodeSelections(s) !== undefined);
  const own = nodeSelections.filter((s) => !nested.includes(s as GqlField));
  for (const node of nodes) {
    const line = execute(own, node);
    if (parentId !== undefined) line.__parentId = parentId;
    lines.push(JSON.stringify(line));
    for (const inner of nested) bulkLines(inner, node, String(node.id), lines);
  }
  return nodes.length;
}

/** A connection field's node selections (of `edges { node }` or `nodes`); undefined when the field is not a connection. */
function connectionNodeSelections(field: GqlField): GqlSelection[] | undefined {
  for (const inner of fields(field.selections)) {
    if (inner.name === 'nodes') return inner.selections;
    if (inner.name === 'edges') return fields(inner.selections).find((f) => f.name === 'node')?.selections ?? [];
  }
  return undefined;
}

/** The nested connections (by name) whose parent node does not select its id, which their lines need as `__parentId`. */
function parentsWithoutId(field: GqlField): string[] {
  const nodeSelections = connectionNodeSelections(field) ?? [];
  const nested = fields(nodeSelections).filter((f) => connectionNodeSelections(f) !== undefined);
  const selectsId = fields(nodeSelections).some((f) => f.name === 'id' && f.alias === undefined);
  return [...(nested.length > 0 && !selectsId ? nested.map((f) => f.name) : []), ...nested.flatMap((f) => parentsWithoutId(f))];
}

/** The operation as a BulkOperation object; `settle`: moved on first (not in the answer of the mutation, CREATED as Shopify's is). */
function bulkOperationNode(state: State, settings: BulkSettings, op: SimBulkOperation, settle = true): GqlObject {
  if (settle) settleBulkOperation(state, settings, op);
  return {
    __typename: 'BulkOperation', type: 'QUERY', partialDataUrl: null,
    id: op.id, query: op.query, status: op.status, errorCode: op.errorCode, createdAt: op.createdAt, completedAt: op.completedAt,
    // UnsignedInt64 is a string in JSON.
    objectCount: String(op.objectCount), rootObjectCount: String(op.rootObjectCount), fileSize: op.fileSize === null ? null : String(op.fileSize), url: op.url,
  };
}

function bulkOperationView(op: SimBulkOperation) {
  return {
    id: op.id, query: op.query, status: op.status, errorCode: op.errorCode, createdAt: op.createdAt, completedAt: op.completedAt,
    objectCount: op.objectCount, rootObjectCount: op.rootObjectCount, fileSize: op.fileSize, url: op.url, downloads: op.downloads,
  };
}

// ---- Execution and the calculated query cost ----

type Args = Record<string, unknown>;

function execute(selections: GqlSelection[], source: GqlObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const selection of selections) {
    if (selection.kind === 'inline') {
      if (!selection.typeCondition || selection.typeCondition === source.__typename) Object.assign(out, execute(selection.selections, source));
      continue;
    }
    const key = selection.alias ?? selection.name;
    if (selection.name === '__typename') {
      out[key] = source.__typename;
      continue;
    }
    if (!(selection.name in source)) {
      throw new GraphQLError(`Field '${selection.name}' doesn't exist on type '${source.__typename}'`, { code: 'undefinedField', typeName: source.__typename, fieldName: selection.name });
    }
    const raw = source[selection.name];
    out[key] = complete(typeof raw === 'function' ? raw(selection.args, selection) : raw, selection);
  }
  return out;
}

function complete(value: unknown, field: GqlField): unknown {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map((v) => complete(v, field));
  if (typeof value === 'object' && '__typename' in value) {
    if (field.selections.length === 0) throw new GraphQLError(`Field must have selections (field '${field.name}' returns ${(value as GqlObject).__typename} but has no selections.)`, { code: 'selectionMismatch' });
    return execute(field.selections, value as GqlObject);
  }
  return value;
}

/**
 * Shopify's cost model: scalars and enums 0, objects 1, connections 2 plus `first` (or `last`) times one
 * node's cost, `nodes(ids)` one node's cost per id, and 10 for each mutation field.
 */
export function requestedCost(operation: GqlOperation): number {
  if (operation.type === 'mutation') return fields(operation.selections).length * MUTATION_COST;
  return selectionCost(operation.selections, undefined);
}

function actualCost(selections: GqlSelection[], data: Record<string, unknown>): number {
  return selectionCost(selections, data);
}

/** With `value` the result, the actual cost (the nodes returned); without, the requested one. */
function selectionCost(selections: GqlSelection[], value: Record<string, unknown> | undefined): number {
  let total = 0;
  for (const selection of selections) {
    if (selection.kind === 'inline') total += selectionCost(selection.selections, value);
    else total += fieldCost(selection, value === undefined ? undefined : (value[selection.alias ?? selection.name] ?? null));
  }
  return total;
}

function fieldCost(field: GqlField, value: unknown): number {
  if (field.selections.length === 0) return 0;
  const pageSize = Number(field.args.first ?? field.args.last ?? Number.NaN);
  if (Number.isFinite(pageSize)) {
    if (value === undefined) return 2 + pageSize * nodeCost(field.selections, undefined);
    const page = value as { nodes?: unknown[]; edges?: Array<{ node?: unknown }> } | null;
    const nodes = page?.nodes ?? page?.edges?.map((e) => e.node) ?? [];
    return 2 + nodes.reduce<number>((sum, node) => sum + nodeCost(field.selections, node), 0);
  }
  if (Array.isArray(field.args.ids)) {
    if (value === undefined) return field.args.ids.length * (1 + selectionCost(field.selections, undefined));
    return (value as Array<Record<string, unknown> | null>).reduce<number>((sum, node) => sum + (node ? 1 + selectionCost(field.selections, node) : 0), 0);
  }
  if (value === null) return 1;
  const one = Array.isArray(value) ? (value[0] as Record<string, unknown> | undefined) : (value as Record<string, unknown> | undefined);
  return 1 + selectionCost(field.selections, value === undefined ? undefined : (one ?? {}));
}

/** One node's cost inside a connection, whether selected through `nodes` or `edges { node }`. */
function nodeCost(connectionSelections: GqlSelection[], node: unknown): number {
  let total = 0;
  for (const selection of fields(connectionSelections)) {
    const inner = selection.name === 'edges' ? fields(selection.selections).find((f) => f.name === 'node') : selection.name === 'nodes' ? selection : undefined;
    if (inner) total += 1 + selectionCost(inner.selections, node === undefined ? undefined : ((node ?? {}) as Record<string, unknown>));
  }
  return total;
}

function fields(selections: GqlSelection[]): GqlField[] {
  return selections.flatMap((s) => (s.kind === 'field' ? [s] : fields(s.selections)));
}

function numericId(gid: string): string {
  return gid.split('/').pop() ?? gid;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
