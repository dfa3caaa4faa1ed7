import type pg from 'pg';
import { isDatabaseUnavailable } from './database-errors.js';

/**
 * Runs `work` on one pooled connection that holds the session advisory lock `name`, so that one instance at a
 * time does it; answers undefined at once when another holds it. A connection that failed under it is dropped,
 * not given back to the pool (its lock goes with it).
 */
export async function withSessionLock<T>(pool: pg.Pool, name: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T | undefined> {
  const client = await pool.connect();
  let failure: unknown;
  try {
    const { rows: [lock] } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock(hashtextextended($1, 0)) as locked', [name]);
    if (!lock?.locked) return undefined;
    try {
      return await work(client);
    } finally {
      await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [name]).catch((error: unknown) => (failure ??= error));
    }
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    client.release(isDatabaseUnavailable(failure) ? (failure as Error) : undefined);
  }
}
