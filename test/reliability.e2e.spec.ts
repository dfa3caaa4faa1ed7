import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxMessage } from '../src/platform/outbox/message.js';
import type { FaultTarget } from './support/fault-target.js';
import { addMessages, orderViolations, statusCounts, waitUntil } from './support/messaging.js';
import type { TestApp } from './support/test-app.js';
import { killAndReplace, startFleet, type Fleet } from './support/worker-fleet.js';

const MESSAGES = Number(process.env.TEST_RELIABILITY_MESSAGES ?? 5_000);
const KEYS = 100;

/** An api-role instance that only writes; worker processes (the compiled service) relay and deliver. */
const setUp = () => startFleet({
  faults: { latencyMs: [0, 5], serverErrorRate: Number(process.env.TEST_5XX ?? 0.02), throttleRate: Number(process.env.TEST_429 ?? 0.005), retryAfterSeconds: 0.2 },
  limits: { ratePerSecond: 5000, burst: 5000, concurrency: 32 },
});

const commands = (): OutboxMessage[] =>
  Array.from({ length: MESSAGES }, (_, i) => ({ type: 'test.command', kind: 'command' as const, key: `key-${i % KEYS}`, payload: { seq: Math.floor(i / KEYS) } }));

function expectExactlyOnceInOrder(target: FaultTarget) {
  expect(target.effects).toHaveLength(MESSAGES);
  expect(new Set(target.effects.map((e) => e.id)).size).toBe(MESSAGES);
  expect(orderViolations(target.effects)).toEqual([]);
  expect(target.badSignatures).toBe(0);
}

describe(`${MESSAGES} commands through two worker processes`, () => {
  let fleet: Fleet;
  let producer: TestApp;
  let target: FaultTarget;
  beforeAll(async () => {
    fleet = await setUp();
    ({ producer, target } = fleet);
    await addMessages(producer.app, commands(), 250);
    await Promise.all([fleet.startWorker(), fleet.startWorker()]);
  }, 120_000);
  afterAll(() => fleet.close());

  it('reach the target exactly once each, in order per key', { timeout: 600_000 }, async () => {
    await waitUntil('all delivered', async () => (await statusCounts(producer)).delivered === MESSAGES, 540_000, 500);
    expectExactlyOnceInOrder(target);
    expect(await statusCounts(producer)).toEqual({ delivered: MESSAGES });
  });
});

describe(`${MESSAGES} commands while workers are killed with SIGKILL and restarted`, () => {
  let fleet: Fleet;
  let producer: TestApp;
  let target: FaultTarget;
  beforeAll(async () => {
    fleet = await setUp();
    ({ producer, target } = fleet);
    await addMessages(producer.app, commands(), 250);
  }, 120_000);
  afterAll(() => fleet.close());

  it('still reach the target exactly once each, in order per key', { timeout: 600_000 }, async () => {
    const pair = [await fleet.startWorker(), await fleet.startWorker()];
    let kills = 0;
    while (kills < 4 && (await statusCounts(producer)).delivered !== MESSAGES) {
      await new Promise((r) => setTimeout(r, 1_000 + Math.random() * 2_000));
      const victim = Math.floor(Math.random() * 2);
      pair[victim] = await killAndReplace(fleet, pair[victim]!);
      kills++;
    }
    expect(kills).toBeGreaterThan(0);
    await waitUntil('all delivered after the kills', async () => (await statusCounts(producer)).delivered === MESSAGES, 540_000, 500);
    expectExactlyOnceInOrder(target);
  });
});
