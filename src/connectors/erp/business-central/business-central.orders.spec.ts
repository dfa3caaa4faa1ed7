import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBusinessCentralSimulator, type BusinessCentralSimulator } from '../../../simulators/business-central/bc-simulator.js';
import type { ErpOrderFacts, ErpSalesOrder } from '../erp-contract.js';
import type { BcSalesOrder } from './business-central.client.js';
import type { BusinessCentralConfig } from './business-central.config.js';
import { BusinessCentralErp } from './business-central.delivery.js';
import { bcOrderFacts } from './business-central.orders.js';

// A sales order as Business Central holds it, in Crossdock's words: the mapping against Microsoft's documented line,
// pure; then the connector against the simulator, which prices, taxes and sums the lines as Business Central does.
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../../../test/fixtures/business_central/${name}`, import.meta.url), 'utf8'));
const COMPANY = 'c0ffee00-0000-0000-0000-000000000001';
// The simulator's seeded locations.
const EAST = '5e1d0c3a-0000-4000-8000-00000000ea57';
const WEST = '5e1d0c3a-0000-4000-8000-00000000e057';
const BLANK_GUID = '00000000-0000-0000-0000-000000000000';
const signal = () => AbortSignal.timeout(10_000);

describe('Business Central order facts: the mapping', () => {
  // Microsoft's documented line (12 × 1397.3, taxed at 6 %), under a header whose totals are its own.
  const documented = (fields: Record<string, unknown> = {}, lines: unknown[] = [fixture('bc_v2_salesOrderLine_create.response.json')]): BcSalesOrder => ({
    id: 'o1', number: '101005', externalDocumentNumber: 'CD-1', customerNumber: '10000', status: 'Draft', currencyCode: 'GBP',
    totalAmountExcludingTax: 16767.6, totalTaxAmount: 1006.06, totalAmountIncludingTax: 17773.66, salesOrderLines: lines, ...fields,
  } as BcSalesOrder);

  it('reads the documented line: its item, quantity, the unitPrice applied, its amount before tax; the order\'s totals and currency', () => {
    expect(bcOrderFacts(documented(), 'USD', {})).toEqual({
      customerNumber: '10000',
      currency: 'GBP',
      lines: [{ sku: '1996-S', quantity: 12, unitPrice: 1397.3, warehouse: null, amount: 16767.6 }],
      totalExcludingTax: 16767.6,
      totalTax: 1006.06,
      totalIncludingTax: 17773.66,
    } satisfies ErpOrderFacts);
    // Every property read is one Microsoft documents.
    for (const field of ['lineType', 'lineObjectNumber', 'quantity', 'unitPrice', 'amountExcludingTax', 'locationId']) expect(fixture('bc_v2_salesOrderLine_create.response.json')).toHaveProperty(field);
  });

  it('a blank currencyCode is the company\'s local currency; a code that is not ISO, or a total or line missing, is a problem said', () => {
    expect(bcOrderFacts(documented({ currencyCode: '' }), 'CAD', {})).toMatchObject({ currency: 'CAD' });
    expect(bcOrderFacts(documented({ currencyCode: null }), 'USD', {})).toMatchObject({ currency: 'USD' });
    expect(bcOrderFacts(documented({ currencyCode: 'EURO' }), 'USD', {})).toBe('sales order 101005 is in currency "EURO", which is not an ISO 4217 code');
    expect(bcOrderFacts(documented({ totalTaxAmount: undefined }), 'USD', {})).toBe('Business Central answered sales order 101005 of an unexpected shape: totalTaxAmount is missing');
    expect(bcOrderFacts(documented({ salesOrderLines: undefined }), 'USD', {})).toBe('Business Central answered sales order 101005 of an unexpected shape: salesOrderLines is missing');
    const { unitPrice: _u, ...unpriced } = fixture('bc_v2_salesOrderLine_create.response.json');
    expect(bcOrderFacts(documented({}, [unpriced]), 'USD', {})).toBe('Business Central answered a line of sales order 101005 of an unexpected shape: unitPrice is missing');
  });

  it('keeps item lines only, in their sequence, each location mapped back to Crossdock\'s warehouse (any case; null for none or one not mapped)', () => {
    const line = fixture('bc_v2_salesOrderLine_create.response.json');
    const comment = { ...line, lineType: 'Comment', lineObjectNumber: '', quantity: 0, unitPrice: 0, amountExcludingTax: 0 };
    const facts = bcOrderFacts(documented({}, [
      { ...line, sequence: 30000, lineObjectNumber: '1900-S', locationId: 'elsewhere' },
      comment,
      { ...line, sequence: 10000, locationId: EAST.toUpperCase() },
      { ...line, sequence: 20000, lineObjectNumber: '1896-S', locationId: BLANK_GUID },
    ]), 'USD', { 'WH-EAST': EAST });
    expect(typeof facts !== 'string' && facts.lines.map((l) => [l.sku, l.warehouse])).toEqual([['1996-S', 'WH-EAST'], ['1896-S', null], ['1900-S', null]]);
  });
});

describe('Business Central order facts against the simulator', () => {
  let sim: BusinessCentralSimulator;
  let base: string;
  let from = 0;
  const config = (url = base): BusinessCentralConfig => ({
    tenantId: 'tenant-1', environment: 'production', companyId: COMPANY, clientId: 'crossdock', clientSecret: 'secret-1',
    baseUrl: `${url}/v2.0/tenant-1/production/api/v2.0`, tokenUrl: `${url}/oauth2/v2.0/token`, locations: { 'WH-EAST': EAST, 'WH-WEST': WEST },
  });
  const order = (reference: string): ErpSalesOrder => ({
    externalDocumentNumber: reference, customerNumber: '10000', orderDate: '2026-11-30',
    lines: [
      { lineObjectNumber: '1896-S', quantity: 3, unitPrice: 99.95, warehouse: 'WH-EAST' },
      { lineObjectNumber: '1900-S', quantity: 1.5, unitPrice: 20.1, warehouse: 'WH-WEST' },
      { lineObjectNumber: '1906-S', quantity: 2, unitPrice: 12.34, warehouse: null },
    ],
  });
  /** The calls made since the test started, as `METHOD /entity(...)`. */
  const calls = (s = sim) => s.state.requests.slice(from).map((r) => `${r.method} ${r.path.replace(/^.*\/companies\([^)]+\)/, '')}`);
  // 8.25 % of each line, rounded to the cent: 299.85 → 24.74, 30.15 → 2.49, 24.68 → 2.04.
  const factsAt8_25: ErpOrderFacts = {
    customerNumber: '10000',
    currency: 'USD',
    lines: [
      { sku: '1896-S', quantity: 3, unitPrice: 99.95, warehouse: 'WH-EAST', amount: 299.85 },
      { sku: '1900-S', quantity: 1.5, unitPrice: 20.1, warehouse: 'WH-WEST', amount: 30.15 },
      { sku: '1906-S', quantity: 2, unitPrice: 12.34, warehouse: null, amount: 24.68 },
    ],
    totalExcludingTax: 354.68,
    totalTax: 29.27,
    totalIncludingTax: 383.95,
  };

  beforeAll(async () => {
    sim = createBusinessCentralSimulator({ clientId: 'crossdock', clientSecret: 'secret-1', ratePerSecond: 1000 });
    base = await sim.listen();
  });
  afterAll(() => sim.close());
  beforeEach(() => {
    from = sim.state.requests.length;
  });

  it('answers the created order as Business Central holds it, from the deep insert\'s own answer: no call more', async () => {
    const result = await new BusinessCentralErp(config()).createSalesOrder(order('CD-FACTS-1'), signal());
    const [stored] = [...sim.state.orders.values()].filter((o) => o.externalDocumentNumber === 'CD-FACTS-1');
    expect(result).toEqual({ erpOrderRef: stored!.number, erpOrderId: stored!.id, created: true, facts: factsAt8_25 });
    expect(stored).toMatchObject({ totalAmountExcludingTax: 354.68, totalTaxAmount: 29.27, totalAmountIncludingTax: 383.95 });
    // The look-up, then the deep insert: each asks for the lines with the order.
    expect(calls()).toEqual(['GET /salesOrders', 'POST /salesOrders']);
  });

  it('a retry that finds the order already there answers the same facts, from its one look-up', async () => {
    const erp = new BusinessCentralErp(config());
    const first = await erp.createSalesOrder(order('CD-FACTS-2'), signal());
    from = sim.state.requests.length;
    const again = await erp.createSalesOrder(order('CD-FACTS-2'), signal());
    expect(again).toEqual({ ...first, created: false });
    expect(again.facts).toEqual(factsAt8_25);
    expect(calls()).toEqual(['GET /salesOrders']);
  });

  it('a Business Central that taxes at another rate answers other tax and totals for the same order', async () => {
    const other = createBusinessCentralSimulator({ clientId: 'crossdock', clientSecret: 'secret-1', ratePerSecond: 1000, taxRatePercent: 20 });
    try {
      const url = await other.listen();
      const { facts } = await new BusinessCentralErp(config(url)).createSalesOrder(order('CD-FACTS-3'), signal());
      // 20 % of each line: 59.97, 6.03, 4.936 → 4.94.
      expect(facts).toEqual({ ...factsAt8_25, totalTax: 70.94, totalIncludingTax: 425.62 });
    } finally {
      await other.close();
    }
  });
});
