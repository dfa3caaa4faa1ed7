import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Sql } from '../database/transaction.js';
import { currentCorrelationId } from '../observability/correlation.js';
import type { OutboxMessage } from './message.js';
import { OutboxSignals } from './outbox-signals.js';
import { Subscriptions } from './subscriptions.js';

export interface AddedMessage {
  messageId: string;
  deliveries: Array<{ deliveryId: string; destination: string }>;
}

/** Writes messages in the caller's transaction: they exist exactly when the change that caused them does. */
@Injectable()
export class Outbox {
  constructor(
    private readonly subscriptions: Subscriptions,
    private readonly signals: OutboxSignals,
  ) {}

  /** `sql` is the caller's transaction (inTransaction's Tx). */
  async add(sql: Sql, message: OutboxMessage, destinations?: string[]): Promise<AddedMessage> {
    const targets = destinations ?? (await this.subscriptions.destinationsOf(sql, message));
    return (await this.addMany(sql, [{ message, destinations: targets }]))[0]!;
  }

  /**
   * Many messages, each to its own destinations, in a few statements: for producers that change much at once.
   * Commands become outbox rows (one per destination, relayed in order); states go to the last-value queue,
   * where a newer version replaces one not sent yet and keeps its place.
   */
  async addMany(sql: Sql, messages: Array<{ message: OutboxMessage; destinations: string[] }>): Promise<AddedMessage[]> {
    if (!sql || typeof sql.query !== 'function' || !('boss' in sql)) throw new Error("outbox writes must run inside the caller's transaction (a Tx)");
    const current = currentCorrelationId();
    const added = messages.map(({ message, destinations }) => {
      const messageId = randomUUID();
      return { message, messageId, correlationId: message.correlationId ?? current ?? messageId, deliveries: destinations.map((destination) => ({ deliveryId: randomUUID(), destination })) };
    });
    const rows = added.flatMap((a) => a.deliveries.map((d) => ({ ...a, ...d })));
    const commands = rows.filter((r) => r.message.kind === 'command');
    const states = rows.filter((r) => r.message.kind === 'state');
    for (const r of states) if (r.message.version === undefined) throw new Error(`state message ${r.message.type} for ${r.message.key} has no version`);
    if (commands.length > 0) {
      const column = <T>(pick: (row: (typeof rows)[number]) => T) => commands.map(pick);
      await sql.query(
        `insert into outbox (message_id, delivery_id, type, kind, key, destination, payload, version, correlation_id, causation_id, priority, state_value)
         select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::bigint[], $9::text[], $10::text[], $11::int[], $12::text[])`,
        [
          column((r) => r.messageId), column((r) => r.deliveryId), column((r) => r.message.type), column((r) => r.message.kind), column((r) => r.message.key),
          column((r) => r.destination), column((r) => JSON.stringify(r.message.payload)), column((r) => r.message.version ?? null), column((r) => r.correlationId),
          column((r) => r.message.causationId ?? null), column((r) => r.message.priority ?? 0), column((r) => r.message.stateValue ?? null),
        ],
      );
      sql.afterCommit(() => this.signals.committed('outbox', commands.map((r) => r.destination)));
    }
    if (states.length > 0) {
      // Newest per (destination, key) within the call, in key order so that concurrent producers lock alike.
      const newest = new Map<string, (typeof states)[number]>();
      for (const r of states) {
        const chain = `${r.destination}\u0000${r.message.key}`;
        const other = newest.get(chain);
        if (!other || r.message.version! > other.message.version!) newest.set(chain, r);
      }
      const upserts = [...newest.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
      const column = <T>(pick: (row: (typeof rows)[number]) => T) => upserts.map(pick);
      await sql.query(
        `insert into state_outbox (destination, key, type, message_id, delivery_id, version, payload, state_value, correlation_id, causation_id, priority)
         select * from unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::bigint[], $7::jsonb[], $8::text[], $9::text[], $10::text[], $11::int[])
         on conflict (destination, key) do update
           set type = excluded.type, message_id = excluded.message_id, delivery_id = excluded.delivery_id, version = excluded.version,
               payload = excluded.payload, state_value = excluded.state_value, correlation_id = excluded.correlation_id,
               causation_id = excluded.causation_id, priority = greatest(state_outbox.priority, excluded.priority), created_at = excluded.created_at,
               next_attempt_at = least(state_outbox.next_attempt_at, excluded.next_attempt_at), attempts = 0, errors = '[]', first_failed_at = null, last_failed_at = null
         where excluded.version > state_outbox.version`,
        [
          column((r) => r.destination), column((r) => r.message.key), column((r) => r.message.type), column((r) => r.messageId), column((r) => r.deliveryId),
          column((r) => r.message.version!), column((r) => JSON.stringify(r.message.payload)), column((r) => r.message.stateValue ?? null),
          column((r) => r.correlationId), column((r) => r.message.causationId ?? null), column((r) => r.message.priority ?? 0),
        ],
      );
      sql.afterCommit(() => this.signals.committed('state', upserts.map((r) => r.destination)));
    }
    if (rows.length > 0) {
      const column = <T>(pick: (row: (typeof rows)[number]) => T) => rows.map(pick);
      await sql.query(
        `insert into trace_event (correlation_id, message_id, delivery_id, destination, step, detail)
         select c, m, d, dest, 'stored', jsonb_strip_nulls(jsonb_build_object('type', t, 'key', k, 'version', v))
           from unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::bigint[]) as v(c, m, d, dest, t, k, v)`,
        [column((r) => r.correlationId), column((r) => r.messageId), column((r) => r.deliveryId), column((r) => r.destination), column((r) => r.message.type), column((r) => r.message.key), column((r) => r.message.version ?? null)],
      );
    }
    return added.map((a) => ({ messageId: a.messageId, deliveries: a.deliveries }));
  }
}
