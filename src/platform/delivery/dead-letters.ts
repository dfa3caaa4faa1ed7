import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { AuditLog } from '../audit/audit-log.js';
import { PG_POOL } from '../database/pg-pool.js';
import { inTransaction } from '../database/transaction.js';
import { Metrics } from '../observability/metrics.js';
import { recordTrace } from '../observability/trace.js';
import { BossService } from './boss.service.js';
import { enqueue, queueNextInChains } from './chain.js';
import { Destinations } from './destinations.js';
import { OutboxSignals } from '../outbox/outbox-signals.js';
import { STORE_NEWER_STATE } from '../outbox/outbox.js';

export interface DeadLetterFilter {
  flow?: string;
  destination?: string;
  errorClass?: string;
  /** Only dead letters whose last failure is at least this old / at most this old. */
  olderThanSeconds?: number;
  newerThanSeconds?: number;
}

export interface DeadLetterSummary {
  id: string;
  flow: string;
  destination: string;
  key: string;
  kind: string;
  errorClass: string | null;
  lastError: string | null;
  attempts: number;
  replays: number;
  firstFailedAt: Date | null;
  lastFailedAt: Date | null;
  correlationId: string;
}

const SUMMARY_COLUMNS = `delivery_id as id, type as flow, destination, key, kind, error_class as "errorClass",
  errors -> -1 ->> 'message' as "lastError", attempts, replays, first_failed_at as "firstFailedAt",
  last_failed_at as "lastFailedAt", correlation_id as "correlationId", id as seq`;

/** What failed for good: inspected, replayed (with the same idempotency key) or discarded, every action audited. */
@Injectable()
export class DeadLetters {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly boss: BossService,
    private readonly audit: AuditLog,
    private readonly metrics: Metrics,
    private readonly destinations: Destinations,
    private readonly signals: OutboxSignals,
  ) {}

  async list(filter: DeadLetterFilter, limit: number, after?: string): Promise<{ items: DeadLetterSummary[]; nextCursor: string | null }> {
    const { where, values } = whereOf(filter);
    if (after) values.push(after);
    const { rows } = await this.pool.query(
      `select ${SUMMARY_COLUMNS} from outbox where ${where.join(' and ')}${after ? ` and id > $${values.length}` : ''} order by id limit ${limit + 1}`,
      values,
    );
    const more = rows.length > limit;
    const items = rows.slice(0, limit);
    return { items: items.map(({ seq: _seq, ...item }) => item), nextCursor: more ? String(items.at(-1)!.seq) : null };
  }

  async get(deliveryId: string) {
    const { rows } = await this.pool.query(
      `select delivery_id as id, message_id as "messageId", type as flow, kind, key, destination, payload, version, status,
              correlation_id as "correlationId", causation_id as "causationId", attempts, replays, error_class as "errorClass",
              errors, first_failed_at as "firstFailedAt", last_failed_at as "lastFailedAt", created_at as "createdAt"
         from outbox where delivery_id = $1 and status = 'dead'`,
      [deliveryId],
    );
    return rows[0];
  }

  /**
   * Sends it again under the same delivery id, optionally with a corrected payload; false if it is not dead.
   * A dead state goes back to the last-value queue, where a newer version of its key, stored or delivered
   * since, wins over it.
   */
  async replay(deliveryId: string, actor: string, payload?: Record<string, unknown>, reason?: string): Promise<boolean> {
    return inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query(
        `update outbox set attempts = 0, replays = replays + 1, finished_at = case when kind = 'state' then clock_timestamp() end,
                status = case when kind = 'state' then 'superseded' else status end, payload = coalesce($2::jsonb, payload)
          where delivery_id = $1 and status = 'dead'
          returning id, kind, destination, type, key, message_id, correlation_id, causation_id, payload, version, state_value, priority, trace_context`,
        [deliveryId, payload ? JSON.stringify(payload) : null],
      );
      const row = rows[0];
      if (!row) return false;
      if (row.kind === 'state') {
        await tx.query(
          `insert into state_outbox (destination, key, type, message_id, delivery_id, version, payload, state_value, correlation_id, causation_id, priority, trace_context)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ${STORE_NEWER_STATE}`,
          [row.destination, row.key, row.type, row.message_id, deliveryId, row.version, JSON.stringify(row.payload), row.state_value, row.correlation_id, row.causation_id, row.priority, row.trace_context],
        );
        tx.afterCommit(() => this.signals.committed('state', [row.destination]));
      } else await enqueue(tx, this.boss.boss, [{ id: row.id, destination: row.destination }]);
      await this.destinations.notify(tx, {
        event: 'replayed',
        delivery: { deliveryId, messageId: row.message_id, type: row.type, key: row.key, destination: row.destination, correlationId: row.correlation_id },
      });
      await recordTrace(tx, [{ correlationId: row.correlation_id, messageId: row.message_id, deliveryId, destination: row.destination, step: 'replayed', detail: { actor, edited: payload !== undefined, ...(reason ? { reason } : {}) } }]);
      await this.audit.recordInTransaction(tx, {
        actor, action: 'replay', resourceType: 'dead-letter', resourceId: deliveryId,
        before: null, after: { destination: row.destination, flow: row.type, key: row.key, ...(payload ? { payload } : {}), ...(reason ? { reason } : {}) },
      });
      this.metrics.replays.inc({ flow: row.type, destination: row.destination });
      return true;
    });
  }

  /** Gives it up; the next message of its key, held behind it, goes on. False if it is not dead. */
  async discard(deliveryId: string, actor: string, reason?: string): Promise<boolean> {
    return inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query(
        `update outbox set status = 'discarded', finished_at = clock_timestamp() where delivery_id = $1 and status = 'dead'
          returning destination, key, kind, type, message_id, correlation_id`,
        [deliveryId],
      );
      const row = rows[0];
      if (!row) return false;
      if (row.kind === 'command') await queueNextInChains(tx, this.boss.boss, row.destination, [row.key]);
      await recordTrace(tx, [{ correlationId: row.correlation_id, messageId: row.message_id, deliveryId, destination: row.destination, step: 'discarded', detail: { actor, ...(reason ? { reason } : {}) } }]);
      await this.audit.recordInTransaction(tx, {
        actor, action: 'discard', resourceType: 'dead-letter', resourceId: deliveryId, before: { destination: row.destination, flow: row.type, key: row.key }, after: reason ? { reason } : null,
      });
      return true;
    });
  }

  /** Replays every dead letter the filter selects, oldest first, up to `limit`. */
  async replayMatching(filter: DeadLetterFilter, actor: string, limit: number, reason?: string): Promise<number> {
    return this.eachMatching(filter, limit, (id) => this.replay(id, actor, undefined, reason));
  }

  /** Discards every dead letter the filter selects, oldest first, up to `limit`. */
  async discardMatching(filter: DeadLetterFilter, actor: string, limit: number, reason?: string): Promise<number> {
    return this.eachMatching(filter, limit, (id) => this.discard(id, actor, reason));
  }

  /** The dead letters a filter selects, grouped by flow, destination and failure class, the largest group first. */
  async groups(filter: DeadLetterFilter): Promise<Array<{ flow: string; destination: string; errorClass: string | null; count: number; oldest: Date; newest: Date; lastError: string | null }>> {
    const { where, values } = whereOf(filter);
    const { rows } = await this.pool.query(
      `select type as flow, destination, error_class as "errorClass", count(*)::int as count, min(last_failed_at) as oldest, max(last_failed_at) as newest,
              (array_agg(errors -> -1 ->> 'message' order by id desc))[1] as "lastError"
         from outbox where ${where.join(' and ')}
        group by type, destination, error_class order by count(*) desc, type, destination limit 500`,
      values,
    );
    return rows;
  }

  private async eachMatching(filter: DeadLetterFilter, limit: number, act: (deliveryId: string) => Promise<boolean>): Promise<number> {
    const { where, values } = whereOf(filter);
    const { rows } = await this.pool.query<{ id: string }>(`select delivery_id as id from outbox where ${where.join(' and ')} order by id limit ${limit}`, values);
    let done = 0;
    for (const row of rows) if (await act(row.id)) done++;
    return done;
  }

  /** Keys whose commands are held behind a dead letter, with how many wait. */
  async blockedKeys(limit: number) {
    const { rows } = await this.pool.query(
      `select d.destination, d.key, d.delivery_id as "deadLetterId", d.type as flow, d.last_failed_at as "since",
              (select count(*)::int from outbox w where w.destination = d.destination and w.key = d.key and w.kind = 'command' and w.status = 'waiting') as waiting
         from outbox d where d.status = 'dead' and d.kind = 'command' order by d.id limit $1`,
      [limit],
    );
    return rows;
  }
}

function whereOf(filter: DeadLetterFilter): { where: string[]; values: unknown[] } {
  // A dead row has failed at least once: the index of dead letters is that of the rows that failed (outbox_dead_idx).
  const where = [`status = 'dead'`, 'last_failed_at is not null'];
  const values: unknown[] = [];
  const add = (clause: (p: string) => string, value: unknown) => {
    values.push(value);
    where.push(clause(`$${values.length}`));
  };
  if (filter.flow) add((p) => `type = ${p}`, filter.flow);
  if (filter.destination) add((p) => `destination = ${p}`, filter.destination);
  if (filter.errorClass) add((p) => `error_class = ${p}`, filter.errorClass);
  if (filter.olderThanSeconds !== undefined) add((p) => `last_failed_at <= clock_timestamp() - ${p} * interval '1 second'`, filter.olderThanSeconds);
  if (filter.newerThanSeconds !== undefined) add((p) => `last_failed_at >= clock_timestamp() - ${p} * interval '1 second'`, filter.newerThanSeconds);
  return { where, values };
}
