import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../platform/database/pg-pool.js';
import { DelayObjectives, type DelayObjective } from '../../platform/delivery/delay-objectives.js';

const CACHE_MS = 5_000;

/** The delay objectives of the channels and ERP backends, as stored here: a change is seen everywhere within 5 s. */
@Injectable()
export class ConfiguredObjectives extends DelayObjectives {
  private cached?: { objectives: ReadonlyMap<string, DelayObjective>; until: number };

  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {
    super();
  }

  async byDestination(): Promise<ReadonlyMap<string, DelayObjective>> {
    if (this.cached && this.cached.until > Date.now()) return this.cached.objectives;
    const { rows } = await this.pool.query<{ destination: string; slo: DelayObjective }>(
      `select 'channel:' || id as destination, slo from channel where slo is not null
       union all
       select 'erp:' || id, slo from erp_backend where slo is not null`,
    );
    const objectives = new Map(rows.map((row) => [row.destination, row.slo]));
    this.cached = { objectives, until: Date.now() + CACHE_MS };
    return objectives;
  }
}
