import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetError } from '../../../platform/delivery/outcome.js';
import { createShopifySimulator, type ShopifySimulator } from '../../../simulators/shopify/shopify-simulator.js';
import { parseBulkInventory, ShopifyAdminClient, type BulkOperation } from './shopify-admin.client.js';
import type { ShopifyConfig } from './shopify.config.js';

// Shopify's bulk query operations, as the simulator runs them and the client reads them: the JSONL a store writes
// (a line a node, nested connections' nodes on lines of their own with __parentId), one operation at a time, a
// failure on demand; the client's start, status and download, and its reading of a result.
const TOKEN = 'shpat_bulk';
const EAST = 'gid://shopify/Location/1';
const WEST = 'gid://shopify/Location/2';
let shop: ShopifySimulator;
let shopUrl: string;

beforeAll(async () => {
  shop = createShopifySimulator({
    accessToken: TOKEN, bulkOperationDelayMs: 150,
    variants: [{ sku: 'B-1', available: { [EAST]: 4, [WEST]: 9 } }, { sku: 'B-2', available: { [WEST]: 7 } }, { sku: 'B-1', available: { [EAST]: 1 } }],
  });
  shopUrl = await shop.listen();
});
afterAll(async () => {
  await shop?.close();
});

async function graphql(query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${shopUrl}/admin/api/2025-07/graphql.json`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-shopify-access-token': TOKEN }, body: JSON.stringify({ query, variables }) });
  return (await response.json()) as { data?: any; errors?: unknown[]; extensions?: any };
}
const RUN = `mutation Run($query: String!) { bulkOperationRunQuery(query: $query) { bulkOperation { id status url } userErrors { code field message } } }`;
const STATUS = `query Status($id: ID!) { node(id: $id) { ... on BulkOperation { id status errorCode objectCount rootObjectCount fileSize url createdAt completedAt } } }`;
const ITEMS_WITH_LEVELS = `{ inventoryItems { edges { node { id sku inventoryLevels { edges { node { location { id } quantities(names: ["available"]) { name quantity } } } } } } } }`;
const control = (path: string, body: unknown) => fetch(`${shopUrl}/_control/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function completed(id: string): Promise<any> {
  for (let i = 0; i < 50; i++) {
    const { data } = await graphql(STATUS, { id });
    if (data.node.status !== 'RUNNING' && data.node.status !== 'CREATED') return data.node;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${id} never ended`);
}

describe('the simulator: bulkOperationRunQuery', () => {
  it('runs the query over the whole store and writes it as Shopify does, one operation at a time', async () => {
    const started = await graphql(RUN, { query: ITEMS_WITH_LEVELS });
    expect(started.extensions.cost.requestedQueryCost).toBe(10);
    const op = started.data.bulkOperationRunQuery.bulkOperation;
    expect(op).toMatchObject({ id: expect.stringMatching(/^gid:\/\/shopify\/BulkOperation\/\d+$/), status: 'CREATED', url: null });
    expect(started.data.bulkOperationRunQuery.userErrors).toEqual([]);

    // One bulk query at a time per shop.
    const second = await graphql(RUN, { query: ITEMS_WITH_LEVELS });
    expect(second.data.bulkOperationRunQuery).toEqual({ bulkOperation: null, userErrors: [{ code: 'OPERATION_IN_PROGRESS', field: null, message: `A bulk query operation for this app and shop is already in progress: ${op.id}.` }] });
    const current = await graphql('{ currentBulkOperation { id status query } }');
    expect(current.data.currentBulkOperation).toEqual({ id: op.id, status: 'RUNNING', query: ITEMS_WITH_LEVELS });

    const done = await completed(op.id);
    const lines = (await (await fetch(done.url)).text()).split('\n');
    expect(lines.pop()).toBe('');
    const items = [...shop.state.items.values()];
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { id: items[0]!.id, sku: 'B-1' },
      { location: { id: EAST }, quantities: [{ name: 'available', quantity: 4 }], __parentId: items[0]!.id },
      { location: { id: WEST }, quantities: [{ name: 'available', quantity: 9 }], __parentId: items[0]!.id },
      { id: items[1]!.id, sku: 'B-2' },
      { location: { id: WEST }, quantities: [{ name: 'available', quantity: 7 }], __parentId: items[1]!.id },
      { id: items[2]!.id, sku: 'B-1' },
      { location: { id: EAST }, quantities: [{ name: 'available', quantity: 1 }], __parentId: items[2]!.id },
    ]);
    expect(done).toMatchObject({ status: 'COMPLETED', errorCode: null, objectCount: '7', rootObjectCount: '3', fileSize: String(lines.join('\n').length + 1), completedAt: expect.any(String) });
    expect(done.url).toMatch(new RegExp(`^${shopUrl}/_bulk/\\d+\\.jsonl$`));
    expect(shop.state.requests.filter((r) => r.name === 'Run').map((r) => [r.requestedCost, r.status])).toEqual([[10, 200], [10, 200]]);
  });

  it('reads `nodes` as `edges { node }`, and refuses a nested connection whose parent does not select its id', async () => {
    const refused = await graphql(RUN, { query: '{ inventoryItems { nodes { sku inventoryLevels { nodes { location { id } } } } } }' });
    expect(refused.data.bulkOperationRunQuery.userErrors).toEqual([expect.objectContaining({ code: 'INVALID', field: ['query'], message: expect.stringContaining("must select the 'id' field") })]);
    expect((await graphql(RUN, { query: 'mutation { customerSet(input: {}) { userErrors { message } } }' })).data.bulkOperationRunQuery.userErrors[0].code).toBe('INVALID');

    const op = (await graphql(RUN, { query: '{ inventoryItems { nodes { sku } } }' })).data.bulkOperationRunQuery.bulkOperation;
    const done = await completed(op.id);
    expect((await (await fetch(done.url)).text()).trim().split('\n').map((l) => JSON.parse(l))).toEqual([{ sku: 'B-1' }, { sku: 'B-2' }, { sku: 'B-1' }]);
  });

  it('fails the next operation when told to, with the errorCode asked for', async () => {
    expect((await control('faults', { failNextBulkOperation: 'INTERNAL_SERVER_ERROR' })).status).toBe(200);
    const op = (await graphql(RUN, { query: ITEMS_WITH_LEVELS })).data.bulkOperationRunQuery.bulkOperation;
    expect(await completed(op.id)).toMatchObject({ status: 'FAILED', errorCode: 'INTERNAL_SERVER_ERROR', url: null });
    const next = (await graphql(RUN, { query: ITEMS_WITH_LEVELS })).data.bulkOperationRunQuery.bulkOperation;
    expect(await completed(next.id)).toMatchObject({ status: 'COMPLETED', errorCode: null });
  });
});

describe('ShopifyAdminClient: the bulk read of inventory', () => {
  const client = () => new ShopifyAdminClient({ shopDomain: 'bulk.myshopify.com', apiVersion: '2025-07', accessToken: TOKEN, webhookSecret: 's', adminApiBaseUrl: `${shopUrl}/admin/api/2025-07` } as ShopifyConfig);

  it('starts the read, answers the same operation when it is started again while it runs, and reads its result', async () => {
    const c = client();
    const op = await c.startBulkInventoryRead();
    expect(op).toMatchObject({ status: 'CREATED', url: null, errorCode: null, objectCount: 0 });
    // A run cut short between starting the read and recording it finds its operation again, rather than a refusal.
    expect((await c.startBulkInventoryRead()).id).toBe(op.id);
    let now: BulkOperation | null = op;
    while (now && now.status !== 'COMPLETED') {
      await new Promise((r) => setTimeout(r, 30));
      now = await c.bulkOperation(op.id);
    }
    expect(now).toMatchObject({ id: op.id, status: 'COMPLETED', objectCount: 7, url: expect.stringContaining('/_bulk/') });
    const items = await c.bulkInventoryResult(now!.url!, [WEST, EAST]);
    expect(items.map((i) => [i.sku, i.available])).toEqual([['B-1', [9, 4]], ['B-2', [7, null]], ['B-1', [null, 1]]]);
    expect(shop.state.bulkOperations.get(op.id)!.downloads).toBe(1);
    expect(await c.bulkOperation('gid://shopify/BulkOperation/1')).toBeNull();
  });

  it('refuses to start while another bulk query of the app runs', async () => {
    const other = (await graphql(RUN, { query: '{ inventoryItems { nodes { id } } }' })).data.bulkOperationRunQuery.bulkOperation;
    const error = await client().startBulkInventoryRead().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TargetError);
    expect(error).toMatchObject({ failureClass: 'retryable', message: expect.stringContaining(other.id) });
    await completed(other.id);
  });
});

describe('parseBulkInventory', () => {
  it("matches levels to their item by __parentId, in whatever order the lines come, at the locations asked", () => {
    const text = [
      JSON.stringify({ location: { id: EAST }, quantities: [{ name: 'available', quantity: 3 }], __parentId: 'gid://shopify/InventoryItem/2' }),
      JSON.stringify({ id: 'gid://shopify/InventoryItem/1', sku: 'A' }),
      '',
      JSON.stringify({ id: 'gid://shopify/InventoryItem/2', sku: '' }),
      JSON.stringify({ location: { id: 'gid://shopify/Location/9' }, quantities: [{ name: 'available', quantity: 50 }], __parentId: 'gid://shopify/InventoryItem/1' }),
      JSON.stringify({ location: { id: EAST }, quantities: [], __parentId: 'gid://shopify/InventoryItem/1' }),
      JSON.stringify({ location: { id: WEST }, quantities: [{ name: 'available', quantity: 8 }], __parentId: 'gid://shopify/InventoryItem/404' }),
    ].join('\n');
    expect(parseBulkInventory(text, [EAST, WEST])).toEqual([
      { inventoryItemId: 'gid://shopify/InventoryItem/1', sku: 'A', available: [0, null] },
      { inventoryItemId: 'gid://shopify/InventoryItem/2', sku: null, available: [3, null] },
    ]);
    expect(parseBulkInventory('', [EAST])).toEqual([]);
  });

  it('takes a line that is not JSON, or a level of an unexpected shape, for a failed read', () => {
    expect(() => parseBulkInventory('{"id":"gid://shopify/InventoryItem/1","sku":"A"}\n{"id":', [EAST])).toThrow(/line 2/);
    expect(() => parseBulkInventory('{"__parentId":"x","quantities":[]}', [EAST])).toThrow(TargetError);
  });
});
