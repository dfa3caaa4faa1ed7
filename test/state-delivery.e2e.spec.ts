import { afterAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type pg from 'pg';
import { PG_POOL } from '../src/platform/database/pg-pool.js';
import { inTransaction } from '../src/platform/database/transaction.js';
import type { OutboxMessage } from '../src/platform/outbox/message.js';
import { Outbox } from '../src/platform/outbox/outbox.js';
import type { FaultTarget } from './support/fault-target.js';
import { waitUntil } from './support/messaging.js';
import type { TestApp } from './support/test-app.js';
import { killAndReplace, startFleet, type Fleet } from './support/worker-fleet.js';

// State updates (newest wins) written while worker processes deliver them, as a stock feed is: versions of a key
// grow over time, from two producers drawing on one counter, so they may commit out of version order.
const KEYS = 200;
const WRITE_MS = Number(process.env.TEST_STATE_WRITE_MS ?? 8_000);
const PER_TRANSACTION = 50;

/** Writes state updates for random keys until `ms` have passed; answers the newest version written per key. */
async function writeStates(app: NestFastifyApplication, ms: number): Promise<Map<string, number>> {
  let counter = 0;
  const newest = new Map<string, number>();
  const until = Date.now() + ms;
  const producer = async () => {
    while (Date.now() < until) {
      const batch: OutboxMessage[] = Array.from({ length: PER_TRANSACTION }, () => {
        const key = `sku-${Math.floor(Math.random() * KEYS)}`;
        const version = ++counter;
        newest.set(key, Math.max(newest.get(key) ?? 0, version));
        return { type: 'test.state', kind: 'state' as const, key, version, payload: { available: version }, stateValue: String(version) };
      });
      // One call per transaction, as the stock intake writes a batch's figures: keys are locked in one order.
      await inTransaction(app.get<pg.Pool>(PG_POOL), (tx) => app.get(Outbox).addMany(tx, batch.map((message) => ({ message, destinations: ['channel:sink'] }))));
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await Promise.all([producer(), producer()]);
  return newest;
}

/** Every key ends at its newest version, received in growing order, once per delivery id. */
async function expectNewestWinsInOrder(producer: TestApp, target: FaultTarget, newest: Map<string, number>) {
  await waitUntil('every key delivered at its newest version', async () => {
    const [left] = await producer.sql<{ n: number }>('select ((select count(*) from state_outbox) + (select count(*) from state_inflight))::int as n');
    return left!.n === 0;
  }, 120_000, 250);
  const delivered = await producer.sql<{ key: string; version: string }>("select key, version from delivered_version where destination = 'channel:sink'");
  expect(new Map(delivered.map((r) => [r.key, Number(r.version)]))).toEqual(newest);
  const bySubject = target.effectsBySubject();
  for (const [key, version] of newest) {
    const versions = (bySubject.get(key) ?? []).map((e) => e.data.available as number);
    expect(versions, key).toEqual([...new Set(versions)].sort((a, b) => a - b));
    expect(versions.at(-1), key).toBe(version);
  }
  expect(target.badSignatures).toBe(0);
  // Coalesced: far fewer deliveries than updates.
  expect(target.effects.length).toBeLessThan([...newest.values()].reduce((a, b) => Math.max(a, b), 0));
  const [dead] = await producer.sql<{ n: number }>("select count(*)::int as n from outbox where kind = 'state' and status = 'dead'");
  expect(dead!.n).toBe(0);
}

describe('state updates through 5xx, 429, timeouts and three worker processes at once', () => {
  let fleet: Fleet;
  afterAll(() => fleet?.close());

  it('never send a lower version after a higher one, and end at the newest', { timeout: 240_000 }, async () => {
    fleet = await startFleet({
      // Random faults, and the first requests sure to time out and fail, whatever the dice say.
      faults: { latencyMs: [0, 5], serverErrorRate: 0.05, throttleRate: 0.01, retryAfterSeconds: 0.2, hangRate: 0.02, hangMs: 1_500, hangNext: 2, failNext: 2 },
      limits: { ratePerSecond: 5000, burst: 5000, concurrency: 32 },
      workerEnv: { CROSSDOCK_CALL_TIMEOUT_MS: '500', CROSSDOCK_CIRCUIT_FAILURES: '50' },
    });
    await Promise.all([fleet.startWorker(), fleet.startWorker(), fleet.startWorker()]);
    const newest = await writeStates(fleet.producer.app, WRITE_MS);
    await expectNewestWinsInOrder(fleet.producer, fleet.target, newest);
    // The faults happened: timeouts and retries were part of the run.
    expect(fleet.target.requests.filter((r) => r.status === 504).length).toBeGreaterThan(0);
    expect(fleet.target.requests.filter((r) => r.status === 503).length).toBeGreaterThan(0);
  });
});

describe('state updates while worker processes are killed with SIGKILL and restarted', () => {
  let fleet: Fleet;
  afterAll(() => fleet?.close());

  it('are sent again after the kill, never a lower version after a higher one, and end at the newest', { timeout: 240_000 }, async () => {
    fleet = await startFleet({
      // Slow answers, so that every kill lands while calls are out.
      faults: { latencyMs: [100, 300] },
      limits: { ratePerSecond: 5000, burst: 5000, concurrency: 32 },
      // A killed sender's keys are sent again once its lease ends: call timeout x 2 + 10 s.
      workerEnv: { CROSSDOCK_CALL_TIMEOUT_MS: '500' },
    });
    // First one worker alone, killed while it holds keys in flight (no one else could): they must come back.
    const alone = await fleet.startWorker();
    const writing = writeStates(fleet.producer.app, WRITE_MS);
    await waitUntil('keys in flight', async () => (await fleet.producer.sql('select 1 from state_inflight limit 1')).length > 0, 30_000, 20);
    const pair = [await killAndReplace(fleet, alone), await fleet.startWorker()];
    let kills = 1;
    while (kills < 3) {
      await new Promise((r) => setTimeout(r, 1_000 + Math.random() * 1_500));
      const victim = kills % 2;
      pair[victim] = await killAndReplace(fleet, pair[victim]!);
      kills++;
    }
    const newest = await writing;
    await expectNewestWinsInOrder(fleet.producer, fleet.target, newest);
    // Killed workers left keys in flight; their leases ended and the keys were sent again (or their newer version).
    const [requeued] = await fleet.producer.sql<{ n: number }>("select count(*)::int as n from trace_event where step = 'lease-expired'");
    expect(requeued!.n).toBeGreaterThan(0);
  });
});
