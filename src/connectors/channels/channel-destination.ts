import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Destinations, type BatchDeliveryResult, type DeliveryResult, type DestinationHandler } from '../../platform/delivery/destinations.js';
import { TargetError } from '../../platform/delivery/outcome.js';
import { TargetDirectory, type Target } from '../../platform/delivery/target-directory.js';
import type { TargetLimits } from '../../platform/governor/decide.js';
import type { Delivery } from '../../platform/outbox/message.js';
import { PRICE_CHANGED } from './shopify/shopify-prices.js';
import { ShopifyDelivery } from './shopify/shopify.delivery.js';
import type { ShopifyConfig } from './shopify/shopify.config.js';
import { WebhookDelivery } from './webhook/webhook.delivery.js';
import type { WebhookConfig } from './webhook/webhook.config.js';

// A channel without limits of its own is called at this pace.
const DEFAULT_CHANNEL_LIMITS = { ratePerSecond: 10, burst: 20, concurrency: 4 };

type Adapter = { kind: 'webhook'; delivery: WebhookDelivery } | { kind: 'shopify'; delivery: ShopifyDelivery };

/**
 * The `channel:<id>` destinations: each message goes to the delivery adapter of the channel's kind. An adapter
 * is kept per channel while its settings are unchanged (a store's holds its SKU cache and cost pacer).
 */
@Injectable()
export class ChannelDestination implements DestinationHandler, OnModuleInit {
  private readonly adapters = new Map<string, { settings: object; config: string; adapter: Adapter }>();

  constructor(
    private readonly targets: TargetDirectory,
    private readonly destinations: Destinations,
  ) {}

  onModuleInit(): void {
    this.destinations.register('channel', this);
  }

  async limits(channelId: string): Promise<TargetLimits> {
    const channel = await this.channel(channelId);
    return { ...(channel.limits ?? DEFAULT_CHANNEL_LIMITS), maintenanceWindows: [] };
  }

  /** Webhook channels that opted in take state events in batches, of any type; stores take prices in batches. */
  async batchSize(channelId: string, type?: string): Promise<number> {
    const adapter = this.adapter(await this.channel(channelId));
    if (adapter?.kind === 'webhook') return adapter.delivery.batchSize;
    if (adapter?.kind === 'shopify') return adapter.delivery.batchSize(type);
    return 1;
  }

  async deliverBatch(deliveries: Delivery[], signal: AbortSignal): Promise<BatchDeliveryResult | void> {
    const channel = await this.channel(deliveries[0]!.destination.slice('channel:'.length));
    const adapter = this.adapter(channel);
    if (adapter?.kind === 'webhook') return adapter.delivery.deliverBatch(deliveries, signal);
    if (adapter?.kind === 'shopify' && deliveries.every((d) => d.type === PRICE_CHANGED)) return adapter.delivery.deliverPrices(deliveries, signal);
    throw new TargetError('permanent', `channel ${channel.id} of kind ${channel.kind} does not take batches of ${deliveries[0]!.type}`);
  }

  async deliver(delivery: Delivery, signal: AbortSignal): Promise<DeliveryResult | void> {
    const channel = await this.channel(delivery.destination.slice('channel:'.length));
    const adapter = this.adapter(channel);
    if (adapter?.kind === 'webhook') return adapter.delivery.deliver(delivery, signal);
    if (adapter?.kind === 'shopify') return adapter.delivery.deliver(channel.id, delivery, signal);
    throw new TargetError('permanent', `channel ${channel.id} of kind ${channel.kind} does not take ${delivery.type} pushes`);
  }

  private adapter(channel: Target): Adapter | undefined {
    const kept = this.adapters.get(channel.id);
    // The directory hands out the same settings object until it re-reads them: most calls stop here.
    if (kept && kept.settings === channel.config) return kept.adapter;
    const config = JSON.stringify(channel.config);
    if (kept && kept.config === config) {
      kept.settings = channel.config;
      return kept.adapter;
    }
    let adapter: Adapter;
    if (channel.kind === 'webhook') adapter = { kind: 'webhook', delivery: new WebhookDelivery(channel.config as unknown as WebhookConfig) };
    else if (channel.kind === 'shopify') adapter = { kind: 'shopify', delivery: new ShopifyDelivery(channel.config as unknown as ShopifyConfig) };
    else return undefined;
    this.adapters.set(channel.id, { settings: channel.config, config, adapter });
    return adapter;
  }

  private async channel(id: string): Promise<Target> {
    const channel = await this.targets.channel(id);
    if (!channel) throw new TargetError('permanent', `channel ${id} does not exist`);
    return channel;
  }
}
