import { expect } from 'vitest';
import type { ShopifySimulator } from '../../src/simulators/shopify/shopify-simulator.js';
import type { TestApp } from './test-app.js';

/**
 * What the inventory reconciliation tests ask of a simulated store and of the channel `channelId` that sells there;
 * the app, the store and its URL are read when asked (they are made in the test file's beforeAll).
 */
export function storeReconciliation(app: () => TestApp, store: () => ShopifySimulator, shopUrl: () => string, channelId = 'shop') {
  const destination = `channel:${channelId}`;
  return {
    /** The store's `available` figure of the SKU at the location. */
    held: (sku: string, location: string): number | undefined => [...store().state.items.values()].find((i) => i.sku === sku)?.levels.get(location)?.available,
    /** A merchant changes a quantity in the store's admin; answers the webhooks the store sent of it. */
    merchantSets: async (sku: string, locationId: string, available: number): Promise<Array<{ topic: string; deliveries: Array<{ status: number; body?: string }> }>> => {
      const response = await fetch(`${shopUrl()}/_control/inventory-levels`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sku, locationId, available }) });
      expect(response.status).toBe(200);
      return ((await response.json()) as { webhooks: Array<{ topic: string; deliveries: Array<{ status: number; body?: string }> }> }).webhooks;
    },
    /** The simulator's control API. */
    control: (path: string, body: unknown) => fetch(`${shopUrl()}/_control/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    /** SKUs the channel was delivered a figure of. */
    sentCount: async () => (await app().sql<{ n: number }>('select count(*)::int as n from delivered_version where destination = $1', [destination]))[0]!.n,
    /** The SKU's current figure's version for the channel. */
    versionOf: async (sku: string) => Number((await app().sql<{ version: string }>('select version from channel_availability where channel_id = $1 and sku = $2', [channelId, sku]))[0]!.version),
    /** The version of the SKU the channel was last delivered. */
    deliveredVersionOf: async (sku: string) => Number((await app().sql<{ version: string }>('select version from delivered_version where destination = $1 and key = $2', [destination, sku]))[0]!.version),
    /** A run of inventory's reconciliation with every target now (one here: the store), answered once it has ended. */
    reconcileNow: async () => {
      const answer = await app().request('POST', '/v1/admin/reconcile/inventory?wait=true');
      expect(answer.status, answer.text).toBe(202);
      expect(answer.body.runs).toHaveLength(1);
      return answer.body.runs[0].run;
    },
  };
}
