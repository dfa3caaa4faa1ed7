import { Controller, Get, Module } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Instances } from '../src/platform/security/instances.js';
import { Access } from '../src/platform/security/principal.js';
import { waitUntil } from './support/messaging.js';
import { sampleChannel, startTestApp, type TestApp } from './support/test-app.js';

// Two instances serving the API on one database: what one revokes the other refuses within a second, and an
// API key's rate is the service's, not each instance's.
@Controller('v1/test-keyed')
class KeyedProbeController {
  @Get()
  @Access({ scopes: ['orders:read'] })
  probe() {
    return { ok: true };
  }
}
@Module({ controllers: [KeyedProbeController] })
class KeyedProbeModule {}

const RATE = { CROSSDOCK_API_KEY_RATE_PER_SECOND: '2', CROSSDOCK_API_KEY_RATE_BURST: '10', LOG_LEVEL: 'warn', CROSSDOCK_ROLE: 'api' };
let one: TestApp;
let two: TestApp;

beforeAll(async () => {
  one = await startTestApp({ additionalModules: [KeyedProbeModule], env: RATE });
  two = await startTestApp({ databaseUrl: one.databaseUrl, additionalModules: [KeyedProbeModule], env: RATE });
  expect((await one.request('PUT', '/v1/admin/channels/portal', { body: sampleChannel() })).status).toBe(201);
});
afterAll(async () => {
  await two?.close();
  await one?.close();
});

const issueKey = async () => (await one.request('POST', '/v1/admin/channels/portal/api-keys', { body: { scopes: ['orders:read'] } })).body as { id: string; key: string };

describe('several instances serving the API', () => {
  it('a key revoked on one instance is refused by every other within a second', async () => {
    const key = await issueKey();
    expect((await two.request('GET', '/v1/test-keyed', { token: key.key })).status).toBe(200);
    expect((await one.request('DELETE', `/v1/admin/channels/portal/api-keys/${key.id}`)).status).toBe(200);
    const revokedAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - revokedAt < 5_000) {
      status = (await two.request('GET', '/v1/test-keyed', { token: key.key })).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
  });

  it("share an API key's rate: two instances admit the key's burst, not twice it", async () => {
    await waitUntil('both instances counted', () => one.app.get(Instances).apiShare() === 0.5 && two.app.get(Instances).apiShare() === 0.5, 10_000);
    const key = await issueKey();
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? one : two).request('GET', '/v1/test-keyed', { token: key.key })));
    const admitted = answers.filter((a) => a.status === 200).length;
    // A burst of 10 across the service (and at most a token or two refilled meanwhile), where each instance alone allowed 10.
    expect(admitted).toBeGreaterThanOrEqual(10);
    expect(admitted).toBeLessThanOrEqual(12);
    expect(answers.filter((a) => a.status === 429).length).toBe(30 - admitted);
  });
});
