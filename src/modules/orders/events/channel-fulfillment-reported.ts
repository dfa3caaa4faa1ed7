/**
 * A storefront reported a fulfillment of one of its orders (Shopify's `fulfillments/create` and
 * `fulfillments/update`): Crossdock's own coming back, or one a merchant made in the store. Published durably,
 * keyed by the channel's order id; the shipments module decides which.
 */
export class ChannelFulfillmentReported {
  static readonly type = 'orders.channel-fulfillment-reported';

  constructor(
    readonly channelId: string,
    readonly channelOrderId: string,
    readonly fulfillmentId: string,
    readonly status: string,
    readonly carrier: string | null,
    readonly trackingNumber: string | null,
    readonly trackingUrl: string | null,
    readonly lines: ReadonlyArray<{ lineId: string; sku: string; quantity: number }>,
    readonly occurredAt: string,
  ) {}
}
