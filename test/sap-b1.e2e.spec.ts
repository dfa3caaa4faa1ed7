import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyCompany } from '../src/simulators/demo-simulators.js';
import { createSapB1Simulator } from '../src/simulators/sap-b1/sap-b1-simulator.js';
import { waitUntil } from './support/messaging.js';
import { orderBody, ordersWorld, submitOrder, type OrdersWorld } from './support/orders.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// The service with SAP Business One as the ERP of a domain: its orders, its stock, its customers, through the
// Service Layer simulator holding the same customers and items as Business Central (a distributor mid-migration).
let t: TestApp;
let w: OrdersWorld;
const sap = createSapB1Simulator({ data: legacyCompany(), latencyMs: [1, 5], companyDb: 'SBODEMOUS', userName: 'manager', password: 'sap-secret' });

const sapOrders = (reference: string) => [...sap.state.documents.Orders.values()].filter((o) => o.NumAtCard === reference);

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100', CROSSDOCK_DELIVERY_MAX_DELAY_MS: '1000', CROSSDOCK_CIRCUIT_OPEN_MS: '1000' } });
  w = await ordersWorld(t);
  const url = await sap.listen();
  const backend = await t.request('PUT', '/v1/admin/erp-backends/sap', {
    body: {
      kind: 'sap-b1', role: 'legacy',
      config: { baseUrl: `${url}/b1s/v1`, companyDb: 'SBODEMOUS', username: 'manager', password: 'sap-secret', warehouseCodes: { 'WH-EAST': '01', 'WH-WEST': '02' }, currencies: { $: 'USD' } },
      limits: { ratePerSecond: 50, burst: 20, concurrency: 4 }, maintenanceWindows: [],
    },
  });
  expect(backend.status).toBe(201);
  expect(backend.text).not.toContain('sap-secret');
  expect((await t.request('PUT', '/v1/admin/routing/orders', { body: { mode: 'legacy', primary: 'sap' } })).status).toBe(200);
});

afterAll(async () => {
  await t.close();
  await w.close();
  await sap.close();
});

const confirmed = async (orderIds: string[]) => {
  await waitUntil('every order confirmed in SAP', async () => {
    const rows = await t.sql<{ n: number }>(`select count(*)::int as n from sales_order where id = any($1::uuid[]) and status = 'confirmed'`, [orderIds]);
    return rows[0]!.n === orderIds.length;
  }, 30_000);
  return t.sql<{ id: string; reference: string; erp_order_ref: string; erp_order_id: string }>(
    'select id, reference, erp_order_ref, erp_order_id from sales_order where id = any($1::uuid[])', [orderIds],
  );
};

describe('SAP Business One as the ERP', () => {
  it('pulls its business partners into the read model that the intake checks', async () => {
    const pull = await t.request('POST', '/v1/admin/erp-backends/sap/sync/customers');
    expect(pull.status).toBe(200);
    const rows = await t.sql<{ number: string; blocked: boolean; credit_limit: number }>(
      `select number, blocked <> '' as blocked, credit_limit::float8 as credit_limit from customer_account where erp_backend_id = 'sap' order by number`,
    );
    expect(rows.map((r) => r.number)).toEqual(['10000', '20000', '30000', '40000']);
    expect(rows.find((r) => r.number === '30000')!.blocked).toBe(true); // Frozen in SAP
    // The intake now checks against SAP's figures: the frozen account is refused.
    const refused = await submitOrder(t, w.portalKey, orderBody({ customer: { accountNumber: '30000' } }));
    expect(refused.status).toBe(422);
  });

  it('places orders in SAP once each, looked up by NumAtCard, with DocNum as the ERP reference', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submitOrder(t, w.portalKey, orderBody())).body.orderId);
    for (const order of await confirmed(ids)) {
      const inSap = sapOrders(order.reference);
      expect(inSap).toHaveLength(1);
      expect(order.erp_order_ref).toBe(String(inSap[0]!.DocNum));
      expect(order.erp_order_id).toBe(String(inSap[0]!.DocEntry));
      expect(inSap[0]!.CardCode).toBe('10000');
      expect(inSap[0]!.DocumentLines.map((l: { ItemCode: string }) => l.ItemCode).sort()).toEqual(['1896-S', '1900-S']);
    }
  });

  it('a session that expires in the middle of a burst, and a create whose answer was lost: every order once, none lost', async () => {
    sap.state.expireSessionsAfter = 6;
    sap.state.loseNextCreates = 1;
    const answers = await Promise.all(Array.from({ length: 12 }, () => submitOrder(t, w.portalKey, orderBody())));
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(202));
    const orders = await confirmed(answers.map((a) => a.body.orderId));
    for (const order of orders) expect(sapOrders(order.reference)).toHaveLength(1);
    expect(sap.state.requests.some((r) => r.lost)).toBe(true);
    expect(sap.state.requests.filter((r) => r.status === 401).length).toBeGreaterThan(0);
  });

  it('SAP down for a while: the orders wait, nothing dead, no attempt charged; then each is placed once', async () => {
    sap.state.maintenance = { on: true, retryAfterSeconds: 1 };
    const answers = await Promise.all(Array.from({ length: 4 }, () => submitOrder(t, w.portalKey, orderBody())));
    const ids = answers.map((a) => a.body.orderId as string);
    await new Promise((r) => setTimeout(r, 2500));
    const waiting = await t.sql<{ status: string; attempts: number }>(
      `select o.status, o.attempts from outbox o join sales_order s on s.reference = o.payload->>'externalDocumentNumber' where s.id = any($1::uuid[]) and o.destination = 'erp:sap'`, [ids],
    );
    expect(waiting).toHaveLength(4);
    expect(waiting.filter((r) => r.status === 'dead' || r.attempts > 0)).toEqual([]);
    sap.state.maintenance = { on: false };
    for (const order of await confirmed(ids)) expect(sapOrders(order.reference)).toHaveLength(1);
  });

  it('polls stock from SAP: in stock and committed per warehouse, through the warehouse codes', async () => {
    expect([200, 201]).toContain((await t.request('PUT', '/v1/admin/routing/inventory', { body: { mode: 'legacy', primary: 'sap' } })).status);
    const poll = await t.request('POST', '/v1/admin/erp-backends/sap/sync/stock');
    expect(poll.status).toBe(200);
    expect(poll.body.accepted).toBeGreaterThan(0);
    const item = sap.state.items.get('1906-S')!;
    const east = item.ItemWarehouseInfoCollection.find((w: { WarehouseCode: string }) => w.WarehouseCode === '01')!;
    const [position] = await t.sql<{ on_hand: number; reserved: number }>(
      `select on_hand::float8 as on_hand, reserved::float8 as reserved from stock_position where source = 'erp:sap' and sku = '1906-S' and warehouse = 'WH-EAST'`,
    );
    expect(position).toEqual({ on_hand: east.InStock, reserved: east.Committed });
  });
});
