import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type pg from 'pg';
import type { Job } from 'pg-boss';
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
import { BossService } from './boss.service.js';
import { enqueue, queueNextInChain } from './chain.js';
import { DeliveryQueues } from './delivery-queues.js';
import { DELIVERY_SETTINGS, type DeliverySettings } from './delivery-settings.js';
import { Destinations, type DestinationHandler } from './destinations.js';
import { classify, type FailureDetail } from './outcome.js';
import { backoffDelay } from './retry-policy.js';

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
  attempts: number;
  /** A string or a Date, depending on the pool's type parsers. */
  created_at: Date | string;
  delivered_version: string | null;
}

const MAX_ERRORS_KEPT = 20;
// Without a handler in this process (a misconfigured role or a removed connector), look again later.
const NO_HANDLER_RETRY_MS = 30_000;

/** Consumes the delivery queues: one job is one try of one outbox row, settled in one transaction. */
@Injectable()
export class DeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly working = new Set<string>();
  private discoveryTimer?: NodeJS.Timeout;
  private stopped = false;

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

  async onApplicationBootstrap(): Promise<void> {
    if (!this.settings.work) return;
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
    await this.boss.boss.work<{ id: string }>(
      queue,
      { localConcurrency: 2, batchSize, burstWhenBatchFull: batchSize > 1, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 },
      async (jobs) => {
        // Each job is settled on its own; a database failure fails the batch, whose settled jobs then find
        // their rows moved on and do nothing.
        const results = await Promise.allSettled(jobs.map((job) => this.handle(job)));
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      },
    );
  }

  /**
   * One try of one row, in two short transactions around the call: claim and admission, then outcome,
   * release and the next step. Throws only when the database fails, so that pg-boss retries the job.
   */
  async handle(job: Job<{ id: string }>): Promise<void> {
    const destination = destinationOfQueue(job.name);
    const { type, id } = parseDestination(destination);
    const handler = this.destinations.handlerOf(type);
    let limits: TargetLimits | undefined;
    let unusable: string | undefined;
    if (handler) {
      try {
        limits = await handler.limits(id);
      } catch (error) {
        unusable = (error as Error).message;
      }
    }
    const started = await inTransaction(this.pool, async (tx) => {
      const row = await claim(tx, job.data.id, job.id);
      if (!row) return undefined; // superseded, discarded or replaced by a newer job: nothing to do
      if (!handler) {
        this.logger.error({ destination }, `no handler for destination type "${type}" in this process`);
        await this.reschedule(tx, row, NO_HANDLER_RETRY_MS, { step: 'deferred', detail: { reason: 'no-handler' } });
        return undefined;
      }
      if (row.kind === 'state' && row.delivered_version !== null && BigInt(row.version ?? row.id) <= BigInt(row.delivered_version)) {
        await this.finish(tx, row, 'superseded', { step: 'superseded', detail: { deliveredVersion: row.delivered_version } });
        return undefined;
      }
      if (unusable !== undefined || !limits) {
        await this.deadLetter(tx, row, { class: 'permanent', message: `destination ${destination} cannot be used: ${unusable}` });
        return undefined;
      }
      const admission = await this.governor.acquire(tx, destination, limits);
      if (!admission.granted) {
        // Deferred, not failed: no attempt is charged while the target cannot be called.
        const jitter = Math.random() * Math.min(1_000, admission.waitMs * 0.1);
        await this.reschedule(tx, row, admission.waitMs + jitter, { step: 'deferred', detail: { reason: admission.reason, waitMs: admission.waitMs } });
        return undefined;
      }
      return { row, leaseId: admission.leaseId, probe: admission.probe };
    });
    if (!started) return;
    await withCorrelationId(started.row.correlation_id, () => this.call(started.row, handler!, started.leaseId, started.probe));
  }

  private async call(row: ClaimedRow, handler: DestinationHandler, leaseId: string, probe: boolean): Promise<void> {
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
      createdAt: new Date(row.created_at),
    };
    const started = performance.now();
    let failure: FailureDetail | undefined;
    try {
      await handler.deliver(delivery, AbortSignal.timeout(this.settings.callTimeoutMs));
    } catch (error) {
      failure = classify(error);
    }
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    const labels = { flow: row.type, destination: row.destination };
    this.metrics.deliveryAttempts.inc({ ...labels, outcome: failure?.class ?? 'delivered' });
    const attempt: TraceStep = {
      ...this.step(row, { step: 'attempt' }),
      latencyMs,
      detail: { outcome: failure?.class ?? 'delivered', attempt: delivery.attempt, status: failure?.status, message: failure?.message, probe },
    };
    const target = row.destination;

    await inTransaction(this.pool, async (tx) => {
      if (!failure) {
        this.metrics.deliveryLatency.observe(labels, (Date.now() - delivery.createdAt.getTime()) / 1000);
        await this.finish(tx, row, 'delivered', { step: 'delivered' }, [attempt]);
        // Last, so that the target's row, when it must be locked at all, is locked only until the commit.
        return this.governor.release(tx, target, leaseId, { kind: 'success' });
      }
      if (failure.class === 'throttled') {
        const retryAfterMs = failure.retryAfterMs ?? 1_000;
        await this.governor.release(tx, target, leaseId, { kind: 'throttled', retryAfterMs });
        return this.reschedule(tx, row, retryAfterMs, { step: 'deferred', detail: { reason: 'retry-after', waitMs: retryAfterMs } }, [attempt], failure);
      }
      if (failure.class === 'permanent') {
        // The target answered: it is healthy, the message is not.
        await this.deadLetter(tx, row, failure, [attempt]);
        return this.governor.release(tx, target, leaseId, { kind: 'success' });
      }
      await tx.query('update outbox set attempts = attempts + 1 where id = $1', [row.id]);
      await this.governor.release(tx, target, leaseId, { kind: 'failure' }, row.id);
      const charged = (await tx.query<{ attempts: number }>('select attempts from outbox where id = $1', [row.id])).rows[0]!.attempts;
      if (charged >= this.settings.retry.maxAttempts) return this.deadLetter(tx, row, failure, [attempt]);
      const delay = backoffDelay(this.settings.retry, Math.max(1, charged));
      return this.reschedule(tx, row, delay, { step: 'retry-scheduled', detail: { delayMs: delay, attempts: charged } }, [attempt], failure);
    });
  }

  private async reschedule(tx: Tx, row: ClaimedRow, delayMs: number, step: Pick<TraceStep, 'step' | 'detail'>, before: TraceStep[] = [], failure?: FailureDetail): Promise<void> {
    if (failure) await recordFailure(tx, row.id, failure);
    await enqueue(tx, this.boss.boss, [{ id: row.id, destination: row.destination }], new Date(Date.now() + delayMs));
    await recordTrace(tx, [...before, this.step(row, step)]);
  }

  private async deadLetter(tx: Tx, row: ClaimedRow, failure: FailureDetail, before: TraceStep[] = []): Promise<void> {
    this.metrics.deadLetters.inc({ flow: row.type, destination: row.destination, class: failure.class });
    this.logger.warn({ destination: row.destination, deliveryId: row.delivery_id, type: row.type, reason: failure.message, status: failure.status }, 'delivery dead-lettered');
    await this.finish(tx, row, 'dead', { step: 'dead-lettered', detail: { class: failure.class, message: failure.message, status: failure.status } }, before, failure);
  }

  private async finish(tx: Tx, row: ClaimedRow, status: 'delivered' | 'dead' | 'superseded', step: Pick<TraceStep, 'step' | 'detail'>, before: TraceStep[] = [], failure?: FailureDetail): Promise<void> {
    if (failure) await recordFailure(tx, row.id, failure);
    await tx.query(
      `update outbox set status = $2, finished_at = clock_timestamp(), delivered_at = case when $2 = 'delivered' then clock_timestamp() end,
              error_class = coalesce($3, error_class), next_attempt_at = null
        where id = $1`,
      [row.id, status, failure?.class ?? null],
    );
    if (row.kind === 'state' && status === 'delivered') {
      await tx.query(
        `insert into delivered_version (destination, key, version) values ($1, $2, $3)
         on conflict (destination, key) do update set version = greatest(delivered_version.version, excluded.version), delivered_at = now()`,
        [row.destination, row.key, row.version ?? row.id],
      );
    }
    await queueNextInChain(tx, this.boss.boss, row.destination, row.key, row.kind);
    await recordTrace(tx, [...before, this.step(row, step)]);
  }

  private step(row: ClaimedRow, step: Pick<TraceStep, 'step' | 'detail'>): TraceStep {
    return { correlationId: row.correlation_id, messageId: row.message_id, deliveryId: row.delivery_id, destination: row.destination, ...step };
  }
}

async function claim(tx: Tx, rowId: string, jobId: string): Promise<ClaimedRow | undefined> {
  const { rows } = await tx.query<ClaimedRow>(
    `update outbox o set status = 'sending'
      where o.id = $1 and o.job_id = $2 and o.status in ('queued', 'sending')
      returning o.id, o.message_id, o.delivery_id, o.type, o.kind, o.key, o.destination, o.payload, o.version,
                o.correlation_id, o.causation_id, o.attempts, o.created_at,
                (select dv.version from delivered_version dv where dv.destination = o.destination and dv.key = o.key) as delivered_version`,
    [rowId, jobId],
  );
  return rows[0];
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
