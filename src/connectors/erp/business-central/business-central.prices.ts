import { TargetError } from '../../../platform/delivery/outcome.js';
import { expectShape, type Shape } from '../../answer-shape.js';
import { BASE_PRICE_LIST, type ErpPrice } from '../erp-contract.js';

/**
 * Business Central's prices in Crossdock's words, pure: an item's unitPrice is its base price; a row of the
 * company's custom page over Price List Lines is a list's price, or a customer's when it names one. A record
 * maps, or says what is wrong with it.
 */
const SYSTEM = 'Business Central';
const ITEM: Shape = { number: 'string', unitPrice: 'number' };
const PRICE_LIST_LINE: Shape = {
  priceListCode: 'string', itemNo: 'string', customerNo: 'string?', currencyCode: 'string?', unitPrice: 'number', minimumQuantity: 'number?', startingDate: 'string?',
  endingDate: 'string?',
};
// Business Central writes a blank date as the first day of year 1.
const BLANK_DATE = '0001-01-01';
const DAY_MS = 86_400_000;

interface BcPriceListLine {
  priceListCode: string;
  itemNo: string;
  customerNo?: string | null;
  currencyCode?: string | null;
  unitPrice: number;
  minimumQuantity?: number | null;
  startingDate?: string | null;
  endingDate?: string | null;
}

/** An item's unitPrice as its base price, in the company's currency, for any quantity and customer, open-ended. */
export function basePrice(record: unknown, currency: string): ErpPrice | string {
  return mapped(() => {
    const item = expectShape<{ number: string; unitPrice: number }>(SYSTEM, 'an item', record, ITEM);
    if (item.unitPrice < 0) return `item ${item.number} has a negative unitPrice (${item.unitPrice})`;
    return { priceList: BASE_PRICE_LIST, sku: item.number, currency, unitPrice: item.unitPrice, minQuantity: 0, customer: null, validFrom: null, validTo: null };
  });
}

/**
 * A price list line: under its list's code, the customer's when `customerNo` is set, in `currencyCode` (blank is
 * the company's `currency`), from `minimumQuantity` up, from its starting date to its ending date included.
 */
export function priceListLine(record: unknown, currency: string): ErpPrice | string {
  return mapped(() => {
    const line = expectShape<BcPriceListLine>(SYSTEM, 'a price list line', record, PRICE_LIST_LINE);
    const what = `the price of item ${line.itemNo} in ${line.priceListCode}${line.customerNo ? ` for ${line.customerNo}` : ''}`;
    if (!line.priceListCode || !line.itemNo) return `a price list line has no ${line.itemNo ? 'priceListCode' : 'itemNo'}`;
    // Business Central's currency codes are the company's own; most name theirs as ISO does, and only those are taken.
    const lineCurrency = line.currencyCode || currency;
    if (!/^[A-Z]{3}$/.test(lineCurrency)) return `${what} is in currency ${JSON.stringify(lineCurrency)}, which is not an ISO 4217 code`;
    const minQuantity = line.minimumQuantity ?? 0;
    if (line.unitPrice < 0 || minQuantity < 0) return `${what} has a negative ${line.unitPrice < 0 ? `unitPrice (${line.unitPrice})` : `minimumQuantity (${minQuantity})`}`;
    const validFrom = bcDay(line.startingDate);
    const lastDay = bcDay(line.endingDate);
    if (validFrom === undefined || lastDay === undefined) return `${what} has a date that is not one: ${JSON.stringify(validFrom === undefined ? line.startingDate : line.endingDate)}`;
    const validTo = lastDay === null ? null : new Date(Date.parse(lastDay) + DAY_MS).toISOString().slice(0, 10);
    if (validFrom !== null && validTo !== null && validFrom >= validTo) return `${what} ends (${lastDay}) before it starts (${validFrom})`;
    return { priceList: line.priceListCode, sku: line.itemNo, currency: lineCurrency, unitPrice: line.unitPrice, minQuantity, customer: line.customerNo || null, validFrom, validTo };
  });
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

/** A date of Business Central (`2026-03-31`); null when blank, undefined when it is not a date. */
function bcDay(value: string | null | undefined): string | null | undefined {
  if (!value || value === BLANK_DATE) return null;
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value)) ? value : undefined;
}
