import type { Sql } from '../../../platform/database/transaction.js';
import type { PriceEntry } from '../domain/effective-price.js';

/** A transaction or the pool: these reads need no transaction of their own. */
export type Reader = { query: Sql['query'] };

/**
 * The prices of these SKUs in these currencies, by SKU, with the database's clock (epoch ms) read in the same
 * statement; `customers`: whose own prices to include (list prices always are). One round trip.
 */
export async function priceEntries(sql: Reader, skus: readonly string[], currencies: readonly string[], customers: readonly string[] = []): Promise<{ bySku: Map<string, PriceEntry[]>; now: number; customerLists: Map<string, string> }> {
  const { rows } = await sql.query<{ price_list: string; sku: string; currency: string; customer: string; min_quantity: string; valid_from: number; valid_to: number; unit_price: string; source: string; now: number; lists: Record<string, string> | null }>(
    `select p.price_list, p.sku, p.currency, p.customer, p.min_quantity, p.unit_price, p.source,
            extract(epoch from p.valid_from) * 1000 as valid_from, extract(epoch from p.valid_to) * 1000 as valid_to, n.now, n.lists
       from (select extract(epoch from clock_timestamp()) * 1000 as now,
                    -- the customers' price lists in the ERP, as the customer read model holds them
                    (select jsonb_object_agg(number, price_list) from customer_account where number = any($3::text[]) and price_list is not null) as lists) n
       left join price_entry p on p.sku = any($1::text[]) and p.currency = any($2::text[]) and (p.customer = '' or p.customer = any($3::text[]))`,
    [skus, currencies, customers],
  );
  const bySku = new Map<string, PriceEntry[]>();
  for (const row of rows) {
    if (row.sku === null) continue;
    const list = bySku.get(row.sku) ?? [];
    if (list.length === 0) bySku.set(row.sku, list);
    list.push({
      priceList: row.price_list, sku: row.sku, currency: row.currency, customer: row.customer === '' ? null : row.customer,
      minQuantity: Number(row.min_quantity), validFrom: Number(row.valid_from), validTo: Number(row.valid_to), unitPrice: Number(row.unit_price), source: row.source,
    });
  }
  return { bySku, now: Number(rows[0]!.now), customerLists: new Map(Object.entries(rows[0]!.lists ?? {})) };
}

/** An instant of a price's validity as the API shows it: null when open-ended. */
export function instant(epochMs: number): string | null {
  return Number.isFinite(epochMs) ? new Date(epochMs).toISOString() : null;
}
