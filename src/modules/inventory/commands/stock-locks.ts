import type { Sql } from '../../../platform/database/transaction.js';

/**
 * Serialises every change to the stock picture of these SKUs (levels, movements, reservations) until the
 * transaction ends: each recomputation of a SKU's figures sees the one before it, so a figure computed from an
 * older picture is never written after a newer one. Taken in one order, so two batches cannot deadlock.
 */
export async function lockSkus(sql: Sql, skus: Iterable<string>): Promise<string[]> {
  const sorted = [...new Set(skus)].sort();
  if (sorted.length > 0) {
    await sql.query(`select count(pg_advisory_xact_lock(hashtextextended('stock:' || s, 0))) from unnest($1::text[]) with ordinality as u(s, n)`, [sorted]);
  }
  return sorted;
}
