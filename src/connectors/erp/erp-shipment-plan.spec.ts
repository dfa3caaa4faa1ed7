import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planErpShipment, shippedAfter, type ErpOrderLineToShip } from './erp-shipment-plan.js';

const line = (key: string, sku: string, ordered: number, shipped = 0, place = ''): ErpOrderLineToShip => ({ key, sku, shipped, open: ordered - shipped, place });
const places: Record<string, string> = { 'WH-EAST': 'E', 'WH-WEST': 'W' };
const placeOf = (warehouse: string) => places[warehouse];
const shipment = (totals: Record<string, number>, lines: Array<{ sku: string; quantity: number; warehouse?: string }> = []) =>
  ({ lines, shippedTotals: Object.entries(totals).map(([sku, quantity]) => ({ sku, quantity })) });

describe('planErpShipment', () => {
  it('ships what the totals exceed what the order shows as shipped, and nothing when it shows them already', () => {
    const order = [line('1', 'A', 5, 2), line('2', 'B', 3)];
    expect(planErpShipment(shipment({ A: 4, B: 1 }), order, placeOf, 'order 7')).toEqual({ ok: true, lines: [{ key: '1', sku: 'A', quantity: 2 }, { key: '2', sku: 'B', quantity: 1 }] });
    expect(planErpShipment(shipment({ A: 2 }), order, placeOf, 'order 7')).toEqual({ ok: true, lines: [] });
    // An ERP that shipped more by itself than Crossdock's totals: nothing to take back, nothing to post.
    expect(planErpShipment(shipment({ A: 1 }), order, placeOf, 'order 7')).toEqual({ ok: true, lines: [] });
  });

  it('fills the lines in the shipment\'s place first, and names the place when it is not the line\'s own', () => {
    const order = [line('1', 'A', 2, 0, 'E'), line('2', 'A', 4, 0, 'W')];
    expect(planErpShipment(shipment({ A: 3 }, [{ sku: 'A', quantity: 3, warehouse: 'WH-WEST' }]), order, placeOf, 'o')).toEqual({ ok: true, lines: [{ key: '2', sku: 'A', quantity: 3 }] });
    expect(planErpShipment(shipment({ A: 5 }, [{ sku: 'A', quantity: 5, warehouse: 'WH-WEST' }]), order, placeOf, 'o')).toEqual({
      ok: true, lines: [{ key: '2', sku: 'A', quantity: 4 }, { key: '1', sku: 'A', quantity: 1, from: 'W' }],
    });
    // Without a place (or one the map lacks), in the order's order, and the line's own place.
    expect(planErpShipment(shipment({ A: 3 }, [{ sku: 'A', quantity: 3, warehouse: 'WH-NOWHERE' }]), order, placeOf, 'o')).toEqual({ ok: true, lines: [{ key: '1', sku: 'A', quantity: 2 }, { key: '2', sku: 'A', quantity: 1 }] });
  });

  it('refuses more than the order has open, and an item the order lacks, with a reason that names them', () => {
    const order = [line('1', 'A', 5, 2), { ...line('2', 'A', 3), open: 0 }];
    expect(planErpShipment(shipment({ A: 6 }), order, placeOf, 'SAP order 1001')).toEqual({ ok: false, reason: 'SAP order 1001 has 3 of item A open to ship; the shipments need 4 more' });
    expect(planErpShipment(shipment({ Z: 1 }), order, placeOf, 'SAP order 1001')).toEqual({ ok: false, reason: 'SAP order 1001 has no line for item Z' });
  });

  it('adds up totals named twice, and keeps decimals exact', () => {
    expect(planErpShipment(shipment({}, []), [line('1', 'A', 1)], placeOf, 'o')).toEqual({ ok: true, lines: [] });
    const twice = { lines: [], shippedTotals: [{ sku: 'A', quantity: 0.1 }, { sku: 'A', quantity: 0.2 }] };
    expect(planErpShipment(twice, [line('1', 'A', 0.3)], placeOf, 'o')).toEqual({ ok: true, lines: [{ key: '1', sku: 'A', quantity: 0.3 }] });
  });

  it('is idempotent, never ships beyond a line\'s open quantity, and brings each item to its total (property)', () => {
    const sku = fc.constantFrom('A', 'B', 'C');
    const thousandths = (max: number) => fc.integer({ min: 0, max }).map((q) => q / 1000);
    fc.assert(fc.property(
      fc.array(fc.record({ sku, ordered: thousandths(20_000), shippedPart: fc.double({ min: 0, max: 1, noNaN: true }), place: fc.constantFrom('', 'E', 'W') }), { minLength: 1, maxLength: 8 }),
      fc.array(fc.record({ sku, quantity: thousandths(30_000), warehouse: fc.constantFrom('WH-EAST', 'WH-WEST', undefined) }), { maxLength: 6 }),
      (raw, shipped) => {
        const order = raw.map((r, i) => line(String(i), r.sku, r.ordered, Math.round(r.ordered * r.shippedPart * 1000) / 1000, r.place));
        const totals = new Map<string, number>();
        for (const s of shipped) totals.set(s.sku, (totals.get(s.sku) ?? 0) + s.quantity);
        const input = { lines: shipped, shippedTotals: [...totals].map(([s, quantity]) => ({ sku: s, quantity })) };
        const plan = planErpShipment(input, order, placeOf, 'o');
        if (!plan.ok) {
          // Refused only when an item's total is beyond what the order shipped and has open.
          return [...totals].some(([s, total]) => {
            const lines = order.filter((l) => l.sku === s);
            return lines.length === 0 ? total > 0 : total > lines.reduce((sum, l) => sum + l.shipped + l.open, 0) + 1e-6;
          });
        }
        const after = order.map((l) => {
          const taken = plan.lines.filter((p) => p.key === l.key).reduce((sum, p) => sum + p.quantity, 0);
          expect(taken).toBeLessThanOrEqual(l.open + 1e-9);
          return { ...l, shipped: l.shipped + taken, open: l.open - taken };
        });
        for (const [s, total] of totals) {
          const before = order.filter((l) => l.sku === s).reduce((sum, l) => sum + l.shipped, 0);
          const now = after.filter((l) => l.sku === s).reduce((sum, l) => sum + l.shipped, 0);
          expect(Math.round(now * 1000)).toBe(Math.round(Math.max(before, total) * 1000));
        }
        // Planned again against the order as it is after the posting: nothing.
        expect(planErpShipment(input, after, placeOf, 'o')).toEqual({ ok: true, lines: [] });
        return true;
      },
    ));
  });
});

describe('shippedAfter', () => {
  it('is what the order holds as shipped per item once the plan is posted, the items shipped at all, by number', () => {
    const order = [line('1', 'B', 5, 2), line('2', 'A', 3), line('3', 'B', 1, 0.5), line('4', 'C', 2)];
    const plan = planErpShipment(shipment({ A: 1, B: 4 }), order, placeOf, 'o');
    expect(plan.ok && shippedAfter(order, plan.lines)).toEqual({ lines: [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 4 }] });
    // The same shipment again plans nothing, and answers the same.
    expect(shippedAfter([line('1', 'B', 5, 3.5), line('2', 'A', 3, 1), line('3', 'B', 1, 0.5), line('4', 'C', 2)], [])).toEqual({ lines: [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 4 }] });
  });
});
