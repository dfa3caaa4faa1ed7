import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchLines, shippingStatus, type OrderLine } from './matching.js';

const order: OrderLine[] = [
  { lineId: '1', sku: 'A', quantity: 5 },
  { lineId: '2', sku: 'B', quantity: 2 },
  { lineId: '3', sku: 'A', quantity: 3 },
];
const none = new Map<string, number>();

describe('matching a shipment to its order', () => {
  it('places a line by its line id, and one without on the lines of its SKU that have quantity left, in order', () => {
    expect(matchLines(order, none, [{ sku: 'B', quantity: 2, lineId: '2' }])).toEqual({ ok: true, lines: [{ lineId: '2', sku: 'B', quantity: 2 }] });
    expect(matchLines(order, new Map([['1', 4]]), [{ sku: 'A', quantity: 3 }])).toEqual({ ok: true, lines: [{ lineId: '1', sku: 'A', quantity: 1 }, { lineId: '3', sku: 'A', quantity: 2 }] });
  });

  it('refuses, with the reason, a line the order does not have and a shipment of more than is left', () => {
    expect(matchLines(order, none, [{ sku: 'C', quantity: 1 }])).toEqual({ ok: false, reason: 'C is not on the order' });
    expect(matchLines(order, none, [{ sku: 'A', quantity: 1, lineId: '9' }])).toEqual({ ok: false, reason: 'line 9 is not on the order' });
    expect(matchLines(order, none, [{ sku: 'B', quantity: 1, lineId: '1' }])).toEqual({ ok: false, reason: 'line 1 is A on the order, not B' });
    expect(matchLines(order, new Map([['2', 1.5]]), [{ sku: 'B', quantity: 1, lineId: '2' }])).toEqual({ ok: false, reason: 'ships 1 of line 2 (B), and 0.5 of it is left to ship' });
    expect(matchLines(order, none, [{ sku: 'A', quantity: 9 }])).toEqual({ ok: false, reason: 'ships 9 of A, and 8 of it is left to ship' });
  });

  it('says partially shipped until every line is shipped whole', () => {
    expect(shippingStatus(order, none)).toBe('unshipped');
    expect(shippingStatus(order, new Map([['1', 5]]))).toBe('partially_shipped');
    expect(shippingStatus(order, new Map([['1', 5], ['2', 2], ['3', 3]]))).toBe('shipped');
  });

  it('never places more than a line has left, and places all of a shipment it accepts', () => {
    const lines = fc.array(fc.record({ sku: fc.constantFrom('A', 'B'), quantity: fc.integer({ min: 1, max: 6 }) }), { maxLength: 5 });
    fc.assert(fc.property(lines, fc.integer({ min: 0, max: 5 }), (shipment, before) => {
      const shippedBefore = new Map([['1', before]]);
      const match = matchLines(order, shippedBefore, shipment);
      if (!match.ok) return;
      const sent = shipment.reduce((sum, l) => sum + l.quantity, 0);
      expect(match.lines.reduce((sum, l) => sum + l.quantity, 0)).toBe(sent);
      for (const placed of match.lines) {
        const line = order.find((l) => l.lineId === placed.lineId)!;
        expect(placed.quantity).toBeLessThanOrEqual(line.quantity - (shippedBefore.get(line.lineId) ?? 0));
        expect(placed.sku).toBe(line.sku);
      }
    }), { numRuns: 500 });
  });
});
