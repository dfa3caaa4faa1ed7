import type { Delivery } from '../../../platform/outbox/message.js';
import { sendWebhook, sendWebhookBatch, toCloudEvent } from './webhook-sender.js';
import type { WebhookConfig } from './webhook.config.js';

// Events in one batch request when a webhook channel opts in without saying how many.
const DEFAULT_BATCH_EVENTS = 100;

/** The delivery adapter of kind `webhook`: every message as a signed CloudEvent, or a batch of them where opted in. */
export class WebhookDelivery {
  constructor(private readonly config: WebhookConfig) {}

  get batchSize(): number {
    return this.config.batch ? (this.config.batchMaxEvents ?? DEFAULT_BATCH_EVENTS) : 1;
  }

  deliver(delivery: Delivery, signal: AbortSignal): Promise<void> {
    return sendWebhook(this.config, toCloudEvent(delivery), signal);
  }

  deliverBatch(deliveries: Delivery[], signal: AbortSignal): Promise<void> {
    return sendWebhookBatch(this.config, deliveries.map(toCloudEvent), signal);
  }
}
