import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type pg from 'pg';
import { PG_POOL } from '../../src/platform/database/pg-pool.js';
import { inTransaction } from '../../src/platform/database/transaction.js';
import { Outbox } from '../../src/platform/outbox/outbox.js';
import type { OutboxMessage } from '../../src/platform/outbox/message.js';
import { Subscriptions } from '../../src/platform/outbox/subscriptions.js';
import { TARGET_SECRET } from './fault-target.js';
import type { TestApp } from './test-app.js';

/** Test message types, subscribed by the webhook channel `sink` (and `sink-batch`, which takes batches). */
@Injectable()
class SinkSubscriptions implements OnModuleInit {
  constructor(private readonly subscriptions: Subscriptions) {}
  onModuleInit(): void {
    for (const type of ['test.command', 'test.state']) this.subscriptions.declare(type, () => ['channel:sink']);
    // States for a channel that takes CloudEvents batches.
    this.subscriptions.declare('test.state.batched', () => ['channel:sink-batch']);
  }
}

@Module({ providers: [SinkSubscriptions] })
export class SinkSubscriptionsModule {}

export function sinkChannel(url: string, limits = { ratePerSecond: 1000, burst: 1000, concurrency: 16 }) {
  return {
    kind: 'webhook',
    name: 'fault-injecting sink',
    config: { url, secret: TARGET_SECRET },
    inventory: { warehouses: ['WH-1'], safetyStock: 0, allocationPercent: 100 },
    oversell: 'reject',
    limits,
  };
}

/** Writes messages through the outbox, `perTransaction` at a time. */
export async function addMessages(app: NestFastifyApplication, messages: OutboxMessage[], perTransaction = 100): Promise<void> {
  const pool = app.get<pg.Pool>(PG_POOL);
  const outbox = app.get(Outbox);
  for (let i = 0; i < messages.length; i += perTransaction) {
    await inTransaction(pool, async (tx) => {
      for (const message of messages.slice(i, i + perTransaction)) await outbox.add(tx, message);
    });
  }
}

export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function statusCounts(t: Pick<TestApp, 'sql'>): Promise<Record<string, number>> {
  const rows = await t.sql<{ status: string; n: number }>('select status, count(*)::int as n from outbox group by status');
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Checks the target applied every command once, in the order of `seq` per subject. */
export function orderViolations(effects: Array<{ subject: string; data: { seq: number } }>): string[] {
  const last = new Map<string, number>();
  const violations: string[] = [];
  for (const effect of effects) {
    const previous = last.get(effect.subject) ?? -1;
    if (effect.data.seq !== previous + 1) violations.push(`${effect.subject}: ${effect.data.seq} after ${previous}`);
    last.set(effect.subject, effect.data.seq);
  }
  return violations;
}
