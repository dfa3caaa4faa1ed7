import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MikroORM } from '@mikro-orm/postgresql';
import { Outbox } from '../src/platform/outbox/outbox.js';
import type { OutboxMessage } from '../src/platform/outbox/message.js';
import { FaultTarget } from './support/fault-target.js';
import { addMessages, orderViolations, SinkSubscriptionsModule, sinkChannel, statusCounts, waitUntil } from './support/messaging.js';
import { startTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
let target: FaultTarget;

const FAST = {
  CROSSDOCK_DELIVERY_BASE_DELAY_MS: '50',
  CROSSDOCK_DELIVERY_MAX_DELAY_MS: '500',
  CROSSDOCK_CALL_TIMEOUT_MS: '2000',
  CROSSDOCK_CIRCUIT_FAILURES: '3',
  CROSSDOCK_CIRCUIT_OPEN_MS: '500',
};

beforeAll(async () => {
  target = new FaultTarget();
  await target.start();
  t = await startTestApp({ additionalModules: [SinkSubscriptionsModule], env: { ...FAST, LOG_LEVEL: 'warn' } });
  expect((await t.request('PUT', '/v1/admin/channels/sink', { body: sinkChannel(target.url) })).status).toBe(201);
});
afterAll(async () => {
  await t.close();
  await target.stop();
});
afterEach(() => {
  target.faults = { ...target.faults, latencyMs: [0, 0], serverErrorRate: 0, throttleRate: 0, hangRate: 0 };
});

const commands = (keys: number, perKey: number, prefix: string): OutboxMessage[] =>
  Array.from({ length: keys * perKey }, (_, i) => ({
    type: 'test.command',
    kind: 'command' as const,
    key: `${prefix}-${i % keys}`,
    payload: { seq: Math.floor(i / keys) },
  }));

describe('outbox', () => {
  it('writes nothing when the caller rolls back', async () => {
    const orm = t.app.get(MikroORM);
    const outbox = t.app.get(Outbox);
    await expect(
      orm.em.fork().transactional(async (em) => {
        await outbox.add(em, { type: 'test.command', kind: 'command', key: 'rolled-back', payload: { seq: 0 } });
        throw new Error('the business change failed');
      }),
    ).rejects.toThrow('the business change failed');
    expect(await t.sql("select * from outbox where key = 'rolled-back'")).toEqual([]);
  });

  it('refuses to write outside a transaction', async () => {
    const orm = t.app.get(MikroORM);
    await expect(t.app.get(Outbox).add(orm.em.fork(), { type: 'test.command', kind: 'command', key: 'k', payload: {} })).rejects.toThrow(/transaction/);
  });
});

describe('delivery', () => {
  it('delivers every command exactly once and in order per key, through latency, 5xx and 429', async () => {
    target.faults = { ...target.faults, latencyMs: [0, 15], serverErrorRate: 0.1, throttleRate: 0.03, retryAfterSeconds: 0.2 as never };
    const messages = commands(40, 15, 'order');
    await addMessages(t.app, messages);
    await waitUntil('all delivered', async () => (await statusCounts(t)).delivered === messages.length, 90_000);
    const effects = target.effects.filter((e) => e.subject.startsWith('order-'));
    expect(effects).toHaveLength(messages.length);
    expect(orderViolations(effects)).toEqual([]);
    expect((await statusCounts(t)).dead).toBeUndefined();
    expect(target.badSignatures).toBe(0);
  });

  it('sends the newest state per key and never a lower version after a higher one', async () => {
    const keys = 20;
    const perKey = 50;
    const updates: OutboxMessage[] = [];
    for (let k = 0; k < keys; k++) for (let v = 1; v <= perKey; v++) updates.push({ type: 'test.state', kind: 'state', key: `sku-${k}`, version: v, payload: { available: v } });
    updates.sort(() => Math.random() - 0.5);
    target.faults = { ...target.faults, latencyMs: [0, 10] };
    await addMessages(t.app, updates, 25);
    await waitUntil('the newest version of every key delivered', async () => {
      const rows = await t.sql<{ n: number }>("select count(*)::int as n from delivered_version where destination = 'channel:sink' and key like 'sku-%' and version = $1", [perKey]);
      return rows[0]!.n === keys;
    });
    await waitUntil('nothing left to send', async () => (await t.sql("select 1 from outbox where kind = 'state' and status in ('pending','waiting','queued','sending')")).length === 0);
    for (const [subject, effects] of target.effectsBySubject()) {
      if (!subject.startsWith('sku-')) continue;
      const versions = effects.map((e) => e.data.available as number);
      expect(versions, subject).toEqual([...versions].sort((a, b) => a - b));
      expect(versions.at(-1)).toBe(perKey);
    }
    const sent = target.effects.filter((e) => e.subject.startsWith('sku-')).length;
    expect(sent).toBeLessThan(keys * perKey); // coalesced
  });

  it('dead-letters a message the target refuses, at once and with its reason, and keeps other keys moving', async () => {
    await addMessages(t.app, [
      { type: 'test.command', kind: 'command', key: 'bad-1', payload: { seq: 0, reject: true, item: 'SKU-404' } },
      { type: 'test.command', kind: 'command', key: 'bad-1', payload: { seq: 1 } },
      { type: 'test.command', kind: 'command', key: 'good-1', payload: { seq: 0 } },
    ]);
    await waitUntil('dead-lettered', async () => (await t.sql("select 1 from outbox where key = 'bad-1' and status = 'dead'")).length === 1);
    await waitUntil('the other key delivered', () => target.effects.some((e) => e.subject === 'good-1'));
    const [dead] = await t.sql("select attempts, error_class, errors from outbox where key = 'bad-1' and status = 'dead'");
    expect(dead.attempts).toBe(0);
    expect(dead.error_class).toBe('permanent');
    expect(dead.errors[0]).toMatchObject({ class: 'permanent', status: 400 });
    expect(dead.errors[0].bodyExcerpt).toContain('SKU-404');
    const [blocked] = await t.sql("select status from outbox where key = 'bad-1' and (payload->>'seq')::int = 1");
    expect(blocked.status).toBe('waiting');
  });
});
