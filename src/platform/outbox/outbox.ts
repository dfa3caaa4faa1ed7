import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Sql } from '../database/transaction.js';
import { currentCorrelationId } from '../observability/correlation.js';
import { isTracing, startStoreSpans, traceIdOf } from '../observability/tracing.js';
import type { OutboxMessage } from './message.js';
import { OutboxSignals } from './outbox-signals.js';
import { Subscriptions } from './subscriptions.js';

export interface AddedMessage {
  messageId: string;
  deliveries: Array<{ deliveryId: string; destination: string }>;
}

/**
 * How a state version enters the last-value queue (a producer's write, a dead state replayed): it replaces the
 * pending version of its key only when newer, keeps the key's place in the queue, and starts with no failures.
 */
export const STORE_NEWER_STATE = `on conflict (destination, key) do update
  set type = excluded.type, message_id = excluded.message_id, delivery_id = excluded.delivery_id, version = excluded.version,
      payload = excluded.payload, state_value = excluded.state_value, correlation_id = excluded.correlation_id,
      causation_id = excluded.causation_id, trace_context = excluded.trace_context, priority = greatest(state_outbox.priority, excluded.priority), created_at = excluded.created_at,
      next_attempt_at = least(state_outbox.next_attempt_at, excluded.next_attempt_at), attempts = 0, errors = '[]', first_failed_at = null, last_failed_at = null
  where excluded.version > state_outbox.version`;

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
      return {
        message, messageId, correlationId: message.correlationId ?? current ?? messageId, traceContext: null as string | null,
        deliveries: destinations.map((destination) => ({ deliveryId: randomUUID(), destination })),
      };
    });
    const sent = added.filter((a) => a.deliveries.length > 0);
    for (const { message } of sent) if (message.kind === 'state' && message.version === undefined) throw new Error(`state message ${message.type} for ${message.key} has no version`);
    if (sent.length === 0) return added.map((a) => ({ messageId: a.messageId, deliveries: a.deliveries }));
    // Tracing: each message starts its journey in a span of its trace, whose context is stored with it.
    const spans = isTracing()
      ? startStoreSpans(sent.map((a) => ({ correlationId: a.correlationId, ambient: a.message.correlationId === undefined || a.message.correlationId === current, type: a.message.type })))
      : undefined;
    if (spans) sent.forEach((a, i) => (a.traceContext = spans.traceparents[i]!));
    const rows = sent.flatMap((a) => a.deliveries.map((d) => ({ ...a, ...d })));
    const commands = rows.filter((r) => r.message.kind === 'command');
    const states = rows.filter((r) => r.message.kind === 'state');
    // Newest state per (destination, key) within the call, in key order so that concurrent producers lock alike.
    const newest = new Map<string, (typeof states)[number]>();
    for (const r of states) {
      const chain = `${r.destination}\u0000${r.message.key}`;
      const other = newest.get(chain);
      if (!other || r.message.version! > other.message.version!) newest.set(chain, r);
    }
    const upserts = [...newest.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
    const c = <T>(pick: (row: (typeof rows)[number]) => T) => commands.map(pick);
    const u = <T>(pick: (row: (typeof rows)[number]) => T) => upserts.map(pick);
    // A command's `stored` step is its outbox row itself (TraceQuery reads it as one): a trace row more per command
    // doubled the index entries a stored command costs. States' steps are grouped (storedStates).
    const traced = storedStates(states);
    const t = <T>(pick: (row: (typeof traced)[number]) => T) => traced.map(pick);
    // One round trip: the commands, the states and the states' trace steps.
    try {
      await sql.query(
        `with commands as (
           insert into outbox (message_id, delivery_id, type, kind, key, destination, payload, version, correlation_id, causation_id, priority, state_value, trace_context)
           select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::bigint[], $9::text[], $10::text[], $11::int[], $12::text[], $29::text[])),
         states as (
           insert into state_outbox (destination, key, type, message_id, delivery_id, version, payload, state_value, correlation_id, causation_id, priority, trace_context)
           select * from unnest($13::text[], $14::text[], $15::text[], $16::uuid[], $17::uuid[], $18::bigint[], $19::jsonb[], $20::text[], $21::text[], $22::text[], $23::int[], $30::text[])
           ${STORE_NEWER_STATE})
         insert into trace_event (correlation_id, message_id, delivery_id, destination, step, detail, trace_id)
         select c, m, d, dest, 'stored', detail, trace_id from unnest($24::text[], $25::uuid[], $26::uuid[], $27::text[], $28::jsonb[], $31::text[]) as v(c, m, d, dest, detail, trace_id)`,
        [
          c((r) => r.messageId), c((r) => r.deliveryId), c((r) => r.message.type), c((r) => r.message.kind), c((r) => r.message.key),
          c((r) => r.destination), c((r) => JSON.stringify(r.message.payload)), c((r) => r.message.version ?? null), c((r) => r.correlationId),
          c((r) => r.message.causationId ?? null), c((r) => r.message.priority ?? 0), c((r) => r.message.stateValue ?? null),
          u((r) => r.destination), u((r) => r.message.key), u((r) => r.message.type), u((r) => r.messageId), u((r) => r.deliveryId),
          u((r) => r.message.version!), u((r) => JSON.stringify(r.message.payload)), u((r) => r.message.stateValue ?? null),
          u((r) => r.correlationId), u((r) => r.message.causationId ?? null), u((r) => r.message.priority ?? 0),
          t((r) => r.correlationId), t((r) => r.messageId), t((r) => r.deliveryId), t((r) => r.destination), t((r) => JSON.stringify(r.detail)),
          c((r) => r.traceContext), u((r) => r.traceContext), t((r) => traceIdOf(r.traceContext)),
        ],
      );
    } catch (error) {
      spans?.end(error);
      throw error;
    }
    spans?.end();
    if (commands.length > 0) sql.afterCommit(() => this.signals.committed('outbox', commands.map((r) => r.destination)));
    if (upserts.length > 0) sql.afterCommit(() => this.signals.committed('state', upserts.map((r) => r.destination)));
    return added.map((a) => ({ messageId: a.messageId, deliveries: a.deliveries }));
  }
}

/**
 * The `stored` steps of state versions: one per correlation id, destination and type, naming its keys and
 * versions. A stock batch stores thousands of figures; a row each was as many inserts into the trace as into the
 * queue itself. A version's later steps (delivered, unchanged, superseded...) name its key and version too.
 */
function storedStates(states: ReadonlyArray<{ correlationId: string; destination: string; message: OutboxMessage; traceContext: string | null }>) {
  const groups = new Map<string, { correlationId: string; destination: string; type: string; traceContext: string | null; keys: string[]; versions: number[] }>();
  for (const { correlationId, destination, message, traceContext } of states) {
    const id = `${correlationId}\u0000${destination}\u0000${message.type}`;
    let group = groups.get(id);
    // One correlation id's messages of a call share one trace (startStoreSpans).
    if (!group) groups.set(id, (group = { correlationId, destination, type: message.type, traceContext, keys: [], versions: [] }));
    group.keys.push(message.key);
    group.versions.push(message.version!);
  }
  return [...groups.values()].map(({ correlationId, destination, type, traceContext, keys, versions }) => ({
    correlationId, messageId: null, deliveryId: null, destination, traceContext, detail: { type, states: keys.length, keys, versions },
  }));
}
