import { Inject, Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import type pg from 'pg';
import { PG_POOL } from '../../../platform/database/pg-pool.js';
import { LOGGER } from '../../../platform/observability/observability.module.js';
import type { Logger } from '../../../platform/observability/logger.js';
import { ShipmentIntake } from './shipment-intake.js';

export const PARKED_SHIPMENTS_SETTINGS = Symbol('PARKED_SHIPMENTS_SETTINGS');

/**
 * Shipments parked because their order was not known yet are tried again every few seconds (oldest first, a
 * hundred a round, any instance: each is taken with SKIP LOCKED), so one is applied soon after its order arrives.
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
    const { rows } = await this.pool.query<{ id: string }>(`select id::text from shipment_hold where kind = 'parked' and resolved_at is null order by id limit 100`);
    let applied = 0;
    for (const { id } of rows) if ((await this.intake.retry(id))?.outcome === 'applied') applied++;
    return applied;
  }
}
