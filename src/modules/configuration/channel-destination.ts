import { Injectable, type OnModuleInit } from '@nestjs/common';
import { sendWebhook, toCloudEvent } from '../../connectors/channels/webhook/webhook-sender.js';
import type { WebhookConfig } from '../../connectors/channels/webhook/webhook.config.js';
import { Destinations, type DestinationHandler } from '../../platform/delivery/destinations.js';
import { TargetError } from '../../platform/delivery/outcome.js';
import type { TargetLimits } from '../../platform/governor/decide.js';
import type { Delivery } from '../../platform/outbox/message.js';
import { ChannelDirectory } from './channel-directory.js';

// A channel without limits of its own is called at this pace.
const DEFAULT_CHANNEL_LIMITS = { ratePerSecond: 10, burst: 20, concurrency: 4 };

/** Delivers to channels (`channel:<id>`) through the connector of the channel's kind. */
@Injectable()
export class ChannelDestination implements DestinationHandler, OnModuleInit {
  constructor(
    private readonly channels: ChannelDirectory,
    private readonly destinations: Destinations,
  ) {}

  onModuleInit(): void {
    this.destinations.register('channel', this);
  }

  async limits(channelId: string): Promise<TargetLimits> {
    const channel = await this.channels.get(channelId);
    return { ...(channel.limits ?? DEFAULT_CHANNEL_LIMITS), maintenanceWindows: [] };
  }

  async deliver(delivery: Delivery, signal: AbortSignal): Promise<void> {
    const channelId = delivery.destination.slice('channel:'.length);
    const channel = await this.channels.get(channelId);
    if (channel.kind === 'webhook') return sendWebhook(channel.config as unknown as WebhookConfig, toCloudEvent(delivery), signal);
    throw new TargetError('permanent', `channel ${channelId} of kind ${channel.kind} does not take ${delivery.type} pushes`);
  }
}
