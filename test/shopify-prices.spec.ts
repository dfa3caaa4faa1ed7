import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ShopifyDelivery } from '../src/connectors/channels/shopify/shopify.delivery.js';
import type { ShopifyConfig } from '../src/connectors/channels/shopify/shopify.config.js';
import { TargetError } from '../src/platform/delivery/outcome.js';
import type { Delivery } from '../src/platform/outbox/message.js';
import { createShopifySimulator, type RecordedPriceMutation, type ShopifySimulator } from '../src/simulators/shopify/shopify-simulator.js';

const TOKEN = 'shpat_prices';
const B2B_USD = 'gid://shopify/PriceList/1';
const B2B_EUR = 'gid://shopify/PriceList/2';

let sim: ShopifySimulator;
let base: string;

beforeAll(async () => {
  sim = createShopifySimulator({ accessToken: TOKEN, currency: 'USD', latencyMs: [1, 4], priceLists: [{ id: B2B_USD, currency: 'USD' }, { id: B2B_EUR, currency: 'EUR' }] });
  base = await sim.listen();
});
afterAll(() => sim.close());
beforeEach(() => control('/_control/bucket', { maximumAvailable: 2000, restoreRate: 100, currentlyAvailable: 2000 }));

/** A fresh adapter: its own SKU cache and cost pacer. */
const store = () =>
  new ShopifyDelivery({ shopDomain: 'prices.myshopify.com', apiVersion: '2025-07', accessToken: TOKEN, webhookSecret: 'secret', adminApiBaseUrl: `${base}/admin/api/2025-07` } satisfies ShopifyConfig);
const signal = () => AbortSignal.timeout(30_000);

async function control(path: string, body: unknown): Promise<any> {
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBeLessThan(300);
  return response.json();
}

/** Variants `<prefix>-0000`..., each of its own product unless `productId` is given. */
async function addVariants(prefix: string, count: number, productId?: string): Promise<string[]> {
  const skus = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
  await control('/_control/variants', skus.map((sku) => ({ sku, price: '1.00', ...(productId ? { productId } : {}) })));
  return skus;
}

let sequence = 0;
/** A price.changed delivery as the pricing module publishes it for the channel `shop`. */
function price(sku: string, unitPrice: number | null, over: Record<string, unknown> = {}): Delivery {
  const n = ++sequence;
  const payload = { channelId: 'shop', sku, currency: 'USD', unitPrice, priceList: 'base', version: n, asOf: new Date(Date.UTC(2026, 11, 1, 0, 0, n)).toISOString(), ...over };
  return {
    deliveryId: `price-${n}`, messageId: `m-${n}`, type: 'price.changed', kind: 'state', key: `${payload.priceList}:${sku}`, destination: 'channel:shop',
    payload, version: n, correlationId: `c-${n}`, causationId: null, attempt: 1, previousValue: null, createdAt: new Date(),
  };
}

/** What the simulator records from now on. */
function since() {
  const requests = sim.state.requests.length;
  const mutations = sim.state.priceMutations.length;
  return { requests: () => sim.state.requests.slice(requests), mutations: (): RecordedPriceMutation[] => sim.state.priceMutations.slice(mutations) };
}

describe("a variant's own price", () => {
  it('lands on the variants of several products, one call per product, amounts as decimal strings', async () => {
    const sweaters = await addVariants('SWEATER', 3, 'gid://shopify/Product/71');
    const [scarf] = await addVariants('SCARF', 1);
    const log = since();
    const result = await store().deliverPrices([price(sweaters[0]!, 12.5), price(sweaters[1]!, 0.1 + 0.2), price(scarf!, 1099), price(sweaters[2]!, 40)], signal());

    expect(result).toEqual({ basePricesSet: 4, fixedPricesSet: 0, fixedPricesDeleted: 0 });
    expect([...sweaters, scarf!].map((sku) => sim.variantPrice(sku))).toEqual(['12.50', '0.30', '40.00', '1099.00']);
    const calls = log.mutations();
    expect(calls.map((m) => [m.mutation, m.target, m.entries.length, m.applied])).toEqual(
      expect.arrayContaining([
        ['productVariantsBulkUpdate', 'gid://shopify/Product/71', 3, true],
        ['productVariantsBulkUpdate', sim.state.variants.get([...sim.state.variants.values()].find((v) => v.sku === scarf)!.id)!.productId, 1, true],
      ]),
    );
    expect(calls).toHaveLength(2);
    expect(calls.flatMap((m) => m.entries.map((e) => typeof e.amount))).toEqual(['string', 'string', 'string', 'string']);
  });

  it("reports a price withdrawn from the base list as done: Shopify keeps a variant's price", async () => {
    const [sku] = await addVariants('KEPT', 1);
    const log = since();
    const result = await store().deliverPrices([price(sku!, null)], signal());
    expect(result).toEqual({ basePricesSet: 0, fixedPricesSet: 0, fixedPricesDeleted: 0, withdrawn: [sku] });
    expect(log.requests()).toEqual([]);
    expect(sim.variantPrice(sku!)).toBe('1.00');
  });

  it("refuses a price in another currency than the store's, and sets the rest", async () => {
    const [usd, eur] = await addVariants('CURRENCY', 2);
    const eurPrice = price(eur!, 9, { currency: 'EUR' });
    const result = await store().deliverPrices([price(usd!, 8), eurPrice], signal());
    expect(result).toMatchObject({ basePricesSet: 1, rejected: [{ deliveryId: eurPrice.deliveryId, message: expect.stringContaining('prices its variants in USD, not EUR') }] });
    expect([sim.variantPrice(usd!), sim.variantPrice(eur!)]).toEqual(['8.00', '1.00']);
  });

  it('refuses a variant moved to another product with Shopify\'s message, looks it up again, and sets it next time', async () => {
    const [moved, stays] = await addVariants('MOVED', 2, 'gid://shopify/Product/72');
    const delivery = store();
    await delivery.deliverPrices([price(moved!, 5), price(stays!, 5)], signal());
    // A merchant moves the variant to another product; the adapter still has the old product cached.
    [...sim.state.variants.values()].find((v) => v.sku === moved)!.productId = 'gid://shopify/Product/73';
    await control('/_control/variants', { sku: 'MOVED-HOST', productId: 'gid://shopify/Product/73' });

    const refused = price(moved!, 6);
    const log = since();
    const result = await delivery.deliverPrices([refused, price(stays!, 6)], signal());
    expect(result).toMatchObject({ basePricesSet: 1, rejected: [{ deliveryId: refused.deliveryId, message: 'Shopify refused productVariantsBulkUpdate: MUST_BE_FOR_THIS_PRODUCT: Input must be for this product.' }] });
    // All or nothing in Shopify: the call is sent again without the refused variant.
    expect(log.mutations().map((m) => [m.applied, m.userErrors, m.entries.length])).toEqual([[false, ['MUST_BE_FOR_THIS_PRODUCT'], 2], [true, [], 1]]);
    expect([sim.variantPrice(moved!), sim.variantPrice(stays!)]).toEqual(['5.00', '6.00']);

    expect(await delivery.deliverPrices([price(moved!, 7)], signal())).toMatchObject({ basePricesSet: 1 });
    expect(sim.variantPrice(moved!)).toBe('7.00');
  });

  it('reports a SKU the store does not sell, without refusing it', async () => {
    const [sku] = await addVariants('SOLD', 1);
    const result = await store().deliverPrices([price('NOT-IN-STORE', 3), price(sku!, 3)], signal());
    expect(result).toEqual({ basePricesSet: 1, fixedPricesSet: 0, fixedPricesDeleted: 0, unknownSkus: ['NOT-IN-STORE'] });
  });

  it('takes one price.changed through deliver, and throws a refused one as permanent', async () => {
    const [sku] = await addVariants('SINGLE', 1);
    const delivery = store();
    await expect(delivery.deliver('shop', price(sku!, 2.25), signal())).resolves.toEqual({ basePricesSet: 1, fixedPricesSet: 0, fixedPricesDeleted: 0 });
    expect(sim.variantPrice(sku!)).toBe('2.25');
    const failure = await delivery.deliver('shop', price(sku!, 2, { currency: 'EUR', shopifyPriceListId: B2B_USD }), signal()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TargetError);
    expect(failure).toMatchObject({ failureClass: 'permanent', message: expect.stringContaining("PRICE_LIST_CURRENCY_MISMATCH: The specified currency doesn't match the price list's currency.") });
  });
});

describe('fixed prices of a B2B price list', () => {
  it('sends 300 prices as two calls, 250 and 50', async () => {
    const skus = await addVariants('FIXED', 300);
    const before = sim.state.mutationCounts.priceListFixedPricesAdd ?? 0;
    const log = since();
    const result = await store().deliverPrices(skus.map((sku, i) => price(sku, 10 + i / 100, { priceList: 'DEALER', shopifyPriceListId: B2B_USD })), signal());

    expect(result).toEqual({ basePricesSet: 0, fixedPricesSet: 300, fixedPricesDeleted: 0 });
    expect(sim.state.mutationCounts.priceListFixedPricesAdd! - before).toBe(2);
    expect(log.mutations().map((m) => [m.mutation, m.target, m.entries.length])).toEqual([['priceListFixedPricesAdd', B2B_USD, 250], ['priceListFixedPricesAdd', B2B_USD, 50]]);
    const fixed = sim.fixedPrices(B2B_USD)!;
    expect(fixed[skus[0]!]).toMatchObject({ amount: '10.00', currencyCode: 'USD' });
    expect(fixed[skus[299]!]).toMatchObject({ amount: '12.99', currencyCode: 'USD' });
    expect(sim.variantPrice(skus[0]!)).toBe('1.00');
  });

  it('deletes a withdrawn fixed price, and counts one that is already gone as done', async () => {
    const [withdrawn, neverFixed] = await addVariants('WITHDRAWN', 2);
    const delivery = store();
    await delivery.deliverPrices([price(withdrawn!, 4, { shopifyPriceListId: B2B_USD })], signal());
    expect(sim.fixedPrices(B2B_USD)![withdrawn!]).toMatchObject({ amount: '4.00' });

    const log = since();
    const result = await delivery.deliverPrices([price(withdrawn!, null, { shopifyPriceListId: B2B_USD }), price(neverFixed!, null, { shopifyPriceListId: B2B_USD })], signal());
    expect(result).toEqual({ basePricesSet: 0, fixedPricesSet: 0, fixedPricesDeleted: 2 });
    expect(sim.fixedPrices(B2B_USD)![withdrawn!]).toBeUndefined();
    expect(log.mutations().map((m) => [m.mutation, m.applied, m.userErrors])).toEqual([
      ['priceListFixedPricesDelete', false, ['VARIANT_NOT_FOUND']],
      ['priceListFixedPricesDelete', true, []],
    ]);
  });

  it("refuses only the price Shopify refuses, with Shopify's message, and the rest of the call lands", async () => {
    const skus = await addVariants('EURO', 3);
    const wrong = price(skus[1]!, 20, { currency: 'USD', shopifyPriceListId: B2B_EUR });
    const log = since();
    const result = await store().deliverPrices([price(skus[0]!, 19.99, { currency: 'EUR', shopifyPriceListId: B2B_EUR }), wrong, price(skus[2]!, 21, { currency: 'EUR', shopifyPriceListId: B2B_EUR })], signal());

    expect(result).toEqual({
      rejected: [{ deliveryId: wrong.deliveryId, message: "Shopify refused priceListFixedPricesAdd: PRICE_LIST_CURRENCY_MISMATCH: The specified currency doesn't match the price list's currency." }],
      basePricesSet: 0, fixedPricesSet: 2, fixedPricesDeleted: 0,
    });
    expect(log.mutations().map((m) => [m.applied, m.entries.length])).toEqual([[false, 3], [true, 2]]);
    const fixed = sim.fixedPrices(B2B_EUR)!;
    expect([fixed[skus[0]!]?.amount, fixed[skus[1]!], fixed[skus[2]!]?.amount]).toEqual(['19.99', undefined, '21.00']);
  });

  it('refuses every price of a call whose error names no price (a price list that does not exist)', async () => {
    const skus = await addVariants('NOLIST', 2);
    const deliveries = skus.map((sku) => price(sku, 1, { shopifyPriceListId: 'gid://shopify/PriceList/999' }));
    const result = await store().deliverPrices(deliveries, signal());
    expect(result.rejected).toEqual(deliveries.map((d) => ({ deliveryId: d.deliveryId, message: "Shopify refused priceListFixedPricesAdd: PRICE_LIST_NOT_FOUND: The price list doesn't exist." })));
    expect(result).toMatchObject({ fixedPricesSet: 0 });
  });

  it('sends one price per variant and list: the latest wins, and the deliveries it replaces are delivered with it', async () => {
    const [sku] = await addVariants('TWICE', 1);
    const older = price(sku!, 3, { shopifyPriceListId: B2B_USD, asOf: '2026-11-01T00:00:00.000Z' });
    const newer = price(sku!, 4, { shopifyPriceListId: B2B_USD, asOf: '2026-11-02T00:00:00.000Z' });
    const log = since();
    expect(await store().deliverPrices([newer, older], signal())).toEqual({ basePricesSet: 0, fixedPricesSet: 1, fixedPricesDeleted: 0 });
    expect(log.mutations().map((m) => m.entries.map((e) => e.amount))).toEqual([['4.00']]);
  });
});

describe("the simulator's control API", () => {
  it('adds a price list and shows its fixed prices, the variants\' prices and the mutations run', async () => {
    const list = await control('/_control/price-lists', { currency: 'GBP', name: 'Trade GBP' });
    const [sku] = await addVariants('CONTROL', 1);
    await store().deliverPrices([price(sku!, 7.5, { currency: 'GBP', shopifyPriceListId: list.id }), price(sku!, 8)], signal());

    const lists = (await (await fetch(`${base}/_control/price-lists`)).json()) as any[];
    expect(lists.find((l) => l.id === list.id)).toMatchObject({ name: 'Trade GBP', currency: 'GBP', fixedPrices: { [sku!]: { amount: '7.50', currencyCode: 'GBP' } } });
    const state = (await (await fetch(`${base}/_control/state`)).json()) as any;
    expect(state.variants.find((v: { sku: string }) => v.sku === sku)).toMatchObject({ price: '8.00' });
    expect(state.mutationCounts).toMatchObject({ productVariantsBulkUpdate: expect.any(Number), priceListFixedPricesAdd: expect.any(Number) });
    const recorded = (await (await fetch(`${base}/_control/price-mutations`)).json()) as RecordedPriceMutation[];
    expect(recorded.at(-1)).toMatchObject({ mutation: 'priceListFixedPricesAdd', target: list.id, applied: true, entries: [{ sku, amount: '7.50', currencyCode: 'GBP' }] });
  });
});

describe('query cost', () => {
  it('paces the calls to the bucket, so that none is throttled, and every price lands', async () => {
    const skus = await Promise.all(Array.from({ length: 8 }, (_, i) => addVariants(`PACED${i}`, 1)));
    // 8 products: a lookup of 26 points, then 8 calls of 10, in a bucket of 40 that restores 100 a second.
    await control('/_control/bucket', { maximumAvailable: 40, restoreRate: 100, currentlyAvailable: 40 });
    const log = since();
    const result = await store().deliverPrices(skus.flat().map((sku) => price(sku, 15)), signal());

    expect(result).toMatchObject({ basePricesSet: 8 });
    expect(log.requests().filter((r) => r.throttled)).toEqual([]);
    expect(log.mutations()).toHaveLength(8);
    expect(skus.flat().map((sku) => sim.variantPrice(sku))).toEqual(Array(8).fill('15.00'));
  });

  it('surfaces a THROTTLED answer as throttled with the wait, and the prices land when retried after it', async () => {
    const skus = await addVariants('THROTTLED', 2);
    await control('/_control/bucket', { currentlyAvailable: 0, restoreRate: 50 });
    const delivery = store();
    const deliveries = skus.map((sku) => price(sku, 30, { shopifyPriceListId: B2B_USD }));
    const failure = await delivery.deliverPrices(deliveries, signal()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TargetError);
    expect(failure).toMatchObject({ failureClass: 'throttled', details: { retryAfterMs: expect.any(Number) } });
    expect(sim.state.requests.at(-1)).toMatchObject({ throttled: true });

    await new Promise((r) => setTimeout(r, (failure as TargetError).details.retryAfterMs));
    expect(await delivery.deliverPrices(deliveries, signal())).toEqual({ basePricesSet: 0, fixedPricesSet: 2, fixedPricesDeleted: 0 });
    expect(Object.keys(sim.fixedPrices(B2B_USD)!).filter((sku) => skus.includes(sku))).toHaveLength(2);
  });
});
