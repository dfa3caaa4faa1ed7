import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { standaloneServer } from '../src/simulators/standalone.js';
import { createWebhookReceiver } from '../src/simulators/webhook-receiver/webhook-receiver.js';
import { waitUntil } from './support/messaging.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './support/test-app.js';

// Reconciliation with a webhook subscriber that answers the figures it holds (`config.readUrl`): an availability the
// portal changed itself and a delivery it lost are found and republished as new versions, and so is a price; of a
// customer, a delivery it lost is sent again and its own edit reported; a subscriber without a read is no target; a
// read refused (a wrong signature) fails the run and repairs nothing.
let t: TestApp;
let receiverUrl: string;
let sourceKey: string;
const receiver = createWebhookReceiver({ secrets: { portal: 'whsec_cG9ydGFsLXNlY3JldC1mb3ItcmVjb25jaWxl', other: 'whsec_b3RoZXItc2VjcmV0LWZvci1yZWNvbmNpbGU=' } });
const server = standaloneServer(receiver.plugin);
const TYPE = 'inventory.availability.changed';
const SKUS = ['WP-01', 'WP-02', 'WP-03', 'WP-04', 'WP-05'];
const ON_HAND: Record<string, number> = Object.fromEntries(SKUS.map((sku, i) => [sku, 20 + i]));
const PRICE: Record<string, number> = Object.fromEntries(SKUS.map((sku, i) => [sku, 10 + i]));

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn', CROSSDOCK_RECONCILE_TICK_MS: '3600000' } });
  receiverUrl = await server.listen();
  await putPortal(`${receiverUrl}/portal/figures`);
  // Subscribed, but offers no read of what it holds: not a target.
  await put('/v1/admin/channels/blind', { kind: 'webhook', inventory, oversell: 'backorder', config: { url: `${receiverUrl}/other`, secret: 'whsec_b3RoZXItc2VjcmV0LWZvci1yZWNvbmNpbGU=' } });
  await put('/v1/admin/sources/erp-stock', { name: 'ERP stock' });
  sourceKey = (await t.request('POST', '/v1/admin/sources/erp-stock/api-keys', { body: { scopes: ['inventory:write', 'prices:write', 'customers:write'] } })).body.key;
  const answer = await t.request('POST', '/v1/inventory/levels', { token: sourceKey, body: { items: SKUS.map((sku, i) => ({ eventId: `wp-${i}`, sku, warehouse: 'WH-EAST', onHand: ON_HAND[sku], sequence: 1 })) } });
  expect(answer.body.accepted).toBe(SKUS.length);
  const prices = await t.request('POST', '/v1/prices', { token: sourceKey, body: { items: SKUS.map((sku, i) => ({ eventId: `wpp-${i}`, priceList: 'base', sku, currency: 'USD', unitPrice: PRICE[sku], sequence: 1 })) } });
  expect(prices.body.accepted).toBe(SKUS.length);
  await waitUntil('the portal holds every figure and price', () => SKUS.every((sku) => receiver.figure('portal', TYPE, sku)?.data.available === ON_HAND[sku]
    && receiver.figure('portal', 'price.changed', `price:${sku}`)?.data.unitPrice === PRICE[sku]), 20_000);
});
afterAll(async () => {
  await t?.close();
  await server.close();
});

const inventory = { warehouses: ['WH-EAST'], safetyStock: 0, allocationPercent: 100 };
async function put(path: string, body: unknown): Promise<void> {
  const answer = await t.request('PUT', path, { body });
  if (answer.status >= 300) throw new Error(`${path}: ${answer.text}`);
}
function putPortal(readUrl: string): Promise<void> {
  return put('/v1/admin/channels/portal', {
    kind: 'webhook', inventory, oversell: 'backorder', pricing: { priceList: 'base', currency: 'USD' },
    config: { url: `${receiverUrl}/portal`, secret: 'whsec_cG9ydGFsLXNlY3JldC1mb3ItcmVjb25jaWxl', readUrl, subscribe: ['customer.changed'] },
  });
}
const versionOf = async (sku: string) => Number((await t.sql<{ version: string }>("select version from channel_availability where channel_id = 'portal' and sku = $1", [sku]))[0]!.version);
const portalSets = async (key: string, figure: { available: number; version?: number }) => {
  const response = await fetch(`${receiverUrl}/portal/figures`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: TYPE, key, data: { sku: key, available: figure.available }, version: figure.version }) });
  expect(response.status).toBe(200);
};

describe('a run over a webhook subscriber that answers its figures', () => {
  it("finds the portal's own change and a delivery it lost, republishes both as new versions, and finds nothing the next time", async () => {
    const before = { 'WP-02': await versionOf('WP-02'), 'WP-04': await versionOf('WP-04') };
    await portalSets('WP-02', { available: 999 });
    // As if the portal had lost the last delivery and still held an older figure under an older version.
    await portalSets('WP-04', { available: 3, version: before['WP-04'] - 1 });

    const answer = await t.request('POST', '/v1/admin/reconcile/inventory?wait=true');
    expect(answer.status, answer.text).toBe(202);
    // Only the subscriber that answers its figures is a target.
    expect(answer.body.runs.map((r: { run: { target: string } }) => r.run.target)).toEqual(['channel:portal']);
    const run = answer.body.runs[0].run;
    expect(run).toMatchObject({ status: 'finished', compared: 5, drifted: 2, repaired: 2, waiting: 0 });

    const detail = await t.request('GET', `/v1/ops/reconciliation/runs/${run.id}`);
    expect(detail.body.findings.map((f: any) => [f.key, f.class, f.repair, f.status, f.expected, f.actual])).toEqual([
      ['WP-02', 'channel-differs', 'republish', 'repaired', { available: ON_HAND['WP-02'] }, { available: 999 }],
      ['WP-04', 'channel-differs', 'republish', 'repaired', { available: ON_HAND['WP-04'] }, { available: 3 }],
    ]);
    for (const sku of ['WP-02', 'WP-04'] as const) {
      const version = await versionOf(sku);
      expect(version).toBeGreaterThan(before[sku]);
      await waitUntil(`${sku} republished to the portal`, () => receiver.figure('portal', TYPE, sku)?.version === version, 10_000);
      expect(receiver.figure('portal', TYPE, sku)!.data.available).toBe(ON_HAND[sku]);
    }

    const again = (await t.request('POST', '/v1/admin/reconcile/inventory?target=channel:portal&wait=true')).body.runs[0].run;
    expect(again).toMatchObject({ status: 'finished', compared: 5, drifted: 0, repaired: 0 });

    // The run's trace: each repair, then the delivery of what it republished.
    expect(run.correlationId).toBe(`reconcile-${run.id}`);
    const trace = (await t.request('GET', `/v1/ops/trace/${run.correlationId}`)).body;
    const steps = trace.timeline as Array<{ step: string; detail?: Record<string, unknown>; destination?: string }>;
    expect(steps.filter((s) => s.step === 'reconciled').map((s) => s.detail?.key)).toEqual(['WP-02', 'WP-04']);
    expect(steps.some((s) => s.step === 'delivered' && s.destination === 'channel:portal')).toBe(true);

    // The run's report in the console: its figures, and each finding with what its repair did.
    const login = await fetch(`${t.baseUrl}/console/login`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ token: ADMIN_TOKEN }) });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const list = await (await fetch(`${t.baseUrl}/console/reconciliation?domain=inventory`, { headers: { cookie } })).text();
    expect(list).toContain(`href="/console/reconciliation/runs/${run.id}"`);
    const page = await fetch(`${t.baseUrl}/console/reconciliation/runs/${run.id}`, { headers: { cookie } });
    expect(page.status).toBe(200);
    const text = await page.text();
    for (const shown of ['channel:portal', 'WP-02', 'WP-04', 'channel-differs', 'republish', '999']) expect(text).toContain(shown);
    expect(text).not.toContain('WP-03');
    expect(await (await fetch(`${t.baseUrl}/console/reconciliation/runs/${again.id}`, { headers: { cookie } })).text()).toContain('This run found no drift.');
    expect((await fetch(`${t.baseUrl}/console/reconciliation/runs/999999`, { headers: { cookie } })).status).toBe(404);
  });

  it("puts right a price the portal holds otherwise, with a new version", async () => {
    const versionBefore = receiver.figure('portal', 'price.changed', 'price:WP-03')!.version!;
    await fetch(`${receiverUrl}/portal/figures`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'price.changed', key: 'price:WP-03', data: { sku: 'WP-03', currency: 'USD', unitPrice: 0.5 } }) });
    const answer = await t.request('POST', '/v1/admin/reconcile/prices?wait=true');
    expect(answer.body.runs.map((r: { run: { target: string } }) => r.run.target)).toEqual(['channel:portal']);
    expect(answer.body.runs[0].run).toMatchObject({ status: 'finished', compared: 5, drifted: 1, repaired: 1 });
    const [finding] = (await t.request('GET', `/v1/ops/reconciliation/runs/${answer.body.runs[0].run.id}`)).body.findings;
    expect(finding).toMatchObject({ key: 'WP-03', class: 'channel-differs', repair: 'republish', expected: PRICE['WP-03'], actual: 0.5 });
    await waitUntil('the portal holds the price again', () => receiver.figure('portal', 'price.changed', 'price:WP-03')?.data.unitPrice === PRICE['WP-03'], 10_000);
    expect(receiver.figure('portal', 'price.changed', 'price:WP-03')!.version).toBeGreaterThan(versionBefore);
    expect((await t.request('POST', '/v1/admin/reconcile/prices?wait=true')).body.runs[0].run).toMatchObject({ compared: 5, drifted: 0 });
  });

  it("sends a customer again to a subscriber that lost its delivery, and reports its own edit of its copy", async () => {
    for (const [account, name] of [['C-1', 'Alpine Ski House'], ['C-2', 'Fabrikam']] as const) {
      const answer = await t.request('PUT', `/v1/customers/${account}`, { token: sourceKey, body: { name, email: `buyer@${account.toLowerCase()}.example` } });
      expect(answer.status, answer.text).toBeLessThan(300);
    }
    const held = (account: string) => receiver.figure('portal', 'customer.changed', `customer:${account}`);
    await waitUntil('the portal holds both customers', () => held('C-1') !== undefined && held('C-2') !== undefined, 10_000);
    const sent = { 'C-1': held('C-1')!, 'C-2': held('C-2')! };
    const customerOf = (figure: { data: Record<string, unknown> }) => figure.data.customer as Record<string, unknown>;
    // C-1: as if the portal had lost the delivery and still held an older version with an older email.
    await fetch(`${receiverUrl}/portal/figures`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'customer.changed', key: 'customer:C-1', version: sent['C-1'].version! - 1, data: { ...sent['C-1'].data, customer: { ...customerOf(sent['C-1']), email: 'old@c-1.example' } } }) });
    // C-2: the portal's own edit of its copy, under the version it was sent.
    await fetch(`${receiverUrl}/portal/figures`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'customer.changed', key: 'customer:C-2', data: { ...sent['C-2'].data, customer: { ...customerOf(sent['C-2']), name: 'Fabrikam Intl' } } }) });

    const answer = await t.request('POST', '/v1/admin/reconcile/customers?target=channel:portal&wait=true');
    expect(answer.status, answer.text).toBe(202);
    const run = answer.body.runs[0].run;
    expect(run).toMatchObject({ status: 'finished', compared: 2, drifted: 2, repaired: 1, waiting: 1 });
    const findings = (await t.request('GET', `/v1/ops/reconciliation/runs/${run.id}`)).body.findings.map((f: any) => [f.key, f.class, f.repair, f.status, f.expected, f.actual]);
    expect(findings).toEqual([
      ['C-1', 'channel-differs', 'republish', 'repaired', { email: 'buyer@c-1.example' }, { email: 'old@c-1.example' }],
      ['C-2', 'changed-in-channel', 'report', 'waiting', { name: 'Fabrikam' }, { name: 'Fabrikam Intl' }],
    ]);
    await waitUntil('the portal holds C-1 again', () => customerOf(held('C-1')!).email === 'buyer@c-1.example', 10_000);
    expect(held('C-1')!.version).toBeGreaterThan(sent['C-1'].version!);
    expect(customerOf(held('C-2')!).name).toBe('Fabrikam Intl');
    const again = (await t.request('POST', '/v1/admin/reconcile/customers?target=channel:portal&wait=true')).body.runs[0].run;
    expect(again).toMatchObject({ compared: 2, drifted: 1, repaired: 0 });
    const waiting = (await t.request('GET', '/v1/ops/reconciliation?domain=customers')).body.waiting.map((f: any) => [f.key, f.class]);
    expect(waiting).toEqual([['C-2', 'changed-in-channel']]);
  });

  it('fails a run whose read the subscriber refuses, and repairs nothing', async () => {
    await portalSets('WP-01', { available: 555 });
    // The portal no longer knows the channel's secret: it answers 401 to the signed read.
    await putPortal(`${receiverUrl}/other/figures`);
    const run = (await t.request('POST', '/v1/admin/reconcile/inventory?target=channel:portal&wait=true')).body.runs[0].run;
    expect(run).toMatchObject({ status: 'failed', repaired: 0 });
    expect(run.error).toMatch(/401/);
    expect(receiver.figure('portal', TYPE, 'WP-01')!.data.available).toBe(555);
  });
});
