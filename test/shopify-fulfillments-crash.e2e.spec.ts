import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/platform/database/embedded-postgres.js';
import { waitUntil } from './support/messaging.js';
import { ordersWorld, type OrdersWorld } from './support/orders.js';
import { startService, type ServiceProcess } from './support/processes.js';
import { storeShipment, storeWorld, type StoreWorld } from './support/shopify-store.js';
import { ADMIN_TOKEN, freshDatabase, startTestApp, TEST_SECRET_KEY, type TestApp } from './support/test-app.js';

// A worker process killed after Shopify applied its fulfillmentCreate and before the delivery was recorded: the
// next worker sends the shipment again, finds it fulfilled, and creates no second fulfillment.
let t: TestApp;
let w: OrdersWorld;
let s: StoreWorld;
let databaseUrl: string;
const workers: ServiceProcess[] = [];

const startWorker = async () => {
  const worker = startService({
    CROSSDOCK_ROLE: 'worker', DATABASE_URL: databaseUrl, CROSSDOCK_ADMIN_TOKEN: ADMIN_TOKEN, CROSSDOCK_SECRET_KEY: TEST_SECRET_KEY, PORT: String(await freePort()), LOG_LEVEL: 'warn',
    CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100', CROSSDOCK_DELIVERY_MAX_DELAY_MS: '500', CROSSDOCK_JOB_HEARTBEAT_SECONDS: '10', CROSSDOCK_JOB_SUPERVISE_SECONDS: '1',
  });
  workers.push(worker);
  return worker;
};

beforeAll(async () => {
  databaseUrl = await freshDatabase();
  // The API in this process; the deliveries in worker processes that can be killed.
  t = await startTestApp({ databaseUrl, env: { CROSSDOCK_ROLE: 'api', LOG_LEVEL: 'warn' } });
  w = await ordersWorld(t);
  s = await storeWorld(t);
  await startWorker();
});
afterAll(async () => {
  for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  await Promise.all(workers.map((worker) => worker.exited));
  await t?.close();
  await w?.close();
  await s?.close();
});

describe('a worker killed between the Shopify call and its record', () => {
  it('leaves one fulfillment: the redelivery finds it and records it as the shipment\'s', { timeout: 90_000 }, async () => {
    const { orderId, legacyId, lineIds } = await s.confirmedStoreOrder();
    // Shopify applies the mutation at once and answers 20 s later: long enough to kill the caller in between.
    await s.control('faults', { mutationAnswerDelayMs: 20_000 });
    const shipmentId = `SH-${legacyId}-killed`;
    expect((await s.send(storeShipment(legacyId, shipmentId, [{ lineId: lineIds[0], sku: '1896-S', quantity: 4 }, { lineId: lineIds[1], sku: '1900-S', quantity: 2 }]))).body.outcome).toBe('applied');
    await waitUntil('Shopify applied the fulfillment', async () => (await s.storeOrder(legacyId)).fulfillments.length === 1, 20_000);
    expect(await s.storeDeliveries(orderId)).toEqual({ sending: 1 });

    const victim = workers.at(-1)!;
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    await s.control('faults', { mutationAnswerDelayMs: 0 });
    await startWorker();

    await waitUntil('the redelivery settled', async () => (await s.storeDeliveries(orderId)).delivered === 1, 60_000, 250);
    const order = await s.storeOrder(legacyId);
    expect(order.fulfillments).toHaveLength(1);
    expect(order.lineItems.map((l) => l.fulfilled)).toEqual([4, 2]);
    const recorded = await t.sql<{ fulfillment_id: string }>('select fulfillment_id from shipment_channel_fulfillment where shipment_id = $1', [shipmentId]);
    expect(recorded.map((r) => r.fulfillment_id)).toEqual([order.fulfillments[0]!.id]);
    // The shipment was read twice (the killed try and the redelivery), and created once.
    const reads = s.shop.state.requests.filter((r) => r.operation === 'query');
    expect(reads.length).toBeGreaterThanOrEqual(2);
  });
});
