import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ShopifyAdminClient } from '../../connectors/channels/shopify/shopify-admin.client.js';
import type { ShopifyConfig } from '../../connectors/channels/shopify/shopify.config.js';
import { sendWebhook, sendWebhookBatch, toCloudEvent } from '../../connectors/channels/webhook/webhook-sender.js';
import type { WebhookConfig } from '../../connectors/channels/webhook/webhook.config.js';
import { Destinations, type DestinationHandler } from '../../platform/delivery/destinations.js';
import { TargetError } from '../../platform/delivery/outcome.js';
import type { TargetLimits } from '../../platform/governor/decide.js';
import type { DeliveryResult } from '../../platform/delivery/destinations.js';
import type { Delivery } from '../../platform/outbox/message.js';
import { ChannelDirectory } from './channel-directory.js';
import type { ChannelEntity } from './entities/channel.entity.js';

// The public event of a channel's available-to-sell; a Shopify store takes it as quantities per location.
const AVAILABILITY_CHANGED = 'inventory.availability.changed';

// Events in one batch request when a webhook channel opts in without saying how many.
const DEFAULT_BATCH_EVENTS = 100;
// A channel without limits of its own is called at this pace.
const DEFAULT_CHANNEL_LIMITS = { ratePerSecond: 10, burst: 20, concurrency: 4 };

/** Delivers to channels (`channel:<id>`) through the connector of the channel's kind. */
@Injectable()
export class ChannelDestination implements DestinationHandler, OnModuleInit {
  // One client per store, kept while its configuration is unchanged: it holds the SKU cache and the cost pacer.
  private readonly shopify = new Map<string, { config: string; client: ShopifyAdminClient }>();

  constructor(
    private readonly channels: ChannelDirectory,
    private readonly destinations: Destinations,
  ) {}

  onModuleInit(): void {
    this.destinations.register('channel', this);
  }

  async limits(channelId: string): Promise<TargetLimits> {
    const channel = await this.channels.find(channelId);
    if (!channel) throw new TargetError('permanent', `channel ${channelId} does not exist`);
    return { ...(channel.limits ?? DEFAULT_CHANNEL_LIMITS), maintenanceWindows: [] };
  }

  /** Webhook channels that opted in take state events in batches. */
  async batchSize(channelId: string): Promise<number> {
    const channel = await this.channels.find(channelId);
    const config = channel?.kind === 'webhook' ? (channel.config as unknown as WebhookConfig) : undefined;
    return config?.batch ? (config.batchMaxEvents ?? DEFAULT_BATCH_EVENTS) : 1;
  }

  async deliverBatch(deliveries: Delivery[], signal: AbortSignal): Promise<void> {
    const channel = await this.channels.get(deliveries[0]!.destination.slice('channel:'.length));
    if (channel.kind !== 'webhook') throw new TargetError('permanent', `channel ${channel.id} of kind ${channel.kind} does not take batches`);
    await sendWebhookBatch(channel.config as unknown as WebhookConfig, deliveries.map(toCloudEvent), signal);
  }

  async deliver(delivery: Delivery, signal: AbortSignal): Promise<DeliveryResult | void> {
    const channelId = delivery.destination.slice('channel:'.length);
    const channel = await this.channels.get(channelId);
    if (channel.kind === 'webhook') return sendWebhook(channel.config as unknown as WebhookConfig, toCloudEvent(delivery), signal);
    if (channel.kind === 'shopify' && delivery.type === AVAILABILITY_CHANGED) return this.publishToShopify(channel, delivery, signal);
    throw new TargetError('permanent', `channel ${channelId} of kind ${channel.kind} does not take ${delivery.type} pushes`);
  }

  /**
   * Sets the SKU's available quantity at each location of the store. The figures last delivered are what
   * Shopify should still hold: a difference is a change made in Shopify meanwhile, detected and reported.
   * A SKU the store does not sell, or a warehouse without a location, is nothing to publish.
   */
  private async publishToShopify(channel: ChannelEntity, delivery: Delivery, signal: AbortSignal): Promise<DeliveryResult> {
    const sku = String(delivery.payload.sku);
    const byWarehouse = (delivery.payload.byWarehouse ?? {}) as Record<string, number>;
    const previous = delivery.previousValue ? (JSON.parse(delivery.previousValue) as Record<string, number>) : {};
    const changes = Object.entries(byWarehouse).map(([warehouse, quantity]) => ({ sku, warehouse, quantity, previous: previous[warehouse] }));
    const result = await this.shopifyClient(channel).setAvailable(changes, { referenceDocumentUri: `crossdock://deliveries/${delivery.deliveryId}`, signal });
    return { ...result };
  }

  private shopifyClient(channel: ChannelEntity): ShopifyAdminClient {
    const config = JSON.stringify(channel.config);
    const kept = this.shopify.get(channel.id);
    if (kept && kept.config === config) return kept.client;
    const client = new ShopifyAdminClient(channel.config as unknown as ShopifyConfig);
    this.shopify.set(channel.id, { config, client });
    return client;
  }
}
