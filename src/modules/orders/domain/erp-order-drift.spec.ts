import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { erpOrderDrift, quantities, type HeldOrder, type PlacedOrder } from './erp-order-drift.js';

const placed = (over: Partial<PlacedOrder> = {}): PlacedOrder => ({
  reference: 'CD-000000007', status: 'confirmed', erpOrderRef: 'S-ORD101',
  lines: [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1.5 }], ...over,
});
const held = (over: Partial<HeldOrder> = {}): HeldOrder => ({
  erpOrderRef: 'S-ORD101', erpOrderId: 'id-1', cancelled: false, lines: [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1.5 }], ...over,
});

describe('erpOrderDrift', () => {
  it('finds nothing when the ERP holds the order as sent', () => {
    expect(erpOrderDrift(placed(), [held()], false)).toBeNull();
  });

  it('compares quantities per item, whatever the lines\' order or split', () => {
    const split = placed({ lines: [{ sku: 'B', quantity: 1 }, { sku: 'A', quantity: 2 }, { sku: 'B', quantity: 0.5 }] });
    expect(erpOrderDrift(split, [held({ lines: [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 1.5 }, { sku: 'A', quantity: 1 }] })], false)).toBeNull();
  });

  it('resubmits a confirmed order the ERP no longer has', () => {
    expect(erpOrderDrift(placed(), [], false)).toEqual({
      class: 'missing-in-erp', repair: 'resubmit', expected: { erpOrderRef: 'S-ORD101', lines: { A: 2, B: 1.5 } }, actual: null, why: 'the ERP no longer has order S-ORD101',
    });
  });

  it('reports a shipping order the ERP no longer has: sending it again would ship it again', () => {
    for (const status of ['partially_shipped', 'shipped'] as const) {
      const drift = erpOrderDrift(placed({ status }), [], false);
      expect(drift).toMatchObject({ class: 'missing-in-erp', repair: 'report' });
      expect(drift?.why).toMatch(/ship it again/);
    }
  });

  it('finds nothing missing in an order the ERP posted in full (and removed)', () => {
    expect(erpOrderDrift(placed(), [], true)).toBeNull();
    expect(erpOrderDrift(placed({ status: 'shipped' }), [], true)).toBeNull();
  });

  it('reports two live orders under one reference, naming both', () => {
    const drift = erpOrderDrift(placed(), [held(), held({ erpOrderRef: 'S-ORD102', erpOrderId: 'id-2' })], false);
    expect(drift).toMatchObject({
      class: 'duplicated-in-erp', repair: 'report', expected: { erpOrderRef: 'S-ORD101' },
      actual: [{ erpOrderRef: 'S-ORD101', erpOrderId: 'id-1' }, { erpOrderRef: 'S-ORD102', erpOrderId: 'id-2' }],
    });
  });

  it('takes the live order of a reference whose other order was cancelled', () => {
    expect(erpOrderDrift(placed(), [held({ erpOrderRef: 'S-ORD100', cancelled: true }), held()], false)).toBeNull();
  });

  it('reports a quantity, an item added or an item removed in the ERP, and never repairs it', () => {
    const changes: HeldOrder[] = [
      held({ lines: [{ sku: 'A', quantity: 3 }, { sku: 'B', quantity: 1.5 }] }),
      held({ lines: [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1.5 }, { sku: 'C', quantity: 1 }] }),
      held({ lines: [{ sku: 'A', quantity: 2 }] }),
    ];
    for (const change of changes) {
      const drift = erpOrderDrift(placed(), [change], false);
      expect(drift).toMatchObject({ class: 'changed-in-erp', repair: 'report', expected: { lines: { A: 2, B: 1.5 } }, actual: { erpOrderRef: 'S-ORD101', lines: quantities(change.lines) } });
    }
  });

  it('reports an order cancelled in the ERP as changed there, not missing', () => {
    expect(erpOrderDrift(placed(), [held({ cancelled: true })], false)).toMatchObject({ class: 'changed-in-erp', repair: 'report', actual: { cancelled: true } });
  });

  it('an order compared with itself, its lines shuffled and split anyhow, never drifts', () => {
    const line = fc.record({ sku: fc.constantFrom('A', 'B', 'C', 'D'), quantity: fc.integer({ min: 1, max: 10_000 }).map((n) => n / 1000) });
    fc.assert(fc.property(fc.array(line, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 8 }), (lines, cuts) => {
      const split = lines.flatMap((l, i) => {
        const cut = cuts[i] === undefined ? 0 : Math.min(cuts[i]! % 1000, l.quantity * 1000 - 1) / 1000;
        return cut > 0 ? [{ sku: l.sku, quantity: cut }, { sku: l.sku, quantity: l.quantity - cut }] : [l];
      });
      return erpOrderDrift(placed({ lines }), [held({ lines: split.toReversed() })], false) === null;
    }));
  });
});
