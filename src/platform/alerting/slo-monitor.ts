import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../database/pg-pool.js';
import { withSessionLock } from '../database/session-lock.js';
import { FlowStats } from '../delivery/flow-stats.js';
import { LOGGER } from '../observability/observability.module.js';
import type { Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { startRecurring } from '../recurring.js';
import { ALERT_SETTINGS, type AlertSettings } from './alert-settings.js';
import { AlertNotifier } from './alert-notifier.js';
import { breachesToTell, markNotToldYet, markTold, noticeDue, pruneBreaches, recordBreaches, type NoticeChannel } from './slo-breaches.js';

const LOCK = 'crossdock:slo'; // one instance checks at a time
// Notices tried per channel and check: a backlog (a long-broken alert webhook) drains over a few checks.
const NOTICES_PER_CHECK = 50;
const RETENTION_DAYS = 30;

export interface SloCheck {
  opened: number;
  resolved: number;
  sent: number;
  failed: number;
}

/**
 * Compares each flow's oldest message with its delay objective, every `checkMs`, on one instance at a time.
 * A flow past its objective opens a breach (one per flow and destination until it clears); each breach is told
 * once on each channel, then its resolution once. What is told is recorded in `slo_breach` after it was
 * taken, so a notice that failed is tried again at the next check, and one that went out is not sent again
 * by any instance or after a restart (a crash between the two may send it twice, under the same id).
 */
@Injectable()
export class SloMonitor implements OnApplicationBootstrap, OnModuleDestroy {
  private recurring?: ReturnType<typeof startRecurring>;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly flows: FlowStats,
    private readonly notifier: AlertNotifier,
    private readonly metrics: Metrics,
    @Inject(ALERT_SETTINGS) private readonly settings: AlertSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.recurring = startRecurring(async () => void (await this.check()), {
      firstAfterMs: this.settings.checkMs,
      everyMs: this.settings.checkMs,
      onError: (error) => this.logger.warn({ err: error }, 'checking the delay objectives failed; it is tried again at the next check'),
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.recurring?.stop();
  }

  /** One check now; undefined when another instance is at it. */
  check(): Promise<SloCheck | undefined> {
    return withSessionLock(this.pool, LOCK, async (client) => {
      const { opened, resolved } = await recordBreaches(client, await this.flows.objectiveFlows(), this.notifier.channels);
      for (const breach of opened) {
        this.logger.warn({ flow: breach.flow, destination: breach.destination, maxAgeSeconds: breach.maxAgeSeconds, oldestAgeSeconds: breach.openedAgeSeconds }, 'delay objective breached');
      }
      for (const breach of resolved) this.logger.info({ flow: breach.flow, destination: breach.destination, maxAgeSeconds: breach.maxAgeSeconds }, 'delay objective breach resolved');
      let sent = 0;
      let failed = 0;
      for (const channel of this.notifier.channels) {
        const told = await this.tell(client, channel);
        sent += told.sent;
        failed += told.failed;
      }
      await pruneBreaches(client, RETENTION_DAYS);
      return { opened: opened.length, resolved: resolved.length, sent, failed };
    });
  }

  /** Sends the notices due on one channel in order, stopping at its first failure (the channel is likely down). */
  private async tell(client: pg.PoolClient, channel: NoticeChannel): Promise<{ sent: number; failed: number }> {
    let sent = 0;
    for (const breach of await breachesToTell(client, channel, NOTICES_PER_CHECK)) {
      for (let kind = noticeDue(breach, channel); kind !== undefined; kind = noticeDue(breach, channel)) {
        try {
          await this.notifier.send(channel, breach, kind);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          this.metrics.sloNotifications.inc({ channel, kind, outcome: 'failed' });
          this.logger.warn({ channel, kind, breachId: breach.id, error: message }, 'a delay objective notice was not taken; it is tried again at the next check');
          await markNotToldYet(client, breach, `${channel}: ${message}`);
          return { sent, failed: 1 };
        }
        await markTold(client, breach, kind, channel);
        this.metrics.sloNotifications.inc({ channel, kind, outcome: 'sent' });
        sent++;
      }
    }
    return { sent, failed: 0 };
  }
}
