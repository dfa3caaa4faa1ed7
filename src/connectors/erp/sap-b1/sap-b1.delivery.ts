import { TargetError } from '../../../platform/delivery/outcome.js';
import { expectShape, type Shape } from '../../answer-shape.js';
import type {
  CustomerPull, ErpCancelResult, KnownErpOrder, ErpConnector, ErpCreateResult, ErpCustomer, ErpCustomerCreate, ErpCustomerCreateResult, ErpCustomerUpdate, ErpCustomerUpdateResult, ErpOrdersByReference, ErpPrice,
  ErpSalesOrder, ErpShipment, ErpShipmentRecord, ErpShipmentResult, GovernedCall, PricePull, ShipmentChanges, StockChanges,
} from '../erp-contract.js';
import { planErpShipment, shippedAfter } from '../erp-shipment-plan.js';
import { directly } from '../erp-direct.js';
import { isCodeTaken, SapB1Client, type SapDeliveryNote, type SapItemStock, type SapOrder, type SapOrderInput, type SapOrderWithLines } from './sap-b1.client.js';
import { SAP_STOCK_DOCUMENTS, type SapB1Config } from './sap-b1.config.js';
import { isoCurrency, sapCurrency } from './sap-b1.currencies.js';
import {
  customerWriteProblem, PARTNER_FIELDS_READ, readPartnerRecord, sapCustomerFields, sapPartnerCreate, sapPartnerPatch, type SapPartnerRecord,
} from './sap-b1.customers.js';
import { sapOrderFacts } from './sap-b1.orders.js';
import { itemPrices, sapPriceLists, specialPrices, type SapPriceLists } from './sap-b1.prices.js';

const SYSTEM = 'SAP Business One';
/** What the pull reads of a business partner beyond what writing a customer reads (readPartnerRecord checks that). */
const BUSINESS_PARTNER: Shape = {
  Frozen: 'string?', CreditLimit: 'number?', CurrentAccountBalance: 'number?', Currency: 'string?', PriceListNum: 'number?', UpdateDate: 'string?', UpdateTime: 'string?',
};
const YES_NO = new Set(['tYES', 'tNO']);
/** SAP's first price list, "Base Price", unless the company made another its base. */
const DEFAULT_BASE_PRICE_LIST = 1;
/** SAP's object type of a sales order, the base of the delivery lines Crossdock posts. */
const ORDER_OBJECT_TYPE = 17;
// What a delivery note's Comments say of the shipment it was posted for, and how the poll reads it back.
const SHIPMENT_COMMENT = 'Crossdock shipment';
const SHIPMENT_IN_COMMENT = /Crossdock shipment (\S+)/;

interface SapBusinessPartner extends SapPartnerRecord {
  Frozen?: string | null;
  CreditLimit?: number | null;
  CurrentAccountBalance?: number | null;
  Currency?: string | null;
  PriceListNum?: number | null;
  UpdateDate?: string | null;
  UpdateTime?: string | null;
}

/**
 * A customer as SAP keeps it: Crossdock's fields, and what SAP adds. The contract's ErpCustomer has no place for
 * the currency yet; it rides along (the customer directory stores the contract's fields only).
 */
export interface SapB1Customer extends ErpCustomer {
  /** ISO 4217 through the backend's currency table; absent for SAP's "all currencies" (`##`) or a code it cannot name. */
  currency?: string;
}

/** Crossdock's ERP contract on the SAP Business One Service Layer: the delivery adapter of kind `sap-b1`. */
export class SapB1Erp implements ErpConnector {
  private readonly client: SapB1Client;

  constructor(private readonly config: SapB1Config, now: () => number = Date.now) {
    this.client = new SapB1Client(config, now);
  }

  /**
   * Looks the order up by NumAtCard before creating it: a retry after a lost answer finds the first one. Answers
   * the order as SAP holds it (sapOrderFacts), read from the create's own answer or the look-up's, without another
   * call. An order whose facts cannot be read is created all the same: `factsProblem` says why, in place of `facts`.
   */
  async createSalesOrder(order: ErpSalesOrder, signal: AbortSignal): Promise<ErpCreateResult> {
    const { order: stored, created } = await this.client.ensureOrder(this.toOrder(order), signal);
    const facts = sapOrderFacts(stored, this.config.currencies ?? {}, this.config.warehouseCodes ?? {});
    return { erpOrderRef: String(stored.DocNum), erpOrderId: String(stored.DocEntry), created, ...(typeof facts === 'string' ? { factsProblem: facts } : { facts }) };
  }

  /** SAP keeps an order once made: cancelling it (`Orders(n)/Cancel`) is its delete. One already cancelled counts as done. */
  async cancelSalesOrder(externalDocumentNumber: string, signal: AbortSignal, known?: KnownErpOrder): Promise<ErpCancelResult> {
    if (known && /^\d+$/.test(known.erpOrderId)) {
      const cancelled = await directly(() => this.client.cancelOrder(Number(known.erpOrderId), signal));
      if (cancelled) return { deleted: true, erpOrderRef: known.erpOrderRef ?? null, byKnownId: true };
    }
    const order = await this.client.findOrder(externalDocumentNumber, signal);
    if (!order) return { deleted: false };
    const alreadyCancelled = order.Cancelled === 'tYES';
    if (!alreadyCancelled) await this.client.cancelOrder(order.DocEntry, signal);
    return { deleted: true, erpOrderRef: String(order.DocNum), ...(alreadyCancelled ? { alreadyCancelled } : {}) };
  }

  /**
   * The orders of the references (`NumAtCard`), cancelled ones too (SAP keeps an order once made), with their lines,
   * 20 references a request. SAP never deletes an order it posted, so nothing is `postedInFull`.
   */
  async ordersByReference(call: GovernedCall, references: readonly string[]): Promise<ErpOrdersByReference> {
    const orders = (await this.client.ordersAtCards(references, call)).map((order) => ({
      externalDocumentNumber: order.NumAtCard ?? '',
      erpOrderRef: String(order.DocNum),
      erpOrderId: String(order.DocEntry),
      cancelled: order.Cancelled === 'tYES',
      lines: order.DocumentLines.map((line) => ({ sku: line.ItemCode, quantity: line.Quantity })),
    }));
    return { orders, postedInFull: [] };
  }

  /**
   * Every customer business partner, one request a page, with its addresses, the price list SAP gives it
   * (PriceListNum) named as its prices name lists (read from PriceLists), and its payment terms named (read from
   * PaymentTermsTypes, once a pull); the rest as sapCustomerFields maps it. A record of the wrong shape is rejected
   * with the reason.
   */
  async customers(call: GovernedCall): Promise<CustomerPull> {
    const records = await call((signal) => this.client.customers(signal));
    const lists = await this.priceLists(call);
    const terms = await call((signal) => this.client.paymentTermsNames(signal));
    const pull: CustomerPull = { customers: [], rejected: [] };
    for (const record of records) {
      const partner = readBusinessPartner(record);
      if (typeof partner === 'string') {
        const code = (record as { CardCode?: unknown } | null)?.CardCode;
        pull.rejected.push({ number: typeof code === 'string' ? code : String(code ?? '(no CardCode)'), problem: partner });
      } else {
        pull.customers.push(this.toCustomer(partner, lists, terms));
      }
    }
    return pull;
  }

  /**
   * For the warehouses `warehouseCodes` maps: `InStock` as on-hand and `Committed` (what SAP's open orders hold)
   * as reserved, straight from the item's ItemWarehouseInfoCollection. An item is read when its record changed,
   * or when a document of `stockDocuments` that names it changed (creating, cancelling or delivering an order
   * moves `Committed`, a receipt or delivery moves `InStock`, and neither touches the item's UpdateDate): every
   * such change stamps the document, so `lastReserved` is not needed to find them.
   */
  async stockSince(call: GovernedCall, since: Date | undefined, _lastReserved?: ReadonlyMap<string, Readonly<Record<string, number>>>): Promise<StockChanges> {
    const mapped = Object.entries(this.config.warehouseCodes ?? {});
    if (mapped.length === 0) return { levels: [], through: since };
    const documents = this.config.stockDocuments ?? SAP_STOCK_DOCUMENTS;
    let through = since?.getTime();
    const seen = (stamp: number | undefined) => {
      if (stamp !== undefined) through = Math.max(through ?? stamp, stamp);
    };
    const stock = new Map<string, SapItemStock>();
    for (const item of await call((signal) => this.client.itemsChangedSince(since, signal))) {
      stock.set(item.ItemCode, item);
      seen(item.stamp);
    }
    if (since) {
      const touched = new Set<string>();
      for (const collection of documents) {
        const { itemCodes, newest } = await call((signal) => this.client.documentItemsChangedSince(collection, since, signal));
        for (const code of itemCodes) touched.add(code);
        seen(newest);
      }
      const unread = [...touched].filter((code) => !stock.has(code));
      if (unread.length > 0) for (const item of await call((signal) => this.client.itemStock(unread, signal))) stock.set(item.ItemCode, item);
    } else {
      // Every item was just read: the next read starts from the newest change of any kind, not the newest item record.
      for (const collection of documents) seen(await call((signal) => this.client.newestDocumentChange(collection, signal)));
    }
    const levels = [...stock.values()].flatMap((item) => mapped.map(([warehouse, code]) => {
      const row = item.warehouses.find((w) => w.WarehouseCode === code);
      return { sku: item.ItemCode, warehouse, onHand: row?.InStock ?? 0, reserved: row?.Committed ?? 0 };
    }));
    return { levels, through: through === undefined ? undefined : new Date(through) };
  }

  /**
   * A delivery note based on the order (`BaseType 17`, `BaseEntry`, `BaseLine`) for what the shipment's totals
   * exceed what the order's lines show as delivered (`Quantity` less `RemainingOpenQuantity`), carrying the
   * TrackingNumber and `Crossdock shipment <id>` in Comments. The same shipment again finds its quantities
   * delivered and posts nothing; it answers the note it made, when its Comments find one. Answers what the order
   * holds as delivered afterwards (`facts`). The order is read by the DocEntry the cross-reference has for it (no
   * look-up), else, or when SAP has no order of that DocEntry and NumAtCard, by DocNum or NumAtCard.
   */
  async postShipment(shipment: ErpShipment, signal: AbortSignal): Promise<ErpShipmentResult> {
    const order = (await this.knownOrder(shipment, signal)) ?? (await this.client.findOrderToShip(shipment.erpOrderRef, shipment.externalDocumentNumber, signal));
    if (!order) throw new TargetError('retryable', `${SYSTEM} has no order ${shipment.erpOrderRef ?? shipment.externalDocumentNumber} (not created yet?)`);
    const cancelled = order.Cancelled === 'tYES';
    const warehouses = this.config.warehouseCodes ?? {};
    const lines = order.DocumentLines.map((line) => ({
      key: String(line.LineNum), sku: line.ItemCode, shipped: line.Quantity - line.RemainingOpenQuantity,
      open: cancelled || line.LineStatus === 'bost_Close' ? 0 : line.RemainingOpenQuantity, place: line.WarehouseCode ?? '',
    }));
    const plan = planErpShipment(shipment, lines, (warehouse) => warehouses[warehouse], `${SYSTEM} order ${order.DocNum}${cancelled ? ' (cancelled)' : ''}`);
    if (!plan.ok) throw new TargetError('permanent', plan.reason);
    const facts = shippedAfter(lines, plan.lines);
    const comments = `${SHIPMENT_COMMENT} ${shipment.shipmentId}`;
    if (plan.lines.length === 0) {
      const [ours] = await this.client.deliveryNotesCommented(comments, signal);
      return { erpShipmentRef: ours ? String(ours.DocNum) : null, posted: false, erpOrderRef: String(order.DocNum), facts };
    }
    const note = await this.client.createDeliveryNote({
      // No DocDate: SAP posts on its own day, which a warehouse's clock in another time zone could put in the future.
      CardCode: order.CardCode ?? '',
      Comments: comments,
      ...(shipment.trackingNumber ? { TrackingNumber: shipment.trackingNumber } : {}),
      DocumentLines: plan.lines.map((line) => ({
        BaseType: ORDER_OBJECT_TYPE, BaseEntry: order.DocEntry, BaseLine: Number(line.key), Quantity: line.quantity, ...(line.from ? { WarehouseCode: line.from } : {}),
      })),
    }, signal);
    return { erpShipmentRef: String(note.DocNum), posted: true, erpOrderRef: String(order.DocNum), erpShipmentId: String(note.DocEntry), facts };
  }

  /** The order by the DocEntry the cross-reference has for it, when SAP still has an order of that DocEntry and NumAtCard. */
  private async knownOrder(shipment: ErpShipment, signal: AbortSignal): Promise<SapOrderWithLines | undefined> {
    if (!shipment.erpOrderId || !/^\d+$/.test(shipment.erpOrderId)) return undefined;
    const order = await this.client.orderToShipByEntry(Number(shipment.erpOrderId), signal);
    return order?.NumAtCard === shipment.externalDocumentNumber ? order : undefined;
  }

  /**
   * The delivery notes changed since `since` (the same second counting, as stock reads them), oldest change
   * first, each read back to its order through its lines' `BaseType 17` / `BaseEntry`: the order's DocNum and
   * NumAtCard. A cancellation document (CancelStatus csCancellation) is not a shipment: the note it cancels comes
   * as cancelled. `through` is the newest stamp seen.
   */
  async shipmentsSince(call: GovernedCall, since: Date | undefined): Promise<ShipmentChanges> {
    const notes = await call((signal) => this.client.deliveryNotesChangedSince(since, signal));
    let through = since?.getTime();
    for (const note of notes) if (note.stamp !== undefined) through = Math.max(through ?? note.stamp, note.stamp);
    const shipments = notes.filter((note) => note.CancelStatus !== 'csCancellation');
    const entries = [...new Set(shipments.map(baseOrderOf).filter((entry): entry is number => entry !== undefined))];
    const orders = entries.length > 0 ? await call((signal) => this.client.ordersByDocEntry(entries, signal)) : new Map<number, SapOrder>();
    const records = shipments
      .toSorted((a, b) => (a.stamp ?? 0) - (b.stamp ?? 0) || a.DocEntry - b.DocEntry)
      .map((note) => this.toShipmentRecord(note, orders.get(baseOrderOf(note) ?? -1)));
    return { shipments: records, through: through === undefined ? undefined : new Date(through) };
  }

  /**
   * Writes a customer's fields changed elsewhere (mapped in sap-b1.customers.ts): the business partner read with
   * its addresses, compared, and only what differs PATCHed, its BPAddresses merged (the addresses not sent are
   * kept). The Service Layer gives the partner no etag here, so nothing guards the moment between the read and the
   * PATCH: what another user changed in it stays unless it is one of the fields written. Nothing differing:
   * `updated: false` without a PATCH. An update of the wrong shape, a partner SAP does not have, or one that is not
   * a customer, is permanent.
   */
  async updateCustomer(update: ErpCustomerUpdate, signal: AbortSignal): Promise<ErpCustomerUpdateResult> {
    refuseMalformed(update);
    const group = await this.paymentTermsGroup(update.fields.paymentTerms, signal);
    const record = await this.client.businessPartner(update.number, PARTNER_FIELDS_READ, signal);
    if (record === undefined) throw new TargetError('permanent', `${SYSTEM} has no business partner ${update.number}`);
    return this.writeCustomer(update, readPartnerRecord(record), group, signal);
  }

  /**
   * Creates the customer's business partner (sapPartnerCreate: CardCode the number, CardType cCustomer, its
   * addresses each its type's default), looked up first: the Service Layer has no idempotency key, and a POST whose
   * answer was lost may have been committed. One found is written as updateCustomer writes it, `created: false`;
   * so is one another writer made between the look-up and the POST (SAP refuses the POST: the code is taken).
   */
  async createCustomer(create: ErpCustomerCreate, signal: AbortSignal): Promise<ErpCustomerCreateResult> {
    refuseMalformed(create);
    const found = await this.client.businessPartner(create.number, PARTNER_FIELDS_READ, signal);
    const group = await this.paymentTermsGroup(create.fields.paymentTerms, signal);
    if (found !== undefined) return this.writeExisting(create, found, group, signal);
    const { patch, written, skipped } = sapPartnerCreate(create, group);
    try {
      await this.client.createBusinessPartner(patch, signal);
    } catch (error) {
      if (!isCodeTaken(error)) throw error;
      const raced = await this.client.businessPartner(create.number, PARTNER_FIELDS_READ, signal);
      if (raced === undefined) throw error;
      return this.writeExisting(create, raced, group, signal);
    }
    return { created: true, updated: true, erpId: create.number, written, ...(skipped.length > 0 ? { skipped } : {}) };
  }

  /**
   * Every price SAP holds (see sap-b1.prices.ts): the price lists, each item's price in each list, the special
   * prices with their periods and quantity breaks; each page one governed call. A record that cannot be mapped
   * is rejected with the reason, under its ItemCode; the others are taken.
   */
  async prices(call: GovernedCall): Promise<PricePull> {
    const currencies = this.config.currencies ?? {};
    const lists = await this.priceLists(call);
    const pull: PricePull = { prices: [], rejected: [] };
    const take = (record: unknown, prices: ErpPrice[] | string) => {
      if (typeof prices !== 'string') pull.prices.push(...prices);
      else {
        const code = (record as { ItemCode?: unknown } | null)?.ItemCode;
        pull.rejected.push({ sku: typeof code === 'string' ? code : '(no ItemCode)', problem: prices });
      }
    };
    for (const record of await this.client.itemPrices(call)) take(record, itemPrices(record, lists, currencies));
    for (const record of await this.client.specialPrices(call)) take(record, specialPrices(record, lists, currencies));
    // Crossdock holds one price per list, item, currency, customer, break and start: where a list's period and
    // volume discount (read after the items) names the same as the list's own price, it is the one SAP charges.
    const byIdentity = new Map(pull.prices.map((p) => [JSON.stringify([p.priceList, p.sku, p.currency, p.customer, p.minQuantity, p.validFrom]), p]));
    return { prices: [...byIdentity.values()], rejected: pull.rejected };
  }

  /** Ends the connector's session with the Service Layer. */
  close(): Promise<void> {
    return this.client.close();
  }

  /** The GroupNumber of the payment terms named, when a name is given and SAP has them. */
  private async paymentTermsGroup(name: string | null | undefined, signal: AbortSignal): Promise<number | undefined> {
    return typeof name === 'string' && name !== '' ? this.client.paymentTermsGroup(name, signal) : undefined;
  }

  /** An update written to the partner as read: only what differs PATCHed (see updateCustomer). */
  private async writeCustomer(update: ErpCustomerUpdate, partner: SapPartnerRecord, group: number | undefined, signal: AbortSignal): Promise<ErpCustomerUpdateResult> {
    if (partner.CardType && partner.CardType !== 'cCustomer') throw new TargetError('permanent', `${SYSTEM}'s business partner ${update.number} is not a customer (CardType ${partner.CardType})`);
    const { patch, written, skipped } = sapPartnerPatch(update, partner, group);
    const said = skipped.length > 0 ? { skipped } : {};
    if (written.length === 0) return { updated: false, ...said };
    await this.client.updateBusinessPartner(update.number, patch, signal);
    return { updated: true, written, ...said };
  }

  /** A create of a partner SAP has already: its fields written as an update, under the CardCode SAP keeps. */
  private async writeExisting(create: ErpCustomerCreate, record: unknown, group: number | undefined, signal: AbortSignal): Promise<ErpCustomerCreateResult> {
    const partner = readPartnerRecord(record);
    return { ...(await this.writeCustomer(create, partner, group, signal)), erpId: partner.CardCode, created: false };
  }

  private async priceLists(call: GovernedCall): Promise<SapPriceLists> {
    return sapPriceLists(await this.client.priceLists(call), this.config.basePriceList ?? DEFAULT_BASE_PRICE_LIST);
  }

  private toOrder(order: ErpSalesOrder): SapOrderInput {
    const warehouses = this.config.warehouseCodes ?? {};
    // The contract's order has no currency yet; one sent along goes through the backend's table.
    const currency = (order as { currency?: unknown }).currency;
    const day = order.orderDate ?? new Date().toISOString().slice(0, 10);
    return {
      CardCode: order.customerNumber,
      NumAtCard: order.externalDocumentNumber,
      DocDate: day,
      // SAP requires a delivery date; Crossdock's order has none of its own, so the order's day.
      DocDueDate: day,
      ...(typeof currency === 'string' ? { DocCurrency: sapCurrency(this.config.currencies ?? {}, currency) } : {}),
      DocumentLines: order.lines.map((line) => {
        if (!line.warehouse) return { ItemCode: line.lineObjectNumber, Quantity: line.quantity, UnitPrice: line.unitPrice };
        const code = warehouses[line.warehouse];
        // A setting every order for that warehouse would meet: wait for it to be fixed rather than reject the order.
        if (code === undefined) throw new TargetError('retryable', `warehouse ${line.warehouse} of item ${line.lineObjectNumber} has no SAP warehouse code in warehouseCodes`);
        return { ItemCode: line.lineObjectNumber, Quantity: line.quantity, UnitPrice: line.unitPrice, WarehouseCode: code };
      }),
    };
  }

  private toShipmentRecord(note: SapDeliveryNote, order: SapOrder | undefined): ErpShipmentRecord {
    const warehouseOf = new Map(Object.entries(this.config.warehouseCodes ?? {}).map(([warehouse, code]) => [code, warehouse]));
    const changedAt = note.stamp === undefined ? undefined : new Date(note.stamp).toISOString();
    return {
      documentId: String(note.DocEntry),
      number: String(note.DocNum),
      erpOrderRef: order ? String(order.DocNum) : null,
      externalDocumentNumber: order?.NumAtCard || null,
      // SAP's delivery has no carrier name (TransportationCode is a shipping type's number).
      carrier: null,
      trackingNumber: note.TrackingNumber || null,
      cancelled: note.Cancelled === 'tYES',
      shippedAt: note.DocDate?.slice(0, 10) ?? changedAt ?? '',
      changedAt: changedAt ?? note.DocDate ?? '',
      lines: note.DocumentLines.map((line) => ({ sku: line.ItemCode, quantity: line.Quantity, warehouse: (line.WarehouseCode ? warehouseOf.get(line.WarehouseCode) : undefined) ?? null })),
      crossdockShipmentId: SHIPMENT_IN_COMMENT.exec(note.Comments ?? '')?.[1] ?? null,
    };
  }

  private toCustomer(partner: SapBusinessPartner, lists: SapPriceLists, terms: ReadonlyMap<number, string>): SapB1Customer {
    const currency = isoCurrency(this.config.currencies ?? {}, partner.Currency);
    const list = partner.PriceListNum == null ? undefined : lists.get(partner.PriceListNum);
    return {
      erpId: partner.CardCode,
      number: partner.CardCode,
      name: partner.CardName ?? partner.CardCode,
      blocked: partner.Frozen === 'tYES' ? 'Frozen' : '',
      creditLimit: partner.CreditLimit ?? 0,
      balanceDue: partner.CurrentAccountBalance ?? 0,
      ...(currency ? { currency } : {}),
      ...(typeof list === 'object' ? { priceList: list.label } : {}),
      ...sapCustomerFields(partner, terms),
    };
  }
}

/** The order a delivery note ships: the base of its first line based on an order. */
function baseOrderOf(note: SapDeliveryNote): number | undefined {
  const line = note.DocumentLines.find((l) => l.BaseType === ORDER_OBJECT_TYPE && typeof l.BaseEntry === 'number');
  return line?.BaseEntry ?? undefined;
}

/** A business partner record as the customers pull reads it, or what is wrong with it. */
function readBusinessPartner(record: unknown): SapBusinessPartner | string {
  let partner: SapBusinessPartner;
  try {
    partner = expectShape<SapBusinessPartner>(SYSTEM, 'a business partner', readPartnerRecord(record), BUSINESS_PARTNER);
  } catch (error) {
    if (error instanceof TargetError) return error.message;
    throw error;
  }
  if (partner.Frozen != null && !YES_NO.has(partner.Frozen)) return `${SYSTEM} answered a business partner whose Frozen is ${JSON.stringify(partner.Frozen)}, neither tYES nor tNO`;
  return partner;
}

/** A customer write that can never be made (see customerWriteProblem): permanent, before any call. */
function refuseMalformed(write: ErpCustomerUpdate | ErpCustomerCreate): void {
  const problem = customerWriteProblem(write);
  if (problem) throw new TargetError('permanent', `a customer write ${SYSTEM} cannot take: ${problem}`);
}
