import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusinessCentralClient, odataMessage } from '../src/connectors/erp/business-central/business-central.client.js';
import { TargetError } from '../src/platform/delivery/outcome.js';
import { createBusinessCentralSimulator, type BusinessCentralSimulator } from '../src/simulators/business-central/bc-simulator.js';

let sim: BusinessCentralSimulator;
let client: BusinessCentralClient;
let base: string;

const config = (overrides: Record<string, string> = {}) => ({
  tenantId: 'tenant-1',
  environment: 'production',
  companyId: 'c0ffee00-0000-0000-0000-000000000001',
  clientId: 'crossdock',
  clientSecret: 'secret-1',
  baseUrl: `${base}/v2.0/tenant-1/production/api/v2.0`,
  tokenUrl: `${base}/oauth2/v2.0/token`,
  ...overrides,
});

async function failureOf(promise: Promise<unknown>): Promise<TargetError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TargetError);
  return error as TargetError;
}

beforeAll(async () => {
  sim = createBusinessCentralSimulator({ clientId: 'crossdock', clientSecret: 'secret-1', ratePerSecond: 1000 });
  base = await sim.listen();
  client = new BusinessCentralClient(config());
});
afterAll(() => sim.close());

describe('Business Central connector against the simulator', () => {
  it('creates a sales order with its lines, and finds it again by its external document number', async () => {
    const { order, created } = await client.ensureSalesOrder({ externalDocumentNumber: 'CD-1001', customerNumber: '10000', lines: [{ lineObjectNumber: '1896-S', quantity: 2, unitPrice: 125.5 }] });
    expect(created).toBe(true);
    expect(order.number).toMatch(/^S-ORD\d+$/);
    const again = await client.ensureSalesOrder({ externalDocumentNumber: 'CD-1001', customerNumber: '10000', lines: [{ lineObjectNumber: '1896-S', quantity: 2, unitPrice: 125.5 }] });
    expect(again).toEqual({ order: expect.objectContaining({ id: order.id, number: order.number }), created: false });
    const stored = [...sim.state.orders.values()].filter((o) => o.externalDocumentNumber === 'CD-1001');
    expect(stored).toHaveLength(1);
    expect(stored[0]!.salesOrderLines).toMatchObject([{ lineType: 'Item', lineObjectNumber: '1896-S', quantity: 2, unitPrice: 125.5 }]);
  });

  it('sends the request shape Microsoft documents for a sales order', async () => {
    const documented = JSON.parse(readFileSync(new URL('./fixtures/business_central/bc_v2_salesOrder_create.request.json', import.meta.url), 'utf8'));
    const documentedLine = JSON.parse(readFileSync(new URL('./fixtures/business_central/bc_v2_salesOrderLine_create.request.json', import.meta.url), 'utf8'));
    await client.createSalesOrder({ externalDocumentNumber: 'CD-SHAPE', customerNumber: '10000', lines: [{ lineObjectNumber: '1900-S', quantity: 1, unitPrice: 10 }] });
    const sent = sim.state.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/salesOrders')).at(-1)?.body as Record<string, unknown>;
    expect(Object.keys(documented)).toEqual(expect.arrayContaining(['customerNumber']));
    expect(sent).toMatchObject({ customerNumber: '10000', externalDocumentNumber: 'CD-SHAPE' });
    const line = (sent!.salesOrderLines as Array<Record<string, unknown>>)[0]!;
    for (const field of ['lineType', 'lineObjectNumber', 'quantity']) expect(documentedLine).toHaveProperty(field);
    expect(line).toEqual({ lineType: 'Item', lineObjectNumber: '1900-S', quantity: 1, unitPrice: 10 });
  });

  it('classifies an unknown item and a blocked customer as permanent, with Business Central\'s message', async () => {
    const unknownItem = await failureOf(client.createSalesOrder({ externalDocumentNumber: 'CD-BAD', customerNumber: '10000', lines: [{ lineObjectNumber: 'NOPE-1', quantity: 1, unitPrice: 1 }] }));
    expect(unknownItem.failureClass).toBe('permanent');
    expect(unknownItem.message).toContain("The Item does not exist. Identification fields and values: No.='NOPE-1'");
    expect(unknownItem.details.status).toBe(400);
    const blocked = await failureOf(client.createSalesOrder({ externalDocumentNumber: 'CD-BLK', customerNumber: '30000', lines: [{ lineObjectNumber: '1900-S', quantity: 1, unitPrice: 1 }] }));
    expect(blocked.failureClass).toBe('permanent');
    expect(blocked.message).toContain('is blocked');
  });

  it('reads customers with their balances in the list, one request a page', async () => {
    const before = sim.state.requests.length;
    const { value } = await client.listCustomers();
    const requests = sim.state.requests.slice(before).filter((r) => r.path.includes('/customers'));
    // One page of customers and no request per customer for its balance.
    expect(requests.map((r) => r.path.replace(/.*\/companies\([^)]*\)/, ''))).toEqual(['/customers']);
    const limited = value.find((c) => c.number === '20000')!;
    expect(limited.customerFinancialDetail).toMatchObject({ balance: expect.any(Number) });
  });

  it('renews an expired token once and goes on', async () => {
    await client.listCustomers();
    await fetch(`${base}/_control/expire-tokens`, { method: 'POST' });
    const customers = await client.listCustomers();
    expect(customers.value.map((c) => c.number)).toContain('10000');
  });

  it('treats maintenance (503 with Retry-After) and 429 as throttled, and wrong credentials as retryable', async () => {
    await fetch(`${base}/_control/maintenance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ on: true }) });
    try {
      const down = await failureOf(client.listCustomers());
      expect(down).toMatchObject({ failureClass: 'throttled', details: { status: 503, retryAfterMs: 5000 } });
    } finally {
      await fetch(`${base}/_control/maintenance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ on: false }) });
    }
    await fetch(`${base}/_control/throttle`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ next: 1 }) });
    const throttled = await failureOf(client.listCustomers());
    expect(throttled).toMatchObject({ failureClass: 'throttled', details: { status: 429, retryAfterMs: 1000 } });
    const wrong = new BusinessCentralClient(config({ clientSecret: 'wrong' }));
    expect((await failureOf(wrong.listCustomers())).failureClass).toBe('retryable');
  });

  it('deletes an open order, and reads a customer\'s balance', async () => {
    const { order } = await client.ensureSalesOrder({ externalDocumentNumber: 'CD-DEL', customerNumber: '20000', lines: [{ lineObjectNumber: '1906-S', quantity: 1, unitPrice: 5 }] });
    await client.deleteSalesOrder(order.id);
    expect(await client.findSalesOrder('CD-DEL')).toBeUndefined();
    const trey = (await client.listCustomers()).value.find((c) => c.number === '20000')!;
    expect(trey.customerFinancialDetail?.balance).toBe(4900);
  });

  it('reads the message out of an OData error body', () => {
    expect(odataMessage('{"error":{"code":"BadRequest","message":"Bad thing.  CorrelationId:  abc."}}')).toBe('Bad thing.');
    expect(odataMessage('not json')).toBeUndefined();
  });
});
