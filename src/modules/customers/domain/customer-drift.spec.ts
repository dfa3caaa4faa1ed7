import { describe, expect, it } from 'vitest';
import { DEFAULT_OWNERSHIP, ERP_WRITABLE_FIELDS, type CustomerFields } from './customer.js';
import { erpCustomerDrift, type ErpDriftInput } from './customer-drift.js';

const record = (over: Partial<CustomerFields> = {}): CustomerFields => ({
  name: 'Adatum Corporation', email: 'ap@adatum.example', phone: '+14255550123', billingAddress: { line1: '1 Microsoft Way', city: 'Redmond', country: 'US' }, shippingAddress: null,
  taxId: null, blocked: '', creditLimit: 5000, balanceDue: 0, priceList: null, paymentTerms: null, ...over,
});
const drift = (over: Partial<ErpDriftInput>) =>
  erpCustomerDrift({ accountNumber: '10000', erp: {}, current: record(), lastSeen: {}, held: new Set(), ownership: DEFAULT_OWNERSHIP, writable: ERP_WRITABLE_FIELDS, ...over });
const none = { missing: false, source: [], target: [], changedInErp: [] };

describe("an ERP's customer against the record", () => {
  it('finds nothing where the ERP holds the record, in its own format (a national number in the record\'s country)', () => {
    expect(drift({ erp: { name: 'Adatum Corporation', email: 'ap@ADATUM.example', phone: '(425) 555-0123', creditLimit: 5000 } })).toEqual(none);
  });

  it("takes the ERP's value of a field it owns, and the whole account when Crossdock lacks it", () => {
    expect(drift({ erp: { creditLimit: 7500 } })).toEqual({ ...none, source: [{ field: 'creditLimit', erp: 7500, record: 5000 }] });
    const missing = drift({ current: null, erp: { name: 'Fabrikam', creditLimit: 10 } });
    expect(missing).toMatchObject({ missing: true, target: [], changedInErp: [] });
    expect(missing.source.map((d) => d.field)).toEqual(['name', 'creditLimit']);
  });

  it('tells an update the ERP missed (it holds what it last saw) from its own change (it holds neither)', () => {
    const missed = drift({ erp: { email: 'old@adatum.example' }, lastSeen: { email: 'old@adatum.example' } });
    expect(missed).toEqual({ ...none, target: [{ field: 'email', erp: 'old@adatum.example', record: 'ap@adatum.example' }] });
    // The record unchanged since the ERP saw it, the ERP's value another: the ERP's own change (refused by a pull).
    const own = drift({ erp: { email: 'typed@adatum.example' }, lastSeen: { email: 'ap@adatum.example' } });
    expect(own).toEqual({ ...none, changedInErp: [{ field: 'email', erp: 'typed@adatum.example', record: 'ap@adatum.example' }] });
    // Both moved since the ERP last saw it: still not the ERP's to overwrite silently.
    expect(drift({ erp: { email: 'typed@adatum.example' }, lastSeen: { email: 'old@adatum.example' } }).changedInErp.map((d) => d.field)).toEqual(['email']);
  });

  it('leaves alone what an operator is deciding, and what no ERP write can carry', () => {
    expect(drift({ erp: { email: 'typed@adatum.example' }, held: new Set(['email']) })).toEqual(none);
    const crmOwnsCredit = { ...DEFAULT_OWNERSHIP, fields: { ...DEFAULT_OWNERSHIP.fields, creditLimit: 'crm' as const } };
    expect(drift({ erp: { creditLimit: 1 }, lastSeen: { creditLimit: 1 }, ownership: crmOwnsCredit })).toEqual(none);
    expect(drift({ erp: { creditLimit: 2 }, lastSeen: { creditLimit: 1 }, ownership: crmOwnsCredit })).toEqual(none);
  });
});
