import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALL_CURRENCIES, isoCurrency, sapCurrency, type CurrencyTable } from './sap-b1.currencies.js';

const TABLE: CurrencyTable = { '$': 'USD', 'CAN': 'CAD', '£': 'GBP', 'EUR': 'EUR' };

describe('the currency table', () => {
  it('reads SAP\'s codes as ISO codes and back', () => {
    expect(isoCurrency(TABLE, '$')).toBe('USD');
    expect(isoCurrency(TABLE, 'CAN')).toBe('CAD');
    expect(sapCurrency(TABLE, 'USD')).toBe('$');
    expect(sapCurrency(TABLE, 'CAD')).toBe('CAN');
    expect(sapCurrency(TABLE, 'EUR')).toBe('EUR');
  });

  it('passes a code it lacks when it has the shape of an ISO code, and names no currency for "all currencies" or a blank', () => {
    expect(isoCurrency(TABLE, 'CHF')).toBe('CHF');
    expect(sapCurrency(TABLE, 'CHF')).toBe('CHF');
    expect(isoCurrency(TABLE, '##')).toBeUndefined();
    expect(isoCurrency(TABLE, '')).toBeUndefined();
    expect(isoCurrency(TABLE, null)).toBeUndefined();
    expect(isoCurrency(TABLE, 'Yen')).toBeUndefined();
    expect(isoCurrency({}, 'toString')).toBeUndefined();
  });

  // Tables as the configuration admits them: SAP codes of 1 to 3 characters to distinct ISO-shaped codes.
  const tables = fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 3 }).filter((code) => code !== ALL_CURRENCIES), fc.stringMatching(/^[A-Z]{3}$/)), { selector: ([, iso]) => iso, maxLength: 8 })
    .map((entries) => Object.fromEntries(entries) as CurrencyTable)
    .filter((table) => new Set(Object.values(table)).size === Object.keys(table).length);

  it('a SAP code of the table comes back from its ISO code (property)', () => {
    fc.assert(fc.property(tables, (table) => {
      for (const [sapCode, iso] of Object.entries(table)) {
        expect(isoCurrency(table, sapCode)).toBe(iso);
        expect(sapCurrency(table, iso)).toBe(sapCode);
      }
    }), { numRuns: 500 });
  });

  it('an ISO code that no SAP code of the table shadows comes back unchanged through SAP (property)', () => {
    fc.assert(fc.property(tables, fc.stringMatching(/^[A-Z]{3}$/), (table, iso) => {
      fc.pre(!Object.hasOwn(table, iso) || table[iso] === iso);
      expect(isoCurrency(table, sapCurrency(table, iso))).toBe(iso);
    }), { numRuns: 500 });
  });
});
