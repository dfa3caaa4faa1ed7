import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Sql } from '../database/transaction.js';
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

  /** `sql` is the caller's transaction (inTransaction's Tx). */
  async add(sql: Sql, message: OutboxMessage, destinations?: string[]): Promise<AddedMessage> {
    const targets = destinations ?? (await this.subscriptions.destinationsOf(sql, message));
    return (await this.addMany(sql, [{ message, destinations: targets }]))[0]!;
  }

  /** Many messages, each to its own destinations, in two statements: for producers that change much at once. */
  async addMany(sql: Sql, messages: Array<{ message: OutboxMessage; destinations: string[] }>): Promise<AddedMessage[]> {
    if (!sql || typeof sql.query !== 'function' || !('boss' in sql)) throw new Error("outbox writes must run inside the caller's transaction (a Tx)");
    const current = currentCorrelationId();
    const added = messages.map(({ message, destinations }) => {
      const messageId = randomUUID();
      return { message, messageId, correlationId: message.correlationId ?? current ?? messageId, deliveries: destinations.map((destination) => ({ deliveryId: randomUUID(), destination })) };
    });
    const rows = added.flatMap((a) => a.deliveries.map((d) => ({ ...a, ...d })));
    if (rows.length > 0) {
      const column = <T>(pick: (row: (typeof rows)[number]) => T) => rows.map(pick);
      await sql.query(
        `insert into outbox (message_id, delivery_id, type, kind, key, destination, payload, version, correlation_id, causation_id, priority, state_value)
         select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::bigint[], $9::text[], $10::text[], $11::int[], $12::text[])`,
        [
          column((r) => r.messageId), column((r) => r.deliveryId), column((r) => r.message.type), column((r) => r.message.kind), column((r) => r.message.key),
          column((r) => r.destination), column((r) => JSON.stringify(r.message.payload)), column((r) => r.message.version ?? null), column((r) => r.correlationId),
          column((r) => r.message.causationId ?? null), column((r) => r.message.priority ?? 0), column((r) => r.message.stateValue ?? null),
        ],
      );
      await sql.query(
        `insert into trace_event (correlation_id, message_id, delivery_id, destination, step, detail)
         select c, m, d, dest, 'stored', jsonb_build_object('type', t, 'key', k) from unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[]) as v(c, m, d, dest, t, k)`,
        [column((r) => r.correlationId), column((r) => r.messageId), column((r) => r.deliveryId), column((r) => r.destination), column((r) => r.message.type), column((r) => r.message.key)],
      );
    }
    return added.map((a) => ({ messageId: a.messageId, deliveries: a.deliveries }));
  }
}
