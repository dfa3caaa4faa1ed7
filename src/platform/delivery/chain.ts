import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import type { Tx } from '../database/transaction.js';
import { queueName } from '../outbox/message.js';

export interface QueueRow {
  id: string;
  destination: string;
}

/** Marks rows `queued` under a new job each and inserts those jobs, in the caller's transaction. */
export async function enqueue(tx: Tx, boss: PgBoss, rows: QueueRow[], startAfter?: Date): Promise<void> {
  if (rows.length === 0) return;
  const byQueue = new Map<string, Array<{ id: string; data: { id: string }; startAfter?: Date }>>();
  const ids: string[] = [];
  const jobIds: string[] = [];
  for (const row of rows) {
    const jobId = randomUUID();
    ids.push(row.id);
    jobIds.push(jobId);
    const queue = queueName(row.destination);
    byQueue.set(queue, [...(byQueue.get(queue) ?? []), { id: jobId, data: { id: row.id }, ...(startAfter ? { startAfter } : {}) }]);
  }
  await tx.query(
    `update outbox o set status = 'queued', job_id = v.job_id, next_attempt_at = $3
       from unnest($1::bigint[], $2::uuid[]) as v(id, job_id) where o.id = v.id`,
    [ids, jobIds, startAfter ?? null],
  );
  for (const [queue, jobs] of byQueue) await boss.insert(queue, jobs, { db: tx.boss });
}

/**
 * After a row of a chain finishes, queues what comes next in the same transaction: the oldest waiting
 * command, or the newest waiting state (older waiting states are superseded).
 */
export async function queueNextInChain(tx: Tx, boss: PgBoss, destination: string, key: string, kind: 'command' | 'state'): Promise<void> {
  if (kind === 'command') {
    const active = await tx.query(
      `select 1 from outbox where destination = $1 and key = $2 and kind = 'command' and status in ('queued', 'sending', 'dead') limit 1`,
      [destination, key],
    );
    if (active.rowCount) return;
    const next = await tx.query<{ id: string }>(
      `select id from outbox where destination = $1 and key = $2 and kind = 'command' and status = 'waiting' order by id limit 1 for update`,
      [destination, key],
    );
    await enqueue(tx, boss, next.rows.map((r) => ({ id: r.id, destination })));
    return;
  }
  const active = await tx.query(`select 1 from outbox where destination = $1 and key = $2 and kind = 'state' and status in ('queued', 'sending') limit 1`, [destination, key]);
  if (active.rowCount) return;
  const waiting = await tx.query<{ id: string }>(
    `select id from outbox where destination = $1 and key = $2 and kind = 'state' and status = 'waiting' order by id desc for update`,
    [destination, key],
  );
  const [newest, ...older] = waiting.rows;
  if (older.length > 0) {
    await tx.query(`update outbox set status = 'superseded', finished_at = clock_timestamp() where id = any($1::bigint[])`, [older.map((r) => r.id)]);
  }
  if (newest) await enqueue(tx, boss, [{ id: newest.id, destination }]);
}
