import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PG_POOL } from '../src/platform/database/pg-pool.js';
import { inTransaction } from '../src/platform/database/transaction.js';
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
    const outbox = t.app.get(Outbox);
    await expect(
      inTransaction(t.app.get(PG_POOL), async (tx) => {
        await outbox.add(tx, { type: 'test.command', kind: 'command', key: 'rolled-back', payload: { seq: 0 } });
        throw new Error('the business change failed');
      }),
    ).rejects.toThrow('the business change failed');
    expect(await t.sql("select * from outbox where key = 'rolled-back'")).toEqual([]);
  });

  it('refuses to write outside a transaction', async () => {
    await expect(t.app.get(Outbox).add(t.app.get(PG_POOL), { type: 'test.command', kind: 'command', key: 'k', payload: {} })).rejects.toThrow(/transaction/);
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

  it('leaves the rows of a chain a worker is settling for the next pass, then delivers them in order', async () => {
    const pool = t.app.get(PG_POOL);
    const settling = await pool.connect();
    try {
      // A worker settling the chain holds its lock until it commits.
      await settling.query('begin');
      await settling.query(`select pg_advisory_xact_lock(hashtextextended('chain:' || $1 || '|' || $2, 0))`, ['channel:sink', 'held-0']);
      await addMessages(t.app, commands(2, 3, 'held'));
      await waitUntil('the free chain relayed', async () => Number((await t.sql("select count(*)::int as n from outbox where key = 'held-1' and relayed_at is not null"))[0].n) === 3);
      expect(await t.sql("select id from outbox where key = 'held-0' and relayed_at is not null")).toEqual([]);
      await settling.query('commit');
    } finally {
      settling.release();
    }
    await waitUntil('the held chain delivered', async () => target.effects.filter((e) => e.subject === 'held-0').length === 3);
    const effects = target.effects.filter((e) => e.subject.startsWith('held-'));
    expect(effects).toHaveLength(6);
    expect(orderViolations(effects)).toEqual([]);
  });

  it('sends the newest state per key and never a lower version after a higher one (10,000 shuffled updates, 100 keys)', { timeout: 180_000 }, async () => {
    const keys = 100;
    const perKey = Number(process.env.TEST_STATE_UPDATES_PER_KEY ?? 100);
    const updates: OutboxMessage[] = [];
    for (let k = 0; k < keys; k++) for (let v = 1; v <= perKey; v++) updates.push({ type: 'test.state', kind: 'state', key: `sku-${k}`, version: v, payload: { available: v } });
    updates.sort(() => Math.random() - 0.5);
    target.faults = { ...target.faults, latencyMs: [0, 10] };
    await addMessages(t.app, updates, 200);
    await waitUntil('the newest version of every key delivered', async () => {
      const rows = await t.sql<{ n: number }>("select count(*)::int as n from delivered_version where destination = 'channel:sink' and key like 'sku-%' and version = $1", [perKey]);
      return rows[0]!.n === keys;
    }, 150_000, 250);
    await waitUntil('nothing left to send', async () => (await t.sql('select 1 from state_outbox union all select 1 from state_inflight')).length === 0);
    for (const [subject, effects] of target.effectsBySubject()) {
      if (!subject.startsWith('sku-')) continue;
      const versions = effects.map((e) => e.data.available as number);
      expect(versions, subject).toEqual([...versions].sort((a, b) => a - b));
      expect(versions.at(-1)).toBe(perKey);
    }
    const sent = target.effects.filter((e) => e.subject.startsWith('sku-')).length;
    expect(sent).toBeLessThan(keys * perKey); // coalesced
  });

  it('sends states to a channel that opted in as CloudEvents batches, signed once, newest per key and never a lower version', async () => {
    const body = sinkChannel(target.url);
    expect((await t.request('PUT', '/v1/admin/channels/sink-batch', { body: { ...body, config: { ...body.config, batch: true, batchMaxEvents: 25 } } })).status).toBe(201);
    const keys = 40;
    const updates: OutboxMessage[] = [];
    for (let k = 0; k < keys; k++) for (let v = 1; v <= 30; v++) updates.push({ type: 'test.state.batched', kind: 'state', key: `bsku-${k}`, version: v, payload: { available: v } });
    updates.sort(() => Math.random() - 0.5);
    target.faults = { ...target.faults, latencyMs: [0, 10], serverErrorRate: 0.05 };
    await addMessages(t.app, updates, 50);
    await waitUntil('the newest version of every key delivered', async () => {
      const rows = await t.sql<{ n: number }>("select count(*)::int as n from delivered_version where destination = 'channel:sink-batch' and version = 30");
      return rows[0]!.n === keys;
    }, 60_000, 100);
    for (const [subject, effects] of target.effectsBySubject()) {
      if (!subject.startsWith('bsku-')) continue;
      const versions = effects.map((e) => e.data.available as number);
      expect(versions, subject).toEqual([...versions].sort((a, b) => a - b));
      expect(versions.at(-1)).toBe(30);
    }
    expect(target.batches).toBeGreaterThan(0);
    expect(target.batchedEvents / target.batches).toBeGreaterThan(1);
    expect(target.badSignatures).toBe(0);
    expect((await t.sql("select 1 from trace_event where step = 'delivered' and destination = 'channel:sink-batch' and (detail->>'batch')::int > 1 limit 1")).length).toBe(1);
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

describe('dead letters, replay and trace', () => {
  const deadLetterOf = async (key: string) => {
    await waitUntil(`${key} dead-lettered`, async () => (await t.sql("select 1 from outbox where key = $1 and status = 'dead'", [key])).length === 1);
    const list = await t.request('GET', `/v1/ops/dead-letters?destination=channel:sink&errorClass=permanent&limit=500`);
    expect(list.status).toBe(200);
    return list.body.items.find((d: { key: string }) => d.key === key);
  };

  it('shows a dead letter with every error, replays it after the target is fixed, exactly once, and audits the replay', async () => {
    await addMessages(t.app, [
      { type: 'test.command', kind: 'command', key: 'replay-1', payload: { seq: 0, reject: true, item: 'SKU-9' }, correlationId: 'corr-replay-1' },
      { type: 'test.command', kind: 'command', key: 'replay-1', payload: { seq: 1 }, correlationId: 'corr-replay-1' },
    ]);
    const summary = await deadLetterOf('replay-1');
    expect(summary).toMatchObject({ flow: 'test.command', destination: 'channel:sink', errorClass: 'permanent', attempts: 0 });
    const detail = await t.request('GET', `/v1/ops/dead-letters/${summary.id}`);
    expect(detail.body).toMatchObject({ id: summary.id, payload: { reject: true }, status: 'dead', correlationId: 'corr-replay-1' });
    expect(detail.body.errors[0]).toMatchObject({ class: 'permanent', status: 400 });
    expect(detail.body.firstFailedAt).toBeTruthy();

    const blocked = await t.request('GET', '/v1/ops/blocked-keys');
    expect(blocked.body).toContainEqual(expect.objectContaining({ key: 'replay-1', deadLetterId: summary.id, waiting: 1 }));

    // Fixed: replay with a corrected payload; the target applies it once, then the held message follows.
    const replay = await t.request('POST', `/v1/ops/dead-letters/${summary.id}/replay`, { body: { payload: { seq: 0, item: 'SKU-9-corrected' } }, headers: { 'x-actor': 'ops.jane' } });
    expect(replay.status).toBe(202);
    await waitUntil('replayed and the next one delivered', () => target.effects.filter((e) => e.subject === 'replay-1').length === 2);
    expect(target.effects.filter((e) => e.subject === 'replay-1').map((e) => e.data)).toEqual([{ seq: 0, item: 'SKU-9-corrected' }, { seq: 1 }]);
    expect(target.effects.find((e) => e.subject === 'replay-1')!.id).toBe(summary.id);
    expect((await t.request('POST', `/v1/ops/dead-letters/${summary.id}/replay`, { body: {} })).status).toBe(404);

    const audit = await t.request('GET', `/v1/admin/audit?resourceType=dead-letter&resourceId=${summary.id}`);
    expect(audit.body.items[0]).toMatchObject({ action: 'replay', actor: 'admin:ops.jane' });

    const trace = await t.request('GET', '/v1/ops/trace/corr-replay-1');
    expect(trace.status).toBe(200);
    const steps = trace.body.timeline.filter((s: { deliveryId: string }) => s.deliveryId === summary.id).map((s: { step: string }) => s.step);
    expect(steps).toEqual(['stored', 'relayed', 'attempt', 'dead-lettered', 'replayed', 'delivered']);
    // The relayed and delivered steps are kept on the outbox row; they read as the trace rows they replace.
    const ofRow = (step: string) => trace.body.timeline.find((s: { deliveryId: string; step: string }) => s.deliveryId === summary.id && s.step === step);
    expect(ofRow('relayed')).toMatchObject({ destination: 'channel:sink', detail: { placement: 'queued' }, latencyMs: expect.any(Number) });
    expect(ofRow('delivered')).toMatchObject({ destination: 'channel:sink', detail: { attempt: 1 }, latencyMs: expect.any(Number) });
    expect(ofRow('delivered').detail).not.toHaveProperty('latencyMs');
    expect(await t.sql("select step from trace_event where delivery_id = $1 and step in ('relayed', 'delivered')", [summary.id])).toEqual([]);
    // The answer times of the last hour count the commands' deliveries, kept on their rows, with the states'.
    const [counted] = await t.sql<{ commands: number; states: number }>(
      `select (select count(*)::int from outbox where destination = 'channel:sink' and status = 'delivered' and kind = 'command') as commands,
              (select count(*)::int from trace_event where destination = 'channel:sink' and step = 'delivered') as states`,
    );
    expect(counted!.commands).toBeGreaterThan(0);
    const latency = await t.request('GET', '/v1/ops/flows/latency');
    const sink = latency.body.points.filter((p: { destination: string }) => p.destination === 'channel:sink');
    expect(sink.reduce((n: number, p: { delivered: number }) => n + p.delivered, 0)).toBe(counted!.commands + counted!.states);
    expect(sink.every((p: { p50Ms: unknown }) => typeof p.p50Ms === 'number')).toBe(true);
    expect(trace.body.deliveries).toHaveLength(2);
  });

  it('replays a dead state through the last-value queue: sent under its delivery id, unless a newer version was delivered meanwhile', async () => {
    const state = (key: string, version: number, payload: Record<string, unknown>) => ({ type: 'test.state', kind: 'state' as const, key, version, payload });
    await addMessages(t.app, [state('dead-state-1', 1, { available: 1, reject: true, item: 'SKU-S1' }), state('dead-state-2', 1, { available: 1, reject: true, item: 'SKU-S2' })]);
    const first = await deadLetterOf('dead-state-1');
    const second = await deadLetterOf('dead-state-2');
    expect(first).toMatchObject({ flow: 'test.state', kind: 'state', errorClass: 'permanent' });
    expect(await t.sql("select 1 from state_outbox where key like 'dead-state-%' union all select 1 from state_inflight where key like 'dead-state-%'")).toEqual([]);

    // The second key moves on to version 2 before its dead version 1 is replayed.
    await addMessages(t.app, [state('dead-state-2', 2, { available: 2 })]);
    await waitUntil('version 2 delivered', () => target.effects.some((e) => e.subject === 'dead-state-2' && e.data.available === 2));

    expect((await t.request('POST', `/v1/ops/dead-letters/${first.id}/replay`, { body: { payload: { available: 1, item: 'SKU-S1-corrected' } } })).status).toBe(202);
    expect((await t.request('POST', `/v1/ops/dead-letters/${second.id}/replay`, { body: { payload: { available: 1 } } })).status).toBe(202);
    await waitUntil('the replays settled', async () =>
      (await t.sql("select 1 from state_outbox where key like 'dead-state-%' union all select 1 from state_inflight where key like 'dead-state-%'")).length === 0);
    await waitUntil('the first replay delivered', () => target.effects.some((e) => e.subject === 'dead-state-1'));
    expect(target.effects.filter((e) => e.subject === 'dead-state-1').map((e) => ({ id: e.id, data: e.data }))).toEqual([{ id: first.id, data: { available: 1, item: 'SKU-S1-corrected' } }]);
    // Never a lower version after a higher one: the replayed version 1 of the second key is not sent.
    expect(target.effects.filter((e) => e.subject === 'dead-state-2').map((e) => e.data.available)).toEqual([2]);
    const versions = await t.sql<{ key: string; version: string }>("select key, version from delivered_version where key like 'dead-state-%' order by key");
    expect(versions.map((v) => [v.key, Number(v.version)])).toEqual([['dead-state-1', 1], ['dead-state-2', 2]]);
    expect((await t.sql("select status from outbox where delivery_id = any($1::uuid[])", [[first.id, second.id]])).map((r) => r.status)).toEqual(['superseded', 'superseded']);
  });

  it('a replay of something the target did apply does not apply it twice', async () => {
    await addMessages(t.app, [{ type: 'test.command', kind: 'command', key: 'ambiguous-1', payload: { seq: 0, applyThenReject: true } }]);
    const summary = await deadLetterOf('ambiguous-1');
    expect(target.effects.filter((e) => e.subject === 'ambiguous-1')).toHaveLength(1);
    const duplicatesBefore = target.duplicates;
    target.faults.acceptRejected = true;
    try {
      expect((await t.request('POST', `/v1/ops/dead-letters/${summary.id}/replay`, { body: {} })).status).toBe(202);
      await waitUntil('delivered', async () => (await t.sql("select status from outbox where key = 'ambiguous-1'"))[0].status === 'delivered');
    } finally {
      target.faults.acceptRejected = false;
    }
    expect(target.effects.filter((e) => e.subject === 'ambiguous-1')).toHaveLength(1);
    expect(target.duplicates).toBe(duplicatesBefore + 1);
  });

  it('discards a dead letter, which lets its key move on; replays a filtered set', async () => {
    await addMessages(t.app, [
      { type: 'test.command', kind: 'command', key: 'skip-1', payload: { seq: 0, reject: true } },
      { type: 'test.command', kind: 'command', key: 'skip-1', payload: { seq: 1 } },
    ]);
    const summary = await deadLetterOf('skip-1');
    expect((await t.request('POST', `/v1/ops/blocked-keys/${summary.id}/skip`)).status).toBe(200);
    await waitUntil('the held message delivered', () => target.effects.some((e) => e.subject === 'skip-1' && e.data.seq === 1));

    await addMessages(t.app, ['bulk-1', 'bulk-2'].map((key) => ({ type: 'test.command', kind: 'command' as const, key, payload: { seq: 0, reject: true } })));
    await deadLetterOf('bulk-1');
    await deadLetterOf('bulk-2');
    target.faults.acceptRejected = true;
    try {
      const bulk = await t.request('POST', '/v1/ops/dead-letters/replay', { body: { destination: 'channel:sink', errorClass: 'permanent', flow: 'test.command' } });
      expect(bulk.status).toBe(202);
      expect(bulk.body.replayed).toBeGreaterThanOrEqual(2);
      await waitUntil('bulk replayed', () => ['bulk-1', 'bulk-2'].every((k) => target.effects.some((e) => e.subject === k)));
    } finally {
      target.faults.acceptRejected = false;
    }
  });

  it('reports flows and targets as JSON and as Prometheus metrics', async () => {
    const flows = await t.request('GET', '/v1/ops/flows');
    expect(flows.status).toBe(200);
    expect(flows.body.flows).toContainEqual(expect.objectContaining({ flow: 'test.command', destination: 'channel:sink' }));
    expect(flows.body.targets).toContainEqual(expect.objectContaining({ target: 'channel:sink', circuit: 'closed' }));
    const metrics = await t.request('GET', '/metrics', { token: null });
    expect(metrics.text).toMatch(/crossdock_delivery_attempts_total\{flow="test.command",destination="channel:sink",outcome="delivered"\} \d+/);
    expect(metrics.text).toContain('crossdock_delivery_latency_seconds_bucket');
    expect(metrics.text).toContain('crossdock_relay_lag_seconds_bucket');
    expect(metrics.text).toMatch(/crossdock_dead_letters_total\{flow="test.command",destination="channel:sink",class="permanent"\} \d+/);
    expect(metrics.text).toContain('crossdock_queue_depth{');
    expect(metrics.text).toContain('crossdock_replays_total{');
  });
});

