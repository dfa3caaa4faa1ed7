import { classifyHttpStatus, excerpt, TargetError } from '../../../platform/delivery/outcome.js';
import { httpCall, type HttpAnswer } from '../../../platform/http/http-client.js';
import { expectShape, parseJsonAnswer, type Shape } from '../../answer-shape.js';
import type { GovernedCall } from '../erp-contract.js';
import { absentOn404 } from '../erp-direct.js';
import type { SapB1Config, SapStockDocument } from './sap-b1.config.js';

const SYSTEM = 'SAP Business One';
const DEFAULT_PAGE_SIZE = 100;
// A session is renewed this long before its idle timeout would end it (a quarter of a short timeout), so that
// no call starts on a session about to lapse.
const SESSION_MARGIN_MS = 60_000;
// The Service Layer's own default, for a Login answer that leaves SessionTimeout out.
const DEFAULT_SESSION_MINUTES = 30;
// Item codes per stock query: 20 `ItemCode eq '…'` terms of SAP's 50-character codes keep the URL under 2 KB.
const ITEMS_PER_QUERY = 20;
// A 503 without Retry-After: the load balancer in front of the Service Layer has no node up. Come back in this long.
const UNAVAILABLE_RETRY_MS = 5_000;
const NEXT_LINK_UNDER_ROOT = /\/b1s\/v[12]\/(.*)$/s;

export interface SapOrderLineInput {
  ItemCode: string;
  Quantity: number;
  UnitPrice: number;
  WarehouseCode?: string;
}

/** A sales order as the Service Layer takes it: `NumAtCard` carries Crossdock's reference. */
export interface SapOrderInput {
  CardCode: string;
  NumAtCard: string;
  DocDate?: string;
  DocDueDate: string;
  DocCurrency?: string;
  DocumentLines: SapOrderLineInput[];
}

/** An order; as ensureOrder answers it, with its totals and lines too, which sapOrderFacts checks and reads. */
export interface SapOrder {
  DocEntry: number;
  DocNum: number;
  NumAtCard?: string | null;
  CardCode?: string;
  DocumentStatus?: string;
  Cancelled?: string;
}

/** An order line as shipping reads it: delivered is `Quantity` less `RemainingOpenQuantity`. */
export interface SapOrderLine {
  LineNum: number;
  ItemCode: string;
  Quantity: number;
  RemainingOpenQuantity: number;
  LineStatus?: string;
  WarehouseCode?: string | null;
}

export interface SapOrderWithLines extends SapOrder {
  DocumentLines: SapOrderLine[];
}

/** A delivery note as Crossdock posts one: every line based on an order line (BaseType 17). */
export interface SapDeliveryNoteInput {
  CardCode: string;
  DocDate?: string;
  Comments?: string;
  TrackingNumber?: string;
  DocumentLines: Array<{ BaseType: 17; BaseEntry: number; BaseLine: number; Quantity: number; WarehouseCode?: string }>;
}

export interface SapDeliveryNote {
  DocEntry: number;
  DocNum: number;
  DocDate?: string | null;
  NumAtCard?: string | null;
  Comments?: string | null;
  TrackingNumber?: string | null;
  Cancelled?: string | null;
  CancelStatus?: string | null;
  /** UpdateDate and UpdateTime as one number (see sapStamp). */
  stamp?: number;
  DocumentLines: Array<{ ItemCode: string; Quantity: number; WarehouseCode?: string | null; BaseType?: number | null; BaseEntry?: number | null }>;
}

export interface SapWarehouseStock {
  WarehouseCode: string;
  InStock: number;
  Committed: number;
}

/** An item's stock per warehouse; `stamp` is its UpdateDate and UpdateTime (see sapStamp) when it was read with them. */
export interface SapItemStock {
  ItemCode: string;
  stamp?: number;
  warehouses: SapWarehouseStock[];
}

/** What a business partner read for the customers pull carries: its standing, its contact fields and addresses, and when it changed. */
export const BUSINESS_PARTNER_FIELDS = [
  'CardCode', 'CardName', 'CardType', 'Frozen', 'CreditLimit', 'CurrentAccountBalance', 'Currency', 'EmailAddress', 'Phone1', 'FederalTaxID', 'PriceListNum', 'PayTermsGrpCode',
  'BilltoDefault', 'ShipToDefault', 'BPAddresses', 'UpdateDate', 'UpdateTime',
];
// SAP's refusal of a business partner whose CardCode is taken: message 1320000140 (code -10), or the database's
// unique key (ODBC -2035, "This entry already exists in the following tables").
const CODE_TAKEN = /already assigned to a business partner|ODBC -2035|\(code -2035\)/;

const ORDER: Shape = { DocEntry: 'number', DocNum: 'number', NumAtCard: 'string?', CardCode: 'string?', DocumentStatus: 'string?', Cancelled: 'string?' };
const ORDER_FIELDS = Object.keys(ORDER).join(',');
/** An order with what its facts are read from: its currency, totals and lines. */
const ORDER_WITH_FACTS_FIELDS = `${ORDER_FIELDS},DocCurrency,DocTotal,VatSum,DocumentLines`;
const ORDER_LINE: Shape = { LineNum: 'number', ItemCode: 'string', Quantity: 'number', RemainingOpenQuantity: 'number', LineStatus: 'string?', WarehouseCode: 'string?' };
const DELIVERY_NOTE: Shape = {
  DocEntry: 'number', DocNum: 'number', DocDate: 'string?', NumAtCard: 'string?', Comments: 'string?', TrackingNumber: 'string?', Cancelled: 'string?', CancelStatus: 'string?',
  UpdateDate: 'string?', UpdateTime: 'string?', DocumentLines: 'array',
};
const DELIVERY_NOTE_LINE: Shape = { ItemCode: 'string', Quantity: 'number', WarehouseCode: 'string?', BaseType: 'number?', BaseEntry: 'number?' };
// Orders named per query: 20 `DocEntry eq n` (or `NumAtCard eq '…'`) terms keep the URL short.
const ORDERS_PER_QUERY = 20;
const ITEM_STOCK: Shape = { ItemCode: 'string', UpdateDate: 'string?', UpdateTime: 'string?', ItemWarehouseInfoCollection: 'array' };
const WAREHOUSE_STOCK: Shape = { WarehouseCode: 'string', InStock: 'number', Committed: 'number' };
const PAGE: Shape = { value: 'array', 'odata.nextLink': 'string?', '@odata.nextLink': 'string?' };
/** What a special price read for the prices pull carries: the header, its periods and their quantity breaks. */
const SPECIAL_PRICE_FIELDS = 'ItemCode,CardCode,Price,Currency,PriceListNum,Valid,ValidFrom,ValidTo,SpecialPriceDataAreas';

/** Runs one request of a read: on the caller's signal, or as one governed call of a pull. */
type RunRequest = <T>(work: (signal: AbortSignal | undefined) => Promise<T>) => Promise<T>;

interface Session {
  /** The Cookie header every call sends: B1SESSION, and ROUTEID (the load balancer's node) when SAP set one. */
  cookie: string;
  timeoutMs: number;
  /** When the last call that SAP took on this session was sent: its idle timeout counts from there. */
  lastUsedAt: number;
}

/**
 * SAP Business One Service Layer (`/b1s/v1` or `/b1s/v2`), as a service-to-service client. One session per
 * instance: logged in on the first call, renewed before its idle timeout runs out, logged in again once on a
 * 401 (code 301, an expired session), shared by the calls that wait while it is opened, closed by `close()`.
 * Every answer other than 2xx becomes a TargetError classified for delivery, with SAP's own message.
 */
export class SapB1Client {
  private readonly baseUrl: string;
  private readonly pageSize: number;
  private current?: Session;
  private loggingIn?: Promise<Session>;

  constructor(
    private readonly config: SapB1Config,
    private readonly now: () => number = Date.now,
  ) {
    this.baseUrl = config.baseUrl.replace(/\/+$/, '');
    this.pageSize = config.pageSize ?? DEFAULT_PAGE_SIZE;
  }

  /** The order Crossdock's `reference` names: the one not cancelled, else the newest cancelled one. */
  async findOrder(reference: string, signal?: AbortSignal): Promise<SapOrder | undefined> {
    return this.orderAtCard(reference, ORDER_FIELDS, signal);
  }

  /**
   * The order to ship, with its lines: by SAP's DocNum when Crossdock has it, else by NumAtCard; the one not
   * cancelled first, else the newest cancelled one.
   */
  async findOrderToShip(docNum: string | null, reference: string, signal?: AbortSignal): Promise<SapOrderWithLines | undefined> {
    const byNumber = docNum !== null && /^\d+$/.test(docNum) ? await this.ordersWithLines(`DocNum eq ${docNum}`, signal) : [];
    const orders = byNumber.length > 0 ? byNumber : await this.ordersWithLines(`NumAtCard eq ${odataString(reference)}`, signal);
    return orders.find((order) => order.Cancelled !== 'tYES') ?? orders.at(-1);
  }

  /** The order of DocEntry `docEntry` (SAP's key) with its lines, if SAP has it. */
  async orderToShipByEntry(docEntry: number, signal?: AbortSignal): Promise<SapOrderWithLines | undefined> {
    const record = await absentOn404(() => this.request('GET', `Orders(${docEntry})?${odataQuery({ $select: `${ORDER_FIELDS},DocumentLines` })}`, undefined, signal));
    return record === undefined ? undefined : orderWithLines(record);
  }

  async createDeliveryNote(note: SapDeliveryNoteInput, signal?: AbortSignal): Promise<SapDeliveryNote> {
    return deliveryNote(await this.request('POST', 'DeliveryNotes', note, signal));
  }

  /** The delivery notes whose Comments are `comments` exactly (how a posting finds the note Crossdock made for a shipment). */
  async deliveryNotesCommented(comments: string, signal?: AbortSignal): Promise<SapDeliveryNote[]> {
    const query = odataQuery({ $filter: `Comments eq ${odataString(comments)}`, $select: DELIVERY_NOTE_FIELDS, $orderby: 'DocEntry' });
    return (await this.allPages(`DeliveryNotes?${query}`, 'a delivery note', signal)).map(deliveryNote);
  }

  /**
   * The delivery notes changed at or after `since` (all when undefined), with their lines. SAP filters by day;
   * the time of day is compared here, the same second counting as changed.
   */
  async deliveryNotesChangedSince(since: Date | undefined, signal?: AbortSignal): Promise<SapDeliveryNote[]> {
    const query = odataQuery({ ...(since ? { $filter: `UpdateDate ge ${dateLiteral(since)}` } : {}), $select: DELIVERY_NOTE_FIELDS, $orderby: 'DocEntry' });
    const notes = (await this.allPages(`DeliveryNotes?${query}`, 'a delivery note', signal)).map(deliveryNote);
    return since ? notes.filter((note) => changedSince(note.stamp, since)) : notes;
  }

  /** DocNum and NumAtCard of the orders named by DocEntry (those SAP has). */
  async ordersByDocEntry(docEntries: readonly number[], signal?: AbortSignal): Promise<Map<number, SapOrder>> {
    const orders = new Map<number, SapOrder>();
    for (let i = 0; i < docEntries.length; i += ORDERS_PER_QUERY) {
      const query = odataQuery({ $filter: docEntries.slice(i, i + ORDERS_PER_QUERY).map((entry) => `DocEntry eq ${entry}`).join(' or '), $select: 'DocEntry,DocNum,NumAtCard', $orderby: 'DocEntry' });
      for (const record of await this.allPages(`Orders?${query}`, 'an order', signal)) {
        const order = expectShape<SapOrder>(SYSTEM, 'an order', record, { DocEntry: 'number', DocNum: 'number', NumAtCard: 'string?' });
        orders.set(order.DocEntry, order);
      }
    }
    return orders;
  }

  /**
   * The orders whose NumAtCard is one of `references`, cancelled ones too, with their lines: `ORDERS_PER_QUERY`
   * references a request joined by `or`, each page one request run by `run` (a governed call).
   */
  async ordersAtCards(references: readonly string[], run: RunRequest): Promise<SapOrderWithLines[]> {
    const orders: SapOrderWithLines[] = [];
    for (let i = 0; i < references.length; i += ORDERS_PER_QUERY) {
      const filter = references.slice(i, i + ORDERS_PER_QUERY).map((reference) => `NumAtCard eq ${odataString(reference)}`).join(' or ');
      const query = odataQuery({ $filter: filter, $select: `${ORDER_FIELDS},DocumentLines`, $orderby: 'DocEntry' });
      orders.push(...(await this.everyPage(`Orders?${query}`, 'an order', run)).map(orderWithLines));
    }
    return orders;
  }

  /** Creates the order: SAP answers the whole document as it holds it, its totals and lines with the prices and tax it applied. */
  async createOrder(order: SapOrderInput, signal?: AbortSignal): Promise<SapOrder> {
    return expectShape<SapOrder>(SYSTEM, 'the created order', await this.request('POST', 'Orders', order, signal), ORDER);
  }

  /**
   * Creates the order unless one with its NumAtCard exists. The Service Layer has no idempotency key, and a POST
   * whose answer was lost may have been committed: the retry finds that order instead of making a second. Either
   * way the order comes with its currency, totals and lines, from the one request each way makes.
   */
  async ensureOrder(order: SapOrderInput, signal?: AbortSignal): Promise<{ order: SapOrder; created: boolean }> {
    const existing = await this.orderAtCard(order.NumAtCard, ORDER_WITH_FACTS_FIELDS, signal);
    if (existing) return { order: existing, created: false };
    return { order: await this.createOrder(order, signal), created: true };
  }

  async cancelOrder(docEntry: number, signal?: AbortSignal): Promise<void> {
    await this.request('POST', `Orders(${docEntry})/Cancel`, undefined, signal);
  }

  /** Every customer (CardType cCustomer) with the fields of BUSINESS_PARTNER_FIELDS, as SAP sent them: the caller checks each. */
  async customers(signal?: AbortSignal): Promise<unknown[]> {
    const query = odataQuery({ $filter: "CardType eq 'cCustomer'", $select: BUSINESS_PARTNER_FIELDS.join(','), $orderby: 'CardCode' });
    return this.allPages(`BusinessPartners?${query}`, 'a business partner', signal);
  }

  /** The business partner `cardCode` with the fields named (`$select`), as SAP sent it; undefined when SAP has none (404). */
  async businessPartner(cardCode: string, fields: readonly string[], signal?: AbortSignal): Promise<unknown> {
    return absentOn404(() => this.request('GET', `BusinessPartners(${encodeURIComponent(odataString(cardCode))})?${odataQuery({ $select: fields.join(',') })}`, undefined, signal));
  }

  /**
   * Writes `changes` to the business partner. A collection given (BPAddresses) is merged, never replaced: the
   * elements sent are changed or added and the others kept (`B1S-ReplaceCollectionsOnPatch: false`, the Service
   * Layer's default, said so that no server setting turns the PATCH into a replacement).
   */
  async updateBusinessPartner(cardCode: string, changes: Record<string, unknown>, signal?: AbortSignal): Promise<void> {
    await this.request('PATCH', `BusinessPartners(${encodeURIComponent(odataString(cardCode))})`, changes, signal, { 'b1s-replacecollectionsonpatch': 'false' });
  }

  /**
   * Creates the business partner (`POST BusinessPartners`). A CardCode SAP has already is a permanent TargetError
   * that isCodeTaken tells.
   */
  async createBusinessPartner(partner: Record<string, unknown>, signal?: AbortSignal): Promise<void> {
    await this.request('POST', 'BusinessPartners', partner, signal);
  }

  /** Every payment terms group (PaymentTermsTypes): its GroupNumber to its name. */
  async paymentTermsNames(signal?: AbortSignal): Promise<Map<number, string>> {
    const query = odataQuery({ $select: 'GroupNumber,PaymentTermsGroupName', $orderby: 'GroupNumber' });
    const names = new Map<number, string>();
    for (const record of await this.allPages(`PaymentTermsTypes?${query}`, 'payment terms', signal)) {
      const terms = expectShape<{ GroupNumber: number; PaymentTermsGroupName: string }>(SYSTEM, 'payment terms', record, { GroupNumber: 'number', PaymentTermsGroupName: 'string' });
      names.set(terms.GroupNumber, terms.PaymentTermsGroupName);
    }
    return names;
  }

  /** The GroupNumber of the payment terms (PaymentTermsTypes) named `name`, if SAP has them. */
  async paymentTermsGroup(name: string, signal?: AbortSignal): Promise<number | undefined> {
    const query = odataQuery({ $filter: `PaymentTermsGroupName eq ${odataString(name)}`, $select: 'GroupNumber,PaymentTermsGroupName' });
    const [found] = await this.allPages(`PaymentTermsTypes?${query}`, 'payment terms', signal);
    return found === undefined ? undefined : expectShape<{ GroupNumber: number }>(SYSTEM, 'payment terms', found, { GroupNumber: 'number', PaymentTermsGroupName: 'string' }).GroupNumber;
  }

  /**
   * Every price list as SAP sent it, each page one governed call. No `$select`: Active, ValidFrom and ValidTo
   * came with later versions, and a `$select` naming a field the version lacks fails the read.
   */
  async priceLists(call: GovernedCall): Promise<unknown[]> {
    return this.everyPage(`PriceLists?${odataQuery({ $orderby: 'PriceListNo' })}`, 'a price list', call);
  }

  /** Every item with its price in each list (`ItemPrices`), as SAP sent them, each page one governed call. */
  async itemPrices(call: GovernedCall): Promise<unknown[]> {
    return this.everyPage(`Items?${odataQuery({ $select: 'ItemCode,ItemPrices', $orderby: 'ItemCode' })}`, 'an item', call);
  }

  /** Every special price with its periods and their quantity breaks, as SAP sent them, each page one governed call. */
  async specialPrices(call: GovernedCall): Promise<unknown[]> {
    return this.everyPage(`SpecialPrices?${odataQuery({ $select: SPECIAL_PRICE_FIELDS, $orderby: 'ItemCode,CardCode' })}`, 'a special price', call);
  }

  /**
   * The items whose record changed at or after `since` (every item when undefined), with their stock per
   * warehouse. SAP filters by day; the time of day is compared here.
   */
  async itemsChangedSince(since: Date | undefined, signal?: AbortSignal): Promise<SapItemStock[]> {
    const query = odataQuery({
      ...(since ? { $filter: `UpdateDate ge ${dateLiteral(since)}` } : {}),
      $select: 'ItemCode,UpdateDate,UpdateTime,ItemWarehouseInfoCollection',
      $orderby: 'ItemCode',
    });
    const items = (await this.allPages(`Items?${query}`, 'an item', signal)).map(itemStock);
    return since ? items.filter((item) => changedSince(item.stamp, since)) : items;
  }

  /** The stock per warehouse of the items named (those SAP has). */
  async itemStock(itemCodes: readonly string[], signal?: AbortSignal): Promise<SapItemStock[]> {
    const items: SapItemStock[] = [];
    for (let i = 0; i < itemCodes.length; i += ITEMS_PER_QUERY) {
      const batch = itemCodes.slice(i, i + ITEMS_PER_QUERY);
      const query = odataQuery({ $filter: batch.map((code) => `ItemCode eq ${odataString(code)}`).join(' or '), $select: 'ItemCode,ItemWarehouseInfoCollection', $orderby: 'ItemCode' });
      items.push(...(await this.allPages(`Items?${query}`, 'an item', signal)).map(itemStock));
    }
    return items;
  }

  /**
   * The items on the lines of the documents of `collection` changed at or after `since`, and the newest of
   * those changes: a document that moves stock (an order's `Committed`, a delivery's `InStock`) does not touch
   * the item's own UpdateDate.
   */
  async documentItemsChangedSince(collection: SapStockDocument, since: Date, signal?: AbortSignal): Promise<{ itemCodes: Set<string>; newest: number | undefined }> {
    const lines = linesOf(collection);
    const query = odataQuery({ $filter: `UpdateDate ge ${dateLiteral(since)}`, $select: `DocEntry,UpdateDate,UpdateTime,${lines}`, $orderby: 'DocEntry' });
    const itemCodes = new Set<string>();
    let newest: number | undefined;
    for (const record of await this.allPages(`${collection}?${query}`, `a document of ${collection}`, signal)) {
      const document = expectShape<Record<string, unknown>>(SYSTEM, `a document of ${collection}`, record, { DocEntry: 'number', UpdateDate: 'string?', UpdateTime: 'string?', [lines]: 'array' });
      const stamp = sapStamp(document.UpdateDate, document.UpdateTime);
      if (!changedSince(stamp, since)) continue;
      if (stamp !== undefined) newest = Math.max(newest ?? stamp, stamp);
      for (const line of document[lines] as unknown[]) {
        const { ItemCode } = expectShape<{ ItemCode?: string | null }>(SYSTEM, `a line of ${collection}`, line, { ItemCode: 'string?' });
        if (ItemCode) itemCodes.add(ItemCode);
      }
    }
    return { itemCodes, newest };
  }

  /** When a document of `collection` last changed (undefined when there is none, or its stamp is unreadable). */
  async newestDocumentChange(collection: SapStockDocument, signal?: AbortSignal): Promise<number | undefined> {
    const query = odataQuery({ $select: 'DocEntry,UpdateDate,UpdateTime', $orderby: 'UpdateDate desc,UpdateTime desc', $top: '1' });
    const page = expectShape<{ value: unknown[] }>(SYSTEM, `a page of ${collection}`, await this.request('GET', `${collection}?${query}`, undefined, signal), PAGE);
    if (page.value.length === 0) return undefined;
    const newest = expectShape<{ UpdateDate?: string; UpdateTime?: string }>(SYSTEM, `a document of ${collection}`, page.value[0], { UpdateDate: 'string?', UpdateTime: 'string?' });
    return sapStamp(newest.UpdateDate, newest.UpdateTime);
  }

  /** Ends the session (`POST /Logout`); the next call logs in again. */
  async close(signal?: AbortSignal): Promise<void> {
    const session = this.current;
    this.current = undefined;
    if (!session) return;
    // A session that cannot be closed times out on its own: nothing to report to whoever is shutting down.
    await httpCall(`${this.baseUrl}/Logout`, { method: 'POST', headers: { cookie: session.cookie }, signal }).catch(() => undefined);
  }

  /** findOrder's look-up, reading the fields `select` names. */
  private async orderAtCard(reference: string, select: string, signal?: AbortSignal): Promise<SapOrder | undefined> {
    const query = odataQuery({ $filter: `NumAtCard eq ${odataString(reference)}`, $select: select, $orderby: 'DocEntry' });
    const orders = (await this.allPages(`Orders?${query}`, 'an order', signal)).map((order) => expectShape<SapOrder>(SYSTEM, 'an order', order, ORDER));
    return orders.find((order) => order.Cancelled !== 'tYES') ?? orders.at(-1);
  }

  private async ordersWithLines(filter: string, signal?: AbortSignal): Promise<SapOrderWithLines[]> {
    const query = odataQuery({ $filter: filter, $select: `${ORDER_FIELDS},DocumentLines`, $orderby: 'DocEntry' });
    return (await this.allPages(`Orders?${query}`, 'an order', signal)).map(orderWithLines);
  }

  /** A collection with every page SAP splits it into, all on the caller's signal. */
  private allPages(path: string, what: string, signal?: AbortSignal): Promise<unknown[]> {
    return this.everyPage(path, what, (work) => work(signal));
  }

  /** A collection with every page SAP splits it into, `pageSize` records a page, following the next link to the last; each page's request run by `run`. */
  private async everyPage(path: string, what: string, run: RunRequest): Promise<unknown[]> {
    const all: unknown[] = [];
    const seen = new Set<string>();
    for (let next: string | undefined = path; next !== undefined; ) {
      seen.add(next);
      const at: string = next;
      const answer = await run((signal) => this.request('GET', at, undefined, signal, { prefer: `odata.maxpagesize=${this.pageSize}` }));
      const page: Record<string, unknown> = expectShape(SYSTEM, `a page of ${what}s`, answer, PAGE);
      all.push(...(page.value as unknown[]));
      const link = (page['@odata.nextLink'] ?? page['odata.nextLink']) as string | undefined;
      next = link === undefined ? undefined : pathUnderRoot(link);
      if (next !== undefined && seen.has(next)) throw new TargetError('retryable', `${SYSTEM} sent the same next link twice: ${link}`);
    }
    return all;
  }

  /** One call to the Service Layer, `path` under the version root (`Orders?$filter=…`), on the session. */
  private async request(method: string, path: string, body?: unknown, signal?: AbortSignal, headers: Record<string, string> = {}): Promise<unknown> {
    for (let renewed = false; ; renewed = true) {
      const session = await this.session(signal);
      const sentAt = this.now();
      const response = await httpCall(`${this.baseUrl}/${path}`, {
        method,
        headers: { cookie: session.cookie, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      if (response.status === 401) {
        // SAP ended the session (code 301, or a proxy in front of it said so): log in again and repeat once.
        // Only the first of the calls that met it ends it; the others wait for the same new one.
        if (this.current === session) this.current = undefined;
        if (!renewed) continue;
      } else {
        session.lastUsedAt = Math.max(session.lastUsedAt, sentAt);
      }
      const failure = failureOf(response);
      if (failure) {
        // A 401 even on a fresh session is not the message's fault: the user's rights or the service are.
        throw response.status === 401 ? new TargetError('retryable', failure.message, failure.details) : failure;
      }
      return response.text ? parseJsonAnswer(SYSTEM, response.status, response.text) : undefined;
    }
  }

  /** The session to call on: the current one while it has time left, else a new login, one for all who wait. */
  private async session(signal?: AbortSignal): Promise<Session> {
    const current = this.current;
    if (current && this.now() - current.lastUsedAt < current.timeoutMs - Math.min(SESSION_MARGIN_MS, current.timeoutMs / 4)) return current;
    // The login runs on the signal of the call that started it; a call that waits for it gives up with it.
    this.loggingIn ??= this.login(signal).finally(() => {
      this.loggingIn = undefined;
    });
    return this.loggingIn;
  }

  private async login(signal?: AbortSignal): Promise<Session> {
    const sentAt = this.now();
    const response = await httpCall(`${this.baseUrl}/Login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ CompanyDB: this.config.companyDb, UserName: this.config.username, Password: this.config.password }),
      signal,
    });
    const failure = failureOf(response);
    if (failure) {
      // Wrong credentials or company database are a setting every message would meet: wait for a fix, never dead-letter.
      throw new TargetError(failure.failureClass === 'throttled' ? 'throttled' : 'retryable', `the login failed: ${failure.message}`, failure.details);
    }
    const answer = expectShape<{ SessionId: string; SessionTimeout?: number }>(SYSTEM, 'the login', parseJsonAnswer(SYSTEM, response.status, response.text), { SessionId: 'string', SessionTimeout: 'number?' });
    const minutes = answer.SessionTimeout !== undefined && answer.SessionTimeout > 0 ? answer.SessionTimeout : DEFAULT_SESSION_MINUTES;
    this.current = { cookie: sessionCookie(response.headerValues('set-cookie'), answer.SessionId), timeoutMs: minutes * 60_000, lastUsedAt: sentAt };
    return this.current;
  }
}

/** The Cookie header for a session: every cookie SAP set (B1SESSION, ROUTEID), B1SESSION from the Login body when not among them. */
export function sessionCookie(setCookieValues: readonly string[], sessionId: string): string {
  const cookies = new Map<string, string>();
  for (const value of setCookieValues) {
    const [pair = ''] = value.split(';');
    const at = pair.indexOf('=');
    if (at > 0) cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
  }
  if (!cookies.get('B1SESSION')) cookies.set('B1SESSION', sessionId);
  return [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
}

/** SAP's error envelope: v1 `{"error":{"code":301,"message":{"lang","value"}}}`, v2 with the message a plain string; the code a number or a string. */
export function sapError(text: string): { code?: string; message?: string } | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const error = isRecord(body) ? body.error : undefined;
  if (!isRecord(error)) return undefined;
  const code = typeof error.code === 'number' || (typeof error.code === 'string' && error.code.trim() !== '') ? String(error.code).trim() : undefined;
  const raw = error.message;
  const message = typeof raw === 'string' ? raw : isRecord(raw) && typeof raw.value === 'string' ? raw.value : undefined;
  return { code, message: message?.trim() || undefined };
}

/** SAP refused a create because a business partner of its CardCode exists (another writer made it first). */
export function isCodeTaken(error: unknown): boolean {
  return error instanceof TargetError && error.details.status === 400 && CODE_TAKEN.test(error.message);
}

/**
 * An answer other than 2xx as a TargetError: 400 with SAP's text permanent; 5xx retryable; 503 throttled (SAP
 * down or in maintenance: wait, charge no attempt), for its Retry-After or UNAVAILABLE_RETRY_MS.
 */
function failureOf(response: HttpAnswer): TargetError | undefined {
  const retryAfter = response.header('retry-after');
  const failure = classifyHttpStatus(response.status, response.text, retryAfter);
  if (!failure) return undefined;
  const sap = sapError(response.text);
  const said = sap?.message ? `${sap.message}${sap.code ? ` (code ${sap.code})` : ''}` : failure.message;
  const unavailable = response.status === 503;
  return new TargetError(unavailable ? 'throttled' : failure.class, `${SYSTEM} answered ${response.status}: ${said}`, {
    status: response.status,
    bodyExcerpt: excerpt(response.text),
    retryAfterMs: unavailable && !retryAfter ? UNAVAILABLE_RETRY_MS : failure.retryAfterMs,
  });
}

/**
 * A next link as a path under the configured version root. SAP writes `/b1s/v1/Orders?$skip=20` in v1 and
 * `Orders?$skip=20` in v2; whatever host or prefix it names, the call goes to the configured root, the only
 * place the session cookie is sent.
 */
function pathUnderRoot(link: string): string {
  const under = NEXT_LINK_UNDER_ROOT.exec(link);
  if (!under && (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('/'))) throw new TargetError('retryable', `${SYSTEM} sent a next link outside the Service Layer: ${excerpt(link)}`);
  // Written with its spaces and quotes as they are, the link is escaped where a URL cannot hold them.
  return (under ? under[1]! : link).replace(/[\s"<>\\^`{|}]/g, (c) => encodeURIComponent(c));
}

function itemStock(record: unknown): SapItemStock {
  const item = expectShape<{ ItemCode: string; UpdateDate?: string; UpdateTime?: string; ItemWarehouseInfoCollection: unknown[] }>(SYSTEM, 'an item', record, ITEM_STOCK);
  return {
    ItemCode: item.ItemCode,
    stamp: sapStamp(item.UpdateDate, item.UpdateTime),
    warehouses: item.ItemWarehouseInfoCollection.map((row) => {
      const { WarehouseCode, InStock, Committed } = expectShape<SapWarehouseStock>(SYSTEM, `a warehouse of item ${item.ItemCode}`, row, WAREHOUSE_STOCK);
      return { WarehouseCode, InStock, Committed };
    }),
  };
}

const DELIVERY_NOTE_FIELDS = Object.keys(DELIVERY_NOTE).join(',');

/** An order read with its lines, checked. */
function orderWithLines(record: unknown): SapOrderWithLines {
  const order = expectShape<SapOrderWithLines>(SYSTEM, 'an order', record, { ...ORDER, DocumentLines: 'array' });
  for (const line of order.DocumentLines) expectShape(SYSTEM, `a line of order ${order.DocNum}`, line, ORDER_LINE);
  return order;
}

function deliveryNote(record: unknown): SapDeliveryNote {
  const note = expectShape<SapDeliveryNote & { UpdateDate?: string; UpdateTime?: string }>(SYSTEM, 'a delivery note', record, DELIVERY_NOTE);
  for (const line of note.DocumentLines) expectShape(SYSTEM, `a line of delivery note ${note.DocNum}`, line, DELIVERY_NOTE_LINE);
  const { UpdateDate, UpdateTime, ...rest } = note;
  return { ...rest, stamp: sapStamp(UpdateDate, UpdateTime) };
}

function linesOf(collection: SapStockDocument): string {
  return collection === 'StockTransfers' ? 'StockTransferLines' : 'DocumentLines';
}

/**
 * SAP's UpdateDate (`2026-02-18`, or with a time part) and UpdateTime (`13:15:34`) as one number to compare, in
 * milliseconds as if UTC: they are the server's wall clock, and are only ever compared with each other.
 * Undefined when either cannot be read.
 */
export function sapStamp(date: unknown, time: unknown): number | undefined {
  const day = typeof date === 'string' ? /^(\d{4})-(\d{2})-(\d{2})/.exec(date) : null;
  const clock = typeof time === 'string' ? /^(\d{1,2}):(\d{2})(?::(\d{2}))?/.exec(time) : null;
  if (!day || !clock) return undefined;
  return Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]), Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0));
}

/** A change at or after `since`: the same second counts, as SAP's stamps have no finer part. An unreadable stamp counts too. */
function changedSince(stamp: number | undefined, since: Date): boolean {
  return stamp === undefined || stamp >= since.getTime();
}

/** The day of `since` as SAP's date literal in `$filter`. */
function dateLiteral(since: Date): string {
  return `'${since.toISOString().slice(0, 10)}'`;
}

/** OData system query options, each value percent-encoded (spaces as %20, never `+`). */
function odataQuery(options: Record<string, string>): string {
  return Object.entries(options).map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
}

/** A string literal for an OData `$filter`: quoted, with quotes doubled. */
function odataString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
