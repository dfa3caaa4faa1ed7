import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxInWindow } from './support/fault-target.js';
import { waitUntil } from './support/messaging.js';
import { orderBody, ordersWorld, submitOrder, type OrdersWorld } from './support/orders.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// The ERP's maintenance in this suite: 10 s, so that npm test stays within its time; TEST_ERP_MAINTENANCE_MS=30000
// runs the requirement's 30 s.
const MAINTENANCE_MS = Number(process.env.TEST_ERP_MAINTENANCE_MS ?? 10_000);
const ORDERS = Number(process.env.TEST_MAINTENANCE_ORDERS ?? 200);
// The backend admits this many creates a second; each costs the ERP two requests (lookup, create).
const LIMITS = { ratePerSecond: 25, burst: 5, concurrency: 4 };
const SIM_RATE = 2 * (LIMITS.ratePerSecond + LIMITS.burst) + 5;

let t: TestApp;
let w: OrdersWorld;

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '200', CROSSDOCK_CIRCUIT_OPEN_MS: '2000' } });
  w = await ordersWorld(t, { limits: LIMITS, sim: { ratePerSecond: SIM_RATE, latencyMs: [5, 20] } });
});
afterAll(async () => {
  await t?.close();
  await w?.close();
});

const control = (path: string, body: unknown) => fetch(`${w.simUrl}/_control/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function statuses(orderIds: string[]): Promise<Record<string, number>> {
  const rows = await t.sql<{ status: string; n: number }>('select status, count(*)::int as n from sales_order where id = any($1::uuid[]) group by status', [orderIds]);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

async function references(orderIds: string[]): Promise<string[]> {
  return (await t.sql<{ reference: string }>('select reference from sales_order where id = any($1::uuid[])', [orderIds])).map((r) => r.reference);
}

function erpCountByReference(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const order of w.sim.state.orders.values()) counts.set(order.externalDocumentNumber, (counts.get(order.externalDocumentNumber) ?? 0) + 1);
  return counts;
}

describe('orders through ERP outages', () => {
  it(`takes ${ORDERS} orders during ${MAINTENANCE_MS / 1000} s of ERP maintenance, then confirms each exactly once within the ERP's rate limit`, async () => {
    await control('maintenance', { on: true });
    const maintenanceStarted = Date.now();
    const answers = [];
    for (let i = 0; i < ORDERS; i += 20) {
      answers.push(...(await Promise.all(Array.from({ length: Math.min(20, ORDERS - i) }, () => submitOrder(t, w.portalKey, orderBody())))));
    }
    const allAnsweredAt = Date.now();
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
    // Every order was answered while the ERP was still down.
    expect(allAnsweredAt - maintenanceStarted).toBeLessThan(MAINTENANCE_MS);
    const orderIds = answers.map((a) => a.body.orderId as string);
    await new Promise((r) => setTimeout(r, Math.max(0, MAINTENANCE_MS - (Date.now() - maintenanceStarted))));
    expect((await statuses(orderIds)).confirmed ?? 0).toBe(0);
    await control('maintenance', { on: false });
    const maintenanceEnded = Date.now();

    await waitUntil('all confirmed', async () => (await statuses(orderIds)).confirmed === ORDERS, 120_000, 250);
    const counts = erpCountByReference();
    for (const reference of await references(orderIds)) expect(counts.get(reference)).toBe(1);
    const requests = w.sim.state.requests;
    expect(requests.filter((r) => r.status === 429)).toEqual([]);
    const afterOutage = requests.filter((r) => r.at >= maintenanceEnded && r.status < 300 && r.method === 'POST').map((r) => r.at);
    expect(maxInWindow(afterOutage, 1_000)).toBeLessThanOrEqual(LIMITS.ratePerSecond + LIMITS.burst + 1);
    const [dead] = await t.sql<{ n: number }>("select count(*)::int as n from outbox where status = 'dead'");
    expect(dead!.n).toBe(0);
    // The outage charged no attempt to any order.
    const [charged] = await t.sql<{ n: number }>("select coalesce(max(attempts), 0)::int as n from outbox where type = 'erp.sales-order.create'");
    expect(charged!.n).toBe(0);
  });

  it('honours a storm of 429s: every order confirmed once, the ERP left alone for its Retry-After, no attempt charged', async () => {
    w.sim.state.requests.length = 0;
    await control('throttle', { next: 40 });
    const answers = await Promise.all(Array.from({ length: 30 }, () => submitOrder(t, w.portalKey, orderBody())));
    const orderIds = answers.map((a) => a.body.orderId as string);
    await waitUntil('all confirmed', async () => (await statuses(orderIds)).confirmed === orderIds.length, 60_000, 250);
    const counts = erpCountByReference();
    for (const reference of await references(orderIds)) expect(counts.get(reference)).toBe(1);
    const throttled = w.sim.state.requests.filter((r) => r.status === 429);
    expect(throttled).toHaveLength(40);
    // Far fewer calls than a client that retried at once: each 429 paused the backend for its Retry-After (1 s).
    const spread = throttled.at(-1)!.at - throttled[0]!.at;
    expect(spread).toBeGreaterThanOrEqual(((40 / (LIMITS.burst + LIMITS.concurrency)) - 1) * 1_000 * 0.5);
    const [charged] = await t.sql<{ n: number }>('select coalesce(max(attempts), 0)::int as n from outbox where key = any($1::text[])', [orderIds]);
    expect(charged!.n).toBe(0);
  });
});
