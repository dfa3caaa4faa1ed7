import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { LOGGER } from '../../platform/observability/observability.module.js';
import { startRecurring } from '../../platform/recurring.js';
import type { Logger } from '../../platform/observability/logger.js';
import { ERP_CONNECTOR_KINDS } from '../../connectors/connector-kinds.js';
import { ErpBackendsQuery } from '../configuration/index.js';
import { CustomerDirectory } from './customer-directory.js';

export const CUSTOMER_SYNC_SETTINGS = Symbol('CUSTOMER_SYNC_SETTINGS');
export interface CustomerSyncSettings {
  intervalMs: number;
  /** Pull on this instance (the worker and all roles). */
  enabled: boolean;
}

// After the configuration file has been applied at start.
const FIRST_PULL_AFTER_MS = 2_000;
// Kinds whose connector can list customers: every ERP connector.
const PULLABLE_KINDS = ERP_CONNECTOR_KINDS.map((k) => k.kind);

/**
 * Pulls every backend's customers at start and then every interval. With several instances, a backend pulled
 * by another one within the last half interval is left alone.
 */
@Injectable()
export class CustomerSyncSchedule implements OnApplicationBootstrap, OnApplicationShutdown {
  private recurring?: ReturnType<typeof startRecurring>;

  constructor(
    private readonly queries: QueryBus,
    private readonly directory: CustomerDirectory,
    @Inject(CUSTOMER_SYNC_SETTINGS) private readonly settings: CustomerSyncSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.settings.enabled) return;
    let atStart = true;
    this.recurring = startRecurring(async () => {
      await this.pullDue(atStart);
      atStart = false;
    }, { firstAfterMs: FIRST_PULL_AFTER_MS, everyMs: this.settings.intervalMs, onError: (error) => this.logger.warn({ err: error }, 'customer pull failed') });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.recurring?.stop();
  }

  private async pullDue(atStart: boolean): Promise<void> {
    const backends = (await this.queries.execute(new ErpBackendsQuery())).filter((b) => PULLABLE_KINDS.includes(b.kind));
    for (const backend of backends) {
      try {
        const last = await this.directory.lastSynced(backend.id);
        if (!atStart && last && Date.now() - last.getTime() < this.settings.intervalMs / 2) continue;
        const result = await this.directory.sync(backend.id);
        this.logger.info({ ...result, rejected: result.rejected.length }, 'customers pulled from the ERP');
        if (result.rejected.length > 0) this.logger.warn({ backendId: backend.id, rejected: result.rejected.slice(0, 20) }, 'customers the ERP did not describe fully keep their last figures');
      } catch (error) {
        this.logger.warn({ err: error, backendId: backend.id }, 'customer pull failed; the read model keeps its last figures');
      }
    }
  }
}
