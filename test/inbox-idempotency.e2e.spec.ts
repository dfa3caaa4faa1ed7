import { Body, Controller, Headers, Inject, Module, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { PG_POOL } from '../src/platform/database/pg-pool.js';
import { inTransaction } from '../src/platform/database/transaction.js';
import { Housekeeping } from '../src/platform/housekeeping.js';
import { GroupCommit } from '../src/platform/database/group-commit.js';
import { IdempotencyKeys, type KeyedRequest, type KeyedResponse } from '../src/platform/inbox/idempotency.js';
import { Inbox } from '../src/platform/inbox/inbox.js';
import { Outbox } from '../src/platform/outbox/outbox.js';
import { Access, CurrentPrincipal, type Principal } from '../src/platform/security/principal.js';
import { FaultTarget } from './support/fault-target.js';
import { sinkChannel } from './support/messaging.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const principalOf = (p: Principal) => (p.type === 'admin' ? 'admin' : `${p.type}:${p.id}`);

/** A command endpoint and an event endpoint built the way the domain modules build theirs. */
@Controller('v1/test-messaging')
class TestMessagingController {
  private readonly commands: GroupCommit<KeyedRequest & { ref: string }, KeyedResponse>;

  constructor(
    private readonly idempotency: IdempotencyKeys,
    private readonly outbox: Outbox,
    private readonly inbox: Inbox,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
  ) {
    this.commands = new GroupCommit(pool, (tx, requests) => this.idempotency.executeMany(tx, requests, async (inner, claimed) => {
      const added = await this.outbox.addMany(inner, claimed.map((c) => ({ message: { type: 'test.command', kind: 'command' as const, key: c.ref, payload: { seq: 0 } }, destinations: ['channel:sink'] })));
      await new Promise((r) => setTimeout(r, 50)); // widen the window for concurrent duplicates
      return added.map((a) => ({ ok: true as const, value: { status: 202, body: { messageId: a.messageId } } }));
    }), { maxBatch: 16, lanes: 2, keyOf: (r) => `${r.principal}\u0000${r.key}` });
  }

  @Post('commands')
  @Access({ scopes: ['orders:write'] })
  async command(@Body() body: { ref: string }, @Headers('idempotency-key') key: string | undefined, @CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) reply: FastifyReply) {
    const result = await this.commands.submit({ ...this.idempotency.request(principalOf(principal), key, body), ref: body.ref });
    void reply.status(result.status).header('idempotent-replayed', String(result.replayed));
    return result.body;
  }

  @Post('events')
  @Access({ scopes: ['inventory:write'] })
  async event(@Body() body: { eventId: string }, @CurrentPrincipal() principal: Principal) {
    return inTransaction(this.pool, async (em) => {
      if (!(await this.inbox.accept(em, principalOf(principal), body.eventId))) return { duplicate: true };
      await this.outbox.add(em, { type: 'test.command', kind: 'command', key: `event-${body.eventId}`, payload: { seq: 0 } }, ['channel:sink']);
      await new Promise((r) => setTimeout(r, 50));
      return { duplicate: false };
    });
  }
}
@Module({ controllers: [TestMessagingController] })
class TestMessagingModule {}

let t: TestApp;
let target: FaultTarget;
let keyA: string;
let keyB: string;

beforeAll(async () => {
  target = new FaultTarget();
  await target.start();
  t = await startTestApp({ additionalModules: [TestMessagingModule], env: { LOG_LEVEL: 'warn' } });
  await t.request('PUT', '/v1/admin/channels/sink', { body: sinkChannel(target.url) });
  await t.request('PUT', '/v1/admin/channels/other', { body: sinkChannel(target.url) });
  keyA = (await t.request('POST', '/v1/admin/channels/sink/api-keys', { body: { scopes: ['orders:write', 'inventory:write'] } })).body.key;
  keyB = (await t.request('POST', '/v1/admin/channels/other/api-keys', { body: { scopes: ['orders:write'] } })).body.key;
});
afterAll(async () => {
  await t.close();
  await target.stop();
});

const messagesFor = async (key: string) => (await t.sql<{ n: number }>('select count(*)::int as n from outbox where key = $1', [key]))[0]!.n;

describe('Idempotency-Key', () => {
  it('the same key and body answer the stored result; a different body is a 409', async () => {
    const first = await t.request('POST', '/v1/test-messaging/commands', { token: keyA, body: { ref: 'idem-1' }, headers: { 'idempotency-key': 'k-1' } });
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBe('false');
    const again = await t.request('POST', '/v1/test-messaging/commands', { token: keyA, body: { ref: 'idem-1' }, headers: { 'idempotency-key': 'k-1' } });
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const changed = await t.request('POST', '/v1/test-messaging/commands', { token: keyA, body: { ref: 'idem-other' }, headers: { 'idempotency-key': 'k-1' } });
    expect(changed.status).toBe(409);
    expect(changed.body.type).toMatch(/idempotency-key-reused$/);
    expect(await messagesFor('idem-1')).toBe(1);
    expect(await messagesFor('idem-other')).toBe(0);
  });

  it('is scoped per principal', async () => {
    const a = await t.request('POST', '/v1/test-messaging/commands', { token: keyA, body: { ref: 'scoped' }, headers: { 'idempotency-key': 'shared' } });
    const b = await t.request('POST', '/v1/test-messaging/commands', { token: keyB, body: { ref: 'scoped' }, headers: { 'idempotency-key': 'shared' } });
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.body.messageId).not.toBe(b.body.messageId);
    expect(await messagesFor('scoped')).toBe(2);
  });

  it('concurrent requests with one key make one effect and all get the same answer, never a 500', async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => t.request('POST', '/v1/test-messaging/commands', { token: keyA, body: { ref: 'racing' }, headers: { 'idempotency-key': 'race-1' } })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(202));
    expect(new Set(answers.map((a) => a.body.messageId)).size).toBe(1);
    expect(await messagesFor('racing')).toBe(1);
  });

  it('is required and must be well formed', async () => {
    const missing = await t.request('POST', '/v1/test-messaging/commands', { token: keyA, body: { ref: 'x' } });
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0].field).toBe('Idempotency-Key');
    expect((await t.request('POST', '/v1/test-messaging/commands', { token: keyA, body: { ref: 'x' }, headers: { 'idempotency-key': 'has space' } })).status).toBe(400);
  });
});

describe('inbox', () => {
  it('concurrent duplicates of one event make one effect', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => t.request('POST', '/v1/test-messaging/events', { token: keyA, body: { eventId: 'evt-1' } })));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(201));
    expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(1);
    expect(await messagesFor('event-evt-1')).toBe(1);
    const later = await t.request('POST', '/v1/test-messaging/events', { token: keyA, body: { eventId: 'evt-1' } });
    expect(later.body.duplicate).toBe(true);
  });
});

describe('housekeeping', () => {
  it('prunes finished rows, traces, inbox and idempotency records past their retention, and keeps dead letters', async () => {
    await t.sql(`insert into outbox (message_id, delivery_id, type, kind, key, destination, payload, correlation_id, status, finished_at, relayed_at)
                 select gen_random_uuid(), gen_random_uuid(), 'test.command', 'command', 'old-' || g, 'channel:sink', '{}', 'old', s, now() - interval '30 days', now()
                   from generate_series(1, 1500) g, (values ('delivered'), ('dead')) v(s)`);
    await t.sql(`insert into trace_event (correlation_id, step, at) select 'old', 'stored', now() - interval '30 days' from generate_series(1, 10)`);
    await t.sql(`update inbox set received_at = now() - interval '60 days'`);
    await t.sql(`update idempotency_record set created_at = now() - interval '60 days' where key = 'k-1'`);
    await t.sql(`insert into console_session (id_hash, principal, csrf_token, expires_at) values ('\\x01', '{"type":"admin","actor":"admin"}', 'c', now() - interval '1 minute'), ('\\x02', '{"type":"admin","actor":"admin"}', 'c', now() + interval '1 hour')`);
    const pruned = await t.app.get(Housekeeping).prune();
    expect(pruned!.consoleSessions).toBe(1);
    expect(await t.sql('select id_hash from console_session')).toHaveLength(1);
    expect(pruned).toMatchObject({ outbox: 1500, trace: 10 });
    expect(pruned!.inbox).toBeGreaterThanOrEqual(1);
    expect(pruned!.idempotency).toBe(1);
    expect((await t.sql("select count(*)::int as n from outbox where key like 'old-%' and status = 'dead'"))[0].n).toBe(1500);
    expect((await t.sql("select count(*)::int as n from outbox where key like 'old-%' and status = 'delivered'"))[0].n).toBe(0);
  });
});
