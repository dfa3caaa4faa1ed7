import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareOrders, compareRecords, compareShipments, readinessVerdict, type OrderFacts } from './diff.js';

const order = (over: Partial<OrderFacts> = {}): OrderFacts => ({
  customerNumber: '10000', currency: 'USD',
  lines: [{ sku: '1896-S', quantity: 2, unitPrice: 100, amount: 200, warehouse: 'WH-EAST' }, { sku: '1900-S', quantity: 1.5, unitPrice: 10, amount: 15 }],
  totalExcludingTax: 215, totalTax: 17.74, totalIncludingTax: 232.74, ...over,
});

describe('comparing two ERPs\' answers to one order', () => {
  it('finds nothing where they agree, within the rounding tolerance, whatever the order of the lines', () => {
    expect(compareOrders(order(), order())).toEqual([]);
    expect(compareOrders(order(), order({ lines: [...order().lines].reverse(), totalTax: 17.745, currency: 'usd' }))).toEqual([]);
  });

  it('files each mismatch under its category, with both sides', () => {
    const shadow = order({
      customerNumber: 'C10000',
      lines: [{ sku: '1896-S', quantity: 2, unitPrice: 95, amount: 190, warehouse: 'WH-EAST' }, { sku: '1900-S', quantity: 2, unitPrice: 10, amount: 20 }, { sku: '2000-S', quantity: 1, unitPrice: 1, amount: 1 }],
      totalExcludingTax: 211, totalTax: 0,
    });
    expect(compareOrders(order(), shadow)).toEqual([
      { category: 'field', field: 'customerNumber', primary: '10000', shadow: 'C10000' },
      { category: 'price', field: 'lines[1896-S].unitPrice', primary: 100, shadow: 95 },
      { category: 'quantity', field: 'lines[1900-S].quantity', primary: 1.5, shadow: 2 },
      { category: 'total', field: 'lines[1900-S].amount', primary: 15, shadow: 20 },
      { category: 'line', field: 'lines[2000-S]', primary: null, shadow: { quantity: 1, unitPrice: 1, amount: 1 } },
      { category: 'total', field: 'totalExcludingTax', primary: 215, shadow: 211 },
      { category: 'tax', field: 'totalTax', primary: 17.74, shadow: 0 },
    ]);
  });

  it('tells lines apart by warehouse where both ERPs name every line\'s', () => {
    const east = order({ lines: [{ sku: '1896-S', quantity: 2, unitPrice: 100, amount: 200, warehouse: 'WH-EAST' }], totalExcludingTax: 200 });
    const west = order({ lines: [{ sku: '1896-S', quantity: 2, unitPrice: 100, amount: 200, warehouse: 'WH-WEST' }], totalExcludingTax: 200 });
    expect(compareOrders(east, west).map((m) => m.field)).toEqual(['lines[1896-S@WH-EAST]', 'lines[1896-S@WH-WEST]']);
    expect(compareOrders(east, order({ lines: [{ ...east.lines[0]!, warehouse: null }], totalExcludingTax: 200 }))).toEqual([]);
  });

  it('compares a SKU on several lines by its sums (an ERP that splits or merges lines is not a mismatch)', () => {
    const split = order({ lines: [{ sku: '1896-S', quantity: 1, unitPrice: 100, amount: 100, warehouse: 'WH-EAST' }, { sku: '1896-S', quantity: 1, unitPrice: 100, amount: 100, warehouse: 'WH-EAST' }, order().lines[1]!] });
    expect(compareOrders(order(), split)).toEqual([]);
  });

  it('is symmetric in what it finds: the same fields whichever side is the primary', () => {
    const line = fc.record({ sku: fc.constantFrom('A', 'B', 'C'), quantity: fc.integer({ min: 1, max: 5 }), unitPrice: fc.integer({ min: 0, max: 100 }) })
      .map((l) => ({ ...l, amount: l.quantity * l.unitPrice }));
    const facts = fc.record({ lines: fc.array(line, { maxLength: 4 }), totalTax: fc.integer({ min: 0, max: 10 }) })
      .map((f) => order({ lines: f.lines, totalTax: f.totalTax, totalExcludingTax: f.lines.reduce((s, l) => s + l.amount, 0) }));
    fc.assert(fc.property(facts, facts, (a, b) => {
      const fields = (m: ReturnType<typeof compareOrders>) => m.map((x) => `${x.category}:${x.field}`).sort();
      expect(fields(compareOrders(a, b))).toEqual(fields(compareOrders(b, a)));
      expect(compareOrders(a, a)).toEqual([]);
    }));
  });
});

describe('comparing two ERPs\' answers to one shipment', () => {
  const shipped = (lines: Record<string, number>) => ({ lines: Object.entries(lines).map(([sku, quantity]) => ({ sku, quantity })) });

  it('finds nothing where both hold the same quantities shipped, whatever the order of the lines or how they are split', () => {
    expect(compareShipments(shipped({ '1896-S': 2, '1900-S': 1.5 }), shipped({ '1900-S': 1.5, '1896-S': 2 }))).toEqual([]);
    expect(compareShipments(shipped({ '1896-S': 2 }), { lines: [{ sku: '1896-S', quantity: 0.5 }, { sku: '1896-S', quantity: 1.5 }] })).toEqual([]);
    // Nothing shipped is no line.
    expect(compareShipments(shipped({ '1896-S': 2, '1900-S': 0 }), shipped({ '1896-S': 2 }))).toEqual([]);
  });

  it('files an item one side lacks under line, and another quantity under quantity, with both sides', () => {
    expect(compareShipments(shipped({ '1896-S': 1 }), shipped({ '1896-S': 2, '1900-S': 1.5 }))).toEqual([
      { category: 'quantity', field: 'lines[1896-S].quantity', primary: 1, shadow: 2 },
      { category: 'line', field: 'lines[1900-S]', primary: null, shadow: { quantity: 1.5 } },
    ]);
    expect(compareShipments(shipped({ A: 1 }), shipped({}))).toEqual([{ category: 'line', field: 'lines[A]', primary: { quantity: 1 }, shadow: null }]);
  });

  it('is symmetric in what it finds, and finds nothing in one answer against itself (property)', () => {
    const facts = fc.array(fc.record({ sku: fc.constantFrom('A', 'B', 'C'), quantity: fc.integer({ min: 0, max: 5 }) }), { maxLength: 5 }).map((lines) => ({ lines }));
    fc.assert(fc.property(facts, facts, (a, b) => {
      const fields = (m: ReturnType<typeof compareShipments>) => m.map((x) => `${x.category}:${x.field}`).sort();
      expect(fields(compareShipments(a, b))).toEqual(fields(compareShipments(b, a)));
      expect(compareShipments(a, a)).toEqual([]);
    }));
  });
});

describe('comparing two ERPs\' records', () => {
  it('takes blank and null alike, trims text, and files a stock figure under stock', () => {
    expect(compareRecords({ name: 'Adatum ', email: null, blocked: '' }, { name: 'Adatum', email: '', blocked: null })).toEqual([]);
    expect(compareRecords({ blocked: '' }, { blocked: 'All' })).toEqual([{ category: 'field', field: 'blocked', primary: '', shadow: 'All' }]);
    expect(compareRecords({ onHand: 10, reserved: 2 }, { onHand: 12, reserved: 2 }, { category: 'stock' })).toEqual([{ category: 'stock', field: 'onHand', primary: 10, shadow: 12 }]);
    expect(compareRecords({ address: { city: 'Atlanta', line2: null } }, { address: { city: 'Atlanta' } })).toEqual([]);
  });
});

describe('readiness', () => {
  const rule = { threshold: 0.95, windowHours: 24, minTransactions: 20 };
  it('needs enough transactions, then a match rate at the threshold', () => {
    expect(readinessVerdict(rule, 0, 0)).toMatchObject({ ready: false, matchRate: null });
    expect(readinessVerdict(rule, 19, 19)).toMatchObject({ ready: false, matchRate: 1, reason: expect.stringContaining('at least 20') });
    expect(readinessVerdict(rule, 20, 19)).toMatchObject({ ready: true, matchRate: 0.95 });
    expect(readinessVerdict(rule, 20, 18)).toMatchObject({ ready: false, matchRate: 0.9, reason: expect.stringContaining('below') });
  });
});
