import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/platform/database/embedded-postgres.js';
import { createShopifySimulator, type ShopifySimulator } from '../src/simulators/shopify/shopify-simulator.js';
import { waitUntil } from './support/messaging.js';
import { startService, type ServiceProcess } from './support/processes.js';
import { ADMIN_TOKEN, freshDatabase, startTestApp, TEST_SECRET_KEY, type TestApp } from './support/test-app.js';

// A worker process killed in the middle of a scheduled inventory run over a store: the next worker resumes the run
// from its checkpoint (the pages done are not read again), and each drifted SKU is republished exactly once.
let t: TestApp;
let shop: ShopifySimulator;
let shopUrl: string;
let databaseUrl: string;
const workers: ServiceProcess[] = [];

const LOCATION = 'gid://shopify/Location/1';
const SKUS = Array.from({ length: 120 }, (_, i) => `K-${String(i + 1).padStart(3, '0')}`);
const EDITED = SKUS.filter((_, i) => i % 5 === 2);
const PAGE = 4;
const PAGES = SKUS.length / PAGE;
// The store's rate while the run reads it: the governor's, shared with the store's deliveries.
const RUN_LIMITS = { ratePerSecond: 4, burst: 1, concurrency: 2 };
const onHand = (sku: string) => 20 + (Number(sku.slice(2)) % 17);

const channel = (over: Record<string, unknown>) => ({
  kind: 'shopify',
  config: {
    shopDomain: 'crash.myshopify.com', apiVersion: '2025-07', accessToken: 'shpat_crash', webhookSecret: 'crash-secret',
    adminApiBaseUrl: `${shopUrl}/admin/api/2025-07`, locations: { 'WH-A': LOCATION }, reconcilePageSize: PAGE,
  },
  inventory: { warehouses: ['WH-A'], safetyStock: 0, allocationPercent: 100 },
  oversell: 'backorder',
  ...over,
});

const startWorker = async () => {
  const worker = startService({
    CROSSDOCK_ROLE: 'worker', DATABASE_URL: databaseUrl, CROSSDOCK_ADMIN_TOKEN: ADMIN_TOKEN, CROSSDOCK_SECRET_KEY: TEST_SECRET_KEY, PORT: String(await freePort()), LOG_LEVEL: 'warn',
    CROSSDOCK_RECONCILE_TICK_MS: '300', CROSSDOCK_CALL_TIMEOUT_MS: '2000', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100', CROSSDOCK_DELIVERY_MAX_DELAY_MS: '500',
    CROSSDOCK_JOB_HEARTBEAT_SECONDS: '10', CROSSDOCK_JOB_SUPERVISE_SECONDS: '1',
  });
  workers.push(worker);
  return worker;
};
const put = async (path: string, body: unknown) => {
  const answer = await t.request('PUT', path, { body });
  if (answer.status >= 300) throw new Error(`${path}: ${answer.text}`);
};
const bucket = (body: unknown) => fetch(`${shopUrl}/_control/bucket`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const held = (sku: string) => [...shop.state.items.values()].find((i) => i.sku === sku)?.levels.get(LOCATION)?.available;
const runsOf = () => t.sql<{ id: string; status: string; pages: number; compared: number; drifted: number; repaired: number }>(
  "select id::text, status, pages, compared::int, drifted::int, repaired::int from reconcile_run where domain = 'inventory' and target = 'channel:store' and trigger <> 'pushed' order by id",
);

beforeAll(async () => {
  databaseUrl = await freshDatabase();
  // The API in this process; the deliveries and the scheduled runs in worker processes that can be killed.
  t = await startTestApp({ databaseUrl, env: { CROSSDOCK_ROLE: 'api', LOG_LEVEL: 'warn' } });
  shop = createShopifySimulator({ accessToken: 'shpat_crash', locations: [{ id: LOCATION, name: 'Warehouse A' }], variants: SKUS.map((sku) => ({ sku })), latencyMs: [2, 5] });
  shopUrl = await shop.listen();
  // The store takes Crossdock's first figures at a larger plan's pace, then goes back to the standard bucket for the run.
  await bucket({ maximumAvailable: 20_000, restoreRate: 2_000, currentlyAvailable: 20_000 });
  await put('/v1/admin/channels/store', channel({ limits: { ratePerSecond: 100, burst: 100, concurrency: 8 } }));
  await put('/v1/admin/sources/erp-stock', { name: 'ERP stock' });
  const key = (await t.request('POST', '/v1/admin/sources/erp-stock/api-keys', { body: { scopes: ['inventory:write'] } })).body.key;
  const posted = await t.request('POST', '/v1/inventory/levels', { token: key, body: { items: SKUS.map((sku, i) => ({ eventId: `k-${i}`, sku, warehouse: 'WH-A', onHand: onHand(sku), sequence: 1 })) } });
  expect(posted.body.accepted).toBe(SKUS.length);
  await startWorker();
});
afterAll(async () => {
  for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  await Promise.all(workers.map((worker) => worker.exited));
  await t?.close();
  await shop?.close();
});

describe('a worker killed in the middle of a scheduled run', () => {
  it('is resumed from its checkpoint by the next worker, every drifted SKU republished exactly once', { timeout: 150_000 }, async () => {
    await waitUntil('the store has every first figure', () => SKUS.every((sku) => held(sku) === onHand(sku)), 60_000, 200);
    await waitUntil('every delivery recorded', async () => (await t.sql("select count(*)::int as n from delivered_version where destination = 'channel:store'"))[0].n === SKUS.length, 30_000);
    // A merchant's edits in the store's admin.
    for (const [i, sku] of EDITED.entries()) {
      const edit = await fetch(`${shopUrl}/_control/inventory-levels`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku, locationId: LOCATION, available: 500 + i }) });
      expect(edit.status).toBe(200);
    }
    const [{ since }] = await t.sql<{ since: Date }>('select clock_timestamp() as since');
    const mutationsBefore = shop.state.mutations.length;
    await bucket({ maximumAvailable: 2_000, restoreRate: 100 });

    // Scheduled from now on: the worker starts the run at its next tick once it sees the setting (cached up to 5 s).
    await put('/v1/admin/channels/store', channel({ limits: RUN_LIMITS, reconcile: { inventory: { intervalMinutes: 60 } } }));
    await waitUntil('the run is a few pages in', async () => (await runsOf()).some((r) => r.status === 'running' && r.pages >= 8), 30_000, 20);
    const victim = workers.at(-1)!;
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    const [cut] = await runsOf();
    expect(cut).toMatchObject({ status: 'running' });
    expect(cut!.pages).toBeLessThan(PAGES);
    const readsBeforeRestart = shop.state.requests.filter((r) => r.name === 'CrossdockInventoryLevels').length;

    await startWorker();
    await waitUntil('the run finished', async () => (await runsOf())[0]?.status === 'finished', 90_000, 250);
    const runs = await runsOf();
    expect(runs).toEqual([{ id: cut!.id, status: 'finished', pages: PAGES, compared: SKUS.length, drifted: EDITED.length, repaired: EDITED.length }]);
    // The pages done before the kill were not read again: at most the one cut short is.
    const reads = shop.state.requests.filter((r) => r.name === 'CrossdockInventoryLevels');
    expect(reads.length - readsBeforeRestart).toBeGreaterThanOrEqual(PAGES - cut!.pages);
    expect(reads.length - readsBeforeRestart).toBeLessThanOrEqual(PAGES - cut!.pages + 1);
    expect(reads.length).toBeLessThanOrEqual(PAGES + 1);
    expect(reads.every((r) => !r.throttled)).toBe(true);
    // At the governor's rate (burst 1, 4 a second): the reads, with the repairs' deliveries among them, took their time.
    const seconds = (reads.at(-1)!.at - reads[0]!.at) / 1000;
    expect(seconds).toBeGreaterThanOrEqual((PAGES - 1) / RUN_LIMITS.ratePerSecond * 0.9);

    const findings = await t.sql<{ key: string; n: number }>("select key, count(*)::int as n from reconcile_finding where domain = 'inventory' and target = 'channel:store' group by key order by key");
    expect(findings).toEqual(EDITED.map((key) => ({ key, n: 1 })));
    const audited = await t.sql<{ key: string; n: number }>("select resource_id as key, count(*)::int as n from audit_entry where resource_type = 'reconcile:inventory' and action = 'republish' group by resource_id order by resource_id");
    expect(audited).toEqual(EDITED.map((key) => ({ key, n: 1 })));
    // One new version per drifted SKU, and none for the others.
    const stored = await t.sql<{ key: string; n: number }>(
      `select k.key, count(*)::int as n from trace_event e cross join lateral jsonb_array_elements_text(e.detail -> 'keys') as k(key)
        where e.step = 'stored' and e.destination = 'channel:store' and e.at > $1 group by k.key order by k.key`,
      [since],
    );
    expect(stored).toEqual(EDITED.map((key) => ({ key, n: 1 })));

    await waitUntil('the store holds Crossdock\'s figures again', () => SKUS.every((sku) => held(sku) === onHand(sku)), 60_000, 250);
    const applied = shop.state.mutations.slice(mutationsBefore).filter((m) => m.applied).flatMap((m) => m.quantities.map((q) => q.sku!));
    expect(applied.sort()).toEqual([...EDITED].sort());
  });
});
