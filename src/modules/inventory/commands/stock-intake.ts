import { Injectable } from '@nestjs/common';
import type { Sql } from '../../../platform/database/transaction.js';
import { isNewer, orderingOf, type Indexed, type IntakeCounts } from '../../../platform/http/batch-items.js';
import { Inbox } from '../../../platform/inbox/inbox.js';
import { AvailabilityPublisher } from './availability-publisher.js';
import { lockSkus } from './stock-locks.js';

export interface LevelItem {
  eventId: string;
  sku: string;
  warehouse: string;
  onHand: number;
  reserved?: number;
  sequence?: number;
  occurredAt?: string;
}

export interface MovementItem {
  eventId: string;
  sku: string;
  warehouse: string;
  delta: number;
  sequence: number;
}



/**
 * Stock reports from a source, a batch in one transaction and a few set-based statements: deduplicated by
 * event id, applied where newer than what is stored, then the affected SKUs' channel figures recomputed.
 */
@Injectable()
export class StockIntake {
  constructor(
    private readonly inbox: Inbox,
    private readonly availability: AvailabilityPublisher,
  ) {}

  async applyLevels(sql: Sql, source: string, items: ReadonlyArray<Indexed<LevelItem>>, counts: IntakeCounts): Promise<void> {
    if (items.length === 0) return;
    await lockSkus(sql, items.map((i) => i.sku));
    const { fresh, duplicate } = await this.inbox.freshItems(sql, source, items);
    counts.duplicate += duplicate;
    // Newest report per position within the batch; the older ones are stale already.
    const newest = new Map<string, Indexed<LevelItem>>();
    for (const item of fresh) {
      const key = `${item.sku}\u0000${item.warehouse}`;
      const other = newest.get(key);
      if (!other) newest.set(key, item);
      else if (orderingOf(other) !== orderingOf(item)) counts.errors.push(mixedOrdering(item));
      else if (isNewer(item, other)) {
        newest.set(key, item);
        counts.stale++;
      } else counts.stale++;
    }
    const candidates = [...newest.values()];
    const { rows: orderings } = await sql.query<{ sku: string; warehouse: string; ordering: string | null }>(
      `select p.sku, p.warehouse, p.ordering from unnest($1::text[], $2::text[]) as v(sku, warehouse)
         join stock_position p on p.sku = v.sku and p.warehouse = v.warehouse`,
      [candidates.map((c) => c.sku), candidates.map((c) => c.warehouse)],
    );
    const stored = new Map(orderings.map((o) => [`${o.sku}\u0000${o.warehouse}`, o.ordering]));
    const applicable = candidates.filter((item) => {
      const ordering = stored.get(`${item.sku}\u0000${item.warehouse}`);
      if (ordering && ordering !== orderingOf(item)) {
        counts.errors.push({ index: item.index, eventId: item.eventId, field: ordering, message: `this position is ordered by ${ordering}; send ${ordering}` });
        return false;
      }
      return true;
    });
    if (applicable.length === 0) return;
    const { rows: applied } = await sql.query<{ sku: string; warehouse: string; at: string }>(
      `insert into stock_position (sku, warehouse, on_hand, reserved, ordering, sequence, occurred_at, source, updated_at)
       select v.sku, v.warehouse, v.on_hand, v.reserved, v.ordering, v.sequence, v.occurred_at, $8, clock_timestamp()
         from unnest($1::text[], $2::text[], $3::numeric[], $4::numeric[], $5::text[], $6::numeric[], $7::timestamptz[])
              as v(sku, warehouse, on_hand, reserved, ordering, sequence, occurred_at)
       on conflict (sku, warehouse) do update
         set on_hand = excluded.on_hand, reserved = excluded.reserved, ordering = excluded.ordering, sequence = excluded.sequence,
             occurred_at = excluded.occurred_at, source = excluded.source, updated_at = excluded.updated_at
         where stock_position.ordering is null
            or (excluded.ordering = 'sequence' and (stock_position.sequence is null or excluded.sequence > stock_position.sequence))
            or (excluded.ordering = 'time' and (stock_position.occurred_at is null or excluded.occurred_at > stock_position.occurred_at))
       returning sku, warehouse, coalesce(occurred_at, updated_at) as at`,
      [
        applicable.map((i) => i.sku), applicable.map((i) => i.warehouse), applicable.map((i) => i.onHand), applicable.map((i) => i.reserved ?? 0),
        applicable.map(orderingOf), applicable.map((i) => i.sequence ?? null), applicable.map((i) => i.occurredAt ?? null), source,
      ],
    );
    counts.accepted += applied.length;
    counts.stale += applicable.length - applied.length;
    if (applied.length === 0) return;
    // A confirmed order's reservation, or a shipped part, ends once a figure from after the confirmation or the shipment includes it.
    await sql.query(
      `update stock_reservation r set ended_at = clock_timestamp(), end_reason = 'included in the source''s figure'
         from unnest($1::text[], $2::text[], $3::timestamptz[]) as v(sku, warehouse, at)
        where r.ended_at is null and r.sku = v.sku and r.warehouse = v.warehouse and (r.confirmed_at < v.at or r.shipped_at < v.at)`,
      [applied.map((a) => a.sku), applied.map((a) => a.warehouse), applied.map((a) => a.at)],
    );
    await this.availability.recompute(sql, [...new Set(applied.map((a) => a.sku))]);
  }

  async applyMovements(sql: Sql, source: string, items: ReadonlyArray<Indexed<MovementItem>>, counts: IntakeCounts): Promise<void> {
    if (items.length === 0) return;
    const skus = await lockSkus(sql, items.map((i) => i.sku));
    const { fresh, duplicate } = await this.inbox.freshItems(sql, source, items);
    counts.duplicate += duplicate;
    const totals = new Map<string, { sku: string; warehouse: string; delta: number }>();
    for (const item of fresh) {
      const key = `${item.sku}\u0000${item.warehouse}`;
      const total = totals.get(key) ?? { sku: item.sku, warehouse: item.warehouse, delta: 0 };
      total.delta = Math.round((total.delta + item.delta) * 1000) / 1000;
      totals.set(key, total);
    }
    counts.accepted += fresh.length;
    const changes = [...totals.values()];
    if (changes.length === 0) return;
    await sql.query(
      `insert into stock_position (sku, warehouse, on_hand, source)
       select v.sku, v.warehouse, v.delta, $4 from unnest($1::text[], $2::text[], $3::numeric[]) as v(sku, warehouse, delta)
       on conflict (sku, warehouse) do update set on_hand = stock_position.on_hand + excluded.on_hand, updated_at = clock_timestamp()`,
      [changes.map((c) => c.sku), changes.map((c) => c.warehouse), changes.map((c) => c.delta), source],
    );
    await this.availability.recompute(sql, skus);
  }
}

function mixedOrdering(item: Indexed<LevelItem>) {
  return { index: item.index, eventId: item.eventId, field: 'sequence', message: 'reports of one position must all carry sequence, or all occurredAt' };
}
