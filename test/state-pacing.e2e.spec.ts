import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../src/platform/observability/metrics.js';
import type { OutboxMessage } from '../src/platform/outbox/message.js';
import { FaultTarget } from './support/fault-target.js';
import { addMessages, sinkChannel, SinkSubscriptionsModule, waitUntil } from './support/messaging.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// A channel whose own rate is far below what is queued for it: the state dispatcher must wait for the target,
// not claim keys over and over only to put them back (each a transaction rewriting the queue's rows).
const KEYS = 120;
const LIMITS = { ratePerSecond: 40, burst: 5, concurrency: 4 };
const WAVE = 30;

let t: TestApp;
let target: FaultTarget;

beforeAll(async () => {
  target = new FaultTarget();
  await target.start();
  t = await startTestApp({ additionalModules: [SinkSubscriptionsModule], env: { LOG_LEVEL: 'warn' } });
  expect((await t.request('PUT', '/v1/admin/channels/sink', { body: sinkChannel(target.url, LIMITS) })).status).toBe(201);
});
afterAll(async () => {
  await t.close();
  await target.stop();
});

const deferrals = async () => {
  const { values } = await t.app.get(Metrics).governorDeferrals.get();
  return values.filter((v) => v.labels.target === 'channel:sink').reduce((sum, v) => sum + v.value, 0);
};

const allDelivered = () => waitUntil('every key delivered', async () => {
  const [left] = await t.sql<{ n: number }>('select ((select count(*) from state_outbox) + (select count(*) from state_inflight))::int as n');
  return left!.n === 0;
}, 30_000, 100);

describe('state deliveries to a channel whose rate binds', () => {
  it('go out at its rate, each key once and in its place in the queue, with the dispatcher waiting for the target instead of claiming keys it must put back', async () => {
    const messages: OutboxMessage[] = Array.from({ length: KEYS }, (_, i) => ({
      type: 'test.state', kind: 'state', key: `paced-${i}`, version: i + 1, payload: { available: i }, stateValue: String(i),
    }));
    // Four waves, each its own transaction: a wave is queued after the one before it.
    await addMessages(t.app, messages, WAVE);
    await allDelivered();
    expect(target.effects).toHaveLength(KEYS);
    expect(target.duplicates).toBe(0);
    // Every refusal by the target's limits counts a deferral. Waiting for the target keeps them to about two per
    // key; claiming again at once took about fifteen per key here (1,779 for 120 keys).
    expect(await deferrals()).toBeLessThan(KEYS * 3);
    // A key the target's rate refused keeps its place: every key of a wave goes before any key two waves later.
    // (Put back at the end of the queue, a refused key of the first wave went out after the last wave's.)
    const waves = target.effects.map((e) => Math.floor(Number(e.subject.slice('paced-'.length)) / WAVE));
    const overtaken = waves.filter((wave, i) => waves.slice(i + 1).some((later) => later <= wave - 2));
    expect(overtaken).toEqual([]);
  });

  it('send urgent versions first, but a stream of them above the rate holds another key back only by their head start', async () => {
    const urgent = (n: number): OutboxMessage => ({ type: 'test.state', kind: 'state', key: `urgent-${n}`, version: 1, payload: { available: 0 }, stateValue: '0', priority: 1 });
    const before = target.effects.length;
    // Forty urgent keys waiting, then a plain one, then urgent ones at 60 a second for 3 s against a rate of 40.
    await addMessages(t.app, Array.from({ length: 40 }, (_, i) => urgent(i)), 40);
    await new Promise((r) => setTimeout(r, 300));
    await addMessages(t.app, [{ type: 'test.state', kind: 'state', key: 'plain', version: 1, payload: { available: 7 }, stateValue: '7' }]);
    for (let wave = 0; wave < 12; wave++) {
      await addMessages(t.app, Array.from({ length: 15 }, (_, i) => urgent(40 + wave * 15 + i)), 15);
      await new Promise((r) => setTimeout(r, 250));
    }
    await allDelivered();
    const order = target.effects.slice(before).map((e) => e.subject);
    expect(order).toHaveLength(221);
    const place = order.indexOf('plain');
    // The forty urgent keys queued before it go first; those queued more than a second after it go after it.
    // (With urgent keys before anything else, it came 219th of 221.)
    expect(place).toBeGreaterThanOrEqual(40);
    expect(place).toBeLessThan(160);
  });
});
