import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { inTransaction } from '../../../platform/database/transaction.js';
import type { Sql } from '../../../platform/database/transaction.js';
import { isNewer, orderingOf, type Indexed, type IntakeCounts } from '../../../platform/http/batch-items.js';
import { Inbox } from '../../../platform/inbox/inbox.js';
import { OutboxSignals } from '../../../platform/outbox/outbox-signals.js';
import { PricePublisher } from './price-publisher.js';
import { lockPrices } from './price-locks.js';

const WITHDRAW_CHUNK = 1000;

/** A price as a source reports it (POST /v1/prices, or a pull from the ERP). */
export interface PriceItem {
  eventId: string;
  priceList: string;
  sku: string;
  currency: string;
  unitPrice: number;
  minQuantity?: number;
  customer?: string | null;
  validFrom?: string | null;
  validTo?: string | null;
  sequence?: number;
  occurredAt?: string;
}

/** What makes a price one price: a dated price is an entry beside the running one (`validFrom` an instant, or null). */
export interface PriceIdentity {
  priceList: string;
  sku: string;
  currency: string;
  customer: string | null;
  minQuantity: number;
  validFrom: string | null;
}

/**
 * Prices from a source, a batch in one transaction and a few set-based statements: deduplicated by event id,
 * applied where newer than what is held for the same identity (list, SKU, currency, customer, quantity break and
 * start), then the affected SKUs' channel prices recomputed and the changed ones published.
 */
@Injectable()
export class PriceIntake {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly inbox: Inbox,
    private readonly publisher: PricePublisher,
    private readonly signals: OutboxSignals,
  ) {}

  async apply(sql: Sql, source: string, items: ReadonlyArray<Indexed<PriceItem>>, counts: IntakeCounts, options: { dedupe: boolean } = { dedupe: true }): Promise<string[]> {
    if (items.length === 0) return [];
    items = items.flatMap((item) => {
      const dated = { ...item, validFrom: utc(item.validFrom), validTo: utc(item.validTo) };
      const problem = problemOf(dated);
      if (problem) counts.errors.push({ index: item.index, eventId: item.eventId, field: `items[${item.index}].${problem.field}`, message: problem.message });
      return problem ? [] : [dated];
    });
    if (items.length === 0) return [];
    const skus = await lockPrices(sql, items.map((i) => i.sku));
    const { fresh, duplicate } = options.dedupe ? await this.inbox.freshItems(sql, source, items) : { fresh: items, duplicate: 0 };
    counts.duplicate += duplicate;
    // Items refused after their event ids were recorded: a corrected one may come again under the same id.
    const refused: string[] = [];
    const newest = new Map<string, Indexed<PriceItem>>();
    for (const item of fresh) {
      const key = identityOf(item);
      const other = newest.get(key);
      if (!other) newest.set(key, item);
      else if (orderingOf(other) !== orderingOf(item)) {
        counts.errors.push(mixedOrdering(item));
        refused.push(item.eventId);
      }
      else {
        if (isNewer(item, other)) newest.set(key, item);
        counts.stale++;
      }
    }
    const candidates = [...newest.values()];
    if (candidates.length === 0) return [];
    const { rows } = await sql.query<{ i: number; outcome: 'applied' | 'unchanged' | 'stale' | 'ordering'; ordering: string | null; sku: string }>(
      `with v as (
         select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::timestamptz[], $7::timestamptz[], $8::numeric[],
                              $9::text[], $10::numeric[], $11::timestamptz[]) with ordinality
                as v(price_list, sku, currency, customer, min_quantity, valid_from, valid_to, unit_price, ordering, sequence, occurred_at, i)),
       held as (
         select v.i, p.ordering, p.sequence, p.occurred_at, p.unit_price, p.valid_to from v
           join price_entry p on p.sku = v.sku and p.currency = v.currency and p.price_list = v.price_list and p.customer = v.customer
                              and p.min_quantity = v.min_quantity and p.valid_from = v.valid_from
            for update of p),
       judged as (
         select v.*, case
                  when h.i is null then 'applied'
                  when h.ordering <> v.ordering then 'ordering'
                  when (v.ordering = 'sequence' and v.sequence <= h.sequence) or (v.ordering = 'time' and v.occurred_at <= h.occurred_at) then 'stale'
                  when h.unit_price = v.unit_price and h.valid_to = v.valid_to then 'unchanged'
                  else 'applied' end as outcome, h.ordering as held_ordering
           from v left join held h on h.i = v.i),
       written as (
         insert into price_entry (price_list, sku, currency, customer, min_quantity, valid_from, valid_to, unit_price, ordering, sequence, occurred_at, source)
         select price_list, sku, currency, customer, min_quantity, valid_from, valid_to, unit_price, ordering, sequence, occurred_at, $12
           from judged where outcome in ('applied', 'unchanged')
         on conflict (sku, currency, price_list, customer, min_quantity, valid_from) do update
           set valid_to = excluded.valid_to, unit_price = excluded.unit_price, sequence = excluded.sequence, occurred_at = excluded.occurred_at,
               source = excluded.source, updated_at = clock_timestamp())
       select i::int, outcome, held_ordering as ordering, sku from judged order by i`,
      [
        candidates.map((c) => c.priceList), candidates.map((c) => c.sku), candidates.map((c) => c.currency), candidates.map((c) => c.customer ?? ''),
        candidates.map((c) => c.minQuantity ?? 0), candidates.map((c) => c.validFrom ?? '-infinity'), candidates.map((c) => c.validTo ?? 'infinity'),
        candidates.map((c) => c.unitPrice), candidates.map(orderingOf), candidates.map((c) => c.sequence ?? null), candidates.map((c) => c.occurredAt ?? null), source,
      ],
    );
    const changed = new Set<string>();
    for (const row of rows) {
      const item = candidates[row.i - 1]!;
      if (row.outcome === 'stale') counts.stale++;
      else if (row.outcome === 'ordering') {
        counts.errors.push({ index: item.index, eventId: item.eventId, field: row.ordering!, message: `this price is ordered by ${row.ordering}; send ${row.ordering}` });
        refused.push(item.eventId);
      } else {
        counts.accepted++;
        if (row.outcome === 'applied') changed.add(row.sku);
      }
    }
    if (options.dedupe && refused.length > 0) await sql.query('delete from inbox where source = $1 and event_id = any($2::text[])', [source, refused]);
    await this.publisher.recompute(sql, [...changed]);
    this.repriced(sql, [...changed]);
    return skus;
  }

  /**
   * Ends what a source no longer holds (a pull is a snapshot): its prices not written since `since` are deleted,
   * but those of `keep` (SKUs the read could not map), a thousand SKUs a transaction, each recomputed. Answers how
   * many prices were deleted.
   */
  async withdrawUnseen(source: string, since: string, keep: ReadonlySet<string>): Promise<number> {
    const { rows } = await this.pool.query<{ sku: string }>('select distinct sku from price_entry where source = $1 and updated_at < $2 order by sku', [source, since]);
    const skus = rows.map((r) => r.sku).filter((sku) => !keep.has(sku));
    let deleted = 0;
    for (let i = 0; i < skus.length; i += WITHDRAW_CHUNK) {
      deleted += await inTransaction(this.pool, async (tx) => {
        const chunk = await lockPrices(tx, skus.slice(i, i + WITHDRAW_CHUNK));
        const { rowCount } = await tx.query('delete from price_entry where source = $1 and updated_at < $2 and sku = any($3::text[])', [source, since, chunk]);
        await this.publisher.recompute(tx, chunk);
        this.repriced(tx, chunk);
        return rowCount ?? 0;
      });
    }
    return deleted;
  }

  /**
   * Deletes these prices of `source` in the caller's transaction, under the SKUs' price locks, unless reported again
   * after `asOf` (that newer report stands), and recomputes the SKUs' channel prices: one price the source withdrew.
   * Answers how many were deleted.
   */
  async withdraw(sql: Sql, source: string, prices: readonly PriceIdentity[], asOf: string): Promise<number> {
    if (prices.length === 0) return 0;
    const skus = await lockPrices(sql, prices.map((p) => p.sku));
    const { rowCount } = await sql.query(
      `delete from price_entry p
        using unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::timestamptz[]) as v(price_list, sku, currency, customer, min_quantity, valid_from)
        where p.source = $1 and p.sku = v.sku and p.currency = v.currency and p.price_list = v.price_list and p.customer = v.customer
          and p.min_quantity = v.min_quantity and p.valid_from = v.valid_from and coalesce(p.occurred_at, p.updated_at) <= $8::timestamptz`,
      [
        source, prices.map((p) => p.priceList), prices.map((p) => p.sku), prices.map((p) => p.currency), prices.map((p) => p.customer ?? ''),
        prices.map((p) => p.minQuantity), prices.map((p) => utc(p.validFrom) ?? '-infinity'), asOf,
      ],
    );
    if (!rowCount) return 0;
    await this.publisher.recompute(sql, skus);
    this.repriced(sql, skus);
    return rowCount;
  }

  /** Once the transaction commits, every instance forgets what it cached of these SKUs' prices. */
  private repriced(sql: Sql, skus: string[]): void {
    if (skus.length > 0) sql.afterCommit(() => this.signals.committed('prices', skus));
  }

}

function identityOf(item: PriceItem): string {
  return [item.priceList, item.sku, item.currency, item.customer ?? '', item.minQuantity ?? 0, item.validFrom ? Date.parse(item.validFrom) : '-'].join('\u0000');
}

/** A date alone means its start in UTC, whatever the database session's time zone. */
export function utc(instant: string | null | undefined): string | null {
  if (!instant) return null;
  return /^\d{4}-\d{2}-\d{2}$/.test(instant) ? `${instant}T00:00:00Z` : instant;
}

/** What the database would refuse for the whole batch, refused for the item alone. */
export function problemOf(item: PriceItem): { field: string; message: string } | undefined {
  if (!(item.unitPrice >= 0)) return { field: 'unitPrice', message: 'unitPrice must not be negative' };
  if (item.validFrom && Number.isNaN(Date.parse(item.validFrom))) return { field: 'validFrom', message: 'validFrom must be a date or date-time' };
  if (item.validTo && Number.isNaN(Date.parse(item.validTo))) return { field: 'validTo', message: 'validTo must be a date or date-time' };
  if (item.validFrom && item.validTo && Date.parse(item.validFrom) >= Date.parse(item.validTo)) return { field: 'validTo', message: 'validTo must be after validFrom' };
  if (item.sequence === undefined && !item.occurredAt) return { field: 'sequence', message: 'send exactly one of sequence and occurredAt' };
  return undefined;
}

function mixedOrdering(item: Indexed<PriceItem>) {
  return { index: item.index, eventId: item.eventId, field: 'sequence', message: 'reports of one price must all carry sequence, or all occurredAt' };
}
