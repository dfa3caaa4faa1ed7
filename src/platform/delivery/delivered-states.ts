import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../database/pg-pool.js';
import type { Sql } from '../database/transaction.js';

/** The newest version of a state that a destination has confirmed, with the value the producer gave it. */
export interface DeliveredState {
  destination: string;
  version: number;
  /** The message's state value (what "unchanged" is compared on); null when the producer gave none. */
  value: string | null;
  deliveredAt: Date;
}

/**
 * What each destination last confirmed for a key: the record the dispatcher keeps to never send a version
 * below it, read here so that no module keeps a copy of its own.
 */
@Injectable()
export class DeliveredStates {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async of(key: string, destinations: readonly string[]): Promise<Map<string, DeliveredState>> {
    if (destinations.length === 0) return new Map();
    const { rows } = await this.pool.query<DeliveredState>(
      `select destination, version::float8 as version, state_value as value, delivered_at as "deliveredAt"
         from delivered_version where key = $1 and destination = any($2::text[])`,
      [key, destinations],
    );
    return new Map(rows.map((row) => [row.destination, row]));
  }
}

/** A state last delivered to a destination, and whether a target's figure read at some moment may be compared with it. */
export interface SettledState {
  key: string;
  version: string;
  value: string | null;
  /** Nothing newer is queued or in flight for the key, and it was delivered before the target was read. */
  comparable: boolean;
}

/**
 * What a destination was last delivered of `keys`, in key order, for reconciliation: a key whose newer version is
 * queued or being sent, or that was delivered after `readAt` (when the target's figures were read; null: no bound),
 * is not comparable, since the target will get, or already has, a figure newer than the one read.
 */
export async function settledStates(sql: Pick<Sql, 'query'>, destination: string, keys: readonly string[], readAt: Date | null): Promise<SettledState[]> {
  if (keys.length === 0) return [];
  const { rows } = await sql.query<SettledState>(
    `select dv.key, dv.version::text as version, dv.state_value as value,
            not exists (select 1 from state_outbox s where s.destination = dv.destination and s.key = dv.key)
            and not exists (select 1 from state_inflight i where i.destination = dv.destination and i.key = dv.key)
            and ($3::timestamptz is null or dv.delivered_at <= $3) as comparable
       from delivered_version dv where dv.destination = $1 and dv.key = any($2::text[])`,
    [destination, keys, readAt],
  );
  return rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Records what a target was found holding as the value of the version it was last delivered (unless a newer one
 * was delivered since), so that a figure republished to put it right is compared with what the target holds, and
 * sent, rather than taken for unchanged.
 */
export async function recordHeldState(sql: Pick<Sql, 'query'>, destination: string, key: string, version: string, held: string): Promise<void> {
  await sql.query('update delivered_version set state_value = $4 where destination = $1 and key = $2 and version = $3', [destination, key, version, held]);
}
