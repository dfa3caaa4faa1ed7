import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { PG_POOL } from '../src/platform/database/pg-pool.js';
import { inTransaction } from '../src/platform/database/transaction.js';
import { Governor, type Admission } from '../src/platform/governor/governor.js';
import type { OutboxMessage } from '../src/platform/outbox/message.js';
import { FaultTarget, maxInWindow } from './support/fault-target.js';
import { addMessages, orderViolations, SinkSubscriptionsModule, sinkChannel, statusCounts, waitUntil } from './support/messaging.js';
import { freshDatabase, startTestApp, type TestApp } from './support/test-app.js';

const FAST = {
  LOG_LEVEL: 'warn',
  CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100',
  CROSSDOCK_DELIVERY_MAX_DELAY_MS: '1000',
  CROSSDOCK_CALL_TIMEOUT_MS: '2000',
  CROSSDOCK_CIRCUIT_FAILURES: '3',
  CROSSDOCK_CIRCUIT_OPEN_MS: '1000',
};
// The outage of the reliability standard is 60 s; the test keeps its shape at a tenth of the length.
const OUTAGE_MS = Number(process.env.TEST_OUTAGE_MS ?? 6_000);

const commands = (count: number, keys: number, prefix: string): OutboxMessage[] =>
  Array.from({ length: count }, (_, i) => ({ type: 'test.command', kind: 'command' as const, key: `${prefix}-${i % keys}`, payload: { seq: Math.floor(i / keys) } }));

describe('an outage of the target', () => {
  let t: TestApp;
  let target: FaultTarget;
  beforeAll(async () => {
    target = new FaultTarget();
    await target.start();
    t = await startTestApp({ additionalModules: [SinkSubscriptionsModule], env: FAST });
    await t.request('PUT', '/v1/admin/channels/sink', { body: sinkChannel(target.url) });
  });
  afterAll(async () => {
    await t.close();
    await target.stop();
  });

  it('dead-letters nothing, charges no attempt, and everything is delivered once, in order, after it', async () => {
    const port = target.port;
    await target.stop();
    const messages = commands(200, 20, 'outage');
    await addMessages(t.app, messages);
    const started = Date.now();
    let sawOpenCircuit = false;
    while (Date.now() - started < OUTAGE_MS) {
      const counts = await statusCounts(t);
      expect(counts.dead ?? 0).toBe(0);
      const [circuit] = await t.sql("select circuit from governor_state where target = 'channel:sink'");
      if (circuit?.circuit !== 'closed') sawOpenCircuit = true;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(sawOpenCircuit).toBe(true);
    await target.start(port);
    await waitUntil('all delivered after the outage', async () => (await statusCounts(t)).delivered === messages.length, 60_000);
    expect(await statusCounts(t)).toEqual({ delivered: messages.length });
    const [charged] = await t.sql<{ n: number }>('select coalesce(sum(attempts), 0)::int as n from outbox');
    expect(charged.n).toBe(0);
    expect(target.effects).toHaveLength(messages.length);
    expect(orderViolations(target.effects)).toEqual([]);
    const deferred = await t.sql<{ n: number }>("select count(*)::int as n from trace_event where step = 'deferred' and detail->>'reason' in ('circuit-open', 'circuit-probe')");
    expect(deferred[0]!.n).toBeGreaterThan(0);
    const circuit = await t.sql<{ to: string }>("select detail->>'to' as to from trace_event where step = 'circuit' order by id");
    expect(circuit.map((c) => c.to)).toContain('open');
    expect(circuit.at(-1)?.to).toBe('closed');
  });
});

describe('limits shared by two instances', () => {
  let a: TestApp;
  let b: TestApp;
  let target: FaultTarget;
  const limits = { ratePerSecond: 20, burst: 5, concurrency: 3 };
  beforeAll(async () => {
    target = new FaultTarget();
    await target.start();
    const databaseUrl = await freshDatabase();
    a = await startTestApp({ databaseUrl, additionalModules: [SinkSubscriptionsModule], env: FAST });
    b = await startTestApp({ databaseUrl, additionalModules: [SinkSubscriptionsModule], env: FAST });
    await a.request('PUT', '/v1/admin/channels/sink', { body: sinkChannel(target.url, limits) });
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await target.stop();
  });

  it('never exceed the rate or the concurrency of the target, counted at the target', async () => {
    target.faults.latencyMs = [20, 60];
    const messages = commands(120, 120, 'rate');
    await Promise.all([addMessages(a.app, messages.slice(0, 60), 10), addMessages(b.app, messages.slice(60), 10)]);
    await waitUntil('all delivered', async () => (await statusCounts(a)).delivered === messages.length, 60_000);
    const times = target.requests.map((r) => r.at);
    // Grants are timed by the database clock, arrivals by the target's: one request of network jitter is allowed.
    expect(maxInWindow(times, 1_000)).toBeLessThanOrEqual(limits.burst + limits.ratePerSecond + 1);
    expect(target.maxInFlight).toBeLessThanOrEqual(limits.concurrency);
    expect(target.effects).toHaveLength(messages.length);
  });

  it('honour Retry-After: the whole target pauses, and no attempt is charged', async () => {
    target.requests.length = 0;
    target.faults = { ...target.faults, latencyMs: [0, 0], throttleNext: 1, retryAfterSeconds: 2 };
    await addMessages(a.app, commands(30, 30, 'pause'));
    await waitUntil('all delivered', async () => (await a.sql("select 1 from outbox where key like 'pause-%' and status <> 'delivered'")).length === 0, 30_000);
    const throttled = target.requests.find((r) => r.status === 429)!;
    expect(throttled).toBeDefined();
    // Calls granted before the 429 was recorded may still land; none may start after it, until Retry-After ends.
    const [recorded] = await a.sql<{ at: Date }>("select at from trace_event where step = 'deferred' and detail->>'reason' = 'retry-after' order by id limit 1");
    const pausedFrom = new Date(recorded!.at).getTime();
    const during = target.requests.filter((r) => r.arrivedAt > pausedFrom && r.arrivedAt < throttled.at + 1_950);
    expect(during).toEqual([]);
    expect(target.requests.filter((r) => r.arrivedAt >= throttled.at + 1_950).length).toBeGreaterThan(0);
    const [charged] = await a.sql<{ n: number }>("select coalesce(sum(attempts), 0)::int as n from outbox where key like 'pause-%'");
    expect(charged.n).toBe(0);
  });
});

describe('the governor under its lock', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_ROLE: 'api' } });
  });
  afterAll(() => t.close());

  it('counts the leases of the transaction a caller waited for: one slot is not granted twice', async () => {
    const governor = t.app.get(Governor);
    const pool = t.app.get<pg.Pool>(PG_POOL);
    const limits = { ratePerSecond: 1_000, burst: 1_000, concurrency: 1, maintenanceWindows: [] };
    const target = 'test:one-slot';
    await t.sql('insert into governor_state (target, tokens, refilled_at) values ($1, $2, clock_timestamp())', [target, limits.burst]);
    let second: Promise<Admission[]> | undefined;
    const [first] = await inTransaction(pool, async (tx) => {
      const admissions = await governor.acquire(tx, target, limits);
      // A second caller asks while this transaction holds the target's lock and its uncommitted lease.
      second = inTransaction(pool, (other) => governor.acquire(other, target, limits));
      await waitUntil('the second caller waits for the lock', async () => (await t.sql("select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like '%from governor_state where target = $1 for update%'")).length > 0, 5_000);
      return admissions;
    });
    expect(first).toMatchObject({ granted: true });
    expect((await second!)[0]).toMatchObject({ granted: false, reason: 'concurrency' });
    expect(await t.sql('select target from governor_lease')).toEqual([{ target }]);
  });
});
