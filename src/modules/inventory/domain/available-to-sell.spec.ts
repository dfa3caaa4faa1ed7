import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { availableToSell, type StockPosition } from './available-to-sell.js';

const rules = { warehouses: ['A', 'B', 'C'], safetyStock: 2, allocationPercent: 80 };

describe('availableToSell', () => {
  it('sums the eligible warehouses, takes off reservations and safety stock, then applies the allocation', () => {
    const positions = [
      { warehouse: 'A', onHand: 10, reserved: 1 },
      { warehouse: 'B', onHand: 5, reserved: 0 },
      { warehouse: 'D', onHand: 100, reserved: 0 }, // not eligible
    ];
    // (9 - 3 open + 5) - 2 = 9; 80% of 9 = 7.2 → 7
    expect(availableToSell(rules, positions, { A: 3 }).available).toBe(7);
  });

  it('never lets one warehouse short of stock take from another', () => {
    const positions = [{ warehouse: 'A', onHand: 2, reserved: 5 }, { warehouse: 'B', onHand: 10, reserved: 0 }];
    expect(availableToSell({ ...rules, safetyStock: 0, allocationPercent: 100 }, positions).available).toBe(10);
  });

  it('is 0, not negative, when safety stock exceeds what is free', () => {
    expect(availableToSell(rules, [{ warehouse: 'A', onHand: 1, reserved: 0 }]).available).toBe(0);
  });

  it('rounds down fractional quantities and percentages', () => {
    expect(availableToSell({ warehouses: ['A'], safetyStock: 0, allocationPercent: 33.33 }, [{ warehouse: 'A', onHand: 10.5, reserved: 0 }]).available).toBe(3);
  });

  it('spreads the figure over warehouses in proportion, adding up to it and within each one\'s stock', () => {
    const result = availableToSell({ warehouses: ['A', 'B', 'C'], safetyStock: 0, allocationPercent: 50 }, [
      { warehouse: 'A', onHand: 7, reserved: 0 }, { warehouse: 'B', onHand: 3, reserved: 0 }, { warehouse: 'C', onHand: 0, reserved: 0 },
    ]);
    expect(result).toEqual({ available: 5, byWarehouse: { A: 4, B: 1, C: 0 } });
  });

  const position = fc.record({
    warehouse: fc.constantFrom('A', 'B', 'C', 'D'),
    onHand: fc.integer({ min: -5_000, max: 100_000 }).map((n) => n / 1000),
    reserved: fc.integer({ min: 0, max: 20_000 }).map((n) => n / 1000),
  });
  const channel = fc.record({
    warehouses: fc.subarray(['A', 'B', 'C', 'D'], { minLength: 1 }),
    safetyStock: fc.integer({ min: 0, max: 50 }),
    allocationPercent: fc.integer({ min: 0, max: 10_000 }).map((n) => n / 100),
  });
  const reservations = fc.dictionary(fc.constantFrom('A', 'B', 'C', 'D'), fc.integer({ min: 0, max: 30_000 }).map((n) => n / 1000));
  // One position per warehouse, as stored.
  const positions = fc.uniqueArray(position, { selector: (p) => p.warehouse, maxLength: 4 });

  it('sells no unit that no warehouse holds whole (0.999 in two warehouses is not one unit)', () => {
    const rules = { warehouses: ['A', 'D'], safetyStock: 0, allocationPercent: 50.06 };
    const positions = [{ warehouse: 'D', onHand: 21.678, reserved: 8.158 }, { warehouse: 'A', onHand: 33.263, reserved: 5.385 }];
    expect(availableToSell(rules, positions, { D: 12.521, A: 26.879 })).toEqual({ available: 0, byWarehouse: { A: 0, D: 0 } });
    expect(availableToSell({ ...rules, allocationPercent: 100 }, [{ warehouse: 'A', onHand: 1.5, reserved: 0 }, { warehouse: 'D', onHand: 0.9, reserved: 0 }]))
      .toEqual({ available: 1, byWarehouse: { A: 1, D: 0 } });
  });

  it('is never negative, never above the eligible on-hand, and its parts add up (property)', () => {
    fc.assert(fc.property(channel, positions, reservations, (c, ps, open) => {
      const { available, byWarehouse } = availableToSell(c, ps, open);
      const eligibleOnHand = ps.filter((p) => c.warehouses.includes(p.warehouse)).reduce((s, p) => s + Math.max(0, p.onHand), 0);
      expect(available).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(available)).toBe(true);
      expect(available).toBeLessThanOrEqual(Math.floor(eligibleOnHand + 1e-9));
      expect(Object.values(byWarehouse).reduce((s, n) => s + n, 0)).toBe(available);
      for (const p of ps) if (c.warehouses.includes(p.warehouse)) expect(byWarehouse[p.warehouse]).toBeLessThanOrEqual(Math.max(0, Math.floor(p.onHand + 1e-9)));
    }), { numRuns: 2_000 });
  });

  it('gives the same figure for the same final positions whatever the order the events came in (property)', () => {
    const event = fc.record({ warehouse: fc.constantFrom('A', 'B', 'C'), onHand: fc.integer({ min: 0, max: 1000 }), reserved: fc.integer({ min: 0, max: 50 }), sequence: fc.integer({ min: 1, max: 10_000 }) });
    fc.assert(fc.property(channel, fc.uniqueArray(event, { selector: (e) => `${e.warehouse}:${e.sequence}`, minLength: 1, maxLength: 30 }), (c, events) => {
      // Positions as the intake keeps them: the newest sequence per warehouse wins, whatever the arrival order.
      const apply = (ordered: typeof events) => {
        const latest = new Map<string, (typeof events)[number]>();
        for (const e of ordered) if ((latest.get(e.warehouse)?.sequence ?? -1) < e.sequence) latest.set(e.warehouse, e);
        return availableToSell(c, [...latest.values()].map(({ warehouse, onHand, reserved }): StockPosition => ({ warehouse, onHand, reserved })));
      };
      expect(apply([...events].reverse())).toEqual(apply(events));
      expect(apply([...events].sort((a, b) => a.onHand - b.onHand))).toEqual(apply(events));
    }));
  });
});
