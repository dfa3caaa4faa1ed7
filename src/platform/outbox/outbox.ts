import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from '@mikro-orm/postgresql';
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

  /** `em` must be inside the caller's transaction (`em.transactional(...)`). */
  async add(em: EntityManager, message: OutboxMessage, destinations?: string[]): Promise<AddedMessage> {
    const targets = destinations ?? (await this.subscriptions.destinationsOf(em, message));
    const messageId = randomUUID();
    const correlationId = message.correlationId ?? currentCorrelationId() ?? messageId;
    const deliveries = targets.map((destination) => ({ deliveryId: randomUUID(), destination }));
    if (deliveries.length === 0) return { messageId, deliveries };
    const values: unknown[] = [];
    // MikroORM's execute takes `?` placeholders.
    const rows = deliveries.map((d) => {
      values.push(messageId, d.deliveryId, message.type, message.kind, message.key, d.destination, JSON.stringify(message.payload), message.version ?? null, correlationId, message.causationId ?? null);
      return '(?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?)';
    });
    const traceValues: unknown[] = [];
    const traces = deliveries.map((d) => {
      traceValues.push(correlationId, messageId, d.deliveryId, d.destination, JSON.stringify({ type: message.type, key: message.key }));
      return "(?, ?, ?, ?, 'stored', ?::jsonb)";
    });
    const connection = em.getConnection();
    const ctx = em.getTransactionContext();
    if (!ctx) throw new Error('outbox.add must run inside the caller\'s transaction');
    await connection.execute(
      `insert into outbox (message_id, delivery_id, type, kind, key, destination, payload, version, correlation_id, causation_id) values ${rows.join(', ')}`,
      values, 'run', ctx,
    );
    await connection.execute(
      `insert into trace_event (correlation_id, message_id, delivery_id, destination, step, detail) values ${traces.join(', ')}`,
      traceValues, 'run', ctx,
    );
    return { messageId, deliveries };
  }
}
