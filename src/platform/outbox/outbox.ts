import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
import { asSql, type Sql } from '../database/transaction.js';
import { currentCorrelationId } from '../observability/correlation.js';
import type { OutboxMessage } from './message.js';
import { Subscriptions } from './subscriptions.js';

export interface AddedMessage {
  messageId: string;
  deliveries: Array<{ deliveryId: string; destination: string }>;
}

/** Writes messages in the caller's transaction: they exist exactly when the change that caused them does. */
@Injectable()
export class Outbox {
  constructor(private readonly subscriptions: Subscriptions) {}

  /** `transaction` is the caller's: a Tx, or an EntityManager inside `em.transactional(...)`. */
  async add(transaction: EntityManager | Sql, message: OutboxMessage, destinations?: string[]): Promise<AddedMessage> {
    const sql = asSql(transaction);
    const targets = destinations ?? (await this.subscriptions.destinationsOf(sql, message));
    const messageId = randomUUID();
    const correlationId = message.correlationId ?? currentCorrelationId() ?? messageId;
    const deliveries = targets.map((destination) => ({ deliveryId: randomUUID(), destination }));
    if (deliveries.length === 0) return { messageId, deliveries };
    const values: unknown[] = [];
    const rows = deliveries.map((d) => {
      values.push(messageId, d.deliveryId, message.type, message.kind, message.key, d.destination, JSON.stringify(message.payload), message.version ?? null, correlationId, message.causationId ?? null);
      const n = values.length - 10;
      return `($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}, $${n + 6}, $${n + 7}::jsonb, $${n + 8}, $${n + 9}, $${n + 10})`;
    });
    await sql.query(
      `insert into outbox (message_id, delivery_id, type, kind, key, destination, payload, version, correlation_id, causation_id) values ${rows.join(', ')}`,
      values,
    );
    const traceValues: unknown[] = [];
    const traces = deliveries.map((d) => {
      traceValues.push(correlationId, messageId, d.deliveryId, d.destination, JSON.stringify({ type: message.type, key: message.key }));
      const n = traceValues.length - 5;
      return `($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, 'stored', $${n + 5}::jsonb)`;
    });
    await sql.query(`insert into trace_event (correlation_id, message_id, delivery_id, destination, step, detail) values ${traces.join(', ')}`, traceValues);
    return { messageId, deliveries };
  }
}
