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

export interface Chain {
  key: string;
  kind: 'command' | 'state';
}

/**
 * After rows of chains finish, queues what comes next in each, in the same transaction: the oldest waiting
 * command, or the newest waiting state (older waiting states are superseded). A chain with a row still
 * queued, being sent or (for commands) dead gets nothing.
 */
export async function queueNextInChains(tx: Tx, boss: PgBoss, destination: string, chains: Chain[]): Promise<void> {
  const commandKeys = [...new Set(chains.filter((c) => c.kind === 'command').map((c) => c.key))];
  const stateKeys = [...new Set(chains.filter((c) => c.kind === 'state').map((c) => c.key))];
  const next: string[] = [];
  if (commandKeys.length > 0) {
    const { rows } = await tx.query<{ id: string }>(
      `select o.id from outbox o where o.id in (
         select min(w.id) from outbox w
          where w.destination = $1 and w.kind = 'command' and w.key = any($2::text[]) and w.status = 'waiting'
            and not exists (select 1 from outbox a where a.destination = w.destination and a.key = w.key and a.kind = 'command'
                              and a.status in ('queued', 'sending', 'dead'))
          group by w.key)
       for update of o`,
      [destination, commandKeys],
    );
    next.push(...rows.map((r) => r.id));
  }
  if (stateKeys.length > 0) {
    const { rows } = await tx.query<{ id: string; newest: boolean }>(
      `select w.id, w.id = max(w.id) over (partition by w.key) as newest from outbox w
        where w.destination = $1 and w.kind = 'state' and w.key = any($2::text[]) and w.status = 'waiting'
          and not exists (select 1 from outbox a where a.destination = w.destination and a.key = w.key and a.kind = 'state'
                            and a.status in ('queued', 'sending'))`,
      [destination, stateKeys],
    );
    const older = rows.filter((r) => !r.newest).map((r) => r.id);
    if (older.length > 0) {
      await tx.query(`update outbox set status = 'superseded', finished_at = clock_timestamp() where id = any($1::bigint[]) and status = 'waiting'`, [older]);
    }
    const newest = rows.filter((r) => r.newest).map((r) => r.id);
    if (newest.length > 0) {
      const locked = await tx.query<{ id: string }>(`select id from outbox where id = any($1::bigint[]) and status = 'waiting' for update`, [newest]);
      next.push(...locked.rows.map((r) => r.id));
    }
  }
  await enqueue(tx, boss, next.map((id) => ({ id, destination })));
}

export function queueNextInChain(tx: Tx, boss: PgBoss, destination: string, key: string, kind: 'command' | 'state'): Promise<void> {
  return queueNextInChains(tx, boss, destination, [{ key, kind }]);
}
