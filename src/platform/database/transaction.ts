import type pg from 'pg';
import { isDatabaseUnavailable } from './database-errors.js';

/** A transaction on one pooled connection; `boss` lets pg-boss write its jobs inside it. */
export interface Tx {
  query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  readonly boss: { executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }> };
  /** Runs `effect` once the transaction has committed (never after a rollback); an effect's error is ignored. */
  afterCommit(effect: () => void): void;
  /**
   * Runs `effect` when the transaction did not commit, or cannot be known to have (a connection lost during the
   * commit): for undoing what may have been written, idempotently.
   */
  afterFailure(effect: () => void): void;
}

export interface TransactionOptions {
  /**
   * false: the commit does not wait for the WAL flush. Only for the machinery's own bookkeeping, whose loss
   * in a database crash is repaired by redoing an idempotent step (a delivery is re-sent under the same id);
   * never for a transaction that records what a client was told is stored.
   */
  synchronousCommit?: boolean;
}

export async function inTransaction<T>(pool: pg.Pool, work: (tx: Tx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const client = await pool.connect();
  const query = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => client.query<R>(text, values);
  const effects: Array<() => void> = [];
  const failureEffects: Array<() => void> = [];
  let failure: unknown;
  const tx: Tx = {
    query, boss: { executeSql: (text, values) => client.query(text, values) },
    afterCommit: (effect) => void effects.push(effect), afterFailure: (effect) => void failureEffects.push(effect),
  };
  try {
    await client.query(options.synchronousCommit === false ? 'begin; set local synchronous_commit to off' : 'begin');
    const result = await work(tx);
    await client.query('commit');
    for (const effect of effects) {
      try {
        effect();
      } catch {
        // a wake-up that failed is made up for by polling
      }
    }
    return result;
  } catch (error) {
    failure = error;
    // A connection that is gone, stopped answering or holds a stale prepared statement is dropped rather than
    // asked to roll back (which would wait as long again); the server rolls back what it had of it.
    if (!isDatabaseUnavailable(error)) await client.query('rollback').catch(() => undefined);
    for (const effect of failureEffects) {
      try {
        effect();
      } catch {
        // what an effect would undo is also undone by its own expiry
      }
    }
    throw error;
  } finally {
    client.release(isDatabaseUnavailable(failure) ? (failure as Error) : undefined);
  }
}

/**
 * Statements of one transaction that do not depend on each other, sent together: the connection pipelines them
 * (one round trip instead of one each). Every one has settled before this answers or throws, so none is still
 * running on the connection when the transaction rolls back and gives it back to the pool.
 */
export async function together<T extends readonly unknown[]>(...work: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(work);
  const failures = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason as { code?: unknown });
  // The failure that aborted the transaction, not the statements it then refused (25P02).
  if (failures.length > 0) throw failures.find((f) => f?.code !== '25P02') ?? failures[0];
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** The caller's transaction, as the machinery that writes into it (outbox, inbox) takes it. */
export type Sql = Tx;
