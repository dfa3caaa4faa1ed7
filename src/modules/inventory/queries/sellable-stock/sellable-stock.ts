import { Query } from '@nestjs/cqrs';
import type { Sql } from '../../../../platform/database/transaction.js';
import type { ChannelStockRules } from '../../domain/available-to-sell.js';

/** A line part an order takes from a warehouse. */
export interface ReservedLine {
  sku: string;
  warehouse: string;
  quantity: number;
}

/**
 * The stock of some SKUs as one intake transaction sees it, for placing the lines of its orders one after the
 * other: each order is placed against what the orders before it in the same transaction left.
 */
export interface SellableStock {
  /** What a channel may sell of the SKU, per warehouse; undefined when no stock of it is known. */
  forChannel(rules: ChannelStockRules, sku: string): Record<string, number> | undefined;
  /** Counts an order's line parts as reserved for every figure asked after (ReserveStockCommand stores them). */
  take(lines: readonly ReservedLine[]): void;
  /** The SKUs with stock known: locked, and read, by this query. */
  readonly knownSkus: readonly string[];
}

/**
 * The stock of the SKUs an intake's orders ask for, in the intake's transaction. It takes the SKUs' locks,
 * held until that transaction ends, so that the reservations the intake then makes (ReserveStockCommand) are
 * checked against figures no one else changed meanwhile.
 */
export class SellableStockQuery extends Query<SellableStock> {
  constructor(
    readonly sql: Sql,
    readonly skus: readonly string[],
  ) {
    super();
  }
}
