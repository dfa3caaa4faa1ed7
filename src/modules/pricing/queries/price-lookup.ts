import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import type { Sql } from '../../../platform/database/transaction.js';
import type { ChannelPricing } from '../../configuration/index.js';
import { OutboxSignals } from '../../../platform/outbox/outbox-signals.js';
import { effectivePrice, priceDiffers, type PriceEntry, type PriceSource } from '../domain/effective-price.js';
import { instant, priceEntries, type Reader } from './price-entries.js';

export interface PriceAnswer {
  sku: string;
  quantity: number;
  /** null when no price holds for the channel (and customer) now. */
  unitPrice: number | null;
  currency: string;
  priceList: string | null;
  source: PriceSource | null;
  minQuantity: number | null;
  validFrom: string | null;
  validTo: string | null;
}

// SKUs' list prices kept per instance, of at most this many SKUs, each read at most this long ago.
const CACHED_SKUS = 100_000;
const CACHE_MS = 60_000;

/**
 * Effective prices for a channel, from PostgreSQL in one round trip (the entries of the SKUs and the customer's
 * list) and the pure rule. Other modules ask through the query bus (EffectivePricesQuery).
 *
 * A channel's look-ups without a customer are answered from the SKUs' list prices as last read here, while this
 * instance hears the others: every write of prices names its SKUs after its commit (OutboxSignals `prices`), and
 * they are read again. The rule runs at each look-up, so a dated price starts and ends on time from the cache too.
 * Questions inside a transaction, and a customer's, always read PostgreSQL.
 */
@Injectable()
export class PriceLookup {
  // Per SKU, per currency: its list prices and until when they may be used.
  private readonly cache = new Map<string, Map<string, { entries: PriceEntry[]; until: number }>>();
  // Counts invalidations: a read that began before one may not fill the cache with what it read.
  private generation = 0;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly signals: OutboxSignals,
  ) {
    signals.on('prices', (skus) => this.forget(skus));
  }

  async prices(pricing: ChannelPricing, questions: readonly Question[], sql: Reader = this.pool): Promise<PriceAnswer[]> {
    if (sql !== this.pool || questions.some((q) => q.customer) || !this.signals.listening) return (await this.pricesOfMany([{ pricing, questions }], sql))[0]!;
    const { currency } = pricing;
    // What the cache holds now, taken once: an entry that expires, or a cache cleared, during the read below does
    // not change the answer.
    const bySku = new Map<string, PriceEntry[]>();
    const now = Date.now();
    for (const { sku } of questions) {
      const found = this.cache.get(sku)?.get(currency);
      if (found && found.until > now) bySku.set(sku, found.entries);
    }
    const missing = [...new Set(questions.map((q) => q.sku))].filter((sku) => !bySku.has(sku));
    if (missing.length > 0) {
      const generation = this.generation;
      const read = await priceEntries(this.pool, missing, [currency]);
      for (const sku of missing) bySku.set(sku, read.bySku.get(sku) ?? []);
      // Kept only when no write of prices was announced during the read.
      if (generation === this.generation) {
        if (this.cache.size + missing.length > CACHED_SKUS) this.forget(undefined);
        const until = Date.now() + CACHE_MS;
        for (const sku of missing) {
          const currencies = this.cache.get(sku) ?? new Map<string, { entries: PriceEntry[]; until: number }>();
          currencies.set(currency, { entries: bySku.get(sku)!, until });
          this.cache.set(sku, currencies);
        }
      }
    }
    return answer(pricing, questions, { bySku, now: Date.now(), customerLists: new Map() });
  }

  /** SKUs whose prices changed (undefined: any may have). */
  private forget(skus: string[] | undefined): void {
    this.generation++;
    if (!skus) this.cache.clear();
    else for (const sku of skus) this.cache.delete(sku);
  }

  /** The same for several channels' questions at once, in one round trip. */
  async pricesOfMany(asks: ReadonlyArray<{ pricing: ChannelPricing; questions: readonly Question[] }>, sql: Reader = this.pool): Promise<PriceAnswer[][]> {
    const questions = asks.flatMap((a) => a.questions);
    if (questions.length === 0) return asks.map(() => []);
    const customers = [...new Set(questions.flatMap((q) => (q.customer ? [q.customer] : [])))];
    const currencies = [...new Set(asks.map((a) => a.pricing.currency))];
    const found = await priceEntries(sql, [...new Set(questions.map((q) => q.sku))], currencies, customers);
    return asks.map(({ pricing, questions }) => answer(pricing, questions, found));
  }
}

type Question = { sku: string; quantity: number; customer?: string };

function answer(pricing: ChannelPricing, questions: readonly Question[], { bySku, now, customerLists }: Awaited<ReturnType<typeof priceEntries>>): PriceAnswer[] {
  return questions.map(({ sku, quantity, customer }) => {
    const found = effectivePrice(bySku.get(sku) ?? [], {
      quantity, at: now, currency: pricing.currency, channelList: pricing.priceList,
      ...(customer ? { customer: { number: customer, priceList: customerLists.get(customer) ?? null } } : {}),
    });
    if (!found) return { sku, quantity, unitPrice: null, currency: pricing.currency, priceList: null, source: null, minQuantity: null, validFrom: null, validTo: null };
    const { entry, source } = found;
    return { sku, quantity, unitPrice: entry.unitPrice, currency: entry.currency, priceList: entry.priceList, source, minQuantity: entry.minQuantity, validFrom: instant(entry.validFrom), validTo: instant(entry.validTo) };
  });
}

/** An order line whose unit price differs from the effective price beyond the channel's tolerance. */
export interface PriceMismatch {
  lineId: string;
  sku: string;
  quantity: number;
  unitPrice: number;
  effectivePrice: number;
  priceList: string;
  source: PriceSource;
}

/** An order as the price check sees it. */
export interface PricedOrder {
  pricing: ChannelPricing;
  customer: string;
  currency: string;
  lines: ReadonlyArray<{ lineId: string; sku: string; quantity: number; unitPrice: number }>;
}

/**
 * Per order, its lines whose unit price differs from the effective price for its channel and customer by more
 * than the channel's tolerance. A line without an effective price, or an order in another currency than the
 * channel's prices, is not judged. One round trip for all the orders.
 */
export async function priceMismatches(lookup: PriceLookup, orders: readonly PricedOrder[], sql?: Reader): Promise<PriceMismatch[][]> {
  const judged = orders.map((order, i) => ({ order, i })).filter(({ order }) => order.currency === order.pricing.currency);
  const answers = await lookup.pricesOfMany(judged.map(({ order }) => ({ pricing: order.pricing, questions: order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, customer: order.customer })) })), sql);
  const result: PriceMismatch[][] = orders.map(() => []);
  judged.forEach(({ order, i }, n) => {
    const tolerance = { amount: order.pricing.tolerance ?? DEFAULT_TOLERANCE, percent: order.pricing.tolerancePercent ?? 0 };
    order.lines.forEach((line, l) => {
      const answer = answers[n]![l]!;
      if (answer.unitPrice === null || !priceDiffers(line.unitPrice, answer.unitPrice, tolerance)) return;
      result[i]!.push({ ...line, effectivePrice: answer.unitPrice, priceList: answer.priceList!, source: answer.source! });
    });
  });
  return result;
}

// Half a cent: a price rounded differently is not a different price.
const DEFAULT_TOLERANCE = 0.005;

export class PriceMismatchesQuery extends Query<PriceMismatch[][]> {
  constructor(
    readonly orders: readonly PricedOrder[],
    readonly sql?: Sql,
  ) {
    super();
  }
}

@QueryHandler(PriceMismatchesQuery)
export class PriceMismatchesHandler implements IQueryHandler<PriceMismatchesQuery, PriceMismatch[][]> {
  constructor(private readonly lookup: PriceLookup) {}

  execute({ orders, sql }: PriceMismatchesQuery): Promise<PriceMismatch[][]> {
    return priceMismatches(this.lookup, orders, sql);
  }
}

/** Effective prices of lines for a channel and customer, e.g. for the order intake's price check. */
export class EffectivePricesQuery extends Query<PriceAnswer[]> {
  constructor(
    readonly pricing: ChannelPricing,
    readonly questions: ReadonlyArray<{ sku: string; quantity: number; customer?: string }>,
    readonly sql?: Sql,
  ) {
    super();
  }
}

@QueryHandler(EffectivePricesQuery)
export class EffectivePricesHandler implements IQueryHandler<EffectivePricesQuery, PriceAnswer[]> {
  constructor(private readonly lookup: PriceLookup) {}

  execute({ pricing, questions, sql }: EffectivePricesQuery): Promise<PriceAnswer[]> {
    return this.lookup.prices(pricing, questions, sql);
  }
}
