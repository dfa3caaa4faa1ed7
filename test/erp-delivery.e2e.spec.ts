import { PG_POOL } from '../src/platform/database/pg-pool.js';
import { inTransaction } from '../src/platform/database/transaction.js';
import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERP_MESSAGE_TYPES } from '../src/connectors/erp/erp-contract.js';
import { QueryBus } from '@nestjs/cqrs';
import { ErpRouteQuery } from '../src/modules/migration-coexistence/index.js';
import type { Sql } from '../src/platform/database/transaction.js';
import { Subscriptions } from '../src/platform/outbox/subscriptions.js';
import { createBusinessCentralSimulator, type BusinessCentralSimulator } from '../src/simulators/business-central/bc-simulator.js';
import { addMessages, waitUntil } from './support/messaging.js';
import { startTestApp, type TestApp } from './support/test-app.js';

@Injectable()
class OrderSubscriptions implements OnModuleInit {
  constructor(
    private readonly subscriptions: Subscriptions,
    private readonly queries: QueryBus,
  ) {}
  onModuleInit(): void {
    this.subscriptions.declare(ERP_MESSAGE_TYPES.createSalesOrder, async (sql: Sql) => (await this.queries.execute(new ErpRouteQuery('orders', sql)))?.destinations ?? []);
  }
}
@Module({ providers: [OrderSubscriptions] })
class OrderSubscriptionsModule {}

let sim: BusinessCentralSimulator;
let t: TestApp;
let base: string;

const backend = (maintenanceWindows: unknown[] = [], id = 'c0ffee00-0000-0000-0000-000000000001') => ({
  kind: 'business-central',
  role: 'cloud',
  config: { tenantId: 't1', environment: 'production', companyId: id, clientId: 'crossdock', clientSecret: 'secret-1', baseUrl: `${base}/v2.0/t1/production/api/v2.0`, tokenUrl: `${base}/oauth2/v2.0/token` },
  limits: { ratePerSecond: 10, burst: 5, concurrency: 3 },
  maintenanceWindows,
});

const order = (ref: string, customerNumber = '10000') => ({
  type: ERP_MESSAGE_TYPES.createSalesOrder,
  kind: 'command' as const,
  key: ref,
  payload: { externalDocumentNumber: ref, customerNumber, lines: [{ lineObjectNumber: '1896-S', quantity: 1, unitPrice: 100 }] },
});

beforeAll(async () => {
  // Each create is two requests (a lookup by reference, then the create): 30/s covers the backend's 10 deliveries/s plus its burst.
  sim = createBusinessCentralSimulator({ clientId: 'crossdock', clientSecret: 'secret-1', ratePerSecond: 30, latencyMs: [5, 20] });
  base = await sim.listen();
  t = await startTestApp({ additionalModules: [OrderSubscriptionsModule], env: { LOG_LEVEL: 'warn', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100' } });
  expect((await t.request('PUT', '/v1/admin/erp-backends/bc', { body: backend() })).status).toBe(201);
  expect((await t.request('PUT', '/v1/admin/routing/orders', { body: { mode: 'cloud', primary: 'bc' } })).status).toBe(201);
});
afterAll(async () => {
  await t.close();
  await sim.close();
});

const ordersIn = (ref: string) => [...sim.state.orders.values()].filter((o) => o.externalDocumentNumber === ref);

describe('delivery to Business Central, routed and governed', () => {
  it('creates each order once, within the backend\'s limits (the ERP never answers 429)', async () => {
    const refs = Array.from({ length: 30 }, (_, i) => `CD-R${i}`);
    await addMessages(t.app, refs.map((ref) => order(ref)));
    await waitUntil('all created in the ERP', () => refs.every((ref) => ordersIn(ref).length === 1), 30_000);
    expect(refs.every((ref) => ordersIn(ref).length === 1)).toBe(true);
    expect(sim.state.requests.filter((r) => r.status === 429)).toEqual([]);
    const [delivered] = await t.sql<{ n: number }>("select count(*)::int as n from outbox where destination = 'erp:bc' and status = 'delivered'");
    expect(delivered!.n).toBe(30);
  });

  it('does not create a second order when the ERP already has one with the reference', async () => {
    const before = (await fetch(`${base}/oauth2/v2.0/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'crossdock', client_secret: 'secret-1' }) }).then((r) => r.json())) as { access_token: string };
    await fetch(`${base}/v2.0/t1/production/api/v2.0/companies(c0ffee00-0000-0000-0000-000000000001)/salesOrders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${before.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ externalDocumentNumber: 'CD-EXISTS', customerNumber: '10000', salesOrderLines: [] }),
    });
    await addMessages(t.app, [order('CD-EXISTS')]);
    await waitUntil('delivered', async () => (await t.sql("select status from outbox where key = 'CD-EXISTS'"))[0]?.status === 'delivered');
    expect(ordersIn('CD-EXISTS')).toHaveLength(1);
  });

  it('dead-letters an order the ERP refuses, with the ERP\'s message', async () => {
    await addMessages(t.app, [order('CD-UNKNOWN-CUSTOMER', '99999')]);
    await waitUntil('dead-lettered', async () => (await t.sql("select status from outbox where key = 'CD-UNKNOWN-CUSTOMER'"))[0]?.status === 'dead');
    const [dead] = await t.sql("select errors from outbox where key = 'CD-UNKNOWN-CUSTOMER'");
    expect(dead.errors[0].message).toContain("The Customer does not exist. Identification fields and values: No.='99999'");
  });

  it('makes no call during a maintenance window of the backend, and defers without charging an attempt', async () => {
    const now = new Date();
    const hhmm = (d: Date) => `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
    const window = { timeZone: 'UTC', start: hhmm(new Date(now.getTime() - 60_000)), end: hhmm(new Date(now.getTime() + 3 * 60_000)) };
    expect((await t.request('PUT', '/v1/admin/erp-backends/bc', { body: backend([window]) })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 5_100)); // the destination's configuration cache
    const requestsBefore = sim.state.requests.length;
    await addMessages(t.app, [order('CD-IN-MAINTENANCE')]);
    await waitUntil('deferred for maintenance', async () =>
      (await t.sql("select 1 from trace_event t join outbox o on o.delivery_id = t.delivery_id where o.key = 'CD-IN-MAINTENANCE' and t.step = 'deferred' and t.detail->>'reason' = 'maintenance'")).length > 0);
    const [row] = await t.sql("select status, attempts from outbox where key = 'CD-IN-MAINTENANCE'");
    expect(row).toEqual({ status: 'queued', attempts: 0 });
    expect(sim.state.requests.length).toBe(requestsBefore);
    expect(ordersIn('CD-IN-MAINTENANCE')).toEqual([]);
  });

  it('routes to the primary backend, and in shadow mode to the shadow backend too', async () => {
    await t.request('PUT', '/v1/admin/erp-backends/bc-shadow', { body: backend([], 'c0ffee00-0000-0000-0000-000000000002') });
    await t.request('PUT', '/v1/admin/erp-backends/sap', {
      body: { ...backend(), kind: 'sap-b1', role: 'legacy', config: { baseUrl: 'https://b1.example.com/b1s/v1', companyDb: 'SBO', username: 'u', password: 'p' } },
    });
    const resolve = async () => (await inTransaction(t.app.get(PG_POOL), (tx) => t.app.get(QueryBus).execute(new ErpRouteQuery('orders', tx))))?.destinations;
    expect(await resolve()).toEqual(['erp:bc']);
    await t.request('PUT', '/v1/admin/routing/orders', { body: { mode: 'shadow', primary: 'sap', shadow: 'bc-shadow' } });
    expect(await resolve()).toEqual(['erp:sap', 'erp:bc-shadow']);
  });
});
