import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxMessage } from '../src/platform/outbox/message.js';
import { FaultTarget, maxInWindow, mostAdmitted } from './support/fault-target.js';
import { addMessages, orderViolations, SinkSubscriptionsModule, sinkChannel, statusCounts, waitUntil } from './support/messaging.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// A long outage, scaled down from bench/backlog.mjs (a million commands): the target answers 503 while a
// backlog builds, stays down a while longer, then comes back with a limit the drain must keep to.
const MESSAGES = Number(process.env.TEST_BACKLOG_MESSAGES ?? 1_500);
const KEYS = 100;
const LIMITS = { ratePerSecond: 500, burst: 50, concurrency: 8 };
const OUTAGE_MS = Number(process.env.TEST_BACKLOG_OUTAGE_MS ?? 2_000);

let t: TestApp;
let target: FaultTarget;

beforeAll(async () => {
  target = new FaultTarget();
  await target.start();
  target.faults.serverErrorRate = 1; // down: every call answered 503
  // The circuit opens after a few 503s and lets a probe through each second (30 s by default).
  t = await startTestApp({ additionalModules: [SinkSubscriptionsModule], env: { LOG_LEVEL: 'warn', CROSSDOCK_DELIVERY_MAX_DELAY_MS: '1000', CROSSDOCK_CIRCUIT_OPEN_MS: '1000' } });
  expect((await t.request('PUT', '/v1/admin/channels/sink', { body: sinkChannel(target.url, LIMITS) })).status).toBe(201);
});
afterAll(async () => {
  await t.close();
  await target.stop();
});

describe('a long outage with a backlog', () => {
  it('waits without spending retries or hammering the target, then drains at the target limit, once and in order', async () => {
    const messages: OutboxMessage[] = Array.from({ length: MESSAGES }, (_, i) => ({
      type: 'test.command', kind: 'command', key: `account-${i % KEYS}`, payload: { seq: Math.floor(i / KEYS) },
    }));
    await addMessages(t.app, messages, 500);
    await new Promise((r) => setTimeout(r, OUTAGE_MS));

    // Through the outage: every command is still waiting, none dead, and the target was probed, not flooded
    // (a command for each key at most, and far fewer calls than commands).
    const callsWhileDown = target.requests.length;
    expect(callsWhileDown).toBeGreaterThan(0);
    expect(callsWhileDown).toBeLessThan(MESSAGES / 10);
    expect(target.effects).toHaveLength(0);
    const waiting = await statusCounts(t);
    expect(waiting.dead ?? 0).toBe(0);
    expect(Object.values(waiting).reduce((a, b) => a + b, 0)).toBe(MESSAGES);
    const [budget] = await t.sql<{ spent: number }>(`select coalesce(max(attempts), 0)::int as spent from outbox`);
    expect(budget!.spent).toBe(0); // an outage is not the message's failure

    // Back: the whole backlog, exactly once, in order per key, never faster than the target's limit.
    const backAt = Date.now();
    target.faults.serverErrorRate = 0;
    await waitUntil('the backlog is drained', async () => (await statusCounts(t)).delivered === MESSAGES, 60_000, 200);
    expect(target.effects).toHaveLength(MESSAGES);
    expect(target.duplicates).toBe(0);
    const bySubject = [...target.effectsBySubject().values()].flat().map((e) => ({ subject: e.subject, data: e.data }));
    expect(orderViolations(bySubject)).toEqual([]);
    const accepted = target.requests.filter((r) => r.status === 200 && r.arrivedAt >= backAt).map((r) => r.arrivedAt);
    expect(accepted).toHaveLength(MESSAGES);
    expect(maxInWindow(accepted, 1000)).toBeLessThanOrEqual(mostAdmitted(LIMITS, 1000, 20));
  });
});
