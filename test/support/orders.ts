import { expect } from 'vitest';
import { createBusinessCentralSimulator, type BusinessCentralSimulator, type BusinessCentralSimulatorOptions } from '../../src/simulators/business-central/bc-simulator.js';
import { FaultTarget, TARGET_SECRET } from './fault-target.js';
import { waitUntil } from './messaging.js';
import type { TestApp } from './test-app.js';

/** A Business Central backend on the simulator at `simUrl`, routed for orders. */
export function bcBackend(simUrl: string, limits = { ratePerSecond: 20, burst: 10, concurrency: 4 }) {
  return {
    kind: 'business-central',
    role: 'cloud',
    config: {
      tenantId: 't1', environment: 'production', companyId: 'c0ffee00-0000-0000-0000-000000000001', clientId: 'crossdock', clientSecret: 'secret-1',
      baseUrl: `${simUrl}/v2.0/t1/production/api/v2.0`, tokenUrl: `${simUrl}/oauth2/v2.0/token`,
    },
    limits,
    maintenanceWindows: [],
  };
}

export interface OrdersWorld {
  sim: BusinessCentralSimulator;
  simUrl: string;
  portal: FaultTarget;
  /** API keys (orders:write, orders:read) of the webhook channel `portal` and the API channel `other`. */
  portalKey: string;
  otherKey: string;
  close(): Promise<void>;
}

/** The BC simulator routed for orders, a webhook channel whose receiver checks signatures, and an API channel. */
export async function ordersWorld(t: TestApp, options: { sim?: BusinessCentralSimulatorOptions; limits?: { ratePerSecond: number; burst: number; concurrency: number } } = {}): Promise<OrdersWorld> {
  const sim = createBusinessCentralSimulator({ clientId: 'crossdock', clientSecret: 'secret-1', ratePerSecond: 50, latencyMs: [2, 10], ...options.sim });
  const simUrl = await sim.listen();
  const portal = new FaultTarget();
  await portal.start();
  const put = async (path: string, body: unknown) => {
    const answer = await t.request('PUT', path, { body });
    if (answer.status >= 300) throw new Error(`${path}: ${answer.status} ${answer.text}`);
  };
  await put('/v1/admin/erp-backends/bc', bcBackend(simUrl, options.limits));
  await put('/v1/admin/routing/orders', { mode: 'cloud', primary: 'bc' });
  await put('/v1/admin/channels/portal', {
    kind: 'webhook', config: { url: portal.url, secret: TARGET_SECRET },
    inventory: { warehouses: ['WH-EAST', 'WH-WEST'], safetyStock: 0, allocationPercent: 100 }, oversell: 'backorder',
    limits: { ratePerSecond: 200, burst: 200, concurrency: 8 },
  });
  await put('/v1/admin/channels/other', { kind: 'api', config: {}, inventory: { warehouses: ['WH-WEST'], safetyStock: 0, allocationPercent: 100 }, oversell: 'backorder' });
  const key = async (channel: string) => (await t.request('POST', `/v1/admin/channels/${channel}/api-keys`, { body: { scopes: ['orders:write', 'orders:read'] } })).body.key as string;
  const sync = await t.request('POST', '/v1/admin/erp-backends/bc/sync/customers');
  if (sync.status !== 200) throw new Error(`customer sync: ${sync.status} ${sync.text}`);
  return {
    sim, simUrl, portal, portalKey: await key('portal'), otherKey: await key('other'),
    async close() {
      await portal.stop();
      await sim.close();
    },
  };
}

let sequence = 0;

/** A valid order body; `over` replaces fields. */
export function orderBody(over: Record<string, unknown> = {}) {
  sequence++;
  return {
    channelOrderId: `PO-${process.pid}-${Date.now()}-${sequence}`,
    customer: { accountNumber: '10000' },
    currency: 'EUR',
    lines: [
      { lineId: '1', sku: '1896-S', quantity: 2, unitPrice: 100.5 },
      { lineId: '2', sku: '1900-S', quantity: 1.5, unitPrice: 20 },
    ],
    shipTo: { name: 'Adatum Corporation', line1: 'Station Road, 21', city: 'Cambridge', postalCode: 'CB1 2FB', country: 'GB' },
    ...over,
  };
}

export async function submitOrder(t: TestApp, key: string, body: unknown, idempotencyKey = `idem-${Math.random().toString(36).slice(2)}`) {
  return t.request('POST', '/v1/orders', { token: key, body, headers: { 'idempotency-key': idempotencyKey } });
}

export async function orderStatus(t: TestApp, orderId: string): Promise<any> {
  return (await t.request('GET', `/v1/orders/${orderId}`)).body;
}

export async function waitForStatus(t: TestApp, orderId: string, status: string, timeoutMs = 30_000): Promise<any> {
  let last: any;
  await waitUntil(`order ${orderId} ${status}`, async () => (last = await orderStatus(t, orderId))?.status === status, timeoutMs);
  return last;
}

export function erpOrdersWithReference(sim: BusinessCentralSimulator, reference: string) {
  return [...sim.state.orders.values()].filter((o) => o.externalDocumentNumber === reference);
}

export interface BurstResult {
  /** How many answers of each status the clients saw. */
  answers: Map<number, number>;
  /** Each order's Idempotency-Key and the order id it was answered with. */
  orderIdOf: Map<string, string>;
}

/**
 * A careful channel's burst through database faults: `clients` at once send `orders` orders between them, each
 * sent again after a 503 with the same Idempotency-Key (any other answer but 202 fails the test); while
 * `paced()` holds, each client waits 40 ms between orders, so that the burst spans the faults.
 */
export async function carefulBurst(
  t: TestApp, key: string,
  options: { orders: number; clients: number; prefix: string; paced: () => boolean; accepted?: (count: number) => void },
): Promise<BurstResult> {
  const answers = new Map<number, number>();
  const orderIdOf = new Map<string, string>();
  let next = 0;
  const client = async () => {
    while (next < options.orders) {
      const n = next++;
      const idempotencyKey = `${options.prefix}-${n}`;
      const body = orderBody();
      for (;;) {
        const answer = await submitOrder(t, key, body, idempotencyKey);
        answers.set(answer.status, (answers.get(answer.status) ?? 0) + 1);
        if (answer.status === 202 || answer.status === 200) {
          orderIdOf.set(idempotencyKey, answer.body.orderId);
          options.accepted?.(orderIdOf.size);
          break;
        }
        if (answer.status !== 503) throw new Error(`order ${n}: ${answer.status} ${answer.text}`);
        await sleep(Math.min(1000, Number(answer.headers.get('retry-after') ?? 1) * 100));
      }
      if (options.paced()) await sleep(40);
    }
  };
  await Promise.all(Array.from({ length: options.clients }, client));
  return { answers, orderIdOf };
}

/**
 * After a burst: only 202s and 503s were answered, every order is stored once and confirmed, it is in the ERP
 * exactly once, every message of theirs is delivered, and no governor lease is left to expire.
 */
export async function expectBurstLandedOnce(t: TestApp, w: OrdersWorld, { answers, orderIdOf }: BurstResult, orders: number): Promise<void> {
  expect([...answers.keys()].filter((status) => status !== 202 && status !== 503)).toEqual([]);
  expect(orderIdOf.size).toBe(orders);
  expect(new Set(orderIdOf.values()).size).toBe(orders);
  await waitUntil('ready', async () => (await t.request('GET', '/health/ready', { token: null })).status === 200, 30_000);
  const [{ n: stored }] = await t.sql<{ n: number }>('select count(*)::int as n from sales_order');
  expect(stored).toBe(orders);
  await waitUntil('every order confirmed', async () => {
    const [{ n }] = await t.sql<{ n: number }>(`select count(*)::int as n from sales_order where status = 'confirmed'`);
    return n === orders;
  }, 120_000);
  const references = (await t.sql<{ reference: string }>('select reference from sales_order')).map((r) => r.reference);
  const inErp = new Map<string, number>();
  for (const order of w.sim.state.orders.values()) inErp.set(order.externalDocumentNumber, (inErp.get(order.externalDocumentNumber) ?? 0) + 1);
  expect(references.filter((ref) => inErp.get(ref) !== 1)).toEqual([]);
  await waitUntil('every message delivered', async () => (await t.sql(`select 1 from outbox where status <> 'delivered' limit 1`)).length === 0, 60_000);
  // A lease whose call returned while the database was away is freed once the database answers again (tried
  // every second), long before it would expire (twice the call timeout: a minute here).
  await waitUntil('every governor lease freed', async () => (await t.sql<{ n: number }>('select count(*)::int as n from governor_lease'))[0]!.n === 0, 10_000);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
