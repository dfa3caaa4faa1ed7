import type { Sql } from '../../../platform/database/transaction.js';

/**
 * Serialises every change to the prices of these SKUs until the transaction ends: each recomputation of a SKU's
 * channel prices sees the one before it, so a price computed from older entries is never published after a newer
 * one. Taken in one order, so two batches cannot deadlock.
 */
export async function lockPrices(sql: Sql, skus: Iterable<string>): Promise<string[]> {
  const sorted = [...new Set(skus)].sort();
  if (sorted.length > 0) {
    await sql.query(`select count(pg_advisory_xact_lock(hashtextextended('price:' || s, 0))) from unnest($1::text[]) with ordinality as u(s, n)`, [sorted]);
  }
  return sorted;
}
