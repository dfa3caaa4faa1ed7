import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../database/pg-pool.js';
import { inTransaction, type Tx } from '../database/transaction.js';
import { classify } from '../delivery/outcome.js';
import { LOGGER } from '../observability/observability.module.js';
import type { Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { afterCall, decide, type CallResult, type CircuitSettings, type GovernorState, type TargetLimits, type WaitReason } from './decide.js';

export const GOVERNOR_SETTINGS = Symbol('GOVERNOR_SETTINGS');
export interface GovernorSettings {
  circuit: CircuitSettings;
  /** A lease outlives a call's timeout, so that a killed worker's slot frees itself. */
  leaseMs: number;
}

/** A target cannot be called now (down, paused, in maintenance, at its limits) and will not be soon. */
export class TargetUnavailableError extends Error {
  constructor(
    readonly target: string,
    readonly reason: WaitReason,
    readonly waitMs: number,
  ) {
    super(`${target} cannot be called now (${reason}); try again in ${Math.ceil(waitMs / 1000)} s`);
    this.name = 'TargetUnavailableError';
  }
}

export type CircuitTransition = { from: string; to: string };

export type Admission = { granted: true; leaseId: string; probe: boolean } | { granted: false; waitMs: number; reason: WaitReason };

// Numeric columns arrive as strings: every one goes through Number() before arithmetic.
interface StateRow {
  tokens: number;
  refilled_at: number;
  circuit: GovernorState['circuit'];
  consecutive_failures: number;
  opened_at: number | null;
  paused_until: number | null;
  failure_streak: string[];
  failure_streak_keys: string[];
  now: number;
}

const SELECT_STATE = `
  select tokens, extract(epoch from refilled_at) * 1000 as refilled_at, circuit, consecutive_failures,
         extract(epoch from opened_at) * 1000 as opened_at, extract(epoch from paused_until) * 1000 as paused_until,
         failure_streak, failure_streak_keys, extract(epoch from clock_timestamp()) * 1000 as now
    from governor_state where target = $1 for update`;

interface LeaseCount {
  in_flight: number;
  probe_in_flight: boolean;
}

// Leases are counted after the state row is locked, in a statement of their own: a statement that waited for
// the lock still reads with the snapshot it started with, and would miss the lease of the transaction it
// waited for. Expired leases do not count; housekeeping deletes them.
const COUNT_LEASES = `
  select count(*)::int as in_flight, coalesce(bool_or(probe), false) as probe_in_flight
    from governor_lease where target = $1 and expires_at >= clock_timestamp()`;

/**
 * Rate, concurrency, Retry-After pauses, circuit breaker and maintenance windows per target, decided under a
 * row lock on the target's state so that every instance shares them. Time is the database's clock.
 */
@Injectable()
export class Governor {
  // Leases of calls that returned but could not be settled (the database went away): freed once it answers.
  private readonly orphaned = new Set<string>();
  private orphanTimer?: NodeJS.Timeout;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(GOVERNOR_SETTINGS) private readonly settings: GovernorSettings,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  /**
   * The calls holding these leases are over, but the transaction that would have released them failed. Left
   * alone they would count against the target's concurrency until they expire (twice the call timeout); they
   * are freed as soon as the database answers again, retried every second.
   */
  releaseWhenPossible(leaseIds: readonly string[]): void {
    for (const id of leaseIds) this.orphaned.add(id);
    this.orphanTimer ??= setTimeout(() => void this.freeOrphans(), 1_000);
    this.orphanTimer.unref?.();
  }

  private async freeOrphans(): Promise<void> {
    this.orphanTimer = undefined;
    const ids = [...this.orphaned];
    if (ids.length === 0) return;
    try {
      await this.pool.query('delete from governor_lease where id = any($1::uuid[])', [ids]);
      for (const id of ids) this.orphaned.delete(id);
    } catch {
      this.releaseWhenPossible([]);
    }
  }

  /**
   * Asks, in the caller's transaction, whether `count` calls may start (a worker's batch: the target's lock
   * is taken once for all of them). The row stays locked until the caller commits, so the caller makes this
   * its last statement. Admissions come back in order; once one is refused, the rest wait as long.
   */
  async acquire(tx: Tx, target: string, limits: TargetLimits, count = 1): Promise<Admission[]> {
    const row = await this.lockState(tx, target, limits);
    let state = toState(row);
    let inFlight = { total: row.in_flight, probe: row.probe_in_flight };
    const admissions: Admission[] = [];
    const leases: Array<{ id: string; probe: boolean }> = [];
    for (let i = 0; i < count; i++) {
      const decision = decide(state, limits, this.settings.circuit, inFlight, Number(row.now));
      state = decision.state;
      if (!decision.grant) {
        this.metrics.governorDeferrals.inc({ target, reason: decision.reason }, count - i);
        while (admissions.length < count) admissions.push({ granted: false, waitMs: decision.waitMs, reason: decision.reason });
        break;
      }
      const lease = { id: randomUUID(), probe: decision.probe };
      leases.push(lease);
      inFlight = { total: inFlight.total + 1, probe: inFlight.probe || decision.probe };
      admissions.push({ granted: true, leaseId: lease.id, probe: decision.probe });
    }
    if (state.circuit !== row.circuit) this.circuitChanged(target, row.circuit, state.circuit);
    await this.saveState(tx, target, state, { outbox: row.failure_streak, keys: row.failure_streak_keys }, leases);
    // A commit whose answer was lost may have stored the leases after all: no call runs under them, so they go.
    if (leases.length > 0) tx.afterFailure(() => this.releaseWhenPossible(leases.map((l) => l.id)));
    return admissions;
  }

  /**
   * Frees the lease and applies the call's result. `charged` is what was charged for a retryable failure (an
   * outbox row's id, or the key of a state row of this target): if the failure streak it belongs to opens the
   * circuit, the charge is refunded. A success on a healthy target only frees the lease: no lock is taken on
   * the hot path.
   */
  async release(tx: Tx, target: string, leaseId: string | string[], result: CallResult, charged?: string | { stateKey: string }): Promise<CircuitTransition | undefined> {
    const healthy = await tx.query<{ healthy: boolean }>(
      `with freed as (delete from governor_lease where id = any($2::uuid[]))
       select circuit = 'closed' and consecutive_failures = 0 and cardinality(failure_streak) = 0 and cardinality(failure_streak_keys) = 0 as healthy
         from governor_state where target = $1`,
      [target, [leaseId].flat()],
    );
    if (result.kind === 'success' && healthy.rows[0]?.healthy !== false) return undefined;
    const found = await tx.query<StateRow>(SELECT_STATE, [target]);
    const row = found.rows[0];
    if (!row) return undefined;
    const { state, transition } = afterCall(toState(row), result, this.settings.circuit, Number(row.now));
    let streak = { outbox: row.failure_streak, keys: row.failure_streak_keys };
    if (result.kind === 'success') streak = { outbox: [], keys: [] };
    else if (result.kind === 'failure' && typeof charged === 'string') streak = { ...streak, outbox: [...streak.outbox, charged] };
    else if (result.kind === 'failure' && typeof charged === 'object') streak = { ...streak, keys: [...streak.keys, charged.stateKey] };
    // A failure that opens the circuit, or lands while it is open, is the target's, not the messages':
    // give back what the streak charged them.
    if (transition?.to === 'open' || state.circuit === 'open') {
      if (streak.outbox.length > 0) await tx.query('update outbox set attempts = greatest(0, attempts - 1) where id = any($1::bigint[])', [streak.outbox]);
      if (streak.keys.length > 0) {
        await tx.query('update state_outbox set attempts = greatest(0, attempts - 1) where destination = $1 and key = any($2::text[])', [target, streak.keys]);
      }
      streak = { outbox: [], keys: [] };
    }
    await this.saveState(tx, target, state, streak);
    if (transition) this.circuitChanged(target, transition.from, transition.to);
    return transition;
  }

  /** Frees the leases of successful calls in one statement; the row is locked only when a success changes its state. */
  async releaseHealthy(tx: Tx, target: string, leaseIds: string[]): Promise<CircuitTransition | undefined> {
    if (leaseIds.length === 0) return undefined;
    return this.release(tx, target, leaseIds, { kind: 'success' });
  }

  /**
   * One call made outside the queues (a pull, an operator's action), under the same limits as deliveries:
   * waits for admission up to `maxWaitMs`, then throws TargetUnavailableError with how long to wait.
   */
  async call<T>(target: string, limits: TargetLimits, work: () => Promise<T>, maxWaitMs = 30_000): Promise<T> {
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      const [admission] = await inTransaction(this.pool, (tx) => this.acquire(tx, target, limits, 1));
      if (admission!.granted) {
        const leaseId = admission!.leaseId;
        try {
          const result = await work();
          await inTransaction(this.pool, (tx) => this.release(tx, target, leaseId, { kind: 'success' }));
          return result;
        } catch (error) {
          const failure = classify(error);
          const outcome: CallResult = failure.class === 'throttled' ? { kind: 'throttled', retryAfterMs: failure.retryAfterMs ?? 1_000 }
            : failure.class === 'retryable' ? { kind: 'failure' } : { kind: 'success' };
          await inTransaction(this.pool, (tx) => this.release(tx, target, leaseId, outcome)).catch(() => undefined);
          throw error;
        }
      }
      const { waitMs, reason } = admission as Extract<Admission, { granted: false }>;
      if (Date.now() + waitMs > deadline) throw new TargetUnavailableError(target, reason, waitMs);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  /** Current state of every target, for ops and metrics. */
  async snapshot(): Promise<Array<{ target: string; circuit: string; pausedUntil: Date | null; inFlight: number; tokens: number }>> {
    const { rows } = await this.pool.query(
      `select s.target, s.circuit, s.paused_until as "pausedUntil", s.tokens,
              (select count(*)::int from governor_lease l where l.target = s.target and l.expires_at >= clock_timestamp()) as "inFlight"
         from governor_state s order by s.target`,
    );
    return rows;
  }

  private async lockState(tx: Tx, target: string, limits: TargetLimits): Promise<StateRow & LeaseCount> {
    let state = (await tx.query<StateRow>(SELECT_STATE, [target])).rows[0];
    if (!state) {
      await tx.query(`insert into governor_state (target, tokens, refilled_at) values ($1, $2, clock_timestamp()) on conflict (target) do nothing`, [target, limits.burst]);
      state = (await tx.query<StateRow>(SELECT_STATE, [target])).rows[0]!;
    }
    const leases = (await tx.query<LeaseCount>(COUNT_LEASES, [target])).rows[0]!;
    return { ...state, ...leases };
  }

  /** Writes the state, and the new leases when there are any, in one statement. */
  private async saveState(tx: Tx, target: string, state: GovernorState, streak: { outbox: string[]; keys: string[] }, leases: Array<{ id: string; probe: boolean }> = []): Promise<void> {
    const update = `update governor_state set tokens = $2, refilled_at = to_timestamp($3 / 1000.0), circuit = $4, consecutive_failures = $5,
              opened_at = to_timestamp($6 / 1000.0), paused_until = to_timestamp($7 / 1000.0), failure_streak = $8::bigint[],
              failure_streak_keys = $9::text[], updated_at = clock_timestamp()
        where target = $1`;
    const values = [target, state.tokens, state.refilledAt, state.circuit, state.consecutiveFailures, state.openedAt, state.pausedUntil, streak.outbox, streak.keys];
    if (leases.length === 0) {
      await tx.query(update, values);
      return;
    }
    await tx.query(
      `with saved as (${update})
       insert into governor_lease (id, target, probe, expires_at)
       select id, $1, probe, clock_timestamp() + $12 * interval '1 millisecond' from unnest($10::uuid[], $11::bool[]) as l(id, probe)`,
      [...values, leases.map((l) => l.id), leases.map((l) => l.probe), this.settings.leaseMs],
    );
  }

  private circuitChanged(target: string, from: string, to: string): void {
    this.logger.warn({ target, from, to }, `circuit of ${target} is ${to.replace('_', '-')}`);
    this.metrics.circuitState.set({ target }, to === 'closed' ? 0 : to === 'half_open' ? 1 : 2);
    this.metrics.circuitTransitions.inc({ target, to });
  }
}

function toState(row: StateRow): GovernorState {
  return {
    tokens: Number(row.tokens),
    refilledAt: Number(row.refilled_at),
    circuit: row.circuit,
    consecutiveFailures: row.consecutive_failures,
    openedAt: row.opened_at === null ? null : Number(row.opened_at),
    pausedUntil: row.paused_until === null ? null : Number(row.paused_until),
  };
}

