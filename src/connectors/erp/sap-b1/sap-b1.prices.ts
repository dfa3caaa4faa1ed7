import { TargetError } from '../../../platform/delivery/outcome.js';
import { expectShape, type Shape } from '../../answer-shape.js';
import { BASE_PRICE_LIST, type ErpPrice } from '../erp-contract.js';
import { isoCurrency, type CurrencyTable } from './sap-b1.currencies.js';

/**
 * SAP Business One's prices in Crossdock's words, pure: each item's price in each price list (`ItemPrices`), and
 * the special prices (`SpecialPrices`) with their periods (`SpecialPriceDataAreas`) and each period's quantity
 * breaks (`SpecialPriceQuantityAreas`). A record maps whole or not at all: what is wrong with it is said instead.
 */
const SYSTEM = 'SAP Business One';
const PRICE_LIST: Shape = { PriceListNo: 'number', PriceListName: 'string', Active: 'string?', ValidFrom: 'string?', ValidTo: 'string?', DefaultPrimeCurrency: 'string?' };
const ITEM: Shape = { ItemCode: 'string', ItemPrices: 'array' };
const ITEM_PRICE: Shape = { PriceList: 'number', Price: 'number?', Currency: 'string?' };
const SPECIAL_PRICE: Shape = {
  ItemCode: 'string', CardCode: 'string', Price: 'number', Currency: 'string?', PriceListNum: 'number?', Valid: 'string?', ValidFrom: 'string?', ValidTo: 'string?',
  SpecialPriceDataAreas: 'array?',
};
// The periods' and breaks' field names are the Service Layer metadata's (SpecialPriceDataArea with `Dateto` so
// spelled, SpecialPriceQuantityArea), inferred from it and from records others published: SAP's reference lists
// only the DI API's names (SpecialPricesDataAreas, DateFrom, Dateto).
const PERIOD: Shape = { DateFrom: 'string?', Dateto: 'string?', SpecialPrice: 'number', PriceCurrency: 'string?', SpecialPriceQuantityAreas: 'array?' };
const QUANTITY_BREAK: Shape = { Quantity: 'number', SpecialPrice: 'number', PriceCurrency: 'string?' };
// A special price whose CardCode is `*` and a list's number holds that list's period and volume discounts, for
// every business partner (how SAP's table OSPP keeps them; inferred, the Service Layer's documents do not say).
const EVERY_PARTNER = /^\*(\d+)$/;
const DAY_MS = 86_400_000;

/** Where a price holds: ISO days, validTo exclusive; null when open. */
interface Span {
  validFrom: string | null;
  validTo: string | null;
}

/** A price list as the prices read it: the name its prices go under, whether they count, and when they hold. */
export interface SapPriceList {
  label: string;
  active: boolean;
  /** The list's default currency (SAP's code): the currency of a price SAP keeps without one. */
  currency?: string;
  span: Span;
}

/** The price lists by PriceListNo; a string says why one cannot be read. */
export type SapPriceLists = ReadonlyMap<number, SapPriceList | string>;

interface SapSpecialPrice {
  ItemCode: string;
  CardCode: string;
  Price: number;
  Currency?: string | null;
  PriceListNum?: number | null;
  Valid?: string | null;
  ValidFrom?: string | null;
  ValidTo?: string | null;
  SpecialPriceDataAreas?: unknown[] | null;
}

/** The company's price lists; the base one (`basePriceList`) under BASE_PRICE_LIST, every other under its name. */
export function sapPriceLists(records: readonly unknown[], basePriceList: number): SapPriceLists {
  const lists = new Map<number, SapPriceList | string>();
  for (const record of records) {
    const number = (record as { PriceListNo?: unknown } | null)?.PriceListNo;
    // A list without a number names nothing: a price in it says that the list is unknown.
    if (typeof number !== 'number') continue;
    lists.set(number, mapped(() => {
      const list = expectShape<{ PriceListName: string; Active?: string | null; ValidFrom?: string | null; ValidTo?: string | null; DefaultPrimeCurrency?: string | null }>(
        SYSTEM, `price list ${number}`, record, PRICE_LIST,
      );
      const span = spanOf(list.ValidFrom, list.ValidTo);
      if (typeof span === 'string') return `price list ${number} ${span}`;
      return { label: number === basePriceList ? BASE_PRICE_LIST : list.PriceListName, active: list.Active !== 'tNO', currency: list.DefaultPrimeCurrency || undefined, span };
    }));
  }
  return lists;
}

/**
 * An item's price in each active list that holds one for it, within the list's validity. SAP keeps a row for
 * every list: 0 (or null) without a currency is "no price", left out.
 */
export function itemPrices(record: unknown, lists: SapPriceLists, currencies: CurrencyTable): ErpPrice[] | string {
  return mapped(() => {
    const item = expectShape<{ ItemCode: string; ItemPrices: unknown[] }>(SYSTEM, 'an item', record, ITEM);
    const prices: Array<ErpPrice | string> = [];
    for (const row of item.ItemPrices) {
      const { PriceList, Price, Currency } = expectShape<{ PriceList: number; Price?: number | null; Currency?: string | null }>(SYSTEM, `a price of item ${item.ItemCode}`, row, ITEM_PRICE);
      if (Price == null || (Price === 0 && !Currency)) continue;
      const list = lists.get(PriceList);
      if (typeof list !== 'object') return `item ${item.ItemCode} has a price in list ${PriceList}, ${list === undefined ? 'which is not among SAP\'s price lists' : `which cannot be read: ${list}`}`;
      if (!list.active) continue;
      // SAP's records show prices kept without a currency: they are read in the list's default currency.
      prices.push(erpPrice({ priceList: list.label, sku: item.ItemCode, unitPrice: Price, minQuantity: 0, customer: null, ...list.span }, Currency || list.currency, currencies));
    }
    return firstProblem(prices);
  });
}

/**
 * A special price as Crossdock's prices: the header's price (within the record's Active From/To, open-ended
 * without them), each period's within its days, and each quantity break from its quantity up within its period.
 * A business partner's record is its customer's, under the list it is based on (BASE_PRICE_LIST when "without
 * price list", 0); a `*<list>` record is that list's, for everyone. An inactive record (Valid tNO) holds no price.
 */
export function specialPrices(record: unknown, lists: SapPriceLists, currencies: CurrencyTable): ErpPrice[] | string {
  return mapped(() => {
    const special = expectShape<SapSpecialPrice>(SYSTEM, 'a special price', record, SPECIAL_PRICE);
    const what = `the special price of item ${special.ItemCode} for ${special.CardCode}`;
    if (special.Valid === 'tNO') return [];
    const everyone = EVERY_PARTNER.exec(special.CardCode);
    const customer = everyone ? null : special.CardCode;
    const listNumber = everyone ? Number(everyone[1]) : (special.PriceListNum ?? 0);
    const list = lists.get(listNumber);
    const priceList = typeof list === 'object' ? list.label : customer !== null && listNumber === 0 ? BASE_PRICE_LIST : undefined;
    if (priceList === undefined) return `${what} is based on price list ${listNumber}, ${list === undefined ? 'which is not among SAP\'s price lists' : `which cannot be read: ${list}`}`;
    const active = spanOf(special.ValidFrom, special.ValidTo);
    if (typeof active === 'string') return `${what} ${active}`;
    const periods: Array<{ span: Span; prices: Array<{ unitPrice: number; minQuantity: number; currency: string | null | undefined }> }> = [];
    for (const area of special.SpecialPriceDataAreas ?? []) {
      const period = expectShape<{ DateFrom?: string | null; Dateto?: string | null; SpecialPrice: number; PriceCurrency?: string | null; SpecialPriceQuantityAreas?: unknown[] | null }>(
        SYSTEM, `a period of ${what}`, area, PERIOD,
      );
      const days = spanOf(period.DateFrom, period.Dateto);
      if (typeof days === 'string') return `a period of ${what} ${days}`;
      const currency = period.PriceCurrency || special.Currency;
      const prices = [{ unitPrice: period.SpecialPrice, minQuantity: 0, currency }];
      for (const step of period.SpecialPriceQuantityAreas ?? []) {
        const quantityBreak = expectShape<{ Quantity: number; SpecialPrice: number; PriceCurrency?: string | null }>(SYSTEM, `a quantity break of ${what}`, step, QUANTITY_BREAK);
        prices.push({ unitPrice: quantityBreak.SpecialPrice, minQuantity: quantityBreak.Quantity, currency: quantityBreak.PriceCurrency || currency });
      }
      // A period outside the record's active days never applies.
      const within = overlap(active, days);
      if (within) periods.push({ span: within, prices });
    }
    const price = (span: Span, unitPrice: number, minQuantity: number, currency: string | null | undefined) =>
      erpPrice({ priceList, sku: special.ItemCode, unitPrice, minQuantity, customer, ...span }, currency, currencies);
    const header = afterPeriodsFrom(active, periods.map((p) => p.span));
    return firstProblem([
      ...(header ? [price(header, special.Price, 0, special.Currency)] : []),
      ...periods.flatMap(({ span, prices }) => prices.map((p) => price(span, p.unitPrice, p.minQuantity, p.currency))),
    ]);
  });
}

/**
 * The header's span, starting after the periods that follow one another from its first day. SAP charges a
 * period's price over the header's, and Crossdock prefers the later start: a period that began on the header's
 * first day would be the same price to it (or lose to the lower one). Undefined when the periods cover it all.
 */
function afterPeriodsFrom(header: Span, periods: readonly Span[]): Span | undefined {
  let validFrom = header.validFrom;
  for (let next = periods.find((p) => p.validFrom === validFrom); next; next = periods.find((p) => p.validFrom === validFrom)) {
    if (next.validTo === null) return undefined;
    validFrom = next.validTo;
  }
  return validFrom !== null && header.validTo !== null && validFrom >= header.validTo ? undefined : { validFrom, validTo: header.validTo };
}

/** One price with its currency through the table; a string when the table cannot name the currency, or a figure is negative. */
function erpPrice(price: Omit<ErpPrice, 'currency'>, sapCode: string | null | undefined, currencies: CurrencyTable): ErpPrice | string {
  const currency = isoCurrency(currencies, sapCode);
  const where = `the price of item ${price.sku} in ${price.priceList}${price.customer === null ? '' : ` for ${price.customer}`}`;
  if (!currency) return sapCode ? `${where} is in currency ${JSON.stringify(sapCode)}, which the currency table cannot name` : `${where} names no currency`;
  if (price.unitPrice < 0 || price.minQuantity < 0) return `${where} has a negative ${price.unitPrice < 0 ? `price (${price.unitPrice})` : `quantity (${price.minQuantity})`}`;
  return { ...price, currency };
}

function firstProblem(prices: Array<ErpPrice | string>): ErpPrice[] | string {
  return prices.find((price): price is string => typeof price === 'string') ?? (prices as ErpPrice[]);
}

/** What `read` maps, or what is wrong with the record: a field of the wrong shape among them. */
export function mapped<T>(read: () => T | string): T | string {
  try {
    return read();
  } catch (error) {
    if (error instanceof TargetError) return error.message;
    throw error;
  }
}

/** SAP's first and last days (both held: validTo is the day after the last), null when open; a string when a date cannot be read. */
function spanOf(first: string | null | undefined, last: string | null | undefined): Span | string {
  const validFrom = sapDay(first);
  const lastDay = sapDay(last);
  if (validFrom === undefined || lastDay === undefined) return `has a date that is not one: ${JSON.stringify(validFrom === undefined ? first : last)}`;
  const validTo = lastDay === null ? null : new Date(Date.parse(lastDay) + DAY_MS).toISOString().slice(0, 10);
  if (validFrom !== null && validTo !== null && validFrom >= validTo) return `ends (${lastDay}) before it starts (${validFrom})`;
  return { validFrom, validTo };
}

/** The day of SAP's date (`2026-03-31`, in v2 `2026-03-31T00:00:00Z`); null for none, undefined when it is not a date. */
function sapDay(value: string | null | undefined): string | null | undefined {
  if (!value) return null;
  const day = /^\d{4}-\d{2}-\d{2}/.exec(value)?.[0];
  return day !== undefined && !Number.isNaN(Date.parse(day)) ? day : undefined;
}

/** The days two spans share; undefined when they share none. */
function overlap(a: Span, b: Span): Span | undefined {
  const validFrom = a.validFrom === null || (b.validFrom !== null && b.validFrom > a.validFrom) ? b.validFrom : a.validFrom;
  const validTo = a.validTo === null || (b.validTo !== null && b.validTo < a.validTo) ? b.validTo : a.validTo;
  return validFrom !== null && validTo !== null && validFrom >= validTo ? undefined : { validFrom, validTo };
}
