import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type pg from 'pg';
import type { Job, PgBoss } from 'pg-boss';
import { PG_POOL } from '../database/pg-pool.js';
import { inTransaction, type Tx } from '../database/transaction.js';
import { Governor } from '../governor/governor.js';
import type { TargetLimits } from '../governor/decide.js';
import { parseDestination, type Delivery } from '../outbox/message.js';
import { withCorrelationId } from '../observability/correlation.js';
import { LOGGER } from '../observability/observability.module.js';
import type { Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { recordTrace, type TraceStep } from '../observability/trace.js';
import { traceIdOf, withTraceContexts } from '../observability/tracing.js';
import { BossService } from './boss.service.js';
import { enqueue, lockChains, queueNextInChains, unfinished, type DeliveryJobData } from './chain.js';
import { DeliveryQueues } from './delivery-queues.js';
import { DELIVERY_SETTINGS, type DeliverySettings } from './delivery-settings.js';
import { Destinations, limitsOf, type DeliveryOutcome, type DestinationHandler } from './destinations.js';
import type { FailureDetail } from './outcome.js';
import { callTarget, type CallOutcome } from './target-call.js';
import { backoffDelay } from './retry-policy.js';

interface Round {
  calls: Array<{ row: ClaimedRow; leaseId: string; probe: boolean }>;
  /** Claimed rows the target's concurrency or rate holds back for a moment, and how long. */
  held: ClaimedRow[];
  waitMs: number;
}

// Waits this short are spent with the job instead of rescheduling its rows; a job is worked at most this long.
const HELD_REASONS = new Set(['concurrency', 'rate-limit']);
const MAX_HOLD_MS = 2_000;
const MAX_JOB_MS = 30_000;

interface ClaimedRow {
  id: string;
  message_id: string;
  delivery_id: string;
  type: string;
  kind: 'command' | 'state';
  key: string;
  destination: string;
  payload: Record<string, unknown>;
  version: string | null;
  correlation_id: string;
  causation_id: string | null;
  /** The traceparent the message was stored under (tracing). */
  trace_context: string | null;
  attempts: number;
  /** A string or a Date, depending on the pool's type parsers. */
  created_at: Date | string;
}

const MAX_ERRORS_KEPT = 20;
// Batches a worker takes on its own after one it was given, before it yields back to pg-boss's loop.
const DRAIN_ROUNDS = 20;
// A try's bookkeeping lost in a database crash is redone: the delivery is sent again under the same id.
const ASYNC_COMMIT = { synchronousCommit: false } as const;
// Without a handler in this process (a misconfigured role or a removed connector), look again later.
const NO_HANDLER_RETRY_MS = 30_000;

/** Consumes the delivery queues of commands: one job is one try of one outbox row, settled in one transaction. */
@Injectable()
export class DeliveryWorker implements OnApplicationShutdown {
  private readonly working = new Set<string>();
  private discoveryTimer?: NodeJS.Timeout;
  private stopped = false;
  private started = false;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly boss: BossService,
    private readonly queues: DeliveryQueues,
    private readonly destinations: Destinations,
    private readonly governor: Governor,
    @Inject(DELIVERY_SETTINGS) private readonly settings: DeliverySettings,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  /**
   * Starts consuming, once the configuration file has been applied: a destination it creates must exist before
   * its queued messages are tried, or they would be dead-lettered as meant for one that does not exist.
   */
  async start(): Promise<void> {
    if (!this.settings.work || this.started || this.stopped) return;
    this.started = true;
    this.queues.onQueue((queue) => {
      this.work(queue).catch((error: unknown) => {
        this.working.delete(queue);
        this.logger.error({ err: error, queue }, 'cannot consume a delivery queue');
      });
    });
    await this.queues.discover();
    this.discoveryTimer = setInterval(() => {
      this.queues.discover().catch((error: unknown) => this.logger.warn({ err: error }, 'delivery queue discovery failed'));
    }, this.settings.queueDiscoveryMs);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.discoveryTimer);
  }

  private async work(queue: string): Promise<void> {
    if (this.working.has(queue) || this.stopped) return;
    this.working.add(queue);
    // Two fetch loops per queue, each taking up to half the concurrency in one fetch; while fetches come
    // back full there is a backlog, and the loop fetches again at once instead of waiting for the poll.
    const batchSize = Math.max(1, Math.ceil(this.settings.concurrencyPerQueue / 2));
    await this.boss.boss.work<DeliveryJobData>(
      queue,
      { localConcurrency: 2, batchSize, burstWhenBatchFull: batchSize > 1, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 },
      // A database failure fails the batch; its settled jobs then find their rows moved on and do nothing.
      async (jobs) => {
        await this.handle(jobs);
        // A short batch emptied the queue; a job queued since wakes this loop (the queue notifies).
        if (jobs.length === batchSize) await this.drain(queue, batchSize);
      },
    );
  }

  /**
   * Settling a batch queues the next rows of its chains on this same queue; taking them at once, instead of
   * at the next poll or wake-up, keeps a busy key moving. pg-boss still hands each job to one worker only.
   */
  private async drain(queue: string, batchSize: number): Promise<void> {
    for (let round = 0; round < DRAIN_ROUNDS && !this.stopped; round++) {
      const jobs = await this.boss.boss.fetch<DeliveryJobData>(queue, { batchSize });
      if (jobs.length === 0) return;
      const ids = jobs.map((job) => ({ id: job.id, retryCount: job.retryCount }));
      const keepAlive = setInterval(() => void this.boss.boss.touch(queue, ids).catch(() => undefined), (this.settings.heartbeatSeconds * 1000) / 2);
      try {
        await this.handle(jobs);
        await this.boss.boss.complete(queue, ids);
      } catch (error) {
        await this.boss.boss.fail(queue, ids).catch(() => undefined);
        throw error;
      } finally {
        clearInterval(keepAlive);
      }
      if (jobs.length < batchSize) return;
    }
  }

  /**
   * One try of each row of the fetched jobs (all for one destination). The first transaction claims the rows
   * and asks the governor once for all of them; the admitted rows are called at once and settled together. Rows
   * the target's concurrency or rate holds back for a moment stay with the job and are admitted as calls return;
   * a longer wait (maintenance, Retry-After, an open circuit) reschedules them, without charge. Throws only when
   * the database fails, so that pg-boss retries the jobs.
   */
  async handle(jobs: Array<Job<DeliveryJobData>>): Promise<void> {
    if (jobs.length === 0) return;
    const destination = destinationOfQueue(jobs[0]!.name);
    const { type, id } = parseDestination(destination);
    const handler = this.destinations.handlerOf(type);
    const { limits, unusable } = handler ? await limitsOf(handler, id) : {};
    const startedAt = Date.now();
    let round = await inTransaction(this.pool, async (tx) => {
      const rows = await claim(tx, jobs);
      const settlement = new Settlement(destination, this.destinations);
      const callable: ClaimedRow[] = [];
      for (const row of rows) {
        if (!handler) {
          this.logger.error({ destination }, `no handler for destination type "${type}" in this process`);
          settlement.reschedule(row, NO_HANDLER_RETRY_MS, { step: 'deferred', detail: { reason: 'no-handler' } });
        } else if (unusable !== undefined || !limits) {
          this.deadLetter(settlement, row, { class: 'permanent', message: `destination ${destination} cannot be used: ${unusable}` });
        } else callable.push(row);
      }
      const admitted = await this.admit(tx, settlement, destination, limits, callable, startedAt);
      // The governor's lock was the last one taken: settle in the same transaction, right before the commit.
      await settlement.apply(tx, this.boss.boss);
      return admitted;
    }, ASYNC_COMMIT);
    // Two halves of the batch go round on their own, so that one calls its target while the other settles.
    const halves = [0, 1].map((half): Round => ({ calls: round.calls.filter((_, i) => i % 2 === half), held: round.held.filter((_, i) => i % 2 === half), waitMs: round.waitMs }));
    await Promise.all(halves.map((half) => this.goRound(half, destination, handler, limits, startedAt)));
  }

  /**
   * Calls the admitted rows, settles them, and goes on with the rows held back and the next rows of the settled
   * rows' chains: those are taken on under the job of the row before them, not queued under a new one (the
   * settling transaction claims and admits them), so a busy key moves one transaction a message.
   */
  private async goRound(first: Round, destination: string, handler: DestinationHandler | undefined, limits: TargetLimits | undefined, startedAt: number): Promise<void> {
    let round = first;
    for (;;) {
      if (round.calls.length > 0) {
        const { calls, held } = round;
        const outcomes = await Promise.all(calls.map(({ row, probe }) => withCorrelationId(row.correlation_id, () => this.call(row, handler!, probe))));
        // What the outcomes' owners store meanwhile (an order's status for its channel) continues each call's trace.
        const traces = calls.map(({ row }, i) => (outcomes[i]!.traceparent ? ([row.correlation_id, outcomes[i]!.traceparent] as const) : undefined));
        try {
          round = await withTraceContexts(traces, () => inTransaction(this.pool, async (tx) => {
            const carryOn = !this.stopped && Date.now() - startedAt < MAX_JOB_MS;
            const next = await this.settle(tx, destination, calls, outcomes, carryOn);
            // Slots freed by these calls are taken at once, by the rows held back and the chains' next rows.
            return this.admitAgain(tx, destination, limits!, [...held, ...next], startedAt);
          }, ASYNC_COMMIT));
        } catch (error) {
          this.governor.releaseWhenPossible(calls.map((c) => c.leaseId));
          throw error;
        }
        continue;
      }
      if (round.held.length === 0) return;
      await new Promise((r) => setTimeout(r, round.waitMs));
      const { held } = round;
      round = await inTransaction(this.pool, (tx) => this.admitAgain(tx, destination, limits!, held, startedAt), ASYNC_COMMIT);
    }
  }

  /** Admits rows this job holds; when the process is stopping, they go back to the queue for another worker. */
  private async admitAgain(tx: Tx, destination: string, limits: TargetLimits, rows: ClaimedRow[], startedAt: number): Promise<Round> {
    const settlement = new Settlement(destination, this.destinations);
    let admitted: Round = { calls: [], held: [], waitMs: 0 };
    if (this.stopped) for (const row of rows) settlement.reschedule(row, 0, { step: 'deferred', detail: { reason: 'shutdown' } });
    else admitted = await this.admit(tx, settlement, destination, limits, rows, startedAt);
    await settlement.apply(tx, this.boss.boss);
    return admitted;
  }

  /** Asks the governor for the rows; those it refuses wait with the job, or are rescheduled when the wait is long. */
  private async admit(tx: Tx, settlement: Settlement, destination: string, limits: TargetLimits | undefined, rows: ClaimedRow[], startedAt: number): Promise<Round> {
    const round: Round = { calls: [], held: [], waitMs: 0 };
    if (rows.length === 0 || !limits) return round;
    const admissions = await this.governor.acquire(tx, destination, limits, rows.length);
    for (const [i, row] of rows.entries()) {
      const admission = admissions[i]!;
      if (admission.granted) round.calls.push({ row, leaseId: admission.leaseId, probe: admission.probe });
      else if (HELD_REASONS.has(admission.reason) && admission.waitMs <= MAX_HOLD_MS && Date.now() - startedAt < MAX_JOB_MS) {
        round.held.push(row);
        round.waitMs = admission.waitMs;
      } else {
        // Deferred, not failed: no attempt is charged while the target cannot be called.
        const jitter = Math.random() * Math.min(1_000, admission.waitMs * 0.1);
        settlement.reschedule(row, admission.waitMs + jitter, { step: 'deferred', detail: { reason: admission.reason, waitMs: admission.waitMs } });
      }
    }
    return round;
  }

  private call(row: ClaimedRow, handler: DestinationHandler, probe: boolean): Promise<CallOutcome> {
    const delivery: Delivery = {
      deliveryId: row.delivery_id,
      messageId: row.message_id,
      type: row.type,
      kind: row.kind,
      key: row.key,
      destination: row.destination,
      payload: row.payload,
      version: row.version === null ? null : Number(row.version),
      correlationId: row.correlation_id,
      causationId: row.causation_id,
      attempt: row.attempts + 1,
      previousValue: null,
      createdAt: new Date(row.created_at),
      traceContext: row.trace_context,
    };
    return callTarget(handler, delivery, this.settings.callTimeoutMs, this.metrics, probe);
  }

  /**
   * Records the outcomes of a batch's calls in one transaction. Failures (rare) take the governor's lock one
   * by one; the successes only free their leases, last, so the target's row is never held for long. With
   * `carryOn`, the next rows of the finished rows' chains are claimed and returned, not queued under new jobs.
   */
  private async settle(tx: Tx, target: string, calls: Array<{ row: ClaimedRow; leaseId: string }>, outcomes: CallOutcome[], carryOn = false): Promise<ClaimedRow[]> {
    const settlement = new Settlement(target, this.destinations);
    const healthyLeases: string[] = [];
    for (const [i, { row, leaseId }] of calls.entries()) {
      const { failure, attempt, result, startedAt } = outcomes[i]!;
      settlement.tell(row, { event: !failure ? 'delivered' : 'attempted', attemptedAt: startedAt, result, failure });
      if (!failure) {
        // The successful try is kept on the row, its `delivered` step (TraceQuery): attempt number, latency, answer.
        settlement.delivered(row, { attempt: row.attempts + 1, latencyMs: attempt.latencyMs, traceId: attempt.traceId ?? null, ...(result ? { result } : {}) });
        healthyLeases.push(leaseId);
      } else if (failure.class === 'throttled') {
        const retryAfterMs = failure.retryAfterMs ?? 1_000;
        await this.governor.release(tx, target, leaseId, { kind: 'throttled', retryAfterMs });
        settlement.reschedule(row, retryAfterMs, { step: 'deferred', detail: { reason: 'retry-after', waitMs: retryAfterMs, target: 'paused' } }, [attempt], failure);
      } else if (failure.class === 'permanent') {
        // The target answered: it is healthy, the message is not.
        this.deadLetter(settlement, row, failure, [attempt]);
        healthyLeases.push(leaseId);
      } else {
        await tx.query('update outbox set attempts = attempts + 1 where id = $1', [row.id]);
        const transition = await this.governor.release(tx, target, leaseId, { kind: 'failure' }, row.id);
        if (transition) settlement.trace(stepOf(row, { step: 'circuit', detail: { target, ...transition } }));
        const charged = (await tx.query<{ attempts: number }>('select attempts from outbox where id = $1', [row.id])).rows[0]!.attempts;
        if (charged >= this.settings.retry.maxAttempts) this.deadLetter(settlement, row, failure, [attempt]);
        else {
          const delay = backoffDelay(this.settings.retry, Math.max(1, charged));
          settlement.reschedule(row, delay, { step: 'retry-scheduled', detail: { delayMs: delay, attempts: charged } }, [attempt], failure);
        }
      }
    }
    const next = await settlement.apply(tx, this.boss.boss, carryOn);
    if (healthyLeases.length > 0) {
      const transition = await this.governor.releaseHealthy(tx, target, healthyLeases);
      if (transition) await recordTrace(tx, [stepOf(calls[0]!.row, { step: 'circuit', detail: { target, ...transition } })]);
    }
    return next;
  }

  private deadLetter(settlement: Settlement, row: ClaimedRow, failure: FailureDetail, before: TraceStep[] = []): void {
    this.metrics.deadLetters.inc({ flow: row.type, destination: row.destination, class: failure.class });
    this.logger.warn({ destination: row.destination, deliveryId: row.delivery_id, type: row.type, reason: failure.message, status: failure.status }, 'delivery dead-lettered');
    settlement.finish(row, 'dead', { step: 'dead-lettered', detail: { class: failure.class, message: failure.message, status: failure.status } }, before, failure);
  }
}

function stepOf(row: ClaimedRow, step: Pick<TraceStep, 'step' | 'detail' | 'latencyMs' | 'traceId'>): TraceStep {
  return { correlationId: row.correlation_id, messageId: row.message_id, deliveryId: row.delivery_id, destination: row.destination, ...step, traceId: step.traceId ?? traceIdOf(row.trace_context) };
}

/**
 * What a batch's tries decided, written in a few statements: rows finished (delivered, dead, superseded)
 * and the next rows of their chains queued, rows rescheduled, failures and trace steps recorded.
 */
class Settlement {
  private readonly finished: Array<{ row: ClaimedRow; status: 'delivered' | 'dead' | 'superseded'; failure?: FailureDetail; delivery?: RowDelivery }> = [];
  private readonly rescheduled: Array<{ row: ClaimedRow; delayMs: number; failure?: FailureDetail }> = [];
  private readonly traces: TraceStep[] = [];
  private readonly outcomes: DeliveryOutcome[] = [];

  constructor(
    private readonly destination: string,
    private readonly destinations: Destinations,
  ) {}

  finish(row: ClaimedRow, status: 'dead' | 'superseded', step: Pick<TraceStep, 'step' | 'detail' | 'latencyMs' | 'traceId'>, before: TraceStep[] = [], failure?: FailureDetail): void {
    this.finished.push({ row, status, failure });
    this.traces.push(...before, stepOf(row, step));
    if (status === 'dead') this.tell(row, { event: 'dead', failure });
  }

  /** A delivered row: its step is `delivery`, kept on the row (TraceQuery), not a trace row. */
  delivered(row: ClaimedRow, delivery: RowDelivery): void {
    this.finished.push({ row, status: 'delivered', delivery });
  }

  /** Tells the message's owner, in this transaction; a later word on the same delivery replaces an earlier one. */
  tell(row: ClaimedRow, outcome: Omit<DeliveryOutcome, 'delivery'>): void {
    if (!this.destinations.hasListener(row.type)) return;
    const earlier = this.outcomes.findIndex((o) => o.delivery.deliveryId === row.delivery_id);
    const told: DeliveryOutcome = {
      ...(earlier >= 0 ? this.outcomes[earlier] : {}),
      ...Object.fromEntries(Object.entries(outcome).filter(([, v]) => v !== undefined)),
      delivery: { deliveryId: row.delivery_id, messageId: row.message_id, type: row.type, key: row.key, destination: row.destination, correlationId: row.correlation_id },
    } as DeliveryOutcome;
    if (earlier >= 0) this.outcomes[earlier] = told;
    else this.outcomes.push(told);
  }

  reschedule(row: ClaimedRow, delayMs: number, step: Pick<TraceStep, 'step' | 'detail'>, before: TraceStep[] = [], failure?: FailureDetail): void {
    this.rescheduled.push({ row, delayMs, failure });
    this.traces.push(...before, stepOf(row, step));
  }

  trace(step: TraceStep): void {
    this.traces.push(step);
  }

  async apply(tx: Tx, boss: PgBoss, carryOn = false): Promise<ClaimedRow[]> {
    for (const { row, failure } of [...this.finished, ...this.rescheduled]) if (failure) await recordFailure(tx, row.id, failure);
    const finished = this.finished.map((f) => ({ id: f.row.id, status: f.status, errorClass: f.failure?.class ?? null, delivery: f.delivery ? JSON.stringify(f.delivery) : null }));
    let next: ClaimedRow[] = [];
    if (finished.length > 0 && carryOn) {
      // The chains' locks first, then the rows finished and the next rows taken on in one statement.
      await lockChains(tx, this.destination, this.finished.map((f) => f.row.key));
      next = await finishAndCarryOn(tx, this.destination, finished);
    } else if (finished.length > 0) {
      await tx.query(`update outbox o set ${FINISHED} from ${FINISHED_ROWS} where o.id = v.id`, finishedValues(finished));
      await queueNextInChains(tx, boss, this.destination, this.finished.map((f) => f.row.key));
    }
    if (this.rescheduled.length > 0) {
      const now = Date.now();
      await enqueue(tx, boss, this.rescheduled.map(({ row, delayMs }) => ({ id: row.id, destination: row.destination, startAfter: new Date(now + delayMs) })));
    }
    await this.destinations.notifyAll(tx, this.outcomes);
    await recordTrace(tx, this.traces);
    return next;
  }
}

// A row's end: delivered, dead or superseded. The rows are FINISHED_ROWS, their values finishedValues (the first four).
// A dead row is not finished: it holds its chain (unfinished), until it is replayed or discarded.
const FINISHED = `status = v.status, finished_at = case when v.status <> 'dead' then clock_timestamp() end,
                  delivered_at = case when v.status = 'delivered' then clock_timestamp() end,
                  error_class = coalesce(v.error_class, o.error_class), next_attempt_at = null, delivery = v.delivery`;
const FINISHED_ROWS = 'unnest($1::bigint[], $2::text[], $3::text[], $4::jsonb[]) as v(id, status, error_class, delivery)';

/** The successful call of a delivered command, kept on its row: its `delivered` step. */
interface RowDelivery {
  attempt: number;
  latencyMs: number | null | undefined;
  traceId: string | null;
  result?: unknown;
}

type FinishedRow = { id: string; status: string; errorClass: string | null; delivery: string | null };

function finishedValues(finished: FinishedRow[]): unknown[] {
  return [finished.map((f) => f.id), finished.map((f) => f.status), finished.map((f) => f.errorClass), finished.map((f) => f.delivery)];
}

const CLAIMED_COLUMNS = `o.id, o.message_id, o.delivery_id, o.type, o.kind, o.key, o.destination, o.payload, o.version,
                o.correlation_id, o.causation_id, o.trace_context, o.attempts, o.created_at`;

/**
 * Rows whose current job is one of these (others were superseded, discarded or rescheduled meanwhile). A job
 * fetched again (its worker was killed, or the database failed under it) may have carried its chains on: the
 * rows it took on are the heads of its rows' chains that name it.
 */
async function claim(tx: Tx, jobs: Array<Job<DeliveryJobData>>): Promise<ClaimedRow[]> {
  const pairs = jobs.flatMap((job) => (job.data.ids ?? []).map((id) => ({ id, jobId: job.id })));
  const retried = jobs.some((job) => job.retryCount > 0);
  const carried = `union
       select h.id, j.job_id from unnest($1::bigint[], $2::uuid[]) as j(id, job_id)
         join outbox r on r.id = j.id
        cross join lateral (
          select w.id from outbox w
           where w.destination = r.destination and w.key = r.key and w.kind = 'command'
             and ${unfinished('w')}
           order by w.id limit 1) h`;
  const { rows } = await tx.query<ClaimedRow>(
    `update outbox o set status = 'sending'
       from (select id, job_id from unnest($1::bigint[], $2::uuid[]) as j(id, job_id) ${retried ? carried : ''}) as j
      where o.id = j.id and o.job_id = j.job_id and o.status in ('queued', 'sending')
      returning ${CLAIMED_COLUMNS}`,
    [pairs.map((p) => p.id), pairs.map((p) => p.jobId)],
  );
  return byId(rows);
}

/**
 * Finishes rows and, in the same statement, claims the next command of each one's chain (its oldest unfinished row
 * other than the one finished, when that is waiting; a dead row holds its chain) under the job the finished row
 * was claimed under: a job fetched again finds it as the head of its own row's chain. The statement reads the
 * chains as they were before it: the caller holds their locks (lockChains), so nothing else changed them meanwhile.
 */
async function finishAndCarryOn(tx: Tx, destination: string, finished: FinishedRow[]): Promise<ClaimedRow[]> {
  const { rows } = await tx.query<ClaimedRow>(
    `with finished as (
       update outbox o set ${FINISHED} from ${FINISHED_ROWS} where o.id = v.id
       returning o.id, o.key, o.job_id, o.status),
     next as (
       select head.id, f.job_id from finished f
        cross join lateral (
          select w.id, w.status from outbox w
           where w.destination = $5 and w.key = f.key and w.kind = 'command' and w.id <> f.id
             and ${unfinished('w')}
           order by w.id limit 1) head
        where head.status = 'waiting' and f.status <> 'dead')
     update outbox o set status = 'sending', job_id = next.job_id, next_attempt_at = null from next where o.id = next.id
     returning ${CLAIMED_COLUMNS}`,
    [...finishedValues(finished), destination],
  );
  return byId(rows);
}

function byId(rows: ClaimedRow[]): ClaimedRow[] {
  return rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}

/** `deliver/channel/sink` is the queue of `channel:sink`. */
function destinationOfQueue(queue: string): string {
  const [, type, ...id] = queue.split('/');
  return `${type}:${id.join('/')}`;
}

async function recordFailure(tx: Tx, id: string, failure: FailureDetail): Promise<void> {
  const entry = { at: new Date().toISOString(), class: failure.class, message: failure.message, status: failure.status ?? null, bodyExcerpt: failure.bodyExcerpt ?? null };
  await tx.query(
    `update outbox set errors = (case when jsonb_array_length(errors) >= $3 then errors - 0 else errors end) || jsonb_build_array($2::jsonb),
            first_failed_at = coalesce(first_failed_at, clock_timestamp()), last_failed_at = clock_timestamp()
      where id = $1`,
    [id, JSON.stringify(entry), MAX_ERRORS_KEPT],
  );
}
