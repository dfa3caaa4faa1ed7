import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import type { Sql } from '../../../platform/database/transaction.js';
import type { ChannelPricing } from '../../configuration/index.js';
import { effectivePrice, type PriceSource } from '../domain/effective-price.js';
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

/**
 * Effective prices for a channel, from PostgreSQL in one round trip (the entries of the SKUs and the customer's
 * list) and the pure rule. Other modules ask through the query bus (EffectivePricesQuery).
 */
@Injectable()
export class PriceLookup {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async prices(pricing: ChannelPricing, questions: ReadonlyArray<{ sku: string; quantity: number; customer?: string }>, sql: Reader = this.pool): Promise<PriceAnswer[]> {
    if (questions.length === 0) return [];
    const customers = [...new Set(questions.flatMap((q) => (q.customer ? [q.customer] : [])))];
    const { bySku, now, customerLists } = await priceEntries(sql, [...new Set(questions.map((q) => q.sku))], [pricing.currency], customers);
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
