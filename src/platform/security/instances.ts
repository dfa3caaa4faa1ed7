import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../database/pg-pool.js';
import { startRecurring } from '../recurring.js';

/** Whether this instance serves the API (roles api and all). */
export const SERVES_API = Symbol('SERVES_API');

const HEARTBEAT_MS = 2_000;
// An instance not seen for this long is gone (killed); its share goes back to the others.
const GONE_AFTER_MS = 3 * HEARTBEAT_MS;

/**
 * This instance among the running ones: each says it is alive every 2 s and counts those that serve the API,
 * so that a limit meant for the whole service (an API key's rate) is split between them. A database that does
 * not answer keeps the last count.
 */
@Injectable()
export class Instances implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly id = randomUUID();
  private serving = 1;
  private recurring?: ReturnType<typeof startRecurring>;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(SERVES_API) private readonly servesApi: boolean,
  ) {}

  /** This instance's part of a service-wide API limit: 1 / the instances serving the API. */
  apiShare(): number {
    return this.servesApi ? 1 / Math.max(1, this.serving) : 1;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.beat().catch(() => undefined);
    this.recurring = startRecurring(() => this.beat(), { firstAfterMs: HEARTBEAT_MS, everyMs: HEARTBEAT_MS, onError: () => undefined });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.recurring?.stop();
    await this.pool.query('delete from instance where id = $1', [this.id]).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    const { rows: [row] } = await this.pool.query<{ serving: number }>(
      `with me as (
         insert into instance (id, serves_api) values ($1, $2)
         on conflict (id) do update set seen_at = clock_timestamp()),
       gone as (delete from instance where seen_at < clock_timestamp() - $3 * interval '1 millisecond' * 10)
       select count(*)::int + (case when $2 and not exists (select 1 from instance where id = $1) then 1 else 0 end) as serving
         from instance where serves_api and seen_at > clock_timestamp() - $3 * interval '1 millisecond'`,
      [this.id, this.servesApi, GONE_AFTER_MS],
    );
    this.serving = Math.max(1, row?.serving ?? 1);
  }
}
