import { Injectable } from '@nestjs/common';
import type { Sql } from '../database/transaction.js';
import { currentCorrelationId } from '../observability/correlation.js';

/**
 * Deduplicates inbound events by (source, event id) in the caller's transaction. Of two concurrent
 * deliveries of one event, the second waits for the first to commit and is then told it is a duplicate.
 */
@Injectable()
export class Inbox {
  /** True when the event is new (go on), false for a duplicate (change nothing). */
  async accept(sql: Sql, source: string, eventId: string): Promise<boolean> {
    const result = await sql.query('insert into inbox (source, event_id) values ($1, $2) on conflict do nothing', [source, eventId]);
    const isNew = result.rowCount === 1;
    await sql.query(
      "insert into trace_event (correlation_id, step, detail) values ($1, 'received', $2::jsonb)",
      [currentCorrelationId() ?? `${source}:${eventId}`, JSON.stringify({ source, eventId, duplicate: !isNew })],
    );
    return isNew;
  }

  /**
   * A batch of events at once: returns the ids that are new (an id twice in the batch is new once). One
   * trace row for the batch.
   */
  async acceptMany(sql: Sql, source: string, eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const { rows } = await sql.query<{ event_id: string }>(
      'insert into inbox (source, event_id) select $1, e from unnest($2::text[]) as e on conflict do nothing returning event_id',
      [source, eventIds],
    );
    await sql.query(
      "insert into trace_event (correlation_id, step, detail) values ($1, 'received', $2::jsonb)",
      [currentCorrelationId() ?? `${source}:${eventIds[0]}`, JSON.stringify({ source, events: eventIds.length, new: rows.length })],
    );
    return new Set(rows.map((r) => r.event_id));
  }

  /** The items whose event ids are new, first occurrence only, and how many of them were seen before. */
  async freshItems<T extends { eventId: string }>(sql: Sql, source: string, items: readonly T[]): Promise<{ fresh: T[]; duplicate: number }> {
    const isNew = await this.acceptMany(sql, source, items.map((i) => i.eventId));
    const fresh = items.filter((item) => isNew.delete(item.eventId));
    return { fresh, duplicate: items.length - fresh.length };
  }
}
