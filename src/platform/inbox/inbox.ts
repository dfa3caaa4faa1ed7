import { Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { currentCorrelationId } from '../observability/correlation.js';

/**
 * Deduplicates inbound events by (source, event id) in the caller's transaction. Of two concurrent
 * deliveries of one event, the second waits for the first to commit and is then told it is a duplicate.
 */
@Injectable()
export class Inbox {
  /** True when the event is new (go on), false for a duplicate (change nothing). */
  async accept(em: EntityManager, source: string, eventId: string): Promise<boolean> {
    const ctx = em.getTransactionContext();
    if (!ctx) throw new Error('inbox.accept must run inside the caller\'s transaction');
    const connection = em.getConnection();
    const result = await connection.execute<{ affectedRows: number }>(
      'insert into inbox (source, event_id) values (?, ?) on conflict do nothing',
      [source, eventId], 'run', ctx,
    );
    const isNew = result.affectedRows === 1;
    await connection.execute(
      "insert into trace_event (correlation_id, step, detail) values (?, 'received', ?::jsonb)",
      [currentCorrelationId() ?? `${source}:${eventId}`, JSON.stringify({ source, eventId, duplicate: !isNew })], 'run', ctx,
    );
    return isNew;
  }
}
