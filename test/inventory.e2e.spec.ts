import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableToSell } from '../src/modules/inventory/domain/available-to-sell.js';
import { FaultTarget, TARGET_SECRET } from './support/fault-target.js';
import { waitUntil } from './support/messaging.js';
import { startTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;
let portal: FaultTarget;
let sourceKey: string;
let portalKey: string;

const PORTAL = { warehouses: ['A', 'B', 'C'], safetyStock: 0, allocationPercent: 100 };
const OUTLET = { warehouses: ['B', 'C'], safetyStock: 3, allocationPercent: 50 };

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn' } });
  portal = new FaultTarget();
  await portal.start();
  const put = async (path: string, body: unknown) => expect((await t.request('PUT', path, { body })).status).toBeLessThan(300);
  await put('/v1/admin/channels/portal', {
    kind: 'webhook', config: { url: portal.url, secret: TARGET_SECRET }, inventory: PORTAL, oversell: 'reject', limits: { ratePerSecond: 2000, burst: 2000, concurrency: 16 },
  });
  await put('/v1/admin/channels/outlet', { kind: 'api', config: {}, inventory: OUTLET, oversell: 'backorder' });
  await put('/v1/admin/sources/wms', { name: 'Warehouse system' });
  sourceKey = (await t.request('POST', '/v1/admin/sources/wms/api-keys', { body: { scopes: ['inventory:write', 'inventory:read'] } })).body.key;
  portalKey = (await t.request('POST', '/v1/admin/channels/portal/api-keys', { body: { scopes: ['inventory:read'] } })).body.key;
});
afterAll(async () => {
  await t?.close();
  await portal?.stop();
});

let event = 0;
const levels = (items: unknown[]) => t.request('POST', '/v1/inventory/levels', { token: sourceKey, body: { items } });
const level = (sku: string, warehouse: string, onHand: number, sequence: number, extra: Record<string, unknown> = {}) => ({ eventId: `e-${++event}`, sku, warehouse, onHand, sequence, ...extra });
const portalFigures = (sku: string) => portal.effects.filter((e) => e.type === 'inventory.availability.changed' && e.subject === sku).map((e) => e.data);

describe('stock levels intake', () => {
  it('applies valid items, counts duplicates and stale ones, and gives invalid ones per-item errors', async () => {
    const first = level('SKU-1', 'A', 10, 5);
    const answer = await levels([
      first,
      { ...first }, // the same event again
      level('SKU-1', 'B', 4, 1),
      level('SKU-1', 'B', 3, 0), // older than the one before it
      { eventId: 'bad-1', sku: '', warehouse: 'A', onHand: 1, sequence: 1 },
      { eventId: 'bad-2', sku: 'SKU-1', warehouse: 'A', onHand: 1.2345, sequence: 9 },
      { eventId: 'bad-3', sku: 'SKU-1', warehouse: 'A', onHand: 1 },
      { eventId: 'bad-4', sku: 'SKU-1', warehouse: 'A', onHand: 1, sequence: 10, unknownField: true },
    ]);
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ accepted: 2, duplicate: 1, stale: 1 });
    expect(answer.body.errors.map((e: { index: number; field: string }) => [e.index, e.field])).toEqual([
      [4, 'items[4].sku'], [5, 'items[5].onHand'], [6, 'items[6].sequence'], [7, 'items[7].unknownField'],
    ]);
    const again = await levels([level('SKU-1', 'A', 99, 4)]);
    expect(again.body).toMatchObject({ accepted: 0, stale: 1 });
    const view = (await t.request('GET', '/v1/inventory/SKU-1')).body;
    expect(view.positions.map((p: { warehouse: string; onHand: number }) => [p.warehouse, p.onHand])).toEqual([['A', 10], ['B', 4]]);
    expect(view.channels.find((c: { channelId: string }) => c.channelId === 'portal').available).toBe(14);
    // outlet: (4 - 3) × 50% = 0.5 → 0
    expect(view.channels.find((c: { channelId: string }) => c.channelId === 'outlet').available).toBe(0);
    await waitUntil('portal told', () => portalFigures('SKU-1').some((d) => d.available === 14));
    expect(portal.badSignatures).toBe(0);
  });

  it('refuses a batch over 1,000 items and a key of another kind', async () => {
    const tooMany = await levels(Array.from({ length: 1001 }, (_, i) => level(`X-${i}`, 'A', 1, 1)));
    expect(tooMany.status).toBe(400);
    const asChannel = await t.request('POST', '/v1/inventory/levels', { token: portalKey, body: { items: [level('X', 'A', 1, 1)] } });
    expect(asChannel.status).toBe(403);
  });

  it('applies movements exactly once, in any order', async () => {
    await levels([level('SKU-M', 'A', 10, 1)]);
    const moves = [
      { eventId: 'm-1', sku: 'SKU-M', warehouse: 'A', delta: -3, sequence: 2 },
      { eventId: 'm-2', sku: 'SKU-M', warehouse: 'A', delta: 5, sequence: 3 },
    ];
    const first = await t.request('POST', '/v1/inventory/movements', { token: sourceKey, body: { items: [moves[1], moves[0]] } });
    expect(first.body).toMatchObject({ accepted: 2, duplicate: 0 });
    const again = await t.request('POST', '/v1/inventory/movements', { token: sourceKey, body: { items: moves } });
    expect(again.body).toMatchObject({ accepted: 0, duplicate: 2 });
    const view = (await t.request('GET', '/v1/inventory/SKU-M')).body;
    expect(view.positions[0].onHand).toBe(12);
  });

  it('answers a channel its own figures only', async () => {
    const answer = await t.request('GET', '/v1/availability?sku=SKU-1,NOT-KNOWN', { token: portalKey });
    expect(answer.status).toBe(200);
    expect(answer.body.channelId).toBe('portal');
    expect(answer.body.items).toEqual([
      expect.objectContaining({ sku: 'SKU-1', available: 14 }),
      { sku: 'NOT-KNOWN', available: 0, version: null, asOf: null, unknown: true },
    ]);
    expect(answer.text).not.toContain('outlet');
    expect((await t.request('GET', '/v1/inventory/SKU-1', { token: portalKey })).status).toBe(403);
    const tooMany = await t.request('GET', `/v1/availability?sku=${Array.from({ length: 101 }, (_, i) => `S${i}`).join(',')}`, { token: portalKey });
    expect(tooMany.status).toBe(400);
  });
});

describe('the trace of a stock batch', () => {
  it('names, per channel, every figure the batch stored with its version, and each delivery its key and version', async () => {
    const answer = await t.request('POST', '/v1/inventory/levels', {
      token: sourceKey, headers: { 'x-correlation-id': 'stock-batch-trace-1' },
      body: { items: [level('TRACE-1', 'A', 5, 1), level('TRACE-2', 'B', 7, 1), level('TRACE-3', 'C', 9, 1)] },
    });
    expect(answer.status).toBe(202);
    await waitUntil('the portal has the three figures', () => ['TRACE-1', 'TRACE-2', 'TRACE-3'].every((sku) => portalFigures(sku).length > 0));
    const { timeline } = (await t.request('GET', '/v1/ops/trace/stock-batch-trace-1')).body;
    const stored = timeline.filter((s: { step: string }) => s.step === 'stored');
    // The portal (webhook) is sent figures; the outlet is an API channel: nothing to send.
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ destination: 'channel:portal', detail: { type: 'inventory.availability.changed', states: 3, keys: ['TRACE-1', 'TRACE-2', 'TRACE-3'] } });
    const versions = Object.fromEntries(stored[0].detail.keys.map((k: string, i: number) => [k, stored[0].detail.versions[i]]));
    await waitUntil('three delivered steps', async () =>
      (await t.request('GET', '/v1/ops/trace/stock-batch-trace-1')).body.timeline.filter((s: { step: string }) => s.step === 'delivered').length === 3);
    const delivered = (await t.request('GET', '/v1/ops/trace/stock-batch-trace-1')).body.timeline.filter((s: { step: string }) => s.step === 'delivered');
    for (const step of delivered) {
      expect(Number(step.detail.version)).toBe(versions[step.detail.key]);
      expect(portalFigures(step.detail.key).map((f) => f.version)).toContain(Number(step.detail.version));
    }
  });
});

describe('freshness under shuffled, repeated events', () => {
  it('ends every channel at the figure of the final positions, never sends a lower version after a higher, and sends far fewer updates than events', async () => {
    const SKUS = Number(process.env.TEST_INVENTORY_SKUS ?? 200);
    const EVENTS = Number(process.env.TEST_INVENTORY_EVENTS ?? 10_000);
    const warehouses = ['A', 'B', 'C'];
    const events = Array.from({ length: EVENTS }, (_, i) => ({
      eventId: `shuffle-${i}`, sku: `SHUF-${i % SKUS}`, warehouse: warehouses[Math.floor(i / SKUS) % 3]!, onHand: Math.floor(Math.random() * 50), sequence: i,
    }));
    // Final position per (sku, warehouse): the highest sequence.
    const final = new Map<string, (typeof events)[number]>();
    for (const e of events) final.set(`${e.sku}|${e.warehouse}`, e);
    const deliveries = events.flatMap((e) => Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => e));
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
    }
    const totals = { accepted: 0, duplicate: 0, stale: 0 };
    for (let i = 0; i < deliveries.length; i += 500) {
      const answer = await levels(deliveries.slice(i, i + 500));
      expect(answer.status).toBe(202);
      expect(answer.body.errors).toEqual([]);
      for (const k of ['accepted', 'duplicate', 'stale'] as const) totals[k] += answer.body[k];
    }
    expect(totals.accepted + totals.duplicate + totals.stale).toBe(deliveries.length);
    expect(totals.duplicate).toBe(deliveries.length - EVENTS);

    const expected = new Map<string, number>();
    for (let s = 0; s < SKUS; s++) {
      const sku = `SHUF-${s}`;
      const positions = warehouses.flatMap((w) => {
        const e = final.get(`${sku}|${w}`);
        return e ? [{ warehouse: w, onHand: e.onHand, reserved: 0 }] : [];
      });
      expected.set(sku, availableToSell(PORTAL, positions).available);
    }
    const latest = () => {
      const newest = new Map<string, { version: number; available: number }>();
      for (const e of portal.effects) {
        if (e.type !== 'inventory.availability.changed' || !e.subject.startsWith('SHUF-')) continue;
        if ((newest.get(e.subject)?.version ?? -1) < e.data.version) newest.set(e.subject, e.data);
      }
      return newest;
    };
    await waitUntil('every SKU at its final figure', () => {
      const newest = latest();
      return [...expected].every(([sku, available]) => newest.get(sku)?.available === available);
    }, 60_000, 250);
    // In the order received, versions of a SKU only grow.
    const seen = new Map<string, number>();
    for (const e of portal.effects.filter((x) => x.type === 'inventory.availability.changed' && x.subject.startsWith('SHUF-'))) {
      expect(e.data.version).toBeGreaterThan(seen.get(e.subject) ?? -1);
      seen.set(e.subject, e.data.version);
    }
    const sent = portal.effects.filter((x) => x.type === 'inventory.availability.changed' && x.subject.startsWith('SHUF-')).length;
    expect(sent).toBeLessThan(EVENTS / 2);
    // The API channel's figures, computed the same way, are readable.
    const outlet = (await t.request('GET', '/v1/inventory/SHUF-7')).body.channels.find((c: { channelId: string }) => c.channelId === 'outlet');
    const shuf7 = warehouses.flatMap((w) => (final.get(`SHUF-7|${w}`) ? [{ warehouse: w, onHand: final.get(`SHUF-7|${w}`)!.onHand, reserved: 0 }] : []));
    expect(outlet.available).toBe(availableToSell(OUTLET, shuf7).available);
  });
});
