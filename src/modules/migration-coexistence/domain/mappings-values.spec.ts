import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  defaultValueMaps, fromSide, normalizedValueMap, toSide, valueMapProblems, valueMapsInForce, VALUE_MAP_KINDS, type PairSettings, type PairValues, type ValueMapPair,
} from './mappings-values.js';

const SETTINGS: PairSettings = {
  legacy: { currencies: { $: 'USD', EUR: 'EUR', '£': 'GBP' }, warehouseCodes: { 'WH-EAST': '01', 'WH-WEST': '02', 'WH-SAP-ONLY': '09' } },
  cloud: { locationCodes: { 'WH-EAST': 'EAST', 'WH-WEST': '', 'WH-BC-ONLY': 'NORTH' }, currency: 'USD' },
};
const valuesOf = (settings: PairSettings, overrides: ValueMapPair[] = []): PairValues => ({ localCurrency: settings.cloud.currency ?? 'USD', entries: valueMapsInForce(settings, overrides) });

describe('the default value maps', () => {
  it("pair SAP's currencies with Business Central's codes (blank for its local currency), Frozen with blocked, and the warehouses both backends map", () => {
    expect(defaultValueMaps(SETTINGS)).toEqual([
      { kind: 'currency', legacy: '$', cloud: '', canonical: 'USD', source: 'config' },
      { kind: 'currency', legacy: 'EUR', cloud: 'EUR', canonical: 'EUR', source: 'config' },
      { kind: 'currency', legacy: '£', cloud: 'GBP', canonical: 'GBP', source: 'config' },
      { kind: 'blocked', legacy: 'tNO', cloud: ' ', canonical: '', source: 'built-in' },
      { kind: 'blocked', legacy: 'tYES', cloud: 'All', canonical: 'All', source: 'built-in' },
      { kind: 'warehouse', legacy: '01', cloud: 'EAST', canonical: 'WH-EAST', source: 'config' },
      { kind: 'warehouse', legacy: '02', cloud: '', canonical: 'WH-WEST', source: 'config' },
    ]);
  });

  it("name Business Central's local currency by its ISO code in SAP when SAP's table does not, and default it to USD", () => {
    const eur = defaultValueMaps({ legacy: { currencies: { $: 'USD' } }, cloud: { currency: 'EUR' } }).filter((e) => e.kind === 'currency');
    expect(eur).toEqual([
      { kind: 'currency', legacy: '$', cloud: 'USD', canonical: 'USD', source: 'config' },
      { kind: 'currency', legacy: 'EUR', cloud: '', canonical: 'EUR', source: 'config' },
    ]);
    expect(defaultValueMaps({ legacy: {}, cloud: {} }).filter((e) => e.kind !== 'blocked')).toEqual([{ kind: 'currency', legacy: 'USD', cloud: '', canonical: 'USD', source: 'config' }]);
  });
});

describe('the value maps in force', () => {
  it('take an override over the default of the same legacy value, and displace the default of the same cloud value', () => {
    const overrides: ValueMapPair[] = [
      { kind: 'currency', legacy: 'US$', cloud: '' },
      { kind: 'blocked', legacy: 'tYES', cloud: 'Ship' },
      { kind: 'warehouse', legacy: '02', cloud: 'WEST' },
      { kind: 'warehouse', legacy: '07', cloud: 'NORTH' },
      { kind: 'customer', legacy: 'c-100', cloud: 'C100' },
    ];
    expect(valueMapsInForce(SETTINGS, overrides)).toEqual([
      { kind: 'currency', legacy: 'EUR', cloud: 'EUR', canonical: 'EUR', source: 'config' },
      { kind: 'currency', legacy: 'US$', cloud: '', canonical: 'USD', source: 'override' },
      { kind: 'currency', legacy: '£', cloud: 'GBP', canonical: 'GBP', source: 'config' },
      { kind: 'blocked', legacy: 'tNO', cloud: ' ', canonical: '', source: 'built-in' },
      { kind: 'blocked', legacy: 'tYES', cloud: 'Ship', canonical: 'Ship', source: 'override' },
      { kind: 'warehouse', legacy: '01', cloud: 'EAST', canonical: 'WH-EAST', source: 'config' },
      { kind: 'warehouse', legacy: '02', cloud: 'WEST', canonical: 'WH-WEST', source: 'override' },
      { kind: 'warehouse', legacy: '07', cloud: 'NORTH', canonical: 'WH-BC-ONLY', source: 'override' },
      { kind: 'customer', legacy: 'c-100', cloud: 'C100', canonical: 'c-100', source: 'override' },
    ]);
  });

  it('keep every override, and read both ways: no two pairings of a kind share a legacy or a cloud value', () => {
    const pools: Record<string, { legacy: string[]; cloud: string[] }> = {
      currency: { legacy: ['$', 'EUR', 'US$', 'CHF'], cloud: ['', 'EUR', 'USD', 'CHF'] },
      blocked: { legacy: ['tYES', 'tNO'], cloud: [' ', '', 'Ship', 'Invoice', 'All'] },
      warehouse: { legacy: ['01', '02', '03'], cloud: ['EAST', '', 'WEST'] },
      customer: { legacy: ['c-1', 'c-2'], cloud: ['C1', 'C2'] },
      item: { legacy: ['i-1', 'i-2'], cloud: ['I1', 'I2'] },
    };
    const pair = fc.constantFrom(...VALUE_MAP_KINDS).chain((kind) =>
      fc.record({ kind: fc.constant(kind), legacy: fc.constantFrom(...pools[kind]!.legacy), cloud: fc.constantFrom(...pools[kind]!.cloud) }));
    const overrides = fc.array(pair, { maxLength: 8 }).filter((maps) => valueMapProblems(maps).length === 0).map((maps) => maps.map(normalizedValueMap));
    fc.assert(fc.property(overrides, (maps) => {
      const inForce = valueMapsInForce(SETTINGS, maps);
      for (const map of maps) expect(inForce).toContainEqual(expect.objectContaining({ ...map, source: 'override' }));
      for (const kind of VALUE_MAP_KINDS) {
        const ofKind = inForce.filter((e) => e.kind === kind);
        expect(new Set(ofKind.map((e) => e.legacy)).size).toBe(ofKind.length);
        expect(new Set(ofKind.map((e) => e.cloud.trim())).size).toBe(ofKind.length);
      }
    }), { numRuns: 500 });
  });
});

describe('translating values', () => {
  const values = valuesOf(SETTINGS, [{ kind: 'customer', legacy: 'c-100', cloud: 'C100' }]);

  it('goes through the pairing in force, both ways', () => {
    expect(toSide(values, 'currency', 'legacy', 'USD')).toBe('$');
    expect(toSide(values, 'currency', 'cloud', 'USD')).toBe('');
    expect(fromSide(values, 'currency', 'cloud', '')).toBe('USD');
    expect(toSide(values, 'warehouse', 'cloud', 'WH-WEST')).toBe('');
    expect(fromSide(values, 'warehouse', 'legacy', '01')).toBe('WH-EAST');
    expect(toSide(values, 'customer', 'cloud', 'c-100')).toBe('C100');
    expect(fromSide(values, 'customer', 'cloud', 'C100')).toBe('c-100');
    expect(toSide(values, 'blocked', 'legacy', 'All')).toBe('tYES');
    expect(fromSide(values, 'blocked', 'legacy', 'tNO')).toBe('');
  });

  it('takes what no pairing names by the kind\'s rule: ISO codes pass, numbers pass where Business Central holds them, nothing else', () => {
    expect(toSide(values, 'currency', 'legacy', 'JPY')).toBe('JPY');
    expect(toSide(values, 'currency', 'cloud', 'JPY')).toBe('JPY');
    expect(fromSide(values, 'currency', 'legacy', 'Can')).toBeUndefined();
    expect(toSide(values, 'customer', 'legacy', 'anything-at-all')).toBe('anything-at-all');
    expect(toSide(values, 'customer', 'cloud', 'C200')).toBe('C200');
    expect(toSide(values, 'customer', 'cloud', 'c-200')).toBeUndefined();
    expect(toSide(values, 'item', 'cloud', 'A-VERY-LONG-ITEM-CODE-1')).toBeUndefined();
    expect(toSide(values, 'blocked', 'legacy', 'Ship')).toBeUndefined();
    expect(toSide(values, 'blocked', 'cloud', 'Invoice')).toBe('Invoice');
    expect(fromSide(values, 'blocked', 'cloud', 'Invoice')).toBe('Invoice');
    expect(toSide(values, 'warehouse', 'legacy', 'WH-BC-ONLY')).toBeUndefined();
  });
});

describe('checking overrides', () => {
  it('accepts what each system can hold', () => {
    expect(valueMapProblems([
      { kind: 'currency', legacy: 'US$', cloud: '' }, { kind: 'currency', legacy: 'Can', cloud: 'CAD' },
      { kind: 'blocked', legacy: 'tYES', cloud: 'Ship' }, { kind: 'blocked', legacy: 'tNO', cloud: '' },
      { kind: 'warehouse', legacy: '01', cloud: 'EAST' }, { kind: 'warehouse', legacy: '02', cloud: '' },
      { kind: 'customer', legacy: 'c-100', cloud: 'C100' }, { kind: 'item', legacy: 'widget-blue-with-a-long-code', cloud: 'WIDGET-BLUE' },
    ])).toEqual([]);
  });

  it('names each value its system cannot hold', () => {
    const problems = valueMapProblems([
      { kind: 'currency', legacy: '##', cloud: 'euro' },
      { kind: 'blocked', legacy: 'yes', cloud: 'Everything' },
      { kind: 'warehouse', legacy: 'WAREHOUSE-9', cloud: 'east' },
      { kind: 'customer', legacy: 'C-0000000000000001', cloud: 'c100' },
      { kind: 'item', legacy: '', cloud: 'AN-ITEM-NUMBER-OF-21C' },
    ]);
    expect(problems.map((p) => p.field)).toEqual([
      'maps[0].legacy', 'maps[0].cloud', 'maps[1].legacy', 'maps[1].cloud', 'maps[2].legacy', 'maps[2].cloud', 'maps[3].legacy', 'maps[3].cloud', 'maps[4].legacy', 'maps[4].cloud',
    ]);
    expect(problems[0]).toEqual({ field: 'maps[0].legacy', message: 'a SAP currency code is 1 to 3 characters other than ## (all currencies), not "##"' });
  });

  it('refuses a second pairing of one legacy or one cloud value within a kind, blank blocked written either way', () => {
    expect(valueMapProblems([
      { kind: 'customer', legacy: 'c-1', cloud: 'C1' },
      { kind: 'customer', legacy: 'c-1', cloud: 'C2' },
      { kind: 'item', legacy: 'c-1', cloud: 'C1' },
      { kind: 'blocked', legacy: 'tNO', cloud: ' ' },
      { kind: 'blocked', legacy: 'tYES', cloud: '' },
    ])).toEqual([
      { field: 'maps[1].legacy', message: 'maps[0] maps legacy customer "c-1" already' },
      { field: 'maps[4].cloud', message: 'maps[3] maps cloud blocked "" already' },
    ]);
  });

  it('stores blank blocked as Business Central writes it, a space', () => {
    expect(normalizedValueMap({ kind: 'blocked', legacy: 'tNO', cloud: '' })).toEqual({ kind: 'blocked', legacy: 'tNO', cloud: ' ' });
    expect(normalizedValueMap({ kind: 'warehouse', legacy: '02', cloud: '' })).toEqual({ kind: 'warehouse', legacy: '02', cloud: '' });
  });
});
