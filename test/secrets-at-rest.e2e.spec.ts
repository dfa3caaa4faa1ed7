import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, startTestApp, type TestApp } from './support/test-app.js';

// Connector secrets are sealed in PostgreSQL (AES-256-GCM) under CROSSDOCK_SECRET_KEY, and a key is rotated
// without downtime: instances get the new key with the old one as previous, then the stored secrets are resealed.
const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('base64');
const apps: TestApp[] = [];
afterAll(async () => {
  for (const app of apps) await app.close();
});
async function stop(app: TestApp) {
  apps.splice(apps.indexOf(app), 1);
  await app.close();
}

const channel = {
  kind: 'webhook', config: { url: 'http://127.0.0.1:9/hook', secret: 'whsec_c2VjcmV0LWtleS0wMTIzNDU2Nzg5' },
  inventory: { warehouses: ['WH-1'], safetyStock: 0, allocationPercent: 100 }, oversell: 'reject',
};
const backend = {
  kind: 'business-central', role: 'cloud',
  config: { tenantId: 't1', environment: 'production', companyId: 'c0ffee00-0000-0000-0000-000000000001', clientId: 'crossdock', clientSecret: 'bc-client-secret-42', baseUrl: 'http://127.0.0.1:9/v2.0/t1/production/api/v2.0', tokenUrl: 'http://127.0.0.1:9/oauth2/v2.0/token' },
  limits: { ratePerSecond: 5, burst: 5, concurrency: 2 },
};

async function start(databaseUrl: string, env: Record<string, string>) {
  const app = await startTestApp({ databaseUrl, env: { LOG_LEVEL: 'warn', CROSSDOCK_ROLE: 'api', ...env } });
  apps.push(app);
  return app;
}

const storedSecrets = async (app: TestApp) => [
  ...(await app.sql<{ v: string }>(`select config->>'secret' as v from channel`)).map((r) => r.v),
  ...(await app.sql<{ v: string }>(`select config->>'clientSecret' as v from erp_backend`)).map((r) => r.v),
];

describe('connector secrets at rest', () => {
  it('are sealed in the database, never returned, opened for the connectors, and survive a key rotation', async () => {
    const databaseUrl = await freshDatabase();
    const first = await start(databaseUrl, { CROSSDOCK_SECRET_KEY: keyA });
    expect((await first.request('PUT', '/v1/admin/channels/portal', { body: channel })).status).toBe(201);
    expect((await first.request('PUT', '/v1/admin/erp-backends/bc', { body: backend })).status).toBe(201);
    const sealedA = await storedSecrets(first);
    expect(sealedA).toHaveLength(2);
    for (const value of sealedA) expect(value).toMatch(/^enc:v1:[0-9a-f]{8}:/);
    const everything = JSON.stringify(await first.sql('select config from channel union all select config from erp_backend'));
    expect(everything).not.toContain('c2VjcmV0LWtleS0wMTIzNDU2Nzg5');
    expect(everything).not.toContain('bc-client-secret-42');
    expect((await first.request('GET', '/v1/admin/channels/portal')).body.config.secret).toBe('********');
    // The same body again is no change: compared in the clear, not against the sealed text.
    expect((await first.request('PUT', '/v1/admin/channels/portal', { body: channel })).status).toBe(200);
    expect(await first.sql(`select count(*)::int as n from audit_entry where resource_id = 'portal'`)).toEqual([{ n: 1 }]);
    await stop(first);

    // Step 1 of a rotation: the new key, the old one as previous. Everything still opens.
    const rotating = await start(databaseUrl, { CROSSDOCK_SECRET_KEY: keyB, CROSSDOCK_SECRET_KEY_PREVIOUS: keyA });
    const { TargetDirectory } = await import('../src/platform/delivery/target-directory.js');
    const targets = rotating.app.get(TargetDirectory);
    expect((await targets.channel('portal'))!.config.secret).toBe(channel.config.secret);
    expect((await targets.erpBackend('bc'))!.config.clientSecret).toBe('bc-client-secret-42');
    // Step 2: reseal under the new key.
    const rotated = await rotating.request('POST', '/v1/admin/secrets/rotate');
    expect(rotated.body).toEqual({ resealed: 2, resources: 2 });
    expect((await rotating.request('POST', '/v1/admin/secrets/rotate')).body).toEqual({ resealed: 0, resources: 0 });
    const sealedB = await storedSecrets(rotating);
    expect(sealedB.every((v) => v.startsWith('enc:v1:') && !sealedA.includes(v))).toBe(true);
    await stop(rotating);

    // Step 3: the old key is gone; the secrets open with the new one alone.
    const after = await start(databaseUrl, { CROSSDOCK_SECRET_KEY: keyB });
    expect((await after.app.get(TargetDirectory).erpBackend('bc'))!.config.clientSecret).toBe('bc-client-secret-42');
    expect((await after.sql(`select count(*)::int as n from audit_entry where action = 'rotate-secrets'`))).toEqual([{ n: 2 }]);
  });
});
