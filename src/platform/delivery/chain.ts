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

/** Marks rows `queued` under a new job each and inserts those jobs, in the caller's transaction. */
export async function enqueue(tx: Tx, boss: PgBoss, rows: QueueRow[], startAfter?: Date): Promise<void> {
  if (rows.length === 0) return;
  const jobIds = rows.map(() => randomUUID());
  const starts = rows.map((row) => row.startAfter ?? startAfter ?? null);
  const { rows: priorities } = await tx.query<{ id: string; priority: number }>(
    `update outbox o set status = 'queued', job_id = v.job_id, next_attempt_at = v.start_after
       from unnest($1::bigint[], $2::uuid[], $3::timestamptz[]) as v(id, job_id, start_after) where o.id = v.id
     returning o.id, o.priority`,
    [rows.map((r) => r.id), jobIds, starts],
  );
  const priorityOf = new Map(priorities.map((p) => [String(p.id), p.priority]));
  const byQueue = new Map<string, Array<{ id: string; data: { id: string }; priority?: number; startAfter?: Date }>>();
  rows.forEach((row, i) => {
    const queue = queueName(row.destination);
    const start = starts[i];
    const priority = priorityOf.get(String(row.id)) ?? 0;
    const jobs = byQueue.get(queue) ?? [];
    if (jobs.length === 0) byQueue.set(queue, jobs);
    jobs.push({ id: jobIds[i]!, data: { id: row.id }, ...(priority ? { priority } : {}), ...(start ? { startAfter: start } : {}) });
  });
  for (const [queue, jobs] of byQueue) await boss.insert(queue, jobs, { db: tx.boss });
}

/**
 * After command rows of these keys finish, queues the oldest waiting command of each, in the same
 * transaction. A key with a row still queued, being sent or dead gets nothing.
 */
export async function queueNextInChains(tx: Tx, boss: PgBoss, destination: string, keys: string[]): Promise<void> {
  const commandKeys = [...new Set(keys)];
  if (commandKeys.length === 0) return;
  // Per key, the oldest unfinished row of the chain (one index probe each): when it is waiting, it goes next.
  const { rows } = await tx.query<{ id: string }>(
    `select n.id from unnest($2::text[]) as k(key)
       cross join lateral (
         select w.id, w.status from outbox w
          where w.destination = $1 and w.key = k.key and w.kind = 'command' and w.status in ('pending', 'waiting', 'queued', 'sending', 'dead')
          order by w.id limit 1) head
       join outbox n on n.id = head.id and n.status = 'waiting'
      where head.status = 'waiting'
      for update of n`,
    [destination, commandKeys],
  );
  await enqueue(tx, boss, rows.map((r) => ({ id: r.id, destination })));
}
