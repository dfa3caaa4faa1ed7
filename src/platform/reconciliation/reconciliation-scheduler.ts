import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { LOGGER } from '../observability/observability.module.js';
import type { Logger } from '../observability/logger.js';
import { startRecurring } from '../recurring.js';
import { Reconcilers, type Reconciler } from './reconcilers.js';
import { ReconciliationRuns, type RunSummary, type RunTrigger } from './reconciliation-runs.js';

export const RECONCILIATION_SETTINGS = Symbol('RECONCILIATION_SETTINGS');
export interface ReconciliationSettings {
  /** How often each target's schedule is looked at (and a run cut short resumed). */
  tickMs: number;
  /** Whether this instance runs the schedule (workers); any instance runs what is asked on demand. */
  scheduled: boolean;
}

/**
 * Starts each target's run when its interval has passed since the last one finished, resumes a run cut short,
 * and runs what an operator asks for now. Runs of one target never overlap across instances.
 */
@Injectable()
export class ReconciliationScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private recurring?: ReturnType<typeof startRecurring>;
  private readonly onDemand = new Set<Promise<unknown>>();

  constructor(
    private readonly reconcilers: Reconcilers,
    private readonly runs: ReconciliationRuns,
    @Inject(RECONCILIATION_SETTINGS) private readonly settings: ReconciliationSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.settings.scheduled) return;
    this.recurring = startRecurring(() => this.tick(), {
      firstAfterMs: this.settings.tickMs,
      everyMs: this.settings.tickMs,
      onError: (error) => this.logger.warn({ err: error }, 'reconciliation schedule failed; it is looked at again at the next tick'),
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.recurring?.stop();
    await Promise.allSettled([...this.onDemand]);
  }

  /** Every target whose run is due (or was cut short), one after another. */
  async tick(): Promise<void> {
    for (const reconciler of this.reconcilers.all()) {
      for (const { target, intervalMs } of await reconciler.targets()) {
        const last = await this.runs.last(reconciler.domain, target);
        const due = last?.status === 'running' || (intervalMs !== undefined && (!last || Date.now() - Date.parse(last.finishedAt ?? last.updatedAt) >= intervalMs));
        if (due) await this.runLogged(reconciler, target, last?.status === 'running' ? last.trigger : 'schedule');
      }
    }
  }

  /**
   * A run of every target of a domain (or one of them) now. `wait`: answers the runs once they end; otherwise
   * they go on in the background and the answer names what was started.
   */
  async runNow(domain: string, target: string | undefined, wait: boolean): Promise<Array<{ domain: string; target: string; run?: RunSummary; busy?: boolean }>> {
    const started: Array<{ domain: string; target: string }> = [];
    const work: Array<Promise<{ domain: string; target: string; run?: RunSummary; busy?: boolean }>> = [];
    for (const reconciler of this.reconcilers.of(domain)) {
      for (const { target: each } of await reconciler.targets()) {
        if (target !== undefined && each !== target) continue;
        started.push({ domain, target: each });
        work.push(this.runLogged(reconciler, each, 'demand').then((run) => ({ domain, target: each, ...(run ? { run } : { busy: true }) })));
      }
    }
    if (wait) return Promise.all(work);
    for (const promise of work) {
      this.onDemand.add(promise);
      void promise.finally(() => this.onDemand.delete(promise));
    }
    return started;
  }

  private async runLogged(reconciler: Reconciler, target: string, trigger: RunTrigger): Promise<RunSummary | undefined> {
    try {
      const run = await this.runs.run(reconciler, target, trigger);
      if (run) this.logger.info({ domain: reconciler.domain, target, run: run.id, status: run.status, compared: run.compared, drifted: run.drifted, repaired: run.repaired, waiting: run.waiting }, 'reconciliation run ended');
      return run;
    } catch (error) {
      this.logger.warn({ err: error, domain: reconciler.domain, target }, 'reconciliation run could not be recorded');
      return undefined;
    }
  }
}
