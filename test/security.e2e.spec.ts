import { createHash } from 'node:crypto';
import { Controller, Get, Module } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TargetDirectory } from '../src/platform/delivery/target-directory.js';
import { ApiKeys } from '../src/platform/security/api-keys.js';
import { Access, CurrentPrincipal, type Principal } from '../src/platform/security/principal.js';
import { sampleChannel, startTestApp, type TestApp } from './support/test-app.js';

/** A route that needs orders:write, to show scope checks through the real guard. */
@Controller('v1/test-scoped')
class ScopedProbeController {
  @Get()
  @Access({ scopes: ['orders:write'] })
  probe(@CurrentPrincipal() principal: Principal) {
    return principal;
  }
}
@Module({ controllers: [ScopedProbeController] })
class ScopedProbeModule {}

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ additionalModules: [ScopedProbeModule], env: { CROSSDOCK_API_KEY_RATE_PER_SECOND: '5', CROSSDOCK_API_KEY_RATE_BURST: '5' } });
  expect((await t.request('PUT', '/v1/admin/channels/portal', { body: sampleChannel() })).status).toBe(201);
  expect((await t.request('PUT', '/v1/admin/sources/wms', { body: { name: 'WMS', kind: 'wms' } })).status).toBe(201);
});
afterAll(() => t.close());

async function issueKey(principal = 'channels/portal', scopes = ['orders:write', 'orders:read']) {
  const answer = await t.request('POST', `/v1/admin/${principal}/api-keys`, { body: { scopes, name: 'test' } });
  expect(answer.status).toBe(201);
  return answer.body as { id: string; key: string; scopes: string[] };
}

const auditCount = async () => (await t.sql<{ n: number }>('select count(*)::int as n from audit_entry'))[0]!.n;

describe('admin token', () => {
  it('guards /v1/admin: missing is 401, wrong is 401, an API key is 403', async () => {
    const before = await auditCount();
    const missing = await t.request('PUT', '/v1/admin/channels/other', { body: sampleChannel(), token: null });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toMatch(/problem\+json/);
    expect((await t.request('PUT', '/v1/admin/channels/other', { body: sampleChannel(), token: 'wrong-token-wrong-token' })).status).toBe(401);
    const { key } = await issueKey();
    expect((await t.request('GET', '/v1/admin/channels', { token: key })).status).toBe(403);
    expect((await t.request('GET', '/v1/admin/channels/other')).status).toBe(404);
    expect(await auditCount()).toBe(before + 1); // only the key issued above
  });
});

describe('API keys', () => {
  it('are shown once and stored only as a hash', async () => {
    const issued = await issueKey();
    expect(issued.key).toMatch(/^cdk_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    const secret = issued.key.split('_').slice(2).join('_');
    const [row] = await t.sql('select * from api_key where id = $1', [issued.id]);
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(secret);
    expect(Buffer.from(row.secret_hash).equals(createHash('sha256').update(secret).digest())).toBe(true);
    const listed = await t.request('GET', '/v1/admin/channels/portal/api-keys');
    expect(listed.text).not.toContain(secret);
    expect(listed.body.find((k: { id: string }) => k.id === issued.id)).toMatchObject({ scopes: ['orders:write', 'orders:read'], revokedAt: null });
    const audit = await t.request('GET', '/v1/admin/audit?resourceType=api-key');
    expect(audit.text).not.toContain(secret);
  });

  it('authenticate their principal', async () => {
    const { key, id } = await issueKey('sources/wms', ['inventory:write']);
    const me = await t.request('GET', '/v1/me', { token: key });
    expect(me.body).toEqual({ type: 'source', id: 'wms', keyId: id, scopes: ['inventory:write'] });
  });

  it('rotate without downtime: old and new both work until the old is revoked', async () => {
    const old = await issueKey();
    const fresh = await issueKey();
    expect((await t.request('GET', '/v1/test-scoped', { token: old.key })).status).toBe(200);
    expect((await t.request('GET', '/v1/test-scoped', { token: fresh.key })).status).toBe(200);
    const revoked = await t.request('DELETE', `/v1/admin/channels/portal/api-keys/${old.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    const refused = await t.request('GET', '/v1/test-scoped', { token: old.key });
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toMatch(/revoked/);
    expect((await t.request('GET', '/v1/test-scoped', { token: fresh.key })).status).toBe(200);
  });

  it('whose cached entry expired are looked up once for the requests that find it so together', async () => {
    const { key } = await issueKey('sources/wms', ['inventory:write']);
    const keys = t.app.get(ApiKeys);
    const lookup = vi.spyOn(keys as unknown as { lookup: (prefix: string) => Promise<unknown> }, 'lookup');
    try {
      // As the TTL's expiry does, for every connection of a busy channel at once.
      (keys as unknown as { cache: Map<string, unknown> }).cache.clear();
      const principals = await Promise.all(Array.from({ length: 20 }, () => keys.authenticate(key)));
      expect(principals.map((p) => p?.id)).toEqual(Array.from({ length: 20 }, () => 'wms'));
      expect(lookup).toHaveBeenCalledTimes(1);
      expect((await t.request('GET', '/v1/me', { token: key })).status).toBe(200);
      // What a lookup under way when a revocation lands read is not kept: the next request looks again.
      const cache = (keys as unknown as { cache: Map<string, unknown> }).cache;
      const prefix = key.split('_')[1]!;
      cache.clear();
      const pending = keys.authenticate(key);
      keys.forget([prefix]);
      await pending;
      expect(cache.has(prefix)).toBe(false);
    } finally {
      lookup.mockRestore();
    }
  });

  it('refuse a wrong key, a malformed key and a key of another secret with the same prefix', async () => {
    const { key } = await issueKey();
    const tampered = key.slice(0, -4) + (key.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    for (const token of [tampered, 'cdk_nothing', 'cdk_AAAAAAAAAAAA_' + 'A'.repeat(43)]) {
      const answer = await t.request('GET', '/v1/test-scoped', { token });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('content-type')).toMatch(/problem\+json/);
    }
  });

  it('need the scope of the endpoint: 403 naming the missing scope', async () => {
    const { key } = await issueKey('channels/portal', ['inventory:read']);
    const answer = await t.request('GET', '/v1/test-scoped', { token: key });
    expect(answer.status).toBe(403);
    expect(answer.body.detail).toContain('orders:write');
  });

  it('are refused scopes that do not exist', async () => {
    const answer = await t.request('POST', '/v1/admin/channels/portal/api-keys', { body: { scopes: ['orders:write', 'root'] } });
    expect(answer.status).toBe(400);
    expect(answer.body.errors[0].field).toBe('scopes');
  });

  it('are rate limited per key: 429 problem with Retry-After, other keys unaffected', async () => {
    const busy = await issueKey();
    const quiet = await issueKey();
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<TestApp['request']>> | undefined;
    for (let i = 0; i < 12; i++) {
      const answer = await t.request('GET', '/v1/test-scoped', { token: busy.key });
      statuses.push(answer.status);
      if (answer.status === 429) limited ??= answer;
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
    expect(limited).toBeDefined();
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited!.headers.get('content-type')).toMatch(/problem\+json/);
    expect((await t.request('GET', '/v1/test-scoped', { token: quiet.key })).status).toBe(200);
  });

  it('of a deleted channel stop working', async () => {
    expect((await t.request('PUT', '/v1/admin/channels/short-lived', { body: sampleChannel() })).status).toBe(201);
    const { key } = await issueKey('channels/short-lived');
    expect((await t.request('GET', '/v1/test-scoped', { token: key })).status).toBe(200);
    expect((await t.request('DELETE', '/v1/admin/channels/short-lived')).status).toBe(204);
    expect((await t.request('GET', '/v1/test-scoped', { token: key })).status).toBe(401);
  });
});

describe('secrets', () => {
  it('never appear in responses, the audit log or the logs', async () => {
    const secret = 'whsec_' + Buffer.from('a-very-private-signing-key').toString('base64');
    const put = await t.request('PUT', '/v1/admin/channels/secretive', { body: sampleChannel({ config: { url: 'https://x.example.com/h', secret } }) });
    expect(put.status).toBe(201);
    expect(put.body.config.secret).toBe('********');
    const read = await t.request('GET', '/v1/admin/channels/secretive');
    expect(read.text).not.toContain(secret);
    const audit = await t.request('GET', '/v1/admin/audit?resourceType=channel&resourceId=secretive');
    expect(audit.body.items[0].after.config.secret).toBe('********');
    expect(audit.text).not.toContain(secret);
    // Sealed in the database (AES-256-GCM under CROSSDOCK_SECRET_KEY), opened for the connectors.
    const [stored] = await t.sql("select config->>'secret' as secret from channel where id = 'secretive'");
    expect(stored.secret).toMatch(/^enc:v1:/);
    expect(stored.secret).not.toContain(secret.slice('whsec_'.length));
    expect((await t.app.get(TargetDirectory).channel('secretive'))!.config.secret).toBe(secret);
    expect(t.logs.join('')).not.toContain(secret);
    expect(t.logs.join('')).not.toContain('test-admin-token');
  });

  it('sent back masked keep their stored value', async () => {
    const read = await t.request('GET', '/v1/admin/channels/secretive');
    const { id: _id, createdAt: _c, updatedAt: _u, ...body } = read.body;
    const again = await t.request('PUT', '/v1/admin/channels/secretive', { body: { ...body, name: 'renamed' } });
    expect(again.status).toBe(200);
    const [stored] = await t.sql("select name from channel where id = 'secretive'");
    expect(stored).toEqual({ name: 'renamed' });
    await new Promise((r) => setTimeout(r, 5_100)); // past the channel cache
    expect((await t.app.get(TargetDirectory).channel('secretive'))!.config.secret).toBe('whsec_' + Buffer.from('a-very-private-signing-key').toString('base64'));
  });
});
