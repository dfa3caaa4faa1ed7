import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../../platform/outbox/message.js';
import { entryOfUserError, formatAmount, newestPerTarget, readPriceChange, type PriceChange } from './shopify-prices.js';

const delivery = (payload: Record<string, unknown>, deliveryId = 'd1'): Delivery => ({
  deliveryId, messageId: 'm1', type: 'price.changed', kind: 'state', key: 'k', destination: 'channel:shop', payload,
  version: 1, correlationId: 'c', causationId: null, attempt: 1, previousValue: null, createdAt: new Date(0),
});
const price = { channelId: 'shop', sku: 'A-1', currency: 'USD', unitPrice: 12.5, priceList: 'base', version: 1, asOf: '2026-12-01T00:00:00.000Z' };

describe('readPriceChange', () => {
  it('reads a price, a withdrawn price, a quantity break and a fixed price of a price list', () => {
    expect(readPriceChange(delivery(price))).toEqual({ deliveryId: 'd1', sku: 'A-1', currency: 'USD', unitPrice: 12.5, priceList: 'base', asOf: price.asOf });
    expect(readPriceChange(delivery({ ...price, unitPrice: null }))).toMatchObject({ unitPrice: null });
    expect(readPriceChange(delivery({ ...price, minQuantity: 10 }))).toMatchObject({ minQuantity: 10 });
    expect(readPriceChange(delivery({ ...price, shopifyPriceListId: 'gid://shopify/PriceList/7' }))).toMatchObject({ shopifyPriceListId: 'gid://shopify/PriceList/7' });
  });

  it('answers why a malformed price cannot be published', () => {
    expect(readPriceChange(delivery({ ...price, sku: '' }))).toBe('price.changed without a sku');
    expect(readPriceChange(delivery({ ...price, currency: 'usd' }))).toBe('price of A-1 without a currency code');
    expect(readPriceChange(delivery({ ...price, unitPrice: -1 }))).toBe('price of A-1 is not a price: -1');
    expect(readPriceChange(delivery({ ...price, unitPrice: '12.50' }))).toBe('price of A-1 is not a price: "12.50"');
    expect(readPriceChange(delivery({ ...price, shopifyPriceListId: 'gid://shopify/Catalog/1' }))).toMatch(/names no Shopify price list/);
  });
});

describe('formatAmount', () => {
  it("writes the currency's minor digits, without a double's noise", () => {
    expect(formatAmount(12.5, 'USD')).toBe('12.50');
    expect(formatAmount(0.1 + 0.2, 'EUR')).toBe('0.30');
    expect(formatAmount(1.15 * 100, 'USD')).toBe('115.00');
    expect(formatAmount(1200, 'JPY')).toBe('1200');
    expect(formatAmount(3.5, 'KWD')).toBe('3.500');
    expect(formatAmount(0, 'USD')).toBe('0.00');
    expect(formatAmount(1234567.89, 'USD')).toBe('1234567.89');
  });

  it('keeps the digits of a price finer than the currency, and never writes an exponent', () => {
    expect(formatAmount(0.1234, 'USD')).toBe('0.1234');
    expect(formatAmount(1e-7, 'USD')).toBe('0.0000001');
    expect(formatAmount(2e21, 'USD')).toBe('2000000000000000000000.00');
  });

  it('answers a decimal string equal to the price in cents (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10_000_000_000 }), (cents) => {
      const amount = formatAmount(cents / 100, 'USD');
      expect(amount).toMatch(/^\d+\.\d{2}$/);
      expect(BigInt(amount.replace('.', ''))).toBe(BigInt(cents));
    }));
  });
});

describe('newestPerTarget', () => {
  const change = (deliveryId: string, asOf: string): { change: PriceChange; variant: string } => ({ change: { deliveryId, sku: 'A', currency: 'USD', unitPrice: 1, priceList: 'base', asOf }, variant: 'V1' });

  it('keeps the latest price of a target, with the deliveries it replaces', () => {
    const kept = newestPerTarget([change('old', '2026-01-02T00:00:00Z'), change('older', '2026-01-01T00:00:00Z')], (t) => t.variant);
    expect(kept.map((t) => [t.change.deliveryId, t.deliveryIds])).toEqual([['old', ['old', 'older']]]);
  });

  it('breaks a tie by the later in the batch, and keeps other targets apart', () => {
    const kept = newestPerTarget([change('a', '2026-01-01T00:00:00Z'), change('b', '2026-01-01T00:00:00Z'), { ...change('c', '2025-01-01T00:00:00Z'), variant: 'V2' }], (t) => t.variant);
    expect(kept.map((t) => [t.change.deliveryId, t.deliveryIds])).toEqual([['b', ['a', 'b']], ['c', ['c']]]);
  });
});

describe('entryOfUserError', () => {
  const ids = ['gid://shopify/ProductVariant/101', 'gid://shopify/ProductVariant/102', 'gid://shopify/ProductVariant/103'];

  it('reads the index after the input array in the field path', () => {
    expect(entryOfUserError({ field: ['prices', '2', 'price', 'currencyCode'], message: 'x' }, 'prices', ids)).toBe(2);
    expect(entryOfUserError({ field: ['variants', '0', 'price'], message: 'x' }, 'variants', ids)).toBe(0);
    expect(entryOfUserError({ field: ['input', 'variantIds', '1'], message: 'x' }, 'variantIds', ids)).toBe(1);
  });

  it('falls back on the one variant id the error names, by gid or by number', () => {
    expect(entryOfUserError({ field: null, message: 'Variant gid://shopify/ProductVariant/102 is archived' }, 'prices', ids)).toBe(1);
    expect(entryOfUserError({ field: ['prices'], message: 'Variant 103 has no product' }, 'prices', ids)).toBe(2);
    expect(entryOfUserError({ field: ['variantIds', 'gid://shopify/ProductVariant/101'], message: 'x' }, 'variantIds', ids)).toBe(0);
  });

  it('answers none for an error about the whole call, an index out of range or several variants', () => {
    expect(entryOfUserError({ field: ['priceListId'], message: "The price list doesn't exist." }, 'prices', ids)).toBeUndefined();
    expect(entryOfUserError({ field: ['prices', '7', 'variantId'], message: 'x' }, 'prices', ids)).toBeUndefined();
    expect(entryOfUserError({ field: null, message: 'Variants 101 and 102 conflict' }, 'prices', ids)).toBeUndefined();
    expect(entryOfUserError({ field: null, message: 'Variant 1010 is unknown' }, 'prices', ids)).toBeUndefined();
  });
});
