import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BASE_LIST, effectivePrice, priceDiffers, type PriceEntry, type PriceQuestion } from './effective-price.js';

const NOW = Date.parse('2026-12-05T12:00:00Z');
const DAY = 86_400_000;
const entry = (over: Partial<PriceEntry>): PriceEntry => ({
  priceList: BASE_LIST, sku: 'A', currency: 'USD', customer: null, minQuantity: 0, validFrom: -Infinity, validTo: Infinity, unitPrice: 10, source: 'erp:bc', ...over,
});
const question = (over: Partial<PriceQuestion> = {}): PriceQuestion => ({ quantity: 1, at: NOW, currency: 'USD', channelList: 'RETAIL', ...over });

describe('the effective price', () => {
  const base = entry({ unitPrice: 10 });
  const channel = entry({ priceList: 'RETAIL', unitPrice: 9 });
  const customersList = entry({ priceList: 'WHOLESALE', unitPrice: 8 });
  const own = entry({ priceList: 'WHOLESALE', customer: 'C1', unitPrice: 7 });

  it("takes the customer's own price, then the customer's list, then the channel's list, then the base price", () => {
    const all = [base, channel, customersList, own];
    const customer = { number: 'C1', priceList: 'WHOLESALE' };
    expect(effectivePrice(all, question({ customer }))).toEqual({ entry: own, source: 'customer' });
    expect(effectivePrice([base, channel, customersList], question({ customer }))).toEqual({ entry: customersList, source: 'list' });
    expect(effectivePrice([base, channel], question({ customer }))).toEqual({ entry: channel, source: 'list' });
    expect(effectivePrice([base], question({ customer }))).toEqual({ entry: base, source: 'base' });
    expect(effectivePrice([], question({ customer }))).toBeUndefined();
  });

  it("gives no one else a customer's own price, nor the customer's list to a channel's anonymous question", () => {
    expect(effectivePrice([base, customersList, own], question({ customer: { number: 'C2' } }))?.entry).toBe(base);
    expect(effectivePrice([base, customersList, own], question())?.entry).toBe(base);
  });

  it('takes the largest quantity break not above the quantity', () => {
    const breaks = [entry({ unitPrice: 10 }), entry({ minQuantity: 10, unitPrice: 9 }), entry({ minQuantity: 100, unitPrice: 8 })];
    expect(effectivePrice(breaks, question({ quantity: 9 }))?.entry.unitPrice).toBe(10);
    expect(effectivePrice(breaks, question({ quantity: 10 }))?.entry.unitPrice).toBe(9);
    expect(effectivePrice(breaks, question({ quantity: 99.5 }))?.entry.unitPrice).toBe(9);
    expect(effectivePrice(breaks, question({ quantity: 5000 }))?.entry.unitPrice).toBe(8);
  });

  it('counts only prices valid at the moment asked (the end exclusive), and the later start where two are', () => {
    const past = entry({ unitPrice: 5, validTo: NOW - DAY });
    const future = entry({ unitPrice: 6, validFrom: NOW + DAY });
    const running = entry({ unitPrice: 11, validFrom: NOW - DAY, validTo: NOW + DAY });
    expect(effectivePrice([past, future, base], question())?.entry).toBe(base);
    expect(effectivePrice([past, future, base, running], question())?.entry).toBe(running);
    expect(effectivePrice([future, base], question({ at: NOW + DAY }))?.entry).toBe(future);
    expect(effectivePrice([running, base], question({ at: NOW + DAY }))?.entry).toBe(base);
  });

  it("takes only the channel's currency", () => {
    expect(effectivePrice([entry({ currency: 'EUR', unitPrice: 1 }), base], question())?.entry).toBe(base);
    expect(effectivePrice([entry({ currency: 'EUR', unitPrice: 1 })], question())).toBeUndefined();
  });

  it('is never negative, and the same whatever order the prices arrived in', () => {
    const arbitraryEntry = fc.record({
      priceList: fc.constantFrom(BASE_LIST, 'RETAIL', 'WHOLESALE', 'PROMO'),
      sku: fc.constant('A'),
      currency: fc.constantFrom('USD', 'EUR'),
      customer: fc.constantFrom(null, 'C1', 'C2'),
      minQuantity: fc.constantFrom(0, 1, 5, 10, 100),
      validFrom: fc.constantFrom(-Infinity, NOW - 2 * DAY, NOW - DAY, NOW, NOW + DAY),
      validTo: fc.constantFrom(Infinity, NOW - DAY, NOW + 1, NOW + DAY, NOW + 3 * DAY),
      unitPrice: fc.double({ min: -5, max: 1000, noNaN: true }),
      source: fc.constantFrom('erp:bc', 'wms'),
    });
    const arbitraryQuestion = fc.record({
      quantity: fc.constantFrom(0.5, 1, 5, 9, 10, 1000),
      at: fc.constantFrom(NOW - DAY, NOW, NOW + DAY, NOW + 2 * DAY),
      currency: fc.constantFrom('USD', 'EUR'),
      channelList: fc.constantFrom('RETAIL', BASE_LIST, 'PROMO'),
      customer: fc.option(fc.record({ number: fc.constantFrom('C1', 'C2'), priceList: fc.constantFrom(null, 'WHOLESALE', 'PROMO') }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(arbitraryEntry, { maxLength: 30 }), arbitraryQuestion, fc.infiniteStream(fc.nat()), (entries, q, seeds) => {
        const answer = effectivePrice(entries, q);
        if (answer) {
          expect(answer.entry.unitPrice).toBeGreaterThanOrEqual(0);
          expect(answer.entry.currency).toBe(q.currency);
          expect(answer.entry.minQuantity).toBeLessThanOrEqual(q.quantity);
          expect(answer.entry.validFrom <= q.at && q.at < answer.entry.validTo).toBe(true);
        }
        const shuffled = entries.map((e) => ({ e, k: seeds.next().value })).sort((a, b) => a.k - b.k).map(({ e }) => e);
        expect(effectivePrice(shuffled, q)).toEqual(answer);
      }),
      { numRuns: 2000 },
    );
  });

  it('a price may differ by the tolerance, absolute or in percent, whichever is more', () => {
    expect(priceDiffers(10.004, 10, { amount: 0.005, percent: 0 })).toBe(false);
    expect(priceDiffers(10.01, 10, { amount: 0.005, percent: 0 })).toBe(true);
    expect(priceDiffers(10.5, 10, { amount: 0.005, percent: 5 })).toBe(false);
    expect(priceDiffers(9.4, 10, { amount: 0.005, percent: 5 })).toBe(true);
  });
});
