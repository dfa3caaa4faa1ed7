import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/migrations/index.js';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../src/platform/database/embedded-postgres.js';
import { migrateDatabase } from '../src/platform/database/migrate.js';
import { carefulBurst, expectBurstLandedOnce, ordersWorld, type OrdersWorld } from './support/orders.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// This file runs its own PostgreSQL and restarts it (fast shutdown: every session cut) under a running service
// while a careful client (retrying 503s with the same Idempotency-Key) sends a burst of orders and the workers
// deliver them to the ERP. TEST_DB_RESTARTS and TEST_DB_RESTART_ORDERS scale it. A call that returned while the
// database was away could not be settled: its governor lease is freed once the database answers, instead of holding
// the ERP's concurrency until it expires (twice the call timeout, a minute by default).
const RESTARTS = Number(process.env.TEST_DB_RESTARTS ?? 3);
const ORDERS = Number(process.env.TEST_DB_RESTART_ORDERS ?? 120);
const CLIENTS = 6;
const quiet = { info: () => undefined, warn: () => undefined };
let dataDir: string;
let port: number;
let database: EmbeddedDatabase;
let t: TestApp;
let w: OrdersWorld;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'crossdock-restarts-'));
  chmodSync(dataDir, 0o755);
  port = await freePort();
  database = await startEmbeddedPostgres(dataDir, quiet, { port });
  await migrateDatabase(database.url, MIGRATIONS);
  t = await startTestApp({ databaseUrl: database.url, env: { LOG_LEVEL: 'fatal', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100', CROSSDOCK_DELIVERY_MAX_DELAY_MS: '1000', CROSSDOCK_CIRCUIT_OPEN_MS: '1000', CROSSDOCK_JOB_SUPERVISE_SECONDS: '1', CROSSDOCK_JOB_RETRY_MAX_SECONDS: '2', CROSSDOCK_JOB_HEARTBEAT_SECONDS: '10' } });
  w = await ordersWorld(t);
});

afterAll(async () => {
  await t?.close().catch(() => undefined);
  await w?.close();
  await database?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PostgreSQL restarted under load', () => {
  it(`${RESTARTS} restarts during a burst of ${ORDERS} orders and their deliveries: nothing lost or doubled, no 500, ready again by itself`, { timeout: 240_000 }, async () => {
    let restarting = true;
    // The first restart comes once a quarter of the burst is in, so that the rest meets it however fast the intake is.
    let quarterIn!: () => void;
    const quarter = new Promise<void>((resolve) => (quarterIn = resolve));
    const chaos = (async () => {
      await quarter;
      for (let r = 0; r < RESTARTS; r++) {
        if (r > 0) await sleep(800);
        await database.stop();
        await sleep(1200);
        database = await startEmbeddedPostgres(dataDir, quiet, { port });
      }
      restarting = false;
    })();
    const [burst] = await Promise.all([carefulBurst(t, w.portalKey, { orders: ORDERS, clients: CLIENTS, prefix: 'restart', paced: () => restarting, accepted: (n) => n >= ORDERS / 4 && quarterIn() }), chaos]);

    // Answered 202, or 503 while the database was away (never 500); ready again with no restart of the service;
    // every order in the ERP exactly once, every message delivered, and no lease of a call cut off by a restart
    // left to expire: each was freed when the database was back.
    expect(burst.answers.get(503) ?? 0).toBeGreaterThan(0);
    await expectBurstLandedOnce(t, w, burst, ORDERS);
  });
});
