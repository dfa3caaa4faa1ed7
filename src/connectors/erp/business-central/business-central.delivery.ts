import { TargetError } from '../../../platform/delivery/outcome.js';
import { directly } from '../erp-direct.js';
import type {
  CustomerPull, ErpCancelResult, KnownErpOrder, ErpChangeNotifications, ErpConnector, ErpCreateResult, ErpCustomer, ErpCustomerCreate, ErpCustomerCreateResult, ErpCustomerUpdate,
  ErpCustomerUpdateResult, ErpOrdersByReference, ErpPrice, ErpSalesOrder, ErpShipment, ErpShipmentRecord, ErpShipmentResult, GovernedCall, PricePull, ShipmentChanges, StockChanges,
} from '../erp-contract.js';
import { planErpShipment, shippedAfter, shippedFacts } from '../erp-shipment-plan.js';
import {
  BusinessCentralClient, type BcCustomerRecord, type BcSalesOrder, type BcSalesShipment, type BcShipmentTracking, type SalesOrderInput,
} from './business-central.client.js';
import type { BusinessCentralConfig } from './business-central.config.js';
import {
  BLANK_GUID, bcCustomerChanges, bcCustomerNumberProblem, bcCustomerWrite, bcErpCustomer, bcPaymentTermsCode, type BcCustomerWrite,
} from './business-central.customers.js';
import { BusinessCentralChangeNotifications, bcCustomerIdIn } from './business-central.notifications.js';
import { bcOrderFacts } from './business-central.orders.js';
import { basePrice, priceListLine } from './business-central.prices.js';

/** API v2.0's only posting action of salesOrders. */
const DEFAULT_POSTING_ACTION = 'shipAndInvoice';
/** The company's local currency when the backend names none. */
const DEFAULT_CURRENCY = 'USD';
/** PATCHes of a customer per update, each after a fresh read, before a run of 412s is left to the next attempt. */
const CUSTOMER_PATCH_TRIES = 3;

/** Crossdock's ERP contract on Business Central API v2.0: the delivery adapter of kind `business-central`. */
export class BusinessCentralErp implements ErpConnector {
  private readonly client: BusinessCentralClient;
  /** Webhooks on the company's customers (see business-central.notifications.ts). */
  readonly changeNotifications: ErpChangeNotifications;

  constructor(private readonly config: BusinessCentralConfig) {
    this.client = new BusinessCentralClient(config);
    this.changeNotifications = new BusinessCentralChangeNotifications(this.client, config.companyId);
  }

  /**
   * Creates the order unless Business Central has one of its reference (see ensureSalesOrder), and answers it as
   * Business Central holds it (bcOrderFacts), read from the create's own answer or the look-up's, without another
   * call. An order whose facts cannot be read is created all the same: `factsProblem` says why, in place of `facts`.
   */
  async createSalesOrder(order: ErpSalesOrder, signal: AbortSignal): Promise<ErpCreateResult> {
    const { order: stored, created } = await this.client.ensureSalesOrder(this.toSalesOrder(order), signal);
    const facts = bcOrderFacts(stored, this.config.currency ?? DEFAULT_CURRENCY, this.config.locations ?? {});
    return { erpOrderRef: stored.number, erpOrderId: stored.id, created, ...(typeof facts === 'string' ? { factsProblem: facts } : { facts }) };
  }

  async cancelSalesOrder(externalDocumentNumber: string, signal: AbortSignal, known?: KnownErpOrder): Promise<ErpCancelResult> {
    if (known) {
      const deleted = await directly(() => this.client.deleteSalesOrder(known.erpOrderId, '*', signal));
      if (deleted) return { deleted: true, erpOrderRef: known.erpOrderRef ?? null, byKnownId: true };
    }
    const order = await this.client.findSalesOrder(externalDocumentNumber, signal);
    if (!order) return { deleted: false };
    await this.client.deleteSalesOrder(order.id, order['@odata.etag'] ?? '*', signal);
    return { deleted: true, erpOrderRef: order.number };
  }

  /**
   * The sales orders of the references, with their item lines, 20 references a request; for a reference without
   * one, whether posted shipments carry it (Business Central deletes an order shipped and invoiced in full).
   */
  async ordersByReference(call: GovernedCall, references: readonly string[]): Promise<ErpOrdersByReference> {
    const orders = (await this.client.salesOrdersWithReferences(references, call)).map((order) => ({
      externalDocumentNumber: order.externalDocumentNumber,
      erpOrderRef: order.number,
      erpOrderId: order.id,
      cancelled: false,
      lines: order.salesOrderLines.filter((line) => line.lineType === 'Item' && line.lineObjectNumber).map((line) => ({ sku: line.lineObjectNumber!, quantity: line.quantity })),
    }));
    // Business Central keeps Code fields in capitals: a reference is matched as it would be filtered.
    const found = new Set(orders.map((order) => order.externalDocumentNumber.toUpperCase()));
    const absent = references.filter((reference) => !found.has(reference.toUpperCase()));
    const shipped = absent.length > 0 ? await this.client.referencesShipped(absent, call) : new Set<string>();
    const shippedUpper = new Set([...shipped].map((reference) => reference.toUpperCase()));
    return { orders, postedInFull: absent.filter((reference) => shippedUpper.has(reference.toUpperCase())) };
  }

  /**
   * Every customer with its balance, read with the list (`$expand=customerFinancialDetail`), one request a page,
   * and the payment terms' codes, read once (a customer names its terms by id); mapped in business-central.customers.ts.
   * A customer with a credit limit whose balance cannot be read is left out, its last figures kept, and said.
   */
  async customers(call: GovernedCall): Promise<CustomerPull> {
    const { value } = await call((signal) => this.client.listCustomers(signal));
    const paymentTerms = await call((signal) => this.client.paymentTermsCodes(signal));
    const pull: CustomerPull = { customers: [], rejected: [] };
    for (const customer of value) {
      const read = bcErpCustomer(customer, paymentTerms);
      if (typeof read === 'string') pull.rejected.push({ number: customer.number, problem: read });
      else pull.customers.push(read);
    }
    return pull;
  }

  /**
   * The customer a notification names (`api/v2.0/companies(<id>)/customers(<id>)`), read with its balance and
   * mapped as customers() maps it; null when Business Central no longer has it (404). A resource that is not a
   * customer of the configured company is refused (permanent): its id never reaches a URL.
   */
  async customerAt(call: GovernedCall, resource: string): Promise<ErpCustomer | null> {
    const id = bcCustomerIdIn(resource, this.config.companyId);
    if (id === undefined) throw new TargetError('permanent', `${JSON.stringify(resource)} is not a customer of Business Central company ${this.config.companyId} (api/v2.0/companies(<id>)/customers(<id>))`);
    const customer = await call((signal) => this.client.customerById(id, signal));
    if (!customer) return null;
    const termsId = customer.paymentTermsId;
    const paymentTerms = termsId && termsId !== BLANK_GUID ? await call((signal) => this.client.paymentTermsCodes(signal)) : new Map<string, string>();
    const read = bcErpCustomer(customer, paymentTerms);
    if (typeof read === 'string') throw new TargetError('retryable', `Business Central's customer ${customer.number} cannot be read: ${read}`);
    return read;
  }

  /**
   * For the warehouses the configuration maps to locations: on-hand from the ledger, and reserved as what the
   * open sales orders hold, so that a figure includes every order the ERP has. An item is read when it changed
   * or was posted since, or when what its open orders hold differs from `lastReserved`.
   */
  async stockSince(call: GovernedCall, since: Date | undefined, lastReserved: ReadonlyMap<string, Readonly<Record<string, number>>>): Promise<StockChanges> {
    const mapped = Object.entries(this.config.locationCodes ?? {});
    if (mapped.length === 0) return { levels: [], through: since };
    let through = since?.getTime() ?? 0;
    const toRead = new Set<string>();
    const seen = (number: string, at: string | undefined) => {
      toRead.add(number);
      if (at) through = Math.max(through, Date.parse(at));
    };
    for (const item of await call((signal) => this.client.itemsChangedSince(since, signal))) seen(item.number, item.lastModifiedDateTime);
    if (since) for (const [number, at] of await call((signal) => this.client.itemsPostedSince(since, signal))) seen(number, at);
    // Open orders, by Crossdock warehouse: a line's location id, through the location's code.
    const codeOf = new Map((await call((signal) => this.client.listLocations(signal))).map((l) => [l.id, l.code]));
    const warehouseOf = new Map(mapped.map(([warehouse, code]) => [code, warehouse]));
    const open = await call((signal) => this.client.openOrderQuantities(signal));
    if (open.newestChange) through = Math.max(through, Date.parse(open.newestChange));
    const reserved = new Map<string, Record<string, number>>();
    for (const [number, byLocation] of open.quantities) {
      for (const [locationId, quantity] of byLocation) {
        const warehouse = warehouseOf.get(locationId === '' ? '' : (codeOf.get(locationId) ?? '\u0000'));
        if (warehouse === undefined) continue;
        reserved.set(number, { ...reserved.get(number), [warehouse]: (reserved.get(number)?.[warehouse] ?? 0) + quantity });
      }
    }
    for (const number of new Set([...reserved.keys(), ...lastReserved.keys()])) {
      if (mapped.some(([warehouse]) => (reserved.get(number)?.[warehouse] ?? 0) !== (lastReserved.get(number)?.[warehouse] ?? 0))) toRead.add(number);
    }
    const numbers = [...toRead];
    if (numbers.length === 0) return { levels: [], through: through > 0 ? new Date(through) : undefined };
    const onHand = await call((signal) => this.client.inventoryByLocation(numbers, signal));
    const levels = numbers.flatMap((number) => mapped.map(([warehouse, code]) => ({
      sku: number, warehouse, onHand: onHand.get(number)?.get(code) ?? 0, reserved: reserved.get(number)?.[warehouse] ?? 0,
    })));
    return { levels, through: through > 0 ? new Date(through) : undefined };
  }

  /**
   * Posts what the shipment's totals exceed what the order's lines show as shipped: each line's "Qty. to Ship"
   * set (0 on the lines this shipment does not ship), then the backend's posting action. The same shipment again
   * finds its quantities shipped and posts nothing. An order posted in full is gone from salesOrders (posting
   * deletes an order shipped and invoiced in full): its posted shipments then say whether the totals are there.
   * Answers what the order holds as shipped afterwards (`facts`).
   */
  async postShipment(shipment: ErpShipment, signal: AbortSignal): Promise<ErpShipmentResult> {
    const order = await this.orderToShip(shipment, signal);
    if (!order) return this.shippedWithoutOrder(shipment, signal);
    const lines = await this.client.salesOrderLines(order.id, signal);
    const items = lines
      .filter((line) => line.lineType === 'Item' && line.lineObjectNumber)
      .map((line) => ({ key: line.id, sku: line.lineObjectNumber!, shipped: line.shippedQuantity ?? 0, open: line.quantity - (line.shippedQuantity ?? 0), place: line.locationId ?? '' }));
    const plan = planErpShipment(shipment, items, (warehouse) => this.config.locations?.[warehouse], `Business Central order ${order.number}`);
    if (!plan.ok) throw new TargetError('permanent', plan.reason);
    const facts = shippedAfter(items, plan.lines);
    if (plan.lines.length === 0) return { erpShipmentRef: null, posted: false, erpOrderRef: order.number, facts };
    const toShip = new Map(plan.lines.map((line) => [line.key, line.quantity]));
    for (const line of lines) {
      const quantity = toShip.get(line.id) ?? 0;
      if ((line.shipQuantity ?? 0) !== quantity) await this.client.setShipQuantity(order.id, line, quantity, signal);
    }
    await this.client.postSalesOrderAction(order.id, this.config.shipmentPostingAction ?? DEFAULT_POSTING_ACTION, signal);
    return { erpShipmentRef: await this.newestShipmentNumber(order.number, signal), posted: true, erpOrderRef: order.number, facts };
  }

  /**
   * The posted shipments changed since `since`, oldest change first, with their tracking from the custom page
   * when the backend names one. Lines net per item (an undone shipment carries its correction lines); a document
   * whose lines net to nothing was undone, and counts as cancelled.
   */
  async shipmentsSince(call: GovernedCall, since: Date | undefined): Promise<ShipmentChanges> {
    const documents = await call((signal) => this.client.salesShipmentsChangedSince(since, signal));
    const page = this.config.shipmentTrackingPage;
    const tracking = page && documents.length > 0 ? await call((signal) => this.client.shipmentTracking(page, documents.map((d) => d.number), signal)) : new Map<string, BcShipmentTracking>();
    let through = since?.getTime();
    for (const document of documents) through = Math.max(through ?? 0, Date.parse(document.lastModifiedDateTime));
    return { shipments: documents.map((document) => this.toShipmentRecord(document, tracking.get(document.number))), through: through === undefined ? undefined : new Date(through) };
  }

  /**
   * Writes a customer's fields changed elsewhere (mapped in business-central.customers.ts): the customer read with its
   * etag (readCustomer: by its id, else its number), compared, and only what differs PATCHed with `If-Match`. A 412 (someone changed the
   * customer since the read) reads it again and compares again, the update's values over the fresh record, so their
   * change to other properties stays; after CUSTOMER_PATCH_TRIES PATCHes met 412, retryable. Nothing differing:
   * `updated: false` without a PATCH. A customer Business Central does not have is permanent (an update creates none).
   */
  async updateCustomer(update: ErpCustomerUpdate, signal: AbortSignal): Promise<ErpCustomerUpdateResult> {
    return this.writeCustomer(update, await this.customerWrite(update, signal), signal);
  }

  /**
   * Creates an account (see ErpCustomerCreate), read first (by the id the cross-reference has, else its number). One Business Central has already (a
   * retry after a lost answer, or one made there meanwhile) gets the fields as updateCustomer writes them, and
   * `created: false`. Else a POST of the number and the fields mapped as for an update, those that are not blank;
   * a 400 "already exists" (a create that raced this one) falls back to the update. A number Business Central would
   * hold otherwise (in capitals, cut) is refused: the account would not be found by its number again.
   */
  async createCustomer(create: ErpCustomerCreate, signal: AbortSignal): Promise<ErpCustomerCreateResult> {
    const refusal = bcCustomerNumberProblem(create.number);
    if (refusal) throw new TargetError('permanent', refusal);
    const write = await this.customerWrite(create, signal);
    const existing = await this.readCustomer(create, signal);
    if (!existing) {
      const { changes } = bcCustomerChanges(write, { id: '', number: create.number, '@odata.etag': '' });
      const created = await this.client.createCustomer(create.number, changes, signal);
      if (created) {
        const written = [...new Set(write.properties.map((p) => p.field))];
        return { created: true, updated: true, erpId: created.id, written, ...skippedOf(write) };
      }
    }
    const found = existing ?? (await this.client.findCustomer(create.number, signal));
    if (!found) throw new TargetError('retryable', `Business Central answered that customer ${create.number} already exists, and then had none of that number`);
    return { ...(await this.writeCustomer(create, write, signal, found)), erpId: found.id, created: false };
  }

  /**
   * Every price Business Central holds (see business-central.prices.ts): the items' unitPrice as base prices,
   * and, with `customerPricesApi`, the rows of that page (API v2.0 has no price lists); each page one governed
   * call. A record that cannot be mapped is rejected with the reason, under its item; the others are taken.
   */
  async prices(call: GovernedCall): Promise<PricePull> {
    const currency = this.config.currency ?? DEFAULT_CURRENCY;
    const pull: PricePull = { prices: [], rejected: [] };
    const take = (record: unknown, field: string, price: ErpPrice | string) => {
      if (typeof price !== 'string') pull.prices.push(price);
      else {
        const sku = (record as Record<string, unknown> | null)?.[field];
        pull.rejected.push({ sku: typeof sku === 'string' && sku !== '' ? sku : `(no ${field})`, problem: price });
      }
    };
    for (const record of await this.client.itemUnitPrices(call)) take(record, 'number', basePrice(record, currency));
    const page = this.config.customerPricesApi;
    if (page) for (const record of await this.client.customPageRows(page, call)) take(record, 'itemNo', priceListLine(record, currency));
    return pull;
  }

  /** A posted sales shipment in Crossdock's words; locations map back through `locations` or `locationCodes` where a line carries one. */
  toShipmentRecord(document: BcSalesShipment, tracking?: BcShipmentTracking): ErpShipmentRecord {
    const byLocationId = new Map(Object.entries(this.config.locations ?? {}).map(([warehouse, id]) => [id, warehouse]));
    const byLocationCode = new Map(Object.entries(this.config.locationCodes ?? {}).map(([warehouse, code]) => [code, warehouse]));
    const net = new Map<string, { sku: string; quantity: number; warehouse: string | null }>();
    const items = (document.salesShipmentLines ?? []).filter((line) => line.lineType === 'Item' && line.lineObjectNumber);
    for (const line of items) {
      const warehouse = (line.locationId ? byLocationId.get(line.locationId) : undefined) ?? (line.locationCode != null ? byLocationCode.get(line.locationCode) : undefined) ?? null;
      const key = `${line.lineObjectNumber}\u0000${warehouse ?? ''}`;
      const sum = net.get(key) ?? { sku: line.lineObjectNumber!, quantity: 0, warehouse };
      sum.quantity = Math.round((sum.quantity + line.quantity) * 1e5) / 1e5;
      net.set(key, sum);
    }
    const lines = [...net.values()].filter((line) => line.quantity !== 0);
    return {
      documentId: document.id,
      number: document.number,
      erpOrderRef: document.orderNumber || null,
      externalDocumentNumber: document.externalDocumentNumber || null,
      carrier: tracking?.shippingAgentCode || null,
      trackingNumber: tracking?.packageTrackingNo || null,
      cancelled: items.length > 0 && lines.length === 0,
      shippedAt: document.postingDate || document.lastModifiedDateTime,
      changedAt: new Date(Date.parse(document.lastModifiedDateTime)).toISOString(),
      lines,
      crossdockShipmentId: null,
    };
  }

  /** The update in Business Central's properties, with the id of the payment terms whose code it names. */
  private async customerWrite(update: ErpCustomerUpdate, signal: AbortSignal): Promise<BcCustomerWrite> {
    const terms = update.fields.paymentTerms;
    const code = typeof terms === 'string' ? bcPaymentTermsCode(terms) : undefined;
    return bcCustomerWrite(update, code === undefined ? undefined : await this.client.findPaymentTermsId(code, signal));
  }

  /** updateCustomer's reads, compares and PATCHes (see there); `found`: the customer as just read, for the first comparison. */
  private async writeCustomer(account: ErpCustomerUpdate, write: BcCustomerWrite, signal: AbortSignal, found?: BcCustomerRecord): Promise<ErpCustomerUpdateResult> {
    const skipped = skippedOf(write);
    for (let etagRetries = 0; etagRetries < CUSTOMER_PATCH_TRIES; etagRetries++) {
      const customer = (etagRetries === 0 ? found : undefined) ?? (await this.readCustomer(account, signal));
      if (!customer) throw new TargetError('permanent', `Business Central has no customer ${account.number} (an update creates none)`);
      const { changes, fields } = bcCustomerChanges(write, customer);
      if (fields.length === 0) return { updated: false, ...(etagRetries > 0 ? { etagRetries } : {}), ...skipped };
      if (await this.client.patchCustomer(customer.id, customer['@odata.etag'], changes, signal)) return { updated: true, etagRetries, written: fields, ...skipped };
    }
    throw new TargetError('retryable', `Business Central's customer ${account.number} changed between each read and PATCH of ${CUSTOMER_PATCH_TRIES} (412 each time)`);
  }

  /**
   * The account with its etag: by the id the cross-reference has for it (no look-up), else, or when Business Central
   * has no customer of that id and number any more, by its number.
   */
  private async readCustomer(account: Pick<ErpCustomerUpdate, 'number' | 'erpId'>, signal: AbortSignal): Promise<BcCustomerRecord | undefined> {
    const known = account.erpId ? await this.client.customerRecordById(account.erpId, signal) : undefined;
    if (known && known.number.toUpperCase() === account.number.toUpperCase()) return known;
    return this.client.findCustomer(account.number, signal);
  }

  /**
   * The order: by the id the cross-reference has for it (no look-up), else, or when Business Central has no order of
   * that id and reference any more, by Business Central's number when Crossdock has it, else by Crossdock's reference.
   */
  private async orderToShip(shipment: ErpShipment, signal: AbortSignal): Promise<BcSalesOrder | undefined> {
    const known = shipment.erpOrderId ? await this.client.salesOrderById(shipment.erpOrderId, signal) : undefined;
    if (known && known.externalDocumentNumber === shipment.externalDocumentNumber) return known;
    const byNumber = shipment.erpOrderRef ? await this.client.findSalesOrderByNumber(shipment.erpOrderRef, signal) : undefined;
    return byNumber ?? this.client.findSalesOrder(shipment.externalDocumentNumber, signal);
  }

  /**
   * No open order: either it is not created yet (retryable), or it was posted in full and deleted, and its
   * posted shipments hold the totals (nothing to post) or cannot (permanent: nothing is left to ship against).
   */
  private async shippedWithoutOrder(shipment: ErpShipment, signal: AbortSignal): Promise<ErpShipmentResult> {
    const reference = shipment.erpOrderRef ?? shipment.externalDocumentNumber;
    const posted = await this.client.salesShipmentsOf(shipment.erpOrderRef ? { orderNumber: shipment.erpOrderRef } : { externalDocumentNumber: shipment.externalDocumentNumber }, signal);
    if (posted.length === 0) throw new TargetError('retryable', `Business Central has no sales order ${reference} (not created yet?)`);
    const shipped = new Map<string, number>();
    for (const line of posted.flatMap((document) => this.toShipmentRecord(document).lines)) shipped.set(line.sku, (shipped.get(line.sku) ?? 0) + line.quantity);
    const missing = shipment.shippedTotals.find((total) => total.quantity > (shipped.get(total.sku) ?? 0) + 1e-9);
    if (missing) {
      throw new TargetError('permanent', `Business Central's order ${reference} is posted in full and gone from its sales orders; its shipments hold ${shipped.get(missing.sku) ?? 0} of item ${missing.sku}, the shipments need ${missing.quantity}`);
    }
    return { erpShipmentRef: null, posted: false, erpOrderRef: posted[0]!.orderNumber || null, facts: shippedFacts(shipped) };
  }

  /**
   * The number of the order's newest posted shipment, the highest of its number series (a later change of an
   * older one, its tracking filled in, moves its lastModifiedDateTime); null when it cannot be read (the posting stands).
   */
  private async newestShipmentNumber(orderNumber: string, signal: AbortSignal): Promise<string | null> {
    try {
      const posted = await this.client.salesShipmentsOf({ orderNumber }, signal);
      return posted.map((s) => s.number).toSorted((a, b) => b.localeCompare(a, 'en', { numeric: true }))[0] ?? null;
    } catch {
      return null;
    }
  }

  private toSalesOrder(order: ErpSalesOrder): SalesOrderInput {
    const locations = this.config.locations ?? {};
    return {
      externalDocumentNumber: order.externalDocumentNumber,
      customerNumber: order.customerNumber,
      orderDate: order.orderDate,
      lines: order.lines.map((line) => ({
        lineObjectNumber: line.lineObjectNumber,
        quantity: line.quantity,
        unitPrice: line.unitPrice,
        ...(line.warehouse && locations[line.warehouse] ? { locationId: locations[line.warehouse] } : {}),
      })),
    };
  }
}

/** The fields a write skips, with why, to spread into its result: nothing when it skips none. */
function skippedOf(write: BcCustomerWrite): { skipped?: BcCustomerWrite['skipped'] } {
  return write.skipped.length > 0 ? { skipped: write.skipped } : {};
}
