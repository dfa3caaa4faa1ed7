import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Destinations, type DestinationHandler } from '../src/platform/delivery/destinations.js';
import type { Delivery } from '../src/platform/outbox/message.js';
import { PG_POOL } from '../src/platform/database/pg-pool.js';
import { inTransaction } from '../src/platform/database/transaction.js';
import { Outbox } from '../src/platform/outbox/outbox.js';
import { waitUntil } from './support/messaging.js';
import { startTestApp, type TestApp } from './support/test-app.js';

/** A destination type whose limits cannot be read for a while, as when the database does not answer. */
@Injectable()
class FlakyDestination implements DestinationHandler, OnModuleInit {
  failuresLeft = 3;
  readonly delivered: string[] = [];
  constructor(private readonly destinations: Destinations) {}
  onModuleInit(): void {
    this.destinations.register('flaky', this);
  }
  async limits() {
    if (this.failuresLeft-- > 0) throw new Error('timeout exceeded when trying to connect');
    return { ratePerSecond: 100, burst: 100, concurrency: 4, maintenanceWindows: [] };
  }
  async deliver(delivery: Delivery): Promise<void> {
    this.delivered.push(delivery.key);
  }
}
@Module({ providers: [FlakyDestination] })
class FlakyModule {}

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ additionalModules: [FlakyModule], env: { LOG_LEVEL: 'error' } });
});
afterAll(async () => {
  await t?.close();
});

describe('a destination that cannot be used', () => {
  it('retries when its settings cannot be read for a while, and delivers without failing the message', async () => {
    await inTransaction(t.app.get(PG_POOL), (tx) => t.app.get(Outbox).add(tx, { type: 'test.flaky', kind: 'command', key: 'flaky-2', payload: {} }, ['flaky:one']));
    const flaky = t.app.get(FlakyDestination);
    await waitUntil('delivered', () => flaky.delivered.includes('flaky-2'), 60_000);
    // The target has it; the row is settled in the worker's next transaction, a moment later.
    await waitUntil('settled', async () => (await t.sql("select 1 from outbox where key = 'flaky-2' and status <> 'sending'")).length === 1, 10_000);
    const [row] = await t.sql("select status, attempts from outbox where key = 'flaky-2'");
    expect(row).toEqual({ status: 'delivered', attempts: 0 });
  });

  it('dead-letters messages to a channel that does not exist, with the reason', async () => {
    await inTransaction(t.app.get(PG_POOL), (tx) => t.app.get(Outbox).add(tx, { type: 'test.command', kind: 'command', key: 'ghost-1', payload: {} }, ['channel:ghost']));
    await waitUntil('dead', async () => (await t.sql("select 1 from outbox where key = 'ghost-1' and status = 'dead'")).length === 1, 30_000);
    const [letter] = (await t.request('GET', '/v1/ops/dead-letters?destination=channel:ghost')).body.items;
    expect(letter).toMatchObject({ errorClass: 'permanent', lastError: expect.stringMatching(/channel ghost does not exist/) });
  });
});
