import { createHmac, timingSafeEqual } from 'node:crypto';

/** Shopify's webhook signature: base64 HMAC-SHA256 of the raw body, keyed with the app's secret; compared in constant time. */
export function verifyShopifyHmac(secret: string, rawBody: Buffer | string, header: string | undefined): boolean {
  if (!header) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  let given: Buffer;
  try {
    given = Buffer.from(header, 'base64');
  } catch {
    return false;
  }
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function signShopifyBody(secret: string, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(rawBody).digest('base64');
}

/**
 * Parses a Shopify payload keeping every id exact: integers under `id` and `*_id` keys become the strings of
 * their digits as sent, so that ids beyond 2^53 lose nothing.
 */
export function parseShopifyJson(raw: Buffer | string): unknown {
  return JSON.parse(String(raw), function (this: unknown, key: string, value: unknown, context?: { source?: string }) {
    if (typeof value === 'number' && (key === 'id' || key.endsWith('_id')) && context?.source !== undefined) return context.source;
    return value;
  } as Parameters<typeof JSON.parse>[1]);
}

/** The headers of one delivery, case-insensitive as HTTP/2 sends them. */
export interface ShopifyDelivery {
  topic: string | undefined;
  hmac: string | undefined;
  shopDomain: string | undefined;
  /** X-Shopify-Event-Id, shared by every delivery of one merchant action; else X-Shopify-Webhook-Id. */
  eventId: string | undefined;
  triggeredAt: Date | undefined;
}

export function shopifyDelivery(headers: Record<string, string | string[] | undefined>): ShopifyDelivery {
  const one = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const triggered = one('x-shopify-triggered-at');
  const at = triggered ? new Date(triggered) : undefined;
  return {
    topic: one('x-shopify-topic'),
    hmac: one('x-shopify-hmac-sha256'),
    shopDomain: one('x-shopify-shop-domain'),
    eventId: one('x-shopify-event-id') || one('x-shopify-webhook-id'),
    triggeredAt: at && !Number.isNaN(at.getTime()) ? at : undefined,
  };
}

/** A level a store's `inventory_levels/update` webhook tells of (ids as the webhook sends them). */
export interface StoreLevelChange {
  inventoryItemId: string;
  locationId: string;
  /** null: the item's quantities are not tracked. */
  available: number | null;
  /** When the level changed in the store, as it says. */
  updatedAt: string | null;
}

/** The level of an `inventory_levels/update` body (read by {@link parseShopifyJson}); null when it names no item or location. */
export function readInventoryLevelWebhook(payload: Record<string, unknown>): StoreLevelChange | null {
  const item = payload.inventory_item_id;
  const location = payload.location_id;
  if ((typeof item !== 'string' && typeof item !== 'number') || (typeof location !== 'string' && typeof location !== 'number')) return null;
  const available = typeof payload.available === 'number' && Number.isFinite(payload.available) ? payload.available : null;
  const updatedAt = typeof payload.updated_at === 'string' && !Number.isNaN(Date.parse(payload.updated_at)) ? payload.updated_at : null;
  return { inventoryItemId: String(item), locationId: String(location), available, updatedAt };
}
