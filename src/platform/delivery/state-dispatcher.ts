import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../database/pg-pool.js';
import { inTransaction, type Tx } from '../database/transaction.js';
import { Governor } from '../governor/governor.js';
import { parseDestination, type Delivery } from '../outbox/message.js';
import { OutboxSignals } from '../outbox/outbox-signals.js';
import { withCorrelationId } from '../observability/correlation.js';
import { LOGGER } from '../observability/observability.module.js';
import type { Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { recordTrace, type TraceStep } from '../observability/trace.js';
import { traceIdOf, withTraceContexts } from '../observability/tracing.js';
import { DELIVERY_SETTINGS, type DeliverySettings } from './delivery-settings.js';
import { Destinations, limitsOf, type BatchDeliveryResult, type DeliveryOutcome, type DestinationHandler } from './destinations.js';
import type { FailureDetail } from './outcome.js';
import { backoffDelay } from './retry-policy.js';
import { callTarget, type CallOutcome } from './target-call.js';

interface StateRow {
  destination: string;
  key: string;
  type: string;
  message_id: string;
  delivery_id: string;
  version: string;
  payload: Record<string, unknown>;
  state_value: string | null;
  correlation_id: string;
  causation_id: string | null;
  trace_context: string | null;
  created_at: Date | string;
  attempts: number;
  delivered_version: string | null;
  delivered_value: string | null;
}

const COLUMNS = `destination, key, type, message_id, delivery_id, version, payload, state_value, correlation_id, causation_id, priority,
  created_at, next_attempt_at, attempts, errors, first_failed_at, last_failed_at, trace_context`;
// A version put back in the queue replaces the pending one only when newer (then it is the one to send).
const NEWER_WINS = `type = excluded.type, message_id = excluded.message_id, delivery_id = excluded.delivery_id, version = excluded.version,
  payload = excluded.payload, state_value = excluded.state_value, correlation_id = excluded.correlation_id, causation_id = excluded.causation_id,
  trace_context = excluded.trace_context, priority = greatest(state_outbox.priority, excluded.priority), created_at = excluded.created_at, next_attempt_at = excluded.next_attempt_at,
  attempts = excluded.attempts, errors = excluded.errors, first_failed_at = excluded.first_failed_at, last_failed_at = excluded.last_failed_at`;

/**
 * The claim's order (and state_outbox_due_idx's expression): when a key became due, less a head start of one
 * second per priority point. Urgent figures go before what was queued up to that long before them, and no stream
 * of them holds another key back for longer.
 */
const STATE_QUEUE_ORDER = `timezone('UTC', s.next_attempt_at) - s.priority * interval '1 second'`;

// Sending loops per destination and process: one claims and settles while the other's calls are out.
const LOOPS = 2;
const MAX_BATCH = 100;
// Keys claimed at once for a target that takes batches (several calls of up to its batch size each).
const MAX_BATCHED_CLAIM = 1_000;
const MAX_ERRORS_KEPT = 20;
const ASYNC_COMMIT = { synchronousCommit: false } as const;
// Refusals by the target's own limits: they say the target is busy, not the message (counted in metrics, not traced).
const BUSY_TARGET = new Set(['rate-limit', 'concurrency']);

type Call = { rows: StateRow[]; leaseId: string; probe: boolean };

/** A destination's sending loops: how many run, whether a wake-up came in meanwhile, and until when the target asked them to wait. */
interface Loop {
  running: number;
  again: boolean;
  timer?: NodeJS.Timeout;
  pausedUntil?: number;
}

type Finished = { row: StateRow; how: 'delivered' | 'unchanged' | 'superseded' | 'dead'; failure?: FailureDetail; result?: Record<string, unknown> };
type Rescheduled = { row: StateRow; delayMs: number; charge: boolean; failure?: FailureDetail };

/**
 * Delivers the last-value queue (`state_outbox`): per destination, claims the due keys with SKIP LOCKED, asks
 * the governor once for the batch, calls the target for each admitted key and settles the batch in one
 * transaction. A key is sent by one sender at a time (its lease outlives the call timeout), a version at or
 * below the one delivered is never sent, and a newer version stored meanwhile is sent next, so a subscriber
 * never sees a key's version go back.
 */
@Injectable()
export class StateDispatcher implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loops = new Map<string, Loop>();
  private pollTimer?: NodeJS.Timeout;
  private stopped = false;
  private started = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly signals: OutboxSignals,
    private readonly destinations: Destinations,
    private readonly governor: Governor,
    @Inject(DELIVERY_SETTINGS) private readonly settings: DeliverySettings,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    if (!this.settings.work) return;
    this.signals.on('state', (destinations) => {
      if (destinations) for (const destination of destinations) this.wake(destination);
      else void this.poll();
    });
  }

  onApplicationBootstrap(): void {
    if (!this.settings.work) return;
    this.pollTimer = setInterval(() => void this.poll(), this.settings.statePollMs);
  }

  /**
   * Starts sending, once the configuration file has been applied: a channel it creates must exist before its
   * queued figures are looked at, or they would be dead-lettered as meant for a channel that does not exist.
   */
  start(): void {
    if (!this.settings.work || this.started) return;
    this.started = true;
    void this.poll();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    for (const loop of this.loops.values()) clearTimeout(loop.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Frees keys whose sender's lease expired (a killed process), and wakes every destination with a key due
   * now, or sets a timer for the next one due before the next poll.
   */
  async poll(): Promise<void> {
    if (this.stopped || !this.started) return;
    try {
      const { rows: expired } = await this.pool.query<{ correlation_id: string; message_id: string; delivery_id: string; destination: string; key: string; version: string; trace_context: string | null }>(
        `with expired as (
           delete from state_inflight where (destination, key) in (select destination, key from state_inflight where lease_until < clock_timestamp() for update skip locked)
           returning *),
         back as (
           insert into state_outbox (${COLUMNS}) select ${COLUMNS.replace('next_attempt_at', 'clock_timestamp()')} from expired
           on conflict (destination, key) do update set ${NEWER_WINS} where excluded.version > state_outbox.version)
         select correlation_id, message_id, delivery_id, destination, key, version, trace_context from expired`,
      );
      if (expired.length > 0) {
        // Its sender died mid-call (or lost the database for longer than the lease): the key is sent again.
        this.logger.info({ keys: expired.length }, 'state deliveries whose sender stopped are queued again');
        await recordTrace(this.pool, expired.map((r) => ({
          correlationId: r.correlation_id, messageId: r.message_id, deliveryId: r.delivery_id, destination: r.destination, step: 'lease-expired' as const,
          traceId: traceIdOf(r.trace_context), detail: { key: r.key, version: r.version },
        })));
      }
      const { rows } = await this.pool.query<{ destination: string; due_in_ms: number }>(
        `select destination, extract(epoch from min(next_attempt_at) - clock_timestamp())::float8 * 1000 as due_in_ms
           from state_outbox group by destination`,
      );
      for (const { destination, due_in_ms } of rows) {
        if (due_in_ms <= 0) this.wake(destination);
        else if (due_in_ms < this.settings.statePollMs) this.wakeIn(destination, due_in_ms);
      }
    } catch (error) {
      this.logger.debug({ err: error }, 'state queue poll failed; the next one retries');
    }
  }

  wake(destination: string): void {
    if (this.stopped || !this.started) return;
    const loop = this.loopOf(destination);
    // The target's rate or concurrency refused the last batch: the loops wait until it can take more. A timer
    // set for an earlier pause, or one that fired a moment early, is set again for the rest of the wait.
    if (loop.pausedUntil !== undefined && Date.now() < loop.pausedUntil) {
      this.wakeIn(destination, loop.pausedUntil - Date.now() + 1);
      return;
    }
    loop.again = true;
    while (loop.running < LOOPS) {
      loop.running++;
      const running = this.run(destination, loop).finally(() => this.inFlight.delete(running));
      this.inFlight.add(running);
    }
  }

  private wakeIn(destination: string, ms: number): void {
    const loop = this.loopOf(destination);
    if (loop.timer) return;
    loop.timer = setTimeout(() => {
      loop.timer = undefined;
      this.wake(destination);
    }, Math.ceil(ms));
    loop.timer.unref();
  }

  private loopOf(destination: string) {
    let loop = this.loops.get(destination);
    if (!loop) this.loops.set(destination, (loop = { running: 0, again: false }));
    return loop;
  }

  /**
   * Sends batches while there are due keys, or a wake-up came in meanwhile. When the target's limits refused
   * some of a batch, the loops wait until it can take them instead of claiming keys only to put them back.
   */
  private async run(destination: string, loop: Loop): Promise<void> {
    try {
      for (;;) {
        if (this.stopped) return;
        loop.again = false;
        const { claimed, pauseMs } = await this.dispatch(destination);
        if (pauseMs > 0) {
          loop.pausedUntil = Math.max(loop.pausedUntil ?? 0, Date.now() + pauseMs);
          this.wakeIn(destination, pauseMs);
          return;
        }
        if (claimed === 0 && !loop.again) return;
      }
    } catch (error) {
      // A database that did not answer: the keys stay claimed until their lease ends, or pending; try later.
      this.logger.warn({ err: error, destination }, 'state delivery batch failed; retrying shortly');
      this.wakeIn(destination, 1_000);
    } finally {
      loop.running--;
    }
  }

  /**
   * One batch for one destination; answers how many keys it claimed, and how long the target's rate or
   * concurrency asks to wait before the keys it refused can go (0 when it took the batch).
   */
  async dispatch(destination: string): Promise<{ claimed: number; pauseMs: number }> {
    const { type, id } = parseDestination(destination);
    const handler = this.destinations.handlerOf(type);
    if (!handler) return { claimed: 0, pauseMs: 0 }; // another process, with the handler, sends these
    const { limits, unusable } = await limitsOf(handler, id);
    // A target that takes batches gets up to that many keys of one type a call; the governor counts calls.
    const batches = handler.batchSize && handler.deliverBatch && limits ? (type?: string) => handler.batchSize!(id, type) : undefined;
    const largest = batches ? Math.max(1, await batches()) : 1;
    const callsAtOnce = Math.max(1, Math.ceil((limits?.concurrency ?? MAX_BATCH) / LOOPS));
    const claimSize = largest === 1 ? Math.min(MAX_BATCH, callsAtOnce) : Math.min(MAX_BATCHED_CLAIM, callsAtOnce * largest);
    const claimed = await inTransaction(this.pool, async (tx) => {
      const rows = await this.claim(tx, destination, claimSize);
      const settlement = new StateSettlement(destination, 'state_outbox');
      const callable: StateRow[] = [];
      for (const row of rows) {
        if (row.delivered_version !== null && BigInt(row.version) <= BigInt(row.delivered_version)) {
          settlement.finish({ row, how: 'superseded' }, { step: 'superseded', detail: { deliveredVersion: row.delivered_version } });
        } else if (row.state_value !== null && row.state_value === row.delivered_value) {
          settlement.finish({ row, how: 'unchanged' }, { step: 'unchanged', detail: { deliveredVersion: row.delivered_version } });
        } else if (unusable !== undefined || !limits) {
          this.deadLetter(settlement, row, { class: 'permanent', message: `destination ${destination} cannot be used: ${unusable}` });
        } else callable.push(row);
      }
      let groups: StateRow[][] = [];
      for (const [messageType, rowsOfType] of Map.groupBy(callable, (row) => row.type)) {
        const perCall = batches ? Math.max(1, await batches(messageType)) : 1;
        for (let i = 0; i < rowsOfType.length; i += perCall) groups.push(rowsOfType.slice(i, i + perCall));
      }
      // As many calls as this loop makes at once; the keys claimed beyond them (claimed for a type that takes
      // batches, and found of another) are left due, untouched, for the next turn.
      groups = groups.slice(0, callsAtOnce);
      const calls: Call[] = [];
      let pauseMs = 0;
      if (groups.length > 0) {
        const admissions = await this.governor.acquire(tx, destination, limits!, groups.length);
        let refused = 0;
        for (const [i, rows] of groups.entries()) {
          const admission = admissions[i]!;
          if (admission.granted) {
            calls.push({ rows, leaseId: admission.leaseId, probe: admission.probe });
            continue;
          }
          // Spread the refused keys over the time the target's rate will admit them, so they are not all retried at once.
          const spread = admission.reason === 'rate-limit' ? (refused++ * 1000) / limits!.ratePerSecond : Math.random() * Math.min(1_000, admission.waitMs * 0.1);
          if (BUSY_TARGET.has(admission.reason)) {
            // The target is busy, not the key: the loops wait until it can take these, and the keys keep their
            // place in the queue. Put at its back, a key refused again and again would wait far past keys / rate.
            pauseMs = Math.max(pauseMs, 1, admission.waitMs + spread);
            continue;
          }
          const deferred = { step: 'deferred' as const, detail: { reason: admission.reason, waitMs: admission.waitMs } };
          for (const row of rows) settlement.reschedule({ row, delayMs: admission.waitMs + spread, charge: false }, deferred);
        }
      }
      await settlement.apply(tx, this.destinations);
      if (calls.length > 0) {
        await tx.query(
          `with sending as (delete from state_outbox where destination = $1 and key = any($2::text[]) returning *)
           insert into state_inflight (${COLUMNS}, lease_until) select ${COLUMNS}, clock_timestamp() + $3 * interval '1 millisecond' from sending`,
          [destination, calls.flatMap((c) => c.rows.map((r) => r.key)), this.settings.stateLeaseMs],
        );
      }
      return { count: rows.length, calls, pauseMs };
    }, ASYNC_COMMIT);
    const answer = { claimed: claimed.count, pauseMs: claimed.pauseMs };
    if (claimed.calls.length === 0) return answer;
    const outcomes = await Promise.all(claimed.calls.map(({ rows, probe }) => withCorrelationId(rows[0]!.correlation_id, () => this.call(rows, handler, probe))));
    const traces = claimed.calls.map(({ rows }, i) => (outcomes[i]!.traceparent ? ([rows[0]!.correlation_id, outcomes[i]!.traceparent] as const) : undefined));
    try {
      await withTraceContexts(traces, () => inTransaction(this.pool, (tx) => this.settle(tx, destination, claimed.calls, outcomes), ASYNC_COMMIT));
    } catch (error) {
      // The calls are over: their leases must not hold the target's concurrency until they expire.
      this.governor.releaseWhenPossible(claimed.calls.map((c) => c.leaseId));
      throw error;
    }
    return answer;
  }

  /**
   * Due keys of the destination not being sent already, by how long they have waited, a version of priority p
   * counted as queued p seconds earlier; keys a producer is writing now are skipped (they come next time, with
   * the newer version).
   */
  private async claim(tx: Tx, destination: string, limit: number): Promise<StateRow[]> {
    const { rows } = await tx.query<StateRow>(
      `select s.destination, s.key, s.type, s.message_id, s.delivery_id, s.version, s.payload, s.state_value, s.correlation_id, s.causation_id,
              s.trace_context, s.created_at, s.attempts, dv.version as delivered_version, dv.state_value as delivered_value
         from state_outbox s left join delivered_version dv on dv.destination = s.destination and dv.key = s.key
        where s.destination = $1 and s.next_attempt_at <= clock_timestamp()
          and not exists (select 1 from state_inflight i where i.destination = s.destination and i.key = s.key)
        order by ${STATE_QUEUE_ORDER} limit $2
        for update of s skip locked`,
      [destination, limit],
    );
    return rows;
  }

  /** One call: a single delivery, or a batch of them (all or none) where the target takes batches. */
  private call(rows: StateRow[], handler: DestinationHandler, probe: boolean): Promise<CallOutcome> {
    const deliveries = rows.map((row): Delivery => ({
      deliveryId: row.delivery_id,
      messageId: row.message_id,
      type: row.type,
      kind: 'state',
      key: row.key,
      destination: row.destination,
      payload: row.payload,
      version: Number(row.version),
      correlationId: row.correlation_id,
      causationId: row.causation_id,
      attempt: row.attempts + 1,
      previousValue: row.delivered_value,
      createdAt: new Date(row.created_at),
      traceContext: row.trace_context,
    }));
    if (deliveries.length === 1) return callTarget(handler, deliveries[0]!, this.settings.callTimeoutMs, this.metrics, probe);
    const batch: DestinationHandler = { limits: (id) => handler.limits(id), deliver: (_first, signal) => handler.deliverBatch!(deliveries, signal) };
    return callTarget(batch, deliveries[0]!, this.settings.callTimeoutMs, this.metrics, probe, deliveries);
  }

  /** The outcomes of a batch's calls, in one transaction; the governor's row is taken last, as in the command worker. */
  private async settle(tx: Tx, target: string, calls: Call[], outcomes: CallOutcome[]): Promise<void> {
    const settlement = new StateSettlement(target, 'state_inflight');
    const healthyLeases: string[] = [];
    const failed: Array<{ leaseId: string; release: () => Promise<unknown> }> = [];
    for (const [i, { rows, leaseId }] of calls.entries()) {
      const { failure, attempt, result } = outcomes[i]!;
      // Every key of a batch call shares its outcome; the trace shows each key's own step, in the key's own
      // OpenTelemetry trace where it has one (the call's span is in its first key's).
      const traceOf = (row: StateRow) => traceIdOf(row.trace_context) ?? attempt.traceId;
      const attempts = rows.map((row) => ({ ...attempt, ...stepOf(row, { step: 'attempt', traceId: traceOf(row), detail: { ...attempt.detail, attempt: row.attempts + 1, ...(rows.length > 1 ? { batch: rows.length } : {}) } }), latencyMs: attempt.latencyMs }));
      const batch = rows.length > 1 ? { batch: rows.length } : {};
      if (!failure) {
        // A batch's target may refuse some of its deliveries one by one: those are dead letters with its reason.
        const { rejected, ...rest } = (result ?? {}) as BatchDeliveryResult;
        const refused = new Map((rejected ?? []).map((r) => [r.deliveryId, r.message]));
        const answer = rejected ? rest : result;
        rows.forEach((row, r) => {
          const reason = refused.get(row.delivery_id);
          if (reason !== undefined) this.deadLetter(settlement, row, { class: 'permanent', message: reason }, [{ ...attempts[r]!, detail: { ...attempts[r]!.detail, outcome: 'permanent', message: reason } }]);
          // One step for a successful try: the call's latency and attempt number ride on it (half the trace rows).
          else settlement.finish({ row, how: 'delivered', result: answer }, { step: 'delivered', latencyMs: attempt.latencyMs, traceId: traceOf(row), detail: { attempt: row.attempts + 1, ...batch, ...(answer ? { result: answer } : {}) } });
        });
        healthyLeases.push(leaseId);
      } else if (failure.class === 'throttled') {
        const retryAfterMs = failure.retryAfterMs ?? 1_000;
        failed.push({ leaseId, release: () => this.governor.release(tx, target, leaseId, { kind: 'throttled', retryAfterMs }) });
        rows.forEach((row, r) => settlement.reschedule({ row, delayMs: retryAfterMs, charge: false, failure }, { step: 'deferred', detail: { reason: 'retry-after', waitMs: retryAfterMs, target: 'paused' } }, [attempts[r]!]));
      } else if (failure.class === 'permanent') {
        rows.forEach((row, r) => this.deadLetter(settlement, row, failure, [attempts[r]!]));
        healthyLeases.push(leaseId);
      } else {
        failed.push({
          leaseId,
          release: async () => {
            const transition = await this.governor.release(tx, target, leaseId, { kind: 'failure' }, { stateKey: rows[0]!.key });
            if (transition) settlement.trace(stepOf(rows[0]!, { step: 'circuit', detail: { target, ...transition } }));
          },
        });
        rows.forEach((row, r) => {
          const charged = row.attempts + 1;
          if (charged >= this.settings.retry.maxAttempts) this.deadLetter(settlement, row, failure, [attempts[r]!]);
          else {
            const delayMs = backoffDelay(this.settings.retry, charged);
            settlement.reschedule({ row, delayMs, charge: true, failure }, { step: 'retry-scheduled', detail: { delayMs, attempts: charged } }, [attempts[r]!]);
          }
        });
      }
    }
    await settlement.apply(tx, this.destinations);
    // The charges go in before the governor may refund them (a streak that opens the circuit).
    for (const f of failed) await f.release();
    if (healthyLeases.length > 0) {
      const transition = await this.governor.releaseHealthy(tx, target, healthyLeases);
      if (transition) await recordTrace(tx, [stepOf(calls[0]!.rows[0]!, { step: 'circuit', detail: { target, ...transition } })]);
    }
  }

  private deadLetter(settlement: StateSettlement, row: StateRow, failure: FailureDetail, before: TraceStep[] = []): void {
    this.metrics.deadLetters.inc({ flow: row.type, destination: row.destination, class: failure.class });
    this.logger.warn({ destination: row.destination, deliveryId: row.delivery_id, type: row.type, key: row.key, reason: failure.message, status: failure.status }, 'delivery dead-lettered');
    settlement.finish({ row, how: 'dead', failure }, { step: 'dead-lettered', detail: { class: failure.class, message: failure.message, status: failure.status } }, before);
  }
}

/** A step of one state version: its key and version named, as its `stored` step (one for many versions) names them. */
function stepOf(row: StateRow, step: Pick<TraceStep, 'step' | 'detail' | 'latencyMs' | 'traceId'>): TraceStep {
  return {
    correlationId: row.correlation_id, messageId: row.message_id, deliveryId: row.delivery_id, destination: row.destination, ...step,
    traceId: step.traceId ?? traceIdOf(row.trace_context), detail: { key: row.key, version: row.version, ...step.detail },
  };
}

/**
 * What a batch decided for its keys, written in a few statements, on the table the batch's rows are in: the
 * pending queue while claiming, the in-flight table after the calls. A key put back for a retry yields to a
 * newer version stored meanwhile.
 */
class StateSettlement {
  private readonly finished: Finished[] = [];
  private readonly rescheduled: Rescheduled[] = [];
  private readonly traces: TraceStep[] = [];

  constructor(
    private readonly destination: string,
    private readonly table: 'state_outbox' | 'state_inflight',
  ) {}

  finish(finished: Finished, step: Pick<TraceStep, 'step' | 'detail' | 'latencyMs' | 'traceId'>, before: TraceStep[] = []): void {
    this.finished.push(finished);
    this.traces.push(...before, stepOf(finished.row, step));
  }

  reschedule(rescheduled: Rescheduled, step?: Pick<TraceStep, 'step' | 'detail'>, before: TraceStep[] = []): void {
    this.rescheduled.push(rescheduled);
    this.traces.push(...before, ...(step ? [stepOf(rescheduled.row, step)] : []));
  }

  trace(step: TraceStep): void {
    this.traces.push(step);
  }

  async apply(tx: Tx, destinations: Destinations): Promise<void> {
    const dead = this.finished.filter((f) => f.how === 'dead');
    if (dead.length > 0) {
      // A dead figure becomes an outbox row, where dead letters are inspected, replayed and discarded; dead, it is
      // not finished (finished_at null) until then.
      const col = <T>(pick: (f: Finished) => T) => dead.map(pick);
      await tx.query(
        `insert into outbox (message_id, delivery_id, type, kind, key, destination, payload, version, correlation_id, causation_id, state_value, trace_context,
                             created_at, relayed_at, status, attempts, error_class, errors, first_failed_at, last_failed_at, finished_at)
         select s.message_id, s.delivery_id, s.type, 'state', s.key, s.destination, s.payload, s.version, s.correlation_id, s.causation_id, s.state_value, s.trace_context,
                s.created_at, clock_timestamp(), 'dead', s.attempts + v.charge, v.error_class,
                (case when jsonb_array_length(s.errors) >= $4 then s.errors - 0 else s.errors end) || jsonb_build_array(v.error),
                coalesce(s.first_failed_at, clock_timestamp()), clock_timestamp(), null
           from unnest($2::text[], $3::bigint[], $5::jsonb[], $6::text[], $7::int[]) as v(key, version, error, error_class, charge)
           join ${this.table} s on s.destination = $1 and s.key = v.key and s.version = v.version
         on conflict (delivery_id) do update
           set status = 'dead', attempts = excluded.attempts, error_class = excluded.error_class, errors = excluded.errors,
               last_failed_at = excluded.last_failed_at, finished_at = excluded.finished_at, payload = excluded.payload`,
        [this.destination, col((f) => f.row.key), col((f) => f.row.version), MAX_ERRORS_KEPT, col((f) => JSON.stringify(errorEntry(f.failure!))),
          col((f) => f.failure!.class), col((f) => (f.failure!.class === 'retryable' ? 1 : 0))],
      );
    }
    if (this.finished.length > 0) {
      // Delivered versions raise delivered_version, and every finished row leaves its table, in one statement.
      const sent = this.finished.map((f) => f.how === 'delivered' || f.how === 'unchanged');
      await tx.query(
        `with v as (select * from unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::bool[]) as v(key, version, state_value, type, sent)),
              raised as (
                insert into delivered_version (destination, key, version, state_value, type)
                select $1, key, version, state_value, type from v where sent
                on conflict (destination, key) do update
                  set state_value = case when excluded.version >= delivered_version.version then excluded.state_value else delivered_version.state_value end,
                      version = greatest(delivered_version.version, excluded.version), delivered_at = now(), type = excluded.type)
         delete from ${this.table} s using v where s.destination = $1 and s.key = v.key and s.version = v.version`,
        [this.destination, this.finished.map((f) => f.row.key), this.finished.map((f) => f.row.version), this.finished.map((f) => f.row.state_value),
          this.finished.map((f) => f.row.type), sent],
      );
    }
    if (this.rescheduled.length > 0) {
      const col = <T>(pick: (r: Rescheduled) => T) => this.rescheduled.map(pick);
      const values = [this.destination, col((r) => r.row.key), col((r) => r.delayMs), col((r) => (r.charge ? 1 : 0)),
        col((r) => (r.failure ? JSON.stringify(errorEntry(r.failure)) : null)), MAX_ERRORS_KEPT];
      const retried = {
        attempts: 's.attempts + v.charge',
        next_attempt_at: `clock_timestamp() + v.delay_ms * interval '1 millisecond'`,
        errors: `case when v.error is null then s.errors else (case when jsonb_array_length(s.errors) >= $6 then s.errors - 0 else s.errors end) || jsonb_build_array(v.error) end`,
        first_failed_at: 'case when v.error is null then s.first_failed_at else coalesce(s.first_failed_at, clock_timestamp()) end',
        last_failed_at: 'case when v.error is null then s.last_failed_at else clock_timestamp() end',
      };
      const batch = 'unnest($2::text[], $3::float8[], $4::int[], $5::jsonb[]) as v(key, delay_ms, charge, error)';
      if (this.table === 'state_outbox') {
        const set = Object.entries(retried).map(([column, value]) => `${column} = ${value}`).join(', ');
        await tx.query(`update state_outbox s set ${set} from ${batch} where s.destination = $1 and s.key = v.key`, values);
      } else {
        const select = COLUMNS.split(',').map((c) => c.trim()).map((c) => (c in retried ? retried[c as keyof typeof retried] : `s.${c}`)).join(', ');
        await tx.query(
          `with back as (delete from state_inflight s using ${batch} where s.destination = $1 and s.key = v.key returning s.*, v.delay_ms, v.charge, v.error)
           insert into state_outbox (${COLUMNS}) select ${select} from back s cross join lateral (select s.delay_ms, s.charge, s.error) v
           on conflict (destination, key) do update set ${NEWER_WINS} where excluded.version > state_outbox.version`,
          values,
        );
      }
    }
    const outcomes: DeliveryOutcome[] = this.finished
      .filter((f) => f.how !== 'superseded')
      .map((f) => ({
        event: f.how === 'dead' ? 'dead' : 'delivered',
        delivery: {
          deliveryId: f.row.delivery_id, messageId: f.row.message_id, type: f.row.type, key: f.row.key, destination: f.row.destination,
          correlationId: f.row.correlation_id, payload: f.row.payload, version: Number(f.row.version),
        },
        ...(f.how === 'unchanged' ? { result: { unchanged: true } } : f.result ? { result: f.result } : {}),
        ...(f.failure ? { failure: { class: f.failure.class, message: f.failure.message, status: f.failure.status } } : {}),
      }));
    await destinations.notifyAll(tx, outcomes);
    await recordTrace(tx, this.traces);
  }
}

function errorEntry(failure: FailureDetail) {
  return { at: new Date().toISOString(), class: failure.class, message: failure.message, status: failure.status ?? null, bodyExcerpt: failure.bodyExcerpt ?? null };
}
