import { Query } from '@nestjs/cqrs';
import type { Sql } from '../../../../platform/database/transaction.js';
import type { ChannelStockRules } from '../../domain/available-to-sell.js';

/** What a channel may sell per SKU and warehouse; a SKU with no stock known is absent. */
export interface SellableStock {
  bySku: Record<string, Record<string, number>>;
}

/**
 * What a channel may sell of each SKU, per warehouse, for an order intake's split, in the intake's
 * transaction. It takes the SKUs' locks, held until that transaction ends, so that the reservations the
 * intake then makes (ReserveStockCommand) are checked against figures no one else changed meanwhile.
 */
export class SellableStockQuery extends Query<SellableStock> {
  constructor(
    readonly sql: Sql,
    readonly inventory: ChannelStockRules,
    readonly skus: readonly string[],
  ) {
    super();
  }
}
