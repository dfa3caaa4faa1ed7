import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSapB1Simulator, type SapB1Simulator, type SimItem, type SimSpecialPrice } from '../../../simulators/sap-b1/sap-b1-simulator.js';
import type { ErpPrice, GovernedCall } from '../erp-contract.js';
import type { SapB1Config } from './sap-b1.config.js';
import { SapB1Erp } from './sap-b1.delivery.js';

// The prices pull against the Service Layer simulator: price lists, items' prices in each, special prices with
// their periods and quantity breaks; every page one governed call; a record that cannot be mapped rejected.
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../../../test/fixtures/sap_b1/${name}`, import.meta.url), 'utf8'));
const YEAR = new Date().getUTCFullYear();

let sim: SapB1Simulator;
let base: string;
let calls: number;
const call: GovernedCall = (work) => {
  calls++;
  return work(AbortSignal.timeout(10_000));
};

beforeEach(async () => {
  sim = createSapB1Simulator();
  base = await sim.listen();
  calls = 0;
});
afterEach(() => sim.close());

function config(overrides: Partial<SapB1Config> = {}, version: 'v1' | 'v2' = 'v1'): SapB1Config {
  return { baseUrl: `${base}/b1s/${version}`, companyDb: 'SBODEMOUS', username: 'manager', password: 'secret', currencies: { '$': 'USD', 'EUR': 'EUR' }, ...overrides };
}

async function control(path: string, body: unknown, method = 'PUT'): Promise<void> {
  const response = await fetch(`${base}/_control/${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
}

const price = (fields: Partial<ErpPrice> & Pick<ErpPrice, 'priceList' | 'sku' | 'unitPrice'>): ErpPrice =>
  ({ currency: 'USD', minQuantity: 0, customer: null, validFrom: null, validTo: null, ...fields });
const itemCodes = Array.from({ length: 10 }, (_, i) => `A${String(i + 1).padStart(5, '0')}`);
const of = (prices: ErpPrice[], sku: string) => prices.filter((p) => p.sku === sku);
/** An item or special price of the wrong shape, put where SAP's own validation would never let it. */
const putItem = (item: Record<string, unknown>) => sim.state.items.set(String(item.ItemCode), { ...sim.state.items.get('A00001')!, ...item } as unknown as SimItem);
const putSpecial = (special: Record<string, unknown>) => sim.state.specialPrices.set(`${String(special.ItemCode)}|${String(special.CardCode)}`, special as unknown as SimSpecialPrice);

describe('SAP Business One prices', () => {
  for (const version of ['v1', 'v2'] as const) {
    it(`${version}: the seed's base list as the base price, Wholesale by its name, the unpriced list left out, and c00001's special price with its period and break`, async () => {
      const { prices, rejected } = await new SapB1Erp(config({}, version)).prices(call);
      expect(rejected).toEqual([]);
      expect(prices.filter((p) => p.customer === null)).toEqual(itemCodes.flatMap((sku, i) => [
        price({ priceList: 'base', sku, unitPrice: 100 + i * 25 }),
        price({ priceList: 'Wholesale', sku, unitPrice: 80 + i * 20 }),
      ]));
      // The special price is based on list 1, the base; its period ends on 31 December, held: validTo is 1 January.
      const period = { validFrom: `${YEAR}-01-01`, validTo: `${YEAR + 1}-01-01` };
      expect(prices.filter((p) => p.customer !== null)).toEqual([
        price({ priceList: 'base', sku: 'A00001', unitPrice: 95, customer: 'c00001' }),
        price({ priceList: 'base', sku: 'A00001', unitPrice: 90, customer: 'c00001', ...period }),
        price({ priceList: 'base', sku: 'A00001', unitPrice: 85, minQuantity: 10, customer: 'c00001', ...period }),
      ]);
      const reads = sim.state.requests.filter((r) => r.method === 'GET').map((r) => `${r.path.replace(/^\/b1s\/v\d/, '')}?${r.query}`);
      expect(reads).toEqual([
        '/PriceLists?$orderby=PriceListNo',
        '/Items?$select=ItemCode,ItemPrices&$orderby=ItemCode',
        '/SpecialPrices?$select=ItemCode,CardCode,Price,Currency,PriceListNum,Valid,ValidFrom,ValidTo,SpecialPriceDataAreas&$orderby=ItemCode,CardCode',
      ]);
      expect(calls).toBe(3);
    });
  }

  it('reads every page, each one governed call', async () => {
    for (let i = 11; i <= 25; i++) await control(`items/A${String(i).padStart(5, '0')}`, { ItemPrices: [{ PriceList: 1, Price: i, Currency: '$' }] });
    await control('special-prices/c00004/A00002', { Price: 7, Currency: 'EUR' });
    const { prices } = await new SapB1Erp(config({ pageSize: 4 })).prices(call);
    expect(new Set(prices.map((p) => p.sku)).size).toBe(25);
    expect(of(prices, 'A00025')).toEqual([price({ priceList: 'base', sku: 'A00025', unitPrice: 25 })]);
    expect(of(prices, 'A00002').filter((p) => p.customer === 'c00004')).toEqual([price({ priceList: 'base', sku: 'A00002', unitPrice: 7, currency: 'EUR', customer: 'c00004' })]);
    const pages = (collection: string) => sim.state.requests.filter((r) => r.path.endsWith(`/${collection}`));
    expect(pages('Items')).toHaveLength(7);
    expect(pages('Items').map((r) => /\$skip=(\d+)/.exec(r.query)?.[1] ?? '0')).toEqual(['0', '4', '8', '12', '16', '20', '24']);
    expect(pages('SpecialPrices')).toHaveLength(1);
    expect(calls).toBe(1 + 7 + 1);
  });

  it('reports the configured base list as the base price, and the first under its name', async () => {
    const { prices } = await new SapB1Erp(config({ basePriceList: 2 })).prices(call);
    expect(of(prices, 'A00003').filter((p) => p.customer === null)).toEqual([
      price({ priceList: 'Base Price', sku: 'A00003', unitPrice: 150 }),
      price({ priceList: 'base', sku: 'A00003', unitPrice: 120 }),
    ]);
    expect(prices.find((p) => p.customer === 'c00001')!.priceList).toBe('Base Price');
  });

  it('maps SAP\'s currency codes through the table, and skips a 0 without a currency but keeps a 0 with one', async () => {
    await control('items/A00001', { ItemPrices: [
      { PriceList: 1, Price: 100, Currency: '$' },
      { PriceList: 2, Price: 0, Currency: '' },
      { PriceList: 3, Price: 0, Currency: 'EUR' },
    ] });
    await control('items/A00002', { ItemPrices: [{ PriceList: 1, Price: 90, Currency: 'CHF' }, { PriceList: 2, Price: null, Currency: null }] });
    const { prices, rejected } = await new SapB1Erp(config()).prices(call);
    expect(rejected).toEqual([]);
    expect(of(prices, 'A00001').filter((p) => p.customer === null)).toEqual([
      price({ priceList: 'base', sku: 'A00001', unitPrice: 100 }),
      price({ priceList: 'Purchase Price', sku: 'A00001', unitPrice: 0, currency: 'EUR' }),
    ]);
    // A code the table lacks passes when it has the shape of an ISO code.
    expect(of(prices, 'A00002')).toEqual([price({ priceList: 'base', sku: 'A00002', unitPrice: 90, currency: 'CHF' })]);
  });

  it('reads a price kept without a currency in its list\'s default currency (the published item\'s prices)', async () => {
    const item = fixture('item_warehouse_info_v1_trimmed.json') as { ItemCode: string; ItemPrices: unknown[] };
    await control('price-lists/12', { PriceListName: 'Export', DefaultPrimeCurrency: 'EUR' });
    await control('price-lists/13', { PriceListName: 'Staff' });
    await control(`items/${item.ItemCode}`, { ItemPrices: item.ItemPrices });
    const { prices, rejected } = await new SapB1Erp(config()).prices(call);
    expect(rejected).toEqual([]);
    // List 2 holds 0 without a currency and list 13 nothing: no prices.
    expect(of(prices, item.ItemCode)).toEqual([
      price({ priceList: 'base', sku: item.ItemCode, unitPrice: 4544.45 }),
      price({ priceList: 'Export', sku: item.ItemCode, unitPrice: 9889889, currency: 'EUR' }),
    ]);
  });

  it('leaves out the prices of an inactive list, and holds a list\'s prices within its validity (its last day included)', async () => {
    await control('price-lists/2', { Active: 'tNO' });
    await control('price-lists/3', { PriceListName: 'Spring', ValidFrom: '2026-03-01', ValidTo: '2026-05-31' });
    await control('items/A00001', { ItemPrices: [{ PriceList: 1, Price: 100, Currency: '$' }, { PriceList: 2, Price: 80, Currency: '$' }, { PriceList: 3, Price: 70, Currency: '$' }] });
    const { prices } = await new SapB1Erp(config()).prices(call);
    expect(prices.some((p) => p.priceList === 'Wholesale')).toBe(false);
    expect(of(prices, 'A00001').filter((p) => p.customer === null)).toEqual([
      price({ priceList: 'base', sku: 'A00001', unitPrice: 100 }),
      price({ priceList: 'Spring', sku: 'A00001', unitPrice: 70, validFrom: '2026-03-01', validTo: '2026-06-01' }),
    ]);
  });

  it('a special price: its periods (their last day included, within the record\'s active days), each period\'s breaks, its currency through the table', async () => {
    await control('special-prices/c00004/A00003', {
      Price: 140, Currency: 'EUR', PriceListNum: 2, ValidFrom: '2026-01-01', ValidTo: '2026-12-31',
      SpecialPriceDataAreas: [
        // v2 writes its dates with a time part.
        { DateFrom: '2026-02-01T00:00:00Z', Dateto: '2026-02-28T00:00:00Z', SpecialPrice: 130, SpecialPriceQuantityAreas: [{ Quantity: 5, SpecialPrice: 125 }, { Quantity: 50, SpecialPrice: 120, PriceCurrency: '$' }] },
        // Partly outside the record's active days: held only within them.
        { DateFrom: '2026-12-01', Dateto: '2027-01-31', SpecialPrice: 135 },
        // Entirely outside: never applies.
        { DateFrom: '2027-03-01', Dateto: '2027-03-31', SpecialPrice: 1 },
      ],
    });
    const { prices, rejected } = await new SapB1Erp(config()).prices(call);
    expect(rejected).toEqual([]);
    const special = { priceList: 'Wholesale', sku: 'A00003', currency: 'EUR', customer: 'c00004' };
    const february = { validFrom: '2026-02-01', validTo: '2026-03-01' };
    expect(of(prices, 'A00003').filter((p) => p.customer === 'c00004')).toEqual([
      price({ ...special, unitPrice: 140, validFrom: '2026-01-01', validTo: '2027-01-01' }),
      price({ ...special, unitPrice: 130, ...february }),
      price({ ...special, unitPrice: 125, minQuantity: 5, ...february }),
      price({ ...special, unitPrice: 120, minQuantity: 50, currency: 'USD', ...february }),
      price({ ...special, unitPrice: 135, validFrom: '2026-12-01', validTo: '2027-01-01' }),
    ]);
  });

  it('the header\'s price starts after the periods that follow one another from its first day, and holds none when they cover it all', async () => {
    await control('special-prices/c00001/A00002', {
      Price: 100, Currency: '$', ValidFrom: '2026-01-01', ValidTo: '2026-12-31',
      SpecialPriceDataAreas: [{ DateFrom: '2026-01-01', Dateto: '2026-01-31', SpecialPrice: 90 }, { DateFrom: '2026-02-01', Dateto: '2026-02-28', SpecialPrice: 80 }, { DateFrom: '2026-06-01', Dateto: '2026-06-30', SpecialPrice: 70 }],
    });
    await control('special-prices/c00001/A00003', { Price: 100, Currency: '$', SpecialPriceDataAreas: [{ SpecialPrice: 60 }] });
    const { prices } = await new SapB1Erp(config()).prices(call);
    const special = { priceList: 'base', customer: 'c00001' };
    expect(of(prices, 'A00002').filter((p) => p.customer !== null)).toEqual([
      price({ ...special, sku: 'A00002', unitPrice: 100, validFrom: '2026-03-01', validTo: '2027-01-01' }),
      price({ ...special, sku: 'A00002', unitPrice: 90, validFrom: '2026-01-01', validTo: '2026-02-01' }),
      price({ ...special, sku: 'A00002', unitPrice: 80, validFrom: '2026-02-01', validTo: '2026-03-01' }),
      price({ ...special, sku: 'A00002', unitPrice: 70, validFrom: '2026-06-01', validTo: '2026-07-01' }),
    ]);
    // A period without dates is the whole record: its price is the only one.
    expect(of(prices, 'A00003').filter((p) => p.customer !== null)).toEqual([price({ ...special, sku: 'A00003', unitPrice: 60 })]);
  });

  it('names a customer\'s price list as its prices name it, by the configured base; none for a list SAP does not have', async () => {
    await control('business-partners/c00004', { PriceListNum: 8 });
    const names = async (overrides: Partial<SapB1Config>) => Object.fromEntries((await new SapB1Erp(config(overrides)).customers(call)).customers.map((c) => [c.number, c.priceList]));
    expect(await names({})).toEqual({ c00001: 'base', c00002: 'base', c00003: 'Wholesale', c00004: undefined });
    expect(await names({ basePriceList: 2 })).toMatchObject({ c00001: 'Base Price', c00003: 'base' });
  });

  it('a list\'s period and volume discount (CardCode *<list>) is that list\'s price for everyone; "without price list" is the base; an inactive record holds none', async () => {
    await control('special-prices/*2/A00004', { Price: 150, Currency: '$', SpecialPriceDataAreas: [{ DateFrom: '2026-07-01', Dateto: '2026-07-31', SpecialPrice: 140 }] });
    await control('special-prices/c00003/A00005', { Price: 160, Currency: '$', PriceListNum: 0 });
    await control('special-prices/c00001/A00001', { Price: 1, Currency: '$', Valid: 'tNO' });
    const { prices, rejected } = await new SapB1Erp(config()).prices(call);
    expect(rejected).toEqual([]);
    // The discount's open price is the one SAP charges for the list: it replaces the item's own Wholesale price (140).
    expect(of(prices, 'A00004')).toEqual([
      price({ priceList: 'base', sku: 'A00004', unitPrice: 175 }),
      price({ priceList: 'Wholesale', sku: 'A00004', unitPrice: 150 }),
      price({ priceList: 'Wholesale', sku: 'A00004', unitPrice: 140, validFrom: '2026-07-01', validTo: '2026-08-01' }),
    ]);
    expect(of(prices, 'A00005').filter((p) => p.customer !== null)).toEqual([price({ priceList: 'base', sku: 'A00005', unitPrice: 160, customer: 'c00003' })]);
    expect(prices.filter((p) => p.customer === 'c00001')).toEqual([]);
  });

  it('a record that cannot be mapped is rejected with its problem, its item\'s other records and every other item taken', async () => {
    putItem({ ItemCode: 'BAD-SHAPE', ItemPrices: [{ PriceList: 1, Price: '12.50', Currency: '$' }] });
    putItem({ ItemCode: 'BAD-LIST', ItemPrices: [{ PriceList: 1, Price: 10, Currency: '$' }, { PriceList: 9, Price: 12, Currency: '$' }] });
    putItem({ ItemCode: 'BAD-CURRENCY', ItemPrices: [{ PriceList: 1, Price: 10, Currency: 'Yen' }] });
    putItem({ ItemCode: 'BAD-NEGATIVE', ItemPrices: [{ PriceList: 1, Price: -1, Currency: '$' }] });
    putItem({ ItemCode: 'BAD-NO-CURRENCY', ItemPrices: [{ PriceList: 2, Price: 10, Currency: '' }] });
    await control('price-lists/2', { DefaultPrimeCurrency: '' });
    putItem({ ItemCode: undefined, ItemPrices: [] });
    putSpecial({ ItemCode: 'A00002', CardCode: 'c00001', Currency: '$' });
    putSpecial({ ItemCode: 'A00003', CardCode: 'c00001', Price: 5, Currency: '$', PriceListNum: 1, SpecialPriceDataAreas: [{ DateFrom: '2026-03-01', Dateto: '2026-02-01', SpecialPrice: 4 }] });
    putSpecial({ ItemCode: 'A00004', CardCode: 'c00001', Price: 5, Currency: '$', PriceListNum: 1, SpecialPriceDataAreas: [{ DateFrom: 'soon', SpecialPrice: 4 }] });
    putSpecial({ ItemCode: 'A00005', CardCode: 'c00001', Price: 5, Currency: '$', PriceListNum: 7 });
    putSpecial({ ItemCode: 'A00006', CardCode: 'c00001', Price: 5, Currency: '$', PriceListNum: 1, SpecialPriceDataAreas: [{ SpecialPrice: 4, SpecialPriceQuantityAreas: [{ Quantity: 'ten', SpecialPrice: 3 }] }] });
    const { prices, rejected } = await new SapB1Erp(config()).prices(call);
    // Items first (in ItemCode order, the one without a code before the others), then special prices.
    expect(rejected).toEqual([
      { sku: '(no ItemCode)', problem: 'SAP Business One answered an item of an unexpected shape: ItemCode is missing' },
      { sku: 'BAD-CURRENCY', problem: 'the price of item BAD-CURRENCY in base is in currency "Yen", which the currency table cannot name' },
      { sku: 'BAD-LIST', problem: 'item BAD-LIST has a price in list 9, which is not among SAP\'s price lists' },
      { sku: 'BAD-NEGATIVE', problem: 'the price of item BAD-NEGATIVE in base has a negative price (-1)' },
      { sku: 'BAD-NO-CURRENCY', problem: 'the price of item BAD-NO-CURRENCY in Wholesale names no currency' },
      { sku: 'BAD-SHAPE', problem: 'SAP Business One answered a price of item BAD-SHAPE of an unexpected shape: Price is string, expected number' },
      { sku: 'A00002', problem: 'SAP Business One answered a special price of an unexpected shape: Price is missing' },
      { sku: 'A00003', problem: 'a period of the special price of item A00003 for c00001 ends (2026-02-01) before it starts (2026-03-01)' },
      { sku: 'A00004', problem: 'a period of the special price of item A00004 for c00001 has a date that is not one: "soon"' },
      { sku: 'A00005', problem: 'the special price of item A00005 for c00001 is based on price list 7, which is not among SAP\'s price lists' },
      { sku: 'A00006', problem: 'SAP Business One answered a quantity break of the special price of item A00006 for c00001 of an unexpected shape: Quantity is string, expected number' },
    ]);
    // A rejected record gives none of its prices; the item's base price, a record of its own, still comes.
    expect(of(prices, 'BAD-LIST')).toEqual([]);
    expect(of(prices, 'A00002').filter((p) => p.customer === null)).toHaveLength(2);
    expect(new Set(prices.map((p) => p.sku))).toEqual(new Set(itemCodes));
  });
});
