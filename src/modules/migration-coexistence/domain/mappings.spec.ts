import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ErpPrice, ErpSalesOrder, ErpShipment, StockChanges } from '../../../connectors/erp/erp-contract.js';
import type { Address, CustomerFields } from '../../customers/index.js';
import {
  fromBc, fromSap, isLossless, MAPPED_ENTITIES, MAPPING_TABLES, mappingTablesView, readPath, toBc, toSap, type MappedEntity, type MappedRecord, type MappedSystem,
} from './mappings.js';
import { valueMapsInForce, type PairSettings, type PairValues } from './mappings-values.js';

const SETTINGS: PairSettings = {
  legacy: { currencies: { $: 'USD', EUR: 'EUR', '£': 'GBP' }, warehouseCodes: { 'WH-EAST': '01', 'WH-WEST': '02' } },
  cloud: { locationCodes: { 'WH-EAST': 'EAST', 'WH-WEST': '' }, currency: 'USD' },
};
const VALUES: PairValues = {
  localCurrency: 'USD',
  entries: valueMapsInForce(SETTINGS, [{ kind: 'customer', legacy: 'c-100', cloud: 'C100' }, { kind: 'item', legacy: 'widget-blue', cloud: 'WIDGET-BLUE' }]),
};

/** A canonical record of each entity with every field of Crossdock's contract filled: the compiler fails when the contract grows. */
const BILL_TO: Required<Address> = { line1: '153 Thomas Drive', line2: 'Suite 4', city: 'Chicago', postalCode: '61236', region: 'IL', country: 'US' };
const SHIP_TO: Required<Address> = { line1: '1 Dock Road', line2: null, city: 'Chicago', postalCode: '61236', region: 'Illinois', country: 'US' };
const SAMPLES: Record<MappedEntity, MappedRecord> = {
  order: { externalDocumentNumber: 'CD-000000042', customerNumber: 'c-100', orderDate: '2026-12-05', currency: 'USD' } satisfies Required<Omit<ErpSalesOrder, 'lines'>> & { currency: string },
  orderLine: { lineObjectNumber: '1896-S', quantity: 12, unitPrice: 1397.3, warehouse: 'WH-EAST' } satisfies Required<ErpSalesOrder['lines'][number]>,
  customer: {
    number: 'C20000', name: 'Trey Research', email: 'orders@trey.example', phone: '+13125550100', billingAddress: BILL_TO, shippingAddress: SHIP_TO, taxId: '36-1234567',
    blocked: '', creditLimit: 5000, balanceDue: 4900, priceList: 'WHOLESALE', paymentTerms: 'NET30',
  } satisfies Required<CustomerFields> & { number: string },
  stockLevel: { sku: '1896-S', warehouse: 'WH-WEST', onHand: 40, reserved: 12 } satisfies Required<StockChanges['levels'][number]>,
  shipmentLine: { sku: '1896-S', quantity: 5, warehouse: 'WH-EAST' } satisfies Required<ErpShipment['lines'][number]>,
  price: {
    priceList: 'WHOLESALE', sku: '1896-S', currency: 'EUR', unitPrice: 1250, minQuantity: 10, customer: 'C20000', validFrom: '2026-12-01', validTo: '2027-01-01',
  } satisfies Required<ErpPrice>,
};
const SYSTEMS = { sap: { to: toSap, from: fromSap }, bc: { to: toBc, from: fromBc } };

function leafPaths(record: object, prefix = ''): string[] {
  return Object.entries(record).flatMap(([key, value]) =>
    value !== null && typeof value === 'object' ? leafPaths(value as object, `${prefix}${key}.`) : [`${prefix}${key}`]);
}

describe('the mapping tables', () => {
  it.each(MAPPED_ENTITIES)('%s: a row for every canonical field, and only those', (entity) => {
    expect(MAPPING_TABLES[entity].rows.map((r) => r.canonical).toSorted()).toEqual(leafPaths(SAMPLES[entity]).toSorted());
  });

  it('name a path on each side, or the reason the system has none; a lossy side says what is lost', () => {
    const PATH = /^\w+(\[\w*\])?(\.\w+(\[\w*\])?)*$/;
    for (const entity of MAPPED_ENTITIES) {
      for (const row of MAPPING_TABLES[entity].rows) {
        for (const side of [row.sap, row.bc]) {
          if (side.path === null) expect(side.lossy.trim()).not.toBe('');
          else expect(side.path).toMatch(PATH);
          if (side.lossy !== undefined) expect(side.lossy.trim().length).toBeGreaterThan(10);
        }
      }
      // Every path can be written and read: a typed element is selected only where its collection says by what.
      expect(() => fromSap(entity, toSap(entity, SAMPLES[entity], VALUES), VALUES)).not.toThrow();
      expect(() => fromBc(entity, toBc(entity, SAMPLES[entity], VALUES), VALUES)).not.toThrow();
    }
  });

  it('are answered with SAP as legacy, Business Central as cloud, and whether each row is lossless', () => {
    const view = mappingTablesView();
    expect(Object.keys(view)).toEqual([...MAPPED_ENTITIES]);
    expect(view.customer.legacy).toBe('BusinessPartners');
    expect(view.customer.rows.find((r) => r.canonical === 'shippingAddress.line1')).toMatchObject({ lossless: false, legacy: { path: 'BPAddresses[bo_ShipTo].Street' }, cloud: { path: null } });
    expect(view.order.rows.find((r) => r.canonical === 'currency')).toMatchObject({ lossless: true, legacy: { path: 'DocCurrency' }, cloud: { path: 'currencyCode' } });
    for (const entity of MAPPED_ENTITIES) expect(view[entity].rows.map((r) => r.lossless)).toEqual(MAPPING_TABLES[entity].rows.map(isLossless));
  });
});

describe('the mapping functions', () => {
  it('write a customer as a SAP business partner, leaving out what SAP cannot hold (a region\'s name, price list and terms by name)', () => {
    const partner = toSap('customer', SAMPLES.customer, VALUES);
    expect(partner).toEqual({
      CardCode: 'C20000', CardName: 'Trey Research', EmailAddress: 'orders@trey.example', Phone1: '+13125550100', FederalTaxID: '36-1234567', Frozen: 'tNO',
      CreditLimit: 5000, CurrentAccountBalance: 4900,
      BPAddresses: [
        { AddressType: 'bo_BillTo', Street: '153 Thomas Drive', Block: 'Suite 4', City: 'Chicago', ZipCode: '61236', State: 'IL', Country: 'US' },
        { AddressType: 'bo_ShipTo', Street: '1 Dock Road', City: 'Chicago', ZipCode: '61236', Country: 'US' },
      ],
    });
    expect(fromSap('customer', partner, VALUES)).toEqual({
      number: 'C20000', name: 'Trey Research', email: 'orders@trey.example', phone: '+13125550100', billingAddress: BILL_TO,
      shippingAddress: { line1: '1 Dock Road', city: 'Chicago', postalCode: '61236', country: 'US' }, taxId: '36-1234567', blocked: '', creditLimit: 5000, balanceDue: 4900,
    });
  });

  it('write a customer as a Business Central customer: one address, blank blocked a space, payment terms by code', () => {
    expect(toBc('customer', SAMPLES.customer, VALUES)).toEqual({
      number: 'C20000', displayName: 'Trey Research', email: 'orders@trey.example', phoneNumber: '+13125550100', addressLine1: '153 Thomas Drive', addressLine2: 'Suite 4',
      city: 'Chicago', postalCode: '61236', state: 'IL', country: 'US', taxRegistrationNumber: '36-1234567', blocked: ' ', creditLimit: 5000,
      customerFinancialDetail: { balance: 4900 }, paymentTerm: { code: 'NET30' },
    });
  });

  it('write an order and its line through the value maps: account number, currency, warehouse', () => {
    expect(toSap('order', SAMPLES.order, VALUES)).toEqual({ NumAtCard: 'CD-000000042', CardCode: 'c-100', DocDate: '2026-12-05', DocCurrency: '$' });
    expect(toBc('order', SAMPLES.order, VALUES)).toEqual({ externalDocumentNumber: 'CD-000000042', customerNumber: 'C100', orderDate: '2026-12-05', currencyCode: '' });
    expect(toSap('orderLine', SAMPLES.orderLine, VALUES)).toEqual({ DocumentLines: [{ ItemCode: '1896-S', Quantity: 12, UnitPrice: 1397.3, WarehouseCode: '01' }] });
    expect(toBc('orderLine', SAMPLES.orderLine, VALUES)).toEqual({ salesOrderLines: [{ lineObjectNumber: '1896-S', quantity: 12, unitPrice: 1397.3, location: { code: 'EAST' } }] });
  });

  it('read stock and prices as each system keeps them: the first element of a collection, the last day of a period', () => {
    const item = { ItemCode: '1896-S', ItemWarehouseInfoCollection: [{ WarehouseCode: '02', InStock: 40, Committed: 12 }] };
    expect(fromSap('stockLevel', item, VALUES)).toEqual(SAMPLES.stockLevel);
    expect(toSap('price', SAMPLES.price, VALUES)).toEqual({
      ItemCode: '1896-S', Currency: 'EUR', Price: 1250, CardCode: 'C20000', ValidFrom: '2026-12-01', ValidTo: '2026-12-31',
      SpecialPriceDataAreas: [{ SpecialPriceQuantityAreas: [{ Quantity: 10 }] }],
    });
    expect(fromBc('price', { priceListCode: 'WHOLESALE', itemNo: '1896-S', currencyCode: '', unitPrice: 9, minimumQuantity: 0, customerNo: '', endingDate: '2026-12-31' }, VALUES))
      .toEqual({ priceList: 'WHOLESALE', sku: '1896-S', currency: 'USD', unitPrice: 9, minQuantity: 0, validTo: '2027-01-01' });
  });
});

describe('the round trips', () => {
  const text = (maxLength: number) => fc.string({ minLength: 1, maxLength, size: 'max' });
  const optional = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: null });
  // Account numbers and SKUs are SAP's (CardCode up to 15 characters, ItemCode up to 50), some renumbered by a value map.
  const cardCode = fc.oneof(fc.constant('c-100'), fc.stringMatching(/^[A-Za-z0-9-]{1,15}$/));
  const itemCode = fc.oneof(fc.constant('widget-blue'), fc.stringMatching(/^[A-Za-z0-9-]{1,50}$/));
  const day = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) }).map((ms) => new Date(ms).toISOString().slice(0, 10));
  const currency = fc.constantFrom('USD', 'EUR', 'GBP', 'JPY', 'CHF');
  const warehouse = fc.constantFrom('WH-EAST', 'WH-WEST');
  const amount = fc.double({ min: -1e9, max: 1e9, noNaN: true });
  const quantity = fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e6, noNaN: true }));
  // Crossdock's canonical values as its API takes them (customers.dto.ts, order.dto.ts).
  const address = fc.record({
    line1: text(200), line2: optional(text(200)), city: text(100), postalCode: optional(text(20)), region: optional(text(100)), country: fc.stringMatching(/^[A-Z]{2}$/),
  });
  const RECORDS: Record<MappedEntity, fc.Arbitrary<MappedRecord>> = {
    order: fc.record({ externalDocumentNumber: fc.integer({ min: 1, max: 999_999_999 }).map((n) => `CD-${String(n).padStart(9, '0')}`), customerNumber: cardCode, orderDate: day, currency }),
    orderLine: fc.record({ lineObjectNumber: itemCode, quantity, unitPrice: quantity, warehouse: optional(warehouse) }),
    customer: fc.record({
      number: cardCode, name: text(200), email: optional(text(254)), phone: optional(fc.stringMatching(/^\+[1-9]\d{6,14}$/)), billingAddress: optional(address),
      shippingAddress: optional(address), taxId: optional(text(40)), blocked: fc.constantFrom('', 'Ship', 'Invoice', 'All'), creditLimit: quantity, balanceDue: amount,
      priceList: optional(text(100)), paymentTerms: optional(text(100)),
    }),
    stockLevel: fc.record({ sku: itemCode, warehouse, onHand: amount, reserved: quantity }),
    shipmentLine: fc.record({ sku: itemCode, quantity, warehouse: optional(warehouse) }),
    price: fc.record({
      priceList: fc.oneof(fc.constant('base'), text(100)), sku: itemCode, currency, unitPrice: quantity, minQuantity: quantity, customer: optional(cardCode),
      validFrom: optional(day), validTo: optional(day),
    }),
  };
  const survives = (system: MappedSystem, entity: MappedEntity, field: string, record: MappedRecord) => {
    const back = SYSTEMS[system].from(entity, SYSTEMS[system].to(entity, record, VALUES), VALUES);
    return Object.is(readPath(record, field) ?? null, readPath(back, field) ?? null);
  };

  for (const system of ['sap', 'bc'] as const) {
    describe(`canonical → ${system} → canonical`, () => {
      it.each(MAPPED_ENTITIES)('%s: keeps every field the table says is lossless there', (entity) => {
        const lossless = MAPPING_TABLES[entity].rows.filter((r) => r[system].lossy === undefined).map((r) => r.canonical);
        fc.assert(fc.property(RECORDS[entity], (record) => {
          for (const field of lossless) expect(survives(system, entity, field, record), field).toBe(true);
        }), { numRuns: 300 });
      });

      const lossy = MAPPED_ENTITIES.flatMap((entity) => MAPPING_TABLES[entity].rows.filter((r) => r[system].lossy !== undefined).map((r) => [entity, r.canonical] as const));
      it.each(lossy)('%s.%s: loses some value, as the table says', (entity, field) => {
        expect(fc.check(fc.property(RECORDS[entity], (record) => survives(system, entity, field, record)), { numRuns: 500, endOnFailure: true }).failed).toBe(true);
      });
    });
  }
});
