import type { BatchDeliveryResult, DeliveryResult } from '../../../platform/delivery/destinations.js';
import { TargetError } from '../../../platform/delivery/outcome.js';
import type { Delivery } from '../../../platform/outbox/message.js';
import { ShopifyAdminClient } from './shopify-admin.client.js';
import { readCompanyChange, type CompanyChange } from './shopify-companies.js';
import { CUSTOMER_CHANGED, readCustomerChange, type CustomerSet } from './shopify-customers.js';
import { orderGid, planFulfillment, type ShipmentForShopify } from './shopify-fulfillment.js';
import { formatAmount, MAX_PRICES_PER_CALL, newestPerTarget, PRICE_CHANGED, readPriceChange, type PriceChange } from './shopify-prices.js';
import type { ShopifyConfig } from './shopify.config.js';

// The public event of a channel's available-to-sell; a Shopify store takes it as quantities per location.
const AVAILABILITY_CHANGED = 'inventory.availability.changed';
// A shipment of one of the store's orders, as fulfillments.
const SHIPMENT_TYPES = new Set(['shipment.created', 'shipment.updated']);
// Variants' own prices take a call per product: a batch of 250 products sent one call after another would
// outlast the delivery's call timeout. The cost pacer still admits each call.
const PRODUCT_CALLS_AT_ONCE = 8;

/** The delivery adapter of kind `shopify`: what a store is sent, as Admin GraphQL calls. */
export class ShopifyDelivery {
  private readonly client: ShopifyAdminClient;

  /** `sharedPacer`: pace by the process's one view of the store's bucket (the default; see ShopifyAdminClientOptions). */
  constructor(
    private readonly config: ShopifyConfig,
    options: { sharedPacer?: boolean } = {},
  ) {
    this.client = new ShopifyAdminClient(config, { sharedPacer: options.sharedPacer ?? true });
  }

  /** Prices go 250 to a call (Shopify's input limit), anything else one at a time; without a type, the most of any. */
  batchSize(type?: string): number {
    return type === undefined || type === PRICE_CHANGED ? MAX_PRICES_PER_CALL : 1;
  }

  async deliver(channelId: string, delivery: Delivery, signal: AbortSignal): Promise<DeliveryResult> {
    if (SHIPMENT_TYPES.has(delivery.type)) return this.fulfil(delivery.payload as unknown as ShipmentForShopify, signal);
    if (delivery.type === PRICE_CHANGED) {
      const { rejected, ...result } = await this.deliverPrices([delivery], signal);
      if (rejected?.length) throw new TargetError('permanent', rejected[0]!.message);
      return result;
    }
    if (delivery.type === CUSTOMER_CHANGED) return this.changeCustomer(delivery, signal);
    if (delivery.type !== AVAILABILITY_CHANGED) throw new TargetError('permanent', `channel ${channelId} of kind shopify does not take ${delivery.type} pushes`);
    return this.publishAvailability(delivery, signal);
  }

  /**
   * A customer's change as the store holds the customer: its customer (`shopifyCustomerId`), its B2B company and
   * location (`shopifyCompanyId`, `shopifyCompanyLocationId`), or both. Both are read before either is written,
   * so that a malformed change writes nothing. The company's writes are answered under `company` when the
   * customer's are too.
   */
  private async changeCustomer(delivery: Delivery, signal: AbortSignal): Promise<DeliveryResult> {
    const { shopifyCustomerId, shopifyCompanyId } = delivery.payload;
    const toCompany = shopifyCompanyId !== undefined && shopifyCompanyId !== null;
    const toCustomer = !toCompany || (shopifyCustomerId !== undefined && shopifyCustomerId !== null);
    const customer = toCustomer ? readCustomerChange(delivery) : undefined;
    const company = toCompany ? readCompanyChange(delivery) : undefined;
    if (typeof customer === 'string') throw new TargetError('permanent', customer);
    if (typeof company === 'string') throw new TargetError('permanent', company);
    const customerResult = customer && (await this.setCustomer(customer, signal));
    if (!company) return customerResult!;
    const companyResult = await this.setCompany(company, signal);
    return customerResult ? { ...customerResult, company: companyResult } : { accountNumber: company.accountNumber, ...companyResult };
  }

  /**
   * The store's customer, named by its id there, with `customerSet`: the whole customer each time, so that a later
   * version is all the store needs and a repeat changes nothing.
   */
  private async setCustomer(change: CustomerSet, signal: AbortSignal): Promise<DeliveryResult> {
    const customerId = await this.client.setCustomer(change.customerId, change.input, signal);
    return { accountNumber: change.accountNumber, customerId, fieldsSet: Object.keys(change.input) };
  }

  /**
   * The store's company and location, named by their ids there: every field the change holds a value for, each
   * time, so that a later version is all the store needs and a repeat changes nothing. `fieldsSet` names the
   * customer's fields written, by Crossdock's names, for the store's webhooks of them to be known as echoes.
   */
  private async setCompany(change: CompanyChange, signal: AbortSignal): Promise<DeliveryResult> {
    await this.client.setCompany(change.writes, signal);
    return { companyId: change.companyId, ...(change.locationId ? { locationId: change.locationId } : {}), fieldsSet: change.fields };
  }

  /**
   * Sets the SKU's available quantity at each location of the store. The figures last delivered are what
   * Shopify should still hold: a difference is a change made in Shopify meanwhile, detected and reported.
   * A SKU the store does not sell, or a warehouse without a location, is nothing to publish.
   */
  private async publishAvailability(delivery: Delivery, signal: AbortSignal): Promise<DeliveryResult> {
    const sku = String(delivery.payload.sku);
    const byWarehouse = (delivery.payload.byWarehouse ?? {}) as Record<string, number>;
    const previous = delivery.previousValue ? (JSON.parse(delivery.previousValue) as Record<string, number>) : {};
    const changes = Object.entries(byWarehouse).map(([warehouse, quantity]) => ({ sku, warehouse, quantity, previous: previous[warehouse] }));
    const result = await this.client.setAvailable(changes, { referenceDocumentUri: `crossdock://deliveries/${delivery.deliveryId}`, signal });
    return { ...result };
  }

  /**
   * `price.changed` deliveries as the store's prices. Without a Shopify price list, the variant's own price (in
   * the store's currency), one call per product; with one, the variant's fixed price in that B2B price list, or
   * its withdrawal when the SKU has no price left. What is not the store's to hold is delivered as done and
   * reported: a SKU it does not sell, a base price withdrawn (Shopify keeps a variant's price), a quantity break
   * (Shopify takes those as quantity price breaks, not published here). A price Shopify refuses (userErrors) is
   * rejected alone, with Shopify's message, and the rest of its call lands; a failed call throws for the batch.
   */
  async deliverPrices(deliveries: Delivery[], signal: AbortSignal): Promise<BatchDeliveryResult> {
    const rejected = new Map<string, string>();
    const reported = { withdrawn: [] as string[], quantityBreaks: [] as string[], unknownSkus: [] as string[] };
    const changes: PriceChange[] = [];
    for (const delivery of deliveries) {
      const change = readPriceChange(delivery);
      if (typeof change === 'string') rejected.set(delivery.deliveryId, change);
      else if ((change.minQuantity ?? 1) > 1) reported.quantityBreaks.push(change.sku);
      else if (change.unitPrice === null && !change.shopifyPriceListId) reported.withdrawn.push(change.sku);
      else changes.push(change);
    }
    const ids = await this.client.variantIds(changes.map((c) => c.sku), signal);
    reported.unknownSkus = [...new Set(changes.filter((c) => !ids.has(c.sku)).map((c) => c.sku))];
    const targets = changes.flatMap((change) => (ids.has(change.sku) ? [{ change, ...ids.get(change.sku)! }] : []));
    const refuse = (refusals: Array<{ index: number; message: string }>, of: Array<{ deliveryIds: string[] }>) => {
      for (const { index, message } of refusals) for (const deliveryId of of[index]!.deliveryIds) rejected.set(deliveryId, message);
      return of.length - refusals.length;
    };
    const counts = { basePricesSet: 0, fixedPricesSet: 0, fixedPricesDeleted: 0 };

    let base = newestPerTarget(targets.filter((t) => !t.change.shopifyPriceListId), (t) => t.variantId);
    if (base.length > 0) {
      // A variant's own price is in the store's currency: a price in another would be published as a wrong amount.
      const currency = await this.client.shopCurrency(signal);
      const otherCurrency = base.filter((t) => t.change.currency !== currency);
      for (const t of otherCurrency) for (const id of t.deliveryIds) rejected.set(id, `the store prices its variants in ${currency}, not ${t.change.currency}: ${t.change.sku}'s price in ${t.change.currency} cannot be its price`);
      base = base.filter((t) => t.change.currency === currency);
    }
    await eachAtOnce([...Map.groupBy(base, (t) => t.productId)], PRODUCT_CALLS_AT_ONCE, async ([productId, variants]) => {
      const prices = variants.map((t) => ({ variantId: t.variantId, price: formatAmount(t.change.unitPrice!, t.change.currency) }));
      const refusals = await this.client.setVariantPrices(productId, prices, signal);
      counts.basePricesSet += refuse(refusals, variants);
    });

    for (const [priceListId, inList] of Map.groupBy(targets.filter((t) => t.change.shopifyPriceListId), (t) => t.change.shopifyPriceListId!)) {
      const newest = newestPerTarget(inList, (t) => t.variantId);
      const set = newest.filter((t) => t.change.unitPrice !== null);
      const withdrawn = newest.filter((t) => t.change.unitPrice === null);
      if (set.length > 0) {
        const prices = set.map((t) => ({ variantId: t.variantId, amount: formatAmount(t.change.unitPrice!, t.change.currency), currencyCode: t.change.currency }));
        const refusals = await this.client.setFixedPrices(priceListId, prices, signal);
        counts.fixedPricesSet += refuse(refusals, set);
      }
      if (withdrawn.length > 0) {
        const refusals = await this.client.deleteFixedPrices(priceListId, withdrawn.map((t) => t.variantId), signal);
        counts.fixedPricesDeleted += refuse(refusals, withdrawn);
      }
    }

    return {
      ...(rejected.size > 0 ? { rejected: [...rejected].map(([deliveryId, message]) => ({ deliveryId, message })) } : {}),
      ...counts,
      // Only what happened: a batch's result is traced on each of its deliveries.
      ...Object.fromEntries(Object.entries(reported).filter(([, skus]) => skus.length > 0)),
    };
  }

  /**
   * A shipment as fulfillments: the order's fulfillment orders are read first and only what the order's
   * shipments have shipped beyond what Shopify holds as fulfilled is created, one fulfillment per location, with
   * the tracking number; a later tracking number goes to the fulfillment that carried the earlier one. Answers
   * the fulfillments that are the shipment's, so that their webhooks are known as ours.
   */
  private async fulfil(shipment: ShipmentForShopify, signal: AbortSignal): Promise<DeliveryResult> {
    const order = await this.client.fulfillmentState(orderGid(shipment.channelOrderId), signal);
    if (!order) throw new TargetError('permanent', `Shopify has no order ${shipment.channelOrderId}`);
    const plan = planFulfillment(shipment, order);
    if (!plan.ok) throw new TargetError('permanent', plan.reason);
    const tracking = { number: shipment.trackingNumber, company: shipment.carrier, url: shipment.trackingUrl };
    const notify = this.config.notifyCustomer ?? true;
    const created: string[] = [];
    for (const create of plan.creates) created.push(await this.client.createFulfillment(create, tracking, notify, signal));
    if (plan.trackingUpdate) await this.client.updateTracking(plan.trackingUpdate, tracking, notify, signal);
    return { shipmentId: shipment.shipmentId, fulfillmentIds: [...new Set([...plan.ours, ...created])], created: created.length, ...(plan.trackingUpdate ? { trackingUpdated: plan.trackingUpdate } : {}) };
  }
}

/** Runs `task` over the items, `atOnce` at a time; after a failure no more start, and the first failure is thrown. */
async function eachAtOnce<T>(items: T[], atOnce: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      try {
        await task(items[next++]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(atOnce, items.length) }, worker));
}
