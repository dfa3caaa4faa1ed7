import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocateLines, orderTotal, type RequestedLine } from './allocation.js';

const line = (lineId: string, sku: string, quantity: number): RequestedLine => ({ lineId, sku, quantity, unitPrice: 10 });
const stockOf = (figures: Record<string, Record<string, number>>) => (sku: string, warehouse: string) => figures[warehouse]?.[sku];

describe('allocateLines', () => {
  it('sends every line to the first warehouse while there are no stock figures', () => {
    const result = allocateLines([line('1', 'A', 2), line('2', 'B', 1)], { warehouses: ['EAST', 'WEST'], oversell: 'reject' });
    expect(result).toEqual({ ok: true, lines: [{ ...line('1', 'A', 2), warehouse: 'EAST', backordered: false }, { ...line('2', 'B', 1), warehouse: 'EAST', backordered: false }] });
  });

  it('prefers one warehouse that can ship the whole line', () => {
    const result = allocateLines([line('1', 'A', 5)], { warehouses: ['EAST', 'WEST'], oversell: 'reject' }, stockOf({ EAST: { A: 3 }, WEST: { A: 9 } }));
    expect(result.ok && result.lines.map((l) => [l.warehouse, l.quantity])).toEqual([['WEST', 5]]);
  });

  it('splits a line across warehouses when none has it all', () => {
    const result = allocateLines([line('1', 'A', 5)], { warehouses: ['EAST', 'WEST'], oversell: 'reject' }, stockOf({ EAST: { A: 3 }, WEST: { A: 2.5 } }));
    expect(result.ok && result.lines.map((l) => [l.warehouse, l.quantity])).toEqual([['EAST', 3], ['WEST', 2]]);
  });

  it('refuses with the short SKUs under reject, and backorders the rest under backorder', () => {
    const lines = [line('1', 'A', 5), line('2', 'B', 1), line('3', 'A', 1)];
    const stock = stockOf({ EAST: { A: 5, B: 0 } });
    expect(allocateLines(lines, { warehouses: ['EAST'], oversell: 'reject' }, stock)).toEqual({ ok: false, shortSkus: ['B', 'A'] });
    const backordered = allocateLines(lines, { warehouses: ['EAST'], oversell: 'backorder' }, stock);
    expect(backordered.ok && backordered.lines.map((l) => [l.lineId, l.quantity, l.backordered])).toEqual([['1', 5, false], ['2', 1, true], ['3', 1, true]]);
  });

  it('keeps every requested quantity and never takes more than a warehouse has (property)', () => {
    const warehouses = ['W1', 'W2', 'W3'];
    fc.assert(fc.property(
      fc.array(fc.record({ sku: fc.constantFrom('A', 'B', 'C'), quantity: fc.integer({ min: 1, max: 50_000 }).map((q) => q / 1000) }), { minLength: 1, maxLength: 20 }),
      fc.dictionary(fc.constantFrom(...warehouses), fc.dictionary(fc.constantFrom('A', 'B', 'C'), fc.integer({ min: 0, max: 40_000 }).map((q) => q / 1000))),
      (requested, figures) => {
        const lines = requested.map((r, i) => line(String(i), r.sku, r.quantity));
        const result = allocateLines(lines, { warehouses, oversell: 'backorder' }, stockOf(figures));
        if (!result.ok) return false;
        for (const l of lines) {
          const parts = result.lines.filter((a) => a.lineId === l.lineId);
          expect(Math.round(parts.reduce((s, p) => s + p.quantity, 0) * 1000)).toBe(Math.round(l.quantity * 1000));
        }
        for (const w of warehouses) {
          for (const sku of ['A', 'B', 'C']) {
            const figure = figures[w]?.[sku];
            if (figure === undefined) continue;
            const used = result.lines.filter((a) => a.warehouse === w && a.sku === sku && !a.backordered).reduce((s, p) => s + Math.round(p.quantity * 1000), 0);
            expect(used).toBeLessThanOrEqual(Math.round(figure * 1000));
          }
        }
        return true;
      },
    ));
  });
});

describe('orderTotal', () => {
  it('is exact to four decimals where floating point is not', () => {
    expect(orderTotal([{ quantity: 3, unitPrice: 0.1 }, { quantity: 0.001, unitPrice: 0.0001 }])).toBe(0.3);
    expect(orderTotal([{ quantity: 1.5, unitPrice: 19.9999 }, { quantity: 2, unitPrice: 0.35 }])).toBe(30.6999);
  });
});
