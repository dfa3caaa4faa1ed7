/** Where a Shopify store keeps a customer's ERP account number. */
export interface AccountNumberSource {
  /** `customer-tag`: a customer tag `<tagPrefix><number>`; `note-attribute`: an order note attribute; `email`: a table by email. */
  source: 'customer-tag' | 'note-attribute' | 'email';
  tagPrefix?: string;
  attribute?: string;
  emails?: Record<string, string>;
  /** Used when the order carries none (e.g. a house account for web shoppers). */
  fallback?: string;
}

export const DEFAULT_ACCOUNT_SOURCE: AccountNumberSource = { source: 'customer-tag', tagPrefix: 'erp:' };

interface ShopifyAddress {
  name?: string | null;
  company?: string | null;
  address1?: string | null;
  address2?: string | null;
  city?: string | null;
  zip?: string | null;
  province?: string | null;
  country_code?: string | null;
}

interface ShopifyOrder {
  id: string;
  email?: string | null;
  currency?: string;
  note?: string | null;
  note_attributes?: Array<{ name: string; value: string }>;
  customer?: { email?: string | null; tags?: string | null; default_address?: ShopifyAddress | null } | null;
  shipping_address?: ShopifyAddress | null;
  billing_address?: ShopifyAddress | null;
  line_items?: Array<{ id: string; sku?: string | null; quantity: number; price: string }>;
}

/** The account number the source names, or undefined. */
export function accountNumberOf(order: ShopifyOrder, source: AccountNumberSource): string | undefined {
  let found: string | undefined;
  if (source.source === 'customer-tag') {
    const prefix = source.tagPrefix ?? 'erp:';
    found = (order.customer?.tags ?? '').split(',').map((t) => t.trim()).find((t) => t.startsWith(prefix) && t.length > prefix.length)?.slice(prefix.length);
  } else if (source.source === 'note-attribute') {
    found = order.note_attributes?.find((a) => a.name === (source.attribute ?? 'erp_account_number'))?.value;
  } else {
    const email = (order.email ?? order.customer?.email ?? '').toLowerCase();
    found = Object.entries(source.emails ?? {}).find(([e]) => e.toLowerCase() === email)?.[1];
  }
  return found?.trim() || source.fallback;
}

/**
 * A Shopify order (the `orders/create` webhook body) as a Crossdock order request: the plain shape of
 * POST /v1/orders, validated by the caller like any other. Ids are the exact strings Shopify sent.
 */
export function toOrderRequest(order: ShopifyOrder, source: AccountNumberSource): Record<string, unknown> {
  const address = order.shipping_address ?? order.billing_address ?? order.customer?.default_address ?? undefined;
  const shipTo = address
    ? Object.fromEntries(Object.entries({
        name: address.name ?? address.company, line1: address.address1, line2: address.address2, city: address.city,
        postalCode: address.zip, region: address.province, country: address.country_code,
      }).filter(([, v]) => v !== null && v !== undefined && v !== ''))
    : {};
  return {
    channelOrderId: String(order.id),
    customer: { accountNumber: accountNumberOf(order, source) ?? '' },
    currency: order.currency,
    lines: (order.line_items ?? []).map((item) => ({ lineId: String(item.id), sku: item.sku ?? '', quantity: item.quantity, unitPrice: Number(item.price) })),
    shipTo,
    ...(order.note ? { notes: order.note.slice(0, 2000) } : {}),
  };
}
