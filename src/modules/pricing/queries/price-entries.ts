import type { Sql } from '../../../platform/database/transaction.js';
import type { PriceEntry } from '../domain/effective-price.js';

/** A transaction or the pool: these reads need no transaction of their own. */
export type Reader = { query: Sql['query'] };

/**
 * The prices of these SKUs in these currencies, by SKU, with the database's clock (epoch ms) read in the same
 * statement; `customers`: whose own prices to include (list prices always are), and whose price lists to read from
 * the customer read model (a second statement, only when there are customers).
 */
export async function priceEntries(sql: Reader, skus: readonly string[], currencies: readonly string[], customers: readonly string[] = []): Promise<{ bySku: Map<string, PriceEntry[]>; now: number; customerLists: Map<string, string> }> {
  const { rows } = await sql.query<{ price_list: string; sku: string; currency: string; customer: string; min_quantity: string; valid_from: string; valid_to: string; unit_price: string; source: string; now: string }>(
    `select price_list, sku, currency, customer, min_quantity, unit_price, source, extract(epoch from valid_from) * 1000 as valid_from,
            extract(epoch from valid_to) * 1000 as valid_to, extract(epoch from clock_timestamp()) * 1000 as now
       from price_entry where sku = any($1::text[]) and currency = any($2::text[]) and (customer = '' or customer = any($3::text[]))`,
    [skus, currencies, customers],
  );
  const bySku = new Map<string, PriceEntry[]>();
  for (const row of rows) {
    const list = bySku.get(row.sku) ?? [];
    if (list.length === 0) bySku.set(row.sku, list);
    list.push({
      priceList: row.price_list, sku: row.sku, currency: row.currency, customer: row.customer === '' ? null : row.customer,
      minQuantity: Number(row.min_quantity), validFrom: Number(row.valid_from), validTo: Number(row.valid_to), unitPrice: Number(row.unit_price), source: row.source,
    });
  }
  // Without a price, the moment does not matter.
  const now = rows.length > 0 ? Number(rows[0]!.now) : Date.now();
  return { bySku, now, customerLists: await customerLists(sql, customers) };
}

/** The price lists the ERP gives these customers, as the customer read model holds them. */
async function customerLists(sql: Reader, customers: readonly string[]): Promise<Map<string, string>> {
  if (customers.length === 0) return new Map();
  const { rows } = await sql.query<{ number: string; price_list: string }>('select number, price_list from customer_account where number = any($1::text[]) and price_list is not null', [customers]);
  return new Map(rows.map((r) => [r.number, r.price_list]));
}

/** An instant of a price's validity as the API shows it: null when open-ended. */
export function instant(epochMs: number): string | null {
  return Number.isFinite(epochMs) ? new Date(epochMs).toISOString() : null;
}
