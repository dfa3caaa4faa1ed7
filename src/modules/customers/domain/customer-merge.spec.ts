import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CUSTOMER_FIELDS, DEFAULT_OWNERSHIP, type Address, type CustomerChange, type CustomerField, type CustomerFields, type CustomerSystem, type Ownership } from './customer.js';
import { applyMerge, mergeCustomerChange, sameValue, type MergeInput, type MergeResult } from './customer-merge.js';

const SEATTLE: Address = { line1: '1 Microsoft Way', city: 'Redmond', postalCode: '98052', region: 'WA', country: 'US' };
const LONDON: Address = { line1: '10 Downing Street', line2: null, city: 'London', postalCode: 'SW1A 2AA', country: 'GB' };
const record = (over: Partial<CustomerFields> = {}): CustomerFields => ({
  name: 'Adatum Corporation', email: 'robert.walters@adatum.example', phone: '+14255550123', billingAddress: SEATTLE, shippingAddress: SEATTLE,
  taxId: '91-1144442', blocked: '', creditLimit: 5000, balanceDue: 1200.5, priceList: 'WHOLESALE', paymentTerms: 'NET30', ...over,
});
const merge = (over: Partial<MergeInput> & { change: CustomerChange }): MergeResult =>
  mergeCustomerChange({ current: record(), lastSeen: {}, held: new Set(), ownership: DEFAULT_OWNERSHIP, ...over });
const nothing: MergeResult = { applied: {}, unchanged: [], echoes: [], refused: [], conflicts: [], held: [] };

describe('the judgement of a customer change', () => {
  it("applies the owner's fields", () => {
    expect(merge({ change: { system: 'erp', fields: { creditLimit: 7500, blocked: 'Ship' } } })).toEqual({ ...nothing, applied: { blocked: 'Ship', creditLimit: 7500 } });
    expect(merge({ change: { system: 'channel', fields: { email: 'r.walters@adatum.example', shippingAddress: LONDON } } }))
      .toEqual({ ...nothing, applied: { email: 'r.walters@adatum.example', shippingAddress: LONDON } });
  });

  it("applies the owner's value even when the owner sends back what it last saw, and whatever the record holds", () => {
    const result = merge({ current: record({ creditLimit: 9000 }), lastSeen: { creditLimit: 5000 }, change: { system: 'erp', fields: { creditLimit: 5000 } } });
    expect(result).toEqual({ ...nothing, applied: { creditLimit: 5000 } });
  });

  it('counts a value equal to the record as unchanged: addresses by their non-null keys, numbers as numbers', () => {
    const sameAddress: Address = { ...SEATTLE, line2: null, region: 'WA' };
    const result = merge({
      change: { system: 'crm', fields: { name: 'Adatum Corporation', billingAddress: sameAddress, creditLimit: 5000.0, balanceDue: 1200.5, phone: '+14255550123' } },
    });
    expect(result).toEqual({ ...nothing, unchanged: ['name', 'phone', 'billingAddress', 'creditLimit', 'balanceDue'] });
    expect(merge({ current: record({ creditLimit: 0 }), change: { system: 'erp', fields: { creditLimit: -0 } } }).unchanged).toEqual(['creditLimit']);
    expect(merge({ change: { system: 'erp', fields: { billingAddress: { ...SEATTLE, region: 'OR' } } } }).applied).toEqual({ billingAddress: { ...SEATTLE, region: 'OR' } });
    expect(merge({ current: record({ taxId: null }), change: { system: 'erp', fields: { taxId: null } } }).unchanged).toEqual(['taxId']);
  });

  it('applies nothing to a field an open manual conflict holds, not even from its owner', () => {
    const held = new Set<CustomerField>(['email', 'creditLimit']);
    expect(merge({ held, change: { system: 'channel', fields: { email: 'new@adatum.example', phone: '+14255550199' } } }))
      .toEqual({ ...nothing, applied: { phone: '+14255550199' }, held: ['email'] });
    expect(merge({ held, change: { system: 'erp', fields: { creditLimit: 1, email: 'x@adatum.example' } } })).toEqual({ ...nothing, held: ['email', 'creditLimit'] });
    // A held field sent with the record's own value changes nothing either way: it is unchanged.
    expect(merge({ held, change: { system: 'erp', fields: { creditLimit: 5000 } } })).toEqual({ ...nothing, unchanged: ['creditLimit'] });
  });

  it('drops the echo of Crossdock\'s own write: a non-owner sending back the value it last saw', () => {
    // Crossdock sent the channel creditLimit 5000; the ERP has since raised it; the channel's update repeats 5000.
    const result = merge({ current: record({ creditLimit: 8000 }), lastSeen: { creditLimit: 5000, name: null }, change: { system: 'channel', fields: { creditLimit: 5000, name: null } } });
    expect(result).toEqual({ ...nothing, echoes: ['name', 'creditLimit'] });
  });

  it('refuses a non-owner changing a field the record has not changed since the system last saw it, or never exchanged', () => {
    const result = merge({ lastSeen: { creditLimit: 5000 }, change: { system: 'channel', fields: { creditLimit: 99_999, taxId: 'GB123456789' } } });
    expect(result).toEqual({ ...nothing, refused: ['taxId', 'creditLimit'] });
    expect(merge({ lastSeen: { email: 'robert.walters@adatum.example' }, change: { system: 'erp', fields: { email: 'bob@adatum.example' } } }).refused).toEqual(['email']);
  });

  it('records a conflict when both sides changed the field since the last exchange: the owner wins, or the field is held', () => {
    const current = record({ email: 'portal@adatum.example' });
    const input = { current, lastSeen: { email: 'robert.walters@adatum.example' }, change: { system: 'erp' as const, fields: { email: 'erp@adatum.example' } } };
    expect(merge(input)).toEqual({
      ...nothing,
      conflicts: [{ field: 'email', owner: 'channel', current: 'portal@adatum.example', incoming: 'erp@adatum.example', resolution: 'owner-wins' }],
    });
    expect(merge({ ...input, ownership: { ...DEFAULT_OWNERSHIP, onConflict: 'manual' } })).toEqual({
      ...nothing,
      conflicts: [{ field: 'email', owner: 'channel', current: 'portal@adatum.example', incoming: 'erp@adatum.example', resolution: 'held' }],
    });
  });

  it("takes every field of a new account's first change, whoever sends it, and defaults the rest", () => {
    const fields = { name: 'Fabrikam, Inc.', email: 'orders@fabrikam.example', creditLimit: 2500, shippingAddress: LONDON };
    const result = mergeCustomerChange({ current: null, lastSeen: {}, held: new Set(), ownership: DEFAULT_OWNERSHIP, change: { system: 'channel', fields } });
    expect(result).toEqual({ ...nothing, applied: { name: 'Fabrikam, Inc.', email: 'orders@fabrikam.example', shippingAddress: LONDON, creditLimit: 2500 } });
    expect(applyMerge(null, result.applied)).toEqual({
      name: 'Fabrikam, Inc.', email: 'orders@fabrikam.example', phone: null, billingAddress: null, shippingAddress: LONDON, taxId: null,
      blocked: '', creditLimit: 2500, balanceDue: 0, priceList: null, paymentTerms: null,
    });
  });

  it('ignores fields sent as undefined, and lists every field in the order of CUSTOMER_FIELDS', () => {
    const result = merge({
      current: record({ email: 'portal@adatum.example' }),
      lastSeen: { email: 'robert.walters@adatum.example', taxId: '91-1144442', paymentTerms: 'NET30' },
      held: new Set(['phone']),
      change: { system: 'crm', fields: { paymentTerms: 'NET60', email: 'crm@adatum.example', taxId: '91-1144442', phone: '+1', name: undefined, priceList: 'WHOLESALE' } },
    });
    expect(result).toEqual({
      ...nothing,
      unchanged: ['taxId', 'priceList'], refused: ['paymentTerms'], held: ['phone'],
      conflicts: [{ field: 'email', owner: 'channel', current: 'portal@adatum.example', incoming: 'crm@adatum.example', resolution: 'owner-wins' }],
    });
  });

  it('applies over the current record without touching it', () => {
    const current = record();
    const next = applyMerge(current, { creditLimit: 1, email: undefined });
    expect(next).toEqual({ ...record(), creditLimit: 1 });
    expect(current).toEqual(record());
  });

  it('compares values', () => {
    expect(sameValue({ ...SEATTLE, line2: undefined }, { ...SEATTLE, line2: null })).toBe(true);
    expect(sameValue(SEATTLE, { ...SEATTLE, line2: 'Building 92' })).toBe(false);
    expect(sameValue(SEATTLE, null)).toBe(false);
    expect(sameValue(null, null)).toBe(true);
    expect(sameValue('', null)).toBe(false);
    expect(sameValue(0, -0)).toBe(true);
    expect(sameValue(Number.NaN, Number.NaN)).toBe(true);
    expect(sameValue(5000, '5000')).toBe(false);
  });
});

describe('the laws of the judgement', () => {
  const SYSTEMS: CustomerSystem[] = ['erp', 'channel', 'crm'];
  const address = fc.constantFrom<Address | null>(null, SEATTLE, { ...SEATTLE, line2: null }, LONDON, { ...LONDON, line2: 'Floor 2' });
  const values: { [K in CustomerField]: fc.Arbitrary<CustomerFields[K]> } = {
    name: fc.constantFrom(null, 'Adatum Corporation', 'Fabrikam, Inc.'),
    email: fc.constantFrom(null, 'a@adatum.example', 'b@adatum.example'),
    phone: fc.constantFrom(null, '+14255550123', '+442079460958'),
    billingAddress: address,
    shippingAddress: address,
    taxId: fc.constantFrom(null, '91-1144442', 'GB123456789'),
    blocked: fc.constantFrom('', 'Ship', 'All'),
    creditLimit: fc.constantFrom(0, -0, 5000, 7500.25),
    balanceDue: fc.constantFrom(0, 1200.5, -30),
    priceList: fc.constantFrom(null, 'WHOLESALE', 'RETAIL'),
    paymentTerms: fc.constantFrom(null, 'NET30', 'NET60'),
  };
  const fullRecord = fc.record(values);
  const someFields = fc.record(values, { requiredKeys: [] });
  const system = fc.constantFrom(...SYSTEMS);
  const ownership: fc.Arbitrary<Ownership> = fc.record({
    fields: fc.record(Object.fromEntries(CUSTOMER_FIELDS.map((f) => [f, system])) as { [K in CustomerField]: fc.Arbitrary<CustomerSystem> }),
    onConflict: fc.constantFrom('owner-wins' as const, 'manual' as const),
  });
  const heldFields = fc.subarray([...CUSTOMER_FIELDS]).map((fields) => new Set<CustomerField>(fields));
  const mergeInput: fc.Arbitrary<MergeInput> = fc.record({
    current: fc.option(fullRecord, { nil: null, freq: 5 }),
    lastSeen: someFields,
    held: heldFields,
    ownership,
    change: fc.record({ system, fields: someFields }),
  });
  const sent = (change: CustomerChange) => CUSTOMER_FIELDS.filter((f) => change.fields[f] !== undefined);

  it('puts each field of the change in exactly one list, in the order of CUSTOMER_FIELDS, deterministically and without touching its input', () => {
    fc.assert(
      fc.property(mergeInput, (input) => {
        const before = structuredClone(input);
        const result = mergeCustomerChange(input);
        expect(input).toEqual(before);
        expect(mergeCustomerChange(before)).toEqual(result);
        const lists: CustomerField[][] = [
          Object.keys(result.applied) as CustomerField[], result.unchanged, result.echoes, result.refused, result.conflicts.map((c) => c.field), result.held,
        ];
        for (const list of lists) {
          const positions = list.map((f) => CUSTOMER_FIELDS.indexOf(f));
          expect(positions).toEqual([...positions].sort((a, b) => a - b));
        }
        expect(lists.flat().sort()).toEqual(sent(input.change).sort());
      }),
      { numRuns: 2000 },
    );
  });

  it("never applies a non-owner's field to an existing record, nor anything to a held field", () => {
    fc.assert(
      fc.property(mergeInput, (input) => {
        const result = mergeCustomerChange(input);
        for (const field of Object.keys(result.applied) as CustomerField[]) {
          if (input.current !== null) expect(input.ownership.fields[field]).toBe(input.change.system);
          expect(input.held.has(field)).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('applies nothing the second time the same change comes: what it applied is then unchanged', () => {
    fc.assert(
      fc.property(mergeInput, (input) => {
        const first = mergeCustomerChange(input);
        const again = mergeCustomerChange({ ...input, current: applyMerge(input.current, first.applied) });
        expect(again.applied).toEqual({});
        expect(again.unchanged).toEqual(expect.arrayContaining(Object.keys(first.applied)));
      }),
      { numRuns: 2000 },
    );
  });

  it('ends in the same record whatever order changes to different fields arrive in', () => {
    const changes = fc.array(fc.record({ system, fields: someFields }), { maxLength: 5 });
    const lastSeenBySystem = fc.record({ erp: someFields, channel: someFields, crm: someFields });
    fc.assert(
      fc.property(fc.option(fullRecord, { nil: null }), changes, ownership, heldFields, lastSeenBySystem, fc.infiniteStream(fc.nat()), (current, drafts, owners, held, lastSeen, seeds) => {
        // Each field in at most one change; a new record takes whatever its first change sends, so there only the owners'.
        const taken = new Set<CustomerField>();
        const disjoint = drafts.map(({ system: from, fields }) => {
          const kept = Object.fromEntries(
            sent({ system: from, fields }).filter((f) => !taken.has(f) && (current !== null || owners.fields[f] === from)).map((f) => (taken.add(f), [f, fields[f]])),
          );
          return { system: from, fields: kept };
        });
        const shuffled = disjoint.map((c) => ({ c, k: seeds.next().value })).sort((a, b) => a.k - b.k).map(({ c }) => c);
        const run = (order: CustomerChange[]) =>
          order.reduce<CustomerFields | null>((now, change) => applyMerge(now, mergeCustomerChange({ current: now, lastSeen: lastSeen[change.system], held, ownership: owners, change }).applied), current);
        const [one, other] = [run(shuffled), run(disjoint)];
        // The same as the merge sees it: a new record's default 0 and a -0 sent later are one value.
        if (one === null || other === null) expect(one).toBe(other);
        else expect(CUSTOMER_FIELDS.filter((f) => !sameValue(one[f], other[f]))).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });
});
