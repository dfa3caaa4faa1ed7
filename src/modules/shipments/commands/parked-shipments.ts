import { Inject, Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { LOGGER } from '../../../platform/observability/observability.module.js';
import type { Logger } from '../../../platform/observability/logger.js';
import { ShipmentIntake } from './shipment-intake.js';

export const PARKED_SHIPMENTS_SETTINGS = Symbol('PARKED_SHIPMENTS_SETTINGS');

/**
 * Shipments parked because their order was not known yet are tried again (oldest first, a hundred a round, any
 * instance: each is taken with SKIP LOCKED): at once at first, then less often the longer one waits (2 s more
 * per attempt, at most a minute apart), so that events whose order never comes do not cost a transaction each
 * every round.
 */
@Injectable()
export class ParkedShipments {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(PARKED_SHIPMENTS_SETTINGS) private readonly settings: { enabled: boolean },
    private readonly intake: ShipmentIntake,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Interval('parked-shipments', 2_000)
  async scheduled(): Promise<void> {
    if (!this.settings.enabled) return;
    await this.retryParked().catch((error: unknown) => this.logger.warn({ err: error }, 'parked shipments could not be tried again; next round in 2 seconds'));
  }

  /** Tries every parked shipment once; answers how many applied. */
  async retryParked(): Promise<number> {
    const { rows } = await this.pool.query<{ id: string }>(
      `select id::text from shipment_hold
        where kind = 'parked' and resolved_at is null
          and coalesce(last_tried_at, received_at) <= clock_timestamp() - make_interval(secs => least(60, 2 * attempts))
        order by id limit 100`,
    );
    let applied = 0;
    for (const { id } of rows) if ((await this.intake.retry(id))?.outcome === 'applied') applied++;
    return applied;
  }
}
