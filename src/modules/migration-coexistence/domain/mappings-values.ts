/**
 * The value maps of a pair of ERP backends (legacy SAP Business One, cloud Business Central), pure: which SAP value
 * stands for which Business Central value of each kind, the canonical value both stand for, and where each pairing
 * comes from. Defaults are derived from the two backends' configuration; an administrator's overrides win.
 */

export const VALUE_MAP_KINDS = ['currency', 'blocked', 'warehouse', 'customer', 'item'] as const;
export type ValueMapKind = (typeof VALUE_MAP_KINDS)[number];

/** One system of the pair: SAP Business One is the legacy, Business Central the cloud. */
export type PairSide = 'legacy' | 'cloud';

/** One pairing as an administrator gives it (and `coexistence_value_map` stores it): the legacy value and the cloud value. */
export interface ValueMapPair {
  kind: ValueMapKind;
  legacy: string;
  cloud: string;
}

/** `config`: derived from the backends' configuration; `built-in`: how the two systems' values correspond; `override`: an administrator's. */
export type ValueMapSource = 'config' | 'built-in' | 'override';

/** A pairing in force, with the canonical value both sides stand for (null when neither side's configuration names one). */
export interface ValueMapEntry extends ValueMapPair {
  canonical: string | null;
  source: ValueMapSource;
}

/** What of the two backends' configuration the defaults are derived from. */
export interface PairSettings {
  /** SAP `currencies` (SAP code to ISO 4217) and `warehouseCodes` (Crossdock warehouse to SAP WarehouseCode). */
  legacy: { currencies?: Readonly<Record<string, string>>; warehouseCodes?: Readonly<Record<string, string>> };
  /** Business Central `locationCodes` (Crossdock warehouse to location code) and `currency` (its local currency, ISO 4217). */
  cloud: { locationCodes?: Readonly<Record<string, string>>; currency?: string };
}

/** What the mapping functions translate values with: the pair's entries in force, and Business Central's local currency. */
export interface PairValues {
  localCurrency: string;
  entries: readonly ValueMapEntry[];
}

export interface ValueMapProblem {
  field: string;
  message: string;
}

/** Business Central's local currency when its backend names none, as the Business Central connector takes it. */
export const DEFAULT_LOCAL_CURRENCY = 'USD';
/** Business Central's Customer Blocked values; its blank is a space. */
export const BC_BLOCKED = [' ', 'Ship', 'Invoice', 'All'] as const;
const SAP_FROZEN = ['tYES', 'tNO'] as const;
const ISO_CURRENCY = /^[A-Z]{3}$/;
/** SAP's "all currencies" on a business partner: never one currency. */
const SAP_ALL_CURRENCIES = '##';
/** The customer and item No. of Business Central are Code[20]: capitals, no blanks around. */
const BC_NUMBER_LENGTH = 20;

/** What each kind pairs, for the documentation and the API: the SAP value, the Business Central value, the canonical value. */
export const VALUE_MAP_KINDS_DESCRIBED: Record<ValueMapKind, { legacy: string; cloud: string; canonical: string; defaults: string; unmapped: string }> = {
  currency: {
    legacy: 'the company\'s currency code (OCRN, up to 3 characters: `$`, `EUR`)',
    cloud: 'the currency code, blank for the local currency',
    canonical: 'ISO 4217',
    defaults: 'SAP `currencies` (SAP code to ISO), each ISO code the Business Central code of that name, blank for Business Central\'s `currency` (default USD)',
    unmapped: 'an ISO code passes as it is on both sides; blank in Business Central is its local currency',
  },
  blocked: {
    legacy: '`Frozen`: tYES or tNO',
    cloud: '`blocked`: blank (a space), Ship, Invoice or All',
    canonical: 'Business Central\'s, blank written empty',
    defaults: 'built in: tNO is blank, tYES is All',
    unmapped: 'not written to SAP (it has no partial block); Business Central\'s values are the canonical ones',
  },
  warehouse: {
    legacy: '`WarehouseCode` (OWHS, up to 8 characters)',
    cloud: 'location code (Code[10], blank: no location)',
    canonical: 'Crossdock\'s warehouse code',
    defaults: 'SAP `warehouseCodes` and Business Central `locationCodes`, joined on Crossdock\'s warehouse code',
    unmapped: 'not written',
  },
  customer: {
    legacy: '`CardCode` (up to 15 characters)',
    cloud: 'customer `number` (Code[20])',
    canonical: 'the CardCode: Crossdock\'s accounts carry the legacy ERP\'s numbers',
    defaults: 'none',
    unmapped: 'the same number, where Business Central can hold it (capitals, up to 20 characters)',
  },
  item: {
    legacy: '`ItemCode` (up to 50 characters)',
    cloud: 'item `number` (Code[20])',
    canonical: 'the ItemCode: Crossdock\'s SKUs are the legacy ERP\'s',
    defaults: 'none',
    unmapped: 'the same number, where Business Central can hold it (capitals, up to 20 characters)',
  },
};

/**
 * How the values of a kind are checked before an override is stored: each side's own rule (its field's length and
 * alphabet), so that what the map says can be written where it says.
 */
const VALUE_RULES: Record<ValueMapKind, { legacy: [(v: string) => boolean, string]; cloud: [(v: string) => boolean, string] }> = {
  currency: {
    legacy: [(v) => v.length >= 1 && v.length <= 3 && v !== SAP_ALL_CURRENCIES, `a SAP currency code is 1 to 3 characters other than ${SAP_ALL_CURRENCIES} (all currencies)`],
    cloud: [(v) => v === '' || ISO_CURRENCY.test(v), 'a Business Central currency code is blank (its local currency) or an ISO 4217 code'],
  },
  blocked: {
    legacy: [(v) => (SAP_FROZEN as readonly string[]).includes(v), `SAP's Frozen is ${SAP_FROZEN.join(' or ')}`],
    cloud: [(v) => v === '' || (BC_BLOCKED as readonly string[]).includes(v), 'Business Central\'s blocked is blank, Ship, Invoice or All'],
  },
  warehouse: {
    legacy: [(v) => v.length >= 1 && v.length <= 8, 'a SAP warehouse code is 1 to 8 characters'],
    cloud: [(v) => isBcCode(v, 10) || v === '', 'a Business Central location code is blank or up to 10 characters in capitals, no blanks around'],
  },
  customer: {
    legacy: [(v) => v.trim() !== '' && v.length <= 15, 'a SAP CardCode is 1 to 15 characters'],
    cloud: [(v) => isBcCode(v, BC_NUMBER_LENGTH), 'a Business Central customer number is 1 to 20 characters in capitals, no blanks around'],
  },
  item: {
    legacy: [(v) => v.trim() !== '' && v.length <= 50, 'a SAP ItemCode is 1 to 50 characters'],
    cloud: [(v) => isBcCode(v, BC_NUMBER_LENGTH), 'a Business Central item number is 1 to 20 characters in capitals, no blanks around'],
  },
};

/**
 * What is wrong with overrides before they are stored: a value its system cannot hold (VALUE_RULES), or a second
 * pairing of one legacy value or of one cloud value within a kind (a map must read both ways). Each problem names
 * the entry, `maps[i].legacy` or `maps[i].cloud`.
 */
export function valueMapProblems(maps: readonly ValueMapPair[]): ValueMapProblem[] {
  const problems: ValueMapProblem[] = [];
  const seen = { legacy: new Map<string, number>(), cloud: new Map<string, number>() };
  maps.forEach((map, i) => {
    for (const side of ['legacy', 'cloud'] as const) {
      const [holds, rule] = VALUE_RULES[map.kind][side];
      const key = `${map.kind}\u0000${side === 'cloud' ? blankBlocked(map.kind, map[side]) : map[side]}`;
      const first = seen[side].get(key);
      if (!holds(map[side])) problems.push({ field: `maps[${i}].${side}`, message: `${rule}, not ${JSON.stringify(map[side])}` });
      else if (first !== undefined) problems.push({ field: `maps[${i}].${side}`, message: `maps[${first}] maps ${side} ${map.kind} ${JSON.stringify(map[side])} already` });
      else seen[side].set(key, i);
    }
  });
  return problems;
}

/** An override as it is stored: Business Central's blank blocked is a space, however it was written. */
export function normalizedValueMap({ kind, legacy, cloud }: ValueMapPair): ValueMapPair {
  return { kind, legacy, cloud: kind === 'blocked' && cloud.trim() === '' ? ' ' : cloud };
}

/**
 * The pairings the two backends' configuration implies: each SAP currency with the Business Central code of its ISO
 * code (blank for the local currency, which SAP names by its ISO code when its table does not); each Crossdock
 * warehouse both backends map, its SAP warehouse with its location code; Frozen with blocked (built in).
 */
export function defaultValueMaps(settings: PairSettings): ValueMapEntry[] {
  const local = localCurrencyOf(settings);
  const currencies = Object.entries(settings.legacy.currencies ?? {});
  const cloudCurrency = (iso: string) => (iso === local ? '' : iso);
  const locations = settings.cloud.locationCodes ?? {};
  return [
    ...currencies.map(([sap, iso]): ValueMapEntry => ({ kind: 'currency', legacy: sap, cloud: cloudCurrency(iso), canonical: iso, source: 'config' })),
    ...(currencies.some(([, iso]) => iso === local) ? [] : [{ kind: 'currency' as const, legacy: local, cloud: '', canonical: local, source: 'config' as const }]),
    { kind: 'blocked', legacy: 'tNO', cloud: ' ', canonical: '', source: 'built-in' },
    { kind: 'blocked', legacy: 'tYES', cloud: 'All', canonical: 'All', source: 'built-in' },
    ...Object.entries(settings.legacy.warehouseCodes ?? {})
      .filter(([warehouse]) => Object.hasOwn(locations, warehouse))
      .map(([warehouse, sap]): ValueMapEntry => ({ kind: 'warehouse', legacy: sap, cloud: locations[warehouse]!, canonical: warehouse, source: 'config' })),
  ];
}

/**
 * The pairings in force: the defaults, less those an override replaces (the same legacy value) or displaces (the
 * same cloud value), and the overrides, each with the canonical value it stands for; by kind, then legacy value.
 */
export function valueMapsInForce(settings: PairSettings, overrides: readonly ValueMapPair[]): ValueMapEntry[] {
  const overridden = (entry: ValueMapPair) =>
    overrides.some((o) => o.kind === entry.kind && (o.legacy === entry.legacy || blankBlocked(o.kind, o.cloud) === blankBlocked(entry.kind, entry.cloud)));
  return [
    ...defaultValueMaps(settings).filter((entry) => !overridden(entry)),
    ...overrides.map((o): ValueMapEntry => ({ ...o, canonical: canonicalOf(o, settings), source: 'override' })),
  ].toSorted(byKindAndLegacy);
}

/** Business Central's local currency: its backend's `currency`, else DEFAULT_LOCAL_CURRENCY. */
export function localCurrencyOf(settings: PairSettings): string {
  return settings.cloud.currency ?? DEFAULT_LOCAL_CURRENCY;
}

/** Orders pairings by kind (as VALUE_MAP_KINDS lists them), then legacy value. */
export function byKindAndLegacy(a: ValueMapPair, b: ValueMapPair): number {
  return VALUE_MAP_KINDS.indexOf(a.kind) - VALUE_MAP_KINDS.indexOf(b.kind) || (a.legacy < b.legacy ? -1 : a.legacy > b.legacy ? 1 : 0);
}

/**
 * A canonical value as `side` holds it: the pairing in force whose canonical value it is, else the kind's rule for
 * values no pairing names (VALUE_MAP_KINDS_DESCRIBED's `unmapped`); undefined when the side cannot hold it.
 */
export function toSide(values: PairValues, kind: ValueMapKind, side: PairSide, canonical: string): string | undefined {
  const entry = values.entries.find((e) => e.kind === kind && e.canonical === canonical);
  if (entry) return entry[side];
  switch (kind) {
    case 'currency':
      return side === 'cloud' && canonical === values.localCurrency ? '' : ISO_CURRENCY.test(canonical) ? canonical : undefined;
    case 'blocked': {
      const blocked = canonical === '' ? ' ' : canonical;
      return side === 'cloud' && (BC_BLOCKED as readonly string[]).includes(blocked) ? blocked : undefined;
    }
    case 'warehouse':
      return undefined;
    case 'customer':
    case 'item':
      return side === 'legacy' || isBcCode(canonical, BC_NUMBER_LENGTH) ? canonical : undefined;
  }
}

/** A value `side` holds, as the canonical value: the reverse of toSide. */
export function fromSide(values: PairValues, kind: ValueMapKind, side: PairSide, held: string): string | undefined {
  const entry = values.entries.find((e) => e.kind === kind && blankBlocked(kind, e[side]) === blankBlocked(kind, held));
  if (entry) return entry.canonical ?? undefined;
  switch (kind) {
    case 'currency':
      return side === 'cloud' && held === '' ? values.localCurrency : ISO_CURRENCY.test(held) ? held : undefined;
    case 'blocked':
      return side === 'cloud' && (BC_BLOCKED as readonly string[]).includes(held === '' ? ' ' : held) ? held.trim() : undefined;
    case 'warehouse':
      return undefined;
    case 'customer':
    case 'item':
      return held === '' ? undefined : held;
  }
}

/** The canonical value an override stands for (see VALUE_MAP_KINDS_DESCRIBED), null when neither configuration names one. */
function canonicalOf(pair: ValueMapPair, settings: PairSettings): string | null {
  switch (pair.kind) {
    case 'currency':
      return pair.cloud === '' ? localCurrencyOf(settings) : pair.cloud;
    case 'blocked':
      return pair.cloud.trim();
    case 'warehouse':
      return keyOf(settings.legacy.warehouseCodes, pair.legacy) ?? keyOf(settings.cloud.locationCodes, pair.cloud) ?? null;
    case 'customer':
    case 'item':
      return pair.legacy;
  }
}

function keyOf(table: Readonly<Record<string, string>> | undefined, value: string): string | undefined {
  return Object.entries(table ?? {}).find(([, v]) => v === value)?.[0];
}

/** Business Central's blank blocked is a space; an administrator may write it empty. */
function blankBlocked(kind: ValueMapKind, value: string): string {
  return kind === 'blocked' ? value.trim() : value;
}

/** A value a Business Central Code[length] field holds as it is: capitals, no blanks around, 1 to `length` characters. */
export function isBcCode(value: string, length: number): boolean {
  return value !== '' && value.length <= length && value === value.trim().toUpperCase();
}
