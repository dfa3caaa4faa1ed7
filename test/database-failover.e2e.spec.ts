import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/migrations/index.js';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../src/platform/database/embedded-postgres.js';
import { migrateDatabase } from '../src/platform/database/migrate.js';
import { waitUntil } from './support/messaging.js';
import { carefulBurst, expectBurstLandedOnce, ordersWorld, type OrdersWorld } from './support/orders.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// A failover to a new primary, the way it reaches a service: the address it knows the database by (the proxy
// here, a DNS name or a virtual IP in production) moves to another server, and the old primary vanishes without
// closing its connections, so the service's open connections, the pg-boss pool's and the listener's go silent
// instead of failing. The new primary is a copy of the old one's data folder taken after it stopped, so it holds
// every committed transaction, as a synchronous standby does. CROSSDOCK_DB_QUERY_TIMEOUT_MS (2 s here, 30 s by
// default) is how long a silent connection is waited for before it is dropped.
const ORDERS = Number(process.env.TEST_DB_FAILOVER_ORDERS ?? 80);
const CLIENTS = 6;
const quiet = { info: () => undefined, warn: () => undefined };
const folders: string[] = [];
let primary: EmbeddedDatabase;
let primaryDir: string;
let proxy: TcpProxy;
let t: TestApp;
let w: OrdersWorld;

const folder = () => {
  const dir = mkdtempSync(join(tmpdir(), 'crossdock-failover-'));
  chmodSync(dir, 0o755);
  folders.push(dir);
  return dir;
};

beforeAll(async () => {
  primaryDir = folder();
  primary = await startEmbeddedPostgres(primaryDir, quiet, { port: await freePort() });
  await migrateDatabase(primary.url, MIGRATIONS);
  proxy = new TcpProxy(Number(new URL(primary.url).port));
  await proxy.start();
  t = await startTestApp({
    databaseUrl: proxy.urlFor(primary.url),
    env: {
      LOG_LEVEL: 'fatal', CROSSDOCK_DB_QUERY_TIMEOUT_MS: '2000', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100', CROSSDOCK_DELIVERY_MAX_DELAY_MS: '1000',
      CROSSDOCK_CIRCUIT_OPEN_MS: '1000', CROSSDOCK_JOB_SUPERVISE_SECONDS: '1', CROSSDOCK_JOB_RETRY_MAX_SECONDS: '2', CROSSDOCK_JOB_HEARTBEAT_SECONDS: '10',
    },
  });
  w = await ordersWorld(t);
});

afterAll(async () => {
  await t?.close().catch(() => undefined);
  await w?.close();
  await proxy?.stop();
  await primary?.stop();
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('failover to a new primary', () => {
  it(`during a burst of ${ORDERS} orders and their deliveries, with the old primary's connections left silent: nothing lost or doubled, no 500, ready again by itself`, { timeout: 240_000 }, async () => {
    let failingOver = true;
    let silentAtSwitch: string[] = [];
    // The failover starts once a quarter of the burst is in, so that the rest meets it however fast the intake is.
    let quarterIn!: () => void;
    const quarter = new Promise<void>((resolve) => (quarterIn = resolve));
    const failover = (async () => {
      await quarter;
      proxy.partition();
      // The old primary goes; its data, every committed transaction of it, becomes the new primary's.
      await primary.stop();
      const newDir = folder();
      execFileSync('cp', ['-a', join(primaryDir, 'postgres'), join(newDir, 'postgres')]);
      primaryDir = newDir;
      primary = await startEmbeddedPostgres(newDir, quiet, { port: await freePort() });
      silentAtSwitch = proxy.silentConnections();
      proxy.switchTo(Number(new URL(primary.url).port));
      await sleep(1500);
      failingOver = false;
    })();
    const [burst] = await Promise.all([carefulBurst(t, w.portalKey, { orders: ORDERS, clients: CLIENTS, prefix: 'failover', paced: () => failingOver, accepted: (n) => n >= ORDERS / 4 && quarterIn() }), failover]);

    // Connections were left hanging at the switch, and the service let go of every one of them by itself: a
    // busy one when its query timed out, an idle one when the pool retired it (after 30 s idle).
    expect(silentAtSwitch.length).toBeGreaterThan(0);
    await waitUntil('no silent connection held', () => proxy.silentConnections().length === 0, 60_000).catch((error: Error) => {
      throw new Error(`${error.message}: still held ${JSON.stringify(proxy.silentConnections())} of ${JSON.stringify(silentAtSwitch)}`);
    });
    expect(burst.answers.get(503) ?? 0).toBeGreaterThan(0);
    await expectBurstLandedOnce(t, w, burst, ORDERS);
  });
});
