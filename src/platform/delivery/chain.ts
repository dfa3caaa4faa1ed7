import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import type { Tx } from '../database/transaction.js';
import { queueName } from '../outbox/message.js';

export interface QueueRow {
  id: string;
  destination: string;
  /** Not before this time; now when absent. */
  startAfter?: Date;
}

// Rows one job carries at most: a worker works through them as the target's limits admit.
export const ROWS_PER_JOB = 50;

/** A job's data: the outbox rows it carries (each row names the job it is queued under). */
export interface DeliveryJobData {
  ids: string[];
}

/**
 * Marks rows `queued` and inserts their jobs, in the caller's transaction. Rows for one queue with the same
 * priority and start time share a job (up to ROWS_PER_JOB): one job, fetch and completion for many messages.
 */
export async function enqueue(tx: Tx, boss: PgBoss, rows: QueueRow[], startAfter?: Date): Promise<void> {
  if (rows.length === 0) return;
  const { rows: priorities } = await tx.query<{ id: string; priority: number }>('select id, priority from outbox where id = any($1::bigint[])', [rows.map((r) => r.id)]);
  const priorityOf = new Map(priorities.map((p) => [String(p.id), p.priority]));
  const groups = new Map<string, { queue: string; priority: number; start: Date | null; ids: string[] }>();
  for (const row of rows) {
    const queue = queueName(row.destination);
    const start = row.startAfter ?? startAfter ?? null;
    const priority = priorityOf.get(String(row.id)) ?? 0;
    const group = `${queue}\u0000${priority}\u0000${start?.getTime() ?? ''}`;
    const found = groups.get(group) ?? { queue, priority, start, ids: [] };
    if (found.ids.length === 0) groups.set(group, found);
    found.ids.push(row.id);
  }
  const byQueue = new Map<string, Array<{ id: string; data: DeliveryJobData; priority?: number; startAfter?: Date }>>();
  const assigned: Array<{ id: string; jobId: string; start: Date | null }> = [];
  for (const { queue, priority, start, ids } of groups.values()) {
    for (let i = 0; i < ids.length; i += ROWS_PER_JOB) {
      const chunk = ids.slice(i, i + ROWS_PER_JOB);
      const jobId = randomUUID();
      for (const id of chunk) assigned.push({ id, jobId, start });
      const jobs = byQueue.get(queue) ?? [];
      if (jobs.length === 0) byQueue.set(queue, jobs);
      jobs.push({ id: jobId, data: { ids: chunk }, ...(priority ? { priority } : {}), ...(start ? { startAfter: start } : {}) });
    }
  }
  await tx.query(
    `update outbox o set status = 'queued', job_id = v.job_id, next_attempt_at = v.start_after
       from unnest($1::bigint[], $2::uuid[], $3::timestamptz[]) as v(id, job_id, start_after) where o.id = v.id`,
    [assigned.map((a) => a.id), assigned.map((a) => a.jobId), assigned.map((a) => a.start)],
  );
  for (const [queue, jobs] of byQueue) await boss.insert(queue, jobs, { db: tx.boss });
}

/**
 * A row not finished yet, by its alias in a query: pending, waiting, queued, sending or dead. A command's such rows
 * hold its chain; it is the predicate of the index `outbox_chain_idx` (no index reads `status`, so that a row's moves
 * from one unfinished status to another are HOT updates). `finished_at` is set when a row is delivered, discarded or
 * superseded, and only then.
 */
export function unfinished(alias: string): string {
  return `${alias}.finished_at is null`;
}

/**
 * Serialises, until the transaction ends, whoever decides what comes next in these command chains: the relay
 * placing a new row behind an unfinished one, and whoever finishes a row and queues its successor. Without it
 * the two could each miss the other's uncommitted change (a row left waiting, unseen), and row locks taken to
 * prevent that deadlocked the relay against a worker settling many rows at once. Taken in one order.
 */
export async function lockChains(tx: Tx, destination: string, keys: Iterable<string>): Promise<string[]> {
  const sorted = [...new Set(keys)].sort();
  if (sorted.length > 0) {
    await tx.query(`select count(pg_advisory_xact_lock(hashtextextended('chain:' || $1 || '|' || k, 0))) from unnest($2::text[]) with ordinality as u(k, n)`, [destination, sorted]);
  }
  return sorted;
}

/**
 * lockChains without waiting: takes the locks of these chains that nobody holds and returns their keys. The relay
 * uses it so that it never waits for a worker settling a chain (the worker would then wait for the relay's commit
 * in turn); the rows of a chain it could not lock stay unrelayed for its next pass.
 */
export async function tryLockChains(tx: Tx, destination: string, keys: Iterable<string>): Promise<Set<string>> {
  const { rows } = await tx.query<{ k: string }>(
    `select k from unnest($2::text[]) as u(k) where pg_try_advisory_xact_lock(hashtextextended('chain:' || $1 || '|' || k, 0))`,
    [destination, [...new Set(keys)]],
  );
  return new Set(rows.map((r) => r.k));
}

/**
 * After command rows of these keys finish, the oldest waiting command of each, locked, under the chains' locks.
 * A key with a row still queued, being sent or dead has none.
 */
async function nextInChains(tx: Tx, destination: string, keys: string[]): Promise<string[]> {
  const commandKeys = await lockChains(tx, destination, keys);
  if (commandKeys.length === 0) return [];
  // Per key, the oldest unfinished row of the chain (one index probe each): when it is waiting, it goes next.
  const { rows } = await tx.query<{ id: string }>(
    `select n.id from unnest($2::text[]) as k(key)
       cross join lateral (
         select w.id, w.status from outbox w
          where w.destination = $1 and w.key = k.key and w.kind = 'command' and ${unfinished('w')}
          order by w.id limit 1) head
       join outbox n on n.id = head.id and n.status = 'waiting'
      where head.status = 'waiting'
      for update of n`,
    [destination, commandKeys],
  );
  return rows.map((r) => String(r.id));
}

/** After command rows of these keys finish, queues the oldest waiting command of each, in the same transaction. */
export async function queueNextInChains(tx: Tx, boss: PgBoss, destination: string, keys: string[]): Promise<void> {
  const ids = await nextInChains(tx, destination, keys);
  await enqueue(tx, boss, ids.map((id) => ({ id, destination })));
}
