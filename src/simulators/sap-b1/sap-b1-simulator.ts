import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { parseJsonBodies, standaloneServer } from '../standalone.js';

/**
 * An SAP Business One Service Layer look-alike for the demo, the tests and the benchmarks, under `/b1s/v1`
 * (OData v3 answers) and `/b1s/v2` (OData v4): Login and Logout with the B1SESSION and ROUTEID cookies and
 * sessions that end after an idle time (401, code 301); BusinessPartners with their addresses (BPAddresses, PATCHed
 * as the Service Layer merges a collection unless `B1S-ReplaceCollectionsOnPatch: true`), created by POST (a CardCode
 * taken refused as SAP refuses it) and stamped (UpdateDate, UpdateTime) by every change, PaymentTermsTypes,
 * Items with their stock per warehouse
 * (ItemWarehouseInfoCollection) and their price in each list (ItemPrices), PriceLists, Warehouses, SpecialPrices
 * with their periods and quantity breaks, sales orders (create, Cancel, Close) and the other documents that move
 * stock (DeliveryNotes, Returns, Invoices, CreditNotes, purchase deliveries and returns, goods receipts and issues,
 * StockTransfers), each with its effect on `InStock` and `Committed`, its lines priced and taxed and its totals
 * summed as SAP does (see createDocument). Collections take the `$filter` (comparisons, `and`, `or`, parentheses),
 * `$select`, `$orderby`, `$top` and `$skip` an integration uses, in pages of 20 unless
 * `Prefer: odata.maxpagesize` (or `B1S-PageSize`) asks otherwise, joined by SAP's next link of each version.
 * Errors come in SAP's envelope of each version. It behaves like the real service where it matters to an
 * integration: latency, 503 in maintenance, sessions that time out; a control API under `/_control` sets all of
 * that, loses the answer of a create it committed, answers what no documentation promises, posts stock, and sets
 * prices. It runs on its own (`listen`, `src/simulators/sap-b1/main.ts`) or mounted in another Fastify instance
 * under a prefix (`plugin`, the demo).
 */
export interface SapB1SimulatorOptions {
  latencyMs?: [number, number];
  /** Idle time after which a session ends (the real default: 30 minutes). */
  sessionIdleSeconds?: number;
  /** SessionTimeout the Login answer reports, in minutes; by default the idle time, rounded up. */
  sessionTimeoutMinutes?: number;
  /** Accepted as sent unless set. */
  companyDb?: string;
  userName?: string;
  password?: string;
  /** Records per page when the client asks for no size (the real default: 20). */
  pageSize?: number;
  /** Requests kept in `state.requests`, the oldest dropped first (all of them unless set). */
  keepRequests?: number;
  /** The company's data in place of the seed (defaultSapB1Data). */
  data?: Partial<SapB1SimulatorData>;
  /**
   * The tax rate of every line of a document made out to a business partner, in percent (8.25 unless set), as the
   * line's tax code would give it: a line's TaxTotal is its LineTotal times the rate, rounded to the cent.
   */
  taxRatePercent?: number;
}

type YesNo = 'tYES' | 'tNO';

export interface SimBusinessPartner {
  CardCode: string;
  CardName: string;
  CardType: 'cCustomer' | 'cSupplier' | 'cLid';
  Frozen: YesNo;
  CreditLimit: number;
  CurrentAccountBalance: number;
  /** The company's currency code, or `##` for all currencies. */
  Currency: string;
  EmailAddress: string | null;
  Phone1: string | null;
  FederalTaxID: string | null;
  PriceListNum: number;
  /** A PaymentTermsTypes GroupNumber; SAP's own "- Cash Basic -" (-1) unless set. */
  PayTermsGrpCode: number;
  /** The AddressName of the default bill-to and ship-to addresses among BPAddresses. */
  BilltoDefault: string | null;
  ShipToDefault: string | null;
  BPAddresses: SimBPAddress[];
  UpdateDate: string;
  UpdateTime: string;
}

/** A business partner's address (CRD1): one of its bill-to or ship-to addresses, keyed by name and type. */
export interface SimBPAddress {
  AddressName: string;
  AddressName2: string | null;
  AddressName3: string | null;
  Street: string | null;
  Block: string | null;
  StreetNo: string | null;
  BuildingFloorRoom: string | null;
  ZipCode: string | null;
  City: string | null;
  County: string | null;
  /** OCRY's code (ISO 3166-1 alpha-2 in SAP's own table), up to 3 characters. */
  Country: string | null;
  /** OCST's code, up to 3 characters. */
  State: string | null;
  AddressType: 'bo_BillTo' | 'bo_ShipTo';
  BPCode: string;
  RowNum: number;
}

/** Payment terms (OCTG), which a business partner's PayTermsGrpCode names. */
export interface SimPaymentTermsType {
  GroupNumber: number;
  PaymentTermsGroupName: string;
  NumberOfAdditionalMonths: number;
  NumberOfAdditionalDays: number;
}

export interface SimWarehouseInfo {
  WarehouseCode: string;
  InStock: number;
  Committed: number;
  Ordered: number;
  Locked: YesNo;
}

export interface SimItem {
  ItemCode: string;
  ItemName: string;
  ItemType: 'itItems';
  InventoryItem: YesNo;
  SalesItem: YesNo;
  Frozen: YesNo;
  ItemPrices: SimItemPrice[];
  CreateDate: string;
  CreateTime: string;
  UpdateDate: string;
  UpdateTime: string;
  ItemWarehouseInfoCollection: SimWarehouseInfo[];
}

/** The item's row in a price list: every list has one, 0 without a currency where the list holds no price for the item. */
export interface SimItemPrice {
  PriceList: number;
  Price: number;
  Currency: string | null;
  BasePriceList: number;
  Factor: number;
}

/** A price list: its prices are its base list's times its factor, unless set by hand. */
export interface SimPriceList {
  PriceListNo: number;
  PriceListName: string;
  BasePriceList: number;
  Factor: number;
  IsGrossPrice: YesNo;
  Active: YesNo;
  ValidFrom: string | null;
  ValidTo: string | null;
  DefaultPrimeCurrency: string;
}

export interface SimWarehouse {
  WarehouseCode: string;
  WarehouseName: string;
}

export interface SimDocumentLine {
  LineNum: number;
  ItemCode: string;
  ItemDescription: string;
  Quantity: number;
  UnitPrice: number;
  Price: number;
  Currency: string;
  WarehouseCode: string;
  /** Set on StockTransfers' lines only: where the quantity leaves from. */
  FromWarehouseCode?: string;
  /** Quantity × Price, rounded to the cent (no line discount is modelled: Price is UnitPrice). */
  LineTotal: number;
  TaxPercentagePerRow: number;
  /** LineTotal × TaxPercentagePerRow, rounded to the cent. */
  TaxTotal: number;
  LineStatus: 'bost_Open' | 'bost_Close';
  /** Of an order line: what no delivery has taken yet. */
  RemainingOpenQuantity: number;
  /** -1 for none; 17 an order, 15 a delivery, and so on (SAP's object types). */
  BaseType: number;
  BaseEntry: number | null;
  BaseLine: number | null;
}

export interface SimDocument {
  DocEntry: number;
  DocNum: number;
  DocType: 'dDocument_Items';
  DocObjectCode: string;
  DocDate: string;
  DocDueDate: string;
  CardCode: string | null;
  CardName: string | null;
  NumAtCard: string | null;
  DocCurrency: string;
  /** The lines' totals and VatSum, tax included. */
  DocTotal: number;
  /** The lines' TaxTotal summed. */
  VatSum: number;
  Comments: string | null;
  DocumentStatus: 'bost_Open' | 'bost_Close';
  Cancelled: YesNo;
  /** SAP's CancelStatusEnum: csYes a cancelled document, csCancellation the document that cancels another. */
  CancelStatus: 'csYes' | 'csNo' | 'csCancellation';
  /** The carrier's tracking number (ODLN.TrackNo), set on the document or patched later. */
  TrackingNumber: string | null;
  CreationDate: string;
  UpdateDate: string;
  UpdateTime: string;
  /** StockTransfers only. */
  FromWarehouse?: string;
  ToWarehouse?: string;
  DocumentLines: SimDocumentLine[];
}

/**
 * A special price of an item for a business partner (or, with CardCode `*<list>`, a list's period and volume
 * discount for every partner): the header's price, and its periods, each with its quantity breaks.
 */
export interface SimSpecialPrice {
  ItemCode: string;
  CardCode: string;
  PriceListNum: number;
  Price: number;
  Currency: string;
  DiscountPercent: number;
  AutoUpdate: YesNo;
  SourcePrice: 'spp_PriceList';
  Valid: YesNo;
  ValidFrom: string | null;
  ValidTo: string | null;
  SpecialPriceDataAreas: SimSpecialPricePeriod[];
}

/** A period of a special price (SPP1), its last day (`Dateto`, so spelled) included. */
export interface SimSpecialPricePeriod {
  RowNumber: number;
  ItemNo: string;
  BPCode: string;
  DateFrom: string | null;
  Dateto: string | null;
  PriceListNo: number;
  Discount: number;
  SpecialPrice: number;
  PriceCurrency: string;
  AutoUpdate: YesNo;
  SpecialPriceQuantityAreas: SimSpecialPriceBreak[];
}

/** A quantity break within a period (SPP2): the price from `Quantity` up. */
export interface SimSpecialPriceBreak {
  RowNumber: number;
  SPDARowNumber: number;
  ItemNo: string;
  BPCode: string;
  Quantity: number;
  SpecialPrice: number;
  PriceCurrency: string;
  Discountin: number;
  UoMEntry: number;
}

export interface SapB1SimulatorData {
  warehouses: SimWarehouse[];
  /** The company's currency codes; the first is its local currency. */
  currencies: string[];
  businessPartners: SimBusinessPartner[];
  items: SimItem[];
  priceLists: SimPriceList[];
  specialPrices: SimSpecialPrice[];
  paymentTermsTypes: SimPaymentTermsType[];
}

/**
 * What each document does to stock, by its collection: `stock` moves InStock of a line's warehouse by its sign
 * times the quantity, `commits` moves Committed instead (an order); `partner` is the kind of business partner
 * it is made out to. A line based on an order takes its quantity off the order line and its commitment; a line
 * based on a document that moved stock the same way moves none again (an invoice of a delivery).
 */
const DOCUMENTS = {
  Orders: { objectType: 17, objectCode: 'oOrders', stock: 0, commits: true, partner: 'cCustomer' },
  DeliveryNotes: { objectType: 15, objectCode: 'oDeliveryNotes', stock: -1, partner: 'cCustomer' },
  Returns: { objectType: 16, objectCode: 'oReturns', stock: 1, partner: 'cCustomer' },
  Invoices: { objectType: 13, objectCode: 'oInvoices', stock: -1, partner: 'cCustomer' },
  CreditNotes: { objectType: 14, objectCode: 'oCreditNotes', stock: 1, partner: 'cCustomer' },
  PurchaseDeliveryNotes: { objectType: 20, objectCode: 'oPurchaseDeliveryNotes', stock: 1, partner: 'cSupplier' },
  PurchaseReturns: { objectType: 21, objectCode: 'oPurchaseReturns', stock: -1, partner: 'cSupplier' },
  InventoryGenEntries: { objectType: 59, objectCode: 'oInventoryGenEntry', stock: 1 },
  InventoryGenExits: { objectType: 60, objectCode: 'oInventoryGenExit', stock: -1 },
  StockTransfers: { objectType: 67, objectCode: 'oStockTransfer', stock: 0, transfers: true },
} as const satisfies Record<string, { objectType: number; objectCode: string; stock: number; commits?: boolean; transfers?: boolean; partner?: SimBusinessPartner['CardType'] }>;

export type SimDocumentCollection = keyof typeof DOCUMENTS;
const COLLECTIONS = Object.keys(DOCUMENTS) as SimDocumentCollection[];
const COLLECTION_OF_TYPE = new Map(COLLECTIONS.map((c) => [DOCUMENTS[c].objectType as number, c]));

type Version = 'v1' | 'v2';

interface Session {
  companyDb: string;
  userName: string;
  lastUsedAt: number;
}

/** How the next calls are answered instead of by the service: a status and raw body, or a reset connection. */
interface Fault {
  status: number;
  body: string;
  contentType: string;
  reset: boolean;
}

interface State {
  warehouses: Map<string, SimWarehouse>;
  currencies: string[];
  businessPartners: Map<string, SimBusinessPartner>;
  items: Map<string, SimItem>;
  priceLists: Map<number, SimPriceList>;
  documents: Record<SimDocumentCollection, Map<number, SimDocument>>;
  specialPrices: Map<string, SimSpecialPrice>;
  paymentTermsTypes: Map<number, SimPaymentTermsType>;
  sessions: Map<string, Session>;
  maintenance: { on: boolean; retryAfterSeconds?: number };
  /** Sessions end once this many more calls (other than Login) have passed. */
  expireSessionsAfter?: number;
  /** The answers of the next this-many creates are dropped after the create is committed. */
  loseNextCreates: number;
  /** Per CardCode: the changes another user makes just before each of the next PATCHes of that business partner. */
  editsBeforePatch: Map<string, Array<Partial<SimBusinessPartner>>>;
  faults: Fault[];
  /** Per collection: the next DocEntry and the next DocNum of its series. */
  numbering: Record<SimDocumentCollection, { entry: number; num: number }>;
  /** Every request, for tests that count calls, read what was sent, and check the cookies. */
  requests: Array<{
    at: number; method: string; path: string; query: string; status: number; session?: string; routeId?: string; prefer?: string; lost?: boolean; body?: unknown;
    /** A PATCH's B1S-ReplaceCollectionsOnPatch header, as sent. */
    replaceCollections?: string;
  }>;
}

const CONTENT_TYPE: Record<Version, string> = {
  v1: 'application/json;odata=minimalmetadata;charset=utf-8',
  v2: 'application/json;odata.metadata=minimal;charset=utf-8',
};
const ROUTE_ID = '.node1';
const EXPIRED = 'Invalid session or session already timeout.';
const SESSION_ERROR = 301;
const LOGIN_ERROR = 100000027;
/** The date and time of the seed records: long before any test runs. */
const SEEDED = { date: '2026-01-05', time: '09:00:00' };

export function defaultSapB1Data(): SapB1SimulatorData {
  const warehouses = [{ WarehouseCode: '01', WarehouseName: 'General Warehouse' }, { WarehouseCode: '02', WarehouseName: 'West Coast Warehouse' }];
  const partner = (fields: Partial<SimBusinessPartner> & Pick<SimBusinessPartner, 'CardCode' | 'CardName'>) => newBusinessPartner(fields.CardCode, SEEDED, fields);
  const businessPartners = [
    partner({
      CardCode: 'c00001', CardName: 'Earthshaker Corporation', CreditLimit: 50_000, CurrentAccountBalance: 12_500.5, EmailAddress: 'orders@earthshaker.example', Phone1: '+1 212 555 0101',
      FederalTaxID: '12-3456789', PayTermsGrpCode: 1, BilltoDefault: 'Bill To', ShipToDefault: 'Ship To',
      BPAddresses: [
        newAddress('c00001', 0, { AddressName: 'Bill To', AddressType: 'bo_BillTo', Street: '12 Park Avenue', City: 'New York', ZipCode: '10016', State: 'NY', Country: 'US' }),
        newAddress('c00001', 1, { AddressName: 'Ship To', AddressType: 'bo_ShipTo', Street: '400 Industrial Way', Block: 'Dock 2', City: 'Newark', ZipCode: '07105', State: 'NJ', Country: 'US' }),
        newAddress('c00001', 2, { AddressName: 'West Coast', AddressType: 'bo_ShipTo', Street: '88 Harbor Blvd', City: 'Oakland', ZipCode: '94607', State: 'CA', Country: 'US' }),
      ],
    }),
    partner({ CardCode: 'c00002', CardName: 'Mashina Corporation', Frozen: 'tYES', CreditLimit: 10_000, CurrentAccountBalance: 9_800 }),
    partner({ CardCode: 'c00003', CardName: 'Aquent Systems', Currency: '##', PriceListNum: 2 }),
    partner({ CardCode: 'c00004', CardName: 'Microchips Ltd', Currency: 'EUR', CreditLimit: 20_000, CurrentAccountBalance: 1_000 }),
    partner({ CardCode: 'v00001', CardName: 'Acme Components', CardType: 'cSupplier' }),
  ];
  const names = ['J.B. Officeprint 1420', 'Rainbow Color Printer 7.5', 'Rainbow 1200 Laser Series', 'Rainbow Nuance Ink Jet', 'Rainbow Laser Jet Cartridges',
    'Rainbow Toner Cartridge', 'Rainbow Ink Ribbon', 'J.B. Laser Toner', 'J.B. Color Ink Cartridge', 'J.B. Paper Tray'];
  const priceLists = seedPriceLists('$');
  const items = names.map((name, i) => newItem(`A${String(i + 1).padStart(5, '0')}`, name, warehouses, SEEDED, itemPricesIn(priceLists, 100 + i * 25, '$'), { '01': 40 + 2 * i, '02': 20 + i }));
  return {
    warehouses, currencies: ['$', 'EUR', 'GBP', 'CAN'], businessPartners, items, priceLists, specialPrices: [seedSpecialPrice('A00001', 'c00001', '$')], paymentTermsTypes: seedPaymentTermsTypes(),
  };
}

/** SAP's own "- Cash Basic -" (-1, every partner's unless set), and the terms of a demo company. */
function seedPaymentTermsTypes(): SimPaymentTermsType[] {
  const terms = (GroupNumber: number, PaymentTermsGroupName: string, NumberOfAdditionalDays: number) => ({ GroupNumber, PaymentTermsGroupName, NumberOfAdditionalMonths: 0, NumberOfAdditionalDays });
  return [terms(-1, '- Cash Basic -', 0), terms(1, 'Net 30', 30), terms(2, 'Net 60', 60), terms(3, 'Net 15', 15)];
}

/**
 * A company's data from plain lists, for a simulator that must hold the same customers and items as another ERP:
 * each item's price in the base list, the seed's lists and the seed's special price for the first customer and item.
 */
export function sapB1Company(spec: {
  warehouses: SimWarehouse[];
  customers: Array<Pick<SimBusinessPartner, 'CardCode' | 'CardName'> & Partial<SimBusinessPartner>>;
  items: Array<{ code: string; name: string; price: number; inStock: Record<string, number> }>;
  currencies?: string[];
}): SapB1SimulatorData {
  const currencies = spec.currencies ?? ['$', 'EUR', 'GBP', 'CAN'];
  const local = currencies[0] ?? '$';
  const priceLists = seedPriceLists(local);
  const [customer] = spec.customers;
  const [item] = spec.items;
  return {
    warehouses: spec.warehouses,
    currencies,
    businessPartners: spec.customers.map((c) => newBusinessPartner(c.CardCode, SEEDED, c)),
    items: spec.items.map((i) => newItem(i.code, i.name, spec.warehouses, SEEDED, itemPricesIn(priceLists, i.price, local), i.inStock)),
    priceLists,
    specialPrices: customer && item ? [seedSpecialPrice(item.code, customer.CardCode, local)] : [],
    paymentTermsTypes: seedPaymentTermsTypes(),
  };
}

/** The seed's price lists: SAP's "Base Price", "Wholesale" at 80 % of it, and "Purchase Price", which prices no item. */
function seedPriceLists(currency: string): SimPriceList[] {
  return [newPriceList(1, 'Base Price', currency), newPriceList(2, 'Wholesale', currency, { BasePriceList: 1, Factor: 0.8 }), newPriceList(3, 'Purchase Price', currency)];
}

/** The seed's special price: the partner pays 95 for the item, 90 over the current year (UTC), and 85 from 10 units then. */
function seedSpecialPrice(itemCode: string, cardCode: string, currency: string): SimSpecialPrice {
  const year = new Date().getUTCFullYear();
  return newSpecialPrice(itemCode, cardCode, {
    Price: 95, SpecialPriceDataAreas: [{ DateFrom: `${year}-01-01`, Dateto: `${year}-12-31`, SpecialPrice: 90, SpecialPriceQuantityAreas: [{ Quantity: 10, SpecialPrice: 85 }] }],
  }, { PriceListNum: 1, Currency: currency });
}

export function createSapB1Simulator(options: SapB1SimulatorOptions = {}) {
  const settings = {
    latencyMs: options.latencyMs ?? [0, 0],
    sessionIdleSeconds: options.sessionIdleSeconds ?? 30 * 60,
    sessionTimeoutMinutes: options.sessionTimeoutMinutes,
    companyDb: options.companyDb,
    userName: options.userName,
    password: options.password,
    pageSize: options.pageSize ?? 20,
    keepRequests: options.keepRequests ?? Number.POSITIVE_INFINITY,
    taxRatePercent: options.taxRatePercent ?? 8.25,
  };
  const data = { ...defaultSapB1Data(), ...options.data };
  const state: State = {
    warehouses: new Map(data.warehouses.map((w) => [w.WarehouseCode, { ...w }])),
    currencies: [...data.currencies],
    // Partners given without the fields of later versions (addresses, payment terms) get SAP's blanks.
    businessPartners: new Map(data.businessPartners.map((p) => [p.CardCode, { ...newBusinessPartner(p.CardCode, SEEDED), ...structuredClone(p) }])),
    items: new Map(data.items.map((i) => [i.ItemCode, structuredClone(i)])),
    priceLists: new Map(data.priceLists.map((l) => [l.PriceListNo, { ...l }])),
    documents: Object.fromEntries(COLLECTIONS.map((c) => [c, new Map()])) as State['documents'],
    specialPrices: new Map(data.specialPrices.map((p) => [`${p.ItemCode}|${p.CardCode}`, structuredClone(p)])),
    paymentTermsTypes: new Map(data.paymentTermsTypes.map((t) => [t.GroupNumber, { ...t }])),
    sessions: new Map(),
    maintenance: { on: false },
    loseNextCreates: 0,
    editsBeforePatch: new Map(),
    faults: [],
    numbering: Object.fromEntries(COLLECTIONS.map((c, i) => [c, { entry: 1, num: 1000 * (i + 1) + 1 }])) as State['numbering'],
    requests: [],
  };

  /** The simulator's routes, for any Fastify instance: at its root (`listen`), or under a prefix of a host's. */
  const plugin: FastifyPluginAsync = async (instance) => {
    // Its own parsers and errors, so that it answers alike whatever the host has set up.
    parseJsonBodies(instance);
    instance.setErrorHandler((error: FastifyError, request, reply) => {
      const status = error.statusCode ?? 500;
      const version: Version = request.url.includes('/b1s/v2/') ? 'v2' : 'v1';
      return reply.status(status).headers({ 'content-type': CONTENT_TYPE[version] }).send(JSON.stringify(sapError(version, status >= 500 ? -1 : -1000, error.message)));
    });

    // Control API for tests and the demo: not part of the Service Layer.
    instance.get('/_control/state', async () => ({
      maintenance: state.maintenance,
      sessions: state.sessions.size,
      orders: [...state.documents.Orders.values()],
      deliveryNotes: [...state.documents.DeliveryNotes.values()],
      requests: state.requests.length,
    }));
    instance.get('/_control/requests', async () => state.requests);
    instance.post('/_control/settings', async (request) => {
      const body = (request.body ?? {}) as Partial<typeof settings>;
      for (const key of Object.keys(settings) as Array<keyof typeof settings>) if (key in body) Object.assign(settings, { [key]: body[key] });
      return settings;
    });
    instance.post('/_control/maintenance', async (request) => {
      const body = request.body as { on?: boolean; retryAfterSeconds?: number } | undefined;
      state.maintenance = { on: Boolean(body?.on), ...(body?.retryAfterSeconds ? { retryAfterSeconds: body.retryAfterSeconds } : {}) };
      return state.maintenance;
    });
    // Ends every session now, or once `afterRequests` more calls (other than Login) have passed.
    instance.post('/_control/expire-sessions', async (request) => {
      const after = (request.body as { afterRequests?: number } | undefined)?.afterRequests;
      if (after !== undefined) {
        state.expireSessionsAfter = after;
        return { expireSessionsAfter: after };
      }
      const expired = state.sessions.size;
      state.sessions.clear();
      return { expired };
    });
    instance.post('/_control/lose-next-create', async (request) => {
      state.loseNextCreates = Number((request.body as { count?: number } | undefined)?.count ?? 1);
      return { loseNextCreates: state.loseNextCreates };
    });
    // The next `count` calls after Login (which still works) answer this instead of the service.
    instance.post('/_control/fault', async (request) => {
      const body = (request.body ?? {}) as { status?: number; body?: string; contentType?: string; reset?: boolean; count?: number };
      const fault = { status: body.status ?? 200, body: body.body ?? '', contentType: body.contentType ?? CONTENT_TYPE.v1, reset: Boolean(body.reset) };
      state.faults = Array.from({ length: body.count ?? 1 }, () => fault);
      return { faults: state.faults.length };
    });
    // An item as given, with stock set per warehouse: an item master change, so it stamps the item.
    instance.put('/_control/items/:code', async (request) => {
      const code = (request.params as { code: string }).code;
      const { warehouses, ...fields } = (request.body ?? {}) as Partial<SimItem> & { warehouses?: Record<string, Partial<SimWarehouseInfo>> };
      const now = stampNow();
      const item = state.items.get(code) ?? newItem(code, code, [...state.warehouses.values()], now, itemPricesIn([...state.priceLists.values()], 0, String(state.currencies[0])), {});
      Object.assign(item, { UpdateDate: now.date, UpdateTime: now.time }, fields, { ItemCode: code });
      for (const [warehouse, figures] of Object.entries(warehouses ?? {})) Object.assign(warehouseRow(state, item, warehouse), figures);
      state.items.set(code, item);
      return item;
    });
    // A price list as given, made or changed; a new one gets a row on every item, without a price, as SAP adds one.
    instance.put('/_control/price-lists/:number', async (request, reply) => {
      const number = Number((request.params as { number: string }).number);
      if (!Number.isInteger(number) || number < 1) return reply.status(400).send({ error: 'a price list number is a whole number of 1 or more' });
      const list = { ...(state.priceLists.get(number) ?? newPriceList(number, `Price List ${number}`, String(state.currencies[0]))), ...(request.body as Partial<SimPriceList>), PriceListNo: number };
      state.priceLists.set(number, list);
      for (const item of state.items.values()) {
        if (!item.ItemPrices.some((row) => row.PriceList === number)) item.ItemPrices.push({ PriceList: number, Price: 0, Currency: null, BasePriceList: list.BasePriceList, Factor: list.Factor });
      }
      return list;
    });
    // A special price made or replaced, as `POST SpecialPrices` takes it (with its SpecialPriceDataAreas and their
    // SpecialPriceQuantityAreas); CardCode `*<list>` for a list's period and volume discount.
    instance.put('/_control/special-prices/:cardCode/:itemCode', async (request, reply) => {
      const { cardCode, itemCode } = request.params as { cardCode: string; itemCode: string };
      const made = createSpecialPrice(state, { ...(request.body as Record<string, unknown>), ItemCode: itemCode, CardCode: cardCode }, true);
      return typeof made === 'string' ? reply.status(400).send({ error: made }) : made;
    });
    instance.delete('/_control/special-prices/:cardCode/:itemCode', async (request) => {
      const { cardCode, itemCode } = request.params as { cardCode: string; itemCode: string };
      return { deleted: state.specialPrices.delete(`${itemCode}|${cardCode}`) };
    });
    // A business partner as given, made or changed as a user of SAP would (a change stamps it); `BPAddresses`, when
    // given, replaces its addresses (each numbered anew).
    instance.put('/_control/business-partners/:code', async (request) => {
      const code = (request.params as { code: string }).code;
      const now = stampNow();
      const { BPAddresses, ...fields } = (request.body ?? {}) as Partial<SimBusinessPartner>;
      const partner = { ...(state.businessPartners.get(code) ?? newBusinessPartner(code, now)), UpdateDate: now.date, UpdateTime: now.time, ...fields, CardCode: code };
      if (BPAddresses) partner.BPAddresses = BPAddresses.map((address, row) => newAddress(code, row, address));
      state.businessPartners.set(code, partner);
      return partner;
    });
    // Another user changes the business partner (`fields`, as a PATCH takes them: BPAddresses merged) just before each
    // of the next `count` PATCHes of it is applied: the Service Layer has no etag to tell the client.
    instance.post('/_control/business-partners/:code/edit-before-next-patch', async (request, reply) => {
      const code = (request.params as { code: string }).code;
      if (!state.businessPartners.has(code)) return reply.status(404).send({ error: `no business partner ${code}` });
      const body = (request.body ?? {}) as { fields?: Partial<SimBusinessPartner>; count?: number };
      state.editsBeforePatch.set(code, Array.from({ length: Number(body.count ?? 1) }, () => structuredClone(body.fields ?? {})));
      return { code, edits: state.editsBeforePatch.get(code)!.length };
    });
    // Stock in or out of a warehouse, as SAP posts it: a goods receipt or a goods issue, which leaves the item's UpdateDate alone.
    instance.post('/_control/stock', async (request, reply) => {
      const { ItemCode, WarehouseCode, Quantity } = (request.body ?? {}) as { ItemCode?: string; WarehouseCode?: string; Quantity?: number };
      if (typeof Quantity !== 'number' || !Number.isFinite(Quantity) || Quantity === 0) return reply.status(400).send({ error: 'Quantity must be a number other than 0' });
      const made = createDocument(state, settings, Quantity > 0 ? 'InventoryGenEntries' : 'InventoryGenExits', { DocumentLines: [{ ItemCode, WarehouseCode, Quantity: Math.abs(Quantity) }] });
      return typeof made === 'string' ? reply.status(400).send({ error: made }) : made;
    });
    // Delivers an order (a delivery note based on it), as a warehouse clerk would: every open line, or the
    // quantities given per line (`DocumentLines: [{BaseLine, Quantity}]`), with a TrackingNumber and Comments when given.
    instance.post('/_control/orders/:docEntry/deliver', async (request, reply) => {
      const order = state.documents.Orders.get(Number((request.params as { docEntry: string }).docEntry));
      if (!order) return reply.status(404).send({ error: 'no such order' });
      const body = (request.body ?? {}) as { DocumentLines?: Array<{ BaseLine?: number; Quantity?: number }>; TrackingNumber?: string; Comments?: string };
      const lines = (body.DocumentLines ?? order.DocumentLines.filter((l) => l.LineStatus === 'bost_Open' && l.RemainingOpenQuantity > 0).map((l) => ({ BaseLine: l.LineNum, Quantity: l.RemainingOpenQuantity })))
        .map((l) => ({ BaseType: 17, BaseEntry: order.DocEntry, BaseLine: l.BaseLine, Quantity: l.Quantity }));
      const made = createDocument(state, settings, 'DeliveryNotes', { CardCode: order.CardCode, DocumentLines: lines, ...pick(body, ['TrackingNumber', 'Comments']) });
      return typeof made === 'string' ? reply.status(400).send({ error: made }) : made;
    });

    instance.all('/*', async (request, reply) => {
      const started = Date.now();
      const [rawPath = '', query = ''] = request.url.slice(instance.prefix.length).split('?');
      const path = safeDecode(rawPath);
      const version: Version = /^\/b1s\/v2(\/|$)/.test(path) ? 'v2' : 'v1';
      const cookies = parseCookies(request.headers.cookie);
      const record = (status: number, extra: { lost?: boolean } = {}) => {
        state.requests.push({
          at: started, method: request.method, path, query: safeDecode(query), status,
          ...(cookies.B1SESSION ? { session: cookies.B1SESSION } : {}), ...(cookies.ROUTEID ? { routeId: cookies.ROUTEID } : {}),
          ...(request.headers.prefer ? { prefer: String(request.headers.prefer) } : {}),
          ...(request.method === 'POST' || request.method === 'PATCH' ? { body: request.body } : {}),
          ...(request.method === 'PATCH' && typeof request.headers['b1s-replacecollectionsonpatch'] === 'string' ? { replaceCollections: request.headers['b1s-replacecollectionsonpatch'] } : {}), ...extra,
        });
        if (state.requests.length > settings.keepRequests) state.requests.splice(0, state.requests.length - settings.keepRequests);
      };
      const answer: Answer = (status, body, headers = {}) => {
        record(status);
        void reply.status(status).headers({ ...(body === undefined ? {} : { 'content-type': CONTENT_TYPE[version] }), ...headers });
        return body === undefined ? reply.send() : reply.send(JSON.stringify(body));
      };
      const [min, max] = settings.latencyMs;
      if (max > 0) await sleep(min + Math.random() * (max - min));
      if (state.maintenance.on) {
        record(503);
        const retryAfter = state.maintenance.retryAfterSeconds ? { 'retry-after': String(state.maintenance.retryAfterSeconds) } : {};
        return reply.status(503).headers({ 'content-type': 'text/html; charset=iso-8859-1', ...retryAfter }).send(UNAVAILABLE_PAGE);
      }
      const match = /^\/b1s\/(v[12])\/(.*)$/.exec(path);
      if (!match) return answer(404, sapError(version, -1000, `Resource not found for the segment '${path}'`));
      const resource = match[2]!;
      if (resource === 'Login' && request.method === 'POST') return login(state, settings, version, request, instance.prefix, answer);
      if (state.expireSessionsAfter !== undefined && state.expireSessionsAfter-- <= 0) {
        state.sessions.clear();
        state.expireSessionsAfter = undefined;
      }
      const session = cookies.B1SESSION ? state.sessions.get(cookies.B1SESSION) : undefined;
      if (!session || Date.now() - session.lastUsedAt > settings.sessionIdleSeconds * 1000) {
        if (cookies.B1SESSION) state.sessions.delete(cookies.B1SESSION);
        return answer(401, sapError(version, SESSION_ERROR, EXPIRED));
      }
      session.lastUsedAt = Date.now();
      if (resource === 'Logout' && request.method === 'POST') {
        state.sessions.delete(cookies.B1SESSION!);
        return answer(204);
      }
      const fault = state.faults.shift();
      if (fault) {
        record(fault.status);
        if (fault.reset) {
          reply.hijack();
          return void request.raw.socket.destroy();
        }
        return reply.status(fault.status).headers({ 'content-type': fault.contentType }).send(fault.body);
      }
      const context: Context = { state, settings, version, request, root: `${instance.prefix}/b1s/${version}`, query: new URLSearchParams(query), answer };
      const created = (status: number, body: unknown, headers: Record<string, string>) => {
        if (state.loseNextCreates <= 0) return answer(status, body, headers);
        // Committed, and the answer never arrives: the connection drops as a gateway's timeout would drop it.
        state.loseNextCreates--;
        record(status, { lost: true });
        reply.hijack();
        return void request.raw.socket.destroy();
      };
      return route(context, resource, created);
    });
  };

  const server = standaloneServer(plugin);
  /** `listen` serves the simulator on its own. */
  return { plugin, state, settings, listen: server.listen, close: server.close };
}

export type SapB1Simulator = ReturnType<typeof createSapB1Simulator>;

type Answer = (status: number, body?: unknown, headers?: Record<string, string | string[]>) => FastifyReply;
type Settings = SapB1Simulator['settings'];

interface Context {
  state: State;
  settings: Settings;
  version: Version;
  request: FastifyRequest;
  /** The version root as the client sees it (with the host's prefix): where next links point. */
  root: string;
  query: URLSearchParams;
  answer: Answer;
}

function login(state: State, settings: Settings, version: Version, request: FastifyRequest, prefix: string, answer: Answer): FastifyReply {
  const body = (request.body ?? {}) as { CompanyDB?: unknown; UserName?: unknown; Password?: unknown };
  if (typeof body.CompanyDB !== 'string' || typeof body.UserName !== 'string' || typeof body.Password !== 'string') {
    return answer(400, sapError(version, -1000, 'CompanyDB, UserName and Password are required.'));
  }
  const refused = (settings.companyDb && body.CompanyDB !== settings.companyDb) || (settings.userName && body.UserName !== settings.userName) || (settings.password && body.Password !== settings.password);
  if (refused) return answer(401, sapError(version, LOGIN_ERROR, 'Login failed'));
  const id = randomUUID();
  state.sessions.set(id, { companyDb: body.CompanyDB, userName: body.UserName, lastUsedAt: Date.now() });
  const timeout = settings.sessionTimeoutMinutes ?? Math.ceil(settings.sessionIdleSeconds / 60);
  return answer(200, { ...metadata(version, request, `${prefix}/b1s/${version}`, 'B1Sessions', true), SessionId: id, Version: '1000190', SessionTimeout: timeout }, {
    'set-cookie': [`B1SESSION=${id};HttpOnly;`, `ROUTEID=${ROUTE_ID}; path=${prefix}/b1s`],
  });
}

const ENTITY = /^(\w+)(?:\((.*)\))?(?:\/(\w+))?$/;

function route(c: Context, resource: string, created: (status: number, body: unknown, headers: Record<string, string>) => FastifyReply | void): FastifyReply | void {
  const { state, request, answer, version } = c;
  const match = ENTITY.exec(resource);
  const notFound = () => answer(404, sapError(version, -2028, 'No matching records found (ODBC -2028)'));
  if (!match) return answer(404, sapError(version, -1000, `Resource not found for the segment '${resource}'`));
  const [, entity = '', rawKey, action] = match;
  const key = rawKey === undefined ? undefined : parseKey(rawKey);
  const method = request.method;
  const body = (request.body ?? {}) as Record<string, unknown>;
  const one = (type: string, row: object | undefined) => (row ? answer(200, { ...metadata(version, request, c.root, type, true), ...selected(c, row) }) : notFound());

  if (entity === 'BusinessPartners') {
    const code = typeof key === 'string' ? key : undefined;
    if (method === 'GET' && key === undefined) return list(c, 'BusinessPartners', 'BusinessPartner', [...state.businessPartners.values()], 'CardCode');
    if (method === 'GET' && code !== undefined) return one('BusinessPartners', state.businessPartners.get(code));
    if (method === 'POST' && key === undefined) {
      const made = createBusinessPartner(state, body);
      return typeof made === 'string' ? answer(400, sapError(version, -10, made)) : created(201, entityView(c, 'BusinessPartners', made), { location: `BusinessPartners('${made.CardCode}')` });
    }
    if (method === 'PATCH' && code !== undefined) {
      const partner = state.businessPartners.get(code);
      if (!partner) return notFound();
      const edit = state.editsBeforePatch.get(code)?.shift();
      if (state.editsBeforePatch.get(code)?.length === 0) state.editsBeforePatch.delete(code);
      // Another user's edit, its addresses merged as a PATCH merges them.
      if (edit && patchBusinessPartner(state, partner, edit as Record<string, unknown>, false)) return answer(500, sapError(version, -1, 'The edit set up through the control API was refused'));
      const replace = String(request.headers['b1s-replacecollectionsonpatch'] ?? '').toLowerCase() === 'true';
      const refused = patchBusinessPartner(state, partner, body, replace);
      return refused ? answer(400, sapError(version, -10, refused)) : answer(204);
    }
  }
  if (entity === 'PaymentTermsTypes' && method === 'GET') {
    if (key === undefined) return list(c, 'PaymentTermsTypes', 'PaymentTermsType', [...state.paymentTermsTypes.values()], 'GroupNumber');
    return one('PaymentTermsTypes', typeof key === 'number' ? state.paymentTermsTypes.get(key) : undefined);
  }
  if (entity === 'Items') {
    const code = typeof key === 'string' ? key : undefined;
    if (method === 'GET' && key === undefined) return list(c, 'Items', 'Item', [...state.items.values()].map(itemView), 'ItemCode');
    if (method === 'GET' && code !== undefined) return one('Items', state.items.has(code) ? itemView(state.items.get(code)!) : undefined);
    if (method === 'POST' && key === undefined) {
      const itemCode = String(body.ItemCode ?? '');
      if (!itemCode) return answer(400, sapError(version, -10, 'Item code is required'));
      if (state.items.has(itemCode)) return answer(400, sapError(version, -10, `Item code '${itemCode}' already exists`));
      const item = newItem(itemCode, String(body.ItemName ?? itemCode), [...state.warehouses.values()], stampNow(), itemPricesIn([...state.priceLists.values()], 0, String(state.currencies[0])), {});
      state.items.set(itemCode, item);
      return created(201, entityView(c, 'Items', itemView(item)), { location: `Items('${itemCode}')` });
    }
    if (method === 'PATCH' && code !== undefined) {
      const item = state.items.get(code);
      if (!item) return notFound();
      Object.assign(item, pick(body, ['ItemName', 'Frozen', 'SalesItem']), stampNowFields());
      return answer(204);
    }
  }
  if (entity === 'PriceLists' && method === 'GET') {
    if (key === undefined) return list(c, 'PriceLists', 'PriceList', [...state.priceLists.values()], 'PriceListNo');
    return one('PriceLists', typeof key === 'number' ? state.priceLists.get(key) : undefined);
  }
  if (entity === 'Warehouses' && method === 'GET') {
    if (key === undefined) return list(c, 'Warehouses', 'Warehouse', [...state.warehouses.values()], 'WarehouseCode');
    return one('Warehouses', typeof key === 'string' ? state.warehouses.get(key) : undefined);
  }
  if (entity === 'SpecialPrices') {
    if (method === 'GET' && key === undefined) return list(c, 'SpecialPrices', 'SpecialPrice', [...state.specialPrices.values()], 'ItemCode,CardCode');
    if (method === 'GET' && typeof key === 'object') return one('SpecialPrices', state.specialPrices.get(`${key.ItemCode}|${key.CardCode}`));
    if (method === 'POST' && key === undefined) {
      const made = createSpecialPrice(state, body);
      return typeof made === 'string' ? answer(400, sapError(version, made.startsWith('This entry') ? -2035 : -10, made))
        : created(201, entityView(c, 'SpecialPrices', made), { location: `SpecialPrices(ItemCode='${made.ItemCode}',CardCode='${made.CardCode}')` });
    }
  }
  if (entity in DOCUMENTS) {
    const collection = entity as SimDocumentCollection;
    const documents = state.documents[collection];
    const docEntry = typeof key === 'number' ? key : undefined;
    if (method === 'GET' && key === undefined) return list(c, collection, 'Document', [...documents.values()].map((d) => documentView(collection, d)), 'DocEntry');
    if (method === 'GET' && docEntry !== undefined && !action) return one(collection, documents.has(docEntry) ? documentView(collection, documents.get(docEntry)!) : undefined);
    if (method === 'POST' && key === undefined) {
      const made = createDocument(state, c.settings, collection, body);
      return typeof made === 'string' ? answer(400, sapError(version, -10, made)) : created(201, entityView(c, collection, documentView(collection, made)), { location: `${collection}(${made.DocEntry})` });
    }
    if (method === 'POST' && docEntry !== undefined && (action === 'Cancel' || action === 'Close') && collection === 'Orders') {
      const order = documents.get(docEntry);
      if (!order) return notFound();
      const refused = endOrder(state, order, action);
      return refused ? answer(400, sapError(version, -10, refused)) : answer(204);
    }
    if (method === 'POST' && docEntry !== undefined && action === 'Cancel' && collection === 'DeliveryNotes') {
      const note = documents.get(docEntry);
      if (!note) return notFound();
      const refused = cancelDelivery(state, note);
      return typeof refused === 'string' ? answer(400, sapError(version, -10, refused)) : answer(204);
    }
    // The header fields a user may change on a document once it is added; the change stamps it.
    if (method === 'PATCH' && docEntry !== undefined && !action && collection !== 'StockTransfers') {
      const document = documents.get(docEntry);
      if (!document) return notFound();
      const unsupported = Object.keys(body).find((field) => !PATCHABLE_DOCUMENT_FIELDS.includes(field));
      if (unsupported) return answer(400, sapError(version, -1000, `The simulator updates ${PATCHABLE_DOCUMENT_FIELDS.join(', ')} of a document, not '${unsupported}'`));
      Object.assign(document, pick(body, PATCHABLE_DOCUMENT_FIELDS), stampNowFields());
      return answer(204);
    }
  }
  return answer(entity in DOCUMENTS || ['BusinessPartners', 'Items', 'PriceLists', 'Warehouses', 'SpecialPrices', 'PaymentTermsTypes'].includes(entity) ? 405 : 404,
    sapError(version, -1000, `Resource not found for the segment '${resource}'${method === 'GET' ? '' : ` (method ${method})`}`));
}

/**
 * One page of a collection: `$filter`, `$orderby` (else the key), `$skip`, `$top`, then at most a page (the
 * client's `Prefer: odata.maxpagesize` or `B1S-PageSize`, 0 for all, else the simulator's), then `$select`, with
 * the next link of the version when more follow.
 */
function list(c: Context, collection: string, type: string, rows: Array<object>, key: string): FastifyReply {
  const { query, request, answer, version } = c;
  const records = rows as Array<Record<string, unknown>>;
  const problem = (message: string) => answer(400, sapError(version, -1000, message));
  const known = (field: string) => records.length === 0 || field in records[0]!;
  const filterText = query.get('$filter');
  let matching = records;
  if (filterText) {
    const filter = parseFilter(filterText);
    if (typeof filter === 'string') return problem(filter);
    const unknown = fieldsOf(filter).find((f) => !known(f));
    if (unknown) return problem(`Property '${unknown}' of '${type}' is invalid`);
    matching = records.filter((row) => holds(row, filter));
  }
  const order = (query.get('$orderby') ?? key).split(',').map((term) => term.trim().split(/\s+/)).map(([field = '', direction]) => ({ field, descending: direction === 'desc' }));
  const unordered = order.find((o) => !known(o.field));
  if (unordered) return problem(`Property '${unordered.field}' of '${type}' is invalid`);
  matching = matching.toSorted((a, b) => {
    for (const { field, descending } of order) {
      const by = compare(a[field], b[field]);
      if (by !== 0) return descending ? -by : by;
    }
    return 0;
  });
  const select = query.get('$select')?.split(',').map((f) => f.trim()).filter(Boolean);
  const unselectable = select?.find((f) => !known(f));
  if (unselectable) return problem(`Property '${unselectable}' of '${type}' is invalid`);
  const skip = Number(query.get('$skip') ?? 0);
  const top = query.has('$top') ? Number(query.get('$top')) : Number.POSITIVE_INFINITY;
  if (!Number.isInteger(skip) || skip < 0 || !(top >= 0)) return problem('$skip and $top must be whole numbers of 0 or more');
  const asked = pageSizeAsked(request);
  const pageSize = asked === undefined ? c.settings.pageSize : asked === 0 ? Number.POSITIVE_INFINITY : asked;
  const within = matching.slice(skip, skip + top);
  const page = within.slice(0, pageSize);
  const value = select ? page.map((row) => Object.fromEntries(select.map((f) => [f, row[f]]))) : page;
  const headers: Record<string, string> = asked === undefined || request.headers.prefer === undefined ? {} : { 'preference-applied': `odata.maxpagesize=${asked}` };
  const body: Record<string, unknown> = { ...metadata(version, request, c.root, collection, false), value };
  if (within.length > page.length) {
    const next = new URLSearchParams(query);
    next.set('$skip', String(skip + page.length));
    if (Number.isFinite(top)) next.set('$top', String(top - page.length));
    const nextQuery = [...next].map(([name, v]) => `${name}=${encodeURIComponent(v)}`).join('&');
    // v1 (OData v3) links from the host's root, v2 (OData v4) relative to the version root.
    if (version === 'v1') body['odata.nextLink'] = `${c.root}/${collection}?${nextQuery}`;
    else body['@odata.nextLink'] = `${collection}?${nextQuery}`;
  }
  return answer(200, body, headers);
}

function pageSizeAsked(request: FastifyRequest): number | undefined {
  const prefer = /odata\.maxpagesize=(\d+)/.exec(String(request.headers.prefer ?? ''));
  const header = request.headers['b1s-pagesize'];
  const asked = prefer?.[1] ?? (typeof header === 'string' ? header : undefined);
  return asked === undefined || !/^\d+$/.test(asked) ? undefined : Number(asked);
}

function createBusinessPartner(state: State, body: Record<string, unknown>): SimBusinessPartner | string {
  const code = String(body.CardCode ?? '');
  if (!code) return 'Enter a business partner code';
  if (code.length > CARD_CODE_LENGTH) return "Value too long in property 'CardCode' of 'BusinessPartner'";
  if (state.businessPartners.has(code)) return `1320000140 - Business partner code '${code}' already assigned to a business partner; enter a unique business partner code`;
  const type = ({ C: 'cCustomer', S: 'cSupplier', L: 'cLid' } as Record<string, SimBusinessPartner['CardType']>)[String(body.CardType)] ?? body.CardType;
  if (type !== 'cCustomer' && type !== 'cSupplier' && type !== 'cLid') return `Invalid CardType '${String(body.CardType)}'`;
  const partner = newBusinessPartner(code, stampNow(), { CardType: type });
  const refused = patchBusinessPartner(state, partner, body, true);
  if (refused) return refused;
  state.businessPartners.set(code, partner);
  return partner;
}

/** OCRD.CardCode holds up to 15 characters. */
const CARD_CODE_LENGTH = 15;
/** The fields of a business partner a client may write, with their lengths where SAP limits them. */
const PARTNER_FIELDS: Record<string, number | undefined> = {
  CardName: 100, Frozen: undefined, CreditLimit: undefined, Currency: 3, EmailAddress: 100, Phone1: 20, FederalTaxID: 32, PriceListNum: undefined, PayTermsGrpCode: undefined,
  BilltoDefault: 50, ShipToDefault: 50,
};
const ADDRESS_FIELDS: Record<string, number> = {
  AddressName: 50, AddressName2: 50, AddressName3: 50, Street: 100, Block: 100, StreetNo: 100, BuildingFloorRoom: 64_000, ZipCode: 20, City: 100, County: 100, Country: 3, State: 3,
};
const ADDRESS_TYPES = new Set(['bo_BillTo', 'bo_ShipTo']);
const DEFAULT_ADDRESS = { bo_BillTo: 'BilltoDefault', bo_ShipTo: 'ShipToDefault' } as const;

/**
 * A PATCH of a business partner (or the fields of a new one), all or nothing, as the Service Layer applies it: the
 * fields given; BPAddresses merged (an element is the address of its RowNum, else of its AddressName and
 * AddressType, changed in the properties it gives; one that is neither is added; the others are kept), or, with
 * `replace` (B1S-ReplaceCollectionsOnPatch: true), the collection replaced by the elements given. A default address
 * names one of its type; the first of a type becomes its default when it has none (or its default is gone). A
 * string is SAP's refusal.
 */
function patchBusinessPartner(state: State, partner: SimBusinessPartner, body: Record<string, unknown>, replace: boolean): string | undefined {
  const next: SimBusinessPartner = structuredClone(partner);
  for (const [field, value] of Object.entries(pick(body, Object.keys(PARTNER_FIELDS)))) {
    const length = PARTNER_FIELDS[field];
    if (length !== undefined && value !== null && String(value).length > length) return `Value too long in property '${field}' of 'BusinessPartner'`;
    Object.assign(next, { [field]: value });
  }
  if (body.PayTermsGrpCode !== undefined && !state.paymentTermsTypes.has(Number(body.PayTermsGrpCode))) return `Invalid payment terms code ${String(body.PayTermsGrpCode)}`;
  if (Array.isArray(body.BPAddresses)) {
    const addresses = mergeAddresses(next.CardCode, replace ? [] : next.BPAddresses, body.BPAddresses as Array<Record<string, unknown>>);
    if (typeof addresses === 'string') return addresses;
    next.BPAddresses = addresses;
  }
  for (const [type, field] of Object.entries(DEFAULT_ADDRESS) as Array<[SimBPAddress['AddressType'], 'BilltoDefault' | 'ShipToDefault']>) {
    const ofType = next.BPAddresses.filter((a) => a.AddressType === type);
    const named = ofType.some((a) => a.AddressName === next[field]);
    if (body[field] && !named) return `${field} '${String(body[field])}' is not an address of type ${type}`;
    if (!named) next[field] = ofType[0]?.AddressName ?? null;
  }
  Object.assign(partner, next, stampNowFields());
  return undefined;
}

function mergeAddresses(cardCode: string, existing: SimBPAddress[], elements: Array<Record<string, unknown>>): SimBPAddress[] | string {
  const rows = existing.map((a) => ({ ...a }));
  for (const element of elements) {
    const byRow = typeof element.RowNum === 'number' ? rows.find((r) => r.RowNum === element.RowNum) : undefined;
    // A ship-to unless said, as SAP's BoAddressType defaults.
    const type = String(element.AddressType ?? byRow?.AddressType ?? 'bo_ShipTo');
    if (!ADDRESS_TYPES.has(type)) return `Invalid value '${type}' for property 'AddressType'`;
    const fields = pick(element, Object.keys(ADDRESS_FIELDS));
    for (const [field, value] of Object.entries(fields)) if (value !== null && String(value).length > ADDRESS_FIELDS[field]!) return `Value too long in property '${field}' of 'BPAddress'`;
    const row = byRow ?? rows.find((r) => r.AddressName === element.AddressName && r.AddressType === type);
    if (row) Object.assign(row, fields, { AddressType: type });
    else if (!element.AddressName) return 'Enter a name for the address (AddressName)';
    else rows.push(newAddress(cardCode, Math.max(-1, ...rows.map((r) => r.RowNum)) + 1, { ...fields, AddressType: type as SimBPAddress['AddressType'] }));
  }
  const keys = rows.map((r) => `${r.AddressType}|${r.AddressName}`);
  if (new Set(keys).size < keys.length) return 'An address of this name and type already exists (BPAddresses)';
  return rows;
}

/** A special price as `POST SpecialPrices` makes it (or, with `replace`, remakes it), or SAP's refusal. */
function createSpecialPrice(state: State, body: Record<string, unknown>, replace = false): SimSpecialPrice | string {
  const itemCode = String(body.ItemCode ?? '');
  const cardCode = String(body.CardCode ?? '');
  const everyPartner = /^\*(\d+)$/.exec(cardCode);
  if (!state.items.has(itemCode)) return `Invalid item code '${itemCode}'`;
  if (everyPartner ? !state.priceLists.has(Number(everyPartner[1])) : !state.businessPartners.has(cardCode)) return `Invalid BP code '${cardCode}'`;
  if (!replace && state.specialPrices.has(`${itemCode}|${cardCode}`)) return 'This entry already exists in the following tables (ODBC -2035)';
  const price = Number(body.Price ?? 0);
  if (!Number.isFinite(price) || price < 0) return 'Price must be a number of 0 or more';
  const special = newSpecialPrice(itemCode, cardCode, { ...body, Price: price }, {
    PriceListNum: everyPartner ? Number(everyPartner[1]) : state.businessPartners.get(cardCode)!.PriceListNum, Currency: String(state.currencies[0]),
  });
  state.specialPrices.set(`${itemCode}|${cardCode}`, special);
  return special;
}

/** A special price from what a client sent: its periods and their breaks numbered, and in the header's currency and list unless they name theirs. */
function newSpecialPrice(itemCode: string, cardCode: string, body: Record<string, unknown>, defaults: { PriceListNum: number; Currency: string }): SimSpecialPrice {
  const listed = (value: unknown) => (Array.isArray(value) ? value : []) as Array<Record<string, unknown>>;
  const currency = String(body.Currency ?? defaults.Currency);
  const priceList = Number(body.PriceListNum ?? defaults.PriceListNum);
  return {
    ItemCode: itemCode, CardCode: cardCode, PriceListNum: priceList, Price: Number(body.Price ?? 0), Currency: currency, DiscountPercent: Number(body.DiscountPercent ?? 0),
    AutoUpdate: body.AutoUpdate === 'tYES' ? 'tYES' : 'tNO', SourcePrice: 'spp_PriceList', Valid: body.Valid === 'tNO' ? 'tNO' : 'tYES',
    ValidFrom: (body.ValidFrom as string | undefined) ?? null, ValidTo: (body.ValidTo as string | undefined) ?? null,
    SpecialPriceDataAreas: listed(body.SpecialPriceDataAreas).map((period, row) => {
      const periodCurrency = String(period.PriceCurrency ?? currency);
      return {
        RowNumber: row, ItemNo: itemCode, BPCode: cardCode, DateFrom: (period.DateFrom as string | undefined) ?? null, Dateto: (period.Dateto as string | undefined) ?? null,
        PriceListNo: Number(period.PriceListNo ?? priceList), Discount: Number(period.Discount ?? 0), SpecialPrice: Number(period.SpecialPrice ?? 0), PriceCurrency: periodCurrency,
        AutoUpdate: 'tNO' as const,
        SpecialPriceQuantityAreas: listed(period.SpecialPriceQuantityAreas).map((step, n) => ({
          RowNumber: n, SPDARowNumber: row, ItemNo: itemCode, BPCode: cardCode, Quantity: Number(step.Quantity ?? 0), SpecialPrice: Number(step.SpecialPrice ?? 0),
          PriceCurrency: String(step.PriceCurrency ?? periodCurrency), Discountin: Number(step.Discountin ?? 0), UoMEntry: -1,
        })),
      };
    }),
  };
}

/**
 * A document made as the Service Layer makes it, or the reason it refuses it; its lines' effects on stock (see
 * DOCUMENTS) are applied with it. Quantities and prices may come as strings, as SAP takes them. A line's price is
 * the one sent, else its base line's, else what SAP's price determination gives the partner (partnerPrice); its
 * LineTotal and, on a document made out to a partner, its tax at the simulator's rate are rounded to the cent, and
 * VatSum and DocTotal are their sums.
 */
function createDocument(state: State, settings: Settings, collection: SimDocumentCollection, body: Record<string, unknown>): SimDocument | string {
  const kind: { stock: number; commits?: boolean; transfers?: boolean; partner?: string; objectCode: string } = DOCUMENTS[collection];
  const partner = typeof body.CardCode === 'string' ? state.businessPartners.get(body.CardCode) : undefined;
  if (kind.partner) {
    if (!partner || partner.CardType !== kind.partner) return `Invalid BP code '${String(body.CardCode ?? '')}'`;
    if (partner.Frozen === 'tYES') return `Business partner '${partner.CardCode}' is inactive`;
  }
  const today = stampNow();
  const docDate = String(body.DocDate ?? today.date);
  const taxRate = kind.partner ? settings.taxRatePercent : 0;
  if (kind.commits && typeof body.DocDueDate !== 'string') return 'Specify the delivery date (DocDueDate)';
  const numAtCard = body.NumAtCard === undefined || body.NumAtCard === null ? null : String(body.NumAtCard);
  if (numAtCard !== null && numAtCard.length > 100) return 'NumAtCard is longer than 100 characters';
  const currency = String(body.DocCurrency ?? (partner && partner.Currency !== '##' ? partner.Currency : state.currencies[0]));
  if (!state.currencies.includes(currency)) return `Currency '${currency}' is not defined`;
  const rawLines = body.DocumentLines ?? body.StockTransferLines;
  if (!Array.isArray(rawLines) || rawLines.length === 0) return 'To generate this document, first add at least one row (DocumentLines)';
  const lines: SimDocumentLine[] = [];
  const bases: Array<{ order?: SimDocumentLine; quantity: number; movesStock: boolean }> = [];
  for (const [index, raw] of (rawLines as Array<Record<string, unknown>>).entries()) {
    const based = baseLine(state, raw);
    if (typeof based === 'string') return based;
    const itemCode = String(raw.ItemCode ?? based?.line.ItemCode ?? '');
    const item = state.items.get(itemCode);
    if (!item) return `Invalid item code '${itemCode}' in line ${index + 1}`;
    const quantity = Number(raw.Quantity);
    if (!(quantity > 0)) return `Quantity must be greater than zero in line ${index + 1}`;
    const warehouse = String(raw.WarehouseCode ?? based?.line.WarehouseCode ?? body.ToWarehouse ?? state.warehouses.keys().next().value);
    if (!state.warehouses.has(warehouse)) return `Invalid warehouse code '${warehouse}' in line ${index + 1}`;
    const from = kind.transfers ? String(raw.FromWarehouseCode ?? body.FromWarehouse ?? '') : undefined;
    if (from !== undefined && (!state.warehouses.has(from) || from === warehouse)) return `Invalid source warehouse '${from}' in line ${index + 1}`;
    if (based?.order && quantity > based.order.RemainingOpenQuantity) return `Quantity exceeds the open quantity of the base document in line ${index + 1}`;
    const unitPrice = Number(raw.UnitPrice ?? raw.Price ?? based?.line.UnitPrice ?? (partner ? partnerPrice(state, partner, item, quantity, docDate) : item.ItemPrices[0]?.Price ?? 0));
    if (!Number.isFinite(unitPrice)) return `Invalid price in line ${index + 1}`;
    const lineTotal = cents(quantity * unitPrice);
    lines.push({
      LineNum: index, ItemCode: itemCode, ItemDescription: item.ItemName, Quantity: quantity, UnitPrice: unitPrice, Price: unitPrice, Currency: currency,
      WarehouseCode: warehouse, ...(from !== undefined ? { FromWarehouseCode: from } : {}), LineTotal: lineTotal, TaxPercentagePerRow: taxRate, TaxTotal: cents((lineTotal * taxRate) / 100),
      LineStatus: kind.commits ? 'bost_Open' : 'bost_Close', RemainingOpenQuantity: kind.commits ? quantity : 0,
      BaseType: based ? based.type : -1, BaseEntry: based ? based.document.DocEntry : null, BaseLine: based ? based.line.LineNum : null,
    });
    bases.push({ order: based?.order, quantity, movesStock: !based || Math.sign(DOCUMENTS[based.collection].stock) !== Math.sign(kind.stock) });
  }
  const numbering = state.numbering[collection];
  const vatSum = cents(lines.reduce((sum, l) => sum + l.TaxTotal, 0));
  const document: SimDocument = {
    DocEntry: numbering.entry++, DocNum: numbering.num++, DocType: 'dDocument_Items', DocObjectCode: kind.objectCode,
    DocDate: docDate, DocDueDate: String(body.DocDueDate ?? body.DocDate ?? today.date),
    CardCode: partner?.CardCode ?? null, CardName: partner?.CardName ?? null, NumAtCard: numAtCard, DocCurrency: currency,
    DocTotal: cents(lines.reduce((sum, l) => sum + l.LineTotal, 0) + vatSum), VatSum: vatSum, Comments: (body.Comments as string | undefined) ?? null,
    TrackingNumber: body.TrackingNumber === undefined || body.TrackingNumber === null ? null : String(body.TrackingNumber),
    DocumentStatus: kind.commits ? 'bost_Open' : 'bost_Close', Cancelled: 'tNO', CancelStatus: 'csNo', CreationDate: today.date, UpdateDate: today.date, UpdateTime: today.time,
    ...(kind.transfers ? { FromWarehouse: lines[0]!.FromWarehouseCode, ToWarehouse: lines[0]!.WarehouseCode } : {}),
    DocumentLines: lines,
  };
  for (const [i, line] of lines.entries()) {
    const item = state.items.get(line.ItemCode)!;
    const { order, quantity, movesStock } = bases[i]!;
    if (kind.commits) warehouseRow(state, item, line.WarehouseCode).Committed += quantity;
    if (kind.transfers) {
      warehouseRow(state, item, line.FromWarehouseCode!).InStock -= quantity;
      warehouseRow(state, item, line.WarehouseCode).InStock += quantity;
    } else if (movesStock) {
      warehouseRow(state, item, line.WarehouseCode).InStock += kind.stock * quantity;
    }
    if (order) takeFromOrderLine(state, line, order, quantity);
  }
  state.documents[collection].set(document.DocEntry, document);
  return document;
}

/**
 * The price SAP's price determination gives the partner for a line sent without one, on `day`: its own special
 * price for the item, else its price list's period and volume discount (a special price of `*<list>`), else the
 * item's price in its price list (0 where the list holds none). A special price charges the period that holds on
 * the day, at the highest quantity break the line reaches, else its own price; none while inactive or outside its
 * days. In the list's currency: the simulator has no exchange rates.
 */
function partnerPrice(state: State, partner: SimBusinessPartner, item: SimItem, quantity: number, day: string): number {
  const within = (from: string | null, to: string | null) => (!from || from.slice(0, 10) <= day) && (!to || day <= to.slice(0, 10));
  for (const cardCode of [partner.CardCode, `*${partner.PriceListNum}`]) {
    const special = state.specialPrices.get(`${item.ItemCode}|${cardCode}`);
    if (!special || special.Valid === 'tNO' || !within(special.ValidFrom, special.ValidTo)) continue;
    const period = special.SpecialPriceDataAreas.find((p) => within(p.DateFrom, p.Dateto));
    if (!period) return special.Price;
    const reached = period.SpecialPriceQuantityAreas.filter((step) => step.Quantity <= quantity).toSorted((a, b) => b.Quantity - a.Quantity);
    return reached[0]?.SpecialPrice ?? period.SpecialPrice;
  }
  return item.ItemPrices.find((row) => row.PriceList === partner.PriceListNum)?.Price ?? 0;
}

/** The base a line names (BaseType, BaseEntry, BaseLine), or why it cannot be used; undefined for none. */
function baseLine(state: State, raw: Record<string, unknown>) {
  if (raw.BaseType === undefined || raw.BaseType === null || Number(raw.BaseType) === -1) return undefined;
  const type = Number(raw.BaseType);
  const collection = COLLECTION_OF_TYPE.get(type);
  const document = collection ? state.documents[collection].get(Number(raw.BaseEntry)) : undefined;
  const line = document?.DocumentLines.find((l) => l.LineNum === Number(raw.BaseLine));
  if (!collection || !document || !line) return `Base document line not found (BaseType ${String(raw.BaseType)}, BaseEntry ${String(raw.BaseEntry)}, BaseLine ${String(raw.BaseLine)})`;
  if (document.Cancelled === 'tYES' || (collection === 'Orders' && line.LineStatus === 'bost_Close')) return `The base document line ${line.LineNum} of ${collection}(${document.DocEntry}) is closed`;
  return { type, collection, document, line, order: collection === 'Orders' ? line : undefined };
}

/** A delivery (or an invoice or a purchase) of an order line: its open quantity and its commitment fall; the order closes when nothing stays open. */
function takeFromOrderLine(state: State, line: SimDocumentLine, orderLine: SimDocumentLine, quantity: number): void {
  const order = state.documents.Orders.get(line.BaseEntry!)!;
  orderLine.RemainingOpenQuantity = round(orderLine.RemainingOpenQuantity - quantity);
  warehouseRow(state, state.items.get(orderLine.ItemCode)!, orderLine.WarehouseCode).Committed -= quantity;
  if (orderLine.RemainingOpenQuantity <= 0) orderLine.LineStatus = 'bost_Close';
  if (order.DocumentLines.every((l) => l.LineStatus === 'bost_Close')) order.DocumentStatus = 'bost_Close';
  Object.assign(order, stampNowFields());
}

const PATCHABLE_DOCUMENT_FIELDS = ['Comments', 'NumAtCard', 'TrackingNumber'];

/**
 * DeliveryNotes(n)/Cancel, as SAP cancels a delivery: a cancellation document (CancelStatus csCancellation) of
 * the same lines, the goods back in their warehouses, and what the delivery took from its orders open and
 * committed again; the delivery itself cancelled (tYES, csYes). A string is SAP's refusal.
 */
function cancelDelivery(state: State, note: SimDocument): SimDocument | string {
  if (note.CancelStatus !== 'csNo') return `Document is already cancelled or is a cancellation document (${note.DocNum})`;
  for (const line of note.DocumentLines) {
    const item = state.items.get(line.ItemCode)!;
    const base = line.BaseType === -1 ? undefined : COLLECTION_OF_TYPE.get(line.BaseType);
    const movedStock = !base || Math.sign(DOCUMENTS[base].stock) !== Math.sign(DOCUMENTS.DeliveryNotes.stock);
    if (movedStock) warehouseRow(state, item, line.WarehouseCode).InStock += line.Quantity;
    const order = base === 'Orders' ? state.documents.Orders.get(line.BaseEntry!) : undefined;
    const orderLine = order?.DocumentLines.find((l) => l.LineNum === line.BaseLine);
    if (order && orderLine && order.Cancelled === 'tNO') {
      orderLine.RemainingOpenQuantity = round(orderLine.RemainingOpenQuantity + line.Quantity);
      orderLine.LineStatus = 'bost_Open';
      warehouseRow(state, state.items.get(orderLine.ItemCode)!, orderLine.WarehouseCode).Committed += line.Quantity;
      Object.assign(order, { DocumentStatus: 'bost_Open' }, stampNowFields());
    }
  }
  const numbering = state.numbering.DeliveryNotes;
  const now = stampNow();
  const cancellation: SimDocument = {
    ...structuredClone(note), DocEntry: numbering.entry++, DocNum: numbering.num++, Cancelled: 'tNO', CancelStatus: 'csCancellation', CreationDate: now.date, UpdateDate: now.date, UpdateTime: now.time,
  };
  state.documents.DeliveryNotes.set(cancellation.DocEntry, cancellation);
  Object.assign(note, { Cancelled: 'tYES', CancelStatus: 'csYes' }, stampNowFields());
  return cancellation;
}

/** Orders(n)/Cancel or /Close: what stays open is no longer committed. A string is SAP's refusal. */
function endOrder(state: State, order: SimDocument, action: 'Cancel' | 'Close'): string | undefined {
  if (order.DocumentStatus === 'bost_Close') return `Document is already closed or cancelled (${order.DocNum})`;
  if (action === 'Cancel' && order.DocumentLines.some((l) => l.RemainingOpenQuantity < l.Quantity)) return `Cannot cancel document ${order.DocNum}: a target document is based on it`;
  for (const line of order.DocumentLines) {
    warehouseRow(state, state.items.get(line.ItemCode)!, line.WarehouseCode).Committed -= line.RemainingOpenQuantity;
    line.LineStatus = 'bost_Close';
  }
  Object.assign(order, { DocumentStatus: 'bost_Close' }, action === 'Cancel' ? { Cancelled: 'tYES', CancelStatus: 'csYes' } : {}, stampNowFields());
  return undefined;
}

function newBusinessPartner(code: string, at: { date: string; time: string }, fields: Partial<SimBusinessPartner> = {}): SimBusinessPartner {
  return {
    CardCode: code, CardName: code, CardType: 'cCustomer', Frozen: 'tNO', CreditLimit: 0, CurrentAccountBalance: 0, Currency: '$', EmailAddress: null, Phone1: null,
    FederalTaxID: null, PriceListNum: 1, PayTermsGrpCode: -1, BilltoDefault: null, ShipToDefault: null, BPAddresses: [], UpdateDate: at.date, UpdateTime: at.time, ...fields,
  };
}

/** An address of the partner `cardCode`, blank where `fields` gives nothing, a ship-to unless said. */
function newAddress(cardCode: string, row: number, fields: Partial<SimBPAddress>): SimBPAddress {
  return {
    AddressName: '', AddressName2: null, AddressName3: null, Street: null, Block: null, StreetNo: null, BuildingFloorRoom: null, ZipCode: null, City: null, County: null, Country: null,
    State: null, AddressType: 'bo_ShipTo', ...fields, BPCode: cardCode, RowNum: row,
  };
}

function newItem(code: string, name: string, warehouses: SimWarehouse[], at: { date: string; time: string }, prices: SimItemPrice[], inStock: Record<string, number>): SimItem {
  return {
    ItemCode: code, ItemName: name, ItemType: 'itItems', InventoryItem: 'tYES', SalesItem: 'tYES', Frozen: 'tNO', ItemPrices: prices,
    CreateDate: at.date, CreateTime: at.time, UpdateDate: at.date, UpdateTime: at.time,
    ItemWarehouseInfoCollection: warehouses.map((w) => ({ WarehouseCode: w.WarehouseCode, InStock: inStock[w.WarehouseCode] ?? 0, Committed: 0, Ordered: 0, Locked: 'tNO' })),
  };
}

/**
 * An item's row in every list: `price` in the first list, that times the factor in a list based on the first, and
 * no price (0, no currency) in the others or when `price` is 0.
 */
function itemPricesIn(lists: SimPriceList[], price: number, currency: string): SimItemPrice[] {
  const first = lists[0]?.PriceListNo;
  return lists.map((list) => {
    const amount = list.PriceListNo === first ? price : list.BasePriceList === first ? round(price * list.Factor) : 0;
    return { PriceList: list.PriceListNo, Price: amount, Currency: amount === 0 ? null : currency, BasePriceList: list.BasePriceList, Factor: list.Factor };
  });
}

function newPriceList(number: number, name: string, currency: string, fields: Partial<SimPriceList> = {}): SimPriceList {
  return {
    PriceListNo: number, PriceListName: name, BasePriceList: number, Factor: 1, IsGrossPrice: 'tNO', Active: 'tYES', ValidFrom: null, ValidTo: null,
    DefaultPrimeCurrency: currency, ...fields,
  };
}

/** The item's row for a warehouse, made when the item has none yet (SAP adds one for every warehouse). */
function warehouseRow(state: State, item: SimItem, code: string): SimWarehouseInfo {
  let row = item.ItemWarehouseInfoCollection.find((w) => w.WarehouseCode === code);
  if (!row) {
    if (!state.warehouses.has(code)) state.warehouses.set(code, { WarehouseCode: code, WarehouseName: code });
    row = { WarehouseCode: code, InStock: 0, Committed: 0, Ordered: 0, Locked: 'tNO' };
    item.ItemWarehouseInfoCollection.push(row);
  }
  return row;
}

/** With the item-level totals SAP computes from its warehouses. */
function itemView(item: SimItem) {
  const sum = (field: 'InStock' | 'Committed') => round(item.ItemWarehouseInfoCollection.reduce((total, w) => total + w[field], 0));
  return { ...item, QuantityOnStock: sum('InStock'), QuantityOrderedByCustomers: sum('Committed'), ManageStockByWarehouse: 'tYES' };
}

/** StockTransfers call their lines StockTransferLines and carry no partner or NumAtCard. */
function documentView(collection: SimDocumentCollection, document: SimDocument): Record<string, unknown> {
  if (collection !== 'StockTransfers') return { ...document };
  const { DocumentLines, NumAtCard: _n, CardName: _c, DocDueDate: _d, ...rest } = document;
  return { ...rest, StockTransferLines: DocumentLines.map(({ ItemCode, ItemDescription, Quantity, FromWarehouseCode, WarehouseCode, LineNum }) => ({ LineNum, ItemCode, ItemDescription, Quantity, FromWarehouseCode, WarehouseCode })) };
}

function entityView(c: Context, type: string, row: object) {
  return { ...metadata(c.version, c.request, c.root, type, true), ...row };
}

/** An entity with `$select` applied, when asked. */
function selected(c: Context, row: object): object {
  const select = c.query.get('$select')?.split(',').map((f) => f.trim()).filter(Boolean);
  return select ? Object.fromEntries(select.map((f) => [f, (row as Record<string, unknown>)[f]])) : row;
}

/** The metadata annotation each version puts on an answer. */
function metadata(version: Version, request: FastifyRequest, root: string, type: string, entity: boolean) {
  if (version === 'v1') return { 'odata.metadata': `${request.protocol}://${request.headers.host}${root}/$metadata#${type}${entity ? '/@Element' : ''}` };
  return { '@odata.context': `$metadata#${type}${entity ? '/$entity' : ''}` };
}

/**
 * SAP's error envelope: v1 with a numeric code, an empty innererror and `{lang, value}` (the manual prints the
 * session's and the login's errors without innererror), v2 with the code as text and the message plain.
 */
function sapError(version: Version, code: number, message: string) {
  if (version === 'v2') return { error: { code: String(code), message } };
  const inner = code === SESSION_ERROR || code === LOGIN_ERROR ? {} : { innererror: { context: null, trace: null } };
  return { error: { code, ...inner, message: { lang: 'en-us', value: message } } };
}

/** A key as the URL writes it: `12`, `'A00001'`, or `ItemCode='A00001',CardCode='c00001'`. */
function parseKey(raw: string): number | string | Record<string, string> {
  if (/^-?\d+$/.test(raw)) return Number(raw);
  const quoted = /^'((?:[^']|'')*)'$/.exec(raw);
  if (quoted) return quoted[1]!.replaceAll("''", "'");
  return Object.fromEntries([...raw.matchAll(/(\w+)='((?:[^']|'')*)'/g)].map(([, name, value]) => [name!, value!.replaceAll("''", "'")]));
}

// `$filter`: comparisons of a field with a literal, `and`, `or`, `not`-free, with parentheses.
type Filter = { op: 'and' | 'or'; left: Filter; right: Filter } | { field: string; operator: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; value: string | number | boolean | null };
const TOKEN = /\s*(?:(\()|(\))|'((?:[^']|'')*)'|(\d{4}-\d{2}-\d{2}(?:T[\d:.]+Z?)?)|(-?\d+(?:\.\d+)?)\b|([A-Za-z_]\w*))/y;

/** A parse of SAP's `$filter` subset, or the error to answer with. */
function parseFilter(text: string): Filter | string {
  const tokens: Array<{ kind: 'open' | 'close' | 'literal' | 'word'; value: string | number | boolean | null }> = [];
  for (let at = 0; at < text.length; ) {
    TOKEN.lastIndex = at;
    const match = TOKEN.exec(text);
    if (!match) {
      if (text.slice(at).trim() === '') break;
      return `Syntax error at position ${at} in '$filter=${text}'`;
    }
    at = TOKEN.lastIndex;
    const [, open, close, quoted, date, number, word] = match;
    if (open) tokens.push({ kind: 'open', value: '(' });
    else if (close) tokens.push({ kind: 'close', value: ')' });
    else if (quoted !== undefined) tokens.push({ kind: 'literal', value: quoted.replaceAll("''", "'") });
    else if (date !== undefined) tokens.push({ kind: 'literal', value: date });
    else if (number !== undefined) tokens.push({ kind: 'literal', value: Number(number) });
    else if (word === 'true' || word === 'false') tokens.push({ kind: 'literal', value: word === 'true' });
    else if (word === 'null') tokens.push({ kind: 'literal', value: null });
    else tokens.push({ kind: 'word', value: word! });
  }
  let position = 0;
  const fail = () => `Syntax error in '$filter=${text}' near token ${position + 1}`;
  // `or` binds looser than `and`: each is a run of its operands joined by the word.
  const joined = (op: 'and' | 'or', operand: () => Filter | string) => (): Filter | string => {
    let left = operand();
    while (typeof left !== 'string' && tokens[position]?.value === op) {
      position++;
      const right = operand();
      if (typeof right === 'string') return right;
      left = { op, left, right };
    }
    return left;
  };
  const expression: () => Filter | string = joined('or', () => conjunction());
  const conjunction: () => Filter | string = joined('and', () => term());
  const term = (): Filter | string => {
    const token = tokens[position];
    if (token?.kind === 'open') {
      position++;
      const inner = expression();
      if (typeof inner === 'string' || tokens[position]?.kind !== 'close') return typeof inner === 'string' ? inner : fail();
      position++;
      return inner;
    }
    const [field, operator, literal] = tokens.slice(position, position + 3);
    if (field?.kind !== 'word' || operator?.kind !== 'word' || !['eq', 'ne', 'gt', 'ge', 'lt', 'le'].includes(String(operator.value)) || literal?.kind !== 'literal') return fail();
    position += 3;
    return { field: String(field.value), operator: operator.value as 'eq', value: literal.value };
  };
  const filter = expression();
  return typeof filter === 'string' || position === tokens.length ? filter : fail();
}

function fieldsOf(filter: Filter): string[] {
  return 'op' in filter ? [...fieldsOf(filter.left), ...fieldsOf(filter.right)] : [filter.field];
}

function holds(row: Record<string, unknown>, filter: Filter): boolean {
  if ('op' in filter) return filter.op === 'and' ? holds(row, filter.left) && holds(row, filter.right) : holds(row, filter.left) || holds(row, filter.right);
  const value = row[filter.field];
  if (value === null || value === undefined || filter.value === null) {
    const same = (value ?? null) === filter.value;
    return filter.operator === 'eq' ? same : filter.operator === 'ne' ? !same : false;
  }
  const order = compare(value, filter.value);
  return { eq: order === 0, ne: order !== 0, gt: order > 0, ge: order >= 0, lt: order < 0, le: order <= 0 }[filter.operator];
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [x, y] = [String(a ?? ''), String(b ?? '')];
  return x < y ? -1 : x > y ? 1 : 0;
}

function parseCookies(header: string | undefined): Record<string, string> {
  return Object.fromEntries((header ?? '').split(';').map((part) => part.trim().split('=')).filter(([name, value]) => name && value !== undefined).map(([name, ...value]) => [name!, value.join('=')]));
}

function pick(body: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  return Object.fromEntries(fields.filter((f) => body[f] !== undefined).map((f) => [f, body[f]]));
}

/** The simulator's clock as SAP stamps a record: the date and the time of day, to the second. */
function stampNow(): { date: string; time: string } {
  const iso = new Date().toISOString();
  return { date: iso.slice(0, 10), time: iso.slice(11, 19) };
}

function stampNowFields(): { UpdateDate: string; UpdateTime: string } {
  const { date, time } = stampNow();
  return { UpdateDate: date, UpdateTime: time };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Quantities and amounts of up to 6 places, without binary fractions showing. */
function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** An amount rounded to the cent, as SAP rounds a document's amounts in a currency of two decimals. */
function cents(value: number): number {
  // Half a cent goes up: the binary fraction of a product (1.005 held as 1.00499…) is cut off at 12 digits first.
  return Math.round(Number((value * 100).toPrecision(12))) / 100;
}

/** What Apache's load balancer in front of the Service Layer answers while no node is up. */
const UNAVAILABLE_PAGE = '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>503 Service Unavailable</title>\n</head><body>\n<h1>Service Unavailable</h1>\n' +
  '<p>The server is temporarily unable to service your\nrequest due to maintenance downtime or capacity\nproblems. Please try again later.</p>\n</body></html>\n';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
