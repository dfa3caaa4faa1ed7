import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { validatePlain } from '../../../platform/http/field-errors.js';
import { createBusinessCentralSimulator, type BusinessCentralSimulator, type BusinessCentralSimulatorOptions } from '../../../simulators/business-central/bc-simulator.js';
import type { ErpPrice, GovernedCall } from '../erp-contract.js';
import { BusinessCentralConfig } from './business-central.config.js';
import { BusinessCentralErp } from './business-central.delivery.js';
import { basePrice } from './business-central.prices.js';

// The prices pull against the Business Central simulator: items' unitPrice as base prices, and the custom page of
// Price List Lines when the backend names one; every page one governed call; a record that cannot be mapped rejected.
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../../../test/fixtures/business_central/${name}`, import.meta.url), 'utf8'));
const YEAR = new Date().getUTCFullYear();
const PAGE = 'contoso/pricing/v1.0/customerPrices';
const COMPANY = 'c0ffee00-0000-0000-0000-000000000001';
const ITEMS = ['1896-S', '1900-S', '1906-S', '1908-S', '1920-S', '1928-S', '1936-S', '1953-W', '1964-W', '1968-S'];

let sim: BusinessCentralSimulator;
let base: string;
let calls = 0;
const call: GovernedCall = (work) => {
  calls++;
  return work(AbortSignal.timeout(10_000));
};

async function start(options: BusinessCentralSimulatorOptions = {}): Promise<void> {
  sim = createBusinessCentralSimulator({ clientId: 'crossdock', clientSecret: 'secret-1', ratePerSecond: 1000, concurrency: 50, customerPricesApi: PAGE, ...options });
  base = await sim.listen();
  calls = 0;
}
afterEach(() => sim.close());

function erp(overrides: Partial<BusinessCentralConfig> = {}): BusinessCentralErp {
  return new BusinessCentralErp({
    tenantId: 'tenant-1', environment: 'production', companyId: COMPANY, clientId: 'crossdock', clientSecret: 'secret-1',
    baseUrl: `${base}/v2.0/tenant-1/production/api/v2.0`, tokenUrl: `${base}/oauth2/v2.0/token`, ...overrides,
  });
}

async function control(path: string, body: unknown): Promise<void> {
  const response = await fetch(`${base}/_control/${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
}

const price = (fields: Partial<ErpPrice> & Pick<ErpPrice, 'priceList' | 'sku' | 'unitPrice'>): ErpPrice =>
  ({ currency: 'USD', minQuantity: 0, customer: null, validFrom: null, validTo: null, ...fields });
const basePrices = (currency = 'USD') => ITEMS.map((sku, i) => price({ priceList: 'base', sku, unitPrice: 100 + i * 25, currency }));
const reads = () => sim.state.requests.filter((r) => r.method === 'GET').map((r) => r.path.replace(`/v2.0/tenant-1/production/api/`, '').replace(`/companies(${COMPANY})`, ''));

describe('Business Central prices', () => {
  it('without customerPricesApi: the items\' unitPrice as base prices, in the company\'s currency (USD unless set), and nothing else', async () => {
    await start();
    expect(await erp().prices(call)).toEqual({ prices: basePrices(), rejected: [] });
    expect(reads()).toEqual(['v2.0/items']);
    expect(calls).toBe(1);
    expect((await erp({ currency: 'EUR' }).prices(call)).prices).toEqual(basePrices('EUR'));
  });

  it('with customerPricesApi: a list\'s price, a customer\'s over its days (the ending date included), its quantity break, another currency', async () => {
    await start();
    const { prices, rejected } = await erp({ customerPricesApi: PAGE }).prices(call);
    expect(rejected).toEqual([]);
    const thisYear = { validFrom: `${YEAR}-01-01`, validTo: `${YEAR + 1}-01-01` };
    expect(prices).toEqual([
      ...basePrices(),
      price({ priceList: 'S00001', sku: '1896-S', unitPrice: 95 }),
      price({ priceList: 'S00002', sku: '1896-S', unitPrice: 90, customer: '10000', ...thisYear }),
      price({ priceList: 'S00002', sku: '1896-S', unitPrice: 85, minQuantity: 10, customer: '10000', ...thisYear }),
      price({ priceList: 'S00003', sku: '1900-S', unitPrice: 110, currency: 'EUR' }),
    ]);
    // The page's own API route, beside /api/v2.0, under the company.
    expect(reads()).toEqual(['v2.0/items', `${PAGE.replace('/customerPrices', '')}/customerPrices`]);
    expect(calls).toBe(2);
  });

  it('reads a page named by its entity set alone under the company of API v2.0; a blank currencyCode is the company\'s currency', async () => {
    await start({ customerPricesApi: 'customerPrices' });
    const { prices } = await erp({ customerPricesApi: 'customerPrices', currency: 'CAD' }).prices(call);
    expect(prices.filter((p) => p.priceList !== 'base').map((p) => p.currency)).toEqual(['CAD', 'CAD', 'CAD', 'EUR']);
    expect(reads()).toEqual(['v2.0/items', 'v2.0/customerPrices']);
  });

  it('reads every page, each one governed call', async () => {
    await start({ pageSize: 3 });
    for (let line = 5; line <= 9; line++) await control(`price-list-lines/${line * 10000}`, { priceListCode: 'S00004', itemNo: ITEMS[line]!, unitPrice: line });
    const { prices } = await erp({ customerPricesApi: PAGE }).prices(call);
    expect(prices).toHaveLength(10 + 4 + 5);
    expect(prices.at(-1)).toEqual(price({ priceList: 'S00004', sku: '1968-S', unitPrice: 9 }));
    expect(reads()).toEqual([...Array(4).fill('v2.0/items'), ...Array(3).fill(`${PAGE.replace('/customerPrices', '')}/customerPrices`)]);
    expect(calls).toBe(4 + 3);
  });

  it('a record that cannot be mapped is rejected with its problem, and the others are taken', async () => {
    await start();
    await control('items/1900-S', { unitPrice: '125.00' });
    await control('items/1906-S', { unitPrice: -1 });
    await control('price-list-lines/50000', { priceListCode: 'S00009', itemNo: '1908-S', currencyCode: 'EURO', unitPrice: 5 });
    await control('price-list-lines/60000', { priceListCode: 'S00009', itemNo: '1920-S', unitPrice: 5, startingDate: '2026-03-01', endingDate: '2026-02-01' });
    await control('price-list-lines/70000', { priceListCode: 'S00009', itemNo: '1928-S', unitPrice: 5, minimumQuantity: -2 });
    await control('price-list-lines/80000', { priceListCode: 'S00009', itemNo: '', unitPrice: 5 });
    await control('price-list-lines/90000', { priceListCode: 'S00009', itemNo: '1936-S', unitPrice: 5, endingDate: 'tomorrow' });
    await control('price-list-lines/95000', { priceListCode: 'S00009', itemNo: '1953-W', unitPrice: null });
    const { prices, rejected } = await erp({ customerPricesApi: PAGE }).prices(call);
    expect(rejected).toEqual([
      { sku: '1900-S', problem: 'Business Central answered an item of an unexpected shape: unitPrice is string, expected number' },
      { sku: '1906-S', problem: 'item 1906-S has a negative unitPrice (-1)' },
      { sku: '1908-S', problem: 'the price of item 1908-S in S00009 is in currency "EURO", which is not an ISO 4217 code' },
      { sku: '1920-S', problem: 'the price of item 1920-S in S00009 ends (2026-02-01) before it starts (2026-03-01)' },
      { sku: '1928-S', problem: 'the price of item 1928-S in S00009 has a negative minimumQuantity (-2)' },
      { sku: '(no itemNo)', problem: 'a price list line has no itemNo' },
      { sku: '1936-S', problem: 'the price of item 1936-S in S00009 has a date that is not one: "tomorrow"' },
      { sku: '1953-W', problem: 'Business Central answered a price list line of an unexpected shape: unitPrice is missing' },
    ]);
    expect(prices.filter((p) => p.priceList === 'base').map((p) => p.sku)).toEqual(ITEMS.filter((sku) => sku !== '1900-S' && sku !== '1906-S'));
    expect(prices.filter((p) => p.priceList !== 'base')).toHaveLength(4);
  });

  it('maps Microsoft\'s documented item: its unitPrice is the base price', () => {
    expect(basePrice(fixture('bc_v2_item_get.response.json'), 'USD')).toEqual(price({ priceList: 'base', sku: '1896-S', unitPrice: 1000.8 }));
  });
});

describe('BusinessCentralConfig of prices', () => {
  const required = { tenantId: 't', environment: 'production', companyId: 'c', clientId: 'id', clientSecret: 'secret' };
  const problems = (config: Record<string, unknown>) => validatePlain(BusinessCentralConfig, { ...required, ...config }).errors.map((e) => `${e.field}: ${e.message}`);

  it('takes an ISO currency and a prices page with or without its API route', () => {
    expect(problems({ currency: 'EUR', customerPricesApi: PAGE })).toEqual([]);
    expect(problems({ customerPricesApi: 'customerPrices' })).toEqual([]);
  });

  it('refuses a currency that is not an ISO code, and what is not the name of a page', () => {
    expect(problems({ currency: 'usd' })).toEqual(['currency: currency must be an ISO 4217 code, such as USD']);
    expect(problems({ currency: 'EURO' })).toHaveLength(1);
    expect(problems({ customerPricesApi: '../../customerPrices' })[0]).toMatch(/^customerPricesApi: /);
    expect(problems({ customerPricesApi: { path: '/api/contoso/pricing/v1.0', entitySet: 'customerPrices' } }).length).toBeGreaterThan(0);
  });
});
