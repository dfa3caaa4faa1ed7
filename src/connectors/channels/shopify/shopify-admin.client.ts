import { createHash } from 'node:crypto';
import { classifyHttpStatus, excerpt, TargetError } from '../../../platform/delivery/outcome.js';
import { httpCall } from '../../../platform/http/http-client.js';
import { expectShape } from '../../answer-shape.js';
import type { CompanyWrite } from './shopify-companies.js';
import type { CustomerSetInput } from './shopify-customers.js';
import type { FulfillmentCreate, ShopifyOrderFulfillment } from './shopify-fulfillment.js';
import { entryOfUserError, MAX_PRICES_PER_CALL } from './shopify-prices.js';
import type { ShopifyConfig } from './shopify.config.js';

/** Shopify refuses input arrays longer than this (https://shopify.dev/docs/api/usage/limits). */
const MAX_QUANTITIES_PER_MUTATION = 250;
/** SKUs per productVariants search: a short search string and a cheap query (2 + 2 per SKU, 3 with the product). */
const SKUS_PER_LOOKUP = 50;
/** Item-location pairs per read of current quantities (at most 3 points each). */
const LEVELS_PER_READ = 100;
/** Every mutation costs 10 points in Shopify's cost model. */
const MUTATION_COST = 10;
/** Shopify's largest page, and the most one query may cost (https://shopify.dev/docs/api/usage/limits). */
const MAX_PAGE_SIZE = 250;
const MAX_QUERY_COST = 1000;
const DEFAULT_MAX_WAIT_MS = 2_000;
const DEFAULT_UNKNOWN_SKU_TTL_MS = 5 * 60_000;
/** From this version `changeFromQuantity` replaces `compareQuantity`, with an `@idempotent` key (mandatory from 2026-04). */
const CHANGE_FROM_VERSION = '2026-01';
const STALE_CODES = new Set(['COMPARE_QUANTITY_STALE', 'CHANGE_FROM_QUANTITY_STALE']);
/** Price userErrors that mean the cached variant is gone or moved in Shopify: it is looked up again next time. */
const GONE_VARIANT_CODES = new Set(['PRODUCT_VARIANT_DOES_NOT_EXIST', 'PRODUCT_DOES_NOT_EXIST', 'MUST_BE_FOR_THIS_PRODUCT', 'VARIANT_NOT_FOUND']);
/** priceListFixedPricesDelete: the variant has no fixed price in the list, which is what the withdrawal wants. */
const NO_FIXED_PRICE_CODES = new Set(['VARIANT_NOT_FOUND', 'PRICE_NOT_FIXED']);

export interface AvailableChange {
  sku: string;
  warehouse: string;
  /** The figure to publish. */
  quantity: number;
  /**
   * The figure Crossdock last set there, which Shopify still holds unless something changed it since; absent
   * (or null) when Crossdock has set none yet, and then the client reads the current figure first.
   */
  previous?: number | null;
}

/** A quantity that had changed in Shopify since Crossdock last set it: found where `previous` was expected. */
export interface ConcurrentChange {
  sku: string;
  warehouse: string;
  expected: number;
  found: number;
  quantity: number;
}

export interface SetAvailableResult {
  /** Quantities that Shopify holds at the requested figure after the call. */
  updated: number;
  concurrentChanges: number;
  /** Each concurrent change, for the caller to log: the figure it overwrote and the one it expected. */
  concurrent: ConcurrentChange[];
  /** SKUs with no variant in the store: nothing was sent for them. */
  unknownSkus: string[];
  /** Warehouses without a location in `config.locations`: nothing was sent for them. */
  unmappedWarehouses: string[];
  /** SKU and warehouse pairs whose item is not stocked at the location: nothing was sent for them. */
  notStocked: Array<{ sku: string; warehouse: string }>;
}

/** An inventory item of the store with its `available` figure at each location asked, in their order (null: not stocked there). */
export interface StoreInventoryItem {
  inventoryItemId: string;
  sku: string | null;
  available: Array<number | null>;
}

export interface InventoryLevelsPage {
  items: StoreInventoryItem[];
  /** Where the next page starts; null after the last. */
  next: string | null;
}

/** A bulk query operation as Shopify reports it (`bulkOperationRunQuery`, `node(id:)`). */
export interface BulkOperation {
  id: string;
  /** CREATED, RUNNING, CANCELING, COMPLETED, FAILED, CANCELED or EXPIRED. */
  status: string;
  /** Why it FAILED (ACCESS_DENIED, INTERNAL_SERVER_ERROR, TIMEOUT); null otherwise. */
  errorCode: string | null;
  createdAt: string;
  completedAt: string | null;
  objectCount: number;
  /** Where its JSONL result is, a signed URL valid for a week; null until COMPLETED, and when the query found nothing. */
  url: string | null;
}

/** The statuses a bulk operation does not leave but by ending. */
export const BULK_OPERATION_ENDED = new Set(['COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED']);

/**
 * The most of a bulk result read (256 MiB): some 1,000,000 items at one location, or 300,000 at five. A larger
 * catalogue fails the read with the reason, rather than the process's memory.
 */
const MAX_BULK_RESULT_BYTES = 256 * 1024 * 1024;
// The download of a large result is one long GET, not an Admin API call: it has a clock of its own.
const BULK_DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

/**
 * Items per page of {@link ShopifyAdminClient.inventoryLevelsPage} at `locations` locations: Shopify's page limit, and
 * one query's cost limit at 1 + 2 points an item per location (the level and its quantities).
 */
export function levelsPageSize(locations: number, wanted = MAX_PAGE_SIZE): number {
  return Math.max(1, Math.min(wanted, MAX_PAGE_SIZE, Math.floor((MAX_QUERY_COST - 2) / (1 + 2 * Math.max(1, locations)))));
}

/** The requested cost of a page of `first` items at `locations` locations, as Shopify calculates it. */
export function levelsPageCost(locations: number, first: number): number {
  return 2 + first * (1 + 2 * Math.max(1, locations));
}

/** A SKU's variant, as price mutations name it. */
export interface VariantIds {
  variantId: string;
  productId: string;
}

/** An entry of a price call that Shopify refused: its index in the input given, and Shopify's reason. */
export interface PriceRefusal {
  index: number;
  message: string;
}

export interface ShopifyAdminClientOptions {
  /** The longest the client waits for the cost bucket to refill; a longer wait is the caller's (TargetError throttled). */
  maxWaitMs?: number;
  /**
   * Pace by the process's one view of the store's bucket (per shop and access token), shared with the other clients
   * that say so: a reconciliation's reads and the deliveries then count each other's calls in flight and see each
   * other's answers, as Shopify's one bucket does. Without it, the client keeps a view of its own.
   */
  sharedPacer?: boolean;
  /** How long a SKU the store does not have is remembered as unknown before it is looked up again. */
  unknownSkuTtlMs?: number;
  now?: () => number;
}

interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

interface Cost {
  requestedQueryCost?: number | null;
  actualQueryCost?: number | null;
  throttleStatus?: ThrottleStatus;
}

interface GraphQLAnswer<T> {
  data?: T;
  errors?: Array<{ message?: string; extensions?: { code?: string } }>;
  extensions?: { cost?: Cost };
}

interface UserError {
  code?: string | null;
  field?: string[] | null;
  message: string;
}

/** A SKU's variant as looked up; `productId` only once a lookup asked for it (price calls need it, quantities do not). */
interface KnownVariant {
  variantId: string;
  inventoryItemId: string | null;
  productId?: string;
}

/** One quantity to send, resolved to Shopify's ids. */
interface Target {
  change: AvailableChange;
  inventoryItemId: string;
  locationId: string;
  expected: number | null;
}

/**
 * Paces calls by Shopify's calculated query cost: a leaky bucket per app and store that holds
 * `maximumAvailable` points and refills at `restoreRate` per second, as every answer's
 * `extensions.cost.throttleStatus` reports. Calls are admitted in turn: each projects what the bucket holds
 * now (the last report plus the refill since, less the cost of this client's calls in flight) and waits when
 * its estimated cost does not fit, or hands a wait longer than `maxWaitMs` to the caller. Until a first answer
 * has told the bucket, calls go one at a time.
 */
const SHARED_PACERS = new Map<string, QueryCostPacer>();

export class QueryCostPacer {
  private status?: ThrottleStatus & { at: number };
  private inFlight = 0;
  private turn: Promise<void> = Promise.resolve();
  private waitingForAnswer: Array<() => void> = [];

  constructor(
    private readonly maxWaitMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * Milliseconds until `cost` points are free (0: now); an estimate, since other clients may share the bucket.
   * `spareShare`: a share of the bucket to leave for other calls besides (a long read leaves room for deliveries).
   */
  waitFor(cost: number, spareShare = 0): number {
    if (!this.status) return 0;
    const { maximumAvailable, currentlyAvailable, restoreRate, at } = this.status;
    const available = Math.min(maximumAvailable, currentlyAvailable + (restoreRate * (this.now() - at)) / 1000) - this.inFlight;
    const needed = Math.min(cost + spareShare * maximumAvailable, maximumAvailable);
    if (available >= needed) return 0;
    return restoreRate > 0 ? Math.ceil(((needed - available) / restoreRate) * 1000) : Number.POSITIVE_INFINITY;
  }

  /**
   * Waits (bounded by `maxWaitMs`, the pacer's own by default) until the bucket holds `cost` points, then counts
   * them in flight until {@link settle}.
   */
  async admit(cost: number, signal?: AbortSignal, maxWaitMs = this.maxWaitMs): Promise<void> {
    const before = this.turn;
    let done!: () => void;
    this.turn = new Promise((resolve) => (done = resolve));
    try {
      await before;
      while (!this.status && this.inFlight > 0) await new Promise<void>((resolve) => this.waitingForAnswer.push(resolve));
      for (let wait = this.waitFor(cost); wait > 0; wait = this.waitFor(cost)) {
        if (wait > maxWaitMs) {
          throw new TargetError('throttled', `Shopify's query cost bucket needs ${wait} ms to hold ${cost} points`, { retryAfterMs: wait });
        }
        await sleep(wait, signal);
      }
      this.inFlight += cost;
    } finally {
      done();
    }
  }

  /** Waits, however long, until the bucket holds `cost` points and `spareShare` of it besides; admits nothing. */
  async until(cost: number, spareShare: number, signal?: AbortSignal): Promise<void> {
    // A bucket that restores nothing is looked at again each minute.
    for (let wait = this.waitFor(cost, spareShare); wait > 0; wait = this.waitFor(cost, spareShare)) await sleep(Math.min(wait, 60_000), signal);
  }

  /** A call of `cost` points was answered, with the bucket as the answer reported it (if it did). */
  settle(cost: number, status: ThrottleStatus | undefined): void {
    this.inFlight = Math.max(0, this.inFlight - cost);
    if (status) this.status = { ...status, at: this.now() };
    for (const resolve of this.waitingForAnswer.splice(0)) resolve();
  }

  /** The process's one pacer of a store's bucket (per endpoint and access token), for the clients that share it. */
  static shared(endpoint: string, accessToken: string): QueryCostPacer {
    const key = `${endpoint}\u0000${accessToken}`;
    let pacer = SHARED_PACERS.get(key);
    if (!pacer) SHARED_PACERS.set(key, (pacer = new QueryCostPacer(DEFAULT_MAX_WAIT_MS, Date.now)));
    return pacer;
  }

  /** How long until a call of `requested` points fits, from a THROTTLED answer's own figures. */
  static retryAfterMs(requested: number, status: ThrottleStatus): number {
    const missing = Math.max(1, requested - status.currentlyAvailable);
    return status.restoreRate > 0 ? Math.ceil((missing / status.restoreRate) * 1000) : 1000;
  }
}

/**
 * Shopify's Admin GraphQL API for one store: SKU to inventory item, and `available` quantities per location
 * through `inventorySetQuantities`, batched by 250; SKU to variant and product, and prices: the variant's own
 * (`productVariantsBulkUpdate`, a call per product) and fixed prices in B2B price lists (250 a call); a
 * customer's fields (`customerSet`).
 *
 * Concurrent changes: the mutation is a compare-and-set. The caller passes, per quantity, the figure
 * Crossdock last set there (`previous`); the client sends it as `compareQuantity` (API versions before
 * 2026-01) or `changeFromQuantity` (2026-01 on, where 2026-04 requires it), so Shopify refuses a batch in
 * which a quantity changed in Shopify since, with COMPARE_QUANTITY_STALE / CHANGE_FROM_QUANTITY_STALE. The
 * client then reads the current figures, counts and reports each one that differs from what was expected,
 * and sends the batch once more against the figures just read: Crossdock's figure wins, but never blindly,
 * and the caller can log what it overwrote. A quantity with no `previous` is read first, so that its first
 * write is a compare-and-set too. A figure found already at the requested value (an earlier attempt that
 * landed) is counted done, not sent again.
 *
 * Idempotency: from 2026-01 each mutation carries `@idempotent(key)`, derived from the reference document and
 * the exact quantities, so a retry of the same call is recognised by Shopify and a different call never
 * reuses a key.
 *
 * Failures are TargetErrors: THROTTLED and waits longer than `maxWaitMs` are `throttled` with
 * `retryAfterMs`; 401/403 (a bad or revoked token) and 5xx `retryable`; `userErrors` other than a stale
 * compare `permanent`, with Shopify's messages. A price's userErrors refuse that price only: they are answered,
 * entry by entry, for the caller to refuse the deliveries concerned.
 */
export class ShopifyAdminClient {
  private readonly endpoint: string;
  private readonly now: () => number;
  private readonly unknownSkuTtlMs: number;
  private readonly pacer: QueryCostPacer;
  private readonly maxWaitMs: number;
  private readonly variants = new Map<string, KnownVariant>();
  private readonly unknownUntil = new Map<string, number>();
  private readonly lookups = new Map<string, Promise<void>>();
  private currency?: string;

  constructor(
    private readonly config: ShopifyConfig,
    options: ShopifyAdminClientOptions = {},
  ) {
    const base = config.adminApiBaseUrl ?? `https://${config.shopDomain}/admin/api/${config.apiVersion}`;
    this.endpoint = `${base.replace(/\/$/, '')}/graphql.json`;
    this.now = options.now ?? Date.now;
    this.unknownSkuTtlMs = options.unknownSkuTtlMs ?? DEFAULT_UNKNOWN_SKU_TTL_MS;
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.pacer = options.sharedPacer && !options.now ? QueryCostPacer.shared(this.endpoint, config.accessToken) : new QueryCostPacer(this.maxWaitMs, this.now);
  }

  /** SKU to inventory item id, for the SKUs the store has; looked up by `productVariants` once per client. */
  async inventoryItemIds(skus: string[], signal?: AbortSignal): Promise<Map<string, string>> {
    const known = await this.knownVariants(skus, false, signal);
    return new Map([...known].flatMap(([sku, v]) => (v.inventoryItemId ? [[sku, v.inventoryItemId] as const] : [])));
  }

  /** SKU to its variant and product ids, for the SKUs the store has; shares the lookups and cache of {@link inventoryItemIds}. */
  async variantIds(skus: string[], signal?: AbortSignal): Promise<Map<string, VariantIds>> {
    const known = await this.knownVariants(skus, true, signal);
    return new Map([...known].map(([sku, v]) => [sku, { variantId: v.variantId, productId: v.productId! }] as const));
  }

  /** The store's currency, in which its variants are priced; read once per client. */
  async shopCurrency(signal?: AbortSignal): Promise<string> {
    if (this.currency === undefined) {
      const data = await this.graphql<{ shop: { currencyCode: string } }>(SHOP_CURRENCY, {}, 1, signal);
      this.currency = expectShape<{ currencyCode: string }>('Shopify', 'the shop', data.shop, { currencyCode: 'string' }).currencyCode;
    }
    return this.currency;
  }

  /**
   * Sets the `price` of variants of one product (`productVariantsBulkUpdate`, amounts as decimal strings) and
   * answers the entries Shopify refused; see {@link sendPrices}.
   */
  async setVariantPrices(productId: string, prices: Array<{ variantId: string; price: string }>, signal?: AbortSignal): Promise<PriceRefusal[]> {
    return this.sendPrices('productVariantsBulkUpdate', prices.map((p) => p.variantId), 'variants', async (entries) => {
      const variants = entries.map((i) => ({ id: prices[i]!.variantId, price: prices[i]!.price }));
      const data = await this.graphql<{ productVariantsBulkUpdate: PricesPayload }>(VARIANT_PRICES, { productId, variants }, MUTATION_COST, signal);
      return userErrorsOf('productVariantsBulkUpdate', data.productVariantsBulkUpdate);
    });
  }

  /** Sets fixed prices in a price list (`priceListFixedPricesAdd`, 250 a call) and answers the entries Shopify refused. */
  async setFixedPrices(priceListId: string, prices: Array<{ variantId: string; amount: string; currencyCode: string }>, signal?: AbortSignal): Promise<PriceRefusal[]> {
    return this.sendPrices('priceListFixedPricesAdd', prices.map((p) => p.variantId), 'prices', async (entries) => {
      const input = entries.map((i) => ({ variantId: prices[i]!.variantId, price: { amount: prices[i]!.amount, currencyCode: prices[i]!.currencyCode } }));
      const data = await this.graphql<{ priceListFixedPricesAdd: PricesPayload }>(FIXED_PRICES_ADD, { priceListId, prices: input }, MUTATION_COST, signal);
      return userErrorsOf('priceListFixedPricesAdd', data.priceListFixedPricesAdd);
    });
  }

  /**
   * Withdraws the variants' fixed prices from a price list (`priceListFixedPricesDelete`, 250 a call), so that the
   * list's adjustment prices them again; a variant without a fixed price there is already as wanted.
   */
  async deleteFixedPrices(priceListId: string, variantIds: string[], signal?: AbortSignal): Promise<PriceRefusal[]> {
    return this.sendPrices('priceListFixedPricesDelete', variantIds, 'variantIds', async (entries) => {
      const data = await this.graphql<{ priceListFixedPricesDelete: PricesPayload }>(FIXED_PRICES_DELETE, { priceListId, variantIds: entries.map((i) => variantIds[i]!) }, MUTATION_COST, signal);
      return userErrorsOf('priceListFixedPricesDelete', data.priceListFixedPricesDelete);
    }, (error) => NO_FIXED_PRICE_CODES.has(error.code ?? ''));
  }

  /** Sets the `available` quantity of each SKU at its warehouse's location, compare-and-set (see the class). */
  async setAvailable(changes: AvailableChange[], options: { referenceDocumentUri: string; signal?: AbortSignal }): Promise<SetAvailableResult> {
    const { signal } = options;
    const result: SetAvailableResult = { updated: 0, concurrentChanges: 0, concurrent: [], unknownSkus: [], unmappedWarehouses: [], notStocked: [] };
    // One figure per SKU and warehouse (Shopify refuses a pair twice in a call): the last given wins.
    changes = [...new Map(changes.map((c) => [`${c.sku}\u0000${c.warehouse}`, c])).values()];
    const ids = await this.inventoryItemIds(changes.map((c) => c.sku), signal);
    result.unknownSkus = [...new Set(changes.map((c) => c.sku).filter((sku) => !ids.has(sku)))];
    result.unmappedWarehouses = [...new Set(changes.map((c) => c.warehouse).filter((w) => !this.config.locations?.[w]))];

    let targets: Target[] = changes.flatMap((change) => {
      const inventoryItemId = ids.get(change.sku);
      const locationId = this.config.locations?.[change.warehouse];
      return inventoryItemId && locationId ? [{ change, inventoryItemId, locationId, expected: change.previous ?? null }] : [];
    });
    const unread = targets.filter((t) => t.expected === null);
    if (unread.length > 0) {
      const current = await this.availableQuantities(unread, signal);
      targets = targets.filter((t) => {
        if (t.expected !== null) return true;
        const found = current.get(levelKey(t));
        if (found === undefined || found === null) {
          result.notStocked.push({ sku: t.change.sku, warehouse: t.change.warehouse });
          return false;
        }
        if (found === t.change.quantity) {
          result.updated++;
          return false;
        }
        t.expected = found;
        return true;
      });
    }

    for (let i = 0; i < targets.length; i += MAX_QUANTITIES_PER_MUTATION) {
      await this.setBatch(targets.slice(i, i + MAX_QUANTITIES_PER_MUTATION), options.referenceDocumentUri, result, signal);
    }
    return result;
  }

  /** The current `available` figure per item and location (`null`: the item is not stocked there). */
  async availableQuantities(levels: Array<{ inventoryItemId: string; locationId: string }>, signal?: AbortSignal): Promise<Map<string, number | null>> {
    const found = new Map<string, number | null>();
    for (let i = 0; i < levels.length; i += LEVELS_PER_READ) {
      const batch = levels.slice(i, i + LEVELS_PER_READ);
      const byItem = new Map<string, string[]>();
      for (const level of batch) byItem.set(level.inventoryItemId, [...new Set([...(byItem.get(level.inventoryItemId) ?? []), level.locationId])]);
      const items = [...byItem.entries()];
      const variables: Record<string, string> = {};
      const parameters: string[] = [];
      const fields = items.map(([itemId, locations], n) => {
        variables[`item${n}`] = itemId;
        parameters.push(`$item${n}: ID!`);
        const levelFields = locations.map((locationId, m) => {
          variables[`location${n}_${m}`] = locationId;
          parameters.push(`$location${n}_${m}: ID!`);
          return `level${m}: inventoryLevel(locationId: $location${n}_${m}) { quantities(names: ["available"]) { name quantity } }`;
        });
        return `item${n}: inventoryItem(id: $item${n}) { id ${levelFields.join(' ')} }`;
      });
      const query = `query CrossdockAvailableQuantities(${parameters.join(', ')}) { ${fields.join(' ')} }`;
      const data = await this.graphql<Record<string, AnsweredItem | null>>(query, variables, items.length + 2 * batch.length, signal);
      items.forEach(([itemId, locations], n) => {
        const item = data[`item${n}`];
        if (item !== null && item !== undefined) expectShape('Shopify', 'an inventory item', item, { id: 'string' });
        locations.forEach((locationId, m) => {
          const level = item?.[`level${m}`] as AnsweredLevel | null | undefined;
          if (level) expectShape('Shopify', 'an inventory level', level, { quantities: 'array' });
          found.set(levelKey({ inventoryItemId: itemId, locationId }), level ? (level.quantities.find((q) => q.name === 'available')?.quantity ?? 0) : null);
        });
      });
    }
    return found;
  }

  /**
   * One page of the store's inventory items (`inventoryItems`, in Shopify's order), each with its SKU and its
   * `available` figure at each of `locationIds`: a whole store's levels read the cheap way, resumable from `after`
   * (the `next` of the page before). At most {@link levelsPageSize} items.
   */
  async inventoryLevelsPage(locationIds: readonly string[], after: string | null, first: number, signal?: AbortSignal): Promise<InventoryLevelsPage> {
    first = levelsPageSize(locationIds.length, first);
    const variables: Record<string, unknown> = { first, after };
    const levels = locationIds.map((locationId, n) => {
      variables[`location${n}`] = locationId;
      return `level${n}: inventoryLevel(locationId: $location${n}) { quantities(names: ["available"]) { name quantity } }`;
    });
    const query = `query CrossdockInventoryLevels($first: Int!, $after: String${locationIds.map((_, n) => `, $location${n}: ID!`).join('')}) {
  inventoryItems(first: $first, after: $after) {
    nodes { id sku ${levels.join(' ')} }
    pageInfo { hasNextPage endCursor }
  }
}`;
    type Answer = { inventoryItems: { nodes: AnsweredItem[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const data = await this.graphql<Answer>(query, variables, levelsPageCost(locationIds.length, first), signal);
    const page = expectShape<Answer['inventoryItems']>('Shopify', 'inventoryItems', data.inventoryItems, { nodes: 'array', pageInfo: 'object' });
    expectShape('Shopify', 'pageInfo', page.pageInfo, { hasNextPage: 'boolean', endCursor: 'string?' });
    const items = page.nodes.map((node) => {
      const item = expectShape<{ id: string; sku: string | null }>('Shopify', 'an inventory item', node, { id: 'string', sku: 'string?' });
      const available = locationIds.map((_, n) => {
        const level = node[`level${n}`] as AnsweredLevel | null | undefined;
        if (!level) return null;
        expectShape('Shopify', 'an inventory level', level, { quantities: 'array' });
        return level.quantities.find((q) => q.name === 'available')?.quantity ?? 0;
      });
      return { inventoryItemId: item.id, sku: item.sku || null, available };
    });
    return { items, next: page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null };
  }

  /**
   * Starts the bulk query of the store's inventory items with their SKU and `available` figure at every location
   * (`bulkOperationRunQuery`, 10 points, the cost of any mutation): the whole catalogue for a flat cost, read by
   * Shopify in the background. When the app's bulk query is already running (one at a time per shop) and it is this
   * same read (a run cut short between starting it and recording it), that operation is answered; another one is
   * waited for (retryable).
   */
  async startBulkInventoryRead(signal?: AbortSignal): Promise<BulkOperation> {
    type Payload = { bulkOperation: unknown; userErrors: UserError[] } | null;
    const data = await this.graphql<{ bulkOperationRunQuery: Payload }>(BULK_RUN_QUERY, { query: BULK_INVENTORY_QUERY }, MUTATION_COST, signal);
    const payload = expectShape<NonNullable<Payload>>('Shopify', 'bulkOperationRunQuery', data.bulkOperationRunQuery, { userErrors: 'array', bulkOperation: 'object?' });
    if (payload.userErrors.length === 0 && payload.bulkOperation) return bulkOperationOf(payload.bulkOperation);
    if (payload.userErrors.some((e) => e.code === 'OPERATION_IN_PROGRESS')) {
      const current = await this.currentBulkOperation(signal);
      if (current && current.query === BULK_INVENTORY_QUERY && !['FAILED', 'CANCELED', 'EXPIRED'].includes(current.status)) return current;
      throw new TargetError('retryable', `Shopify runs another bulk query of this app (${current?.id ?? 'unknown'}): ${payload.userErrors.map(describeUserError).join('; ')}`, { retryAfterMs: 5_000 });
    }
    throw new TargetError('permanent', `Shopify refused the bulk query: ${payload.userErrors.map(describeUserError).join('; ') || 'no operation and no error'}`);
  }

  /** A bulk operation by its id (`node(id:)`); null when the store has no such operation. */
  async bulkOperation(id: string, signal?: AbortSignal): Promise<BulkOperation | null> {
    const data = await this.graphql<{ node: unknown }>(BULK_OPERATION, { id }, 1, signal);
    return data.node === null || data.node === undefined ? null : bulkOperationOf(data.node);
  }

  /** The app's latest bulk query operation, whatever its status (`currentBulkOperation`), with its query. */
  async currentBulkOperation(signal?: AbortSignal): Promise<(BulkOperation & { query: string }) | null> {
    const data = await this.graphql<{ currentBulkOperation: unknown }>(CURRENT_BULK_OPERATION, {}, 1, signal);
    if (data.currentBulkOperation === null || data.currentBulkOperation === undefined) return null;
    const { query } = expectShape<{ query: string }>('Shopify', 'the current bulk operation', data.currentBulkOperation, { query: 'string' });
    return { ...bulkOperationOf(data.currentBulkOperation), query };
  }

  /**
   * The result of {@link startBulkInventoryRead}, downloaded from its signed URL (a plain GET, no token: the URL is
   * the authority) and read into items with their `available` figure at each of `locationIds`, in the file's order.
   */
  async bulkInventoryResult(url: string, locationIds: readonly string[], signal?: AbortSignal): Promise<StoreInventoryItem[]> {
    const response = await httpCall(url, { method: 'GET', maxBytes: MAX_BULK_RESULT_BYTES, signal: signal ?? AbortSignal.timeout(BULK_DOWNLOAD_TIMEOUT_MS) });
    const failure = classifyHttpStatus(response.status, response.text, response.header('retry-after'));
    if (failure) throw new TargetError(failure.class, `Shopify's bulk result answered ${response.status}`, { status: response.status, bodyExcerpt: failure.bodyExcerpt, retryAfterMs: failure.retryAfterMs });
    return parseBulkInventory(response.text, locationIds);
  }

  /** The SKU of an inventory item; null when the store has no such item, or it has no SKU. */
  async inventoryItemSku(inventoryItemId: string, signal?: AbortSignal): Promise<string | null> {
    const data = await this.graphql<{ inventoryItem: { id: string; sku: string | null } | null }>(INVENTORY_ITEM_SKU, { id: inventoryItemId }, 1, signal);
    if (data.inventoryItem === null || data.inventoryItem === undefined) return null;
    return expectShape<{ id: string; sku: string | null }>('Shopify', 'an inventory item', data.inventoryItem, { id: 'string', sku: 'string?' }).sku || null;
  }

  /**
   * Waits, however long, until the store's bucket (as this client last heard of it) holds `cost` points and
   * `spareShare` of the bucket besides: a long read goes at the bucket's pace and leaves room for other calls.
   */
  untilAvailable(cost: number, spareShare: number, signal?: AbortSignal): Promise<void> {
    return this.pacer.until(cost, spareShare, signal);
  }

  /** The order's line items, fulfillment orders and fulfillments; null when the store has no such order. */
  async fulfillmentState(orderId: string, signal?: AbortSignal): Promise<ShopifyOrderFulfillment | null> {
    const data = await this.graphql<{ order: AnsweredOrder | null }>(FULFILLMENT_STATE, { id: orderId }, FULFILLMENT_STATE_COST, signal);
    if (data.order === null || data.order === undefined) return null;
    const order = expectShape<AnsweredOrder>('Shopify', 'an order', data.order, { id: 'string', lineItems: 'object', fulfillmentOrders: 'object', fulfillments: 'array' });
    return {
      orderId: order.id,
      lineItems: order.lineItems.nodes.map((l) => ({ id: l.id, sku: l.sku, quantity: l.quantity, unfulfilledQuantity: l.unfulfilledQuantity })),
      fulfillmentOrders: order.fulfillmentOrders.nodes.map((f) => ({
        id: f.id, status: f.status, locationId: f.assignedLocation?.location?.id ?? null,
        lineItems: f.lineItems.nodes.map((l) => ({ id: l.id, lineItemId: l.lineItem.id, remainingQuantity: l.remainingQuantity })),
      })),
      fulfillments: order.fulfillments.map((f) => ({
        id: f.id, createdAt: f.createdAt, trackingNumbers: f.trackingInfo.map((t) => t.number).filter((n): n is string => !!n),
        lineItemIds: f.fulfillmentLineItems.nodes.map((l) => l.lineItem.id),
      })),
    };
  }

  /** One `fulfillmentCreate`; its userErrors are the shipment's fault, not the store's: permanent, with Shopify's message. */
  async createFulfillment(create: FulfillmentCreate, tracking: Tracking, notifyCustomer: boolean, signal?: AbortSignal): Promise<string> {
    const fulfillment = { notifyCustomer, lineItemsByFulfillmentOrder: create.lineItemsByFulfillmentOrder, ...(tracking.number || tracking.url ? { trackingInfo: tracking } : {}) };
    const data = await this.graphql<{ fulfillmentCreate: MutationPayload }>(FULFILLMENT_CREATE, { fulfillment }, MUTATION_COST, signal);
    return fulfillmentOf('fulfillmentCreate', data.fulfillmentCreate);
  }

  async updateTracking(fulfillmentId: string, tracking: Tracking, notifyCustomer: boolean, signal?: AbortSignal): Promise<string> {
    const data = await this.graphql<{ fulfillmentTrackingInfoUpdate: MutationPayload }>(TRACKING_UPDATE, { fulfillmentId, trackingInfoInput: tracking, notifyCustomer }, MUTATION_COST, signal);
    return fulfillmentOf('fulfillmentTrackingInfoUpdate', data.fulfillmentTrackingInfoUpdate);
  }

  /**
   * Sets the fields of a customer the store has (`customerSet` by id: it never creates one) and answers its id.
   * The same input twice changes nothing. A customer the store does not have, or any other userError, is
   * permanent, with Shopify's message and the field it names.
   */
  async setCustomer(customerId: string, input: CustomerSetInput, signal?: AbortSignal): Promise<string> {
    const data = await this.graphql<{ customerSet: CustomerSetPayload }>(CUSTOMER_SET, { identifier: { id: customerId }, input }, MUTATION_COST, signal);
    const answer = expectShape<NonNullable<CustomerSetPayload>>('Shopify', 'customerSet', data.customerSet, { userErrors: 'array', customer: 'object?' });
    if (answer.userErrors.some((e) => e.code === 'NOT_FOUND') || (answer.userErrors.length === 0 && !answer.customer)) {
      throw new TargetError('permanent', `Shopify has no customer ${customerId}${answer.userErrors.length ? `: ${answer.userErrors.map(describeUserError).join('; ')}` : ''}`);
    }
    if (answer.userErrors.length > 0) throw new TargetError('permanent', `Shopify refused customerSet of ${customerId}: ${answer.userErrors.map(describeUserError).join('; ')}`);
    return answer.customer!.id;
  }

  /**
   * A company's writes in one request, a mutation each, which Shopify runs in order: the name to the company, the
   * addresses, phone and tax registration id to its location. Each sets a value, so the same writes again change
   * nothing. A userError (a company or location the store does not have, a value it refuses) is permanent, with
   * Shopify's message and the mutation, id and field it names; the writes it does not name have landed.
   */
  async setCompany(writes: CompanyWrite[], signal?: AbortSignal): Promise<void> {
    if (writes.length === 0) return;
    const parameters: string[] = [];
    const variables: Record<string, unknown> = {};
    const fields = writes.map((write, n) => {
      const { types, result } = COMPANY_MUTATIONS[write.mutation];
      const args = Object.entries(types).map(([name, type]) => {
        parameters.push(`$write${n}_${name}: ${type}`);
        variables[`write${n}_${name}`] = (write.args as Record<string, unknown>)[name];
        return `${name}: $write${n}_${name}`;
      });
      return `write${n}: ${write.mutation}(${args.join(', ')}) { ${result} { id } userErrors { code field message } }`;
    });
    const query = `mutation CrossdockCompanyWrites(${parameters.join(', ')}) {\n  ${fields.join('\n  ')}\n}`;
    const data = await this.graphql<Record<string, CompanyWritePayload>>(query, variables, MUTATION_COST * writes.length, signal);
    const refusals = writes.flatMap((write, n) => {
      const { target, result } = COMPANY_MUTATIONS[write.mutation];
      const id = (write.args as Record<string, unknown>)[target];
      const answer = expectShape<NonNullable<CompanyWritePayload>>('Shopify', write.mutation, data[`write${n}`], { userErrors: 'array' });
      if (answer.userErrors.length > 0) return [`${write.mutation} of ${id}: ${answer.userErrors.map(describeUserError).join('; ')}`];
      if (answer[result] === null || answer[result] === undefined) throw new TargetError('retryable', `Shopify answered ${write.mutation} of ${id} without a result or an error`);
      return [];
    });
    if (refusals.length > 0) throw new TargetError('permanent', `Shopify refused ${refusals.join('; ')}`);
  }

  /** The cached variants of the SKUs, looking up those missing (with their product when `withProduct`). */
  private async knownVariants(skus: string[], withProduct: boolean, signal?: AbortSignal): Promise<Map<string, KnownVariant>> {
    const wanted = [...new Set(skus)];
    const cached = (sku: string) => this.variants.has(sku) && (!withProduct || this.variants.get(sku)!.productId !== undefined);
    await Promise.all(wanted.map((sku) => this.lookups.get(sku)?.catch(() => undefined)));
    const now = this.now();
    const missing = wanted.filter((sku) => !cached(sku) && !((this.unknownUntil.get(sku) ?? 0) > now));
    for (let i = 0; i < missing.length; i += SKUS_PER_LOOKUP) {
      const batch = missing.slice(i, i + SKUS_PER_LOOKUP);
      const lookup = this.lookUp(batch, withProduct, signal);
      for (const sku of batch) this.lookups.set(sku, lookup);
      try {
        await lookup;
      } finally {
        for (const sku of batch) if (this.lookups.get(sku) === lookup) this.lookups.delete(sku);
      }
    }
    return new Map(wanted.flatMap((sku) => (cached(sku) ? [[sku, this.variants.get(sku)!] as const] : [])));
  }

  private async lookUp(skus: string[], withProduct: boolean, signal?: AbortSignal): Promise<void> {
    const search = skus.map((sku) => `sku:"${sku.replace(/["\\]/g, '\\$&')}"`).join(' OR ');
    const [query, cost] = withProduct ? [VARIANTS_WITH_PRODUCT_BY_SKU, 2 + 3 * skus.length] : [VARIANTS_BY_SKU, 2 + 2 * skus.length];
    const found = new Set<string>();
    let after: string | null = null;
    do {
      const data: VariantsAnswer = await this.graphql<VariantsAnswer>(query, { first: skus.length, query: search, after }, cost, signal);
      const variants = expectShape<VariantsAnswer['productVariants']>('Shopify', 'productVariants', data.productVariants, { nodes: 'array', pageInfo: 'object' });
      expectShape('Shopify', 'pageInfo', variants.pageInfo, { hasNextPage: 'boolean', endCursor: 'string?' });
      for (const variant of variants.nodes) expectShape('Shopify', 'a product variant', variant, { id: 'string', sku: 'string?', inventoryItem: 'object?', ...(withProduct ? { product: 'object' } : {}) });
      // Shopify's search matches terms, not whole values: only an exact SKU counts. Where two variants share a
      // SKU, the first found wins.
      for (const variant of data.productVariants.nodes) {
        const sku = variant.sku ?? '';
        if (!skus.includes(sku) || found.has(sku)) continue;
        found.add(sku);
        this.variants.set(sku, { variantId: variant.id, inventoryItemId: variant.inventoryItem?.id ?? null, ...(variant.product ? { productId: variant.product.id } : {}) });
      }
      after = data.productVariants.pageInfo.hasNextPage ? data.productVariants.pageInfo.endCursor : null;
    } while (after);
    const until = this.now() + this.unknownSkuTtlMs;
    for (const sku of skus) {
      if (found.has(sku)) this.unknownUntil.delete(sku);
      else {
        this.variants.delete(sku);
        this.unknownUntil.set(sku, until);
      }
    }
  }

  /**
   * Sends a price mutation over the entries (by their variant ids), at most 250 a call, and answers the entries
   * Shopify refused with its message. A call answered with userErrors is sent again without the entries they
   * name: Shopify may have applied none of it (productVariantsBulkUpdate is all or nothing unless told
   * otherwise), and setting a price twice is harmless. A userError that names no entry (the product, the
   * price list) refuses every entry of its call. `done`: errors that leave the entry as wanted.
   */
  private async sendPrices(mutation: string, variantIds: string[], input: string, send: (entries: number[]) => Promise<UserError[]>, done: (error: UserError) => boolean = () => false): Promise<PriceRefusal[]> {
    const refusals: PriceRefusal[] = [];
    const refuse = (entries: number[], errors: UserError[]) => {
      const message = `Shopify refused ${mutation}: ${errors.map((e) => `${e.code ? `${e.code}: ` : ''}${e.message}`).join('; ')}`;
      refusals.push(...entries.map((index) => ({ index, message })));
      if (errors.some((e) => GONE_VARIANT_CODES.has(e.code ?? '') && !done(e))) this.forgetVariants(entries.map((i) => variantIds[i]!));
    };
    for (let start = 0; start < variantIds.length; start += MAX_PRICES_PER_CALL) {
      let pending = Array.from({ length: Math.min(MAX_PRICES_PER_CALL, variantIds.length - start) }, (_, i) => start + i);
      while (pending.length > 0) {
        const errors = await send(pending);
        if (errors.length === 0) break;
        const byEntry = new Map<number, UserError[]>();
        const unnamed: UserError[] = [];
        for (const error of errors) {
          const at = entryOfUserError(error, input, pending.map((i) => variantIds[i]!));
          if (at === undefined) unnamed.push(error);
          else byEntry.set(pending[at]!, [...(byEntry.get(pending[at]!) ?? []), error]);
        }
        for (const [index, entryErrors] of byEntry) {
          const refused = entryErrors.filter((e) => !done(e));
          if (refused.length > 0) refuse([index], refused);
        }
        pending = pending.filter((i) => !byEntry.has(i));
        if (unnamed.length > 0) {
          refuse(pending, unnamed);
          pending = [];
        }
      }
    }
    return refusals.sort((a, b) => a.index - b.index);
  }

  private forgetVariants(variantIds: string[]): void {
    const gone = new Set(variantIds);
    for (const [sku, variant] of this.variants) if (gone.has(variant.variantId)) this.variants.delete(sku);
  }

  private async setBatch(batch: Target[], referenceDocumentUri: string, result: SetAvailableResult, signal?: AbortSignal): Promise<void> {
    let pending = batch;
    for (let attempt = 0; ; attempt++) {
      const errors = await this.mutate(pending, referenceDocumentUri, attempt, signal);
      if (errors.length === 0) {
        result.updated += pending.length;
        return;
      }
      const refused = errors.filter((e) => !STALE_CODES.has(e.code ?? ''));
      if (refused.length > 0) {
        // An item deleted in Shopify makes its cached id wrong: look it up again next time.
        if (refused.some((e) => e.code === 'INVALID_INVENTORY_ITEM')) for (const t of pending) this.variants.delete(t.change.sku);
        const messages = refused.map((e) => `${e.code ? `${e.code}: ` : ''}${e.message}${describeField(e.field, pending)}`);
        throw new TargetError('permanent', `Shopify refused the quantities: ${messages.join('; ')}`, { bodyExcerpt: excerpt(JSON.stringify(refused)) });
      }
      if (attempt > 0) {
        throw new TargetError('retryable', `quantities kept changing in Shopify while they were set (${errors.length} stale again); the next attempt compares against newer figures`);
      }
      // Shopify applies a batch whole or not at all: read every quantity of it, not only the stale ones.
      const current = await this.availableQuantities(pending, signal);
      const next: Target[] = [];
      for (const target of pending) {
        const found = current.get(levelKey(target));
        if (found === undefined || found === null) {
          result.notStocked.push({ sku: target.change.sku, warehouse: target.change.warehouse });
        } else if (found === target.change.quantity) {
          result.updated++;
        } else {
          if (found !== target.expected) {
            result.concurrentChanges++;
            result.concurrent.push({ sku: target.change.sku, warehouse: target.change.warehouse, expected: target.expected!, found, quantity: target.change.quantity });
          }
          next.push({ ...target, expected: found });
        }
      }
      if (next.length === 0) return;
      pending = next;
    }
  }

  /** One inventorySetQuantities call; answers its userErrors. */
  private async mutate(targets: Target[], referenceDocumentUri: string, attempt: number, signal?: AbortSignal): Promise<UserError[]> {
    const changeFrom = this.config.apiVersion >= CHANGE_FROM_VERSION;
    const quantities = targets.map((t) => ({
      inventoryItemId: t.inventoryItemId,
      locationId: t.locationId,
      quantity: t.change.quantity,
      ...(changeFrom ? { changeFromQuantity: t.expected } : { compareQuantity: t.expected }),
    }));
    const input = { name: 'available', reason: 'correction', referenceDocumentUri, quantities };
    const key = changeFrom ? idempotencyKey({ input, attempt }) : undefined;
    const data = await this.graphql<{ inventorySetQuantities: { userErrors: UserError[] } | null }>(setQuantitiesMutation(key), { input }, MUTATION_COST, signal);
    const payload = expectShape<{ userErrors: UserError[] }>('Shopify', 'inventorySetQuantities', data.inventorySetQuantities, { userErrors: 'array' });
    return payload.userErrors;
  }

  private async graphql<T>(query: string, variables: Record<string, unknown>, estimatedCost: number, signal?: AbortSignal): Promise<T> {
    await this.pacer.admit(estimatedCost, signal, this.maxWaitMs);
    let status: ThrottleStatus | undefined;
    try {
      const response = await httpCall(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-shopify-access-token': this.config.accessToken },
        body: JSON.stringify({ query, variables }),
        signal,
      });
      const text = response.text;
      const answer = parseAnswer<T>(text);
      const cost = answer?.extensions?.cost;
      status = cost?.throttleStatus;
      if (answer?.errors?.some((e) => e.extensions?.code === 'THROTTLED')) {
        const retryAfterMs = status ? QueryCostPacer.retryAfterMs(cost?.requestedQueryCost ?? estimatedCost, status) : 1000;
        throw new TargetError('throttled', `Shopify throttled a call of ${cost?.requestedQueryCost ?? estimatedCost} points`, { status: response.status, bodyExcerpt: excerpt(text), retryAfterMs });
      }
      if (response.status === 401 || response.status === 403) {
        // A wrong or revoked token fails every call alike: wait for the configuration to be fixed.
        throw new TargetError('retryable', `Shopify refused the access token (${response.status})`, { status: response.status, bodyExcerpt: excerpt(text) });
      }
      const failure = classifyHttpStatus(response.status, text, response.header('retry-after'));
      if (failure) throw new TargetError(failure.class, `Shopify answered ${response.status}`, { status: response.status, bodyExcerpt: failure.bodyExcerpt, retryAfterMs: failure.retryAfterMs });
      if (!answer) throw new TargetError('retryable', 'Shopify answered with a body that is not JSON', { status: response.status, bodyExcerpt: excerpt(text) });
      if (!answer.errors?.length && (answer.data === null || typeof answer.data !== 'object' || Array.isArray(answer.data))) {
        // Neither data nor errors: the store, or whatever answered for it, is not speaking GraphQL.
        throw new TargetError('retryable', 'Shopify answered without data or errors', { status: response.status, bodyExcerpt: excerpt(text) });
      }
      if (answer.errors?.length || !answer.data) {
        const codes = (answer.errors ?? []).map((e) => e.extensions?.code);
        const failureClass = codes.some((c) => c === 'INTERNAL_SERVER_ERROR' || c === 'SERVICE_UNAVAILABLE' || c === 'ACCESS_DENIED') ? 'retryable' : 'permanent';
        const messages = (answer.errors ?? []).map((e) => e.message).join('; ') || 'no data';
        throw new TargetError(failureClass, `Shopify answered with errors: ${messages}`, { status: response.status, bodyExcerpt: excerpt(text) });
      }
      return answer.data;
    } finally {
      this.pacer.settle(estimatedCost, status);
    }
  }

  /**
   * One page of the store's variants (`productVariants`, in Shopify's order), each with its SKU and its own price,
   * and the store's currency in which they are priced: a whole store's prices read the cheap way, resumable from
   * `after` (the `next` of the page before). At most {@link variantPricesPageSize} variants.
   */
  async variantPricesPage(after: string | null, first: number, signal?: AbortSignal): Promise<VariantPricesPage> {
    first = variantPricesPageSize(first);
    type Answer = { shop: { currencyCode: string }; productVariants: { nodes: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const data = await this.graphql<Answer>(VARIANT_PRICES_PAGE, { first, after }, variantPricesPageCost(first), signal);
    const { currencyCode } = expectShape<{ currencyCode: string }>('Shopify', 'the shop', data.shop, { currencyCode: 'string' });
    const page = expectShape<Answer['productVariants']>('Shopify', 'productVariants', data.productVariants, { nodes: 'array', pageInfo: 'object' });
    expectShape('Shopify', 'pageInfo', page.pageInfo, { hasNextPage: 'boolean', endCursor: 'string?' });
    const variants = page.nodes.map((node) => {
      const variant = expectShape<{ id: string; sku: string | null; price: string }>('Shopify', 'a product variant', node, { id: 'string', sku: 'string?', price: 'string' });
      return { variantId: variant.id, sku: variant.sku || null, price: variant.price };
    });
    return { currency: currencyCode, variants, next: page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null };
  }

  /**
   * Customers, companies and company locations by their ids, in one query (`customer(id:)`, `company(id:)`,
   * `companyLocation(id:)` under aliases): each as Shopify answers it, null when the store has no such record.
   * `cost`: the query's estimate (the caller sizes its pages by it).
   */
  async recordsByIds(ids: { customers: readonly string[]; companies: readonly string[]; locations: readonly string[] }, cost: number, signal?: AbortSignal): Promise<Map<string, Record<string, unknown> | null>> {
    const variables: Record<string, unknown> = {};
    const fields: string[] = [];
    const declare = (kind: string, ids: readonly string[], root: string, selection: string) => ids.forEach((id, n) => {
      variables[`${kind}${n}`] = id;
      fields.push(`${kind}${n}: ${root}(id: $${kind}${n}) ${selection}`);
    });
    declare('c', ids.customers, 'customer', '{ id firstName lastName email phone defaultAddress { address1 address2 city zip provinceCode countryCodeV2 } }');
    declare('k', ids.companies, 'company', '{ id name }');
    const address = '{ address1 address2 city zip zoneCode countryCode }';
    declare('l', ids.locations, 'companyLocation', `{ id phone billingAddress ${address} shippingAddress ${address} taxSettings { taxRegistrationId } }`);
    if (fields.length === 0) return new Map();
    const query = `query CrossdockCustomersByIds(${Object.keys(variables).map((v) => `$${v}: ID!`).join(', ')}) {\n  ${fields.join('\n  ')}\n}`;
    const data = await this.graphql<Record<string, unknown>>(query, variables, cost, signal);
    return new Map(Object.entries(variables).map(([alias, id]) => {
      const record = data[alias];
      return [id as string, record === null || record === undefined ? null : expectShape<Record<string, unknown>>('Shopify', `the record ${String(id)}`, record, { id: 'string' })];
    }));
  }
}

type VariantsAnswer = {
  productVariants: {
    nodes: Array<{ id: string; sku: string | null; inventoryItem: { id: string } | null; product?: { id: string } }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
};
type PricesPayload = { userErrors: UserError[] } | null;

function userErrorsOf(mutation: string, payload: PricesPayload): UserError[] {
  return expectShape<{ userErrors: UserError[] }>('Shopify', mutation, payload, { userErrors: 'array' }).userErrors;
}
type CustomerSetPayload = { customer: { id: string } | null; userErrors: UserError[] } | null;
type CompanyWritePayload = ({ userErrors: UserError[] } & Record<string, unknown>) | null;

/** Each company write's argument types, the argument naming what it writes to, and the payload field of its result. */
const COMPANY_MUTATIONS: Record<CompanyWrite['mutation'], { types: Record<string, string>; target: string; result: string }> = {
  companyUpdate: { types: { companyId: 'ID!', input: 'CompanyInput!' }, target: 'companyId', result: 'company' },
  companyLocationAssignAddress: { types: { locationId: 'ID!', address: 'CompanyAddressInput!', addressTypes: '[CompanyAddressType!]!' }, target: 'locationId', result: 'addresses' },
  companyLocationUpdate: { types: { companyLocationId: 'ID!', input: 'CompanyLocationUpdateInput!' }, target: 'companyLocationId', result: 'companyLocation' },
  companyLocationTaxSettingsUpdate: { types: { companyLocationId: 'ID!', taxRegistrationId: 'String' }, target: 'companyLocationId', result: 'companyLocation' },
};

/** "CODE: message (field.path)", as a refusal names a userError. */
function describeUserError(e: UserError): string {
  return `${e.code ? `${e.code}: ` : ''}${e.message}${e.field?.length ? ` (${e.field.join('.')})` : ''}`;
}
type AnsweredLevel = { quantities: Array<{ name: string; quantity: number }> };
type AnsweredItem = Record<string, unknown>;

export interface Tracking {
  number: string | null;
  company: string | null;
  url: string | null;
}

type MutationPayload = { fulfillment: { id: string } | null; userErrors: Array<{ field?: string[] | null; message: string }> } | null;

function fulfillmentOf(mutation: string, payload: MutationPayload): string {
  const answer = expectShape<NonNullable<MutationPayload>>('Shopify', mutation, payload, { userErrors: 'array', fulfillment: 'object?' });
  if (answer.userErrors.length > 0) throw new TargetError('permanent', `Shopify refused ${mutation}: ${answer.userErrors.map((e) => e.message).join('; ')}`);
  if (!answer.fulfillment) throw new TargetError('retryable', `Shopify answered ${mutation} without a fulfillment or an error`);
  return answer.fulfillment.id;
}

type AnsweredOrder = {
  id: string;
  lineItems: { nodes: Array<{ id: string; sku: string | null; quantity: number; unfulfilledQuantity: number }> };
  fulfillmentOrders: { nodes: Array<{ id: string; status: string; assignedLocation: { location: { id: string } | null } | null; lineItems: { nodes: Array<{ id: string; remainingQuantity: number; lineItem: { id: string } }> } }> };
  fulfillments: Array<{ id: string; createdAt: string; trackingInfo: Array<{ number: string | null }>; fulfillmentLineItems: { nodes: Array<{ lineItem: { id: string } }> } }>;
};

// Up to 100 lines, 5 locations of 50 lines, 20 fulfillments: about 640 points, within one call's 1,000.
const FULFILLMENT_STATE_COST = 640;
const FULFILLMENT_STATE = `query CrossdockFulfillmentState($id: ID!) {
  order(id: $id) {
    id
    lineItems(first: 100) { nodes { id sku quantity unfulfilledQuantity } }
    fulfillmentOrders(first: 5) { nodes { id status assignedLocation { location { id } } lineItems(first: 50) { nodes { id remainingQuantity lineItem { id } } } } }
    fulfillments(first: 20) { id createdAt trackingInfo(first: 5) { number } fulfillmentLineItems(first: 50) { nodes { lineItem { id } } } }
  }
}`;

const FULFILLMENT_CREATE = `mutation CrossdockFulfill($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id } userErrors { field message } }
}`;

const TRACKING_UPDATE = `mutation CrossdockTracking($fulfillmentId: ID!, $trackingInfoInput: FulfillmentTrackingInput!, $notifyCustomer: Boolean) {
  fulfillmentTrackingInfoUpdate(fulfillmentId: $fulfillmentId, trackingInfoInput: $trackingInfoInput, notifyCustomer: $notifyCustomer) { fulfillment { id } userErrors { field message } }
}`;

const VARIANTS_BY_SKU = `query CrossdockVariantsBySku($first: Int!, $query: String!, $after: String) {
  productVariants(first: $first, query: $query, after: $after) {
    nodes { id sku inventoryItem { id } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const VARIANTS_WITH_PRODUCT_BY_SKU = `query CrossdockVariantsWithProductBySku($first: Int!, $query: String!, $after: String) {
  productVariants(first: $first, query: $query, after: $after) {
    nodes { id sku inventoryItem { id } product { id } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const SHOP_CURRENCY = `query CrossdockShopCurrency { shop { currencyCode } }`;

/** The bulk read of the store's inventory: every item, and every level of it (a location is not a filter in bulk). */
const BULK_INVENTORY_QUERY = `{
  inventoryItems {
    edges { node { id sku inventoryLevels { edges { node { location { id } quantities(names: ["available"]) { name quantity } } } } } }
  }
}`;

const BULK_OPERATION_FIELDS = 'id status errorCode createdAt completedAt objectCount url';

const BULK_RUN_QUERY = `mutation CrossdockBulkInventory($query: String!) {
  bulkOperationRunQuery(query: $query) { bulkOperation { ${BULK_OPERATION_FIELDS} } userErrors { code field message } }
}`;

const BULK_OPERATION = `query CrossdockBulkOperation($id: ID!) { node(id: $id) { ... on BulkOperation { ${BULK_OPERATION_FIELDS} } } }`;

const CURRENT_BULK_OPERATION = `query CrossdockCurrentBulkOperation { currentBulkOperation(type: QUERY) { ${BULK_OPERATION_FIELDS} query } }`;

function bulkOperationOf(value: unknown): BulkOperation {
  const op = expectShape<Record<string, unknown>>('Shopify', 'a bulk operation', value, {
    id: 'string', status: 'string', errorCode: 'string?', createdAt: 'string', completedAt: 'string?', url: 'string?',
  });
  // UnsignedInt64 comes as a string.
  const objectCount = Number(op.objectCount ?? 0);
  return {
    id: op.id as string, status: op.status as string, errorCode: (op.errorCode as string | null | undefined) ?? null, createdAt: op.createdAt as string,
    completedAt: (op.completedAt as string | null | undefined) ?? null, objectCount: Number.isFinite(objectCount) ? objectCount : 0, url: (op.url as string | null | undefined) ?? null,
  };
}

/**
 * A bulk result of the inventory query, as Shopify writes it: JSONL, each item a line (`id`, `sku`), each of its
 * levels a line of its own naming the item by `__parentId` (`location { id }`, `quantities`). Lines are not assumed to
 * come in order: an item's levels are matched to it by id. Items in the order of their lines; `available` per location
 * of `locationIds`, null where the item has no level.
 */
export function parseBulkInventory(text: string, locationIds: readonly string[]): StoreInventoryItem[] {
  const column = new Map(locationIds.map((id, n) => [id, n]));
  const items: StoreInventoryItem[] = [];
  const byId = new Map<string, StoreInventoryItem>();
  const levels: Array<{ parent: string; at: number; available: number }> = [];
  let lineNumber = 0;
  for (let start = 0; start < text.length;) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline;
    const line = text.slice(start, end).trim();
    start = end + 1;
    lineNumber++;
    if (line === '') continue;
    let node: Record<string, unknown>;
    try {
      node = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new TargetError('retryable', `Shopify's bulk result has a line that is not JSON (line ${lineNumber})`, { bodyExcerpt: excerpt(line) });
    }
    if (node === null || typeof node !== 'object' || Array.isArray(node)) throw new TargetError('retryable', `Shopify's bulk result has a line that is not an object (line ${lineNumber})`, { bodyExcerpt: excerpt(line) });
    if (node.__parentId !== undefined) {
      const level = expectShape<{ __parentId: string; location: { id: string }; quantities: Array<{ name: string; quantity: number }> }>(
        'Shopify', 'an inventory level of the bulk result', node, { __parentId: 'string', location: 'object', quantities: 'array' },
      );
      const at = column.get(level.location.id);
      if (at !== undefined) levels.push({ parent: level.__parentId, at, available: level.quantities.find((q) => q.name === 'available')?.quantity ?? 0 });
      continue;
    }
    const item = expectShape<{ id: string; sku: string | null }>('Shopify', 'an inventory item of the bulk result', node, { id: 'string', sku: 'string?' });
    const read: StoreInventoryItem = { inventoryItemId: item.id, sku: item.sku || null, available: locationIds.map(() => null) };
    items.push(read);
    byId.set(item.id, read);
  }
  for (const level of levels) {
    const item = byId.get(level.parent);
    if (item) item.available[level.at] = level.available;
  }
  return items;
}

const INVENTORY_ITEM_SKU = `query CrossdockInventoryItemSku($id: ID!) { inventoryItem(id: $id) { id sku } }`;

const VARIANT_PRICES = `mutation CrossdockVariantPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) { productVariants { id price } userErrors { code field message } }
}`;

const FIXED_PRICES_ADD = `mutation CrossdockFixedPrices($priceListId: ID!, $prices: [PriceListPriceInput!]!) {
  priceListFixedPricesAdd(priceListId: $priceListId, prices: $prices) { prices { variant { id } } userErrors { code field message } }
}`;

const FIXED_PRICES_DELETE = `mutation CrossdockFixedPricesDelete($priceListId: ID!, $variantIds: [ID!]!) {
  priceListFixedPricesDelete(priceListId: $priceListId, variantIds: $variantIds) { deletedFixedPriceVariantIds userErrors { code field message } }
}`;

const CUSTOMER_SET = `mutation CrossdockCustomerSet($identifier: CustomerSetIdentifiers, $input: CustomerSetInput!) {
  customerSet(identifier: $identifier, input: $input) { customer { id } userErrors { code field message } }
}`;

function setQuantitiesMutation(key: string | undefined): string {
  return `mutation CrossdockSetAvailable($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input)${key ? ` @idempotent(key: ${JSON.stringify(key)})` : ''} {
    inventoryAdjustmentGroup { createdAt reason referenceDocumentUri }
    userErrors { code field message }
  }
}`;
}

/** The same call gives the same key (a retry of it); any other call, or the call's own second attempt, another. */
function idempotencyKey(call: unknown): string {
  const hex = createHash('sha256').update(JSON.stringify(call)).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function levelKey(level: { inventoryItemId: string; locationId: string }): string {
  return `${level.inventoryItemId}|${level.locationId}`;
}

/** " (SKU at warehouse)" for a userError whose field path names one of the batch's quantities. */
function describeField(field: string[] | null | undefined, batch: Target[]): string {
  const index = field?.[0] === 'input' && field[1] === 'quantities' ? Number(field[2]) : Number.NaN;
  const target = Number.isInteger(index) ? batch[index] : undefined;
  return target ? ` (${target.change.sku} at ${target.change.warehouse})` : '';
}

/** The answer's JSON; `errors` kept only as GraphQL's list (Shopify's 401 body has a string there). */
function parseAnswer<T>(text: string): GraphQLAnswer<T> | undefined {
  try {
    const parsed = JSON.parse(text) as GraphQLAnswer<T> | null;
    if (!parsed || typeof parsed !== 'object') return undefined;
    return Array.isArray(parsed.errors) ? parsed : { ...parsed, errors: undefined };
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A variant of the store with its SKU (null when it has none) and its own price, a decimal string in the store's currency. */
export interface StoreVariantPrice {
  variantId: string;
  sku: string | null;
  price: string;
}

export interface VariantPricesPage {
  /** The store's currency, in which its variants are priced. */
  currency: string;
  variants: StoreVariantPrice[];
  /** Where the next page starts; null after the last. */
  next: string | null;
}

/** Variants per page of {@link ShopifyAdminClient.variantPricesPage}: Shopify's page limit. */
export function variantPricesPageSize(wanted = MAX_PAGE_SIZE): number {
  return Math.max(1, Math.min(wanted, MAX_PAGE_SIZE));
}

/** The requested cost of a page of `first` variants, as Shopify calculates it: the connection, a point a variant, the shop. */
export function variantPricesPageCost(first: number): number {
  return 2 + first + 1;
}

const VARIANT_PRICES_PAGE = `query CrossdockStorePrices($first: Int!, $after: String) {
  shop { currencyCode }
  productVariants(first: $first, after: $after) {
    nodes { id sku price }
    pageInfo { hasNextPage endCursor }
  }
}`;
