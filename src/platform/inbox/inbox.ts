import { Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { asSql, type Sql } from '../database/transaction.js';
import { currentCorrelationId } from '../observability/correlation.js';

/**
 * Deduplicates inbound events by (source, event id) in the caller's transaction. Of two concurrent
 * deliveries of one event, the second waits for the first to commit and is then told it is a duplicate.
 */
@Injectable()
export class Inbox {
  /** True when the event is new (go on), false for a duplicate (change nothing). */
  async accept(transaction: EntityManager | Sql, source: string, eventId: string): Promise<boolean> {
    const sql = asSql(transaction);
    const result = await sql.query('insert into inbox (source, event_id) values ($1, $2) on conflict do nothing', [source, eventId]);
    const isNew = result.rowCount === 1;
    await sql.query(
      "insert into trace_event (correlation_id, step, detail) values ($1, 'received', $2::jsonb)",
      [currentCorrelationId() ?? `${source}:${eventId}`, JSON.stringify({ source, eventId, duplicate: !isNew })],
    );
    return isNew;
  }
}
