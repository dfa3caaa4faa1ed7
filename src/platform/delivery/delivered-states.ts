import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../database/pg-pool.js';

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
