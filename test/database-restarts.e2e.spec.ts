import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/migrations/index.js';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../src/platform/database/embedded-postgres.js';
import { migrateDatabase } from '../src/platform/database/migrate.js';
import { waitUntil } from './support/messaging.js';
import { orderBody, ordersWorld, submitOrder, type OrdersWorld } from './support/orders.js';
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
    const answers = new Map<number, number>();
    const orderIdOf = new Map<string, string>();
    let next = 0;
    let restarting = true;
    const client = async () => {
      while (next < ORDERS) {
        const n = next++;
        const key = `restart-${n}`;
        const body = orderBody();
        for (;;) {
          const answer = await submitOrder(t, w.portalKey, body, key);
          answers.set(answer.status, (answers.get(answer.status) ?? 0) + 1);
          if (answer.status === 202 || answer.status === 200) {
            orderIdOf.set(key, answer.body.orderId);
            break;
          }
          if (answer.status !== 503) throw new Error(`order ${n}: ${answer.status} ${answer.text}`);
          await sleep(Math.min(1000, Number(answer.headers.get('retry-after') ?? 1) * 100));
        }
        // A careful client paces itself while the database is being restarted, so the burst spans the restarts.
        if (restarting) await sleep(40);
      }
    };
    const chaos = (async () => {
      for (let r = 0; r < RESTARTS; r++) {
        await sleep(800);
        await database.stop();
        await sleep(1200);
        database = await startEmbeddedPostgres(dataDir, quiet, { port });
      }
      restarting = false;
    })();
    await Promise.all([chaos, ...Array.from({ length: CLIENTS }, client)]);

    // Every order was answered, and never with a 500: only 202 and, while the database was away, 503.
    expect([...answers.keys()].filter((status) => status !== 202 && status !== 503)).toEqual([]);
    expect(answers.get(503) ?? 0).toBeGreaterThan(0);
    expect(orderIdOf.size).toBe(ORDERS);
    expect(new Set(orderIdOf.values()).size).toBe(ORDERS);

    // Ready again with no restart of the service, and every order in the ERP exactly once.
    await waitUntil('ready', async () => (await t.request('GET', '/health/ready', { token: null })).status === 200, 30_000);
    const [{ n: stored }] = await t.sql<{ n: number }>('select count(*)::int as n from sales_order');
    expect(stored).toBe(ORDERS);
    const references = (await t.sql<{ reference: string }>('select reference from sales_order')).map((r) => r.reference);
    await waitUntil('every order confirmed', async () => {
      const [{ n }] = await t.sql<{ n: number }>(`select count(*)::int as n from sales_order where status = 'confirmed'`);
      return n === ORDERS;
    }, 120_000);
    const inErp = new Map<string, number>();
    for (const order of w.sim.state.orders.values()) inErp.set(order.externalDocumentNumber, (inErp.get(order.externalDocumentNumber) ?? 0) + 1);
    expect(references.filter((ref) => inErp.get(ref) !== 1)).toEqual([]);
    // And every message of theirs (the ERP's, the channel's status events) delivered, none dead.
    await waitUntil('every message delivered', async () => (await t.sql(`select 1 from outbox where status <> 'delivered' limit 1`)).length === 0, 60_000);
    // No lease of a call cut off by a restart is left to expire: each was freed when the database was back.
    expect(await t.sql(`select count(*)::int as n from governor_lease`)).toEqual([{ n: 0 }]);
  });
});
