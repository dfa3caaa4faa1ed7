import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../database/pg-pool.js';
import { withSessionLock } from '../database/session-lock.js';
import { inTransaction, type Tx } from '../database/transaction.js';
import { AuditLog } from '../audit/audit-log.js';
import { Metrics } from '../observability/metrics.js';
import { withCorrelationId } from '../observability/correlation.js';
import { recordTrace } from '../observability/trace.js';
import type { Finding, Reconciler } from './reconcilers.js';

/** `pushed`: the target told of a change itself (a store's inventory webhook), checked on arrival. */
export type RunTrigger = 'schedule' | 'demand' | 'pushed';

export interface RunSummary {
  id: string;
  domain: string;
  target: string;
  trigger: RunTrigger;
  status: 'running' | 'finished' | 'failed';
  cursor: string | null;
  pages: number;
  compared: number;
  drifted: number;
  repaired: number;
  waiting: number;
  error: string | null;
  /** Under which its repairs, and what they sent, are traced. */
  correlationId: string;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

const RUN_COLUMNS = `id::text, domain, target, trigger, status, cursor, pages, compared::float8 as compared, drifted::float8 as drifted,
  repaired::float8 as repaired, waiting::float8 as waiting, error, 'reconcile-' || id::text as "correlationId",
  started_at as "startedAt", updated_at as "updatedAt", finished_at as "finishedAt"`;

/**
 * Runs a reconciler over one target, a page at a time, on one instance at a time (a session lock per domain and
 * target). Each page's findings, its repairs and the run's checkpoint commit in one transaction: a run cut short
 * resumes from its last page, and a page done again after a crash finds its repairs recorded (a finding is unique
 * per run, key and class), so nothing is repaired twice. A drift that waits for a person stays one open finding
 * across runs, closed by the first complete run that no longer finds it.
 */
@Injectable()
export class ReconciliationRuns {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly audit: AuditLog,
    private readonly metrics: Metrics,
  ) {}

  /** Runs (or resumes) the target's comparison to its end; undefined when another instance is running it now. */
  async run(reconciler: Reconciler, target: string, trigger: RunTrigger): Promise<RunSummary | undefined> {
    const domain = reconciler.domain;
    return withSessionLock(this.pool, `crossdock:reconcile:${domain}:${target}`, async () => {
      let run = await this.openRun(domain, target, trigger);
      try {
        for (;;) {
          const page = await reconciler.compare(target, run.cursor);
          run = await inTransaction(this.pool, (tx) => this.settlePage(tx, reconciler, run, page.compared, page.findings, page.nextCursor));
          if (run.status !== 'running') return run;
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const { rows } = await this.pool.query<RunSummary>(
          `update reconcile_run set status = 'failed', error = $2, updated_at = clock_timestamp(), finished_at = clock_timestamp() where id = $1 returning ${RUN_COLUMNS}`,
          [run.id, message.slice(0, 2000)],
        );
        return rows[0] ?? run;
      }
    });
  }

  /**
   * What a target pushed (a store's webhook), checked on arrival: a run of its own, finished at once, whose
   * findings are settled (repaired or reported) in the caller's transaction as any run's are.
   */
  async settlePushed(tx: Tx, reconciler: Reconciler, target: string, compared: number, findings: Finding[]): Promise<RunSummary> {
    const { rows: [run] } = await tx.query<RunSummary>(
      `insert into reconcile_run (domain, target, trigger, status) values ($1, $2, 'pushed', 'running') returning ${RUN_COLUMNS}`, [reconciler.domain, target],
    );
    return this.settlePage(tx, reconciler, run!, compared, findings, null, false);
  }

  /** The latest runs, newest first, optionally of one domain. */
  async latest(domain: string | undefined, limit: number): Promise<RunSummary[]> {
    const { rows } = await this.pool.query<RunSummary>(
      `select ${RUN_COLUMNS} from reconcile_run where ($1::text is null or domain = $1) order by id desc limit $2`, [domain ?? null, limit],
    );
    return rows;
  }

  async byId(id: string): Promise<RunSummary | undefined> {
    const { rows } = await this.pool.query<RunSummary>(`select ${RUN_COLUMNS} from reconcile_run where id = $1`, [id]);
    return rows[0];
  }

  /** The last run of each target, for the scheduler. */
  async last(domain: string, target: string): Promise<RunSummary | undefined> {
    const { rows } = await this.pool.query<RunSummary>(`select ${RUN_COLUMNS} from reconcile_run where domain = $1 and target = $2 and trigger <> 'pushed' order by id desc limit 1`, [domain, target]);
    return rows[0];
  }

  /** Findings waiting for a person, oldest first. */
  async waiting(domain: string | undefined, limit: number) {
    const { rows } = await this.pool.query(
      `select id::text, domain, target, key, class, expected, actual, detail, found_at as "foundAt", last_seen_at as "lastSeenAt"
         from reconcile_finding where status = 'waiting' and ($1::text is null or domain = $1) order by id limit $2`,
      [domain ?? null, limit],
    );
    return rows;
  }

  /** The findings of one run. */
  async findingsOf(runId: string, limit: number) {
    const { rows } = await this.pool.query(
      `select id::text, key, class, expected, actual, repair, status, detail, found_at as "foundAt", repaired_at as "repairedAt"
         from reconcile_finding where run_id = $1 or (status = 'waiting' and last_seen_run_id = $1) order by id limit $2`,
      [runId, limit],
    );
    return rows;
  }

  private async openRun(domain: string, target: string, trigger: RunTrigger): Promise<RunSummary> {
    const { rows: [running] } = await this.pool.query<RunSummary>(
      `select ${RUN_COLUMNS} from reconcile_run where domain = $1 and target = $2 and status = 'running' and trigger <> 'pushed'`, [domain, target],
    );
    if (running) return running; // cut short earlier: resumed from its checkpoint
    const { rows: [started] } = await this.pool.query<RunSummary>(
      `insert into reconcile_run (domain, target, trigger) values ($1, $2, $3) returning ${RUN_COLUMNS}`, [domain, target, trigger],
    );
    return started!;
  }

  private async settlePage(tx: Tx, reconciler: Reconciler, run: RunSummary, compared: number, findings: Finding[], nextCursor: string | null, complete = true): Promise<RunSummary> {
    let repaired = 0;
    let waiting = 0;
    for (const finding of findings) {
      this.metrics.reconcileFindings.inc({ domain: run.domain, target: run.target, class: finding.class });
      if (finding.repair === 'report') {
        // One open finding per drift: seen again, it is only marked seen by this run.
        const { rows: [kept] } = await tx.query<{ fresh: boolean }>(
          `insert into reconcile_finding (run_id, last_seen_run_id, domain, target, key, class, expected, actual, repair, status, detail)
           values ($1, $1, $2, $3, $4, $5, $6, $7, 'report', 'waiting', $8)
           on conflict (domain, target, key, class) where status = 'waiting'
           do update set last_seen_run_id = excluded.last_seen_run_id, last_seen_at = clock_timestamp(), expected = excluded.expected, actual = excluded.actual, detail = excluded.detail
           returning (xmax = 0) as fresh`,
          [run.id, run.domain, run.target, finding.key, finding.class, json(finding.expected), json(finding.actual), finding.detail ? JSON.stringify(finding.detail) : null],
        );
        if (kept?.fresh) waiting++;
        continue;
      }
      const { rows: [inserted] } = await tx.query<{ id: string }>(
        `insert into reconcile_finding (run_id, last_seen_run_id, domain, target, key, class, expected, actual, repair, status, detail)
         values ($1, $1, $2, $3, $4, $5, $6, $7, $8, 'repaired', $9)
         on conflict (run_id, key, class) do nothing returning id::text`,
        [run.id, run.domain, run.target, finding.key, finding.class, json(finding.expected), json(finding.actual), finding.repair, finding.detail ? JSON.stringify(finding.detail) : null],
      );
      if (!inserted) continue; // repaired already, before a crash cut the run short
      // What the repair sends (a republished figure, a price) is traced under the run: its trace shows each repair
      // and then its delivery. A message with a correlation id of its own (an order sent again) keeps that one.
      const done = await withCorrelationId(runCorrelationId(run.id), () => reconciler.repair(tx, run.target, finding));
      await tx.query(`update reconcile_finding set repaired_at = clock_timestamp(), detail = coalesce(detail, '{}'::jsonb) || $2::jsonb where id = $1`, [inserted.id, JSON.stringify(done ?? {})]);
      await this.audit.recordInTransaction(tx, {
        actor: 'reconciliation', action: finding.repair, resourceType: `reconcile:${run.domain}`, resourceId: finding.key,
        before: { class: finding.class, target: run.target, actual: finding.actual ?? null }, after: { expected: finding.expected ?? null, run: run.id, ...(done ?? {}) },
      });
      await recordTrace(tx, [{ correlationId: runCorrelationId(run.id), destination: run.target, step: 'reconciled', detail: { class: finding.class, key: finding.key, repair: finding.repair } }]);
      this.metrics.reconcileRepairs.inc({ domain: run.domain, target: run.target, class: finding.class });
      repaired++;
    }
    const finished = nextCursor === null;
    // Only a complete comparison (not a pushed change, which saw one thing) may close what waits for a person.
    if (finished && complete) {
      // What waited for a person and this complete run no longer finds has been put right.
      await tx.query(
        `update reconcile_finding set status = 'closed', closed_at = clock_timestamp()
          where domain = $1 and target = $2 and status = 'waiting' and last_seen_run_id <> $3`,
        [run.domain, run.target, run.id],
      );
    }
    const { rows: [updated] } = await tx.query<RunSummary>(
      `update reconcile_run set cursor = $2, pages = pages + 1, compared = compared + $3, drifted = drifted + $4, repaired = repaired + $5, waiting = waiting + $6,
              status = case when $7 then 'finished' else 'running' end, finished_at = case when $7 then clock_timestamp() end, updated_at = clock_timestamp()
        where id = $1 returning ${RUN_COLUMNS}`,
      [run.id, nextCursor, compared, findings.length, repaired, waiting, finished],
    );
    return updated!;
  }
}

/** The correlation id of a run's repairs and what they send: `/v1/ops/trace/reconcile-<run id>`. */
export function runCorrelationId(runId: string): string {
  return `reconcile-${runId}`;
}

const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));
