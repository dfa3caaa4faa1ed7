import { fromSide, toSide, type PairSide, type PairValues, type ValueMapKind } from './mappings-values.js';

/**
 * Crossdock's entities side by side in SAP Business One's Service Layer (the legacy ERP) and Business Central's API
 * v2.0 (the cloud ERP), pure and table-driven: per entity, each canonical field with the property that holds it in
 * each system, how it is held there, and what a trip there and back loses. The mapping functions follow the tables;
 * they are the reference of the correspondence (for the shadow diffs and the documentation), not the connectors.
 *
 * A path names a property (`CardCode`), a property of a property (`paymentTerm.code`), the entity's element of a
 * collection (`DocumentLines[].ItemCode`) or the element of one type (`BPAddresses[bo_BillTo].Street`: AddressType).
 */

export const MAPPED_ENTITIES = ['order', 'orderLine', 'customer', 'stockLevel', 'shipmentLine', 'price'] as const;
export type MappedEntity = (typeof MAPPED_ENTITIES)[number];
export type MappedSystem = 'sap' | 'bc';

/** How a system holds a canonical value, where not as it is. */
export type Holding =
  /** Through the backend pair's value map of that kind (mappings-values.ts). */
  | { valueMap: ValueMapKind }
  /** Text of at most that many characters: a longer value is not written. */
  | { maxLength: number }
  /** Business Central's Code[n]: held in capitals, at most n characters (a longer value is not written). */
  | { code: number }
  /** The last day a period holds, where the canonical end is the day after it. */
  | { lastDay: true }
  /** A key into another of the system's tables (named): the connectors look it up; these mappings do not carry it. */
  | { lookup: string };

/** Where a system holds a canonical field; `lossy`: what a trip there and back loses (absent: nothing). */
export type MappedSide =
  | { path: string; holding?: Holding; lossy?: string; note?: string }
  /** The system has no such property. */
  | { path: null; lossy: string };

export interface MappingRow {
  /** The canonical field, dotted within the entity (`billingAddress.region`). */
  canonical: string;
  sap: MappedSide;
  bc: MappedSide;
}

export interface MappingTable {
  /** The record each system keeps the entity in (the paths start there). */
  sap: string;
  bc: string;
  rows: readonly MappingRow[];
}

export const MAPPED_SYSTEMS: Record<MappedSystem, { name: string; role: PairSide }> = {
  sap: { name: 'SAP Business One Service Layer', role: 'legacy' },
  bc: { name: 'Business Central API v2.0', role: 'cloud' },
};

const BC_CUSTOMER_NUMBER = 'the customer No. is a Code[20] (capitals, up to 20 characters): a CardCode it cannot hold needs a customer value map';
const BC_ITEM_NUMBER = 'the item No. is a Code[20] (capitals, up to 20 characters): an ItemCode it cannot hold needs an item value map';
const BC_SHIP_TO = 'API v2.0\'s customer has one address, its own: ship-to addresses (the Ship-to Address table) are not published';
const PRICE_LIST_NUMBER = 'a price list is named by its number: the canonical list is its PriceListName (base for the base list), looked up in PriceLists';
const PHONE = 'free text: written in E.164, read as typed (the customer record makes it E.164)';

/** A customer's address in SAP (the business partner's default address of `sapType`) and, for the billing address, in Business Central. */
function addressRows(field: 'billingAddress' | 'shippingAddress', sapType: 'bo_BillTo' | 'bo_ShipTo'): MappingRow[] {
  const sap = (property: string) => `BPAddresses[${sapType}].${property}`;
  const bc = (side: MappedSide): MappedSide => (field === 'billingAddress' ? side : { path: null, lossy: BC_SHIP_TO });
  return [
    { canonical: `${field}.line1`, sap: { path: sap('Street'), holding: { maxLength: 100 }, lossy: 'Street holds 100 characters' }, bc: bc({ path: 'addressLine1', holding: { maxLength: 100 }, lossy: 'Address is a Text[100]' }) },
    { canonical: `${field}.line2`, sap: { path: sap('Block'), holding: { maxLength: 100 }, lossy: 'Block holds 100 characters' }, bc: bc({ path: 'addressLine2', holding: { maxLength: 50 }, lossy: 'Address 2 is a Text[50]' }) },
    { canonical: `${field}.city`, sap: { path: sap('City') }, bc: bc({ path: 'city', holding: { maxLength: 30 }, lossy: 'City is a Text[30]' }) },
    { canonical: `${field}.postalCode`, sap: { path: sap('ZipCode') }, bc: bc({ path: 'postalCode', holding: { code: 20 }, lossy: 'Post Code is a Code[20]: held in capitals' }) },
    {
      canonical: `${field}.region`,
      sap: { path: sap('State'), holding: { maxLength: 3 }, lossy: 'State is a code of SAP\'s states table (OCST), at most 3 characters: a region\'s name is not written' },
      bc: bc({ path: 'state', holding: { maxLength: 30 }, lossy: 'County is a Text[30]' }),
    },
    { canonical: `${field}.country`, sap: { path: sap('Country') }, bc: bc({ path: 'country' }) },
  ];
}

export const MAPPING_TABLES: Record<MappedEntity, MappingTable> = {
  order: {
    sap: 'Orders',
    bc: 'salesOrders',
    rows: [
      { canonical: 'externalDocumentNumber', sap: { path: 'NumAtCard' }, bc: { path: 'externalDocumentNumber' } },
      { canonical: 'customerNumber', sap: { path: 'CardCode', holding: { valueMap: 'customer' } }, bc: { path: 'customerNumber', holding: { valueMap: 'customer' }, lossy: BC_CUSTOMER_NUMBER } },
      { canonical: 'orderDate', sap: { path: 'DocDate' }, bc: { path: 'orderDate' } },
      { canonical: 'currency', sap: { path: 'DocCurrency', holding: { valueMap: 'currency' } }, bc: { path: 'currencyCode', holding: { valueMap: 'currency' } } },
    ],
  },
  orderLine: {
    sap: 'Orders',
    bc: 'salesOrders',
    rows: [
      {
        canonical: 'lineObjectNumber',
        sap: { path: 'DocumentLines[].ItemCode', holding: { valueMap: 'item' } },
        bc: { path: 'salesOrderLines[].lineObjectNumber', holding: { valueMap: 'item' }, lossy: BC_ITEM_NUMBER, note: 'on a line of lineType Item' },
      },
      { canonical: 'quantity', sap: { path: 'DocumentLines[].Quantity' }, bc: { path: 'salesOrderLines[].quantity' } },
      { canonical: 'unitPrice', sap: { path: 'DocumentLines[].UnitPrice' }, bc: { path: 'salesOrderLines[].unitPrice' } },
      {
        canonical: 'warehouse',
        sap: { path: 'DocumentLines[].WarehouseCode', holding: { valueMap: 'warehouse' } },
        bc: { path: 'salesOrderLines[].location.code', holding: { valueMap: 'warehouse' }, note: 'written as locationId, the id of the location of that code' },
      },
    ],
  },
  customer: {
    sap: 'BusinessPartners',
    bc: 'customers',
    rows: [
      { canonical: 'number', sap: { path: 'CardCode', holding: { valueMap: 'customer' } }, bc: { path: 'number', holding: { valueMap: 'customer' }, lossy: BC_CUSTOMER_NUMBER } },
      { canonical: 'name', sap: { path: 'CardName', holding: { maxLength: 100 }, lossy: 'CardName holds 100 characters' }, bc: { path: 'displayName', holding: { maxLength: 100 }, lossy: 'Name is a Text[100]' } },
      { canonical: 'email', sap: { path: 'EmailAddress', holding: { maxLength: 100 }, lossy: 'EmailAddress holds 100 characters' }, bc: { path: 'email', holding: { maxLength: 80 }, lossy: 'E-Mail is a Text[80]' } },
      { canonical: 'phone', sap: { path: 'Phone1', note: PHONE }, bc: { path: 'phoneNumber', note: PHONE } },
      ...addressRows('billingAddress', 'bo_BillTo'),
      ...addressRows('shippingAddress', 'bo_ShipTo'),
      {
        canonical: 'taxId',
        sap: { path: 'FederalTaxID', holding: { maxLength: 32 }, lossy: 'FederalTaxID holds 32 characters' },
        bc: { path: 'taxRegistrationNumber', holding: { maxLength: 20 }, lossy: 'VAT Registration No. is a Text[20]' },
      },
      {
        canonical: 'blocked',
        sap: { path: 'Frozen', holding: { valueMap: 'blocked' }, lossy: 'only Frozen, tYES or tNO: Business Central\'s blocked Ship and Invoice have no SAP equivalent' },
        bc: { path: 'blocked', holding: { valueMap: 'blocked' } },
      },
      { canonical: 'creditLimit', sap: { path: 'CreditLimit' }, bc: { path: 'creditLimit' } },
      { canonical: 'balanceDue', sap: { path: 'CurrentAccountBalance' }, bc: { path: 'customerFinancialDetail.balance' } },
      {
        canonical: 'priceList',
        sap: { path: 'PriceListNum', holding: { lookup: 'PriceLists' }, lossy: PRICE_LIST_NUMBER },
        bc: { path: null, lossy: 'API v2.0\'s customer has no price list or customer price group' },
      },
      {
        canonical: 'paymentTerms',
        sap: {
          path: 'PayTermsGrpCode', holding: { lookup: 'PaymentTermsTypes' },
          lossy: 'no payment terms code, only a group name: PayTermsGrpCode numbers a PaymentTermsTypes row, whose PaymentTermsGroupName stands for the code',
        },
        bc: { path: 'paymentTerm.code', holding: { code: 10 }, lossy: 'the payment terms Code is a Code[10]: held in capitals', note: 'written as paymentTermsId, the id of the terms of that code' },
      },
    ],
  },
  stockLevel: {
    sap: 'Items',
    bc: 'itemLedgerEntries (analytics API), open salesOrders',
    rows: [
      { canonical: 'sku', sap: { path: 'ItemCode', holding: { valueMap: 'item' } }, bc: { path: 'itemLedgerEntries[].itemNo', holding: { valueMap: 'item' }, lossy: BC_ITEM_NUMBER } },
      {
        canonical: 'warehouse',
        sap: { path: 'ItemWarehouseInfoCollection[].WarehouseCode', holding: { valueMap: 'warehouse' } },
        bc: { path: 'itemLedgerEntries[].locationCode', holding: { valueMap: 'warehouse' } },
      },
      { canonical: 'onHand', sap: { path: 'ItemWarehouseInfoCollection[].InStock' }, bc: { path: 'itemLedgerEntries[].quantity', note: 'summed over the item\'s entries at the location' } },
      {
        canonical: 'reserved',
        sap: { path: 'ItemWarehouseInfoCollection[].Committed', note: 'what the open orders hold' },
        bc: { path: 'salesOrderLines[].quantity', note: 'less shippedQuantity, summed over the open orders\' lines of the item at the location' },
      },
    ],
  },
  shipmentLine: {
    sap: 'DeliveryNotes',
    bc: 'salesShipments',
    rows: [
      { canonical: 'sku', sap: { path: 'DocumentLines[].ItemCode', holding: { valueMap: 'item' } }, bc: { path: 'salesShipmentLines[].lineObjectNumber', holding: { valueMap: 'item' }, lossy: BC_ITEM_NUMBER } },
      { canonical: 'quantity', sap: { path: 'DocumentLines[].Quantity' }, bc: { path: 'salesShipmentLines[].quantity' } },
      {
        canonical: 'warehouse',
        sap: { path: 'DocumentLines[].WarehouseCode', holding: { valueMap: 'warehouse' } },
        bc: { path: null, lossy: 'API v2.0\'s salesShipmentLine has no location (a company\'s own page may add locationCode)' },
      },
    ],
  },
  price: {
    sap: 'SpecialPrices (a list\'s own prices: Items, ItemPrices)',
    bc: 'the price list lines page (customerPricesApi; an item\'s base price: items, unitPrice)',
    rows: [
      {
        canonical: 'priceList',
        sap: { path: 'PriceListNum', holding: { lookup: 'PriceLists' }, lossy: PRICE_LIST_NUMBER },
        bc: { path: 'priceListCode', holding: { code: 20 }, lossy: 'the Price List Code is a Code[20]: held in capitals (the base price is an item\'s unitPrice, on no list)' },
      },
      { canonical: 'sku', sap: { path: 'ItemCode', holding: { valueMap: 'item' } }, bc: { path: 'itemNo', holding: { valueMap: 'item' }, lossy: BC_ITEM_NUMBER } },
      { canonical: 'currency', sap: { path: 'Currency', holding: { valueMap: 'currency' } }, bc: { path: 'currencyCode', holding: { valueMap: 'currency' } } },
      { canonical: 'unitPrice', sap: { path: 'Price', note: 'a period\'s or quantity break\'s is its SpecialPrice' }, bc: { path: 'unitPrice' } },
      {
        canonical: 'minQuantity',
        sap: { path: 'SpecialPriceDataAreas[].SpecialPriceQuantityAreas[].Quantity', note: 'a quantity break of a period; 0: the period\'s own price' },
        bc: { path: 'minimumQuantity' },
      },
      {
        canonical: 'customer',
        sap: { path: 'CardCode', holding: { valueMap: 'customer' }, note: 'a price of list n for every business partner is `*n`' },
        bc: { path: 'customerNo', holding: { valueMap: 'customer' }, lossy: BC_CUSTOMER_NUMBER },
      },
      { canonical: 'validFrom', sap: { path: 'ValidFrom', note: 'a period\'s is its DateFrom' }, bc: { path: 'startingDate' } },
      { canonical: 'validTo', sap: { path: 'ValidTo', holding: { lastDay: true }, note: 'a period\'s is its Dateto' }, bc: { path: 'endingDate', holding: { lastDay: true } } },
    ],
  },
};

/** A record as these mappings read and write it: canonical (Crossdock's words) or a system's shape. */
export type MappedRecord = Record<string, unknown>;

/** A row survives the trip to both systems and back. */
export function isLossless(row: MappingRow): boolean {
  return row.sap.lossy === undefined && row.bc.lossy === undefined;
}

/** A canonical record as SAP Business One holds it: each field the table names, held as it says; null and unheld values left out. */
export function toSap(entity: MappedEntity, record: MappedRecord, values: PairValues): MappedRecord {
  return toSystem('sap', entity, record, values);
}

/** A SAP Business One record as canonical: the reverse of toSap. */
export function fromSap(entity: MappedEntity, shape: MappedRecord, values: PairValues): MappedRecord {
  return fromSystem('sap', entity, shape, values);
}

/** A canonical record as Business Central holds it: each field the table names, held as it says; null and unheld values left out. */
export function toBc(entity: MappedEntity, record: MappedRecord, values: PairValues): MappedRecord {
  return toSystem('bc', entity, record, values);
}

/** A Business Central record as canonical: the reverse of toBc. */
export function fromBc(entity: MappedEntity, shape: MappedRecord, values: PairValues): MappedRecord {
  return fromSystem('bc', entity, shape, values);
}

/** A table as the API answers it: SAP's side as `legacy`, Business Central's as `cloud`, and whether each row is lossless. */
export interface MappingTableView {
  legacy: string;
  cloud: string;
  rows: Array<{ canonical: string; lossless: boolean; legacy: MappedSide; cloud: MappedSide }>;
}

/** The tables as `GET /v1/coexistence/mappings` answers them. */
export function mappingTablesView(): Record<MappedEntity, MappingTableView> {
  return Object.fromEntries(MAPPED_ENTITIES.map((entity) => {
    const table = MAPPING_TABLES[entity];
    const rows = table.rows.map((row) => ({ canonical: row.canonical, lossless: isLossless(row), legacy: row.sap, cloud: row.bc }));
    return [entity, { legacy: table.sap, cloud: table.bc, rows }];
  })) as Record<MappedEntity, MappingTableView>;
}

function toSystem(system: MappedSystem, entity: MappedEntity, record: MappedRecord, values: PairValues): MappedRecord {
  const shape: MappedRecord = {};
  for (const row of MAPPING_TABLES[entity].rows) {
    const side = row[system];
    const value = readPath(record, row.canonical);
    if (side.path === null || value == null) continue;
    const held = hold(side.holding, value, values, MAPPED_SYSTEMS[system].role);
    if (held !== undefined) writePath(shape, side.path, held);
  }
  return shape;
}

function fromSystem(system: MappedSystem, entity: MappedEntity, shape: MappedRecord, values: PairValues): MappedRecord {
  const record: MappedRecord = {};
  for (const row of MAPPING_TABLES[entity].rows) {
    const side = row[system];
    if (side.path === null) continue;
    const value = readPath(shape, side.path);
    if (value == null) continue;
    const canonical = unhold(side.holding, value, values, MAPPED_SYSTEMS[system].role);
    if (canonical !== undefined) writePath(record, row.canonical, canonical);
  }
  return record;
}

/** A canonical value as the side holds it; undefined when it cannot. */
function hold(holding: Holding | undefined, value: unknown, values: PairValues, side: PairSide): unknown {
  if (holding === undefined) return value;
  if (typeof value !== 'string' || 'lookup' in holding) return undefined;
  if ('valueMap' in holding) return toSide(values, holding.valueMap, side, value);
  if ('maxLength' in holding) return value.length <= holding.maxLength ? value : undefined;
  if ('code' in holding) return value.length <= holding.code ? value.toUpperCase() : undefined;
  return shiftDay(value, -1);
}

/** A value the side holds, as canonical: the reverse of hold. */
function unhold(holding: Holding | undefined, value: unknown, values: PairValues, side: PairSide): unknown {
  if (holding === undefined) return value;
  if (typeof value !== 'string' || 'lookup' in holding) return undefined;
  if ('valueMap' in holding) return fromSide(values, holding.valueMap, side, value);
  if ('lastDay' in holding) return shiftDay(value, 1);
  return value;
}

const DAY_MS = 86_400_000;

/** The ISO day `days` after `day`; undefined when `day` is not one. */
function shiftDay(day: string, days: number): string | undefined {
  const at = Date.parse(day.slice(0, 10));
  return Number.isNaN(at) ? undefined : new Date(at + days * DAY_MS).toISOString().slice(0, 10);
}

/** The property that tells a collection's elements apart, where a path selects one by its type. */
const ELEMENT_TYPE: Readonly<Record<string, string>> = { BPAddresses: 'AddressType' };
const STEP = /^(\w+)(?:\[(\w*)\])?$/;

interface Step {
  property: string;
  /** '' for the entity's element of the collection, else the type of the element. */
  element?: string;
}

function stepsOf(path: string): Step[] {
  return path.split('.').map((part) => {
    const match = STEP.exec(part);
    if (!match) throw new Error(`${JSON.stringify(path)} is not a mapping path`);
    return { property: match[1]!, element: match[2] };
  });
}

function elementOf(list: unknown[], property: string, element: string): unknown {
  return element === '' ? list[0] : list.find((e) => isRecord(e) && e[typeOf(property)] === element);
}

function typeOf(property: string): string {
  const type = ELEMENT_TYPE[property];
  if (type === undefined) throw new Error(`${property} has no element type to select by`);
  return type;
}

/** The value at `path` of a record (see the forms of a path above); undefined where it has none. */
export function readPath(record: MappedRecord, path: string): unknown {
  let at: unknown = record;
  for (const { property, element } of stepsOf(path)) {
    if (!isRecord(at)) return undefined;
    at = at[property];
    if (element !== undefined) at = Array.isArray(at) ? elementOf(at, property, element) : undefined;
  }
  return at;
}

function writePath(record: MappedRecord, path: string, value: unknown): void {
  const steps = stepsOf(path);
  const last = steps.pop()!;
  let at = record;
  for (const { property, element } of steps) {
    if (element === undefined) {
      at = (at[property] ??= {}) as MappedRecord;
      continue;
    }
    const list = (at[property] ??= []) as MappedRecord[];
    let item = elementOf(list, property, element) as MappedRecord | undefined;
    if (!item) list.push((item = element === '' ? {} : { [typeOf(property)]: element }));
    at = item;
  }
  at[last.property] = value;
}

function isRecord(value: unknown): value is MappedRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
